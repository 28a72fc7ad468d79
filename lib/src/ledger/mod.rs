//! The ledger's operations: read the state, validate a request against it, append events.
//!
//! Every write goes through [`Ledger::record`]: read all writer refs, fold them, let the
//! operation validate and draft its events, seal them, and compare-and-swap them onto this
//! clone's ref. If another process moved the ref in between, everything is redone against the
//! new tip, so a validation never passes on stale state and no event is lost.

mod agents;
mod audit;
mod checks;
mod claims;
pub mod commits;
mod compaction;
mod cost;
mod decisions;
mod error;
mod import;
mod insights;
mod instructions;
mod landing;
mod plan;
mod retry;
mod reviews;
mod search;
mod sessions;
mod supervise;
mod sync;
mod work;

pub use agents::{AgentEnd, AgentInput};
pub use audit::{AuditReport, Check, Notices};
pub use checks::{CheckList, CheckOutcome, CheckRun, OUTPUT_TAIL_BYTES};
pub use claims::{DEFAULT_LEASE_SECONDS, parse_lease};
pub use compaction::parse_before;
pub use cost::{UsageInput, parse_cost};
pub use error::{
    AgentError, CheckError, CompactionError, Error, FileError, Fix, InputError, SessionError,
    WorkError,
};
pub use import::{IMPORT_EVENTS_PER_COMMIT, ImportFormat, ImportReport};
pub use instructions::Instructions;
pub use plan::{PlanReport, plan_views, read_plan};
pub use reviews::{DEFAULT_PROTECTED, facts, task_trailer};
pub use sessions::ResumeContext;
pub use supervise::{Renewal, Supervise, Termination, signal_name};
pub use sync::SyncOutcome;
pub use work::{MAX_ESTIMATE_MINUTES, TaskEdit, TaskInput, parse_estimate, parse_priority};

use crate::cache::{db, table};
use crate::clock;
use crate::event::{Body, Draft, EntityKind, Event, entity_id};
use crate::fold::point;
use crate::fold::state::{Resolve, State};
use crate::store::{self, Problem, Store};
use crate::view::memory::Scope;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Environment variable naming the agent a process acts for (set by `agent spawn`).
pub const AGENT_ENV: &str = "GIT_LEDGER_AGENT";
/// Environment variable naming the session a process works in, overriding the worktree's.
pub const SESSION_ENV: &str = "GIT_LEDGER_SESSION";

/// The value of environment variable `name`, trimmed, if it is set and not blank.
pub fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The largest text (title, note, summary, ...) one field may hold.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// New events applied on top of the index before it is brought up to them (a read applies
/// a few events from the refs faster than a write of their entities costs). Since an
/// update writes only what changed, a short interval wins: 192 appends at 1M, interleaved,
/// median / mean / p99 10.5 / 11.0 / 24.6 ms after 32 events, 9.7 / 9.8 / 22.8 after 16,
/// 9.3 / 9.4 / 17.0 after 8 (every command folds fewer events from the refs, and each
/// update writes fewer rows).
const INDEX_UPDATE_AFTER: usize = 8;

/// Events folded between two writes of an index being built from the refs: what bounds the
/// memory of a read with no index (the entities added or changed in one batch). Each write
/// after the first costs more than the fold of its batch (rows updated all over the file):
/// at a million events, batches of 100k took 40 s where one took 12 s, for 250 MB of
/// memory instead of 570 MB. One batch now parks the entities it is done with instead
/// (`INDEX_BUILD_PARK_AFTER`), in 215–250 MB.
const INDEX_BUILD_BATCH: usize = 1_000_000;

/// Events folded, during a build of the index, between two sweeps that take the entities
/// no event touched meanwhile out of memory (`State::park_idle`). At a million events,
/// sweeps every 25k kept the peak ~20 MB lower than every 50k for the same time.
const INDEX_BUILD_PARK_AFTER: usize = 25_000;

/// How long a command waits for another process's write of the index before it leaves the
/// update to that process.
const INDEX_WRITE_WAIT: Duration = Duration::from_millis(100);

/// How long an append keeps retrying a moving ref before it gives up.
const RETRY_BUDGET: Duration = Duration::from_secs(30);

