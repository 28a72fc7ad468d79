//! The entities, sets and ready list the index keeps are brought forward over the events
//! folded since it was written; whatever the events and wherever the index was written (one
//! full write, then up to two updates in place), they must equal
//! what a fold of every event works out, and that must equal the definition (checked on the
//! decoded tasks, not on briefs).

use super::brief;
use super::db;
use super::table::Damage;
use super::table::KEYS;
use crate::event::Event;
use crate::event::kind;
use crate::fold::state::State;
use crate::model::{Task, TaskStatus};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Create {
        deps: Vec<usize>,
        missing_dep: bool,
        priority: u8,
        role: Option<u8>,
        objective: Option<u8>,
    },
    Status(usize, u8),
    Update(usize, Option<u8>, Option<Vec<usize>>),
    Claim(usize, bool),
    ObjectiveDone(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (
            prop::collection::vec(0..64usize, 0..3),
            prop::bool::weighted(0.1),
            0..5u8,
            prop::option::of(0..2u8),
            prop::option::of(0..3u8),
        )
            .prop_map(|(deps, missing_dep, priority, role, objective)| Op::Create {
                deps,
                missing_dep,
                priority,
                role,
                objective,
            }),
        4 => (0..64usize, 0..5u8).prop_map(|(t, s)| Op::Status(t, s)),
        1 => (
            0..64usize,
            prop::option::of(0..5u8),
            prop::option::of(prop::collection::vec(0..64usize, 0..3)),
        )
            .prop_map(|(t, p, d)| Op::Update(t, p, d)),
        1 => (0..64usize, any::<bool>()).prop_map(|(t, live)| Op::Claim(t, live)),
        1 => (0..3u8).prop_map(Op::ObjectiveDone),
    ]
}

/// The events of `ops`, one second apart; references to tasks go to those created so far.
fn events(ops: &[Op]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut tasks = 0usize;
    let mut push = |kind: &str, subject: String, body: Value| {
        let hlc = 1_800_000_000_000 + 1000 * out.len() as u64;
        let time = chrono::DateTime::from_timestamp_millis(hlc as i64)
            .unwrap_or_default()
            .to_rfc3339();
        out.push(Event::seal(
            kind,
            time,
            hlc,
            "0a1b2c3d4e5f",
            None,
            "human:a",
            Some(subject),
            crate::event::Body::from_json(kind, body),
        ));
    };
    for o in 0..3 {
        push(
            kind::OBJECTIVE_CREATED,
            format!("o-{o}"),
            json!({"title": "o"}),
        );
    }
    let task = |n: usize, created: usize| format!("t-{}", n % created.max(1));
    for op in ops {
        match op {
            Op::Create {
                deps,
                missing_dep,
                priority,
                role,
                objective,
            } => {
                let mut depends_on: Vec<String> = deps
                    .iter()
                    .filter(|_| tasks > 0)
                    .map(|&d| task(d, tasks))
                    .collect();
                if *missing_dep {
                    depends_on.push("t-missing".into());
                }
                let mut body =
                    json!({"title": "t", "priority": priority, "depends_on": depends_on});
                if let Some(role) = role {
                    body["role"] = json!(format!("r{role}"));
                }
                if let Some(objective) = objective {
                    body["objective"] = json!(format!("o-{objective}"));
                }
                push(kind::TASK_CREATED, format!("t-{tasks}"), body);
                tasks += 1;
            }
            _ if tasks == 0 => {}
            Op::Status(t, s) => {
                let kind = [
                    kind::TASK_STARTED,
                    kind::TASK_BLOCKED,
                    kind::TASK_COMPLETED,
                    kind::TASK_CANCELLED,
                    kind::TASK_REOPENED,
                ][*s as usize % 5];
                push(kind, task(*t, tasks), json!({}));
            }
            Op::Update(t, priority, deps) => {
                let mut body = json!({});
                if let Some(p) = priority {
                    body["priority"] = json!(p);
                }
                if let Some(deps) = deps {
                    let deps: Vec<String> = deps.iter().map(|&d| task(d, tasks)).collect();
                    body["depends_on"] = json!(deps);
                }
                push(kind::TASK_UPDATED, task(*t, tasks), body);
            }
            Op::Claim(t, live) => {
                let expires = if *live {
                    "2100-01-01T00:00:00Z"
                } else {
                    "2000-01-01T00:00:00Z"
                };
                let body = json!({"holder": "agent:x", "expires": expires});
                push(kind::TASK_CLAIMED, task(*t, tasks), body);
            }
            Op::ObjectiveDone(o) => {
                push(kind::OBJECTIVE_COMPLETED, format!("o-{o}"), json!({}));
            }
        }
    }
    out
}

