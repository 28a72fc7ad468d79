//! The event timeline behind `replay`: which events belong to a session, objective, task or
//! agent, within a range of the total order.

use super::state::State;
use crate::event::Event;

/// What to keep. Ids are full entity ids; the range is of positions in the total order.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub session: Option<String>,
    pub objective: Option<String>,
    pub task: Option<String>,
    /// An agent id; matches the actor `agent:<id>`.
    pub agent: Option<String>,
    pub from: usize,
    pub to: Option<usize>,
}

impl Filter {
    pub fn select<'a>(&self, state: &'a State) -> Vec<&'a Event> {
        let to = self
            .to
            .unwrap_or(state.events.len())
            .min(state.events.len());
        let from = self.from.min(to);
        state.events[from..to]
            .iter()
            .filter(|e| self.matches(state, e))
            .collect()
    }

    /// Whether one event passes every part of the filter but the range.
    pub fn matches(&self, state: &State, event: &Event) -> bool {
        if let Some(session) = &self.session
            && event.session.as_deref() != Some(session.as_str())
        {
            return false;
        }
        // An agent's events: those it wrote, and its own spawn and end.
        if let Some(agent) = &self.agent
            && event.actor != format!("agent:{agent}")
            && event.subject.as_deref() != Some(agent.as_str())
        {
            return false;
        }
        if let Some(task) = &self.task
            && !touches_task(event, task)
        {
            return false;
        }
        if let Some(objective) = &self.objective
            && !touches_objective(state, event, objective)
        {
            return false;
        }
        true
    }
}

fn touches_task(event: &Event, task: &str) -> bool {
    // Hooks name a task as its branch or trailer does, possibly abbreviated.
    let names = |id: Option<&str>| {
        id.is_some_and(|id| id == task || (id.len() >= 6 && task.starts_with(id)))
    };
    names(event.subject.as_deref()) || names(event.body.task())
}

fn touches_objective(state: &State, event: &Event, objective: &str) -> bool {
    let of_objective = |task: Option<&str>| {
        task.and_then(|t| state.tasks.get(t))
            .is_some_and(|t| t.objective.as_deref() == Some(objective))
    };
    event.subject.as_deref() == Some(objective)
        || event.body.objective() == Some(objective)
        || of_objective(event.subject.as_deref())
        || of_objective(event.body.task())
}
