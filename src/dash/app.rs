//! The dashboard's model: what is loaded, which pane has the focus, what is selected, what is
//! open. Keys change it; [`super::ui`] draws it. No terminal here, so it is tested directly.

use crate::fold::state::State;
use crate::fold::timeline::Filter;
use crate::view::memory::{Action, Scope};
use crate::view::report::{
    FilterChoices, Index, Limits, Overview, filter_choices, objective_detail, overview, task_detail,
};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Objectives,
    Tasks,
    Agents,
    Decisions,
    Feed,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Objectives,
        Pane::Tasks,
        Pane::Agents,
        Pane::Decisions,
        Pane::Feed,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Objectives => "Objectives",
            Pane::Tasks => "Tasks",
            Pane::Agents => "Agents",
            Pane::Decisions => "Open decisions",
            Pane::Feed => "Events",
        }
    }
}

/// A key, as the model understands it (the event loop translates terminal keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Quit,
    NextPane,
    PreviousPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Open,
    Close,
    CycleSession,
    CycleAgent,
    ClearFilter,
    Reload,
}

/// One row of a pane's list: its text, and what Enter opens from it.
#[derive(Debug, Clone)]
pub struct Row {
    pub text: String,
    pub opens: Option<String>,
    /// A heading inside the list (a task state).
    pub heading: bool,
}

/// An opened task or objective: a title and lines, scrolled.
#[derive(Debug, Clone)]
pub struct Detail {
    /// The task or objective shown.
    pub id: String,
    pub title: String,
    pub lines: Vec<DetailLine>,
    pub scroll: u16,
}

#[derive(Debug, Clone)]
pub enum DetailLine {
    Heading(String),
    Text(String),
}

pub struct App {
    pub state: State,
    pub now: DateTime<Utc>,
    pub writer: String,
    /// Who is looking: whose claims the views treat as one's own.
    pub actor: String,
    /// When a running agent counts as stalled.
    pub stall_after_minutes: u64,
    pub worktree: PathBuf,
    pub session: Option<String>,
    pub overview: Overview,
    pub choices: FilterChoices,
    pub filter: Filter,
    pub focus: Pane,
    /// Selected row per pane, in [`Pane::ALL`] order.
    pub selected: [usize; 5],
    pub detail: Option<Detail>,
    /// A one-line message for the footer (a failed reload).
    pub message: Option<String>,
    pub quit: bool,
}

/// How many events the feed keeps.
const FEED: usize = 200;

impl App {
    pub fn new(
        state: State,
        now: DateTime<Utc>,
        writer: String,
        actor: String,
        worktree: PathBuf,
        session: Option<String>,
    ) -> App {
        let mut app = App {
            overview: empty_overview(now),
            choices: FilterChoices::default(),
            state,
            now,
            writer,
            actor,
            stall_after_minutes: crate::view::health::DEFAULT_STALL_AFTER_MINUTES,
            worktree,
            session,
            filter: Filter::default(),
            focus: Pane::Tasks,
            selected: [0; 5],
            detail: None,
            message: None,
            quit: false,
        };
        app.refresh();
        app
    }

    /// Replace the state (the ledger moved) and recompute what is shown.
    pub fn replace(&mut self, state: State, now: DateTime<Utc>, session: Option<String>) {
        self.state = state;
        self.now = now;
        self.session = session;
        self.refresh();
    }

    /// Recompute the views from the state, keeping selections in range and the open detail
    /// up to date.
    pub fn refresh(&mut self) {
        let scope = Scope {
            writer: &self.writer,
            actor: &self.actor,
            stall_after_minutes: self.stall_after_minutes,
            worktree: &self.worktree,
            session: self.session.as_deref(),
            now: self.now,
        };
        let limits = Limits {
            feed: FEED,
            ..Limits::default()
        };
        self.overview = overview(&self.state, &scope, &self.filter, limits);
        self.choices = filter_choices(&self.state);
        for (i, pane) in Pane::ALL.iter().enumerate() {
            self.selected[i] = self.settle(*pane, self.selected[i], 1);
        }
        if let Some(detail) = &self.detail {
            let scroll = detail.scroll;
            // Reopen it, to show what changed.
            self.detail = self.detail_of(&detail.id.clone()).map(|mut d| {
                d.scroll = scroll;
                d
            });
        }
    }

    /// The row nearest `from` (looking in `direction` first) that is not a heading, within
    /// the pane's rows.
    fn settle(&self, pane: Pane, from: usize, direction: isize) -> usize {
        let rows = self.rows(pane);
        let from = from.min(rows.len().saturating_sub(1));
        let selectable = |i: &usize| rows.get(*i).is_some_and(|r| !r.heading);
        let forward = (from..rows.len()).find(selectable);
        let backward = (0..=from).rev().find(selectable);
        let found = if direction >= 0 {
            forward.or(backward)
        } else {
            backward.or(forward)
        };
        found.unwrap_or(from)
    }

