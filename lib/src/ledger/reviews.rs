//! Reviews bound to commits, the merge gate's inputs, and the facts hooks record.

use super::error::{InputError, WorkError};
use super::{Error, Ledger, Loaded, backoff, text};
use crate::clock;
use crate::event::body::{BranchLinked, ReviewApproved, ReviewRejected, ReviewRequested};
use crate::event::{Body, EntityKind, Event};
use crate::fold::state::State;
use crate::gate::{self, TaskFacts};
use crate::model::{Review, Task, TaskStatus};
use crate::store::{self, Store};
use std::path::PathBuf;

/// The branches protected when `ledger.protect` is not set.
pub const DEFAULT_PROTECTED: &[&str] = &["main", "master"];

impl Ledger {
    /// Open the ledger of the repository a git hook runs in (bare repositories included).
    pub fn for_hook(hook: &str) -> Result<Ledger, Error> {
        let store = Store::from_hook_env()?;
        let writer = store.writer().unwrap_or("").to_string();
        let worktree = match store.repo().workdir() {
            Some(dir) => dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            None => store.repo().path().to_path_buf(),
        };
        Ok(Ledger::new(store, writer, worktree, format!("hook:{hook}")))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Record a fact a hook observed, without reading the whole ledger: the fact is checked
    /// when the ledger is folded (an unknown task makes it an orphan), so a hook stays cheap.
    pub fn observe(&self, subject: &str, body: impl Into<Body>) -> Result<(), Error> {
        let body = body.into();
        let kind = body.kind().unwrap_or("unknown");
        self.store.writer()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = clock::now()?;
            let (newest, own_tip) = self.store.newest_clock()?;
            let event = Event::seal(
                kind,
                clock::format(now),
                (now.timestamp_millis().max(0) as u64).max(newest.saturating_add(1)),
                &self.writer,
                std::env::var(super::SESSION_ENV)
                    .ok()
                    .filter(|s| !s.trim().is_empty()),
                &self.actor,
                Some(subject.to_string()),
                body.clone(),
            );
            match self.store.append(&[event], own_tip, now) {
                Ok(_) => return Ok(()),
                Err(store::Error::Conflict) if attempt < 200 => {
                    std::thread::sleep(backoff(attempt));
                    // A ref lock left by a process killed mid-update would block us forever.
                    self.store.clear_stale_lock();
                }
                Err(store::Error::Conflict) => return Err(Error::Busy(attempt)),
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn review_request(&self, input: Option<&str>) -> Result<(Loaded, Task), Error> {
        self.review_event(input, None, |commit| Ok(ReviewRequested { commit }.into()))
    }

    /// Approve a task at one exact commit: `commit` (any revision), else the tip of its branch.
    pub fn review_approve(
        &self,
        input: &str,
        commit: Option<&str>,
    ) -> Result<(Loaded, Task), Error> {
        self.review_event(Some(input), commit, |commit| match commit {
            Some(commit) => Ok(ReviewApproved { commit }.into()),
            None => Err(Error::Work(WorkError::NoBranch)),
        })
    }

    pub fn review_reject(
        &self,
        input: &str,
        commit: Option<&str>,
        reason: &str,
    ) -> Result<(Loaded, Task), Error> {
        let reason = text("reason", reason)?;
        self.review_event(Some(input), commit, |commit| {
            Ok(ReviewRejected {
                commit,
                reason: reason.clone(),
            }
            .into())
        })
    }

    fn review_event(
        &self,
        input: Option<&str>,
        revision: Option<&str>,
        draft: impl Fn(Option<String>) -> Result<Body, Error>,
    ) -> Result<(Loaded, Task), Error> {
        let explicit = revision.map(|r| self.commit_of(r)).transpose()?;
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_task(state, input)?;
            let task = state.tasks.get(&id).ok_or_else(|| {
                Error::Input(InputError::UnknownId {
                    kind: EntityKind::Task,
                    input: id.clone(),
                })
            })?;
            let commit = explicit
                .clone()
                .or_else(|| self.branch_tip(task).map(|(_, c)| c));
            batch.push(&id, draft(commit)?);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }

    /// A revision (branch, tag, abbreviated id) as a full commit id.
    pub fn commit_of(&self, revision: &str) -> Result<String, Error> {
        self.store
            .repo()
            .revparse_single(revision)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id().to_string())
            .map_err(|_| Error::Input(InputError::UnknownRevision(revision.to_string())))
    }

    /// The newest existing branch linked to the task (or named after it), and its tip.
    pub fn branch_tip(&self, task: &Task) -> Option<(String, String)> {
        let repo = self.store.repo();
        let mut candidates: Vec<String> = task.branches.iter().rev().cloned().collect();
        if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
            for (branch, _) in branches.flatten() {
                if let Ok(Some(name)) = branch.name()
                    && gate::task_of_branch(name).is_some_and(|prefix| task.id.starts_with(&prefix))
                    && !candidates.iter().any(|c| c == name)
                {
                    candidates.push(name.to_string());
                }
            }
        }
        candidates.into_iter().find_map(|name| {
            let commit = repo
                .find_branch(&name, git2::BranchType::Local)
                .ok()?
                .get()
                .peel_to_commit()
                .ok()?;
            Some((name, commit.id().to_string()))
        })
    }

    /// Protected branch patterns: every `ledger.protect` value, else main and master.
    pub fn protected_branches(&self) -> Vec<String> {
        let mut patterns = Vec::new();
        if let Ok(config) = self.store.repo().config()
            && let Ok(mut entries) = config.multivar("ledger.protect", None)
        {
            while let Some(Ok(entry)) = entries.next() {
                if let Some(value) = entry.value() {
                    patterns.extend(
                        value
                            .split([',', ' '])
                            .filter(|v| !v.is_empty())
                            .map(str::to_string),
                    );
                }
            }
        }
        if patterns.is_empty() {
            patterns = DEFAULT_PROTECTED.iter().map(|s| s.to_string()).collect();
        }
        patterns
    }

    /// Link a branch to a task, once: the linked branch names are remembered in
    /// `<git dir>/ledger/linked-branches` so checkouts do not record the link again.
    pub fn link_branch(&self, branch: &str, task: &str) -> Result<(), Error> {
        let marker = self
            .store
            .repo()
            .commondir()
            .join("ledger")
            .join("linked-branches");
        let known = std::fs::read_to_string(&marker).unwrap_or_default();
        if known.lines().any(|line| line == branch) {
            return Ok(());
        }
        self.observe(
            task,
            BranchLinked {
                branch: branch.to_string(),
            },
        )?;
        if let Some(dir) = marker.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Appended, not rewritten: processes linking other branches at the same time (agents
        // spawned in parallel) would otherwise drop each other's lines and link again.
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&marker)
            .and_then(|mut file| {
                use std::io::Write;
                file.write_all(format!("{branch}\n").as_bytes())
            });
        Ok(())
    }

    /// The branch checked out in this worktree, if any.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.store.repo().head().ok()?;
        head.is_branch()
            .then(|| head.shorthand().map(str::to_string))
            .flatten()
    }

