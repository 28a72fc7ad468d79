//! The fold: events in the ledger's total order in, current state of every entity out.
//!
//! The fold never fails. Events from other clones may disagree with each other (one clone
//! completes a task that another blocked); the later event in the total order wins, so every
//! clone that has the same events computes the same state. The entities are in
//! [`crate::model`].

use super::compaction::Compaction;
use super::recent::EventQueue;
use super::task;
use crate::event::kind;
use crate::event::{Body, EntityKind, Event, MIN_ABBREV};
use crate::model::claims::Claims;
use crate::model::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::cache::brief::{self, TaskBrief};
use crate::cache::db::{self, STATE_TIPS, Snapshot};
use crate::cache::kept::{self, Kept};
pub use crate::cache::table::Table;
use crate::cache::table::{Damage, Ids, KEYS, KnownIds};
use std::path::Path;
use std::sync::Arc;

/// How many ready tasks `ready` shows unless asked for more: enough to choose from, few enough
/// to read (a large backlog has thousands).
pub const READY_LIMIT: usize = 50;

/// The ready tasks a holder may take (the first of them, by priority), how many more there
/// are, and those another holder's live claim keeps from it.
#[derive(Debug, Default)]
pub struct ReadySplit<'a> {
    pub ready: Vec<&'a Task>,
    pub more: usize,
    pub claimed: Vec<&'a Task>,
}

/// An id without its kind's prefix (`t-`, `o-`, ...): the hex digits abbreviations count.
fn hex_part(id: &str) -> &str {
    id.find('-').map_or(id, |dash| &id[dash + 1..])
}

/// How many leading bytes two ids share.
fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// The shortest abbreviation that tells every one of `hexes` from the others: sorted, the
/// longest prefix any two share is one neighbours share.
fn neighbours_abbrev<'a>(hexes: impl Iterator<Item = &'a str>) -> usize {
    let mut hexes: Vec<&str> = hexes.collect();
    hexes.sort_unstable();
    hexes
        .windows(2)
        .map(|pair| common_prefix(pair[0], pair[1]) + 1)
        .max()
        .unwrap_or(0)
}

/// How many of the newest events the state keeps, for `log` and the last actions, when it
/// does not hold every event.
pub const RECENT_EVENTS: usize = 64;
/// How many of a session's newest events the state keeps (working memory's last actions).
pub const SESSION_RECENT: usize = 4;

/// The state of the whole ledger after folding its events.
///
/// A state read from the local index holds the entities but not the event list
/// (`complete` is false): commands that walk the history (log beyond the newest events,
/// replay, audit, diff, export) load the complete state instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Every event in the total order, when `complete`.
    #[serde(skip)]
    pub events: Vec<Event>,
    /// Whether `events` holds every event (false for a state from the index).
    #[serde(skip)]
    pub complete: bool,
    /// How many events were folded.
    pub event_count: usize,
    /// The newest events, oldest first (at most [`RECENT_EVENTS`]).
    pub recent: EventQueue,
    /// Each session's newest events, oldest first (at most [`SESSION_RECENT`]).
    session_recent: HashMap<String, EventQueue>,
    /// While folding every event at once: the positions [`State::session_recent`] will hold
    /// (copied once at the end instead of every event being copied on the way).
    #[serde(skip)]
    session_recent_at: Option<HashMap<String, std::collections::VecDeque<usize>>>,
    /// The order key (clock, writer, id) of the last event folded.
    pub last_key: Option<(u64, String, String)>,
    #[serde(skip)]
    pub objectives: Table<Objective>,
    #[serde(skip)]
    pub tasks: Table<Task>,
    #[serde(skip)]
    pub insights: Table<Insight>,
    #[serde(skip)]
    pub decisions: Table<Decision>,
    #[serde(skip)]
    pub sessions: Table<Session>,
    #[serde(skip)]
    pub agents: Table<Agent>,
    /// The task in focus per (writer, worktree).
    #[serde(with = "pairs")]
    focus: HashMap<(String, String), String>,
    /// The session that ended last per (writer, worktree): the next one starts from it (its
    /// newest events are kept in `session_recent`).
    #[serde(with = "pairs", default)]
    last_ended: HashMap<(String, String), String>,
    /// Highest clock value seen: the next event's clock must be above it.
    pub max_hlc: u64,
    /// Events of kinds this version does not know; kept and shown, otherwise ignored.
    pub unknown_events: usize,
    /// Events that refer to an entity the ledger does not have (positions in `events`); kept
    /// and shown, otherwise ignored.
    pub orphans: Vec<usize>,
    /// Status changes written without knowledge of the status change they override.
    pub conflicts: Vec<Conflict>,
    /// Summaries of old periods for the memory views, oldest first.
    #[serde(default)]
    pub compactions: Vec<Compaction>,
    abbrev: usize,
    /// How many of each table's added ids the abbreviation has already been checked against
    /// (tables in `id_tables` order), so that each command checks each new id once.
    #[serde(skip)]
    abbrev_checked: [usize; 6],
    /// The ready list and the objectives' progress (`cache::kept`).
    #[serde(skip)]
    kept: Kept,
    /// How a build of the index packs the entities it takes out of memory (`park_idle`).
    #[serde(skip)]
    parking: Option<Arc<db::Parking>>,
    /// The tips of the index the state was read from (see [`State::index_tips`]).
    #[serde(skip)]
    index_tips: Option<Vec<(String, git2::Oid)>>,
}

/// The index's names for the state's six tables, in the order `State::write_index` and
/// `State::read_index` take them.
const TABLE_KINDS: [u8; 6] = [0, 1, 2, 3, 4, 5];

/// What the index stores of each table beside its rows: how many entities, and how many in
/// each key set.
type TableCounts = Vec<(usize, [usize; KEYS])>;

/// XXH3-128 of the parts of `meta` a state is read from, each with its length.
fn meta_sum(parts: [&[u8]; 2]) -> [u8; 16] {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.digest128().to_le_bytes()
}

