//! The event kinds this version writes, and a one-line description of any event.
//!
//! Bodies are documented in `ledger-format.md`. Kinds not listed here (written by a newer
//! version) are kept, shown in the log and ignored by the projections.

use super::Event;
use super::body::{Body, Rule};
use serde_json::Value;

pub const OBJECTIVE_CREATED: &str = "objective.created";
pub const OBJECTIVE_COMPLETED: &str = "objective.completed";
pub const OBJECTIVE_BUDGET_SET: &str = "objective.budget_set";
pub const TASK_CREATED: &str = "task.created";
pub const TASK_DEPENDENCY_ADDED: &str = "task.dependency_added";
pub const TASK_STARTED: &str = "task.started";
pub const TASK_NOTED: &str = "task.noted";
pub const TASK_BLOCKED: &str = "task.blocked";
pub const TASK_COMPLETED: &str = "task.completed";
pub const TASK_REOPENED: &str = "task.reopened";
pub const TASK_CANCELLED: &str = "task.cancelled";
pub const TASK_UPDATED: &str = "task.updated";
pub const TASK_CLAIMED: &str = "task.claimed";
pub const TASK_CLAIM_RENEWED: &str = "task.claim_renewed";
pub const TASK_RELEASED: &str = "task.released";
pub const INSIGHT_ADDED: &str = "insight.added";
pub const INSIGHT_PROMOTED: &str = "insight.promoted";
pub const DECISION_REQUESTED: &str = "decision.requested";
pub const DECISION_MADE: &str = "decision.made";
pub const SESSION_STARTED: &str = "session.started";
pub const SESSION_RESUMED: &str = "session.resumed";
pub const SESSION_ENDED: &str = "session.ended";
pub const BRANCH_LINKED: &str = "branch.linked";
pub const COMMIT_LINKED: &str = "commit.linked";
pub const REVIEW_REQUESTED: &str = "review.requested";
pub const REVIEW_APPROVED: &str = "review.approved";
pub const REVIEW_REJECTED: &str = "review.rejected";
pub const MERGE_RECORDED: &str = "merge.recorded";
pub const AGENT_SPAWNED: &str = "agent.spawned";
pub const AGENT_EXITED: &str = "agent.exited";
pub const AGENT_HEARTBEAT: &str = "agent.heartbeat";
pub const AGENT_ATTEMPTED: &str = "agent.attempted";
pub const MEMORY_COMPACTED: &str = "memory.compacted";
pub const CHECK_RECORDED: &str = "check.recorded";
/// A writer registers the public key its ledger commits are signed with.
pub const WRITER_REGISTERED: &str = "writer.registered";

/// Every kind this version understands that is about an entity of the ledger.
pub const KNOWN: &[&str] = &[
    OBJECTIVE_CREATED,
    OBJECTIVE_COMPLETED,
    OBJECTIVE_BUDGET_SET,
    TASK_CREATED,
    TASK_DEPENDENCY_ADDED,
    TASK_STARTED,
    TASK_NOTED,
    TASK_BLOCKED,
    TASK_COMPLETED,
    TASK_REOPENED,
    TASK_CANCELLED,
    TASK_UPDATED,
    TASK_CLAIMED,
    TASK_CLAIM_RENEWED,
    TASK_RELEASED,
    INSIGHT_ADDED,
    INSIGHT_PROMOTED,
    DECISION_REQUESTED,
    DECISION_MADE,
    SESSION_STARTED,
    SESSION_RESUMED,
    SESSION_ENDED,
    BRANCH_LINKED,
    COMMIT_LINKED,
    REVIEW_REQUESTED,
    REVIEW_APPROVED,
    REVIEW_REJECTED,
    MERGE_RECORDED,
    AGENT_SPAWNED,
    AGENT_EXITED,
    AGENT_HEARTBEAT,
    AGENT_ATTEMPTED,
    MEMORY_COMPACTED,
    CHECK_RECORDED,
];

/// Whether this version reads `kind`: one of [`KNOWN`], or a writer's key registration.
pub fn is_known(kind: &str) -> bool {
    KNOWN.contains(&kind) || kind == WRITER_REGISTERED
}

/// The task kinds that set a task's status after its creation; written with `after`, the id
/// of the status event the writer saw last (see "Concurrent edits" in `ledger-format.md`).
pub fn is_status_change(kind: &str) -> bool {
    matches!(
        kind,
        TASK_STARTED | TASK_BLOCKED | TASK_COMPLETED | TASK_REOPENED | TASK_CANCELLED
    )
}

