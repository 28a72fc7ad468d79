//! Sample ledgers for measurements: realistic events (sessions, objectives, tasks with
//! dependencies, notes, completions, insights, decisions), deterministic from a seed, written
//! in batched commits. Not part of the product's behaviour; benchmarks and fixtures use it.

use crate::event::{EntityKind, Event, entity_id, kind};
use crate::store::Store;
use serde_json::json;

/// xorshift64*: deterministic and good enough for sample data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Append `count` sample events to this clone's ledger, `per_commit` events a commit.
pub fn generate(
    store: &Store,
    count: usize,
    seed: u64,
    per_commit: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let writer = store.writer()?.to_string();
    let worktree = store.worktree()?.to_string_lossy().into_owned();
    let mut rng = Rng(seed.max(1));
    let mut tip = store.newest_clock()?.1;
    let start =
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    let mut hlc = start.timestamp_millis() as u64;
    let mut objectives: Vec<String> = Vec::new();
    let mut open_tasks: Vec<String> = Vec::new();
    let mut started: Vec<String> = Vec::new();
    let mut decisions: Vec<String> = Vec::new();
    let mut session: Option<String> = None;
    let mut batch: Vec<Event> = Vec::new();
    let mut written = 0;
    while written < count {
        hlc += 1000 + rng.below(60_000) as u64;
        let time = chrono::DateTime::from_timestamp_millis(hlc as i64).unwrap_or(start);
        let roll = rng.below(100);
        let n = written;
        let (kind, subject, body): (&str, String, serde_json::Value) = if let Some(open) =
            session.as_ref().filter(|_| roll < 1)
        {
            // Sessions end before the next one starts, as an orchestrator's do.
            let id = open.clone();
            session = None;
            (
                kind::SESSION_ENDED,
                id,
                json!({"abandoned": false, "summary": format!("ended at {n}")}),
            )
        } else if session.is_none() {
            let id = entity_id(EntityKind::Session, &writer, hlc, &n.to_string());
            session = Some(id.clone());
            (
                kind::SESSION_STARTED,
                id,
                json!({"worktree": worktree, "title": format!("session {n}")}),
            )
        } else if objectives.is_empty() || roll < 3 {
            let id = entity_id(EntityKind::Objective, &writer, hlc, &n.to_string());
            objectives.push(id.clone());
            (
                kind::OBJECTIVE_CREATED,
                id,
                json!({"title": format!("Objective {n}: improve the system")}),
            )
        } else if open_tasks.len() < 20 || roll < 25 {
            let id = entity_id(EntityKind::Task, &writer, hlc, &n.to_string());
            let objective = &objectives[rng.below(objectives.len())];
            let mut deps = Vec::new();
            if !open_tasks.is_empty() && rng.below(3) == 0 {
                deps.push(open_tasks[rng.below(open_tasks.len())].clone());
            }
            open_tasks.push(id.clone());
            (
                kind::TASK_CREATED,
                id,
                json!({
                    "title": format!("Task {n}: implement part of the feature"),
                    "objective": objective, "priority": rng.below(5), "depends_on": deps,
                    "estimate_minutes": 30 + rng.below(8) * 30,
                }),
            )
        } else if roll < 40 {
            let id = open_tasks.swap_remove(rng.below(open_tasks.len()));
            started.push(id.clone());
            (kind::TASK_STARTED, id, json!({"worktree": worktree}))
        } else if roll < 75 && !started.is_empty() {
            let id = started[rng.below(started.len())].clone();
            (
                kind::TASK_NOTED,
                id,
                json!({"text": format!("progress note {n}: tried an approach, measured it, kept notes")}),
            )
        } else if roll < 88 && !started.is_empty() {
            let id = started.swap_remove(rng.below(started.len()));
            (
                kind::TASK_COMPLETED,
                id,
                json!({"summary": format!("done in step {n}"), "forced": false}),
            )
        } else if roll < 94 {
            let id = entity_id(EntityKind::Insight, &writer, hlc, &n.to_string());
            (
                kind::INSIGHT_ADDED,
                id,
                json!({"text": format!("insight {n}"), "tags": ["perf"], "knowledge": rng.below(4) == 0}),
            )
        } else if roll < 97 || decisions.is_empty() {
            let id = entity_id(EntityKind::Decision, &writer, hlc, &n.to_string());
            decisions.push(id.clone());
            (
                kind::DECISION_REQUESTED,
                id,
                json!({"question": format!("question {n}?"), "options": ["a", "b"]}),
            )
        } else {
            let id = decisions.swap_remove(rng.below(decisions.len()));
            (
                kind::DECISION_MADE,
                id,
                json!({"choice": "a", "rationale": "simpler"}),
            )
        };
        batch.push(Event::seal(
            kind,
            crate::clock::format(time),
            hlc,
            &writer,
            session.clone(),
            "agent:generator",
            Some(subject),
            body,
        ));
        written += 1;
        if batch.len() == per_commit || written == count {
            tip = Some(store.append(&batch, tip, time)?);
            batch.clear();
        }
    }
    Ok(())
}