/// The state through the index: written after the events up to each cut were folded (in
/// full the first time, then only what changed, over the rows it was read from) and read
/// back, the rest folded on top of the last one read.
fn through_index(events: &[Event], cuts: &[usize]) -> State {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("index.sqlite");
    let mut state = State::default();
    let mut folded = 0;
    for &cut in cuts {
        let cut = cut.clamp(folded, events.len());
        for event in &events[folded..cut] {
            state.apply(event.clone());
        }
        folded = cut;
        let mut conn = db::open(&path).expect("open");
        let tx = conn.transaction().expect("transaction");
        state.write_index(&tx, &()).expect("write");
        db::set_tips(&tx, db::STATE_TIPS, &[]).expect("tips");
        tx.commit().expect("commit");
        let damage = Damage::default();
        let read = State::read_index::<()>(db::open(&path).expect("open"), &damage);
        state = read.expect("read").map(|(s, ())| s).expect("a state");
        assert!(!damage.seen());
    }
    for event in &events[folded..] {
        state.apply(event.clone());
    }
    state
}

/// Every entity of a state, as JSON.
fn entities(state: &State) -> Value {
    json!([
        state.objectives.iter().collect::<Vec<_>>(),
        state.tasks.iter().collect::<Vec<_>>(),
        state.insights.iter().collect::<Vec<_>>(),
        state.decisions.iter().collect::<Vec<_>>(),
        state.sessions.iter().collect::<Vec<_>>(),
        state.agents.iter().collect::<Vec<_>>(),
    ])
}

/// Ready by definition: open, and every dependency a task that is done or cancelled; highest
/// priority first, then oldest first.
fn ready_by_definition(state: &State) -> Vec<usize> {
    let closed = |id: &String| state.tasks.get(id).is_some_and(|t| t.status.is_closed());
    let mut ready: Vec<(u8, usize)> = state
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == TaskStatus::Open && t.depends_on.iter().all(closed))
        .map(|(i, t)| (t.priority, i))
        .collect();
    ready.sort();
    ready.into_iter().map(|(_, i)| i).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn folding_through_index_updates_agrees_with_a_fold_of_every_event(
        ops in prop::collection::vec(op(), 0..60),
        cuts in prop::collection::vec(0..80usize, 1..4),
    ) {
        let events = events(&ops);
        let mut cuts = cuts;
        cuts.sort_unstable();
        let full = State::from_events(events.clone());
        let kept = through_index(&events, &cuts);
        prop_assert_eq!(entities(&kept), entities(&full));
        prop_assert_eq!(kept.event_count, full.event_count);
        prop_assert_eq!(kept.tasks.len(), full.tasks.len());
        prop_assert_eq!(full.ready_positions(None), ready_by_definition(&full));
        prop_assert_eq!(kept.ready_positions(None), ready_by_definition(&full));
        prop_assert_eq!(kept.ready_count(), full.ready_count());
        for role in ["r0", "r1"] {
            prop_assert_eq!(kept.ready_positions(Some(role)), full.ready_positions(Some(role)));
        }
        for k in 0..KEYS {
            // Counted before the set is read, from its stored length.
            prop_assert_eq!(kept.tasks.key_count(k), full.tasks.keyed(k).len(), "count {}", k);
            for n in [0, 1, 3] {
                let first: Vec<u32> = full.tasks.keyed(k).iter().take(n).copied().collect();
                prop_assert_eq!(kept.tasks.keyed_first(k, n), first, "first {} of key {}", n, k);
            }
            prop_assert_eq!(kept.tasks.keyed(k), full.tasks.keyed(k), "task key {}", k);
            prop_assert_eq!(kept.tasks.key_count(k), full.tasks.key_count(k));
            prop_assert_eq!(kept.objectives.keyed(k), full.objectives.keyed(k));
        }
        let status_key = brief::status_key(TaskStatus::Done);
        let done: Vec<u32> = (0..full.tasks.len())
            .filter(|&i| full.tasks.at(i).is_some_and(|t| t.status == TaskStatus::Done))
            .map(|i| i as u32)
            .collect();
        prop_assert_eq!(full.tasks.keyed(status_key), &done[..]);
        for objective in ["o-0", "o-1", "o-2"] {
            let counted: Vec<&Task> = full
                .tasks
                .iter()
                .filter(|t| {
                    t.objective.as_deref() == Some(objective) && t.status != TaskStatus::Cancelled
                })
                .collect();
            let done = counted.iter().filter(|t| t.status == TaskStatus::Done).count();
            let by_definition = (done, counted.len());
            prop_assert_eq!(kept.objective_progress(objective), by_definition, "{}", objective);
            prop_assert_eq!(full.objective_progress(objective), by_definition);
        }
        let ids: Vec<String> = full.tasks.ids().map(str::to_string).collect();
        for id in ids.iter().map(String::as_str).chain(["o-0", "o-1", "o-2", "t-missing"]) {
            let by_definition: Vec<usize> = (0..full.tasks.len())
                .filter(|&i| full.tasks.at(i).is_some_and(|t| {
                    t.objective.as_deref() == Some(id) || t.depends_on.iter().any(|d| d == id)
                }))
                .collect();
            prop_assert_eq!(kept.tasks.referring(id), by_definition.clone(), "referring {}", id);
            prop_assert_eq!(full.tasks.referring(id), by_definition);
        }
    }
}
