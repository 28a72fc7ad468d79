use super::output::{Cx, Failure, Reply};
use git_ledger::event::EntityKind;
use git_ledger::event::kind::one_line;
use git_ledger::fold::cost::money;
use git_ledger::ledger::{parse_cost, resolve};
use git_ledger::view::memory::{objective_line, objectives_text, task_line};
use git_ledger::view::reply;
use serde_json::json;

/// Objectives: what the work is for (add, list, show, done).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Add an objective.
    Add(git_ledger::request::ObjectiveAdd),
    /// Set or change an objective's budget.
    Budget {
        /// Objective id or unique prefix.
        id: String,
        /// The budget, in currency units (25, 12.50).
        amount: String,
    },
    /// List objectives with their progress.
    List,
    /// Show an objective and its tasks.
    Show {
        /// Objective id or unique prefix (o-3f9a2c).
        id: String,
    },
    /// Mark an objective done; refused while some of its tasks are not done.
    Done(git_ledger::request::ObjectiveDone),
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Add(add) => {
            let budget = add.budget.as_deref().map(parse_cost).transpose()?;
            let (loaded, objective) =
                ledger.objective_add(&add.title, add.description.as_deref(), budget)?;
            let text = format!(
                "Added objective {}: {}\n",
                loaded.state.short(&objective.id),
                one_line(&objective.title, 72)
            );
            Ok(Reply::new(ledger, &loaded, &objective, text))
        }
        Command::Budget { id, amount } => {
            let (loaded, objective) = ledger.objective_budget(&id, parse_cost(&amount)?)?;
            let text = format!(
                "Budget of {}: {}\n",
                loaded.state.short(&objective.id),
                money(objective.budget_micros.unwrap_or(0))
            );
            Ok(Reply::new(ledger, &loaded, &objective, text))
        }
        Command::List => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let text = objectives_text(state);
            let data: Vec<_> = state.objectives.iter().collect();
            Ok(Reply::new(ledger, &loaded, &data, text))
        }
        Command::Show { id } => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let id = resolve(state, EntityKind::Objective, &id)?;
            let (lines, data) = match state.objectives.get(&id) {
                Some(objective) => {
                    let tasks: Vec<_> = state
                        .tasks
                        .iter()
                        .filter(|t| t.objective.as_deref() == Some(id.as_str()))
                        .collect();
                    let mut text = objective_line(state, objective) + "\n";
                    if let Some(description) = &objective.description {
                        text.push_str(&format!("\n{description}\n"));
                    }
                    text.push_str("\nTasks\n");
                    if tasks.is_empty() {
                        text.push_str("  none\n");
                    }
                    for task in &tasks {
                        text.push_str(&format!("  {}\n", task_line(state, task, loaded.now)));
                    }
                    (text, json!({ "objective": objective, "tasks": tasks }))
                }
                None => (String::new(), json!(null)),
            };
            Ok(Reply::new(ledger, &loaded, data, lines))
        }
        Command::Done(done) => {
            let (loaded, objective) =
                ledger.objective_done(&done.id, done.outcome.as_deref(), done.force)?;
            let text = format!("{}\n", reply::objective_done(&loaded.state, &objective));
            Ok(Reply::new(ledger, &loaded, &objective, text))
        }
    }
}
