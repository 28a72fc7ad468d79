//! Entities of one kind, in creation order, with lookup by id; read lazily from the
//! projection index (`cache::db`).
//!
//! A table read from the index keeps a read transaction on it ([`db::Snapshot`]) and reads
//! an entity the first time it is asked for, so a command that touches three tasks decodes
//! three tasks, not the twenty thousand the ledger holds. Lookups by id, key sets and refs
//! are SQLite's indexes; only entities added since the table was read go into a hash map.
//! Writing the table back writes only the rows of the entities changed or added since.
//!
//! The key sets and the refs are what [`Briefed::keys`] and [`Briefed::refs`] say of each
//! brief. A table read from the index brings them forward over the entities changed (handed
//! out by `get_mut`) or added since: for each, the brief it was stored with and the brief it
//! has now say which sets it leaves or joins and which refs it drops or makes.

mod added;
mod cells;

use super::db::{self, Parking, Row, Snapshot};
use added::AddedIds;
use cells::Cells;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Set when something read from the index failed its check (damage after it was written):
/// what was computed from it may lack that. One flag is shared by every table read from the
/// same reader (a `Ledger`), so its owner can ask after any read.
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

    pub(crate) fn note(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the hot views filter on (a task's status, priority and dependencies, whether a
/// session is open, ...), kept beside each entity in a few bytes so that `status`, `ready`
/// and the instructions of every reply read briefs and decode only what they show.
///
/// From a brief come the entity's *keys* (the sets it is in: open, in progress, claimed, ...)
/// and its *refs* (the ids it refers to: a task's objective and dependencies). The index
/// keeps each key's members and the refs, so that a view asks for "the tasks in progress"
/// or "the tasks that depend on t-1" and pays for what it gets, not for the ledger's size.
pub trait Briefed {
    fn brief(&self, out: &mut Vec<u8>);

    /// The sets an entity with this brief is in, one bit each (at most [`KEYS`]).
    fn keys(_brief: &[u8]) -> u8 {
        0
    }

    /// The ids an entity with this brief refers to.
    fn refs<'a>(_brief: &'a [u8], _out: &mut Vec<&'a str>) {}
}

/// An entity's brief, as kept beside it.
fn brief_of(entity: &impl Briefed) -> Box<[u8]> {
    let mut out = Vec::new();
    entity.brief(&mut out);
    out.into_boxed_slice()
}

/// How many key sets a table keeps (bits of [`Briefed::keys`]).
pub const KEYS: usize = 8;

/// The hash a ref is indexed by in memory.
fn ref_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A table's rows in the index, as one snapshot sees them.
#[derive(Clone, Debug)]
struct Stored {
    snapshot: Snapshot,
    /// Which of the state's tables this is (its `kind` in the index).
    kind: u8,
    count: usize,
    /// How many entities each key set holds.
    key_counts: [usize; KEYS],
}

/// What the index stores of an entity beside its bytes.
struct StoredRow {
    id: Box<str>,
    brief: Box<[u8]>,
}

/// One entity's place in a table.
struct Entry<T> {
    /// Decoded (or added) once, or undecodable (`None`, reported once).
    entity: OnceLock<Option<Box<T>>>,
    /// Computed from the decoded entity; cleared when the entity is changed.
    brief: OnceLock<Box<[u8]>>,
    /// Its id and brief as the index has them (entities read from it only).
    row: OnceLock<StoredRow>,
    /// The entity's bytes while it is out of memory ([`Table::park`]): newer than the
    /// index's row, decoded again when asked for.
    parked: Option<Box<[u8]>>,
    /// Handed out to be changed, or added, since the last [`Table::park`].
    touched: bool,
}

impl<T: Clone> Clone for Entry<T> {
    fn clone(&self) -> Self {
        let row = OnceLock::new();
        if let Some(r) = self.row.get() {
            let _ = row.set(StoredRow {
                id: r.id.clone(),
                brief: r.brief.clone(),
            });
        }
        Entry {
            entity: self.entity.clone(),
            brief: self.brief.clone(),
            row,
            parked: self.parked.clone(),
            touched: self.touched,
        }
    }
}

impl<T> Default for Entry<T> {
    fn default() -> Self {
        Entry {
            entity: OnceLock::new(),
            brief: OnceLock::new(),
            row: OnceLock::new(),
            parked: None,
            touched: false,
        }
    }
}

/// Entities in creation order with lookup by id. A second creation of the same id is ignored:
/// the first one in the total order wins.
pub struct Table<T> {
    stored: Option<Stored>,
    /// One entry per entity: the stored ones first (filled when first read), then those added.
    entries: Cells<Entry<T>>,
    /// The ids of the entities added since the table was read from the index, in the order
    /// they were added (at the positions after the stored ones).
    added: AddedIds,
    /// Positions of stored entities already found by id: folding many events finds the
    /// same ones again and again.
    found: Mutex<HashMap<Box<str>, u32>>,
    /// Whether `found` holds every stored id (a table carried through a build of the
    /// index, [`Table::carry_ids`]): an id not in it is not in the table.
    found_all: bool,
    /// Positions read from the index that were handed out to be changed (may repeat).
    changed: Vec<u32>,
    /// Each key's positions as of now, worked out when first asked for since a change.
    keyed: [OnceLock<Vec<u32>>; KEYS],
    /// The refs of the entities changed or added since the table was read.
    fresh_refs: OnceLock<FreshRefs>,
    /// Set once every stored row (id and brief) was read in one scan.
    rows_read: OnceLock<()>,
    /// Set once every stored entity was decoded in one scan.
    entities_read: OnceLock<()>,
    /// How the entities parked out of memory were packed ([`Table::park`]).
    parking: Option<Arc<Parking>>,
}

/// The ids of a table and their positions ([`Table::into_ids`]), and whether they are all
/// it holds.
pub(crate) struct KnownIds {
    found: HashMap<Box<str>, u32>,
    complete: bool,
}

/// The refs of the entities changed or added since a table was read from the index: the
/// stored refs of those changed no longer count.
#[derive(Clone, Default)]
struct FreshRefs {
    /// The changed positions read from the index, ascending, once each.
    changed: Vec<u32>,
    /// (hash, position) of every ref of a changed or added entity, ascending.
    refs: Vec<(u64, u32)>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            stored: None,
            entries: Cells::default(),
            added: AddedIds::default(),
            found: Mutex::default(),
            found_all: false,
            changed: Vec::new(),
            keyed: Default::default(),
            fresh_refs: OnceLock::new(),
            rows_read: OnceLock::new(),
            entities_read: OnceLock::new(),
            parking: None,
        }
    }
}