impl State {
    /// Write the state into the index (`cache::db`) in the caller's transaction: the small
    /// fields with `extra` beside them as one MessagePack value, each table's rows (only
    /// those changed or added when the state was read from the index), the counts and the
    /// kept lists.
    pub fn write_index<E: Serialize>(
        &self,
        conn: &rusqlite::Connection,
        extra: &E,
    ) -> rusqlite::Result<()> {
        let encode =
            |e: rmp_serde::encode::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
        let core = rmp_serde::to_vec_named(&(self, extra)).map_err(encode)?;
        // Every row is written anew: the lookup index by id is built once at the end, from
        // sorted ids, rather than kept up over each random insert.
        let full = !self.tasks.is_frozen();
        let mut packer = if full {
            conn.execute_batch(&format!("DROP INDEX IF EXISTS {}", db::ID_INDEX))?;
            match &self.parking {
                Some(parking) => db::Packer::parked(conn, parking)?,
                None => db::Packer::train(conn, &self.samples())?,
            }
        } else {
            db::Packer::stored(conn)?
        };
        let packer = &mut packer;
        let [o, t, i, d, s, a] = TABLE_KINDS;
        let counts: TableCounts = vec![
            (
                self.objectives.len(),
                self.objectives.write(conn, o, packer)?,
            ),
            (self.tasks.len(), self.tasks.write(conn, t, packer)?),
            (self.insights.len(), self.insights.write(conn, i, packer)?),
            (self.decisions.len(), self.decisions.write(conn, d, packer)?),
            (self.sessions.len(), self.sessions.write(conn, s, packer)?),
            (self.agents.len(), self.agents.write(conn, a, packer)?),
        ];
        if full {
            conn.execute_batch(db::CREATE_ID_INDEX)?;
        }
        let (ready, progress) = self.kept.encode(&self.of());
        let counts = rmp_serde::to_vec(&counts).map_err(encode)?;
        let sum = meta_sum([&core, &counts]);
        db::set_meta(conn, "state", &core)?;
        db::set_meta(conn, "counts", &counts)?;
        db::set_list(conn, kept::READY, &ready)?;
        db::set_list(conn, kept::PROGRESS, &progress)?;
        db::set_meta(conn, "sum", &sum)
    }

    /// The bytes of a spread of the entities of every table, each table's share as large as
    /// the table (what the index's dictionary is trained on).
    fn samples(&self) -> Vec<Vec<u8>> {
        let lens = [
            self.objectives.len(),
            self.tasks.len(),
            self.insights.len(),
            self.decisions.len(),
            self.sessions.len(),
            self.agents.len(),
        ];
        let total = lens.iter().sum::<usize>().max(1);
        let share = |len: usize| (db::SAMPLE_ENTITIES * len).div_ceil(total);
        let (mut out, bytes) = (Vec::new(), db::SAMPLE_BYTES);
        self.objectives.samples(share(lens[0]), bytes, &mut out);
        self.tasks.samples(share(lens[1]), bytes, &mut out);
        self.insights.samples(share(lens[2]), bytes, &mut out);
        self.decisions.samples(share(lens[3]), bytes, &mut out);
        self.sessions.samples(share(lens[4]), bytes, &mut out);
        self.agents.samples(share(lens[5]), bytes, &mut out);
        out
    }

    /// The state the index holds, with the `extra` written beside it and the writer tips it
    /// stands for; `None` when it holds none (or not in this shape). Entities are read (and
    /// checked) when first used, all through one read transaction on `conn`.
    pub fn read_index<E: serde::de::DeserializeOwned>(
        conn: rusqlite::Connection,
        damage: &Damage,
    ) -> rusqlite::Result<Option<(State, E)>> {
        let (snapshot, parts) = Snapshot::begin(conn, damage, |conn| {
            Ok((
                db::tips(conn, STATE_TIPS)?,
                db::meta(conn, "state")?,
                db::meta(conn, "counts")?,
                db::meta(conn, "sum")?,
            ))
        })?;
        let (Some(tips), Some(core), Some(counts), Some(sum)) = parts else {
            return Ok(None);
        };
        if meta_sum([&core, &counts]) != sum.as_slice() {
            // Changed behind our back: damage, like any other.
            return Err(rusqlite::Error::InvalidQuery);
        }
        let Ok((mut state, extra)) = rmp_serde::from_slice::<(State, E)>(&core) else {
            return Ok(None);
        };
        let Ok(counts) = rmp_serde::from_slice::<TableCounts>(&counts) else {
            return Ok(None);
        };
        let ([o, t, i, d, s, a], [co, ct, ci, cd, cs, ca]) = (TABLE_KINDS, counts.as_slice())
        else {
            return Ok(None);
        };
        state.objectives = Table::stored(&snapshot, o, co.0, co.1);
        state.tasks = Table::stored(&snapshot, t, ct.0, ct.1);
        state.insights = Table::stored(&snapshot, i, ci.0, ci.1);
        state.decisions = Table::stored(&snapshot, d, cd.0, cd.1);
        state.sessions = Table::stored(&snapshot, s, cs.0, cs.1);
        state.agents = Table::stored(&snapshot, a, ca.0, ca.1);
        state.kept = Kept::stored(&snapshot);
        state.index_tips = Some(tips);
        Ok(Some((state, extra)))
    }

    /// The ids every table knows, in `TABLE_KINDS` order (see `Table::into_ids`): what a
    /// build of the index carries from one batch to the next.
    pub(crate) fn into_ids(self) -> [KnownIds; 6] {
        [
            self.objectives.into_ids(),
            self.tasks.into_ids(),
            self.insights.into_ids(),
            self.decisions.into_ids(),
            self.sessions.into_ids(),
            self.agents.into_ids(),
        ]
    }

    /// Take the entities not changed since the last call out of memory (see
    /// `Table::park`): what bounds the memory of a build of the index.
    pub(crate) fn park_idle(&mut self) {
        if self.parking.is_none() {
            self.parking = db::Parking::train(&self.samples()).map(Arc::new);
        }
        self.park(false);
    }

    /// Before a build's write: every entity still in memory parked too (on every core),
    /// when entities were parked at all.
    pub(crate) fn park_all(&mut self) {
        self.park(true);
    }

    fn park(&mut self, changed_too: bool) {
        let Some(parking) = &self.parking else {
            return;
        };
        self.objectives.park(parking, changed_too);
        self.tasks.park(parking, changed_too);
        self.insights.park(parking, changed_too);
        self.decisions.park(parking, changed_too);
        self.sessions.park(parking, changed_too);
        self.agents.park(parking, changed_too);
    }

