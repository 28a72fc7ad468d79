//! The merge gate: pure policy. Facts about a task and a commit go in, a verdict with every
//! reason comes out. No I/O, so it is tested without git.

use serde::Serialize;

/// What the gate knows about the task a branch or commit belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFacts {
    /// The task id as shown to people.
    pub id: String,
    pub blocked: bool,
    /// The commit a review approved, if the latest review approved one.
    pub approved_commit: Option<String>,
    /// The reason of the latest review, if it rejected.
    pub rejected: Option<String>,
    /// The approvals of `approved_commit`, one per actor, oldest first.
    pub approvals: Vec<Approval>,
    /// Who worked on the task, and how ("claimed it"): an actor (`agent:bot`, `human:Ann`) or a
    /// commit author (`Ann <ann@example.com>`). Their approvals of it do not count.
    pub workers: Vec<(String, &'static str)>,
    /// Dependencies that are not done (as shown to people).
    pub unmet_dependencies: Vec<String>,
    /// The task's validation rules without a passing result at the request's tip, one reason
    /// each (`Task::unpassed_checks`).
    pub unpassed_checks: Vec<String>,
}

/// One approval of the commit a task's latest review approved.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// The actor that recorded it (what `user.name` or `GIT_LEDGER_AGENT` said).
    pub by: String,
    /// Who it counts as: its actor, or, with `ledger.gate.allowedSignersFile`, the principal
    /// whose listed key signed the ledger commit that holds it; `Err` says why it counts as
    /// no one.
    pub reviewer: Result<String, String>,
}

/// One commit that would become reachable from the protected branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Landing {
    pub commit: String,
    /// The task it belongs to (as shown to people): the one its `Ledger-Task` trailer names,
    /// else, for a commit with one parent, its parent's when that lands too (a commit added
    /// on top of a task's work is that task's work).
    pub task: Option<String>,
    /// What a trailer named when it names no known task.
    pub unknown_task: Option<String>,
    /// Whether it is a merge (two parents or more): a merge of landing work carries no work
    /// of its own.
    pub merge: bool,
    /// The tasks (as shown) whose approved commit lands too and contains this commit.
    pub covered_by: Vec<String>,
    /// Whether its parents are not in this clone (the edge of a shallow clone): what lies
    /// below it is unknown.
    pub cut: bool,
}

/// What is being merged or pushed, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The commit that would land.
    pub tip: String,
    /// The branch it would land on, if known.
    pub into: Option<String>,
    /// Whether that branch is protected (`ledger.protect`).
    pub protected: bool,
    /// Whether commits of no task may land on a protected branch
    /// (`ledger.gate.allowUntracked`).
    pub allow_untracked: bool,
    /// Whether every validation rule of the task must pass at the tip
    /// (`ledger.gate.requireChecks`).
    pub require_checks: bool,
    /// How many distinct reviewers must approve each task (`ledger.gate.approvals`, at
    /// least 1).
    pub approvals_needed: usize,
    /// Every commit that would land, newest first.
    pub commits: Vec<Landing>,
    /// The tasks those commits belong to or are covered by, in the order first met.
    pub tasks: Vec<TaskFacts>,
}

/// Why the gate says no.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    NoTaskLinked {
        commit: String,
    },
    UnknownTask {
        commit: String,
        task: String,
    },
    HistoryCut {
        commit: String,
    },
    NotApproved {
        task: String,
    },
    Rejected {
        task: String,
        why: String,
    },
    ApprovedOtherCommit {
        task: String,
        approved: String,
        tip: String,
    },
    TooFewApprovals {
        task: String,
        approved: String,
        needed: usize,
        counted: usize,
        /// Why each approval that does not count was ignored.
        ignored: Vec<String>,
    },
    DependenciesNotDone {
        task: String,
        dependencies: Vec<String>,
    },
    TaskBlocked {
        task: String,
    },
    CheckNotPassing {
        task: String,
        check: String,
    },
}

