//! Entities of one kind, in creation order, with lookup by id; read lazily from the
//! projection cache.
//!
//! A table read from the cache keeps the cache's bytes (memory-mapped) and decodes an entity
//! the first time it is asked for, so a command that touches three tasks decodes three tasks,
//! not the twenty thousand the ledger holds. Writing the table back copies the bytes of every
//! entity that was never decoded. Lookups by id binary-search a sorted index in the same
//! bytes; only entities added since the cache was read go into a hash map.
//!
//! Section layout (integers little-endian), one per table:
//!
//! ```text
//! u32 count | u32 ids_len | ids (concatenated, creation order)
//! count × u32 end of each id in ids | count × u32 positions sorted by id
//! u32 briefs_len | count × u32 end of each brief | briefs ([`Briefed`], one after another)
//! count × u64 end of each entity in data | count × u64 XXH3 of each entity's bytes
//! data (MessagePack, one entity after another)
//! ```
//!
//! Everything before `data` is covered by the file's checksum, checked when the file is read;
//! an entity's bytes are checked against their own XXH3 when the entity is decoded, so reading
//! the file costs what the index costs, not what the entities cost. An entity that fails its
//! check is left out and [`damage_seen`] says so: the ledger then reads the refs instead.

mod cells;

use cells::Cells;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Set when an entity read from the cache failed its check (damage after the file was
/// written): what was computed from the cache may lack that entity.
static DAMAGE_SEEN: AtomicBool = AtomicBool::new(false);

/// Whether an entity failed its check since [`forget_damage`] was last called.
pub fn damage_seen() -> bool {
    DAMAGE_SEEN.load(Ordering::Relaxed)
}

/// The damage was dealt with (the state was read from the refs instead).
pub fn forget_damage() {
    DAMAGE_SEEN.store(false, Ordering::Relaxed);
}

/// Bytes shared by every table read from one cache file.
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// What the hot views filter on (a task's status, priority and dependencies, whether a
/// session is open, ...), kept beside each entity in a few bytes so that `status`, `ready`
/// and the instructions of every reply scan briefs and decode only what they show.
pub trait Briefed {
    fn brief(&self, out: &mut Vec<u8>);
}

/// One table's section of a cache file, not decoded.
#[derive(Clone)]
struct Frozen {
    bytes: SharedBytes,
    count: usize,
    ids: Range<usize>,
    id_ends: usize,
    order: usize,
    brief_ends: usize,
    briefs: Range<usize>,
    data_ends: usize,
    hashes: usize,
    data: Range<usize>,
    /// Where the section starts in the file.
    section_start: usize,
}

impl Frozen {
    /// Check a section's shape in constant time: its arrays fit, and each blob ends where its
    /// last item does. Items are not walked: the file's checksum covers the index, every
    /// slice taken later is bounds-checked, and entities are checked when decoded.
    fn parse(bytes: SharedBytes, section: Range<usize>) -> Option<Frozen> {
        let all = (*bytes).as_ref();
        let s = all.get(section.clone())?;
        let count = read_u32(s, 0)? as usize;
        let ids_len = read_u32(s, 4)? as usize;
        let ids = 8..8usize.checked_add(ids_len)?;
        let id_ends = ids.end;
        let order = id_ends.checked_add(count.checked_mul(4)?)?;
        let briefs_len_at = order.checked_add(count.checked_mul(4)?)?;
        let briefs_len = read_u32(s, briefs_len_at)? as usize;
        let brief_ends = briefs_len_at + 4;
        let briefs = brief_ends.checked_add(count.checked_mul(4)?)?;
        let briefs = briefs..briefs.checked_add(briefs_len)?;
        let data_ends = briefs.end;
        let hashes = data_ends.checked_add(count.checked_mul(8)?)?;
        let data_start = hashes.checked_add(count.checked_mul(8)?)?;
        let data = data_start..s.len();
        if data.start > data.end {
            return None;
        }
        if let Some(last) = count.checked_sub(1) {
            let ends_match = read_u32(s, id_ends + 4 * last)? as usize == ids_len
                && read_u32(s, brief_ends + 4 * last)? as usize == briefs_len
                && read_u64(s, data_ends + 8 * last)? == (data.end - data.start) as u64;
            if !ends_match {
                return None;
            }
        } else if ids_len != 0 || briefs_len != 0 || !data.is_empty() {
            return None;
        }
        let base = section.start;
        Some(Frozen {
            bytes,
            count,
            ids: base + ids.start..base + ids.end,
            id_ends: base + id_ends,
            order: base + order,
            brief_ends: base + brief_ends,
            briefs: base + briefs.start..base + briefs.end,
            data_ends: base + data_ends,
            hashes: base + hashes,
            data: base + data.start..base + data.end,
            section_start: base,
        })
    }

    fn all(&self) -> &[u8] {
        (*self.bytes).as_ref()
    }

    /// Item `i` of a blob whose items' ends are in a table of `width`-byte integers at `ends`.
    fn item(&self, blob: &Range<usize>, ends: usize, width: usize, i: usize) -> &[u8] {
        let all = self.all();
        let end_of = |k: usize| match width {
            4 => read_u32(all, ends + 4 * k).map(|e| e as usize),
            _ => read_u64(all, ends + 8 * k).and_then(|e| usize::try_from(e).ok()),
        };
        let start = if i == 0 { Some(0) } else { end_of(i - 1) };
        match (start, end_of(i)) {
            (Some(start), Some(end)) => {
                all.get(blob.start + start..blob.start + end).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    fn id_bytes(&self, i: usize) -> &[u8] {
        self.item(&self.ids, self.id_ends, 4, i)
    }

    fn id(&self, i: usize) -> &str {
        // The blob was checked to be UTF-8 at parse; an end that is not a character boundary
        // (never written by us) reads as an empty id.
        std::str::from_utf8(self.id_bytes(i)).unwrap_or("")
    }

    fn brief(&self, i: usize) -> &[u8] {
        self.item(&self.briefs, self.brief_ends, 4, i)
    }

    /// The bytes of entity `i`, if they pass their check.
    fn raw(&self, i: usize) -> Option<&[u8]> {
        let (raw, expected) = self.unchecked(i)?;
        (xxhash_rust::xxh3::xxh3_64(raw) == expected).then_some(raw)
    }

    /// The bytes of entity `i` with the hash they were written with, not checked: what a
    /// rewrite copies as it is (damage stays detectable where it is decoded).
    fn unchecked(&self, i: usize) -> Option<(&[u8], u64)> {
        let raw = self.item(&self.data, self.data_ends, 8, i);
        Some((raw, read_u64(self.all(), self.hashes + 8 * i)?))
    }

    /// The ids that sort right before and right after `id` (or are `id`).
    fn neighbours(&self, id: &[u8]) -> impl Iterator<Item = &[u8]> {
        let all = self.all();
        let at = |k: usize| read_u32(all, self.order + 4 * k).unwrap_or(0) as usize;
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = (low + high) / 2;
            if self.id_bytes(at(middle)) < id {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        (low.saturating_sub(1)..(low + 2).min(self.count)).map(move |k| self.id_bytes(at(k)))
    }

    /// The position of `id`, by binary search of the sorted index.
    fn find(&self, id: &str) -> Option<usize> {
        let all = self.all();
        let at = |k: usize| read_u32(all, self.order + 4 * k).unwrap_or(0) as usize;
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = (low + high) / 2;
            // Byte order is the order of the ids as strings.
            match self.id_bytes(at(middle)).cmp(id.as_bytes()) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(at(middle)),
            }
        }
        None
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// One entity's place in a table.
#[derive(Clone)]
struct Entry<T> {
    /// Decoded (or added) once, or undecodable (`None`, reported once).
    entity: OnceLock<Option<Box<T>>>,
    /// Computed from the decoded entity; cleared when the entity is changed.
    brief: OnceLock<Box<[u8]>>,
}

impl<T> Default for Entry<T> {
    fn default() -> Self {
        Entry {
            entity: OnceLock::new(),
            brief: OnceLock::new(),
        }
    }
}

/// Entities in creation order with lookup by id. A second creation of the same id is ignored:
/// the first one in the total order wins.
pub struct Table<T> {
    frozen: Option<Frozen>,
    /// One entry per entity: the frozen ones first (filled when first read), then those added.
    entries: Cells<Entry<T>>,
    /// Positions of the entities added since the table was read from the cache.
    added: HashMap<String, usize>,
    /// Their ids, in the order they were added.
    added_ids: Vec<String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            frozen: None,
            entries: Cells::default(),
            added: HashMap::new(),
            added_ids: Vec::new(),
        }
    }
}

impl<T: Clone> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table {
            frozen: self.frozen.clone(),
            entries: self.entries.clone(),
            added: self.added.clone(),
            added_ids: self.added_ids.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} entities)", self.entries.len())
    }
}

