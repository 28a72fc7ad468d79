//! Lossless compaction: summaries that stand for the events before a time in the memory
//! views, while the events themselves stay in the ledger.
//!
//! A `memory.compacted` event carries a summary written by its caller (an agent, a person)
//! and points at the range of events it summarises. The short- and long-term views show the
//! newest summary in place of the items older than its `before`; `--expand` ignores
//! summaries and gives exactly the view of a ledger that was never compacted.

use crate::model::time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compaction {
    pub id: String,
    /// The items older than this are summarised.
    #[serde(with = "time")]
    pub before: DateTime<Utc>,
    pub summary: String,
    /// How many events the summary stands for, and the first and last of them in the
    /// ledger's order.
    pub events: u64,
    pub from_event: String,
    pub to_event: String,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
    pub actor: String,
}

/// Which summaries a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summaries {
    /// The newest compaction stands for what it covers.
    Use,
    /// Every item, as if nothing had been compacted.
    Expand,
}

/// The compaction a view applies: the newest one, unless expanded.
pub fn applied(compactions: &[Compaction], summaries: Summaries) -> Option<&Compaction> {
    match summaries {
        Summaries::Use => compactions.last(),
        Summaries::Expand => None,
    }
}

/// Whether an item of time `at` is covered by the compaction (and so left out of the view).
pub fn covers(compaction: Option<&Compaction>, at: DateTime<Utc>) -> bool {
    compaction.is_some_and(|c| at < c.before)
}

/// The lines of the summary section: what it covers, then the summary text, line by line.
pub fn summary_lines(compaction: &Compaction) -> Vec<String> {
    let mut lines = vec![format!(
        "{} events before {} ({} … {}), summarised by {} at {} (--expand shows them)",
        compaction.events,
        compaction.before.format("%Y-%m-%d %H:%M"),
        crate::event::short_hex(&compaction.from_event),
        crate::event::short_hex(&compaction.to_event),
        compaction.actor,
        compaction.time.format("%Y-%m-%d %H:%M"),
    )];
    lines.extend(
        compaction
            .summary
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>()),
    );
    lines
}
