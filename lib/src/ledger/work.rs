//! Objectives and tasks.

use super::error::{InputError, WorkError};
use super::{Error, Ledger, Loaded, optional_text, resolve, text};
use crate::event::body::{
    ObjectiveCompleted, ObjectiveCreated, TaskBlocked, TaskCancelled, TaskCompleted, TaskCreated,
    TaskDependencyAdded, TaskNoted, TaskReopened, TaskStarted, TaskUpdated,
};
use crate::event::{Body, EntityKind};
use crate::fold::state::State;
use crate::model::{Objective, ObjectiveStatus, Rule, Task, TaskStatus};

/// What `task edit` changes (None: left as it is).
#[derive(Debug, Default, Clone)]
pub struct TaskEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub estimate: Option<String>,
}

/// What `task add` is given.
#[derive(Debug, Default, Clone)]
pub struct TaskInput {
    pub title: String,
    pub description: Option<String>,
    pub objective: Option<String>,
    pub priority: Option<String>,
    pub estimate: Option<String>,
    pub depends_on: Vec<String>,
    /// Who should take it: developer, tester, reviewer, …
    pub role: Option<String>,
    /// What its work must satisfy before it is done.
    pub validation: Vec<Rule>,
}

/// `0`…`4` or `p0`…`p4` (`P` too), surrounding spaces ignored; nothing else.
pub fn parse_priority(input: &str) -> Result<u8, Error> {
    let trimmed = input.trim();
    let digit = trimmed
        .strip_prefix(['p', 'P'])
        .unwrap_or(trimmed)
        .as_bytes();
    match digit {
        [d @ b'0'..=b'4'] => Ok(d - b'0'),
        _ => Err(Error::Input(InputError::BadPriority(input.to_string()))),
    }
}

/// Minutes from `45` (minutes), `90m`, `2h` or `1h30m`: decimal digits, hours before minutes,
/// each unit at most once, any case, surrounding spaces ignored; more than zero in total.
pub fn parse_estimate(input: &str) -> Result<u64, Error> {
    minutes_of(input)
        .filter(|m| *m <= MAX_ESTIMATE_MINUTES)
        .ok_or_else(|| Error::Input(InputError::BadEstimate(input.to_string())))
}

pub use crate::model::MAX_ESTIMATE_MINUTES;

/// The minutes `parse_estimate` reads, before the bound.
fn minutes_of(input: &str) -> Option<u64> {
    let s = input.trim().to_ascii_lowercase();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().ok().filter(|m| *m > 0);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    // The units still allowed: hours only before minutes, each once.
    let mut units: &[char] = &['h', 'm'];
    for c in s.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' if !number.is_empty() && units.contains(&c) => {
                let n: u64 = number.parse().ok()?;
                let factor = if c == 'h' { 60 } else { 1 };
                total = n.checked_mul(factor).and_then(|m| total.checked_add(m))?;
                number.clear();
                units = if c == 'h' { &['m'] } else { &[] };
            }
            _ => return None,
        }
    }
    if !number.is_empty() || units.len() == 2 || total == 0 {
        return None;
    }
    Some(total)
}

