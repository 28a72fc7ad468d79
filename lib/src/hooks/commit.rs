//! The commit hook's own work, from plain files: git runs `prepare-commit-msg` for every
//! commit, so this is all a commit pays for. It adds the `Ledger-Task` trailer and leaves a
//! note for the next ledger command to record the commit ([`crate::ledger::commits`]),
//! without opening the repository.
//!
//! Nothing here reaches the repository or the ledger, so that `git-ledger-hook` (a small
//! program that runs this and nothing else) stays small and starts fast: git waits for it on
//! every commit (figures in docs/performance.md).

use crate::gate;
use crate::ledger::commits::{CommitNote, leave_note};
use crate::ledger::{AGENT_ENV, Error, SESSION_ENV, env_value};
use std::path::{Path, PathBuf};

/// `GIT_LEDGER_AGENT`, when set: an agent is committing.
pub fn agent_env() -> Option<String> {
    env_value(AGENT_ENV)
}

/// Whether `prepare-commit-msg` runs for a merge being concluded (git passes `merge` as the
/// message's source): no trailer is added, and the merge is gated like `pre-merge-commit`.
pub fn concludes_merge(args: &[String]) -> bool {
    args.get(1).is_some_and(|source| source == "merge")
}

/// Run `prepare-commit-msg` (after a chained hook, if any, whose failure fails the commit):
/// what `git-ledger-hook` does. Errors are one warning: this hook never blocks a commit.
pub fn run_commit_hook(args: &[String], hooks_dir: &Path) -> i32 {
    let chained = super::run::run_chained(
        &hooks_dir.join(format!("prepare-commit-msg{}", super::CHAINED_SUFFIX)),
        args,
        &[],
    );
    if chained != 0 {
        return chained;
    }
    if let Err(e) = note_commit(args) {
        crate::eprintln_safe!("git-ledger: prepare-commit-msg: {e} (ignored)");
    }
    0
}

/// Add `Ledger-Task: <id>` to the message of a commit on a task branch or with a task in
/// focus, and leave a note for the next ledger command to record the commit. Returns the
/// task, if there is one.
pub fn note_commit(args: &[String]) -> Result<Option<String>, Error> {
    let Some(file) = args.first() else {
        return Ok(None);
    };
    if concludes_merge(args) {
        return Ok(None);
    }
    let Some(glance) = task_at_a_glance() else {
        return Ok(None);
    };
    let message = std::fs::read(file).map_err(Error::io(file.as_str()))?;
    // A message that is not UTF-8 is left as it is; the commit is still noted (and linked by
    // its branch, if it is on the task's own).
    if let Ok(message) = std::str::from_utf8(&message)
        && let Some(updated) = with_trailer(message, &glance.task)
    {
        write_message(file, message, &updated).map_err(Error::io(file.as_str()))?;
    }
    leave_note(
        &glance.common_dir,
        &CommitNote {
            task: glance.task.clone(),
            branch: glance.branch,
            git_dir: glance.git_dir,
            parent: glance.head,
            session: env_value(SESSION_ENV),
            noted_at: crate::ledger::commits::unix_now(),
        },
    )?;
    Ok(Some(glance.task))
}

/// What the hook sees of this worktree from plain files, without opening the repository.
struct Glance {
    /// The task of this worktree: a task branch, else the focus hint.
    task: String,
    /// The branch checked out, if any.
    branch: Option<String>,
    git_dir: PathBuf,
    common_dir: PathBuf,
    /// The commit HEAD is at (`None` on an unborn branch, or if it cannot be read cheaply).
    head: Option<String>,
}

