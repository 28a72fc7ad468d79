//! Views: what commands show, computed from the folded state. Nothing here writes.

pub mod blame;
pub mod claims;
pub mod data;
pub mod doc;
pub mod health;
pub mod memory;
pub mod plan;
pub mod prime;
pub mod reply;
pub mod report;
pub mod status;
pub mod task;
