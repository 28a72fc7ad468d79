//! The storage format holds: `fixtures/format-ledger.jsonl` is the export of
//! `fixtures/format-ledger.sh` (every kind, each written by its command) as an earlier version
//! wrote it. This version must read those events back byte for byte, and write the same
//! events when it runs the same commands.

use crate::util::TestRepo;
use git_ledger::event::kind::KNOWN;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

const GOLDEN: &str = include_str!("../../fixtures/format-ledger.jsonl");
/// Where the golden ledger was built (its worktree is in its events).
const GOLDEN_REPO: &str = "/tmp/git-ledger-format/repo";

/// An event line as JSON without its id, its measured durations set to 0.
fn comparable(line: &str) -> Value {
    let mut event: Value = serde_json::from_str(line).expect("an event line");
    if let Some(map) = event.as_object_mut() {
        map.remove("id");
    }
    if let Some(duration) = event.pointer_mut("/body/duration_ms") {
        *duration = 0.into();
    }
    event
}

#[test]
fn the_golden_events_read_back_byte_for_byte() {
    let repo = TestRepo::new();
    let file = repo.root().join("golden.jsonl");
    std::fs::write(&file, GOLDEN).expect("write");
    repo.ok(&["import", file.to_str().expect("utf8")]);
    let exported = repo.ok(&["export"]);
    assert_eq!(exported, GOLDEN);
    let kinds: BTreeSet<String> = GOLDEN
        .lines()
        .map(|line| comparable(line)["kind"].as_str().unwrap_or("").to_string())
        .collect();
    let known: BTreeSet<String> = KNOWN.iter().map(|k| k.to_string()).collect();
    assert_eq!(kinds, known, "the golden ledger holds every kind");
    // Every one of them is read as the kind it is, none as a body this version cannot read.
    let status = repo.json(&["status"]);
    assert_eq!(status["counts"]["unknown_events"], 0);
}

#[test]
fn the_same_commands_write_the_same_events() {
    let repo = TestRepo::from_script("format-ledger.sh");
    let ours = repo.ok(&["export"]);
    let ours: Vec<&str> = ours.lines().collect();
    let golden: Vec<&str> = GOLDEN.lines().collect();
    assert_eq!(ours.len(), golden.len(), "{}", ours.join("\n"));
    // Ids hash the worktree's path, so the golden ids are mapped to ours in order.
    let ids: HashMap<String, String> = golden
        .iter()
        .map(|line| id_of(line))
        .zip(ours.iter().map(|line| id_of(line)))
        .collect();
    let here = repo.path.to_str().expect("utf8");
    for (theirs, ours) in golden.iter().zip(&ours) {
        let mut theirs = theirs.replace(GOLDEN_REPO, here);
        for (old, new) in &ids {
            theirs = theirs.replace(old.as_str(), new);
        }
        assert_eq!(comparable(ours), comparable(&theirs), "\n{ours}\n{theirs}");
    }
}

fn id_of(line: &str) -> String {
    let event: Value = serde_json::from_str(line).expect("an event line");
    event["id"].as_str().unwrap_or("").to_string()
}
