//! Commits this clone appended since the index was written, kept beside it as they were
//! written: a command reads them from one small file instead of one loose object each
//! (open, read, inflate). Disposable like the index: a commit missing from the file, or one
//! whose bytes do not hash to its id, is read from the object database as before.
//!
//! Records, one after another: `<commit id> <length>\n<the raw commit object>\n`.

use super::Store;
use git2::{ObjectType, Oid};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// Past this size the file is not appended to (the index is not being written, so it
/// would only grow); reads fall back to the object database.
const MAX_BYTES: u64 = 1 << 20;

/// The commits read from the file, by id; each is checked when it is asked for.
#[derive(Default)]
pub(super) struct Recent {
    bytes: Vec<u8>,
    at: HashMap<Oid, std::ops::Range<usize>>,
}

impl Recent {
    /// The raw commit `oid`, if the file has it and its bytes hash to it.
    pub(super) fn get(&self, oid: Oid) -> Option<&[u8]> {
        let raw = self.bytes.get(self.at.get(&oid)?.clone())?;
        (Oid::hash_object(ObjectType::Commit, raw).ok()? == oid).then_some(raw)
    }
}

impl Store {
    fn recent_path(&self) -> PathBuf {
        self.repo
            .commondir()
            .join("ledger")
            .join("cache")
            .join("recent")
    }

    /// What the file holds, up to its first malformed record (a write cut short).
    pub(super) fn read_recent(&self) -> Recent {
        let mut bytes = Vec::new();
        let read = super::open_regular(&self.recent_path(), false)
            .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut bytes));
        if read.is_err() {
            return Recent::default();
        }
        let mut at = HashMap::new();
        let mut rest = 0;
        while let Some(record) = record_at(&bytes, rest) {
            at.insert(record.0, record.1.clone());
            rest = record.1.end + 1;
        }
        Recent { bytes, at }
    }

    /// Add commits just published on this clone's ref (best effort: the file only saves
    /// reads).
    pub(super) fn remember_recent(&self, commits: &[(Oid, Vec<u8>)]) {
        let path = self.recent_path();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_BYTES) {
            return;
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut records = Vec::new();
        for (oid, raw) in commits {
            records.extend_from_slice(format!("{oid} {}\n", raw.len()).as_bytes());
            records.extend_from_slice(raw);
            records.push(b'\n');
        }
        // One write in append mode: a reader sees whole records, or stops at a cut one.
        let _ = super::open_regular(&path, true).and_then(|mut file| file.write_all(&records));
    }

    /// Forget them: the index just written holds their events.
    pub(super) fn clear_recent(&self) {
        let _ = std::fs::remove_file(self.recent_path());
    }
}

/// The record starting at `at`: its commit id and where its bytes are.
fn record_at(bytes: &[u8], at: usize) -> Option<(Oid, std::ops::Range<usize>)> {
    let header_end = at + memchr::memchr(b'\n', bytes.get(at..)?)?;
    let header = std::str::from_utf8(&bytes[at..header_end]).ok()?;
    let (oid, len) = header.split_once(' ')?;
    let oid = Oid::from_str(oid).ok()?;
    let start = header_end + 1;
    let end = start.checked_add(len.parse::<usize>().ok()?)?;
    (bytes.get(end) == Some(&b'\n')).then_some((oid, start..end))
}
