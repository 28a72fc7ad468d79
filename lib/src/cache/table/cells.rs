//! Cells by position whose memory is allocated a chunk at a time, on first use.
//!
//! A table read from the cache has one cell per entity (100k and more), but a command reads a
//! handful, and allocating a cell for each showed in every append (docs/performance.md). Here
//! opening costs one pointer-sized slot per [`CHUNK`] cells, and a chunk is allocated when one
//! of its cells is first asked for.

use std::sync::OnceLock;

/// Cells per chunk.
const CHUNK: usize = 64;

#[derive(Clone)]
pub(crate) struct Cells<V> {
    chunks: Vec<OnceLock<Box<[V]>>>,
    len: usize,
}

impl<V: Default> Cells<V> {
    pub(crate) fn with_len(len: usize) -> Self {
        Cells {
            chunks: (0..len.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            len,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The cell at `i`, allocating its chunk if it was never used.
    pub(crate) fn get(&self, i: usize) -> Option<&V> {
        if i >= self.len {
            return None;
        }
        self.chunks
            .get(i / CHUNK)?
            .get_or_init(new_chunk)
            .get(i % CHUNK)
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut V> {
        self.get(i)?;
        self.chunks
            .get_mut(i / CHUNK)?
            .get_mut()?
            .get_mut(i % CHUNK)
    }

    /// Every cell of the chunks in use (and of none never asked for).
    pub(crate) fn used_mut(&mut self) -> impl Iterator<Item = &mut V> {
        let chunks = self.chunks.iter_mut().filter_map(OnceLock::get_mut);
        chunks.flat_map(|chunk| chunk.iter_mut())
    }

    pub(crate) fn push(&mut self, value: V) {
        if self.len == self.chunks.len() * CHUNK {
            self.chunks.push(OnceLock::new());
        }
        self.len += 1;
        if let Some(cell) = self.get_mut(self.len - 1) {
            *cell = value;
        }
    }
}

impl<V> Default for Cells<V> {
    fn default() -> Self {
        Cells {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

fn new_chunk<V: Default>() -> Box<[V]> {
    (0..CHUNK).map(|_| V::default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_allocated_when_used() {
        let mut cells: Cells<u32> = Cells::with_len(130);
        assert_eq!(cells.chunks[1].get(), None, "never used");
        assert_eq!(cells.get(100), Some(&0));
        assert!(cells.chunks[1].get().is_some(), "its chunk is there now");
        assert_eq!(cells.chunks[0].get(), None);
        assert_eq!(cells.get(130), None, "past the end");
        *cells.get_mut(3).expect("in range") = 7;
        for n in 0..70 {
            cells.push(n);
        }
        assert_eq!(cells.len(), 200);
        assert_eq!(cells.get(3), Some(&7));
        assert_eq!(cells.get(130), Some(&0));
        assert_eq!(cells.get(199), Some(&69));
        assert_eq!(cells.get(200), None);
    }
}