impl<T: DeserializeOwned> Table<T> {
    /// The entity at a position (creation order), decoded if it was not yet.
    pub fn at(&self, i: usize) -> Option<&T> {
        self.entries
            .get(i)?
            .entity
            .get_or_init(|| {
                let frozen = self.frozen.as_ref()?;
                match frozen.raw(i).map(rmp_serde::from_slice) {
                    Some(Ok(entity)) => Some(Box::new(entity)),
                    _ => {
                        DAMAGE_SEEN.store(true, Ordering::Relaxed);
                        None
                    }
                }
            })
            .as_deref()
    }

    /// The position of an entity by id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.added
            .get(id)
            .copied()
            .or_else(|| self.frozen.as_ref()?.find(id))
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.at(self.position(id)?)
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let i = self.position(id)?;
        self.at(i)?;
        let entry = self.entries.get_mut(i)?;
        // The entity may change: its brief is computed again when next asked for.
        entry.brief.take();
        entry.entity.get_mut()?.as_deref_mut()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    pub(super) fn insert(&mut self, id: String, item: T) {
        if !self.contains(&id) {
            self.added.insert(id.clone(), self.entries.len());
            self.added_ids.push(id);
            self.entries.push(Entry {
                entity: OnceLock::from(Some(Box::new(item))),
                brief: OnceLock::new(),
            });
        }
    }

