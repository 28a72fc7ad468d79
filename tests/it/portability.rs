use crate::util::{TestRepo, WRITER, event_ids, id_of, short, with_id};
use git_ledger::event::{EntityKind, entity_id};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

const ORCHESTRATOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/orchestrator_context.json"
);
const BEADS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/beads_issues.jsonl");

/// Another clone: its own writer id, so its events are told apart from the first one's.
fn other_clone() -> TestRepo {
    let repo = TestRepo::bare_git();
    repo.git(&["config", "ledger.writer", "ffeeddccbbaa"]);
    repo.ok(&["init"]);
    repo
}

/// A ledger with some of everything: a session, an objective, tasks with a dependency in all
/// states, notes, an insight, decisions open and made.
fn busy_ledger() -> TestRepo {
    let repo = TestRepo::new();
    repo.ok(&["session", "start", "Port the ledger"]);
    let objective = id_of(&repo.json(&["objective", "add", "Ship OAuth2"]));
    let design = repo.task(&["Design", "-p", "1", "-o", &short(&objective), "-e", "2h"]);
    let build = repo.task(&["Build", "--depends-on", &short(&design)]);
    repo.task(&["Docs", "-p", "3"]);
    repo.at(Some("2026-01-05T09:10:00Z"));
    repo.ok(&["task", "start", &short(&design)]);
    repo.ok(&["task", "note", "drawn on paper"]);
    repo.at(Some("2026-01-05T10:00:00Z"));
    repo.ok(&["task", "done", "-m", "design agreed"]);
    repo.ok(&["task", "start", &short(&build)]);
    repo.ok(&["task", "block", "--reason", "waiting for keys"]);
    let insight = id_of(&repo.json(&["insight", "add", "Tokens expire hourly", "--tag", "auth"]));
    repo.ok(&["insight", "promote", &short(&insight)]);
    let decision = id_of(&repo.json(&[
        "decision",
        "request",
        "Which IdP?",
        "--option",
        "Auth0",
        "--option",
        "Okta",
    ]));
    repo.ok(&[
        "decision",
        "make",
        &short(&decision),
        "Auth0",
        "--rationale",
        "cheaper",
    ]);
    repo.ok(&["decision", "request", "Keep cookies?"]);
    repo
}

fn write(repo: &TestRepo, name: &str, content: &[u8]) -> String {
    let path: PathBuf = repo.root().join(name);
    std::fs::write(&path, content).expect("write input");
    path.to_str().expect("utf8 path").to_string()
}

fn commit_count(repo: &TestRepo) -> usize {
    let reference = format!("refs/ledger/v1/writers/{WRITER}");
    if repo.tip().is_none() {
        return 0;
    }
    repo.git(&["rev-list", "--count", &reference])
        .trim()
        .parse()
        .expect("count")
}

/// Tasks of the ledger by title.
fn tasks_by_title(repo: &TestRepo) -> HashMap<String, Value> {
    repo.json(&["task", "list"])
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| (t["title"].as_str().expect("title").to_string(), t.clone()))
        .collect()
}

/// A refused import: exit 1, `error: <message>` and a hint, nothing written.
fn refused(repo: &TestRepo, args: &[&str], message: &str) {
    let before = repo.tip();
    let stderr = repo.fail(args);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "one error line and one hint: {stderr}");
    assert_eq!(lines[0], format!("error: {message}"), "{args:?}");
    assert!(lines[1].starts_with("hint: "), "{stderr}");
    assert_eq!(repo.tip(), before, "nothing written by {args:?}");
}