impl Reason {
    /// One line for people, saying what to do.
    pub fn message(&self) -> String {
        match self {
            Reason::NoTaskLinked { commit } => format!(
                "commit {} is linked to no task (commit on a task/<id> branch so it carries a Ledger-Task trailer, or set ledger.gate.allowUntracked)",
                short(commit)
            ),
            Reason::HistoryCut { commit } => format!(
                "the history below commit {} is not in this clone (a shallow clone): fetch more of it (git fetch --deepen=1000) so the gate sees what lands",
                short(commit)
            ),
            Reason::UnknownTask { commit, task } => {
                format!("commit {} names unknown task {task}", short(commit))
            }
            Reason::NotApproved { task } => {
                format!("{task} is not approved (git ledger review approve {task})")
            }
            Reason::Rejected { task, why } => format!("{task} was rejected in review: {why}"),
            Reason::ApprovedOtherCommit {
                task,
                approved,
                tip,
            } => format!(
                "{task} was approved at {}, but the tip is {} (review the new commits)",
                short(approved),
                short(tip)
            ),
            Reason::TooFewApprovals {
                task,
                approved,
                needed,
                counted,
                ignored,
            } => {
                let mut line = format!(
                    "{task} has {counted} of the {needed} approval(s) it needs at {} (a reviewer who did not work on it approves with git ledger review approve {task})",
                    short(approved)
                );
                for why in ignored {
                    line.push_str("; ");
                    line.push_str(why);
                }
                line
            }
            Reason::DependenciesNotDone { task, dependencies } => {
                format!(
                    "{task} depends on tasks not done: {}",
                    dependencies.join(", ")
                )
            }
            Reason::TaskBlocked { task } => format!("{task} is blocked"),
            Reason::CheckNotPassing { task, check } => {
                format!("{task}: {check} (git ledger check run {task})")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    /// Every reason the request is refused; empty when allowed.
    pub reasons: Vec<Reason>,
    /// Why it is allowed, when it is (for the record and for people).
    pub note: String,
    /// Every approval of a landing task, and whether it counted.
    pub approvals: Vec<Weighed>,
}

/// One approval as the gate weighed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weighed {
    pub task: String,
    pub by: String,
    /// Who it counted as, when it counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// Why it did not count, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

impl Weighed {
    /// Why it was ignored, with whose approval it was, when it was.
    fn ignored_line(&self) -> Option<String> {
        let why = self.ignored.as_ref()?;
        Some(format!("{}'s approval does not count: {why}", self.by))
    }

    /// One line for people.
    pub fn message(&self) -> String {
        match (&self.reviewer, &self.ignored) {
            (Some(reviewer), _) if *reviewer == self.by => {
                format!("{}: approval by {} counted", self.task, self.by)
            }
            (Some(reviewer), _) => format!(
                "{}: approval by {} counted, as {reviewer}",
                self.task, self.by
            ),
            (None, why) => format!(
                "{}: approval by {} ignored: {}",
                self.task,
                self.by,
                why.as_deref().unwrap_or("it does not count")
            ),
        }
    }
}

/// Weigh a task's approvals: one does not count when its actor (or the principal that
/// signed it) worked on the task, when it counts as no one, or when its reviewer approved
/// already.
pub fn weigh(task: &TaskFacts) -> Vec<Weighed> {
    let mut counted: Vec<String> = Vec::new();
    task.approvals
        .iter()
        .map(|approval| {
            let worked = |identity: &str| {
                task.workers
                    .iter()
                    .find(|(worker, _)| same_person(worker, identity))
                    .map(|(worker, how)| format!("{worker} {how}"))
            };
            let verdict = match &approval.reviewer {
                Err(why) => Err(why.clone()),
                Ok(reviewer) => match worked(&approval.by).or_else(|| worked(reviewer)) {
                    Some(why) => Err(why),
                    None if counted.iter().any(|c| same_person(c, reviewer)) => {
                        Err(format!("{reviewer} approved already"))
                    }
                    None => {
                        counted.push(reviewer.clone());
                        Ok(reviewer.clone())
                    }
                },
            };
            let (reviewer, ignored) = match verdict {
                Ok(reviewer) => (Some(reviewer), None),
                Err(why) => (None, Some(why)),
            };
            Weighed {
                task: task.id.clone(),
                by: approval.by.clone(),
                reviewer,
                ignored,
            }
        })
        .collect()
}

/// Whether two identities name the same person: `human:Ann`, `agent:Ann`, `Ann` and
/// `Ann <ann@example.com>` all do (names compared without case, so that a change of case
/// does not make a worker a reviewer).
pub fn same_person(a: &str, b: &str) -> bool {
    fn name(identity: &str) -> &str {
        let name = identity
            .strip_prefix("human:")
            .or_else(|| identity.strip_prefix("agent:"))
            .unwrap_or(identity);
        match name.rfind(" <") {
            Some(at) if name.ends_with('>') => &name[..at],
            _ => name,
        }
        .trim()
    }
    let (a, b) = (name(a), name(b));
    !a.is_empty() && a.to_lowercase() == b.to_lowercase()
}

/// Decide. Unprotected targets always pass. On a protected one, every commit that would
/// land must be covered by an approval: the latest review of its task approved a commit
/// that lands and contains it. A commit of no task passes when an approval covers it, when
/// it is a merge, or when untracked commits are allowed. Each task that lands must have its
/// dependencies done and not be blocked; with `require_checks`, its validation rules must
/// pass at its approved commit.
pub fn decide(request: &Request) -> Verdict {
    if !request.protected {
        let target = request.into.as_deref().unwrap_or("this branch");
        return allowed(format!("{target} is not protected"));
    }
    let target = request.into.as_deref().unwrap_or("the branch");
    if request.commits.is_empty() {
        return allowed(format!("{} adds nothing to {target}", short(&request.tip)));
    }
    let mut reasons = Vec::new();
    let mut approvals = Vec::new();
    for task in &request.tasks {
        let own = || {
            request
                .commits
                .iter()
                .filter(|c| c.task.as_deref() == Some(task.id.as_str()))
        };
        match (&task.approved_commit, &task.rejected) {
            (_, Some(why)) => reasons.push(Reason::Rejected {
                task: task.id.clone(),
                why: why.clone(),
            }),
            (Some(approved), None) => {
                let weighed = weigh(task);
                let counted = weighed.iter().filter(|w| w.reviewer.is_some()).count();
                let needed = request.approvals_needed.max(1);
                if counted < needed {
                    reasons.push(Reason::TooFewApprovals {
                        task: task.id.clone(),
                        approved: approved.clone(),
                        needed,
                        counted,
                        ignored: weighed.iter().filter_map(Weighed::ignored_line).collect(),
                    });
                }
                approvals.extend(weighed);
                if let Some(uncovered) = own().find(|c| !c.covered_by.contains(&task.id)) {
                    reasons.push(Reason::ApprovedOtherCommit {
                        task: task.id.clone(),
                        approved: approved.clone(),
                        tip: uncovered.commit.clone(),
                    });
                }
            }
            (None, None) => reasons.push(Reason::NotApproved {
                task: task.id.clone(),
            }),
        }
        if !task.unmet_dependencies.is_empty() {
            reasons.push(Reason::DependenciesNotDone {
                task: task.id.clone(),
                dependencies: task.unmet_dependencies.clone(),
            });
        }
        if task.blocked {
            reasons.push(Reason::TaskBlocked {
                task: task.id.clone(),
            });
        }
        if request.require_checks {
            reasons.extend(
                task.unpassed_checks
                    .iter()
                    .map(|check| Reason::CheckNotPassing {
                        task: task.id.clone(),
                        check: check.clone(),
                    }),
            );
        }
    }
    if let Some(commit) = request.commits.iter().find(|c| c.cut) {
        reasons.push(Reason::HistoryCut {
            commit: commit.commit.clone(),
        });
    }
    for commit in &request.commits {
        if let Some(task) = &commit.unknown_task {
            reasons.push(Reason::UnknownTask {
                commit: commit.commit.clone(),
                task: task.clone(),
            });
        }
    }
    let untracked = request.commits.iter().find(|c| {
        c.task.is_none()
            && c.unknown_task.is_none()
            && !c.merge
            && !c.cut
            && c.covered_by.is_empty()
    });
    match untracked {
        Some(commit) if !request.allow_untracked => reasons.push(Reason::NoTaskLinked {
            commit: commit.commit.clone(),
        }),
        _ => {}
    }
    if !reasons.is_empty() {
        return Verdict {
            allowed: false,
            reasons,
            note: String::new(),
            approvals,
        };
    }
    let approved: Vec<String> = request
        .tasks
        .iter()
        .map(|t| {
            let at = t.approved_commit.as_deref().unwrap_or(&request.tip);
            let by: Vec<&str> = approvals
                .iter()
                .filter(|w| w.task == t.id)
                .filter_map(|w| w.reviewer.as_deref())
                .collect();
            format!("{} approved at {} by {}", t.id, short(at), by.join(", "))
        })
        .collect();
    let mut verdict = allowed(if approved.is_empty() {
        "no task linked; untracked commits are allowed".into()
    } else {
        approved.join("; ")
    });
    verdict.approvals = approvals;
    verdict
}

fn allowed(note: String) -> Verdict {
    Verdict {
        allowed: true,
        reasons: Vec::new(),
        note,
        approvals: Vec::new(),
    }
}

fn short(hex: &str) -> &str {
    crate::event::short_hex(hex)
}

/// Whether `branch` (short name, like `main`) is protected by the configured patterns
/// (exact names, or a trailing `*` for a prefix).
pub fn is_protected(branch: &str, patterns: &[String]) -> bool {
    let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => branch.starts_with(prefix),
        None => branch == p,
    })
}

/// The task a branch name points at: `task/<id>[-slug]` gives the id (`t-3f9a2c`), or `None`.
pub fn task_of_branch(branch: &str) -> Option<String> {
    let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    let rest = branch.strip_prefix("task/")?;
    let rest = rest.strip_prefix("t-").unwrap_or(rest);
    let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    let boundary = rest[hex.len()..].chars().next();
    (hex.len() >= 4 && matches!(boundary, None | Some('-') | Some('/') | Some('_')))
        .then(|| format!("t-{}", hex.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TaskFacts {
        TaskFacts {
            id: "t-abc123".into(),
            blocked: false,
            approved_commit: Some("c1".into()),
            rejected: None,
            approvals: vec![approval("human:Rev", Ok("human:Rev"))],
            workers: vec![
                ("agent:bot".into(), "claimed it"),
                (
                    "Ann <ann@example.com>".into(),
                    "authored commits under review",
                ),
            ],
            unmet_dependencies: vec![],
            unpassed_checks: vec![],
        }
    }

    fn approval(by: &str, reviewer: Result<&str, &str>) -> Approval {
        Approval {
            by: by.into(),
            reviewer: reviewer.map(str::to_string).map_err(str::to_string),
        }
    }

    #[test]
    fn approvals_of_those_who_worked_on_the_task_do_not_count() {
        let mut t = task();
        t.approvals = vec![
            approval("agent:bot", Ok("agent:bot")),
            approval("human:ann", Ok("human:ann")),
            // The actor is a stranger but the key that signed it is Ann's.
            approval("human:Zed", Ok("Ann")),
        ];
        let verdict = decide(&request(Some(t)));
        assert!(!verdict.allowed);
        assert_eq!(
            verdict.reasons,
            vec![Reason::TooFewApprovals {
                task: "t-abc123".into(),
                approved: "c1".into(),
                needed: 1,
                counted: 0,
                ignored: vec![
                    "agent:bot's approval does not count: agent:bot claimed it".into(),
                    "human:ann's approval does not count: Ann <ann@example.com> authored commits under review".into(),
                    "human:Zed's approval does not count: Ann <ann@example.com> authored commits under review".into(),
                ],
            }]
        );
        assert_eq!(verdict.approvals.len(), 3);
        assert!(verdict.approvals.iter().all(|w| w.reviewer.is_none()));
    }

    #[test]
    fn distinct_reviewers_are_counted_once_each() {
        let mut t = task();
        t.approvals = vec![
            approval("human:Rev", Ok("rev@example.com")),
            approval("human:Other", Ok("rev@example.com")),
            approval("human:Unsigned", Err("its ledger commit is not signed")),
        ];
        let mut r = request(Some(t.clone()));
        r.approvals_needed = 2;
        let verdict = decide(&r);
        assert!(matches!(
            verdict.reasons[..],
            [Reason::TooFewApprovals {
                counted: 1,
                needed: 2,
                ..
            }]
        ));
        assert_eq!(
            verdict.approvals[1].ignored.as_deref(),
            Some("rev@example.com approved already")
        );
        t.approvals
            .push(approval("human:Sam", Ok("sam@example.com")));
        let mut r = request(Some(t));
        r.approvals_needed = 2;
        let verdict = decide(&r);
        assert!(verdict.allowed, "{verdict:?}");
        assert_eq!(
            verdict.note,
            "t-abc123 approved at c1 by rev@example.com, sam@example.com"
        );
    }

    /// A request landing one commit `c1`, of `task` if given (covered when it approved c1).
    fn request(task: Option<TaskFacts>) -> Request {
        let commit = Landing {
            commit: "c1".into(),
            task: task.as_ref().map(|t| t.id.clone()),
            unknown_task: None,
            merge: false,
            covered_by: task
                .iter()
                .filter(|t| t.approved_commit.as_deref() == Some("c1"))
                .map(|t| t.id.clone())
                .collect(),
            cut: false,
        };
        Request {
            tip: "c1".into(),
            into: Some("main".into()),
            protected: true,
            allow_untracked: false,
            require_checks: false,
            approvals_needed: 1,
            commits: vec![commit],
            tasks: task.into_iter().collect(),
        }
    }

    #[test]
    fn approved_tip_passes() {
        assert!(decide(&request(Some(task()))).allowed);
    }

    #[test]
    fn every_reason_is_listed() {
        let mut t = task();
        t.approved_commit = Some("c0".into());
        t.blocked = true;
        t.unmet_dependencies = vec!["t-dep".into()];
        let verdict = decide(&request(Some(t)));
        assert!(!verdict.allowed);
        assert_eq!(verdict.reasons.len(), 3);
        assert!(matches!(
            verdict.reasons[0],
            Reason::ApprovedOtherCommit { .. }
        ));
        assert!(matches!(
            verdict.reasons[1],
            Reason::DependenciesNotDone { .. }
        ));
        assert!(matches!(verdict.reasons[2], Reason::TaskBlocked { .. }));
    }

    #[test]
    fn rejection_and_missing_review() {
        let mut t = task();
        t.rejected = Some("tests fail".into());
        assert_eq!(
            decide(&request(Some(t))).reasons,
            vec![Reason::Rejected {
                task: "t-abc123".into(),
                why: "tests fail".into()
            }]
        );
        let mut t = task();
        t.approved_commit = None;
        assert_eq!(
            decide(&request(Some(t))).reasons,
            vec![Reason::NotApproved {
                task: "t-abc123".into()
            }]
        );
    }

    #[test]
    fn checks_count_only_when_required() {
        let mut t = task();
        t.unpassed_checks = vec!["check \"cargo test\" has no passing result at c1".into()];
        let mut r = request(Some(t));
        assert!(decide(&r).allowed);
        r.require_checks = true;
        let verdict = decide(&r);
        assert!(!verdict.allowed);
        assert_eq!(
            verdict.reasons,
            vec![Reason::CheckNotPassing {
                task: "t-abc123".into(),
                check: "check \"cargo test\" has no passing result at c1".into()
            }]
        );
        let mut t = task();
        t.approved_commit = None;
        let mut r = request(Some(t));
        r.require_checks = true;
        assert_eq!(decide(&r).reasons.len(), 1, "review is still required");
    }

    #[test]
    fn every_landing_commit_needs_an_approval_that_contains_it() {
        // c2 (of the task) lands beside approved c1, whatever the order: refused.
        let mut r = request(Some(task()));
        r.commits.insert(
            0,
            Landing {
                commit: "c2".into(),
                task: Some("t-abc123".into()),
                unknown_task: None,
                merge: false,
                covered_by: vec![],
                cut: false,
            },
        );
        assert!(matches!(
            decide(&r).reasons[..],
            [Reason::ApprovedOtherCommit { ref tip, .. }] if tip == "c2"
        ));
        // A merge of covered work passes; a trailer naming no task never does.
        let mut r = request(Some(task()));
        r.commits.insert(
            0,
            Landing {
                commit: "m".into(),
                task: None,
                unknown_task: None,
                merge: true,
                covered_by: vec![],
                cut: false,
            },
        );
        assert!(decide(&r).allowed);
        r.commits[0].unknown_task = Some("t-gone".into());
        assert!(!decide(&r).allowed);
        // The edge of a shallow clone: what is below is unknown, so it is refused.
        let mut r = request(Some(task()));
        r.commits[0].cut = true;
        assert!(matches!(
            decide(&r).reasons[..],
            [Reason::HistoryCut { .. }]
        ));
        // Nothing new lands: nothing to refuse.
        let mut r = request(None);
        r.commits.clear();
        assert!(decide(&r).allowed);
    }

    #[test]
    fn untracked_and_unprotected() {
        assert_eq!(
            decide(&request(None)).reasons,
            vec![Reason::NoTaskLinked {
                commit: "c1".into()
            }]
        );
        let mut r = request(None);
        r.allow_untracked = true;
        assert!(decide(&r).allowed);
        let mut r = request(None);
        r.protected = false;
        assert!(decide(&r).allowed);
    }

    #[test]
    fn branch_names() {
        assert_eq!(
            task_of_branch("task/t-3f9a2c-fix-login").as_deref(),
            Some("t-3f9a2c")
        );
        assert_eq!(
            task_of_branch("refs/heads/task/3F9A2C").as_deref(),
            Some("t-3f9a2c")
        );
        assert_eq!(
            task_of_branch("task/t-3f9a2cdeadbeef").as_deref(),
            Some("t-3f9a2cdeadbeef")
        );
        assert_eq!(task_of_branch("task/t-3f9"), None);
        assert_eq!(task_of_branch("task/t-3f9a2cxyz"), None);
        assert_eq!(task_of_branch("feature/t-3f9a2c"), None);
        assert!(is_protected("main", &["main".into(), "release/*".into()]));
        assert!(is_protected(
            "refs/heads/release/1.0",
            &["main".into(), "release/*".into()]
        ));
        assert!(!is_protected("mainline", &["main".into()]));
    }
}