    /// Every entity, oldest first (decoding those not read yet).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        (0..self.entries.len()).filter_map(|i| self.at(i))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Every id in creation order, without decoding any entity.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        let frozen = self
            .frozen
            .iter()
            .flat_map(|f| (0..f.count).map(|i| f.id(i)));
        frozen.chain(self.added_ids.iter().map(String::as_str))
    }

    /// The id of the entity at a position.
    pub fn id_at(&self, i: usize) -> &str {
        match &self.frozen {
            Some(frozen) if i < frozen.count => frozen.id(i),
            _ => {
                let frozen = self.frozen.as_ref().map_or(0, |f| f.count);
                i.checked_sub(frozen)
                    .and_then(|k| self.added_ids.get(k))
                    .map_or("", String::as_str)
            }
        }
    }

    /// The ids added since the table was read from the cache (every id of a table folded
    /// from the events).
    pub(super) fn added_ids(&self) -> impl Iterator<Item = &str> {
        self.added_ids.iter().map(String::as_str)
    }

    /// Whether the table was read from the cache.
    pub(super) fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Ids read from the cache that sort next to `id`: the only ones that can share a longer
    /// prefix with it than every other id does.
    pub(super) fn frozen_neighbours(&self, id: &str) -> impl Iterator<Item = &str> {
        self.frozen
            .iter()
            .flat_map(move |f| f.neighbours(id.as_bytes()))
            .filter_map(|b| std::str::from_utf8(b).ok())
    }
}

/// Where an entity's bytes come from when a table is written.
enum Piece<'a> {
    /// Copied from the cache file as they are.
    Frozen(&'a [u8]),
    /// Encoded again (the entity was decoded, perhaps changed), at this range of a buffer.
    Fresh(Range<usize>),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Frozen(raw) => raw.len(),
            Piece::Fresh(range) => range.len(),
        }
    }
}

/// The ids of a table whatever its entities' type, so the state can walk its six tables'
/// ids in one loop (abbreviations, prefix lookups).
pub trait Ids {
    /// Every id in creation order.
    fn all(&self) -> Box<dyn Iterator<Item = &str> + '_>;
    /// The ids added since the table was read from the cache.
    fn added(&self) -> Box<dyn Iterator<Item = &str> + '_>;
    /// Ids read from the cache that sort next to `id`.
    fn near(&self, id: &str) -> Vec<&str>;
}

impl<T: DeserializeOwned> Ids for Table<T> {
    fn all(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.ids())
    }
    fn added(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.added_ids())
    }
    fn near(&self, id: &str) -> Vec<&str> {
        self.frozen_neighbours(id).collect()
    }
}

