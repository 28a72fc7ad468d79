//! Lossless compaction: summaries stand for old periods in the short- and long-term views,
//! within a byte budget; `--expand` gives back exactly the view of the ledger before it was
//! compacted; refusals write nothing.

use crate::util::{TestRepo, event_ids};
use serde_json::Value;

const SUMMARY: &str =
    "Week 1: OAuth2 login landed behind a flag.\nThe table migration waits for operations.\n";

fn write_summary(repo: &TestRepo, text: &[u8]) -> String {
    let path = repo.root().join("summary.txt");
    std::fs::write(&path, text).expect("write the summary");
    path.display().to_string()
}

#[test]
fn summaries_stand_for_old_periods_and_expand_gives_back_the_original() {
    let repo = TestRepo::sample();
    let views: [&[&str]; 4] = [
        &["memory", "long"],
        &["memory", "short", "--days", "30"],
        &["memory", "long", "--format", "markdown"],
        &["memory", "short", "--days", "30", "--json"],
    ];
    let before: Vec<String> = views.iter().map(|v| repo.ok(v)).collect();
    // Oldest first (the log lists the newest first).
    let oldest_first =
        |repo: &TestRepo| -> Vec<String> { event_ids(repo).into_iter().rev().collect() };
    let events = oldest_first(&repo);

    let file = write_summary(&repo, SUMMARY.as_bytes());
    let made = repo.json(&[
        "memory",
        "compact",
        "--before",
        "2026-03-04T12:00:00Z",
        "--summary-file",
        &file,
    ]);
    assert_eq!(made["before"], "2026-03-04T12:00:00Z");
    assert_eq!(made["summary"], SUMMARY.trim_end());
    // The range it stands for: the events before the time, in the ledger's order.
    let covered = made["events"].as_u64().expect("a count") as usize;
    assert!(covered > 0 && covered < events.len(), "{covered}");
    assert_eq!(made["from_event"], events[0].as_str());
    assert_eq!(made["to_event"], events[covered - 1].as_str());
    // Nothing was deleted: every event is still there, one more was appended.
    let after = oldest_first(&repo);
    assert_eq!(after.len(), events.len() + 1);
    assert_eq!(&after[..events.len()], &events[..]);

    // Expanded, every view is exactly what it was before the compaction.
    for (view, original) in views.iter().zip(&before) {
        let mut expanded = view.to_vec();
        expanded.push("--expand");
        assert_eq!(&repo.ok(&expanded), original, "{view:?}");
    }
    // Summarised: the summary first, then only what came after the time.
    let long = repo.ok(&["memory", "long"]);
    assert!(
        long.starts_with(&format!(
            "Long-term memory: the whole project\n\nSummary\n  {covered} events before 2026-03-04 12:00 ("
        )),
        "{long}"
    );
    assert!(
        long.contains("  Week 1: OAuth2 login landed behind a flag.\n  The table migration waits for operations.\n"),
        "{long}"
    );
    assert!(long.len() < before[0].len() + 400, "{long}");
    let short: Value =
        serde_json::from_str(&repo.ok(&["memory", "short", "--days", "30", "--json"]))
            .expect("json");
    assert_eq!(short["data"]["summary"]["events"], covered);
    for item in short["data"]["insights"].as_array().expect("insights") {
        let created = item["created"].as_str().expect("a time");
        assert!(created >= "2026-03-04T12:00:00", "{created}");
    }
    // The working view is not a history view: untouched.
    assert!(!repo.ok(&["memory", "working"]).contains("Summary"));
}

#[test]
fn a_budget_holds_on_the_100k_event_sample() {
    let repo = TestRepo::generated(100_000, 42, 1000);
    repo.at(Some("2026-03-01T00:00:00Z"));
    let original = repo.ok(&["memory", "long"]);
    assert!(original.len() > 400_000, "{}", original.len());
    let file = write_summary(
        &repo,
        b"January: routine feature work on many objectives.\n",
    );
    repo.ok(&[
        "memory",
        "compact",
        "--before",
        "2026-02-01",
        "--summary-file",
        &file,
    ]);
    let budgets: [(&[&str], usize); 2] = [
        (&["memory", "long", "--max-bytes", "8192"], 8192),
        (
            &["memory", "short", "--days", "30", "--max-bytes", "4096"],
            4096,
        ),
    ];
    for (view, budget) in budgets {
        let text = repo.ok(view);
        assert!(text.len() <= budget, "{view:?}: {} bytes", text.len());
        assert!(
            text.contains("January: routine feature work on many objectives."),
            "{view:?}: {text}"
        );
        assert!(
            text.contains("older line(s) left out (--max-bytes)"),
            "{text}"
        );
    }
    assert_eq!(repo.ok(&["memory", "long", "--expand"]), original);
}

#[test]
fn refusals_write_nothing() {
    let repo = TestRepo::sample();
    let count = repo.event_count();
    let good = write_summary(&repo, b"a summary");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--before", "last week", "--summary-file", &good],
            "error: 'last week' is not a time (2026-02-01 or 2026-02-01T09:00:00Z)\n",
        ),
        (
            &["--before", "2027-01-01", "--summary-file", &good],
            "error: 2027-01-01 00:00 is in the future; only the past can be summarised\n",
        ),
        (
            &["--before", "2020-01-01", "--summary-file", &good],
            "error: no event is older than 2020-01-01 00:00; there is nothing to summarise\n",
        ),
        (
            &[
                "--before",
                "2026-03-03",
                "--summary-file",
                "/nonexistent/summary.md",
            ],
            "error: cannot read /nonexistent/summary.md: No such file or directory (os error 2)\n",
        ),
    ];
    for (args, message) in cases {
        let mut full = vec!["memory", "compact"];
        full.extend_from_slice(args);
        let err = repo.fail(&full);
        assert!(err.starts_with(message), "{args:?}: {err}");
    }
    let blank = write_summary(&repo, b"  \n\n");
    let err = repo.fail(&[
        "memory",
        "compact",
        "--before",
        "2026-03-03",
        "--summary-file",
        &blank,
    ]);
    assert!(err.starts_with("error: the summary is empty\n"), "{err}");
    let binary = write_summary(&repo, b"ok \xff\xfe");
    let err = repo.fail(&[
        "memory",
        "compact",
        "--before",
        "2026-03-03",
        "--summary-file",
        &binary,
    ]);
    assert!(err.contains("is not valid UTF-8 (at byte 3)"), "{err}");
    assert_eq!(repo.event_count(), count);
    // From standard input, as an agent would pipe it.
    let run = repo.run_stdin(
        b"piped summary",
        &[
            "memory",
            "compact",
            "--before",
            "2026-03-03",
            "--summary-file",
            "-",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(repo.event_count(), count + 1);
}
