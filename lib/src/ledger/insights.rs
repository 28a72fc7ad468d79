//! Insights, and their promotion into the knowledge base.

use super::{Error, Ledger, Loaded, resolve, text};
use crate::event::EntityKind;
use crate::event::body::{InsightAdded, InsightPromoted};
use crate::model::Insight;

impl Ledger {
    pub fn insight_add(
        &self,
        insight: &str,
        tags: &[String],
        knowledge: bool,
        task: Option<&str>,
    ) -> Result<(Loaded, Insight), Error> {
        let insight = text("insight", insight)?;
        let mut clean_tags: Vec<String> = Vec::new();
        for tag in tags {
            let tag = text("tag", tag.trim_start_matches('#'))?.to_lowercase();
            if !clean_tags.contains(&tag) {
                clean_tags.push(tag);
            }
        }
        let (loaded, id) = self.record(|state, batch| {
            let task = task
                .map(|t| resolve(state, EntityKind::Task, t))
                .transpose()?;
            let id = batch.new_id(EntityKind::Insight, &insight);
            let body = InsightAdded {
                text: insight.clone(),
                tags: clean_tags.clone(),
                knowledge,
                task,
                source_id: None,
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Insight, id, |s, id| s.insights.get(id))
    }

    /// Promote an insight into the knowledge base (idempotent).
    pub fn insight_promote(&self, input: &str) -> Result<(Loaded, Insight), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = resolve(state, EntityKind::Insight, input)?;
            if state.insights.get(&id).is_some_and(|i| !i.knowledge) {
                batch.push(&id, InsightPromoted {});
            }
            Ok(id)
        })?;
        loaded.entity(EntityKind::Insight, id, |s, id| s.insights.get(id))
    }
}
