use crate::util::{TestRepo, id_of, short};
use serde_json::Value;

/// Two sessions: an objective and two tasks in the first, a decision in the second.
fn two_sessions() -> (TestRepo, String, String, String) {
    let repo = TestRepo::new();
    repo.at(Some("2026-01-05T09:00:00Z"));
    let first = id_of(&repo.json(&["session", "start", "first"]));
    let objective = id_of(&repo.json(&["objective", "add", "Ship it"]));
    let task = repo.task(&["Build", "-o", &objective]);
    repo.task(&["Unrelated"]);
    repo.at(Some("2026-01-05T10:00:00Z"))
        .ok(&["task", "start", &short(&task)]);
    repo.at(Some("2026-01-05T11:00:00Z"))
        .ok(&["task", "note", "built"]);
    repo.at(Some("2026-01-05T12:00:00Z"))
        .ok(&["session", "end"]);
    repo.at(Some("2026-01-06T09:00:00Z"));
    let second = id_of(&repo.json(&["session", "start", "second"]));
    repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_AGENT", "a-reviewer")],
        &["task", "note", "reviewed", "--task", &task],
    );
    repo.at(Some("2026-01-06T10:00:00Z"))
        .ok(&["task", "done", &short(&task), "-m", "shipped"]);
    (repo, first, second, task)
}

