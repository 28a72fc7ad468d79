use super::output::{Cx, Failure, Reply};
use git_ledger::ledger::{plan_views, read_plan};
use git_ledger::view::doc::Format;
use git_ledger::view::plan::plans_text;

/// Plans: stages of tasks with roles, triggers and validation rules, from a file.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Record a plan file (YAML or JSON): its objective, tasks and dependencies, in one commit.
    ///
    /// The file names the plan and lists stages; each stage has a name, a default role, an
    /// optional `triggers_on` and `validation`, and tasks with a `title`, and optional `key`
    /// (what re-applying matches on; default: made from the title), `role`, `priority`
    /// (0–4), `estimate` (2h), `triggers_on` and `validation` (checklist items as text, or
    /// `command: cargo test`). Tasks may also be written as a `workflow:` list of `session`
    /// (the task's role), `task` (its title), `output` and `triggers_on`, in a stage or as the
    /// whole file (a plan named "workflow"). A trigger names what the task waits for: a task
    /// key, a stage or a session, bare or as `X completion`, `all X complete`, `all of X` or
    /// `stage X`; a trigger that names nothing, or more than one thing, is refused.
    /// Applying the same file again records nothing; an edited file records only the
    /// differences, and tasks dropped from it are cancelled, never deleted.
    Apply {
        /// The plan file; `-` reads standard input.
        file: String,
    },
    /// Draw a plan's stages and the state of their tasks (default: every plan).
    Show(git_ledger::request::PlanShow),
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Apply { file } => {
            let source = read_plan(&file)?;
            let (loaded, report) = ledger.plan_apply(&source)?;
            let text = report.summary(&loaded.state);
            Ok(Reply::new(ledger, &loaded, &report, text))
        }
        Command::Show(git_ledger::request::PlanShow { name }) => {
            let loaded = ledger.load()?;
            let views = plan_views(&loaded.state, name.as_deref())?;
            let text = plans_text(&loaded.state, loaded.now, &views, Format::Text);
            Ok(Reply::new(ledger, &loaded, &views, text))
        }
    }
}
