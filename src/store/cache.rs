//! The projection cache file: a disposable copy of the folded state, keyed by the writer tips
//! it was computed from. Never the source of truth: a missing, stale, damaged or foreign cache
//! is ignored and rebuilt from the refs.

use super::{Error, Problem, REF_PREFIX, Store, parse_commit};
use crate::event::Event;
use git2::{ObjectType, Oid};
use std::collections::HashMap;
use std::path::PathBuf;

/// Changes when the cached state's layout changes, so an old cache is never misread.
const CACHE_FORMAT: &str = "git-ledger cache 1";

/// A cache file as read: the tips it was computed from and the encoded state.
pub struct Cached {
    pub tips: Vec<(String, Oid)>,
    pub payload: Vec<u8>,
}

impl Store {
    fn cache_path(&self) -> PathBuf {
        self.repo.commondir().join("ledger").join("cache").join("state")
    }

    /// The cache, if there is one written by this version and its checksum holds.
    pub fn read_cache(&self) -> Option<Cached> {
        let bytes = std::fs::read(self.cache_path()).ok()?;
        let header_end = bytes.windows(2).position(|w| w == b"\n\n")?;
        let header = std::str::from_utf8(&bytes[..header_end]).ok()?;
        let payload = bytes[header_end + 2..].to_vec();
        let mut lines = header.lines();
        if lines.next()? != format!("{CACHE_FORMAT} {}", env!("CARGO_PKG_VERSION")) {
            return None;
        }
        if lines.next()? != blake3::hash(&payload).to_hex().as_str() {
            return None;
        }
        let mut tips = Vec::new();
        for line in lines {
            let (oid, name) = line.split_once(' ')?;
            tips.push((name.to_string(), Oid::from_str(oid).ok()?));
        }
        Some(Cached { tips, payload })
    }

    /// Replace the cache (write a temporary file, then rename: readers never see half a file).
    pub fn write_cache(&self, tips: &[(String, Oid)], payload: &[u8]) -> std::io::Result<()> {
        let path = self.cache_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut bytes = format!(
            "{CACHE_FORMAT} {}\n{}\n",
            env!("CARGO_PKG_VERSION"),
            blake3::hash(payload).to_hex()
        );
        for (name, oid) in tips {
            bytes.push_str(&format!("{oid} {name}\n"));
        }
        bytes.push('\n');
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(payload);
        let temp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(temp, path)
    }

    /// The events added on top of `cached` tips to reach `current`, in the total order, with
    /// any problems met. `None` when a ref was rewritten or removed, or more than `limit`
    /// commits are new: then the state is rebuilt from scratch.
    pub fn events_since(
        &self,
        cached: &[(String, Oid)],
        current: &[(String, Oid)],
        limit: usize,
    ) -> Result<Option<(Vec<Event>, Vec<Problem>)>, Error> {
        let before: HashMap<&String, Oid> = cached.iter().map(|(n, o)| (n, *o)).collect();
        let now: HashMap<&String, Oid> = current.iter().map(|(n, o)| (n, *o)).collect();
        if before.keys().any(|name| !now.contains_key(name)) {
            return Ok(None);
        }
        let odb = self.repo.odb()?;
        let mut events = Vec::new();
        let mut problems = Vec::new();
        let mut commits = 0;
        for (name, tip) in current {
            let stop = before.get(name).copied();
            let mut next = Some(*tip);
            while let Some(oid) = next {
                if Some(oid) == stop {
                    break;
                }
                commits += 1;
                if commits > limit {
                    return Ok(None);
                }
                let object = match odb.read(oid) {
                    Ok(object) if object.kind() == ObjectType::Commit => object,
                    // Damaged history: let the full read report it.
                    _ => return Ok(None),
                };
                let (parent, lines) = parse_commit(object.data());
                let writer = name.strip_prefix(REF_PREFIX).unwrap_or("");
                for line in lines {
                    let parsed = std::str::from_utf8(line)
                        .map_err(|_| "an event line is not valid UTF-8".to_string())
                        .and_then(|l| Event::from_line(l).map_err(|e| e.to_string()));
                    match parsed {
                        // An event written by another clone (an import) may already be folded
                        // from that clone's ref: only a full read can tell, by id.
                        Ok(event) if event.writer != writer => return Ok(None),
                        Ok(event) => events.push(event),
                        Err(message) => problems.push(Problem {
                            reference: name.clone(),
                            commit: oid.to_string(),
                            message,
                        }),
                    }
                }
                next = parent;
            }
            // Reached the root without meeting the cached tip: the ref was rewritten.
            if stop.is_some() && next.is_none() {
                return Ok(None);
            }
        }
        events.sort_by(|a, b| a.order(b));
        Ok(Some((events, problems)))
    }
}
