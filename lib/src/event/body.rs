//! The body of each event kind, one struct per kind, and [`Body`], the enum over them.
//!
//! Reading a body is serde's job: a body of a known kind that does not have its kind's
//! fields, or has one of the wrong type, does not become that struct. It is kept as
//! [`Body::Unknown`] with the bodies of kinds a newer version wrote, shown and never folded,
//! and `audit` reports serde's error for it. Fields a newer version added to a known kind are
//! kept beside the struct ([`super::Event::body_extra`]) so the event is written back as read.
//!
//! Optional fields are absent or hold a value: an explicit `null` is refused (`some`), so that
//! every body this version reads serialises back to exactly the bytes it was read from, which
//! its id is the hash of. `ledger-format.md` documents each body.

use super::kind::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A validation rule of a task: a command whose success is evidence (run by `check run`),
/// or a checklist item someone confirms. Stored as `{"command": "cargo test"}` or
/// `{"item": "docs updated"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Command(String),
    Item(String),
}

/// A task's priority: 0 (highest) to 4.
pub const LOWEST_PRIORITY: u8 = 4;

/// A present optional field: a value, never `null`.
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A required field that may be `null` (an exit status after a signal).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// An RFC 3339 time, kept as written.
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    match chrono::DateTime::parse_from_rfc3339(&text) {
        Ok(_) => Ok(text),
        Err(_) => Err(serde::de::Error::custom("not an RFC 3339 time")),
    }
}

fn priority<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let value = u64::deserialize(d)?;
    match u8::try_from(value) {
        Ok(p) if p <= LOWEST_PRIORITY => Ok(p),
        _ => Err(serde::de::Error::custom(
            "a priority above 4 (0 is the highest, 4 the lowest)",
        )),
    }
}

fn some_priority<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    priority(d).map(Some)
}

/// `writer.registered`: a writer registers the public key its ledger commits are signed with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriterRegistered {
    pub signing_key: String,
}

/// `objective.created`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveCreated {
    pub title: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub budget_micros: Option<u64>,
    /// The plan file the objective came from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub plan: Option<String>,
    /// The id the objective had in the file it was imported from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub source_id: Option<String>,
}

/// `objective.completed`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveCompleted {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub outcome: Option<String>,
    /// Completed with tasks still open.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub forced: Option<bool>,
}

/// `objective.budget_set`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveBudgetSet {
    pub budget_micros: u64,
}

/// `task.created`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub title: String,
    #[serde(deserialize_with = "priority")]
    pub priority: u8,
    pub depends_on: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub objective: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub estimate_minutes: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub role: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub validation: Option<Vec<Rule>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub stage: Option<String>,
    /// The task's key in the plan file it came from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub plan_key: Option<String>,
    /// The id the task had in the file it was imported from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub source_id: Option<String>,
    /// Imported from beads: its issue type.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub issue_type: Option<String>,
    /// Imported from beads: its labels.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub labels: Option<Vec<String>>,
}

/// `task.dependency_added`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskDependencyAdded {
    pub depends_on: Vec<String>,
}

/// `task.started`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStarted {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub worktree: Option<String>,
    /// The agent that was spawned to work on it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub agent: Option<String>,
    /// The status event the writer saw last.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub after: Option<String>,
}

/// `task.noted`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskNoted {
    pub text: String,
}

/// `task.blocked`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskBlocked {
    pub reason: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub after: Option<String>,
}

/// `task.completed`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskCompleted {
    pub forced: bool,
    /// The validation rules a forced completion went past.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub overridden: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub after: Option<String>,
    /// Recorded by an import, as a historical fact.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub imported: Option<bool>,
}

/// `task.reopened`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskReopened {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub reason: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub after: Option<String>,
}

/// `task.cancelled`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskCancelled {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub reason: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub after: Option<String>,
}

/// `task.updated`: each field present replaces the task's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskUpdated {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub title: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_priority"
    )]
    pub priority: Option<u8>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub estimate_minutes: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub role: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub validation: Option<Vec<Rule>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub depends_on: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub stage: Option<String>,
}

/// `task.claimed`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskClaimed {
    pub holder: String,
    #[serde(deserialize_with = "time")]
    pub expires: String,
    pub epoch: u64,
}

/// `task.claim_renewed`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskClaimRenewed {
    pub holder: String,
    #[serde(deserialize_with = "time")]
    pub expires: String,
    pub epoch: u64,
}

/// `task.released`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskReleased {
    pub holder: String,
    pub epoch: u64,
}

/// `insight.added`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InsightAdded {
    pub text: String,
    pub tags: Vec<String>,
    pub knowledge: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub task: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub source_id: Option<String>,
}

