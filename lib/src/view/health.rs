//! Agent health: which running agents have gone silent for longer than the threshold.
//!
//! An agent's last sign of life is the newest event it wrote, heartbeat or restart (see
//! [`Agent::last_seen`]). Pure: the state, the time and the threshold in, the verdict out, so
//! `agent list`, `status` and the MCP server all judge alike.

use crate::fold::state::State;
use crate::model::Agent;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How long a running agent may stay silent before it counts as stalled, unless git config
/// `ledger.agents.stallAfter` says otherwise.
pub const DEFAULT_STALL_AFTER_MINUTES: u64 = 10;

/// How a running agent is doing at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pulse {
    /// Whole minutes since its last sign of life.
    pub silent_minutes: u64,
    /// Silent for longer than the threshold.
    pub stalled: bool,
}

/// A stalled agent, with the task it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Stall {
    pub agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(with = "crate::model::time")]
    pub last_seen: DateTime<Utc>,
    pub silent_minutes: u64,
}

/// The pulse of a running agent at `now`; `None` once it has exited.
pub fn pulse(agent: &Agent, now: DateTime<Utc>, stall_after_minutes: u64) -> Option<Pulse> {
    if !agent.is_running() {
        return None;
    }
    let silent_ms = (now - agent.last_seen()).num_milliseconds().max(0);
    let threshold_ms =
        i64::try_from(stall_after_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
    Some(Pulse {
        silent_minutes: u64::try_from(silent_ms / 60_000).unwrap_or(0),
        stalled: silent_ms > threshold_ms,
    })
}

/// The stalled agents at `now`, the longest silent first.
pub fn stalled(state: &State, now: DateTime<Utc>, stall_after_minutes: u64) -> Vec<Stall> {
    let mut stalled: Vec<Stall> = crate::cache::brief::open(&state.agents)
        .filter_map(|agent| {
            let pulse = pulse(agent, now, stall_after_minutes)?;
            pulse.stalled.then(|| Stall {
                agent: agent.id.clone(),
                task: agent.task.clone(),
                last_seen: agent.last_seen(),
                silent_minutes: pulse.silent_minutes,
            })
        })
        .collect();
    // Stable: agents silent equally long stay in spawn order.
    stalled.sort_by_key(|s| std::cmp::Reverse(s.silent_minutes));
    stalled
}

/// The agents as `agent list` shows them: the stalled ones (longest silent first), the other
/// running ones, then the finished ones, in spawn order within each group.
pub struct Roster<'a> {
    pub stalled: Vec<(&'a Agent, Stall)>,
    pub running: Vec<&'a Agent>,
    pub finished: Vec<&'a Agent>,
}

pub fn roster(state: &State, now: DateTime<Utc>, stall_after_minutes: u64) -> Roster<'_> {
    let stalled: Vec<(&Agent, Stall)> = self::stalled(state, now, stall_after_minutes)
        .into_iter()
        .filter_map(|s| Some((state.agents.get(&s.agent)?, s)))
        .collect();
    let (running, finished): (Vec<&Agent>, Vec<&Agent>) = state
        .agents
        .iter()
        .filter(|a| !stalled.iter().any(|(s, _)| s.id == a.id))
        .partition(|a| a.is_running());
    Roster {
        stalled,
        running,
        finished,
    }
}

impl<'a> Roster<'a> {
    /// Every agent, in the roster's order.
    pub fn all(&self) -> impl Iterator<Item = &'a Agent> + '_ {
        self.stalled
            .iter()
            .map(|(a, _)| *a)
            .chain(self.running.iter().copied())
            .chain(self.finished.iter().copied())
    }

    /// `2 running (1 stalled), 3 finished`; the stalled part only when there are any.
    pub fn counts(&self) -> String {
        let stalled = match self.stalled.len() {
            0 => String::new(),
            n => format!(" ({n} stalled)"),
        };
        format!(
            "{} running{stalled}, {} finished",
            self.stalled.len() + self.running.len(),
            self.finished.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use serde_json::json;

    fn event(kind: &str, time: &str, actor: &str, subject: &str, hlc: u64) -> Event {
        Event::seal(
            kind,
            time.to_string(),
            hlc,
            "w",
            None,
            actor,
            Some(subject.to_string()),
            crate::event::Body::from_json(kind, json!({ "role": "dev", "mission": "m" })),
        )
    }

    fn at(time: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(time)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn silence_longer_than_the_threshold_is_a_stall() {
        let agent = "a-0123456789abcdef";
        let mut state = State::from_events(vec![event(
            "agent.spawned",
            "2026-01-05T09:00:00Z",
            "human:Ann",
            agent,
            1,
        )]);
        let quiet = |state: &State, time: &str| {
            pulse(state.agents.get(agent).expect("the agent"), at(time), 10)
        };
        assert_eq!(
            quiet(&state, "2026-01-05T09:10:00Z").map(|p| p.stalled),
            Some(false)
        );
        let late = quiet(&state, "2026-01-05T09:11:00Z");
        assert_eq!(
            late,
            Some(Pulse {
                silent_minutes: 11,
                stalled: true
            })
        );
        assert_eq!(stalled(&state, at("2026-01-05T09:11:00Z"), 10).len(), 1);
        // Anything it writes, by a prefix of its id, counts.
        state.apply(event(
            "task.noted",
            "2026-01-05T09:08:00Z",
            "agent:a-0123",
            "t-1",
            2,
        ));
        assert_eq!(
            quiet(&state, "2026-01-05T09:11:00Z").map(|p| p.silent_minutes),
            Some(3)
        );
        assert!(stalled(&state, at("2026-01-05T09:11:00Z"), 10).is_empty());
    }
}
