//! Plans: a file of stages becomes an objective, tasks and dependencies; re-applying records
//! only differences; roles make pools that spawned agents take work from.

use crate::util::{TestRepo, path_with_bin, short, strings_of};
use serde_json::Value;

const PLAN: &str = "\
name: Ship the exporter
budget: 40
stages:
  - name: develop
    role: developer
    tasks:
      - key: encoder
        title: Write the encoder
        priority: 1
        estimate: 2h
      - key: docs
        title: Write the docs
        validation:
          - Examples run
  - name: test
    role: tester
    triggers_on: all of develop
    tasks:
      - key: e2e
        title: Test the export end to end
  - name: review
    role: reviewer
    triggers_on: [e2e]
    tasks:
      - key: review
        title: Review the exporter
        validation:
          - command: cargo test
";

fn write(repo: &TestRepo, name: &str, text: &str) -> String {
    let path = repo.root().join(name);
    std::fs::write(&path, text).expect("write the plan");
    path.display().to_string()
}

/// The plan's task ids by title.
fn task_id(repo: &TestRepo, title: &str) -> String {
    repo.json(&["task", "list"])
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["title"] == title)
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("no task '{title}'"))
        .to_string()
}

fn kinds_since(repo: &TestRepo, count: usize) -> Vec<String> {
    let log = repo.json(&["log", "-n", "0"]);
    let events = log.as_array().expect("events");
    events[..events.len() - count]
        .iter()
        .rev()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect()
}

