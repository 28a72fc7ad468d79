use super::output::{Cx, Failure, Reply};
use git_ledger::event::EntityKind;
use git_ledger::ledger::{TaskEdit, parse_lease, resolve};
use git_ledger::model::{Task, TaskStatus};
use git_ledger::view::data;
use git_ledger::view::memory::task_line;
use git_ledger::view::task::detail_text;

/// Tasks: units of work with priorities, estimates and dependencies.
///
/// `task start` puts a task in focus for this worktree; `note`, `block` and `done` then apply
/// to it when no id is given.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Add a task.
    Add(git_ledger::request::TaskAdd),
    /// List tasks.
    List {
        /// Only tasks in this state.
        #[arg(long, value_enum)]
        status: Option<StatusFilter>,
        /// Only tasks of this objective.
        #[arg(long, short = 'o')]
        objective: Option<String>,
    },
    /// Show a task: state, notes, time, history (default: the task in focus).
    Show(git_ledger::request::TaskRef),
    /// Start a task and put it in focus for this worktree.
    Start {
        #[command(flatten)]
        task: git_ledger::request::TaskStart,
        /// Also create the branch task/<id>-<slug> here, switch to it and link it.
        #[arg(long)]
        branch: bool,
    },
    /// Record progress on a task (default: the task in focus).
    Note(git_ledger::request::TaskNote),
    /// Mark a task blocked (default: the task in focus). Blocked time is not counted as work.
    Block(git_ledger::request::TaskBlock),
    /// Complete a task (default: the task in focus).
    ///
    /// Refused without a summary, without recorded work (notes), or while a validation rule
    /// has no passing result at the task's tip (`check run`, `check confirm`); --force closes
    /// anyway and the override is recorded for the audit.
    Done(git_ledger::request::TaskDone),
    /// Change a task's title, description, priority or estimate (recorded; `blame` shows who
    /// changed what).
    Edit {
        /// Task id or unique prefix.
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// 0 (highest) to 4 (lowest).
        #[arg(long, short = 'p')]
        priority: Option<String>,
        /// A new estimate of the whole task: 90m, 2h, 1h30m.
        #[arg(long, short = 'e')]
        estimate: Option<String>,
    },
    /// Cancel a task: it stays in the ledger, out of every queue (reopen undoes it).
    Cancel {
        /// Task id or unique prefix.
        id: String,
        /// Why.
        #[arg(long, short = 'r')]
        reason: Option<String>,
    },
    /// Reopen a done, blocked or cancelled task.
    Reopen {
        /// Task id or unique prefix.
        id: String,
        /// Why.
        #[arg(long, short = 'r')]
        reason: Option<String>,
    },
    /// Claim a task for yourself (default: the top ready task nobody holds), for a lease.
    ///
    /// While the claim is live, `ready` leaves the task out for everyone else and their claims
    /// and starts are refused; when the lease runs out the task is free again. Claiming a task
    /// you hold extends the lease.
    Claim(git_ledger::request::TaskClaim),
    /// Extend your claim on a task (default: the one task you hold).
    Renew {
        /// Task id or unique prefix.
        id: Option<String>,
        /// The new lease, from now (90s, 30m, 2h).
        #[arg(long, default_value = "30m")]
        lease: String,
    },
    /// Give up your claim on a task (default: the one task you hold).
    Release(git_ledger::request::TaskRelease),
    /// Make a task depend on other tasks (dependency cycles are refused).
    Depend {
        /// Task id or unique prefix.
        id: String,
        /// The task that must be done first (repeatable).
        #[arg(long = "on", required = true, value_name = "TASK")]
        on: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFilter {
    Open,
    InProgress,
    Blocked,
    Done,
    Cancelled,
    /// Everything that is neither done nor cancelled.
    Active,
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    let (loaded, task, verb) = match command {
        Command::Add(request) => {
            let (loaded, task) = ledger.task_add(&request.into())?;
            (loaded, task, "Added")
        }
        Command::List { status, objective } => return list(ledger, status, objective),
        Command::Show(task) => return show(ledger, task.id),
        Command::Start { task, branch } => {
            let (loaded, task) = ledger.task_start(Some(&task.id))?;
            if branch {
                let name = ledger.task_branch(&loaded.state, &task)?;
                git_ledger::eprintln_safe!("Switched to a new branch '{name}'");
            }
            let unmet = loaded.state.unmet_dependencies(&task);
            if !unmet.is_empty() {
                let names: Vec<String> = unmet.iter().map(|d| loaded.state.short(d)).collect();
                git_ledger::eprintln_safe!(
                    "warning: {} waits for {}",
                    loaded.state.short(&task.id),
                    names.join(", ")
                );
            }
            (loaded, task, "Started (in focus)")
        }
        Command::Note(note) => {
            let text = super::input::text_arg(note.text)?;
            let (loaded, task) = ledger.task_note(note.task.as_deref(), &text)?;
            (loaded, task, "Noted on")
        }
        Command::Block(block) => {
            let (loaded, task) = ledger.task_block(block.id.as_deref(), &block.reason)?;
            (loaded, task, "Blocked")
        }
        Command::Edit {
            id,
            title,
            description,
            priority,
            estimate,
        } => {
            let edit = TaskEdit {
                title,
                description,
                priority,
                estimate,
            };
            let (loaded, task) = ledger.task_edit(&id, &edit)?;
            (loaded, task, "Edited")
        }
        Command::Done(done) => {
            let (loaded, task) =
                ledger.task_done(done.id.as_deref(), done.summary.as_deref(), done.force)?;
            let verb = if task.forced_over.is_some() {
                "Done (forced)"
            } else {
                "Done"
            };
            (loaded, task, verb)
        }
        Command::Cancel { id, reason } => {
            let (loaded, task) = ledger.task_cancel(Some(&id), reason.as_deref())?;
            (loaded, task, "Cancelled")
        }
        Command::Reopen { id, reason } => {
            let (loaded, task) = ledger.task_reopen(Some(&id), reason.as_deref())?;
            (loaded, task, "Reopened")
        }
        Command::Claim(claim) => {
            let lease = parse_lease(&claim.lease)?;
            let (loaded, task) = ledger.task_claim(claim.id.as_deref(), lease)?;
            (loaded, task, "Claimed")
        }
        Command::Renew { id, lease } => {
            let (loaded, task) = ledger.task_renew(id.as_deref(), parse_lease(&lease)?)?;
            (loaded, task, "Renewed")
        }
        Command::Release(release) => {
            let (loaded, task) = ledger.task_release(release.id.as_deref())?;
            (loaded, task, "Released")
        }
        Command::Depend { id, on } => {
            let (loaded, task) = ledger.task_depend(&id, &on)?;
            (loaded, task, "Dependencies of")
        }
    };
    let text = format!("{verb}: {}\n", task_line(&loaded.state, &task, loaded.now));
    let data = data::task(&loaded.state, &task, loaded.now);
    Ok(Reply::new(ledger, &loaded, data, text))
}

fn list(
    ledger: &Cx,
    status: Option<StatusFilter>,
    objective: Option<String>,
) -> Result<Reply, Failure> {
    let loaded = ledger.load()?;
    let state = &loaded.state;
    let objective = objective
        .map(|o| resolve(state, EntityKind::Objective, &o))
        .transpose()?;
    let tasks: Vec<&Task> = state
        .tasks
        .iter()
        .filter(|t| objective.is_none() || t.objective == objective)
        .filter(|t| match status {
            None => true,
            Some(StatusFilter::Open) => t.status == TaskStatus::Open,
            Some(StatusFilter::InProgress) => t.status == TaskStatus::InProgress,
            Some(StatusFilter::Blocked) => t.status == TaskStatus::Blocked,
            Some(StatusFilter::Done) => t.status == TaskStatus::Done,
            Some(StatusFilter::Cancelled) => t.status == TaskStatus::Cancelled,
            Some(StatusFilter::Active) => !t.status.is_closed(),
        })
        .collect();
    let mut text: String = tasks
        .iter()
        .map(|t| task_line(state, t, loaded.now) + "\n")
        .collect();
    if text.is_empty() {
        text = "No tasks match\n".into();
    }
    let data: Vec<_> = tasks
        .iter()
        .map(|t| data::task(state, t, loaded.now))
        .collect();
    Ok(Reply::new(ledger, &loaded, data, text))
}

fn show(ledger: &Cx, id: Option<String>) -> Result<Reply, Failure> {
    let loaded = ledger.load_full()?;
    let state = &loaded.state;
    let id = ledger.find_task(state, id.as_deref())?;
    let Some(task) = state.tasks.get(&id) else {
        return Err(Failure::from(git_ledger::ledger::Error::Input(
            git_ledger::ledger::InputError::UnknownId {
                kind: EntityKind::Task,
                input: id,
            },
        )));
    };
    let tip = if task.validation.is_empty() {
        None
    } else {
        ledger.check_tip(task)
    };
    let text = detail_text(state, task, loaded.now, tip.as_deref());
    let data = data::task_detail(state, task, loaded.now);
    Ok(Reply::new(ledger, &loaded, data, text))
}
