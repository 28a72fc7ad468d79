//! Hostile events through the fold and every view. Events are permanent and travel to every
//! clone, so one event with a strange value must never break a command: each case writes one
//! event of every kind, every body field filled with a hostile value (multi-byte, control and
//! bidi text, huge and negative numbers, fractions, lists, objects, null, ids of the wrong
//! kind), on another writer's ref as a sync would bring it, then runs every view. Each view
//! exits 0 or 1 and never panics.
//!
//! 12 cases by default; `PROPTEST_CASES` raises it for a longer run.

use crate::util::{TestRepo, hand_commit, with_id};
use git_ledger::event::kind::{is_hash_field, known_fields};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Map, Value, json};

const WRITER: &str = "ffeeddccbbaa";

/// Ids of the right shape, one per entity kind: most subjects and references use these, so
/// the events meet each other in the fold.
const IDS: &[&str] = &[
    "o-00000000000000a1",
    "t-00000000000000b1",
    "t-00000000000000b2",
    "i-00000000000000c1",
    "d-00000000000000d1",
    "s-00000000000000e1",
    "a-00000000000000f1",
    "m-0000000000000001",
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12)
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("aéééééééé".to_string()),
        Just("é".repeat(20_000)),
        Just(String::new()),
        "[0-9a-f]{4,64}",
        "[\u{202e}\u{200f}\u{2066}\u{1b}\u{0}\u{7}\u{8}\r\n\té😀\u{fdfa}\u{301}]{0,24}",
        "\u{1b}\\[[0-9;]{0,6}[mHJK]",
        "(t|o|i|d|s|a|m|x)-[0-9a-zé]{0,20}",
        prop::sample::select(IDS).prop_map(str::to_string),
        any::<String>(),
    ]
}

/// A hash as stored (most of the time) or anything: a malformed hash makes the reader skip
/// the whole event, so it is kept rare enough for the other fields to reach the fold.
fn hash_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[0-9a-f]{40}".prop_map(Value::String),
        1 => "[0-9a-f]{4,64}".prop_map(Value::String),
        1 => hostile_value(),
    ]
}

fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => hostile_text().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => prop_oneof![
            Just(u64::MAX),
            Just(u64::MAX / 2),
            Just(0),
            Just(525_600),
            any::<u64>(),
        ]
        .prop_map(Value::from),
        1 => prop_oneof![Just(i64::MIN), Just(-1), any::<i64>()].prop_map(Value::from),
        1 => prop_oneof![Just(1e300), Just(-0.5), Just(2.5), any::<f64>()]
            .prop_map(|f| if f.is_finite() { json!(f) } else { json!(1.5) }),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The entity id prefix a kind's subject has (`task.created` → `t-`).
fn subject_prefix(kind: &str) -> &'static str {
    match kind.split('.').next().unwrap_or("") {
        "objective" => "o-",
        "insight" => "i-",
        "decision" => "d-",
        "session" => "s-",
        "agent" => "a-",
        "memory" => "m-",
        _ => "t-",
    }
}

/// One event per known kind, in the order of the schema (creations first), each field of its
/// body hostile; the subject and clock mostly well-formed, sometimes not.
fn hostile_events() -> impl Strategy<Value = Vec<String>> {
    let kinds = known_fields();
    let per_kind: Vec<_> = kinds
        .into_iter()
        .map(|(kind, fields)| {
            let bodies: Vec<BoxedStrategy<(String, Value)>> = fields
                .into_iter()
                .map(|field| {
                    let value = if is_hash_field(kind, field) {
                        hash_value().boxed()
                    } else {
                        hostile_value().boxed()
                    };
                    (Just(field.to_string()), value).boxed()
                })
                .collect();
            let subject = prop_oneof![
                8 => prop::sample::select(
                    IDS.iter()
                        .copied()
                        .filter(|id| id.starts_with(subject_prefix(kind)))
                        .collect::<Vec<_>>()
                )
                .prop_map(str::to_string),
                1 => hostile_text(),
            ];
            let clock = prop_oneof![8 => Just(None), 1 => Just(Some(0)), 1 => Just(Some(u64::MAX))];
            let actor = prop_oneof![4 => Just("agent:mallory".to_string()), 1 => hostile_text()];
            (Just(kind), bodies, subject, clock, actor)
        })
        .collect();
    per_kind.prop_map(|events| {
        events
            .into_iter()
            .enumerate()
            .map(|(n, (kind, body, subject, clock, actor))| {
                let hlc = clock.unwrap_or(1_767_600_000_000 + n as u64 * 1000);
                with_id(json!({
                    "v": 1, "kind": kind, "time": "2026-01-05T08:00:00.000Z", "hlc": hlc,
                    "writer": WRITER, "session": "s-00000000000000e1", "actor": actor,
                    "subject": subject,
                    "body": Value::Object(body.into_iter().collect::<Map<String, Value>>()),
                }))
            })
            .collect()
    })
}

