//! A plan as it stands: its stages in plan order, each with its tasks and their state.

use super::doc::Doc;
use super::memory::task_line;
use crate::fold::state::State;
use crate::model::TaskStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub plan: String,
    pub objective: String,
    pub stages: Vec<StageView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub name: String,
    /// Task ids in plan order (cancelled ones included, shown as such).
    pub tasks: Vec<String>,
    pub done: usize,
    /// Tasks that are not cancelled.
    pub total: usize,
    /// `done`, `active` (something started or ready), `waiting` (every open task waits for
    /// another) or `cancelled` (every task dropped).
    pub state: &'static str,
}

/// The plan of that name (the newest objective made from it), if any.
pub fn plan_view(state: &State, name: &str) -> Option<PlanView> {
    let objective = state
        .objectives
        .iter()
        .rev()
        .find(|o| o.plan.as_deref() == Some(name))?;
    let mut stages: Vec<StageView> = Vec::new();
    for task in state
        .tasks
        .iter()
        .filter(|t| t.objective.as_deref() == Some(objective.id.as_str()) && t.plan_key.is_some())
    {
        let stage = task.stage.clone().unwrap_or_default();
        let index = match stages.iter().position(|s| s.name == stage) {
            Some(i) => i,
            None => {
                stages.push(StageView {
                    name: stage,
                    tasks: Vec::new(),
                    done: 0,
                    total: 0,
                    state: "done",
                });
                stages.len() - 1
            }
        };
        let view = &mut stages[index];
        view.tasks.push(task.id.clone());
        if task.status != TaskStatus::Cancelled {
            view.total += 1;
        }
        if task.status == TaskStatus::Done {
            view.done += 1;
        }
    }
    for stage in &mut stages {
        let open: Vec<_> = stage
            .tasks
            .iter()
            .filter_map(|id| state.tasks.get(id))
            .filter(|t| !t.status.is_closed())
            .collect();
        stage.state = if stage.total == 0 {
            "cancelled"
        } else if open.is_empty() {
            "done"
        } else if open
            .iter()
            .all(|t| t.status == TaskStatus::Open && !state.unmet_dependencies(t).is_empty())
        {
            "waiting"
        } else {
            "active"
        };
    }
    Some(PlanView {
        plan: name.to_string(),
        objective: objective.id.clone(),
        stages,
    })
}

/// The names of the plans in the ledger, in the order they were first applied.
pub fn plan_names(state: &State) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for objective in state.objectives.iter() {
        if let Some(plan) = &objective.plan
            && !names.contains(plan)
        {
            names.push(plan.clone());
        }
    }
    names
}

impl PlanView {
    pub fn doc(&self, state: &State, now: DateTime<Utc>) -> Doc {
        let (done, total) = self
            .stages
            .iter()
            .fold((0, 0), |(d, t), s| (d + s.done, t + s.total));
        let mut doc = Doc::new(format!(
            "Plan {}: {} ({done}/{total} tasks done)",
            self.plan,
            state.short(&self.objective)
        ));
        for (i, stage) in self.stages.iter().enumerate() {
            let arrow = if i == 0 { "" } else { "→ " };
            doc.section(
                &format!(
                    "{arrow}Stage {}: {} ({}/{} done)",
                    stage.name, stage.state, stage.done, stage.total
                ),
                stage
                    .tasks
                    .iter()
                    .filter_map(|id| state.tasks.get(id))
                    .map(|t| {
                        let mark = match t.status {
                            TaskStatus::Done => "✓",
                            TaskStatus::InProgress => "▶",
                            TaskStatus::Blocked => "!",
                            TaskStatus::Cancelled => "✗",
                            TaskStatus::Open if state.unmet_dependencies(t).is_empty() => "○",
                            TaskStatus::Open => "·",
                        };
                        format!("{mark} {}", task_line(state, t, now))
                    })
                    .collect(),
                "no tasks",
            );
        }
        doc
    }
}

/// Each plan's drawing, or a hint when there is none.
pub fn plans_text(
    state: &State,
    now: chrono::DateTime<chrono::Utc>,
    views: &[PlanView],
    format: super::doc::Format,
) -> String {
    if views.is_empty() {
        return "No plans yet (git ledger plan apply <file>)\n".into();
    }
    views
        .iter()
        .map(|view| view.doc(state, now).render(format))
        .collect::<Vec<_>>()
        .join("\n")
}