    /// Take over the ids of every table of the state this one was read back from the index
    /// after writing (see `Table::carry_ids`).
    pub(crate) fn carry_ids(&mut self, earlier: [KnownIds; 6]) {
        let [objectives, tasks, insights, decisions, sessions, agents] = earlier;
        self.objectives.carry_ids(objectives);
        self.tasks.carry_ids(tasks);
        self.insights.carry_ids(insights);
        self.decisions.carry_ids(decisions);
        self.sessions.carry_ids(sessions);
        self.agents.carry_ids(agents);
    }

    /// The writer tips of the index this state was read from (`None` for a state folded
    /// from the events): an update of the index in place is only right while it still
    /// holds them.
    pub fn index_tips(&self) -> Option<&[(String, git2::Oid)]> {
        self.index_tips.as_deref()
    }
}

impl State {
    /// Fold every event; the state keeps them all (`complete`).
    pub fn from_events(events: Vec<Event>) -> State {
        let mut state = State {
            complete: true,
            session_recent_at: Some(HashMap::new()),
            ..State::default()
        };
        // Folded where they are, then kept: moving them one by one into a second list
        // would hold two lists of a million events at the peak.
        for event in &events {
            state.fold_one(event);
        }
        state.events = events;
        let first_recent = state.events.len().saturating_sub(RECENT_EVENTS);
        state.recent = state.events[first_recent..].iter().cloned().collect();
        for (session, positions) in state.session_recent_at.take().unwrap_or_default() {
            let events = positions
                .iter()
                .filter_map(|&i| state.events.get(i).cloned())
                .collect();
            state.session_recent.insert(session, events);
        }
        state.refresh_abbrev();
        state
    }

    /// Whether `event` comes after every event folded so far in the total order (so it can be
    /// applied without refolding).
    pub fn follows(&self, event: &Event) -> bool {
        match &self.last_key {
            None => true,
            Some((hlc, writer, id)) => (event.hlc, &event.writer, &event.id) > (*hlc, writer, id),
        }
    }

    /// The newest events of a session (oldest first), or of the whole ledger.
    pub fn recent_events<'a>(&'a self, session: Option<&'a str>) -> Vec<&'a Event> {
        match session {
            // A complete state has them all; the index keeps them for open sessions only.
            Some(id) if self.complete => {
                let mut newest: Vec<&Event> =
                    self.session_events(id).rev().take(SESSION_RECENT).collect();
                newest.reverse();
                newest
            }
            Some(id) => self
                .session_recent
                .get(id)
                .map(|events| events.iter().collect())
                .unwrap_or_default(),
            None => self.recent.iter().collect(),
        }
    }

    /// Fold one more event (which must come after every event already folded).
    pub fn apply(&mut self, event: Event) {
        self.fold_one(&event);
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        if self.complete {
            self.recent.push_back(event.clone());
            self.events.push(event);
        } else {
            // Moved, not copied: a read with no index folds a million events this way.
            self.recent.push_back(event);
        }
    }