/// `insight.promoted`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InsightPromoted {}

/// `decision.requested`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequested {
    pub question: String,
    pub options: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub task: Option<String>,
    /// The id the decision had in the file it was imported from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub source_id: Option<String>,
}

/// `decision.made`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionMade {
    pub choice: String,
    pub rationale: String,
}

/// `session.started`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub worktree: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub title: Option<String>,
    /// The ended session this one continues.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub continues: Option<String>,
    /// The agent harness's own session id, e.g. `claude:<id>`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub harness_session: Option<String>,
}

/// `session.resumed`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionResumed {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub worktree: Option<String>,
}

/// `session.ended`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub abandoned: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub model: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub tokens: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub cost_micros: Option<u64>,
}

/// `branch.linked`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BranchLinked {
    pub branch: String,
}

/// `commit.linked`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitLinked {
    pub commit: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub branch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub author: Option<String>,
}

/// `review.requested`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewRequested {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub commit: Option<String>,
}

/// `review.approved`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewApproved {
    pub commit: String,
}

/// `review.rejected`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewRejected {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub commit: Option<String>,
    pub reason: String,
}

/// `merge.recorded`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeRecorded {
    pub branch: String,
    pub into: String,
    pub merge_commit: String,
}

/// `agent.spawned`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentSpawned {
    pub role: String,
    pub mission: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub task: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub worktree: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub branch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub command: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub retry: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub fallback: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub source_id: Option<String>,
}

/// `agent.exited`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentExited {
    /// The exit status; null when a signal ended it.
    #[serde(deserialize_with = "nullable")]
    pub status: Option<i64>,
    pub outcome: String,
    pub duration_ms: u64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub signal: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub model: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub tokens: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub cost_micros: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub attempts: Option<u64>,
}

/// `agent.heartbeat`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentHeartbeat {}

/// `agent.attempted`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentAttempted {
    pub attempt: u64,
    pub command: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub status: Option<i64>,
    pub outcome: String,
    pub duration_ms: u64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub signal: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub summary: Option<String>,
}

/// `memory.compacted`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryCompacted {
    #[serde(deserialize_with = "time")]
    pub before: String,
    pub summary: String,
    pub events: u64,
    pub from_event: String,
    pub to_event: String,
}

/// `check.recorded`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecorded {
    pub rule: Rule,
    pub passed: bool,
    pub commit: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub duration_ms: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub output_digest: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub output_tail: Option<String>,
    /// Null when a signal ended the command.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some"
    )]
    pub exit_status: Option<Option<i64>>,
}

/// Declares [`Body`] over the kinds and their structs, with the conversions between them.
macro_rules! bodies {
    ($( $name:ident => $kind:ident, )*) => {
        /// The body of an event, read according to its kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Body {
            $( $name($name), )*
            /// A body this version cannot read: of a kind a newer version wrote, or of a known
            /// kind but without the fields that kind requires. Kept and shown, never folded.
            Unknown(Value),
        }

        $(
            impl From<$name> for Body {
                fn from(body: $name) -> Body {
                    Body::$name(body)
                }
            }
        )*

        /// Every kind this version reads and writes.
        pub const KINDS: &[&str] = &[$( $kind, )*];

        impl Body {
            /// The kind of a typed body; `None` for [`Body::Unknown`].
            pub fn kind(&self) -> Option<&'static str> {
                match self {
                    $( Body::$name(_) => Some($kind), )*
                    Body::Unknown(_) => None,
                }
            }

            /// Read the body of an event of `kind` from its JSON text: the typed body and the
            /// fields its struct does not have, or why it is not a body of that kind.
            fn read_known(kind: &str, json: &str) -> Option<Result<(Body, Map<String, Value>), String>> {
                Some(match kind {
                    $( $kind => read::<$name>(json).map(|(b, extra)| (Body::$name(b), extra)), )*
                    _ => return None,
                })
            }

            /// The body as JSON, without the fields kept beside it.
            pub fn to_value(&self) -> Value {
                let value = match self {
                    $( Body::$name(b) => serde_json::to_value(b), )*
                    Body::Unknown(value) => return value.clone(),
                };
                // Plain structs of strings, numbers and lists: serialising them cannot fail.
                value.unwrap_or(Value::Null)
            }

            /// The names of a kind's body fields (for tests that feed hostile values to each).
            #[doc(hidden)]
            pub fn field_names(kind: &str) -> &'static [&'static str] {
                match kind {
                    $( $kind => field_names::<$name>(), )*
                    _ => &[],
                }
            }
        }
    };
}

