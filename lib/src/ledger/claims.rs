//! Claiming tasks: a lease on a task, so that parallel agents do not take the same work.
//!
//! Every claim is validated inside [`Ledger::record`], against the state at the ref tip the
//! append compares-and-swaps against: of several processes claiming one task at once, one
//! appends first and the others, retrying on the new tip, see its claim and are refused.

use super::error::{InputError, WorkError};
use super::{Batch, Error, Ledger, Loaded, resolve};
use crate::event::EntityKind;
use crate::event::body::{TaskClaimRenewed, TaskClaimed, TaskReleased};
use crate::fold::state::State;
use crate::model::Task;
use crate::model::claims::Claim;
use chrono::{DateTime, Duration, Utc};

/// How long a claim lasts when no lease is given, in seconds.
pub const DEFAULT_LEASE_SECONDS: u64 = 30 * 60;
/// The longest lease: a claim is a lease, not an assignment; holders renew.
pub const MAX_LEASE_SECONDS: u64 = 7 * 24 * 60 * 60;
/// The shortest lease: a minute, the clock difference between clones a claim tolerates
/// (`model::claims`); a shorter one could lapse before another clone's clock says so.
pub const MIN_LEASE_SECONDS: u64 = 60;

/// A lease like `90s`, `30m`, `2h` or `1h30m` (as estimates are written, or seconds), from a
/// minute to a week; in seconds.
pub fn parse_lease(input: &str) -> Result<u64, Error> {
    let trimmed = input.trim();
    let seconds = match trimmed.strip_suffix('s') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u64>().ok()
        }
        _ => super::parse_estimate(trimmed)
            .ok()
            .map(|m| m.saturating_mul(60)),
    };
    match seconds {
        Some(s) if (MIN_LEASE_SECONDS..=MAX_LEASE_SECONDS).contains(&s) => Ok(s),
        _ => Err(Error::Input(InputError::BadLease(input.to_string()))),
    }
}

