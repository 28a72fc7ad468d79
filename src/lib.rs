//! git ledger's front ends over [`git_ledger_lib`]: the MCP server ([`mcp`]), harness setup
//! ([`setup`]), the terminal dashboard ([`dash`]), the static HTML report ([`report`]), the
//! requests the command line and MCP share ([`request`]) and what both say about a failure
//! besides its message ([`explain`]). The library's modules are
//! re-exported, so `git_ledger::ledger` and the rest name one thing wherever they are used.
//! The `git-ledger` binary (`src/cli/`) is a thin layer over both. See
//! `docs/architecture.md`.

pub use git_ledger_lib::{
    cache, clock, eprintln_safe, event, fold, gate, hooks, index, ledger, model, sample, store,
    terminal, view,
};

pub mod dash;
pub mod explain;
pub mod mcp;
pub mod report;
pub mod request;
pub mod setup;
