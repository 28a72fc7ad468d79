//! The housekeeping after a successful append.

use super::{Ledger, Loaded};

impl Ledger {
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
