use crate::util::{TestRepo, id_of, short};
use std::ffi::OsString;

/// A refusal: exit 1, one `error:` line and one `hint:` line, nothing on stdout, no event.
fn refused(repo: &TestRepo, args: &[&str], message: &str) {
    let before = repo.tip();
    let stderr = repo.fail(args);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("error: {message}").as_str()),
        "{args:?}"
    );
    assert!(lines.len() <= 2, "one line and a hint at most: {stderr}");
    if let Some(hint) = lines.get(1) {
        assert!(hint.starts_with("hint: "), "{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(repo.tip(), before, "nothing written by {args:?}");
}

#[test]
fn outside_a_repository() {
    let dir = tempfile::tempdir().expect("tmp");
    let repo = TestRepo::new();
    let run = repo.run_with(dir.path(), &[], &["status"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with("error: not a git repository"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: run it inside a git work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn ledger_not_initialised() {
    let repo = TestRepo::bare_git();
    for args in [
        &["status"][..],
        &["task", "add", "x"],
        &["memory", "working"],
    ] {
        let stderr = repo.fail(args);
        assert_eq!(
            stderr,
            "error: the ledger is not initialised in this repository\nhint: run `git ledger init` first\n"
        );
    }
    let run = repo.run(&["status", "--json"]);
    let error: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(error["error"]["code"], "not_initialised");
    assert!(repo.git(&["for-each-ref", "refs/ledger"]).is_empty());
}

#[test]
fn unknown_and_malformed_ids() {
    let repo = TestRepo::new();
    repo.task(&["exists"]);
    refused(
        &repo,
        &["task", "start", "t-ffffffff"],
        "no task matches 't-ffffffff'",
    );
    refused(
        &repo,
        &["task", "start", "zz"],
        "'zz' is not a task id (expected like t-3f9a2c)",
    );
    refused(
        &repo,
        &["decision", "make", "d-0000", "x", "-r", "y"],
        "no decision matches 'd-0000'",
    );
    refused(
        &repo,
        &["task", "add", "x", "--depends-on", "t-abcdef9"],
        "no task matches 't-abcdef9'",
    );
    refused(
        &repo,
        &["task", "add", "x", "--objective", "o-1"],
        "no objective matches 'o-1'",
    );
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let repo = TestRepo::new();
    // 17 ids over 16 hex digits: two share a first digit.
    let ids: Vec<String> = (0..17)
        .map(|i| repo.task(&[&format!("task {i}")]))
        .collect();
    let (digit, matching) = "0123456789abcdef"
        .chars()
        .map(|d| {
            (
                d,
                ids.iter()
                    .filter(|id| id.as_bytes()[2] == d as u8)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })
        .find(|(_, m)| m.len() > 1)
        .expect("pigeonhole");
    let before = repo.tip();
    let stderr = repo.fail(&["task", "start", &format!("t-{digit}")]);
    let first = stderr.lines().next().expect("a line");
    assert!(
        first.starts_with(&format!(
            "error: 't-{digit}' is ambiguous: it matches {} tasks: ",
            matching.len()
        )),
        "{first}"
    );
    for id in &matching {
        assert!(
            first.contains(id.as_str()),
            "candidate {id} listed: {first}"
        );
    }
    assert_eq!(
        stderr.lines().nth(1),
        Some("hint: type more characters of the id")
    );
    assert_eq!(repo.tip(), before);
    // A longer prefix resolves.
    repo.ok(&["task", "start", &matching[0]]);
}

#[test]
fn empty_and_whitespace_text() {
    let repo = TestRepo::new();
    refused(&repo, &["task", "add", ""], "the title is empty");
    refused(&repo, &["task", "add", "  \t\n "], "the title is empty");
    refused(&repo, &["objective", "add", " "], "the title is empty");
    refused(&repo, &["insight", "add", ""], "the insight is empty");
    refused(
        &repo,
        &["decision", "request", " "],
        "the question is empty",
    );
    let task = repo.task(&["real"]);
    refused(
        &repo,
        &["task", "note", " ", "--task", &short(&task)],
        "the note is empty",
    );
    refused(
        &repo,
        &["task", "block", &short(&task), "--reason", ""],
        "the reason is empty",
    );
}

#[test]
fn bad_priority_and_estimate() {
    let repo = TestRepo::new();
    refused(
        &repo,
        &["task", "add", "x", "-p", "5"],
        "priority '5' is not between 0 (highest) and 4 (lowest)",
    );
    refused(
        &repo,
        &["task", "add", "x", "-p", "high"],
        "priority 'high' is not between 0 (highest) and 4 (lowest)",
    );
    refused(
        &repo,
        &["task", "add", "x", "-e", "soon"],
        "estimate 'soon' is not a duration like 90m, 2h or 1h30m, of at most a year",
    );
    refused(
        &repo,
        &["task", "add", "x", "-e", "1.5h"],
        "estimate '1.5h' is not a duration like 90m, 2h or 1h30m, of at most a year",
    );
    refused(
        &repo,
        &["task", "add", "x", "-e", "0m"],
        "estimate '0m' is not a duration like 90m, 2h or 1h30m, of at most a year",
    );
}

#[test]
fn huge_text_is_refused_clearly() {
    let repo = TestRepo::new();
    let task = repo.task(&["big"]);
    let before = repo.tip();
    let huge = "x".repeat(10 * 1024 * 1024);
    let run = repo.run_stdin(
        huge.as_bytes(),
        &["task", "note", "-", "--task", &short(&task)],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some("error: standard input holds more than the limit of 1048576 bytes")
    );
    // One byte over the limit.
    let over = "z".repeat(1024 * 1024 + 1);
    let run = repo.run_stdin(over.as_bytes(), &["insight", "add", "-"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with("error: standard input holds more than the limit"),
        "{}",
        run.stderr
    );
    let run = repo.run_stdin(
        &[0x66, 0xff, 0x66],
        &["task", "note", "-", "--task", &short(&task)],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some("error: standard input is not valid UTF-8 (at byte 1)")
    );
    assert_eq!(repo.tip(), before);

    // Just under the limit is stored exactly, newlines included.
    let big = "y\n".repeat(512 * 1024 - 8);
    let run = repo.run_stdin(
        big.as_bytes(),
        &["task", "note", "-", "--task", &short(&task), "--json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let stored = repo.json(&["task", "show", &short(&task)]);
    assert_eq!(stored["notes"][0]["text"].as_str(), Some(big.trim()));
}

#[test]
fn control_characters_are_stored_exactly() {
    let repo = TestRepo::new();
    let text = "line one\nline two\ttabbed \u{7} bell \u{1b}[31m escape ünïcødé";
    let task = repo.task(&[text]);
    assert_eq!(repo.json(&["task", "show", &task])["title"], text);
    let listed = repo.ok(&["task", "list"]);
    assert_eq!(
        listed.lines().count(),
        1,
        "display squashes control characters: {listed:?}"
    );
    assert!(
        !listed.contains('\u{1b}'),
        "no raw escapes reach the terminal"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_refused() {
    use std::os::unix::ffi::OsStringExt;
    let repo = TestRepo::new();
    let before = repo.tip();
    let bad = OsString::from_vec(vec![b'b', 0xff, b'd']);
    let run = repo.run(&[OsString::from("task"), OsString::from("add"), bad.clone()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .starts_with("error: invalid UTF-8 was detected in one or more arguments"),
        "{}",
        run.stderr
    );
    let run = repo.run(&[
        OsString::from("task"),
        OsString::from("add"),
        bad,
        OsString::from("--json"),
    ]);
    assert_eq!(run.code, Some(2));
    let error: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(error["error"]["code"], "usage");
    assert_eq!(repo.tip(), before);
}

#[test]
fn wrong_states_are_refused() {
    let repo = TestRepo::new();
    let task = repo.task(&["t"]);
    refused(
        &repo,
        &["task", "reopen", &short(&task)],
        &format!("{} is open; it cannot be reopened", short(&task)),
    );
    let decision = id_of(&repo.json(&["decision", "request", "q?"]));
    repo.ok(&[
        "decision",
        "make",
        &short(&decision),
        "anything",
        "-r",
        "because",
    ]);
    refused(
        &repo,
        &["decision", "make", &short(&decision), "other", "-r", "x"],
        &format!(
            "{} is already made; it cannot be made again",
            short(&decision)
        ),
    );
    refused(
        &repo,
        &["decision", "make", &short(&decision), "other", "-r", " "],
        "the rationale is empty",
    );
}

#[test]
fn a_bad_clock_is_refused() {
    let repo = TestRepo::new();
    let run = repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_NOW", "yesterday")],
        &["task", "add", "x"],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "error: GIT_LEDGER_NOW=\"yesterday\" is not an RFC 3339 time (like 2026-01-31T09:00:00Z)"
        )
    );
}
