//! Cost and effort: what sessions and agents reported spending (model, tokens, cost), rolled
//! up per agent, task and objective, and checked against objectives' budgets.
//!
//! Money is kept in micro-units (millionths of the currency, US dollars by convention) as
//! whole numbers, so roll-ups are exact sums of what was recorded.

use super::state::State;
use crate::cache::brief::with_usage;
pub use crate::event::money::{money, parse_money};
pub use crate::model::Usage;
use serde::Serialize;
use std::collections::BTreeMap;

/// The share of a budget at which `status` starts warning.
pub const BUDGET_WARNING_PERCENT: u64 = 80;

/// Spending summed over what reported to one thing (a task, an objective, the ledger).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Total {
    pub tokens: u64,
    pub cost_micros: u64,
    /// How many reports went into it.
    pub reports: usize,
}

impl Total {
    fn add(&mut self, usage: &Usage) {
        self.tokens = self.tokens.saturating_add(usage.tokens);
        self.cost_micros = self.cost_micros.saturating_add(usage.cost_micros);
        self.reports += 1;
    }
}

/// An objective's spending against its budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetCheck {
    pub objective: String,
    pub budget_micros: u64,
    pub spent_micros: u64,
    /// Spent as a whole percentage of the budget (rounded down).
    pub percent: u64,
    /// Spending passed the budget.
    pub over: bool,
}

/// The roll-ups `status` and `memory long` show.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Costs {
    pub total: Total,
    /// Sessions and agents reported, whatever they worked on.
    pub by_agent: BTreeMap<String, Total>,
    pub by_session: BTreeMap<String, Total>,
    /// Agents' reports, by the task they were spawned for.
    pub by_task: BTreeMap<String, Total>,
    /// The tasks' totals, by objective.
    pub by_objective: BTreeMap<String, Total>,
    /// Objectives at or past [`BUDGET_WARNING_PERCENT`] of their budget.
    pub warnings: Vec<BudgetCheck>,
}

impl Costs {
    pub fn is_empty(&self) -> bool {
        self.total.reports == 0
    }
}

pub fn costs(state: &State) -> Costs {
    let mut costs = Costs::default();
    // Only entities whose brief says they reported usage (or have a budget) are decoded.
    for session in with_usage(&state.sessions) {
        if let Some(usage) = &session.usage {
            costs.total.add(usage);
            costs
                .by_session
                .entry(session.id.clone())
                .or_default()
                .add(usage);
        }
    }
    for agent in with_usage(&state.agents) {
        let Some(usage) = &agent.usage else {
            continue;
        };
        costs.total.add(usage);
        costs
            .by_agent
            .entry(agent.id.clone())
            .or_default()
            .add(usage);
        let Some(task) = agent.task.as_deref().and_then(|t| state.tasks.get(t)) else {
            continue;
        };
        costs.by_task.entry(task.id.clone()).or_default().add(usage);
        if let Some(objective) = &task.objective {
            costs
                .by_objective
                .entry(objective.clone())
                .or_default()
                .add(usage);
        }
    }
    costs.warnings = with_usage(&state.objectives)
        .filter_map(|o| {
            let budget = o.budget_micros.filter(|b| *b > 0)?;
            let spent = costs.by_objective.get(&o.id).map_or(0, |t| t.cost_micros);
            let percent =
                u64::try_from(u128::from(spent) * 100 / u128::from(budget)).unwrap_or(u64::MAX);
            (percent >= BUDGET_WARNING_PERCENT).then(|| BudgetCheck {
                objective: o.id.clone(),
                budget_micros: budget,
                spent_micros: spent,
                percent,
                over: spent > budget,
            })
        })
        .collect();
    costs
}

/// `12.3k tokens`, `1.2M tokens`, `950 tokens`.
pub fn tokens(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} tokens"),
        1_000..1_000_000 => format!("{:.1}k tokens", n as f64 / 1e3),
        _ => format!("{:.1}M tokens", n as f64 / 1e6),
    }
}

/// `$1.25 · 12.3k tokens (3 reports)`.
pub fn total_text(total: &Total) -> String {
    format!(
        "{} · {} ({} report{})",
        money(total.cost_micros),
        tokens(total.tokens),
        total.reports,
        if total.reports == 1 { "" } else { "s" }
    )
}

/// `o-3f9a2c Title: $9.00 of a $10.00 budget (90 %), nearing it` (or `over budget`).
pub fn budget_line(state: &State, check: &BudgetCheck) -> String {
    let title = state
        .objectives
        .get(&check.objective)
        .map(|o| crate::event::kind::one_line(&o.title, 40))
        .unwrap_or_default();
    format!(
        "{} {title}: {} of a {} budget ({} %), {}",
        state.short(&check.objective),
        money(check.spent_micros),
        money(check.budget_micros),
        check.percent,
        if check.over {
            "over budget"
        } else {
            "nearing it"
        }
    )
}

/// The lines of a cost section: the total, then each objective, task and agent that spent
/// (at most `limit` of each, the biggest first).
pub fn lines(state: &State, costs: &Costs, limit: usize) -> Vec<String> {
    let mut lines = vec![format!("total: {}", total_text(&costs.total))];
    let mut group = |label: &str, totals: &BTreeMap<String, Total>| {
        let mut items: Vec<(&String, &Total)> = totals.iter().collect();
        items.sort_by(|a, b| b.1.cost_micros.cmp(&a.1.cost_micros).then(a.0.cmp(b.0)));
        for (id, total) in items.iter().take(limit) {
            let title = state
                .title_of(id)
                .map(|t| format!(" {}", crate::event::kind::one_line(t, 40)))
                .unwrap_or_default();
            let budget = state
                .objectives
                .get(id)
                .and_then(|o| o.budget_micros)
                .map(|b| format!(" of a {} budget", money(b)))
                .unwrap_or_default();
            lines.push(format!(
                "{label} {}{title}: {}{budget}",
                state.short(id),
                total_text(total)
            ));
        }
        if items.len() > limit {
            lines.push(format!("… and {} more {label}s", items.len() - limit));
        }
    };
    group("objective", &costs.by_objective);
    group("task", &costs.by_task);
    group("agent", &costs.by_agent);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips() {
        for (input, micros, shown) in [
            ("1.25", 1_250_000, "$1.25"),
            ("$0.0031", 3_100, "$0.0031"),
            ("3", 3_000_000, "$3.00"),
            (".5", 500_000, "$0.50"),
            ("0.000001", 1, "$0.000001"),
        ] {
            assert_eq!(parse_money(input), Some(micros), "{input}");
            assert_eq!(money(micros), shown);
        }
        for bad in ["", ".", "-1", "1.2345678", "1,5", "$", "1e3", "abc"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
        assert_eq!(parse_money("99999999999999999999"), None);
    }
}
