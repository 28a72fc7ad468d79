//! What `dash` and `report --html` show: the project overview, a task's and an objective's
//! history, and the timeline of sessions and agents in parallel lanes. Computed here once, from
//! the same state and line formats as `status` and the memory views, so the terminal, the
//! pages and the CLI never disagree on a number; the views only lay it out.

use super::health;
use super::memory::{
    Action, Scope, action, agent_line, decision_line, insight_line, minutes_text,
    objective_line_of, task_line,
};
use super::status::{Counts, status};
use crate::event::Event;
use crate::event::kind::one_line;
use crate::fold::cost;
use crate::fold::state::State;
use crate::fold::timeline::Filter;
use crate::model::{Agent, Decision, DecisionStatus, Insight, ObjectiveStatus, Task, TaskStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// The order task groups are shown in: what needs attention first.
pub const TASK_GROUPS: [TaskStatus; 4] = [
    TaskStatus::InProgress,
    TaskStatus::Blocked,
    TaskStatus::Open,
    TaskStatus::Done,
];

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveRow {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub status: ObjectiveStatus,
    pub tasks_done: usize,
    pub tasks_total: usize,
    /// Sum of its tasks' estimates, and of the time worked on those tasks.
    pub estimate_minutes: u64,
    pub actual_minutes: u64,
    pub line: String,
}

impl ObjectiveRow {
    /// Share of its tasks done, 0 to 1 (0 without tasks).
    pub fn progress(&self) -> f64 {
        if self.tasks_total == 0 {
            0.0
        } else {
            self.tasks_done as f64 / self.tasks_total as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub status: TaskStatus,
    pub priority: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskGroup {
    pub status: TaskStatus,
    pub label: &'static str,
    /// How many tasks are in this state (the list below may be cut).
    pub total: usize,
    pub tasks: Vec<TaskRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Running,
    /// Running, but silent for longer than the threshold (`view::health`).
    Stalled,
    Finished,
}

impl AgentState {
    pub fn label(self) -> &'static str {
        match self {
            AgentState::Running => "running",
            AgentState::Stalled => "stalled",
            AgentState::Finished => "finished",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    pub id: String,
    pub short_id: String,
    pub role: String,
    pub state: AgentState,
    /// Its newest event: written by it, or its spawn or end.
    pub last_event: DateTime<Utc>,
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    pub id: String,
    pub short_id: String,
    pub question: String,
    pub status: DecisionStatus,
    pub line: String,
}

/// Time worked against estimates, over every task with an estimate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TimeSummary {
    pub tasks_estimated: usize,
    pub estimate_minutes: u64,
    /// Worked on those tasks so far (in progress ones included, up to now).
    pub actual_minutes: u64,
    /// Of the tasks with an estimate, those already over it.
    pub tasks_over_estimate: usize,
}

impl TimeSummary {
    pub fn line(&self) -> String {
        if self.tasks_estimated == 0 {
            return "no task has an estimate".into();
        }
        format!(
            "{} worked of {} estimated on {} task(s); {} over estimate",
            minutes_text(self.actual_minutes),
            minutes_text(self.estimate_minutes),
            self.tasks_estimated,
            self.tasks_over_estimate
        )
    }
}

/// The project at a glance, for the dashboard and the report's overview page.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub now: DateTime<Utc>,
    pub counts: Counts,
    pub objectives: Vec<ObjectiveRow>,
    pub task_groups: Vec<TaskGroup>,
    pub agents: Vec<AgentRow>,
    /// Running agents silent for longer than the threshold (all of them, not only the
    /// ones listed).
    pub agents_stalled: usize,
    pub open_decisions: Vec<DecisionRow>,
    pub time: TimeSummary,
    /// Spending against budgets: the lines `status` shows (total, objectives, tasks,
    /// agents), then a line per objective at or past 80 % of its budget.
    pub cost: Vec<String>,
    pub budget_warnings: Vec<String>,
    /// The newest events, newest first.
    pub feed: Vec<Action>,
    /// What the lists were narrowed to (a session, an agent), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// How long lists may get; `usize::MAX` for no cut.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub objectives: usize,
    pub tasks_per_group: usize,
    pub agents: usize,
    pub decisions: usize,
    pub feed: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            objectives: 200,
            tasks_per_group: 200,
            agents: 200,
            decisions: 200,
            feed: 100,
        }
    }
}

/// Who belongs to whom, built in one pass so that pages per objective and per task cost what
/// they show, not a scan of the whole ledger each (a 100k-event ledger has 20k tasks).
#[derive(Debug, Default)]
pub struct Index<'a> {
    tasks_by_objective: HashMap<&'a str, Vec<&'a Task>>,
    /// Positions of the events about an objective or its tasks, oldest first.
    events_by_objective: HashMap<&'a str, Vec<usize>>,
    decisions_by_task: HashMap<&'a str, Vec<&'a Decision>>,
    insights_by_task: HashMap<&'a str, Vec<&'a Insight>>,
    agents_by_task: HashMap<&'a str, Vec<&'a Agent>>,
}

