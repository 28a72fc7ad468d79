//! Projections: the views computed from the event log. Nothing here writes.

pub mod blame;
pub mod brief;
pub mod claims;
pub mod compaction;
pub mod cost;
pub mod data;
pub mod doc;
pub mod health;
mod kept;
#[cfg(test)]
mod kept_tests;
pub mod memory;
pub mod model;
pub mod plan;
pub mod point;
pub mod prime;
pub mod report;
pub mod state;
pub mod status;
pub mod table;
pub mod timeline;