bodies! {
    WriterRegistered => WRITER_REGISTERED,
    ObjectiveCreated => OBJECTIVE_CREATED,
    ObjectiveCompleted => OBJECTIVE_COMPLETED,
    ObjectiveBudgetSet => OBJECTIVE_BUDGET_SET,
    TaskCreated => TASK_CREATED,
    TaskDependencyAdded => TASK_DEPENDENCY_ADDED,
    TaskStarted => TASK_STARTED,
    TaskNoted => TASK_NOTED,
    TaskBlocked => TASK_BLOCKED,
    TaskCompleted => TASK_COMPLETED,
    TaskReopened => TASK_REOPENED,
    TaskCancelled => TASK_CANCELLED,
    TaskUpdated => TASK_UPDATED,
    TaskClaimed => TASK_CLAIMED,
    TaskClaimRenewed => TASK_CLAIM_RENEWED,
    TaskReleased => TASK_RELEASED,
    InsightAdded => INSIGHT_ADDED,
    InsightPromoted => INSIGHT_PROMOTED,
    DecisionRequested => DECISION_REQUESTED,
    DecisionMade => DECISION_MADE,
    SessionStarted => SESSION_STARTED,
    SessionResumed => SESSION_RESUMED,
    SessionEnded => SESSION_ENDED,
    BranchLinked => BRANCH_LINKED,
    CommitLinked => COMMIT_LINKED,
    ReviewRequested => REVIEW_REQUESTED,
    ReviewApproved => REVIEW_APPROVED,
    ReviewRejected => REVIEW_REJECTED,
    MergeRecorded => MERGE_RECORDED,
    AgentSpawned => AGENT_SPAWNED,
    AgentExited => AGENT_EXITED,
    AgentHeartbeat => AGENT_HEARTBEAT,
    AgentAttempted => AGENT_ATTEMPTED,
    MemoryCompacted => MEMORY_COMPACTED,
    CheckRecorded => CHECK_RECORDED,
}

impl Body {
    /// Read an event's body from its JSON text. A kind this version does not know, or a body
    /// that is not what its kind requires, gives [`Body::Unknown`] with the JSON as read; a
    /// known body with fields this version does not know gives them back beside it.
    pub fn read(kind: &str, json: &str) -> Result<(Body, Map<String, Value>), serde_json::Error> {
        match Body::read_known(kind, json) {
            Some(Ok(read)) => Ok(read),
            Some(Err(_)) | None => Ok((Body::Unknown(serde_json::from_str(json)?), Map::new())),
        }
    }

    /// A body from JSON as a reader takes it (for tests that write events by hand): typed if
    /// it is one of a known kind, fields this version does not know dropped.
    #[doc(hidden)]
    pub fn from_json(kind: &str, body: Value) -> Body {
        match Body::read_known(kind, &body.to_string()) {
            Some(Ok((typed, _))) => typed,
            _ => Body::Unknown(body),
        }
    }

    /// Why the JSON of a body is not a body of its known kind (serde's words); `None` when it
    /// is, or when the kind is unknown.
    pub fn error(kind: &str, body: &Value) -> Option<String> {
        Body::read_known(kind, &body.to_string())?.err()
    }

    /// The task a body names besides its subject (an insight's, a decision's, an agent's).
    pub fn task(&self) -> Option<&str> {
        match self {
            Body::InsightAdded(b) => b.task.as_deref(),
            Body::DecisionRequested(b) => b.task.as_deref(),
            Body::AgentSpawned(b) => b.task.as_deref(),
            _ => None,
        }
    }

    /// The objective a body names (a task's at its creation).
    pub fn objective(&self) -> Option<&str> {
        match self {
            Body::TaskCreated(b) => b.objective.as_deref(),
            _ => None,
        }
    }

    /// The id this entity had in the file it was imported from.
    pub fn source_id(&self) -> Option<&str> {
        match self {
            Body::ObjectiveCreated(b) => b.source_id.as_deref(),
            Body::TaskCreated(b) => b.source_id.as_deref(),
            Body::DecisionRequested(b) => b.source_id.as_deref(),
            Body::InsightAdded(b) => b.source_id.as_deref(),
            Body::AgentSpawned(b) => b.source_id.as_deref(),
            _ => None,
        }
    }

    /// The status event the writer of a status change saw last.
    pub fn after(&self) -> Option<&str> {
        match self {
            Body::TaskStarted(b) => b.after.as_deref(),
            Body::TaskBlocked(b) => b.after.as_deref(),
            Body::TaskCompleted(b) => b.after.as_deref(),
            Body::TaskReopened(b) => b.after.as_deref(),
            Body::TaskCancelled(b) => b.after.as_deref(),
            _ => None,
        }
    }

