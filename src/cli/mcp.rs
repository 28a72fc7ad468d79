use super::output::{Failure, Reply};
use std::path::Path;

/// Serve the ledger to a coding agent over the Model Context Protocol (stdio).
///
/// Tools for sessions, tasks, insights, decisions, memory views and agents, each with the same
/// data and `instructions` as `--json`; the memory views also as resources
/// (ledger://memory/working …) and the agent brief as ledger://prime. Register it with the
/// agent as the command `git` with the arguments `ledger mcp`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(dir: &Path, _args: Args) -> Result<Option<Reply>, Failure> {
    git_ledger::mcp::serve(dir)?;
    Ok(None)
}
