//! Agents: spawns with worktrees (in parallel), ends by exit status, signal and interruption,
//! `agent exit`; the MCP server driven by a real MCP client; the `prime` brief.

use crate::util::{Run, SAMPLE_END, TestRepo, id_of, path_with_bin, short};
use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use serde_json::{Value, json};

/// The `data` of a `--json` run that printed one envelope.
fn data_of(run: &Run) -> Value {
    let envelope: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    envelope["data"].clone()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[test]
fn parallel_spawns_get_their_own_worktree_branch_and_records() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let session = id_of(&repo.json(&["session", "start", "three agents"]));
    let tasks = [
        repo.task(&["Parse the input"]),
        repo.task(&["Write the encoder"]),
        repo.task(&["Write the docs"]),
    ];
    let exits = [0, 0, 1];
    let path = path_with_bin();
    // Each agent notes its work (on its task, which it need not name), commits in its
    // worktree, and exits; the third fails.
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = tasks
            .iter()
            .zip(exits)
            .map(|(task, exit)| {
                let script = format!(
                    "git ledger task note \"work of $GIT_LEDGER_AGENT\" >/dev/null && \
                     echo \"$GIT_LEDGER_AGENT\" > agent.txt && git add agent.txt && \
                     git commit -q -m \"work of $GIT_LEDGER_AGENT\" && exit {exit}"
                );
                let mission = format!("Work on {}", short(task));
                let args: Vec<String> = [
                    "agent",
                    "spawn",
                    "--role",
                    "developer",
                    "-m",
                    &mission,
                    "-t",
                    task,
                    "--worktree",
                    "--json",
                    "--",
                    "sh",
                    "-c",
                    &script,
                ]
                .iter()
                .map(|a| a.to_string())
                .collect();
                let (repo, path) = (&repo, &path);
                s.spawn(move || repo.run_with(&repo.path, &[("PATH", path)], &args))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("spawn thread"))
            .collect()
    });

    let agents_dir = repo
        .root()
        .canonicalize()
        .expect("canonical root")
        .join("repo-agents");
    let mut branches = Vec::new();
    for ((run, task), exit) in runs.iter().zip(&tasks).zip(exits) {
        assert_eq!(run.code, Some(exit), "{}", run.stderr);
        let agent = data_of(run);
        let id = text(&agent["id"]).to_string();
        let branch = format!("task/{}-{}", short(task), short(&id));
        let worktree = agents_dir.join(&id);
        assert_eq!(agent["task"], task.as_str());
        assert_eq!(agent["branch"], branch.as_str());
        assert_eq!(agent["worktree"], worktree.to_str().expect("utf8 path"));
        assert_eq!(agent["session"], session.as_str());
        assert_eq!(agent["running"], false);
        assert_eq!(agent["status"], exit);
        let outcome = if exit == 0 { "succeeded" } else { "failed" };
        assert_eq!(agent["outcome"], outcome);
        assert!(agent["duration_ms"].is_u64(), "{agent}");
        assert_eq!(agent["command"][0], "sh");
        assert_eq!(agent["command"].as_array().map(Vec::len), Some(3));

        // Its worktree is on its branch, and holds its commit.
        let head = repo.git_in(&worktree, &["rev-parse", "--abbrev-ref", "HEAD"]);
        assert_eq!(head.trim(), branch);
        let tip = repo.git(&["rev-parse", &branch]).trim().to_string();
        let message = repo.git(&["log", "-1", "--format=%B", &branch]);
        assert_eq!(
            message.trim(),
            format!("work of {id}\n\nLedger-Task: {}", short(task))
        );

        // The task has the agent's note, its branch and its commit.
        let shown = repo.json(&["task", "show", task]);
        assert_eq!(shown["status"], "in_progress", "the spawn started the task");
        assert_eq!(
            shown["notes"],
            json!([{ "actor": format!("agent:{id}"), "text": format!("work of {id}"), "time": "2026-01-05T09:00:00Z" }])
        );
        assert_eq!(shown["branches"], json!([branch]));
        assert_eq!(shown["commits"][0]["commit"], tip.as_str());
        assert_eq!(shown["commits"][0]["branch"], branch.as_str());
        assert_eq!(shown["commits"].as_array().map(Vec::len), Some(1));
        branches.push(branch);
    }
    branches.sort();
    branches.dedup();
    assert_eq!(branches.len(), 3, "every agent has a branch of its own");

    // Every event an agent wrote is attributed to it and recorded in the spawner's session.
    let log = repo.json(&["log", "-n", "0"]);
    let events = log.as_array().expect("events");
    let agent_events: Vec<&Value> = events
        .iter()
        .filter(|e| text(&e["actor"]).starts_with("agent:"))
        .collect();
    assert_eq!(agent_events.len(), 3);
    for event in agent_events {
        assert_eq!(event["kind"], "task.noted");
        assert_eq!(event["session"], session.as_str());
        let agent = text(&event["actor"]).trim_start_matches("agent:");
        assert_eq!(event["body"]["text"], format!("work of {agent}"));
    }
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("agent.spawned"), 3);
    assert_eq!(count("agent.exited"), 3);
    assert_eq!(count("branch.linked"), 3);
    assert_eq!(count("commit.linked"), 3);

    let listed = repo.json(&["agent", "list"]);
    let outcomes: Vec<&str> = listed
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| text(&a["outcome"]))
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "succeeded").count(), 2);
    assert_eq!(outcomes.iter().filter(|o| **o == "failed").count(), 1);
    let counts = &repo.json(&["status"])["counts"];
    assert_eq!(counts["agents_running"], 0);
    assert_eq!(counts["agents_finished"], 3);
    assert_eq!(counts["unknown_events"], 0);
    assert_eq!(counts["orphan_events"], 0);

    // The worktrees are beside the repository, not in it; the ledger audits intact.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let audit = repo.json(&["audit"]);
    assert_eq!(audit["intact"], true, "{audit}");
    assert_eq!(audit["notices"]["unknown_kinds"], json!({}));
}