/// Every read-only view, human and `--json`.
const VIEWS: &[&[&str]] = &[
    &["status"],
    &["--json", "status"],
    &["ready"],
    &["log", "-n", "0"],
    &["--json", "log", "-n", "0"],
    &["task", "list"],
    &["task", "list", "--status", "done"],
    &["task", "show", "t-00000000000000b1"],
    &["--json", "task", "show", "t-00000000000000b2"],
    &["objective", "list"],
    &["objective", "show", "o-00000000000000a1"],
    &["insight", "list"],
    &["decision", "list"],
    &["session", "list"],
    &["session", "show", "s-00000000000000e1"],
    &["agent", "list"],
    &["blame", "t-00000000000000b1"],
    &["blame", "o-00000000000000a1"],
    &["memory", "working"],
    &["memory", "short"],
    &["memory", "long"],
    &["memory", "long", "--expand"],
    &[
        "memory",
        "long",
        "--format",
        "markdown",
        "--max-bytes",
        "300",
    ],
    &["--json", "memory", "long"],
    &["memory", "knowledge"],
    &["prime"],
    &["replay"],
    &["export"],
    &["audit"],
    &["--json", "dash"],
    &["check", "list", "t-00000000000000b1"],
    &["gate", "check", "HEAD", "--into", "main"],
];

fn run_views(repo: &TestRepo, events: &[String]) -> Result<(), TestCaseError> {
    let message = format!("hostile\n\n{}\n", events.join("\n"));
    let commit = hand_commit(repo, &message, None);
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{WRITER}"),
        &commit,
    ]);
    let html = repo.root().join("site");
    let html = html.to_str().unwrap_or("site").to_string();
    // The hostile events are read (those with a malformed hash or clock are skipped and
    // reported), so the views below meet them.
    let read = repo.run(&["--json", "log", "-n", "0"]);
    let read: Value = serde_json::from_str(&read.stdout).unwrap_or(Value::Null);
    let read = read["data"].as_array().map_or(0, Vec::len);
    prop_assert!(
        read > events.len() / 2,
        "{read} of {} events read",
        events.len()
    );
    let report: &[&str] = &["report", "--html", &html];
    for args in VIEWS.iter().copied().chain([report]) {
        let run = repo.run(args);
        prop_assert!(
            matches!(run.code, Some(0 | 1)) && !run.stderr.contains("panicked"),
            "{args:?} exited {:?}: {}",
            run.code,
            run.stderr
        );
    }
    Ok(())
}

#[test]
fn hostile_values_in_every_field_of_every_kind_never_break_a_view() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&hostile_events(), |events| {
        let repo = TestRepo::new();
        repo.task(&["an honest task"]);
        run_views(&repo, &events)
    });
    // The failing case's events can be megabytes: the reason says which view broke, the
    // events are cut to what a terminal can show.
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, events)) => {
            let events: String = format!("{events:?}").chars().take(4000).collect();
            panic!("{reason}\nminimal events (cut): {events}");
        }
        Err(other) => panic!("{other}"),
    }
}
