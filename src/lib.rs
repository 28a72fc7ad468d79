//! git ledger: a git repository as the memory and coordination record of AI coding sessions.
//!
//! Layers, from the bottom: [`event`] (what is recorded and how it is encoded), [`store`] (the
//! only code that touches `refs/ledger/*`), [`projection`] (fold events into state and memory
//! views) and [`ledger`] (validated operations that append events). The `git-ledger` binary is
//! a thin command-line layer over [`ledger`]; [`dash`] and [`report`] lay out the views of
//! [`projection::report`] in a terminal and as static HTML.

pub mod clock;
pub mod dash;
pub mod event;
pub mod gate;
pub mod hooks;
pub mod ledger;
pub mod mcp;
pub mod projection;
#[cfg(test)]
mod proptests;
pub mod report;
pub mod request;
#[doc(hidden)]
pub mod sample;
pub mod setup;
pub mod store;
pub mod terminal;