impl Ledger {
    /// Claim a task for this process's actor (`input`, else the top ready task nobody else
    /// holds) for `lease_seconds`. Claiming a task one holds already extends the lease.
    pub fn task_claim(
        &self,
        input: Option<&str>,
        lease_seconds: u64,
    ) -> Result<(Loaded, Task), Error> {
        let holder = self.actor().to_string();
        let (loaded, id) = self.record(|state, batch| {
            let id = match input {
                Some(input) => resolve(state, EntityKind::Task, input)?,
                None => state
                    .ready()
                    .into_iter()
                    .find(|t| {
                        t.claims
                            .held_by_other(&holder, self.writer(), batch.now)
                            .is_none()
                    })
                    .map(|t| t.id.clone())
                    .ok_or(Error::Work(WorkError::NothingReady))?,
            };
            push_claim(state, batch, &id, &holder, self.writer(), lease_seconds)?;
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }

    /// Extend this actor's claim on a task (`input`, else the one task it holds).
    pub fn task_renew(
        &self,
        input: Option<&str>,
        lease_seconds: u64,
    ) -> Result<(Loaded, Task), Error> {
        self.renew_claim(self.actor(), input, lease_seconds)
    }

    /// Extend `holder`'s claim (an agent's, renewed by the process that supervises it).
    pub(super) fn renew_claim(
        &self,
        holder: &str,
        input: Option<&str>,
        lease_seconds: u64,
    ) -> Result<(Loaded, Task), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = match input {
                Some(_) => self.find_task(state, input)?,
                None => self.held_task(state, None, batch.now)?,
            };
            let claim = own_claim(state, &id, holder, self.writer(), batch.now)?;
            let renewed = TaskClaimRenewed {
                holder: holder.to_string(),
                expires: crate::clock::format(expiry(batch.now, lease_seconds)),
                epoch: claim.epoch,
            };
            batch.push(&id, renewed);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }

    /// Give up this actor's claim on a task (`input`, else the one task it holds).
    pub fn task_release(&self, input: Option<&str>) -> Result<(Loaded, Task), Error> {
        let holder = self.actor().to_string();
        let (loaded, id) = self.record(|state, batch| {
            let id = self.held_task(state, input, batch.now)?;
            let claim = own_claim(state, &id, &holder, self.writer(), batch.now)?;
            push_release(batch, &id, &holder, claim.epoch);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Task, id, |s, id| s.tasks.get(id))
    }

    /// The task named, else the only task this actor holds a claim on, else the focus.
    fn held_task(
        &self,
        state: &State,
        input: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        if input.is_some() {
            return self.find_task(state, input);
        }
        let held: Vec<&Task> = state
            .claimed_tasks()
            .filter_map(|i| state.tasks.at(i))
            .filter(|t| t.claims.stands_for(self.actor(), self.writer(), now))
            .collect();
        match held[..] {
            [task] => Ok(task.id.clone()),
            [] => self.find_task(state, None),
            _ => Err(Error::Work(WorkError::SeveralClaims {
                holder: self.actor().to_string(),
                tasks: held.iter().map(|t| state.short(&t.id)).collect(),
            })),
        }
    }
}

/// Draft a claim of `id` for `holder`, refused when the task is done or another holder's
/// claim is live.
pub(super) fn push_claim(
    state: &State,
    batch: &mut Batch,
    id: &str,
    holder: &str,
    writer: &str,
    lease_seconds: u64,
) -> Result<(), Error> {
    let task = state.tasks.get(id).ok_or_else(|| {
        Error::Input(InputError::UnknownId {
            kind: EntityKind::Task,
            input: id.to_string(),
        })
    })?;
    if task.status.is_closed() {
        return Err(Error::Work(WorkError::WrongState {
            id: state.short(id),
            status: task.status.label(),
            action: "claimed",
        }));
    }
    if let Some(claim) = task.claims.held_by_other(holder, writer, batch.now) {
        return Err(claimed(state, id, claim));
    }
    let epoch = match &task.claims.current {
        Some(c) if c.is_held_by(holder, writer) => c.epoch,
        _ => task.claims.epoch + 1,
    };
    let claimed = TaskClaimed {
        holder: holder.to_string(),
        expires: crate::clock::format(expiry(batch.now, lease_seconds)),
        epoch,
    };
    batch.push(id, claimed);
    Ok(())
}

pub(super) fn push_release(batch: &mut Batch, id: &str, holder: &str, epoch: u64) {
    let holder = holder.to_string();
    batch.push(id, TaskReleased { holder, epoch });
}

/// The refusal for a task another holder has claimed.
pub(super) fn claimed(state: &State, id: &str, claim: &Claim) -> Error {
    Error::Work(WorkError::Claimed {
        id: state.short(id),
        holder: claim.holder.clone(),
        until: claim.expires.format("%Y-%m-%d %H:%M UTC").to_string(),
    })
}

/// This holder's claim on the task, which it must still hold (even if its lease ran out,
/// as long as nobody else claimed the task since).
fn own_claim(
    state: &State,
    id: &str,
    holder: &str,
    writer: &str,
    now: DateTime<Utc>,
) -> Result<Claim, Error> {
    let task = state.tasks.get(id).ok_or_else(|| {
        Error::Input(InputError::UnknownId {
            kind: EntityKind::Task,
            input: id.to_string(),
        })
    })?;
    if let Some(claim) = task.claims.held_by_other(holder, writer, now) {
        return Err(claimed(state, id, claim));
    }
    match task.claims.standing(now) {
        Some(claim) if claim.is_held_by(holder, writer) => Ok(claim.clone()),
        _ => Err(Error::Work(WorkError::NotClaimed {
            id: state.short(id),
            holder: holder.to_string(),
        })),
    }
}

fn expiry(now: DateTime<Utc>, lease_seconds: u64) -> DateTime<Utc> {
    let seconds = lease_seconds.min(MAX_LEASE_SECONDS) as i64;
    now + Duration::seconds(seconds)
}
