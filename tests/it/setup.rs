use crate::util::{TestRepo, path_with_bin};
use serde_json::{Value, json};
use std::path::Path;

/// A Claude Code settings file with hooks and keys of its own, as a user would have it.
const SETTINGS: &str = r#"{
  "permissions": {
    "allow": ["Bash(cargo test:*)"]
  },
  "hooks": {
    "PostToolUse": [
      {
        "matcher": "Edit|Write",
        "hooks": [
          {
            "type": "command",
            "command": "cargo fmt"
          }
        ]
      }
    ]
  }
}
"#;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commands `hooks.<event>` runs.
fn commands(settings: &Value, event: &str) -> Vec<String> {
    settings["hooks"][event]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .flat_map(|g| g["hooks"].as_array().cloned().unwrap_or_default())
                .filter_map(|h| h["command"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Run a hook command as Claude Code does: through the shell, in the project, with its JSON
/// on standard input.
fn run_hook(repo: &TestRepo, command: &str, input: &Value) -> crate::util::Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = repo
        .command("sh", &repo.path)
        .env("PATH", path_with_bin())
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.to_string().as_bytes());
    }
    crate::util::Run::from(child.wait_with_output().expect("wait for the hook"))
}

#[test]
fn setup_claude_merges_into_settings_and_remove_restores_them() {
    let repo = TestRepo::new();
    let settings = repo.path.join(".claude/settings.json");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect("mkdir");
    std::fs::write(&settings, SETTINGS).expect("write");

    let out = repo.ok(&["setup", "claude"]);
    assert_eq!(
        out,
        "Set up claude:\n  updated       .claude/settings.json (hooks)\n  created       .mcp.json (MCP server)\n"
    );
    let after = read(&settings);
    let value: Value = serde_json::from_str(&after).expect("valid JSON");
    assert_eq!(commands(&value, "PostToolUse"), ["cargo fmt"]);
    assert_eq!(
        value["permissions"],
        json!({"allow": ["Bash(cargo test:*)"]})
    );
    assert_eq!(
        commands(&value, "SessionStart"),
        ["git ledger prime --hook claude"]
    );
    assert_eq!(
        commands(&value, "SessionEnd"),
        ["git ledger session end --hook claude"]
    );
    // Every line of the original is still there, in order: the hooks were inserted.
    assert!(after.starts_with(&SETTINGS[..SETTINGS.find("      }\n    ]").expect("end")]));
    let mcp: Value = serde_json::from_str(&read(&repo.path.join(".mcp.json"))).expect("JSON");
    assert_eq!(
        mcp,
        json!({"mcpServers": {"git-ledger": {"command": "git", "args": ["ledger", "mcp"]}}})
    );

    // Twice: the same bytes, and it says nothing changed.
    let data = repo.json(&["setup", "claude"]);
    assert_eq!(read(&settings), after);
    assert_eq!(
        data["changes"],
        json!([
            {"path": ".claude/settings.json", "what": "hooks", "action": "unchanged"},
            {"path": ".mcp.json", "what": "MCP server", "action": "unchanged"},
        ])
    );

    let out = repo.ok(&["setup", "claude", "--remove"]);
    assert_eq!(
        out,
        "Removed claude:\n  updated       .claude/settings.json (hooks)\n  deleted       .mcp.json (MCP server)\n"
    );
    assert_eq!(read(&settings), SETTINGS);
    assert!(!repo.path.join(".mcp.json").exists());
}

