use super::output::{Cx, Failure, Reply};
use git_ledger::dash;
use git_ledger::fold::timeline::Filter;
use git_ledger::view::report::{Limits, overview};

/// A live dashboard in the terminal, refreshed when the ledger moves.
///
/// Objectives with progress and time against estimates, tasks by state, agents (stalled ones
/// flagged), open decisions and the latest events. Keys: Tab (or ←/→) moves between panes, ↑/↓ move in a pane, Enter opens a task or
/// objective (notes, commits, review, history), Esc closes it; s and a cycle the session and
/// agent filters, c clears them, r reloads, q quits. It fits an 80×24 terminal (over ssh too)
/// and only reads the ledger. With --json, prints the dashboard's data once instead.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(ledger: &Cx, _args: Args) -> Result<Option<Reply>, Failure> {
    let json = ledger.json;
    if json {
        let loaded = ledger.load_full()?;
        let session = ledger.current_session(&loaded.state)?;
        let scope = ledger.scope(&loaded, session.as_deref());
        let view = overview(&loaded.state, &scope, &Filter::default(), Limits::default());
        return Ok(Some(Reply::new(ledger, &loaded, &view, String::new())));
    }
    dash::run(ledger).map_err(|e| match e {
        dash::Error::Ledger(e) => Failure::from(e),
        dash::Error::NotATerminal => Failure {
            code: "not_a_terminal".into(),
            message: e.to_string(),
            hint: Some(
                "run it in a terminal; scripts can read `git ledger dash --json` or `git ledger status --json`"
                    .into(),
            ),
        },
        dash::Error::Terminal(_) => Failure {
            code: "terminal".into(),
            message: e.to_string(),
            hint: None,
        },
    })?;
    Ok(None)
}
