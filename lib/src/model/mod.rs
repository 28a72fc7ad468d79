//! The entities the fold produces: plain types, each what one family of events describes
//! (objectives, tasks with their notes, links, checks and reviews, insights, decisions,
//! sessions, agents). [`crate::fold::state`] builds them; the views read them.

pub mod claims;

use crate::event::{Event, kind};
use chrono::{DateTime, Utc};
use claims::Claims;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Active,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Objective {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: ObjectiveStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(with = "time")]
    pub created: DateTime<Utc>,
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed: Option<DateTime<Utc>>,
    /// What the work towards it may cost, in micro-units (see `fold::cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_micros: Option<u64>,
    /// The name of the plan it was made from (`plan apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    InProgress,
    Blocked,
    Done,
    /// Dropped without being done (a plan no longer has it); never deleted.
    Cancelled,
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::InProgress => "in progress",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Done or cancelled: nothing more is to be done on it.
    pub fn is_closed(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
    pub actor: String,
    pub text: String,
}

/// A commit recorded against a task (noted by the prepare-commit-msg hook).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitLink {
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
}

/// One reviewer's approval of one commit, and the event that recorded it (the gate checks
/// the signature of the ledger commit holding it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub commit: String,
    pub by: String,
    pub event: String,
    pub writer: String,
}

/// A task branch merged into another branch (post-merge hook).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeLink {
    pub branch: String,
    pub into: String,
    pub merge_commit: String,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
}

pub use crate::event::body::Rule;

impl Rule {
    /// The command or the item, as written.
    pub fn text(&self) -> &str {
        match self {
            Rule::Command(text) | Rule::Item(text) => text,
        }
    }
}

/// The latest result of one rule at one commit (`check run`, `check confirm`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub rule: Rule,
    /// The commit it ran on (or was confirmed at), full hex.
    pub commit: String,
    pub passed: bool,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i64>,
    /// BLAKE3 of the command's combined output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_digest: Option<String>,
}

/// Where one rule stands at one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CheckState {
    /// Its latest result at the commit passed.
    Passing,
    /// Its latest result at the commit failed.
    Failing,
    /// No result at the commit; it last passed at another commit.
    Stale { passed_at: String },
    /// No result at the commit, and no passing result anywhere.
    NeverRun,
}

impl CheckState {
    pub fn label(&self) -> &'static str {
        match self {
            CheckState::Passing => "passing",
            CheckState::Failing => "failing",
            CheckState::Stale { .. } => "stale",
            CheckState::NeverRun => "never run",
        }
    }
}

/// One rule of a task and where it stands at a commit.
#[derive(Debug, Clone, Serialize)]
pub struct RuleCheck {
    pub rule: Rule,
    #[serde(flatten)]
    pub state: CheckState,
}

/// A rule as people read it in a reason: `check "cargo test"` or `item "docs updated"`.
pub fn rule_label(rule: &Rule) -> String {
    match rule {
        Rule::Command(text) => format!("check \"{}\"", kind::one_line(text, 60)),
        Rule::Item(text) => format!("item \"{}\"", kind::one_line(text, 60)),
    }
}

/// Where a task's review stands; the latest review event wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Review {
    None,
    Requested {
        commit: Option<String>,
    },
    /// Approval of one exact commit: any other tip needs a new review.
    Approved {
        commit: String,
        by: String,
    },
    Rejected {
        commit: Option<String>,
        reason: String,
        by: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    pub priority: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_minutes: Option<u64>,
    pub depends_on: Vec<String>,
    /// Who should take it: developer, tester, reviewer, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// What its work must satisfy before it is done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation: Vec<Rule>,
    /// The plan stage it belongs to, and its key in the plan (`plan apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_key: Option<String>,
    pub status: TaskStatus,
    #[serde(with = "time")]
    pub created: DateTime<Utc>,
    pub created_by: String,
    pub notes: Vec<Note>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed: Option<DateTime<Utc>>,
    /// When `done --force` closed the task: the validation reasons that were overridden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_over: Option<Vec<String>>,
    /// Branches linked to the task (`task/<id>[-slug]`), in the order they were linked.
    pub branches: Vec<String>,
    pub commits: Vec<CommitLink>,
    pub review: Review,
    /// The approvals of the commit the latest review approved, one per reviewer, oldest first
    /// (empty unless the review is `Approved`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    /// Who started it, first start first (their approvals of it do not count).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub started_by: Vec<String>,
    pub merges: Vec<MergeLink>,
    /// Time spent in progress, blocked time excluded (closed intervals only).
    #[serde(default)]
    pub(crate) worked_ms: i64,
    /// When the current in-progress interval began.
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) in_progress_since: Option<DateTime<Utc>>,
    /// Who holds the task, and the claims that lost a race for it.
    #[serde(default)]
    pub claims: Claims,
    /// The latest result per (rule, commit), in the order first recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Positions in the total order of the events about this task, oldest first (index into
    /// `State::events` when the state holds every event).
    #[serde(skip)]
    pub history: Vec<usize>,
    /// The event that last set the status (the creation first): what a status change
    /// written now says it saw, as `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_event: Option<StatusEvent>,
}

