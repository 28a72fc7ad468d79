use super::output::{Failure, Instructions, Reply, to_value};
use git_ledger::hooks::{self, CLIENT_HOOKS, HookState, HookStatus, SERVER_HOOKS};
use git_ledger::view::memory::ContextReminder;
use std::path::Path;

/// Install, remove or inspect the git hooks that link commits to tasks and gate merges.
///
/// Hooks are links to this binary (no shell on the commit path); prepare-commit-msg, the one
/// hook every commit runs, links to git-ledger-hook when it is beside the binary. A commit on
/// task work is noted by the hook and recorded by the next ledger command. A hook already
/// present is kept as <name>.ledger-chained and still runs first; uninstall restores it byte
/// for byte.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Install the hooks (safe to run again).
    Install {
        /// In a server (bare) repository: install pre-receive, which refuses unapproved
        /// task commits on protected branches and rewritten or malformed ledger refs.
        #[arg(long)]
        server: bool,
    },
    /// Remove the hooks and restore the ones they chained.
    Uninstall {
        /// The server hook.
        #[arg(long)]
        server: bool,
    },
    /// Which hooks are ours, chained, foreign or missing.
    Status {
        /// The server hook.
        #[arg(long)]
        server: bool,
    },
}

pub fn run(dir: &Path, command: Command) -> Result<Reply, Failure> {
    let (verb, names, statuses) = match command {
        Command::Install { server } => {
            let names = pick(server);
            (
                "Installed",
                names,
                hooks::install(dir, names).map_err(failure)?,
            )
        }
        Command::Uninstall { server } => {
            let names = pick(server);
            (
                "Uninstalled",
                names,
                hooks::uninstall(dir, names).map_err(failure)?,
            )
        }
        Command::Status { server } => {
            let names = pick(server);
            ("Hooks", names, hooks::status(dir, names).map_err(failure)?)
        }
    };
    let mut text = format!(
        "{verb} ({} hook(s) in {}):\n",
        names.len(),
        parent(&statuses)
    );
    for hook in &statuses {
        let state = match hook.state {
            HookState::Ours => "ours",
            HookState::Chained => "ours, chained to the hook that was there",
            HookState::Foreign => "another program's (not ours)",
            HookState::Missing => "missing",
        };
        text.push_str(&format!("  {:<20} {state}\n", hook.name));
    }
    Ok(Reply {
        data: to_value(&statuses),
        text,
        instructions: Instructions {
            context_reminder: ContextReminder::note(format!("{} hook(s) managed", statuses.len())),
            ..Instructions::default()
        },
        failure: None,
    })
}

fn pick(server: bool) -> &'static [&'static str] {
    if server { SERVER_HOOKS } else { CLIENT_HOOKS }
}

fn parent(statuses: &[HookStatus]) -> String {
    statuses
        .first()
        .and_then(|s| s.path.parent())
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn failure(e: hooks::Error) -> Failure {
    Failure {
        code: "hooks".into(),
        message: e.to_string(),
        hint: Some("check the hooks directory (`git rev-parse --git-path hooks`)".into()),
    }
}