#[test]
fn an_agent_killed_or_crashed_or_unable_to_start_is_recorded_so() {
    let repo = TestRepo::new();
    let spawn = |script: &str| {
        repo.run(&[
            "agent", "spawn", "--role", "tester", "-m", "Try it", "--json", "--", "sh", "-c",
            script,
        ])
    };

    let killed = spawn("kill -9 $$");
    assert_eq!(killed.code, Some(128 + 9));
    let agent = data_of(&killed);
    assert_eq!(agent["outcome"], "killed");
    assert_eq!(agent["signal"], "SIGKILL");
    assert_eq!(agent["status"], Value::Null);

    let crashed = spawn("kill -SEGV $$");
    assert_eq!(crashed.code, Some(128 + 11));
    let agent = data_of(&crashed);
    assert_eq!(agent["outcome"], "failed");
    assert_eq!(agent["signal"], "SIGSEGV");

    let fine = spawn("echo hello from $GIT_LEDGER_AGENT");
    assert_eq!(fine.code, Some(0));
    let agent = data_of(&fine);
    assert_eq!(agent["outcome"], "succeeded");
    assert_eq!(agent["status"], 0);
    // With --json, standard output is the reply alone: the agent's output went to stderr.
    assert!(
        fine.stderr
            .contains(&format!("hello from {}", text(&agent["id"]))),
        "{}",
        fine.stderr
    );

    let missing = repo.run(&[
        "agent",
        "spawn",
        "--role",
        "tester",
        "-m",
        "Run nothing",
        "--",
        "/nonexistent/agent",
    ]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.ends_with(
            "error: cannot run /nonexistent/agent: No such file or directory (os error 2)\n"
        ),
        "{}",
        missing.stderr
    );
    let listed = repo.json(&["agent", "list"]);
    let last = &listed[3];
    assert_eq!(last["mission"], "Run nothing");
    assert_eq!(last["outcome"], "failed");
    assert_eq!(
        last["summary"],
        "cannot run /nonexistent/agent: No such file or directory (os error 2)"
    );
}

