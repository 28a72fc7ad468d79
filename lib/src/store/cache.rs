//! The projection cache file: a disposable copy of the folded state, keyed by the writer tips
//! it was computed from. Never the source of truth: a missing, stale, damaged or foreign cache
//! is ignored and rebuilt from the refs.

use super::Store;
use crate::cache::table::SharedBytes;
use git2::Oid;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Changes when the cached state's layout changes, so an old cache is never misread.
const CACHE_FORMAT: &str = "git-ledger cache 17";

/// The search index's file and the journal files SQLite keeps beside it, by suffix.
const INDEX_FILES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// A cache file as read: the tips it was computed from and the encoded state, which starts at
/// `payload_start` in the file's bytes (mapped, not read: see `cache::table`).
pub struct Cached {
    pub tips: Vec<(String, Oid)>,
    pub bytes: SharedBytes,
    pub payload_start: usize,
}

impl Store {
    fn cache_path(&self) -> PathBuf {
        self.repo
            .commondir()
            .join("ledger")
            .join("cache")
            .join("state")
    }

    /// The cache, if there is one written by this version and the checksum of its header holds
    /// (the payload checks itself: see `State::from_cache`).
    pub fn read_cache(&self) -> Option<Cached> {
        // Only a regular file: a FIFO put there would block every command (and is removed).
        let file = super::open_regular(&self.cache_path(), false).ok()?;
        // SAFETY: the file is only ever replaced whole by a rename (`write_cache`), never
        // written in place, so the mapped bytes do not change under us.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let bytes: &[u8] = &map;
        let header_end = memchr::memmem::find(bytes, b"\n\n")?;
        let header = std::str::from_utf8(&bytes[..header_end]).ok()?;
        let payload_start = header_end + 2;
        let mut lines = header.lines();
        if lines.next()? != format!("{CACHE_FORMAT} {}", env!("CARGO_PKG_VERSION")) {
            return None;
        }
        let sum = lines.next()?;
        let tips_start = header.find('\n').and_then(|first| {
            let second = header[first + 1..].find('\n')?;
            Some(first + 1 + second + 1)
        });
        let tips_text = tips_start
            .and_then(|start| header.get(start..))
            .unwrap_or("");
        if sum != checksum(tips_text.as_bytes()) {
            return None;
        }
        let mut tips = Vec::new();
        for line in lines {
            let (oid, name) = line.split_once(' ')?;
            tips.push((name.to_string(), Oid::from_str(oid).ok()?));
        }
        Some(Cached {
            tips,
            bytes: Arc::new(map),
            payload_start,
        })
    }

    /// Remove the cache (best effort: a missing file is what we want).
    pub fn remove_cache(&self) {
        let _ = std::fs::remove_file(self.cache_path());
        self.clear_recent();
    }

    /// Where the search index lives (`crate::index`), made safe to open: SQLite follows
    /// links and would block on a FIFO, so anything there or beside it (its journal files)
    /// that is not a regular file is removed first.
    pub fn search_index_path(&self) -> std::io::Result<PathBuf> {
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

    /// Remove the search index and its journal files, so the next search builds it anew.
    pub fn remove_search_index(&self) {
        if let Ok(path) = self.search_index_path() {
            for suffix in INDEX_FILES {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }

    /// Replace the cache (write a temporary file, then rename: readers never see half a file).
    /// The payload comes in pieces, written one after another.
    pub fn write_cache<'a>(
        &self,
        tips: &[(String, Oid)],
        payload: impl IntoIterator<Item = &'a [u8]>,
    ) -> std::io::Result<()> {
        let path = self.cache_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tips_text: Vec<String> = tips
            .iter()
            .map(|(name, oid)| format!("{oid} {name}"))
            .collect();
        let tips_text = tips_text.join("\n");
        let mut bytes = format!(
            "{CACHE_FORMAT} {}\n{}\n{tips_text}\n",
            env!("CARGO_PKG_VERSION"),
            checksum(tips_text.as_bytes())
        );
        if !tips.is_empty() {
            bytes.push('\n');
        }
        let temp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = std::fs::File::create(&temp).and_then(|mut file| {
            file.write_all(bytes.as_bytes())?;
            payload
                .into_iter()
                .try_for_each(|piece| file.write_all(piece))
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        replace(&temp, &path)?;
        self.clear_recent();
        if let Some(dir) = path.parent() {
            remove_stale_temporaries(dir);
        }
        Ok(())
    }
}

/// A temporary cache file this old was left by a process killed while writing it (a write
/// takes seconds at most, even of a million events).
const STALE_TEMPORARY: Duration = Duration::from_secs(10 * 60);

/// Remove the temporary cache files that killed processes left in `dir`: a few small reads
/// of a directory of two or three files, once per cache write.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with("state.tmp-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMPORARY);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Put the file at `temp` in place of the one at `path`, atomically for readers.
///
/// Renaming over an existing file makes ext4 write the new file's data out first (its
/// `auto_da_alloc` safeguard for files replaced without fsync), tens of milliseconds for a
/// large cache. Exchanging the two names and removing the old file does not wait, and readers still
/// see one whole file or the other.
fn replace(temp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if exchange(temp, path).is_ok() {
        let _ = std::fs::remove_file(temp);
        return Ok(());
    }
    std::fs::rename(temp, path)
}

/// Swap two paths in one step (`renameat2` with `RENAME_EXCHANGE`); fails when `b` does not
/// exist or the file system cannot exchange.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// The checksum of the header's tip lines, as written in the header.
fn checksum(payload: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(payload))
}