#[test]
fn export_then_import_reproduces_the_ledger_in_another_clone() {
    let source = busy_ledger();
    let events = source.event_count();
    assert_eq!(events, 15);

    // To standard output: the events only, a summary on standard error.
    let run = source.run(&["export"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, format!("Exported {events} event(s)\n"));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), events);
    let mut ids: Vec<String> = lines
        .iter()
        .map(|l| {
            let event: Value = serde_json::from_str(l).expect("a JSON event a line");
            event["id"].as_str().expect("id").to_string()
        })
        .collect();
    ids.reverse();
    assert_eq!(ids, event_ids(&source), "the ledger's order, oldest first");

    // To a file: the same bytes, and a reply.
    let file = source.root().join("ledger.jsonl");
    let file = file.to_str().expect("utf8 path");
    let data = source.json(&["export", "--output", file]);
    assert_eq!(data, json!({ "events": events, "output": file }));
    assert_eq!(std::fs::read_to_string(file).expect("export"), run.stdout);
    assert_eq!(
        source.ok(&["export", "-o", file]),
        format!("Exported {events} event(s) to {file}\n")
    );

    let target = other_clone();
    let report = target.json(&["import", file]);
    assert_eq!(report["format"], "jsonl");
    assert_eq!(report["read"], events);
    assert_eq!(report["added"], events);
    assert_eq!(report["skipped"], 0);
    assert_eq!(report["commits"], 1);
    assert_eq!(
        target.json(&["status"])["counts"],
        source.json(&["status"])["counts"]
    );
    assert_eq!(event_ids(&target), event_ids(&source));
    // Events keep their envelope: the original writer, clock and time.
    let first = &target.json(&["log", "-n", "0"])[events - 1];
    assert_eq!(first["writer"], WRITER);
    assert_eq!(first["time"], "2026-01-05T09:00:00.000Z");
    // The target's export is the source's, byte for byte.
    assert_eq!(target.ok(&["export"]), run.stdout);
}

#[test]
fn importing_the_same_export_twice_adds_nothing() {
    let source = busy_ledger();
    let export = source.ok(&["export"]);
    let events = source.event_count();
    let target = other_clone();
    let file = write(&target, "ledger.jsonl", export.as_bytes());

    let first = target.ok(&["import", &file]);
    assert_eq!(
        first,
        format!(
            "Imported {file} (jsonl): {events} event(s) read, {events} added, 0 skipped as already present (1 commit(s))\n"
        )
    );
    let tip = target.tip();
    let second = target.json(&["import", &file]);
    assert_eq!(
        (
            &second["read"],
            &second["added"],
            &second["skipped"],
            &second["commits"]
        ),
        (&json!(events), &json!(0), &json!(events), &json!(0))
    );
    assert_eq!(target.tip(), tip, "no commit for nothing");
    assert_eq!(target.event_count(), events);

    // From standard input, and back into the source itself: nothing new either.
    let run = source.run_stdin(export.as_bytes(), &["import", "-"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "Imported standard input (jsonl): {events} event(s) read, 0 added, {events} skipped as already present\n"
        )
    );
    assert_eq!(source.event_count(), events);
}

#[test]
fn a_tampered_line_refuses_the_whole_import() {
    let source = busy_ledger();
    let export = source.ok(&["export"]);
    let target = other_clone();

    let mut lines: Vec<String> = export.lines().map(str::to_string).collect();
    assert!(lines[2].contains("\"title\":\"Design\""), "{}", lines[2]);
    lines[2] = lines[2].replace("\"title\":\"Design\"", "\"title\":\"Redesign\"");
    let tampered = write(
        &target,
        "tampered.jsonl",
        (lines.join("\n") + "\n").as_bytes(),
    );
    let stderr = target.fail(&["import", &tampered]);
    assert!(
        stderr.starts_with("error: line 3: event id "),
        "the line is named: {stderr}"
    );
    assert!(stderr.contains("does not match its content"), "{stderr}");
    assert_eq!(
        stderr.lines().nth(1),
        Some("hint: nothing was imported; fix the input and run the import again")
    );
    assert_eq!(target.tip(), None, "nothing written");

    // Also when the bad line is the last one and the file has blank lines.
    let mut lines: Vec<String> = export.lines().map(str::to_string).collect();
    lines.insert(1, String::new());
    lines.push("{\"kind\":\"task.noted\"".into());
    let broken = write(&target, "broken.jsonl", lines.join("\n").as_bytes());
    let stderr = target.fail(&["import", &broken]);
    assert!(
        stderr.starts_with(&format!("error: line {}: not a JSON event: ", lines.len())),
        "{stderr}"
    );
    let run = target.run(&["import", &broken, "--json"]);
    let reply: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["code"], "import_failed");
    assert_eq!(target.tip(), None);
}

