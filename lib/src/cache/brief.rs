//! Briefs: the few facts of each entity the hot views filter on, in a handful of bytes kept
//! beside it (see [`Briefed`]). A brief is always computed from the entity, so it can never
//! disagree with it; reading one never decodes the entity.

pub use super::table::Briefed;
use super::table::Table;
use crate::model::{
    Agent, Decision, DecisionStatus, Insight, Objective, ObjectiveStatus, Session, Task, TaskStatus,
};
use serde::de::DeserializeOwned;

/// Key sets of tasks (see [`Briefed::keys`]): one per status, at the status's code, then
/// these.
pub const TASK_CLAIMED: usize = 5;
/// Tasks on which claims were lost (any status).
pub const TASK_LOST_CLAIMS: usize = 6;
/// Tasks with a role that are not closed.
pub const TASK_ROLE_OPEN: usize = 7;
/// Key set of the other kinds: their brief's first flag (active objectives, open decisions
/// and sessions, running agents).
pub const OPEN: usize = 0;
/// Their brief's second flag (objectives with a budget, sessions and agents with usage).
pub const SECOND: usize = 1;

/// The key set of the tasks with this status.
pub fn status_key(status: TaskStatus) -> usize {
    status_code(status) as usize
}

/// Bits of the two flags a brief starts with.
fn flag_keys(brief: &[u8]) -> u8 {
    u8::from(first_flag(brief)) << OPEN | u8::from(second_flag(brief)) << SECOND
}

const HAS_ROLE: u8 = 1;
const HAS_CLAIM: u8 = 2;
const HAS_LOST_CLAIMS: u8 = 4;
const HAS_OBJECTIVE: u8 = 8;

fn put_str(out: &mut Vec<u8>, text: &str) {
    // Role names, writer ids and worktree paths; anything longer is cut, and a cut brief
    // only ever makes a view decode the entity to look closer.
    let bytes = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads a brief front to back; any short read ends it as `None`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let taken = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(taken)
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.bytes(2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u16()? as usize;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
}

fn status_code(status: TaskStatus) -> u8 {
    match status {
        TaskStatus::Open => 0,
        TaskStatus::InProgress => 1,
        TaskStatus::Blocked => 2,
        TaskStatus::Done => 3,
        TaskStatus::Cancelled => 4,
    }
}

/// A task's status from the first byte of its brief, without reading the rest.
pub fn task_status(brief: &[u8]) -> Option<TaskStatus> {
    status_of(*brief.first()?)
}

fn status_of(code: u8) -> Option<TaskStatus> {
    Some(match code {
        0 => TaskStatus::Open,
        1 => TaskStatus::InProgress,
        2 => TaskStatus::Blocked,
        3 => TaskStatus::Done,
        4 => TaskStatus::Cancelled,
        _ => return None,
    })
}

/// A task's brief: status, priority, objective, role, when its claim expires, whether claims
/// were lost on it, and the ids it depends on.
pub struct TaskBrief<'a> {
    pub status: TaskStatus,
    pub priority: u8,
    pub objective: Option<&'a str>,
    pub role: Option<&'a str>,
    /// When the latest claim kept expires (milliseconds since the epoch), live or not.
    pub claim_expires_ms: Option<i64>,
    pub lost_claims: bool,
    deps: Reader<'a>,
    dep_count: u16,
}

impl Briefed for Task {
    fn brief(&self, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.role.is_some() {
            flags |= HAS_ROLE;
        }
        if self.claims.current.is_some() {
            flags |= HAS_CLAIM;
        }
        if !self.claims.lost.is_empty() {
            flags |= HAS_LOST_CLAIMS;
        }
        if self.objective.is_some() {
            flags |= HAS_OBJECTIVE;
        }
        out.extend_from_slice(&[status_code(self.status), self.priority, flags]);
        // The latest expiry kept: a claim displaced by one from the future may be the live one.
        if let Some(expires) = self.claims.last_expiry() {
            out.extend_from_slice(&expires.timestamp_millis().to_le_bytes());
        }
        if let Some(objective) = &self.objective {
            put_str(out, objective);
        }
        if let Some(role) = &self.role {
            put_str(out, role);
        }
        let deps = &self.depends_on[..self.depends_on.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(deps.len() as u16).to_le_bytes());
        for dep in deps {
            put_str(out, dep);
        }
    }

    fn keys(brief: &[u8]) -> u8 {
        let Some(task) = TaskBrief::parse(brief) else {
            return 0;
        };
        let mut keys = 1 << status_key(task.status);
        if task.claim_expires_ms.is_some() {
            keys |= 1 << TASK_CLAIMED;
        }
        if task.lost_claims {
            keys |= 1 << TASK_LOST_CLAIMS;
        }
        if task.role.is_some() && !task.status.is_closed() {
            keys |= 1 << TASK_ROLE_OPEN;
        }
        keys
    }

    /// Its objective and the tasks it depends on.
    fn refs<'a>(brief: &'a [u8], out: &mut Vec<&'a str>) {
        if let Some(task) = TaskBrief::parse(brief) {
            out.extend(task.objective);
            out.extend(task.deps());
        }
    }
}

