//! The store: the only code that reads or writes `refs/ledger/*`.
//!
//! Layout (see `ledger-format.md`): each clone is a *writer* with its own append-only ref
//! `refs/ledger/v1/writers/<writer-id>`. Every append is one commit on that ref whose message
//! holds the events as canonical JSON lines, on the empty tree. A ref only moves fast-forward,
//! by compare-and-swap on its old tip. Readers take the union of all writer refs.

mod cache;
mod recent;
mod refresh;
mod signing;
mod stream;
mod sync;
mod upkeep;

pub use sync::{RefUpdate, SYNC_ATTEMPTS, SyncError, SyncReport};
pub use upkeep::GC_EVERY_COMMITS;

use crate::event::Event;
use git2::{ErrorCode, ObjectType, Oid, Repository, Signature};
use std::path::{Path, PathBuf};

pub const REF_PREFIX: &str = "refs/ledger/v1/writers/";
const WRITER_CONFIG_KEY: &str = "ledger.writer";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any parent up to the root): {0}")]
    NotARepository(PathBuf),
    #[error("the ledger is not initialised in this repository")]
    NotInitialised,
    #[error("the repository has no work tree (bare repository)")]
    Bare,
    #[error("another process moved the ledger ref; retrying")]
    Conflict,
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Signing(String),
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
}

/// Something wrong found while reading the ledger refs; reported, then skipped.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub reference: String,
    pub commit: String,
    pub message: String,
}

/// Everything read from the ledger refs at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// All events of all writers, deduplicated by id, in the ledger's total order.
    pub events: Vec<Event>,
    /// Commits or lines that could not be read as events.
    pub problems: Vec<Problem>,
    /// The tip of this clone's own writer ref, the base of the next compare-and-swap.
    pub own_tip: Option<Oid>,
    /// The writer tips read, so a later read can take only what was appended since.
    pub tips: Vec<(String, Oid)>,
    /// Commits read from this clone's own ref (what decides when to let git pack them).
    pub own_commits: usize,
}

/// An open repository with its ledger.
pub struct Store {
    repo: Repository,
    writer: Option<String>,
    /// The highest clock an event may carry to be read: this clone's clock plus the skew
    /// allowed (`ledger.maxClockSkewHours`, 24 by default). A forged clock far in the future
    /// would otherwise order every later event before it.
    horizon: u64,
}

/// How far ahead of this clone's clock an event's clock may be, by default.
const DEFAULT_SKEW_HOURS: u64 = 24;

/// [`Store::horizon`] for a repository's config.
fn horizon_of(repo: &Repository) -> u64 {
    let hours = repo
        .config()
        .ok()
        .and_then(|c| c.get_i64("ledger.maxClockSkewHours").ok())
        .and_then(|h| u64::try_from(h).ok())
        .unwrap_or(DEFAULT_SKEW_HOURS);
    // The later of the ledger's clock and the machine's: a clock pinned in the past (a
    // replay, a test) must not make honest events look forged.
    let now = crate::clock::now()
        .unwrap_or_else(|_| chrono::Utc::now())
        .max(chrono::Utc::now());
    u64::try_from(now.timestamp_millis())
        .unwrap_or(0)
        .saturating_add(hours.saturating_mul(3_600_000))
}

impl Store {
    /// Open the repository containing `dir` (any directory inside a work tree or worktree).
    pub fn discover(dir: &Path) -> Result<Store, Error> {
        Store::discover_in(dir, false)
    }

    /// Open the repository containing `dir`, a bare one too: for reading (a bare repository
    /// has no work tree, so no focus or session of its own, and no writer of its own).
    pub fn discover_any(dir: &Path) -> Result<Store, Error> {
        Store::discover_in(dir, true)
    }

