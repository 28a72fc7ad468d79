//! Reading only what was appended since an earlier read: what a retried append needs.
//!
//! An append that lost the compare-and-swap race has already read and folded the whole
//! ledger. Writer refs only move forward, so the commits from each moved tip back to the tip
//! read before are all that is new. Under contention this turns every retry from a full read
//! (linear in the ledger) into a read of a few commits. Anything unexpected (a ref deleted or
//! rewritten) is reported as `None`, and the caller reads everything again.

use super::{Error, Problem, REF_PREFIX, Snapshot, Store, decode_line};
use git2::{ObjectType, Oid};
use std::collections::{HashMap, HashSet};

impl Store {
    /// The events appended since a read that saw the writer tips `earlier`. `tips` and
    /// `own_tip` of the result are the current ones, `own_commits` counts only the new commits
    /// of this clone's ref. `None` when a ref was deleted or no longer contains the tip read
    /// before, or when a new event was written by another clone than its ref's (an import,
    /// which may repeat an event already read through that clone's ref: only a full read
    /// can tell, by id).
    pub fn snapshot_since(&self, earlier: &[(String, Oid)]) -> Result<Option<Snapshot>, Error> {
        let tips = self.writer_tips()?;
        let current: HashMap<&str, Oid> = tips.iter().map(|(n, o)| (n.as_str(), *o)).collect();
        if earlier
            .iter()
            .any(|(name, _)| !current.contains_key(name.as_str()))
        {
            return Ok(None);
        }
        let before: HashMap<&str, Oid> = earlier.iter().map(|(n, o)| (n.as_str(), *o)).collect();
        let own_ref = self.own_ref().ok();
        let odb = self.repo.odb()?;
        let recent = self.read_recent();
        let mut snapshot = Snapshot {
            tips: tips.clone(),
            ..Snapshot::default()
        };
        let mut seen = HashSet::new();
        for (name, tip) in &tips {
            let own = Some(name) == own_ref.as_ref();
            if own {
                snapshot.own_tip = Some(*tip);
            }
            let writer = name.strip_prefix(REF_PREFIX).unwrap_or("");
            let stop = before.get(name.as_str()).copied();
            let mut next = Some(*tip);
            let mut reached = stop.is_none();
            while let Some(oid) = next {
                if Some(oid) == stop {
                    reached = true;
                    break;
                }
                let problem = |message: String| Problem {
                    reference: name.clone(),
                    commit: oid.to_string(),
                    message,
                };
                let object;
                let data = match recent.get(oid) {
                    Some(raw) => raw,
                    None => match odb.read(oid) {
                        Ok(read) if read.kind() == ObjectType::Commit => {
                            object = read;
                            object.data()
                        }
                        // Damage: let the full read report it the way it always does.
                        _ => return Ok(None),
                    },
                };
                snapshot.own_commits += usize::from(own);
                let (parent, parents) = super::commit_parents(data);
                if parents > 1 {
                    // A merge on a writer ref: the full read reports it.
                    return Ok(None);
                }
                let lines = super::event_lines(data);
                next = parent;
                if lines.is_empty() {
                    snapshot
                        .problems
                        .push(problem("the commit holds no events".into()));
                }
                for line in lines {
                    let parsed = decode_line(line, self.horizon);
                    match parsed {
                        Ok(event) if event.writer != writer => return Ok(None),
                        Ok(event) => {
                            if seen.insert(event.id.clone()) {
                                snapshot.events.push(event);
                            }
                        }
                        Err(message) => snapshot.problems.push(problem(message)),
                    }
                }
            }
            if !reached {
                // The tip read before is not in the ref's history any more: rewritten.
                return Ok(None);
            }
        }
        snapshot.events.sort_by(|a, b| a.order(b));
        Ok(Some(snapshot))
    }
}
