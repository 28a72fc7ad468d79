//! `blame`: for each field of an entity, the event that last set it, like `git blame` for
//! ledger state.

use crate::event::Event;
use crate::event::kind;
use crate::fold::state::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Who set one field, when, and with which event.
#[derive(Debug, Clone, Serialize)]
pub struct Blame {
    pub field: &'static str,
    pub event: String,
    pub kind: String,
    pub time: DateTime<Utc>,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// The fields an event sets on its subject (the body decides for optional ones).
pub fn fields_set(event: &Event) -> Vec<&'static str> {
    let body = event.body.to_value();
    let has = |key: &str| body.get(key).is_some();
    let mut fields: Vec<&'static str> = match event.kind.as_str() {
        kind::OBJECTIVE_CREATED => vec!["title", "status"],
        kind::OBJECTIVE_COMPLETED => vec!["status", "outcome"],
        kind::TASK_CREATED => vec!["title", "status", "priority", "depends_on"],
        kind::TASK_DEPENDENCY_ADDED => vec!["depends_on"],
        kind::TASK_STARTED | kind::TASK_REOPENED => vec!["status"],
        kind::TASK_BLOCKED => vec!["status", "block_reason"],
        kind::TASK_COMPLETED => vec!["status", "summary", "forced"],
        kind::TASK_NOTED => vec!["notes"],
        kind::BRANCH_LINKED => vec!["branches"],
        kind::COMMIT_LINKED => vec!["commits"],
        kind::REVIEW_REQUESTED | kind::REVIEW_APPROVED | kind::REVIEW_REJECTED => vec!["review"],
        kind::MERGE_RECORDED => vec!["merges"],
        kind::CHECK_RECORDED => vec!["checks"],
        kind::TASK_CLAIMED | kind::TASK_CLAIM_RENEWED | kind::TASK_RELEASED => vec!["claims"],
        kind::DECISION_REQUESTED => vec!["question", "options", "status"],
        kind::DECISION_MADE => vec!["status", "choice", "rationale"],
        kind::INSIGHT_ADDED => vec!["text", "tags", "knowledge"],
        kind::INSIGHT_PROMOTED => vec!["knowledge"],
        // An edit (or a plan applied again) sets the fields its body holds.
        kind::TASK_UPDATED => [
            "title",
            "description",
            "priority",
            "estimate_minutes",
            "role",
            "validation",
            "depends_on",
            "stage",
        ]
        .into_iter()
        .filter(|field| has(field))
        .collect(),
        _ => Vec::new(),
    };
    let creates = matches!(
        event.kind.as_str(),
        kind::OBJECTIVE_CREATED
            | kind::TASK_CREATED
            | kind::INSIGHT_ADDED
            | kind::DECISION_REQUESTED
    );
    if creates {
        fields.extend(
            ["description", "objective", "estimate_minutes", "task"]
                .into_iter()
                .filter(|field| has(field)),
        );
    }
    fields
}

/// For each field of entity `id`, the last event that gave it a value, in the order fields
/// were first set. Needs a state holding every event.
pub fn blame(state: &State, id: &str) -> Vec<Blame> {
    let mut blamed: Vec<Blame> = Vec::new();
    for event in state.events.iter().filter(|e| about(state, e, id)) {
        for field in fields_set(event) {
            let entry = Blame {
                field,
                event: event.id.clone(),
                kind: event.kind.clone(),
                time: event.timestamp(),
                actor: event.actor.clone(),
                session: event.session.clone(),
            };
            match blamed.iter_mut().find(|b| b.field == field) {
                Some(existing) => *existing = entry,
                None => blamed.push(entry),
            }
        }
    }
    blamed
}

/// Whether an event is about `id`; hooks may name a task by a prefix of its id.
fn about(state: &State, event: &Event, id: &str) -> bool {
    match event.subject.as_deref() {
        Some(subject) if subject == id => true,
        Some(subject)
            if matches!(
                event.kind.as_str(),
                kind::BRANCH_LINKED | kind::COMMIT_LINKED | kind::MERGE_RECORDED
            ) =>
        {
            state
                .resolve(crate::event::EntityKind::Task, subject)
                .ok()
                .as_deref()
                == Some(id)
        }
        _ => false,
    }
}