/// Which event set a task's status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusEvent {
    pub id: String,
    pub kind: String,
    pub actor: String,
}

impl StatusEvent {
    pub(crate) fn of(event: &Event) -> StatusEvent {
        StatusEvent {
            id: event.id.clone(),
            kind: event.kind.clone(),
            actor: event.actor.clone(),
        }
    }
}

impl Task {
    /// Minutes actually worked (in progress, blocked time excluded) as of `now`; `None` if the
    /// task was never started.
    pub fn actual_minutes(&self, now: DateTime<Utc>) -> Option<u64> {
        let open = self
            .in_progress_since
            .map(|since| (now - since).num_milliseconds().max(0))
            .unwrap_or(0);
        if self.worked_ms == 0 && self.in_progress_since.is_none() {
            return None;
        }
        Some((self.worked_ms.saturating_add(open) / 60_000) as u64)
    }

    /// Where each validation rule stands at `commit` (in the order the rules were given).
    pub fn check_states(&self, commit: &str) -> Vec<RuleCheck> {
        self.validation
            .iter()
            .map(|rule| {
                let of_rule = || self.checks.iter().filter(move |c| c.rule == *rule);
                let state = match of_rule().find(|c| c.commit == commit) {
                    Some(result) if result.passed => CheckState::Passing,
                    Some(_) => CheckState::Failing,
                    None => match of_rule().filter(|c| c.passed).max_by_key(|c| c.time) {
                        Some(older) => CheckState::Stale {
                            passed_at: older.commit.clone(),
                        },
                        None => CheckState::NeverRun,
                    },
                };
                RuleCheck {
                    rule: rule.clone(),
                    state,
                }
            })
            .collect()
    }

    /// Why the task's rules do not all pass at `commit` (no commit: none can), one reason per
    /// rule without a passing result there; empty when every rule passes.
    pub fn unpassed_checks(&self, commit: Option<&str>) -> Vec<String> {
        let Some(commit) = commit else {
            return self
                .validation
                .iter()
                .map(|rule| format!("{} has no commit to pass at", rule_label(rule)))
                .collect();
        };
        let short: String = commit.chars().take(10).collect();
        self.check_states(commit)
            .into_iter()
            .filter(|c| c.state != CheckState::Passing)
            .map(|c| {
                let why = match &c.state {
                    CheckState::Failing => "failed",
                    CheckState::Stale { .. } => "passed only on an older commit",
                    _ => "has not been run",
                };
                format!(
                    "{} has no passing result at {short} ({why})",
                    rule_label(&c.rule)
                )
            })
            .collect()
    }

