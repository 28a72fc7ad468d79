use crate::util::{TestRepo, short};
use serde_json::Value;

/// A task whose rule needs `ok.txt`, started on its own branch with one commit, the hooks
/// installed and `ledger.gate.requireChecks` on. Returns (repo, task id, branch).
fn setup() -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    repo.git(&["config", "ledger.gate.requireChecks", "true"]);
    let task = repo.task(&["Ship ok", "--check-command", "test -f ok.txt"]);
    repo.ok(&["task", "start", &short(&task), "--branch"]);
    repo.ok(&["task", "note", "started the work"]);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    commit_file(&repo, "work.txt");
    (repo, task, branch)
}

fn commit_file(repo: &TestRepo, name: &str) -> String {
    std::fs::write(repo.path.join(name), "content\n").expect("write");
    repo.git(&["add", name]);
    repo.git(&["commit", "-q", "-m", &format!("add {name}")]);
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

fn gate_reasons(repo: &TestRepo, branch: &str) -> Vec<String> {
    let run = repo.run(&["gate", "check", branch, "--into", "main", "--json"]);
    let verdict: Value = serde_json::from_str(&run.stdout).expect("json");
    verdict["data"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["reason"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn checks_pinned_to_the_tip_gate_task_done_and_merges() {
    let (repo, task, branch) = setup();
    let t = short(&task);
    let tip = repo.git(&["rev-parse", "HEAD"]).trim().to_string();

    // Never run: done and the gate refuse.
    let listed = repo.ok(&["check", "list"]);
    assert!(listed.contains("1. never run $ test -f ok.txt"), "{listed}");
    let stderr = repo.fail(&["task", "done", "-m", "shipped"]);
    assert!(
        stderr.contains(&format!(
            "check \"test -f ok.txt\" has no passing result at {} (has not been run)",
            &tip[..10]
        )),
        "{stderr}"
    );
    assert!(stderr.contains("git ledger check run"), "{stderr}");

    // A failing run is recorded with its exit status and digest, and exits non-zero.
    let run = repo.run(&["check", "run"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL $ test -f ok.txt (exit 1)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 of 1 check(s) failed"),
        "{}",
        run.stderr
    );
    let shown = repo.json(&["task", "show", &t]);
    let check = &shown["checks"][0];
    assert_eq!(check["passed"], false);
    assert_eq!(check["commit"], tip.as_str());
    assert_eq!(check["exit_status"], 1);
    assert_eq!(
        check["output_digest"].as_str().map(str::len),
        Some(64),
        "{check}"
    );
    assert!(repo.ok(&["check", "list"]).contains("1. failing"));
    let stderr = repo.fail(&["task", "done", "-m", "shipped"]);
    assert!(stderr.contains("(failed)"), "{stderr}");

    // Approved but failing: the gate refuses, a real merge into main too.
    repo.approve(&[&t]);
    assert_eq!(gate_reasons(&repo, &branch), ["check_not_passing"]);
    repo.git(&["switch", "-q", "main"]);
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("test -f ok.txt"), "{stderr}");
    repo.git(&["merge", "--abort"]);
    repo.git(&["switch", "-q", &branch]);

    // Fixed and committed: the old result does not count at the new tip.
    let fixed = commit_file(&repo, "ok.txt");
    assert!(repo.ok(&["check", "list", &t]).contains("1. never run"));
    let passed = repo.json(&["check", "run", &t]);
    assert_eq!(passed["commit"], fixed.as_str());
    assert_eq!(passed["results"][0]["passed"], true);
    assert!(repo.ok(&["check", "list"]).contains("1. passing"));
    let shown = repo.ok(&["task", "show", &t]);
    assert!(
        shown.contains(&format!(
            "validation  command: test -f ok.txt (passing at {})",
            &fixed[..10]
        )),
        "{shown}"
    );
    // The approval was for the old tip; with a new one the gate passes.
    assert_eq!(gate_reasons(&repo, &branch), ["approved_other_commit"]);
    repo.approve(&[&t]);
    assert!(
        repo.ok(&["gate", "check", &branch, "--into", "main"])
            .starts_with("allowed: ")
    );

    // One more commit: stale again, for the gate and for `task done`.
    let newer = commit_file(&repo, "more.txt");
    let listed = repo.ok(&["check", "list"]);
    assert!(
        listed.contains(&format!(
            "1. stale (passed at {}) $ test -f ok.txt",
            &fixed[..10]
        )),
        "{listed}"
    );
    repo.approve(&[&t]);
    assert_eq!(gate_reasons(&repo, &branch), ["check_not_passing"]);
    let stderr = repo.fail(&["task", "done", "-m", "shipped"]);
    assert!(
        stderr.contains(&format!(
            "has no passing result at {} (passed only on an older commit)",
            &newer[..10]
        )),
        "{stderr}"
    );
    repo.ok(&["check", "run"]);
    repo.git(&["switch", "-q", "main"]);
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(ok, "{stderr}");
    let done = repo.json(&["task", "done", &t, "-m", "shipped"]);
    assert_eq!(done["status"], "done");
    assert!(done.get("forced_over").is_none(), "{done}");
}

#[test]
fn checks_force_records_what_was_overridden() {
    let (repo, _, _) = setup();
    let run = repo.run(&["check", "run"]);
    assert_eq!(run.code, Some(1));
    let done = repo.json(&["task", "done", "-m", "shipped anyway", "--force"]);
    let overridden = done["forced_over"].as_array().expect("forced");
    assert_eq!(overridden.len(), 1, "{done}");
    assert!(
        overridden[0]
            .as_str()
            .is_some_and(|r| r.starts_with("check \"test -f ok.txt\"")),
        "{done}"
    );
    let log = repo.ok(&["log"]);
    assert!(log.contains("check failed: test -f ok.txt at"), "{log}");
    assert!(log.contains("task done (forced)"), "{log}");
    assert_eq!(
        repo.run(&["audit"]).code,
        Some(0),
        "check events pass the audit"
    );
}

#[test]
fn checks_items_are_confirmed_at_the_tip() {
    let repo = TestRepo::new();
    let task = repo.task(&[
        "Write docs",
        "--check-item",
        "docs updated",
        "--check-item",
        "changelog entry",
    ]);
    let t = short(&task);
    repo.ok(&["task", "start", &t]);
    repo.ok(&["task", "note", "wrote them"]);
    let stderr = repo.fail(&["check", "run"]);
    assert!(stderr.contains("no command rules"), "{stderr}");
    assert!(stderr.contains("check confirm"), "{stderr}");

    let confirmed = repo.ok(&["check", "confirm", "docs updated"]);
    assert!(
        confirmed.contains("pass [item] docs updated"),
        "{confirmed}"
    );
    let failed = repo.json(&["check", "confirm", "2", "--task", &t, "--fail"]);
    assert_eq!(failed["results"][0]["passed"], false);
    let listed = repo.ok(&["check", "list"]);
    assert!(
        listed.contains("1. passing   [item] docs updated"),
        "{listed}"
    );
    assert!(
        listed.contains("2. failing   [item] changelog entry"),
        "{listed}"
    );
    let stderr = repo.fail(&["task", "done", "-m", "documented"]);
    assert!(stderr.contains("item \"changelog entry\""), "{stderr}");
    assert!(!stderr.contains("item \"docs updated\""), "{stderr}");

    repo.ok(&["check", "confirm", "changelog entry"]);
    repo.ok(&["task", "done", "-m", "documented"]);

    // Without a task branch the tip is HEAD: a new commit makes the items stale.
    repo.git(&["commit", "-q", "--allow-empty", "-m", "later"]);
    assert!(repo.ok(&["check", "list", &t]).contains("1. stale"));
}

#[test]
fn checks_refuse_bad_input() {
    let repo = TestRepo::new();
    let stderr = repo.fail(&["check", "run", "t-ffffff"]);
    assert!(stderr.starts_with("error: no task matches"), "{stderr}");
    let plain = short(&repo.task(&["No rules"]));
    let stderr = repo.fail(&["check", "run", &plain]);
    assert!(
        stderr.contains(&format!("{plain} has no validation rules to check")),
        "{stderr}"
    );
    assert!(stderr.contains("--check-command"), "{stderr}");
    let stderr = repo.fail(&["check", "list", &plain]);
    assert!(stderr.contains("no validation rules"), "{stderr}");
    let stderr = repo.fail(&["check", "run"]);
    assert!(stderr.contains("no task in focus"), "{stderr}");

    let task = short(&repo.task(&[
        "Broken",
        "--check-command",
        "no-such-command-here --flag",
        "--check-item",
        "looked at it",
    ]));
    let stderr = repo.fail(&["check", "confirm", "nope", "--task", &task]);
    assert!(
        stderr.contains("'nope' is not a checklist item") && stderr.contains("looked at it"),
        "{stderr}"
    );
    // A command rule is not an item.
    repo.fail(&["check", "confirm", "1", "--task", &task]);

    let events = repo.event_count();
    let run = repo.run(&["check", "run", &task]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("(exit 127: command not found)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("not found"), "{}", run.stdout);
    assert_eq!(repo.event_count(), events + 1, "the failure is recorded");

    // Uncommitted changes to tracked files: the result would not be about the commit.
    std::fs::write(repo.path.join("README"), "changed\n").expect("write");
    repo.git(&["add", "README"]);
    let stderr = repo.fail(&["check", "run", &task]);
    assert!(stderr.contains("uncommitted changes"), "{stderr}");
    assert_eq!(repo.event_count(), events + 1, "nothing recorded");
}

#[test]
fn checks_run_in_the_worktree_of_the_task_branch() {
    let repo = TestRepo::new();
    let task = short(&repo.task(&["Elsewhere", "--check-command", "test -f there.txt"]));
    repo.ok(&["task", "start", &task, "--branch"]);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    repo.git(&["switch", "-q", "main"]);
    let stderr = repo.fail(&["check", "run", &task]);
    assert!(
        stderr.contains(&format!("{branch} is not checked out in any worktree")),
        "{stderr}"
    );
    let other = repo.root().join("other");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        other.to_str().expect("utf8"),
        &branch,
    ]);
    std::fs::write(other.join("there.txt"), "x\n").expect("write");
    repo.git_in(&other, &["add", "there.txt"]);
    repo.git_in(&other, &["commit", "-q", "-m", "there"]);
    let tip = repo.git(&["rev-parse", &branch]).trim().to_string();
    // Run from the main worktree: the command runs where the branch is.
    let passed = repo.json(&["check", "run", &task]);
    assert_eq!(passed["results"][0]["passed"], true, "{passed}");
    assert_eq!(passed["commit"], tip.as_str());
}

#[test]
fn checks_travel_with_the_push_and_the_remote_requires_them() {
    let repo = TestRepo::new();
    let remote = repo.root().join("remote.git");
    let remote_path = remote.to_str().expect("utf8");
    repo.git(&["init", "-q", "--bare", "-b", "main", remote_path]);
    repo.ok_in(&remote, &["hooks", "install", "--server"]);
    // Only the server requires checks: its own policy, whatever the client's config says.
    repo.git_in(&remote, &["config", "ledger.gate.requireChecks", "true"]);
    repo.git(&["remote", "add", "origin", remote_path]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.ok(&["hooks", "install"]);
    let task = short(&repo.task(&["Ship", "--check-command", "test -f ok.txt"]));
    repo.ok(&["task", "start", &task, "--branch"]);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    commit_file(&repo, "ok.txt");
    repo.approve(&[&task]);
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["merge", "-q", "--ff-only", &branch]);
    let push = [
        "push",
        "-q",
        "origin",
        "refs/ledger/*:refs/ledger/*",
        "main",
    ];
    let (ok, stderr) = repo.try_git(&push);
    assert!(!ok, "the remote refuses a tip without passing checks");
    assert!(stderr.contains("pre-receive hook declined"), "{stderr}");
    assert!(stderr.contains("test -f ok.txt"), "{stderr}");

    repo.git(&["switch", "-q", &branch]);
    repo.ok(&["check", "run"]);
    let (ok, stderr) = repo.try_git(&push);
    assert!(ok, "{stderr}");
}
