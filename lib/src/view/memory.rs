//! The memory views of seed 001: working (this session), short-term (recent days), long-term
//! (everything, with rationale and metrics) and the knowledge base; plus the suggestions every
//! command returns as `instructions`.

use super::doc::Doc;
use super::health::Stall;
use crate::cache::brief;
use crate::event::kind::{self, one_line};
use crate::fold::compaction::{self, Compaction, Summaries};
use crate::fold::state::State;
use crate::model::{
    Agent, Decision, DecisionStatus, Insight, ObjectiveStatus, Session, Task, TaskStatus,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Where and when a view is computed: this clone, this worktree, this session, now.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub writer: &'a str,
    /// Who is asking (`agent:a-…`, `human:…`): the holder its claims are made as.
    pub actor: &'a str,
    /// When a running agent counts as stalled (`view::health`).
    pub stall_after_minutes: u64,
    pub worktree: &'a Path,
    pub session: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// The four memory views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Working,
    Short,
    Long,
    Knowledge,
}

/// Compute a view: its data (for JSON) and its document (for text and markdown).
/// `days` is the short-term window.
pub fn view(
    view: View,
    state: &State,
    scope: &Scope,
    days: u32,
    summaries: Summaries,
) -> (serde_json::Value, Doc) {
    fn json(data: &impl Serialize) -> serde_json::Value {
        serde_json::to_value(data).unwrap_or(serde_json::Value::Null)
    }
    match view {
        View::Working => {
            let v = working(state, scope);
            (json(&v), v.doc(state, scope.now))
        }
        View::Short => {
            let v = short_term(state, scope.now, days, summaries);
            (json(&v), v.doc(state, scope.now))
        }
        View::Long => {
            let v = long_term(state, scope.now, summaries);
            (json(&v), v.doc(state, scope.now))
        }
        View::Knowledge => {
            let v = knowledge(state);
            (json(&v), v.doc(state))
        }
    }
}

/// One past event, summarised for people and agents.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub event: String,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub what: String,
}

impl Action {
    pub fn line(&self, state: &State) -> String {
        let subject = match &self.subject {
            Some(id) => format!("{} ", state.short(id)),
            None => String::new(),
        };
        format!(
            "{} {}{} ({})",
            self.time.format("%Y-%m-%d %H:%M"),
            subject,
            self.what,
            self.actor
        )
    }
}

pub fn action(state: &State, event: &crate::event::Event) -> Action {
    let mut what = kind::describe(event);
    // Name the subject for events whose body does not say what they are about.
    if let Some(title) = event.subject.as_deref().and_then(|s| state.title_of(s))
        && !what.contains(&one_line(title, 72))
    {
        what = format!("{what} — {}", one_line(title, 48));
    }
    Action {
        event: crate::event::prefix(&event.id, 12).to_string(),
        time: event.timestamp(),
        actor: event.actor.clone(),
        kind: event.kind.clone(),
        subject: event.subject.clone(),
        what,
    }
}

/// The "Decisions" and "Insights" sections the short- and long-term views share.
fn decisions_and_insights(
    doc: &mut Doc,
    state: &State,
    decisions: &[Decision],
    insights: &[Insight],
) {
    doc.section(
        "Decisions",
        decisions.iter().map(|d| decision_line(state, d)).collect(),
        "none",
    );
    doc.section(
        "Insights",
        insights.iter().map(|i| insight_line(state, i)).collect(),
        "none",
    );
}

/// A task as one line: id, state, priority, title, and what matters about it now.
pub fn task_line(state: &State, task: &Task, now: DateTime<Utc>) -> String {
    let mut line = format!(
        "{} [{}] P{} {}",
        state.short(&task.id),
        task.status.label(),
        task.priority,
        one_line(&task.title, 72)
    );
    if let Some(role) = &task.role {
        line.push_str(&format!(" (role: {})", one_line(role, 30)));
    }
    let unmet = state.unmet_dependencies(task);
    if !task.status.is_closed() && !unmet.is_empty() {
        let names: Vec<String> = unmet.iter().map(|d| state.short(d)).collect();
        line.push_str(&format!(" (waits for {})", names.join(", ")));
    }
    if let Some(reason) = &task.block_reason {
        line.push_str(&format!(" (blocked: {})", one_line(reason, 60)));
    }
    if let Some(claim) = task.claims.live(now) {
        line.push_str(&format!(" ({})", claim_text(claim)));
    }
    if task.status == TaskStatus::Done {
        if let Some(summary) = &task.summary {
            line.push_str(&format!(" — {}", one_line(summary, 60)));
        }
        if task.forced_over.is_some() {
            line.push_str(" (forced)");
        }
    }
    if let (Some(estimate), Some(actual)) = (task.estimate_minutes, task.actual_minutes(now)) {
        line.push_str(&format!(
            " [{} of {}]",
            minutes_text(actual),
            minutes_text(estimate)
        ));
    } else if let Some(estimate) = task.estimate_minutes {
        line.push_str(&format!(" [est. {}]", minutes_text(estimate)));
    }
    line
}

