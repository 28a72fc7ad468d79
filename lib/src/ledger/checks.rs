//! Validation rules as checks: run a task's command rules where its branch is checked out,
//! confirm its checklist items, and record every result pinned to the commit it holds for.

use super::error::{CheckError, InputError};
use super::{Error, Ledger, Loaded};
use crate::event::EntityKind;
use crate::event::body::CheckRecorded;
use crate::fold::state::State;
use crate::model::{Rule, RuleCheck, Task};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// How much of a command's output the event keeps, for people; the digest covers all of it.
pub const OUTPUT_TAIL_BYTES: usize = 2048;

/// One rule's result, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub rule: Rule,
    pub passed: bool,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The exit status; absent when the command ended by a signal, or for an item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tail: Option<String>,
}

/// What `check run` and `check confirm` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    pub task: String,
    pub commit: String,
    /// Where the commands ran (absent for a confirmed item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<PathBuf>,
    pub results: Vec<CheckOutcome>,
}

impl CheckRun {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }
}

/// Where each rule of a task stands at its tip (`check list`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckList {
    pub task: String,
    /// The commit the rules must pass at, if there is one.
    pub commit: Option<String>,
    pub rules: Vec<RuleCheck>,
}

impl Ledger {
    /// The commit a task's rules must pass at: the tip of its newest existing branch, else
    /// HEAD of this worktree.
    pub fn check_tip(&self, task: &Task) -> Option<String> {
        self.branch_tip(task)
            .map(|(_, commit)| commit)
            .or_else(|| head_commit(self.store().repo()))
    }

    /// Run every command rule of a task (default: the task in focus, or the agent's) with
    /// `sh -c` in the worktree holding its tip, and record each result in one commit.
    pub fn check_run(&self, input: Option<&str>) -> Result<(Loaded, CheckRun), Error> {
        let loaded = self.load()?;
        let id = self.find_task(&loaded.state, input)?;
        let task = task(&loaded.state, &id)?;
        let commands: Vec<Rule> = task
            .validation
            .iter()
            .filter(|r| matches!(r, Rule::Command(_)))
            .cloned()
            .collect();
        if task.validation.is_empty() {
            return Err(Error::Check(CheckError::NoRules(loaded.state.short(&id))));
        }
        if commands.is_empty() {
            return Err(Error::Check(CheckError::NoCommands(
                loaded.state.short(&id),
            )));
        }
        let (worktree, commit) = self.check_place(task)?;
        if has_changes(&worktree) {
            return Err(Error::Check(CheckError::DirtyWorktree(
                worktree.display().to_string(),
            )));
        }
        let mut results = Vec::new();
        for rule in commands {
            let ran = run_command(rule.text(), &worktree)?;
            results.push(CheckOutcome {
                passed: ran.status == Some(0),
                rule,
                commit: commit.clone(),
                duration_ms: Some(ran.duration_ms),
                exit_status: ran.status,
                output_digest: Some(ran.digest),
                output_tail: Some(ran.tail),
            });
        }
        let run = CheckRun {
            task: id,
            commit,
            worktree: Some(worktree),
            results,
        };
        self.record_results(run)
    }