    pub(crate) fn stop_clock(&mut self, at: DateTime<Utc>) {
        if let Some(since) = self.in_progress_since.take() {
            self.worked_ms = self
                .worked_ms
                .saturating_add((at - since).num_milliseconds().max(0));
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Insight {
    pub id: String,
    pub text: String,
    pub tags: Vec<String>,
    pub knowledge: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(with = "time")]
    pub created: DateTime<Utc>,
    pub actor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Open,
    Made,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    pub question: String,
    pub options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    pub status: DecisionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(with = "time")]
    pub requested: DateTime<Utc>,
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub made: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub writer: String,
    pub worktree: String,
    pub actor: String,
    #[serde(with = "time")]
    pub started: DateTime<Utc>,
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub abandoned: bool,
    pub resumes: u32,
    /// The ended session it continues (`session resume` of an ended session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues: Option<String>,
    /// The agent harness's own session it records (`claude:<id>`), so that resuming that
    /// session resumes this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_session: Option<String>,
    /// Model, tokens and cost reported at its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl Session {
    pub fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

/// An agent recorded by `agent spawn` (or imported): what it was sent to do, where, and how
/// it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub role: String,
    pub mission: String,
    /// The task it works on (a full `t-` id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The linked worktree made for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The command it was started with, when `agent spawn` ran one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// How many more times each command is started when it fails.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry: u32,
    /// Command lines (for `sh -c`) tried in order when the command, and its retries, failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
    /// The runs of its commands, oldest first, when it had retries or fallbacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Its id in the orchestrator it was imported from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(with = "time")]
    pub spawned: DateTime<Utc>,
    pub spawned_by: String,
    /// Its last sign of life: the newest event it wrote (any command it ran), heartbeat or
    /// attempt, else its spawn.
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_seen: Option<DateTime<Utc>>,
    /// The session it was spawned in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub exited: Option<DateTime<Utc>>,
    /// `succeeded`, `failed` or `killed`, once it has exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The exit status; absent when it ended by a signal or the status is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Model, tokens and cost reported at its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl Agent {
    /// Spawned and not (yet) recorded as exited.
    pub fn is_running(&self) -> bool {
        self.exited.is_none()
    }

    /// When it was last heard of (its spawn, if never since).
    pub fn last_seen(&self) -> DateTime<Utc> {
        self.last_seen.unwrap_or(self.spawned).max(self.spawned)
    }

    pub(crate) fn seen(&mut self, time: DateTime<Utc>) {
        if self.last_seen.is_none_or(|seen| time > seen) {
            self.last_seen = Some(time);
        }
    }
}

/// One run of an agent's command (or of a fallback), recorded by `agent spawn` when it could
/// restart or fall back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first run.
    pub attempt: u64,
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// `succeeded`, `failed` or `killed`.
    pub outcome: String,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When it ended.
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What one session or agent reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub tokens: u64,
    #[serde(default)]
    pub cost_micros: u64,
}

impl Usage {
    /// The usage an event body records (`model`, `tokens`, `cost_micros`), if any of it.
    pub fn recorded(
        model: &Option<String>,
        tokens: Option<u64>,
        cost: Option<u64>,
    ) -> Option<Usage> {
        let model = model.clone();
        (tokens.is_some() || cost.is_some() || model.is_some()).then(|| Usage {
            model,
            tokens: tokens.unwrap_or(0),
            cost_micros: cost.unwrap_or(0),
        })
    }
}

/// The largest estimate accepted, in minutes: a year. Totals of estimates stay far from
/// overflowing, and readers ignore a larger one written by hand.
pub const MAX_ESTIMATE_MINUTES: u64 = 365 * 24 * 60;

/// Times as RFC 3339 text for people and `--json`, and as milliseconds in the binary
/// local index, where parsing text would cost more than everything else it reads.
pub mod time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            time.serialize(serializer)
        } else {
            serializer.serialize_i64(time.timestamp_millis())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        if deserializer.is_human_readable() {
            DateTime::deserialize(deserializer)
        } else {
            let millis = i64::deserialize(deserializer)?;
            DateTime::from_timestamp_millis(millis)
                .ok_or_else(|| serde::de::Error::custom("time out of range"))
        }
    }

    pub mod optional {
        use super::*;

        pub fn serialize<S: Serializer>(
            time: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match time {
                Some(time) if !serializer.is_human_readable() => {
                    serializer.serialize_some(&time.timestamp_millis())
                }
                other => other.serialize(serializer),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            if deserializer.is_human_readable() {
                Option::<DateTime<Utc>>::deserialize(deserializer)
            } else {
                Option::<i64>::deserialize(deserializer)?
                    .map(|millis| {
                        DateTime::from_timestamp_millis(millis)
                            .ok_or_else(|| serde::de::Error::custom("time out of range"))
                    })
                    .transpose()
            }
        }
    }
}