/// `claimed by agent:a-1f2e until 2026-01-05 09:30`.
pub fn claim_text(claim: &crate::model::claims::Claim) -> String {
    format!(
        "claimed by {} until {}",
        claim.holder,
        claim.expires.format("%Y-%m-%d %H:%M")
    )
}

/// `o-3f9a2c [active] Title (2/5 tasks done) — outcome`.
pub fn objective_line(state: &State, objective: &crate::model::Objective) -> String {
    let (done, total) = state.objective_progress(&objective.id);
    objective_line_of(state, objective, done, total)
}

/// Every objective, a line each, or a hint when there is none.
pub fn objectives_text(state: &State) -> String {
    let text: String = state
        .objectives
        .iter()
        .map(|objective| {
            let (done, total) = state.objective_progress(&objective.id);
            objective_line_of(state, objective, done, total) + "\n"
        })
        .collect();
    if text.is_empty() {
        return "No objectives yet (git ledger objective add \"…\")\n".into();
    }
    text
}

/// [`objective_line`] with its task counts already known (views that count once for many).
pub fn objective_line_of(
    state: &State,
    objective: &crate::model::Objective,
    done: usize,
    total: usize,
) -> String {
    let status = match objective.status {
        ObjectiveStatus::Active => "active",
        ObjectiveStatus::Done => "done",
    };
    let outcome = objective
        .outcome
        .as_deref()
        .map(|o| format!(" — {}", one_line(o, 80)))
        .unwrap_or_default();
    format!(
        "{} [{status}] {} ({done}/{total} tasks done){outcome}",
        state.short(&objective.id),
        one_line(&objective.title, 72),
    )
}

pub fn decision_line(state: &State, decision: &Decision) -> String {
    let mut line = format!(
        "{} {}",
        state.short(&decision.id),
        one_line(&decision.question, 72)
    );
    match decision.status {
        DecisionStatus::Open if !decision.options.is_empty() => {
            line.push_str(&format!(" (options: {})", decision.options.join(" | ")));
        }
        DecisionStatus::Open => {}
        DecisionStatus::Made => {
            line.push_str(&format!(
                " → {}",
                one_line(decision.choice.as_deref().unwrap_or(""), 60)
            ));
            if let Some(rationale) = &decision.rationale {
                line.push_str(&format!(" (because {})", one_line(rationale, 100)));
            }
        }
    }
    line
}