#[test]
fn sigterm_to_git_ledger_while_an_agent_runs_is_forwarded_and_recorded() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let repo = TestRepo::new();
    let mut child = repo
        .bin_command(&repo.path)
        .args([
            "agent",
            "spawn",
            "--role",
            "worker",
            "-m",
            "Wait",
            "--",
            "sh",
            "-c",
            "echo started; exec sleep 30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn git-ledger");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).expect("read");
    assert_eq!(line, "started\n");
    // The agent runs (its output came through): now stop git-ledger as a supervisor would.
    crate::util::terminate(&child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + 15));

    let agent = &repo.json(&["agent", "list"])[0];
    assert_eq!(agent["outcome"], "killed");
    assert_eq!(agent["signal"], "SIGTERM");
    assert_eq!(agent["summary"], "interrupted: git-ledger received SIGTERM");
    assert_eq!(agent["running"], false);
}

#[test]
fn agent_exit_records_the_end_of_an_agent_run_elsewhere_once() {
    let repo = TestRepo::new();
    let task = repo.task(&["Compare providers"]);
    let spawned = repo.json(&[
        "agent",
        "spawn",
        "--role",
        "researcher",
        "-m",
        "Compare the OAuth providers",
        "-t",
        &task,
    ]);
    let id = id_of(&spawned);
    assert_eq!(spawned["running"], true);
    assert_eq!(spawned["task"], task.as_str());
    assert!(spawned.get("worktree").is_none());
    assert_eq!(
        repo.ok(&["agent", "list"]),
        format!(
            "Agents: 1 running, 0 finished\n\nRunning\n  {} researcher: Compare the OAuth providers ({}) [running since 2026-01-05 09:00]\n\nFinished\n  none\n",
            short(&id),
            short(&task)
        )
    );
    assert_eq!(repo.json(&["status"])["counts"]["agents_running"], 1);

    // The agent itself, named by GIT_LEDGER_AGENT; its notes go to its task.
    let env = [("GIT_LEDGER_AGENT", id.as_str())];
    let run = repo.run_with(&repo.path, &env, &["task", "note", "Auth0 fits"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    repo.at(Some("2026-01-05T09:30:00Z"));
    let run = repo.run_with(
        &repo.path,
        &env,
        &["agent", "exit", "--status", "2", "-m", "gave up", "--json"],
    );
    let ended = data_of(&run);
    assert_eq!(ended["outcome"], "failed");
    assert_eq!(ended["status"], 2);
    assert_eq!(ended["summary"], "gave up");
    assert_eq!(ended["duration_ms"], 30 * 60 * 1000);
    assert_eq!(ended["exited"], "2026-01-05T09:30:00Z");

    let err = repo.fail(&["agent", "exit", &short(&id)]);
    assert_eq!(
        err,
        format!(
            "error: agent {} has already exited (failed)\nhint: an agent's end is recorded once; `git ledger agent list` shows the running ones\n",
            short(&id)
        )
    );
    assert_eq!(
        repo.fail(&["agent", "exit"]),
        "error: no agent id given and GIT_LEDGER_AGENT is not set\nhint: name the agent: `git ledger agent exit <id>`\n"
    );
    assert_eq!(
        repo.fail(&["agent", "exit", "a-ffffff"]),
        "error: no agent matches 'a-ffffff'\nhint: `git ledger agent list` shows the ids\n"
    );

    // Its replay: what it wrote, between its spawn and its end.
    let replay = repo.ok(&["replay", "--agent", &short(&id), "--json"]);
    let kinds: Vec<String> = replay
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("an event");
            text(&event["kind"]).to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "agent.spawned",
            "task.noted",
            "agent.exited",
            "task.released"
        ]
    );

    let other = id_of(&repo.json(&["agent", "spawn", "--role", "tester", "-m", "Hang"]));
    let killed = repo.json(&["agent", "exit", &other, "--signal", "kill"]);
    assert_eq!(killed["outcome"], "killed");
    assert_eq!(killed["signal"], "SIGKILL");
}