    /// Move the selection of the focused pane by `delta` rows, over headings.
    fn step(&mut self, delta: isize) {
        let index = Self::pane_index(self.focus);
        let last = self.rows(self.focus).len().saturating_sub(1);
        let current = self.selected[index];
        let target = current.saturating_add_signed(delta).min(last);
        let settled = self.settle(self.focus, target, delta.signum());
        // At the top, a heading above the first task cannot be selected: stay put.
        self.selected[index] = if delta < 0 && settled > current {
            current
        } else {
            settled
        };
    }

    fn pane_index(pane: Pane) -> usize {
        Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0)
    }

    pub fn selected(&self, pane: Pane) -> usize {
        self.selected[Self::pane_index(pane)]
    }

    /// The rows a pane lists.
    pub fn rows(&self, pane: Pane) -> Vec<Row> {
        let o = &self.overview;
        let row = |text: String, opens: Option<&str>| Row {
            text,
            opens: opens.map(str::to_string),
            heading: false,
        };
        match pane {
            Pane::Objectives => o
                .objectives
                .iter()
                .map(|obj| {
                    row(
                        format!(
                            "{} {}/{} {} {}",
                            progress_bar(obj.progress(), 8),
                            obj.tasks_done,
                            obj.tasks_total,
                            obj.short_id,
                            obj.title
                        ),
                        Some(&obj.id),
                    )
                })
                .collect(),
            Pane::Tasks => {
                let mut rows = Vec::new();
                for group in &o.task_groups {
                    rows.push(Row {
                        text: format!("{} ({})", group.label, group.total),
                        opens: None,
                        heading: true,
                    });
                    for t in &group.tasks {
                        rows.push(row(
                            format!(
                                "{} P{} {}",
                                t.short_id,
                                t.priority,
                                t.line
                                    .split_once("] ")
                                    .and_then(|(_, rest)| rest.split_once(' '))
                                    .map_or(t.title.as_str(), |(_, rest)| rest)
                            ),
                            Some(&t.id),
                        ));
                    }
                    if group.total > group.tasks.len() {
                        rows.push(row(
                            format!("… {} more", group.total - group.tasks.len()),
                            None,
                        ));
                    }
                }
                rows
            }
            Pane::Agents => o
                .agents
                .iter()
                .map(|a| {
                    let task = self.state.agents.get(&a.id).and_then(|a| a.task.as_deref());
                    row(format!("[{}] {}", a.state.label(), a.line), task)
                })
                .collect(),
            Pane::Decisions => o
                .open_decisions
                .iter()
                .map(|d| {
                    let task = self
                        .state
                        .decisions
                        .get(&d.id)
                        .and_then(|d| d.task.as_deref());
                    row(d.line.clone(), task)
                })
                .collect(),
            Pane::Feed => o
                .feed
                .iter()
                .map(|a| row(feed_line(&self.state, a), a.subject.as_deref()))
                .collect(),
        }
    }

    /// What a pane says when it has no rows.
    pub fn empty(pane: Pane) -> &'static str {
        match pane {
            Pane::Objectives => "no objective",
            Pane::Tasks => "no task",
            Pane::Agents => "no agent spawned",
            Pane::Decisions => "none open",
            Pane::Feed => "no event",
        }
    }

    pub fn key(&mut self, key: Key) {
        self.message = None;
        if key == Key::Quit {
            self.quit = true;
            return;
        }
        if let Some(detail) = &mut self.detail {
            match key {
                Key::Close | Key::Open => self.detail = None,
                Key::Up => detail.scroll = detail.scroll.saturating_sub(1),
                Key::Down => detail.scroll = detail.scroll.saturating_add(1),
                Key::PageUp => detail.scroll = detail.scroll.saturating_sub(10),
                Key::PageDown => detail.scroll = detail.scroll.saturating_add(10),
                _ => {}
            }
            return;
        }
        let index = Self::pane_index(self.focus);
        match key {
            Key::NextPane => self.focus = Pane::ALL[(index + 1) % Pane::ALL.len()],
            Key::PreviousPane => {
                self.focus = Pane::ALL[(index + Pane::ALL.len() - 1) % Pane::ALL.len()]
            }
            Key::Up => self.step(-1),
            Key::Down => self.step(1),
            Key::PageUp => self.step(-10),
            Key::PageDown => self.step(10),
            Key::Open => {
                let rows = self.rows(self.focus);
                if let Some(id) = rows.get(self.selected[index]).and_then(|r| r.opens.clone()) {
                    self.detail = self.detail_of(&id);
                }
            }
            Key::CycleSession => {
                self.filter.session = next(&self.choices.sessions, self.filter.session.take());
                self.refresh();
            }
            Key::CycleAgent => {
                self.filter.agent = next(&self.choices.agents, self.filter.agent.take());
                self.refresh();
            }
            Key::ClearFilter => {
                self.filter = Filter::default();
                self.refresh();
            }
            Key::Quit | Key::Close | Key::Reload => {}
        }
    }

    /// The detail view of a task or objective, if `id` is one.
    fn detail_of(&self, id: &str) -> Option<Detail> {
        let text = |s: &String| DetailLine::Text(s.clone());
        let heading = |s: &str| DetailLine::Heading(s.to_string());
        if let Some(task) = self.state.tasks.get(id) {
            let d = task_detail(&self.state, &Index::new(&self.state), task, self.now);
            let mut lines = Vec::new();
            for (name, value) in &d.facts {
                lines.push(DetailLine::Text(format!("{name}: {value}")));
            }
            if let Some(o) = &d.objective {
                lines.push(DetailLine::Text(format!(
                    "objective: {} {}",
                    o.short_id, o.title
                )));
            }
            lines.push(DetailLine::Text(format!("review: {}", d.review)));
            if let Some(description) = &d.description {
                lines.push(DetailLine::Text(description.clone()));
            }
            for (title, items) in [
                ("Depends on", &d.depends_on),
                ("Notes", &d.notes),
                ("Commits", &d.commits),
                ("Merges", &d.merges),
                ("Decisions", &d.decisions),
                ("Insights", &d.insights),
                ("Agents", &d.agents),
            ] {
                if !items.is_empty() {
                    lines.push(heading(title));
                    lines.extend(items.iter().map(text));
                }
            }
            lines.push(heading("History"));
            lines.extend(
                d.history
                    .iter()
                    .map(|a| DetailLine::Text(feed_line(&self.state, a))),
            );
            return Some(Detail {
                id: id.to_string(),
                title: format!("task {} {}", d.row.short_id, d.row.title),
                lines,
                scroll: 0,
            });
        }
        if self.state.objectives.contains(id) {
            let d = objective_detail(&self.state, &Index::new(&self.state), id, self.now, FEED);
            let mut lines = vec![DetailLine::Text(d.row.line.clone())];
            if let Some(description) = &d.description {
                lines.push(DetailLine::Text(description.clone()));
            }
            lines.push(heading("Tasks"));
            lines.extend(d.tasks.iter().map(|t| DetailLine::Text(t.line.clone())));
            lines.push(heading("History, newest first"));
            lines.extend(
                d.history
                    .iter()
                    .map(|a| DetailLine::Text(feed_line(&self.state, a))),
            );
            return Some(Detail {
                id: id.to_string(),
                title: format!("objective {} {}", d.row.short_id, d.row.title),
                lines,
                scroll: 0,
            });
        }
        None
    }

    /// The header: what is loaded, the time against estimates, the filter.
    pub fn header(&self) -> String {
        let c = &self.overview.counts;
        format!(
            "git ledger · {} events · {} tasks done of {} · filter: {}",
            c.events,
            c.tasks_done,
            c.tasks_open + c.tasks_in_progress + c.tasks_blocked + c.tasks_done,
            self.overview.filter.as_deref().unwrap_or("none")
        )
    }
}

