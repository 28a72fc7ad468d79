//! What each hook does when git runs it.
//!
//! Observer hooks (prepare-commit-msg, post-checkout, post-merge) never fail or
//! block git: an internal error is one warning on stderr and exit 0. Gate hooks
//! (pre-merge-commit, pre-push, pre-receive) fail closed, saying what to do.

use super::CHAINED_SUFFIX;
use crate::event::{EntityKind, kind};
use crate::gate::{self, Verdict};
use crate::ledger::commits::{self, CommitNote};
use crate::ledger::{Error, Ledger, task_trailer};
use crate::projection::state::{State, Task};
use git2::Oid;
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Run hook `name` as git invoked it; returns the exit status. `hooks_dir` is where the hook
/// is installed (to find a chained hook).
pub fn run(name: &str, args: &[String], hooks_dir: &Path) -> i32 {
    // Hooks that git feeds on standard input; any other hook must not read it (it may be a
    // terminal).
    let stdin = if matches!(name, "pre-push" | "pre-receive") {
        let mut bytes = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut bytes);
        bytes
    } else {
        Vec::new()
    };
    let chained = run_chained(
        &hooks_dir.join(format!("{name}{CHAINED_SUFFIX}")),
        args,
        &stdin,
    );
    let gate = matches!(name, "pre-merge-commit" | "pre-push" | "pre-receive");
    if chained != 0 && (gate || name == "prepare-commit-msg") {
        return chained;
    }
    let input = String::from_utf8_lossy(&stdin);
    let ours = match name {
        "prepare-commit-msg" => prepare_commit_msg(args),
        "post-checkout" => post_checkout(args),
        "post-merge" => post_merge(),
        "pre-merge-commit" => pre_merge_commit(),
        "pre-push" => pre_push(&input),
        "pre-receive" => pre_receive(&input),
        _ => Ok(true),
    };
    let ours = match ours {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) if gate => {
            eprintln!("git-ledger: {name}: {e}; refusing (the gate fails closed)");
            1
        }
        Err(e) => {
            eprintln!("git-ledger: {name}: {e} (ignored)");
            0
        }
    };
    if chained != 0 { chained } else { ours }
}

/// Run a hook that was installed before ours, with the same arguments and input.
fn run_chained(path: &Path, args: &[String], stdin: &[u8]) -> i32 {
    if !path.is_file() {
        return 0;
    }
    let child = Command::new(path)
        .args(args)
        .stdin(if stdin.is_empty() {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("git-ledger: cannot run {}: {e}", path.display());
            return 1;
        }
    };
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    match child.wait() {
        Ok(status) => status.code().unwrap_or(1),
        Err(_) => 1,
    }
}

