//! The event kinds this version writes, and a one-line description of any event.
//!
//! Bodies are documented in `ledger-format.md`. Kinds not listed here (written by a newer
//! version) are kept, shown in the log and ignored by the projections.

use super::Event;
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

/// Every kind this version understands.
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

pub fn is_known(kind: &str) -> bool {
    KNOWN.contains(&kind)
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
    let text = |key: &str| one_line(event.body_str(key).unwrap_or(""), 72);
    match event.kind.as_str() {
        OBJECTIVE_CREATED => format!("objective added: {}", text("title")),
        OBJECTIVE_COMPLETED => match event.body_str("outcome") {
            Some(_) => format!("objective done: {}", text("outcome")),
            None => "objective done".to_string(),
        },
        OBJECTIVE_BUDGET_SET => format!(
            "budget set to {}",
            super::money::money(
                event
                    .body
                    .get("budget_micros")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            )
        ),
        TASK_CREATED => format!("task added: {}", text("title")),
        TASK_DEPENDENCY_ADDED => format!(
            "dependency added on {}",
            string_list(&event.body, "depends_on").join(", ")
        ),
        TASK_STARTED => "task started".to_string(),
        TASK_NOTED => format!("note: {}", text("text")),
        TASK_BLOCKED => format!("task blocked: {}", text("reason")),
        TASK_COMPLETED => {
            let forced = if event.body.get("forced").and_then(Value::as_bool) == Some(true) {
                " (forced)"
            } else {
                ""
            };
            format!("task done{forced}: {}", text("summary"))
        }
        TASK_REOPENED => match event.body_str("reason") {
            Some(_) => format!("task reopened: {}", text("reason")),
            None => "task reopened".to_string(),
        },
        TASK_CANCELLED => match event.body_str("reason") {
            Some(_) => format!("task cancelled: {}", text("reason")),
            None => "task cancelled".to_string(),
        },
        TASK_UPDATED => {
            let fields: Vec<&str> = event
                .body
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            format!("task updated: {}", fields.join(", "))
        }
        TASK_CLAIMED => format!(
            "claimed by {} until {}",
            text("holder"),
            minute(event.body_str("expires"))
        ),
        TASK_CLAIM_RENEWED => format!("claim renewed until {}", minute(event.body_str("expires"))),
        TASK_RELEASED => format!("claim released by {}", text("holder")),
        INSIGHT_ADDED => format!("insight: {}", text("text")),
        INSIGHT_PROMOTED => "insight promoted to knowledge".to_string(),
        DECISION_REQUESTED => format!("decision requested: {}", text("question")),
        DECISION_MADE => format!("decided: {}", text("choice")),
        SESSION_STARTED => match event.body_str("title") {
            Some(_) => format!("session started: {}", text("title")),
            None => "session started".to_string(),
        },
        SESSION_RESUMED => "session resumed".to_string(),
        SESSION_ENDED => {
            let how = if event.body.get("abandoned").and_then(Value::as_bool) == Some(true) {
                "session abandoned"
            } else {
                "session ended"
            };
            match event.body_str("summary") {
                Some(_) => format!("{how}: {}", text("summary")),
                None => how.to_string(),
            }
        }
        BRANCH_LINKED => format!("branch linked: {}", text("branch")),
        COMMIT_LINKED => format!(
            "commit {} on {}",
            short_hex(event.body_str("commit")),
            text("branch")
        ),
        REVIEW_REQUESTED => "review requested".to_string(),
        REVIEW_APPROVED => format!("approved at {}", short_hex(event.body_str("commit"))),
        REVIEW_REJECTED => format!(
            "rejected at {}: {}",
            short_hex(event.body_str("commit")),
            text("reason")
        ),
        MERGE_RECORDED => format!(
            "merged {} into {} ({})",
            text("branch"),
            text("into"),
            short_hex(event.body_str("merge_commit"))
        ),
        AGENT_SPAWNED => format!("agent spawned ({}): {}", text("role"), text("mission")),
        AGENT_EXITED => {
            let how = match (
                event.body.get("status").and_then(Value::as_i64),
                event.body_str("signal"),
            ) {
                (_, Some(signal)) => format!(" ({signal})"),
                (Some(code), None) => format!(" (status {code})"),
                (None, None) => String::new(),
            };
            let summary = match event.body_str("summary") {
                Some(_) => format!(": {}", text("summary")),
                None => String::new(),
            };
            let attempts = match event.body.get("attempts").and_then(Value::as_u64) {
                Some(n) if n > 1 => format!(" after {n} attempts"),
                _ => String::new(),
            };
            format!("agent exited: {}{how}{attempts}{summary}", text("outcome"))
        }
        AGENT_HEARTBEAT => "heartbeat".to_string(),
        AGENT_ATTEMPTED => {
            let how = match (
                event.body.get("status").and_then(Value::as_i64),
                event.body_str("signal"),
            ) {
                (_, Some(signal)) => format!(" ({signal})"),
                (Some(code), None) => format!(" (status {code})"),
                (None, None) => String::new(),
            };
            format!(
                "attempt {} {}{how}: {}",
                event
                    .body
                    .get("attempt")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                text("outcome"),
                one_line(&string_list(&event.body, "command").join(" "), 72)
            )
        }
        MEMORY_COMPACTED => format!(
            "memory before {} summarised: {}",
            minute(event.body_str("before")),
            text("summary")
        ),
        CHECK_RECORDED => {
            let rule = event.body.get("rule").and_then(Value::as_object);
            let what = rule
                .and_then(|r| r.values().next())
                .and_then(Value::as_str)
                .map(|t| one_line(t, 60))
                .unwrap_or_else(|| "?".into());
            let how = match event.body.get("passed").and_then(Value::as_bool) {
                Some(true) => "passed",
                _ => "failed",
            };
            format!(
                "check {how}: {what} at {}",
                short_hex(event.body_str("commit"))
            )
        }
        other => format!("{other} (unknown to this version)"),
    }
}