    /// What [`State::apply`] does but keep the event (in `events` and `recent`).
    fn fold_one(&mut self, event: &Event) {
        self.kept.forget();
        self.max_hlc = self.max_hlc.max(event.hlc);
        let position = self.event_count;
        self.event_count += 1;
        let time = event.timestamp();
        let known = self.fold(
            event,
            event.subject.as_deref().unwrap_or(""),
            time,
            position,
        );
        self.heard_from(&event.actor, time);
        match known {
            Applied::Yes => {}
            Applied::UnknownKind => self.unknown_events += 1,
            Applied::Orphan => self.orphans.push(position),
        }
        // Written over in place: a fresh pair of strings per event showed in a cold read.
        match &mut self.last_key {
            Some((hlc, writer, id)) => {
                *hlc = event.hlc;
                writer.clone_from(&event.writer);
                id.clone_from(&event.id);
            }
            None => self.last_key = Some((event.hlc, event.writer.clone(), event.id.clone())),
        }
        let open_session = event
            .session
            .as_ref()
            .filter(|s| self.sessions.get(s).is_some_and(Session::is_open));
        if let (Some(positions), true) = (&mut self.session_recent_at, self.complete) {
            // Folding everything: `from_events` copies the newest events once at the end.
            if let Some(session) = open_session {
                let recent = positions.entry(session.clone()).or_default();
                if recent.len() == SESSION_RECENT {
                    recent.pop_front();
                }
                recent.push_back(position);
            }
        } else if let Some(session) = open_session {
            let recent = self.session_recent.entry(session.clone()).or_default();
            if recent.len() == SESSION_RECENT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
    }

    /// Every event an agent writes is a heartbeat. Its actor names the agent as its process
    /// was told (`GIT_LEDGER_AGENT`): the full id, or a prefix resolved against the agents
    /// known at this point.
    fn heard_from(&mut self, actor: &str, time: DateTime<Utc>) {
        let Some(name) = actor.strip_prefix("agent:") else {
            return;
        };
        if let Some(agent) = self.agents.get_mut(name) {
            agent.seen(time);
        } else if let Ok(id) = self.resolve(EntityKind::Agent, name)
            && let Some(agent) = self.agents.get_mut(&id)
        {
            agent.seen(time);
        }
    }

    fn fold(&mut self, event: &Event, subject: &str, time: DateTime<Utc>, at: usize) -> Applied {
        if subject.is_empty() && kind::is_known(&event.kind) {
            // Every known kind is about an entity; one without a subject cannot be placed.
            return Applied::Orphan;
        }
        match &event.body {
            Body::ObjectiveCreated(b) => self.objectives.insert(
                subject.to_string(),
                Objective {
                    id: subject.to_string(),
                    title: b.title.clone(),
                    description: b.description.clone(),
                    status: ObjectiveStatus::Active,
                    outcome: None,
                    created: time,
                    completed: None,
                    budget_micros: b.budget_micros,
                    plan: b.plan.clone(),
                },
            ),
            Body::ObjectiveBudgetSet(b) => {
                let Some(objective) = self.objectives.get_mut(subject) else {
                    return Applied::Orphan;
                };
                objective.budget_micros = Some(b.budget_micros);
            }
            Body::ObjectiveCompleted(b) => {
                let Some(objective) = self.objectives.get_mut(subject) else {
                    return Applied::Orphan;
                };
                objective.status = ObjectiveStatus::Done;
                objective.outcome = b.outcome.clone();
                objective.completed = Some(time);
            }
            Body::TaskCreated(b) => self.tasks.insert(
                subject.to_string(),
                Task {
                    id: subject.to_string(),
                    title: b.title.clone(),
                    description: b.description.clone(),
                    objective: b.objective.clone(),
                    priority: b.priority,
                    estimate_minutes: b.estimate_minutes.filter(|m| *m <= MAX_ESTIMATE_MINUTES),
                    depends_on: b.depends_on.clone(),
                    role: b.role.clone(),
                    validation: b.validation.clone().unwrap_or_default(),
                    stage: b.stage.clone(),
                    plan_key: b.plan_key.clone(),
                    status: TaskStatus::Open,
                    created: time,
                    created_by: event.actor.clone(),
                    notes: Vec::new(),
                    block_reason: None,
                    summary: None,
                    completed: None,
                    forced_over: None,
                    branches: Vec::new(),
                    commits: Vec::new(),
                    review: Review::None,
                    approvals: Vec::new(),
                    started_by: Vec::new(),
                    merges: Vec::new(),
                    worked_ms: 0,
                    in_progress_since: None,
                    claims: Claims::default(),
                    checks: Vec::new(),
                    history: vec![at],
                    status_event: Some(StatusEvent::of(event)),
                },
            ),
            Body::TaskStarted(b) => {
                // Starting a task moves the worktree's focus: the task it leaves pauses.
                if let Some(worktree) = &b.worktree {
                    let key = (event.writer.clone(), worktree.to_string());
                    if self
                        .focus
                        .get(&key)
                        .is_some_and(|focused| focused != subject)
                    {
                        self.pause_focus(&key, time);
                    }
                }
                return self.fold_task(event, subject, time, at);
            }
            Body::TaskDependencyAdded(_)
            | Body::TaskNoted(_)
            | Body::TaskBlocked(_)
            | Body::TaskCompleted(_)
            | Body::TaskReopened(_)
            | Body::TaskCancelled(_)
            | Body::TaskUpdated(_)
            | Body::TaskClaimed(_)
            | Body::TaskClaimRenewed(_)
            | Body::TaskReleased(_)
            | Body::ReviewRequested(_)
            | Body::ReviewApproved(_)
            | Body::ReviewRejected(_)
            | Body::CheckRecorded(_) => return self.fold_task(event, subject, time, at),
            // Hooks record what they saw: the task as named in a branch or trailer, which may
            // be an abbreviated id; it is resolved against the tasks known at this point.
            Body::BranchLinked(_) | Body::CommitLinked(_) | Body::MergeRecorded(_) => {
                let resolved = self.resolve(EntityKind::Task, subject).ok();
                return match resolved {
                    Some(id) => self.fold_task(event, &id, time, at),
                    None => Applied::Orphan,
                };
            }
            Body::InsightAdded(b) => self.insights.insert(
                subject.to_string(),
                Insight {
                    id: subject.to_string(),
                    text: b.text.clone(),
                    tags: b.tags.clone(),
                    knowledge: b.knowledge,
                    task: b.task.clone(),
                    created: time,
                    actor: event.actor.clone(),
                },
            ),
            Body::InsightPromoted(_) => {
                let Some(insight) = self.insights.get_mut(subject) else {
                    return Applied::Orphan;
                };
                insight.knowledge = true;
            }
            Body::DecisionRequested(b) => self.decisions.insert(
                subject.to_string(),
                Decision {
                    id: subject.to_string(),
                    question: b.question.clone(),
                    options: b.options.clone(),
                    task: b.task.clone(),
                    status: DecisionStatus::Open,
                    choice: None,
                    rationale: None,
                    requested: time,
                    made: None,
                },
            ),
            Body::DecisionMade(b) => {
                let Some(decision) = self.decisions.get_mut(subject) else {
                    return Applied::Orphan;
                };
                decision.status = DecisionStatus::Made;
                decision.choice = Some(b.choice.clone());
                decision.rationale = Some(b.rationale.clone());
                decision.made = Some(time);
            }
            Body::SessionStarted(b) => {
                let worktree = b.worktree.clone();
                // The task still in focus there from an earlier session counts again.
                self.resume_focus(&(event.writer.clone(), worktree.clone()), time);
                self.sessions.insert(
                    subject.to_string(),
                    Session {
                        id: subject.to_string(),
                        title: b.title.clone(),
                        writer: event.writer.clone(),
                        worktree,
                        actor: event.actor.clone(),
                        started: time,
                        ended: None,
                        summary: None,
                        abandoned: false,
                        resumes: 0,
                        continues: b.continues.clone(),
                        harness_session: b.harness_session.clone(),
                        usage: None,
                    },
                );
            }
            Body::SessionResumed(b) => {
                let Some(session) = self.sessions.get_mut(subject) else {
                    return Applied::Orphan;
                };
                session.resumes += 1;
                // Resuming from another worktree (or clone) moves the session there.
                if let Some(worktree) = &b.worktree {
                    session.worktree = worktree.clone();
                    session.writer = event.writer.clone();
                }
                let key = (session.writer.clone(), session.worktree.clone());
                self.resume_focus(&key, time);
            }
            Body::SessionEnded(b) => {
                let Some(session) = self.sessions.get_mut(subject) else {
                    return Applied::Orphan;
                };
                session.ended = Some(time);
                session.summary = b.summary.clone();
                let key = (session.writer.clone(), session.worktree.clone());
                session.abandoned = b.abandoned;
                session.usage = Usage::recorded(&b.model, b.tokens, b.cost_micros);
                // Open sessions show their last actions, and the session that ended last in a
                // worktree shows them to the next one there; the cache carries no others.
                if let Some(old) = self.last_ended.insert(key.clone(), subject.to_string())
                    && old != subject
                {
                    self.session_recent.remove(&old);
                    if let Some(positions) = &mut self.session_recent_at {
                        positions.remove(&old);
                    }
                }
                // Work is counted in sessions: the task in focus there pauses.
                self.pause_focus(&key, time);
            }
            Body::AgentSpawned(b) => self.agents.insert(
                subject.to_string(),
                Agent {
                    id: subject.to_string(),
                    role: b.role.clone(),
                    mission: b.mission.clone(),
                    task: b.task.clone(),
                    worktree: b.worktree.clone(),
                    branch: b.branch.clone(),
                    command: b.command.clone().unwrap_or_default(),
                    retry: b.retry.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                    fallback: b.fallback.clone().unwrap_or_default(),
                    attempts: Vec::new(),
                    source_id: b.source_id.clone(),
                    spawned: time,
                    spawned_by: event.actor.clone(),
                    last_seen: Some(time),
                    session: event.session.clone(),
                    exited: None,
                    outcome: None,
                    status: None,
                    signal: None,
                    duration_ms: None,
                    summary: None,
                    usage: None,
                },
            ),
            Body::AgentExited(b) => {
                let Some(agent) = self.agents.get_mut(subject) else {
                    return Applied::Orphan;
                };
                // Recorded once by the tool; if two clones disagree, the later event wins.
                agent.exited = Some(time);
                agent.outcome = Some(b.outcome.clone());
                agent.status = b.status.and_then(|s| i32::try_from(s).ok());
                agent.signal = b.signal.clone();
                agent.duration_ms = Some(b.duration_ms);
                agent.summary = b.summary.clone();
                agent.usage = Usage::recorded(&b.model, b.tokens, b.cost_micros);
                // Its run was its task's work time: the task pauses, unless someone still
                // has it in focus elsewhere.
                let (task, own) = (agent.task.clone(), agent.worktree.clone());
                if let Some(task) = task {
                    let elsewhere = self
                        .focus
                        .iter()
                        .any(|((_, w), t)| *t == task && Some(w) != own.as_ref());
                    if !elsewhere {
                        self.pause(&task, time);
                    }
                }
            }
            Body::AgentHeartbeat(_) => {
                let Some(agent) = self.agents.get_mut(subject) else {
                    return Applied::Orphan;
                };
                agent.seen(time);
            }
            Body::AgentAttempted(b) => {
                let Some(agent) = self.agents.get_mut(subject) else {
                    return Applied::Orphan;
                };
                // The next attempt starts as this one ends: a sign of life.
                agent.seen(time);
                agent.attempts.push(Attempt {
                    attempt: b.attempt,
                    command: b.command.clone(),
                    status: b.status.and_then(|s| i32::try_from(s).ok()),
                    signal: b.signal.clone(),
                    outcome: b.outcome.clone(),
                    duration_ms: b.duration_ms,
                    summary: b.summary.clone(),
                    time,
                });
            }
            Body::MemoryCompacted(b) => {
                let Ok(before) = DateTime::parse_from_rfc3339(&b.before) else {
                    return Applied::Orphan;
                };
                self.compactions.push(Compaction {
                    id: subject.to_string(),
                    before: before.with_timezone(&Utc),
                    summary: b.summary.clone(),
                    events: b.events,
                    from_event: b.from_event.clone(),
                    to_event: b.to_event.clone(),
                    time,
                    actor: event.actor.clone(),
                });
            }
            // A writer's key is the signing module's; it changes no entity.
            Body::WriterRegistered(_) => {}
            Body::Unknown(_) => return Applied::UnknownKind,
        }
        Applied::Yes
    }

    fn fold_task(&mut self, event: &Event, id: &str, time: DateTime<Utc>, at: usize) -> Applied {
        let Some(task) = self.tasks.get_mut(id) else {
            return Applied::Orphan;
        };
        // Positions in `events`, which only a complete state holds.
        if self.complete {
            task.history.push(at);
        }
        if kind::is_status_change(&event.kind)
            && let Some(conflict) = task::status_change(task, event, time)
        {
            self.conflicts.push(conflict);
        }
        match &event.body {
            Body::TaskStarted(started) => {
                if let Some(worktree) = task::start(task, started, event, time) {
                    self.focus
                        .insert((event.writer.clone(), worktree), id.to_string());
                }
            }
            Body::TaskCompleted(_) | Body::TaskCancelled(_) => {
                task::close(task, event, time);
                self.focus.retain(|_, focused| focused != id);
            }
            Body::TaskBlocked(_) | Body::TaskReopened(_) => task::close(task, event, time),
            _ => return task::apply(task, event, time),
        }
        Applied::Yes
    }

    /// Recompute how many hex digits make every id unique (call after applying events).
    pub fn refresh_abbrev(&mut self) {
        let mut len = self.abbrev.max(MIN_ABBREV);
        if self.tasks.is_frozen() {
            // Read from the cache with its abbreviation: only ids added since can lengthen it.
            // Each is compared, once, with the ids that sort next to its hex in every table,
            // and with the other added ids, sorted, each with its neighbour (a build of the
            // index adds a hundred thousand at a time; no pass over the whole ledger).
            let tables = self.id_tables();
            len = len.max(neighbours_abbrev(self.added_ids().map(hex_part)));
            let mut checked = self.abbrev_checked;
            let mut new = Vec::new();
            for ((_, ids), checked) in tables.iter().zip(&mut checked) {
                let before = *checked;
                new.extend(ids.added().skip(before).inspect(|_| *checked += 1));
            }
            for new in new {
                let new_hex = hex_part(new);
                // Most ids share fewer than `len` characters with every other: one probe of
                // each table's id index says so, and only a possible match is looked at closely.
                let may_collide = new_hex.get(..len).is_none_or(|probe| {
                    tables.iter().any(|(kind, ids)| {
                        let prefix = format!("{}-{probe}", kind.prefix());
                        ids.may_have_other_starting_with(&prefix, new)
                    })
                });
                if !may_collide {
                    continue;
                }
                let near: Vec<&str> = tables
                    .iter()
                    .flat_map(|(kind, ids)| ids.near(&format!("{}-{new_hex}", kind.prefix())))
                    .collect();
                for other in near.into_iter().filter(|other| *other != new) {
                    len = len.max(common_prefix(new_hex, hex_part(other)) + 1);
                }
            }
            self.abbrev_checked = checked;
        } else {
            len = len.max(neighbours_abbrev(self.all_ids().map(hex_part)));
        }
        self.abbrev = len;
    }

    /// Recompute the abbreviation after a build of the index in batches, which left it to
    /// the end: every table carries all its ids in memory then, so one sort of them does
    /// what a probe of the index per new id per batch did. Else as [`State::refresh_abbrev`].
    pub fn refresh_abbrev_after_build(&mut self) {
        let added = self.id_tables().map(|(_, ids)| ids.added().count());
        let mut ids = Vec::new();
        let carried = self.objectives.carried_ids(&mut ids)
            && self.tasks.carried_ids(&mut ids)
            && self.insights.carried_ids(&mut ids)
            && self.decisions.carried_ids(&mut ids)
            && self.sessions.carried_ids(&mut ids)
            && self.agents.carried_ids(&mut ids);
        if !carried {
            self.refresh_abbrev();
            return;
        }
        let len = neighbours_abbrev(ids.into_iter().map(hex_part));
        self.abbrev = len.max(self.abbrev).max(MIN_ABBREV);
        self.abbrev_checked = added;
    }

    /// Each kind's table, as ids.
    fn id_tables(&self) -> [(EntityKind, &dyn Ids); 6] {
        [
            (EntityKind::Objective, &self.objectives),
            (EntityKind::Task, &self.tasks),
            (EntityKind::Insight, &self.insights),
            (EntityKind::Decision, &self.decisions),
            (EntityKind::Session, &self.sessions),
            (EntityKind::Agent, &self.agents),
        ]
    }

    /// Every entity id of every kind, without decoding any entity.
    fn all_ids(&self) -> impl Iterator<Item = &str> {
        self.id_tables().into_iter().flat_map(|(_, ids)| ids.all())
    }

    /// The ids added since the state was read from the cache.
    fn added_ids(&self) -> impl Iterator<Item = &str> {
        self.id_tables()
            .into_iter()
            .flat_map(|(_, ids)| ids.added())
    }

    /// The id as shown to people: the shortest prefix that is unique in this ledger.
    pub fn short(&self, id: &str) -> String {
        match id.split_once('-') {
            Some((prefix, hex)) if hex.chars().count() > self.abbrev => {
                format!("{prefix}-{}", crate::event::prefix(hex, self.abbrev))
            }
            _ => id.to_string(),
        }
    }

    /// The display id of an entity whose creation is not folded yet: long enough to be unique
    /// among every id the ledger has, and never shorter than the ledger's abbreviation. Names
    /// made from it before the event is appended (an agent's branch) cannot collide.
    pub fn short_for_new(&self, id: &str) -> String {
        let Some((prefix, hex)) = id.split_once('-') else {
            return id.to_string();
        };
        let len = self
            .all_ids()
            .filter(|other| *other != id)
            .map(|other| common_prefix(other.split_once('-').map_or(other, |(_, h)| h), hex) + 1)
            .fold(self.abbrev.max(MIN_ABBREV), usize::max)
            .min(hex.len());
        format!("{prefix}-{}", hex.get(..len).unwrap_or(hex))
    }

    /// The session that ended last in this writer's worktree, unless it is `current`.
    pub fn previous_session(
        &self,
        writer: &str,
        worktree: &Path,
        current: Option<&str>,
    ) -> Option<&Session> {
        let key = (writer.to_string(), worktree.to_string_lossy().into_owned());
        let id = self.last_ended.get(&key)?;
        (current != Some(id.as_str()))
            .then(|| self.sessions.get(id))
            .flatten()
    }

    /// Stop the clock of the task in focus at `key` (a writer's worktree), if it runs.
    fn pause_focus(&mut self, key: &(String, String), time: DateTime<Utc>) {
        if let Some(id) = self.focus.get(key).cloned() {
            self.pause(&id, time);
        }
    }

    /// Stop task `id`'s clock, if it runs (only then is the task changed).
    fn pause(&mut self, id: &str, time: DateTime<Utc>) {
        if self
            .tasks
            .get(id)
            .is_some_and(|t| t.in_progress_since.is_some())
            && let Some(task) = self.tasks.get_mut(id)
        {
            task.stop_clock(time);
        }
    }

    /// Run again the clock of the task in focus at `key`, when it is in progress and paused
    /// (only then is the task changed).
    fn resume_focus(&mut self, key: &(String, String), time: DateTime<Utc>) {
        let Some(id) = self.focus.get(key).cloned() else {
            return;
        };
        let paused = |t: &Task| t.status == TaskStatus::InProgress && t.in_progress_since.is_none();
        if self.tasks.get(&id).is_some_and(paused)
            && let Some(task) = self.tasks.get_mut(&id)
        {
            task.in_progress_since = Some(time);
        }
    }

    /// The task in focus in this writer's worktree, if any.
    pub fn focus(&self, writer: &str, worktree: &Path) -> Option<&Task> {
        let key = (writer.to_string(), worktree.to_string_lossy().into_owned());
        self.focus.get(&key).and_then(|id| self.tasks.get(id))
    }

    /// This writer's newest session that records the harness session `key`.
    pub fn harness_session(&self, writer: &str, key: &str) -> Option<&Session> {
        self.sessions
            .briefs()
            .rev()
            .filter(|(_, b)| brief::session_place(b).is_some_and(|(w, _)| w == writer))
            .filter_map(|(i, _)| self.sessions.at(i))
            .find(|s| s.harness_session.as_deref() == Some(key))
    }

    /// The open session of this writer's worktree, the most recently started one if several.
    pub fn open_session(&self, writer: &str, worktree: &Path) -> Option<&Session> {
        let worktree = worktree.to_string_lossy();
        // The open sessions' set, not every session's brief: a ledger has thousands.
        let i = brief::open_positions(&self.sessions).rev().find(|&i| {
            brief::session_place(self.sessions.brief_at(i)) == Some((writer, &worktree))
        })?;
        self.sessions.at(i)
    }

    /// Resolve what a user typed (`t-3f9a2c`, `3f9a2c`, a full id) to one entity id.
    pub fn resolve(&self, kind: EntityKind, input: &str) -> Result<String, Resolve> {
        let input = input.trim().to_ascii_lowercase();
        let prefix = format!("{}-", kind.prefix());
        let wanted = if input.starts_with(&prefix) {
            input.clone()
        } else {
            format!("{prefix}{input}")
        };
        let hex = &wanted[prefix.len()..];
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Resolve::Malformed);
        }
        let mut matches: Vec<String> = self
            .id_tables()
            .into_iter()
            .filter(|(of, _)| *of == kind)
            .flat_map(|(_, ids)| ids.starting_with(&wanted))
            .map(str::to_string)
            .collect();
        matches.sort();
        match matches.len() {
            0 => Err(Resolve::Unknown),
            1 => Ok(matches.remove(0)),
            _ => Err(Resolve::Ambiguous(matches)),
        }
    }

    /// Open tasks whose dependencies are all done, highest priority (lowest number) first.
    /// What `ready` offers a holder: the ready tasks (for `role`, if given) it may take, and
    /// those another holder's live claim keeps from it.
    /// At most `limit` of those it may take are returned (all with `None`), with how many
    /// more there are: only what is returned is decoded.
    pub fn ready_split(
        &self,
        role: Option<&str>,
        holder: &str,
        writer: &str,
        now: DateTime<Utc>,
        limit: Option<usize>,
    ) -> ReadySplit<'_> {
        let now_ms = now.timestamp_millis();
        let mut split = ReadySplit::default();
        // Only the tasks with a claim are looked at closer (few, next to the ready ones).
        let held_by_other = |i: usize| {
            let claimed =
                TaskBrief::parse(self.tasks.brief_at(i)).is_some_and(|b| b.claimed_at(now_ms));
            claimed
                && self
                    .tasks
                    .at(i)
                    .is_some_and(|t| t.claims.held_by_other(holder, writer, now).is_some())
        };
        let ready = self.ready_list();
        // Ready and claimed by another holder, in the order of the ready list.
        let mut claimed_ready: Vec<(u8, u32)> = self
            .tasks
            .keyed(brief::TASK_CLAIMED)
            .iter()
            .filter_map(|&i| {
                Some((
                    TaskBrief::parse(self.tasks.brief_at(i as usize))?.priority,
                    i,
                ))
            })
            .filter(|entry| ready.binary_search(entry).is_ok())
            .filter(|&(_, i)| role.is_none_or(|role| self.task_role(i as usize) == Some(role)))
            .filter(|&(_, i)| held_by_other(i as usize))
            .collect();
        claimed_ready.sort_unstable();
        let mut claimed_positions: Vec<u32> = claimed_ready.iter().map(|&(_, i)| i).collect();
        claimed_positions.sort_unstable();
        let is_claimed = |i: &usize| claimed_positions.binary_search(&(*i as u32)).is_ok();
        let all = match role {
            None => ready.len(),
            Some(_) => self.ready_iter(role).count(),
        };
        let free = self.ready_iter(role).filter(|i| !is_claimed(i));
        let shown: Vec<usize> = free.take(limit.unwrap_or(usize::MAX)).collect();
        split.more = all - claimed_ready.len() - shown.len();
        split.ready = shown.iter().filter_map(|&i| self.tasks.at(i)).collect();
        split.claimed = claimed_ready
            .iter()
            .filter_map(|&(_, i)| self.tasks.at(i as usize))
            .collect();
        split
    }

    /// The ready tasks for one role (every ready task when `role` is `None`).
    pub fn ready_for_role(&self, role: Option<&str>) -> Vec<&Task> {
        self.ready_positions(role)
            .into_iter()
            .filter_map(|i| self.tasks.at(i))
            .collect()
    }

    pub fn ready(&self) -> Vec<&Task> {
        self.ready_positions(None)
            .into_iter()
            .filter_map(|i| self.tasks.at(i))
            .collect()
    }

    /// Positions of the ready tasks (of `role`, if given), highest priority first, then
    /// oldest first.
    pub fn ready_positions(&self, role: Option<&str>) -> Vec<usize> {
        self.ready_iter(role).collect()
    }

    /// [`State::ready_positions`], one at a time: taking the first few costs the same at any
    /// size of ledger.
    pub fn ready_iter<'a>(&'a self, role: Option<&'a str>) -> impl Iterator<Item = usize> + 'a {
        self.ready_list()
            .iter()
            .map(|&(_, i)| i as usize)
            .filter(move |&i| role.is_none_or(|role| self.task_role(i) == Some(role)))
    }

    /// How many tasks are ready.
    pub fn ready_count(&self) -> usize {
        self.ready_list().len()
    }

    /// The task [`State::ready_positions`] would put first.
    pub fn top_ready(&self, role: Option<&str>) -> Option<usize> {
        self.ready_iter(role).next()
    }

    fn task_role(&self, i: usize) -> Option<&str> {
        TaskBrief::parse(self.tasks.brief_at(i))?.role
    }

    /// What the kept lists are worked out from.
    fn of(&self) -> kept::Of<'_> {
        kept::Of {
            tasks: &self.tasks,
            objectives: &self.objectives,
        }
    }

    /// The ready tasks as (priority, position), ascending.
    fn ready_list(&self) -> &[(u8, u32)] {
        self.kept.ready(&self.of())
    }

    /// (tasks done, tasks in all) of an objective; cancelled tasks are not counted.
    pub fn objective_progress(&self, objective: &str) -> (usize, usize) {
        match self.objectives.position(objective) {
            Some(i) => self.kept.progress(&self.of(), i),
            None => (0, 0),
        }
    }

    /// Positions of the tasks with `status`, in creation order (kept by the cache).
    pub fn tasks_with(&self, status: TaskStatus) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.tasks
            .keyed(brief::status_key(status))
            .iter()
            .map(|&i| i as usize)
    }

    /// How many tasks have `status`.
    pub fn task_count(&self, status: TaskStatus) -> usize {
        self.tasks.key_count(brief::status_key(status))
    }

    /// Positions of the tasks with a claim, live or not, in creation order.
    pub fn claimed_tasks(&self) -> impl Iterator<Item = usize> + '_ {
        self.tasks
            .keyed(brief::TASK_CLAIMED)
            .iter()
            .map(|&i| i as usize)
    }

    /// Every task's position and brief, in creation order, without decoding any task.
    pub fn task_briefs(&self) -> impl DoubleEndedIterator<Item = (usize, TaskBrief<'_>)> {
        self.tasks
            .briefs()
            .filter_map(|(i, bytes)| Some((i, TaskBrief::parse(bytes)?)))
    }

    /// Whether a task is done or cancelled (an unknown one is not).
    fn is_closed_task(&self, id: &str) -> bool {
        self.of().is_closed(id)
    }

    /// The dependencies of a task that are not done (unknown ones count as not done).
    pub fn unmet_dependencies<'a>(&self, task: &'a Task) -> Vec<&'a str> {
        task.depends_on
            .iter()
            // A cancelled dependency no longer holds anything up.
            .filter(|dep| !self.is_closed_task(dep))
            .map(String::as_str)
            .collect()
    }

    /// If `task` depended on `deps`, the cycle this would close, as a path from `task` back to
    /// itself.
    pub fn dependency_cycle(&self, task: &str, deps: &[String]) -> Option<Vec<String>> {
        for dep in deps {
            if dep == task {
                return Some(vec![task.to_string(), task.to_string()]);
            }
            // Depth-first search from the dependency back to the task.
            let mut stack = vec![vec![dep.clone()]];
            let mut visited = std::collections::HashSet::new();
            while let Some(path) = stack.pop() {
                let Some(last) = path.last() else { continue };
                if last == task {
                    let mut cycle = vec![task.to_string()];
                    cycle.extend(path);
                    return Some(cycle);
                }
                if !visited.insert(last.clone()) {
                    continue;
                }
                if let Some(t) = self.tasks.get(last) {
                    for next in &t.depends_on {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        stack.push(longer);
                    }
                }
            }
        }
        None
    }

    /// The events of one session, in order.
    pub fn session_events<'a>(
        &'a self,
        session: &'a str,
    ) -> impl DoubleEndedIterator<Item = &'a Event> {
        self.events
            .iter()
            .filter(move |e| e.session.as_deref() == Some(session))
    }

    /// A subject's title for display: the task's, objective's, ... title or text.
    pub fn title_of(&self, id: &str) -> Option<&str> {
        if let Some(t) = self.tasks.get(id) {
            return Some(&t.title);
        }
        if let Some(o) = self.objectives.get(id) {
            return Some(&o.title);
        }
        if let Some(d) = self.decisions.get(id) {
            return Some(&d.question);
        }
        if let Some(i) = self.insights.get(id) {
            return Some(&i.text);
        }
        if let Some(a) = self.agents.get(id) {
            return Some(&a.mission);
        }
        self.sessions.get(id).and_then(|s| s.title.as_deref())
    }
}

