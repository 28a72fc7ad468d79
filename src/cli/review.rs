use super::output::{Cx, Failure, Reply};
use git_ledger::view::memory::task_line;

/// Reviews bound to commits: an approval holds for one exact commit only.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Ask for a review of a task (default: the task in focus) at its branch's tip.
    Request {
        /// Task id or unique prefix.
        task: Option<String>,
    },
    /// Approve a task at the current tip of its branch (or --commit).
    Approve {
        /// Task id or unique prefix.
        task: String,
        /// The commit approved (any revision).
        #[arg(long)]
        commit: Option<String>,
    },
    /// Reject a task, saying why.
    Reject {
        /// Task id or unique prefix.
        task: String,
        /// What must change.
        #[arg(long, short = 'r')]
        reason: String,
        /// The commit reviewed (default: the branch tip).
        #[arg(long)]
        commit: Option<String>,
    },
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    let (loaded, task) = match command {
        Command::Request { task } => ledger.review_request(task.as_deref())?,
        Command::Approve { task, commit } => ledger.review_approve(&task, commit.as_deref())?,
        Command::Reject {
            task,
            reason,
            commit,
        } => ledger.review_reject(&task, commit.as_deref(), &reason)?,
    };
    let text = format!(
        "{}\n  review: {}\n",
        task_line(&loaded.state, &task, loaded.now),
        git_ledger::view::task::review_text(&task)
    );
    Ok(Reply::new(ledger, &loaded, &task, text))
}
