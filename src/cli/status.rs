use super::output::{Cx, Failure, Reply};
use git_ledger::view::doc::Format;
use git_ledger::view::status::{LIST_LIMIT, status};

/// The project at a glance.
///
/// Counts, this worktree's session and focus, objectives, work in progress, ready and blocked
/// tasks, open decisions.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The project as it stood then: a time, an event id or a session id (its end).
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load_at(args.at.as_deref())?;
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(&loaded, session.as_deref());
    // Text shows the first few of each list; `--json` lists every id.
    let limit = (!ledger.json).then_some(LIST_LIMIT);
    let view = status(&loaded.state, &scope, ledger.stall_after_minutes()?, limit);
    let text = view.doc(&loaded.state, &scope).render(Format::Text);
    for problem in &loaded.problems {
        git_ledger::eprintln_safe!("warning: {}: {}", problem.reference, problem.message);
    }
    Ok(Reply::new(ledger, &loaded, &view, text))
}