    /// The fields that hold a hash (a commit id or an event id), by name.
    pub fn hashes(&self) -> Vec<(&'static str, &str)> {
        match self {
            Body::CommitLinked(b) => vec![("commit", b.commit.as_str())],
            Body::ReviewApproved(b) => vec![("commit", b.commit.as_str())],
            Body::ReviewRequested(b) => b.commit.iter().map(|c| ("commit", c.as_str())).collect(),
            Body::ReviewRejected(b) => b.commit.iter().map(|c| ("commit", c.as_str())).collect(),
            Body::MergeRecorded(b) => vec![("merge_commit", b.merge_commit.as_str())],
            Body::CheckRecorded(b) => vec![("commit", b.commit.as_str())],
            Body::MemoryCompacted(b) => vec![
                ("from_event", b.from_event.as_str()),
                ("to_event", b.to_event.as_str()),
            ],
            _ => Vec::new(),
        }
    }
}

/// Read one body struct, collecting the top-level fields it does not have. A field it does
/// not have inside one it has cannot be kept, so such a body is not read.
fn read<T: serde::de::DeserializeOwned>(json: &str) -> Result<(T, Map<String, Value>), String> {
    let mut unknown = Vec::new();
    let mut nested = false;
    let mut de = serde_json::Deserializer::from_str(json);
    let body: T = serde_ignored::deserialize(&mut de, |path| match path {
        serde_ignored::Path::Map {
            parent: serde_ignored::Path::Root,
            key,
        } => unknown.push(key),
        _ => nested = true,
    })
    .map_err(|e| {
        // The position is within the body's text, which a reader does not see.
        let message = e.to_string();
        match message.rsplit_once(" at line ") {
            Some((what, _)) => what.to_string(),
            None => message,
        }
    })?;
    if nested {
        return Err("an unknown field inside a known one".into());
    }
    let mut extra = Map::new();
    if !unknown.is_empty() {
        let mut all: Map<String, Value> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        for key in unknown {
            if let Some(value) = all.remove(&key) {
                extra.insert(key, value);
            }
        }
    }
    Ok((body, extra))
}

/// The field names serde's derive gives a struct, captured from the call it makes to read one.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Names(&'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Stop {
            Stop
        }
    }
    struct Capture<'a>(&'a mut Names);
    impl<'de> Deserializer<'de> for Capture<'_> {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut names = Names(&[]);
    let _ = T::deserialize(Capture(&mut names));
    names.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_kind_has_a_body() {
        let mut kinds = KINDS.to_vec();
        kinds.sort();
        let mut known: Vec<&str> = KNOWN.iter().copied().chain([WRITER_REGISTERED]).collect();
        known.sort();
        assert_eq!(kinds, known);
    }

    #[test]
    fn bodies_read_back_as_written() {
        let json = r#"{"depends_on":[],"future":{"x":[1]},"priority":1,"title":"t","validation":[{"command":"make"}]}"#;
        let (body, extra) = Body::read(TASK_CREATED, json).expect("json");
        let Body::TaskCreated(task) = &body else {
            panic!("not read as task.created: {body:?}");
        };
        assert_eq!(task.validation, Some(vec![Rule::Command("make".into())]));
        assert_eq!(extra.keys().collect::<Vec<_>>(), ["future"]);
        let mut back = body.to_value();
        if let Value::Object(map) = &mut back {
            map.extend(extra);
        }
        assert_eq!(back.to_string(), json);
    }

    #[test]
    fn a_null_or_a_wrong_type_makes_the_body_unknown() {
        for json in [
            r#"{"text":"x","tags":[],"knowledge":false,"task":null}"#,
            r#"{"text":"x","tags":"a","knowledge":false}"#,
            r#"{"text":"x","tags":[]}"#,
        ] {
            let (body, _) = Body::read(INSIGHT_ADDED, json).expect("json");
            assert!(matches!(body, Body::Unknown(_)), "{json}");
            let value: Value = serde_json::from_str(json).expect("json");
            assert!(Body::error(INSIGHT_ADDED, &value).is_some(), "{json}");
        }
        let (body, _) = Body::read(
            TASK_CREATED,
            r#"{"title":"t","priority":5,"depends_on":[]}"#,
        )
        .expect("json");
        assert!(matches!(body, Body::Unknown(_)));
    }

    #[test]
    fn field_names_come_from_the_structs() {
        assert_eq!(Body::field_names(TASK_RELEASED), ["holder", "epoch"]);
        assert!(Body::field_names(AGENT_HEARTBEAT).is_empty());
    }
}