/// `2026-03-06 10:00 t-3f9a2c task done: … (agent:tester)`, without the year.
fn feed_line(state: &State, action: &Action) -> String {
    let line = action.line(state);
    line.get(5..).map(str::to_string).unwrap_or(line)
}

/// The next item of a cycle that goes through every choice, then back to none.
fn next(choices: &[String], current: Option<String>) -> Option<String> {
    match current {
        None => choices.first().cloned(),
        Some(current) => choices
            .iter()
            .position(|c| *c == current)
            .and_then(|i| choices.get(i + 1))
            .cloned(),
    }
}

/// A bar of `width` cells, `fraction` of them full.
pub fn progress_bar(fraction: f64, width: usize) -> String {
    let full = ((fraction.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

fn empty_overview(now: DateTime<Utc>) -> Overview {
    let state = State::default();
    let scope = Scope {
        writer: "",
        actor: "",
        stall_after_minutes: crate::view::health::DEFAULT_STALL_AFTER_MINUTES,
        worktree: std::path::Path::new(""),
        session: None,
        now,
    };
    overview(&state, &scope, &Filter::default(), Limits::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_cycle_through_every_choice_and_back_to_none() {
        let choices = vec!["a".to_string(), "b".to_string()];
        let first = next(&choices, None);
        assert_eq!(first.as_deref(), Some("a"));
        let second = next(&choices, first);
        assert_eq!(second.as_deref(), Some("b"));
        assert_eq!(next(&choices, second), None);
        assert_eq!(next(&[], None), None);
    }

    #[test]
    fn progress_bars_fill_in_proportion() {
        assert_eq!(progress_bar(0.0, 4), "░░░░");
        assert_eq!(progress_bar(0.5, 4), "██░░");
        assert_eq!(progress_bar(2.0, 4), "████");
    }
}
