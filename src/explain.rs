//! What the front ends say about a failed operation besides its message: a stable code for
//! `--json` and MCP, and a hint, what a person (or an agent) can do about it. The library's
//! errors say what happened; what to do is phrased here, in terms of the commands.

use git_ledger_lib::ledger::{
    AgentError, CheckError, CompactionError, Error, FileError, Fix, InputError, SessionError,
    WorkError,
};
use git_ledger_lib::store::{self, SYNC_ATTEMPTS, SyncError};

/// A stable machine-readable code.
pub fn code(error: &Error) -> &'static str {
    match error {
        Error::Store(store::Error::NotARepository(_)) => "not_a_repository",
        Error::Store(store::Error::NotInitialised) => "not_initialised",
        Error::Store(store::Error::Bare) => "bare_repository",
        Error::Store(store::Error::Sync(e)) => sync_code(e),
        Error::Store(_) => "git_error",
        Error::Clock(_) => "bad_clock",
        Error::Point(_) => "bad_point",
        Error::Input(e) => match e {
            InputError::UnknownId { .. } => "unknown_id",
            InputError::AmbiguousId { .. } => "ambiguous_id",
            InputError::MalformedId { .. } => "malformed_id",
            InputError::Empty { .. } => "empty_text",
            InputError::NoSearchWords(_) => "empty_text",
            InputError::BadSearchKind(_) => "bad_kind",
            InputError::TooLarge { .. } => "too_large",
            InputError::BadPriority(_) => "bad_priority",
            InputError::BadEstimate(_) => "bad_estimate",
            InputError::BadLease(_) => "bad_lease",
            InputError::BadMoney(_) => "bad_money",
            InputError::BadTime(_) => "bad_time",
            InputError::BadConfig { .. } => "bad_config",
            InputError::UnknownRevision(_) => "unknown_revision",
            InputError::UnknownPlan(_) => "unknown_plan",
            InputError::UnknownChoice { .. } => "unknown_choice",
        },
        Error::Work(e) => match e {
            WorkError::Cycle(_) => "dependency_cycle",
            WorkError::NoFocus => "no_focus",
            WorkError::WrongState { .. } => "wrong_state",
            WorkError::NotReadyToClose { .. } => "validation_failed",
            WorkError::OpenTasks { .. } => "open_tasks",
            WorkError::NothingToChange(_) => "nothing_to_change",
            WorkError::Claimed { .. } => "claimed",
            WorkError::NotClaimed { .. } => "not_claimed",
            WorkError::NothingReady => "nothing_ready",
            WorkError::SeveralClaims { .. } => "several_claims",
            WorkError::NoBranch => "no_branch",
        },
        Error::Session(e) => match e {
            SessionError::NoSession => "no_session",
            SessionError::Open(_) => "session_open",
            SessionError::Ended(_) => "session_ended",
        },
        Error::Agent(e) => match e {
            AgentError::Exited { .. } => "agent_exited",
            AgentError::NoAgent { .. } => "no_agent",
            AgentError::NothingToRetry => "nothing_to_retry",
            AgentError::NotStarted(_) => "io",
        },
        Error::Check(e) => match e {
            CheckError::NoRules(_) => "no_rules",
            CheckError::NoCommands(_) => "no_commands",
            CheckError::UnknownItem { .. } => "unknown_item",
            CheckError::NotCheckedOut(_) => "not_checked_out",
            CheckError::NoCommit => "no_commit",
            CheckError::DirtyWorktree(_) => "dirty_worktree",
        },
        Error::File(_) => "import_failed",
        Error::Compaction(e) => match e {
            CompactionError::BeforeInFuture(_) => "before_in_future",
            CompactionError::NothingToCompact(_) => "nothing_to_compact",
            CompactionError::NotFolded(_) => "io",
        },
        Error::Busy(_) => "busy",
        Error::Io { .. } | Error::Git(_) | Error::Index(_) => "io",
    }
}