/// What happened, in a few words, from the event alone (no other state needed).
pub fn describe(event: &Event) -> String {
    let text = |text: &str| one_line(text, 72);
    let opt = |text: &Option<String>| one_line(text.as_deref().unwrap_or(""), 72);
    let exit = |status: Option<i64>, signal: &Option<String>| match (status, signal) {
        (_, Some(signal)) => format!(" ({signal})"),
        (Some(code), None) => format!(" (status {code})"),
        (None, None) => String::new(),
    };
    match &event.body {
        Body::WriterRegistered(_) => "writer registered its signing key".to_string(),
        Body::ObjectiveCreated(b) => format!("objective added: {}", text(&b.title)),
        Body::ObjectiveCompleted(b) => match &b.outcome {
            Some(outcome) => format!("objective done: {}", text(outcome)),
            None => "objective done".to_string(),
        },
        Body::ObjectiveBudgetSet(b) => {
            format!("budget set to {}", super::money::money(b.budget_micros))
        }
        Body::TaskCreated(b) => format!("task added: {}", text(&b.title)),
        Body::TaskDependencyAdded(b) => {
            format!("dependency added on {}", b.depends_on.join(", "))
        }
        Body::TaskStarted(_) => "task started".to_string(),
        Body::TaskNoted(b) => format!("note: {}", text(&b.text)),
        Body::TaskBlocked(b) => format!("task blocked: {}", text(&b.reason)),
        Body::TaskCompleted(b) => {
            let forced = if b.forced { " (forced)" } else { "" };
            format!("task done{forced}: {}", opt(&b.summary))
        }
        Body::TaskReopened(b) => match &b.reason {
            Some(reason) => format!("task reopened: {}", text(reason)),
            None => "task reopened".to_string(),
        },
        Body::TaskCancelled(b) => match &b.reason {
            Some(reason) => format!("task cancelled: {}", text(reason)),
            None => "task cancelled".to_string(),
        },
        Body::TaskUpdated(_) => {
            let mut fields: Vec<String> = match event.body.to_value() {
                Value::Object(fields) => fields.into_iter().map(|(k, _)| k).collect(),
                _ => Vec::new(),
            };
            fields.extend(event.body_extra.keys().cloned());
            fields.sort();
            format!("task updated: {}", fields.join(", "))
        }
        Body::TaskClaimed(b) => format!(
            "claimed by {} until {}",
            text(&b.holder),
            minute(&b.expires)
        ),
        Body::TaskClaimRenewed(b) => format!("claim renewed until {}", minute(&b.expires)),
        Body::TaskReleased(b) => format!("claim released by {}", text(&b.holder)),
        Body::InsightAdded(b) => format!("insight: {}", text(&b.text)),
        Body::InsightPromoted(_) => "insight promoted to knowledge".to_string(),
        Body::DecisionRequested(b) => format!("decision requested: {}", text(&b.question)),
        Body::DecisionMade(b) => format!("decided: {}", text(&b.choice)),
        Body::SessionStarted(b) => match &b.title {
            Some(title) => format!("session started: {}", text(title)),
            None => "session started".to_string(),
        },
        Body::SessionResumed(_) => "session resumed".to_string(),
        Body::SessionEnded(b) => {
            let how = if b.abandoned {
                "session abandoned"
            } else {
                "session ended"
            };
            match &b.summary {
                Some(summary) => format!("{how}: {}", text(summary)),
                None => how.to_string(),
            }
        }
        Body::BranchLinked(b) => format!("branch linked: {}", text(&b.branch)),
        Body::CommitLinked(b) => format!(
            "commit {} on {}",
            super::short_hex(&b.commit),
            opt(&b.branch)
        ),
        Body::ReviewRequested(_) => "review requested".to_string(),
        Body::ReviewApproved(b) => format!("approved at {}", super::short_hex(&b.commit)),
        Body::ReviewRejected(b) => format!(
            "rejected at {}: {}",
            b.commit.as_deref().map_or("?", super::short_hex),
            text(&b.reason)
        ),
        Body::MergeRecorded(b) => format!(
            "merged {} into {} ({})",
            text(&b.branch),
            text(&b.into),
            super::short_hex(&b.merge_commit)
        ),
        Body::AgentSpawned(b) => {
            format!("agent spawned ({}): {}", text(&b.role), text(&b.mission))
        }
        Body::AgentExited(b) => {
            let how = exit(b.status, &b.signal);
            let summary = match &b.summary {
                Some(summary) => format!(": {}", text(summary)),
                None => String::new(),
            };
            let attempts = match b.attempts {
                Some(n) if n > 1 => format!(" after {n} attempts"),
                _ => String::new(),
            };
            format!("agent exited: {}{how}{attempts}{summary}", text(&b.outcome))
        }
        Body::AgentHeartbeat(_) => "heartbeat".to_string(),
        Body::AgentAttempted(b) => format!(
            "attempt {} {}{}: {}",
            b.attempt,
            text(&b.outcome),
            exit(b.status, &b.signal),
            one_line(&b.command.join(" "), 72)
        ),
        Body::MemoryCompacted(b) => format!(
            "memory before {} summarised: {}",
            minute(&b.before),
            text(&b.summary)
        ),
        Body::CheckRecorded(b) => {
            let how = if b.passed { "passed" } else { "failed" };
            let what = match &b.rule {
                Rule::Command(t) | Rule::Item(t) => one_line(t, 60),
            };
            format!("check {how}: {what} at {}", super::short_hex(&b.commit))
        }
        Body::Unknown(_) if is_known(&event.kind) => {
            format!("{} (a body this version cannot read)", event.kind)
        }
        Body::Unknown(_) => format!("{} (unknown to this version)", event.kind),
    }
}