    /// Record a checklist item of a task as confirmed (or failed) at the task's tip. `item` is
    /// the item's text or its number in `check list`.
    pub fn check_confirm(
        &self,
        input: Option<&str>,
        item: &str,
        passed: bool,
    ) -> Result<(Loaded, CheckRun), Error> {
        let loaded = self.load()?;
        let id = self.find_task(&loaded.state, input)?;
        let task = task(&loaded.state, &id)?;
        let short = loaded.state.short(&id);
        let items: Vec<&str> = task
            .validation
            .iter()
            .filter_map(|r| match r {
                Rule::Item(text) => Some(text.as_str()),
                Rule::Command(_) => None,
            })
            .collect();
        if task.validation.is_empty() {
            return Err(Error::Check(CheckError::NoRules(short)));
        }
        let wanted = item.trim();
        let by_number = wanted
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| task.validation.get(i));
        let rule = match by_number {
            Some(rule) => Some(rule),
            None => task.validation.iter().find(|r| r.text().trim() == wanted),
        };
        let rule = match rule {
            Some(rule @ Rule::Item(_)) => rule.clone(),
            _ => {
                return Err(Error::Check(CheckError::UnknownItem {
                    id: short,
                    item: wanted.to_string(),
                    items: items.iter().map(|s| s.to_string()).collect(),
                }));
            }
        };
        let commit = self
            .check_tip(task)
            .ok_or(Error::Check(CheckError::NoCommit))?;
        let run = CheckRun {
            task: id,
            commit: commit.clone(),
            worktree: None,
            results: vec![CheckOutcome {
                rule,
                passed,
                commit,
                duration_ms: None,
                exit_status: None,
                output_digest: None,
                output_tail: None,
            }],
        };
        self.record_results(run)
    }

    /// Where each rule of a task (default: the task in focus) stands at its tip.
    pub fn check_list(&self, input: Option<&str>) -> Result<(Loaded, CheckList), Error> {
        let loaded = self.load()?;
        let id = self.find_task(&loaded.state, input)?;
        let task = task(&loaded.state, &id)?;
        if task.validation.is_empty() {
            return Err(Error::Check(CheckError::NoRules(loaded.state.short(&id))));
        }
        let commit = self.check_tip(task);
        // Without a commit nothing can pass; an empty id matches no result.
        let rules = task.check_states(commit.as_deref().unwrap_or(""));
        Ok((
            loaded,
            CheckList {
                task: id,
                commit,
                rules,
            },
        ))
    }

    fn record_results(&self, run: CheckRun) -> Result<(Loaded, CheckRun), Error> {
        let (loaded, ()) = self.record(|_, batch| {
            for result in &run.results {
                let body = CheckRecorded {
                    rule: result.rule.clone(),
                    passed: result.passed,
                    commit: result.commit.clone(),
                    duration_ms: result.duration_ms,
                    output_digest: result.output_digest.clone(),
                    output_tail: result.output_tail.clone().filter(|t| !t.is_empty()),
                    // Recorded with the output; null when a signal ended the command.
                    exit_status: result
                        .output_digest
                        .as_ref()
                        .map(|_| result.exit_status.map(i64::from)),
                };
                batch.push(&run.task, body);
            }
            Ok(())
        })?;
        Ok((loaded, run))
    }

    /// The worktree a task's commands run in and the commit they run on: the worktree that
    /// has the task's branch checked out, else this worktree when the task has no branch.
    fn check_place(&self, task: &Task) -> Result<(PathBuf, String), Error> {
        match self.branch_tip(task) {
            Some((branch, commit)) => {
                let worktree = self
                    .worktree_with_branch(&branch)
                    .ok_or(Error::Check(CheckError::NotCheckedOut(branch)))?;
                Ok((worktree, commit))
            }
            None => {
                let commit =
                    head_commit(self.store().repo()).ok_or(Error::Check(CheckError::NoCommit))?;
                Ok((self.worktree().to_path_buf(), commit))
            }
        }
    }

    /// The worktree of this repository that has `branch` checked out: this one first, then
    /// the main one, then the linked ones.
    fn worktree_with_branch(&self, branch: &str) -> Option<PathBuf> {
        let wanted = format!("refs/heads/{branch}");
        let on_branch = |repo: &git2::Repository| {
            repo.head()
                .ok()
                .is_some_and(|head| head.name() == Some(wanted.as_str()))
        };
        let repo = self.store().repo();
        if on_branch(repo) {
            return Some(self.worktree().to_path_buf());
        }
        let mut others = Vec::new();
        if let Ok(main) = git2::Repository::open(repo.commondir()) {
            others.push(main);
        }
        if let Ok(names) = repo.worktrees() {
            for name in names.iter().flatten() {
                if let Ok(linked) = repo
                    .find_worktree(name)
                    .and_then(|w| git2::Repository::open_from_worktree(&w))
                {
                    others.push(linked);
                }
            }
        }
        others
            .iter()
            .find(|r| on_branch(r))
            .and_then(|r| r.workdir())
            .map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
    }
}

fn task<'a>(state: &'a State, id: &str) -> Result<&'a Task, Error> {
    state.tasks.get(id).ok_or_else(|| {
        Error::Input(InputError::UnknownId {
            kind: EntityKind::Task,
            input: id.to_string(),
        })
    })
}

/// The commit HEAD of a repository's worktree points at, if it has one.
fn head_commit(repo: &git2::Repository) -> Option<String> {
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    Some(commit.id().to_string())
}

/// Whether tracked files in a worktree differ from its HEAD (staged or not): a result
/// recorded there would be pinned to a commit it did not run on. Untracked files (build
/// output) are not counted.
fn has_changes(worktree: &Path) -> bool {
    let Ok(repo) = git2::Repository::open(worktree) else {
        return false;
    };
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    repo.statuses(Some(&mut options))
        .is_ok_and(|statuses| !statuses.is_empty())
}

/// A command that ran to its end.
struct Ran {
    /// Its exit status; `None` when a signal ended it.
    status: Option<i32>,
    duration_ms: u64,
    digest: String,
    tail: String,
}

/// Run one command with `sh -c` in `dir`, its standard output and error combined into one
/// stream, hashed as it is read; only the tail is kept in memory.
fn run_command(command: &str, dir: &Path) -> Result<Ran, Error> {
    let io = |source| Error::Io {
        what: format!("cannot run `{command}`"),
        source,
    };
    let (mut reader, writer) = std::io::pipe().map_err(io)?;
    let started = Instant::now();
    let mut child = {
        // The command holds the pipe's write ends until it is dropped: reading would never
        // see the end of the output while it lives.
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(command)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().map_err(io)?)
            .stderr(writer)
            // The command runs in `dir`, whatever repository this process was pointed at.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        sh.spawn().map_err(io)?
    };
    let mut hasher = blake3::Hasher::new();
    let mut tail: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buffer[..n]);
                tail.extend_from_slice(&buffer[..n]);
                if tail.len() > 2 * OUTPUT_TAIL_BYTES {
                    tail.drain(..tail.len() - OUTPUT_TAIL_BYTES);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io(e));
            }
        }
    }
    let status = child.wait().map_err(io)?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if tail.len() > OUTPUT_TAIL_BYTES {
        tail.drain(..tail.len() - OUTPUT_TAIL_BYTES);
    }
    // The cut may split a character; lossy decoding replaces the broken piece.
    let tail = String::from_utf8_lossy(&tail).into_owned();
    Ok(Ran {
        status: status.code(),
        duration_ms,
        digest: hasher.finalize().to_hex().to_string(),
        tail,
    })
}
