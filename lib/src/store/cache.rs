//! Where the local index lives (`cache::db`): a disposable copy of the folded state and the
//! search text, keyed by the writer tips it was computed from. Never the source of truth: a
//! missing, stale, damaged or foreign index is ignored and rebuilt from the refs.

use super::Store;
use std::path::PathBuf;

/// The index's file and the journal files SQLite keeps beside it, by suffix.
const INDEX_FILES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

impl Store {
    /// Where the index lives, made safe to open: SQLite follows links and would block on a
    /// FIFO, so anything there or beside it (its journal files) that is not a regular file
    /// is removed first.
    pub fn index_path(&self) -> std::io::Result<PathBuf> {
        let dir = self.repo.commondir().join("ledger");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("index.sqlite");
        for suffix in INDEX_FILES {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if std::fs::symlink_metadata(&file).is_ok_and(|m| !m.is_file()) {
                super::remove_damage(&file);
            }
        }
        Ok(path)
    }

    /// Remove the index and its journal files, so the next read builds it anew. Processes
    /// that have it open keep their own copy until they close it.
    pub fn remove_index(&self) {
        if let Ok(path) = self.index_path() {
            for suffix in INDEX_FILES {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        self.clear_recent();
    }

    /// The index now holds every commit this clone appended: forget the copies kept of them.
    pub fn index_written(&self) {
        self.clear_recent();
    }
}
