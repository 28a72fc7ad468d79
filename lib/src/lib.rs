//! git-ledger-lib: a git repository as the memory and coordination record of AI coding
//! sessions, without its front ends.
//!
//! Layers, from the bottom: [`event`] (what is recorded and how it is encoded), [`store`] (the
//! only code that touches `refs/ledger/*`), [`model`] (the entities), [`cache`] (the folded
//! state's on-disk encoding), [`fold`] (events folded into the state of every entity),
//! [`view`] (what commands show), [`index`] (the local search index, SQLite), [`gate`] (the merge gate's policy, pure), [`ledger`]
//! (validated operations that append events) and [`hooks`] (what the git hooks do). No
//! terminal, async runtime, MCP or HTML here: those are the `git-ledger` crate's. See
//! `docs/architecture.md`.

pub mod cache;
pub mod clock;
pub mod event;
pub mod fold;
pub mod gate;
pub mod hooks;
pub mod index;
pub mod ledger;
pub mod model;
#[cfg(test)]
mod proptests;
#[doc(hidden)]
pub mod sample;
pub mod store;
pub mod terminal;
pub mod view;

/// Threads for work spread over the machine (decoding a full read's events, packing a
/// build's entities): one per core, at most eight.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}