impl<T: Clone> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table {
            stored: self.stored.clone(),
            entries: self.entries.clone(),
            added: self.added.clone(),
            found: Mutex::new(self.found.lock().map(|f| f.clone()).unwrap_or_default()),
            found_all: self.found_all,
            changed: self.changed.clone(),
            keyed: self.keyed.clone(),
            fresh_refs: self.fresh_refs.clone(),
            rows_read: self.rows_read.clone(),
            entities_read: self.entities_read.clone(),
            parking: self.parking.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} entities)", self.entries.len())
    }
}

impl<T> Table<T> {
    /// How many entities were read from the index: those at later positions were added.
    pub fn stored_count(&self) -> usize {
        self.stored.as_ref().map_or(0, |s| s.count)
    }

    /// Keep a row the index gave for a stored position.
    fn keep_row(&self, (pos, id, brief): Row) -> Option<&StoredRow> {
        if pos >= self.stored_count() {
            return None;
        }
        Some(self.entries.get(pos)?.row.get_or_init(|| StoredRow {
            id: id.into_boxed_str(),
            brief: brief.into_boxed_slice(),
        }))
    }

    /// The row of stored position `i`, read from the index the first time.
    fn stored_row(&self, i: usize) -> Option<&StoredRow> {
        let stored = self.stored.as_ref().filter(|s| i < s.count)?;
        let entry = self.entries.get(i)?;
        if let Some(row) = entry.row.get() {
            return Some(row);
        }
        self.keep_row(stored.snapshot.row(stored.kind, i)?)
    }

    /// Read every stored row in one scan (before a walk over all of them).
    fn read_all_rows(&self) {
        let Some(stored) = &self.stored else {
            return;
        };
        self.rows_read.get_or_init(|| {
            for row in stored.snapshot.rows(stored.kind).unwrap_or_default() {
                self.keep_row(row);
            }
        });
    }

    /// The id of the entity at a position.
    pub fn id_at(&self, i: usize) -> &str {
        let stored = self.stored_count();
        if i < stored {
            return self.stored_row(i).map_or("", |row| &row.id);
        }
        self.added.at(i - stored).unwrap_or("")
    }

