//! What would land on a protected branch, and the gate's verdict on it: the one decision that
//! `gate check`, the merge hooks, `pre-push` and `pre-receive` share. Only the facts are
//! gathered here (which commits land, which task each belongs to, which approvals contain
//! them); the policy is [`crate::gate::decide`].

use super::error::InputError;
use super::reviews::{facts, task_trailer};
use super::{Error, Ledger, resolve};
use crate::event::EntityKind;
use crate::fold::state::State;
use crate::gate::{self, Landing, Request, TaskFacts, Verdict};
use crate::model::Review;
use git2::{Oid, Sort};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

impl Ledger {
    /// The gate's verdict on landing `revision` on `into` (default: the current branch).
    /// What is already on `into` (the local branch, else a remote's copy of it) has landed.
    pub fn gate_check(
        &self,
        state: &State,
        revision: &str,
        into: Option<&str>,
    ) -> Result<Verdict, Error> {
        let tip = Oid::from_str(&self.commit_of(revision)?).map_err(crate::store::Error::from)?;
        let into = match into {
            Some(into) => Some(into.to_string()),
            None => self.current_branch(),
        };
        let landed: Vec<Oid> = into
            .as_deref()
            .map(|into| self.branch_tips(into))
            .unwrap_or_default();
        self.decide_landing(state, None, &[tip], &landed, into.as_deref())
    }

    /// The tips of `branch` here: the local branch, else every remote's copy of it.
    pub fn branch_tips(&self, branch: &str) -> Vec<Oid> {
        let repo = self.store.repo();
        let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        if let Ok(oid) = repo.refname_to_id(&format!("refs/heads/{branch}")) {
            return vec![oid];
        }
        let Ok(remotes) = repo.remotes() else {
            return Vec::new();
        };
        remotes
            .iter()
            .flatten()
            .filter_map(|remote| {
                repo.refname_to_id(&format!("refs/remotes/{remote}/{branch}"))
                    .ok()
            })
            .collect()
    }

    /// The verdict on making `tips` reachable from `into`, where every commit reachable from
    /// `landed` is there already (it was gated when it got there). `state` is the fold of the
    /// writer refs at `ledger_tips` (`None`: this repository's refs), where the signatures of
    /// approvals are looked up when `ledger.gate.allowedSignersFile` asks for it.
    pub fn decide_landing(
        &self,
        state: &State,
        ledger_tips: Option<&[(String, Oid)]>,
        tips: &[Oid],
        landed: &[Oid],
        into: Option<&str>,
    ) -> Result<Verdict, Error> {
        let config = self.store.repo().config().ok();
        let flag = |key: &str| {
            config
                .as_ref()
                .and_then(|c| c.get_bool(key).ok())
                .unwrap_or(false)
        };
        let protected = into.is_some_and(|b| gate::is_protected(b, &self.protected_branches()));
        let (commits, mut tasks) = if protected {
            self.landing(state, tips, landed)?
        } else {
            (Vec::new(), Vec::new())
        };
        if let Some(signers) = self.allowed_signers() {
            let ledger_tips = match ledger_tips {
                Some(tips) => tips.to_vec(),
                None => self.store.writer_tips()?,
            };
            for task in &mut tasks {
                self.check_approval_signers(state, &ledger_tips, task, &signers);
            }
        }
        Ok(gate::decide(&Request {
            tip: tips.first().map(Oid::to_string).unwrap_or_default(),
            into: into.map(str::to_string),
            protected,
            allow_untracked: flag("ledger.gate.allowUntracked"),
            require_checks: flag("ledger.gate.requireChecks"),
            approvals_needed: self.approvals_needed()?,
            commits,
            tasks,
        }))
    }

