use crate::util::{TestRepo, WRITER, id_of, short};
use serde_json::Value;

#[test]
fn init_is_idempotent_and_keeps_the_writer() {
    let repo = TestRepo::new();
    let data = repo.json(&["init"]);
    assert_eq!(data["created"], false);
    assert_eq!(data["writer"], WRITER);
    assert_eq!(
        data["reference"],
        format!("refs/ledger/v1/writers/{WRITER}")
    );
    assert_eq!(repo.git(&["config", "ledger.writer"]).trim(), WRITER);
}

#[test]
fn init_creates_a_writer_id_per_clone() {
    let repo = TestRepo::bare_git();
    let data = repo.json(&["init"]);
    assert_eq!(data["created"], true);
    let writer = data["writer"].as_str().expect("writer");
    assert_eq!(writer.len(), 12);
    assert!(writer.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(repo.git(&["config", "ledger.writer"]).trim(), writer);
}

#[test]
fn objectives_add_list_show_done() {
    let repo = TestRepo::new();
    let objective = repo.json(&["objective", "add", "Migrate auth to OAuth2"]);
    let id = id_of(&objective);
    assert!(id.starts_with("o-") && id.len() == 18, "{id}");
    assert_eq!(objective["status"], "active");
    repo.task(&["Research providers", "--objective", &short(&id)]);

    let list = repo.ok(&["objective", "list"]);
    assert_eq!(
        list,
        format!(
            "{} [active] Migrate auth to OAuth2 (0/1 tasks done)\n",
            short(&id)
        )
    );
    let shown = repo.json(&["objective", "show", &id[..5]]);
    assert_eq!(shown["objective"]["title"], "Migrate auth to OAuth2");
    assert_eq!(shown["tasks"].as_array().map(Vec::len), Some(1));

    let done = repo.json(&[
        "objective",
        "done",
        &short(&id),
        "--outcome",
        "Auth0 in production",
        "--force",
    ]);
    assert_eq!(done["status"], "done");
    assert_eq!(done["outcome"], "Auth0 in production");
    let again = repo.fail(&["objective", "done", &short(&id)]);
    assert!(
        again.starts_with(&format!(
            "error: {} is done; it cannot be completed again",
            short(&id)
        )),
        "{again}"
    );
}

#[test]
fn task_lifecycle_add_start_note_block_done_reopen() {
    let repo = TestRepo::new();
    let id = repo.task(&[
        "Write the parser",
        "-p",
        "1",
        "-e",
        "1h30m",
        "--description",
        "JSONL in, events out",
    ]);
    let task = repo.json(&["task", "show", &short(&id)]);
    assert_eq!(task["status"], "open");
    assert_eq!(task["priority"], 1);
    assert_eq!(task["estimate_minutes"], 90);
    assert_eq!(task["description"], "JSONL in, events out");

    assert_eq!(
        repo.json(&["task", "start", &short(&id)])["status"],
        "in_progress"
    );
    assert_eq!(
        repo.json(&["task", "note", "tokenizer done"])["notes"][0]["text"],
        "tokenizer done"
    );
    let blocked = repo.json(&["task", "block", "--reason", "waiting for the schema"]);
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["block_reason"], "waiting for the schema");
    repo.ok(&["task", "start", &short(&id)]);
    let done = repo.json(&["task", "done", "--summary", "parser merged"]);
    assert_eq!(done["status"], "done");
    assert_eq!(done["summary"], "parser merged");
    assert!(done.get("forced_over").is_none());

    let reopened = repo.json(&["task", "reopen", &short(&id), "--reason", "edge case found"]);
    assert_eq!(reopened["status"], "open");

    let kinds: Vec<String> = repo
        .json(&["log", "-n", "0"])
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "task.reopened",
            "task.completed",
            "task.started",
            "task.blocked",
            "task.noted",
            "task.started",
            "task.created"
        ]
    );
    let shown = repo.ok(&["task", "show", &short(&id)]);
    assert!(shown.contains("status      open\n"), "{shown}");
    assert!(shown.contains("tokenizer done (human:Ann)"), "{shown}");
}

