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
//! u32 count | u32 ids_len | u32 briefs_len | 8 × u32 length of each key set | u32 refs
//! chunks × u64 XXH3 of each run of 16 ids (with their ends)
//! chunks × u64 XXH3 of each run of 16 entries of the sorted order
//! chunks × u64 XXH3 of each run of 128 briefs, entity ends and entity hashes
//! chunks × u64 XXH3 of each run of 256 entries of each key set, then of the refs
//! ids (concatenated, creation order) | count × u32 end of each id in ids
//! count × u32 positions sorted by id
//! count × u32 end of each brief | briefs ([`Briefed`], one after another)
//! 8 key sets, each its positions (u32, ascending)
//! refs × u64 XXH3 of a referred id (ascending) | refs × u32 position of the referrer
//! count × u64 end of each entity in data | count × u64 XXH3 of each entity's bytes
//! data (MessagePack, one entity after another)
//! ```
//!
//! The counts and the chunk sums are covered by the file's checksum, checked when the file is
//! read. The rest is checked where it is read, so that a command costs what it reads, not
//! what the ledger holds: a run of index entries against its chunk sum the first time one of
//! them is used (a lookup by id reads ids and the order only), an entity's bytes against
//! their own XXH3 when it is decoded. Anything that fails its check is left out (a key set or
//! the refs are worked out from the briefs instead) and the reader's [`Damage`] says so: the ledger
//! then folds the events from the git refs instead.
//!
//! The key sets and the refs are what [`Briefed::keys`] and [`Briefed::refs`] say of each
//! brief. A table read from the cache brings them forward over the entities changed (handed
//! out by `get_mut`) or added since: for each, the brief it was stored with and the brief it
//! has now say which sets it leaves or joins and which refs it drops or makes.

mod cells;
mod encoded;

use cells::Cells;
pub use encoded::Encoded;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

/// Set when something read from a cache file failed its check (damage after the file was
/// written): what was computed from it may lack that. One flag is shared by every table
/// read from the same reader (a `Ledger`), so its owner can ask after any read.
#[derive(Debug, Clone, Default)]
pub struct Damage(Arc<AtomicBool>);

