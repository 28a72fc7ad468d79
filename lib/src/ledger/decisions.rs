//! Decisions: a question with options, later made with a choice and its rationale.

use super::error::{InputError, WorkError};
use super::{Error, Ledger, Loaded, resolve, text};
use crate::event::EntityKind;
use crate::event::body::{DecisionMade, DecisionRequested};
use crate::model::{Decision, DecisionStatus};

impl Ledger {
    pub fn decision_request(
        &self,
        question: &str,
        options: &[String],
        task: Option<&str>,
    ) -> Result<(Loaded, Decision), Error> {
        let question = text("question", question)?;
        let mut clean_options: Vec<String> = Vec::new();
        for option in options {
            let option = text("option", option)?;
            if !clean_options.contains(&option) {
                clean_options.push(option);
            }
        }
        let (loaded, id) = self.record(|state, batch| {
            let task = task
                .map(|t| resolve(state, EntityKind::Task, t))
                .transpose()?;
            let id = batch.new_id(EntityKind::Decision, &question);
            let body = DecisionRequested {
                question: question.clone(),
                options: clean_options.clone(),
                task,
                source_id: None,
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Decision, id, |s, id| s.decisions.get(id))
    }

    /// Make a decision. When the request listed options, the choice must be one of them
    /// (case-insensitive, or its number starting at 1); the rationale is required.
    pub fn decision_make(
        &self,
        input: &str,
        choice: &str,
        rationale: &str,
    ) -> Result<(Loaded, Decision), Error> {
        let choice = text("choice", choice)?;
        let rationale = text("rationale", rationale)?;
        let (loaded, id) = self.record(|state, batch| {
            let id = resolve(state, EntityKind::Decision, input)?;
            let decision = state.decisions.get(&id).ok_or_else(|| {
                Error::Input(InputError::UnknownId {
                    kind: EntityKind::Decision,
                    input: id.clone(),
                })
            })?;
            if decision.status == DecisionStatus::Made {
                return Err(Error::Work(WorkError::WrongState {
                    id: state.short(&id),
                    status: "already made",
                    action: "made again",
                }));
            }
            let chosen = if decision.options.is_empty() {
                choice.clone()
            } else {
                pick_option(&decision.options, &choice).ok_or_else(|| {
                    Error::Input(InputError::UnknownChoice {
                        id: state.short(&id),
                        choice: choice.clone(),
                        options: decision.options.clone(),
                    })
                })?
            };
            let body = DecisionMade {
                choice: chosen.clone(),
                rationale: rationale.clone(),
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Decision, id, |s, id| s.decisions.get(id))
    }
}

fn pick_option(options: &[String], choice: &str) -> Option<String> {
    if let Some(option) = options.iter().find(|o| o.eq_ignore_ascii_case(choice)) {
        return Some(option.clone());
    }
    let number: usize = choice.parse().ok()?;
    options.get(number.checked_sub(1)?).cloned()
}