    /// Every id in creation order, without decoding any entity.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.read_all_rows();
        (0..self.entries.len()).map(|i| self.id_at(i))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The ids added since the table was read from the index (every id of a table folded
    /// from the events).
    pub(crate) fn added_ids(&self) -> impl Iterator<Item = &str> {
        self.added.iter()
    }

    /// Whether the table was read from the index.
    pub(crate) fn is_frozen(&self) -> bool {
        self.stored.is_some()
    }

    /// The position of an entity by id.
    pub fn position(&self, id: &str) -> Option<usize> {
        if let Some(i) = self.added.get(id) {
            return Some(self.stored_count() + i);
        }
        let stored = self.stored.as_ref()?;
        if let Some(&pos) = self.found.lock().ok()?.get(id) {
            return Some(pos as usize);
        }
        if self.found_all {
            return None;
        }
        let row = stored.snapshot.find(stored.kind, id)?;
        let pos = row.0;
        self.keep_row(row)?;
        if let Ok(mut found) = self.found.lock() {
            found.insert(id.into(), pos as u32);
        }
        Some(pos)
    }

    /// Whether every id of the table is in memory (`found` and `added`): it was folded from
    /// the events, or carried through a build of the index.
    fn knows_every_id(&self) -> bool {
        self.found_all || self.stored.is_none()
    }

    /// The ids this table knows, kept for the next reading of the index it is written
    /// into (the table itself, and the read transaction it holds, can then go).
    pub(crate) fn into_ids(self) -> KnownIds {
        let complete = self.knows_every_id();
        let stored = self.stored_count() as u32;
        let mut found = self.found.into_inner().unwrap_or_default();
        found.extend((self.added.into_indexed()).map(|(id, i)| (id, stored + i)));
        KnownIds { found, complete }
    }

    /// Take over the ids an earlier reading of the same index knew (this table was read
    /// back after it was written): a build of the index then finds every entity by id
    /// without asking the index, and knows an id it does not hold is new.
    pub(crate) fn carry_ids(&mut self, earlier: KnownIds) {
        self.found = Mutex::new(earlier.found);
        self.found_all = earlier.complete;
    }

    /// Every id of a table carried through a build of the index ([`Table::carry_ids`]),
    /// from memory, added to `out`; false (and nothing added) for any other table.
    pub(crate) fn carried_ids<'a>(&'a mut self, out: &mut Vec<&'a str>) -> bool {
        if !self.knows_every_id() {
            return false;
        }
        let Ok(found) = self.found.get_mut() else {
            return false;
        };
        out.extend(found.keys().map(|id| &**id));
        out.extend(self.added.iter());
        true
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
}

impl<T: DeserializeOwned> Table<T> {
    /// Decode stored (or parked) bytes, noting damage when they do not decode.
    fn decode(&self, data: Option<&[u8]>) -> Option<Box<T>> {
        let decoded = data.and_then(|d| rmp_serde::from_slice(d).ok());
        if decoded.is_none()
            && let Some(stored) = &self.stored
        {
            stored.snapshot.damage.note();
        }
        decoded.map(Box::new)
    }

    /// Decode an entity's parked bytes ([`Table::park`]).
    fn decode_parked(&self, parked: &[u8]) -> Option<Box<T>> {
        let parking = self.parking.as_ref()?;
        self.decode(parking.unpack(parked).as_deref())
    }

    /// The entity at a position (creation order), decoded if it was not yet.
    pub fn at(&self, i: usize) -> Option<&T> {
        let entry = self.entries.get(i)?;
        entry
            .entity
            .get_or_init(|| {
                if let Some(parked) = &entry.parked {
                    return self.decode_parked(parked);
                }
                let stored = self.stored.as_ref()?;
                self.decode(stored.snapshot.data(stored.kind, i).as_deref())
            })
            .as_deref()
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.at(self.position(id)?)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let i = self.position(id)?;
        self.at(i)?;
        // Its stored brief is what the key sets and refs are brought forward from.
        self.stored_row(i);
        self.forget_derived();
        if i < self.stored_count() {
            self.changed.push(i as u32);
        }
        let entry = self.entries.get_mut(i)?;
        // The entity may change: its brief is computed again when next asked for, and its
        // parked bytes no longer hold.
        entry.brief.take();
        entry.parked = None;
        entry.touched = true;
        entry.entity.get_mut()?.as_deref_mut()
    }

    pub(crate) fn insert(&mut self, id: String, item: T) {
        if !self.contains(&id) {
            self.forget_derived();
            self.added.push(id);
            self.entries.push(Entry {
                entity: OnceLock::from(Some(Box::new(item))),
                touched: true,
                ..Entry::default()
            });
        }
    }

    /// Every entity, oldest first (decoding those not read yet, in one scan).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        if let Some(stored) = &self.stored {
            self.entities_read.get_or_init(|| {
                stored.snapshot.all_data(stored.kind, |i, data| {
                    if let Some(entry) = self.entries.get(i).filter(|e| e.entity.get().is_none()) {
                        let decoded = match &entry.parked {
                            Some(parked) => self.decode_parked(parked),
                            None => self.decode(data.as_deref()),
                        };
                        let _ = entry.entity.set(decoded);
                    }
                });
            });
        }
        (0..self.entries.len()).filter_map(|i| self.at(i))
    }
}

