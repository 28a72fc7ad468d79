use super::output::{Cx, Failure, Reply};
use git_ledger::model::DecisionStatus;
use git_ledger::view::memory::decision_line;
use git_ledger::view::reply;

/// Decisions: questions with options, made with a choice and a rationale.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Ask for a decision.
    Request(git_ledger::request::DecisionRequest),
    /// Make a decision: the choice (one of the options, or its number) and why.
    Make(git_ledger::request::DecisionMake),
    /// List decisions.
    List {
        /// Only decisions still open.
        #[arg(long)]
        open: bool,
    },
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Request(request) => {
            let (loaded, decision) = ledger.decision_request(
                &request.question,
                &request.options,
                request.task.as_deref(),
            )?;
            let text = format!("{}\n", reply::decision_requested(&loaded.state, &decision));
            Ok(Reply::new(ledger, &loaded, &decision, text))
        }
        Command::Make(make) => {
            let (loaded, decision) =
                ledger.decision_make(&make.id, &make.choice, &make.rationale)?;
            let text = format!("{}\n", reply::decision_made(&loaded.state, &decision));
            Ok(Reply::new(ledger, &loaded, &decision, text))
        }
        Command::List { open } => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let decisions: Vec<_> = state
                .decisions
                .iter()
                .filter(|d| !open || d.status == DecisionStatus::Open)
                .collect();
            let mut text: String = decisions
                .iter()
                .map(|d| {
                    let status = match d.status {
                        DecisionStatus::Open => "[open] ",
                        DecisionStatus::Made => "[made] ",
                    };
                    format!("{status}{}\n", decision_line(state, d))
                })
                .collect();
            if text.is_empty() {
                text = "No decisions\n".into();
            }
            Ok(Reply::new(ledger, &loaded, &decisions, text))
        }
    }
}