#[test]
fn setup_claude_in_a_fresh_project_is_removed_without_a_trace() {
    let repo = TestRepo::new();
    let mcp = repo.path.join(".mcp.json");
    std::fs::write(
        &mcp,
        "{\"mcpServers\": {\"db\": {\"command\": \"db-mcp\"}}}",
    )
    .expect("write");

    // A dry run shows the diff and writes nothing.
    let out = repo.ok(&["setup", "claude", "--dry-run"]);
    assert!(
        out.contains("would create  .claude/settings.json (hooks)"),
        "{out}"
    );
    assert!(out.contains("+++ b/.claude/settings.json"), "{out}");
    assert!(
        out.contains("+            \"command\": \"git ledger prime --hook claude\","),
        "{out}"
    );
    assert!(
        out.contains("-{\"mcpServers\": {\"db\": {\"command\": \"db-mcp\"}}}"),
        "{out}"
    );
    assert!(!repo.path.join(".claude").exists());

    repo.ok(&["setup", "claude"]);
    let servers: Value = serde_json::from_str(&read(&mcp)).expect("JSON");
    assert_eq!(servers["mcpServers"]["db"], json!({"command": "db-mcp"}));
    assert_eq!(servers["mcpServers"]["git-ledger"]["command"], "git");

    repo.ok(&["setup", "claude", "--remove"]);
    assert!(
        !repo.path.join(".claude").exists(),
        "the folder made for the file goes too"
    );
    assert_eq!(
        read(&mcp),
        "{\"mcpServers\": {\"db\": {\"command\": \"db-mcp\"}}}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? .mcp.json\n");
}

#[test]
fn setup_claude_keeps_a_git_ledger_server_configured_by_hand() {
    let repo = TestRepo::new();
    let mine = "{\"mcpServers\": {\"git-ledger\": {\"command\": \"/opt/bin/git-ledger\", \"args\": [\"mcp\"]}}}\n";
    std::fs::write(repo.path.join(".mcp.json"), mine).expect("write");
    let out = repo.ok(&["setup", "claude"]);
    assert!(
        out.contains("unchanged     .mcp.json (MCP server)"),
        "{out}"
    );
    assert!(out.contains("note: "), "{out}");
    assert!(out.contains("already has a different `git-ledger` server; it is kept as it is"));
    repo.ok(&["setup", "claude", "--remove"]);
    assert_eq!(read(&repo.path.join(".mcp.json")), mine);
}

#[test]
fn setup_claude_user_writes_the_users_settings_and_says_how_to_add_the_server() {
    let repo = TestRepo::new();
    let out = repo.ok(&["setup", "claude", "--user"]);
    let settings = repo.home().join(".claude/settings.json");
    assert!(
        out.contains(&format!("created       {} (hooks)", settings.display())),
        "{out}"
    );
    assert!(
        out.contains("claude mcp add --scope user git-ledger -- git ledger mcp"),
        "{out}"
    );
    assert!(!repo.path.join(".claude").exists() && !repo.path.join(".mcp.json").exists());
    let value: Value = serde_json::from_str(&read(&settings)).expect("JSON");
    assert_eq!(
        commands(&value, "SessionStart"),
        ["git ledger prime --hook claude"]
    );
    repo.ok(&["setup", "claude", "--user", "--remove"]);
    assert!(!settings.exists());
}