/// What to do about it, when there is something to do.
pub fn hint(error: &Error) -> Option<String> {
    Some(match error {
        Error::Store(store::Error::NotARepository(_)) => {
            "run it inside a git work tree, or create one with `git init`".into()
        }
        Error::Store(store::Error::NotInitialised) => "run `git ledger init` first".into(),
        Error::Store(store::Error::Bare) => "run it inside a work tree of the repository".into(),
        Error::Store(store::Error::Sync(e)) => sync_hint(e),
        Error::Point(_) => {
            "name a time (2026-01-05 or 2026-01-05T09:00:00Z), an event id from `git ledger log`, or a session id".into()
        }
        Error::Input(e) => return input_hint(e),
        Error::Work(e) => return work_hint(e),
        Error::Session(SessionError::NoSession) => {
            "start one with `git ledger session start \"<goal>\"`".into()
        }
        Error::Session(SessionError::Open(_)) => {
            "continue it with `git ledger session resume`, or close it with `git ledger session end`".into()
        }
        Error::Agent(AgentError::Exited { .. }) => {
            "an agent's end is recorded once; `git ledger agent list` shows the running ones".into()
        }
        Error::Agent(AgentError::NoAgent { command }) => {
            format!("name the agent: `git ledger agent {command} <id>`")
        }
        Error::Agent(AgentError::NothingToRetry) => {
            "give the command after `--`: git ledger agent spawn … --retry 2 -- <command>".into()
        }
        Error::Check(e) => return check_hint(e),
        Error::File(FileError { fix, .. }) => file_hint(*fix).into(),
        Error::Busy(_) => "another process is appending heavily; try again".into(),
        _ => return None,
    })
}

fn input_hint(error: &InputError) -> Option<String> {
    Some(match error {
        InputError::UnknownId { kind, .. } | InputError::MalformedId { kind, .. } => {
            format!("`git ledger {} list` shows the ids", kind.noun())
        }
        InputError::AmbiguousId { .. } => "type more characters of the id".into(),
        InputError::Empty { .. } => "give some text; whitespace alone does not count".into(),
        InputError::NoSearchWords(_) => {
            "search for words, like `git ledger search oauth token`".into()
        }
        InputError::BadSearchKind(_) => "use --kind task, objective, insight or decision".into(),
        InputError::TooLarge { .. } => {
            "commit large content to the repository and refer to its path".into()
        }
        InputError::BadPriority(_) => {
            "use --priority 0 … 4 (0 is the highest, 2 the default)".into()
        }
        InputError::BadEstimate(_) => "use minutes and hours, like --estimate 45m or 1h30m".into(),
        InputError::BadLease(_) => {
            "give a lease from 60s to a week, like --lease 90s, 30m or 2h".into()
        }
        InputError::BadMoney(_) => "write it in the currency's units, like --cost 1.25".into(),
        InputError::BadTime(_) => "a date means the start of that day, UTC".into(),
        InputError::BadConfig { key, example, .. } => {
            format!("set it like `git config {key} {example}`, or unset it for the default")
        }
        InputError::UnknownRevision(_) => "name a branch, a tag or a commit id".into(),
        InputError::UnknownPlan(_) => "`git ledger plan show` lists every plan".into(),
        InputError::UnknownChoice { .. } => "choose one of the options, spelled as listed".into(),
    })
}

fn work_hint(error: &WorkError) -> Option<String> {
    Some(match error {
        WorkError::Cycle(_) => "drop one of the dependencies named in the cycle".into(),
        WorkError::NoFocus => {
            "name the task, or set the focus with `git ledger task start <id>`".into()
        }
        WorkError::NotReadyToClose { reasons, .. }
            if reasons
                .iter()
                .any(|r| r.starts_with("check ") || r.starts_with("item ")) =>
        {
            "run the task's commands on its tip with `git ledger check run`, confirm its items with `git ledger check confirm`, or override with --force (recorded)".into()
        }
        WorkError::NotReadyToClose { .. } => {
            "add a summary with --summary and record work with `git ledger task note`, or override with --force (recorded)".into()
        }
        WorkError::OpenTasks { id, .. } => format!(
            "finish or cancel them first (`git ledger task list --objective {id}`), or close it anyway with --force"
        ),
        WorkError::NothingToChange(_) => {
            "give --title, --description, --priority or --estimate with a new value".into()
        }
        WorkError::Claimed { .. } => {
            "wait for the lease to run out, or take another task from `git ledger ready`".into()
        }
        WorkError::NotClaimed { .. } => "claim it first with `git ledger task claim <id>`".into(),
        WorkError::NothingReady => {
            "`git ledger ready` lists open tasks; claimed ones show who holds them".into()
        }
        WorkError::SeveralClaims { .. } => "name the task".into(),
        WorkError::NoBranch => {
            "name the commit with --commit <rev>, or create the branch with `git ledger task start <id> --branch`".into()
        }
        WorkError::WrongState { action, .. } if *action == "started" || *action == "completed" => {
            "reopen it first with `git ledger task reopen <id>`".into()
        }
        WorkError::WrongState { .. } => return None,
    })
}

