use crate::util::{TestRepo, id_of, short, strings_of};

#[test]
fn focus_is_per_worktree() {
    let repo = TestRepo::new();
    let first = repo.task(&["First"]);
    let second = repo.task(&["Second"]);
    let other = repo.root().join("other");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        other.to_str().expect("utf8 path"),
        "-b",
        "other",
    ]);

    repo.ok(&["task", "start", &short(&first)]);
    repo.ok_in(&other, &["task", "start", &short(&second)]);
    repo.ok(&["task", "note", "in the main worktree"]);
    repo.ok_in(&other, &["task", "note", "in the other worktree"]);

    let notes = |id: &str| -> Vec<String> {
        repo.json(&["task", "show", id])["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .map(|n| n["text"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(notes(&first), ["in the main worktree"]);
    assert_eq!(notes(&second), ["in the other worktree"]);

    // `done` with no id closes the focus of the worktree it runs in, and clears it.
    repo.ok_in(&other, &["task", "done", "-m", "finished"]);
    assert_eq!(
        repo.json(&["task", "show", &first])["status"],
        "in_progress"
    );
    assert_eq!(repo.json(&["task", "show", &second])["status"], "done");
    let err = repo.run_with(&other, &[], &["task", "note", "more"]);
    assert_eq!(err.code, Some(1));
    assert_eq!(
        err.stderr,
        "error: no task id given and no task in focus in this worktree\nhint: name the task, or set the focus with `git ledger task start <id>`\n"
    );
}

#[test]
fn sessions_are_per_worktree_and_scope_events() {
    let repo = TestRepo::new();
    let other = repo.root().join("wt2");
    repo.git(&["worktree", "add", "-q", other.to_str().expect("utf8 path")]);
    let main_session = id_of(&repo.json(&["session", "start", "main work"]));
    let other_session = id_of(&repo.json_in(&other, &["session", "start", "side work"]));
    assert_ne!(main_session, other_session);

    let err = repo.fail(&["session", "start", "again"]);
    assert_eq!(
        err.lines().next(),
        Some(
            format!(
                "error: session {} is already open in this worktree",
                short(&main_session)
            )
            .as_str()
        )
    );
    repo.task(&["recorded in main"]);
    let shown = repo.json(&["session", "show"]);
    assert_eq!(shown["session"]["id"], main_session.as_str());
    let kinds = strings_of(&shown["events"], "kind");
    assert_eq!(kinds, ["session.started", "task.created"]);
    let other_events = repo.json_in(&other, &["session", "show"])["events"]
        .as_array()
        .map(Vec::len);
    assert_eq!(other_events, Some(1));

    let ended = repo.json(&["session", "end", "-m", "shipped"]);
    assert!(ended["ended"].is_string());
    assert_eq!(ended["summary"], "shipped");
    let err = repo.fail(&["session", "end"]);
    assert!(
        err.starts_with("error: no open session in this worktree"),
        "{err}"
    );
    // Resuming an ended session continues it in a new one, linked to it.
    let continued = repo.json(&["session", "resume", &short(&main_session)]);
    assert_eq!(continued["session"]["continues"], main_session.as_str());
    repo.ok(&["session", "end"]);
    let abandoned = repo.json_in(&other, &["session", "end", "--abandoned"]);
    assert_eq!(abandoned["abandoned"], true);
}

#[test]
fn resume_in_a_new_process_returns_context_last_actions_and_next_steps() {
    let repo = TestRepo::new();
    let session = id_of(&repo.json(&["session", "start", "parser work"]));
    let task = repo.task(&["Write the parser", "-e", "2h"]);
    repo.task(&["Write the docs", "-p", "1"]);
    repo.json(&[
        "decision",
        "request",
        "Streaming or batch?",
        "--option",
        "streaming",
        "--option",
        "batch",
    ]);
    repo.ok(&["task", "start", &short(&task)]);
    repo.ok(&["task", "note", "tokenizer handles escapes"]);

    // Each command is a new process: nothing is kept in memory between them.
    let context = repo.json(&["session", "resume"]);
    assert_eq!(context["session"]["id"], session.as_str());
    assert_eq!(context["session"]["resumes"], 1);
    let working = &context["working"];
    assert_eq!(working["focus"]["id"], task.as_str());
    let last = strings_of(&working["last_actions"], "kind");
    assert_eq!(last, ["decision.requested", "task.started", "task.noted"]);
    let steps = working["next_steps"]["suggested_commands"]
        .as_array()
        .expect("steps");
    assert_eq!(steps[0], "git ledger task note \"<what you did or found>\"");
    assert_eq!(steps[1], "git ledger task done --summary \"<outcome>\"");

    let text = repo.ok(&["session", "resume"]);
    let focus = format!(
        "Focus\n  {} [in progress] P2 Write the parser [0m of 2h]\n",
        short(&task)
    );
    assert!(text.contains(&focus), "{text}");
    assert!(text.contains("Last actions\n"), "{text}");
    assert!(
        text.contains("note: tokenizer handles escapes — Write the parser (human:Ann)"),
        "{text}"
    );
    let markdown = repo.ok(&["session", "resume", "--markdown"]);
    assert!(markdown.starts_with("# Working memory: "), "{markdown}");
    assert!(
        markdown.contains("\n## Next steps\n\n- Record progress on "),
        "{markdown}"
    );

    // Resuming by id from another worktree moves the session there.
    let other = repo.root().join("elsewhere");
    repo.git(&["worktree", "add", "-q", other.to_str().expect("utf8 path")]);
    let moved = repo.json_in(&other, &["session", "resume", &short(&session)]);
    assert_eq!(moved["session"]["id"], session.as_str());
    assert_eq!(
        repo.json_in(&other, &["session", "show"])["session"]["id"],
        session.as_str()
    );
    let err = repo.fail(&["session", "show"]);
    assert!(
        err.starts_with("error: no open session in this worktree"),
        "{err}"
    );
}

#[test]
fn done_is_validated_and_force_is_recorded() {
    let repo = TestRepo::new();
    let task = repo.task(&["Quick fix"]);
    repo.ok(&["task", "start", &short(&task)]);
    let before = repo.tip();
    let run = repo.run(&["task", "done"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            format!(
                "error: cannot complete {}: no summary given; no work recorded (no notes)",
                short(&task)
            )
            .as_str()
        )
    );
    assert!(
        run.stderr
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("hint: ") && l.contains("--force"))
    );
    let run = repo.run(&["task", "done", "-m", "fixed"]);
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            format!(
                "error: cannot complete {}: no work recorded (no notes)",
                short(&task)
            )
            .as_str()
        )
    );
    assert_eq!(repo.tip(), before, "refused completions write nothing");

    let forced = repo.json(&["task", "done", "-m", "fixed", "--force"]);
    assert_eq!(forced["status"], "done");
    assert_eq!(
        forced["forced_over"],
        serde_json::json!(["no work recorded (no notes)"])
    );
    let show = repo.ok(&["task", "show", &short(&task)]);
    assert!(
        show.contains("forced      closed with --force over: no work recorded (no notes)\n"),
        "{show}"
    );
    let long = repo.ok(&["memory", "long"]);
    assert!(
        long.contains("Forced completions\n  ")
            && long.contains("overrode: no work recorded (no notes)"),
        "{long}"
    );
    assert_eq!(
        repo.json(&["memory", "long"])["metrics"]["forced_completions"],
        1
    );
    let event = &repo.json(&["log", "-n", "1"])[0];
    assert_eq!(event["body"]["forced"], true);

    let err = repo.fail(&["task", "done", &short(&task), "-m", "again", "--force"]);
    assert!(
        err.starts_with(&format!(
            "error: {} is done; it cannot be completed",
            short(&task)
        )),
        "{err}"
    );
    assert!(err.contains("hint: reopen it first"), "{err}");
}