#[test]
fn ready_lists_open_tasks_with_done_dependencies_by_priority() {
    let repo = TestRepo::new();
    let design = repo.task(&["Design", "-p", "3"]);
    let build = repo.task(&["Build", "-p", "0", "--depends-on", &short(&design)]);
    let docs = repo.task(&["Docs", "-p", "1"]);
    let ready = |repo: &TestRepo| -> Vec<String> {
        repo.json(&["ready"])
            .as_array()
            .expect("list")
            .iter()
            .map(id_of)
            .collect()
    };
    assert_eq!(ready(&repo), [docs.clone(), design.clone()]);

    repo.ok(&["task", "start", &short(&design)]);
    repo.ok(&["task", "note", "drawn"]);
    assert_eq!(ready(&repo), vec![docs.clone()], "in progress is not ready");
    repo.ok(&["task", "done", "-m", "designed"]);
    assert_eq!(
        ready(&repo),
        [build.clone(), docs.clone()],
        "P0 first once its dependency is done"
    );
    let text = repo.ok(&["ready"]);
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.starts_with(&format!("{} [open] P0 Build", short(&build))),
        "{text}"
    );
}

#[test]
fn dependency_cycles_are_refused_with_the_cycle_named() {
    let repo = TestRepo::new();
    let a = repo.task(&["A"]);
    let b = repo.task(&["B", "--depends-on", &short(&a)]);
    let c = repo.task(&["C", "--depends-on", &short(&b)]);
    let before = repo.tip();
    let err = repo.fail(&["task", "depend", &short(&a), "--on", &short(&c)]);
    assert_eq!(
        err.lines().next(),
        Some(
            format!(
                "error: dependency cycle: {} → {} → {} → {}",
                short(&a),
                short(&c),
                short(&b),
                short(&a)
            )
            .as_str()
        )
    );
    let err = repo.fail(&["task", "depend", &short(&a), "--on", &short(&a)]);
    assert!(
        err.starts_with(&format!(
            "error: dependency cycle: {} → {}",
            short(&a),
            short(&a)
        )),
        "{err}"
    );
    assert_eq!(repo.tip(), before, "nothing written");
    let ok = repo.json(&["task", "depend", &short(&c), "--on", &short(&a)]);
    assert_eq!(ok["depends_on"], serde_json::json!([b, a]));
}

