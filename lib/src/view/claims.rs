//! Claims a holder lost to another's: what `status` and `session resume` tell the loser.

use crate::cache::brief::{self, TaskBrief};
use crate::fold::state::State;
use crate::model::claims::LostClaim;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct LostClaimNotice {
    pub task: String,
    #[serde(flatten)]
    pub lost: LostClaim,
}

/// The claims `holder` made on clone `writer` that lost to another holder's, on tasks it does
/// not hold now: what `status` and `session resume` tell the loser.
pub fn lost_claims(state: &State, holder: &str, writer: &str) -> Vec<LostClaimNotice> {
    let open = |i: &&u32| {
        TaskBrief::parse(state.tasks.brief_at(**i as usize)).is_some_and(|t| !t.status.is_closed())
    };
    state
        .tasks
        .keyed(brief::TASK_LOST_CLAIMS)
        .iter()
        .filter(open)
        .filter_map(|&i| state.tasks.at(i as usize))
        .filter(|t| {
            !t.claims
                .current
                .as_ref()
                .is_some_and(|c| c.is_held_by(holder, writer))
        })
        .flat_map(|t| {
            t.claims
                .lost
                .iter()
                .filter(|l| l.holder == holder && l.writer == writer)
                .map(|l| LostClaimNotice {
                    task: t.id.clone(),
                    lost: l.clone(),
                })
        })
        .collect()
}

/// `t-3f9a2c Title: your claim of 09:12 lost to agent:a-1f2e (epoch 2, claimed 09:10)`.
pub fn lost_claim_line(state: &State, notice: &LostClaimNotice) -> String {
    let title = state
        .tasks
        .get(&notice.task)
        .map(|t| crate::event::kind::one_line(&t.title, 40))
        .unwrap_or_default();
    let winner = &notice.lost.winner;
    format!(
        "{} {title}: you lost the claim ({}) to {} (epoch {}, claimed {}, until {})",
        state.short(&notice.task),
        notice.lost.time.format("%Y-%m-%d %H:%M"),
        winner.holder,
        winner.epoch,
        winner.since.format("%Y-%m-%d %H:%M"),
        winner.expires.format("%Y-%m-%d %H:%M"),
    )
}