#[test]
fn an_orchestrator_context_becomes_objectives_tasks_decisions_insights_and_agents() {
    let repo = TestRepo::new();
    let reply = repo.ok(&["import", ORCHESTRATOR]);
    assert_eq!(
        reply,
        format!(
            "Imported {ORCHESTRATOR} (orchestrator): 10 event(s) read, 10 added, 0 skipped as already present (1 commit(s))\n\
             Metrics are not imported: they are recomputed from the events (`git ledger memory long`)\n"
        )
    );
    // Derived from the project's name and the source id: another project's OBJ_001 differs.
    let id = |kind, source: &str| {
        entity_id(
            kind,
            "import",
            0,
            &format!("orchestrator:project_alpha:{source}"),
        )
    };

    let objectives = repo.json(&["objective", "list"]);
    assert_eq!(objectives.as_array().map(Vec::len), Some(1));
    assert_eq!(objectives[0]["id"], id(EntityKind::Objective, "OBJ_001"));
    assert_eq!(objectives[0]["title"], "Migrate authentication to OAuth2");
    assert_eq!(objectives[0]["status"], "active");
    assert_eq!(objectives[0]["created"], "2024-01-01T10:00:00Z");

    let tasks = tasks_by_title(&repo);
    assert_eq!(tasks.len(), 2);
    let research = &tasks["Research OAuth providers"];
    assert_eq!(research["id"], id(EntityKind::Task, "TASK_001"));
    assert_eq!(research["status"], "done");
    assert_eq!(research["summary"], "Selected Auth0");
    assert_eq!(research["completed"], "2024-01-03T15:00:00Z");
    assert!(research.get("forced_over").is_none(), "{research}");
    let active = &tasks["Implement Auth0 integration"];
    assert_eq!(active["id"], id(EntityKind::Task, "TASK_025"));
    assert_eq!(active["status"], "open");

    let decisions = repo.json(&["decision", "list"]);
    let questions: Vec<(&str, &Value)> = decisions
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| (d["question"].as_str().unwrap_or(""), &d["options"]))
        .collect();
    assert_eq!(
        questions,
        [
            (
                "Which user segment migrates first?",
                &json!(["internal staff", "free tier", "enterprise"])
            ),
            (
                "Keep legacy session cookies during the migration?",
                &json!([])
            ),
        ]
    );
    let insights: Vec<String> = repo
        .json(&["insight", "list"])
        .as_array()
        .expect("insights")
        .iter()
        .map(|i| i["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        insights,
        [
            "Auth0 provides best enterprise features",
            "Migration can be phased by user segment"
        ]
    );

    let metrics = repo.json(&["memory", "long"])["metrics"].clone();
    assert_eq!(metrics["total_agents_spawned"], 1, "{metrics}");
    assert_eq!(metrics["total_tasks_completed"], 1, "{metrics}");
    assert_eq!(metrics["total_decisions_made"], 0, "not the source's 15");
    let agent = repo
        .json(&["log", "-n", "0"])
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "agent.spawned")
        .cloned()
        .expect("an agent.spawned event");
    assert_eq!(agent["subject"], id(EntityKind::Agent, "AGENT_0001"));
    assert_eq!(
        agent["body"],
        json!({ "role": "researcher", "mission": "Research OAuth providers", "source_id": "AGENT_0001" })
    );
    assert_eq!(agent["time"], "2024-01-01T11:00:00.000Z");

    // Again: every entity is recognised, nothing is added.
    let tip = repo.tip();
    let again = repo.json(&["import", ORCHESTRATOR]);
    assert_eq!(
        (&again["read"], &again["added"], &again["skipped"]),
        (&json!(10), &json!(0), &json!(10))
    );
    assert_eq!(repo.tip(), tip);
    assert_eq!(repo.event_count(), 10);
}