/// A stored time to the minute, for display (as stored if it is not a time).
fn minute(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| one_line(time, 40))
}

/// Squash text to one line of at most `max` characters, for summaries.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Every kind this binary knows, with the names of its body fields: for tests that feed
/// hostile values into each field of each kind.
#[doc(hidden)]
pub fn known_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    KNOWN
        .iter()
        .map(|kind| (*kind, Body::field_names(kind).to_vec()))
        .collect()
}

/// Whether a body field of a kind holds a git or event hash (checked when an event is read).
#[doc(hidden)]
pub fn is_hash_field(kind: &str, field: &str) -> bool {
    match kind {
        COMMIT_LINKED | REVIEW_REQUESTED | REVIEW_APPROVED | REVIEW_REJECTED | CHECK_RECORDED => {
            field == "commit"
        }
        MERGE_RECORDED => field == "merge_commit",
        MEMORY_COMPACTED => matches!(field, "from_event" | "to_event"),
        _ => false,
    }
}

/// Whether `text` is a hash as stored: 4 to 64 hex digits (git's SHA-1 and SHA-256 ids,
/// event ids, and the abbreviations older writers kept).
pub fn is_hash(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What makes an event unreadable rather than merely incomplete: a field that must hold a
/// hash holding anything else. Readers skip such an event (reported as a problem, as an
/// event that is not JSON is), so that no view ever works on a forged hash.
pub fn shape_errors(event: &Event) -> Result<(), String> {
    match event
        .body
        .hashes()
        .into_iter()
        .find(|(_, text)| !is_hash(text))
    {
        Some((field, _)) => Err(format!(
            "event {}: body.{field} is not a hash (4 to 64 hex digits)",
            super::short_hex(&event.id)
        )),
        None => Ok(()),
    }
}

/// What is wrong with an event of a known kind: a body that is not what its kind requires
/// (serde's words), or a subject of the wrong entity kind. Unknown kinds are not checked.
pub fn schema_errors(event: &Event) -> Vec<String> {
    if !is_known(&event.kind) {
        return Vec::new();
    }
    let mut errors = Vec::new();
    if let Body::Unknown(body) = &event.body {
        errors.push(match Body::error(&event.kind, body) {
            Some(error) => format!("body: {error}"),
            None => "body is not an object".into(),
        });
    }
    let entity = match event.kind.split('.').next().unwrap_or("") {
        "branch" | "commit" | "review" | "merge" | "check" => "task",
        other => other,
    };
    let prefix = match entity {
        "objective" => "o-",
        "task" => "t-",
        "insight" => "i-",
        "decision" => "d-",
        "session" => "s-",
        "agent" => "a-",
        "memory" => "m-",
        _ => "",
    };
    if !event
        .subject
        .as_deref()
        .is_some_and(|s| s.starts_with(prefix) && s.len() > prefix.len())
    {
        errors.push(format!("subject is not a {entity} id ({prefix}…)"));
    }
    errors
}
