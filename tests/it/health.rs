//! Agent health: heartbeats and stalled agents on a controlled clock; retries and fallbacks of
//! an agent's command, each attempt recorded.

use crate::util::{Run, TestRepo, id_of, short};
use serde_json::{Value, json};

/// The `data` of a `--json` run that printed one envelope.
fn data_of(run: &Run) -> Value {
    let envelope: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    envelope["data"].clone()
}

/// The one agent of the ledger as `agent list --json` shows it.
fn listed(repo: &TestRepo) -> Value {
    repo.json(&["agent", "list"])[0].clone()
}

/// The kinds of the ledger's events, oldest first.
fn kinds(repo: &TestRepo) -> Vec<String> {
    let log = repo.json(&["log", "-n", "0"]);
    let mut kinds: Vec<String> = log
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect();
    kinds.reverse();
    kinds
}

#[test]
fn a_silent_agent_is_stalled_until_it_shows_a_sign_of_life() {
    let repo = TestRepo::new();
    let task = repo.task(&["Write the parser"]);
    let id = id_of(&repo.json(&[
        "agent", "spawn", "--role", "dev", "-m", "Parse it", "-t", &task,
    ]));
    let env = [("GIT_LEDGER_AGENT", id.as_str())];

    // Five minutes of silence is fine.
    repo.at(Some("2026-01-05T09:05:00Z"));
    let agent = listed(&repo);
    assert_eq!(agent["stalled"], false);
    assert_eq!(agent["silent_minutes"], 5);
    assert_eq!(agent["last_seen"], "2026-01-05T09:00:00Z");
    let status = repo.json(&["status"]);
    assert_eq!(status["counts"]["agents_stalled"], 0);
    assert_eq!(status["stalled_agents"], json!([]));
    assert!(!repo.ok(&["status"]).contains("stalled"));

    // Eleven is over the default threshold of ten: flagged, with the task it holds.
    repo.at(Some("2026-01-05T09:11:00Z"));
    let agent = listed(&repo);
    assert_eq!(agent["stalled"], true);
    assert_eq!(agent["silent_minutes"], 11);
    assert_eq!(agent["running"], true);
    let line = format!(
        "{} dev: Parse it (holds {} Write the parser) [stalled: silent 11m since 2026-01-05 09:00]",
        short(&id),
        short(&task)
    );
    assert_eq!(
        repo.ok(&["agent", "list"]),
        format!(
            "Agents: 1 running (1 stalled), 0 finished\n\nStalled\n  {line}\n\nRunning\n  none\n\nFinished\n  none\n"
        )
    );
    let status = repo.json(&["status"]);
    assert_eq!(status["counts"]["agents_stalled"], 1);
    assert_eq!(status["counts"]["agents_running"], 1);
    assert_eq!(
        status["stalled_agents"],
        json!([{ "agent": id, "task": task, "last_seen": "2026-01-05T09:00:00Z", "silent_minutes": 11 }])
    );
    let text = repo.ok(&["status"]);
    assert!(
        text.contains(&format!(
            "\nAgents\n  warning: 1 agent(s) silent for over 10m: check on them, or record their end (git ledger agent exit <id>)\n  {line}\n  1 running (1 stalled), 0 finished (git ledger agent list)\n"
        )),
        "{text}"
    );

    assert_eq!(
        repo.fail(&["agent", "heartbeat"]),
        "error: no agent id given and GIT_LEDGER_AGENT is not set\nhint: name the agent: `git ledger agent heartbeat <id>`\n"
    );

    // A heartbeat from the agent clears it.
    let run = repo.run_with(&repo.path, &env, &["agent", "heartbeat"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let agent = listed(&repo);
    assert_eq!(
        (&agent["stalled"], &agent["silent_minutes"]),
        (&json!(false), &json!(0))
    );
    assert_eq!(agent["last_seen"], "2026-01-05T09:11:00Z");
    assert_eq!(repo.json(&["status"])["counts"]["agents_stalled"], 0);

    // Silent again; any ledger command it runs counts, as the prefix of its id too.
    repo.at(Some("2026-01-05T09:25:00Z"));
    assert_eq!(listed(&repo)["stalled"], true);
    let prefix = [("GIT_LEDGER_AGENT", &id[..8])];
    let run = repo.run_with(&repo.path, &prefix, &["task", "note", "halfway"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(listed(&repo)["stalled"], false);

    // The threshold is the clone's to set.
    repo.at(Some("2026-01-05T09:40:00Z"));
    assert_eq!(listed(&repo)["stalled"], true);
    repo.git(&["config", "ledger.agents.stallAfter", "30m"]);
    assert_eq!(listed(&repo)["stalled"], false);
    repo.git(&["config", "ledger.agents.stallAfter", "soon"]);
    assert_eq!(
        repo.fail(&["status"]),
        "error: git config ledger.agents.stallAfter is 'soon', not a duration like 10m, 2h or 1h30m\nhint: set it like `git config ledger.agents.stallAfter 15m`, or unset it for the default\n"
    );
    repo.git(&["config", "--unset", "ledger.agents.stallAfter"]);

    // A finished agent is never stalled, and takes no more heartbeats.
    repo.ok(&["agent", "exit", &id, "--status", "0"]);
    repo.at(Some("2026-01-05T12:00:00Z"));
    let agent = listed(&repo);
    assert!(agent.get("stalled").is_none(), "{agent}");
    assert_eq!(repo.json(&["status"])["counts"]["agents_stalled"], 0);
    assert_eq!(
        repo.fail(&["agent", "heartbeat", &id]),
        format!(
            "error: agent {} has already exited (succeeded)\nhint: an agent's end is recorded once; `git ledger agent list` shows the running ones\n",
            short(&id)
        )
    );
    let log = repo.ok(&["log", "-n", "0"]);
    assert!(log.contains("heartbeat"), "{log}");
    assert_eq!(repo.json(&["audit"])["intact"], true);
}

#[test]
fn a_fallback_runs_after_the_command_failed_and_both_attempts_are_recorded() {
    let repo = TestRepo::new();
    let run = repo.run(&[
        "agent",
        "spawn",
        "--role",
        "dev",
        "-m",
        "x",
        "--fallback",
        "exit 0",
        "--json",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let agent = data_of(&run);
    assert_eq!(agent["outcome"], "succeeded");
    assert_eq!(agent["status"], 0);
    assert_eq!(agent["fallback"], json!(["exit 0"]));
    let attempts = &agent["attempts"];
    assert_eq!(attempts.as_array().map(Vec::len), Some(2), "{agent}");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["command"], json!(["sh", "-c", "exit 3"]));
    assert_eq!(attempts[0]["status"], 3);
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["command"], json!(["sh", "-c", "exit 0"]));
    assert_eq!(attempts[1]["status"], 0);
    assert_eq!(attempts[1]["outcome"], "succeeded");
    assert!(attempts[1]["duration_ms"].is_u64());

    assert_eq!(
        kinds(&repo),
        [
            "agent.spawned",
            "agent.attempted",
            "agent.attempted",
            "agent.exited"
        ]
    );
    let log = repo.json(&["log", "-n", "1"]);
    assert_eq!(log[0]["body"]["attempts"], 2);
    let text = repo.ok(&["log"]);
    assert!(
        text.contains("attempt 1 failed (status 3): sh -c exit 3"),
        "{text}"
    );
    assert!(
        text.contains("agent exited: succeeded (status 0) after 2 attempts"),
        "{text}"
    );
    assert_eq!(repo.json(&["audit"])["intact"], true);
}

#[test]
fn retry_restarts_a_failing_command_n_more_times() {
    let repo = TestRepo::new();
    let run = repo.run(&[
        "agent", "spawn", "--role", "dev", "-m", "x", "--retry", "2", "--json", "--", "sh", "-c",
        "exit 4",
    ]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    let agent = data_of(&run);
    assert_eq!(agent["outcome"], "failed");
    assert_eq!(agent["status"], 4);
    assert_eq!(agent["retry"], 2);
    let attempts = agent["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 3);
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt["attempt"], n + 1);
        assert_eq!(attempt["status"], 4);
        assert_eq!(attempt["outcome"], "failed");
    }
    let list = repo.ok(&["agent", "list"]);
    assert!(
        list.contains("[failed, status 4, ") && list.contains(", 3 attempts]"),
        "{list}"
    );
}

#[test]
fn retry_stops_at_the_first_success() {
    let repo = TestRepo::new();
    // Fails the first time (it leaves a marker), succeeds the second.
    let script = "if [ -e marker ]; then exit 0; else touch marker; exit 5; fi";
    let run = repo.run(&[
        "agent", "spawn", "--role", "dev", "-m", "x", "--retry", "1", "--json", "--", "sh", "-c",
        script,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let agent = data_of(&run);
    assert_eq!(agent["outcome"], "succeeded");
    let outcomes: Vec<(Value, Value)> = agent["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| (a["status"].clone(), a["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [(json!(5), json!("failed")), (json!(0), json!("succeeded"))]
    );
}

#[test]
fn a_command_that_cannot_start_falls_back_and_a_killed_one_is_not_retried() {
    let repo = TestRepo::new();
    let run = repo.run(&[
        "agent",
        "spawn",
        "--role",
        "dev",
        "-m",
        "x",
        "--retry",
        "3",
        "--fallback",
        "exit 0",
        "--json",
        "--",
        "/nonexistent/agent",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let attempts = data_of(&run)["attempts"].clone();
    // Not started again: it would not start either.
    assert_eq!(attempts.as_array().map(Vec::len), Some(2), "{attempts}");
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[0]["status"], Value::Null);
    assert_eq!(
        attempts[0]["summary"],
        "cannot run /nonexistent/agent: No such file or directory (os error 2)"
    );
    assert_eq!(attempts[1]["outcome"], "succeeded");

    // Killed from outside: someone meant it to stop.
    let run = repo.run(&[
        "agent",
        "spawn",
        "--role",
        "dev",
        "-m",
        "y",
        "--retry",
        "2",
        "--fallback",
        "exit 0",
        "--json",
        "--",
        "sh",
        "-c",
        "kill -9 $$",
    ]);
    assert_eq!(run.code, Some(128 + 9), "{}", run.stderr);
    let agent = data_of(&run);
    assert_eq!(agent["outcome"], "killed");
    assert_eq!(agent["attempts"].as_array().map(Vec::len), Some(1));

    assert_eq!(
        repo.fail(&["agent", "spawn", "--role", "dev", "-m", "z", "--retry", "1"]),
        "error: --retry and --fallback need a command to run\nhint: give the command after `--`: git ledger agent spawn … --retry 2 -- <command>\n"
    );
}

#[test]
fn sigterm_to_git_ledger_stops_the_retries_and_records_the_end() {
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
            "--retry",
            "3",
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
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(line, "started\n");
    crate::util::terminate(&child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + 15));

    let agent = listed(&repo);
    assert_eq!(agent["outcome"], "killed");
    assert_eq!(agent["summary"], "interrupted: git-ledger received SIGTERM");
    assert_eq!(agent["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(agent["attempts"][0]["outcome"], "killed");
}