#[test]
fn beads_issues_become_tasks_with_statuses_priorities_and_dependencies() {
    let repo = TestRepo::new();
    let report = repo.json(&["import", BEADS]);
    assert_eq!(
        (
            &report["format"],
            &report["read"],
            &report["added"],
            &report["skipped"]
        ),
        (&json!("beads"), &json!(8), &json!(8), &json!(0))
    );
    // Derived from the issue's id and creation time: another repository's bd-a1b2 is another task.
    let created = HashMap::from([
        ("bd-a1b2", "2025-10-01T10:00:00Z"),
        ("bd-c3d4", "2025-10-01T09:00:00Z"),
        ("bd-i9j0", "2025-10-03T10:00:00Z"),
    ]);
    let id = |source: &str| {
        let seed = format!("beads:{source}@{}", created[source]);
        entity_id(EntityKind::Task, "import", 0, &seed)
    };
    let tasks = tasks_by_title(&repo);
    let summary: HashMap<&str, (&str, u64)> = tasks
        .iter()
        .map(|(title, t)| {
            (
                title.as_str(),
                (
                    t["status"].as_str().unwrap_or(""),
                    t["priority"].as_u64().unwrap_or(99),
                ),
            )
        })
        .collect();
    assert_eq!(
        summary,
        HashMap::from([
            ("Write the OAuth callback handler", ("open", 1)),
            ("Register the Auth0 application", ("in_progress", 0)),
            ("Fix token refresh race", ("blocked", 2)),
            ("Document the login flow", ("done", 3)),
            ("Remove the legacy password form", ("open", 4)),
        ])
    );
    let callback = &tasks["Write the OAuth callback handler"];
    assert_eq!(callback["id"], id("bd-a1b2"));
    assert_eq!(callback["description"], "Exchange the code for tokens");
    // The "blocks" dependency on an issue further down; the "related" one is ignored.
    assert_eq!(callback["depends_on"], json!([id("bd-c3d4")]));
    assert_eq!(
        tasks["Fix token refresh race"]["block_reason"],
        "imported from beads as blocked"
    );
    let closed = &tasks["Document the login flow"];
    assert_eq!(closed["summary"], "closed in beads");
    assert_eq!(closed["completed"], "2025-09-30T17:00:00Z");

    let ready = |repo: &TestRepo| -> Vec<String> {
        repo.json(&["ready"])
            .as_array()
            .expect("ready")
            .iter()
            .map(id_of)
            .collect()
    };
    assert_eq!(
        ready(&repo),
        [id("bd-i9j0")],
        "the callback waits for its blocker"
    );
    repo.ok(&["task", "note", "registered", "--task", &id("bd-c3d4")]);
    repo.ok(&["task", "done", &id("bd-c3d4"), "-m", "app registered"]);
    assert_eq!(ready(&repo), [id("bd-a1b2"), id("bd-i9j0")]);

    // Again, after work on the imported tasks: nothing added, nothing undone.
    let again = repo.json(&["import", BEADS, "--format", "beads"]);
    assert_eq!((&again["added"], &again["skipped"]), (&json!(0), &json!(8)));
    assert_eq!(
        repo.json(&["task", "show", &id("bd-c3d4")])["status"],
        "done"
    );
}

#[test]
fn a_large_import_is_written_in_commits_of_a_thousand_events() {
    let repo = TestRepo::new();
    repo.task(&["already here"]);
    assert_eq!(commit_count(&repo), 1);
    let writer = "ffeeddccbbaa";
    let mut input = String::new();
    for n in 0..2500u64 {
        let line = with_id(json!({
            "v": 1, "kind": "task.created", "time": "2026-01-04T09:00:00.000Z",
            "hlc": 1_767_500_000_000u64 + n, "writer": writer, "actor": "human:Bob",
            "subject": format!("t-{n:016x}"),
            "body": {"title": format!("generated {n}"), "priority": 2, "depends_on": []}
        }));
        input.push_str(&line);
        input.push('\n');
    }
    let file = write(&repo, "large.jsonl", input.as_bytes());
    let report = repo.json(&["import", &file]);
    assert_eq!(
        (&report["added"], &report["commits"]),
        (&json!(2500), &json!(3))
    );
    assert_eq!(
        commit_count(&repo),
        1 + 3,
        "three commits, not one per event"
    );
    let reference = format!("refs/ledger/v1/writers/{WRITER}");
    assert_eq!(
        repo.git(&["log", "--format=%s", "-3", &reference]),
        "ledger: 500 events\nledger: 1000 events\nledger: 1000 events\n"
    );
    assert_eq!(repo.event_count(), 2501);
    assert_eq!(
        repo.json(&["task", "list"]).as_array().map(Vec::len),
        Some(2501)
    );
    repo.git(&["fsck", "--strict", "--no-progress"]);

    let again = repo.json(&["import", &file]);
    assert_eq!(
        (&again["added"], &again["skipped"]),
        (&json!(0), &json!(2500))
    );
    assert_eq!(commit_count(&repo), 4);
}

