//! Sync: exchange writer refs with a remote through the `git` binary, without ever rewriting
//! local history.
//!
//! A plain `git fetch <remote> 'refs/ledger/*:refs/ledger/*'` would also move this clone's own
//! ref to whatever the remote holds for it when that is a fast-forward, and fails half-way
//! through on a rewritten ref. Sync fetches into a private namespace instead, checks every
//! incoming ref against ours before anything moves, and only then fast-forwards, by
//! compare-and-swap, the refs of other writers. This clone's own ref is only ever pushed.

use super::{Error, REF_PREFIX, Store, valid_writer_id};
use git2::{ErrorCode, Oid};
use serde::Serialize;
use std::collections::HashMap;
use std::ffi::OsString;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Where a sync fetches to before checking; one namespace per run, removed afterwards.
/// Outside `refs/ledger/`, so neither readers nor a plain `refs/ledger/*` push ever see it.
const INCOMING_PREFIX: &str = "refs/ledger-incoming/";

/// A namespace this old belongs to a sync that was killed before it could remove it.
const STALE_INCOMING: Duration = Duration::from_secs(3600);
/// Rounds of fetch, take in and push before a sync whose push keeps racing gives up.
pub const SYNC_ATTEMPTS: u32 = 5;

/// One ref that moved: created (`old` absent) or fast-forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefUpdate {
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    pub new: String,
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub remote: String,
    /// Writer refs the remote has.
    pub fetched: usize,
    /// Writer refs of other clones seen here for the first time.
    pub created: Vec<RefUpdate>,
    /// Writer refs of other clones moved forward to the remote's copy.
    pub updated: Vec<RefUpdate>,
    /// Refs under the remote's `refs/ledger/v1/writers/` that are not writer refs (ignored).
    pub ignored: Vec<String>,
    /// Refs the remote accepted from us (new there, or moved forward).
    pub pushed: Vec<RefUpdate>,
    /// Whether the push step ran (`--no-push` skips it).
    pub push: bool,
}

/// Why a sync refused or failed. Nothing local has moved when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("'{0}' is not a remote: a remote name or URL may not be empty or start with '-'")]
    BadRemote(String),
    #[error("git {command} {remote} failed: {message}")]
    Git {
        command: &'static str,
        remote: String,
        message: String,
    },
    #[error(
        "the remote's copy of {} does not continue ours: its history was rewritten (force-pushed?); nothing was changed",
        refs.join(", ")
    )]
    RewrittenRemoteRef { remote: String, refs: Vec<String> },
    #[error(
        "the remote's copy of this clone's ledger ref ({reference}) is not an ancestor of ours; nothing was changed"
    )]
    OwnRefNotAncestor { remote: String, reference: String },
    #[error(
        "the remote's copy of {reference} is not a single chain of commits: {problem}; nothing was changed"
    )]
    MergeOnWriterRef {
        remote: String,
        reference: String,
        problem: String,
    },
    #[error("{remote} refused the push of {}: {message}", refs.join(", "))]
    PushRejected {
        remote: String,
        refs: Vec<String>,
        message: String,
    },
}

/// How one incoming writer ref relates to ours.
enum Plan {
    Unchanged,
    Create,
    FastForward(Oid),
}

/// Removes the incoming namespace of one sync, whatever happened.
struct Incoming<'a> {
    store: &'a Store,
    prefix: String,
}

impl Drop for Incoming<'_> {
    fn drop(&mut self) {
        if let Ok(refs) = self
            .store
            .repo
            .references_glob(&format!("{}*", self.prefix))
        {
            for mut reference in refs.flatten() {
                let _ = reference.delete();
            }
        }
    }
}

