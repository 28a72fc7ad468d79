use super::output::{Failure, Instructions, Reply, to_value};
use git_ledger::ledger::Ledger;
use std::path::Path;

/// Set up the ledger in this clone (safe to run again).
///
/// Gives this clone a writer id (kept in the repository's git config as ledger.writer); its
/// events go to refs/ledger/v1/writers/<id>. Nothing outside .git is touched.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(dir: &Path, _args: Args) -> Result<Reply, Failure> {
    let report = Ledger::init(dir)?;
    let text = if report.created {
        format!(
            "Initialised the ledger: this clone writes to {}\n",
            report.reference
        )
    } else {
        format!(
            "The ledger is already initialised: this clone writes to {}\n",
            report.reference
        )
    };
    Ok(Reply {
        data: to_value(&report),
        text,
        instructions: Instructions {
            next_actions: vec![
                "Start a session".into(),
                "Set an objective and break it into tasks".into(),
            ],
            suggested_commands: vec![
                "git ledger session start \"<goal>\"".into(),
                "git ledger objective add \"<objective>\"".into(),
            ],
            context_reminder: "ledger ready".into(),
        },
        failure: None,
    })
}