#[test]
fn insights_tags_and_knowledge() {
    let repo = TestRepo::new();
    let plain = repo.json(&[
        "insight",
        "add",
        "Retries need jitter",
        "--tag",
        "#Reliability",
        "--tag",
        "git",
    ]);
    assert_eq!(plain["tags"], serde_json::json!(["reliability", "git"]));
    assert_eq!(plain["knowledge"], false);
    let kb = repo.json(&[
        "insight",
        "add",
        "Packed refs scale",
        "--tag",
        "git",
        "--knowledge",
    ]);
    assert_eq!(kb["knowledge"], true);

    let knowledge = repo.json(&["memory", "knowledge"]);
    assert_eq!(knowledge["by_tag"]["git"].as_array().map(Vec::len), Some(1));
    assert!(knowledge["by_tag"].get("reliability").is_none());

    let promoted = repo.json(&["insight", "promote", &short(&id_of(&plain))]);
    assert_eq!(promoted["knowledge"], true);
    let knowledge = repo.json(&["memory", "knowledge"]);
    assert_eq!(knowledge["by_tag"]["git"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        knowledge["by_tag"]["reliability"].as_array().map(Vec::len),
        Some(1)
    );
    let listed = repo.json(&["insight", "list", "--tag", "reliability"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[test]
fn decisions_request_and_make_with_rationale() {
    let repo = TestRepo::new();
    let decision = repo.json(&[
        "decision",
        "request",
        "Which provider?",
        "--option",
        "Auth0",
        "--option",
        "Keycloak",
    ]);
    let id = id_of(&decision);
    assert_eq!(decision["status"], "open");
    assert_eq!(
        repo.json(&["decision", "list", "--open"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let err = repo.fail(&[
        "decision",
        "make",
        &short(&id),
        "Okta",
        "--rationale",
        "cheap",
    ]);
    assert_eq!(
        err.lines().next(),
        Some(
            format!(
                "error: 'Okta' is not one of the options of {}: Auth0 | Keycloak",
                short(&id)
            )
            .as_str()
        )
    );
    let made = repo.json(&[
        "decision",
        "make",
        &short(&id),
        "keycloak",
        "--rationale",
        "self-hosted",
    ]);
    assert_eq!(made["status"], "made");
    assert_eq!(made["choice"], "Keycloak");
    assert_eq!(made["rationale"], "self-hosted");
    let by_number = repo.json(&[
        "decision",
        "request",
        "Language?",
        "--option",
        "Rust",
        "--option",
        "Go",
    ]);
    let made = repo.json(&[
        "decision",
        "make",
        &short(&id_of(&by_number)),
        "1",
        "--rationale",
        "speed",
    ]);
    assert_eq!(made["choice"], "Rust");
    assert_eq!(
        repo.json(&["decision", "list", "--open"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let long = repo.ok(&["memory", "long"]);
    assert!(
        long.contains("Which provider? → Keycloak (because self-hosted)"),
        "{long}"
    );
}

#[test]
fn json_envelope_has_data_and_instructions() {
    let repo = TestRepo::new();
    let envelope = repo.envelope(&["task", "add", "Write tests"]);
    let keys: Vec<&String> = envelope.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["data", "instructions", "ok"]);
    let instructions = &envelope["instructions"];
    let actions = instructions["next_actions"]
        .as_array()
        .expect("next_actions");
    let commands = instructions["suggested_commands"]
        .as_array()
        .expect("suggested_commands");
    assert_eq!(actions.len(), commands.len());
    assert!(
        commands.contains(&Value::from("git ledger session start \"<goal>\"")),
        "{commands:?}"
    );
    let short_id = short(&id_of(&envelope["data"]));
    assert!(
        commands.contains(&Value::from(format!("git ledger task start {short_id}"))),
        "{commands:?}"
    );
    assert_eq!(
        instructions["context_reminder"]["text"],
        "no open session; no task in focus; 1 open task(s)"
    );
    // A cancelled task is not open.
    let other = repo.task(&["Dropped"]);
    let cancelled = repo.envelope(&["task", "cancel", &other]);
    assert_eq!(
        cancelled["instructions"]["context_reminder"]["text"],
        "no open session; no task in focus; 1 open task(s)"
    );

    // Errors are JSON too, on stdout, with a code and a hint.
    let run = repo.run(&["task", "show", "t-ffffff", "--json"]);
    assert_eq!(run.code, Some(1));
    let error: Value = serde_json::from_str(&run.stdout).expect("json error");
    assert_eq!(error["ok"], false);
    assert_eq!(error["error"]["code"], "unknown_id");
    assert_eq!(error["error"]["message"], "no task matches 't-ffffff'");
    assert_eq!(
        error["error"]["hint"],
        "`git ledger task list` shows the ids"
    );
    // Usage errors too.
    let run = repo.run(&["task", "add", "--json"]);
    assert_eq!(run.code, Some(2));
    let error: Value = serde_json::from_str(&run.stdout).expect("json usage error");
    assert_eq!(error["error"]["code"], "usage");
}

#[test]
fn every_command_accepts_json() {
    let repo = TestRepo::new();
    let session = id_of(&repo.json(&["session", "start", "goal"]));
    let objective = id_of(&repo.json(&["objective", "add", "O"]));
    let task = repo.task(&["T", "-o", &objective]);
    for args in [
        vec!["status"],
        vec!["ready"],
        vec!["log"],
        vec!["task", "list"],
        vec!["task", "show", &task],
        vec!["objective", "list"],
        vec!["objective", "show", &objective],
        vec!["insight", "list"],
        vec!["decision", "list"],
        vec!["session", "list"],
        vec!["session", "show", &session],
        vec!["memory", "working"],
        vec!["memory", "short"],
        vec!["memory", "long"],
        vec!["memory", "knowledge"],
    ] {
        let envelope = repo.envelope(&args);
        assert!(
            envelope["instructions"]["context_reminder"]["text"].is_string(),
            "{args:?}"
        );
    }
}

#[test]
fn log_shows_newest_first_and_respects_max_count() {
    let repo = TestRepo::new();
    for title in ["one", "two", "three"] {
        repo.task(&[title]);
    }
    let log = repo.ok(&["log", "-n", "2"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains("task.created") && lines[0].contains("task added: three (human:Ann)"),
        "{log}"
    );
    assert!(lines[1].contains("task added: two"), "{log}");
    let all = repo.json(&["log", "-n", "0"]);
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    assert_eq!(all[0]["v"], 1);
    assert_eq!(all[0]["writer"], WRITER);
}

#[test]
fn works_from_a_subdirectory_and_through_git() {
    let repo = TestRepo::new();
    let sub = repo.path.join("src/deep");
    std::fs::create_dir_all(&sub).expect("mkdir");
    repo.ok_in(&sub, &["task", "add", "from below"]);
    // `git ledger` finds git-ledger on PATH.
    let bin_dir = std::path::Path::new(crate::util::BIN)
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("git")
        .args(["ledger", "task", "list"])
        .current_dir(&sub)
        .env("PATH", path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo.root().join("home"))
        .output()
        .expect("git ledger");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[open] P2 from below"));
}