/// The ids of a table whatever its entities' type, so the state can walk its six tables'
/// ids in one loop (abbreviations, prefix lookups).
pub trait Ids {
    /// Every id in creation order.
    fn all(&self) -> Box<dyn Iterator<Item = &str> + '_>;
    /// The ids added since the table was read from the index.
    fn added(&self) -> Box<dyn Iterator<Item = &str> + '_>;
    /// Ids read from the index that sort next to `id`.
    fn near(&self, id: &str) -> Vec<&str>;
    /// Whether an id read from the index, other than `except`, may start with `prefix`
    /// (a cheap look: true can be a false alarm, false is certain).
    fn may_have_other_starting_with(&self, prefix: &str, except: &str) -> bool;
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
        let Some(stored) = &self.stored else {
            return Vec::new();
        };
        let rows = stored.snapshot.near(stored.kind, id);
        rows.into_iter()
            .filter_map(|row| self.keep_row(row))
            .map(|row| &*row.id)
            .collect()
    }
    fn may_have_other_starting_with(&self, prefix: &str, except: &str) -> bool {
        self.stored.as_ref().is_some_and(|stored| {
            stored.count > 0
                && stored
                    .snapshot
                    .has_other_starting_with(stored.kind, prefix, except)
        })
    }
    fn starting_with(&self, prefix: &str) -> Vec<&str> {
        let mut found: Vec<&str> = (self.added.iter())
            .filter(|id| id.starts_with(prefix))
            .collect();
        if let Some(stored) = &self.stored {
            let rows = stored.snapshot.starting_with(stored.kind, prefix);
            let rows = rows.unwrap_or_default().into_iter();
            found.extend(
                rows.filter_map(|row| self.keep_row(row))
                    .map(|row| &*row.id),
            );
        }
        found
    }
}

impl<T: Briefed + DeserializeOwned> Table<T> {
    /// The brief of the entity at a position: computed from the entity when it was decoded
    /// (it may have changed since), else as the index has it, without decoding.
    pub fn brief_at(&self, i: usize) -> &[u8] {
        let Some(entry) = self.entries.get(i) else {
            return &[];
        };
        if let Some(brief) = entry.brief.get() {
            return brief;
        }
        match entry.entity.get() {
            Some(Some(entity)) => entry.brief.get_or_init(|| brief_of(&**entity)),
            _ => self.stored_row(i).map_or(&[], |row| &row.brief),
        }
    }

    /// Every position with its brief, in creation order.
    pub fn briefs(&self) -> impl DoubleEndedIterator<Item = (usize, &[u8])> {
        self.read_all_rows();
        (0..self.entries.len()).map(|i| (i, self.brief_at(i)))
    }

    /// The brief entity `i` had when the table was read from the index (`None` for one
    /// added since).
    pub fn stored_brief(&self, i: usize) -> Option<&[u8]> {
        if i >= self.stored_count() {
            return None;
        }
        Some(self.stored_row(i).map_or(&[], |row| &row.brief))
    }

    /// The positions read from the index that may have changed since, ascending.
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

    /// The first `n` positions with key `k`: the start of [`Table::keyed`], reading only the
    /// start of the stored set (a view that shows ten of twenty thousand reads ten and the
    /// changes).
    pub fn keyed_first(&self, k: usize, n: usize) -> Vec<u32> {
        let done = self.keyed.get(k).and_then(OnceLock::get);
        let (Some(stored), None) = (&self.stored, done) else {
            return self.keyed(k).iter().take(n).copied().collect();
        };
        let changed = &self.fresh().changed;
        // Each change removes at most one: this many stored ones leave at least `n`.
        let wanted = n.saturating_add(changed.len());
        let Some(mut set) = stored.snapshot.keyed(stored.kind, k, wanted) else {
            return self.keyed(k).iter().take(n).copied().collect();
        };
        if set.len() < wanted {
            // The whole stored set: the usual way.
            return self.keyed(k).iter().take(n).copied().collect();
        }
        let last = set.last().copied().unwrap_or(0);
        self.bring_forward(k, &mut set, changed.iter().filter(|&&i| i <= last));
        set.truncate(n);
        set
    }