impl Ledger {
    pub fn objective_add(
        &self,
        title: &str,
        description: Option<&str>,
        budget_micros: Option<u64>,
    ) -> Result<(Loaded, Objective), Error> {
        let title = text("title", title)?;
        let description = optional_text("description", description)?;
        let (loaded, id) = self.record(|_, batch| {
            let id = batch.new_id(EntityKind::Objective, &title);
            let body = ObjectiveCreated {
                title: title.clone(),
                description: description.clone(),
                budget_micros,
                plan: None,
                source_id: None,
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Objective, id, |s, id| s.objectives.get(id))
    }

    pub fn objective_done(
        &self,
        input: &str,
        outcome: Option<&str>,
        force: bool,
    ) -> Result<(Loaded, Objective), Error> {
        let outcome = optional_text("outcome", outcome)?;
        let (loaded, id) = self.record(|state, batch| {
            let id = resolve(state, EntityKind::Objective, input)?;
            if state.objectives.get(&id).map(|o| o.status) == Some(ObjectiveStatus::Done) {
                return Err(Error::Work(WorkError::WrongState {
                    id: state.short(&id),
                    status: "done",
                    action: "completed again",
                }));
            }
            let (done, total) = state.objective_progress(&id);
            let open = total.saturating_sub(done);
            if open > 0 && !force {
                return Err(Error::Work(WorkError::OpenTasks {
                    id: state.short(&id),
                    open,
                }));
            }
            let body = ObjectiveCompleted {
                outcome: outcome.clone(),
                forced: (open > 0).then_some(true),
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Objective, id, |s, id| s.objectives.get(id))
    }

    /// Change a task's title, description, priority or estimate: a `task.updated` event with
    /// the fields that change (`blame` names it). Refused when nothing would change.
    pub fn task_edit(&self, input: &str, edit: &TaskEdit) -> Result<(Loaded, Task), Error> {
        let title = edit
            .title
            .as_deref()
            .map(|t| text("title", t))
            .transpose()?;
        let description = optional_text("description", edit.description.as_deref())?;
        let priority = edit.priority.as_deref().map(parse_priority).transpose()?;
        let estimate = edit.estimate.as_deref().map(parse_estimate).transpose()?;
        self.task_event(Some(input), |state, task| {
            let body = TaskUpdated {
                title: title.clone().filter(|t| *t != task.title),
                description: description
                    .clone()
                    .filter(|d| task.description.as_ref() != Some(d)),
                priority: priority.filter(|p| *p != task.priority),
                estimate_minutes: estimate.filter(|m| task.estimate_minutes != Some(*m)),
                ..TaskUpdated::default()
            };
            if body == TaskUpdated::default() {
                return Err(Error::Work(WorkError::NothingToChange(
                    state.short(&task.id),
                )));
            }
            Ok(Some(body.into()))
        })
    }

    pub fn task_add(&self, input: &TaskInput) -> Result<(Loaded, Task), Error> {
        let title = text("title", &input.title)?;
        let description = optional_text("description", input.description.as_deref())?;
        let priority = input
            .priority
            .as_deref()
            .map(parse_priority)
            .transpose()?
            .unwrap_or(2);
        let estimate = input.estimate.as_deref().map(parse_estimate).transpose()?;
        let role = optional_text("role", input.role.as_deref())?;
        let validation = input
            .validation
            .iter()
            .map(|rule| {
                let text = text("validation rule", rule.text())?;
                Ok(match rule {
                    Rule::Command(_) => Rule::Command(text),
                    Rule::Item(_) => Rule::Item(text),
                })
            })
            .collect::<Result<Vec<Rule>, Error>>()?;
        let (loaded, id) = self.record(|state, batch| {
            let objective = input
                .objective
                .as_deref()
                .map(|o| resolve(state, EntityKind::Objective, o))
                .transpose()?;
            let depends_on = resolve_all(state, &input.depends_on)?;
            let id = batch.new_id(EntityKind::Task, &title);
            let body = TaskCreated {
                title: title.clone(),
                priority,
                depends_on,
                description: description.clone(),
                objective,
                estimate_minutes: estimate,
                role: role.clone(),
                validation: (!validation.is_empty()).then(|| validation.clone()),
                ..TaskCreated::default()
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }

    /// Make a task depend on more tasks; a dependency that would close a cycle is refused
    /// with the cycle named.
    pub fn task_depend(&self, input: &str, deps: &[String]) -> Result<(Loaded, Task), Error> {
        self.task_event(Some(input), |state, task| {
            let depends_on = resolve_all(state, deps)?;
            if let Some(cycle) = state.dependency_cycle(&task.id, &depends_on) {
                return Err(Error::Work(WorkError::Cycle(
                    cycle.iter().map(|id| state.short(id)).collect(),
                )));
            }
            Ok(Some(TaskDependencyAdded { depends_on }.into()))
        })
    }

    /// Start a task and put it in focus for this worktree.
    pub fn task_start(&self, input: Option<&str>) -> Result<(Loaded, Task), Error> {
        let worktree = self.worktree().to_string_lossy().into_owned();
        let (loaded, task) = self.task_event(input, |state, task| {
            if task.status.is_closed() {
                return Err(wrong_state(state, task, "started"));
            }
            let now = crate::clock::now()?;
            if let Some(claim) = task.claims.held_by_other(self.actor(), self.writer(), now) {
                return Err(super::claims::claimed(state, &task.id, claim));
            }
            let started = TaskStarted {
                worktree: Some(worktree.clone()),
                agent: None,
                after: seen(task),
            };
            Ok(Some(started.into()))
        })?;
        // A hint for the commit hooks, which must not fold the whole ledger on every commit.
        // It names the task as its branch does, so trailers name it one way.
        let _ = std::fs::write(self.focus_hint_path(), loaded.state.short(&task.id));
        Ok((loaded, task))
    }

    /// Create the task's branch `task/<id>-<slug>` at HEAD, switch this worktree to it and
    /// link it. Returns the branch name.
    pub fn task_branch(&self, state: &State, task: &Task) -> Result<String, Error> {
        let branch = format!("task/{}-{}", state.short(&task.id), slug(&task.title));
        let status = std::process::Command::new("git")
            .args(["switch", "--quiet", "-c", &branch])
            .current_dir(self.worktree())
            .status()
            .map_err(Error::io("cannot run git"))?;
        if !status.success() {
            return Err(Error::Git(format!("git switch -c {branch}")));
        }
        self.link_branch(&branch, &task.id)?;
        Ok(branch)
    }

    pub fn task_note(&self, input: Option<&str>, note: &str) -> Result<(Loaded, Task), Error> {
        let note = text("note", note)?;
        self.task_event(input, |_, _| {
            Ok(Some(TaskNoted { text: note.clone() }.into()))
        })
    }

    pub fn task_block(&self, input: Option<&str>, reason: &str) -> Result<(Loaded, Task), Error> {
        let reason = text("reason", reason)?;
        self.task_event(input, |state, task| {
            if task.status.is_closed() {
                return Err(wrong_state(state, task, "blocked"));
            }
            let blocked = TaskBlocked {
                reason: reason.clone(),
                after: seen(task),
            };
            Ok(Some(blocked.into()))
        })
    }

    /// Complete a task after validating it (seed 004): a summary and recorded work are
    /// required; `force` closes anyway and records what was overridden.
    pub fn task_done(
        &self,
        input: Option<&str>,
        summary: Option<&str>,
        force: bool,
    ) -> Result<(Loaded, Task), Error> {
        let summary = optional_text("summary", summary)?;
        let (loaded, task) = self.task_event(input, |state, task| {
            if task.status.is_closed() {
                return Err(wrong_state(state, task, "completed"));
            }
            // Only a task with rules needs the tip: a repository without commits is fine.
            let tip = if task.validation.is_empty() {
                None
            } else {
                self.check_tip(task)
            };
            let reasons = close_validation(task, summary.is_some(), tip.as_deref());
            if !reasons.is_empty() && !force {
                return Err(Error::Work(WorkError::NotReadyToClose {
                    id: state.short(&task.id),
                    reasons,
                }));
            }
            let completed = TaskCompleted {
                forced: !reasons.is_empty(),
                overridden: (!reasons.is_empty()).then_some(reasons),
                summary: summary.clone(),
                after: seen(task),
                imported: None,
            };
            Ok(Some(completed.into()))
        })?;
        let hint = self.focus_hint_path();
        let short = loaded.state.short(&task.id);
        // (A hint written by an earlier version holds the full id.)
        let names_it = |focused: &str| focused == task.id || focused == short;
        if std::fs::read_to_string(&hint).is_ok_and(|focused| names_it(focused.trim())) {
            let _ = std::fs::remove_file(hint);
        }
        Ok((loaded, task))
    }

    /// Cancel a task that is not closed: it stays in the ledger, out of every queue.
    pub fn task_cancel(
        &self,
        input: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(Loaded, Task), Error> {
        let cancelled = |reason, after| TaskCancelled { reason, after }.into();
        self.status_change_with_reason(input, reason, cancelled, "cancelled", |s| !s.is_closed())
    }

    pub fn task_reopen(
        &self,
        input: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(Loaded, Task), Error> {
        let reopened = |reason, after| TaskReopened { reason, after }.into();
        self.status_change_with_reason(input, reason, reopened, "reopened", |s| {
            matches!(
                s,
                TaskStatus::Done | TaskStatus::Blocked | TaskStatus::Cancelled
            )
        })
    }

    /// A status change with an optional reason, allowed from the statuses `allowed` accepts.
    fn status_change_with_reason(
        &self,
        input: Option<&str>,
        reason: Option<&str>,
        body: impl Fn(Option<String>, Option<String>) -> Body,
        action: &'static str,
        allowed: impl Fn(TaskStatus) -> bool,
    ) -> Result<(Loaded, Task), Error> {
        let reason = optional_text("reason", reason)?;
        self.task_event(input, |state, task| {
            if !allowed(task.status) {
                return Err(wrong_state(state, task, action));
            }
            Ok(Some(body(reason.clone(), seen(task))))
        })
    }

    /// Resolve a task (by id, or the focus when `input` is `None`) in the current state.
    pub fn find_task(&self, state: &State, input: Option<&str>) -> Result<String, Error> {
        match input {
            Some(input) => resolve(state, EntityKind::Task, input),
            // An agent spawned for a task works on it without putting it in focus.
            None => state
                .focus(self.writer(), self.worktree())
                .map(|t| t.id.clone())
                .or_else(|| self.agent_task(state).map(str::to_string))
                .ok_or(Error::Work(WorkError::NoFocus)),
        }
    }

    /// Append one event about one task, drafted by `draft` from the task's current state.
    fn task_event(
        &self,
        input: Option<&str>,
        mut draft: impl FnMut(&State, &Task) -> Result<Option<Body>, Error>,
    ) -> Result<(Loaded, Task), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_task(state, input)?;
            let task = state.tasks.get(&id).ok_or_else(|| {
                Error::Input(InputError::UnknownId {
                    kind: EntityKind::Task,
                    input: id.clone(),
                })
            })?;
            if let Some(body) = draft(state, task)? {
                batch.push(&id, body);
            }
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }
}

/// Why a task may not be closed yet (seed 004's validation); empty when it may. `tip` is the
/// commit its validation rules must pass at (see `Ledger::check_tip`).
pub fn close_validation(task: &Task, has_summary: bool, tip: Option<&str>) -> Vec<String> {
    let mut reasons = Vec::new();
    if !has_summary {
        reasons.push("no summary given".to_string());
    }
    if task.notes.is_empty() {
        reasons.push("no work recorded (no notes)".to_string());
    }
    if task.started_by.is_empty() {
        reasons.push(
            "never started, so its time is unknown (git ledger task start, or spawn an agent on it)"
                .to_string(),
        );
    }
    reasons.extend(task.unpassed_checks(tip));
    reasons
}

/// A branch-name slug of a title: lowercase words joined by dashes, at most 32 characters.
pub(super) fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = String::new();
    for word in words {
        if slug.len() + word.len() + 1 > 32 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() { "work".into() } else { slug }
}

/// Record in a status change which status event its writer saw last, so a change made
/// without seeing a concurrent one is detected by every reader ("Concurrent edits" in
/// `ledger-format.md`).
pub(super) fn seen(task: &Task) -> Option<String> {
    task.status_event.as_ref().map(|seen| seen.id.clone())
}

fn wrong_state(state: &State, task: &Task, action: &'static str) -> Error {
    Error::Work(WorkError::WrongState {
        id: state.short(&task.id),
        status: task.status.label(),
        action,
    })
}

fn resolve_all(state: &State, inputs: &[String]) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for input in inputs {
        let id = resolve(state, EntityKind::Task, input)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates() {
        assert_eq!(parse_estimate("90m").ok(), Some(90));
        assert_eq!(parse_estimate("2h").ok(), Some(120));
        assert_eq!(parse_estimate("1h30m").ok(), Some(90));
        assert_eq!(parse_estimate("45").ok(), Some(45));
        assert_eq!(parse_estimate(" 1H30M ").ok(), Some(90));
        for bad in [
            "",
            "h",
            "2x",
            "1.5h",
            "0m",
            "-3h",
            "3h2",
            "99999999999999999999h",
            "+45",
            "30m1h",
            "1h1h",
            "1h 30m",
        ] {
            assert!(parse_estimate(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn priorities() {
        assert_eq!(parse_priority("0").ok(), Some(0));
        assert_eq!(parse_priority("P4").ok(), Some(4));
        assert!(parse_priority("5").is_err());
        assert!(parse_priority("-1").is_err());
        assert!(parse_priority("high").is_err());
        for bad in ["pp2", "+2", "02", "p", ""] {
            assert!(parse_priority(bad).is_err(), "{bad} should be refused");
        }
    }
}
