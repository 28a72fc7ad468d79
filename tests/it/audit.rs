use crate::util::{TestRepo, WRITER, hand_commit, short, with_id};
use serde_json::Value;

fn writer_ref() -> String {
    format!("refs/ledger/v1/writers/{WRITER}")
}

fn failed_checks(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn audit_json(repo: &TestRepo) -> (Option<i32>, Value) {
    let run = repo.run(&["audit", "--json"]);
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("json report"),
    )
}

#[test]
fn an_intact_ledger_passes_and_lists_forced_completions() {
    let repo = TestRepo::new();
    let task = repo.task(&["quick"]);
    repo.ok(&["task", "done", &short(&task), "-m", "done", "--force"]);
    repo.ok(&["session", "start", "still open"]);
    let text = repo.ok(&["audit"]);
    assert!(
        text.starts_with("3 event(s) from 1 writer(s): intact\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Forced completions\n  {task} quick (over: no work recorded (no notes); never started, so its time is unknown (git ledger task start, or spawn an agent on it))"
        )),
        "{text}"
    );
    assert!(text.contains("Open sessions\n  s-"), "{text}");
    let (code, report) = audit_json(&repo);
    assert_eq!(code, Some(0));
    assert_eq!(report["ok"], true);
    assert_eq!(report["data"]["intact"], true);
    assert_eq!(report["data"]["checks"].as_array().map(Vec::len), Some(8));
}

