//! The ids of the entities added to a table since it was read from the index, in the order
//! they were added, with lookup by id. Each id is held once, and looked up by a hash of it:
//! a build of the index adds several hundred thousand, and a map from each id to its
//! position held every id twice (tens of megabytes at a million events).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Default)]
pub(crate) struct AddedIds {
    ids: Vec<Box<str>>,
    /// The index in `ids` of the first id with each hash.
    by_hash: HashMap<u64, u32, BuildHasherDefault<AlreadyHashed>>,
    /// The ids whose hash an earlier id has, with their index in `ids`.
    collided: HashMap<Box<str>, u32>,
}

fn hash_of(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

impl AddedIds {
    /// The index of `id` among the ids added.
    pub(crate) fn get(&self, id: &str) -> Option<usize> {
        let &i = self.by_hash.get(&hash_of(id))?;
        if self.at(i as usize) == Some(id) {
            return Some(i as usize);
        }
        self.collided.get(id).map(|&i| i as usize)
    }

    /// Add an id not added yet (see [`AddedIds::get`]).
    pub(crate) fn push(&mut self, id: String) {
        let i = self.ids.len() as u32;
        let hash = hash_of(&id);
        match self.by_hash.entry(hash) {
            Entry::Occupied(_) => {
                self.collided.insert(id.as_str().into(), i);
            }
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
        self.ids.push(id.into_boxed_str());
    }

    pub(crate) fn at(&self, i: usize) -> Option<&str> {
        self.ids.get(i).map(|id| &**id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(|id| &**id)
    }

    /// Every id with its index, taken.
    pub(crate) fn into_indexed(self) -> impl Iterator<Item = (Box<str>, u32)> {
        self.ids.into_iter().zip(0..)
    }
}

/// The hasher of keys that are hashes already.
#[derive(Default)]
pub(crate) struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; any other key is folded in, byte by byte.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_the_same_hash_are_told_apart() {
        let mut ids = AddedIds::default();
        ids.push("t-a".into());
        ids.push("t-b".into());
        // Two ids under one hash, as a collision would put them.
        let hash = hash_of("t-c");
        ids.by_hash.insert(hash, 0);
        ids.collided.insert("t-c".into(), 2);
        ids.ids.push("t-c".into());
        assert_eq!(ids.get("t-a"), Some(0));
        assert_eq!(ids.get("t-b"), Some(1));
        assert_eq!(ids.get("t-c"), Some(2));
        assert_eq!(ids.get("t-d"), None);
        let all: Vec<&str> = ids.iter().collect();
        assert_eq!(all, ["t-a", "t-b", "t-c"]);
    }
}