    /// Where this worktree keeps the id of the task in focus, for hooks: a hint derived from
    /// the events (`task start` writes it, `task done` clears it), never the source of truth.
    pub fn focus_hint_path(&self) -> PathBuf {
        self.store.repo().path().join("ledger-focus")
    }
}

/// The value of a `Ledger-Task:` trailer in a commit message.
pub fn task_trailer(message: &str) -> Option<String> {
    message
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("Ledger-Task:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The facts the gate needs about a task whose commit `tip` would land.
pub fn facts(state: &State, task: &Task, tip: &str) -> TaskFacts {
    let (approved_commit, rejected) = match &task.review {
        Review::Approved { commit, .. } => (Some(commit.clone()), None),
        Review::Rejected { reason, .. } => (None, Some(reason.clone())),
        Review::None | Review::Requested { .. } => (None, None),
    };
    let approvals = match &task.review {
        Review::Approved { commit, .. } => task
            .approvals
            .iter()
            .filter(|a| a.commit == *commit)
            .map(|a| gate::Approval {
                by: a.by.clone(),
                reviewer: Ok(a.by.clone()),
            })
            .collect(),
        _ => Vec::new(),
    };
    // Who worked on it: who started or claimed it, wrote its notes, authored its commits.
    let mut workers: Vec<(String, &'static str)> = Vec::new();
    let mut add = |who: &str, how: &'static str| {
        if !workers.iter().any(|(w, _)| w == who) {
            workers.push((who.to_string(), how));
        }
    };
    for actor in &task.started_by {
        add(actor, "started it");
    }
    for (holder, _, _) in &task.claims.holders {
        add(holder, "claimed it");
    }
    for note in &task.notes {
        add(&note.actor, "wrote its notes");
    }
    for link in &task.commits {
        if let Some(author) = &link.author {
            add(author, "authored its commits");
        }
    }
    TaskFacts {
        id: state.short(&task.id),
        blocked: task.status == TaskStatus::Blocked,
        approved_commit,
        rejected,
        approvals,
        workers,
        unmet_dependencies: state
            .unmet_dependencies(task)
            .iter()
            .map(|d| state.short(d))
            .collect(),
        unpassed_checks: task.unpassed_checks(Some(tip)),
    }
}
