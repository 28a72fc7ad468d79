use super::output::{Failure, Reply};
use git_ledger::ledger::Ledger;
use git_ledger::projection::memory::task_line;

/// Tasks that can be started now: open, with every dependency done, by priority.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ledger: &Ledger, _args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load()?;
    let state = &loaded.state;
    let ready = state.ready();
    let mut text: String = ready
        .iter()
        .map(|t| task_line(state, t, loaded.now) + "\n")
        .collect();
    if text.is_empty() {
        text = "No task is ready\n".into();
    }
    Ok(Reply::new(ledger, &loaded, &ready, text))
}