fn check_hint(error: &CheckError) -> Option<String> {
    Some(match error {
        CheckError::NoRules(_) => {
            "rules are given when a task is added: `git ledger task add \"…\" --check-command \"cargo test\" --check-item \"docs updated\"`".into()
        }
        CheckError::NoCommands(id) => {
            format!("confirm each item with `git ledger check confirm <item> --task {id}`")
        }
        CheckError::UnknownItem { id, .. } => {
            format!("name an item by its text or its number in `git ledger check list {id}`")
        }
        CheckError::NotCheckedOut(branch) => format!(
            "check it out (`git switch {branch}`) or give it a worktree (`git worktree add <dir> {branch}`), so its commands run on its tip"
        ),
        CheckError::NoCommit => "commit the work first: results are pinned to a commit".into(),
        CheckError::DirtyWorktree(_) => {
            "commit or stash them first: a result is pinned to the commit it ran on".into()
        }
    })
}

fn file_hint(fix: Fix) -> &'static str {
    match fix {
        Fix::Content => "nothing was imported; fix the input and run the import again",
        Fix::ImportFormat => {
            "name the format with --format jsonl (from `git ledger export`), orchestrator (orchestrator_context.json) or beads (issues JSONL)"
        }
        Fix::Path => "check the path; `-` reads standard input",
        Fix::PlanFormat => "see `git ledger plan apply --help` for the plan format",
        Fix::Utf8 => "convert the file to UTF-8; nothing was written",
    }
}

fn sync_code(error: &SyncError) -> &'static str {
    match error {
        SyncError::BadRemote(_) => "bad_remote",
        SyncError::Git { .. } => "git_failed",
        SyncError::RewrittenRemoteRef { .. } => "rewritten_remote_ref",
        SyncError::OwnRefNotAncestor { .. } => "own_ref_not_ancestor",
        SyncError::MergeOnWriterRef { .. } => "merge_on_writer_ref",
        SyncError::PushRejected { .. } => "push_rejected",
    }
}
fn sync_hint(error: &SyncError) -> String {
    match error {
            SyncError::BadRemote(_) => {
                "name a remote (see `git remote -v`) or give its URL or path".into()
            }
            SyncError::Git { .. } => {
                "check the remote's name or URL (`git remote -v`) and that you can reach it".into()
            }
            SyncError::RewrittenRemoteRef { remote, .. } => format!(
                "ledger refs are append-only; run `git ledger audit` here to confirm our copy is intact, then restore {remote}'s copy from a clone that has the full history (an admin must allow the non-fast-forward push)"
            ),
            SyncError::OwnRefNotAncestor { remote, reference } => format!(
                "another clone writes with this clone's writer id (a copied .git?), or {remote}'s copy was rewritten; to restore a lost local ref run `git fetch {remote} {reference}:{reference}`, otherwise give this clone a new id with `git config --unset ledger.writer && git ledger init`"
            ),
            SyncError::MergeOnWriterRef { remote, reference, .. } => format!(
                "a merge commit on a writer ref hides the history behind its second parent (a forged ref?); restore {remote}'s copy of {reference} from the clone that writes it, and install the server hook (`git ledger hooks install --server`) to refuse such pushes"
            ),
            SyncError::PushRejected { message, .. } if message.contains("hook declined") => {
                "the remote's hook refused these events: its message says which and why; `git ledger audit` here checks this clone's copy".into()
            }
            SyncError::PushRejected { .. } => format!(
                "the remote's refs kept moving while this sync pushed ({SYNC_ATTEMPTS} tries): other syncs are running; run `git ledger sync` again when they are done"
            ),
        }
}
