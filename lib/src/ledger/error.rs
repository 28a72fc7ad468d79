//! What an operation on the ledger can refuse or fail with: one enum per family of
//! operations, and [`Error`] over them. Each says what happened in one line; what a person
//! can do about it, and the stable codes of `--json`, are the front ends' (`explain.rs` of
//! the `git-ledger` crate).

use crate::event::EntityKind;
use crate::store;

/// Everything an operation on the ledger can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Clock(#[from] crate::clock::BadClock),
    #[error(transparent)]
    Point(#[from] crate::fold::point::PointError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Work(#[from] WorkError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Compaction(#[from] CompactionError),
    #[error("the ledger ref kept moving; gave up after {0} attempts")]
    Busy(u32),
    /// The system refused something the operation needed (a file, a process).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A git command the operation ran failed; what it printed went to standard error.
    #[error("{0} failed")]
    Git(String),
    /// Not even a search index in memory could be built.
    #[error("cannot search: {0}")]
    Index(#[source] rusqlite::Error),
}

impl Error {
    /// An I/O error with what was being done when it happened.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// What was typed does not name or describe something the ledger can take.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
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
    #[error("'{0}' has no word to search for (letters or digits)")]
    NoSearchWords(String),
    #[error("'{0}' is not a kind to search: task, objective, insight or decision")]
    BadSearchKind(String),
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
    #[error("lease '{0}' is not a duration from a minute to a week, like 90s, 30m, 2h or 1h30m")]
    BadLease(String),
    #[error("'{0}' is not an amount of money like 1.25 or 0.003 (at most six decimals)")]
    BadMoney(String),
    #[error("'{0}' is not a time (2026-02-01 or 2026-02-01T09:00:00Z)")]
    BadTime(String),
    #[error("git config {key} is '{value}', not {expected}")]
    BadConfig {
        key: &'static str,
        value: String,
        /// What the value should be ("a duration like 10m, 2h or 1h30m").
        expected: &'static str,
        /// A value to show in the hint.
        example: &'static str,
    },
    #[error("'{0}' is not a commit, branch or tag in this repository")]
    UnknownRevision(String),
    #[error("no plan named '{0}'")]
    UnknownPlan(String),
    #[error("'{choice}' is not one of the options of {id}: {}", options.join(" | "))]
    UnknownChoice {
        id: String,
        choice: String,
        options: Vec<String>,
    },
}

/// The state of a task or objective (its status, claims, dependencies, reviews) refuses it.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("dependency cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("no task id given and no task in focus in this worktree")]
    NoFocus,
    #[error("{id} is {status}; it cannot be {action}")]
    WrongState {
        id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("cannot complete {id}: {}", reasons.join("; "))]
    NotReadyToClose { id: String, reasons: Vec<String> },
    #[error("{id} has {open} task(s) not done")]
    OpenTasks { id: String, open: usize },
    #[error("nothing to change: {0} already has these values (or none were given)")]
    NothingToChange(String),
    #[error("{id} is claimed by {holder} until {until}")]
    Claimed {
        id: String,
        holder: String,
        until: String,
    },
    #[error("{id} is not claimed by {holder}")]
    NotClaimed { id: String, holder: String },
    #[error("no task is ready to be claimed")]
    NothingReady,
    #[error("no task id given, and {holder} holds claims on {}", tasks.join(", "))]
    SeveralClaims { holder: String, tasks: Vec<String> },
    #[error("the task has no branch to approve")]
    NoBranch,
}

/// Sessions: none open, one open already, one ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no open session in this worktree")]
    NoSession,
    #[error("session {0} is already open in this worktree")]
    Open(String),
    #[error("session {0} has already ended")]
    Ended(String),
}

/// Agents: which one, and whether it still runs.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent {id} has already exited ({outcome})")]
    Exited { id: String, outcome: String },
    #[error("no agent id given and GIT_LEDGER_AGENT is not set")]
    NoAgent {
        /// The `agent` subcommand that needs it.
        command: &'static str,
    },
    #[error("--retry and --fallback need a command to run")]
    NothingToRetry,
    /// The agent's command could not be started (its end is recorded).
    #[error("{0}")]
    NotStarted(String),
}

/// Checks: a task's validation rules and the commit they run on.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
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

/// A file given to read (an import, a plan) that cannot be read or interpreted; nothing was
/// written.
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", line.map(|n| format!("line {n}: ")).unwrap_or_default())]
pub struct FileError {
    pub line: Option<usize>,
    pub message: String,
    /// What would make it readable.
    pub fix: Fix,
}

/// What would make a [`FileError`]'s file readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Correct the content where the message says.
    Content,
    /// Name the import format: the content matches none.
    ImportFormat,
    /// Name a file that can be read.
    Path,
    /// Write the plan in the plan format.
    PlanFormat,
    /// Save the file as UTF-8.
    Utf8,
}

/// Summaries of old periods (`memory compact`).
#[derive(Debug, thiserror::Error)]
pub enum CompactionError {
    #[error("{0} is in the future; only the past can be summarised")]
    BeforeInFuture(String),
    #[error("no event is older than {0}; there is nothing to summarise")]
    NothingToCompact(String),
    #[error("compaction {0} was not folded")]
    NotFolded(String),
}
