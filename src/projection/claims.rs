//! Claims: who holds a task, until when, and which claims lost a race.
//!
//! A claim is a lease: it ends by itself when its expiry passes (computed on read, no daemon
//! needed) or when its holder releases it. A holder is an actor (`agent:a-…`, `human:…`) on
//! one clone (its writer id): the same person claiming from two clones competes with
//! themselves, as two agents would.
//!
//! The fold decides every race the same way on every clone: a claim is granted when, at its
//! place in the total order, the task has no live claim by another holder; otherwise it is
//! recorded as lost, naming the winner. Each granted claim gets the next epoch, so a holder
//! whose claim was taken over can be told (fencing).

use super::state::time;
use crate::event::Event;
use crate::event::kind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A granted claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub holder: String,
    /// The clone it was made on.
    pub writer: String,
    /// 1 for the task's first claim, one more for each claim granted after it.
    pub epoch: u64,
    #[serde(with = "time")]
    pub since: DateTime<Utc>,
    #[serde(with = "time")]
    pub expires: DateTime<Utc>,
    /// The event that granted it.
    pub event: String,
}

impl Claim {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires > now
    }

    pub fn is_held_by(&self, holder: &str, writer: &str) -> bool {
        self.holder == holder && self.writer == writer
    }
}

/// A claim (or renewal) that came after another holder's live claim in the total order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostClaim {
    pub holder: String,
    pub writer: String,
    #[serde(with = "time")]
    pub time: DateTime<Utc>,
    pub event: String,
    /// The claim that stood in its way.
    pub winner: Claim,
}

/// A task's claims, as folded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The newest granted claim that was not released (it may have expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Claim>,
    /// The highest epoch granted.
    #[serde(default)]
    pub epoch: u64,
    /// Every holder that was granted a claim, with its highest epoch (for fencing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<(String, String, u64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<LostClaim>,
}

impl Claims {
    /// The live claim, if any.
    pub fn live(&self, now: DateTime<Utc>) -> Option<&Claim> {
        self.current.as_ref().filter(|c| c.is_live(now))
    }

    /// The live claim of a holder other than this one: what stands in its way.
    pub fn held_by_other(&self, holder: &str, writer: &str, now: DateTime<Utc>) -> Option<&Claim> {
        self.live(now).filter(|c| !c.is_held_by(holder, writer))
    }

    /// The epoch this holder last held (granted), if it ever held the task.
    pub fn epoch_of(&self, holder: &str, writer: &str) -> Option<u64> {
        self.holders
            .iter()
            .find(|(h, w, _)| h == holder && w == writer)
            .map(|(_, _, epoch)| *epoch)
    }

    /// Fencing: the live claim of another holder granted after this holder's own claim (or
    /// after its lost attempt), i.e. the claim that took the task over from it.
    pub fn taken_over(&self, holder: &str, writer: &str, now: DateTime<Utc>) -> Option<&Claim> {
        let current = self.held_by_other(holder, writer, now)?;
        let held = self.epoch_of(holder, writer);
        let lost = self
            .lost
            .iter()
            .any(|l| l.holder == holder && l.writer == writer);
        (held.is_some_and(|epoch| epoch < current.epoch) || lost).then_some(current)
    }

    /// Fold one claim event; the other events about the task do not concern claims, except a
    /// completion, which ends any claim.
    pub(super) fn apply(&mut self, event: &Event, time: DateTime<Utc>) {
        let holder = event.body_str("holder").unwrap_or("").to_string();
        let writer = event.writer.clone();
        let expires = event
            .body_str("expires")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(time);
        match event.kind.as_str() {
            kind::TASK_CLAIMED | kind::TASK_CLAIM_RENEWED => {
                if let Some(winner) = self.held_by_other(&holder, &writer, time) {
                    self.lost.push(LostClaim {
                        holder,
                        writer,
                        time,
                        event: event.id.clone(),
                        winner: winner.clone(),
                    });
                    return;
                }
                let own = self
                    .current
                    .as_mut()
                    .filter(|c| c.is_held_by(&holder, &writer));
                match own {
                    // A renewal, or a holder claiming again what it holds: same epoch.
                    Some(claim) => claim.expires = expires,
                    // A renewal of a claim that was released (or never granted) grants
                    // nothing: the holder has to claim again.
                    None if event.kind == kind::TASK_CLAIM_RENEWED => {}
                    None => {
                        self.epoch += 1;
                        match self
                            .holders
                            .iter_mut()
                            .find(|(h, w, _)| *h == holder && *w == writer)
                        {
                            Some(entry) => entry.2 = self.epoch,
                            None => self
                                .holders
                                .push((holder.clone(), writer.clone(), self.epoch)),
                        }
                        self.current = Some(Claim {
                            holder,
                            writer,
                            epoch: self.epoch,
                            since: time,
                            expires,
                            event: event.id.clone(),
                        });
                    }
                }
            }
            kind::TASK_RELEASED
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.is_held_by(&holder, &writer)) =>
            {
                self.current = None;
            }
            kind::TASK_COMPLETED => self.current = None,
            _ => {}
        }
    }
}