#[test]
fn the_session_start_hook_primes_within_budget_and_a_resumed_claude_session_resumes_its_own() {
    let repo = TestRepo::new();
    repo.task(&["Write the parser"]);
    repo.ok(&["setup", "claude"]);
    let value: Value =
        serde_json::from_str(&read(&repo.path.join(".claude/settings.json"))).expect("JSON");
    let start = commands(&value, "SessionStart").remove(0);
    let end = commands(&value, "SessionEnd").remove(0);
    let input = |id: &str, source: &str| {
        json!({
            "session_id": id,
            "transcript_path": "/tmp/transcript.jsonl",
            "cwd": repo.path,
            "hook_event_name": "SessionStart",
            "source": source,
        })
    };

    let run = run_hook(&repo, &start, &input("abc-123", "startup"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.starts_with("# Ledger brief for human:Ann\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Write the parser"), "{}", run.stdout);
    assert!(run.stdout.len() <= git_ledger::view::prime::DEFAULT_MAX_BYTES);
    let sessions = repo.json(&["session", "list"]);
    assert_eq!(sessions.as_array().map(Vec::len), Some(1));
    let first = sessions[0]["id"].as_str().expect("id").to_string();
    assert_eq!(sessions[0]["harness_session"], "claude:abc-123");

    // After a compaction the same Claude session primes again, in the same ledger session.
    let run = run_hook(&repo, &start, &input("abc-123", "compact"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        repo.json(&["session", "list"]).as_array().map(Vec::len),
        Some(1)
    );

    // It ends with the Claude session, and `claude --resume` continues it.
    let run = run_hook(
        &repo,
        &end,
        &json!({"session_id": "abc-123", "reason": "exit"}),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.starts_with("Ended session "), "{}", run.stdout);
    run_hook(&repo, &start, &input("abc-123", "resume"));
    let sessions = repo.json(&["session", "list"]);
    assert_eq!(sessions[1]["continues"], first.as_str());
    assert_eq!(sessions[1]["harness_session"], "claude:abc-123");
    assert_eq!(sessions[1]["ended"], Value::Null);

    // A new Claude session (`/clear`) hands the worktree over to a new ledger session.
    let run = run_hook(&repo, &start, &input("def-456", "clear"));
    assert!(
        run.stderr.contains("its harness session is over"),
        "{}",
        run.stderr
    );
    let sessions = repo.json(&["session", "list"]);
    assert_eq!(sessions.as_array().map(Vec::len), Some(3));
    assert_eq!(
        sessions[1]["summary"],
        "handed over to a new harness session"
    );
    assert_eq!(sessions[2]["harness_session"], "claude:def-456");

    // Ending a Claude session the ledger has no open session for is not an error.
    let run = run_hook(&repo, &end, &json!({"session_id": "abc-123"}));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "No open session records this harness session\n");
}

#[test]
fn a_session_started_by_hand_is_taken_on_by_the_first_claude_session() {
    let repo = TestRepo::new();
    let id = repo.json(&["session", "start", "Ship the parser"])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let run = repo.run_stdin(br#"{"session_id": "abc"}"#, &["prime", "--hook", "claude"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sessions = repo.json(&["session", "list"]);
    assert_eq!(sessions.as_array().map(Vec::len), Some(1));
    assert_eq!(sessions[0]["id"], id.as_str());
    // Not recorded as that Claude session's, so ending it leaves the session open.
    let run = repo.run_stdin(
        br#"{"session_id": "abc"}"#,
        &["session", "end", "--hook", "claude"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(repo.json(&["session", "list"])[0]["ended"], Value::Null);
}

#[test]
fn a_hook_with_bad_input_says_what_is_wrong() {
    let repo = TestRepo::new();
    for (input, message) in [
        (
            &b"not json"[..],
            "error: the hook's input on standard input is not JSON",
        ),
        (
            b"{\"cwd\": \"/\"}",
            "error: the hook's input on standard input has no session_id\n",
        ),
        (
            b"{\"session_id\": \"a\\u0000b\"}",
            "has a session_id that is not an id\n",
        ),
        (b"\xff\xfe", "error: standard input is not valid UTF-8"),
    ] {
        let run = repo.run_stdin(input, &["prime", "--hook", "claude"]);
        assert_eq!(run.code, Some(1), "{}", run.stdout);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
    assert_eq!(repo.event_count(), 0);
}

#[test]
fn setup_codex_writes_a_marked_table_and_an_agents_section() {
    let repo = TestRepo::new();
    let config = repo.path.join(".codex/config.toml");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
    let original = "model = \"o3\"\n\n[mcp_servers.db]\ncommand = \"db-mcp\"\n";
    std::fs::write(&config, original).expect("write");
    let agents = "# Agents\n\nRun the tests before you commit.\n";
    std::fs::write(repo.path.join("AGENTS.md"), agents).expect("write");

    repo.ok(&["setup", "codex"]);
    let text = read(&config);
    assert_eq!(
        text,
        format!(
            "{original}\n# git-ledger:start (written by `git ledger setup codex`; `--remove` takes it out)\n\
             [mcp_servers.git-ledger]\ncommand = \"git\"\nargs = [\"ledger\", \"mcp\"]\n# git-ledger:end\n"
        )
    );
    let md = read(&repo.path.join("AGENTS.md"));
    assert!(
        md.starts_with(agents) && md.contains("First run `git ledger prime`"),
        "{md}"
    );
    repo.ok(&["setup", "codex"]);
    assert_eq!(read(&config), text);
    assert_eq!(read(&repo.path.join("AGENTS.md")), md);

    repo.ok(&["setup", "codex", "--remove"]);
    assert_eq!(read(&config), original);
    assert_eq!(read(&repo.path.join("AGENTS.md")), agents);

    // The user's config.toml is printed, not written.
    let out = repo.ok(&["setup", "codex", "--user"]);
    let user = repo.home().join(".codex/config.toml");
    assert!(
        out.contains(&format!(
            "add to {}:\n[mcp_servers.git-ledger]\ncommand = \"git\"\nargs = [\"ledger\", \"mcp\"]",
            user.display()
        )),
        "{out}"
    );
    assert!(!user.exists());

    // A table of that name written by hand is kept, and nothing is doubled.
    std::fs::write(
        &config,
        "[mcp_servers.git-ledger]\ncommand = \"/opt/git-ledger\"\n",
    )
    .expect("write");
    let out = repo.ok(&["setup", "codex"]);
    assert!(
        out.contains("already defines [mcp_servers.git-ledger]; it is kept as it is"),
        "{out}"
    );
    assert_eq!(
        read(&config),
        "[mcp_servers.git-ledger]\ncommand = \"/opt/git-ledger\"\n"
    );
}

#[test]
fn setup_agents_md_replaces_only_its_section() {
    let repo = TestRepo::new();
    let file = repo.path.join("CLAUDE.md");
    repo.ok(&["setup", "agents-md", "--file", "CLAUDE.md"]);
    let section = read(&file);
    assert!(section.starts_with("<!-- git-ledger:start"), "{section}");
    assert!(section.ends_with("<!-- git-ledger:end -->\n"), "{section}");
    assert!(section.len() < 1500, "bounded: {} bytes", section.len());

    // Lines around it are the user's; an edit inside it is put back.
    let edited = format!(
        "# Project\n\n{}\n## Style\n\nShort functions.\n",
        section.replace("First run", "Maybe run")
    );
    std::fs::write(&file, &edited).expect("write");
    repo.ok(&["setup", "agents-md", "--file", "CLAUDE.md"]);
    assert_eq!(
        read(&file),
        format!("# Project\n\n{section}\n## Style\n\nShort functions.\n")
    );
    repo.ok(&["setup", "agents-md", "--file", "CLAUDE.md", "--remove"]);
    assert_eq!(read(&file), "# Project\n\n\n## Style\n\nShort functions.\n");

    // Markers broken by hand are refused, and the file is left alone.
    std::fs::write(&file, "a\n<!-- git-ledger:start -->\nb\n").expect("write");
    let err = repo.fail(&["setup", "agents-md", "--file", "CLAUDE.md"]);
    assert!(
        err.contains(
            "CLAUDE.md: has `<!-- git-ledger:start` without `<!-- git-ledger:end` after it"
        ),
        "{err}"
    );
    assert_eq!(read(&file), "a\n<!-- git-ledger:start -->\nb\n");
    repo.ok(&["setup", "agents-md", "--remove"]);
    assert!(!repo.path.join("AGENTS.md").exists());
}

#[test]
fn setup_refuses_files_it_cannot_merge_and_writes_nothing() {
    let repo = TestRepo::new();
    let settings = repo.path.join(".claude/settings.json");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect("mkdir");
    for (bytes, message) in [
        (
            &b"{\"hooks\": "[..],
            "settings.json: not valid JSON (EOF while parsing a value at line 1 column 10)",
        ),
        (
            b"{\"hooks\": []}",
            "settings.json: its `hooks` is not what Claude Code expects",
        ),
        (b"[1]", "settings.json: it is not a JSON object"),
        (b"{\"a\": \"\xff\"}", "settings.json: is not UTF-8 text"),
    ] {
        std::fs::write(&settings, bytes).expect("write");
        let err = repo.fail(&["setup", "claude"]);
        assert!(err.contains(message), "{err}");
        assert_eq!(std::fs::read(&settings).expect("read"), bytes);
        assert!(!repo.path.join(".mcp.json").exists());
    }
    std::fs::remove_file(&settings).expect("rm");
    std::fs::create_dir(&settings).expect("a directory in its place");
    let err = repo.fail(&["setup", "claude"]);
    assert!(
        err.contains("settings.json: is not a regular file"),
        "{err}"
    );

    let outside = tempfile::tempdir().expect("temp dir");
    let run = repo.run_with(outside.path(), &[], &["setup", "agents-md", "--json"]);
    assert_eq!(run.code, Some(1));
    let envelope: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(envelope["error"]["code"], "setup");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .expect("message")
            .contains("is not in a git repository")
    );
}
