//! Signed writers: ledger commits signed with git's SSH signing, verified by a server that
//! requires it, and by audit.

use crate::util::{TestRepo, WRITER, hand_commit, with_id};
use serde_json::json;
use std::path::{Path, PathBuf};

pub(crate) fn keygen(repo: &TestRepo, name: &str) -> PathBuf {
    let key = repo.root().join(name);
    let status = repo
        .command("ssh-keygen", repo.root())
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen is needed for signing tests (apt-get install openssh-client)");
    assert!(status.success());
    key
}

pub(crate) fn sign_with(repo: &TestRepo, dir: &Path, key: &Path) {
    repo.git_in(dir, &["config", "gpg.format", "ssh"]);
    repo.git_in(
        dir,
        &["config", "user.signingkey", key.to_str().expect("utf8")],
    );
}

/// A commit of the empty tree on `parent` with `message`, signed with `key` (made by hand, as
/// an intruder would).
fn signed_commit(repo: &TestRepo, key: &Path, message: &str, parent: &str) -> String {
    let file = repo.root().join("message.txt");
    std::fs::write(&file, message).expect("write");
    let signing = format!("user.signingkey={}", key.display());
    let empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let file = file.to_str().expect("utf8");
    let args = [
        "-c",
        "gpg.format=ssh",
        "-c",
        &signing,
        "commit-tree",
        "-S",
        empty_tree,
    ];
    let args = [&args[..], &["-p", parent, "-F", file]].concat();
    repo.git(&args).trim().to_string()
}

#[test]
fn a_server_requiring_signatures_refuses_commits_not_signed_by_the_writers_key() {
    let repo = TestRepo::new();
    let writer_key = keygen(&repo, "writer");
    let intruder_key = keygen(&repo, "intruder");
    sign_with(&repo, &repo.path, &writer_key);
    let init = repo.ok(&["init"]);
    assert!(
        init.contains("signed with the SSH key this writer registered"),
        "{init}"
    );
    let task = repo.task(&["Signed work"]);
    let remote = repo.root().join("remote.git");
    repo.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        remote.to_str().expect("utf8"),
    ]);
    repo.ok_in(&remote, &["hooks", "install", "--server"]);
    repo.git_in(&remote, &["config", "ledger.requireSigned", "true"]);
    repo.git(&["remote", "add", "origin", remote.to_str().expect("utf8")]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.ok(&["sync"]);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}", audit.stdout);

    // The intruder signs an event of its own making onto the writer's ref: refused.
    let tip = repo.tip().expect("tip");
    let forged = with_id(json!({
        "v": 1, "kind": "task.noted", "time": "2026-01-05T09:00:00.000Z", "hlc": 1_790_000_000_000u64,
        "writer": WRITER, "actor": "human:Mallory", "subject": task, "body": {"text": "forged"}
    }));
    let commit = signed_commit(&repo, &intruder_key, &format!("forged\n\n{forged}\n"), &tip);
    let target = format!("refs/ledger/v1/writers/{WRITER}");
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{commit}:{target}")]);
    assert!(!ok, "the intruder's commit was accepted");
    assert!(
        stderr.contains("not signed by the key its writer registered"),
        "{stderr}"
    );
    // Unsigned: refused too.
    let unsigned = hand_commit(&repo, &format!("forged\n\n{forged}\n"), Some(&tip));
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{unsigned}:{target}")]);
    assert!(!ok, "an unsigned commit was accepted");
    assert!(stderr.contains("is not signed"), "{stderr}");
    // Written into the local ref by hand, audit says so.
    repo.git(&["update-ref", &target, &unsigned]);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(1), "{}", audit.stdout);
    assert!(
        audit
            .stdout
            .contains(&format!("commit {} is not signed", &unsigned[..10])),
        "{}",
        audit.stdout
    );
    repo.git(&["update-ref", &target, &tip]);

    // Another clone signing with its own key writes its own ref; one that signs nothing
    // cannot push to this server at all.
    let other = TestRepo::clone_of(&remote, "0123456789ab");
    sign_with(&other, &other.path, &intruder_key);
    other.ok(&["init"]);
    other.ok(&["task", "add", "Other work"]);
    other.ok(&["sync"]);
    let plain = TestRepo::clone_of(&remote, "ba9876543210");
    let init = plain.ok(&["init"]);
    assert!(
        init.contains("Ledger commits are not signed; to sign them"),
        "{init}"
    );
    plain.ok(&["task", "add", "Unsigned work"]);
    let run = plain.run(&["sync"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("registered no signing key"),
        "{}",
        run.stderr
    );
}

