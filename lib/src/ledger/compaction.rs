//! `memory compact`: record a summary of the events before a time. Nothing is deleted; the
//! views show the summary instead of the old items unless asked to expand them.

use super::error::{CompactionError, InputError};
use super::{Error, Ledger, Loaded, text};
use crate::event::body::MemoryCompacted;
use crate::fold::compaction::Compaction;
use chrono::{DateTime, NaiveDate, Utc};

/// A time to compact before: RFC 3339, or a date (the start of that day, UTC).
pub fn parse_before(input: &str) -> Result<DateTime<Utc>, Error> {
    let input = input.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(input) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| Error::Input(InputError::BadTime(input.to_string())))
}

impl Ledger {
    /// Summarise the events before `before` with `summary` (written by the caller).
    pub fn memory_compact(
        &self,
        before: DateTime<Utc>,
        summary: &str,
    ) -> Result<(Loaded, Compaction), Error> {
        let summary = text("summary", summary)?;
        // The range needs every event; the append below re-reads only what came since.
        let full = self.load_full()?;
        if before > full.now {
            return Err(Error::Compaction(CompactionError::BeforeInFuture(
                before.format("%Y-%m-%d %H:%M").to_string(),
            )));
        }
        let limit = before.timestamp_millis().max(0) as u64;
        let covered = full.state.events.partition_point(|e| e.hlc < limit);
        let (Some(first), Some(last)) = (
            full.state.events.first(),
            covered
                .checked_sub(1)
                .and_then(|i| full.state.events.get(i)),
        ) else {
            return Err(Error::Compaction(CompactionError::NothingToCompact(
                before.format("%Y-%m-%d %H:%M").to_string(),
            )));
        };
        let (from, to) = (first.id.clone(), last.id.clone());
        drop(full);
        let (loaded, id) = self.record(|_, batch| {
            let seed = format!("{}\n{}\n{before}\n{summary}", self.writer(), batch.base_hlc);
            let id = format!("m-{}", &blake3::hash(seed.as_bytes()).to_hex()[..16]);
            let body = MemoryCompacted {
                before: crate::clock::format(before),
                summary: summary.clone(),
                events: covered as u64,
                from_event: from.clone(),
                to_event: to.clone(),
            };
            batch.push(&id, body);
            Ok(id)
        })?;
        let compaction = loaded
            .state
            .compactions
            .iter()
            .rev()
            .find(|c| c.id == id)
            .cloned()
            .ok_or_else(|| CompactionError::NotFolded(id.clone()))?;
        Ok((loaded, compaction))
    }
}