/// When set, every append reports on stderr how many attempts its compare-and-swap took.
pub const DEBUG_RETRIES_ENV: &str = "GIT_LEDGER_DEBUG_RETRIES";

/// An open, initialised ledger, bound to the worktree and actor of this process.
pub struct Ledger {
    store: Store,
    writer: String,
    worktree: PathBuf,
    actor: String,
    /// The process runs one command and exits (not a server or the dashboard).
    short_lived: bool,
    /// Set once this ledger appended events (an operation that appended must not be run
    /// again).
    appended: AtomicBool,
    /// Set when something this ledger read from the local index failed its check.
    damage: table::Damage,
}

/// The state of the ledger at one moment, with what this process needs to interpret it.
pub struct Loaded {
    pub state: State,
    pub problems: Vec<Problem>,
    pub now: DateTime<Utc>,
    own_tip: Option<git2::Oid>,
    /// The writer tips the state was read from, so a retry reads only what came after.
    tips: Vec<(String, git2::Oid)>,
    /// Commits on this clone's own ref, for the garbage-collection trigger.
    own_commits: usize,
}

impl Loaded {
    /// The writer tips this state was read from (compare with [`Ledger::tips`]).
    pub fn tips(&self) -> &[(String, git2::Oid)] {
        &self.tips
    }
}

impl Loaded {
    /// Pair the loaded state with a copy of one of its entities (the one an operation wrote).
    pub fn entity<T: Clone>(
        self,
        kind: EntityKind,
        id: String,
        get: impl for<'s> Fn(&'s State, &str) -> Option<&'s T>,
    ) -> Result<(Loaded, T), Error> {
        match get(&self.state, &id).cloned() {
            Some(entity) => Ok((self, entity)),
            None => Err(Error::Input(InputError::UnknownId { kind, input: id })),
        }
    }
}

/// What `init` did.
#[derive(Debug, serde::Serialize)]
pub struct InitReport {
    pub writer: String,
    pub reference: String,
    pub created: bool,
    /// The public key this writer signs its ledger commits with, when git is set up to sign
    /// with SSH, and whether it is the one the writer registered.
    pub signing_key: Option<String>,
    pub key_registered: bool,
}

impl Ledger {
    /// Set up the ledger in the repository containing `dir` (idempotent).
    pub fn init(dir: &Path) -> Result<InitReport, Error> {
        let mut store = Store::discover(dir)?;
        let created = store.init(fresh_writer_id)?;
        let writer = store.writer()?.to_string();
        let reference = store.own_ref()?;
        let signing_key = store.signing_public_key()?;
        let mut key_registered = false;
        if let Some(key) = &signing_key {
            let tip = store
                .writer_tips()?
                .into_iter()
                .find(|(n, _)| *n == reference);
            let registered = tip.and_then(|(_, tip)| store.registered_key(&reference, tip));
            match registered {
                Some(registered) => key_registered = registered == *key,
                None => {
                    // The first registration is the one that counts (see store::signing).
                    let ledger = Ledger::open(dir)?;
                    ledger.observe(
                        &writer,
                        crate::event::body::WriterRegistered {
                            signing_key: key.clone(),
                        },
                    )?;
                    key_registered = true;
                }
            }
        }
        Ok(InitReport {
            writer,
            reference,
            created,
            signing_key,
            key_registered,
        })
    }