/// A stored time to the minute, for display (as stored if it is not a time).
fn minute(time: Option<&str>) -> String {
    let time = time.unwrap_or("?");
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| one_line(time, 40))
}

/// The first 10 digits of a commit id, for display.
fn short_hex(hex: Option<&str>) -> String {
    hex.map_or("?", super::short_hex).to_string()
}

/// A list of strings from a body field; anything else is ignored.
pub fn string_list(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
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

/// The JSON type a body field must have.
#[derive(Debug, Clone, Copy)]
enum Field {
    Text,
    Texts,
    Flag,
    Count,
    /// A whole number, or `null` when there is none (an exit status after a signal).
    CountOrNull,
    /// An RFC 3339 time.
    Time,
    /// A list of validation rules: `{"command": "…"}` or `{"item": "…"}`.
    Rules,
    /// One validation rule.
    Rule,
}

/// One body field: name, type, required.
type FieldRule = (&'static str, Field, bool);

/// Body fields per kind. Extra fields are allowed (newer writers).
const SCHEMA: &[(&str, &[FieldRule])] = &[
    (WRITER_REGISTERED, &[("signing_key", Field::Text, true)]),
    (
        OBJECTIVE_CREATED,
        &[
            ("title", Field::Text, true),
            ("description", Field::Text, false),
            ("budget_micros", Field::Count, false),
            ("plan", Field::Text, false),
        ],
    ),
    (
        OBJECTIVE_COMPLETED,
        &[
            ("outcome", Field::Text, false),
            ("forced", Field::Flag, false),
        ],
    ),
    (
        OBJECTIVE_BUDGET_SET,
        &[("budget_micros", Field::Count, true)],
    ),
    (
        TASK_CREATED,
        &[
            ("title", Field::Text, true),
            ("priority", Field::Count, true),
            ("depends_on", Field::Texts, true),
            ("description", Field::Text, false),
            ("objective", Field::Text, false),
            ("estimate_minutes", Field::Count, false),
            ("role", Field::Text, false),
            ("validation", Field::Rules, false),
            ("stage", Field::Text, false),
            ("plan_key", Field::Text, false),
        ],
    ),
    (TASK_DEPENDENCY_ADDED, &[("depends_on", Field::Texts, true)]),
    (
        TASK_STARTED,
        &[
            ("worktree", Field::Text, false),
            ("agent", Field::Text, false),
            ("after", Field::Text, false),
        ],
    ),
    (TASK_NOTED, &[("text", Field::Text, true)]),
    (
        TASK_BLOCKED,
        &[("reason", Field::Text, true), ("after", Field::Text, false)],
    ),
    (
        TASK_COMPLETED,
        &[
            ("forced", Field::Flag, true),
            ("overridden", Field::Texts, false),
            ("summary", Field::Text, false),
            ("after", Field::Text, false),
        ],
    ),
    (
        TASK_REOPENED,
        &[
            ("reason", Field::Text, false),
            ("after", Field::Text, false),
        ],
    ),
    (
        TASK_CANCELLED,
        &[
            ("reason", Field::Text, false),
            ("after", Field::Text, false),
        ],
    ),
    (
        TASK_UPDATED,
        &[
            ("title", Field::Text, false),
            ("description", Field::Text, false),
            ("priority", Field::Count, false),
            ("estimate_minutes", Field::Count, false),
            ("role", Field::Text, false),
            ("validation", Field::Rules, false),
            ("depends_on", Field::Texts, false),
            ("stage", Field::Text, false),
        ],
    ),
    (
        TASK_CLAIMED,
        &[
            ("holder", Field::Text, true),
            ("expires", Field::Time, true),
            ("epoch", Field::Count, true),
        ],
    ),
    (
        TASK_CLAIM_RENEWED,
        &[
            ("holder", Field::Text, true),
            ("expires", Field::Time, true),
            ("epoch", Field::Count, true),
        ],
    ),
    (
        TASK_RELEASED,
        &[("holder", Field::Text, true), ("epoch", Field::Count, true)],
    ),
    (
        INSIGHT_ADDED,
        &[
            ("text", Field::Text, true),
            ("tags", Field::Texts, true),
            ("knowledge", Field::Flag, true),
            ("task", Field::Text, false),
        ],
    ),
    (INSIGHT_PROMOTED, &[]),
    (
        DECISION_REQUESTED,
        &[
            ("question", Field::Text, true),
            ("options", Field::Texts, true),
            ("task", Field::Text, false),
        ],
    ),
    (
        DECISION_MADE,
        &[
            ("choice", Field::Text, true),
            ("rationale", Field::Text, true),
        ],
    ),
    (
        SESSION_STARTED,
        &[
            ("worktree", Field::Text, true),
            ("title", Field::Text, false),
            ("continues", Field::Text, false),
            ("harness_session", Field::Text, false),
        ],
    ),
    (SESSION_RESUMED, &[("worktree", Field::Text, false)]),
    (
        SESSION_ENDED,
        &[
            ("abandoned", Field::Flag, true),
            ("summary", Field::Text, false),
            ("model", Field::Text, false),
            ("tokens", Field::Count, false),
            ("cost_micros", Field::Count, false),
        ],
    ),
    (BRANCH_LINKED, &[("branch", Field::Text, true)]),
    (
        COMMIT_LINKED,
        &[
            ("commit", Field::Text, true),
            ("branch", Field::Text, false),
            ("author", Field::Text, false),
        ],
    ),
    (REVIEW_REQUESTED, &[("commit", Field::Text, false)]),
    (REVIEW_APPROVED, &[("commit", Field::Text, true)]),
    (
        REVIEW_REJECTED,
        &[
            ("commit", Field::Text, false),
            ("reason", Field::Text, true),
        ],
    ),
    (
        MERGE_RECORDED,
        &[
            ("branch", Field::Text, true),
            ("into", Field::Text, true),
            ("merge_commit", Field::Text, true),
        ],
    ),
    (
        AGENT_SPAWNED,
        &[
            ("role", Field::Text, true),
            ("mission", Field::Text, true),
            ("task", Field::Text, false),
            ("worktree", Field::Text, false),
            ("branch", Field::Text, false),
            ("command", Field::Texts, false),
            ("retry", Field::Count, false),
            ("fallback", Field::Texts, false),
            ("source_id", Field::Text, false),
        ],
    ),
    (
        AGENT_EXITED,
        &[
            ("status", Field::CountOrNull, true),
            ("outcome", Field::Text, true),
            ("duration_ms", Field::Count, true),
            ("signal", Field::Text, false),
            ("summary", Field::Text, false),
            ("model", Field::Text, false),
            ("tokens", Field::Count, false),
            ("cost_micros", Field::Count, false),
            ("attempts", Field::Count, false),
        ],
    ),
    (AGENT_HEARTBEAT, &[]),
    (
        AGENT_ATTEMPTED,
        &[
            ("attempt", Field::Count, true),
            ("command", Field::Texts, true),
            ("status", Field::CountOrNull, true),
            ("outcome", Field::Text, true),
            ("duration_ms", Field::Count, true),
            ("signal", Field::Text, false),
            ("summary", Field::Text, false),
        ],
    ),
    (
        MEMORY_COMPACTED,
        &[
            ("before", Field::Time, true),
            ("summary", Field::Text, true),
            ("events", Field::Count, true),
            ("from_event", Field::Text, true),
            ("to_event", Field::Text, true),
        ],
    ),
    (
        CHECK_RECORDED,
        &[
            ("rule", Field::Rule, true),
            ("passed", Field::Flag, true),
            ("commit", Field::Text, true),
            ("duration_ms", Field::Count, false),
            ("output_digest", Field::Text, false),
            ("output_tail", Field::Text, false),
            ("exit_status", Field::CountOrNull, false),
        ],
    ),
];

/// The body fields that hold a hash (a commit id or an event id), per kind.
const HASH_FIELDS: &[(&str, &[&str])] = &[
    (COMMIT_LINKED, &["commit"]),
    (REVIEW_REQUESTED, &["commit"]),
    (REVIEW_APPROVED, &["commit"]),
    (REVIEW_REJECTED, &["commit"]),
    (MERGE_RECORDED, &["merge_commit"]),
    (CHECK_RECORDED, &["commit"]),
    (MEMORY_COMPACTED, &["from_event", "to_event"]),
];

/// Every kind this binary knows, with the names of its body fields: for tests that feed
/// hostile values into each field of each kind.
#[doc(hidden)]
pub fn known_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    SCHEMA
        .iter()
        .map(|(kind, fields)| (*kind, fields.iter().map(|(name, _, _)| *name).collect()))
        .collect()
}

/// Whether a body field of a kind holds a git or event hash (checked when an event is read).
#[doc(hidden)]
pub fn is_hash_field(kind: &str, field: &str) -> bool {
    HASH_FIELDS
        .iter()
        .any(|(k, fields)| *k == kind && fields.contains(&field))
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
    let Some((_, fields)) = HASH_FIELDS.iter().find(|(kind, _)| *kind == event.kind) else {
        return Ok(());
    };
    for field in fields.iter() {
        if let Some(text) = event.body_str(field)
            && !is_hash(text)
        {
            return Err(format!(
                "event {}: body.{field} is not a hash (4 to 64 hex digits)",
                super::short_hex(&event.id)
            ));
        }
    }
    Ok(())
}

/// Whether a value is one validation rule: `{"command": "…"}` or `{"item": "…"}`.
fn is_rule(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 1
            && matches!(
                o.keys().next().map(String::as_str),
                Some("command" | "item")
            )
            && o.values().all(Value::is_string)
    })
}

