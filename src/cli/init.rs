use super::output::{Failure, Instructions, Reply, to_value};
use git_ledger::ledger::Ledger;
use git_ledger::view::memory::ContextReminder;
use std::path::Path;

/// Set up the ledger in this clone (safe to run again).
///
/// Gives this clone a writer id (kept in the repository's git config as ledger.writer); its
/// events go to refs/ledger/v1/writers/<id>. Nothing outside .git is touched.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(dir: &Path, _args: Args) -> Result<Reply, Failure> {
    let report = Ledger::init(dir)?;
    let mut text = if report.created {
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
    text.push_str(match (&report.signing_key, report.key_registered) {
        (None, _) => "Ledger commits are not signed; to sign them (as servers with ledger.requireSigned require): git config gpg.format ssh && git config user.signingkey <key file>, then git ledger init\n",
        (Some(_), true) => "Ledger commits are signed with the SSH key this writer registered\n",
        (Some(_), false) => "warning: user.signingkey is not the key this writer registered: servers with ledger.requireSigned will refuse its commits (give this clone a new writer id to register a new key)\n",
    });
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
            context_reminder: ContextReminder::note("ledger ready"),
        },
        failure: None,
    })
}