    /// Make a stored key set right again for the entities changed since: each one that
    /// left it (its stored brief has the key, its brief now does not) or joined it.
    fn bring_forward<'a>(
        &self,
        k: usize,
        set: &mut Vec<u32>,
        changed: impl Iterator<Item = &'a u32>,
    ) {
        let bit = 1u8 << k;
        let has = |brief: &[u8]| T::keys(brief) & bit != 0;
        for &i in changed {
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
    }

    /// How many positions have key `k`: [`Table::keyed`]'s length, without reading the set
    /// (its stored length, brought forward over the changes).
    pub fn key_count(&self, k: usize) -> usize {
        let (Some(stored), None) = (&self.stored, self.keyed.get(k).and_then(OnceLock::get)) else {
            return self.keyed(k).len();
        };
        let bit = 1u8 << k;
        let has = |brief: &[u8]| T::keys(brief) & bit != 0;
        let mut count = stored.key_counts.get(k).copied().unwrap_or(0);
        for &i in &self.fresh().changed {
            let was = has(self.stored_brief(i as usize).unwrap_or(&[]));
            let is = has(self.brief_at(i as usize));
            count = (count + usize::from(is && !was)).saturating_sub(usize::from(was && !is));
        }
        let added = self.stored_count()..self.len();
        count + added.filter(|&i| has(self.brief_at(i))).count()
    }

    /// The stored members of key set `k`; `None` when the table was not read from the index
    /// or the set cannot be trusted.
    fn stored_key_set(&self, k: usize) -> Option<Vec<u32>> {
        let stored = self.stored.as_ref()?;
        let set = stored.snapshot.keyed(stored.kind, k, usize::MAX)?;
        // The set must be as long as it was written: one changed behind our back is
        // damage, worked out again from the briefs.
        if set.len() != stored.key_counts.get(k).copied().unwrap_or(0) {
            stored.snapshot.damage.note();
            return None;
        }
        Some(set)
    }

    fn work_out_key(&self, k: usize) -> Vec<u32> {
        let bit = 1u8 << k;
        let has = |brief: &[u8]| T::keys(brief) & bit != 0;
        let Some(mut set) = self.stored_key_set(k) else {
            // Folded from events, or the stored set could not be read: every brief.
            return self
                .briefs()
                .filter(|(_, b)| has(b))
                .map(|(i, _)| i as u32)
                .collect();
        };
        self.bring_forward(k, &mut set, self.fresh().changed.iter());
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
                let mut ids = Vec::new();
                T::refs(self.brief_at(i), &mut ids);
                refs.extend(ids.into_iter().map(|id| (ref_hash(id), i as u32)));
            }
            refs.sort_unstable();
            refs.dedup();
            FreshRefs { changed, refs }
        })
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
        if let Some(stored) = &self.stored {
            match stored.snapshot.referring(stored.kind, id) {
                Some(positions) => found.extend(
                    positions
                        .iter()
                        .filter(|p| unchanged(p))
                        .map(|&p| p as usize),
                ),
                // The stored refs could not be read: every entity read from the index.
                None => found.extend((0..stored.count).filter(|&i| unchanged(&(i as u32)))),
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
}

impl<T: Serialize + Briefed + DeserializeOwned> Table<T> {
    /// The bytes of up to `n` entities spread over the table (what the index's dictionary
    /// is trained on), added to `out` while it holds under `bytes` in all.
    pub(crate) fn samples(&self, n: usize, bytes: usize, out: &mut Vec<Vec<u8>>) {
        let step = self.len().div_ceil(n.max(1)).max(1);
        let mut held: usize = out.iter().map(Vec::len).sum();
        for i in (0..self.len()).step_by(step) {
            let Some(entity) = self.at(i) else { continue };
            let Ok(data) = rmp_serde::to_vec_named(entity) else {
                continue;
            };
            held += data.len();
            if held > bytes {
                return;
            }
            out.push(data);
        }
    }

    /// Take the entities not changed or added since the last call out of memory, keeping
    /// their bytes (and their briefs) instead: a build of the index folds every event of the
    /// ledger, and most entities are done with long before the last one. An entity parked
    /// is decoded again when asked for, and its bytes are what the index is written with.
    /// With `changed_too`, the entities changed or added since are packed as well (and
    /// taken out of memory): what a build does before its write, so that the write packs
    /// none of them itself, on one thread.
    pub(crate) fn park(&mut self, parking: &Arc<Parking>, changed_too: bool)
    where
        T: Send + Sync,
    {
        let parking = self.parking.get_or_insert_with(|| parking.clone());
        let mut idle = Vec::new();
        for entry in self.entries.used_mut() {
            let Entry {
                entity,
                brief,
                parked,
                touched,
                ..
            } = entry;
            if std::mem::take(touched) && !changed_too {
                continue;
            }
            let Some(Some(decoded)) = entity.get() else {
                continue;
            };
            brief.get_or_init(|| brief_of(&**decoded));
            // Decoded from its parked bytes and not changed since: they still hold.
            if parked.is_some() {
                entity.take();
                continue;
            }
            idle.push((entity, parked));
        }
        parking.pack_each(&mut idle, |(entity, parked), packer| {
            let Some(Some(decoded)) = entity.get() else {
                return;
            };
            if let Ok(packed) = packer.pack_value(&**decoded) {
                **parked = Some(packed.into_boxed_slice());
            }
        });
        // Freed here rather than on the packing threads: memory freed on another thread
        // than the one that took it costs the allocator more.
        for (entity, parked) in idle {
            if parked.is_some() {
                entity.take();
            }
        }
    }

    /// Write this table into the index as table `kind`, in the caller's transaction: every
    /// row when it was not read from the index, else only the rows of the entities changed
    /// or added since (the index must still be at the snapshot it was read from). Returns
    /// how many entities each key set holds now. `packer` compresses each entity's bytes.
    pub(crate) fn write(
        &self,
        conn: &rusqlite::Connection,
        kind: u8,
        packer: &mut db::Packer,
    ) -> rusqlite::Result<[usize; KEYS]> {
        let positions: Vec<usize> = match &self.stored {
            None => {
                let range = db::kind_range(kind);
                for sql in [
                    "DELETE FROM entity WHERE key >= ?1 AND key < ?2",
                    "DELETE FROM entity_data WHERE key >= ?1 AND key < ?2",
                ] {
                    conn.prepare_cached(sql)?.execute(range)?;
                }
                for sql in [
                    "DELETE FROM keyed WHERE kind = ?1",
                    "DELETE FROM refs WHERE kind = ?1",
                ] {
                    conn.prepare_cached(sql)?.execute([kind])?;
                }
                (0..self.len()).collect()
            }
            Some(_) => {
                let changed = self.fresh().changed.iter().map(|&i| i as usize);
                changed.chain(self.stored_count()..self.len()).collect()
            }
        };
        let mut put = conn.prepare_cached(
            "INSERT OR REPLACE INTO entity(key, id, brief, sum) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut put_data = conn.prepare_cached(
            "INSERT OR REPLACE INTO entity_data(key, hash, data) VALUES (?1, ?2, ?3)",
        )?;
        // A stored row is updated where it is: a replace would delete it and its entry in
        // the lookup index by id, then insert both again.
        let mut update =
            conn.prepare_cached("UPDATE entity SET brief = ?2, sum = ?3 WHERE key = ?1")?;
        let mut update_data =
            conn.prepare_cached("UPDATE entity_data SET hash = ?2, data = ?3 WHERE key = ?1")?;
        let mut join =
            conn.prepare_cached("INSERT OR IGNORE INTO keyed(kind, key, pos) VALUES (?1, ?2, ?3)")?;
        let mut leave =
            conn.prepare_cached("DELETE FROM keyed WHERE kind = ?1 AND key = ?2 AND pos = ?3")?;
        let mut refer = conn
            .prepare_cached("INSERT OR IGNORE INTO refs(kind, target, pos) VALUES (?1, ?2, ?3)")?;
        let mut unrefer =
            conn.prepare_cached("DELETE FROM refs WHERE kind = ?1 AND target = ?2 AND pos = ?3")?;
        // Set and ref rows are written after the entities, sorted: inserted in key order, a
        // b-tree grows at its end instead of splitting pages all over (a full write of a
        // million events' entities is several hundred thousand of them).
        let (mut joins, mut leaves) = (Vec::new(), Vec::new());
        let (mut refers, mut unrefers) = (Vec::new(), Vec::new());
        // Parked entities are written as they were packed, when that is how the index packs.
        let as_parked = (self.parking.as_ref()).is_some_and(|parking| parking.packs_as(packer));
        let mut repacked;
        for i in positions {
            let parked = self.entries.get(i).and_then(|e| e.parked.as_deref());
            let packed: &[u8] = match parked.filter(|_| as_parked) {
                Some(packed) => packed,
                None => {
                    let Some(entity) = self.at(i) else {
                        // Undecodable (already noted as damage: the index is not written).
                        continue;
                    };
                    repacked = packer.pack_value(entity)?;
                    &repacked
                }
            };
            let (id, brief) = (self.id_at(i), self.brief_at(i));
            let key = db::row_key(kind, i);
            let hash = db::hash_of(packed);
            let stored = self.stored_brief(i);
            match stored {
                Some(before) => {
                    // Most changes (a note, a claim renewed) leave the brief as it was.
                    if before != brief {
                        update.execute(rusqlite::params![key, brief, db::row_sum(id, brief)])?;
                    }
                    update_data.execute(rusqlite::params![key, hash, packed])?;
                }
                None => {
                    put.execute(rusqlite::params![key, id, brief, db::row_sum(id, brief)])?;
                    put_data.execute(rusqlite::params![key, hash, packed])?;
                }
            }
            let before = stored.unwrap_or(&[]);
            let (was, is) = (T::keys(before), T::keys(brief));
            for k in 0..KEYS {
                let bit = 1u8 << k;
                if is & bit != 0 && was & bit == 0 {
                    joins.push((k, i));
                } else if was & bit != 0 && is & bit == 0 {
                    leaves.push((k, i));
                }
            }
            let (mut old, mut new) = (Vec::new(), Vec::new());
            T::refs(before, &mut old);
            T::refs(brief, &mut new);
            let dropped = old.iter().filter(|t| !new.contains(t));
            unrefers.extend(dropped.map(|&t| (t, i)));
            let made = new.iter().filter(|t| !old.contains(t));
            refers.extend(made.map(|&t| (t, i)));
        }
        joins.sort_unstable();
        refers.sort_unstable();
        for (k, i) in leaves {
            leave.execute(rusqlite::params![kind, k as i64, i as i64])?;
        }
        for (k, i) in joins {
            join.execute(rusqlite::params![kind, k as i64, i as i64])?;
        }
        for (target, i) in unrefers {
            unrefer.execute(rusqlite::params![kind, target, i as i64])?;
        }
        for (target, i) in refers {
            refer.execute(rusqlite::params![kind, target, i as i64])?;
        }
        let mut counts = [0; KEYS];
        for (k, count) in counts.iter_mut().enumerate() {
            *count = self.key_count(k);
        }
        Ok(counts)
    }

    /// Table `kind` of a snapshot of the index, which holds `count` entities and
    /// `key_counts` in each key set.
    pub(crate) fn stored(
        snapshot: &Snapshot,
        kind: u8,
        count: usize,
        key_counts: [usize; KEYS],
    ) -> Table<T> {
        Table {
            entries: Cells::with_len(count),
            stored: Some(Stored {
                snapshot: snapshot.clone(),
                kind,
                count,
                key_counts,
            }),
            ..Table::default()
        }
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

    /// The index's packer: with no dictionary in a new one.
    fn packer(conn: &rusqlite::Connection) -> db::Packer {
        db::Packer::stored(conn)
            .or_else(|_| db::Packer::train(conn, &[]))
            .expect("packer")
    }

    /// The table written into a database (updated in place when it was read from `conn`),
    /// and read back.
    fn reread<T: Serialize + Briefed + DeserializeOwned>(
        conn: rusqlite::Connection,
        table: &Table<T>,
    ) -> (Table<T>, Damage) {
        let counts = table.write(&conn, 1, &mut packer(&conn)).expect("write");
        let damage = Damage::default();
        let (snapshot, ()) = Snapshot::begin(conn, &damage, |_| Ok(())).expect("begin");
        (Table::stored(&snapshot, 1, table.len(), counts), damage)
    }

    fn fresh_db() -> rusqlite::Connection {
        db::in_memory().expect("database")
    }

    /// A database file holding `table`, and its path (kept alive by the directory).
    fn on_disk<T: Serialize + Briefed + DeserializeOwned>(
        table: &Table<T>,
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.sqlite");
        let conn = db::open(&path).expect("open");
        table.write(&conn, 1, &mut packer(&conn)).expect("write");
        (dir, path)
    }

    fn read_back<T: Serialize + Briefed + DeserializeOwned>(
        path: &std::path::Path,
        len: usize,
        counts: [usize; KEYS],
    ) -> (Table<T>, Damage) {
        let damage = Damage::default();
        let conn = db::open(path).expect("open");
        let (snapshot, ()) = Snapshot::begin(conn, &damage, |_| Ok(())).expect("begin");
        (Table::stored(&snapshot, 1, len, counts), damage)
    }

    #[test]
    fn survives_the_round_trip_and_keeps_changes_to_decoded_entities() {
        let mut table = Table::default();
        for (id, n) in [("t-c", 1), ("t-a", 2), ("t-b", 3)] {
            table.insert(id.into(), thing(id, n));
        }
        table.insert("t-a".into(), thing("t-a", 99));
        let (read, damage) = reread(fresh_db(), &table);
        assert_eq!(read.len(), 3);
        assert_eq!(read.get("t-a"), Some(&thing("t-a", 2)));
        assert!(read.get("t-z").is_none() && read.contains("t-b"));
        // Written in place over the rows it was read from.
        let (dir, path) = on_disk(&table);
        let (mut read, _) = read_back::<Thing>(&path, 3, [0; KEYS]);
        if let Some(b) = read.get_mut("t-b") {
            b.n = 30;
        }
        read.insert("t-d".into(), thing("t-d", 4));
        let conn = db::open(&path).expect("open");
        read.write(&conn, 1, &mut packer(&conn)).expect("write");
        let (again, _) = read_back::<Thing>(&path, 4, [0; KEYS]);
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
        assert!(!damage.seen());
        drop(dir);
    }

    #[test]
    fn an_entity_whose_bytes_changed_is_not_trusted() {
        let mut table = Table::default();
        for (id, n) in [("t-a", 1), ("t-b", 2)] {
            table.insert(id.into(), thing(id, n));
        }
        let (_dir, path) = on_disk(&table);
        let conn = db::open(&path).expect("open");
        conn.execute(
            "UPDATE entity_data SET data = ?1 WHERE key = (SELECT key FROM entity WHERE id = 't-b')",
            [packer(&conn)
                .pack(&rmp_serde::to_vec_named(&thing("t-b", 7)).expect("encode"))
                .expect("pack")],
        )
        .expect("damage");
        let (read, damage) = read_back::<Thing>(&path, 2, [0; KEYS]);
        assert_eq!(read.get("t-a"), Some(&thing("t-a", 1)));
        assert!(!damage.seen());
        assert_eq!(read.get("t-b"), None, "its hash no longer matches");
        assert!(damage.seen());
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
    fn key_sets_and_refs_are_read_and_brought_forward() {
        let mut table = Table::default();
        for n in 0..1000 {
            table.insert(format!("l-{n:04}"), Linked { n });
        }
        let (_dir, path) = on_disk(&table);
        let mut counts = [0; KEYS];
        counts[0] = 500;
        let (mut read, damage) = read_back::<Linked>(&path, 1000, counts);
        let odd: Vec<u32> = (0..1000).filter(|n| n % 2 == 1).collect();
        let threes: Vec<usize> = (0..1000).filter(|n| n % 7 == 3).collect();
        assert_eq!(read.key_count(0), 500);
        assert_eq!(read.keyed(0), &odd[..]);
        assert_eq!(read.referring("r3"), threes);
        // l-0003 (odd, r3) becomes 4 (even, r4); a new odd one refers to r3.
        if let Some(l) = read.get_mut("l-0003") {
            l.n = 4;
        }
        read.insert("l-1000".into(), Linked { n: 1011 });
        let mut odd_now: Vec<u32> = odd.iter().copied().filter(|&n| n != 3).collect();
        odd_now.push(1000);
        let mut threes_now: Vec<usize> = threes.iter().copied().filter(|&n| n != 3).collect();
        threes_now.push(1000);
        assert_eq!(read.key_count(0), 500);
        assert_eq!(read.keyed(0), &odd_now[..]);
        assert_eq!(read.referring("r3"), threes_now);
        assert!(read.referring("r4").contains(&3));
        let conn = db::open(&path).expect("open");
        let counts = read.write(&conn, 1, &mut packer(&conn)).expect("write");
        assert_eq!(counts[0], 500);
        let (again, _) = read_back::<Linked>(&path, 1001, counts);
        assert_eq!(again.keyed(0), &odd_now[..]);
        assert_eq!(again.referring("r3"), threes_now);
        assert!(!damage.seen());
    }

    #[test]
    fn ids_by_prefix_and_neighbours_come_from_the_index_and_the_ids_added_since() {
        let mut table = Table::default();
        for id in ["t-ab1", "t-b00", "t-ab2", "t-a00", "t-abc9"] {
            table.insert(id.into(), thing(id, 0));
        }
        let (mut read, _) = reread(fresh_db(), &table);
        read.insert("t-ab0".into(), thing("t-ab0", 0));
        read.insert("t-c00".into(), thing("t-c00", 0));
        let mut found = read.starting_with("t-ab");
        found.sort_unstable();
        assert_eq!(found, ["t-ab0", "t-ab1", "t-ab2", "t-abc9"]);
        assert_eq!(read.starting_with("t-abc9"), ["t-abc9"]);
        assert!(read.starting_with("t-abd").is_empty());
        assert_eq!(read.starting_with("t-").len(), 7);
        assert_eq!(read.near("t-ab15"), ["t-ab1", "t-ab2", "t-abc9"]);
        assert_eq!(read.position("t-b00"), Some(1));
        assert_eq!(read.position("t-c00"), Some(6));
        assert_eq!(read.id_at(4), "t-abc9");
    }
}