    /// Open the ledger of the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<Ledger, Error> {
        let store = Store::discover(dir)?;
        let writer = store.writer()?.to_string();
        let worktree = store.worktree()?;
        let actor = match env_value(AGENT_ENV) {
            Some(agent) => format!("agent:{agent}"),
            None => format!(
                "human:{}",
                store.identity().0.unwrap_or_else(|| "unknown".into())
            ),
        };
        let ledger = Ledger::new(store, writer, worktree, actor);
        if let Err(e) = ledger.record_noted_commits() {
            // The command goes on (and says so if the ledger itself is the trouble); the
            // notes stay for the next one.
            crate::eprintln_safe!(
                "git-ledger: warning: the commits made since the last command are not recorded yet: {e}"
            );
        }
        Ok(ledger)
    }

    /// Open the ledger to read it: as [`Ledger::open`], and in a bare repository (a server's)
    /// too, where there is no work tree and no writer of its own; appending there is refused
    /// as in a clone that ran no `init`.
    pub fn open_to_read(dir: &Path) -> Result<Ledger, Error> {
        match Ledger::open(dir) {
            Err(Error::Store(store::Error::Bare)) => {
                let store = Store::discover_any(dir)?;
                let actor = format!(
                    "human:{}",
                    store.identity().0.unwrap_or_else(|| "unknown".into())
                );
                let worktree = store.repo().path().to_path_buf();
                Ok(Ledger::new(store, String::new(), worktree, actor))
            }
            other => other,
        }
    }

    fn new(store: Store, writer: String, worktree: PathBuf, actor: String) -> Ledger {
        Ledger {
            store,
            writer,
            worktree,
            actor,
            short_lived: false,
            appended: AtomicBool::new(false),
            damage: table::Damage::default(),
        }
    }

    /// For a process that runs one command and exits: memory a cold read no longer needs is
    /// left to the operating system rather than freed.
    pub fn short_lived(mut self) -> Ledger {
        self.short_lived = true;
        self
    }

    /// Whether something this ledger read from the local index failed its check since
    /// the damaged cache was last discarded: what was computed from it may lack an entity.
    pub fn damage_seen(&self) -> bool {
        self.damage.seen()
    }

    /// Whether this ledger appended events since it was opened.
    pub fn appended(&self) -> bool {
        self.appended.load(Ordering::Relaxed)
    }

    /// Run a read-only operation: if it met damage in the local index (its answer may
    /// lack an entity), the cache is removed and it runs again from the refs. An operation
    /// that appended is not run again (its own reads after the append already fell back).
    pub fn read_checked<T>(&self, op: impl Fn(&Ledger) -> Result<T, Error>) -> Result<T, Error> {
        let result = op(self);
        if !self.damage.seen() {
            return result;
        }
        self.discard_damaged_index();
        if self.appended() {
            return result;
        }
        op(self)
    }

    pub fn writer(&self) -> &str {
        &self.writer
    }

    pub fn worktree(&self) -> &Path {
        &self.worktree
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The ledger's state: from the local index when it matches the refs (brought
    /// forward over the commits added since), else folded from every event. The state may
    /// not hold the event list; see [`Ledger::load_full`].
    pub fn load(&self) -> Result<Loaded, Error> {
        if let Some(loaded) = self.load_indexed()? {
            return Ok(loaded);
        }
        if let Some(loaded) = self.load_streamed()? {
            return Ok(loaded);
        }
        let mut loaded = self.load_full()?;
        if self.short_lived {
            // Callers of `load` do without the event list (a cached state never has it), and
            // this process is about to exit: leave the memory to the operating system rather
            // than free a hundred thousand events one by one.
            std::mem::forget(std::mem::take(&mut loaded.state.events));
            loaded.state.complete = false;
        }
        Ok(loaded)
    }

    /// The ledger's state with every event (for history: log, replay, audit, diff, export),
    /// folded from the refs; the cache is refreshed on the way.
    pub fn load_full(&self) -> Result<Loaded, Error> {
        let mut snapshot = self.store.snapshot()?;
        let state = State::from_events(std::mem::take(&mut snapshot.events));
        self.folded(state, snapshot)
    }

    /// A state folded from the refs as `snapshot` read them, written into the index.
    fn folded(&self, state: State, snapshot: crate::store::Snapshot) -> Result<Loaded, Error> {
        let loaded = Loaded {
            state,
            problems: snapshot.problems,
            now: clock::now()?,
            own_tip: snapshot.own_tip,
            tips: snapshot.tips,
            own_commits: snapshot.own_commits,
        };
        self.save_index(&loaded);
        Ok(loaded)
    }

    /// The writer tips as they are now: cheap (no event is read), so a view that stays open
    /// can poll them and reload only when a ref moved.
    pub fn tips(&self) -> Result<Vec<(String, git2::Oid)>, Error> {
        Ok(self.store.writer_tips()?)
    }

    /// A complete state read earlier, brought up to the refs as they are now: only the new
    /// commits are read when the refs moved forward, else everything is read again.
    pub fn reload(&self, loaded: Loaded) -> Result<Loaded, Error> {
        if !loaded.state.complete {
            return self.load_full();
        }
        match self.advance(loaded)? {
            Some(loaded) => Ok(loaded),
            None => self.load_full(),
        }
    }

    /// The state the index holds brought up to the current refs, if the index can be
    /// trusted. An index that cannot be opened or read is removed (the state is folded from
    /// the refs and written into a new one).
    fn load_indexed(&self) -> Result<Option<Loaded>, Error> {
        let read = self
            .open_index()
            .and_then(|conn| State::read_index::<(Vec<Problem>, usize)>(conn, &self.damage));
        let (state, (problems, own_commits)) = match read {
            Ok(Some(read)) => read,
            Ok(None) => return Ok(None),
            Err(e) => {
                if !db::is_busy(&e) {
                    self.store.remove_index();
                }
                return Ok(None);
            }
        };
        let tips = state.index_tips().map(<[_]>::to_vec).unwrap_or_default();
        let own = self.store.own_ref().ok();
        let own_tip = tips
            .iter()
            .find(|(name, _)| Some(name) == own.as_ref())
            .map(|(_, oid)| *oid);
        let cached = Loaded {
            state,
            problems,
            now: clock::now()?,
            own_tip,
            tips,
            own_commits,
        };
        let before = cached.state.event_count;
        let Some(loaded) = self.advance(cached)? else {
            return Ok(None);
        };
        if loaded.state.event_count - before > INDEX_UPDATE_AFTER {
            self.save_index(&loaded);
        }
        Ok(Some(loaded))
    }

    /// Fold every event into a new index in batches of [`INDEX_BUILD_BATCH`], each written
    /// and read back before the next, so that memory holds one batch's entities rather than
    /// every event and entity of the ledger. `None` when that cannot be done (no index can
    /// be written, another process writes one meanwhile, the events cannot be merged in
    /// order): the caller folds them all in memory.
    fn load_streamed(&self) -> Result<Option<Loaded>, Error> {
        if self.damage.seen() {
            return Ok(None);
        }
        // What the index says it stands for while it is being built: no writer tips, so no
        // other reader takes it for the ledger; the writes after the first are made only
        // over the index this build wrote.
        let nonce = format!(
            "{:016x}{:016x}{:08x}",
            random_u64(),
            random_u64(),
            random_u64() >> 32
        );
        let building = vec![(
            db::BUILDING.to_string(),
            git2::Oid::from_str(&nonce).unwrap_or(git2::Oid::zero()),
        )];
        // Tests fold a small ledger in several batches, parking often.
        let count = |name: &str, default: usize| {
            env_value(name)
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or(default)
        };
        let batch_size = count("GIT_LEDGER_INDEX_BATCH", INDEX_BUILD_BATCH);
        let park_after = count("GIT_LEDGER_INDEX_PARK", INDEX_BUILD_PARK_AFTER);
        let mut state = State::default();
        let mut batch = 0;
        let streamed = self.store.stream(|event| {
            // A full batch is written when the next event comes: the last one is written
            // by the caller as the state it is, not read back for nothing.
            if batch == batch_size {
                batch = 0;
                match self.write_and_read_back(std::mem::take(&mut state), &building) {
                    Some(read) => state = read,
                    None => return false,
                }
            }
            state.apply(event);
            batch += 1;
            if batch % park_after == 0 {
                state.park_idle();
            }
            true
        })?;
        let Some(snapshot) = streamed else {
            return Ok(None);
        };
        state.refresh_abbrev_after_build();
        state.park_all();
        self.folded(state, snapshot).map(Some)
    }

    /// One batch of [`Ledger::load_streamed`]: the state written under the tips `building`
    /// and read back from the index, its entities out of memory.
    fn write_and_read_back(&self, state: State, building: &[(String, git2::Oid)]) -> Option<State> {
        // The abbreviation is left to the end of the build (`refresh_abbrev_after_build`).
        let no_extra = (Vec::<Problem>::new(), 0usize);
        let written = self.write_index(&state, &no_extra, building);
        if !matches!(written, Ok(true)) || self.damage.seen() {
            return None;
        }
        // The state's read transaction ends here: with none left, the write-ahead log can
        // be copied into the database and started again, instead of growing with every
        // batch (and every read looking pages up in it).
        let ids = state.into_ids();
        let conn = self.open_index().ok()?;
        db::checkpoint(&conn);
        let read = State::read_index::<(Vec<Problem>, usize)>(conn, &self.damage);
        let (mut read, _) = read.ok().flatten()?;
        read.carry_ids(ids);
        Some(read)
    }

    /// Bring a state read earlier (from the cache, or by a compare-and-swap that lost the
    /// race) up to date by reading only the commits appended since. `None` when that cannot
    /// give the state a full read would: a ref was deleted or rewritten, a new event was
    /// written by another clone (an import, perhaps already folded through that clone's
    /// ref), or new events sort before what was folded (fetched with older clocks).
    pub(crate) fn advance(&self, mut loaded: Loaded) -> Result<Option<Loaded>, Error> {
        let Some(newer) = self.store.snapshot_since(&loaded.tips)? else {
            return Ok(None);
        };
        if !newer
            .events
            .first()
            .is_none_or(|first| loaded.state.follows(first))
        {
            return Ok(None);
        }
        if !newer.events.is_empty() {
            for event in newer.events {
                loaded.state.apply(event);
            }
            loaded.state.refresh_abbrev();
        }
        loaded.problems.extend(newer.problems);
        loaded.tips = newer.tips;
        loaded.own_tip = newer.own_tip;
        loaded.own_commits += newer.own_commits;
        loaded.now = clock::now()?;
        Ok(Some(loaded))
    }

    /// The local index where the store keeps it, opened (`cache::db::open`).
    fn open_index(&self) -> rusqlite::Result<rusqlite::Connection> {
        let path = (self.store.index_path()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        db::open(&path)
    }

    /// Remove an index in which an entity failed its check, so the next read folds the refs.
    pub fn discard_damaged_index(&self) {
        self.store.remove_index();
        self.damage.forget();
    }

    /// Best effort: an index that cannot be written only costs the next command a full fold.
    fn save_index(&self, loaded: &Loaded) {
        // The state may lack something damaged: never write it back.
        if self.damage.seen() {
            self.store.remove_index();
            return;
        }
        let extra = (&loaded.problems, loaded.own_commits);
        match self.write_index(&loaded.state, &extra, &loaded.tips) {
            Ok(_) if self.damage.seen() => self.store.remove_index(),
            Ok(true) => self.store.index_written(),
            Ok(false) => {}
            Err(e) if db::is_busy(&e) => {}
            Err(_) => self.store.remove_index(),
        }
    }

    /// Write `state` into the index as standing for `tips`, with `extra` beside it; false
    /// when another process moved the index on since the state was read from it.
    fn write_index<E: serde::Serialize>(
        &self,
        state: &State,
        extra: &E,
        tips: &[(String, git2::Oid)],
    ) -> rusqlite::Result<bool> {
        let mut conn = self.open_index()?;
        // Another process writing it is bringing it up too: no need to wait long.
        conn.busy_timeout(INDEX_WRITE_WAIT)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // A state read from the index is written as what changed since: only over the
        // index it was read from.
        if let Some(base) = state.index_tips()
            && db::tips(&tx, db::STATE_TIPS)?.as_deref() != Some(base)
        {
            return Ok(false);
        }
        state.write_index(&tx, extra)?;
        db::set_tips(&tx, db::STATE_TIPS, tips)?;
        tx.commit()?;
        Ok(true)
    }

    /// The ledger as it stood at a point: a time, an event id, or a session id (its end).
    pub fn load_at(&self, at: Option<&str>) -> Result<Loaded, Error> {
        if at.is_none() {
            return self.load();
        }
        let mut loaded = self.load_full()?;
        if let Some(at) = at {
            let point = point::resolve(&loaded.state, at, point::SessionEnd::End)?;
            loaded.state = point::state_at(&loaded.state, point);
            loaded.now = point.now;
        }
        Ok(loaded)
    }

    /// The session this process works in: `GIT_LEDGER_SESSION`, else the open session of
    /// this worktree.
    pub fn current_session(&self, state: &State) -> Result<Option<String>, Error> {
        match std::env::var(SESSION_ENV) {
            Ok(id) if !id.trim().is_empty() => Ok(Some(resolve(state, EntityKind::Session, &id)?)),
            _ => Ok(state
                .open_session(&self.writer, &self.worktree)
                .map(|s| s.id.clone())),
        }
    }

    /// The scope views and suggestions are computed for.
    pub fn scope<'a>(&'a self, loaded: &Loaded, session: Option<&'a str>) -> Scope<'a> {
        Scope {
            writer: &self.writer,
            actor: &self.actor,
            // A bad setting is reported by the commands that show agents' health.
            stall_after_minutes: self
                .stall_after_minutes()
                .unwrap_or(crate::view::health::DEFAULT_STALL_AFTER_MINUTES),
            worktree: &self.worktree,
            session,
            now: loaded.now,
        }
    }

    /// Validate and append: `build` drafts the events against the current state (and may
    /// refuse); they are appended atomically, and the state after them is returned with
    /// whatever `build` produced.
    pub fn record<T>(
        &self,
        mut build: impl FnMut(&State, &mut Batch) -> Result<T, Error>,
    ) -> Result<(Loaded, T), Error> {
        self.append_with_retry(usize::MAX, false, |loaded| {
            let mut batch = Batch {
                writer: &self.writer,
                worktree: &self.worktree,
                base_hlc: next_hlc(loaded),
                now: loaded.now,
                session: self.current_session(&loaded.state)?,
                drafts: Vec::new(),
                ids_made: 0,
            };
            let output = build(&loaded.state, &mut batch)?;
            Ok((batch.seal(&self.actor), output))
        })
    }

    /// The compare-and-swap loop under every write: read the ledger, let `prepare` produce
    /// sealed events from it (or refuse), append them in commits of at most `per_commit`
    /// events, and start over on the new tip if another process moved the ref meanwhile.
    fn append_with_retry<T>(
        &self,
        per_commit: usize,
        every_event: bool,
        mut prepare: impl FnMut(&Loaded) -> Result<(Vec<Event>, T), Error>,
    ) -> Result<(Loaded, T), Error> {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut earlier: Option<Loaded> = None;
        loop {
            attempt += 1;
            let mut loaded = match earlier.take() {
                Some(earlier) => match self.advance(earlier)? {
                    Some(loaded) => loaded,
                    None if every_event => self.load_full()?,
                    None => self.load()?,
                },
                None if every_event => self.load_full()?,
                None => self.load()?,
            };
            let prepared = prepare(&loaded);
            if self.damage.seen() {
                // An entity read from the cache failed its check: validate against the refs.
                self.discard_damaged_index();
                loaded = self.load_full()?;
                earlier = Some(loaded);
                continue;
            }
            let (events, output) = prepared?;
            if events.is_empty() {
                return Ok((loaded, output));
            }
            match self
                .store
                .append_in_commits(&events, per_commit, loaded.own_tip, loaded.now)
            {
                Ok(tip) => {
                    loaded.own_tip = Some(tip);
                    self.after_append(&mut loaded, tip, events.len().div_ceil(per_commit.max(1)));
                    if std::env::var_os(DEBUG_RETRIES_ENV).is_some() {
                        crate::eprintln_safe!("git-ledger: appended after {attempt} attempt(s)");
                    }
                    // New events order after everything read, unless they carry older clocks
                    // (an import of another ledger's events): then fold from scratch.
                    self.appended.store(true, Ordering::Relaxed);
                    if events.iter().all(|e| e.hlc > loaded.state.max_hlc) {
                        for event in events {
                            loaded.state.apply(event);
                        }
                        loaded.state.refresh_abbrev();
                    } else {
                        loaded = self.load()?;
                    }
                    if self.damage.seen() {
                        self.discard_damaged_index();
                        loaded = self.load_full()?;
                    }
                    return Ok((loaded, output));
                }
                Err(store::Error::Conflict) if started.elapsed() < RETRY_BUDGET => {
                    std::thread::sleep(backoff(attempt));
                    // A ref lock left by a process killed mid-update would block us forever.
                    self.store.clear_stale_lock();
                    earlier = Some(loaded);
                }
                Err(store::Error::Conflict) => return Err(Error::Busy(attempt)),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The clock value of the next event: above every event read, and not behind the wall clock.
fn next_hlc(loaded: &Loaded) -> u64 {
    (loaded.now.timestamp_millis().max(0) as u64).max(loaded.state.max_hlc.saturating_add(1))
}

/// The events one operation is about to append.
pub struct Batch<'a> {
    writer: &'a str,
    worktree: &'a Path,
    base_hlc: u64,
    pub now: DateTime<Utc>,
    /// The session the events are recorded in.
    pub session: Option<String>,
    drafts: Vec<(Draft, Option<String>)>,
    ids_made: u64,
}

impl Batch<'_> {
    /// A fresh entity id, unique across clones (writer and clock are part of the hash).
    pub fn new_id(&mut self, kind: EntityKind, seed: &str) -> String {
        self.ids_made += 1;
        entity_id(
            kind,
            self.writer,
            self.base_hlc.saturating_add(self.ids_made),
            seed,
        )
    }

    pub fn push(&mut self, subject: &str, body: impl Into<Body>) {
        let session = self.session.clone();
        self.push_in(subject, body, session);
    }

    /// Push an event recorded in a given session (a session's own start and end).
    pub fn push_in(&mut self, subject: &str, body: impl Into<Body>, session: Option<String>) {
        self.drafts
            .push((Draft::new(Some(subject.to_string()), body), session));
    }

    pub fn worktree(&self) -> String {
        self.worktree.to_string_lossy().into_owned()
    }

    /// How many events are drafted so far.
    pub fn len(&self) -> usize {
        self.drafts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.drafts.is_empty()
    }

    fn seal(self, actor: &str) -> Vec<Event> {
        let time = clock::format(self.now);
        self.drafts
            .into_iter()
            .enumerate()
            .map(|(i, (draft, session))| {
                Event::seal(
                    draft.kind(),
                    time.clone(),
                    self.base_hlc.saturating_add(i as u64),
                    self.writer,
                    session,
                    actor,
                    draft.subject,
                    draft.body,
                )
            })
            .collect()
    }
}

/// Resolve a user-typed id against the state.
pub fn resolve(state: &State, kind: EntityKind, input: &str) -> Result<String, Error> {
    state.resolve(kind, input).map_err(|e| match e {
        Resolve::Unknown => Error::Input(InputError::UnknownId {
            kind,
            input: input.to_string(),
        }),
        Resolve::Malformed => Error::Input(InputError::MalformedId {
            kind,
            input: input.to_string(),
        }),
        Resolve::Ambiguous(ids) => Error::Input(InputError::AmbiguousId {
            kind,
            input: input.to_string(),
            candidates: ids
                .iter()
                .map(|id| {
                    format!(
                        "{} ({})",
                        id,
                        state
                            .title_of(id)
                            .map(|t| crate::event::kind::one_line(t, 40))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        }),
    })
}

/// Check a piece of user text: not blank, not huge. Returns it trimmed.
pub fn text(what: &'static str, value: &str) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::Input(InputError::Empty { what }));
    }
    if trimmed.len() > MAX_TEXT_BYTES {
        return Err(Error::Input(InputError::TooLarge {
            what,
            size: trimmed.len(),
            limit: MAX_TEXT_BYTES,
        }));
    }
    Ok(trimmed.to_string())
}

/// Like [`text`] for optional fields: absent stays absent, present must be valid.
pub fn optional_text(what: &'static str, value: Option<&str>) -> Result<Option<String>, Error> {
    value.map(|v| text(what, v)).transpose()
}

fn fresh_writer_id() -> String {
    format!("{:016x}", random_u64())[..12].to_string()
}

/// Randomness without a dependency: std's hasher keys are seeded from the OS per process.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Jittered exponential backoff: 0.5 ms plus up to 2, 4, 8 ... 64 ms.
fn backoff(attempt: u32) -> Duration {
    let cap = 1u64 << attempt.min(6);
    Duration::from_micros(500 + random_u64() % (cap * 1000))
}
