//! The projection: the folded state's tables of entities with their briefs (the few bytes
//! hot views filter on), kept in the local index database and read lazily from it. A
//! disposable copy: the refs are the source of truth.

pub mod brief;
pub mod db;
pub(crate) mod kept;
#[cfg(test)]
mod kept_tests;
pub mod table;