impl<'a> TaskBrief<'a> {
    pub fn parse(bytes: &'a [u8]) -> Option<TaskBrief<'a>> {
        let mut r = Reader(bytes);
        let status = status_of(r.u8()?)?;
        let priority = r.u8()?;
        let flags = r.u8()?;
        let claim_expires_ms = if flags & HAS_CLAIM != 0 {
            Some(r.i64()?)
        } else {
            None
        };
        let objective = if flags & HAS_OBJECTIVE != 0 {
            Some(r.str()?)
        } else {
            None
        };
        let role = if flags & HAS_ROLE != 0 {
            Some(r.str()?)
        } else {
            None
        };
        let dep_count = r.u16()?;
        Some(TaskBrief {
            status,
            priority,
            objective,
            role,
            claim_expires_ms,
            lost_claims: flags & HAS_LOST_CLAIMS != 0,
            deps: r,
            dep_count,
        })
    }

    /// The ids the task depends on.
    pub fn deps(&self) -> impl Iterator<Item = &'a str> {
        let mut r = Reader(self.deps.0);
        (0..self.dep_count).map_while(move |_| r.str())
    }

    /// Whether a claim on it is live at `now_ms`.
    pub fn claimed_at(&self, now_ms: i64) -> bool {
        self.claim_expires_ms
            .is_some_and(|expires| expires > now_ms)
    }
}

/// A flag byte, for the kinds whose views need one fact.
fn flag(out: &mut Vec<u8>, set: bool) {
    out.push(u8::from(set));
}

/// The first byte of a brief as a flag (false for an empty brief).
pub fn first_flag(brief: &[u8]) -> bool {
    brief.first() == Some(&1)
}

/// The second byte of a brief as a flag.
pub fn second_flag(brief: &[u8]) -> bool {
    brief.get(1) == Some(&1)
}

/// Positions of the entities that are open: active objectives, open decisions and sessions,
/// running agents (their brief's first flag).
pub fn open_positions<T: Briefed + DeserializeOwned>(
    table: &Table<T>,
) -> impl DoubleEndedIterator<Item = usize> + ExactSizeIterator + '_ {
    table.keyed(OPEN).iter().map(|&i| i as usize)
}

/// How many entities are open (see [`open_positions`]).
pub fn open_count<T: Briefed + DeserializeOwned>(table: &Table<T>) -> usize {
    table.key_count(OPEN)
}

/// The open entities (see [`open_positions`]), decoded, oldest first.
pub fn open<T: Briefed + DeserializeOwned>(table: &Table<T>) -> impl Iterator<Item = &T> {
    open_positions(table).filter_map(|i| table.at(i))
}

/// The first `n` open entities (see [`open_positions`]), decoded, oldest first.
pub fn open_first<T: Briefed + DeserializeOwned>(
    table: &Table<T>,
    n: usize,
) -> impl Iterator<Item = &T> {
    let positions = table.keyed_first(OPEN, n);
    positions.into_iter().filter_map(|i| table.at(i as usize))
}

/// The sessions and agents that reported usage, the objectives with a budget (their brief's
/// second flag), decoded.
pub fn with_usage<T: Briefed + DeserializeOwned>(table: &Table<T>) -> impl Iterator<Item = &T> {
    table
        .keyed(SECOND)
        .iter()
        .filter_map(|&i| table.at(i as usize))
}

/// Objective: active, has a budget.
impl Briefed for Objective {
    fn brief(&self, out: &mut Vec<u8>) {
        flag(out, self.status == ObjectiveStatus::Active);
        flag(out, self.budget_micros.is_some());
    }

    fn keys(brief: &[u8]) -> u8 {
        flag_keys(brief)
    }
}

/// Decision: open.
impl Briefed for Decision {
    fn brief(&self, out: &mut Vec<u8>) {
        flag(out, self.status == DecisionStatus::Open);
    }

    fn keys(brief: &[u8]) -> u8 {
        flag_keys(brief)
    }
}

/// Insight: nothing the hot views filter on.
impl Briefed for Insight {
    fn brief(&self, _: &mut Vec<u8>) {}
}

/// Agent: running, reported usage.
impl Briefed for Agent {
    fn brief(&self, out: &mut Vec<u8>) {
        flag(out, self.is_running());
        flag(out, self.usage.is_some());
    }

    fn keys(brief: &[u8]) -> u8 {
        flag_keys(brief)
    }
}

/// Session: open, reported usage, then its writer and worktree.
impl Briefed for Session {
    fn brief(&self, out: &mut Vec<u8>) {
        flag(out, self.is_open());
        flag(out, self.usage.is_some());
        put_str(out, &self.writer);
        put_str(out, &self.worktree);
    }

    fn keys(brief: &[u8]) -> u8 {
        flag_keys(brief)
    }
}

/// A session brief's writer and worktree.
pub fn session_place(brief: &[u8]) -> Option<(&str, &str)> {
    let mut r = Reader(brief.get(2..)?);
    Some((r.str()?, r.str()?))
}
