use crate::event::EntityKind;
use crate::store;

/// Everything an operation on the ledger can refuse or fail with. Each variant has a stable
/// `code` (for `--json`) and, where there is something to do about it, a `hint`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Clock(#[from] crate::clock::BadClock),
    #[error("no {} matches '{input}'", kind.noun())]
    UnknownId { kind: EntityKind, input: String },
    #[error("'{input}' is ambiguous: it matches {} {}s: {}", candidates.len(), kind.noun(), candidates.join(", "))]
    AmbiguousId {
        kind: EntityKind,
        input: String,
        candidates: Vec<String>,
    },
    #[error("'{input}' is not {} id (expected like {}-3f9a2c)", kind.with_article(), kind.prefix())]
    MalformedId { kind: EntityKind, input: String },
    #[error("the {what} is empty")]
    Empty { what: &'static str },
    #[error("the {what} is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("priority '{0}' is not between 0 (highest) and 4 (lowest)")]
    BadPriority(String),
    #[error("estimate '{0}' is not a duration like 90m, 2h or 1h30m, of at most a year")]
    BadEstimate(String),
    #[error("dependency cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("no task id given and no task in focus in this worktree")]
    NoFocus,
    #[error("no open session in this worktree")]
    NoSession,
    #[error("session {0} is already open in this worktree")]
    SessionOpen(String),
    #[error("session {0} has already ended")]
    SessionEnded(String),
    #[error("{id} is {status}; it cannot be {action}")]
    WrongState {
        id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("cannot complete {id}: {}", reasons.join("; "))]
    NotReadyToClose { id: String, reasons: Vec<String> },
    #[error("no plan named '{0}'")]
    UnknownPlan(String),
    #[error("{id} has {open} task(s) not done")]
    OpenTasks { id: String, open: usize },
    #[error("'{choice}' is not one of the options of {id}: {}", options.join(" | "))]
    UnknownChoice {
        id: String,
        choice: String,
        options: Vec<String>,
    },
    #[error("the ledger ref kept moving; gave up after {0} attempts")]
    Busy(u32),
    /// An import refused: the file cannot be read or interpreted (nothing was written).
    #[error("{}{message}", line.map(|n| format!("line {n}: ")).unwrap_or_default())]
    Import {
        line: Option<usize>,
        message: String,
        hint: &'static str,
    },
    #[error(transparent)]
    Point(#[from] crate::fold::point::PointError),
    #[error("{0}")]
    Io(String),
    #[error("'{0}' is not a commit, branch or tag in this repository")]
    UnknownRevision(String),
    #[error("the task has no branch to approve")]
    NoBranch,
    #[error("agent {id} has already exited ({outcome})")]
    AgentExited { id: String, outcome: String },
    #[error("no agent id given and GIT_LEDGER_AGENT is not set")]
    NoAgent {
        /// The `agent` subcommand that needs it, for the hint.
        command: &'static str,
    },
    #[error("{id} is claimed by {holder} until {until}")]
    Claimed {
        id: String,
        holder: String,
        until: String,
    },
    #[error("{id} is not claimed by {holder}")]
    NotClaimed { id: String, holder: String },
    #[error("lease '{0}' is not a duration from a minute to a week, like 90s, 30m, 2h or 1h30m")]
    BadLease(String),
    #[error("no task is ready to be claimed")]
    NothingReady,
    #[error("'{0}' is not an amount of money like 1.25 or 0.003 (at most six decimals)")]
    BadMoney(String),
    #[error("'{0}' is not a time (2026-02-01 or 2026-02-01T09:00:00Z)")]
    BadTime(String),
    #[error("{0} is in the future; only the past can be summarised")]
    BeforeInFuture(String),
    #[error("no event is older than {0}; there is nothing to summarise")]
    NothingToCompact(String),
    #[error("no task id given, and {holder} holds claims on {}", tasks.join(", "))]
    SeveralClaims { holder: String, tasks: Vec<String> },
    #[error("git config {key} is '{value}', not {expected}")]
    BadConfig {
        key: &'static str,
        value: String,
        /// What the value should be ("a duration like 10m, 2h or 1h30m").
        expected: &'static str,
        /// A value to show in the hint.
        example: &'static str,
    },
    #[error("--retry and --fallback need a command to run")]
    NothingToRetry,
    #[error("nothing to change: {0} already has these values (or none were given)")]
    NothingToChange(String),
    #[error("{0} has no validation rules to check")]
    NoRules(String),
    #[error("{0} has no command rules to run; its rules are checklist items")]
    NoCommands(String),
    #[error("'{item}' is not a checklist item of {id}{}", if items.is_empty() { " (it has none)".to_string() } else { format!("; its items: {}", items.join(" | ")) })]
    UnknownItem {
        id: String,
        item: String,
        items: Vec<String>,
    },
    #[error("the task's branch {0} is not checked out in any worktree")]
    NotCheckedOut(String),
    #[error("there is no commit to check: HEAD has none")]
    NoCommit,
    #[error("{0} has uncommitted changes to tracked files")]
    DirtyWorktree(String),
}

impl Error {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(store::Error::NotARepository(_)) => "not_a_repository",
            Error::Store(store::Error::NotInitialised) => "not_initialised",
            Error::Store(store::Error::Bare) => "bare_repository",
            Error::Store(store::Error::Sync(e)) => e.code(),
            Error::Store(_) => "git_error",
            Error::Clock(_) => "bad_clock",
            Error::UnknownId { .. } => "unknown_id",
            Error::AmbiguousId { .. } => "ambiguous_id",
            Error::MalformedId { .. } => "malformed_id",
            Error::Empty { .. } => "empty_text",
            Error::TooLarge { .. } => "too_large",
            Error::BadPriority(_) => "bad_priority",
            Error::BadEstimate(_) => "bad_estimate",
            Error::Cycle(_) => "dependency_cycle",
            Error::NoFocus => "no_focus",
            Error::NoSession => "no_session",
            Error::SessionOpen(_) => "session_open",
            Error::SessionEnded(_) => "session_ended",
            Error::WrongState { .. } => "wrong_state",
            Error::NotReadyToClose { .. } => "validation_failed",
            Error::OpenTasks { .. } => "open_tasks",
            Error::UnknownPlan(_) => "unknown_plan",
            Error::UnknownChoice { .. } => "unknown_choice",
            Error::Busy(_) => "busy",
            Error::Import { .. } => "import_failed",
            Error::Point(_) => "bad_point",
            Error::Io(_) => "io",
            Error::UnknownRevision(_) => "unknown_revision",
            Error::NoBranch => "no_branch",
            Error::AgentExited { .. } => "agent_exited",
            Error::NoAgent { .. } => "no_agent",
            Error::Claimed { .. } => "claimed",
            Error::NotClaimed { .. } => "not_claimed",
            Error::BadLease(_) => "bad_lease",
            Error::NothingReady => "nothing_ready",
            Error::BadMoney(_) => "bad_money",
            Error::BadTime(_) => "bad_time",
            Error::BeforeInFuture(_) => "before_in_future",
            Error::NothingToCompact(_) => "nothing_to_compact",
            Error::SeveralClaims { .. } => "several_claims",
            Error::BadConfig { .. } => "bad_config",
            Error::NothingToRetry => "nothing_to_retry",
            Error::NothingToChange(_) => "nothing_to_change",
            Error::NoRules(_) => "no_rules",
            Error::NoCommands(_) => "no_commands",
            Error::UnknownItem { .. } => "unknown_item",
            Error::NotCheckedOut(_) => "not_checked_out",
            Error::NoCommit => "no_commit",
            Error::DirtyWorktree(_) => "dirty_worktree",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Store(store::Error::NotARepository(_)) => {
                "run it inside a git work tree, or create one with `git init`".into()
            }
            Error::Store(store::Error::NotInitialised) => "run `git ledger init` first".into(),
            Error::Store(store::Error::Bare) => "run it inside a work tree of the repository".into(),
            Error::Store(store::Error::Sync(e)) => e.hint(),
            Error::UnknownId { kind, .. } | Error::MalformedId { kind, .. } => {
                format!("`git ledger {} list` shows the ids", kind.noun())
            }
            Error::AmbiguousId { .. } => "type more characters of the id".into(),
            Error::Empty { .. } => "give some text; whitespace alone does not count".into(),
            Error::TooLarge { .. } => {
                "commit large content to the repository and refer to its path".into()
            }
            Error::BadPriority(_) => "use --priority 0 … 4 (0 is the highest, 2 the default)".into(),
            Error::BadEstimate(_) => "use minutes and hours, like --estimate 45m or 1h30m".into(),
            Error::Cycle(_) => "drop one of the dependencies named in the cycle".into(),
            Error::NoFocus => "name the task, or set the focus with `git ledger task start <id>`".into(),
            Error::NoSession => "start one with `git ledger session start \"<goal>\"`".into(),
            Error::SessionOpen(_) => {
                "continue it with `git ledger session resume`, or close it with `git ledger session end`".into()
            }
            Error::NotReadyToClose { reasons, .. }
                if reasons
                    .iter()
                    .any(|r| r.starts_with("check ") || r.starts_with("item ")) =>
            {
                "run the task's commands on its tip with `git ledger check run`, confirm its items with `git ledger check confirm`, or override with --force (recorded)".into()
            }
            Error::NotReadyToClose { .. } => {
                "add a summary with --summary and record work with `git ledger task note`, or override with --force (recorded)".into()
            }
            Error::UnknownChoice { .. } => "choose one of the options, spelled as listed".into(),
            Error::UnknownPlan(_) => "`git ledger plan show` lists every plan".into(),
            Error::OpenTasks { id, .. } => format!(
                "finish or cancel them first (`git ledger task list --objective {id}`), or close it anyway with --force"
            ),
            Error::Busy(_) => "another process is appending heavily; try again".into(),
            Error::Import { hint, .. } => hint.to_string(),
            Error::UnknownRevision(_) => "name a branch, a tag or a commit id".into(),
            Error::NoBranch => {
                "name the commit with --commit <rev>, or create the branch with `git ledger task start <id> --branch`".into()
            }
            Error::AgentExited { .. } => {
                "an agent's end is recorded once; `git ledger agent list` shows the running ones".into()
            }
            Error::NoAgent { command } => format!("name the agent: `git ledger agent {command} <id>`"),
            Error::Claimed { .. } => {
                "wait for the lease to run out, or take another task from `git ledger ready`".into()
            }
            Error::NotClaimed { .. } => "claim it first with `git ledger task claim <id>`".into(),
            Error::BadLease(_) => {
                "give a lease from 60s to a week, like --lease 90s, 30m or 2h".into()
            }
            Error::SeveralClaims { .. } => "name the task".into(),
            Error::BadConfig { key, example, .. } => {
                format!("set it like `git config {key} {example}`, or unset it for the default")
            }
            Error::NothingToChange(_) => {
                "give --title, --description, --priority or --estimate with a new value".into()
            }
            Error::NothingToRetry => {
                "give the command after `--`: git ledger agent spawn … --retry 2 -- <command>".into()
            }
            Error::NoRules(_) => {
                "rules are given when a task is added: `git ledger task add \"…\" --check-command \"cargo test\" --check-item \"docs updated\"`".into()
            }
            Error::NoCommands(id) => {
                format!("confirm each item with `git ledger check confirm <item> --task {id}`")
            }
            Error::UnknownItem { id, .. } => {
                format!("name an item by its text or its number in `git ledger check list {id}`")
            }
            Error::NotCheckedOut(branch) => format!(
                "check it out (`git switch {branch}`) or give it a worktree (`git worktree add <dir> {branch}`), so its commands run on its tip"
            ),
            Error::NoCommit => "commit the work first: results are pinned to a commit".into(),
            Error::DirtyWorktree(_) => {
                "commit or stash them first: a result is pinned to the commit it ran on".into()
            }
            Error::BadTime(_) => "a date means the start of that day, UTC".into(),
            Error::BadMoney(_) => "write it in the currency's units, like --cost 1.25".into(),
            Error::NothingReady => {
                "`git ledger ready` lists open tasks; claimed ones show who holds them".into()
            }
            Error::Point(_) => {
                "name a time (2026-01-05 or 2026-01-05T09:00:00Z), an event id from `git ledger log`, or a session id".into()
            }
            Error::WrongState { action, .. } if *action == "started" || *action == "completed" => {
                "reopen it first with `git ledger task reopen <id>`".into()
            }
            _ => return None,
        })
    }
}