/// Two concurrent status changes of one task: `event` was written without having seen
/// `overrode`, which precedes it in the total order. The later one (`event`) wins, as always;
/// the conflict only makes that visible.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conflict {
    pub task: String,
    pub event: String,
    pub kind: String,
    pub actor: String,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrode_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrode_actor: Option<String>,
}

pub(crate) enum Applied {
    Yes,
    UnknownKind,
    Orphan,
}

/// Why an id could not be resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolve {
    Unknown,
    Ambiguous(Vec<String>),
    Malformed,
}

/// (De)serialize a map with pair keys as a list, for formats whose map keys must be strings.
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;

    type Map = HashMap<(String, String), String>;

    pub fn serialize<S: Serializer>(map: &Map, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list: Vec<(&(String, String), &String)> = map.iter().collect();
        list.sort();
        list.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Map, D::Error> {
        let list: Vec<((String, String), String)> = Vec::deserialize(deserializer)?;
        Ok(list.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_with(rules: Vec<Rule>, results: &[(&Rule, &str, bool, i64)]) -> Task {
        let created = DateTime::from_timestamp_millis(0).unwrap_or_default();
        let mut task = Task {
            id: "t-abc123".into(),
            title: "t".into(),
            description: None,
            objective: None,
            priority: 2,
            estimate_minutes: None,
            depends_on: vec![],
            role: None,
            validation: rules,
            stage: None,
            plan_key: None,
            status: TaskStatus::Open,
            created,
            created_by: "human:a".into(),
            notes: vec![],
            block_reason: None,
            summary: None,
            completed: None,
            forced_over: None,
            branches: vec![],
            commits: vec![],
            review: Review::None,
            approvals: Vec::new(),
            started_by: Vec::new(),
            merges: vec![],
            worked_ms: 0,
            in_progress_since: None,
            claims: Claims::default(),
            checks: vec![],
            history: vec![],
            status_event: None,
        };
        for (rule, commit, passed, at) in results {
            task.checks.push(CheckResult {
                rule: (*rule).clone(),
                commit: commit.to_string(),
                passed: *passed,
                time: DateTime::from_timestamp_millis(*at).unwrap_or_default(),
                actor: "human:a".into(),
                duration_ms: None,
                exit_status: None,
                output_digest: None,
            });
        }
        task
    }

    #[test]
    fn check_states_are_about_one_commit() {
        let test = Rule::Command("cargo test".into());
        let lint = Rule::Command("cargo clippy".into());
        let docs = Rule::Item("docs".into());
        let task = task_with(
            vec![test.clone(), lint.clone(), docs.clone()],
            &[
                (&test, "c1", true, 1),
                (&lint, "c2", false, 2),
                (&test, "c2", true, 3),
            ],
        );
        let states: Vec<CheckState> = task
            .check_states("c2")
            .into_iter()
            .map(|c| c.state)
            .collect();
        assert_eq!(
            states,
            [
                CheckState::Passing,
                CheckState::Failing,
                CheckState::NeverRun
            ]
        );
        let states: Vec<CheckState> = task
            .check_states("c3")
            .into_iter()
            .map(|c| c.state)
            .collect();
        assert_eq!(
            states,
            [
                CheckState::Stale {
                    passed_at: "c2".into()
                },
                CheckState::NeverRun,
                CheckState::NeverRun
            ]
        );
        assert_eq!(
            task.unpassed_checks(Some("c2")),
            [
                "check \"cargo clippy\" has no passing result at c2 (failed)",
                "item \"docs\" has no passing result at c2 (has not been run)"
            ]
        );
        assert_eq!(task.unpassed_checks(None).len(), 3);
        assert!(task_with(vec![], &[]).unpassed_checks(None).is_empty());
    }

    #[test]
    fn a_rerun_at_the_same_commit_replaces_the_result() {
        let test = Rule::Command("cargo test".into());
        let mut state = State::from_events(vec![]);
        let mut task = task_with(vec![test.clone()], &[]);
        task.id = "t-abc123".into();
        state.tasks.insert(task.id.clone(), task);
        let event = |passed: bool, hlc: u64| {
            Event::seal(
                kind::CHECK_RECORDED,
                "2026-01-05T09:00:00Z".into(),
                hlc,
                "w",
                None,
                "human:a",
                Some("t-abc123".into()),
                crate::event::body::CheckRecorded {
                    rule: Rule::Command("cargo test".into()),
                    passed,
                    commit: "c1".into(),
                    duration_ms: None,
                    output_digest: None,
                    output_tail: None,
                    exit_status: None,
                }
                .into(),
            )
        };
        state.apply(event(false, 1));
        state.apply(event(true, 2));
        let task = state.tasks.get("t-abc123").expect("task");
        assert_eq!(task.checks.len(), 1);
        assert!(task.unpassed_checks(Some("c1")).is_empty());
    }
}
