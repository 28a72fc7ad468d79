//! What the compare-and-swap loop needs besides the append itself: a cheap re-read after a
//! lost race, and the housekeeping after a successful append.

use super::{Error, Ledger, Loaded};
use crate::clock;
use std::collections::HashSet;

impl Ledger {
    /// Bring a state read earlier up to date by reading only the commits appended since.
    ///
    /// *Why:* with many processes appending to one ref, most attempts lose the race; reading
    /// and folding the whole ledger again on each retry made the cost of an append grow with
    /// the number of contenders times the size of the ledger. The result is the state a full
    /// read would give: new events are folded in the total order, which holds as long as they
    /// all order after the events already folded. When they do not (events fetched from
    /// another clone with older clocks), or a ref was deleted or rewritten, everything is
    /// read again.
    pub(super) fn refresh(&self, mut loaded: Loaded) -> Result<Loaded, Error> {
        let known: HashSet<&str> = loaded.state.events.iter().map(|e| e.id.as_str()).collect();
        let newer = self
            .store
            .snapshot_since(&loaded.tips, |id| known.contains(id))?;
        drop(known);
        let Some(newer) = newer else {
            return self.load();
        };
        if newer.events.iter().any(|e| e.hlc <= loaded.state.max_hlc) {
            return self.load();
        }
        if !newer.events.is_empty() {
            for event in newer.events {
                loaded.state.apply(event);
            }
            loaded.state.refresh_abbrev();
        }
        loaded.problems.extend(newer.problems);
        loaded.tips = newer.tips;
        loaded.own_tip = newer.own_tip;
        loaded.own_commits += newer.own_commits;
        loaded.now = clock::now()?;
        Ok(loaded)
    }

    /// After `commits` commits were appended, ending at `tip`: keep the bookkeeping of
    /// `loaded` true and let git pack loose objects every so often.
    pub(super) fn after_append(&self, loaded: &mut Loaded, tip: git2::Oid, commits: usize) {
        let before = loaded.own_commits;
        loaded.own_commits += commits;
        if let Ok(own) = self.store.own_ref() {
            match loaded.tips.iter_mut().find(|(name, _)| *name == own) {
                Some(entry) => entry.1 = tip,
                None => loaded.tips.push((own, tip)),
            }
        }
        self.store.maybe_gc(before, loaded.own_commits);
    }
}