/// Open the ledger for a hook; `None` when this repository has no ledger (nothing to do).
fn ledger(hook: &str) -> Result<Option<Ledger>, Error> {
    match Ledger::for_hook(hook) {
        Ok(ledger) if ledger.store().is_initialised() => Ok(Some(ledger)),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    }
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

/// Add `Ledger-Task: <id>` to the message of a commit on a task branch or with a task in
/// focus, and leave a note for the next ledger command to record the commit (see
/// [`crate::ledger::commits`]): this is the only hook git runs for every commit.
fn prepare_commit_msg(args: &[String]) -> Result<bool, Error> {
    let (Some(file), source) = (args.first(), args.get(1).map(String::as_str)) else {
        return Ok(true);
    };
    if source == Some("merge") {
        return Ok(true);
    }
    let Some(glance) = task_at_a_glance() else {
        return Ok(true);
    };
    let message = std::fs::read_to_string(file).map_err(|e| Error::Io(format!("{file}: {e}")))?;
    if let Some(updated) = with_trailer(&message, &glance.task) {
        std::fs::write(file, updated).map_err(|e| Error::Io(format!("{file}: {e}")))?;
    }
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    commits::leave_note(
        &glance.common_dir,
        &CommitNote {
            task: glance.task.clone(),
            branch: glance.branch,
            git_dir: glance.git_dir,
            parent: glance.head,
            session: from_env(crate::ledger::SESSION_ENV),
        },
    )?;
    // Only agents pay for opening the ledger, to be told of a claim taken over.
    if from_env(crate::ledger::AGENT_ENV).is_some()
        && let Some(ledger) = ledger("prepare-commit-msg")?
    {
        warn_if_taken_over(&ledger, &glance.task, "commit")?;
    }
    Ok(true)
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

/// Fencing: an agent whose claim on the task was taken over by another holder (a later
/// epoch) is told that its work now competes with the new holder's. Only agents pay for the
/// look at the ledger; people's commits are not fenced.
fn warn_if_taken_over(ledger: &Ledger, task: &str, what: &str) -> Result<(), Error> {
    // Hooks record as `hook:<name>`; the agent committing is named by the environment.
    let agent = match std::env::var(crate::ledger::AGENT_ENV) {
        Ok(agent) if !agent.trim().is_empty() => format!("agent:{}", agent.trim()),
        _ => return Ok(()),
    };
    let loaded = ledger.load()?;
    let Some(task) = loaded
        .state
        .resolve(EntityKind::Task, task)
        .ok()
        .and_then(|id| loaded.state.tasks.get(&id))
    else {
        return Ok(());
    };
    let (holder, writer) = (agent.as_str(), ledger.writer());
    if let Some(current) = task.claims.taken_over(holder, writer, loaded.now) {
        let mine = task
            .claims
            .epoch_of(holder, writer)
            .map(|e| format!("epoch {e}"))
            .unwrap_or_else(|| "a claim that lost".into());
        eprintln!(
            "git-ledger: warning: this {what} is on {}, which {} took over from {holder} \
             (its {mine}; now epoch {}, until {}); coordinate before going on",
            loaded.state.short(&task.id),
            current.holder,
            current.epoch,
            current.expires.format("%Y-%m-%d %H:%M")
        );
    }
    Ok(())
}

/// Link a task branch when it is checked out or created (also by `git worktree add`).
fn post_checkout(args: &[String]) -> Result<bool, Error> {
    if args.get(2).map(String::as_str) != Some("1") {
        return Ok(true); // a file checkout, not a branch
    }
    let Some(ledger) = ledger("post-checkout")? else {
        return Ok(true);
    };
    let Some(branch) = ledger.current_branch() else {
        return Ok(true);
    };
    if let Some(task) = gate::task_of_branch(&branch) {
        ledger.link_branch(&branch, &task)?;
    }
    Ok(true)
}

/// Record a merged task branch, and suggest completing the task.
fn post_merge() -> Result<bool, Error> {
    let Some(ledger) = ledger("post-merge")? else {
        return Ok(true);
    };
    let repo = ledger.store().repo();
    // git names what it merged only in the reflog: "merge task/t-3f9a2c-fix: Merge made by…".
    let reflog = repo.reflog("HEAD").map_err(store_error)?;
    let Some(entry) = reflog.get(0) else {
        return Ok(true);
    };
    let message = entry.message().unwrap_or("");
    let Some(branch) = message
        .strip_prefix("merge ")
        .and_then(|m| m.split(':').next())
    else {
        return Ok(true);
    };
    let Some(task) = gate::task_of_branch(branch) else {
        return Ok(true);
    };
    let into = ledger.current_branch().unwrap_or_else(|| "HEAD".into());
    let body = json!({
        "branch": branch,
        "into": into,
        "merge_commit": entry.id_new().to_string(),
    });
    ledger.observe(kind::MERGE_RECORDED, &task, body)?;
    eprintln!(
        "git-ledger: {branch} merged into {into}; when the work is finished: git ledger task done {task} --summary \"…\""
    );
    Ok(true)
}

/// Refuse a merge commit into a protected branch that the gate does not allow.
fn pre_merge_commit() -> Result<bool, Error> {
    let Some(ledger) = ledger("pre-merge-commit")? else {
        return Ok(true);
    };
    let Some(into) = ledger.current_branch() else {
        return Ok(true);
    };
    if !gate::is_protected(&into, &ledger.protected_branches()) {
        return Ok(true);
    }
    // git names the commits being merged in GITHEAD_<commit> variables (MERGE_HEAD is only
    // written later); a merge resumed with `git commit` has MERGE_HEAD.
    let mut heads: Vec<String> = std::env::vars()
        .filter_map(|(key, _)| key.strip_prefix("GITHEAD_").map(str::to_string))
        .collect();
    if heads.is_empty() {
        let merge_head = ledger.store().repo().path().join("MERGE_HEAD");
        let text = std::fs::read_to_string(merge_head).unwrap_or_default();
        heads.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let state = ledger.load()?.state;
    let mut allowed = true;
    for commit in &heads {
        let task = task_of_commit(&ledger, &state, commit);
        let verdict = ledger.decide(&state, task, commit.to_string(), Some(into.clone()));
        allowed &= report("merge into", &into, &verdict);
    }
    Ok(allowed)
}

/// The task a commit belongs to: a local task branch pointing at it, else its trailer.
fn task_of_commit<'a>(ledger: &Ledger, state: &'a State, commit: &str) -> Option<&'a Task> {
    let repo = ledger.store().repo();
    let oid = Oid::from_str(commit).ok()?;
    if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
        for (branch, _) in branches.flatten() {
            let points_here = branch.get().target() == Some(oid);
            if let (true, Ok(Some(name))) = (points_here, branch.name())
                && let Some(task) = ledger.task_of_revision(state, name, commit)
            {
                return Some(task);
            }
        }
    }
    ledger.task_of_revision(state, commit, commit)
}

/// Print the verdict for people; true when allowed.
fn report(action: &str, target: &str, verdict: &Verdict) -> bool {
    for reason in &verdict.reasons {
        eprintln!(
            "git-ledger: {action} {target} refused: {}",
            reason.message()
        );
    }
    verdict.allowed
}