impl<T: Briefed + DeserializeOwned> Table<T> {
    /// The brief of the entity at a position: computed from the entity when it was decoded
    /// (it may have changed since), else read from the cache without decoding.
    pub fn brief_at(&self, i: usize) -> &[u8] {
        let entry = self.entries.peek(i);
        match (entry.and_then(|e| e.entity.get()), &self.frozen) {
            (Some(Some(entity)), _) => match entry {
                Some(entry) => entry.brief.get_or_init(|| {
                    let mut out = Vec::new();
                    entity.brief(&mut out);
                    out.into_boxed_slice()
                }),
                None => &[],
            },
            (None, Some(frozen)) => frozen.brief(i),
            _ => &[],
        }
    }

    /// Every position with its brief, in creation order.
    pub fn briefs(&self) -> impl DoubleEndedIterator<Item = (usize, &[u8])> {
        (0..self.entries.len()).map(|i| (i, self.brief_at(i)))
    }
}

impl<T: Serialize + Briefed + DeserializeOwned> Table<T> {
    /// Append this table's section (see the module comment) to `out`; returns where the
    /// entities' bytes start in `out`.
    pub(super) fn encode(&self, out: &mut Vec<u8>) -> Result<usize, rmp_serde::encode::Error> {
        let count = self.entries.len();
        let mut ids: Vec<&str> = Vec::with_capacity(count);
        if let Some(frozen) = &self.frozen {
            ids.extend((0..frozen.count).map(|i| frozen.id(i)));
        }
        ids.extend(self.added_ids.iter().map(String::as_str));
        let mut order: Vec<u32> = (0..count as u32).collect();
        order.sort_unstable_by(|a, b| ids[*a as usize].cmp(ids[*b as usize]));

        // Entities nobody decoded are copied as they are, with their hashes; the others are
        // encoded into `fresh` first, so that the index (which needs every entity's length)
        // can be written before the bytes are copied once, into place.
        let mut fresh = Vec::new();
        let mut pieces: Vec<(Piece, u64)> = Vec::with_capacity(count);
        for i in 0..count {
            let entity = self.entries.peek(i).and_then(|e| e.entity.get());
            let stored = self.frozen.as_ref().and_then(|f| f.unchecked(i));
            let piece = match (entity, stored) {
                (Some(Some(entity)), _) => {
                    let start = fresh.len();
                    rmp_serde::encode::write_named(&mut fresh, entity)?;
                    let hash = xxhash_rust::xxh3::xxh3_64(&fresh[start..]);
                    (Piece::Fresh(start..fresh.len()), hash)
                }
                (None, Some((raw, hash))) => (Piece::Frozen(raw), hash),
                // An entity that could not be decoded (already reported): written empty.
                _ => (Piece::Fresh(0..0), xxhash_rust::xxh3::xxh3_64(&[])),
            };
            pieces.push(piece);
        }
        let mut data_len = 0u64;
        let data_ends: Vec<u64> = pieces
            .iter()
            .map(|(piece, _)| {
                data_len += piece.len() as u64;
                data_len
            })
            .collect();

        let ids_len: usize = ids.iter().map(|id| id.len()).sum();
        out.extend_from_slice(&(count as u32).to_le_bytes());
        out.extend_from_slice(&(ids_len as u32).to_le_bytes());
        for id in &ids {
            out.extend_from_slice(id.as_bytes());
        }
        let mut end = 0u32;
        for id in &ids {
            end += id.len() as u32;
            out.extend_from_slice(&end.to_le_bytes());
        }
        for position in order {
            out.extend_from_slice(&position.to_le_bytes());
        }
        let mut briefs = Vec::new();
        let mut brief_ends = Vec::with_capacity(count);
        for i in 0..count {
            briefs.extend_from_slice(self.brief_at(i));
            brief_ends.push(briefs.len() as u32);
        }
        out.extend_from_slice(&(briefs.len() as u32).to_le_bytes());
        for end in brief_ends {
            out.extend_from_slice(&end.to_le_bytes());
        }
        out.extend_from_slice(&briefs);
        for end in data_ends {
            out.extend_from_slice(&end.to_le_bytes());
        }
        for (_, hash) in &pieces {
            out.extend_from_slice(&hash.to_le_bytes());
        }
        let data_start = out.len();
        out.reserve(data_len as usize);
        for (piece, _) in &pieces {
            match piece {
                Piece::Frozen(raw) => out.extend_from_slice(raw),
                Piece::Fresh(range) => out.extend_from_slice(&fresh[range.clone()]),
            }
        }
        Ok(data_start)
    }