impl<'a> Index<'a> {
    pub fn new(state: &'a State) -> Index<'a> {
        let mut index = Index { ..Index::default() };
        for task in state.tasks.iter() {
            if let Some(o) = task.objective.as_deref() {
                index.tasks_by_objective.entry(o).or_default().push(task);
            }
        }
        for d in state.decisions.iter() {
            if let Some(t) = d.task.as_deref() {
                index.decisions_by_task.entry(t).or_default().push(d);
            }
        }
        for i in state.insights.iter() {
            if let Some(t) = i.task.as_deref() {
                index.insights_by_task.entry(t).or_default().push(i);
            }
        }
        for a in state.agents.iter() {
            if let Some(t) = a.task.as_deref() {
                index.agents_by_task.entry(t).or_default().push(a);
            }
        }
        // The same events as `replay --objective` selects (see timeline::Filter).
        let objective_of_task = |id: Option<&str>| {
            id.and_then(|t| state.tasks.get(t))
                .and_then(|t| t.objective.as_deref())
        };
        for (position, event) in state.events.iter().enumerate() {
            let mut found: [Option<&'a str>; 4] = [
                event
                    .subject
                    .as_deref()
                    .filter(|s| state.objectives.contains(s)),
                event
                    .body
                    .objective()
                    .filter(|s| state.objectives.contains(s)),
                objective_of_task(event.subject.as_deref()),
                objective_of_task(event.body.task()),
            ];
            found.sort_unstable();
            let mut last = None;
            for objective in found.into_iter().flatten() {
                if last != Some(objective) {
                    index
                        .events_by_objective
                        .entry(objective)
                        .or_default()
                        .push(position);
                    last = Some(objective);
                }
            }
        }
        index
    }

    fn tasks_of(&self, objective: &str) -> &[&'a Task] {
        self.tasks_by_objective
            .get(objective)
            .map_or(&[], Vec::as_slice)
    }
}

pub fn overview(state: &State, scope: &Scope, filter: &Filter, limits: Limits) -> Overview {
    let now = scope.now;
    // The counts and the cost roll-up are status's own, computed once.
    let status = status(state, scope, scope.stall_after_minutes, None);
    let counts = status.counts;
    let filtered = filter.session.is_some() || filter.agent.is_some();
    let touched = |task: &Task| !filtered || task_matches(state, task, filter);

    let index = Index::new(state);
    let mut objectives: Vec<ObjectiveRow> = state
        .objectives
        .iter()
        .map(|o| objective_row(state, &index, &o.id, now))
        .filter(|row| !filtered || row.tasks_total > 0)
        .collect();
    // Active ones first, newest first within each state: what is being worked on now.
    objectives.reverse();
    objectives.sort_by_key(|o| o.status != ObjectiveStatus::Active);
    objectives.truncate(limits.objectives);

    let task_groups = TASK_GROUPS
        .iter()
        .map(|&group| {
            let mut tasks: Vec<&Task> = state
                .tasks
                .iter()
                .filter(|t| t.status == group && touched(t))
                .collect();
            if group == TaskStatus::Done {
                tasks.reverse();
            } else {
                tasks.sort_by_key(|t| t.priority);
            }
            TaskGroup {
                status: group,
                label: group.label(),
                total: tasks.len(),
                tasks: tasks
                    .into_iter()
                    .take(limits.tasks_per_group)
                    .map(|t| task_row(state, t, now))
                    .collect(),
            }
        })
        .collect();

    let mut agents: Vec<AgentRow> = state
        .agents
        .iter()
        .filter(|a| agent_matches(a, filter))
        .map(|a| agent_row(state, a, now, scope.stall_after_minutes))
        .collect();
    // Stalled first, then running, then finished; newest first within each.
    agents.reverse();
    agents.sort_by_key(|a| match a.state {
        AgentState::Stalled => 0,
        AgentState::Running => 1,
        AgentState::Finished => 2,
    });
    let agents_stalled = agents
        .iter()
        .filter(|a| a.state == AgentState::Stalled)
        .count();
    agents.truncate(limits.agents);

    let open_decisions = state
        .decisions
        .iter()
        .filter(|d| d.status == DecisionStatus::Open)
        .take(limits.decisions)
        .map(|d| decision_row(state, d))
        .collect();

    Overview {
        now,
        counts,
        objectives,
        task_groups,
        agents,
        agents_stalled,
        open_decisions,
        time: time_summary(state.tasks.iter().filter(|t| touched(t)), now),
        cost: if status.cost.is_empty() {
            Vec::new()
        } else {
            cost::lines(state, &status.cost, 3)
        },
        budget_warnings: status
            .cost
            .warnings
            .iter()
            .map(|w| cost::budget_line(state, w))
            .collect(),
        feed: feed(state, filter, limits.feed),
        filter: filter_label(state, filter),
    }
}

fn filter_label(state: &State, filter: &Filter) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(session) = &filter.session {
        parts.push(format!("session {}", state.short(session)));
    }
    if let Some(agent) = &filter.agent {
        let name = if state.agents.contains(agent) {
            state.short(agent)
        } else {
            agent.clone()
        };
        parts.push(format!("agent {name}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The newest events that pass the filter, newest first. From the whole history when the
/// state holds it, else from the newest events it keeps.
pub fn feed(state: &State, filter: &Filter, limit: usize) -> Vec<Action> {
    let pick = |e: &&Event| filter.matches(state, e);
    let events: Vec<&Event> = if state.complete {
        state.events.iter().rev().filter(pick).take(limit).collect()
    } else {
        state.recent.iter().rev().filter(pick).take(limit).collect()
    };
    events.into_iter().map(|e| action(state, e)).collect()
}

/// Whether any event of a task's history passes the filter.
fn task_matches(state: &State, task: &Task, filter: &Filter) -> bool {
    task.history
        .iter()
        .filter_map(|&i| state.events.get(i))
        .any(|e| filter.matches(state, e))
}

fn agent_matches(agent: &Agent, filter: &Filter) -> bool {
    filter
        .session
        .as_ref()
        .is_none_or(|s| agent.session.as_ref() == Some(s))
        && filter.agent.as_ref().is_none_or(|a| &agent.id == a)
}

pub fn objective_row(
    state: &State,
    index: &Index,
    objective: &str,
    now: DateTime<Utc>,
) -> ObjectiveRow {
    let tasks = index.tasks_of(objective);
    let time = time_summary(tasks.iter().copied(), now);
    let found = state.objectives.get(objective);
    let done = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    ObjectiveRow {
        id: objective.to_string(),
        short_id: state.short(objective),
        title: found.map(|o| o.title.clone()).unwrap_or_default(),
        status: found.map_or(ObjectiveStatus::Active, |o| o.status),
        tasks_done: done,
        tasks_total: tasks.len(),
        estimate_minutes: time.estimate_minutes,
        actual_minutes: time.actual_minutes,
        line: found
            .map(|o| objective_line_of(state, o, done, tasks.len()))
            .unwrap_or_default(),
    }
}

pub fn task_row(state: &State, task: &Task, now: DateTime<Utc>) -> TaskRow {
    TaskRow {
        id: task.id.clone(),
        short_id: state.short(&task.id),
        title: task.title.clone(),
        status: task.status,
        priority: task.priority,
        objective: task.objective.clone(),
        line: task_line(state, task, now),
    }
}

pub fn decision_row(state: &State, decision: &Decision) -> DecisionRow {
    DecisionRow {
        id: decision.id.clone(),
        short_id: state.short(&decision.id),
        question: decision.question.clone(),
        status: decision.status,
        line: decision_line(state, decision),
    }
}

fn time_summary<'a>(tasks: impl Iterator<Item = &'a Task>, now: DateTime<Utc>) -> TimeSummary {
    let mut summary = TimeSummary::default();
    for task in tasks {
        let Some(estimate) = task.estimate_minutes else {
            continue;
        };
        // A task closed without ever being worked has no time to set against its estimate
        // (as in `memory long`'s estimate accuracy); an open one has used none of it yet.
        let actual = match task.actual_minutes(now) {
            Some(actual) => actual,
            None if task.status.is_closed() => continue,
            None => 0,
        };
        summary.tasks_estimated += 1;
        summary.estimate_minutes = summary.estimate_minutes.saturating_add(estimate);
        summary.actual_minutes = summary.actual_minutes.saturating_add(actual);
        summary.tasks_over_estimate += usize::from(actual > estimate);
    }
    summary
}

/// Each spawned agent's newest event: one it wrote (as `agent:<id>`), or its spawn or end.
/// Running, stalled (silent for longer than the threshold, as `view::health` judges
/// for `status` and `agent list`) or finished.
pub fn agent_state(agent: &Agent, now: DateTime<Utc>, stall_after_minutes: u64) -> AgentState {
    match health::pulse(agent, now, stall_after_minutes) {
        None => AgentState::Finished,
        Some(pulse) if pulse.stalled => AgentState::Stalled,
        Some(_) => AgentState::Running,
    }
}

fn agent_row(
    state: &State,
    agent: &Agent,
    now: DateTime<Utc>,
    stall_after_minutes: u64,
) -> AgentRow {
    let last_event = agent.last_seen();
    let agent_state = agent_state(agent, now, stall_after_minutes);
    let mut line = agent_line(state, agent);
    if agent_state == AgentState::Stalled {
        line.push_str(&format!(
            " (stalled: nothing since {})",
            last_event.format("%Y-%m-%d %H:%M")
        ));
    }
    AgentRow {
        id: agent.id.clone(),
        short_id: state.short(&agent.id),
        role: agent.role.clone(),
        state: agent_state,
        last_event,
        line,
    }
}

/// What a session or agent filter can be set to: every session, newest first, and every
/// agent (spawned ones by id, others by the name they wrote under).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilterChoices {
    pub sessions: Vec<String>,
    pub agents: Vec<String>,
}

pub fn filter_choices(state: &State) -> FilterChoices {
    let mut agents: BTreeSet<String> = state.agents.iter().map(|a| a.id.clone()).collect();
    let events: Box<dyn Iterator<Item = &Event>> = if state.complete {
        Box::new(state.events.iter())
    } else {
        Box::new(state.recent.iter())
    };
    for event in events {
        if let Some(name) = event.actor.strip_prefix("agent:") {
            agents.insert(name.to_string());
        }
    }
    FilterChoices {
        // Newest first: the sessions and agents of now are the ones looked for.
        sessions: state.sessions.iter().rev().map(|s| s.id.clone()).collect(),
        agents: agents.into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------------

/// One task with everything recorded about it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDetail {
    pub row: TaskRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Title line of its objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveRow>,
    pub facts: Vec<(String, String)>,
    pub depends_on: Vec<String>,
    pub notes: Vec<String>,
    pub commits: Vec<String>,
    pub review: String,
    pub merges: Vec<String>,
    pub decisions: Vec<String>,
    pub insights: Vec<String>,
    pub agents: Vec<String>,
    /// Its events, oldest first.
    pub history: Vec<Action>,
}

pub fn task_detail(state: &State, index: &Index, task: &Task, now: DateTime<Utc>) -> TaskDetail {
    use crate::model::Review;
    let when = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let mut facts = vec![
        ("status".to_string(), task.status.label().to_string()),
        ("priority".to_string(), format!("P{}", task.priority)),
        (
            "created".to_string(),
            format!("{} by {}", when(task.created), task.created_by),
        ),
    ];
    let worked = task.actual_minutes(now).map(minutes_text);
    let estimate = task.estimate_minutes.map(minutes_text);
    facts.push((
        "time".to_string(),
        match (worked, estimate) {
            (Some(w), Some(e)) => format!("{w} worked of {e} estimated"),
            (Some(w), None) => format!("{w} worked, no estimate"),
            (None, Some(e)) => format!("not started, {e} estimated"),
            (None, None) => "not started, no estimate".to_string(),
        },
    ));
    if let Some(reason) = &task.block_reason {
        facts.push(("blocked".to_string(), reason.clone()));
    }
    if let Some(summary) = &task.summary {
        facts.push(("summary".to_string(), summary.clone()));
    }
    if let Some(done) = task.completed {
        facts.push(("completed".to_string(), when(done)));
    }
    if let Some(over) = &task.forced_over {
        facts.push(("forced over".to_string(), over.join("; ")));
    }
    if !task.branches.is_empty() {
        facts.push(("branches".to_string(), task.branches.join(", ")));
    }
    // Each validation rule with its newest result (which commit is the tip is git's to say;
    // `check list` judges staleness against it).
    for rule in &task.validation {
        let latest = task.checks.iter().rev().find(|c| c.rule == *rule);
        let result = match latest {
            Some(c) => format!(
                "{} at {} ({})",
                if c.passed { "passed" } else { "failed" },
                c.commit.get(..10).unwrap_or(&c.commit),
                when(c.time)
            ),
            None => "never run".to_string(),
        };
        facts.push((
            "check".to_string(),
            format!("{}: {result}", one_line(rule.text(), 60)),
        ));
    }
    let review = match &task.review {
        Review::None => "none".to_string(),
        Review::Requested { commit } => format!(
            "requested{}",
            commit
                .as_deref()
                .map(|c| format!(" at {}", short_hex(c)))
                .unwrap_or_default()
        ),
        Review::Approved { commit, by } => format!("approved at {} by {by}", short_hex(commit)),
        Review::Rejected { commit, reason, by } => format!(
            "rejected{} by {by}: {reason}",
            commit
                .as_deref()
                .map(|c| format!(" at {}", short_hex(c)))
                .unwrap_or_default()
        ),
    };
    TaskDetail {
        row: task_row(state, task, now),
        description: task.description.clone(),
        objective: task
            .objective
            .as_deref()
            .filter(|o| state.objectives.contains(o))
            .map(|o| objective_row(state, index, o, now)),
        facts,
        depends_on: task
            .depends_on
            .iter()
            .map(|d| match state.tasks.get(d) {
                Some(dep) => task_line(state, dep, now),
                None => format!("{d} (unknown task)"),
            })
            .collect(),
        notes: task
            .notes
            .iter()
            .map(|n| format!("{} {}: {}", when(n.time), n.actor, n.text))
            .collect(),
        commits: task
            .commits
            .iter()
            .map(|c| {
                format!(
                    "{} {}{}{}",
                    when(c.time),
                    short_hex(&c.commit),
                    c.branch
                        .as_deref()
                        .map(|b| format!(" on {b}"))
                        .unwrap_or_default(),
                    c.author
                        .as_deref()
                        .map(|a| format!(" by {a}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        review,
        merges: task
            .merges
            .iter()
            .map(|m| {
                format!(
                    "{} {} into {} ({})",
                    when(m.time),
                    m.branch,
                    m.into,
                    short_hex(&m.merge_commit)
                )
            })
            .collect(),
        decisions: by_task(&index.decisions_by_task, &task.id)
            .map(|d| decision_line(state, d))
            .collect(),
        insights: by_task(&index.insights_by_task, &task.id)
            .map(|i| insight_line(state, i))
            .collect(),
        agents: by_task(&index.agents_by_task, &task.id)
            .map(|a| agent_row(state, a, now, health::DEFAULT_STALL_AFTER_MINUTES).line)
            .collect(),
        history: task
            .history
            .iter()
            .filter_map(|&i| state.events.get(i))
            .map(|e| action(state, e))
            .collect(),
    }
}

fn by_task<'m, T>(
    map: &'m HashMap<&str, Vec<&'m T>>,
    task: &str,
) -> impl Iterator<Item = &'m T> + 'm {
    map.get(task).into_iter().flatten().copied()
}

fn short_hex(hex: &str) -> &str {
    hex.get(..10).unwrap_or(hex)
}

/// One objective with its tasks and history.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveDetail {
    pub row: ObjectiveRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub tasks: Vec<TaskRow>,
    /// Its events and its tasks', newest first (at most `history_limit`).
    pub history: Vec<Action>,
    /// How many events it has in all.
    pub history_total: usize,
}

pub fn objective_detail(
    state: &State,
    index: &Index,
    objective: &str,
    now: DateTime<Utc>,
    history_limit: usize,
) -> ObjectiveDetail {
    let events = index
        .events_by_objective
        .get(objective)
        .map_or(&[][..], Vec::as_slice);
    let found = state.objectives.get(objective);
    ObjectiveDetail {
        row: objective_row(state, index, objective, now),
        description: found.and_then(|o| o.description.clone()),
        outcome: found.and_then(|o| o.outcome.clone()),
        tasks: index
            .tasks_of(objective)
            .iter()
            .map(|t| task_row(state, t, now))
            .collect(),
        history_total: events.len(),
        history: events
            .iter()
            .rev()
            .take(history_limit)
            .filter_map(|&i| state.events.get(i))
            .map(|e| action(state, e))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------

/// Who did what, when: sessions and agents as spans in lanes (overlapping ones side by side),
/// and each actor's events as marks, over the window of the newest events.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Events in the window, and in the whole ledger.
    pub events_shown: usize,
    pub events_total: usize,
    pub lanes: Vec<Lane>,
    /// The window's events, newest first.
    pub events: Vec<Action>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneKind {
    Sessions,
    Agents,
    Actor,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    pub kind: LaneKind,
    pub name: String,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
}

/// A session or agent run; `start`/`end` are fractions of the window (0 to 1), clipped.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub id: String,
    pub short_id: String,
    pub label: String,
    pub start: f64,
    pub end: f64,
    /// Still open or running at the end of the window.
    pub open: bool,
    pub detail: String,
}

/// One event in an actor's lane, at a fraction of the window.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    pub at: f64,
    pub what: String,
}

pub fn timeline(state: &State, now: DateTime<Utc>, window_events: usize) -> Timeline {
    let all: &[Event] = &state.events;
    let window = &all[all.len().saturating_sub(window_events)..];
    let from = window.first().map_or(now, Event::timestamp);
    let to = window.last().map_or(now, Event::timestamp).max(from);
    let length = (to - from).num_milliseconds().max(1) as f64;
    let at = |t: DateTime<Utc>| ((t - from).num_milliseconds() as f64 / length).clamp(0.0, 1.0);
    let when = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();

    let sessions = state
        .sessions
        .iter()
        .filter(|s| s.started <= to && s.ended.is_none_or(|e| e >= from))
        .map(|s| Span {
            id: s.id.clone(),
            short_id: state.short(&s.id),
            label: s
                .title
                .as_deref()
                .map(|t| one_line(t, 48))
                .unwrap_or_else(|| state.short(&s.id)),
            start: at(s.started),
            end: at(s.ended.unwrap_or(to)),
            open: s.ended.is_none(),
            detail: format!(
                "{} – {} by {}",
                when(s.started),
                s.ended.map(when).unwrap_or_else(|| "open".into()),
                s.actor
            ),
        });
    let agents = state
        .agents
        .iter()
        .filter(|a| a.spawned <= to && a.exited.is_none_or(|e| e >= from))
        .map(|a| Span {
            id: a.id.clone(),
            short_id: state.short(&a.id),
            label: format!("{}: {}", one_line(&a.role, 20), one_line(&a.mission, 40)),
            start: at(a.spawned),
            end: at(a.exited.unwrap_or(to)),
            open: a.exited.is_none(),
            detail: format!(
                "{} – {}",
                when(a.spawned),
                a.exited
                    .map(|e| format!("{} ({})", when(e), a.outcome.as_deref().unwrap_or("exited")))
                    .unwrap_or_else(|| "running".into())
            ),
        });
    let mut lanes = pack(LaneKind::Sessions, "sessions", sessions);
    lanes.extend(pack(LaneKind::Agents, "agents", agents));

    let mut actors: Vec<Lane> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for event in window {
        let lane = *index.entry(event.actor.as_str()).or_insert_with(|| {
            actors.push(Lane {
                kind: LaneKind::Actor,
                name: event.actor.clone(),
                spans: Vec::new(),
                marks: Vec::new(),
            });
            actors.len() - 1
        });
        let described = action(state, event);
        actors[lane].marks.push(Mark {
            at: at(described.time),
            what: described.line(state),
        });
    }
    lanes.extend(actors);

    Timeline {
        from,
        to,
        events_shown: window.len(),
        events_total: all.len(),
        lanes,
        events: window.iter().rev().map(|e| action(state, e)).collect(),
    }
}

/// Put spans in as few lanes as possible, so that spans in one lane never overlap: parallel
/// work shows as parallel lanes.
fn pack(kind: LaneKind, name: &str, spans: impl Iterator<Item = Span>) -> Vec<Lane> {
    let mut spans: Vec<Span> = spans.collect();
    spans.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut lanes: Vec<Lane> = Vec::new();
    for span in spans {
        let free = lanes
            .iter_mut()
            .find(|l| l.spans.last().is_none_or(|last| last.end < span.start));
        match free {
            Some(lane) => lane.spans.push(span),
            None => lanes.push(Lane {
                kind,
                name: name.to_string(),
                spans: vec![span],
                marks: Vec::new(),
            }),
        }
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, start: f64, end: f64) -> Span {
        Span {
            id: id.into(),
            short_id: id.into(),
            label: id.into(),
            start,
            end,
            open: false,
            detail: String::new(),
        }
    }

    #[test]
    fn overlapping_spans_go_to_parallel_lanes_and_others_share_one() {
        let lanes = pack(
            LaneKind::Agents,
            "agents",
            [
                span("a", 0.0, 0.5),
                span("b", 0.2, 0.6),
                span("c", 0.55, 0.9),
                span("d", 0.7, 1.0),
            ]
            .into_iter(),
        );
        let ids: Vec<Vec<&str>> = lanes
            .iter()
            .map(|l| l.spans.iter().map(|s| s.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["a", "c"], vec!["b", "d"]]);
    }

    #[test]
    fn a_running_agent_is_stalled_after_ten_silent_minutes() {
        let t = |m: i64| DateTime::from_timestamp(1_700_000_000 + m * 60, 0).unwrap_or_default();
        let mut agent = Agent {
            id: "a-1".into(),
            role: "tester".into(),
            mission: "test".into(),
            task: None,
            worktree: None,
            branch: None,
            command: Vec::new(),
            source_id: None,
            spawned: t(0),
            spawned_by: "human:ann".into(),
            session: None,
            exited: None,
            outcome: None,
            status: None,
            signal: None,
            duration_ms: None,
            summary: None,
            usage: None,
            last_seen: Some(t(5)),
            retry: 0,
            fallback: Vec::new(),
            attempts: Vec::new(),
        };
        assert_eq!(agent_state(&agent, t(15), 10), AgentState::Running);
        assert_eq!(agent_state(&agent, t(16), 10), AgentState::Stalled);
        agent.exited = Some(t(20));
        assert_eq!(agent_state(&agent, t(60), 10), AgentState::Finished);
    }
}