#[test]
fn prime_briefs_an_agent_within_its_budget() {
    let repo = TestRepo::sample();
    let tasks = repo.json(&["task", "list"]);
    let users = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["title"] == "Migrate the user table")
        .map(id_of)
        .expect("the user migration task");
    let agent = id_of(&repo.json(&[
        "agent",
        "spawn",
        "--role",
        "developer",
        "-m",
        "Migrate the user table once operations grant a window",
        "-t",
        &users,
    ]));
    let env = [("GIT_LEDGER_AGENT", agent.as_str())];
    let brief = repo.run_with(&repo.path, &env, &["prime"]);
    assert_eq!(brief.code, Some(0), "{}", brief.stderr);
    assert!(brief.stdout.len() <= 8192);
    insta::assert_snapshot!("prime_agent", brief.stdout);

    // A small budget trims the lowest-priority sections first and says what it left out.
    for max in [1200, 600, 100, 1] {
        let max_arg = max.to_string();
        let run = repo.run_with(&repo.path, &env, &["prime", "--max-bytes", &max_arg]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(
            run.stdout.len() <= max,
            "{} bytes over a budget of {max}:\n{}",
            run.stdout.len(),
            run.stdout
        );
    }
    let small = repo.run_with(&repo.path, &env, &["prime", "--max-bytes", "1200"]);
    assert!(
        small.stdout.contains("## Knowledge\n\n- … 2 more\n"),
        "{}",
        small.stdout
    );
    assert!(small.stdout.contains("## Commands\n"), "{}", small.stdout);
    let data = data_of(&repo.run_with(
        &repo.path,
        &env,
        &["prime", "--max-bytes", "1200", "--json"],
    ));
    assert_eq!(data["markdown"], small.stdout.as_str());
    assert_eq!(data["max_bytes"], 1200);
    assert_eq!(
        data["omitted"],
        json!([
            { "section": "Working memory", "items": 4 },
            { "section": "Ready tasks", "items": 1 },
            { "section": "Open decisions", "items": 1 },
            { "section": "Knowledge", "items": 2 },
        ])
    );
    assert_eq!(data["bytes"], small.stdout.len());

    // Without an agent: the human's brief.
    repo.at(Some(SAMPLE_END));
    let human = repo.ok(&["prime"]);
    assert!(
        human.starts_with("# Ledger brief for human:Ann\n\n## You\n\n- human:Ann (not an agent)\n"),
        "{human}"
    );
}

// ---- MCP ------------------------------------------------------------------------------------

/// The tools `git ledger mcp` serves, in name order.
const TOOLS: &[&str] = &[
    "agent_exit",
    "agent_heartbeat",
    "agent_list",
    "agent_spawn",
    "check_run",
    "decision_make",
    "decision_request",
    "insight_add",
    "memory",
    "memory_compact",
    "objective_add",
    "objective_done",
    "objective_list",
    "plan_apply",
    "plan_show",
    "ready",
    "search",
    "session_end",
    "session_resume",
    "session_start",
    "status",
    "task_add",
    "task_block",
    "task_claim",
    "task_done",
    "task_note",
    "task_release",
    "task_show",
    "task_start",
];

type Client = crate::util::McpClient;

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object");
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The envelope of a successful call: `{"ok":true,"data":…,"instructions":…}`.
async fn ok(client: &Client, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    let envelope = result
        .structured_content
        .clone()
        .expect("structured content");
    assert_eq!(result.is_error, Some(false), "{tool}: {envelope}");
    assert_eq!(envelope["ok"], true);
    // The same envelope as text, after the text for people, for clients that read only text.
    let texts: Vec<&str> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect();
    assert_eq!(texts.len(), 2, "{tool}");
    assert_eq!(
        serde_json::from_str::<Value>(texts[1]).expect("json text"),
        envelope
    );
    envelope
}

/// The text of a refused call.
async fn refused(client: &Client, tool: &'static str, args: Value) -> String {
    let result = call(client, tool, args).await;
    assert_eq!(result.is_error, Some(true), "{tool} should be refused");
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .expect("an error text")
}

/// What `--json` prints for the same request: the envelope MCP results must equal.
fn cli_envelope(repo: &TestRepo, args: &[&str]) -> Value {
    repo.envelope(args)
}

