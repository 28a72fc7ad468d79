//! What a successful operation says, in a line (or a line and a view): the same words on the
//! command line and in an MCP tool's result, which adds no trailing newline.

use crate::fold::state::State;
use crate::model::{Agent, Decision, Insight, Objective, Session};
use crate::view::doc::Format;
use crate::view::memory::{
    WorkingMemory, agent_line, decision_line, insight_line, objective_line, session_line,
};
use chrono::{DateTime, Utc};

/// A session started, and the working memory it starts with.
pub fn session_started(
    state: &State,
    session: &Session,
    working: &WorkingMemory,
    now: DateTime<Utc>,
    format: Format,
) -> String {
    format!(
        "Started session {}\n\n{}",
        session_line(state, session),
        working.doc(state, now).render(format)
    )
}

pub fn session_ended(state: &State, session: &Session) -> String {
    format!("Ended session {}", session_line(state, session))
}

pub fn decision_requested(state: &State, decision: &Decision) -> String {
    format!("Requested: {}", decision_line(state, decision))
}

pub fn decision_made(state: &State, decision: &Decision) -> String {
    format!("Decided: {}", decision_line(state, decision))
}

pub fn insight_recorded(state: &State, insight: &Insight) -> String {
    let place = if insight.knowledge {
        " (knowledge base)"
    } else {
        ""
    };
    format!("Recorded{place}: {}", insight_line(state, insight))
}

pub fn objective_done(state: &State, objective: &Objective) -> String {
    format!("Done: {}", objective_line(state, objective))
}

pub fn agent_alive(state: &State, agent: &Agent) -> String {
    format!("Alive: {}", agent_line(state, agent))
}

pub fn agent_exited(state: &State, agent: &Agent) -> String {
    format!("Exited: {}", agent_line(state, agent))
}

/// Search results, one entity a line with where the words matched beneath when that is not
/// its title.
pub fn search_hits(state: &State, hits: &[crate::index::Hit]) -> String {
    if hits.is_empty() {
        return "Nothing matches".into();
    }
    let mut text = String::new();
    for hit in hits {
        text.push_str(&format!(
            "{} [{}] {}\n",
            state.short(&hit.id),
            hit.kind,
            hit.title
        ));
        let snippet = hit.snippet.replace(['\n', '\r'], " ");
        if snippet.replace(['[', ']'], "") != hit.title {
            text.push_str(&format!("    {snippet}\n"));
        }
    }
    text.pop();
    text
}
