//! The JSON shapes of entities as commands return them, shared by `--json` and the MCP
//! server, so both show the same data for the same state.

use super::health;
use super::memory::action;
use crate::fold::state::State;
use crate::model::{Agent, Task};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A task with the figures computed from its history: short id, time worked, unmet
/// dependencies.
pub fn task(state: &State, task: &Task, now: DateTime<Utc>) -> Value {
    let mut data = json!(task);
    data["short_id"] = json!(state.short(&task.id));
    data["actual_minutes"] = json!(task.actual_minutes(now));
    data["unmet_dependencies"] = json!(state.unmet_dependencies(task));
    data
}

/// A task as `task show` returns it: [`task`] and its history, oldest first.
pub fn task_detail(state: &State, task: &Task, now: DateTime<Utc>) -> Value {
    let mut data = self::task(state, task, now);
    let history: Vec<_> = task
        .history
        .iter()
        .filter_map(|&i| state.events.get(i))
        .map(|e| action(state, e))
        .collect();
    data["history"] = json!(history);
    data
}

/// An agent with its short id and whether it is still running.
pub fn agent(state: &State, agent: &Agent) -> Value {
    let mut data = json!(agent);
    data["short_id"] = json!(state.short(&agent.id));
    data["running"] = json!(agent.is_running());
    data
}

/// An agent as `agent list` shows it: [`agent`] and, while it runs, how long it has been
/// silent and whether that makes it stalled (see [`health::pulse`]).
pub fn listed_agent(
    state: &State,
    agent: &Agent,
    now: DateTime<Utc>,
    stall_after_minutes: u64,
) -> Value {
    let mut data = self::agent(state, agent);
    if let Some(pulse) = health::pulse(agent, now, stall_after_minutes) {
        data["silent_minutes"] = json!(pulse.silent_minutes);
        data["stalled"] = json!(pulse.stalled);
    }
    data
}