/// What is wrong with an event of a known kind: body fields missing or of the wrong type, or a
/// subject of the wrong entity kind. Unknown kinds are not checked.
pub fn schema_errors(event: &Event) -> Vec<String> {
    let Some((_, fields)) = SCHEMA.iter().find(|(kind, _)| *kind == event.kind) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let Some(body) = event.body.as_object() else {
        return vec!["body is not an object".into()];
    };
    for (name, field, required) in fields.iter() {
        let ok = match body.get(*name) {
            None => !required,
            Some(value) => match field {
                Field::Text => value.is_string(),
                Field::Texts => value
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_string)),
                Field::Flag => value.is_boolean(),
                Field::Count => value.is_u64(),
                Field::CountOrNull => value.is_u64() || value.is_null(),
                Field::Time => value
                    .as_str()
                    .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
                Field::Rules => value
                    .as_array()
                    .is_some_and(|rules| rules.iter().all(is_rule)),
                Field::Rule => is_rule(value),
            },
        };
        if !ok {
            let wanted = match field {
                Field::Text => "a string",
                Field::Texts => "a list of strings",
                Field::Flag => "true or false",
                Field::Count => "a whole number",
                Field::CountOrNull => "a whole number or null",
                Field::Time => "an RFC 3339 time",
                Field::Rules => "a list of {\"command\": …} or {\"item\": …}",
                Field::Rule => "{\"command\": …} or {\"item\": …}",
            };
            let what = if body.contains_key(*name) {
                "is not"
            } else {
                "is missing, expected"
            };
            errors.push(format!("body.{name} {what} {wanted}"));
        }
    }
    if event.kind == TASK_CREATED
        && body
            .get("priority")
            .and_then(Value::as_u64)
            .is_some_and(|p| p > 4)
    {
        errors.push("body.priority is above 4".into());
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
