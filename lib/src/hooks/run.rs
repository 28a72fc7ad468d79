//! What each hook does when git runs it.
//!
//! Observer hooks (prepare-commit-msg, post-checkout, post-merge) never fail or
//! block git: an internal error is one warning on stderr and exit 0. Gate hooks
//! (pre-merge-commit, pre-push, pre-receive) fail closed, saying what to do.

use super::CHAINED_SUFFIX;
use crate::event::EntityKind;
use crate::event::body::MergeRecorded;
use crate::fold::state::State;
use crate::gate::{self, Verdict};
use crate::ledger::{Error, Ledger};
use git2::Oid;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
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
    // Concluding a merge (`git commit` after a refused `git merge`, or `git merge
    // --no-verify`) runs no pre-merge-commit: the commit hook gates it, and fails closed.
    let gate = (name == "prepare-commit-msg" && super::concludes_merge(args))
        || matches!(name, "pre-merge-commit" | "pre-push" | "pre-receive");
    if chained != 0 && (gate || name == "prepare-commit-msg") {
        return chained;
    }
    let input = String::from_utf8_lossy(&stdin);
    let ours = match name {
        "prepare-commit-msg" => prepare_commit_msg(args),
        "post-checkout" => post_checkout(args),
        "post-merge" => post_merge(),
        "pre-merge-commit" => pre_merge_commit(),
        "pre-push" => pre_push(args, &input),
        "pre-receive" => pre_receive(&input),
        _ => Ok(true),
    };
    let ours = match ours {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) if gate => {
            crate::eprintln_safe!("git-ledger: {name}: {e}; refusing (the gate fails closed)");
            1
        }
        Err(e) => {
            crate::eprintln_safe!("git-ledger: {name}: {e} (ignored)");
            0
        }
    };
    if chained != 0 { chained } else { ours }
}