fn kinds(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("a canonical event per line")["kind"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn replay_is_oldest_first_with_session_boundaries() {
    let (repo, first, second, _) = two_sessions();
    let text = repo.ok(&["replay"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("── session {} \"first\" ──", short(&first))
    );
    assert!(
        lines[1].starts_with("2026-01-05 09:00:00  human:Ann"),
        "{text}"
    );
    assert!(lines[1].ends_with("session started: first"), "{text}");
    let boundary = lines
        .iter()
        .position(|l| *l == format!("── session {} \"second\" ──", short(&second)));
    assert_eq!(boundary, Some(8), "{text}");
    assert_eq!(lines.len(), 12, "{text}");
    assert!(
        lines[10].contains("agent:a-reviewer") && lines[10].ends_with("note: reviewed"),
        "{text}"
    );
}

#[test]
fn replay_filters() {
    let (repo, first, _, task) = two_sessions();
    let session = repo.ok(&["replay", "--session", &short(&first), "--json"]);
    assert_eq!(
        kinds(&session),
        [
            "session.started",
            "objective.created",
            "task.created",
            "task.created",
            "task.started",
            "task.noted",
            "session.ended"
        ]
    );
    let by_task = repo.ok(&["replay", "--task", &short(&task), "--json"]);
    assert_eq!(
        kinds(&by_task),
        [
            "task.created",
            "task.started",
            "task.noted",
            "task.noted",
            "task.completed"
        ]
    );
    let objective = repo.json(&["objective", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let by_objective = repo.ok(&["replay", "--objective", &objective, "--json"]);
    assert_eq!(
        kinds(&by_objective),
        [
            "objective.created",
            "task.created",
            "task.started",
            "task.noted",
            "task.noted",
            "task.completed"
        ]
    );
    let by_agent = repo.ok(&["replay", "--agent", "a-reviewer", "--json"]);
    assert_eq!(kinds(&by_agent), ["task.noted"]);
    let window = repo.ok(&[
        "replay",
        "--since",
        "2026-01-05T10:00:00Z",
        "--until",
        "2026-01-05T11:00:00Z",
        "--json",
    ]);
    assert_eq!(kinds(&window), ["task.started", "task.noted"]);
    let from_day = repo.ok(&["replay", "--since", "2026-01-06", "--json"]);
    assert_eq!(
        kinds(&from_day),
        ["session.started", "task.noted", "task.completed"]
    );
    // Event ids as bounds, inclusive.
    let all: Vec<Value> = repo
        .ok(&["replay", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let (a, b) = (
        all[2]["id"].as_str().expect("id"),
        all[4]["id"].as_str().expect("id"),
    );
    let range = repo.ok(&["replay", "--since", &a[..8], "--until", &b[..8], "--json"]);
    assert_eq!(range.lines().count(), 3);
    // Each line is exactly the stored event.
    assert_eq!(range.lines().next(), Some(all[2].to_string().as_str()));
    let err = repo.fail(&["replay", "--since", "tomorrow-ish"]);
    assert!(
        err.starts_with("error: 'tomorrow-ish' is not a time"),
        "{err}"
    );
}

#[test]
fn views_as_they_stood() {
    let (repo, first, _, task) = two_sessions();
    let then = repo.json(&["task", "list", "--status", "done"]);
    assert_eq!(then.as_array().map(Vec::len), Some(1));
    let at = repo.json(&["status", "--at", "2026-01-05T11:30:00Z"]);
    assert_eq!(at["counts"]["tasks_in_progress"], 1);
    assert_eq!(at["counts"]["tasks_done"], 0);
    let at_session_end = repo.json(&["status", "--at", &short(&first)]);
    assert_eq!(at_session_end["counts"]["events"], 7);
    let long = repo.json(&["memory", "long", "--at", "2026-01-05"]);
    assert_eq!(long["metrics"]["total_tasks_completed"], 0);
    assert_eq!(long["metrics"]["total_sessions"], 1);
    let now = repo.json(&["memory", "long"]);
    assert_eq!(now["metrics"]["total_tasks_completed"], 1);
    // Time tracking is computed as of that point.
    let working = repo.json(&["memory", "working", "--at", "2026-01-05T11:00:00Z"]);
    assert_eq!(working["in_progress"][0]["id"], task.as_str());
    let err = repo.fail(&["status", "--at", "deadbeef"]);
    assert_eq!(
        err.lines().next(),
        Some("error: no event or session matches 'deadbeef'")
    );
}

#[test]
fn diff_between_points_and_across_a_session() {
    let (repo, first, second, _) = two_sessions();
    let diff = repo.ok(&[
        "diff",
        "2026-01-05T11:30:00Z",
        "2026-01-06T12:00:00Z",
        "--view",
        "long",
    ]);
    assert!(diff.starts_with("--- 2026-01-05T11:30:00Z ("), "{diff}");
    assert!(
        diff.contains("\n-  tasks completed: 0\n+  tasks completed: 1\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n-  sessions: 1\n+  sessions: 2\n"),
        "{diff}"
    );
    let session = repo.json(&["diff", &short(&second), "--view", "working"]);
    assert_eq!(session["changed"], true);
    let text = session["diff"].as_str().expect("diff");
    assert!(
        text.contains(&format!("+++ {} (end)", short(&second))),
        "{text}"
    );
    // A session as FROM and TO: its start and its end.
    let across = repo.ok(&["diff", &short(&first), &short(&first)]);
    assert!(across.contains("\n-  no objective yet\n+  o-"), "{across}");
    let same = repo.ok(&["diff", "2026-01-05T11:30:00Z", "2026-01-05T11:45:00Z"]);
    assert_eq!(same, "No change\n");
}

#[test]
fn step_without_a_terminal_prints_everything() {
    let (repo, ..) = two_sessions();
    assert_eq!(repo.ok(&["replay", "--step"]), repo.ok(&["replay"]));
}

#[test]
fn blame_names_the_event_behind_each_field() {
    let repo = TestRepo::new();
    let as_agent = |agent: &str, time: &str, args: &[&str]| {
        let run = repo.run_with(
            &repo.path,
            &[("GIT_LEDGER_AGENT", agent), ("GIT_LEDGER_NOW", time)],
            args,
        );
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
    };
    repo.at(Some("2026-01-05T09:00:00Z"));
    let first = id_of(&repo.json(&["session", "start", "first"]));
    let task = repo.task(&["Write the parser", "-p", "1", "-e", "2h"]);
    as_agent("a-dev", "2026-01-05T09:30:00Z", &["task", "start", &task]);
    as_agent(
        "a-dev",
        "2026-01-05T10:00:00Z",
        &["task", "note", "tokenizer done", "--task", &task],
    );
    as_agent(
        "a-dev",
        "2026-01-05T10:30:00Z",
        &["task", "block", &task, "--reason", "needs the schema"],
    );
    repo.at(Some("2026-01-05T12:00:00Z"))
        .ok(&["session", "end"]);
    repo.at(Some("2026-01-06T09:00:00Z"));
    let second = id_of(&repo.json(&["session", "start", "second"]));
    as_agent(
        "a-tester",
        "2026-01-06T09:30:00Z",
        &["task", "start", &task],
    );
    as_agent(
        "a-tester",
        "2026-01-06T10:00:00Z",
        &["task", "note", "tests pass", "--task", &task],
    );
    as_agent(
        "a-tester",
        "2026-01-06T10:30:00Z",
        &["task", "done", &task, "-m", "merged"],
    );

    let blame = repo.json(&["blame", &short(&task)]);
    let by_field = |field: &str| {
        blame
            .as_array()
            .expect("list")
            .iter()
            .find(|b| b["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("{field} blamed"))
    };
    assert_eq!(by_field("title")["actor"], "human:Ann");
    assert_eq!(by_field("title")["session"], first.as_str());
    assert_eq!(by_field("block_reason")["actor"], "agent:a-dev");
    assert_eq!(by_field("block_reason")["kind"], "task.blocked");
    assert_eq!(by_field("status")["actor"], "agent:a-tester");
    assert_eq!(by_field("status")["kind"], "task.completed");
    assert_eq!(by_field("status")["session"], second.as_str());
    assert_eq!(by_field("notes")["time"], "2026-01-06T10:00:00Z");
    assert_eq!(by_field("estimate_minutes")["kind"], "task.created");
    // Event ids depend on the worktree's temporary path (task.started records it, and later
    // status changes name the event they saw): pin everything but them.
    let text: String = repo
        .ok(&["blame", &short(&task)])
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.get(1) {
                Some(id) if id.len() == 10 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    format!("{}\n", line.replacen(id, "<event id>", 1))
                }
                _ => format!("{line}\n"),
            }
        })
        .collect();
    insta::assert_snapshot!("blame_task", text);

    let only = repo.json(&["blame", &short(&task), "summary"]);
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    let run = repo.run(&["blame", &short(&task), "colour"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            format!(
                "error: {} has no field 'colour' set by any event",
                short(&task)
            )
            .as_str()
        )
    );
}
