//! Sync between clones through a shared bare remote: convergence whatever the order,
//! concurrent edits made visible, and refusal of rewritten history.

use crate::util::{TestRepo, event_ids};
use serde_json::Value;
use std::path::PathBuf;

const A: &str = "aaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbb";
const C: &str = "cccccccccccc";

/// A bare remote made from a repository with one commit; the first value keeps it alive.
pub fn remote() -> (TestRepo, PathBuf) {
    let seed = TestRepo::bare_git();
    seed.git_in(
        seed.root(),
        &["clone", "--bare", "-q", "repo", "remote.git"],
    );
    let path = seed.root().join("remote.git");
    (seed, path)
}

fn writer_ref(writer: &str) -> String {
    format!("refs/ledger/v1/writers/{writer}")
}

/// Every ref under refs/ledger*, as `git for-each-ref` prints them.
fn ledger_refs(repo: &TestRepo) -> String {
    repo.git(&["for-each-ref", "refs/ledger", "refs/ledger-incoming"])
}

/// `status --json` without what depends on the worktree (session, focus).
fn shared_status(repo: &TestRepo) -> Value {
    let mut status = repo.json(&["status"]);
    let map = status.as_object_mut().expect("an object");
    map.remove("session");
    map.remove("focus");
    status
}

/// Run `sync` and expect it to fail: (stderr, the --json error).
fn refused(repo: &TestRepo) -> (String, Value) {
    let stderr = repo.fail(&["sync"]);
    let run = repo.run(&["sync", "--json"]);
    assert_eq!(run.code, Some(1));
    let reply: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reply["ok"], false);
    (stderr, reply["error"].clone())
}

#[test]
fn three_clones_converge_whatever_the_order_of_syncs() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    let objective = a.json(&["objective", "add", "Ship the exporter"])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let shared = a.task(&["Write the encoder", "--objective", &objective, "-p", "1"]);
    let other = a.task(&["Write the docs"]);
    a.ok(&["sync"]);
    let b = TestRepo::clone_of(&remote, B);
    let c = TestRepo::clone_of(&remote, C);
    b.ok(&["sync"]);
    c.ok(&["sync"]);
    let common = a.event_count();
    assert_eq!(b.event_count(), common);
    assert_eq!(c.event_count(), common);

    // Offline work. A completes the shared task; B, not knowing, blocks it later.
    a.at(Some("2026-01-05T10:00:00Z"));
    a.ok(&["task", "start", &shared]);
    a.ok(&["task", "note", "encoder written", "--task", &shared]);
    a.ok(&["task", "done", &shared, "-m", "encoder done"]);
    a.ok(&[
        "insight",
        "add",
        "RFC 4180 quoting is enough",
        "--tag",
        "csv",
    ]);
    b.at(Some("2026-01-05T10:05:00Z"));
    b.ok(&[
        "task",
        "block",
        &shared,
        "--reason",
        "waiting for the schema",
    ]);
    b.task(&["Review the encoder"]);
    c.at(Some("2026-01-05T10:10:00Z"));
    c.ok(&["task", "start", &other]);
    c.ok(&["task", "note", "outline drafted", "--task", &other]);
    c.ok(&[
        "decision",
        "request",
        "Which delimiter?",
        "--option",
        "comma",
        "--option",
        "tab",
    ]);
    let written = [&a, &b, &c]
        .iter()
        .map(|r| r.event_count() - common)
        .sum::<usize>();

    // C syncs from a linked worktree: same clone, same writer ref.
    let c_worktree = c.root().join("linked");
    c.git(&[
        "worktree",
        "add",
        "-q",
        c_worktree.to_str().expect("utf-8 path"),
    ]);
    let rounds = [
        (&a, A, a.path.clone()),
        (&b, B, b.path.clone()),
        (&c, C, c_worktree),
        (&a, A, a.path.clone()),
        (&b, B, b.path.clone()),
    ];
    for (clone, writer, dir) in rounds {
        let own_before = clone.git(&["rev-parse", &writer_ref(writer)]);
        clone.ok_in(&dir, &["sync"]);
        // Sync never moves a clone's own ref, and leaves no temporary refs behind.
        assert_eq!(clone.git(&["rev-parse", &writer_ref(writer)]), own_before);
        assert_eq!(clone.git(&["for-each-ref", "refs/ledger-incoming"]), "");
    }

    // Same events, same order, same state everywhere; nothing lost.
    let reference = event_ids(&a);
    assert_eq!(reference.len(), common + written);
    assert_eq!(event_ids(&b), reference);
    assert_eq!(event_ids(&c), reference);
    let status = shared_status(&a);
    assert_eq!(shared_status(&b), status);
    assert_eq!(shared_status(&c), status);
    assert_eq!(status["counts"]["tasks_blocked"], 1);
    assert_eq!(status["counts"]["tasks_in_progress"], 1);
    assert_eq!(status["counts"]["decisions_open"], 1);
    assert_eq!(status["counts"]["insights"], 1);

    // The later change won (blocked), and the one it overrode unseen is shown as a conflict.
    assert_eq!(status["blocked"][0], shared.as_str());
    assert_eq!(status["counts"]["conflicts"], 1);
    let conflict = &status["conflicts"][0];
    assert_eq!(conflict["task"], shared.as_str());
    assert_eq!(conflict["kind"], "task.blocked");
    assert_eq!(conflict["overrode_kind"], "task.completed");
    for clone in [&a, &b, &c] {
        let text = clone.ok(&["status"]);
        assert!(text.contains("\nConflicts\n"), "{text}");
        assert!(
            text.contains("task.blocked by human:Ann (2026-01-05 10:05) overrode task.completed by human:Ann, which it had not seen"),
            "{text}"
        );
        let audit = clone.run(&["audit"]);
        assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
        assert!(
            audit.stdout.contains("Concurrent edits"),
            "{}",
            audit.stdout
        );
    }

    // A sync with nothing new changes nothing.
    let out = b.ok(&["sync"]);
    assert!(out.contains("nothing new from the remote"), "{out}");
    assert!(out.contains("nothing to push"), "{out}");
}