#[test]
fn a_plan_is_recorded_once_and_walked_stage_by_stage_by_agents() {
    let repo = TestRepo::new();
    let file = write(&repo, "plan.yaml", PLAN);
    let report = repo.json(&["plan", "apply", &file]);
    assert_eq!(report["created"].as_array().map(Vec::len), Some(4));
    assert_eq!(report["events"], 5, "the objective and four tasks");
    // One commit for the whole plan.
    let commits = repo.git(&["rev-list", "--count", "refs/ledger/v1/writers/0a1b2c3d4e5f"]);
    assert_eq!(commits.trim(), "1", "the whole plan in one commit");
    let count = repo.event_count();

    // Again: nothing.
    let again = repo.ok(&["plan", "apply", &file]);
    assert_eq!(
        again,
        "Plan 'Ship the exporter' is recorded already: nothing changed\n"
    );
    assert_eq!(repo.event_count(), count);

    let encoder = task_id(&repo, "Write the encoder");
    let docs = task_id(&repo, "Write the docs");
    let e2e = task_id(&repo, "Test the export end to end");
    let review = task_id(&repo, "Review the exporter");
    let shown = repo.json(&["task", "show", &review]);
    assert_eq!(shown["role"], "reviewer");
    assert_eq!(shown["stage"], "review");
    assert_eq!(
        shown["validation"],
        serde_json::json!([{ "command": "cargo test" }])
    );
    assert_eq!(shown["depends_on"], serde_json::json!([e2e]));
    let e2e_deps = repo.json(&["task", "show", &e2e])["depends_on"].clone();
    assert_eq!(e2e_deps, serde_json::json!([encoder, docs]));
    assert_eq!(
        repo.ok(&["plan", "show"]),
        format!(
            "Plan Ship the exporter: {objective} (0/4 tasks done)\n\n\
             Stage develop: active (0/2 done)\n  \
             ○ {enc} [open] P1 Write the encoder (role: developer) [est. 2h]\n  \
             ○ {docs} [open] P2 Write the docs (role: developer)\n\n\
             → Stage test: waiting (0/1 done)\n  \
             · {e2e} [open] P2 Test the export end to end (role: tester) (waits for {enc}, {docs})\n\n\
             → Stage review: waiting (0/1 done)\n  \
             · {review} [open] P2 Review the exporter (role: reviewer) (waits for {e2e})\n",
            objective = short(report["objective"].as_str().expect("objective")),
            enc = short(&encoder),
            docs = short(&docs),
            e2e = short(&e2e),
            review = short(&review),
        )
    );

    // Roles: each queue holds only its role's ready tasks; stage 2 waits for stage 1.
    let ready = |role: &str| -> Vec<String> {
        repo.json(&["ready", "--role", role])
            .as_array()
            .expect("ready")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ready("developer"), [encoder.clone(), docs.clone()]);
    assert!(ready("tester").is_empty());
    let status = repo.ok(&["status"]);
    assert!(
        status.contains(&format!(
            "Roles\n  developer: 2 ready ({}, {}); nobody working\n  tester: 0 ready; nobody working\n  reviewer: 0 ready; nobody working\n",
            short(&encoder),
            short(&docs)
        )),
        "{status}"
    );

    // Agents from the developer pool: each takes the top ready task nobody holds, notes
    // its work and closes it.
    let path = path_with_bin();
    let spawn = |role: &str| {
        let run = repo.run_with(
            &repo.path,
            &[("PATH", &path)],
            &[
                "agent",
                "spawn",
                "--role",
                role,
                "-m",
                "Take the next task",
                "--json",
                "--",
                "sh",
                "-c",
                "git ledger task note \"done by $GIT_LEDGER_AGENT\" >/dev/null && \
                 git ledger task done -m finished --force >/dev/null",
            ],
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let reply: Value =
            serde_json::from_str(run.stdout.lines().last().expect("the spawn's reply"))
                .expect("json");
        reply["data"]["task"].as_str().expect("a task").to_string()
    };
    assert_eq!(spawn("developer"), encoder);
    assert!(ready("tester").is_empty(), "one develop task is left");
    assert_eq!(spawn("developer"), docs);
    assert_eq!(ready("tester"), [e2e.as_str()]);
    assert_eq!(spawn("tester"), e2e);
    assert_eq!(ready("reviewer"), [review.as_str()]);
    let shown = repo.ok(&["plan", "show", "Ship the exporter"]);
    assert!(shown.contains("Stage develop: done (2/2 done)"), "{shown}");
    assert!(
        shown.contains("→ Stage review: active (0/1 done)"),
        "{shown}"
    );
}

#[test]
fn an_edited_plan_records_only_its_differences() {
    let repo = TestRepo::new();
    let file = write(&repo, "plan.yaml", PLAN);
    repo.ok(&["plan", "apply", &file]);
    let docs = task_id(&repo, "Write the docs");
    let review = task_id(&repo, "Review the exporter");
    let count = repo.event_count();

    // The docs get a new title and priority; the review stage is dropped.
    let edited = PLAN
        .replace(
            "title: Write the docs",
            "title: Write the user docs\n        priority: 0",
        )
        .split("  - name: review")
        .next()
        .expect("the plan before the review stage")
        .to_string();
    let file = write(&repo, "plan.yaml", &edited);
    let report = repo.json(&["plan", "apply", &file]);
    assert_eq!(report["updated"], serde_json::json!([docs]));
    assert_eq!(report["cancelled"], serde_json::json!([review]));
    assert_eq!(report["unchanged"], 2);
    assert_eq!(
        kinds_since(&repo, count),
        ["task.updated", "task.cancelled"]
    );
    let shown = repo.json(&["task", "show", &docs]);
    assert_eq!(shown["title"], "Write the user docs");
    assert_eq!(shown["priority"], 0);
    assert_eq!(repo.json(&["task", "show", &review])["status"], "cancelled");
    // Cancelled, not deleted: the history is all there, and putting it back reopens it.
    let file = write(&repo, "plan.yaml", PLAN);
    let count = repo.event_count();
    let report = repo.json(&["plan", "apply", &file]);
    assert_eq!(report["reopened"], serde_json::json!([review]));
    assert_eq!(
        kinds_since(&repo, count),
        ["task.updated", "task.reopened"],
        "docs back to their first title; the review back in the plan"
    );
    assert_eq!(repo.json(&["task", "show", &review])["status"], "open");
}

#[test]
fn bad_plans_are_refused_with_one_line_and_write_nothing() {
    let repo = TestRepo::new();
    let count = repo.event_count();
    let cases = [
        (
            "name: x\nstages:\n  - name: s\n    tasks:\n      - key: a\n        title: A\n        triggers_on: nope\n",
            "error: trigger 'nope': no task, session or stage 'nope'\n",
        ),
        (
            "name: x\nstages:\n  - name: s\n    tasks:\n      - {key: a, title: A, triggers_on: b}\n      - {key: b, title: B, triggers_on: a}\n",
            "error: dependency cycle: a → b → a\n",
        ),
        ("name: x\nstages: 3\n", "error: plan: stages: invalid type"),
        ("[unclosed", "error: plan: "),
    ];
    for (text, wanted) in cases {
        let file = write(&repo, "bad.yaml", text);
        let err = repo.fail(&["plan", "apply", &file]);
        assert!(err.starts_with(wanted), "{text}: {err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{err}"
        );
    }
    let binary = repo.root().join("binary.yaml");
    std::fs::write(&binary, b"name: \xff\n").expect("write");
    let err = repo.fail(&["plan", "apply", &binary.display().to_string()]);
    assert!(err.contains("is not valid UTF-8"), "{err}");
    let err = repo.fail(&["plan", "apply", "/nonexistent/plan.yaml"]);
    assert!(
        err.starts_with("error: cannot read /nonexistent/plan.yaml"),
        "{err}"
    );
    let err = repo.fail(&["plan", "show", "Nothing"]);
    assert!(err.starts_with("error: no plan named 'Nothing'"), "{err}");
    assert_eq!(repo.event_count(), count);
}

/// The whole workflow: a three-stage plan with triggers and validation rules, walked by
/// spawned `sh` agents in worktrees of their own; checks gate `task done` and the merge gate.
#[test]
fn a_three_stage_plan_walked_by_agents_with_checks_and_the_gate() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    repo.git(&["config", "ledger.gate.requireChecks", "true"]);
    let plan = "\
name: Exporter
stages:
  - name: develop
    role: developer
    tasks:
      - key: encoder
        title: Write the encoder
        validation:
          - command: test -f encoder.txt
  - name: test
    role: tester
    triggers_on: all of develop
    tasks:
      - key: e2e
        title: Test end to end
        validation:
          - command: test -f e2e.txt
  - name: review
    role: reviewer
    triggers_on: [e2e]
    tasks:
      - key: review
        title: Review
";
    let file = write(&repo, "plan.yaml", plan);
    repo.ok(&["plan", "apply", &file]);
    let encoder = task_id(&repo, "Write the encoder");
    let e2e = task_id(&repo, "Test end to end");
    let review = task_id(&repo, "Review");
    let ready = |role: &str| -> Vec<String> {
        repo.json(&["ready", "--role", role])
            .as_array()
            .expect("ready")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ready("developer"), [encoder.as_str()]);
    assert!(ready("tester").is_empty() && ready("reviewer").is_empty());

    // An agent of a role, in a worktree of its own, takes the top task of its role. Its
    // script: note, try to close before the check passes (refused), make the file, commit,
    // run the checks (pass), close.
    let path = path_with_bin();
    let walk = |role: &str, file: &str| -> (String, String) {
        let script = format!(
            "git ledger task note \"working\" >/dev/null && \
             if git ledger task done -m early >/dev/null 2>&1; then exit 9; fi && \
             git ledger check run >/dev/null; [ $? -eq 1 ] || exit 8; \
             echo ok > {file} && git add {file} && git commit -q -m {file} && \
             git ledger check run >/dev/null && git ledger task done -m finished >/dev/null"
        );
        let run = repo.run_with(
            &repo.path,
            &[("PATH", &path)],
            &[
                "agent",
                "spawn",
                "--role",
                role,
                "-m",
                "Take the next task",
                "--worktree",
                "--json",
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        assert_eq!(run.code, Some(0), "{role}: {}", run.stderr);
        let reply: Value =
            serde_json::from_str(run.stdout.lines().last().expect("reply")).expect("json");
        (
            reply["data"]["task"].as_str().expect("a task").to_string(),
            reply["data"]["branch"]
                .as_str()
                .expect("a branch")
                .to_string(),
        )
    };
    let (task, branch) = walk("developer", "encoder.txt");
    assert_eq!(task, encoder);
    let shown = repo.json(&["task", "show", &encoder]);
    assert_eq!(shown["status"], "done");
    let results: Vec<bool> = shown["checks"]
        .as_array()
        .expect("check results")
        .iter()
        .map(|c| c["passed"].as_bool().expect("passed"))
        .collect();
    assert_eq!(results, [false, true], "a failing run, then a passing one");
    // Stage 2 became ready only now.
    assert_eq!(ready("tester"), [e2e.as_str()]);

    // The gate: approved, and the check passed at this very tip: allowed.
    let gate = |rev: &str| -> Value {
        let run = repo.run(&["gate", "check", rev, "--into", "main", "--json"]);
        serde_json::from_str(&run.stdout).expect("json")
    };
    repo.approve(&[&short(&encoder), "--commit", &branch]);
    assert_eq!(gate(&branch)["data"]["allowed"], true, "{}", gate(&branch));
    // A new commit on the branch: the approval and the check are stale; refused.
    let worktree = repo
        .json(&["agent", "list"])
        .as_array()
        .expect("agents")
        .iter()
        .find_map(|a| (a["task"] == encoder.as_str()).then(|| a["worktree"].clone()))
        .and_then(|w| w.as_str().map(std::path::PathBuf::from))
        .expect("the agent's worktree");
    std::fs::write(worktree.join("more.txt"), "more\n").expect("write");
    repo.git_in(&worktree, &["add", "more.txt"]);
    repo.git_in(&worktree, &["commit", "-q", "-m", "more"]);
    let verdict = gate(&branch);
    assert_eq!(verdict["data"]["allowed"], false);
    let reasons = strings_of(&verdict["data"]["reasons"], "reason");
    assert!(reasons.contains(&"check_not_passing"), "{reasons:?}");

    let (task, _) = walk("tester", "e2e.txt");
    assert_eq!(task, e2e);
    assert_eq!(ready("reviewer"), [review.as_str()]);
    let shown = repo.ok(&["plan", "show"]);
    assert!(shown.contains("Stage develop: done (1/1 done)"), "{shown}");
    assert!(shown.contains("→ Stage test: done (1/1 done)"), "{shown}");
    assert!(
        shown.contains("→ Stage review: active (0/1 done)"),
        "{shown}"
    );
    // The report's task page shows each rule with its newest result.
    let site = repo.root().join("site");
    repo.ok(&["report", "--html", &site.display().to_string()]);
    let page = std::fs::read_to_string(site.join("tasks").join(format!("{encoder}.html")))
        .expect("the task's page");
    assert!(
        page.contains("test -f encoder.txt: passed at"),
        "{}",
        &page[..page.len().min(3000)]
    );
}

const FEATURE_X: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans/feature-x.yaml");

#[test]
fn plans_written_as_the_orchestration_docs_write_them() {
    let repo = TestRepo::new();
    // The third block's "QA approval" names nothing the plan has: refused, naming the
    // candidate.
    let err = repo.fail(&["plan", "apply", FEATURE_X]);
    assert_eq!(
        err.lines().next(),
        Some(
            "error: trigger 'QA approval': no task, session or stage 'QA approval' (did you mean arch_qa?)"
        ),
        "{err}"
    );
    let text = std::fs::read_to_string(FEATURE_X)
        .expect("fixture")
        .replace("QA approval", "arch_qa completion");
    let file = write(&repo, "feature-x.yaml", &text);
    let report = repo.json(&["plan", "apply", &file]);
    assert_eq!(
        report["created"].as_array().map(Vec::len),
        Some(8),
        "{report}"
    );
    let tasks = repo.json(&["task", "list"]);
    let tasks = tasks.as_array().expect("tasks");
    let id = |title: &str| {
        tasks
            .iter()
            .find(|t| t["title"] == title)
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("no task {title}"))
            .to_string()
    };
    let deps = |title: &str| {
        let task = tasks.iter().find(|t| t["title"] == title).expect("task");
        let mut deps: Vec<String> = task["depends_on"]
            .as_array()
            .expect("deps")
            .iter()
            .filter_map(|d| d.as_str().map(str::to_string))
            .collect();
        deps.sort();
        deps
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let (backend, ui, migrations) = (
        id("Implement feature X"),
        id("Create UI for feature X"),
        id("Add database migrations for feature X"),
    );
    assert_eq!(
        deps("Test UI for feature X - find bugs"),
        std::slice::from_ref(&ui)
    );
    assert_eq!(
        deps("Test API endpoints for feature X"),
        std::slice::from_ref(&backend)
    );
    assert_eq!(
        deps("Test full user flow for feature X"),
        sorted(vec![backend, ui, migrations])
    );
    assert_eq!(
        deps("Review code quality, run tests"),
        sorted(vec![
            id("Test UI for feature X - find bugs"),
            id("Test API endpoints for feature X"),
            id("Test full user flow for feature X"),
        ])
    );
    assert_eq!(
        deps("Deploy to production if approved"),
        [id("Review code quality, run tests")]
    );
    // The session is the task's role (its pool), the output is kept.
    let shown = repo.json(&["task", "show", &id("Create UI for feature X")]);
    assert_eq!(shown["role"], "codex2");
    assert_eq!(shown["description"], "Output: frontend components");
    // Keys come from the titles: applying the unedited file again records nothing.
    let again = repo.json(&["plan", "apply", &file]);
    assert_eq!(again["events"], 0, "{again}");

    // A file that is one workflow list, with no name: a plan named "workflow".
    let block = "workflow:\n  - session: codex\n    task: \"Write the docs\"\n  - session: comet\n    task: \"Check the docs\"\n    triggers_on: codex completion\n";
    let report = repo.json(&["plan", "apply", &write(&repo, "block.yaml", block)]);
    assert_eq!(report["plan"], "workflow");
    assert_eq!(report["created"].as_array().map(Vec::len), Some(2));
}