impl Store {
    /// Fetch the writer refs of `remote`, take in those of other clones that moved forward,
    /// refuse (changing nothing) if any copy there rewrites history, then push ours unless
    /// `push` is false.
    ///
    /// A push the remote refused because its refs moved while we pushed (another worktree
    /// or clone syncing at the same moment) is retried from the fetch; a push its hook
    /// declined is not, as asking again gets the same answer.
    pub fn sync(&self, remote: &str, push: bool) -> Result<SyncReport, Error> {
        if remote.trim().is_empty() || remote.starts_with('-') {
            return Err(SyncError::BadRemote(remote.to_string()).into());
        }
        let mut report = SyncReport {
            remote: remote.to_string(),
            push,
            ..SyncReport::default()
        };
        let mut attempt = 1;
        loop {
            match self.sync_once(remote, &mut report) {
                Err(Error::Sync(SyncError::PushRejected { ref message, .. }))
                    if attempt < SYNC_ATTEMPTS && !message.contains("hook declined") =>
                {
                    attempt += 1;
                    // Spread the racers apart so the next round does not collide again.
                    let spread = u64::try_from(nanos_now() % 25_000_000).unwrap_or(0);
                    std::thread::sleep(
                        Duration::from_millis(10 * u64::from(attempt))
                            + Duration::from_nanos(spread),
                    );
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(report),
            }
        }
    }

    /// One round of [`Store::sync`]; what it takes in is added to `report`, so a retried
    /// round reports what every round did.
    fn sync_once(&self, remote: &str, report: &mut SyncReport) -> Result<(), Error> {
        let own = self.own_ref()?;
        let push = report.push;
        report.fetched = 0;
        report.ignored.clear();
        self.clear_stale_incoming();
        let incoming = Incoming {
            store: self,
            prefix: format!("{INCOMING_PREFIX}{}-{:x}/", std::process::id(), nanos_now()),
        };
        // Not forced: the namespace is new, and nothing may ever be overwritten.
        let refspec = format!("{REF_PREFIX}*:{}*", incoming.prefix);
        self.run_git(
            "fetch",
            remote,
            &["fetch", "--quiet", "--no-tags"],
            &refspec,
        )?;

        // Check everything before anything moves: a refusal leaves every local ref as it was.
        let mut plans = Vec::new();
        let mut rewritten = Vec::new();
        let mut theirs_before = HashMap::new();
        for reference in self
            .repo
            .references_glob(&format!("{}*", incoming.prefix))?
        {
            let reference = reference?;
            let (Some(name), Some(theirs)) = (reference.name(), reference.target()) else {
                continue;
            };
            let writer = name.strip_prefix(&incoming.prefix).unwrap_or(name);
            let target = format!("{REF_PREFIX}{writer}");
            if !valid_writer_id(writer) {
                report.ignored.push(target);
                continue;
            }
            report.fetched += 1;
            theirs_before.insert(target.clone(), theirs);
            let ours = self.repo.refname_to_id(&target).ok();
            if target == own {
                // Our own ref is only ever moved by our appends: the remote may be behind.
                let behind = ours.is_some_and(|ours| self.descends_from(ours, theirs));
                if !behind {
                    return Err(SyncError::OwnRefNotAncestor {
                        remote: remote.to_string(),
                        reference: target,
                    }
                    .into());
                }
                continue;
            }
            let plan = match self.plan(ours, theirs) {
                Ok(plan) => plan,
                Err(problem) => {
                    return Err(SyncError::MergeOnWriterRef {
                        remote: remote.to_string(),
                        reference: target,
                        problem,
                    }
                    .into());
                }
            };
            match plan {
                Some(plan) => plans.push((target, theirs, plan)),
                None => rewritten.push(target),
            }
        }
        if !rewritten.is_empty() {
            return Err(SyncError::RewrittenRemoteRef {
                remote: remote.to_string(),
                refs: rewritten,
            }
            .into());
        }

        let log = format!("ledger: sync from {remote}");
        for (target, theirs, plan) in plans {
            if let Some(update) = self.take_in(&target, theirs, plan, &log, remote)? {
                if update.old.is_some() {
                    report.updated.push(update);
                } else {
                    report.created.push(update);
                }
            }
        }
        drop(incoming);

        if push && !self.writer_tips()?.is_empty() {
            report.pushed = self.push_writer_refs(remote, &theirs_before)?;
        }
        Ok(())
    }

    /// Remove the incoming namespaces no live sync owns: those whose process is gone, those
    /// older than an hour (the pid may have been reused), and names no sync writes. Each
    /// namespace is named `<pid>-<start nanos, hex>/`, so they do not keep fetched objects
    /// alive, and a hand-made ref there is not left to confuse a later sync.
    fn clear_stale_incoming(&self) {
        let Ok(refs) = self.repo.references_glob(&format!("{INCOMING_PREFIX}*")) else {
            return;
        };
        let now = nanos_now();
        for mut reference in refs.flatten() {
            let owner = reference
                .name()
                .and_then(|n| n.strip_prefix(INCOMING_PREFIX))
                .and_then(|rest| rest.split('/').next())
                .and_then(|namespace| namespace.split_once('-'))
                .and_then(|(pid, hex)| {
                    Some((
                        pid.parse::<u32>().ok()?,
                        u128::from_str_radix(hex, 16).ok()?,
                    ))
                });
            let live = owner.is_some_and(|(pid, started)| {
                now.saturating_sub(started) <= STALE_INCOMING.as_nanos() && process_alive(pid)
            });
            if !live {
                let _ = reference.delete();
            }
        }
    }

    /// How to take in the remote's copy `theirs` of a ref we hold at `ours`: `None` when the
    /// two histories diverge (one of them was rewritten), the problem when what we would take
    /// in is not a single chain (readers follow first parents only).
    fn plan(&self, ours: Option<Oid>, theirs: Oid) -> Result<Option<Plan>, String> {
        // Equal, or the remote is behind (the push brings it up to date).
        if let Some(ours) = ours
            && self.descends_from(ours, theirs)
        {
            return Ok(Some(Plan::Unchanged));
        }
        // One walk of what is new: to `ours` (or the root), checking each commit on the way.
        Ok(match (ours, self.chain_from(theirs, ours)?) {
            (None, _) => Some(Plan::Create),
            (Some(ours), true) => Some(Plan::FastForward(ours)),
            (Some(_), false) => None,
        })
    }

    /// Move `target` to `theirs` by compare-and-swap; if another process moved it meanwhile
    /// (a concurrent sync), look again.
    fn take_in(
        &self,
        target: &str,
        theirs: Oid,
        mut plan: Plan,
        log: &str,
        remote: &str,
    ) -> Result<Option<RefUpdate>, Error> {
        for _ in 0..8 {
            let result = match plan {
                Plan::Unchanged => return Ok(None),
                // Zero: the ref must not exist yet, checked under its lock (a true CAS).
                Plan::Create => self
                    .repo
                    .reference_matching(target, theirs, true, Oid::zero(), log)
                    .map(|_| None),
                Plan::FastForward(ours) => self
                    .repo
                    .reference_matching(target, theirs, true, ours, log)
                    .map(|_| Some(ours)),
            };
            match result {
                Ok(old) => {
                    return Ok(Some(RefUpdate {
                        reference: target.to_string(),
                        old: old.map(|o: Oid| o.to_string()),
                        new: theirs.to_string(),
                    }));
                }
                Err(e)
                    if matches!(
                        e.code(),
                        ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists
                    ) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    let ours = self.repo.refname_to_id(target).ok();
                    plan = self
                        .plan(ours, theirs)
                        .map_err(|problem| SyncError::MergeOnWriterRef {
                            remote: remote.to_string(),
                            reference: target.to_string(),
                            problem,
                        })?
                        .ok_or_else(|| SyncError::RewrittenRemoteRef {
                            remote: remote.to_string(),
                            refs: vec![target.to_string()],
                        })?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict)
    }

    /// `git push` every local writer ref, never forced; returns what the remote accepted.
    fn push_writer_refs(
        &self,
        remote: &str,
        theirs_before: &HashMap<String, Oid>,
    ) -> Result<Vec<RefUpdate>, Error> {
        let refspec = format!("{REF_PREFIX}*:{REF_PREFIX}*");
        let output = self.git_output(&["push", "--porcelain"], remote, &refspec)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut pushed = Vec::new();
        let mut rejected = Vec::new();
        // --porcelain: "<flag>\t<from>:<to>\t<summary>"; ' ' fast-forward, '*' new, '!' refused.
        for line in stdout.lines() {
            let mut fields = line.splitn(3, '\t');
            let (Some(flag), Some(refs), summary) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let reference = refs.split(':').next_back().unwrap_or(refs).to_string();
            match flag {
                " " | "*" => {
                    let old = theirs_before.get(&reference).map(Oid::to_string);
                    let new = self
                        .repo
                        .refname_to_id(&reference)
                        .map(|o| o.to_string())
                        .unwrap_or_default();
                    pushed.push(RefUpdate {
                        reference,
                        old,
                        new,
                    });
                }
                "!" => rejected.push((reference, summary.unwrap_or("").to_string())),
                _ => {}
            }
        }
        if !rejected.is_empty() || !output.status.success() {
            // What git said per ref, then what the remote's hooks said, if anything.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let mut message = rejected
                .iter()
                .map(|(_, why)| why.clone())
                .chain(
                    stderr
                        .lines()
                        .map(str::trim)
                        .filter(|l| l.starts_with("remote: ") && l.len() > "remote: ".len())
                        .map(str::to_string),
                )
                .collect::<Vec<_>>()
                .join("; ");
            if message.is_empty() {
                message = git_message(&output.stderr);
            }
            if rejected.is_empty() {
                return Err(SyncError::Git {
                    command: "push",
                    remote: remote.to_string(),
                    message,
                }
                .into());
            }
            return Err(SyncError::PushRejected {
                remote: remote.to_string(),
                refs: rejected.into_iter().map(|(r, _)| r).collect(),
                message,
            }
            .into());
        }
        Ok(pushed)
    }

    /// Run a git command that must succeed.
    fn run_git(
        &self,
        command: &'static str,
        remote: &str,
        args: &[&str],
        refspec: &str,
    ) -> Result<Output, Error> {
        let output = self.git_output(args, remote, refspec)?;
        if !output.status.success() {
            return Err(SyncError::Git {
                command,
                remote: remote.to_string(),
                message: git_message(&output.stderr),
            }
            .into());
        }
        Ok(output)
    }

    /// `git --git-dir=<this repository> <args> --end-of-options <remote> <refspec>`: each
    /// argument passed as is, no shell, and the remote can never be read as an option.
    fn git_output(&self, args: &[&str], remote: &str, refspec: &str) -> Result<Output, Error> {
        let mut git_dir = OsString::from("--git-dir=");
        git_dir.push(self.repo.path());
        Command::new("git")
            .arg(git_dir)
            .args(args)
            .arg("--end-of-options")
            .arg(remote)
            .arg(refspec)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                SyncError::Git {
                    command: if args.first() == Some(&"push") {
                        "push"
                    } else {
                        "fetch"
                    },
                    remote: remote.to_string(),
                    message: format!("cannot run git: {e}"),
                }
                .into()
            })
    }
}

/// Nanoseconds since the Unix epoch (0 if the clock is before it).
fn nanos_now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The lines of git's stderr that say what went wrong, on one line.
fn git_message(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let errors: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("fatal: ")
                .or_else(|| l.strip_prefix("error: "))
        })
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if errors.is_empty() {
        text.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message")
            .to_string()
    } else {
        errors.join("; ")
    }
}

/// Whether process `pid` still runs (it may be another process that reused the pid; the
/// age limit covers that). Signal 0 checks without sending anything.
fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // Not allowed to signal it (EPERM) still means it exists.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}
