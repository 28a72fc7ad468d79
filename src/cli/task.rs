use super::output::{Failure, Reply};
use git_ledger::event::EntityKind;
use git_ledger::event::kind::one_line;
use git_ledger::fold::state::State;
use git_ledger::ledger::{Ledger, TaskEdit, parse_lease, resolve};
use git_ledger::model::{Rule, Task, TaskStatus};
use git_ledger::view::data;
use git_ledger::view::memory::{action, minutes_text, task_line};

/// Tasks: units of work with priorities, estimates and dependencies.
///
/// `task start` puts a task in focus for this worktree; `note`, `block` and `done` then apply
/// to it when no id is given.
#[derive(Debug, clap::Subcommand)]
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
    Show {
        /// Task id or unique prefix (t-3f9a2c).
        id: Option<String>,
    },
    /// Start a task and put it in focus for this worktree.
    Start {
        /// Task id or unique prefix.
        id: String,
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
    Claim {
        /// Task id or unique prefix.
        id: Option<String>,
        /// How long the claim lasts, like 90s, 30m or 2h (from a minute to a week).
        #[arg(long, default_value = "30m")]
        lease: String,
    },
    /// Extend your claim on a task (default: the one task you hold).
    Renew {
        /// Task id or unique prefix.
        id: Option<String>,
        /// The new lease, from now (90s, 30m, 2h).
        #[arg(long, default_value = "30m")]
        lease: String,
    },
    /// Give up your claim on a task (default: the one task you hold).
    Release {
        /// Task id or unique prefix.
        id: Option<String>,
    },
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

pub fn run(ledger: &Ledger, command: Command) -> Result<Reply, Failure> {
    let (loaded, task, verb) = match command {
        Command::Add(request) => {
            let (loaded, task) = ledger.task_add(&request.into())?;
            (loaded, task, "Added")
        }
        Command::List { status, objective } => return list(ledger, status, objective),
        Command::Show { id } => return show(ledger, id),
        Command::Start { id, branch } => {
            let (loaded, task) = ledger.task_start(Some(&id))?;
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
        Command::Claim { id, lease } => {
            let (loaded, task) = ledger.task_claim(id.as_deref(), parse_lease(&lease)?)?;
            (loaded, task, "Claimed")
        }
        Command::Renew { id, lease } => {
            let (loaded, task) = ledger.task_renew(id.as_deref(), parse_lease(&lease)?)?;
            (loaded, task, "Renewed")
        }
        Command::Release { id } => {
            let (loaded, task) = ledger.task_release(id.as_deref())?;
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
    ledger: &Ledger,
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

fn show(ledger: &Ledger, id: Option<String>) -> Result<Reply, Failure> {
    let loaded = ledger.load_full()?;
    let state = &loaded.state;
    let id = ledger.find_task(state, id.as_deref())?;
    let Some(task) = state.tasks.get(&id) else {
        return Err(Failure::from(git_ledger::ledger::Error::UnknownId {
            kind: EntityKind::Task,
            input: id,
        }));
    };
    let tip = if task.validation.is_empty() {
        None
    } else {
        ledger.check_tip(task)
    };
    let text = show_text(state, task, loaded.now, tip.as_deref());
    let data = data::task_detail(state, task, loaded.now);
    Ok(Reply::new(ledger, &loaded, data, text))
}

/// `tip`: the commit the task's validation rules are shown at (`Ledger::check_tip`).
fn show_text(
    state: &State,
    task: &Task,
    now: chrono::DateTime<chrono::Utc>,
    tip: Option<&str>,
) -> String {
    let mut text = format!("{} {}\n", state.short(&task.id), task.title);
    let mut field = |name: &str, value: String| text.push_str(&format!("{name:<12}{value}\n"));
    field("status", task.status.label().to_string());
    field("priority", format!("P{}", task.priority));
    if let Some(role) = &task.role {
        field("role", role.clone());
    }
    for check in task.check_states(tip.unwrap_or("")) {
        let (what, text) = match &check.rule {
            Rule::Command(command) => ("command", command),
            Rule::Item(item) => ("item", item),
        };
        let at: String = tip.unwrap_or("no commit").chars().take(10).collect();
        field(
            "validation",
            format!(
                "{what}: {} ({} at {at})",
                one_line(text, 100),
                check.state.label()
            ),
        );
    }
    if let Some(objective) = &task.objective {
        let title = state
            .title_of(objective)
            .map(|t| one_line(t, 60))
            .unwrap_or_default();
        field("objective", format!("{} {title}", state.short(objective)));
    }
    if !task.depends_on.is_empty() {
        let deps: Vec<String> = task
            .depends_on
            .iter()
            .map(|d| {
                let done = state
                    .tasks
                    .get(d)
                    .is_some_and(|t| t.status == TaskStatus::Done);
                format!("{}{}", state.short(d), if done { " (done)" } else { "" })
            })
            .collect();
        field("depends on", deps.join(", "));
    }
    let estimate = task
        .estimate_minutes
        .map(minutes_text)
        .unwrap_or_else(|| "none".into());
    let worked = match task.actual_minutes(now) {
        Some(minutes) => format!("{} worked", minutes_text(minutes)),
        None => "not started".into(),
    };
    field("time", format!("{worked}, estimate {estimate}"));
    field(
        "created",
        format!(
            "{} by {}",
            task.created.format("%Y-%m-%d %H:%M"),
            task.created_by
        ),
    );
    if let Some(reason) = &task.block_reason {
        field("blocked", one_line(reason, 100));
    }
    if let Some(summary) = &task.summary {
        field("summary", one_line(summary, 100));
    }
    if let Some(overridden) = &task.forced_over {
        field(
            "forced",
            format!("closed with --force over: {}", overridden.join("; ")),
        );
    }
    if !task.branches.is_empty() {
        field("branches", task.branches.join(", "));
    }
    field("review", super::review::review_text(task));
    if let Some(description) = &task.description {
        text.push_str(&format!("\n{description}\n"));
    }
    text.push_str("\nNotes\n");
    if task.notes.is_empty() {
        text.push_str("  none\n");
    }
    for note in &task.notes {
        text.push_str(&format!(
            "  {} {} ({})\n",
            note.time.format("%Y-%m-%d %H:%M"),
            one_line(&note.text, 200),
            note.actor
        ));
    }
    if !task.merges.is_empty() {
        text.push_str("\nMerges\n");
        for m in &task.merges {
            text.push_str(&format!(
                "  {} {} {} into {}\n",
                git_ledger::event::short_hex(&m.merge_commit),
                m.time.format("%Y-%m-%d %H:%M"),
                m.branch,
                m.into
            ));
        }
    }
    if !task.commits.is_empty() {
        text.push_str("\nCommits\n");
        for c in &task.commits {
            text.push_str(&format!(
                "  {} {} on {} by {}\n",
                git_ledger::event::short_hex(&c.commit),
                c.time.format("%Y-%m-%d %H:%M"),
                c.branch.as_deref().unwrap_or("(detached)"),
                c.author.as_deref().unwrap_or("?")
            ));
        }
    }
    text.push_str("\nHistory\n");
    for &i in &task.history {
        text.push_str(&format!(
            "  {}\n",
            action(state, &state.events[i]).line(state)
        ));
    }
    text
}
