//! The project dashboard behind `git ledger status`.

use super::claims::{LostClaimNotice, lost_claim_line, lost_claims};
use super::doc::Doc;
use super::health::{self, Stall};
use super::memory::{
    Scope, agent_line, agent_line_with, claim_text, decision_line, minutes_text, objective_line_of,
    session_line, task_line,
};
use crate::cache::brief;
use crate::cache::brief::TaskBrief;
use crate::fold::cost::{self, Costs};
use crate::fold::state::{Conflict, State};
use crate::model::TaskStatus;
use crate::model::claims::Claim;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub objectives_active: usize,
    pub objectives_done: usize,
    pub tasks_open: usize,
    pub tasks_in_progress: usize,
    pub tasks_blocked: usize,
    pub tasks_done: usize,
    pub tasks_cancelled: usize,
    pub tasks_ready: usize,
    pub decisions_open: usize,
    pub insights: usize,
    pub sessions_open: usize,
    /// Agents spawned and not recorded as exited.
    pub agents_running: usize,
    /// Agents recorded as exited (any outcome).
    pub agents_finished: usize,
    /// Running agents silent for longer than the stall threshold (among the running ones).
    pub agents_stalled: usize,
    pub events: usize,
    /// Events of kinds this version does not know (written by a newer version).
    pub unknown_events: usize,
    /// Events about entities the ledger does not have.
    pub orphan_events: usize,
    /// Status changes made without seeing a concurrent one (the later one won).
    pub conflicts: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub counts: Counts,
    pub session: Option<String>,
    pub focus: Option<String>,
    pub in_progress: Vec<String>,
    pub ready: Vec<String>,
    pub blocked: Vec<String>,
    pub open_decisions: Vec<String>,
    pub conflicts: Vec<Conflict>,
    /// Live claims: task, holder, epoch, expiry.
    pub claims: Vec<ClaimedTask>,
    /// Claims made as this actor on this clone that another holder's claim beat.
    pub lost_claims: Vec<LostClaimNotice>,
    /// Spending reported by sessions and agents, rolled up, with budget warnings.
    pub cost: Costs,
    /// Each role's queue and who works on what (roles of tasks that are not closed).
    pub roles: Vec<RoleQueue>,
    /// Running agents silent for longer than `stall_after_minutes`, the longest silent first.
    pub stalled_agents: Vec<Stall>,
    pub stall_after_minutes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleQueue {
    pub role: String,
    /// Ready tasks for the role nobody holds, by priority.
    pub ready: Vec<String>,
    /// Tasks in progress (or claimed), with who works on them.
    pub working: Vec<Working>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Working {
    pub task: String,
    /// The claim holder, else the running agent spawned for it, else whoever started it.
    pub by: String,
}

/// Each role's queue: what is ready for it, and who works on what.
pub fn roles(state: &State, now: chrono::DateTime<chrono::Utc>) -> Vec<RoleQueue> {
    let mut queues: Vec<RoleQueue> = Vec::new();
    let mut working: Vec<usize> = Vec::new();
    for &i in state.tasks.keyed(brief::TASK_ROLE_OPEN) {
        let i = i as usize;
        let Some(role) = TaskBrief::parse(state.tasks.brief_at(i)).and_then(|t| t.role) else {
            continue;
        };
        working.push(i);
        if !queues.iter().any(|q| q.role == role) {
            queues.push(RoleQueue {
                role: role.to_string(),
                ready: Vec::new(),
                working: Vec::new(),
            });
        }
    }
    let working: Vec<&crate::model::Task> = working
        .into_iter()
        .filter_map(|i| state.tasks.at(i))
        .collect();
    let running: Vec<&crate::model::Agent> = brief::open(&state.agents).collect();
    let now_ms = now.timestamp_millis();
    let unclaimed = |i: &usize| {
        !TaskBrief::parse(state.tasks.brief_at(*i)).is_some_and(|t| t.claimed_at(now_ms))
    };
    for queue in &mut queues {
        queue.ready = state
            .ready_iter(Some(&queue.role))
            .filter(unclaimed)
            .map(|i| state.tasks.id_at(i).to_string())
            .collect();
        queue.working = working
            .iter()
            .filter(|t| t.role.as_deref() == Some(queue.role.as_str()))
            .filter_map(|t| {
                let claim = t.claims.live(now).map(|c| c.holder.clone());
                let agent = running
                    .iter()
                    .rev()
                    .find(|a| a.task.as_deref() == Some(t.id.as_str()))
                    .map(|a| format!("agent:{}", a.id));
                let starter = (t.status == TaskStatus::InProgress)
                    .then(|| t.status_event.as_ref().map(|e| e.actor.clone()))
                    .flatten();
                Some(Working {
                    task: t.id.clone(),
                    by: claim.or(agent).or(starter)?,
                })
            })
            .collect();
    }
    queues
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimedTask {
    pub task: String,
    #[serde(flatten)]
    pub claim: Claim,
}

/// The dashboard as of `scope.now`; running agents silent for longer than
/// `stall_after_minutes` are stalled. The lists of tasks and decisions hold the first `limit`
/// (all with `None`); the counts are always of all.
///
/// Counts and lists come from the key sets and the ready list the cache keeps, so the
/// dashboard costs what it shows, not what the ledger holds; entities are decoded only where
/// a view needs more than a brief (claims, and the lines shown).
pub fn status(
    state: &State,
    scope: &Scope,
    stall_after_minutes: u64,
    limit: Option<usize>,
) -> Status {
    let stalled_agents = health::stalled(state, scope.now, stall_after_minutes);
    let limit = limit.unwrap_or(usize::MAX);
    let tasks = |status: TaskStatus| state.tasks.keyed_first(brief::status_key(status), limit);
    let count = |status: TaskStatus| state.tasks.key_count(brief::status_key(status));
    let ids_of = |positions: Vec<u32>| -> Vec<String> {
        positions
            .iter()
            .map(|&i| state.tasks.id_at(i as usize).to_string())
            .collect()
    };
    let now_ms = scope.now.timestamp_millis();
    let claimed = state.tasks.keyed(brief::TASK_CLAIMED).iter().filter(|&&i| {
        TaskBrief::parse(state.tasks.brief_at(i as usize))
            .is_some_and(|t| !t.status.is_closed() && t.claimed_at(now_ms))
    });
    let ready: Vec<String> = state
        .ready_iter(None)
        .take(limit)
        .map(|i| state.tasks.id_at(i).to_string())
        .collect();
    let objectives_active = brief::open_count(&state.objectives);
    let agents_running = brief::open_count(&state.agents);
    let open_decisions: Vec<String> = brief::open_positions(&state.decisions)
        .take(limit)
        .map(|i| state.decisions.id_at(i).to_string())
        .collect();
    Status {
        counts: Counts {
            objectives_active,
            objectives_done: state.objectives.len() - objectives_active,
            tasks_open: count(TaskStatus::Open),
            tasks_in_progress: count(TaskStatus::InProgress),
            tasks_blocked: count(TaskStatus::Blocked),
            tasks_done: count(TaskStatus::Done),
            tasks_cancelled: count(TaskStatus::Cancelled),
            tasks_ready: state.ready_count(),
            decisions_open: brief::open_count(&state.decisions),
            insights: state.insights.len(),
            sessions_open: brief::open_count(&state.sessions),
            agents_running,
            agents_finished: state.agents.len() - agents_running,
            agents_stalled: stalled_agents.len(),
            events: state.event_count,
            unknown_events: state.unknown_events,
            orphan_events: state.orphans.len(),
            conflicts: state.conflicts.len(),
        },
        session: scope.session.map(str::to_string),
        focus: state
            .focus(scope.writer, scope.worktree)
            .map(|t| t.id.clone()),
        in_progress: ids_of(tasks(TaskStatus::InProgress)),
        ready,
        blocked: ids_of(tasks(TaskStatus::Blocked)),
        open_decisions,
        conflicts: state.conflicts.clone(),
        claims: claimed
            .filter_map(|&i| {
                let t = state.tasks.at(i as usize)?;
                let claim = t.claims.live(scope.now)?;
                Some(ClaimedTask {
                    task: t.id.clone(),
                    claim: claim.clone(),
                })
            })
            .collect(),
        lost_claims: lost_claims(state, scope.actor, scope.writer),
        cost: cost::costs(state),
        roles: roles(state, scope.now),
        stalled_agents,
        stall_after_minutes,
    }
}

/// How many items each list of the dashboard shows.
pub const LIST_LIMIT: usize = 10;

impl Status {
    pub fn doc(&self, state: &State, scope: &Scope) -> Doc {
        let c = &self.counts;
        let mut doc = Doc::new(format!(
            "{} objective(s) active, {} done · tasks: {} open, {} in progress, {} blocked, {} done · {} decision(s) open · {} event(s)",
            c.objectives_active,
            c.objectives_done,
            c.tasks_open,
            c.tasks_in_progress,
            c.tasks_blocked,
            c.tasks_done,
            c.decisions_open,
            c.events
        ));
        let session = self
            .session
            .as_deref()
            .and_then(|id| state.sessions.get(id))
            .map(|s| session_line(state, s));
        let focus = self
            .focus
            .as_deref()
            .and_then(|id| state.tasks.get(id))
            .map(|t| task_line(state, t, scope.now));
        doc.section(
            "Here",
            vec![
                format!("session: {}", session.unwrap_or_else(|| "none".into())),
                format!("focus: {}", focus.unwrap_or_else(|| "none".into())),
            ],
            "",
        );
        doc.section(
            "Objectives",
            brief::open_first(&state.objectives, LIST_LIMIT)
                .map(|o| {
                    let (done, total) = state.objective_progress(&o.id);
                    objective_line_of(state, o, done, total)
                })
                .collect(),
            "no active objective",
        );
        let tasks = |ids: &[String], all: usize| -> Vec<String> {
            let mut lines: Vec<String> = ids
                .iter()
                .take(LIST_LIMIT)
                .filter_map(|id| state.tasks.get(id))
                .map(|t| task_line(state, t, scope.now))
                .collect();
            if all > LIST_LIMIT {
                lines.push(format!("… and {} more", all - LIST_LIMIT));
            }
            lines
        };
        doc.section(
            "In progress",
            tasks(&self.in_progress, c.tasks_in_progress),
            "nothing in progress",
        );
        doc.section(
            "Ready",
            tasks(&self.ready, c.tasks_ready),
            "no task is ready",
        );
        doc.section(
            "Blocked",
            tasks(&self.blocked, c.tasks_blocked),
            "nothing blocked",
        );
        doc.section(
            "Open decisions",
            self.open_decisions
                .iter()
                .take(LIST_LIMIT)
                .filter_map(|id| state.decisions.get(id))
                .map(|d| decision_line(state, d))
                .collect(),
            "none",
        );
        // Only ledgers that have agents get the section, so the dashboard of one without stays
        // as short as it was.
        if c.agents_running + c.agents_finished > 0 {
            let mut lines = Vec::new();
            if !self.stalled_agents.is_empty() {
                lines.push(format!(
                    "warning: {} agent(s) silent for over {}: check on them, or record their end (git ledger agent exit <id>)",
                    self.stalled_agents.len(),
                    minutes_text(self.stall_after_minutes)
                ));
            }
            // The stalled ones first, then the other running ones.
            let stalled = self.stalled_agents.iter().filter_map(|stall| {
                Some(agent_line_with(
                    state,
                    state.agents.get(&stall.agent)?,
                    Some(stall),
                ))
            });
            let running = brief::open(&state.agents)
                .filter(|a| !self.stalled_agents.iter().any(|s| s.agent == a.id))
                .map(|a| agent_line(state, a));
            lines.extend(stalled.chain(running).take(LIST_LIMIT));
            if c.agents_running > LIST_LIMIT {
                lines.push(format!("… and {} more", c.agents_running - LIST_LIMIT));
            }
            let stalled = match c.agents_stalled {
                0 => String::new(),
                n => format!(" ({n} stalled)"),
            };
            lines.push(format!(
                "{} running{stalled}, {} finished (git ledger agent list)",
                c.agents_running, c.agents_finished
            ));
            doc.section("Agents", lines, "");
        }
        // Roles appear only in ledgers whose tasks have them.
        if !self.roles.is_empty() {
            let lines = self
                .roles
                .iter()
                .map(|q| {
                    let working: Vec<String> = q
                        .working
                        .iter()
                        .map(|w| format!("{} by {}", state.short(&w.task), w.by))
                        .collect();
                    let ready: Vec<String> = q
                        .ready
                        .iter()
                        .take(LIST_LIMIT)
                        .map(|id| state.short(id))
                        .collect();
                    format!(
                        "{}: {} ready{}; {}",
                        q.role,
                        q.ready.len(),
                        if ready.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", ready.join(", "))
                        },
                        if working.is_empty() {
                            "nobody working".to_string()
                        } else {
                            format!("working: {}", working.join(", "))
                        }
                    )
                })
                .collect();
            doc.section("Roles", lines, "");
        }
        // Claims appear only in ledgers that use them.
        if !self.claims.is_empty() {
            let mut lines: Vec<String> = self
                .claims
                .iter()
                .take(LIST_LIMIT)
                .filter_map(|c| {
                    let task = state.tasks.get(&c.task)?;
                    Some(format!(
                        "{} {}: {} (epoch {})",
                        state.short(&task.id),
                        crate::event::kind::one_line(&task.title, 40),
                        claim_text(&c.claim),
                        c.claim.epoch
                    ))
                })
                .collect();
            if self.claims.len() > LIST_LIMIT {
                lines.push(format!("… and {} more", self.claims.len() - LIST_LIMIT));
            }
            doc.section("Claims", lines, "");
        }
        if !self.lost_claims.is_empty() {
            doc.section(
                "Lost claims",
                self.lost_claims
                    .iter()
                    .map(|n| lost_claim_line(state, n))
                    .collect(),
                "",
            );
        }
        if !self.cost.is_empty() {
            doc.section("Cost", cost::lines(state, &self.cost, 3), "");
        }
        if !self.cost.warnings.is_empty() {
            doc.section(
                "Budget",
                self.cost
                    .warnings
                    .iter()
                    .map(|w| cost::budget_line(state, w))
                    .collect(),
                "",
            );
        }
        // Only when there are any, so the dashboard of a ledger without stays as it was.
        if !self.conflicts.is_empty() {
            let mut lines: Vec<String> = self
                .conflicts
                .iter()
                .rev()
                .take(LIST_LIMIT)
                .map(|c| conflict_line(state, c))
                .collect();
            if self.conflicts.len() > LIST_LIMIT {
                lines.push(format!("… and {} more", self.conflicts.len() - LIST_LIMIT));
            }
            doc.section("Conflicts", lines, "");
        }
        if c.unknown_events + c.orphan_events > 0 {
            doc.section(
                "Warnings",
                vec![format!(
                    "{} event(s) this version cannot read (kept; `git ledger audit` says why), {} about missing entities",
                    c.unknown_events, c.orphan_events
                )],
                "",
            );
        }
        doc
    }
}

/// One conflict for people: which task, which change won, which it overrode unseen.
pub fn conflict_line(state: &State, c: &Conflict) -> String {
    let title = state
        .tasks
        .get(&c.task)
        .map(|t| crate::event::kind::one_line(&t.title, 40))
        .unwrap_or_default();
    let overrode = match (&c.overrode_kind, &c.overrode_actor) {
        (Some(kind), Some(actor)) => format!("{kind} by {actor}"),
        _ => "a status change".to_string(),
    };
    format!(
        "{} {title}: {} by {} ({}) overrode {overrode}, which it had not seen",
        state.short(&c.task),
        c.kind,
        c.actor,
        c.time.format("%Y-%m-%d %H:%M"),
    )
}
