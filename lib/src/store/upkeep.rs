//! Keeping the repository healthy after appends: git's own packing, and recovery from a lock
//! file left by a process that was killed while it moved the ledger ref.

use super::Store;
use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// Every this many commits on this clone's ref, an append lets git decide whether to pack.
pub const GC_EVERY_COMMITS: usize = 256;

/// A ref lock older than this was left by a dead process: a live one holds it for the few
/// microseconds it takes to write 41 bytes and rename a file.
const STALE_LOCK_AGE: Duration = Duration::from_secs(5);

/// A ref lock older than this, found while holding the guard that every append holds while it
/// moves the ref, was left by a dead process (or is a plain git command's, which holds it
/// for microseconds).
const STALE_LOCK_AGE_GUARDED: Duration = Duration::from_millis(200);

impl Store {
    /// Run `git gc --auto --quiet` in the background after an append that took this clone's
    /// ref from `before` to `after` commits, when that crossed a multiple of
    /// [`GC_EVERY_COMMITS`]. Returns whether it was started.
    ///
    /// *Why:* every append writes one loose object, and libgit2 (unlike git's own commands)
    /// never runs the automatic gc. `gc --auto` is what git runs after its own commands: it
    /// honours `gc.auto`, `gc.autoPackLimit` and `gc.autoDetach`, and does nothing until there
    /// are enough loose objects. Asking every 256 commits keeps that check off the hot path.
    /// Unreferenced commits of lost races are pruned by git's usual grace period (2 weeks), so
    /// the commit a concurrent append has written but not yet published is never removed.
    pub fn maybe_gc(&self, before: usize, after: usize) -> bool {
        if before / GC_EVERY_COMMITS == after / GC_EVERY_COMMITS {
            return false;
        }
        let mut git_dir = OsString::from("--git-dir=");
        git_dir.push(self.repo.path());
        let spawned = Command::new("git")
            .arg(git_dir)
            .args(["gc", "--auto", "--quiet"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                // Reap it from a thread, so a long-lived process does not collect zombies;
                // the append itself does not wait, and the process may exit before it ends.
                std::thread::spawn(move || child.wait());
                true
            }
            // Housekeeping only: an append never fails because git could not be started.
            Err(_) => false,
        }
    }

    /// Remove this clone's ref lock (`<ref>.lock`) if a killed process left it behind, so
    /// appends do not stay "busy" forever after a crash. Returns whether one was removed.
    pub fn clear_stale_lock(&self) -> bool {
        let Ok(name) = self.own_ref() else {
            return false;
        };
        let lock = self.repo.commondir().join(format!("{name}.lock"));
        let Ok(modified) = std::fs::metadata(&lock).and_then(|m| m.modified()) else {
            return false;
        };
        let guard = self.own_ref_guard().ok().flatten();
        let limit = if guard.is_some() {
            STALE_LOCK_AGE_GUARDED
        } else {
            STALE_LOCK_AGE
        };
        let stale = SystemTime::now()
            .duration_since(modified)
            .is_ok_and(|age| age > limit);
        stale && std::fs::remove_file(&lock).is_ok()
    }

    /// Take the guard of this clone's ref without waiting: `Ok(None)` when another process
    /// holds it. The kernel releases it when its holder dies, so unlike a ref lock it is
    /// never left behind. (A stopped process holding it makes appends report busy.)
    pub(super) fn own_ref_guard(&self) -> std::io::Result<Option<std::fs::File>> {
        let path = self.repo.commondir().join("ledger").join("own-ref.guard");
        let file = match super::open_regular(&path, true) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                super::open_regular(&path, true)?
            }
            opened => opened?,
        };
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}