/// The cheap look every commit pays for: the task of this worktree, if the ledger is set up
/// and there is one. Most commits stop here.
fn task_at_a_glance() -> Option<Glance> {
    let git_dir = match std::env::var_os("GIT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dot_git = PathBuf::from(".git");
            match std::fs::read_to_string(&dot_git) {
                // A linked worktree: ".git" is a file naming its git dir.
                Ok(text) => PathBuf::from(text.strip_prefix("gitdir:")?.trim()),
                Err(_) => dot_git,
            }
        }
    };
    // Notes name the git dir for a later process, which may run elsewhere.
    let git_dir = std::env::current_dir().ok()?.join(git_dir);
    let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(rel) => git_dir.join(rel.trim()),
        Err(_) => git_dir.clone(),
    };
    let config = std::fs::read_to_string(common_dir.join("config")).ok()?;
    if !config.contains("[ledger]") {
        return None;
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let head_ref = head.strip_prefix("ref: ");
    let branch = head_ref
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_string);
    let task = branch
        .as_deref()
        .and_then(gate::task_of_branch)
        .or_else(|| {
            let focus = std::fs::read_to_string(git_dir.join("ledger-focus")).ok()?;
            let focus = focus.trim();
            (!focus.is_empty()).then(|| focus.to_string())
        })?;
    let head = match head_ref {
        Some(name) => ref_target(&common_dir, name),
        None => Some(head.to_string()),
    };
    Some(Glance {
        task,
        branch,
        git_dir,
        common_dir,
        head,
    })
}

/// The commit a branch points at, read from its loose file or from `packed-refs`.
fn ref_target(common_dir: &Path, name: &str) -> Option<String> {
    if let Ok(loose) = std::fs::read_to_string(common_dir.join(name)) {
        return Some(loose.trim().to_string());
    }
    let packed = std::fs::read_to_string(common_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (oid, refname) = line.split_once(' ')?;
        (refname == name).then(|| oid.to_string())
    })
}

/// Write the updated message: appended when it only adds to the end (a `-m` message), which
/// spares ext4 flushing a file truncated and rewritten on every commit.
fn write_message(file: &str, message: &str, updated: &str) -> std::io::Result<()> {
    use std::io::Write;
    match updated.strip_prefix(message) {
        Some(added) => std::fs::OpenOptions::new()
            .append(true)
            .open(file)?
            .write_all(added.as_bytes()),
        None => std::fs::write(file, updated),
    }
}

/// The message with the trailer added, or `None` to leave it alone: it has one already, or it
/// is still empty (an editor will open; a trailer alone would keep git from aborting an empty
/// commit message, and a commit on a task branch is linked by its branch anyway).
fn with_trailer(message: &str, task: &str) -> Option<String> {
    let body_end = message
        .lines()
        .position(|l| l.starts_with('#'))
        .map(|n| {
            message
                .lines()
                .take(n)
                .map(|l| l.len() + 1)
                .sum::<usize>()
                .min(message.len())
        })
        .unwrap_or(message.len());
    let (body, comments) = message.split_at(body_end);
    if body.trim().is_empty() || body.lines().any(|l| l.starts_with("Ledger-Task:")) {
        return None;
    }
    let body = body.trim_end();
    // Join an existing trailer block, or start one after a blank line.
    let last_paragraph = body.rsplit("\n\n").next().unwrap_or(body);
    let in_trailers = body.contains("\n\n")
        && last_paragraph
            .lines()
            .all(|l| l.split_once(": ").is_some_and(|(k, _)| !k.contains(' ')));
    let separator = if in_trailers { "\n" } else { "\n\n" };
    let comments = if comments.is_empty() {
        String::new()
    } else {
        format!("\n{comments}")
    };
    Some(format!("{body}{separator}Ledger-Task: {task}\n{comments}"))
}

#[cfg(test)]
mod tests {
    use super::with_trailer;

    #[test]
    fn trailers() {
        assert_eq!(
            with_trailer("fix login\n", "t-abc123").as_deref(),
            Some("fix login\n\nLedger-Task: t-abc123\n")
        );
        assert_eq!(
            with_trailer("fix\n\nSigned-off-by: A <a@x>\n", "t-1").as_deref(),
            Some("fix\n\nSigned-off-by: A <a@x>\nLedger-Task: t-1\n")
        );
        assert_eq!(
            with_trailer("fix\n# Please enter\n# lines\n", "t-1").as_deref(),
            Some("fix\n\nLedger-Task: t-1\n\n# Please enter\n# lines\n")
        );
        assert_eq!(
            with_trailer("\n# Please enter\n", "t-1"),
            None,
            "empty message left alone"
        );
        assert_eq!(
            with_trailer("x\n\nLedger-Task: t-9\n", "t-1"),
            None,
            "one trailer only"
        );
    }
}
