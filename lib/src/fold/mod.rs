//! The fold: events in, the state of every entity out, and what is computed from the
//! state as a whole (cost roll-ups, compaction summaries, points in history, timelines).

pub mod compaction;
pub mod cost;
pub mod point;
pub mod recent;
pub mod state;
mod task;
pub mod timeline;
