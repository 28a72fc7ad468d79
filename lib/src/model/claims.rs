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
//!
//! Whether a lease ran out is judged by the clock of whoever claims next, and a clock can be
//! wrong: an agent whose clock runs an hour ahead sees every live lease as over. So a claim
//! that replaced another holder's keeps the claim it displaced, and a reader for whom the new
//! claim was made in the future (beyond [`CLOCK_TOLERANCE_SECONDS`]) lets the displaced claim
//! stand while it is live by the reader's clock. When its holder renews it, the ledger records
//! the claim from the future as lost.

use crate::event::kind;
use crate::event::{Body, Event};
use crate::model::time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far ahead of a reader's clock a claim may have been made and still be honoured over
/// a claim that is live by the reader's clock: clocks that are kept in time agree closer.
pub const CLOCK_TOLERANCE_SECONDS: i64 = 60;

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
    /// The other holder's claim the current one replaced, kept in case the current one was
    /// made by a clock running ahead (see the module's comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displaced: Option<Claim>,
}

impl Claims {
    /// The claim that stands at `now`, live or not: the newest granted one, unless it was
    /// made in the future of `now` over a claim that is still live at `now`.
    pub fn standing(&self, now: DateTime<Utc>) -> Option<&Claim> {
        let current = self.current.as_ref()?;
        if current.since > now + Duration::seconds(CLOCK_TOLERANCE_SECONDS)
            && let Some(displaced) = self.displaced.as_ref().filter(|d| d.is_live(now))
        {
            return Some(displaced);
        }
        Some(current)
    }

    /// The live claim, if any.
    pub fn live(&self, now: DateTime<Utc>) -> Option<&Claim> {
        self.standing(now).filter(|c| c.is_live(now))
    }

    /// Whether the claim standing at `now` is this holder's (live or not).
    pub fn stands_for(&self, holder: &str, writer: &str, now: DateTime<Utc>) -> bool {
        self.standing(now)
            .is_some_and(|c| c.is_held_by(holder, writer))
    }

    /// When the latest claim kept expires: no claim is live after it.
    pub fn last_expiry(&self) -> Option<DateTime<Utc>> {
        let displaced = self.displaced.as_ref().map(|c| c.expires);
        self.current.as_ref().map(|c| c.expires).max(displaced)
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
    pub(crate) fn apply(&mut self, event: &Event, time: DateTime<Utc>) {
        let (holder, expires) = match &event.body {
            Body::TaskClaimed(b) => (b.holder.as_str(), Some(b.expires.as_str())),
            Body::TaskClaimRenewed(b) => (b.holder.as_str(), Some(b.expires.as_str())),
            Body::TaskReleased(b) => (b.holder.as_str(), None),
            _ => ("", None),
        };
        let holder = holder.to_string();
        let writer = event.writer.clone();
        let expires = expires
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
                if self.restores_displaced(&holder, &writer, time) {
                    return self.restore_displaced(event, time, expires);
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
                        let claim = self.grant(&holder, &writer, event, time, expires);
                        self.displaced = self.current.replace(claim);
                    }
                }
            }
            kind::TASK_RELEASED if self.restores_displaced(&holder, &writer, time) => {
                self.displaced = None;
            }
            kind::TASK_RELEASED
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.is_held_by(&holder, &writer)) =>
            {
                self.current = self.displaced.take().filter(|d| d.is_live(time));
            }
            kind::TASK_COMPLETED => {
                self.current = None;
                self.displaced = None;
            }
            _ => {}
        }
    }

    /// Whether this holder's is the displaced claim that stands at `time` over a current
    /// claim made in its future.
    fn restores_displaced(&self, holder: &str, writer: &str, time: DateTime<Utc>) -> bool {
        let current = self.current.as_ref();
        self.stands_for(holder, writer, time)
            && !current.is_some_and(|c| c.is_held_by(holder, writer))
    }

    /// The displaced holder claims or renews while its claim stands: it holds the task again
    /// (with a new epoch, so that the claim from the future is fenced off), and the claim from
    /// the future is recorded as lost to it.
    fn restore_displaced(&mut self, event: &Event, time: DateTime<Utc>, expires: DateTime<Utc>) {
        let (Some(future), Some(displaced)) = (self.current.take(), self.displaced.take()) else {
            return;
        };
        let mut restored = self.grant(&displaced.holder, &displaced.writer, event, time, expires);
        restored.since = displaced.since;
        self.lost.push(LostClaim {
            holder: future.holder,
            writer: future.writer,
            time: future.since,
            event: future.event,
            winner: restored.clone(),
        });
        self.current = Some(restored);
    }

    /// A new claim for this holder: the next epoch, remembered for fencing.
    fn grant(
        &mut self,
        holder: &str,
        writer: &str,
        event: &Event,
        time: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Claim {
        self.epoch += 1;
        match self
            .holders
            .iter_mut()
            .find(|(h, w, _)| h == holder && w == writer)
        {
            Some(entry) => entry.2 = self.epoch,
            None => self
                .holders
                .push((holder.to_string(), writer.to_string(), self.epoch)),
        }
        Claim {
            holder: holder.to_string(),
            writer: writer.to_string(),
            epoch: self.epoch,
            since: time,
            expires,
            event: event.id.clone(),
        }
    }
}