pub fn insight_line(state: &State, insight: &Insight) -> String {
    let tags = if insight.tags.is_empty() {
        String::new()
    } else {
        format!(
            " [{}]",
            insight
                .tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    format!(
        "{} {}{tags}",
        state.short(&insight.id),
        one_line(&insight.text, 120)
    )
}

pub fn session_line(state: &State, session: &Session) -> String {
    let title = session
        .title
        .as_deref()
        .map(|t| format!(" \"{}\"", one_line(t, 60)))
        .unwrap_or_default();
    let status = if session.abandoned {
        "abandoned".to_string()
    } else if let Some(ended) = session.ended {
        format!("ended {}", ended.format("%Y-%m-%d %H:%M"))
    } else {
        "open".to_string()
    };
    format!(
        "{}{title} started {} by {} ({status})",
        state.short(&session.id),
        session.started.format("%Y-%m-%d %H:%M"),
        session.actor
    )
}

/// `a-1b2c3d tester: Write the tests (t-83fb5d) [failed, status 1, 2m]`.
pub fn agent_line(state: &State, agent: &Agent) -> String {
    agent_line_with(state, agent, None)
}

/// [`agent_line`], or for a stalled agent: how long it has been silent, and the title of the
/// task it holds: `a-1b2c3d tester: Write the tests (holds t-83fb5d Tests) [stalled: silent
/// 12m since 2026-01-05 09:00]`.
pub fn agent_line_with(state: &State, agent: &Agent, stall: Option<&Stall>) -> String {
    let task = agent
        .task
        .as_deref()
        .map(|t| match (stall, state.tasks.get(t)) {
            (Some(_), Some(task)) => {
                format!(" (holds {} {})", state.short(t), one_line(&task.title, 40))
            }
            _ => format!(" ({})", state.short(t)),
        })
        .unwrap_or_default();
    let how = if let Some(stall) = stall {
        format!(
            "stalled: silent {} since {}",
            minutes_text(stall.silent_minutes),
            stall.last_seen.format("%Y-%m-%d %H:%M")
        )
    } else if agent.is_running() {
        format!("running since {}", agent.spawned.format("%Y-%m-%d %H:%M"))
    } else {
        let mut how = agent.outcome.clone().unwrap_or_else(|| "exited".into());
        match (&agent.signal, agent.status) {
            (Some(signal), _) => how.push_str(&format!(", {signal}")),
            (None, Some(code)) => how.push_str(&format!(", status {code}")),
            (None, None) => {}
        }
        if let Some(ms) = agent.duration_ms {
            how.push_str(&format!(", {}", duration_text(ms)));
        }
        if agent.attempts.len() > 1 {
            how.push_str(&format!(", {} attempts", agent.attempts.len()));
        }
        how
    };
    format!(
        "{} {}: {}{task} [{how}]",
        state.short(&agent.id),
        one_line(&agent.role, 24),
        one_line(&agent.mission, 72)
    )
}

/// A run time: `42s` under a minute, else as [`minutes_text`].
pub fn duration_text(ms: u64) -> String {
    if ms < 60_000 {
        format!("{}s", ms / 1000)
    } else {
        minutes_text(ms / 60_000)
    }
}

/// `90` → `1h30m`.
pub fn minutes_text(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// What to do next and the commands to do it with; the `instructions` of every command.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NextSteps {
    pub next_actions: Vec<String>,
    pub suggested_commands: Vec<String>,
}

/// The next steps and the context reminder of a reply (every `--json` reply has them).
pub fn next_steps_and_reminder(state: &State, scope: &Scope) -> (NextSteps, ContextReminder) {
    let open = [
        TaskStatus::Open,
        TaskStatus::InProgress,
        TaskStatus::Blocked,
    ]
    .map(|status| state.task_count(status))
    .iter()
    .sum();
    (next_steps(state, scope), reminder_with(state, scope, open))
}

pub fn next_steps(state: &State, scope: &Scope) -> NextSteps {
    let mut steps = NextSteps::default();
    let mut add = |action: String, command: String| {
        steps.next_actions.push(action);
        steps.suggested_commands.push(command);
    };
    if scope.session.is_none() {
        add(
            "Start a session so your work is scoped and resumable".into(),
            "git ledger session start \"<goal>\"".into(),
        );
    }
    match state.focus(scope.writer, scope.worktree) {
        Some(task) => {
            let id = state.short(&task.id);
            add(
                format!("Record progress on {id} as you go"),
                "git ledger task note \"<what you did or found>\"".into(),
            );
            if let Some((worked, estimate)) = over_estimate(task, scope.now) {
                add(
                    format!(
                        "{id} has run past its estimate ({} of {}): estimate what is left",
                        minutes_text(worked),
                        minutes_text(estimate)
                    ),
                    format!("git ledger task edit {id} --estimate <new estimate>"),
                );
            }
            add(
                format!("Close {id} with a summary when it is finished"),
                "git ledger task done --summary \"<outcome>\"".into(),
            );
        }
        None => {
            let top = state.top_ready(None);
            if let Some(task) = top.and_then(|i| state.tasks.at(i)) {
                let id = state.short(&task.id);
                add(
                    format!(
                        "Start the top ready task {id}: {}",
                        one_line(&task.title, 60)
                    ),
                    format!("git ledger task start {id}"),
                );
            }
        }
    }
    if let Some(decision) = brief::open(&state.decisions).next() {
        let id = state.short(&decision.id);
        add(
            format!("Decide {id}: {}", one_line(&decision.question, 60)),
            format!("git ledger decision make {id} \"<choice>\" --rationale \"<why>\""),
        );
    }
    let first_blocked = state.tasks_with(TaskStatus::Blocked).next();
    if let Some(task) = first_blocked.and_then(|i| state.tasks.at(i)) {
        let id = state.short(&task.id);
        add(
            format!("Unblock {id}: {}", one_line(&task.title, 60)),
            format!("git ledger task start {id}"),
        );
    }
    if state.tasks.is_empty() {
        add(
            "Break the work into tasks".into(),
            "git ledger task add \"<title>\" --priority 1 --estimate 1h".into(),
        );
    }
    steps
}

/// Where an agent stands, in one sentence (`text`) and field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContextReminder {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The task in focus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_task: Option<String>,
    /// Time worked on it (`1h30m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_elapsed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<String>,
    /// Whether the time worked has passed the estimate.
    pub over_estimate: bool,
    /// Tasks neither done nor cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_tasks: Option<usize>,
}

impl ContextReminder {
    /// A reminder that is only a sentence (commands that run outside a ledger's state).
    pub fn note(text: impl Into<String>) -> ContextReminder {
        ContextReminder {
            text: text.into(),
            ..ContextReminder::default()
        }
    }
}

/// Minutes worked and estimated, when the work has run past the estimate.
fn over_estimate(task: &Task, now: DateTime<Utc>) -> Option<(u64, u64)> {
    let (worked, estimate) = (task.actual_minutes(now)?, task.estimate_minutes?);
    (worked > estimate).then_some((worked, estimate))
}

/// What reminds an agent where it stands, given how many tasks are open (neither done nor
/// cancelled).
fn reminder_with(state: &State, scope: &Scope, open_tasks: usize) -> ContextReminder {
    let mut reminder = ContextReminder {
        session: scope.session.map(|id| state.short(id)),
        open_tasks: Some(open_tasks),
        ..ContextReminder::default()
    };
    let session = match &reminder.session {
        Some(id) => format!("session {id}"),
        None => "no open session".to_string(),
    };
    let focus = match state.focus(scope.writer, scope.worktree) {
        Some(task) => {
            reminder.active_task = Some(state.short(&task.id));
            reminder.time_elapsed = task.actual_minutes(scope.now).map(minutes_text);
            reminder.estimate = task.estimate_minutes.map(minutes_text);
            reminder.over_estimate = over_estimate(task, scope.now).is_some();
            let elapsed = reminder
                .time_elapsed
                .as_ref()
                .map(|m| format!(", {m} worked"))
                .unwrap_or_default();
            let over = match (&reminder.estimate, reminder.over_estimate) {
                (Some(estimate), true) => format!(", past its {estimate} estimate"),
                _ => String::new(),
            };
            format!(
                "focus {} \"{}\"{elapsed}{over}",
                state.short(&task.id),
                one_line(&task.title, 48)
            )
        }
        None => "no task in focus".to_string(),
    };
    reminder.text = format!("{session}; {focus}; {open_tasks} open task(s)");
    reminder
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct WorkingMemory {
    pub session: Option<Session>,
    pub focus: Option<Task>,
    /// The newest tasks in progress (at most [`IN_PROGRESS_SHOWN`]), oldest first.
    pub in_progress: Vec<Task>,
    /// How many tasks are in progress in all.
    pub in_progress_total: usize,
    pub open_decisions: Vec<Decision>,
    pub last_actions: Vec<Action>,
    pub next_steps: NextSteps,
    /// Claims this actor made here that lost to another holder's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lost_claims: Vec<super::claims::LostClaimNotice>,
    /// The session that ended last in this worktree: where the work stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousSession>,
}

/// The last session that ended in a worktree, and what it did last.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousSession {
    pub session: Session,
    pub last_actions: Vec<Action>,
}

/// The session that ended last in the scope's worktree (not the scope's own), with its last
/// actions before its end.
fn previous_session(state: &State, scope: &Scope) -> Option<PreviousSession> {
    let session = state.previous_session(scope.writer, scope.worktree, scope.session)?;
    let last_actions = last_actions(state, Some(&session.id), |e| {
        !matches!(e.kind.as_str(), kind::SESSION_RESUMED | kind::SESSION_ENDED)
    });
    Some(PreviousSession {
        session: session.clone(),
        last_actions,
    })
}

/// The newest [`LAST_ACTIONS`] events of `session` (or of the ledger) that `shown` keeps,
/// oldest first.
fn last_actions(
    state: &State,
    session: Option<&str>,
    shown: impl Fn(&crate::event::Event) -> bool,
) -> Vec<Action> {
    let mut actions: Vec<Action> = state
        .recent_events(session)
        .into_iter()
        .rev()
        .filter(|e| shown(e))
        .take(LAST_ACTIONS)
        .map(|e| action(state, e))
        .collect();
    actions.reverse();
    actions
}

/// How many past actions working memory and `session resume` show.
pub const LAST_ACTIONS: usize = 3;

/// How many tasks in progress working memory shows: a session needs the ones it may pick up,
/// not the thousands a large ledger can hold (those are a `task list` away).
pub const IN_PROGRESS_SHOWN: usize = 20;

pub fn working(state: &State, scope: &Scope) -> WorkingMemory {
    let session = scope.session.and_then(|id| state.sessions.get(id)).cloned();
    // This session's last actions; without a session, the ledger's.
    let last_actions = last_actions(state, scope.session, |e| {
        scope.session.is_none() || e.kind != kind::SESSION_RESUMED
    });
    let mut newest: Vec<usize> = state
        .tasks_with(TaskStatus::InProgress)
        .rev()
        .take(IN_PROGRESS_SHOWN)
        .collect();
    newest.reverse();
    WorkingMemory {
        session,
        focus: state.focus(scope.writer, scope.worktree).cloned(),
        in_progress: newest
            .iter()
            .filter_map(|&i| state.tasks.at(i))
            .cloned()
            .collect(),
        in_progress_total: state.task_count(TaskStatus::InProgress),
        open_decisions: brief::open(&state.decisions).cloned().collect(),
        last_actions,
        next_steps: next_steps(state, scope),
        lost_claims: super::claims::lost_claims(state, scope.actor, scope.writer),
        previous: previous_session(state, scope),
    }
}

impl WorkingMemory {
    pub fn doc(&self, state: &State, now: DateTime<Utc>) -> Doc {
        let title = match &self.session {
            Some(s) => format!("Working memory: {}", session_line(state, s)),
            None => "Working memory: no open session".to_string(),
        };
        let mut doc = Doc::new(title);
        if let Some(previous) = &self.previous {
            let mut lines = vec![session_line(state, &previous.session)];
            if let Some(summary) = &previous.session.summary {
                lines.push(format!("summary: {}", one_line(summary, 200)));
            }
            lines.extend(previous.last_actions.iter().map(|a| a.line(state)));
            doc.section("Previous session", lines, "");
        }
        if !self.lost_claims.is_empty() {
            doc.section(
                "Lost claims",
                self.lost_claims
                    .iter()
                    .map(|n| super::claims::lost_claim_line(state, n))
                    .collect(),
                "",
            );
        }
        doc.section(
            "Focus",
            self.focus
                .iter()
                .map(|t| task_line(state, t, now))
                .collect(),
            "no task in focus (git ledger task start <id>)",
        );
        let mut in_progress: Vec<String> = self
            .in_progress
            .iter()
            .map(|t| task_line(state, t, now))
            .collect();
        let more = self
            .in_progress_total
            .saturating_sub(self.in_progress.len());
        if more > 0 {
            in_progress.push(format!(
                "… and {more} older (git ledger task list --status in-progress)"
            ));
        }
        doc.section("In progress", in_progress, "nothing in progress");
        doc.section(
            "Open decisions",
            self.open_decisions
                .iter()
                .map(|d| decision_line(state, d))
                .collect(),
            "none",
        );
        doc.section(
            "Last actions",
            self.last_actions.iter().map(|a| a.line(state)).collect(),
            "none yet",
        );
        doc.section(
            "Next steps",
            self.next_steps
                .next_actions
                .iter()
                .zip(&self.next_steps.suggested_commands)
                .map(|(action, command)| format!("{action}: `{command}`"))
                .collect(),
            "nothing to suggest",
        );
        doc
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct ShortTermMemory {
    pub days: u32,
    pub since: DateTime<Utc>,
    /// The summary standing for the items it covers (left out of the lists below).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Compaction>,
    pub completed: Vec<Task>,
    pub insights: Vec<Insight>,
    pub decisions: Vec<Decision>,
    pub sessions: Vec<Session>,
}

pub fn short_term(
    state: &State,
    now: DateTime<Utc>,
    days: u32,
    summaries: Summaries,
) -> ShortTermMemory {
    let since = now - Duration::days(i64::from(days));
    // Only a summary that covers part of the window stands in for anything.
    let compaction =
        compaction::applied(&state.compactions, summaries).filter(|c| c.before > since);
    let recent = |t: DateTime<Utc>| t >= since && t <= now && !compaction::covers(compaction, t);
    ShortTermMemory {
        days,
        since,
        summary: compaction.cloned(),
        completed: state
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Done && t.completed.is_some_and(recent))
            .cloned()
            .collect(),
        insights: state
            .insights
            .iter()
            .filter(|i| recent(i.created))
            .cloned()
            .collect(),
        decisions: state
            .decisions
            .iter()
            .filter(|d| recent(d.requested) || d.made.is_some_and(recent))
            .cloned()
            .collect(),
        sessions: state
            .sessions
            .iter()
            .filter(|s| recent(s.started) || s.ended.is_some_and(recent) || s.is_open())
            .cloned()
            .collect(),
    }
}

/// The summary section, first in a view that applies one.
fn summary_section(doc: &mut Doc, summary: &Option<Compaction>) {
    if let Some(summary) = summary {
        doc.section("Summary", compaction::summary_lines(summary), "");
    }
}

impl ShortTermMemory {
    pub fn doc(&self, state: &State, now: DateTime<Utc>) -> Doc {
        let mut doc = Doc::new(format!(
            "Short-term memory: the last {} day(s), since {}",
            self.days,
            self.since.format("%Y-%m-%d %H:%M")
        ));
        summary_section(&mut doc, &self.summary);
        doc.section(
            "Completed",
            self.completed
                .iter()
                .map(|t| task_line(state, t, now))
                .collect(),
            "no task completed",
        );
        decisions_and_insights(&mut doc, state, &self.decisions, &self.insights);
        doc.section(
            "Sessions",
            self.sessions
                .iter()
                .map(|s| session_line(state, s))
                .collect(),
            "none",
        );
        doc
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveSummary {
    pub id: String,
    pub title: String,
    pub status: ObjectiveStatus,
    pub outcome: Option<String>,
    pub tasks_total: usize,
    pub tasks_done: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EstimateAccuracy {
    /// Done tasks that had an estimate and recorded work.
    pub tasks: usize,
    pub estimated_minutes: u64,
    pub actual_minutes: u64,
    /// actual / estimated; 1.0 is perfect, above 1 means work took longer than estimated.
    pub ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub total_sessions: usize,
    pub total_agents_spawned: usize,
    pub total_tasks_completed: usize,
    pub total_decisions_made: usize,
    pub total_insights: usize,
    pub forced_completions: usize,
    pub estimate_accuracy: EstimateAccuracy,
}

#[derive(Debug, Clone, Serialize)]
pub struct LongTermMemory {
    /// The summary standing for the items it covers (left out of the lists below; the
    /// metrics and cost always count everything).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Compaction>,
    pub objectives: Vec<ObjectiveSummary>,
    pub decisions: Vec<Decision>,
    pub insights: Vec<Insight>,
    pub forced_completions: Vec<Task>,
    pub metrics: Metrics,
    /// Spending reported by sessions and agents, rolled up.
    pub cost: crate::fold::cost::Costs,
}

pub fn long_term(state: &State, now: DateTime<Utc>, summaries: Summaries) -> LongTermMemory {
    let compaction = compaction::applied(&state.compactions, summaries);
    let kept = |t: DateTime<Utc>| !compaction::covers(compaction, t);
    let objectives = state
        .objectives
        .iter()
        // Active objectives stay whatever their age; finished ones are history.
        .filter(|o| o.completed.is_none_or(kept))
        .map(|o| {
            let (tasks_done, tasks_total) = state.objective_progress(&o.id);
            ObjectiveSummary {
                id: o.id.clone(),
                title: o.title.clone(),
                status: o.status,
                outcome: o.outcome.clone(),
                tasks_total,
                tasks_done,
            }
        })
        .collect();
    let done: Vec<&Task> = state
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .collect();
    let measured: Vec<(u64, u64)> = done
        .iter()
        .filter_map(|t| Some((t.estimate_minutes?, t.actual_minutes(now)?)))
        .collect();
    let total = |values: &mut dyn Iterator<Item = u64>| values.fold(0u64, u64::saturating_add);
    let estimated_minutes = total(&mut measured.iter().map(|(e, _)| *e));
    let actual_minutes = total(&mut measured.iter().map(|(_, a)| *a));
    let forced: Vec<Task> = done
        .iter()
        .filter(|t| t.forced_over.is_some())
        .map(|t| (*t).clone())
        .collect();
    LongTermMemory {
        summary: compaction.cloned(),
        objectives,
        decisions: state
            .decisions
            .iter()
            .filter(|d| kept(d.made.unwrap_or(d.requested)))
            .cloned()
            .collect(),
        insights: state
            .insights
            .iter()
            .filter(|i| kept(i.created))
            .cloned()
            .collect(),
        metrics: Metrics {
            total_sessions: state.sessions.len(),
            total_agents_spawned: state.agents.len(),
            total_tasks_completed: done.len(),
            total_decisions_made: state
                .decisions
                .iter()
                .filter(|d| d.status == DecisionStatus::Made)
                .count(),
            total_insights: state.insights.len(),
            forced_completions: forced.len(),
            estimate_accuracy: EstimateAccuracy {
                tasks: measured.len(),
                estimated_minutes,
                actual_minutes,
                ratio: (estimated_minutes > 0)
                    .then(|| actual_minutes as f64 / estimated_minutes as f64),
            },
        },
        forced_completions: forced
            .into_iter()
            .filter(|t| t.completed.is_none_or(kept))
            .collect(),
        cost: crate::fold::cost::costs(state),
    }
}

impl LongTermMemory {
    pub fn doc(&self, state: &State, now: DateTime<Utc>) -> Doc {
        let mut doc = Doc::new("Long-term memory: the whole project");
        summary_section(&mut doc, &self.summary);
        doc.section(
            "Objectives",
            self.objectives
                .iter()
                .filter_map(|o| {
                    let objective = state.objectives.get(&o.id)?;
                    Some(objective_line_of(
                        state,
                        objective,
                        o.tasks_done,
                        o.tasks_total,
                    ))
                })
                .collect(),
            "no objective yet",
        );
        decisions_and_insights(&mut doc, state, &self.decisions, &self.insights);
        doc.section(
            "Forced completions",
            self.forced_completions
                .iter()
                .map(|t| {
                    format!(
                        "{} overrode: {}",
                        task_line(state, t, now),
                        t.forced_over.clone().unwrap_or_default().join("; ")
                    )
                })
                .collect(),
            "none",
        );
        let m = &self.metrics;
        let accuracy = &m.estimate_accuracy;
        let accuracy_line = match accuracy.ratio {
            Some(ratio) => format!(
                "estimate accuracy: {} task(s), {} actual vs {} estimated (×{ratio:.2})",
                accuracy.tasks,
                minutes_text(accuracy.actual_minutes),
                minutes_text(accuracy.estimated_minutes)
            ),
            None => "estimate accuracy: no finished task with an estimate and recorded work".into(),
        };
        doc.section(
            "Metrics",
            vec![
                format!("sessions: {}", m.total_sessions),
                format!("agents spawned: {}", m.total_agents_spawned),
                format!("tasks completed: {}", m.total_tasks_completed),
                format!("decisions made: {}", m.total_decisions_made),
                format!("insights: {}", m.total_insights),
                format!("forced completions: {}", m.forced_completions),
                accuracy_line,
            ],
            "",
        );
        if !self.cost.is_empty() {
            doc.section("Cost", crate::fold::cost::lines(state, &self.cost, 20), "");
        }
        doc
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeBase {
    /// Promoted insights by tag; untagged ones under `untagged`.
    pub by_tag: BTreeMap<String, Vec<Insight>>,
}

pub fn knowledge(state: &State) -> KnowledgeBase {
    let mut by_tag: BTreeMap<String, Vec<Insight>> = BTreeMap::new();
    for insight in state.insights.iter().filter(|i| i.knowledge) {
        if insight.tags.is_empty() {
            by_tag
                .entry("untagged".into())
                .or_default()
                .push(insight.clone());
        }
        for tag in &insight.tags {
            by_tag.entry(tag.clone()).or_default().push(insight.clone());
        }
    }
    KnowledgeBase { by_tag }
}

impl KnowledgeBase {
    pub fn doc(&self, state: &State) -> Doc {
        let mut doc = Doc::new("Knowledge base: insights promoted for reuse");
        if self.by_tag.is_empty() {
            doc.section(
                "Insights",
                Vec::new(),
                "nothing promoted yet (git ledger insight add \"…\" --knowledge)",
            );
        }
        for (tag, insights) in &self.by_tag {
            doc.section(
                &format!("#{tag}"),
                insights.iter().map(|i| insight_line(state, i)).collect(),
                "",
            );
        }
        doc
    }
}
