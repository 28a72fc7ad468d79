//! The brief an agent reads first (`git ledger prime`): who it is and what it was sent to do,
//! where the work stands, what is ready, what waits for a decision, what the knowledge base
//! says about its area, and the few commands it needs — in markdown, within a byte budget.

use super::doc::{Doc, Format};
use super::memory::{self, Scope, decision_line, insight_line, task_line};
use crate::event::EntityKind;
use crate::event::kind::one_line;
use crate::fold::state::State;
use crate::model::{Agent, DecisionStatus, Insight, Task};
use serde::Serialize;
use std::collections::HashSet;

/// The default budget: about 2,000 tokens of a prompt.
pub const DEFAULT_MAX_BYTES: usize = 8192;

/// How many items a list starts with before the budget trims it further.
const LIST_CAP: usize = 15;

/// Who reads the brief.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// `human:<name>` or `agent:<id>`.
    pub actor: &'a str,
    /// The agent it acts for (`GIT_LEDGER_AGENT`), as named there.
    pub agent: Option<&'a str>,
}

/// The brief and what the budget left out.
#[derive(Debug, Clone, Serialize)]
pub struct Prime {
    pub markdown: String,
    pub bytes: usize,
    pub max_bytes: usize,
    /// Items left out, by section.
    pub omitted: Vec<Omitted>,
}

/// How many items the budget left out of one section.
#[derive(Debug, Clone, Serialize)]
pub struct Omitted {
    pub section: String,
    pub items: usize,
}

/// One section of the brief: its lines, and how many were left out.
struct Part {
    heading: &'static str,
    lines: Vec<String>,
    omitted: usize,
    empty: &'static str,
}

impl Part {
    fn new(heading: &'static str, mut lines: Vec<String>, empty: &'static str) -> Part {
        let omitted = lines.len().saturating_sub(LIST_CAP);
        lines.truncate(LIST_CAP);
        Part {
            heading,
            lines,
            omitted,
            empty,
        }
    }
}

/// Compose the brief for `reader` and trim it to at most `max_bytes`: the lowest-priority
/// sections lose their last items first (knowledge, then decisions, ready tasks, working
/// memory and finally the commands), each saying how many it left out; the identity is kept
/// whole unless the budget cannot even hold it, and then the text is cut.
///
/// `matching` are insights about the task, best first (what `Ledger::prime` found by search):
/// the knowledge section starts with those.
pub fn prime(
    state: &State,
    scope: &Scope,
    reader: Reader,
    max_bytes: usize,
    matching: &[String],
) -> Prime {
    let agent = agent_of(state, reader);
    let task = task_of(state, scope, reader);

    let title = match (agent, reader.agent) {
        (Some(agent), _) => format!("Ledger brief for agent {}", state.short(&agent.id)),
        (None, Some(name)) => format!("Ledger brief for agent {}", one_line(name, 40)),
        (None, None) => format!("Ledger brief for {}", one_line(reader.actor, 40)),
    };
    let identity = Part {
        heading: "You",
        lines: identity(state, scope, reader, agent, task),
        omitted: 0,
        empty: "",
    };
    let working = Part::new("Working memory", working(state, scope), "nothing yet");
    let ready = Part::new(
        "Ready tasks",
        state
            .ready()
            .iter()
            .map(|t| task_line(state, t, scope.now))
            .collect(),
        "no task is ready",
    );
    let decisions = Part::new(
        "Open decisions",
        state
            .decisions
            .iter()
            .filter(|d| d.status == DecisionStatus::Open)
            .map(|d| decision_line(state, d))
            .collect(),
        "none",
    );
    let knowledge = Part::new(
        "Knowledge",
        relevant_knowledge(state, task, matching)
            .iter()
            .map(|i| insight_line(state, i))
            .collect(),
        "nothing promoted yet",
    );
    let commands = Part {
        heading: "Commands",
        lines: commands(state, agent, task),
        omitted: 0,
        empty: "",
    };
    // Output order, and the order in which the budget trims (lowest priority first).
    let mut parts = vec![identity, working, ready, decisions, knowledge, commands];
    const TRIM_ORDER: [usize; 5] = [4, 3, 2, 1, 5];

    let mut markdown = render(&title, &parts);
    'trim: while markdown.len() > max_bytes {
        for &i in &TRIM_ORDER {
            if parts[i].lines.pop().is_some() {
                parts[i].omitted += 1;
                markdown = render(&title, &parts);
                continue 'trim;
            }
        }
        // Nothing left to trim but the identity: cut the text itself.
        markdown = cut(&markdown, max_bytes);
        break;
    }
    Prime {
        bytes: markdown.len(),
        max_bytes,
        omitted: parts
            .iter()
            .filter(|p| p.omitted > 0)
            .map(|p| Omitted {
                section: p.heading.to_string(),
                items: p.omitted,
            })
            .collect(),
        markdown,
    }
}

fn render(title: &str, parts: &[Part]) -> String {
    let mut doc = Doc::new(title);
    for part in parts {
        let mut lines = part.lines.clone();
        if part.omitted > 0 {
            lines.push(format!("… {} more", part.omitted));
        }
        doc.section(part.heading, lines, part.empty);
    }
    doc.render(Format::Markdown)
}

/// At most `max` bytes of `text`, cut at a character boundary and ending in a newline.
fn cut(text: &str, max: usize) -> String {
    let mut end = max.saturating_sub(1).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if max == 0 {
        return String::new();
    }
    format!("{}\n", &text[..end])
}