#[test]
fn a_status_change_that_saw_the_previous_one_is_no_conflict() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    let task = a.task(&["Sequential work"]);
    a.ok(&["task", "block", &task, "--reason", "needs review"]);
    a.ok(&["sync"]);
    let b = TestRepo::clone_of(&remote, B);
    b.ok(&["sync"]);
    // B saw the block before reopening: a later change, but not a concurrent one.
    b.at(Some("2026-01-05T11:00:00Z"));
    b.ok(&["task", "reopen", &task, "--reason", "reviewed"]);
    b.ok(&["sync"]);
    a.ok(&["sync"]);
    for clone in [&a, &b] {
        let status = clone.json(&["status"]);
        assert_eq!(status["counts"]["conflicts"], 0);
        assert_eq!(status["ready"][0], task.as_str());
    }
    // Status changes carry the status event their writer saw last.
    let log = b.json(&["log", "-n", "2"]);
    assert_eq!(log[0]["kind"], "task.reopened");
    assert_eq!(log[0]["body"]["after"], log[1]["id"]);
}

#[test]
fn a_rewritten_remote_ref_is_refused_and_nothing_moves() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    a.task(&["first"]);
    a.task(&["second"]);
    a.ok(&["sync"]);
    let b = TestRepo::clone_of(&remote, B);
    b.ok(&["sync"]);
    b.task(&["B's own work"]);

    // Someone rewrites A's history on the remote: drops "second", adds another commit.
    let first = a.git(&["rev-parse", &format!("{}~1", writer_ref(A))]);
    let forged = a.git(&[
        "commit-tree",
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "-p",
        first.trim(),
        "-m",
        "forged\n\nnot an event",
    ]);
    let remote_path = remote.to_str().expect("utf-8 path");
    a.git(&[
        "push",
        "-q",
        "--force",
        remote_path,
        &format!("{}:{}", forged.trim(), writer_ref(A)),
    ]);

    let before = ledger_refs(&b);
    let events = event_ids(&b);
    let (stderr, error) = refused(&b);
    assert_eq!(
        stderr.lines().next(),
        Some(
            "error: the remote's copy of refs/ledger/v1/writers/aaaaaaaaaaaa does not continue ours: its history was rewritten (force-pushed?); nothing was changed"
        ),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .nth(1)
            .is_some_and(|h| h.starts_with("hint: ") && h.contains("git ledger audit")),
        "{stderr}"
    );
    assert_eq!(error["code"], "rewritten_remote_ref");
    // Local refs untouched, no temporary refs left, B's work not pushed, same events.
    assert_eq!(ledger_refs(&b), before);
    assert_eq!(event_ids(&b), events);
    let pushed = b.git(&["ls-remote", remote_path, &writer_ref(B)]);
    assert_eq!(pushed, "");
    let audit = b.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);

    // A itself is refused too: the remote's copy of its own ref is not an ancestor of it.
    let before = ledger_refs(&a);
    let (stderr, error) = refused(&a);
    assert_eq!(
        stderr.lines().next(),
        Some(
            "error: the remote's copy of this clone's ledger ref (refs/ledger/v1/writers/aaaaaaaaaaaa) is not an ancestor of ours; nothing was changed"
        ),
        "{stderr}"
    );
    assert_eq!(error["code"], "own_ref_not_ancestor");
    assert_eq!(ledger_refs(&a), before);
}

#[test]
fn another_writer_with_our_id_is_refused() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    a.task(&["mine"]);
    a.ok(&["sync"]);
    // A copy of A's .git directory would write with A's id: its ref runs ahead of ours.
    let copy = TestRepo::clone_of(&remote, A);
    let remote_path = remote.to_str().expect("utf-8 path");
    copy.git(&[
        "fetch",
        "-q",
        remote_path,
        &format!("{0}:{0}", writer_ref(A)),
    ]);
    copy.task(&["written by the copy"]);
    copy.ok(&["sync"]);
    let before = ledger_refs(&a);
    let (_, error) = refused(&a);
    assert_eq!(error["code"], "own_ref_not_ancestor");
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|h| h.contains("git config --unset ledger.writer")),
        "{error}"
    );
    assert_eq!(
        ledger_refs(&a),
        before,
        "our own ref is never taken from the remote"
    );
}

