//! The projection cache's encoding: the folded state as tables of entities with their
//! briefs (the few bytes hot views filter on), read lazily from one memory-mapped file.
//! A disposable copy: the refs are the source of truth.

pub mod brief;
pub(crate) mod kept;
#[cfg(test)]
mod kept_tests;
pub mod table;