#[test]
fn time_tracking_excludes_blocked_time() {
    let repo = TestRepo::new();
    let task = repo.task(&["Migrate", "--estimate", "2h"]);
    repo.at(Some("2026-01-05T09:00:00Z"))
        .ok(&["task", "start", &short(&task)]);
    repo.at(Some("2026-01-05T09:40:00Z"))
        .ok(&["task", "note", "schema done"]);
    repo.at(Some("2026-01-05T10:00:00Z"))
        .ok(&["task", "block", "-r", "waiting for review"]);
    repo.at(Some("2026-01-05T13:00:00Z"))
        .ok(&["task", "start", &short(&task)]);
    let running = repo
        .at(Some("2026-01-05T13:15:00Z"))
        .json(&["task", "show", &short(&task)]);
    assert_eq!(
        running["actual_minutes"], 75,
        "open interval counts up to now"
    );
    repo.at(Some("2026-01-05T13:30:00Z"))
        .ok(&["task", "done", "-m", "migrated"]);

    let shown = repo
        .at(Some("2026-01-06T09:00:00Z"))
        .json(&["task", "show", &short(&task)]);
    assert_eq!(
        shown["actual_minutes"], 90,
        "1h before the block + 30m after"
    );
    assert_eq!(shown["estimate_minutes"], 120);
    let accuracy = &repo.json(&["memory", "long"])["metrics"]["estimate_accuracy"];
    assert_eq!(accuracy["tasks"], 1);
    assert_eq!(accuracy["estimated_minutes"], 120);
    assert_eq!(accuracy["actual_minutes"], 90);
    assert_eq!(accuracy["ratio"], 0.75);
    let long = repo.ok(&["memory", "long"]);
    assert!(
        long.contains("estimate accuracy: 1 task(s), 1h30m actual vs 2h estimated (×0.75)"),
        "{long}"
    );
    let line = repo.ok(&["task", "list"]);
    assert!(
        line.ends_with("[done] P2 Migrate — migrated [1h30m of 2h]\n"),
        "{line}"
    );
}

