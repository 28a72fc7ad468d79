use super::output::{Failure, Reply};
use git_ledger::ledger::{Ledger, read_plan};
use git_ledger::projection::doc::Format;
use git_ledger::projection::plan::{plan_names, plan_view};

/// Plans: stages of tasks with roles, triggers and validation rules, from a file.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Record a plan file (YAML or JSON): its objective, tasks and dependencies, in one commit.
    ///
    /// The file names the plan and lists stages; each stage has a name, a default role, an
    /// optional `triggers_on` and `validation`, and tasks with a `key` (what re-applying
    /// matches on), a `title`, and optional `role`, `priority` (0–4), `estimate` (2h),
    /// `triggers_on` (a task key, `stage <name>` or `all of <name>`: the task waits for
    /// them) and `validation` (checklist items as text, or `command: cargo test`).
    /// Applying the same file again records nothing; an edited file records only the
    /// differences, and tasks dropped from it are cancelled, never deleted.
    Apply {
        /// The plan file; `-` reads standard input.
        file: String,
    },
    /// Draw a plan's stages and the state of their tasks (default: every plan).
    Show {
        /// The plan's name.
        name: Option<String>,
    },
}

pub fn run(ledger: &Ledger, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Apply { file } => {
            let source = read_plan(&file)?;
            let (loaded, report) = ledger.plan_apply(&source)?;
            let state = &loaded.state;
            let ids = |ids: &[String]| -> String {
                ids.iter()
                    .map(|id| state.short(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut text = if report.events == 0 {
                format!(
                    "Plan '{}' is recorded already: nothing changed\n",
                    report.plan
                )
            } else {
                format!(
                    "Applied plan '{}' ({}): {} event(s)\n",
                    report.plan,
                    state.short(&report.objective),
                    report.events
                )
            };
            for (what, list) in [
                ("added", &report.created),
                ("updated", &report.updated),
                ("reopened", &report.reopened),
                ("cancelled", &report.cancelled),
            ] {
                if !list.is_empty() {
                    text.push_str(&format!("  {what}: {}\n", ids(list)));
                }
            }
            Ok(Reply::new(ledger, &loaded, &report, text))
        }
        Command::Show { name } => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let names = match name {
                Some(name) => vec![name],
                None => plan_names(state),
            };
            let mut views = Vec::new();
            let mut text = String::new();
            for name in &names {
                let view = plan_view(state, name).ok_or_else(|| Failure {
                    code: "unknown_plan".into(),
                    message: format!("no plan named '{name}'"),
                    hint: Some("`git ledger plan show` lists every plan".into()),
                })?;
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&view.doc(state, loaded.now).render(Format::Text));
                views.push(view);
            }
            if text.is_empty() {
                text = "No plans yet (git ledger plan apply <file>)\n".into();
            }
            Ok(Reply::new(ledger, &loaded, &views, text))
        }
    }
}