    fn discover_in(dir: &Path, bare_too: bool) -> Result<Store, Error> {
        // Event ids are verified with blake3 on read, and git itself does not re-hash objects
        // it reads; libgit2's SHA-1 check would be a large part of a cold read.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(dir).map_err(|e| match e.code() {
            ErrorCode::NotFound => Error::NotARepository(dir.to_path_buf()),
            _ => Error::Git(e),
        })?;
        if repo.is_bare() && !bare_too {
            return Err(Error::Bare);
        }
        let writer = repo
            .config()?
            .get_string(WRITER_CONFIG_KEY)
            .ok()
            .filter(|w| valid_writer_id(w));
        let horizon = horizon_of(&repo);
        Ok(Store {
            repo,
            writer,
            horizon,
        })
    }

    /// This clone's writer id; an error until `init` ran.
    pub fn writer(&self) -> Result<&str, Error> {
        self.writer.as_deref().ok_or(Error::NotInitialised)
    }

    pub fn is_initialised(&self) -> bool {
        self.writer.is_some()
    }

    /// Create this clone's writer id (idempotent). Returns true when it was created now.
    pub fn init(&mut self, fresh_id: impl FnOnce() -> String) -> Result<bool, Error> {
        if self.writer.is_some() {
            return Ok(false);
        }
        let id = fresh_id();
        // The local (per-clone) config file, shared by all worktrees of the clone.
        let mut config = self.repo.config()?.open_level(git2::ConfigLevel::Local)?;
        config.set_str(WRITER_CONFIG_KEY, &id)?;
        self.writer = Some(id);
        Ok(true)
    }

    pub fn own_ref(&self) -> Result<String, Error> {
        Ok(format!("{REF_PREFIX}{}", self.writer()?))
    }

    /// The work tree this process runs in, as an absolute path: the scope of focus and sessions.
    pub fn worktree(&self) -> Result<PathBuf, Error> {
        let dir = self.repo.workdir().ok_or(Error::Bare)?;
        Ok(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
    }

    /// A value from git config (all levels), if set and valid UTF-8.
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo.config().ok()?.get_string(key).ok()
    }

    /// Every writer ref and its tip.
    pub fn writer_tips(&self) -> Result<Vec<(String, Oid)>, Error> {
        let mut tips = Vec::new();
        for reference in self.repo.references_glob(&format!("{REF_PREFIX}*"))? {
            let reference = reference?;
            let (Some(name), Some(target)) = (reference.name(), reference.target()) else {
                continue;
            };
            // Only what `sync` takes in and pushes: a ref under the prefix whose name is not
            // a writer id is never read (the server hook refuses it).
            let is_writer = name.strip_prefix(REF_PREFIX).is_some_and(valid_writer_id);
            if is_writer {
                tips.push((name.to_string(), target));
            }
        }
        tips.sort();
        Ok(tips)
    }

    /// Read every event of every writer.
    pub fn snapshot(&self) -> Result<Snapshot, Error> {
        self.snapshot_of(self.writer_tips()?)
    }

    /// Read every event reachable from the given writer tips (a server hook reads the tips a
    /// push is about to set, before they are set).
    ///
    /// Walking a chain is sequential (each commit names its parent), but decoding the events
    /// of the commits read (JSON, then BLAKE3 to check each id) is most of a cold read: it
    /// runs on the other cores meanwhile.
    pub fn snapshot_of(&self, tips: Vec<(String, Oid)>) -> Result<Snapshot, Error> {
        let odb = self.repo.odb()?;
        let own_ref = self.writer.as_ref().map(|w| format!("{REF_PREFIX}{w}"));
        let mut snapshot = Snapshot::default();
        // Problems with the position of their commit in the walk, to keep them in that order.
        let mut problems: Vec<(usize, Problem)> = Vec::new();
        let problem = |reference: &str, commit: Oid, message: String| Problem {
            reference: reference.to_string(),
            commit: commit.to_string(),
            message,
        };
        let (to_decode, read) = std::sync::mpsc::sync_channel::<Read>(32);
        let read = std::sync::Mutex::new(read);
        let (to_merge, done) = std::sync::mpsc::channel::<Decoded>();
        let horizon = self.horizon;
        let mut decoded: Vec<Decoded> = std::thread::scope(|scope| {
            // One decoder per core: the walk itself mostly waits on zlib and the disk.
            for _ in 0..crate::cores() {
                let (read, to_merge) = (&read, to_merge.clone());
                scope.spawn(move || {
                    // The lock is held while waiting for the next commit, not while decoding.
                    while let Some(commit) = read.lock().ok().and_then(|r| r.recv().ok()) {
                        if to_merge.send(decode_commit(commit, horizon)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(to_merge);
            let mut at = 0;
            for (reference, (name, tip)) in tips.iter().enumerate() {
                let own = Some(name) == own_ref.as_ref();
                if own {
                    snapshot.own_tip = Some(*tip);
                }
                let mut next = Some(*tip);
                while let Some(oid) = next {
                    snapshot.own_commits += usize::from(own);
                    let object = match read_commit(&odb, oid) {
                        Ok(object) => object,
                        Err(message) => {
                            problems.push((at, problem(name, oid, message)));
                            break;
                        }
                    };
                    let (parent, parents) = commit_parents(object.data());
                    if parents > 1 {
                        problems.push((at, problem(name, oid, merge_problem(oid, parents))));
                    }
                    next = parent;
                    let commit = Read {
                        at,
                        reference,
                        oid,
                        data: object.data().to_vec(),
                    };
                    if to_decode.send(commit).is_err() {
                        break;
                    }
                    at += 1;
                }
            }
            drop(to_decode);
            done.iter().collect()
        });
        decoded.sort_by_key(|commit| commit.at);
        for commit in decoded {
            let name = tips.get(commit.reference).map_or("", |(name, _)| name);
            commit.take_events(name, &mut snapshot.events, &mut problems);
        }
        // The same event read twice (from two writers' chains after an import) has the same
        // id, hence the same clock and writer: sorted, the copies are neighbours.
        snapshot.events.sort_by(|a, b| a.order(b));
        snapshot.events.dedup_by(|a, b| a.id == b.id);
        problems.sort_by_key(|(at, _)| *at);
        snapshot.problems = problems.into_iter().map(|(_, p)| p).collect();
        snapshot.tips = tips;
        Ok(snapshot)
    }

    /// Append `events` as one commit on this clone's writer ref, if its tip is still
    /// `expected`. Returns the new tip, or [`Error::Conflict`] when another process moved the
    /// ref first (the caller re-reads, re-validates and tries again).
    pub fn append(
        &self,
        events: &[Event],
        expected: Option<Oid>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<Oid, Error> {
        self.append_in_commits(events, events.len(), expected, time)
    }

    /// Append `events` as a chain of commits of at most `per_commit` events each, then move
    /// this clone's ref once, from `expected` to the last of them, by compare-and-swap: all of
    /// them appear, or none. Returns the new tip ([`Error::Conflict`] as for [`Store::append`]).
    pub fn append_in_commits(
        &self,
        events: &[Event],
        per_commit: usize,
        expected: Option<Oid>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<Oid, Error> {
        let refname = self.own_ref()?;
        let tree_oid = self.repo.treebuilder(None)?.write()?;
        let tree = self.repo.find_tree(tree_oid)?;
        let signature = self.signature(time)?;
        let odb = self.repo.odb()?;
        let signing_key = self.signing_key();
        let mut tip = expected;
        let mut written = Vec::new();
        for chunk in events.chunks(per_commit.max(1)) {
            let parent = tip.map(|oid| self.repo.find_commit(oid)).transpose()?;
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            let message = commit_message(chunk);
            let raw = self
                .repo
                .commit_create_buffer(&signature, &signature, &message, &tree, &parents)?;
            let (oid, data) = match &signing_key {
                None => (odb.write(ObjectType::Commit, &raw)?, raw.to_vec()),
                Some(key) => {
                    let signed = self.sign(key, &raw)?;
                    let content = std::str::from_utf8(&raw)
                        .map_err(|_| Error::Signing("a commit to sign is not UTF-8".into()))?;
                    let oid = self.repo.commit_signed(content, &signed, None)?;
                    (oid, odb.read(oid)?.data().to_vec())
                }
            };
            written.push((oid, data));
            tip = Some(oid);
        }
        let Some(tip) = tip.filter(|_| !events.is_empty()) else {
            return Err(Error::Git(git2::Error::from_str("nothing to append")));
        };
        let log = format!("ledger: append {} event(s)", events.len());
        // A true compare-and-swap, creation included: libgit2 compares the old value under the
        // ref's lock, and a zero old value means "must not exist yet". (Creating with
        // `force = false` checks existence before taking the lock, so two first appends could
        // both succeed and one of them be lost.)
        // Held while the ref moves, so that a ref lock found while holding it can only have
        // been left by a dead process (see `clear_stale_lock`). Another holder means another
        // append is moving the ref right now: the same as losing the race.
        let guard = match self.own_ref_guard() {
            Ok(Some(guard)) => Some(guard),
            Ok(None) => return Err(Error::Conflict),
            Err(_) => None,
        };
        let result = self
            .repo
            .reference_matching(&refname, tip, true, expected.unwrap_or(Oid::zero()), &log)
            .map(|_| ());
        drop(guard);
        match result {
            Ok(()) => {
                self.remember_recent(&written);
                Ok(tip)
            }
            Err(e) if is_race(&e) => Err(Error::Conflict),
            Err(e) => Err(Error::Git(e)),
        }
    }

    /// Who this process is, as git would say it: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, else
    /// `user.name`/`user.email`.
    pub fn identity(&self) -> (Option<String>, Option<String>) {
        let from_env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
        (
            from_env("GIT_AUTHOR_NAME").or_else(|| self.config_string("user.name")),
            from_env("GIT_AUTHOR_EMAIL").or_else(|| self.config_string("user.email")),
        )
    }

    fn signature(&self, time: chrono::DateTime<chrono::Utc>) -> Result<Signature<'static>, Error> {
        let (name, email) = self.identity();
        let name = name.unwrap_or_else(|| "git-ledger".into());
        let email = email.unwrap_or_else(|| "git-ledger@localhost".into());
        let when = git2::Time::new(time.timestamp(), 0);
        Ok(Signature::new(&name, &email, &when)
            .or_else(|_| Signature::new("git-ledger", "git-ledger@localhost", &when))?)
    }
}

/// The writer tips an audit last found intact, kept in `<git common dir>/ledger/`, so a later
/// audit can tell whether a ledger ref was rewritten or deleted since.
impl Store {
    fn checkpoint_path(&self) -> PathBuf {
        self.repo
            .commondir()
            .join("ledger")
            .join("audit-checkpoint")
    }

    /// The last checkpoint: (ref, tip) pairs. `Ok(None)` when there is none yet; unreadable
    /// lines are an error, so a damaged checkpoint is reported rather than ignored.
    pub fn read_checkpoint(&self) -> Result<Option<Vec<(String, Oid)>>, String> {
        let read = open_regular(&self.checkpoint_path(), false).and_then(|mut file| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).map(|_| text)
        });
        let text = match read {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the audit checkpoint: {e}")),
        };
        let mut tips = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let parsed = line
                .split_once(' ')
                .and_then(|(oid, name)| Some((name.to_string(), Oid::from_str(oid).ok()?)));
            match parsed {
                Some(tip) if tip.0.starts_with(REF_PREFIX) => tips.push(tip),
                _ => return Err(format!("the audit checkpoint is damaged at line {}", n + 1)),
            }
        }
        Ok(Some(tips))
    }

    /// Record `tips` as the new checkpoint (written to a temporary file, then renamed).
    pub fn write_checkpoint(&self, tips: &[(String, Oid)]) -> Result<(), std::io::Error> {
        let path = self.checkpoint_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text: String = tips
            .iter()
            .map(|(name, oid)| format!("{oid} {name}\n"))
            .collect();
        let temp = path.with_extension("tmp");
        std::fs::write(&temp, text)?;
        std::fs::rename(temp, path)
    }

    /// Whether `new` is `old` or has it in its history as a writer ref must: on its chain of
    /// first parents, with no merge on the way (readers follow first parents only, so history
    /// behind a second parent would be hidden from them).
    pub fn descends_from(&self, new: Oid, old: Oid) -> bool {
        matches!(self.chain_from(new, Some(old)), Ok(true))
    }

    /// Walk a writer ref's chain from `new` by first parents, until `old` (or the root when
    /// `old` is `None`). `Ok(true)` when it got there, `Ok(false)` when `old` is not on the
    /// chain, and the problem when a commit on the way is a merge or cannot be read.
    pub fn chain_from(&self, new: Oid, old: Option<Oid>) -> Result<bool, String> {
        let odb = self.repo.odb().map_err(|e| e.message().to_string())?;
        let mut next = Some(new);
        while let Some(oid) = next {
            if Some(oid) == old {
                return Ok(true);
            }
            let object = odb
                .read(oid)
                .map_err(|_| format!("commit {oid} cannot be read"))?;
            let (parent, parents) = commit_parents(object.data());
            if parents > 1 {
                return Err(merge_problem(oid, parents));
            }
            next = parent;
        }
        Ok(old.is_none())
    }
}

/// What git hooks need from the store.
impl Store {
    /// Open the repository git runs a hook in, from its environment (`GIT_DIR`, and the
    /// quarantine object directories of a push being received); bare repositories included.
    pub fn from_hook_env() -> Result<Store, Error> {
        git2::opts::strict_hash_verification(false);
        let repo = Repository::open_from_env().map_err(|e| match e.code() {
            ErrorCode::NotFound => Error::NotARepository(PathBuf::from(".")),
            _ => Error::Git(e),
        })?;
        let writer = repo
            .config()?
            .get_string(WRITER_CONFIG_KEY)
            .ok()
            .filter(|w| valid_writer_id(w));
        let horizon = horizon_of(&repo);
        Ok(Store {
            repo,
            writer,
            horizon,
        })
    }

    /// The repository, for git data other than the ledger (branches, commits, config).
    /// `refs/ledger/*` is read and written only through the store's own methods.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The highest clock among the newest events of all writers: reading one commit per
    /// writer is enough for an append that needs no validation (a hook recording a fact).
    pub fn newest_clock(&self) -> Result<(u64, Option<Oid>), Error> {
        let own_ref = self.own_ref().ok();
        let mut highest = 0;
        let mut own_tip = None;
        let odb = self.repo.odb()?;
        for (name, tip) in self.writer_tips()? {
            if Some(&name) == own_ref.as_ref() {
                own_tip = Some(tip);
            }
            let Ok(object) = odb.read(tip) else {
                continue;
            };
            let (_, lines) = parse_commit(object.data());
            for line in lines {
                let hlc = std::str::from_utf8(line)
                    .ok()
                    .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .and_then(|v| v.get("hlc").and_then(serde_json::Value::as_u64));
                // A clock beyond the horizon is one readers skip: it must not drag ours along.
                highest = highest.max(hlc.filter(|h| *h <= self.horizon).unwrap_or(0));
            }
        }
        Ok((highest, own_tip))
    }

    /// Check a ledger ref update a push proposes: it must not delete the ref or rewrite its
    /// history, and every new commit must hold well-formed events. Returns what is wrong.
    pub fn check_ledger_update(&self, name: &str, old: Oid, new: Oid) -> Vec<String> {
        if !name.strip_prefix(REF_PREFIX).is_some_and(valid_writer_id) {
            return vec![format!(
                "{name} is not a writer ref (expected {REF_PREFIX}<id>, an id of 4 to 40 lowercase hex digits)"
            )];
        }
        if new.is_zero() {
            return vec![format!("{name} may not be deleted")];
        }
        let odb = match self.repo.odb() {
            Ok(odb) => odb,
            Err(e) => return vec![format!("cannot read objects: {}", e.message())],
        };
        // Only commits: a blob or a tag here would be read by no client and fail every audit.
        match odb.read_header(new) {
            Ok((_, ObjectType::Commit)) => {}
            Ok((_, kind)) => return vec![format!("{name}: {new} is a {kind}, not a commit")],
            Err(e) => return vec![format!("{name}: {new} cannot be read: {}", e.message())],
        }
        let since = (!old.is_zero()).then_some(old);
        match self.chain_from(new, since) {
            Ok(true) => {}
            Err(problem) => return vec![format!("{name}: {problem}")],
            Ok(false) => {
                return vec![format!(
                    "{name} would be rewritten: {} is not in the history of {}",
                    crate::event::short_hex(&old.to_string()),
                    crate::event::short_hex(&new.to_string())
                )];
            }
        }
        let mut problems = Vec::new();
        // A server that requires signatures: every new commit signed by the writer's key.
        let key = self
            .require_signed()
            .then(|| self.registered_key(name, new))
            .map(|key| {
                key.ok_or_else(|| {
                    format!("{name}: its writer registered no signing key, and this server requires signed ledger commits (ledger.requireSigned)")
                })
            });
        if let Some(Err(problem)) = &key {
            return vec![problem.clone()];
        }
        let mut next = Some(new);
        while let Some(oid) = next.filter(|oid| *oid != old) {
            if let Some(Ok(key)) = &key
                && let Err(problem) = self.verify_signed_by(oid, key)
            {
                problems.push(format!("{name}: {problem}"));
            }
            let object = match odb.read(oid) {
                Ok(object) if object.kind() == ObjectType::Commit => object,
                Ok(object) => {
                    problems.push(format!(
                        "{name}: {oid} is a {}, not a commit",
                        object.kind()
                    ));
                    break;
                }
                Err(_) => {
                    problems.push(format!("{name}: commit {oid} cannot be read"));
                    break;
                }
            };
            let (parent, lines) = parse_commit(object.data());
            if lines.is_empty() {
                problems.push(format!(
                    "{name}: commit {} holds no events",
                    crate::event::short_hex(&oid.to_string())
                ));
            }
            for line in lines {
                let parsed = decode_line(line, self.horizon);
                if let Err(message) = parsed {
                    problems.push(format!(
                        "{name}: commit {}: {message}",
                        crate::event::short_hex(&oid.to_string())
                    ));
                }
            }
            next = parent;
        }
        problems
    }
}

/// Open one of the ledger's own files under `.git/ledger/`, for reading or (with `append`)
/// appending, only if it is a regular file. Anything else there (a FIFO, a device, a
/// directory) is damage: it is removed so that the next write replaces it, and reported as an
/// error. `O_NONBLOCK` keeps the open itself from waiting on a FIFO with no writer.
pub(crate) fn open_regular(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    if append {
        options.append(true).create(true);
    } else {
        options.read(true);
    }
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        // The flags' bits are small positive numbers.
        options.custom_flags((OFlags::NONBLOCK | OFlags::NOFOLLOW).bits() as i32);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(e),
        Err(e) => {
            // A FIFO opened for writing with no reader (ENXIO), a symlink (ELOOP), ...
            if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
                remove_damage(path);
            }
            return Err(e);
        }
    };
    if !file.metadata()?.is_file() {
        drop(file);
        remove_damage(path);
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Remove whatever sits at `path` in place of one of the ledger's files (best effort).
fn remove_damage(path: &Path) {
    if std::fs::remove_file(path).is_err() {
        let _ = std::fs::remove_dir_all(path);
    }
}

fn is_race(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists
    )
}

/// A writer id is what `init` makes: lowercase hex, used verbatim in a ref name.
pub fn valid_writer_id(id: &str) -> bool {
    (4..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// One stored event line as an event, or what is wrong with it (for a [`Problem`]): not
/// UTF-8, not an event, an id that does not match, a clock beyond `horizon`, or a field that
/// must hold a hash or an id holding something else.
fn decode_line(line: &[u8], horizon: u64) -> Result<Event, String> {
    let event = std::str::from_utf8(line)
        .map_err(|_| "an event line is not valid UTF-8".to_string())
        .and_then(|line| Event::from_line(line).map_err(|e| e.to_string()))?;
    if event.hlc > horizon {
        let hours = (event.hlc - horizon) / 3_600_000;
        return Err(format!(
            "event {}: its clock is more than {hours} h ahead of the allowed skew (ledger.maxClockSkewHours)",
            crate::event::short_hex(&event.id)
        ));
    }
    crate::event::kind::shape_errors(&event)?;
    Ok(event)
}

/// The commit message: a readable summary line, a blank line, one canonical JSON event a line.
pub fn commit_message(events: &[Event]) -> String {
    let summary = match events {
        [one] => {
            let subject = one.subject.as_deref().unwrap_or("-");
            format!(
                "{} {}: {}",
                one.kind,
                subject,
                crate::event::kind::describe(one)
            )
        }
        many => format!("ledger: {} events", many.len()),
    };
    // One line, whatever kind and subject hold: a line break would end the summary paragraph
    // early and let the rest of it be read as event lines.
    let mut message: String = summary
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    message.push_str("\n\n");
    for event in events {
        message.push_str(&event.to_line());
        message.push('\n');
    }
    message
}

/// A commit read from a chain, to decode.
struct Read {
    /// Its position in the walk.
    at: usize,
    /// Which of the tips it was reached from.
    reference: usize,
    oid: Oid,
    data: Vec<u8>,
}

/// A commit's events, decoded (or why a line could not be).
struct Decoded {
    at: usize,
    reference: usize,
    oid: Oid,
    events: Vec<Result<Event, String>>,
}

impl Decoded {
    /// Its events into `events`, and what could not be read of it into `problems` (with its
    /// position in the walk), for the ref `name` it was read from.
    fn take_events(
        self,
        name: &str,
        events: &mut impl Extend<Event>,
        problems: &mut Vec<(usize, Problem)>,
    ) {
        let problem = |message: String| Problem {
            reference: name.to_string(),
            commit: self.oid.to_string(),
            message,
        };
        if self.events.is_empty() {
            problems.push((self.at, problem("the commit holds no events".into())));
        }
        for parsed in self.events {
            match parsed {
                Ok(event) => events.extend([event]),
                Err(message) => problems.push((self.at, problem(message))),
            }
        }
    }
}

/// A commit object of a chain, or the problem to report when there is none (the rest of
/// the chain is skipped).
fn read_commit<'o>(odb: &'o git2::Odb<'_>, oid: Oid) -> Result<git2::OdbObject<'o>, String> {
    match odb.read(oid) {
        Ok(object) if object.kind() == ObjectType::Commit => Ok(object),
        Ok(_) => Err(NOT_A_COMMIT.into()),
        Err(e) => Err(format!(
            "cannot read the commit ({}); the rest of this ref is skipped",
            e.message()
        )),
    }
}

/// The problem of a ref that leads to an object that is not a commit.
const NOT_A_COMMIT: &str = "not a commit; the rest of this ref is skipped";

fn decode_commit(commit: Read, horizon: u64) -> Decoded {
    // The walk already took the parent from the header.
    let events = event_lines(&commit.data)
        .into_iter()
        .map(|line| decode_line(line, horizon))
        .collect();
    Decoded {
        at: commit.at,
        reference: commit.reference,
        oid: commit.oid,
        events,
    }
}

/// A raw commit object's header and message.
fn split_commit(data: &[u8]) -> (&[u8], &[u8]) {
    // memchr instead of byte-by-byte iterators: this runs for every commit of every read.
    match memchr::memmem::find(data, b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &data[data.len()..]),
    }
}

/// The first parent named in a raw commit object.
fn commit_parent(data: &[u8]) -> Option<Oid> {
    commit_parents(data).0
}

/// The first parent named in a raw commit object, and how many it names.
fn commit_parents(data: &[u8]) -> (Option<Oid>, usize) {
    let mut parents = split_lines(split_commit(data).0).filter_map(|l| l.strip_prefix(b"parent "));
    let first = parents
        .next()
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(|hex| Oid::from_str(hex.trim()).ok());
    (first, usize::from(first.is_some()) + parents.count())
}

/// What is wrong with a merge on a writer ref.
fn merge_problem(commit: Oid, parents: usize) -> String {
    format!(
        "commit {} has {parents} parents: a writer ref is a single chain (history behind a second parent is hidden from readers)",
        crate::event::short_hex(&commit.to_string())
    )
}

/// Split a raw commit object into its first parent and the event lines of its message.
pub(crate) fn parse_commit(data: &[u8]) -> (Option<Oid>, Vec<&[u8]>) {
    (commit_parent(data), event_lines(data))
}

/// The event lines of a raw commit object's message.
fn event_lines(data: &[u8]) -> Vec<&[u8]> {
    let message = split_commit(data).1;
    // Events start after the summary paragraph, one a line.
    let body = match memchr::memmem::find(message, b"\n\n") {
        Some(at) => &message[at + 2..],
        None => &message[message.len()..],
    };
    split_lines(body)
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect()
}

/// `data.split(|&b| b == b'\n')`, found with memchr.
fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    std::iter::from_fn(move || {
        let end = ends.next()?;
        let line = data.get(start..end)?;
        start = end + 1;
        Some(line)
    })
}