#[test]
fn a_rewritten_ref_is_detected_against_the_checkpoint() {
    let repo = TestRepo::new();
    for title in ["a", "b", "c"] {
        repo.task(&[title]);
    }
    repo.ok(&["audit"]);
    // Rewrite history: drop the last two events, as a force-push would.
    let old = repo.git(&["rev-parse", &format!("{}~2", writer_ref())]);
    repo.git(&["update-ref", &writer_ref(), old.trim()]);
    let run = repo.run(&["audit"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("FAIL append-only refs\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("was rewritten"), "{}", run.stdout);
    assert_eq!(
        run.stderr.lines().next(),
        Some("error: the ledger is not intact: append-only refs")
    );
    let (code, report) = audit_json(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(report["ok"], false);
    assert_eq!(report["error"]["code"], "audit_failed");
    assert_eq!(failed_checks(&report["data"]), ["append-only refs"]);
    // It keeps failing: a failed audit does not move the checkpoint.
    assert_eq!(repo.run(&["audit"]).code, Some(1));
    // Appending on the rewritten ref is not a repair either.
    repo.task(&["d"]);
    assert_eq!(repo.run(&["audit"]).code, Some(1));
}

#[test]
fn a_deleted_ref_and_a_damaged_checkpoint_are_reported() {
    let repo = TestRepo::new();
    repo.task(&["a"]);
    repo.ok(&["audit"]);
    repo.git(&["update-ref", "-d", &writer_ref()]);
    let run = repo.run(&["audit"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains(&format!("{} was deleted", writer_ref())),
        "{}",
        run.stdout
    );

    let repo = TestRepo::new();
    repo.task(&["a"]);
    repo.ok(&["audit"]);
    let checkpoint = repo.path.join(".git/ledger/audit-checkpoint");
    std::fs::write(&checkpoint, "garbage\n").expect("damage");
    let run = repo.run(&["audit"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("the audit checkpoint is damaged at line 1"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_events_fail_the_audit() {
    let repo = TestRepo::new();
    repo.task(&["good"]);
    let tip = repo.tip().expect("tip");
    // A task.noted about a task that never existed, a task.created without a title, one with
    // a priority out of range, and a tampered line.
    let orphan = with_id(
        serde_json::json!({"v":1,"kind":"task.noted","time":"2026-01-05T09:00:00.000Z","hlc":1_790_000_000_000u64,
        "writer":WRITER,"actor":"human:Ann","subject":"t-00000000000000ff","body":{"text":"lost"}}),
    );
    let untitled = with_id(
        serde_json::json!({"v":1,"kind":"task.created","time":"2026-01-05T09:00:00.000Z","hlc":1_790_000_000_001u64,
        "writer":WRITER,"actor":"human:Ann","subject":"t-00000000000000aa","body":{"priority":1,"depends_on":[]}}),
    );
    let too_low = with_id(
        serde_json::json!({"v":1,"kind":"task.created","time":"2026-01-05T09:00:00.000Z","hlc":1_790_000_000_002u64,
        "writer":WRITER,"actor":"human:Ann","subject":"t-00000000000000ab","body":{"title":"x","priority":9,"depends_on":[]}}),
    );
    let tampered = orphan.replace("lost", "LOST");
    let commit = hand_commit(
        &repo,
        &format!("x\n\n{orphan}\n{untitled}\n{too_low}\n{tampered}\n"),
        Some(&tip),
    );
    repo.git(&["update-ref", &writer_ref(), &commit]);
    let (code, report) = audit_json(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(
        failed_checks(&report["data"]),
        ["event ids and encoding", "event schema", "references"]
    );
    let findings = report["data"]["checks"].to_string();
    assert!(
        findings.contains("task.created (t-00000000000000aa): body: missing field `title`"),
        "{findings}"
    );
    assert!(
        findings.contains("task.created (t-00000000000000ab): body: a priority above 4"),
        "{findings}"
    );
    assert!(
        findings.contains("t-00000000000000ff, which does not exist at that point"),
        "{findings}"
    );
    assert!(
        findings.contains("does not match its content"),
        "{findings}"
    );
}

#[test]
fn a_cycle_from_two_clones_is_found() {
    let repo = TestRepo::new();
    let a = repo.task(&["A"]);
    let b = repo.task(&["B", "--depends-on", &a]);
    // Another clone, concurrently, made A depend on B.
    let edge = with_id(
        serde_json::json!({"v":1,"kind":"task.dependency_added","time":"2026-01-05T09:00:00.000Z","hlc":1_790_000_000_000u64,
        "writer":"ffffffffffff","actor":"human:Bob","subject":a,"body":{"depends_on":[b]}}),
    );
    let commit = hand_commit(&repo, &format!("x\n\n{edge}\n"), None);
    repo.git(&["update-ref", "refs/ledger/v1/writers/ffffffffffff", &commit]);
    let (code, report) = audit_json(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(failed_checks(&report["data"]), ["dependency cycles"]);
    let cycle = &report["data"]["checks"][5]["findings"][0];
    let (first, second) = if a < b { (&a, &b) } else { (&b, &a) };
    assert_eq!(cycle, &Value::from(format!("{first} → {second} → {first}")));
}

#[test]
fn invalid_json_on_a_ledger_ref_fails_the_audit_and_other_commands_warn() {
    let repo = TestRepo::new();
    let task = repo.task(&["survives"]);
    let tip = repo.tip().expect("tip");
    let commit = hand_commit(
        &repo,
        "broken\n\n{\"kind\": \"task.noted\", \"body\": \n",
        Some(&tip),
    );
    repo.git(&["update-ref", &writer_ref(), &commit]);
    let (code, report) = audit_json(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(failed_checks(&report["data"]), ["event ids and encoding"]);
    assert!(
        report["data"]["checks"][0]["findings"][0]
            .as_str()
            .is_some_and(|f| f.contains("not a JSON event"))
    );
    // Everything else still works, and says what it skipped.
    let run = repo.run(&["status"]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr
            .starts_with(&format!("warning: {}: not a JSON event", writer_ref())),
        "{}",
        run.stderr
    );
    assert_eq!(repo.json(&["task", "show", &task])["title"], "survives");
    repo.ok(&["task", "note", "still appending", "--task", &task]);
    assert_eq!(
        repo.json(&["task", "show", &task])["notes"][0]["text"],
        "still appending"
    );
}