#[test]
fn a_refused_push_is_reported() {
    let (_seed, remote) = remote();
    let hook = remote.join("hooks").join("pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'no ledger today' >&2\nexit 1\n").expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let a = TestRepo::clone_of(&remote, A);
    a.task(&["will not land"]);
    let before = ledger_refs(&a);
    let (stderr, error) = refused(&a);
    assert_eq!(error["code"], "push_rejected");
    assert!(
        stderr.starts_with(&format!(
            "error: origin refused the push of {}: [remote rejected] (pre-receive hook declined); remote: no ledger today\n",
            writer_ref(A)
        )),
        "{stderr}"
    );
    assert_eq!(ledger_refs(&a), before);
    // --no-push takes in what there is and pushes nothing.
    let out = a.ok(&["sync", "--no-push"]);
    assert!(out.contains("nothing pushed (--no-push)"), "{out}");
}

#[test]
fn remotes_without_a_ledger_and_bad_remotes() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    // No ledger anywhere yet: nothing to do, and that is fine.
    let out = a.ok(&["sync"]);
    assert_eq!(
        out,
        "Synced with origin: 0 writer ref(s) there\n  nothing new from the remote\n  nothing to push\n  events    0 received, 0 in the ledger\n"
    );
    a.task(&["first"]);
    let data = a.json(&["sync"]);
    assert_eq!(data["fetched"], 0);
    assert_eq!(data["pushed"][0]["reference"], writer_ref(A).as_str());
    assert!(data["pushed"][0].get("old").is_none());
    let remote_path = remote.to_str().expect("utf-8 path");
    let tip = a.git(&["rev-parse", &writer_ref(A)]);
    assert_eq!(
        a.git(&["ls-remote", remote_path, &writer_ref(A)]),
        format!("{}\t{}\n", tip.trim(), writer_ref(A))
    );

    // A remote that does not exist: one line saying so.
    let stderr = a.fail(&["sync", "nowhere"]);
    assert!(
        stderr.starts_with("error: git fetch nowhere failed: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    // Options and transports smuggled in as a remote run nothing.
    let pwned = a.root().join("pwned");
    let upload_pack = format!("--upload-pack=touch {}", pwned.display());
    let stderr = a.fail(&["sync", "--", &upload_pack]);
    assert!(stderr.starts_with("error: '--upload-pack="), "{stderr}");
    let ext = format!("ext::sh -c touch% {}", pwned.display());
    let run = a.run(&["sync", &ext, "--json"]);
    assert_eq!(run.code, Some(1));
    let reply: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reply["error"]["code"], "git_failed");
    assert!(!pwned.exists());
    assert_eq!(a.git(&["for-each-ref", "refs/ledger-incoming"]), "");

    // A sync killed half-way leaves its incoming namespace; the next sync removes it once it
    // is an hour old (the name holds its start time), and leaves alone a recent one whose
    // process still runs (here: this test's own process).
    let tip = tip.trim();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let recent = format!(
        "refs/ledger-incoming/{}-{now:x}/aaaaaaaaaaaa",
        std::process::id()
    );
    a.git(&[
        "update-ref",
        "refs/ledger-incoming/4242-1/aaaaaaaaaaaa",
        tip,
    ]);
    a.git(&["update-ref", &recent, tip]);
    a.ok(&["sync"]);
    assert_eq!(
        a.git(&[
            "for-each-ref",
            "--format=%(refname)",
            "refs/ledger-incoming"
        ]),
        format!("{recent}\n")
    );

    // A clone without `init` is told to run it.
    let plain = TestRepo::bare_git();
    let stderr = plain.fail(&["sync"]);
    assert!(stderr.contains("git ledger init"), "{stderr}");
}

#[test]
fn plain_git_carries_the_ledger_too() {
    let (_seed, remote) = remote();
    let a = TestRepo::clone_of(&remote, A);
    let task = a.task(&["carried by plain git"]);
    a.git(&["push", "-q", "origin", "refs/ledger/*:refs/ledger/*"]);
    // `git clone` fetches branches and tags only; the documented refspec brings the ledger.
    let b = TestRepo::clone_of(&remote, B);
    assert_eq!(b.event_count(), 0);
    b.git(&["fetch", "-q", "origin", "refs/ledger/*:refs/ledger/*"]);
    assert_eq!(b.event_count(), 1);
    assert_eq!(
        b.json(&["task", "show", &task])["title"],
        "carried by plain git"
    );
    // And sync works on top of it.
    b.ok(&["task", "note", "seen in B", "--task", &task]);
    b.ok(&["sync"]);
    a.ok(&["sync"]);
    assert_eq!(a.event_count(), 2);
}