    /// How many distinct reviewers each task needs (`ledger.gate.approvals`, default 1).
    fn approvals_needed(&self) -> Result<usize, Error> {
        const KEY: &str = "ledger.gate.approvals";
        match self.store.config_string(KEY) {
            None => Ok(1),
            Some(value) => match value.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(Error::Input(InputError::BadConfig {
                    key: KEY,
                    value,
                    expected: "a number of reviewers, 1 or more",
                    example: "2",
                })),
            },
        }
    }

    /// The allowed signers file of `ledger.gate.allowedSignersFile`, when set: a relative
    /// path is taken from the top of the work tree (of a bare repository, its directory).
    fn allowed_signers(&self) -> Option<PathBuf> {
        let config = self.store.repo().config().ok()?;
        let path = config.get_path("ledger.gate.allowedSignersFile").ok()?;
        Some(if path.is_absolute() {
            path
        } else {
            self.worktree.join(path)
        })
    }

    /// With an allowed signers file, an approval counts as the principal whose listed key
    /// signed the ledger commit holding it, or as no one.
    fn check_approval_signers(
        &self,
        state: &State,
        ledger_tips: &[(String, Oid)],
        facts: &mut TaskFacts,
        signers: &Path,
    ) {
        let Some(task) = resolve(state, EntityKind::Task, &facts.id)
            .ok()
            .and_then(|id| state.tasks.get(&id))
        else {
            return;
        };
        for approval in &mut facts.approvals {
            let Some(recorded) = task.approvals.iter().find(|a| a.by == approval.by) else {
                continue;
            };
            let name = format!("{}{}", crate::store::REF_PREFIX, recorded.writer);
            approval.reviewer = match ledger_tips.iter().find(|(n, _)| *n == name) {
                Some((_, tip)) => self.store.signer_of_event(*tip, &recorded.event, signers),
                None => Err("its event is not on its writer's ref".into()),
            };
        }
    }

    /// The commits reachable from `tips` and not from `landed` (newest first), and the facts
    /// of the tasks they belong to or are covered by.
    fn landing(
        &self,
        state: &State,
        tips: &[Oid],
        landed: &[Oid],
    ) -> Result<(Vec<Landing>, Vec<TaskFacts>), Error> {
        let repo = self.store.repo();
        let git = crate::store::Error::from;
        let range = |from: &[Oid]| -> Result<Vec<Oid>, Error> {
            let mut walk = repo.revwalk().map_err(git)?;
            walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
                .map_err(git)?;
            for tip in from {
                walk.push(*tip).map_err(git)?;
            }
            for oid in landed {
                // A commit this repository does not have cannot be hidden; nothing of it lands.
                let _ = walk.hide(*oid);
            }
            walk.map(|oid| oid.map_err(|e| git(e).into())).collect()
        };
        // The edge of a shallow clone: commits whose parents were not fetched.
        let shallow: Vec<Oid> = std::fs::read_to_string(repo.path().join("shallow"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| Oid::from_str(line.trim()).ok())
            .collect();
        // Parents before children, so that a commit without a trailer can take its parent's task.
        let mut task_of: HashMap<Oid, String> = HashMap::new();
        // Who authored each task's commits that land: their approvals of it do not count.
        let mut authors_of: HashMap<String, Vec<String>> = HashMap::new();
        let mut commits = Vec::new();
        for oid in range(tips)? {
            let commit = repo.find_commit(oid).map_err(git)?;
            let merge = commit.parent_count() > 1;
            let (task, unknown_task) = match commit.message().and_then(task_trailer) {
                Some(named) => match resolve(state, EntityKind::Task, &named) {
                    Ok(id) => (Some(id), None),
                    Err(_) => (None, Some(named)),
                },
                None if commit.parent_count() == 1 => (
                    commit
                        .parent_id(0)
                        .ok()
                        .and_then(|p| task_of.get(&p).cloned()),
                    None,
                ),
                None => (None, None),
            };
            if let Some(task) = &task {
                task_of.insert(oid, task.clone());
                let author = commit.author();
                let author = format!(
                    "{} <{}>",
                    String::from_utf8_lossy(author.name_bytes()),
                    String::from_utf8_lossy(author.email_bytes())
                );
                let authors = authors_of.entry(task.clone()).or_default();
                if !authors.contains(&author) {
                    authors.push(author);
                }
            }
            commits.push((oid, task, unknown_task, merge));
        }
        // Approvals of commits that land cover those commits and everything they contain.
        let landing: HashMap<String, Oid> = commits
            .iter()
            .map(|(oid, ..)| (oid.to_string(), *oid))
            .collect();
        let mut approvers: HashMap<Oid, Vec<String>> = HashMap::new();
        // The tasks the trailers name; every task only when some commit names none (its
        // approval may be another task's, made before the hooks that add trailers were in).
        let untracked = commits
            .iter()
            .any(|(_, task, unknown, merge)| task.is_none() && unknown.is_none() && !merge);
        let candidates: Vec<&crate::model::Task> = if untracked {
            state.tasks.iter().collect()
        } else {
            let mut ids: Vec<&String> = task_of.values().collect();
            ids.sort();
            ids.dedup();
            ids.into_iter()
                .filter_map(|id| state.tasks.get(id))
                .collect()
        };
        for task in candidates {
            let Review::Approved { commit, .. } = &task.review else {
                continue;
            };
            // Older writers kept abbreviations: those are looked for by prefix.
            let found = landing.get(commit).copied().or_else(|| {
                (commit.len() < 40)
                    .then(|| {
                        landing
                            .iter()
                            .find(|(hex, _)| hex.starts_with(commit.as_str()))
                            .map(|(_, oid)| *oid)
                    })
                    .flatten()
            });
            if let Some(oid) = found {
                approvers.entry(oid).or_default().push(task.id.clone());
            }
        }
        let mut covered: HashMap<Oid, Vec<String>> = HashMap::new();
        for (approved, tasks) in &approvers {
            for oid in range(&[*approved])? {
                covered
                    .entry(oid)
                    .or_default()
                    .extend(tasks.iter().cloned());
            }
        }
        // Newest first, as people read history; tasks in the order first met that way.
        commits.reverse();
        let mut named: Vec<String> = Vec::new();
        let mut landings = Vec::new();
        for (oid, task, unknown_task, merge) in commits {
            let cut = shallow.contains(&oid);
            let covered_by = covered.remove(&oid).unwrap_or_default();
            for id in task.iter().chain(&covered_by) {
                if !named.contains(id) {
                    named.push(id.clone());
                }
            }
            landings.push(Landing {
                commit: oid.to_string(),
                task: task.map(|id| state.short(&id)),
                unknown_task,
                merge,
                covered_by: covered_by.iter().map(|id| state.short(id)).collect(),
                cut,
            });
        }
        let tasks = named
            .iter()
            .filter_map(|id| state.tasks.get(id))
            .map(|task| {
                // Checks count at the task's newest commit that lands, else (a task that only
                // covers commits of none) at the commit it approved.
                let shown = state.short(&task.id);
                let at = landings
                    .iter()
                    .find(|l| l.task.as_deref() == Some(shown.as_str()))
                    .map(|l| l.commit.clone())
                    .or_else(|| {
                        approvers
                            .iter()
                            .find(|(_, tasks)| tasks.contains(&task.id))
                            .map(|(oid, _)| oid.to_string())
                    })
                    .unwrap_or_default();
                let mut facts = facts(state, task, &at);
                for author in authors_of.remove(&task.id).unwrap_or_default() {
                    if !facts.workers.iter().any(|(w, _)| *w == author) {
                        facts
                            .workers
                            .push((author, "authored commits under review"));
                    }
                }
                facts
            })
            .collect();
        Ok((landings, tasks))
    }
}
