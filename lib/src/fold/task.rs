//! The fold of one task's events: what each kind changes in the [`Task`]. The state's own
//! bookkeeping (which task is in focus where, the conflicts list) stays in
//! [`super::state`], which calls these.

use super::state::{Applied, Conflict};
use crate::event::Event;
use crate::event::kind::{self, string_list};
use crate::model::{
    Approval, CheckResult, CommitLink, MAX_ESTIMATE_MINUTES, MergeLink, Note, Review, Rule,
    StatusEvent, Task, TaskStatus,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

fn text(event: &Event, key: &str) -> Option<String> {
    event.body_str(key).map(str::to_string)
}

/// Record `event` as the task's newest status change; a conflict when its writer had not
/// seen the one it replaces. A writer records the status event it saw last as `after`; a
/// different event in that place means it overrode a change it had not seen.
pub(crate) fn status_change(
    task: &mut Task,
    event: &Event,
    time: DateTime<Utc>,
) -> Option<Conflict> {
    let before = task.status_event.take();
    task.status_event = Some(StatusEvent::of(event));
    let after = event.body_str("after")?;
    (before.as_ref().map(|e| e.id.as_str()) != Some(after)).then(|| Conflict {
        task: task.id.clone(),
        event: event.id.clone(),
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        time,
        overrode: before.as_ref().map(|e| e.id.clone()),
        overrode_kind: before.as_ref().map(|e| e.kind.clone()),
        overrode_actor: before.map(|e| e.actor),
    })
}

/// `task.started`: in progress, its clock running, its starter one of its workers; the
/// worktree it is now in focus in, if the event names one.
pub(crate) fn start(task: &mut Task, event: &Event, time: DateTime<Utc>) -> Option<String> {
    // (Also a paused task in progress: started again, its clock runs again.)
    if task.in_progress_since.is_none() {
        task.in_progress_since = Some(time);
    }
    // An agent's spawn starts its task for it: the agent is who works on it.
    let by = match text(event, "agent") {
        Some(agent) => format!("agent:{agent}"),
        None => event.actor.clone(),
    };
    if !task.started_by.contains(&by) {
        task.started_by.push(by);
    }
    // A start ordered after a completion (from another clone) reopens the task.
    task.status = TaskStatus::InProgress;
    task.block_reason = None;
    task.completed = None;
    task.summary = None;
    task.forced_over = None;
    text(event, "worktree")
}

/// The events that stop a task's clock: blocked, completed, cancelled, reopened.
pub(crate) fn close(task: &mut Task, event: &Event, time: DateTime<Utc>) {
    task.stop_clock(time);
    task.block_reason = None;
    match event.kind.as_str() {
        kind::TASK_BLOCKED => {
            task.status = TaskStatus::Blocked;
            task.block_reason = text(event, "reason");
        }
        kind::TASK_COMPLETED => {
            task.claims.apply(event, time);
            task.status = TaskStatus::Done;
            task.summary = text(event, "summary");
            task.completed = Some(time);
            task.forced_over = (event.body.get("forced").and_then(Value::as_bool) == Some(true))
                .then(|| string_list(&event.body, "overridden"));
        }
        kind::TASK_CANCELLED => {
            task.claims.apply(event, time);
            task.status = TaskStatus::Cancelled;
        }
        kind::TASK_REOPENED => {
            task.status = TaskStatus::Open;
            task.completed = None;
            task.summary = None;
            task.forced_over = None;
        }
        _ => {}
    }
}

/// Every other kind about a task: its fields, notes, claims, links, reviews and checks.
pub(crate) fn apply(task: &mut Task, event: &Event, time: DateTime<Utc>) -> Applied {
    match event.kind.as_str() {
        kind::TASK_DEPENDENCY_ADDED => {
            for dep in string_list(&event.body, "depends_on") {
                if !task.depends_on.contains(&dep) {
                    task.depends_on.push(dep);
                }
            }
        }
        kind::TASK_NOTED => task.notes.push(Note {
            time,
            actor: event.actor.clone(),
            text: text(event, "text").unwrap_or_default(),
        }),
        kind::TASK_CLAIMED | kind::TASK_CLAIM_RENEWED | kind::TASK_RELEASED => {
            task.claims.apply(event, time)
        }
        kind::TASK_UPDATED => update(task, event),
        kind::BRANCH_LINKED => {
            if let Some(branch) = text(event, "branch")
                && !task.branches.contains(&branch)
            {
                task.branches.push(branch);
            }
        }
        kind::COMMIT_LINKED => {
            if let Some(commit) = text(event, "commit")
                && !task.commits.iter().any(|c| c.commit == commit)
            {
                task.commits.push(CommitLink {
                    commit,
                    branch: text(event, "branch"),
                    author: text(event, "author"),
                    time,
                });
            }
        }
        kind::MERGE_RECORDED => task.merges.push(MergeLink {
            branch: text(event, "branch").unwrap_or_default(),
            into: text(event, "into").unwrap_or_default(),
            merge_commit: text(event, "merge_commit").unwrap_or_default(),
            time,
        }),
        kind::REVIEW_REQUESTED | kind::REVIEW_APPROVED | kind::REVIEW_REJECTED => {
            review(task, event)
        }
        kind::CHECK_RECORDED => return check(task, event, time),
        _ => {}
    }
    Applied::Yes
}

/// `task.updated`: each field it carries replaces the task's.
fn update(task: &mut Task, event: &Event) {
    let body = &event.body;
    if let Some(title) = text(event, "title") {
        task.title = title;
    }
    if let Some(description) = text(event, "description") {
        task.description = Some(description);
    }
    if let Some(priority) = body.get("priority").and_then(Value::as_u64) {
        task.priority = priority.min(4) as u8;
    }
    if let Some(minutes) = body
        .get("estimate_minutes")
        .and_then(Value::as_u64)
        .filter(|m| *m <= MAX_ESTIMATE_MINUTES)
    {
        task.estimate_minutes = Some(minutes);
    }
    if let Some(role) = text(event, "role") {
        task.role = Some(role);
    }
    if body.get("validation").is_some() {
        task.validation = Rule::list(body);
    }
    if body.get("depends_on").is_some() {
        task.depends_on = string_list(body, "depends_on");
    }
    if let Some(stage) = text(event, "stage") {
        task.stage = Some(stage);
    }
}

/// A review requested, approved or rejected.
fn review(task: &mut Task, event: &Event) {
    task.review = match event.kind.as_str() {
        kind::REVIEW_APPROVED => {
            let commit = text(event, "commit").unwrap_or_default();
            // Approvals of the same commit add up (`ledger.gate.approvals`); one of another
            // commit starts over, and a reviewer's newest approval replaces theirs.
            task.approvals
                .retain(|a| a.commit == commit && a.by != event.actor);
            task.approvals.push(Approval {
                commit: commit.clone(),
                by: event.actor.clone(),
                event: event.id.clone(),
                writer: event.writer.clone(),
            });
            Review::Approved {
                commit,
                by: event.actor.clone(),
            }
        }
        kind::REVIEW_REJECTED => {
            task.approvals.clear();
            Review::Rejected {
                commit: text(event, "commit"),
                reason: text(event, "reason").unwrap_or_default(),
                by: event.actor.clone(),
            }
        }
        _ => {
            task.approvals.clear();
            Review::Requested {
                commit: text(event, "commit"),
            }
        }
    }
}

/// `check.recorded`: the latest result per (rule, commit) wins, so a rerun replaces the
/// earlier one. Without a readable rule and commit it is an orphan.
fn check(task: &mut Task, event: &Event, time: DateTime<Utc>) -> Applied {
    let rule = event
        .body
        .get("rule")
        .and_then(|r| serde_json::from_value::<Rule>(r.clone()).ok());
    let (Some(rule), Some(commit)) = (rule, text(event, "commit")) else {
        return Applied::Orphan;
    };
    let result = CheckResult {
        rule,
        commit,
        passed: event.body.get("passed").and_then(Value::as_bool) == Some(true),
        time,
        actor: event.actor.clone(),
        duration_ms: event.body.get("duration_ms").and_then(Value::as_u64),
        exit_status: event.body.get("exit_status").and_then(Value::as_i64),
        output_digest: text(event, "output_digest"),
    };
    match task
        .checks
        .iter_mut()
        .find(|c| c.rule == result.rule && c.commit == result.commit)
    {
        Some(earlier) => *earlier = result,
        None => task.checks.push(result),
    }
    Applied::Yes
}