#[test]
fn unreadable_malformed_and_unknown_inputs_are_refused_with_one_line() {
    let repo = TestRepo::new();
    repo.task(&["something to keep"]);

    let missing = repo.root().join("missing.jsonl");
    let missing = missing.to_str().expect("utf8 path");
    refused(
        &repo,
        &["import", missing],
        &format!("cannot read {missing}: No such file or directory (os error 2)"),
    );
    let not_utf8 = write(
        &repo,
        "latin1.jsonl",
        b"{\"id\":\"bd-1\",\"title\":\"x\",\"status\":\"open\"}\n{\"title\":\"caf\xe9\"}\n",
    );
    refused(&repo, &["import", &not_utf8], "line 2: not valid UTF-8");
    let empty = write(&repo, "empty.jsonl", b"\n  \n");
    refused(&repo, &["import", &empty], "the input is empty");
    let unknown = write(&repo, "unknown.jsonl", b"{\"hello\": \"world\"}\n");
    refused(
        &repo,
        &["import", &unknown],
        "cannot tell the format of the input: line 1 is neither a ledger event (kind, hlc, writer) nor a beads issue (title, status)",
    );
    let prose = write(&repo, "notes.txt", b"just some notes\n");
    refused(
        &repo,
        &["import", &prose],
        "line 1: not valid JSON: expected value (column 1)",
    );
    let beads = write(
        &repo,
        "beads.jsonl",
        b"{\"id\":\"bd-1\",\"title\":\"x\",\"status\":\"open\"}\n{\"id\":\"bd-2\",\"title\":\n",
    );
    refused(
        &repo,
        &["import", &beads],
        "line 2: not valid JSON: EOF while parsing a value (column 21)",
    );
    let orchestrator = write(
        &repo,
        "context.json",
        b"{\n  \"objectives\": [\n    {\"id\": \"OBJ_1\",}\n  ]\n}\n",
    );
    refused(
        &repo,
        &["import", &orchestrator],
        "line 3: not valid JSON: trailing comma",
    );
    // A format named by hand is checked too.
    refused(
        &repo,
        &["import", BEADS, "--format", "orchestrator"],
        "line 2: not valid JSON: trailing characters",
    );
    refused(
        &repo,
        &["import", ORCHESTRATOR, "--format", "jsonl"],
        "line 1: not a JSON event: EOF while parsing an object at line 1 column 1",
    );
    let run = repo.run(&["import", &unknown, "--json"]);
    assert_eq!(run.code, Some(1));
    let reply: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reply["error"]["code"], "import_failed");
    assert_eq!(repo.event_count(), 1);

    // Export refuses to mix the events and the JSON reply on standard output.
    let run = repo.run(&["export", "--json"]);
    assert_eq!(run.code, Some(1));
    let reply: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reply["error"]["code"], "usage");
    assert_eq!(reply["error"]["hint"], "use --output FILE with --json");
}

#[test]
fn the_sample_ledger_gives_identical_views_after_export_and_import() {
    let source = TestRepo::sample();
    let export = source.ok(&["export"]);
    let target = other_clone();
    target.at(Some(crate::util::SAMPLE_END));
    let file = write(&target, "sample.jsonl", export.as_bytes());
    target.ok(&["import", &file]);
    for view in [
        &["memory", "long"][..],
        &["memory", "short"],
        &["memory", "knowledge"],
        &["task", "list"],
        &["decision", "list"],
        &["objective", "list"],
        &["insight", "list"],
        &["ready"],
    ] {
        assert_eq!(
            target.json(view),
            source.json(view),
            "{view:?} differs after import"
        );
    }
    assert_eq!(target.ok(&["replay"]), source.ok(&["replay"]));
    assert_eq!(target.json(&["import", &file])["added"], 0);
}