fn identity(
    state: &State,
    scope: &Scope,
    reader: Reader,
    agent: Option<&Agent>,
    task: Option<&Task>,
) -> Vec<String> {
    let mut lines = Vec::new();
    match (agent, reader.agent) {
        (Some(agent), _) => {
            lines.push(format!(
                "agent {} ({}), spawned {} by {}",
                agent.id,
                one_line(&agent.role, 24),
                agent.spawned.format("%Y-%m-%d %H:%M"),
                agent.spawned_by
            ));
            lines.push(format!("mission: {}", one_line(&agent.mission, 400)));
            if let (Some(worktree), Some(branch)) = (&agent.worktree, &agent.branch) {
                lines.push(format!("worktree: {worktree} (branch {branch})"));
            }
        }
        (None, Some(name)) => lines.push(format!(
            "agent {} (no spawn recorded: no mission on record)",
            one_line(name, 40)
        )),
        (None, None) => lines.push(format!("{} (not an agent)", one_line(reader.actor, 40))),
    }
    if let Some(task) = task {
        lines.push(format!("task: {}", task_line(state, task, scope.now)));
        if let Some(objective) = task
            .objective
            .as_deref()
            .and_then(|o| state.objectives.get(o))
        {
            lines.push(format!(
                "objective: {}",
                memory::objective_line(state, objective)
            ));
        }
    }
    lines
}

fn working(state: &State, scope: &Scope) -> Vec<String> {
    let working = memory::working(state, scope);
    let mut lines = vec![match &working.session {
        Some(session) => format!("session: {}", memory::session_line(state, session)),
        None => "session: none open".to_string(),
    }];
    if let Some(focus) = &working.focus {
        lines.push(format!("focus: {}", task_line(state, focus, scope.now)));
    }
    let focus = working.focus.as_ref().map(|t| t.id.as_str());
    for task in working
        .in_progress
        .iter()
        .filter(|t| Some(t.id.as_str()) != focus)
    {
        lines.push(format!(
            "in progress: {}",
            task_line(state, task, scope.now)
        ));
    }
    for action in &working.last_actions {
        lines.push(format!("recent: {}", action.line(state)));
    }
    lines
}

/// The agent the brief is for, if the reader acts for one the ledger knows.
fn agent_of<'s>(state: &'s State, reader: Reader) -> Option<&'s Agent> {
    reader
        .agent
        .and_then(|name| state.resolve(EntityKind::Agent, name).ok())
        .and_then(|id| state.agents.get(&id))
}

/// The task the brief is about: its agent's, else the one in focus in this worktree.
pub fn task_of<'s>(state: &'s State, scope: &Scope, reader: Reader) -> Option<&'s Task> {
    agent_of(state, reader)
        .and_then(|a| a.task.as_deref())
        .and_then(|t| state.tasks.get(t))
        .or_else(|| state.focus(scope.writer, scope.worktree))
}

/// Knowledge-base insights: those whose words match the task's first (`matching`, best
/// first), then those about the task's area (tagged like the insights of the task and of its
/// objective's tasks, or recorded on one of them), then the most recent.
fn relevant_knowledge<'s>(
    state: &'s State,
    task: Option<&Task>,
    matching: &[String],
) -> Vec<&'s Insight> {
    let area: HashSet<&str> = match task {
        Some(task) => state
            .tasks
            .iter()
            .filter(|t| {
                t.id == task.id || (task.objective.is_some() && t.objective == task.objective)
            })
            .map(|t| t.id.as_str())
            .collect(),
        None => HashSet::new(),
    };
    let tags: HashSet<&str> = state
        .insights
        .iter()
        .filter(|i| i.task.as_deref().is_some_and(|t| area.contains(t)))
        .flat_map(|i| i.tags.iter().map(String::as_str))
        .collect();
    let relevant = |i: &Insight| {
        i.task.as_deref().is_some_and(|t| area.contains(t))
            || i.tags.iter().any(|t| tags.contains(t.as_str()))
    };
    let mut insights: Vec<&Insight> = state.insights.iter().filter(|i| i.knowledge).collect();
    // Most recent first, then the relevant ones ahead (a stable sort keeps recency within).
    insights.reverse();
    let rank = |i: &Insight| matching.iter().position(|id| *id == i.id);
    insights.sort_by_key(|i| (rank(i).unwrap_or(usize::MAX), !relevant(i)));
    insights
}

fn commands(state: &State, agent: Option<&Agent>, task: Option<&Task>) -> Vec<String> {
    let on = task
        .map(|t| format!(" -t {}", state.short(&t.id)))
        .unwrap_or_default();
    let mut lines = vec![
        format!("record progress: `git ledger task note{on} \"<what you did or found>\"`"),
        "record what you learned: `git ledger insight add \"<insight>\" --tag <area>`".to_string(),
        "ask for a decision: `git ledger decision request \"<question>\" --option <a> --option <b>`"
            .to_string(),
    ];
    match task {
        Some(task) => {
            let id = state.short(&task.id);
            lines.push(format!(
                "when blocked: `git ledger task block {id} --reason \"<what it waits for>\"`"
            ));
            lines.push(format!(
                "when finished: `git ledger task done {id} --summary \"<outcome>\"`"
            ));
        }
        None => lines.push("start a ready task: `git ledger task start <id>`".to_string()),
    }
    if let Some(agent) = agent.filter(|a| a.is_running() && a.command.is_empty()) {
        lines.push(format!(
            "when you stop: `git ledger agent exit {} --status <code> --summary \"<what you achieved>\"`",
            state.short(&agent.id)
        ));
    }
    lines
        .push("see more: `git ledger memory working --format markdown`, `git ledger ready`".into());
    lines
}
