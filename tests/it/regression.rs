//! One test per fixed bug, named after the bug: each failed before its fix.

use crate::util::{TestRepo, WRITER, hand_commit, path_with_bin, with_id};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn own_ref() -> String {
    format!("refs/ledger/v1/writers/{WRITER}")
}

/// A bare remote with the server hook, the work clone's ledger and `main` pushed to it.
fn server(repo: &TestRepo) -> PathBuf {
    let remote = repo.root().join("remote.git");
    let path = remote.to_str().expect("utf8");
    repo.git(&["init", "-q", "--bare", "-b", "main", path]);
    repo.ok_in(&remote, &["hooks", "install", "--server"]);
    repo.git(&["remote", "add", "origin", path]);
    repo.git(&["push", "-q", "origin", "main"]);
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", "refs/ledger/*:refs/ledger/*"]);
    assert!(ok, "{stderr}");
    remote
}

/// Write `lines` to a file beside the repository and import them.
fn import(repo: &TestRepo, lines: &[String]) -> Value {
    let file = repo.root().join("hostile.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    repo.json(&["import", file.to_str().expect("utf8")])
}

/// A hand-made event by another writer, with its id.
fn foreign_event(kind: &str, hlc: u64, subject: &str, body: Value) -> String {
    with_id(json!({
        "v": 1, "kind": kind, "time": "2026-01-05T08:00:00.000Z", "hlc": hlc,
        "writer": "ffeeddccbbaa", "actor": "human:Mallory", "subject": subject, "body": body
    }))
}

/// Run `git ledger` with a deadline: a command that hangs is killed and reported as such.
fn run_within(repo: &TestRepo, args: &[&str], deadline: Duration) -> Option<i32> {
    let mut child = repo
        .bin_command(&repo.path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn git-ledger");
    let started = Instant::now();
    while started.elapsed() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn concurrent_first_appends_of_a_fresh_clone_lose_no_write() {
    const WRITERS: usize = 16;
    const ROUNDS: usize = 10;
    let mut kept = 0;
    for round in 0..ROUNDS {
        let repo = TestRepo::new();
        repo.at(None);
        assert_eq!(repo.tip(), None, "init appends nothing");
        std::thread::scope(|scope| {
            for n in 0..WRITERS {
                let repo = &repo;
                scope.spawn(move || {
                    let title = format!("round {round} writer {n}");
                    let run = repo.run(&["task", "add", &title]);
                    assert_eq!(run.code, Some(0), "{title}: {}", run.stderr);
                });
            }
        });
        let titles: HashSet<String> = repo
            .json(&["task", "list"])
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["title"].as_str().map(str::to_string))
            .collect();
        kept += titles.len();
        assert_eq!(titles.len(), WRITERS, "round {round}: {titles:?}");
    }
    eprintln!("{ROUNDS} rounds of {WRITERS} first appends: {kept} events kept");
}

#[test]
fn a_fifo_at_the_cache_path_does_not_hang_commands() {
    let repo = TestRepo::new();
    repo.task(&["before the fifo"]);
    let cache = repo.index_path();
    repo.remove_index();
    let made = repo
        .command("mkfifo", repo.root())
        .arg(&cache)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    assert_eq!(
        run_within(&repo, &["status"], Duration::from_secs(30)),
        Some(0),
        "status hung or failed on a FIFO cache"
    );
    assert!(
        std::fs::symlink_metadata(&cache).is_ok_and(|m| m.is_file()),
        "the FIFO is replaced by an index file"
    );
    assert_eq!(repo.event_count(), 1);
}

#[test]
fn an_estimate_beyond_a_year_is_refused_and_totals_do_not_wrap() {
    let repo = TestRepo::new();
    let stderr = repo.fail(&["task", "add", "huge", "--estimate", "18446744073709551615"]);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(
        stderr.lines().next().map(|l| l.contains("estimate")),
        Some(true),
        "{stderr}"
    );
    assert_eq!(repo.tip(), None, "nothing written");
    // Estimates of imported events are not bounded by the writer: totals saturate.
    let huge = |n: u64| {
        foreign_event(
            "task.created",
            1_767_590_000_000 + n,
            &format!("t-00000000000000a{n}"),
            json!({"title": format!("huge {n}"), "priority": 2, "depends_on": [],
                   "estimate_minutes": u64::MAX - 5}),
        )
    };
    import(&repo, &[huge(1), huge(2)]);
    let dash = repo.json(&["status"]);
    let text = dash.to_string();
    assert!(!text.contains("\"estimate_minutes\":13"), "{text}");
    let run = repo.run(&["status"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn multi_byte_text_in_hash_fields_does_not_panic() {
    let repo = TestRepo::new();
    let task = repo.task(&["victim"]);
    let hostile = "aéééééééé";
    let lines = [
        foreign_event(
            "commit.linked",
            1_767_600_000_001,
            &task,
            json!({"commit": hostile, "branch": "x"}),
        ),
        foreign_event(
            "review.approved",
            1_767_600_000_002,
            &task,
            json!({"commit": hostile}),
        ),
        foreign_event(
            "memory.compacted",
            1_767_600_000_003,
            "m-0000000000000001",
            json!({"before": "2026-01-05T09:00:00Z", "summary": "s", "events": 1,
                   "from_event": hostile, "to_event": hostile}),
        ),
        foreign_event(
            "check.recorded",
            1_767_600_000_004,
            &task,
            json!({"rule": {"item": "r"}, "passed": true, "commit": hostile}),
        ),
    ];
    let file = repo.root().join("hostile.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    // The malformed events are refused at import: nothing written.
    let run = repo.run(&["import", file.to_str().expect("utf8")]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("body.commit"), "{}", run.stderr);
    // Written by hand on another writer's ref, as a sync would bring them: skipped and
    // reported, never a panic.
    let parent = repo.tip();
    let message = format!("hostile\n\n{}\n", lines.join("\n"));
    let commit = hand_commit(&repo, &message, None);
    let _ = parent;
    repo.git(&["update-ref", "refs/ledger/v1/writers/ffeeddccbbaa", &commit]);
    for args in [
        vec!["task", "show", &task],
        vec!["memory", "long"],
        vec!["blame", &task],
        vec!["status"],
        vec!["log"],
    ] {
        let run = repo.run(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    let run = repo.run(&["gate", "check", "main", "--into", "main"]);
    assert_ne!(run.code, Some(101), "{}", run.stderr);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(1), "{}", audit.stdout);
    assert!(audit.stdout.contains("body.commit"), "{}", audit.stdout);
}

#[test]
fn a_blob_pushed_as_a_writer_ref_is_refused() {
    let repo = TestRepo::new();
    repo.task(&["something"]);
    let _remote = server(&repo);
    let blob = repo.root().join("blob.txt");
    std::fs::write(&blob, "not a commit\n").expect("write");
    let blob = repo.git(&["hash-object", "-w", blob.to_str().expect("utf8")]);
    let target = "refs/ledger/v1/writers/ffeeddccbbaa";
    let (ok, stderr) =
        repo.try_git(&["push", "-q", "origin", &format!("{}:{target}", blob.trim())]);
    assert!(!ok, "a blob was accepted as a writer ref");
    assert!(stderr.contains("not a commit"), "{stderr}");
    // An annotated tag of a good ledger commit is not a commit either.
    let tip = repo.tip().expect("tip");
    repo.git(&["tag", "-a", "-m", "tag", "ledger-tag", &tip]);
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("ledger-tag:{target}")]);
    assert!(!ok, "a tag was accepted as a writer ref");
    assert!(stderr.contains("not a commit"), "{stderr}");
}

#[test]
fn a_ledger_ref_that_is_not_a_writer_id_is_refused_and_not_read() {
    let repo = TestRepo::new();
    repo.task(&["something"]);
    let _remote = server(&repo);
    let tip = repo.tip().expect("tip");
    for name in [
        "refs/ledger/v1/writers/HIDDEN",
        "refs/ledger/v1/writers/ab",
        "refs/ledger/v2/other",
    ] {
        let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{tip}:{name}")]);
        assert!(!ok, "{name} was accepted");
        assert!(stderr.contains("not a writer ref"), "{name}: {stderr}");
    }
    // Locally, a ref clients would not sync is not read either.
    let rejected = foreign_event(
        "task.created",
        1_767_600_000_000,
        "t-00000000000000ff",
        json!({"title": "smuggled", "priority": 2, "depends_on": []}),
    );
    let commit = hand_commit(&repo, &format!("x\n\n{rejected}\n"), None);
    repo.git(&["update-ref", "refs/ledger/v1/writers/HIDDEN", &commit]);
    assert_eq!(repo.event_count(), 1);
}

#[test]
fn an_event_from_the_far_future_is_refused_and_does_not_wrap_the_clock() {
    let repo = TestRepo::new();
    let remote = server(&repo);
    let forged = foreign_event(
        "task.created",
        u64::MAX,
        "t-00000000000000fe",
        json!({"title": "from the future", "priority": 2, "depends_on": []}),
    );
    let tip = repo.tip();
    let commit = hand_commit(&repo, &format!("x\n\n{forged}\n"), tip.as_deref());
    // The server refuses it.
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{commit}:{}", own_ref())]);
    assert!(!ok, "a far-future event was accepted");
    assert!(stderr.contains("ahead"), "{stderr}");
    let _ = remote;
    // A client that has it anyway treats it as malformed: skipped, reported by audit, and
    // the clock of the next event is the wall clock's.
    repo.git(&["update-ref", "refs/ledger/v1/writers/ffeeddccbbaa", &commit]);
    let task = repo.task(&["after the forgery"]);
    let log = repo.json(&["log", "-n", "0"]);
    let events = log.as_array().expect("events");
    assert_eq!(events.len(), 1, "{log}");
    assert_eq!(events[0]["subject"], task.as_str());
    assert!(
        events[0]["hlc"].as_u64().is_some_and(|h| h < u64::MAX / 2),
        "{log}"
    );
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(1));
    assert!(audit.stdout.contains("ahead"), "{}", audit.stdout);
}

#[test]
fn a_ref_lock_left_by_a_process_killed_just_now_is_cleared_without_waiting() {
    let repo = TestRepo::new();
    let task = repo.task(&["locked out"]);
    // As a killed process leaves it: fresh, and no ledger process holds the ref.
    let lock = repo.path.join(".git").join(format!("{}.lock", own_ref()));
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").expect("lock");
    let run = repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_DEBUG_RETRIES", "1")],
        &["task", "note", "through the fresh lock", "--task", &task],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let attempts: u32 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("git-ledger: appended after "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("attempts on stderr");
    assert!(
        attempts <= 20,
        "{attempts} attempts: the lock was waited out"
    );
    assert!(!lock.exists());
}

#[test]
fn a_killed_sync_leaves_no_incoming_refs_behind() {
    let repo = TestRepo::new();
    repo.task(&["something"]);
    let _remote = server(&repo);
    let tip = repo.tip().expect("tip");
    // What a sync killed between its fetch and its clean-up leaves: a namespace named after
    // a process that is gone, started a moment ago; and a name no sync writes.
    let mut gone = std::process::Command::new("true").spawn().expect("spawn");
    gone.wait().expect("wait");
    let started = format!("{:x}", now_nanos());
    let killed = format!(
        "refs/ledger-incoming/{}-{started}/v1/writers/ffeeddccbbaa",
        gone.id()
    );
    repo.git(&["update-ref", &killed, &tip]);
    repo.git(&[
        "update-ref",
        "refs/ledger-incoming/origin/v1/writers/ffeeddccbbaa",
        &tip,
    ]);
    repo.ok(&["sync"]);
    let left = repo.git(&["for-each-ref", "refs/ledger-incoming/"]);
    assert_eq!(left, "", "incoming refs left behind");
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn two_worktrees_of_one_clone_syncing_at_once_do_not_fail() {
    let repo = TestRepo::new();
    repo.task(&["shared clone"]);
    let _remote = server(&repo);
    let worktree = repo.root().join("second");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "second",
        worktree.to_str().expect("utf8"),
    ]);
    for round in 0..6 {
        let children: Vec<_> = [&repo.path, &worktree]
            .into_iter()
            .enumerate()
            .map(|(side, dir)| {
                let title = format!("round {round} side {side}");
                let script = format!(
                    "git-ledger task add '{title}' >/dev/null && git-ledger sync 2>&1 >/dev/null"
                );
                repo.command("sh", dir)
                    .env("PATH", path_with_bin())
                    .args(["-c", &script])
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    // Everything written reached the remote: one more sync has nothing left to push.
    let last = repo.json(&["sync"]);
    assert_eq!(last["pushed"], json!([]), "{last}");
}

#[test]
fn control_sequences_in_ledger_text_reach_the_terminal_escaped() {
    let repo = TestRepo::new();
    // A window-title OSC, a clear-screen CSI, a bell and a right-to-left override.
    let title = "deploy\u{1b}]0;owned\u{7} \u{1b}[2Jnow \u{202e}txt.exe";
    let task = repo.task(&[title, "--description", "see \u{1b}[31mred\u{1b}[0m here"]);
    repo.ok(&["task", "note", "note \u{1b}[2J\u{9b}1m", "--task", &task]);
    repo.ok(&[
        "decision",
        "request",
        "pick \u{1b}[5m",
        "--option",
        "a\u{1b}[8m",
        "--option",
        "b\u{202e}",
    ]);
    for args in [
        vec!["task", "show", task.as_str()],
        vec!["task", "list"],
        vec!["blame", task.as_str()],
        vec!["status"],
        vec!["decision", "list"],
        vec!["prime"],
        vec!["memory", "working"],
        vec!["memory", "short"],
        vec!["memory", "long"],
        vec!["log"],
    ] {
        let run = repo.run(&args);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(
                !run.stdout.contains(raw),
                "{args:?} printed {raw:?} raw:\n{}",
                run.stdout
            );
        }
    }
    let shown = repo.ok(&["task", "show", &task]);
    assert!(
        shown.contains(r"deploy\u{1b}]0;owned\u{7} \u{1b}[2Jnow \u{202e}txt.exe"),
        "{shown}"
    );
    // An error that quotes ledger text is escaped too.
    let error = repo.run(&["task", "show", "\u{1b}[2Jnope"]);
    assert_eq!(error.code, Some(1));
    assert!(!error.stderr.contains('\u{1b}'), "{}", error.stderr);
    // Scripts get the exact text.
    assert_eq!(repo.json(&["task", "show", &task])["title"], title);
}

/// Issue: an agent whose clock ran an hour ahead took over a live 30-minute claim, and the
/// holder's renewal was refused. A claim recorded from the future is not honoured over one
/// that is live by the reader's clock.
#[test]
fn a_claim_from_a_clock_an_hour_ahead_does_not_take_over_a_live_claim() {
    let repo = TestRepo::new();
    let task = repo.task(&["Hold me"]);
    let as_agent = |name: &str, args: &[&str]| {
        let run = repo.run_with(&repo.path, &[("GIT_LEDGER_AGENT", name)], args);
        (run.code, run.stdout, run.stderr)
    };
    let (code, _, stderr) = as_agent("a1", &["task", "claim", &task, "--lease", "30m"]);
    assert_eq!(code, Some(0), "{stderr}");
    // By its own clock the lease ran out: the claim is written, as nothing can tell it yet.
    repo.at(Some("2026-01-05T10:00:00Z"));
    let (code, _, stderr) = as_agent("b1", &["task", "claim", &task]);
    assert_eq!(code, Some(0), "{stderr}");
    // By every correct clock the first claim is live and stands.
    repo.at(Some("2026-01-05T09:05:00Z"));
    let ready = repo.ok(&["ready"]);
    assert!(
        ready.contains("(claimed by agent:a1 until 2026-01-05 09:30)"),
        "{ready}"
    );
    let (code, stdout, stderr) = as_agent("a1", &["task", "renew", &task]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("Renewed: "), "{stdout}");
    let claims = repo.json(&["task", "show", &task])["claims"].clone();
    assert_eq!(claims["current"]["holder"], "agent:a1");
    assert_eq!(claims["current"]["expires"], "2026-01-05T09:35:00Z");
    assert_eq!(claims["lost"][0]["holder"], "agent:b1");
    assert_eq!(claims["lost"][0]["winner"]["holder"], "agent:a1");
    // The agent whose clock is ahead is told it lost the task.
    let (code, _, stderr) = as_agent("b1", &["task", "renew", &task]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is claimed by agent:a1"), "{stderr}");
}

/// A commit made by plumbing (no hook runs): `parents` in order, the tree of `tree_of`.
fn plumbing_commit(repo: &TestRepo, message: &str, tree_of: &str, parents: &[&str]) -> String {
    let tree = format!("{tree_of}^{{tree}}");
    let mut args = vec!["commit-tree", tree.as_str(), "-m", message];
    for parent in parents {
        args.extend(["-p", parent]);
    }
    repo.git(&args).trim().to_string()
}

#[test]
fn an_unapproved_commit_pushed_first_to_another_branch_does_not_reach_main() {
    let (repo, _remote, _task, branch) = crate::gate::setup();
    repo.ok(&["sync"]);
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{branch}:refs/heads/feature"),
    ]);
    assert!(ok, "an unprotected branch takes anything: {stderr}");
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{branch}:refs/heads/main"),
    ]);
    assert!(
        !ok,
        "the unapproved commit reached main through another branch"
    );
    assert!(stderr.contains("is not approved"), "{stderr}");
}

#[test]
fn a_merge_of_approved_and_unapproved_commits_is_refused_whatever_the_parent_order() {
    let (repo, _remote, task, branch) = crate::gate::setup();
    let task = crate::util::short(&task);
    let approved = repo.git(&["rev-parse", &branch]).trim().to_string();
    repo.approve(&[&task, "--commit", &approved]);
    repo.ok(&["sync"]);
    let evil = plumbing_commit(
        &repo,
        &format!("unreviewed\n\nLedger-Task: {task}\n"),
        &approved,
        &["main"],
    );
    for parents in [[&approved, &evil], [&evil, &approved]] {
        let merge = plumbing_commit(&repo, "merge", &approved, &[parents[0], parents[1]]);
        let (ok, stderr) = repo.try_git(&[
            "push",
            "-q",
            "--no-verify",
            "origin",
            &format!("{merge}:refs/heads/main"),
        ]);
        assert!(!ok, "a merge with parents {parents:?} reached main");
        assert!(stderr.contains("was approved at"), "{stderr}");
        let run = repo.run(&["gate", "check", &merge, "--into", "main"]);
        assert_eq!(
            run.code,
            Some(1),
            "gate check of {parents:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn commits_without_a_trailer_on_top_of_an_approved_commit_are_refused_at_push() {
    let (repo, _remote, task, branch) = crate::gate::setup();
    let task = crate::util::short(&task);
    let approved = repo.git(&["rev-parse", &branch]).trim().to_string();
    repo.approve(&[&task, "--commit", &approved]);
    repo.ok(&["sync"]);
    let extra = plumbing_commit(&repo, "no trailer", &approved, &[&approved]);
    let run = repo.run(&["gate", "check", &extra, "--into", "main"]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    // The client hook and the server say the same.
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{extra}:refs/heads/main")]);
    assert!(!ok, "pre-push let it through");
    assert!(stderr.contains("was approved at"), "{stderr}");
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        &format!("{extra}:refs/heads/main"),
    ]);
    assert!(!ok, "pre-receive let it through");
    assert!(stderr.contains("was approved at"), "{stderr}");
    // The approved commit itself lands.
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "origin",
        &format!("{approved}:refs/heads/main"),
    ]);
    assert!(ok, "{stderr}");
}

#[test]
fn completing_a_refused_merge_with_git_commit_is_refused() {
    let (repo, _remote, _task, branch) = crate::gate::setup();
    let before = repo.git(&["rev-parse", "main"]);
    let (ok, stderr) = repo.try_git(&["merge", "-q", "--no-ff", "-m", "merge", &branch]);
    assert!(!ok, "the merge was not refused");
    assert!(stderr.contains("is not approved"), "{stderr}");
    let (ok, stderr) = repo.try_git(&["commit", "-q", "--no-edit"]);
    assert!(!ok, "git commit completed the refused merge");
    assert!(stderr.contains("is not approved"), "{stderr}");
    assert_eq!(repo.git(&["rev-parse", "main"]), before);
}

#[test]
fn a_protected_branch_cannot_be_deleted_or_forced_through_the_server_hook() {
    let (repo, remote, task, branch) = crate::gate::setup();
    repo.git_in(&remote, &["config", "ledger.protect", "main release/*"]);
    repo.git(&["config", "ledger.protect", "main release/*"]);
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", "main:refs/heads/release/1"]);
    assert!(ok, "{stderr}");
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        ":refs/heads/release/1",
    ]);
    assert!(!ok, "a protected branch that is not HEAD was deleted");
    assert!(stderr.contains("may not be deleted"), "{stderr}");
    // Land approved work, then try to move main back over it.
    repo.approve(&[&crate::util::short(&task)]);
    repo.ok(&["sync"]);
    let (ok, stderr) =
        repo.try_git(&["push", "-q", "origin", &format!("{branch}:refs/heads/main")]);
    assert!(ok, "{stderr}");
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "-f",
        "--no-verify",
        "origin",
        "main:refs/heads/main",
    ]);
    assert!(!ok, "main was forced back");
    assert!(stderr.contains("may not be force-moved"), "{stderr}");
}

#[test]
fn a_merge_commit_on_a_writer_ref_is_refused_by_the_server_sync_and_audit() {
    let repo = TestRepo::new();
    repo.task(&["something"]);
    let _remote = server(&repo);
    let tip = repo.tip().expect("tip");
    // A new root holding a chosen copy, with the real history as second parent: it passes
    // for a fast-forward if the second parent is followed.
    let copy = repo.git(&["log", "-1", "--format=%B", &tip]);
    let root = hand_commit(&repo, &copy, None);
    let merge = plumbing_commit(&repo, &copy, &tip, &[&root, &tip]);
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{merge}:{}", own_ref())]);
    assert!(!ok, "the server took a merge on a writer ref");
    assert!(stderr.contains("2 parents"), "{stderr}");
    // A remote without the hook: another clone's sync refuses it.
    let plain = repo.root().join("plain.git");
    repo.git(&["init", "-q", "--bare", plain.to_str().expect("utf8")]);
    repo.git(&[
        "push",
        "-q",
        plain.to_str().expect("utf8"),
        &format!("{tip}:{}", own_ref()),
    ]);
    let other = TestRepo::clone_of(&plain, "0123456789ab");
    other.ok(&["sync"]);
    repo.git(&[
        "push",
        "-q",
        plain.to_str().expect("utf8"),
        &format!("{merge}:{}", own_ref()),
    ]);
    let run = other.run(&["sync"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("merge commit"), "{}", run.stderr);
    // Moved by hand: audit says so.
    repo.git(&["update-ref", &own_ref(), &merge]);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(1), "{}", audit.stdout);
    assert!(audit.stdout.contains("2 parents"), "{}", audit.stdout);
}

#[test]
fn an_agent_approving_its_own_work_does_not_open_the_gate() {
    let repo = TestRepo::new();
    let bot = [("GIT_LEDGER_AGENT", "bot")];
    let task = crate::util::short(&repo.task(&["Fix login"]));
    let run = repo.run_with(&repo.path, &bot, &["task", "start", &task, "--branch"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    std::fs::write(repo.path.join("login.rs"), "fixed\n").expect("write");
    repo.git(&["add", "login.rs"]);
    repo.git(&["commit", "-q", "-m", "fix login"]);
    repo.git(&["switch", "-q", "main"]);
    let run = repo.run_with(&repo.path, &bot, &["review", "approve", &task]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let check = |args: &[&str]| -> Value {
        let run = repo.run(
            &[
                &["gate", "check", &branch, "--into", "main", "--json"][..],
                args,
            ]
            .concat(),
        );
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
    };
    let verdict = check(&[]);
    assert_eq!(verdict["data"]["allowed"], false, "{verdict}");
    assert_eq!(
        verdict["data"]["approvals"],
        json!([{"task": task, "by": "agent:bot", "ignored": "agent:bot started it"}])
    );
    assert_eq!(verdict["data"]["reasons"][0]["reason"], "too_few_approvals");
    // Nor does that of an agent that wrote one of its notes.
    let noter = [("GIT_LEDGER_AGENT", "noter")];
    let run = repo.run_with(
        &repo.path,
        &noter,
        &["task", "note", "-t", &task, "looked at it"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = repo.run_with(&repo.path, &noter, &["review", "approve", &task]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let verdict = check(&[]);
    assert_eq!(
        verdict["data"]["approvals"][1],
        json!({"task": task, "by": "agent:noter", "ignored": "agent:noter wrote its notes"})
    );

    // Another reviewer's approval counts; two are asked for, so a second one is needed, and
    // the same reviewer approving twice is still one.
    repo.git(&["config", "ledger.gate.approvals", "2"]);
    repo.approve(&[&task]);
    repo.approve(&[&task]);
    let verdict = check(&[]);
    assert_eq!(verdict["data"]["allowed"], false, "{verdict}");
    assert_eq!(verdict["data"]["reasons"][0]["counted"], 1, "{verdict}");
    let run = repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_AGENT", "second-reviewer")],
        &["review", "approve", &task],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let verdict = check(&[]);
    assert_eq!(verdict["data"]["allowed"], true, "{verdict}");
    assert_eq!(
        verdict["data"]["note"],
        format!(
            "{task} approved at {} by agent:reviewer, agent:second-reviewer",
            &repo.git(&["rev-parse", &branch])[..10]
        )
    );

    repo.git(&["config", "ledger.gate.approvals", "many"]);
    let run = repo.run(&["gate", "check", &branch, "--into", "main"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "error: git config ledger.gate.approvals is 'many', not a number of reviewers, 1 or more"
        )
    );
}

#[test]
fn importing_a_second_projects_orchestrator_context_keeps_both_projects() {
    let repo = TestRepo::new();
    let beta = repo.root().join("beta.json");
    std::fs::write(
        &beta,
        json!({
            "project_name": "project_beta",
            "objectives": [{"id": "OBJ_001", "description": "Ship the billing service"}],
            "completed_tasks": [{"id": "TASK_001", "description": "Choose a payment provider", "outcome": "Stripe"}],
            "active_tasks": [{"id": "TASK_025", "description": "Write the invoice generator"}],
            "pending_decisions": [{"id": "DEC_001", "question": "Monthly or yearly billing first?"}],
            "spawned_agents": [{"id": "AGENT_0001", "type": "researcher", "mission": "Compare payment providers"}]
        })
        .to_string(),
    )
    .expect("write");
    let alpha = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/orchestrator_context.json"
    );
    let beta = beta.to_str().expect("utf8");
    let first = repo.json(&["import", beta]);
    assert_eq!(
        (first["added"].as_u64(), first["skipped"].as_u64()),
        (Some(7), Some(0))
    );
    let second = repo.json(&["import", alpha]);
    assert_eq!(
        (second["added"].as_u64(), second["skipped"].as_u64()),
        (Some(10), Some(0)),
        "{second}"
    );
    let objectives: Vec<String> = repo
        .json(&["objective", "list"])
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(objectives.len(), 2, "{objectives:?}");
    assert!(objectives.contains(&"Migrate authentication to OAuth2".to_string()));
    assert_eq!(
        repo.json(&["task", "list"]).as_array().map(Vec::len),
        Some(4)
    );
    // Importing the same files again adds nothing.
    for file in [alpha, beta] {
        let again = repo.json(&["import", file]);
        assert_eq!(again["added"].as_u64(), Some(0), "{again}");
    }
}

#[test]
fn importing_beads_issues_of_two_repositories_keeps_both() {
    let repo = TestRepo::new();
    let write = |name: &str, lines: &[Value]| {
        let path = repo.root().join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf8").to_string()
    };
    let one = write(
        "one.jsonl",
        &[
            json!({"id": "bd-1", "title": "Fix the login page", "status": "open", "created_at": "2025-10-01T10:00:00Z"}),
            json!({"id": "bd-2", "title": "Add a logout button", "status": "open", "created_at": "2025-10-01T11:00:00Z",
               "dependencies": [{"issue_id": "bd-2", "depends_on_id": "bd-1", "type": "blocks"}]}),
        ],
    );
    let two = write(
        "two.jsonl",
        &[
            json!({"id": "bd-1", "title": "Tune the database", "status": "open", "created_at": "2025-11-03T09:00:00Z"}),
        ],
    );
    repo.json(&["import", &one]);
    let second = repo.json(&["import", &two]);
    assert_eq!(second["added"].as_u64(), Some(1), "{second}");
    let tasks = repo.json(&["task", "list"]);
    let titles: Vec<&str> = tasks
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.contains(&"Tune the database"), "{titles:?}");
    // The dependency still points at the first repository's bd-1.
    let logout = tasks
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["title"] == "Add a logout button")
        .expect("task");
    let login = tasks
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["title"] == "Fix the login page")
        .expect("task");
    assert_eq!(logout["depends_on"], json!([login["id"]]));
    for file in [&one, &two] {
        assert_eq!(repo.json(&["import", file])["added"].as_u64(), Some(0));
    }
}

#[test]
fn entities_imported_before_ids_carried_the_project_are_not_imported_twice() {
    let repo = TestRepo::new();
    let alpha = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/orchestrator_context.json"
    );
    let mut context: Value =
        serde_json::from_str(&std::fs::read_to_string(alpha).expect("read")).expect("json");
    // Without a project's identity, ids come from the source ids alone, as they used to.
    let mut legacy = context.clone();
    let root = legacy.as_object_mut().expect("object");
    root.remove("project_name");
    root.remove("created_date");
    let old = repo.root().join("old.json");
    std::fs::write(&old, legacy.to_string()).expect("write");
    let first = repo.json(&["import", old.to_str().expect("utf8")]);
    assert_eq!(first["added"].as_u64(), Some(10), "{first}");
    // The project's file, with a task added since on the objective imported then.
    context["active_tasks"]
        .as_array_mut()
        .expect("tasks")
        .push(json!({"id": "TASK_026", "description": "Roll out", "objective": "OBJ_001"}));
    let new = repo.root().join("new.json");
    std::fs::write(&new, context.to_string()).expect("write");
    let again = repo.json(&["import", new.to_str().expect("utf8")]);
    assert_eq!(again["added"].as_u64(), Some(1), "{again}");
    let objectives = repo.json(&["objective", "list"]);
    assert_eq!(objectives.as_array().map(Vec::len), Some(1), "{objectives}");
    let tasks = repo.json(&["task", "list"]);
    let roll_out = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["title"] == "Roll out")
        .expect("the new task");
    assert_eq!(roll_out["objective"], objectives[0]["id"], "{roll_out}");
}

#[test]
fn a_tasks_clock_pauses_when_its_session_ends_or_the_focus_moves() {
    let repo = TestRepo::new();
    let minutes = |id: &str| repo.json(&["task", "show", id])["actual_minutes"].as_u64();
    let a = crate::util::short(&repo.task(&["First"]));
    let b = crate::util::short(&repo.task(&["Second"]));
    repo.at(Some("2026-01-05T09:00:00Z"))
        .ok(&["session", "start", "morning"]);
    repo.ok(&["task", "start", &a]);
    // Half an hour on A, then the focus moves to B: A's clock stops.
    repo.at(Some("2026-01-05T09:30:00Z"))
        .ok(&["task", "start", &b]);
    repo.at(Some("2026-01-05T10:30:00Z"));
    assert_eq!(minutes(&a), Some(30));
    assert_eq!(minutes(&b), Some(60));
    // The session ends: B's clock stops too, and stays stopped overnight.
    repo.ok(&["session", "end", "--summary", "stopping"]);
    repo.at(Some("2026-01-06T09:00:00Z"));
    assert_eq!(minutes(&b), Some(60));
    // The next session in this worktree picks B up again.
    repo.ok(&["session", "start", "next morning"]);
    repo.at(Some("2026-01-06T09:15:00Z"));
    assert_eq!(minutes(&b), Some(75));
    // Back to A: its clock runs again from where it stopped.
    repo.ok(&["task", "start", &a]);
    repo.at(Some("2026-01-06T09:45:00Z"));
    assert_eq!(minutes(&a), Some(60));
    assert_eq!(minutes(&b), Some(75));
}

#[test]
fn an_agents_run_is_its_tasks_work_time() {
    let repo = TestRepo::new();
    let task = crate::util::short(&repo.task(&["Migrate the users", "--estimate", "2h"]));
    repo.at(Some("2026-01-05T09:00:00Z"));
    let agent = repo.json(&[
        "agent", "spawn", "--role", "migrator", "-m", "Migrate", "-t", &task,
    ]);
    let agent = agent["id"].as_str().expect("agent id").to_string();
    repo.at(Some("2026-01-05T10:00:00Z"));
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["status"], "in_progress", "{shown}");
    assert_eq!(shown["actual_minutes"], 60);
    // The agent started it, not the orchestrator that sent it: the orchestrator may review it.
    assert_eq!(shown["started_by"], json!([format!("agent:{agent}")]));
    repo.ok(&["agent", "exit", &agent]);
    repo.at(Some("2026-01-05T12:00:00Z"));
    assert_eq!(repo.json(&["task", "show", &task])["actual_minutes"], 60);

    // A task closed without ever being started has no time: refused unless forced.
    let other = crate::util::short(&repo.task(&["Write the notes"]));
    repo.ok(&["task", "note", "-t", &other, "wrote them"]);
    let run = repo.run(&["task", "done", &other, "-m", "written"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("never started"), "{}", run.stderr);
}

#[test]
fn a_new_or_resumed_session_starts_from_the_previous_sessions_context() {
    let repo = TestRepo::new();
    let first = repo.json(&["session", "start", "Build the login"]);
    let first = first["id"].as_str().expect("id").to_string();
    let task = crate::util::short(&repo.task(&["Fix login"]));
    repo.ok(&["task", "start", &task]);
    repo.ok(&["task", "note", "found the bug in the callback"]);
    repo.ok(&["session", "end", "--summary", "bug found, fix next"]);

    // A new session shows where the last one stopped.
    let started = repo.envelope(&["session", "start", "Fix it"]);
    let previous = &started["data"]["working"]["previous"];
    assert_eq!(previous["session"]["id"], first.as_str(), "{started}");
    assert_eq!(previous["session"]["summary"], "bug found, fix next");
    let last: Vec<&str> = previous["last_actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["what"].as_str())
        .collect();
    assert!(
        last.iter()
            .any(|a| a.contains("found the bug in the callback")),
        "{last:?}"
    );
    let text = repo.ok(&["session", "end", "--summary", "fixed"]);
    assert!(text.starts_with("Ended session"), "{text}");
    let text = repo.ok(&["session", "start", "Review it"]);
    assert!(text.contains("Previous session"), "{text}");
    assert!(text.contains("fixed"), "{text}");
    repo.ok(&["session", "end", "--summary", "reviewed"]);

    // Resuming with no open session continues the last one, in a new session linked to it.
    let run = repo.run(&["session", "resume"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("has ended; continuing it in"),
        "{}",
        run.stderr
    );
    let resumed = repo.json(&["session", "show"]);
    assert_eq!(resumed["session"]["title"], "Review it", "{resumed}");
    assert!(resumed["session"]["continues"].is_string(), "{resumed}");
    // Resuming an ended session by id does the same.
    repo.ok(&["session", "end", "--summary", "again"]);
    let run = repo.run(&["session", "resume", &first]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("has ended; continuing it in"),
        "{}",
        run.stderr
    );
    assert_eq!(
        repo.json(&["session", "show"])["session"]["continues"],
        first.as_str()
    );
}

#[test]
fn resuming_another_session_leaves_one_open_session_in_the_worktree() {
    let repo = TestRepo::new();
    let here = repo.json(&["session", "start", "here"]);
    let here = here["id"].as_str().expect("id").to_string();
    // Another worktree's session, resumed here.
    let other = repo.root().join("other");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        other.to_str().expect("utf8"),
    ]);
    let there = repo.json_in(&other, &["session", "start", "there"]);
    let there = there["id"].as_str().expect("id").to_string();
    let run = repo.run(&["session", "resume", &there]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("ended session {}", crate::util::short(&here))),
        "{}",
        run.stderr
    );
    let sessions = repo.json(&["session", "list"]);
    let open: Vec<&str> = sessions
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|s| s.get("ended").is_none())
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(open, [there.as_str()]);
    repo.ok(&["insight", "add", "recorded in the resumed session"]);
    let shown = repo.json(&["session", "show"]);
    assert_eq!(shown["session"]["id"], there.as_str());
}

#[test]
fn an_orchestrator_import_keeps_task_states_objectives_and_finished_agents() {
    let repo = TestRepo::new();
    let file = repo.root().join("context.json");
    std::fs::write(
        &file,
        json!({
            "project_name": "gamma",
            "objectives": [{"id": "OBJ_001", "description": "Launch the beta"}],
            "active_tasks": [
                {"id": "TASK_002", "description": "Wait for legal", "status": "blocked", "blocked_reason": "contract unsigned"},
                {"id": "TASK_003", "description": "Write the landing page", "status": "in_progress"}
            ],
            "pending_decisions": ["Invite-only or open beta?"],
            "spawned_agents": [{"id": "AGENT_0001", "type": "writer", "mission": "Draft the copy", "spawned": "2024-01-02T10:00:00"}]
        })
        .to_string(),
    )
    .expect("write");
    repo.json(&["import", file.to_str().expect("utf8")]);
    let objective = repo.json(&["objective", "list"])[0]["id"].clone();
    let tasks = repo.json(&["task", "list"]);
    let by_title = |title: &str| {
        tasks
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["title"] == title)
            .cloned()
            .unwrap_or_else(|| panic!("no task {title}: {tasks}"))
    };
    let legal = by_title("Wait for legal");
    assert_eq!(legal["status"], "blocked", "{legal}");
    assert_eq!(legal["block_reason"], "contract unsigned");
    assert_eq!(
        legal["objective"], objective,
        "the file's only objective is the task's"
    );
    assert_eq!(by_title("Write the landing page")["status"], "in_progress");
    let decisions = repo.json(&["decision", "list"]);
    assert_eq!(decisions[0]["question"], "Invite-only or open beta?");
    let agents = repo.json(&["agent", "list"]);
    assert_eq!(agents[0]["mission"], "Draft the copy");
    assert_eq!(agents[0]["outcome"], "succeeded", "{agents}");
}

#[test]
fn an_objective_with_open_tasks_is_not_done_unless_forced() {
    let repo = TestRepo::new();
    let objective = repo.json(&["objective", "add", "Ship it"]);
    let objective = crate::util::short(objective["id"].as_str().expect("id"));
    repo.task(&["Open work", "--objective", &objective]);
    let run = repo.run(&["objective", "done", &objective, "--summary", "shipped"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.lines().next(),
        Some(format!("error: {objective} has 1 task(s) not done").as_str()),
        "{}",
        run.stderr
    );
    let done = repo.json(&["objective", "done", &objective, "-m", "shipped", "--force"]);
    assert_eq!(done["status"], "done");
    assert_eq!(done["outcome"], "shipped");
}

#[test]
fn a_task_past_its_estimate_prompts_for_a_new_one_and_task_edit_records_it() {
    let repo = TestRepo::new();
    let task = crate::util::short(&repo.task(&["Write the parser", "--estimate", "1h"]));
    repo.at(Some("2026-01-05T09:00:00Z"))
        .ok(&["session", "start", "parser"]);
    repo.ok(&["task", "start", &task]);
    repo.at(Some("2026-01-05T10:30:00Z"));
    let envelope = repo.envelope(&["status"]);
    let reminder = &envelope["instructions"]["context_reminder"];
    assert_eq!(reminder["active_task"], task.as_str(), "{reminder}");
    assert_eq!(reminder["time_elapsed"], "1h30m");
    assert_eq!(reminder["estimate"], "1h");
    assert_eq!(reminder["over_estimate"], true);
    assert!(
        reminder["text"]
            .as_str()
            .is_some_and(|t| t.contains("past its 1h estimate")),
        "{reminder}"
    );
    let commands = &envelope["instructions"]["suggested_commands"];
    assert!(
        commands
            .as_array()
            .expect("commands")
            .contains(&json!(format!(
                "git ledger task edit {task} --estimate <new estimate>"
            ))),
        "{commands}"
    );

    let edited = repo.json(&[
        "task",
        "edit",
        &task,
        "--estimate",
        "3h",
        "--title",
        "Write the streaming parser",
        "--priority",
        "1",
        "--description",
        "Streaming, not batch",
    ]);
    assert_eq!(edited["estimate_minutes"], 180);
    assert_eq!(edited["title"], "Write the streaming parser");
    assert_eq!(edited["priority"], 1);
    assert_eq!(edited["description"], "Streaming, not batch");
    let blame = repo.ok(&["blame", &task, "estimate_minutes"]);
    assert!(blame.contains("task.updated"), "{blame}");
    let envelope = repo.envelope(&["status"]);
    assert_eq!(
        envelope["instructions"]["context_reminder"]["over_estimate"],
        false
    );
    let nothing = repo.fail(&["task", "edit", &task]);
    assert!(nothing.starts_with("error: nothing to change"), "{nothing}");
}

#[test]
fn json_usage_errors_keep_clap_details_and_no_hint_is_null() {
    let repo = TestRepo::new();
    let error = |args: &[&str]| -> Value {
        let run = repo.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stdout);
        let value: Value = serde_json::from_str(&run.stdout).expect("json");
        value["error"].clone()
    };
    let missing = error(&["task", "add", "--json"]);
    assert_eq!(
        missing["message"],
        "the following required arguments were not provided: <TITLE>"
    );
    assert_eq!(
        missing["hint"],
        "usage: git ledger task add --json <TITLE> (see --help)"
    );
    let typo = error(&["taks", "--json"]);
    assert_eq!(typo["message"], "unrecognized subcommand 'taks'");
    assert_eq!(
        typo["hint"],
        "some similar subcommands exist: 'status', 'task'"
    );
    // An error without a hint has none, rather than a null one.
    let run = repo.run(&[
        "memory",
        "compact",
        "--before",
        "2026-02-01",
        "--summary-file",
        "/nonexistent",
        "--json",
    ]);
    assert_eq!(run.code, Some(1));
    let value: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(value["error"]["code"], "io", "{value}");
    assert!(value["error"].get("hint").is_none(), "{value}");
}

#[test]
fn small_wording_a_task_not_started_and_an_insight_id() {
    let repo = TestRepo::new();
    let task = crate::util::short(&repo.task(&["Write it", "--estimate", "1h"]));
    let shown = repo.ok(&["task", "show", &task]);
    assert!(shown.contains("not started, estimate 1h\n"), "{shown}");
    let err = repo.fail(&["insight", "promote", "t-123456"]);
    assert!(err.contains("is not an insight id"), "{err}");
}

#[test]
fn replay_until_a_time_includes_every_event_at_that_time() {
    let repo = TestRepo::new();
    repo.at(Some("2026-01-05T09:00:00Z"));
    repo.task(&["First"]);
    repo.task(&["Second"]);
    repo.task(&["Third"]);
    repo.at(Some("2026-01-05T10:00:00Z")).task(&["Later"]);
    let run = repo.run(&["replay", "--until", "2026-01-05T09:00:00Z", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let kinds: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "task.created")
        .filter_map(|e| e["body"]["title"].as_str().map(str::to_string))
        .collect();
    assert_eq!(kinds, ["First", "Second", "Third"]);
}

#[test]
fn a_lease_can_be_given_in_seconds_down_to_a_minute() {
    let repo = TestRepo::new();
    let task = crate::util::short(&repo.task(&["Quick job"]));
    repo.at(Some("2026-01-05T09:00:00Z"));
    let claimed = repo.json(&["task", "claim", &task, "--lease", "90s"]);
    assert_eq!(
        claimed["claims"]["current"]["expires"],
        "2026-01-05T09:01:30Z"
    );
    let err = repo.fail(&["task", "renew", &task, "--lease", "30s"]);
    assert!(
        err.starts_with("error: lease '30s' is not a duration from a minute"),
        "{err}"
    );
}

#[test]
fn blame_names_who_took_a_tasks_claim() {
    let repo = TestRepo::new();
    let task = crate::util::short(&repo.task(&["Claimed work"]));
    let run = repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_AGENT", "worker")],
        &["task", "claim", &task],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let blame = repo.json(&["blame", &task]);
    let claims = blame
        .as_array()
        .or_else(|| blame["fields"].as_array())
        .and_then(|fields| fields.iter().find(|b| b["field"] == "claims"))
        .cloned()
        .unwrap_or_else(|| panic!("no claims field: {blame}"));
    assert_eq!(claims["actor"], "agent:worker");
    assert_eq!(claims["kind"], "task.claimed");
}

#[test]
fn the_ledger_task_trailer_names_a_task_the_same_way_on_and_off_its_branch() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let task = crate::util::short(&repo.task(&["Fix login"]));
    // In focus on main: the trailer names the task as its branch would.
    repo.ok(&["task", "start", &task]);
    std::fs::write(repo.path.join("a.txt"), "a\n").expect("write");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "on main"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert_eq!(message.trim(), format!("on main\n\nLedger-Task: {task}"));
}

#[test]
fn read_only_commands_work_in_a_bare_repository() {
    let repo = TestRepo::new();
    repo.task(&["Served work"]);
    let remote = server(&repo);
    let status = repo.json_in(&remote, &["status"]);
    assert_eq!(status["counts"]["tasks_open"], 1, "{status}");
    let exported = repo.ok_in(&remote, &["export"]);
    assert!(exported.contains("Served work"), "{exported}");
    let audit = repo.run_with(&remote, &[], &["audit"]);
    assert_eq!(audit.code, Some(0), "{}", audit.stdout);
    // Writing is for clones: refused with the reason.
    let run = repo.run_with(&remote, &[], &["task", "add", "Not here"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with("error: the repository has no work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn git_ledger_help_has_a_manual_page_to_open() {
    let repo = TestRepo::new();
    let page = repo.ok(&["man"]);
    assert!(page.contains(".TH git-ledger 1"), "{page}");
    assert!(page.contains("session"), "the subcommands are listed");
    let dir = repo.root().join("man");
    let run = repo.run(&["man", "--install", "--dir", dir.to_str().expect("utf8")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let installed = std::fs::read_to_string(dir.join("man1/git-ledger.1")).expect("installed");
    assert_eq!(installed, page);
    // Where man is installed, `git ledger --help` (git's `man git-ledger`) opens it.
    if repo
        .command("man", &repo.path)
        .arg("-w")
        .arg("git")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let path = path_with_bin();
        let (ok, out) = repo.try_git_with(
            &[
                ("PATH", path.as_str()),
                ("MANPATH", dir.to_str().expect("utf8")),
                ("MANPAGER", "cat"),
                ("PAGER", "cat"),
            ],
            &["ledger", "--help"],
        );
        assert!(ok, "{out}");
    }
}

#[tokio::test]
async fn mcp_task_add_keeps_the_validation_rules_task_add_takes() {
    use rmcp::model::CallToolRequestParams;
    let repo = TestRepo::new();
    let client = crate::util::mcp_client(&repo).await;
    let args = json!({
        "title": "Keep the README",
        "priority": "p1",
        "check_commands": ["test -f README"],
        "check_items": ["docs reviewed"],
    });
    let Value::Object(args) = args else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("task_add").with_arguments(args))
        .await
        .expect("task_add");
    let envelope = result.structured_content.expect("structured content");
    assert_eq!(result.is_error, Some(false), "{envelope}");
    let id = envelope["data"]["id"].as_str().expect("id").to_string();
    client.cancel().await.expect("close");

    let task = repo.json(&["task", "show", &id]);
    assert_eq!(task["priority"], 1);
    assert_eq!(
        task["validation"],
        json!([{"command": "test -f README"}, {"item": "docs reviewed"}])
    );
}

#[tokio::test]
async fn mcp_reads_answer_from_the_refs_when_the_cache_is_damaged() {
    use rmcp::model::CallToolRequestParams;
    let repo = TestRepo::new();
    let needle = repo.task(&["needle in the cache"]);
    let other = repo.task(&["another"]);
    // An index written by a full fold holds both tasks.
    repo.remove_index();
    repo.ok(&["status"]);
    let cache = repo.index_file();
    let mut bytes = std::fs::read(&cache).expect("a cache");
    let at = bytes
        .windows(b"needle in the cache".len())
        .rposition(|w| w == b"needle in the cache")
        .expect("the task is in the cache");
    bytes[at] ^= 0x20;
    std::fs::write(&cache, bytes).expect("damage the cache");

    let client = crate::util::mcp_client(&repo).await;
    let result = client
        .call_tool(CallToolRequestParams::new("ready"))
        .await
        .expect("ready");
    let envelope = result.structured_content.expect("structured content");
    client.cancel().await.expect("close");
    let ids: Vec<&str> = envelope["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{envelope}"))
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, [needle.as_str(), other.as_str()], "{envelope}");
    assert_eq!(
        envelope["data"][0]["title"], "needle in the cache",
        "{envelope}"
    );
}

#[test]
fn a_registered_signing_key_is_not_counted_as_an_unreadable_event() {
    let repo = TestRepo::new();
    let key = crate::signing::keygen(&repo, "writer");
    crate::signing::sign_with(&repo, &repo.path, &key);
    repo.ok(&["init"]);
    repo.task(&["Signed work"]);
    assert_eq!(repo.json(&["status"])["counts"]["unknown_events"], 0);
    let status = repo.ok(&["status"]);
    assert!(!status.contains("cannot read"), "{status}");
    let audit = repo.json(&["audit"]);
    assert_eq!(
        audit["notices"]["unknown_kinds"],
        serde_json::json!({}),
        "{audit}"
    );
}

#[tokio::test]
async fn mcp_objective_add_takes_a_budget_with_decimals() {
    use rmcp::model::CallToolRequestParams;
    let repo = TestRepo::new();
    let client = crate::util::mcp_client(&repo).await;
    let Value::Object(args) = json!({ "title": "Ship it", "budget": 12.5 }) else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("objective_add").with_arguments(args))
        .await
        .expect("objective_add");
    let envelope = result.structured_content.expect("structured content");
    assert_eq!(result.is_error, Some(false), "{envelope}");
    client.cancel().await.expect("close");
    let objectives = repo.json(&["objective", "list"]);
    assert_eq!(objectives[0]["budget_micros"], 12_500_000, "{objectives}");
}

#[test]
fn a_busy_index_is_left_to_its_writer_not_removed() {
    let repo = TestRepo::new();
    repo.task(&["first"]);
    repo.ok(&["status"]);
    let index = repo.index_file();
    let before = std::fs::read(&index).expect("an index");
    for n in 0..40 {
        repo.task(&[&format!("more {n}")]);
    }
    let expected = repo.json(&["task", "list"]);
    // The index as it was before the appends: the next read is 40 events behind and
    // writes them, but another process holds the database's write lock meanwhile.
    repo.remove_index();
    std::fs::write(&index, &before).expect("the older index");
    let holder = rusqlite::Connection::open(&index).expect("open");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("hold the write lock");
    let run = repo.run(&["task", "list", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(listed["data"], expected);
    assert!(
        index.exists(),
        "the index another process is writing was removed"
    );
    holder.execute_batch("ROLLBACK").expect("release");
    drop(holder);
    assert_eq!(repo.json(&["task", "list"]), expected);
}

#[test]
fn ids_added_in_an_earlier_batch_of_an_index_build_count_for_the_abbreviation() {
    // Enough entities that six-character ids collide and the abbreviation grows; the first
    // version of the batched build checked only the last batch's ids, so every earlier id
    // was shown one character too short.
    let repo = TestRepo::generated(20_000, 42, 1000);
    let built = |batch: &str| repo.ok_built_in_batches(batch, &["memory", "long"]);
    let one_fold = built("1000000");
    assert!(one_fold.contains("Decisions"), "{one_fold}");
    assert_eq!(built("2500"), one_fold);
}

#[test]
fn a_note_left_while_two_commands_replace_the_notes_file_is_kept() {
    // A command that opened the notes file just before another one renamed its replacement
    // over it went on, once it had the old file's lock, to rename its own replacement over
    // the new file, and the notes hooks had appended to the new one in between were lost: a
    // commit never recorded.
    use git_ledger::ledger::commits::{CommitNote, leave_note};
    let repo = TestRepo::new();
    repo.task(&["Work"]);
    let main = repo.git(&["rev-parse", "main"]).trim().to_string();
    let common = repo.path.join(".git");
    let note = |n: usize, branch: &str| CommitNote {
        task: format!("t-{n}"),
        branch: Some(branch.to_string()),
        git_dir: common.clone(),
        parent: Some(main.clone()),
        session: None,
        noted_at: git_ledger::ledger::commits::unix_now(),
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut left = 0;
    std::thread::scope(|s| {
        let commands: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..30 {
                        repo.ok(&["status"]);
                    }
                })
            })
            .collect();
        // Notes for commits still being made on `main` (kept), each followed by one whose
        // branch is gone (dropped), so that every command replaces the file.
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            leave_note(&common, &note(left, "main")).expect("a note");
            leave_note(&common, &note(left, "gone")).expect("a note");
            left += 1;
            std::thread::sleep(Duration::from_micros(100));
            if commands.iter().all(|c| c.is_finished()) {
                done.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    repo.ok(&["status"]);
    let notes = std::fs::read_to_string(common.join("ledger/noted-commits")).expect("notes");
    let kept: HashSet<String> = notes
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a note")["task"].to_string())
        .collect();
    let lost: Vec<usize> = (0..left)
        .filter(|n| !kept.contains(&format!("\"t-{n}\"")))
        .collect();
    assert_eq!(lost, Vec::<usize>::new(), "of {left} notes");
}