    /// The part of this table's section that the file's checksum covers: all of it but its
    /// entities' bytes, which are checked one by one when decoded.
    pub(super) fn checked(&self) -> Option<Range<usize>> {
        self.frozen.as_ref().map(|f| f.section_start..f.data.start)
    }

    /// A table over a section of a cache file; `None` when the section is malformed.
    pub(super) fn decode(bytes: SharedBytes, section: Range<usize>) -> Option<Table<T>> {
        let frozen = Frozen::parse(bytes, section)?;
        Some(Table {
            entries: Cells::with_len(frozen.count),
            frozen: Some(frozen),
            added: HashMap::new(),
            added_ids: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Thing {
        id: String,
        n: u32,
    }

    impl Briefed for Thing {
        fn brief(&self, out: &mut Vec<u8>) {
            out.push(self.n as u8);
        }
    }

    fn thing(id: &str, n: u32) -> Thing {
        Thing { id: id.into(), n }
    }

    fn reread(table: &Table<Thing>) -> Table<Thing> {
        let mut bytes = b"head".to_vec();
        table.encode(&mut bytes).expect("encode");
        let len = bytes.len();
        let shared: SharedBytes = Arc::new(bytes);
        Table::decode(shared, 4..len).expect("decode")
    }

    #[test]
    fn survives_the_round_trip_and_keeps_changes_to_decoded_entities() {
        let mut table = Table::default();
        for (id, n) in [("t-c", 1), ("t-a", 2), ("t-b", 3)] {
            table.insert(id.into(), thing(id, n));
        }
        table.insert("t-a".into(), thing("t-a", 99));
        let mut read = reread(&table);
        assert_eq!(read.len(), 3);
        assert_eq!(read.get("t-a"), Some(&thing("t-a", 2)));
        assert!(read.get("t-z").is_none() && read.contains("t-b"));
        if let Some(b) = read.get_mut("t-b") {
            b.n = 30;
        }
        read.insert("t-d".into(), thing("t-d", 4));
        let again = reread(&read);
        let all: Vec<Thing> = again.iter().cloned().collect();
        assert_eq!(
            all,
            vec![
                thing("t-c", 1),
                thing("t-a", 2),
                thing("t-b", 30),
                thing("t-d", 4)
            ]
        );
        let ids: Vec<&str> = again.ids().collect();
        assert_eq!(ids, ["t-c", "t-a", "t-b", "t-d"]);
        let briefs: Vec<u8> = again.briefs().map(|(_, b)| b[0]).collect();
        assert_eq!(briefs, [1, 2, 30, 4]);
    }

    #[test]
    fn damage_copied_by_a_rewrite_is_still_found_when_decoded() {
        let mut table = Table::default();
        for (id, n) in [("t-a", 1), ("t-b", 2)] {
            table.insert(id.into(), thing(id, n));
        }
        let mut bytes = Vec::new();
        let data_start = table.encode(&mut bytes).expect("encode");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01; // inside t-b's bytes
        assert!(data_start < last);
        let len = bytes.len();
        let damaged = Table::<Thing>::decode(Arc::new(bytes), 0..len).expect("decode");
        let rewritten = reread(&damaged);
        assert_eq!(rewritten.get("t-a"), Some(&thing("t-a", 1)));
        assert_eq!(
            rewritten.get("t-b"),
            None,
            "the damage was carried, not laundered"
        );
    }

    #[test]
    fn a_malformed_section_is_refused() {
        let mut table = Table::default();
        table.insert("t-a".into(), thing("t-a", 1));
        let mut bytes = Vec::new();
        table.encode(&mut bytes).expect("encode");
        for cut in 0..bytes.len() {
            let shared: SharedBytes = Arc::new(bytes[..cut].to_vec());
            assert!(
                Table::<Thing>::decode(shared, 0..cut).is_none(),
                "cut at {cut}"
            );
        }
    }
}