#[test]
fn only_a_listed_reviewers_signed_approval_opens_the_gate() {
    let repo = TestRepo::new();
    let writer_key = keygen(&repo, "writer");
    let intruder_key = keygen(&repo, "intruder");
    let reviewer_key = keygen(&repo, "reviewer");
    let public = std::fs::read_to_string(reviewer_key.with_extension("pub")).expect("pub key");
    let signers = repo.root().join("allowed_signers");
    std::fs::write(
        &signers,
        format!("reviewer@example.com namespaces=\"git\" {public}"),
    )
    .expect("write");
    let signers = signers.to_str().expect("utf8");
    sign_with(&repo, &repo.path, &writer_key);
    repo.ok(&["init"]);
    repo.git(&["config", "ledger.gate.allowedSignersFile", signers]);
    let remote = repo.root().join("remote.git");
    let remote_path = remote.to_str().expect("utf8");
    repo.git(&["init", "-q", "--bare", "-b", "main", remote_path]);
    repo.ok_in(&remote, &["hooks", "install", "--server"]);
    repo.git_in(&remote, &["config", "ledger.requireSigned", "true"]);
    repo.git_in(
        &remote,
        &["config", "ledger.gate.allowedSignersFile", signers],
    );
    repo.git(&["remote", "add", "origin", remote_path]);
    repo.git(&["push", "-q", "origin", "main"]);

    let task = crate::util::short(&repo.task(&["Signed work"]));
    repo.ok(&["task", "start", &task, "--branch"]);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    std::fs::write(repo.path.join("work.rs"), "done\n").expect("write");
    repo.git(&["add", "work.rs"]);
    repo.git(&["commit", "-q", "-m", "the work"]);
    repo.git(&["switch", "-q", "main"]);
    // The writer approves its own work, signed with its own (registered, unlisted) key.
    repo.ok(&["review", "approve", &task]);
    repo.ok(&["sync"]);
    repo.git(&["push", "-q", "origin", &branch]);

    // The intruder writes into the writer's ref: refused.
    let tip = repo.tip().expect("tip");
    let forged = with_id(json!({
        "v": 1, "kind": "review.approved", "time": "2026-01-05T09:00:00.000Z", "hlc": 1_790_000_000_000u64,
        "writer": WRITER, "actor": "agent:reviewer", "subject": task, "body": {}
    }));
    let forged = signed_commit(&repo, &intruder_key, &format!("forged\n\n{forged}\n"), &tip);
    let target = format!("refs/ledger/v1/writers/{WRITER}");
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{}:{target}", forged)]);
    assert!(
        !ok,
        "the intruder's commit on the writer's ref was accepted"
    );
    assert!(
        stderr.contains("not signed by the key its writer registered"),
        "{stderr}"
    );

    // An approval of the branch's tip from a clone of its own, signed with `key`, as `agent`.
    let tip = repo.git(&["rev-parse", &branch]).trim().to_string();
    let approve_from = |writer: &str, key: &Path, agent: &str| {
        let clone = TestRepo::clone_of(&remote, writer);
        sign_with(&clone, &clone.path, key);
        clone.ok(&["init"]);
        clone.ok(&["sync"]);
        let approve = ["review", "approve", &task, "--commit", &tip];
        let run = clone.run_with(&clone.path, &[("GIT_LEDGER_AGENT", agent)], &approve);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        clone.ok(&["sync"]);
        repo.ok(&["sync"]);
    };
    // The intruder approves with its own unlisted key.
    approve_from("0123456789ab", &intruder_key, "mallory");
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{branch}:main")]);
    assert!(
        !ok,
        "an approval by the writer or an unlisted key opened the gate"
    );
    assert!(
        stderr.contains("has 0 of the 1 approval(s) it needs"),
        "{stderr}"
    );
    let check = repo.run(&["gate", "check", &branch, "--into", "main"]);
    assert_eq!(check.code, Some(1));
    assert!(
        check.stdout.contains(&format!("approval: {task}: approval by human:Ann ignored: its ledger commit is not signed by a key listed in {signers}")),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains(&format!("approval: {task}: approval by agent:mallory ignored: its ledger commit is not signed by a key listed in {signers}")),
        "{}",
        check.stdout
    );

    // The listed reviewer approves with its key: the gate opens.
    approve_from("fedcba987654", &reviewer_key, "reviewer");
    let check = repo.run(&["gate", "check", &branch, "--into", "main"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    assert!(
        check.stdout.contains(&format!(
            "approval: {task}: approval by agent:reviewer counted, as reviewer@example.com"
        )),
        "{}",
        check.stdout
    );
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!("{branch}:main")]);
    assert!(ok, "{stderr}");
}