impl Damage {
    /// Whether something failed its check since [`Damage::forget`] was last called.
    pub fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The damage was dealt with (the state was read from the refs instead).
    pub fn forget(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    fn note(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Bytes shared by every table read from one cache file.
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// What the hot views filter on (a task's status, priority and dependencies, whether a
/// session is open, ...), kept beside each entity in a few bytes so that `status`, `ready`
/// and the instructions of every reply scan briefs and decode only what they show.
///
/// From a brief come the entity's *keys* (the sets it is in: open, in progress, claimed, ...)
/// and its *refs* (the ids it refers to: a task's objective and dependencies). The table keeps
/// each key's positions and an index of refs in its section and brings them forward over the
/// entities changed since, so that a view asks for "the tasks in progress" or "the tasks that
/// depend on t-1" and pays for what it gets, not for the ledger's size.
pub trait Briefed {
    fn brief(&self, out: &mut Vec<u8>);

    /// The sets an entity with this brief is in, one bit each (at most [`KEYS`]).
    fn keys(_brief: &[u8]) -> u8 {
        0
    }

    /// The ids an entity with this brief refers to.
    fn refs<'a>(_brief: &'a [u8], _out: &mut Vec<&'a str>) {}
}

/// How many key sets a table keeps (bits of [`Briefed::keys`]).
pub const KEYS: usize = 8;

/// The hash a ref is indexed by.
fn ref_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// The three kinds of chunk sums, in the order they are stored.
#[derive(Clone, Copy)]
enum Sum {
    /// Ids and their ends.
    Ids = 0,
    /// Places of the sorted order.
    Order = 1,
    /// Briefs and their ends, entity ends and entity hashes.
    Rest = 2,
}

impl Sum {
    const ALL: [Sum; 3] = [Sum::Ids, Sum::Order, Sum::Rest];

    /// Index entries per chunk. Ids and places are checked in small chunks, because a lookup
    /// by id compares with ids spread over the table; briefs are mostly read all at once (a
    /// scan of the statuses), or one entity at a time.
    const fn size(self) -> usize {
        match self {
            Sum::Ids | Sum::Order => 16,
            Sum::Rest => 128,
        }
    }
}

/// Where a section's parts are, relative to its start.
#[derive(Clone, Debug)]
struct Layout {
    count: usize,
    /// Chunks of each kind of sum.
    chunks: [usize; 3],
    /// Where each kind's chunks start among all chunks (kinds one after another).
    first_slot: [usize; 3],
    ids: Range<usize>,
    id_ends: usize,
    order: usize,
    brief_ends: usize,
    briefs: Range<usize>,
    /// Each key's positions (u32, ascending).
    key_sets: [Range<usize>; KEYS],
    /// The refs: their hashes (u64, ascending), then the position of each (u32).
    refs: Range<usize>,
    refs_count: usize,
    /// Chunks of each index part, and where each part's chunks start among them.
    index_chunks: [usize; INDEX_PARTS],
    index_first: [usize; INDEX_PARTS],
    data_ends: usize,
    hashes: usize,
    data_start: usize,
}

/// The index parts: one per key set, then the refs. Each is summed in chunks of
/// [`INDEX_CHUNK`] entries, stored after the other chunk sums, so that a lookup checks what it
/// reads and not the whole part.
const INDEX_PARTS: usize = KEYS + 1;

/// Entries per chunk of an index part.
const INDEX_CHUNK: usize = 256;

impl Layout {
    /// Bytes before the chunk sums: the three counts, the key sets' lengths, the refs' count.
    const HEAD: usize = 12 + 4 * KEYS + 4;

    fn new(
        count: usize,
        ids_len: usize,
        briefs_len: usize,
        key_lens: [usize; KEYS],
        refs_count: usize,
    ) -> Option<Layout> {
        let chunks = Sum::ALL.map(|sum| count.div_ceil(sum.size()));
        let first_slot = [0, chunks[0], chunks[0] + chunks[1]];
        let all_chunks = chunks.iter().sum::<usize>();
        let mut index_chunks = [0; INDEX_PARTS];
        let mut index_first = [0; INDEX_PARTS];
        let mut index_all = 0;
        for (j, entries) in key_lens.iter().chain([&refs_count]).enumerate() {
            index_chunks[j] = entries.div_ceil(INDEX_CHUNK);
            index_first[j] = index_all;
            index_all += index_chunks[j];
        }
        let ids_start = Self::HEAD.checked_add((all_chunks + index_all).checked_mul(8)?)?;
        let ids = ids_start..ids_start.checked_add(ids_len)?;
        let id_ends = ids.end;
        let order = id_ends.checked_add(count.checked_mul(4)?)?;
        let brief_ends = order.checked_add(count.checked_mul(4)?)?;
        let briefs_start = brief_ends.checked_add(count.checked_mul(4)?)?;
        let briefs = briefs_start..briefs_start.checked_add(briefs_len)?;
        let mut at = briefs.end;
        let mut key_sets: [Range<usize>; KEYS] = Default::default();
        for (set, len) in key_sets.iter_mut().zip(key_lens) {
            *set = at..at.checked_add(len.checked_mul(4)?)?;
            at = set.end;
        }
        let refs = at..at.checked_add(refs_count.checked_mul(12)?)?;
        let data_ends = refs.end;
        let hashes = data_ends.checked_add(count.checked_mul(8)?)?;
        let data_start = hashes.checked_add(count.checked_mul(8)?)?;
        Some(Layout {
            count,
            chunks,
            first_slot,
            ids,
            id_ends,
            order,
            brief_ends,
            briefs,
            key_sets,
            refs,
            refs_count,
            index_chunks,
            index_first,
            data_ends,
            hashes,
            data_start,
        })
    }

    /// Which chunk of all holds chunk `c` of index part `j`.
    fn index_slot(&self, j: usize, c: usize) -> usize {
        self.chunks.iter().sum::<usize>() + self.index_first[j] + c
    }

    /// Where the stored sum of chunk `c` of index part `j` is.
    fn index_sum_at(&self, j: usize, c: usize) -> usize {
        Self::HEAD + 8 * self.index_slot(j, c)
    }

    /// The bytes chunk `c` of index part `j` covers: a run of a key set, or of the refs'
    /// hashes and the same run of their positions.
    fn index_chunk(&self, j: usize, c: usize) -> [Range<usize>; 2] {
        let first = c * INDEX_CHUNK;
        match self.key_sets.get(j) {
            Some(set) => {
                let end = (set.start + 4 * (first + INDEX_CHUNK)).min(set.end);
                [set.start + 4 * first..end, 0..0]
            }
            None => {
                let last = (first + INDEX_CHUNK).min(self.refs_count);
                let positions = self.refs.start + 8 * self.refs_count;
                [
                    self.refs.start + 8 * first..self.refs.start + 8 * last,
                    positions + 4 * first..positions + 4 * last,
                ]
            }
        }
    }

    /// The sum of chunk `c` of index part `j`, computed from section `s`.
    fn index_sum(&self, s: &[u8], j: usize, c: usize) -> u64 {
        let mut hashes = [0u8; 16];
        for (range, hash) in self
            .index_chunk(j, c)
            .into_iter()
            .zip(hashes.chunks_exact_mut(8))
        {
            hash.copy_from_slice(&xxhash_rust::xxh3::xxh3_64(slice(s, range)).to_le_bytes());
        }
        xxhash_rust::xxh3::xxh3_64(&hashes)
    }

    /// The part the file's checksum covers: the counts and the chunk sums.
    fn summed(&self) -> Range<usize> {
        0..self.ids.start
    }

    /// The positions of chunk `c` of a kind.
    fn chunk(&self, sum: Sum, c: usize) -> Range<usize> {
        let start = c * sum.size();
        start..(start + sum.size()).min(self.count)
    }

    /// Which chunk of all holds chunk `c` of a kind.
    fn slot(&self, sum: Sum, c: usize) -> usize {
        self.first_slot[sum as usize] + c
    }

    /// Where the stored sum of chunk `c` of a kind is.
    fn sum_at(&self, sum: Sum, c: usize) -> usize {
        Self::HEAD + 8 * self.slot(sum, c)
    }

    /// The sum of chunk `c` of a kind, computed from section `s`. A blob's items are summed
    /// with their ends; an end before the chunk that was damaged changes what is summed.
    fn sum(&self, s: &[u8], sum: Sum, c: usize) -> u64 {
        let positions = self.chunk(sum, c);
        let array = |at: usize, width: usize| {
            slice(s, at + width * positions.start..at + width * positions.end)
        };
        let blob = |blob: &Range<usize>, ends: usize| {
            let end_of = |k: usize| read_u32(s, ends + 4 * k).unwrap_or(0) as usize;
            let first = positions.start.checked_sub(1).map_or(0, end_of);
            let last = positions.end.checked_sub(1).map_or(0, end_of);
            slice(s, blob.start + first..blob.start + last)
        };
        // Each part hashed in one go, then their hashes: a streaming hasher costs more to
        // set up than these few hundred bytes cost to hash.
        let parts: [&[u8]; 4] = match sum {
            Sum::Ids => [
                array(self.id_ends, 4),
                blob(&self.ids, self.id_ends),
                &[],
                &[],
            ],
            Sum::Order => [array(self.order, 4), &[], &[], &[]],
            Sum::Rest => [
                array(self.brief_ends, 4),
                blob(&self.briefs, self.brief_ends),
                array(self.data_ends, 8),
                array(self.hashes, 8),
            ],
        };
        let mut hashes = [0u8; 32];
        for (part, hash) in parts.iter().zip(hashes.chunks_exact_mut(8)) {
            hash.copy_from_slice(&xxhash_rust::xxh3::xxh3_64(part).to_le_bytes());
        }
        xxhash_rust::xxh3::xxh3_64(&hashes)
    }
}

/// `bytes[range]`, or nothing when the range does not fit (damage, found by a sum).
fn slice(bytes: &[u8], range: Range<usize>) -> &[u8] {
    bytes.get(range).unwrap_or(&[])
}

/// What is known of a chunk of the index.
const UNCHECKED: u8 = 0;
const SOUND: u8 = 1;
const DAMAGED: u8 = 2;

/// One table's section of a cache file, not decoded.
#[derive(Clone)]
struct Frozen {
    bytes: SharedBytes,
    /// Where the section is in the file.
    section: Range<usize>,
    layout: Layout,
    /// Per kind of sum and chunk: [`UNCHECKED`], [`SOUND`] or [`DAMAGED`].
    chunk_state: Arc<[AtomicU8]>,
    /// Where a failed check is reported.
    damage: Damage,
}

impl Frozen {
    /// Entities in the section.
    fn count(&self) -> usize {
        self.layout.count
    }

    /// Check a section's shape in constant time: its arrays fit, and each blob ends where its
    /// last item does. Items are not walked: the chunk sums are checked as chunks are used,
    /// every slice taken is bounds-checked, and entities are checked when decoded.
    fn parse(bytes: SharedBytes, section: Range<usize>, damage: &Damage) -> Option<Frozen> {
        let all = (*bytes).as_ref();
        let s = all.get(section.clone())?;
        let count = read_u32(s, 0)? as usize;
        let ids_len = read_u32(s, 4)? as usize;
        let briefs_len = read_u32(s, 8)? as usize;
        let mut key_lens = [0; KEYS];
        for (k, len) in key_lens.iter_mut().enumerate() {
            *len = read_u32(s, 12 + 4 * k)? as usize;
        }
        let refs_count = read_u32(s, 12 + 4 * KEYS)? as usize;
        let layout = Layout::new(count, ids_len, briefs_len, key_lens, refs_count)?;
        let data_len = s.len().checked_sub(layout.data_start)?;
        if let Some(last) = count.checked_sub(1) {
            let ends_match = read_u32(s, layout.id_ends + 4 * last)? as usize == ids_len
                && read_u32(s, layout.brief_ends + 4 * last)? as usize == briefs_len
                && read_u64(s, layout.data_ends + 8 * last)? == data_len as u64;
            if !ends_match {
                return None;
            }
        } else if ids_len != 0 || briefs_len != 0 || data_len != 0 {
            return None;
        }
        let all_chunks =
            layout.chunks.iter().sum::<usize>() + layout.index_chunks.iter().sum::<usize>();
        let chunk_state = (0..all_chunks).map(|_| AtomicU8::new(UNCHECKED)).collect();
        Some(Frozen {
            bytes,
            section,
            layout,
            chunk_state,
            damage: damage.clone(),
        })
    }

    /// The section's bytes.
    fn s(&self) -> &[u8] {
        slice((*self.bytes).as_ref(), self.section.clone())
    }

    /// Whether chunk `c` of a kind matches its sum, checking it the first time it is asked
    /// about. Called on every read of the index: the answer once known costs a load.
    #[inline]
    fn sound(&self, sum: Sum, c: usize) -> bool {
        if c >= self.layout.chunks[sum as usize] {
            return false;
        }
        let slot = self.layout.slot(sum, c);
        match self
            .chunk_state
            .get(slot)
            .map(|s| s.load(Ordering::Relaxed))
        {
            Some(SOUND) => true,
            Some(UNCHECKED) => self.check(sum, c, slot),
            _ => false,
        }
    }

    #[cold]
    #[inline(never)]
    fn check(&self, sum: Sum, c: usize, slot: usize) -> bool {
        let (layout, s) = (&self.layout, self.s());
        let ok = read_u64(s, layout.sum_at(sum, c)) == Some(layout.sum(s, sum, c));
        if let Some(state) = self.chunk_state.get(slot) {
            state.store(if ok { SOUND } else { DAMAGED }, Ordering::Relaxed);
        }
        if !ok {
            self.damage.note();
        }
        ok
    }

    /// Whether chunk `c` of index part `j` matches its sum, checked the first time.
    fn index_sound(&self, j: usize, c: usize) -> bool {
        let layout = &self.layout;
        if c >= layout.index_chunks[j] {
            return false;
        }
        let Some(state) = self.chunk_state.get(layout.index_slot(j, c)) else {
            return false;
        };
        match state.load(Ordering::Relaxed) {
            SOUND => true,
            UNCHECKED => {
                let s = self.s();
                let ok = read_u64(s, layout.index_sum_at(j, c)) == Some(layout.index_sum(s, j, c));
                state.store(if ok { SOUND } else { DAMAGED }, Ordering::Relaxed);
                if !ok {
                    self.damage.note();
                }
                ok
            }
            _ => false,
        }
    }

    /// Whether every chunk of index part `j` matches its sum.
    fn index_part_sound(&self, j: usize) -> bool {
        (0..self.layout.index_chunks[j]).all(|c| self.index_sound(j, c))
    }

    /// The positions with key `k`, ascending, as stored.
    fn key_set(&self, k: usize) -> Option<impl ExactSizeIterator<Item = u32> + '_> {
        if !self.index_part_sound(k) {
            return None;
        }
        let part = slice(self.s(), self.layout.key_sets.get(k)?.clone());
        Some(
            part.chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        )
    }

    /// Every stored ref: their hashes (ascending) and the position of each.
    fn refs(&self) -> Option<(&[u8], &[u8])> {
        if !self.index_part_sound(KEYS) {
            return None;
        }
        let part = slice(self.s(), self.layout.refs.clone());
        part.split_at_checked(8 * self.layout.refs_count)
    }

    /// Ref `k`: its hash and position, if its chunk matches its sum.
    fn stored_ref(&self, k: usize) -> Option<(u64, u32)> {
        if !self.index_sound(KEYS, k / INDEX_CHUNK) {
            return None;
        }
        let (s, refs) = (self.s(), &self.layout.refs);
        let hash = read_u64(s, refs.start + 8 * k)?;
        let position = read_u32(s, refs.start + 8 * self.layout.refs_count + 4 * k)?;
        Some((hash, position))
    }

    /// The stored positions whose refs include one with `hash`; `None` when a chunk on the
    /// way fails its check.
    fn stored_referring(&self, hash: u64) -> Option<Vec<u32>> {
        let (mut low, mut high) = (0, self.layout.refs_count);
        while low < high {
            let middle = (low + high) / 2;
            if self.stored_ref(middle)?.0 < hash {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        let mut found = Vec::new();
        for k in low..self.layout.refs_count {
            let (h, position) = self.stored_ref(k)?;
            if h != hash {
                break;
            }
            found.push(position);
        }
        Some(found)
    }

    /// Item `i` of a blob whose items' ends are in a table of `width`-byte integers at `ends`;
    /// `None` when the chunk sum of that kind fails.
    fn item(
        &self,
        sum: Sum,
        blob: &Range<usize>,
        ends: usize,
        width: usize,
        i: usize,
    ) -> Option<&[u8]> {
        if !self.sound(sum, i / sum.size()) {
            return None;
        }
        let s = self.s();
        let end_of = |k: usize| match width {
            4 => read_u32(s, ends + 4 * k).map(|e| e as usize),
            _ => read_u64(s, ends + 8 * k).and_then(|e| usize::try_from(e).ok()),
        };
        let start = if i == 0 { Some(0) } else { end_of(i - 1) };
        Some(match (start, end_of(i)) {
            (Some(start), Some(end)) => slice(s, blob.start + start..blob.start + end),
            _ => &[],
        })
    }

    fn id_bytes(&self, i: usize) -> &[u8] {
        let layout = &self.layout;
        self.item(Sum::Ids, &layout.ids, layout.id_ends, 4, i)
            .unwrap_or(&[])
    }

    fn id(&self, i: usize) -> &str {
        // An end that is not a character boundary (never written by us) reads as an empty id.
        std::str::from_utf8(self.id_bytes(i)).unwrap_or("")
    }

    fn brief(&self, i: usize) -> &[u8] {
        let layout = &self.layout;
        self.item(Sum::Rest, &layout.briefs, layout.brief_ends, 4, i)
            .unwrap_or(&[])
    }

    /// The bytes of entity `i`, if they pass their check.
    fn raw(&self, i: usize) -> Option<&[u8]> {
        let (raw, expected) = self.unchecked(i)?;
        (xxhash_rust::xxh3::xxh3_64(raw) == expected).then_some(raw)
    }

    /// The bytes of entity `i` with the hash they were written with, not checked: what a
    /// rewrite copies as it is (damage stays detectable where it is decoded).
    fn unchecked(&self, i: usize) -> Option<(&[u8], u64)> {
        let data = self.layout.data_start..self.s().len();
        let raw = self.item(Sum::Rest, &data, self.layout.data_ends, 8, i)?;
        Some((raw, read_u64(self.s(), self.layout.hashes + 8 * i)?))
    }

    /// The position at place `k` of the sorted order.
    fn sorted(&self, k: usize) -> Option<usize> {
        if !self.sound(Sum::Order, k / Sum::Order.size()) {
            return None;
        }
        read_u32(self.s(), self.layout.order + 4 * k).map(|p| p as usize)
    }

    /// Where `id` sorts: the first place whose id is not less than it. `None` when a chunk
    /// on the way is damaged.
    fn place(&self, id: &[u8]) -> Option<usize> {
        let (mut low, mut high) = (0, self.count());
        while low < high {
            let middle = (low + high) / 2;
            // Byte order is the order of the ids as strings.
            if self.id_bytes(self.sorted(middle)?) < id {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Some(low)
    }

    /// The ids that sort right before and right after `id` (or are `id`).
    fn neighbours(&self, id: &[u8]) -> impl Iterator<Item = &[u8]> {
        let around = match self.place(id) {
            Some(low) => low.saturating_sub(1)..(low + 2).min(self.count()),
            None => 0..0,
        };
        around.filter_map(move |k| Some(self.id_bytes(self.sorted(k)?)))
    }

    /// The positions of the ids that start with `prefix`: a run of the sorted order. `None`
    /// when a chunk on the way is damaged.
    fn starting_with(&self, prefix: &[u8]) -> Option<Vec<usize>> {
        let mut found = Vec::new();
        for k in self.place(prefix)?..self.count() {
            let at = self.sorted(k)?;
            if !self.id_bytes(at).starts_with(prefix) {
                break;
            }
            found.push(at);
        }
        Some(found)
    }

    /// The position of `id`, by binary search of the sorted index.
    fn find(&self, id: &str) -> Option<usize> {
        let k = self.place(id.as_bytes())?;
        if k >= self.count() {
            return None;
        }
        let at = self.sorted(k)?;
        (self.id_bytes(at) == id.as_bytes()).then_some(at)
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
    /// Positions read from the cache that were handed out to be changed (may repeat).
    changed: Vec<u32>,
    /// Each key's positions as of now, worked out when first asked for since a change.
    keyed: [OnceLock<Vec<u32>>; KEYS],
    /// The refs of the entities changed or added since the table was read.
    fresh_refs: OnceLock<FreshRefs>,
}

/// The refs of the entities changed or added since a table was read from the cache: the
/// stored refs of those changed no longer count.
#[derive(Clone, Default)]
struct FreshRefs {
    /// The changed positions read from the cache, ascending, once each.
    changed: Vec<u32>,
    /// (hash, position) of every ref of a changed or added entity, ascending.
    refs: Vec<(u64, u32)>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            frozen: None,
            entries: Cells::default(),
            added: HashMap::new(),
            added_ids: Vec::new(),
            changed: Vec::new(),
            keyed: Default::default(),
            fresh_refs: OnceLock::new(),
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
            changed: self.changed.clone(),
            keyed: self.keyed.clone(),
            fresh_refs: self.fresh_refs.clone(),
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
                        frozen.damage.note();
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

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let i = self.position(id)?;
        self.at(i)?;
        self.forget_derived();
        if self.frozen.as_ref().is_some_and(|f| i < f.count()) {
            self.changed.push(i as u32);
        }
        let entry = self.entries.get_mut(i)?;
        // The entity may change: its brief is computed again when next asked for.
        entry.brief.take();
        entry.entity.get_mut()?.as_deref_mut()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    /// What was worked out from the entities no longer holds: one of them changes.
    fn forget_derived(&mut self) {
        if self.keyed.iter().any(|k| k.get().is_some()) {
            self.keyed = Default::default();
        }
        self.fresh_refs.take();
    }

    pub(crate) fn insert(&mut self, id: String, item: T) {
        if !self.contains(&id) {
            self.forget_derived();
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
            .flat_map(|f| (0..f.count()).map(|i| f.id(i)));
        frozen.chain(self.added_ids.iter().map(String::as_str))
    }

    /// The id of the entity at a position.
    pub fn id_at(&self, i: usize) -> &str {
        match &self.frozen {
            Some(frozen) if i < frozen.count() => frozen.id(i),
            _ => {
                let frozen = self.frozen.as_ref().map_or(0, |f| f.count());
                i.checked_sub(frozen)
                    .and_then(|k| self.added_ids.get(k))
                    .map_or("", String::as_str)
            }
        }
    }

    /// The ids added since the table was read from the cache (every id of a table folded
    /// from the events).
    pub(crate) fn added_ids(&self) -> impl Iterator<Item = &str> {
        self.added_ids.iter().map(String::as_str)
    }

    /// Whether the table was read from the cache.
    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Ids read from the cache that sort next to `id`: the only ones that can share a longer
    /// prefix with it than every other id does.
    pub(crate) fn frozen_neighbours(&self, id: &str) -> impl Iterator<Item = &str> {
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
    /// The ids that start with `prefix`, in no particular order.
    fn starting_with(&self, prefix: &str) -> Vec<&str>;
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
    fn starting_with(&self, prefix: &str) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .added_ids
            .iter()
            .map(String::as_str)
            .filter(|id| id.starts_with(prefix))
            .collect();
        if let Some(frozen) = &self.frozen {
            match frozen.starting_with(prefix.as_bytes()) {
                Some(positions) => found.extend(positions.into_iter().map(|i| frozen.id(i))),
                // A chunk on the way failed its check: every id.
                None => found.extend(
                    (0..frozen.count())
                        .map(|i| frozen.id(i))
                        .filter(|id| id.starts_with(prefix)),
                ),
            }
        }
        found
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

    /// How many entities were read from the cache: those at later positions were added.
    pub fn stored_count(&self) -> usize {
        self.frozen.as_ref().map_or(0, Frozen::count)
    }

    /// The brief entity `i` had when the table was read from the cache (`None` for one added
    /// since).
    pub fn stored_brief(&self, i: usize) -> Option<&[u8]> {
        self.frozen
            .as_ref()
            .filter(|f| i < f.count())
            .map(|f| f.brief(i))
    }

    /// The positions read from the cache that may have changed since, ascending.
    pub fn changed(&self) -> &[u32] {
        &self.fresh().changed
    }

    /// The positions with key `k` (bit `k` of [`Briefed::keys`]), ascending: the stored set,
    /// brought forward over the entities changed or added since.
    pub fn keyed(&self, k: usize) -> &[u32] {
        match self.keyed.get(k) {
            Some(cell) => cell.get_or_init(|| self.work_out_key(k)),
            None => &[],
        }
    }

    /// How many positions have key `k`: [`Table::keyed`]'s length, without reading the set
    /// (its stored length, brought forward over the changes).
    pub fn key_count(&self, k: usize) -> usize {
        let (Some(frozen), None) = (&self.frozen, self.keyed.get(k).and_then(OnceLock::get)) else {
            return self.keyed(k).len();
        };
        let bit = 1u8 << k;
        let has = |brief: &[u8]| T::keys(brief) & bit != 0;
        let mut count = frozen.layout.key_sets.get(k).map_or(0, |set| set.len() / 4);
        for &i in &self.fresh().changed {
            let was = has(self.stored_brief(i as usize).unwrap_or(&[]));
            let is = has(self.brief_at(i as usize));
            count = count + usize::from(is && !was) - usize::from(was && !is);
        }
        let added = self.stored_count()..self.len();
        count + added.filter(|&i| has(self.brief_at(i))).count()
    }

    fn work_out_key(&self, k: usize) -> Vec<u32> {
        let bit = 1u8 << k;
        let has = |brief: &[u8]| T::keys(brief) & bit != 0;
        let Some(stored) = self.frozen.as_ref().and_then(|f| f.key_set(k)) else {
            // Folded from events, or the stored set failed its check: every brief.
            return self
                .briefs()
                .filter(|(_, b)| has(b))
                .map(|(i, _)| i as u32)
                .collect();
        };
        let mut set: Vec<u32> = stored.collect();
        for &i in &self.fresh().changed {
            let was = has(self.stored_brief(i as usize).unwrap_or(&[]));
            let is = has(self.brief_at(i as usize));
            match set.binary_search(&i) {
                Ok(at) if was && !is => {
                    set.remove(at);
                }
                Err(at) if is && !was => set.insert(at, i),
                _ => {}
            }
        }
        let added = self.stored_count()..self.len();
        set.extend(added.filter(|&i| has(self.brief_at(i))).map(|i| i as u32));
        set
    }

    fn fresh(&self) -> &FreshRefs {
        self.fresh_refs.get_or_init(|| {
            let mut changed = self.changed.clone();
            changed.sort_unstable();
            changed.dedup();
            let mut refs = Vec::new();
            let added = self.stored_count()..self.len();
            for i in changed.iter().map(|&i| i as usize).chain(added) {
                self.refs_of(i, &mut refs);
            }
            refs.sort_unstable();
            refs.dedup();
            FreshRefs { changed, refs }
        })
    }

    /// Adds (hash, position) of each ref of entity `i` as it is now.
    fn refs_of(&self, i: usize, out: &mut Vec<(u64, u32)>) {
        let mut ids = Vec::new();
        T::refs(self.brief_at(i), &mut ids);
        out.extend(ids.into_iter().map(|id| (ref_hash(id), i as u32)));
    }

    /// Whether entity `i` refers to `id` now.
    fn refers(&self, i: usize, id: &str) -> bool {
        let mut ids = Vec::new();
        T::refs(self.brief_at(i), &mut ids);
        ids.contains(&id)
    }

    /// The positions of the entities that refer to `id` (see [`Briefed::refs`]), ascending.
    pub fn referring(&self, id: &str) -> Vec<usize> {
        let hash = ref_hash(id);
        let fresh = self.fresh();
        let unchanged = |p: &u32| fresh.changed.binary_search(p).is_err();
        let mut found: Vec<usize> = Vec::new();
        if let Some(frozen) = &self.frozen {
            match frozen.stored_referring(hash) {
                Some(positions) => found.extend(
                    positions
                        .iter()
                        .filter(|p| unchanged(p))
                        .map(|&p| p as usize),
                ),
                // The stored refs failed their check: every entity read from the cache.
                None => found.extend((0..frozen.count()).filter(|&i| unchanged(&(i as u32)))),
            }
        }
        let first = fresh.refs.partition_point(|&(h, _)| h < hash);
        let matching = fresh.refs[first..].iter().take_while(|&&(h, _)| h == hash);
        found.extend(matching.map(|&(_, p)| p as usize));
        // Exact: another id with the same hash is no match.
        found.retain(|&i| self.refers(i, id));
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Every (hash, position) of a ref as of now, ascending: what a rewrite stores.
    fn all_refs(&self) -> Vec<(u64, u32)> {
        let fresh = self.fresh();
        let unchanged = |p: &u32| fresh.changed.binary_search(p).is_err();
        let mut all: Vec<(u64, u32)> = Vec::new();
        if let Some(frozen) = &self.frozen {
            match frozen.refs() {
                Some((hashes, positions)) => all.extend(
                    hashes
                        .chunks_exact(8)
                        .zip(positions.chunks_exact(4))
                        .filter_map(|(h, p)| {
                            let h = u64::from_le_bytes(h.try_into().ok()?);
                            Some((h, u32::from_le_bytes(p.try_into().ok()?)))
                        })
                        .filter(|(_, p)| unchanged(p)),
                ),
                None => {
                    for i in (0..frozen.count()).filter(|&i| unchanged(&(i as u32))) {
                        self.refs_of(i, &mut all);
                    }
                }
            }
        }
        all.extend_from_slice(&fresh.refs);
        // Two runs, each ascending: one merge.
        all.sort();
        all
    }
}

impl<T: Serialize + Briefed + DeserializeOwned> Table<T> {
    /// Every position sorted by id (`ids` holds every id by position): the cache's order
    /// merged with the few ids added since, not a sort of them all.
    fn sorted_order(&self, ids: &[&str]) -> Vec<u32> {
        let frozen_count = self.frozen.as_ref().map_or(0, |f| f.count());
        let mut added: Vec<u32> = (frozen_count as u32..ids.len() as u32).collect();
        let id = |position: &u32| ids.get(*position as usize).copied().unwrap_or("");
        added.sort_unstable_by(|a, b| id(a).cmp(id(b)));
        let mut old = self.frozen.iter().flat_map(|f| {
            // A place that fails its check reads as position 0; the damage is reported and
            // the file is not written.
            (0..f.count()).map(|k| f.sorted(k).unwrap_or(0) as u32)
        });
        let mut order = Vec::with_capacity(ids.len());
        let mut next_old = old.next();
        for new in added {
            while let Some(position) = next_old.filter(|p| id(p) < id(&new)) {
                order.push(position);
                next_old = old.next();
            }
            order.push(new);
        }
        order.extend(next_old);
        order.extend(old);
        order
    }

    /// Append this table's section (see the module comment) to `out`; returns the part of
    /// `out.own()` the file's checksum must cover (the counts and the chunk sums).
    pub(crate) fn encode<'a>(
        &'a self,
        out: &mut Encoded<'a>,
    ) -> Result<Range<usize>, rmp_serde::encode::Error> {
        let count = self.entries.len();
        let mut ids: Vec<&str> = Vec::with_capacity(count);
        if let Some(frozen) = &self.frozen {
            ids.extend((0..frozen.count()).map(|i| frozen.id(i)));
        }
        ids.extend(self.added_ids.iter().map(String::as_str));
        let order = self.sorted_order(&ids);

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

        let mut briefs = Vec::new();
        let mut brief_ends = Vec::with_capacity(count);
        for i in 0..count {
            briefs.extend_from_slice(self.brief_at(i));
            brief_ends.push(briefs.len() as u32);
        }
        let ids_len: usize = ids.iter().map(|id| id.len()).sum();
        let key_sets: Vec<&[u32]> = (0..KEYS).map(|k| self.keyed(k)).collect();
        let mut key_lens = [0; KEYS];
        for (len, set) in key_lens.iter_mut().zip(&key_sets) {
            *len = set.len();
        }
        let refs = self.all_refs();
        let layout = Layout::new(count, ids_len, briefs.len(), key_lens, refs.len())
            .ok_or_else(|| rmp_serde::encode::Error::Syntax("a table too large".into()))?;
        let index = out.own();
        let start = index.len();
        index.extend_from_slice(&(count as u32).to_le_bytes());
        index.extend_from_slice(&(ids_len as u32).to_le_bytes());
        index.extend_from_slice(&(briefs.len() as u32).to_le_bytes());
        for len in key_lens {
            index.extend_from_slice(&(len as u32).to_le_bytes());
        }
        index.extend_from_slice(&(refs.len() as u32).to_le_bytes());
        // The chunk sums, filled in once the index they sum is written.
        index.resize(start + layout.ids.start, 0);
        for id in &ids {
            index.extend_from_slice(id.as_bytes());
        }
        let mut end = 0u32;
        for id in &ids {
            end += id.len() as u32;
            index.extend_from_slice(&end.to_le_bytes());
        }
        for position in order {
            index.extend_from_slice(&position.to_le_bytes());
        }
        for end in brief_ends {
            index.extend_from_slice(&end.to_le_bytes());
        }
        index.extend_from_slice(&briefs);
        for set in &key_sets {
            for position in set.iter() {
                index.extend_from_slice(&position.to_le_bytes());
            }
        }
        for (hash, _) in &refs {
            index.extend_from_slice(&hash.to_le_bytes());
        }
        for (_, position) in &refs {
            index.extend_from_slice(&position.to_le_bytes());
        }
        for end in data_ends {
            index.extend_from_slice(&end.to_le_bytes());
        }
        for (_, hash) in &pieces {
            index.extend_from_slice(&hash.to_le_bytes());
        }
        for sum in Sum::ALL {
            for c in 0..layout.chunks[sum as usize] {
                let value = layout.sum(&index[start..], sum, c).to_le_bytes();
                let at = start + layout.sum_at(sum, c);
                index[at..at + 8].copy_from_slice(&value);
            }
        }
        for j in 0..INDEX_PARTS {
            for c in 0..layout.index_chunks[j] {
                let value = layout.index_sum(&index[start..], j, c).to_le_bytes();
                let at = start + layout.index_sum_at(j, c);
                index[at..at + 8].copy_from_slice(&value);
            }
        }
        // Entities copied as they are sit next to each other in the old file: each run of
        // them is written in one piece, straight from it.
        let old: &[u8] = self.frozen.as_ref().map_or(&[], |f| (*f.bytes).as_ref());
        let offset = |raw: &[u8]| raw.as_ptr() as usize - old.as_ptr() as usize;
        let mut run: Option<Range<usize>> = None;
        for (piece, _) in &pieces {
            match piece {
                Piece::Frozen(raw) => {
                    let at = offset(raw);
                    match &mut run {
                        Some(run) if run.end == at => run.end += raw.len(),
                        _ => {
                            if let Some(done) = run.replace(at..at + raw.len()) {
                                out.borrow(&old[done]);
                            }
                        }
                    }
                }
                Piece::Fresh(range) => {
                    if let Some(done) = run.take() {
                        out.borrow(&old[done]);
                    }
                    out.own().extend_from_slice(&fresh[range.clone()]);
                }
            }
        }
        if let Some(done) = run {
            out.borrow(&old[done]);
        }
        Ok(start + layout.summed().start..start + layout.summed().end)
    }

    /// The part of this table's section that the file's checksum covers: the counts and the
    /// chunk sums (the rest is checked where it is read).
    pub(crate) fn checked(&self) -> Option<Range<usize>> {
        self.frozen.as_ref().map(|f| {
            let summed = f.layout.summed();
            f.section.start + summed.start..f.section.start + summed.end
        })
    }

    /// A table over a section of a cache file; `None` when the section is malformed.
    /// Whether something this table read failed its check.
    #[cfg(test)]
    fn damage_seen(&self) -> bool {
        self.frozen.as_ref().is_some_and(|f| f.damage.seen())
    }

    pub(crate) fn decode(
        bytes: SharedBytes,
        section: Range<usize>,
        damage: &Damage,
    ) -> Option<Table<T>> {
        let frozen = Frozen::parse(bytes, section, damage)?;
        Some(Table {
            entries: Cells::with_len(frozen.count()),
            frozen: Some(frozen),
            ..Table::default()
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

    /// The section of a table as a file would hold it, after `head`.
    fn encode_after(head: &[u8], table: &Table<Thing>) -> (Vec<u8>, Range<usize>) {
        let mut out = Encoded::default();
        out.own().extend_from_slice(head);
        let summed = table.encode(&mut out).expect("encode");
        (out.to_vec(), summed)
    }

    fn reread(table: &Table<Thing>) -> Table<Thing> {
        let (bytes, _) = encode_after(b"head", table);
        let len = bytes.len();
        let shared: SharedBytes = Arc::new(bytes);
        Table::decode(shared, 4..len, &Damage::default()).expect("decode")
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
        let (mut bytes, summed) = encode_after(b"", &table);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01; // inside t-b's bytes
        assert!(summed.end < last);
        let len = bytes.len();
        let damaged =
            Table::<Thing>::decode(Arc::new(bytes), 0..len, &Damage::default()).expect("decode");
        let rewritten = reread(&damaged);
        assert_eq!(rewritten.get("t-a"), Some(&thing("t-a", 1)));
        assert_eq!(
            rewritten.get("t-b"),
            None,
            "the damage was carried, not laundered"
        );
    }

    #[test]
    fn ids_added_to_a_table_read_from_the_cache_are_merged_into_its_order() {
        let mut table = Table::default();
        for (n, id) in ["t-m", "t-c", "t-x", "t-f"].into_iter().enumerate() {
            table.insert(id.into(), thing(id, n as u32));
        }
        let mut read = reread(&table);
        for (n, id) in ["t-a", "t-z", "t-g", "t-d", "t-n"].into_iter().enumerate() {
            read.insert(id.into(), thing(id, 10 + n as u32));
        }
        let again = reread(&read);
        let frozen = again.frozen.as_ref().expect("read from bytes");
        let sorted: Vec<&str> = (0..frozen.count())
            .filter_map(|k| frozen.sorted(k))
            .map(|i| frozen.id(i))
            .collect();
        assert_eq!(
            sorted,
            [
                "t-a", "t-c", "t-d", "t-f", "t-g", "t-m", "t-n", "t-x", "t-z"
            ]
        );
        assert_eq!(again.get("t-n").map(|t| t.n), Some(14));
        assert_eq!(again.get("t-b"), None);
    }

    /// A table of 200 things (13 chunks) and its encoded section.
    fn encoded_things() -> (Vec<u8>, Layout) {
        let mut table = Table::default();
        for n in 0..200 {
            let id = format!("t-{n:03}");
            table.insert(id.clone(), thing(&id, n));
        }
        let (bytes, _) = encode_after(b"", &table);
        let layout = Layout::new(200, 200 * 5, 200, [0; KEYS], 0).expect("layout");
        (bytes, layout)
    }

    fn decoded(bytes: Vec<u8>) -> Table<Thing> {
        let len = bytes.len();
        Table::decode(Arc::new(bytes), 0..len, &Damage::default()).expect("decode")
    }

    #[test]
    fn damage_in_the_index_is_found_where_it_is_read_and_only_there() {
        let (mut bytes, layout) = encoded_things();
        // The id of position 150 (chunk 9): "t-150" becomes "t-15x".
        let at = layout.ids.start + 150 * 5 + 4;
        bytes[at] = b'x';
        let table = decoded(bytes);
        assert_eq!(table.id_at(10), "t-010");
        // The binary search for t-010 reads places 100, 50, 25, 12, 6, 9, 11, 10.
        assert_eq!(table.get("t-010").map(|t| t.n), Some(10));
        assert!(!table.damage_seen(), "chunk 9 was not read");
        assert_eq!(table.brief_at(150), &[150], "briefs have sums of their own");
        assert!(!table.damage_seen());
        assert_eq!(table.id_at(145), "", "a damaged chunk is not used");
        assert!(table.damage_seen());
    }

    #[test]
    fn damage_in_the_sorted_order_is_found_by_a_lookup_through_it() {
        let (mut bytes, layout) = encoded_things();
        // Swap two places of the sorted order in its first chunk.
        let at = layout.order;
        let (a, b) = (bytes[at..at + 4].to_vec(), bytes[at + 4..at + 8].to_vec());
        bytes[at..at + 4].copy_from_slice(&b);
        bytes[at + 4..at + 8].copy_from_slice(&a);
        let table = decoded(bytes);
        assert_eq!(table.get("t-000"), None);
        assert!(table.damage_seen(), "the lookup said why it found nothing");
    }

    /// An entity with a key (odd numbers) and a ref (to `r<n mod 7>`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Linked {
        n: u32,
    }

    impl Briefed for Linked {
        fn brief(&self, out: &mut Vec<u8>) {
            out.push((self.n % 2) as u8);
            out.extend_from_slice(format!("r{}", self.n % 7).as_bytes());
        }
        fn keys(brief: &[u8]) -> u8 {
            brief.first().copied().unwrap_or(0)
        }
        fn refs<'a>(brief: &'a [u8], out: &mut Vec<&'a str>) {
            out.extend(brief.get(1..).and_then(|b| std::str::from_utf8(b).ok()));
        }
    }

    #[test]
    fn damage_in_a_key_set_or_the_refs_is_found_and_they_are_worked_out_again() {
        let mut table = Table::default();
        for n in 0..1000 {
            table.insert(format!("l-{n:04}"), Linked { n });
        }
        let odd: Vec<u32> = (0..1000).filter(|n| n % 2 == 1).collect();
        let threes: Vec<usize> = (0..1000).filter(|n| n % 7 == 3).collect();
        let mut out = Encoded::default();
        table.encode(&mut out).expect("encode");
        let bytes = out.to_vec();
        let len = bytes.len();
        let read = Table::<Linked>::decode(Arc::new(bytes.clone()), 0..len, &Damage::default())
            .expect("decode");
        assert_eq!(read.key_count(0), 500);
        assert_eq!(read.keyed(0), &odd[..]);
        assert_eq!(read.referring("r3"), threes);
        assert!(!read.damage_seen());
        let layout = read
            .frozen
            .as_ref()
            .map(|f| f.layout.clone())
            .expect("frozen");
        // One byte in the key set's third chunk, one in the position of a ref to r3.
        let frozen = read.frozen.as_ref().expect("frozen");
        let first_r3 = (0..layout.refs_count)
            .find(|&k| frozen.stored_ref(k).map(|(h, _)| h) == Some(ref_hash("r3")))
            .expect("refs to r3");
        for at in [
            layout.key_sets[0].start + 4 * (2 * INDEX_CHUNK + 5),
            layout.refs.start + 8 * layout.refs_count + 4 * first_r3,
        ] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            let read = Table::<Linked>::decode(Arc::new(damaged), 0..len, &Damage::default())
                .expect("decode");
            assert_eq!(read.keyed(0), &odd[..]);
            assert_eq!(read.referring("r3"), threes);
            assert!(read.damage_seen(), "the damage at {at} was found");
        }
    }

    #[test]
    fn ids_by_prefix_come_from_the_sorted_index_and_the_ids_added_since() {
        let mut table = Table::default();
        for id in ["t-ab1", "t-b00", "t-ab2", "t-a00", "t-abc9"] {
            table.insert(id.into(), thing(id, 0));
        }
        let mut read = reread(&table);
        read.insert("t-ab0".into(), thing("t-ab0", 0));
        read.insert("t-c00".into(), thing("t-c00", 0));
        let mut found = read.starting_with("t-ab");
        found.sort_unstable();
        assert_eq!(found, ["t-ab0", "t-ab1", "t-ab2", "t-abc9"]);
        assert_eq!(read.starting_with("t-abc9"), ["t-abc9"]);
        assert!(read.starting_with("t-abd").is_empty());
        assert_eq!(read.starting_with("t-").len(), 7);
    }

    #[test]
    fn lookups_find_every_id_and_the_place_of_any_other() {
        let hashed: Vec<String> = (0..3000u32)
            .map(|n| format!("t-{}", &blake3::hash(&n.to_le_bytes()).to_hex()[..10]))
            .collect();
        // Imported ids need not be hashes: decimal runs, a long shared prefix, other kinds.
        let uneven: Vec<String> = (0..3000u32)
            .map(|n| match n % 3 {
                0 => format!("t-{n}"),
                1 => format!("t-0000000000{n:06}"),
                _ => format!("task-{}", n * n),
            })
            .collect();
        for ids in [hashed, uneven] {
            let mut table = Table::default();
            for (n, id) in ids.iter().enumerate() {
                table.insert(id.clone(), thing(id, n as u32));
            }
            let read = reread(&table);
            let frozen = read.frozen.as_ref().expect("read from bytes");
            let mut sorted = ids.clone();
            sorted.sort();
            for (n, id) in ids.iter().enumerate() {
                assert_eq!(frozen.find(id), Some(n), "{id}");
            }
            for probe in [
                "",
                "t-",
                "t-0",
                "t-5",
                "t-zzz",
                "task-",
                "u",
                "t-00000000001",
            ] {
                let expected = sorted.partition_point(|s| s.as_str() < probe);
                assert_eq!(frozen.place(probe.as_bytes()), Some(expected), "{probe}");
                assert_eq!(frozen.find(probe), ids.iter().position(|i| i == probe));
            }
            for id in &sorted {
                let absent = format!("{id}0");
                let expected = sorted.partition_point(|s| *s < absent);
                assert_eq!(frozen.place(absent.as_bytes()), Some(expected), "{absent}");
            }
        }
    }

    #[test]
    fn a_malformed_section_is_refused() {
        let mut table = Table::default();
        table.insert("t-a".into(), thing("t-a", 1));
        let (bytes, _) = encode_after(b"", &table);
        for cut in 0..bytes.len() {
            let shared: SharedBytes = Arc::new(bytes[..cut].to_vec());
            assert!(
                Table::<Thing>::decode(shared, 0..cut, &Damage::default()).is_none(),
                "cut at {cut}"
            );
        }
    }
}
