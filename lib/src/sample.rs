//! Sample ledgers for measurements: realistic events (sessions, objectives, tasks with
//! dependencies, notes, completions, insights, decisions), deterministic from a seed, written
//! in batched commits. Not part of the product's behaviour; benchmarks and fixtures use it.

use crate::event::body::*;
use crate::event::{Body, EntityKind, Event, entity_id};
use crate::store::Store;

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
        let (subject, body): (String, Body) =
            if let Some(open) = session.as_ref().filter(|_| roll < 1) {
                // Sessions end before the next one starts, as an orchestrator's do.
                let id = open.clone();
                session = None;
                let ended = SessionEnded {
                    summary: Some(format!("ended at {n}")),
                    ..SessionEnded::default()
                };
                (id, ended.into())
            } else if session.is_none() {
                let id = entity_id(EntityKind::Session, &writer, hlc, &n.to_string());
                session = Some(id.clone());
                let started = SessionStarted {
                    worktree: worktree.clone(),
                    title: Some(format!("session {n}")),
                    ..SessionStarted::default()
                };
                (id, started.into())
            } else if objectives.is_empty() || roll < 3 {
                let id = entity_id(EntityKind::Objective, &writer, hlc, &n.to_string());
                objectives.push(id.clone());
                let created = ObjectiveCreated {
                    title: format!("Objective {n}: improve the system"),
                    ..ObjectiveCreated::default()
                };
                (id, created.into())
            } else if open_tasks.len() < 20 || roll < 25 {
                let id = entity_id(EntityKind::Task, &writer, hlc, &n.to_string());
                let objective = &objectives[rng.below(objectives.len())];
                let mut deps = Vec::new();
                if !open_tasks.is_empty() && rng.below(3) == 0 {
                    deps.push(open_tasks[rng.below(open_tasks.len())].clone());
                }
                open_tasks.push(id.clone());
                let created = TaskCreated {
                    title: format!("Task {n}: implement part of the feature"),
                    objective: Some(objective.clone()),
                    priority: rng.below(5) as u8,
                    depends_on: deps,
                    estimate_minutes: Some(30 + rng.below(8) as u64 * 30),
                    ..TaskCreated::default()
                };
                (id, created.into())
            } else if roll < 40 {
                let id = open_tasks.swap_remove(rng.below(open_tasks.len()));
                started.push(id.clone());
                let started = TaskStarted {
                    worktree: Some(worktree.clone()),
                    ..TaskStarted::default()
                };
                (id, started.into())
            } else if roll < 75 && !started.is_empty() {
                let id = started[rng.below(started.len())].clone();
                let text = format!("progress note {n}: tried an approach, measured it, kept notes");
                (id, TaskNoted { text }.into())
            } else if roll < 88 && !started.is_empty() {
                let id = started.swap_remove(rng.below(started.len()));
                let completed = TaskCompleted {
                    summary: Some(format!("done in step {n}")),
                    ..TaskCompleted::default()
                };
                (id, completed.into())
            } else if roll < 94 {
                let id = entity_id(EntityKind::Insight, &writer, hlc, &n.to_string());
                let added = InsightAdded {
                    text: format!("insight {n}"),
                    tags: vec!["perf".into()],
                    knowledge: rng.below(4) == 0,
                    ..InsightAdded::default()
                };
                (id, added.into())
            } else if roll < 97 || decisions.is_empty() {
                let id = entity_id(EntityKind::Decision, &writer, hlc, &n.to_string());
                decisions.push(id.clone());
                let requested = DecisionRequested {
                    question: format!("question {n}?"),
                    options: vec!["a".into(), "b".into()],
                    ..DecisionRequested::default()
                };
                (id, requested.into())
            } else {
                let id = decisions.swap_remove(rng.below(decisions.len()));
                let made = DecisionMade {
                    choice: "a".into(),
                    rationale: "simpler".into(),
                };
                (id, made.into())
            };
        batch.push(Event::seal(
            body.kind().unwrap_or("unknown"),
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
