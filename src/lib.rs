//! git ledger: a git repository as the memory and coordination record of AI coding sessions.
//!
//! Layers, from the bottom: [`event`] (what is recorded and how it is encoded), [`store`] (the
//! only code that touches `refs/ledger/*`), [`model`] (the entities), [`fold`] (events folded
//! into the state of every entity), [`cache`] (the folded state's on-disk encoding), [`view`]
//! (what commands show) and [`ledger`] (validated operations that append events). The
//! `git-ledger` binary is a thin command-line layer over [`ledger`]; [`mcp`] serves the same
//! operations to agents, [`setup`] wires them into agent harnesses, and [`dash`] and
//! [`report`] lay out [`view::report`] in a terminal and as static HTML. See
//! `docs/architecture.md`.

pub mod cache;
pub mod clock;
pub mod dash;
pub mod event;
pub mod fold;
pub mod gate;
pub mod hooks;
pub mod ledger;
pub mod mcp;
pub mod model;
#[cfg(test)]
mod proptests;
pub mod report;
pub mod request;
#[doc(hidden)]
pub mod sample;
pub mod setup;
pub mod store;
pub mod terminal;
pub mod view;
