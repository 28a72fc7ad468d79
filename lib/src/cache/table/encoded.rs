//! A cache file being written: bytes encoded here, and runs of the old cache file's bytes
//! (entities nobody decoded) kept where they are. Writing the file copies each run once, from
//! the mapped old file, instead of first into a buffer as large as the file.

use std::ops::Range;

#[derive(Default)]
pub struct Encoded<'a> {
    /// Every byte encoded, in order. Positions in it are what sections patch and the
    /// checksum covers.
    own: Vec<u8>,
    /// The file up to `open_from`: ranges of `own` and borrowed runs, in order.
    parts: Vec<Part<'a>>,
    /// Where the part of `own` not yet in `parts` starts.
    open_from: usize,
    /// Bytes in borrowed runs.
    borrowed: usize,
}

enum Part<'a> {
    Own(Range<usize>),
    Borrowed(&'a [u8]),
}

impl<'a> Encoded<'a> {
    /// The file's length so far.
    pub fn len(&self) -> usize {
        self.own.len() + self.borrowed
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes encoded so far, to append to or patch.
    pub fn own(&mut self) -> &mut Vec<u8> {
        &mut self.own
    }

    /// Bytes of the old file to write next, as they are.
    pub fn borrow(&mut self, run: &'a [u8]) {
        if run.is_empty() {
            return;
        }
        if self.open_from < self.own.len() {
            self.parts.push(Part::Own(self.open_from..self.own.len()));
            self.open_from = self.own.len();
        }
        self.parts.push(Part::Borrowed(run));
        self.borrowed += run.len();
    }

    /// The file's bytes, in order.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> {
        let parts = self.parts.iter().map(|part| match part {
            Part::Own(range) => &self.own[range.clone()],
            Part::Borrowed(run) => run,
        });
        parts.chain(std::iter::once(&self.own[self.open_from..]))
    }

    /// The file's bytes in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for slice in self.slices() {
            out.extend_from_slice(slice);
        }
        out
    }
}