/// Run a hook that was installed before ours, with the same arguments and input.
pub(super) fn run_chained(path: &Path, args: &[String], stdin: &[u8]) -> i32 {
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
            crate::eprintln_safe!("git-ledger: cannot run {}: {e}", path.display());
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

/// The commit hook as `git-ledger` runs it: what `git-ledger-hook` does (see
/// [`super::commit`]), and, for an agent, a look at the ledger to warn it of a claim taken
/// over.
fn prepare_commit_msg(args: &[String]) -> Result<bool, Error> {
    if super::concludes_merge(args)
        && let Some(ledger) = ledger("prepare-commit-msg")?
        && !merge_gate(&ledger)?
    {
        return Ok(false);
    }
    let task = super::commit::note_commit(args)?;
    if let Some(task) = task
        && super::commit::agent_env().is_some()
        && let Some(ledger) = ledger("prepare-commit-msg")?
    {
        warn_if_taken_over(&ledger, &task, "commit")?;
    }
    Ok(true)
}

/// Fencing: an agent whose claim on the task was taken over by another holder (a later
/// epoch) is told that its work now competes with the new holder's. Only agents pay for the
/// look at the ledger; people's commits are not fenced.
fn warn_if_taken_over(ledger: &Ledger, task: &str, what: &str) -> Result<(), Error> {
    // Hooks record as `hook:<name>`; the agent committing is named by the environment.
    let Some(agent) = super::commit::agent_env() else {
        return Ok(());
    };
    let agent = format!("agent:{agent}");
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
        crate::eprintln_safe!(
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
    let body = MergeRecorded {
        branch: branch.to_string(),
        into: into.clone(),
        merge_commit: entry.id_new().to_string(),
    };
    ledger.observe(&task, body)?;
    crate::eprintln_safe!(
        "git-ledger: {branch} merged into {into}; when the work is finished: git ledger task done {task} --summary \"…\""
    );
    Ok(true)
}

/// Refuse a merge commit into a protected branch that the gate does not allow.
fn pre_merge_commit() -> Result<bool, Error> {
    match ledger("pre-merge-commit")? {
        Some(ledger) => merge_gate(&ledger),
        None => Ok(true),
    }
}

/// The gate on a merge being made into the current branch: what it brings in must be allowed
/// to land there.
fn merge_gate(ledger: &Ledger) -> Result<bool, Error> {
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
    let heads: Vec<Oid> = heads.iter().filter_map(|h| Oid::from_str(h).ok()).collect();
    if heads.is_empty() {
        return Ok(true);
    }
    let repo = ledger.store().repo();
    let landed: Vec<Oid> = repo
        .head()
        .ok()
        .and_then(|h| h.target())
        .into_iter()
        .collect();
    let state = ledger.load()?.state;
    let verdict = ledger.decide_landing(&state, None, &heads, &landed, Some(&into))?;
    Ok(report("merge into", &into, &verdict))
}

/// Print the verdict for people; true when allowed.
fn report(action: &str, target: &str, verdict: &Verdict) -> bool {
    for reason in &verdict.reasons {
        crate::eprintln_safe!(
            "git-ledger: {action} {target} refused: {}",
            reason.message()
        );
    }
    verdict.allowed
}

/// Refuse a push that brings commits the gate does not allow onto a protected branch of the
/// remote. What the remote's protected branches hold (as last fetched) has landed already.
fn pre_push(args: &[String], input: &str) -> Result<bool, Error> {
    let Some(ledger) = ledger("pre-push")? else {
        return Ok(true);
    };
    let protected = ledger.protected_branches();
    let repo = ledger.store().repo();
    let remote = args.first().map(String::as_str).unwrap_or("");
    let remote_protected = protected_tips(repo, &format!("refs/remotes/{remote}/"), &protected);
    let mut state: Option<State> = None;
    let mut allowed = true;
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote_ref, old] = fields[..] else {
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
        // The first push to a remote that has no branch yet: its history predates the gate.
        if is_zero(old) && remote_protected.is_none() {
            continue;
        }
        let mut landed = remote_protected.clone().unwrap_or_default();
        landed.extend(Oid::from_str(old).ok().filter(|o| !o.is_zero()));
        let state = match &state {
            Some(state) => state,
            None => state.insert(ledger.load()?.state),
        };
        let tip = Oid::from_str(local).map_err(store_error)?;
        let verdict = ledger.decide_landing(state, None, &[tip], &landed, Some(branch))?;
        allowed &= report("push to", branch, &verdict);
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
            crate::eprintln_safe!("git-ledger: refusing {name}: {problem}");
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
    let repo = store.repo();
    // What the protected branches hold was gated when it got there; unprotected branches
    // were not, so a commit on one of them is gated when it reaches a protected one.
    let landed = protected_tips(repo, "refs/heads/", &protected);
    let mut gated = Vec::new();
    for (old, new, name) in &updates {
        let Some(branch) = name.strip_prefix("refs/heads/") else {
            continue;
        };
        if !gate::is_protected(branch, &protected) {
            continue;
        }
        let (Ok(old), Ok(new)) = (Oid::from_str(old), Oid::from_str(new)) else {
            continue;
        };
        let forward =
            || old.is_zero() || old == new || repo.graph_descendant_of(new, old).unwrap_or(false);
        if new.is_zero() {
            crate::eprintln_safe!("git-ledger: {branch} is protected: it may not be deleted");
            allowed = false;
        } else if !forward() {
            crate::eprintln_safe!(
                "git-ledger: {branch} is protected: it may not be force-moved (the new tip does not contain the old one)"
            );
            allowed = false;
        } else if landed.is_some() {
            // (The first push to a server with no branch at all predates the gate.)
            gated.push((new, branch));
        }
    }
    if !allowed || gated.is_empty() {
        return Ok(allowed);
    }
    let ledger_tips: Vec<(String, Oid)> = tips.into_iter().collect();
    let state = State::from_events(store.snapshot_of(ledger_tips.clone())?.events);
    for (new, branch) in gated {
        let landed = landed.as_deref().unwrap_or_default();
        // The refs of this push, not yet in the repository's.
        let verdict =
            ledger.decide_landing(&state, Some(&ledger_tips), &[new], landed, Some(branch))?;
        allowed &= report("push to", branch, &verdict);
    }
    Ok(allowed)
}

/// The tips of the protected branches among the refs under `prefix` (`refs/heads/`, or a
/// remote's `refs/remotes/<name>/`): what has landed. `None` when there is no ref there at
/// all (a server, or a remote as last fetched, with no branch yet).
fn protected_tips(repo: &git2::Repository, prefix: &str, protected: &[String]) -> Option<Vec<Oid>> {
    let refs = repo.references_glob(&format!("{prefix}*")).ok()?;
    let mut any = false;
    let mut tips = Vec::new();
    for reference in refs.flatten() {
        any = true;
        let branch = reference.name().and_then(|n| n.strip_prefix(prefix));
        if let (Some(branch), Some(oid)) = (branch, reference.target())
            && gate::is_protected(branch, protected)
        {
            tips.push(oid);
        }
    }
    any.then_some(tips)
}

fn is_zero(hex: &str) -> bool {
    hex.bytes().all(|b| b == b'0')
}

fn store_error(e: git2::Error) -> Error {
    Error::Store(crate::store::Error::Git(e))
}
