//! Recording cost: what `session end`, `agent exit` and `objective budget` are given.

use super::error::InputError;
use super::{Error, Ledger, Loaded, optional_text, resolve};
use crate::event::EntityKind;
use crate::event::body::ObjectiveBudgetSet;
use crate::fold::cost::{Usage, parse_money};
use crate::model::Objective;

/// Model, tokens and cost as typed by a user or an agent.
#[derive(Debug, Default, Clone)]
pub struct UsageInput {
    pub model: Option<String>,
    pub tokens: Option<u64>,
    /// Money, like `1.25` or `$0.003`.
    pub cost: Option<String>,
}

impl UsageInput {
    /// The usage to record; `None` when nothing was given.
    pub fn parse(&self) -> Result<Option<Usage>, Error> {
        let model = optional_text("model", self.model.as_deref())?;
        let cost = self.cost.as_deref().map(parse_cost).transpose()?;
        if model.is_none() && self.tokens.is_none() && cost.is_none() {
            return Ok(None);
        }
        Ok(Some(Usage {
            model,
            tokens: self.tokens.unwrap_or(0),
            cost_micros: cost.unwrap_or(0),
        }))
    }
}

/// Money as micro-units, or the error that says how to write it.
pub fn parse_cost(input: &str) -> Result<u64, Error> {
    parse_money(input).ok_or_else(|| Error::Input(InputError::BadMoney(input.to_string())))
}

/// The usage fields of an event body: model, tokens and cost (the model only if known).
pub(super) fn usage_fields(usage: &Option<Usage>) -> (Option<String>, Option<u64>, Option<u64>) {
    match usage {
        Some(usage) => (
            usage.model.clone(),
            Some(usage.tokens),
            Some(usage.cost_micros),
        ),
        None => (None, None, None),
    }
}

impl Ledger {
    /// Set (or change) an objective's budget.
    pub fn objective_budget(
        &self,
        input: &str,
        budget_micros: u64,
    ) -> Result<(Loaded, Objective), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = resolve(state, EntityKind::Objective, input)?;
            batch.push(&id, ObjectiveBudgetSet { budget_micros });
            Ok(id)
        })?;
        loaded.entity(EntityKind::Objective, id, |s, id| s.objectives.get(id))
    }
}