#[test]
fn short_term_memory_covers_the_last_days() {
    let repo = TestRepo::new();
    let old = repo.task(&["Old work"]);
    repo.at(Some("2026-01-01T09:00:00Z"))
        .ok(&["task", "start", &short(&old)]);
    repo.ok(&["task", "note", "x"]);
    repo.ok(&["task", "done", "-m", "long ago"]);
    let recent = repo.task(&["Recent work"]);
    repo.at(Some("2026-01-10T09:00:00Z"))
        .ok(&["task", "start", &short(&recent)]);
    repo.ok(&["task", "note", "y"]);
    repo.ok(&["task", "done", "-m", "just now"]);
    repo.ok(&["insight", "add", "fresh insight"]);

    let week = repo
        .at(Some("2026-01-11T09:00:00Z"))
        .json(&["memory", "short"]);
    let titles = strings_of(&week["completed"], "title");
    assert_eq!(titles, ["Recent work"]);
    assert_eq!(week["insights"].as_array().map(Vec::len), Some(1));
    let month = repo.json(&["memory", "short", "--days", "30"]);
    assert_eq!(month["completed"].as_array().map(Vec::len), Some(2));
    assert_eq!(month["days"], 30);
}

#[test]
fn working_memory_shows_the_newest_tasks_in_progress_and_counts_the_rest() {
    let repo = TestRepo::new();
    let mut started = Vec::new();
    for n in 1..=22 {
        let id = repo.task(&[&format!("Task {n}")]);
        repo.ok(&["task", "start", &short(&id)]);
        started.push(id);
    }
    let working = repo.json(&["memory", "working"]);
    assert_eq!(working["in_progress_total"], 22);
    let shown = strings_of(&working["in_progress"], "id");
    let newest: Vec<&str> = started[2..].iter().map(String::as_str).collect();
    assert_eq!(shown, newest, "the newest 20, oldest first");
    let text = repo.ok(&["memory", "working"]);
    assert!(text.contains("Task 22"), "{text}");
    assert!(
        !text.contains("Task 2\n") && !text.contains("Task 1\n"),
        "{text}"
    );
    assert!(
        text.contains("… and 2 older (git ledger task list --status in-progress)"),
        "{text}"
    );
    let listed = repo.json(&["task", "list", "--status", "in-progress"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(22), "the hint works");
}

#[test]
fn the_next_step_names_the_task_ready_lists_first() {
    let repo = TestRepo::new();
    repo.task(&["Low", "--priority", "3"]);
    let dep = repo.task(&["Dependency", "--priority", "2"]);
    repo.task(&[
        "Urgent but waiting",
        "--priority",
        "0",
        "--depends-on",
        &dep,
    ]);
    let first = repo.task(&["First of the P1s", "--priority", "1"]);
    repo.task(&["Second of the P1s", "--priority", "1"]);
    let ready = repo.json(&["ready"]);
    assert_eq!(ready[0]["id"], first.as_str(), "{ready}");
    let text = repo.ok(&["memory", "working"]);
    let expected = format!(
        "Start the top ready task {}: First of the P1s",
        short(&first)
    );
    assert!(text.contains(&expected), "{text}");
}