/// Refuse a push that brings commits of tasks not approved at their newest commit onto a
/// protected branch of the remote.
fn pre_push(input: &str) -> Result<bool, Error> {
    let Some(ledger) = ledger("pre-push")? else {
        return Ok(true);
    };
    let protected = ledger.protected_branches();
    let mut state: Option<State> = None;
    let mut allowed = true;
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote_ref, remote] = fields[..] else {
            continue;
        };
        let Some(branch) = remote_ref.strip_prefix("refs/heads/") else {
            continue;
        };
        if let Some(task) = gate::task_of_branch(branch)
            && !is_zero(local)
        {
            warn_if_taken_over(&ledger, &task, "push")?;
        }
        if is_zero(local) || !gate::is_protected(branch, &protected) {
            continue;
        }
        let state = match &state {
            Some(state) => state,
            None => state.insert(ledger.load()?.state),
        };
        allowed &= gate_range(&ledger, state, local, &[remote], branch)?;
    }
    Ok(allowed)
}

/// Server side: refuse ledger refs that would be deleted, rewritten or carry malformed
/// events, and protected-branch updates that bring in unapproved task commits. The ledger
/// refs of the same push count: a push may carry the approval with the merge.
fn pre_receive(input: &str) -> Result<bool, Error> {
    let ledger = Ledger::for_hook("pre-receive")?;
    let store = ledger.store();
    let mut updates = Vec::new();
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [old, new, name] = fields[..] {
            updates.push((old.to_string(), new.to_string(), name.to_string()));
        }
    }
    let mut allowed = true;
    let mut tips: HashMap<String, Oid> = store.writer_tips()?.into_iter().collect();
    for (old, new, name) in updates
        .iter()
        .filter(|(_, _, n)| n.starts_with("refs/ledger/"))
    {
        let (Ok(old), Ok(new)) = (Oid::from_str(old), Oid::from_str(new)) else {
            continue;
        };
        let problems = store.check_ledger_update(name, old, new);
        for problem in &problems {
            eprintln!("git-ledger: refusing {name}: {problem}");
        }
        allowed &= problems.is_empty();
        if !new.is_zero() {
            tips.insert(name.clone(), new);
        }
    }
    if !allowed {
        return Ok(false);
    }
    let protected = ledger.protected_branches();
    let gated: Vec<_> = updates
        .iter()
        .filter_map(|(old, new, name)| Some((old, new, name.strip_prefix("refs/heads/")?)))
        .filter(|(_, new, branch)| !is_zero(new) && gate::is_protected(branch, &protected))
        .collect();
    if gated.is_empty() {
        return Ok(true);
    }
    let state = State::from_events(store.snapshot_of(tips.into_iter().collect())?.events);
    for (old, new, branch) in gated {
        // Commits already on any branch were gated (or allowed) when they got there.
        let mut known: Vec<String> = Vec::new();
        if let Ok(refs) = store.repo().references_glob("refs/heads/*") {
            known.extend(
                refs.flatten()
                    .filter_map(|r| r.target())
                    .map(|o| o.to_string()),
            );
        }
        if !is_zero(old) {
            known.push(old.clone());
        }
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        allowed &= gate_range(&ledger, &state, new, &known, branch)?;
    }
    Ok(allowed)
}

/// Gate the commits reachable from `tip` but not from `known`: every task named by their
/// trailers must be approved at its newest commit among them.
fn gate_range(
    ledger: &Ledger,
    state: &State,
    tip: &str,
    known: &[&str],
    branch: &str,
) -> Result<bool, Error> {
    let repo = ledger.store().repo();
    let mut walk = repo.revwalk().map_err(store_error)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)
        .map_err(store_error)?;
    walk.push(Oid::from_str(tip).map_err(store_error)?)
        .map_err(store_error)?;
    for hide in known.iter().filter(|h| !is_zero(h)) {
        if let Ok(oid) = Oid::from_str(hide) {
            // A commit this repository does not have cannot be hidden; it is not in the range.
            let _ = walk.hide(oid);
        }
    }
    // Newest first: the first commit seen of a task is its newest in the range.
    let mut newest: Vec<(String, String)> = Vec::new();
    for oid in walk.flatten() {
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        if let Some(task) = commit.message().and_then(task_trailer)
            && !newest.iter().any(|(t, _)| *t == task)
        {
            newest.push((task, oid.to_string()));
        }
    }
    let mut allowed = true;
    for (task, commit) in newest {
        let found = crate::ledger::resolve(state, crate::event::EntityKind::Task, &task).ok();
        let Some(task) = found.and_then(|id| state.tasks.get(&id)) else {
            eprintln!(
                "git-ledger: push to {branch} refused: commit {} names unknown task {task}",
                &commit[..10]
            );
            allowed = false;
            continue;
        };
        let verdict = ledger.decide(state, Some(task), commit, Some(branch.to_string()));
        allowed &= report("push to", branch, &verdict);
    }
    Ok(allowed)
}

fn is_zero(hex: &str) -> bool {
    hex.bytes().all(|b| b == b'0')
}

fn store_error(e: git2::Error) -> Error {
    Error::Store(crate::store::Error::Git(e))
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
