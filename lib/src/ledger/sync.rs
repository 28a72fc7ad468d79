//! `sync`: exchange events with a remote. How refs move, and what is refused, is the store's
//! business (`store::sync`); this adds what the sync meant for the ledger.

use super::{Error, Ledger, Loaded};
use crate::store::SyncReport;
use serde::Serialize;

/// What a sync did, in refs and in events.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    #[serde(flatten)]
    pub refs: SyncReport,
    /// Events that arrived from the remote (new to this clone).
    pub received: usize,
    /// Events in the ledger after the sync.
    pub events: usize,
    /// Status changes made without seeing a concurrent one, now that both are here.
    pub conflicts: usize,
}

impl Ledger {
    /// Fetch other clones' writer refs from `remote`, take in those that moved forward, and
    /// push this clone's refs unless `push` is false. A rewritten copy on the remote is
    /// refused before anything moves.
    pub fn sync(&self, remote: &str, push: bool) -> Result<(Loaded, SyncOutcome), Error> {
        let before = self.load()?.state.event_count;
        let refs = self.store.sync(remote, push)?;
        let loaded = self.load()?;
        let outcome = SyncOutcome {
            refs,
            received: loaded.state.event_count.saturating_sub(before),
            events: loaded.state.event_count,
            conflicts: loaded.state.conflicts.len(),
        };
        Ok((loaded, outcome))
    }
}
