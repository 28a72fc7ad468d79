//! The fold of one task's events: what each kind changes in the [`Task`]. The state's own
//! bookkeeping (which task is in focus where, the conflicts list) stays in
//! [`super::state`], which calls these.

use super::state::{Applied, Conflict};
use crate::event::body::{TaskStarted, TaskUpdated};
use crate::event::{Body, Event};
use crate::model::{
    Approval, CheckResult, CommitLink, MAX_ESTIMATE_MINUTES, MergeLink, Note, Review, StatusEvent,
    Task, TaskStatus,
};
use chrono::{DateTime, Utc};

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
    let after = event.body.after()?;
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
pub(crate) fn start(
    task: &mut Task,
    started: &TaskStarted,
    event: &Event,
    time: DateTime<Utc>,
) -> Option<String> {
    // (Also a paused task in progress: started again, its clock runs again.)
    if task.in_progress_since.is_none() {
        task.in_progress_since = Some(time);
    }
    // An agent's spawn starts its task for it: the agent is who works on it.
    let by = match &started.agent {
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
    started.worktree.clone()
}

/// The events that stop a task's clock: blocked, completed, cancelled, reopened.
pub(crate) fn close(task: &mut Task, event: &Event, time: DateTime<Utc>) {
    task.stop_clock(time);
    task.block_reason = None;
    match &event.body {
        Body::TaskBlocked(b) => {
            task.status = TaskStatus::Blocked;
            task.block_reason = Some(b.reason.clone());
        }
        Body::TaskCompleted(b) => {
            task.claims.apply(event, time);
            task.status = TaskStatus::Done;
            task.summary = b.summary.clone();
            task.completed = Some(time);
            task.forced_over = b.forced.then(|| b.overridden.clone().unwrap_or_default());
        }
        Body::TaskCancelled(_) => {
            task.claims.apply(event, time);
            task.status = TaskStatus::Cancelled;
        }
        Body::TaskReopened(_) => {
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
    match &event.body {
        Body::TaskDependencyAdded(b) => {
            for dep in &b.depends_on {
                if !task.depends_on.contains(dep) {
                    task.depends_on.push(dep.clone());
                }
            }
        }
        Body::TaskNoted(b) => task.notes.push(Note {
            time,
            actor: event.actor.clone(),
            text: b.text.clone(),
        }),
        Body::TaskClaimed(_) | Body::TaskClaimRenewed(_) | Body::TaskReleased(_) => {
            task.claims.apply(event, time)
        }
        Body::TaskUpdated(b) => update(task, b),
        Body::BranchLinked(b) if !task.branches.contains(&b.branch) => {
            task.branches.push(b.branch.clone());
        }
        Body::CommitLinked(b) if !task.commits.iter().any(|c| c.commit == b.commit) => {
            task.commits.push(CommitLink {
                commit: b.commit.clone(),
                branch: b.branch.clone(),
                author: b.author.clone(),
                time,
            });
        }
        Body::MergeRecorded(b) => task.merges.push(MergeLink {
            branch: b.branch.clone(),
            into: b.into.clone(),
            merge_commit: b.merge_commit.clone(),
            time,
        }),
        Body::ReviewRequested(_) | Body::ReviewApproved(_) | Body::ReviewRejected(_) => {
            review(task, event)
        }
        Body::CheckRecorded(b) => {
            let result = CheckResult {
                rule: b.rule.clone(),
                commit: b.commit.clone(),
                passed: b.passed,
                time,
                actor: event.actor.clone(),
                duration_ms: b.duration_ms,
                exit_status: b.exit_status.flatten(),
                output_digest: b.output_digest.clone(),
            };
            check(task, result)
        }
        _ => {}
    }
    Applied::Yes
}

/// `task.updated`: each field it carries replaces the task's.
fn update(task: &mut Task, b: &TaskUpdated) {
    if let Some(title) = &b.title {
        task.title = title.clone();
    }
    if let Some(description) = &b.description {
        task.description = Some(description.clone());
    }
    if let Some(priority) = b.priority {
        task.priority = priority;
    }
    if let Some(minutes) = b.estimate_minutes.filter(|m| *m <= MAX_ESTIMATE_MINUTES) {
        task.estimate_minutes = Some(minutes);
    }
    if let Some(role) = &b.role {
        task.role = Some(role.clone());
    }
    if let Some(validation) = &b.validation {
        task.validation = validation.clone();
    }
    if let Some(depends_on) = &b.depends_on {
        task.depends_on = depends_on.clone();
    }
    if let Some(stage) = &b.stage {
        task.stage = Some(stage.clone());
    }
}

/// A review requested, approved or rejected.
fn review(task: &mut Task, event: &Event) {
    task.review = match &event.body {
        Body::ReviewApproved(b) => {
            let commit = b.commit.clone();
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
        Body::ReviewRejected(b) => {
            task.approvals.clear();
            Review::Rejected {
                commit: b.commit.clone(),
                reason: b.reason.clone(),
                by: event.actor.clone(),
            }
        }
        Body::ReviewRequested(b) => {
            task.approvals.clear();
            Review::Requested {
                commit: b.commit.clone(),
            }
        }
        _ => return,
    }
}

/// `check.recorded`: the latest result per (rule, commit) wins, so a rerun replaces the
/// earlier one.
fn check(task: &mut Task, result: CheckResult) {
    match task
        .checks
        .iter_mut()
        .find(|c| c.rule == result.rule && c.commit == result.commit)
    {
        Some(earlier) => *earlier = result,
        None => task.checks.push(result),
    }
}
