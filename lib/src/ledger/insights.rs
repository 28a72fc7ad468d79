//! Insights, and their promotion into the knowledge base.

use super::work::with_optional;
use super::{Error, Ledger, Loaded, resolve, text};
use crate::event::{EntityKind, kind};
use crate::model::Insight;
use serde_json::json;

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
            let body = json!({ "text": insight, "tags": clean_tags, "knowledge": knowledge });
            batch.push(kind::INSIGHT_ADDED, &id, with_optional(body, "task", &task));
            Ok(id)
        })?;
        loaded.entity(EntityKind::Insight, id, |s, id| s.insights.get(id))
    }

    /// Promote an insight into the knowledge base (idempotent).
    pub fn insight_promote(&self, input: &str) -> Result<(Loaded, Insight), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = resolve(state, EntityKind::Insight, input)?;
            if state.insights.get(&id).is_some_and(|i| !i.knowledge) {
                batch.push(kind::INSIGHT_PROMOTED, &id, json!({}));
            }
            Ok(id)
        })?;
        loaded.entity(EntityKind::Insight, id, |s, id| s.insights.get(id))
    }
}