#[tokio::test]
async fn mcp_check_run_records_the_results_of_a_tasks_commands() {
    let repo = TestRepo::new();
    let task = short(&repo.task(&["Keep README", "--check-command", "test -f README"]));
    let client = crate::util::mcp_client(&repo).await;
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let run = ok(&client, "check_run", json!({ "id": task })).await;
    assert_eq!(run["data"]["commit"], head.as_str());
    assert_eq!(run["data"]["results"][0]["passed"], true, "{run}");
    let plain = short(&repo.task(&["No rules"]));
    let text = refused(&client, "check_run", json!({ "id": plain })).await;
    assert!(text.contains("has no validation rules"), "{text}");
    assert!(repo.ok(&["check", "list", &task]).contains("1. passing"));
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn mcp_serves_the_ledger_with_the_data_and_instructions_of_the_cli() {
    let repo = TestRepo::new();
    let parser = repo.task(&["Write the parser", "-e", "2h"]);
    let client = crate::util::mcp_client(&repo).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("git-ledger")
    );

    let mut tools: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    tools.sort();
    assert_eq!(tools, TOOLS);
    let resources: Vec<String> = client
        .list_all_resources()
        .await
        .expect("resources")
        .into_iter()
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(
        resources,
        [
            "ledger://memory/working",
            "ledger://memory/short",
            "ledger://memory/long",
            "ledger://memory/knowledge",
            "ledger://prime",
        ]
    );

    // Sessions.
    let started = ok(&client, "session_start", json!({ "title": "MCP work" })).await;
    let session = text(&started["data"]["id"]).to_string();
    assert_eq!(started["data"]["title"], "MCP work");
    // The session, with its working memory beside its fields.
    let mut fields = started["data"].clone();
    let working = fields.as_object_mut().and_then(|f| f.remove("working"));
    assert!(working.is_some_and(|w| w["session"]["id"] == session.as_str()));
    assert_eq!(repo.json(&["session", "show"])["session"], fields);
    let resumed = ok(&client, "session_resume", json!({})).await;
    assert_eq!(resumed["data"]["session"]["id"], session.as_str());
    assert_eq!(resumed["data"]["session"]["resumes"], 1);

    // Tasks: each result is what the command line shows for the same state.
    let added = ok(
        &client,
        "task_add",
        json!({ "title": "Write the docs", "priority": 1, "estimate": "90m", "depends_on": [short(&parser)] }),
    )
    .await;
    let docs = text(&added["data"]["id"]).to_string();
    assert_eq!(added["data"]["priority"], 1);
    assert_eq!(added["data"]["estimate_minutes"], 90);
    assert_eq!(added["data"]["depends_on"], json!([parser]));
    let listed = repo.json(&["task", "list"]);
    assert_eq!(listed[1], added["data"]);
    let started = ok(&client, "task_start", json!({ "id": short(&parser) })).await;
    assert_eq!(started["data"]["status"], "in_progress");
    let noted = ok(&client, "task_note", json!({ "text": "tokenizer done" })).await;
    assert_eq!(noted["data"]["notes"][0]["text"], "tokenizer done");
    let shown = ok(&client, "task_show", json!({ "id": parser })).await;
    assert_eq!(shown, cli_envelope(&repo, &["task", "show", &parser]));
    // The text for people is the command line's too.
    let shown_text = call(&client, "task_show", json!({ "id": parser })).await;
    let first = shown_text.content[0].as_text().expect("text").text.clone();
    assert_eq!(first, repo.ok(&["task", "show", &parser]));
    let focus = ok(&client, "task_show", json!({})).await;
    assert_eq!(focus["data"]["id"], parser.as_str());
    let blocked = ok(
        &client,
        "task_block",
        json!({ "id": docs, "reason": "waits for the parser" }),
    )
    .await;
    assert_eq!(blocked["data"]["status"], "blocked");
    let done = ok(&client, "task_done", json!({ "summary": "parser merged" })).await;
    assert_eq!(done["data"]["status"], "done");
    let cli = repo.envelope(&["task", "list", "--status", "done"]);
    assert_eq!(done["data"], cli["data"][0]);
    assert_eq!(done["instructions"], cli["instructions"]);
    let ready = ok(&client, "ready", json!({})).await;
    assert_eq!(ready, cli_envelope(&repo, &["ready"]));
    let found = ok(&client, "search", json!({ "query": "parser wait" })).await;
    assert_eq!(found["data"][0]["id"], docs.as_str());
    assert_eq!(found, cli_envelope(&repo, &["search", "parser", "wait"]));

    // Insights and decisions.
    let insight = ok(
        &client,
        "insight_add",
        json!({ "text": "Recursive descent is enough", "tags": ["#Parser"], "knowledge": true, "task": parser }),
    )
    .await;
    assert_eq!(insight["data"]["tags"], json!(["parser"]));
    assert_eq!(insight["data"]["knowledge"], true);
    let requested = ok(
        &client,
        "decision_request",
        json!({ "question": "Streaming or batch?", "options": ["streaming", "batch"] }),
    )
    .await;
    let decision = text(&requested["data"]["id"]).to_string();
    assert_eq!(requested["data"]["status"], "open");
    let made = ok(
        &client,
        "decision_make",
        json!({ "id": decision, "choice": "2", "rationale": "inputs are small" }),
    )
    .await;
    assert_eq!(made["data"]["choice"], "batch");
    assert_eq!(
        repo.json(&["decision", "list"])[0],
        made["data"],
        "the command line sees the decision"
    );

    // Memory views, as tools and as resources.
    for view in ["working", "short", "long", "knowledge"] {
        let result = call(
            &client,
            "memory",
            json!({ "view": view, "format": "markdown" }),
        )
        .await;
        let envelope = result.structured_content.clone().expect("structured");
        assert_eq!(envelope, cli_envelope(&repo, &["memory", view]), "{view}");
        let markdown = repo.ok(&["memory", view, "--format", "markdown"]);
        assert_eq!(
            result.content[0].as_text().map(|t| t.text.as_str()),
            Some(markdown.as_str()),
            "{view}"
        );
        let resource = client
            .read_resource(ReadResourceRequestParams::new(format!(
                "ledger://memory/{view}"
            )))
            .await
            .expect("read resource");
        let contents = serde_json::to_value(&resource.contents).expect("contents");
        assert_eq!(contents[0]["text"], markdown.as_str(), "{view}");
        assert_eq!(contents[0]["mimeType"], "text/markdown");
    }
    let text_view = call(&client, "memory", json!({ "view": "working" })).await;
    assert_eq!(
        text_view.content[0].as_text().map(|t| t.text.as_str()),
        Some(repo.ok(&["memory", "working"]).as_str())
    );

    // Agents: recorded, listed as the command line lists them.
    let agent = ok(
        &client,
        "agent_spawn",
        json!({ "role": "reviewer", "mission": "Review the parser", "task": short(&parser) }),
    )
    .await;
    assert_eq!(agent["data"]["running"], true);
    assert_eq!(agent["data"]["task"], parser.as_str());
    assert_eq!(agent["data"]["session"], session.as_str());
    let agents = ok(&client, "agent_list", json!({})).await;
    assert_eq!(agents, cli_envelope(&repo, &["agent", "list"]));
    assert_eq!(agents["data"][0]["stalled"], false);
    let alive = ok(
        &client,
        "agent_heartbeat",
        json!({ "id": agent["data"]["id"] }),
    )
    .await;
    assert_eq!(alive["data"]["last_seen"], "2026-01-05T09:00:00Z");
    // Compaction through MCP: refused here, as the CLI refuses it (nothing is old enough).
    let early = call(
        &client,
        "memory_compact",
        json!({ "before": "2026-01-05", "summary": "nothing yet" }),
    )
    .await;
    assert_eq!(early.is_error, Some(true));
    assert_eq!(
        early.structured_content.expect("content")["error"]["code"],
        "nothing_to_compact"
    );
    // Its end, with what it cost; claims.
    let exited = ok(
        &client,
        "agent_exit",
        json!({ "id": agent["data"]["id"], "status": 0, "model": "m-large", "tokens": 1200, "cost": 0.25 }),
    )
    .await;
    assert_eq!(exited["data"]["usage"]["cost_micros"], 250_000);
    assert_eq!(exited["data"]["usage"]["tokens"], 1200);
    let claimed = ok(
        &client,
        "task_claim",
        json!({ "id": short(&docs), "lease": "1h" }),
    )
    .await;
    assert_eq!(
        claimed["data"]["claims"]["current"]["expires"],
        "2026-01-05T10:00:00Z"
    );
    let released = ok(&client, "task_release", json!({})).await;
    assert_eq!(released["data"]["claims"]["current"], Value::Null);

    // Bad arguments: refused with a reason; the server keeps serving.
    let unknown = call(&client, "task_show", json!({ "id": "t-ffffff" })).await;
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(
        unknown.structured_content,
        Some(json!({ "ok": false, "error": {
            "code": "unknown_id",
            "message": "no task matches 't-ffffff'",
            "hint": "`git ledger task list` shows the ids",
        }}))
    );
    assert_eq!(
        refused(&client, "task_add", json!({ "priority": 1 })).await,
        "failed to deserialize parameters: missing field `title`"
    );
    assert_eq!(
        refused(
            &client,
            "task_add",
            json!({ "title": "x", "priority": "high" })
        )
        .await,
        "error: priority 'high' is not between 0 (highest) and 4 (lowest)\nhint: use --priority 0 … 4 (0 is the highest, 2 the default)"
    );
    assert_eq!(
        refused(
            &client,
            "task_add",
            json!({ "title": "x", "depends_on": "t-1" })
        )
        .await,
        "failed to deserialize parameters: invalid type: string \"t-1\", expected a sequence"
    );
    assert_eq!(
        refused(&client, "memory", json!({ "view": "everything" })).await,
        "failed to deserialize parameters: unknown variant `everything`, expected one of `working`, `short`, `long`, `knowledge`"
    );
    assert_eq!(
        refused(&client, "task_done", json!({ "id": docs })).await,
        format!(
            "error: cannot complete {}: no summary given; no work recorded (no notes); never started, so its time is unknown (git ledger task start, or spawn an agent on it)\nhint: add a summary with --summary and record work with `git ledger task note`, or override with --force (recorded)",
            short(&docs)
        )
    );
    let missing = client
        .read_resource(ReadResourceRequestParams::new("ledger://memory/everything"))
        .await;
    assert!(missing.is_err(), "an unknown resource is an MCP error");
    assert!(
        client
            .call_tool(CallToolRequestParams::new("no_such_tool"))
            .await
            .is_err()
    );
    let after = ok(&client, "ready", json!({})).await;
    assert_eq!(after, cli_envelope(&repo, &["ready"]));

    let ended = ok(&client, "session_end", json!({ "summary": "parser done" })).await;
    assert_eq!(ended["data"]["summary"], "parser done");
    assert_eq!(repo.json(&["session", "list"])[0], ended["data"]);
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn mcp_has_the_objective_status_and_plan_operations_of_the_cli() {
    let repo = TestRepo::new();
    let client = crate::util::mcp_client(&repo).await;

    let added = ok(
        &client,
        "objective_add",
        json!({ "title": "Ship the beta", "budget": "25" }),
    )
    .await;
    let objective = text(&added["data"]["id"]).to_string();
    assert_eq!(added["data"]["budget_micros"], 25_000_000);
    let listed = ok(&client, "objective_list", json!({})).await;
    assert_eq!(listed, cli_envelope(&repo, &["objective", "list"]));
    repo.task(&["Open work", "--objective", &objective]);
    let refused_text = refused(&client, "objective_done", json!({ "id": objective })).await;
    assert!(
        refused_text.contains("has 1 task(s) not done"),
        "{refused_text}"
    );

    let plan = "name: Beta\nstages:\n  - name: build\n    role: developer\n    tasks:\n      - key: api\n        title: Write the API\n";
    let applied = ok(&client, "plan_apply", json!({ "text": plan })).await;
    assert_eq!(applied["data"]["plan"], "Beta");
    assert_eq!(applied["data"]["created"].as_array().map(Vec::len), Some(1));
    std::fs::write(repo.path.join("beta.yaml"), plan).expect("write");
    let again = ok(&client, "plan_apply", json!({ "file": "beta.yaml" })).await;
    assert_eq!(again["data"]["events"], 0, "{again}");
    let shown = ok(&client, "plan_show", json!({ "name": "Beta" })).await;
    assert_eq!(shown, cli_envelope(&repo, &["plan", "show", "Beta"]));
    let unknown = refused(&client, "plan_show", json!({ "name": "Gamma" })).await;
    assert!(unknown.contains("no plan named 'Gamma'"), "{unknown}");

    let status = ok(&client, "status", json!({})).await;
    assert_eq!(status, cli_envelope(&repo, &["status"]));
    let done = ok(
        &client,
        "objective_done",
        json!({ "id": objective, "summary": "shipped", "force": true }),
    )
    .await;
    assert_eq!(done["data"]["status"], "done");
    client.cancel().await.expect("close");
}
