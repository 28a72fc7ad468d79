//! Recording cost: what `session end`, `agent exit` and `objective budget` are given.

use super::{Error, Ledger, Loaded, optional_text, resolve};
use crate::event::{EntityKind, kind};
use crate::fold::cost::{Usage, parse_money};
use crate::model::Objective;
use serde_json::{Value, json};

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
    parse_money(input).ok_or_else(|| Error::BadMoney(input.to_string()))
}

/// Add the usage fields to an event body.
pub(super) fn with_usage(mut body: Value, usage: &Option<Usage>) -> Value {
    if let Some(usage) = usage {
        if let Some(model) = &usage.model {
            body["model"] = json!(model);
        }
        body["tokens"] = json!(usage.tokens);
        body["cost_micros"] = json!(usage.cost_micros);
    }
    body
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
            batch.push(
                kind::OBJECTIVE_BUDGET_SET,
                &id,
                json!({ "budget_micros": budget_micros }),
            );
            Ok(id)
        })?;
        loaded.entity(EntityKind::Objective, id, |s, id| s.objectives.get(id))
    }
}
