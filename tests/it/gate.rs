use crate::util::{TestRepo, short, strings_of};
use std::path::PathBuf;
use std::process::Command;

/// A work clone with hooks, a bare remote with the server hook, and a task branch with one
/// commit. Returns (work clone, remote path, task id, branch).
pub(crate) fn setup() -> (TestRepo, PathBuf, String, String) {
    let repo = TestRepo::new();
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
    repo.git(&["remote", "add", "origin", remote.to_str().expect("utf8")]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.ok(&["hooks", "install"]);
    let task = repo.task(&["Fix login"]);
    repo.ok(&["task", "start", &short(&task), "--branch"]);
    let branch = repo.git(&["branch", "--show-current"]).trim().to_string();
    std::fs::write(repo.path.join("login.rs"), "fixed\n").expect("write");
    repo.git(&["add", "login.rs"]);
    repo.git(&["commit", "-q", "-m", "fix login"]);
    repo.git(&["switch", "-q", "main"]);
    (repo, remote, task, branch)
}

#[test]
fn gate_check_lists_every_reason() {
    let (repo, _, task, branch) = setup();
    let dep = repo.task(&["Schema first"]);
    repo.ok(&["task", "depend", &short(&task), "--on", &short(&dep)]);
    repo.ok(&["task", "block", &short(&task), "--reason", "waiting"]);
    let run = repo.run(&["gate", "check", &branch, "--into", "main"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stdout,
        format!(
            "refused:\n  - {t} is not approved (git ledger review approve {t})\n  - {t} depends on tasks not done: {d}\n  - {t} is blocked\n",
            t = short(&task),
            d = short(&dep)
        )
    );
    assert!(
        run.stderr
            .starts_with(&format!("error: {branch} may not land: 3 reason(s)")),
        "{}",
        run.stderr
    );
    let verdict: serde_json::Value = serde_json::from_str(
        &repo
            .run(&["gate", "check", &branch, "--into", "main", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(verdict["ok"], false);
    let reasons = strings_of(&verdict["data"]["reasons"], "reason");
    assert_eq!(
        reasons,
        ["not_approved", "dependencies_not_done", "task_blocked"]
    );
    // Unprotected targets pass; untracked branches do not, unless allowed.
    assert!(
        repo.ok(&["gate", "check", &branch, "--into", "feature"])
            .starts_with("allowed: feature is not protected")
    );
    // A branch with nothing new lands nothing.
    repo.git(&["branch", "level"]);
    assert!(
        repo.ok(&["gate", "check", "level", "--into", "main"])
            .contains("adds nothing to main")
    );
    let untracked = repo.git(&[
        "commit-tree",
        "main^{tree}",
        "-p",
        "main",
        "-m",
        "untracked",
    ]);
    repo.git(&["branch", "untracked", untracked.trim()]);
    let run = repo.run(&["gate", "check", "untracked", "--into", "main"]);
    assert_eq!(
        run.stdout,
        format!(
            "refused:\n  - commit {} is linked to no task (commit on a task/<id> branch so it carries a Ledger-Task trailer, or set ledger.gate.allowUntracked)\n",
            &untracked.trim()[..10]
        )
    );
    repo.git(&["config", "ledger.gate.allowUntracked", "true"]);
    assert!(
        repo.ok(&["gate", "check", "untracked", "--into", "main"])
            .starts_with("allowed: ")
    );
    repo.git(&["config", "ledger.protect", "release/*"]);
    assert!(
        repo.ok(&["gate", "check", &branch, "--into", "main"])
            .starts_with("allowed: main is not protected")
    );
}

#[test]
fn merges_into_main_wait_for_approval_of_the_exact_tip() {
    let (repo, _, task, branch) = setup();
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "merge into main refused: {} is not approved",
            short(&task)
        )),
        "{stderr}"
    );
    repo.git(&["merge", "--abort"]);

    let tip = repo.git(&["rev-parse", &branch]).trim().to_string();
    let approved = repo.json(&["review", "approve", &short(&task)]);
    assert_eq!(
        approved["review"],
        serde_json::json!({"state": "approved", "commit": tip, "by": "human:Ann"})
    );
    // Ann started the task and wrote its commits: her own approval does not count.
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(!ok);
    assert!(
        stderr.contains("human:Ann's approval does not count: human:Ann started it"),
        "{stderr}"
    );
    repo.git(&["merge", "--abort"]);
    repo.approve(&[&short(&task)]);
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{branch} merged into main; when the work is finished: git ledger task done {}",
            short(&task)
        )),
        "{stderr}"
    );
    let merges = repo.json(&["task", "show", &task])["merges"].clone();
    assert_eq!(merges[0]["into"], "main");
    assert_eq!(merges[0]["branch"], branch.as_str());
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // A new commit on the branch needs a new review.
    repo.git(&["switch", "-q", &branch]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "one more"]);
    repo.git(&["switch", "-q", "main"]);
    let run = repo.run(&["gate", "check", &branch]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains(&format!("was approved at {}, but the tip is", &tip[..10])),
        "{}",
        run.stdout
    );
    let (ok, _) = repo.try_git(&["merge", "--no-ff", "-q", &branch, "-m", "merge"]);
    assert!(!ok);
    repo.git(&["merge", "--abort"]);
    // A rejection blocks with its reason.
    repo.ok(&["review", "reject", &short(&task), "--reason", "needs tests"]);
    assert!(
        repo.run(&["gate", "check", &branch])
            .stdout
            .contains("was rejected in review: needs tests")
    );
}

#[test]
fn the_remote_stops_what_the_client_hooks_let_through() {
    let (repo, remote, task, branch) = setup();
    // Fast-forward merges run no pre-merge-commit; --no-verify skips pre-push.
    repo.git(&["merge", "-q", "--ff-only", &branch]);
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", "main"]);
    assert!(!ok, "pre-push refuses");
    assert!(stderr.contains("push to main refused"), "{stderr}");
    let (ok, stderr) = repo.try_git(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(!ok, "the remote refuses too");
    assert!(stderr.contains("pre-receive hook declined"), "{stderr}");
    assert!(
        stderr.contains(&format!("names unknown task {}", short(&task))),
        "{stderr}"
    );
    // Approval travels with the push: ledger refs and main together.
    repo.approve(&[&short(&task)]);
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        "refs/ledger/*:refs/ledger/*",
        "main",
    ]);
    assert!(ok, "{stderr}");
    let remote_main = Command::new("git")
        .args(["rev-parse", "main"])
        .current_dir(&remote)
        .output()
        .expect("git");
    assert_eq!(
        String::from_utf8_lossy(&remote_main.stdout).trim(),
        repo.git(&["rev-parse", "main"]).trim()
    );
}

#[test]
fn the_remote_refuses_rewritten_and_malformed_ledger_refs() {
    let (repo, _, _, _) = setup();
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", "refs/ledger/*:refs/ledger/*"]);
    assert!(ok, "{stderr}");
    let writer_ref = format!("refs/ledger/v1/writers/{}", crate::util::WRITER);
    // Force-pushing a rewritten ledger ref.
    let old = repo
        .git(&["rev-parse", &format!("{writer_ref}~1")])
        .trim()
        .to_string();
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "--force",
        "origin",
        &format!("{old}:{writer_ref}"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("would be rewritten"), "{stderr}");
    // Deleting it.
    let (ok, stderr) = repo.try_git(&["push", "-q", "origin", &format!(":{writer_ref}")]);
    assert!(!ok);
    assert!(stderr.contains("may not be deleted"), "{stderr}");
    // A commit of garbage on top.
    let file = repo.root().join("garbage.txt");
    std::fs::write(&file, "oops\n\n{not json\n").expect("write");
    let tip = repo.git(&["rev-parse", &writer_ref]).trim().to_string();
    let garbage = repo.git(&[
        "commit-tree",
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "-p",
        &tip,
        "-F",
        file.to_str().expect("utf8"),
    ]);
    let (ok, stderr) = repo.try_git(&[
        "push",
        "-q",
        "origin",
        &format!("{}:{writer_ref}", garbage.trim()),
    ]);
    assert!(!ok);
    assert!(stderr.contains("not a JSON event"), "{stderr}");
}

/// The commands of `hooks/ci/gate.sh`, as a GitHub or GitLab job runs them: a shallow
/// checkout of a pull request's merge commit, with neither the target branch nor the ledger.
fn ci_gate(
    repo: &TestRepo,
    remote: &std::path::Path,
    pull: &str,
    format: &str,
) -> crate::util::Run {
    let ci = repo.root().join(format!("ci-{}", pull.replace('/', "-")));
    let url = format!("file://{}", remote.display());
    repo.git_in(
        repo.root(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-tags",
            &url,
            ci.to_str().expect("utf8"),
        ],
    );
    repo.git_in(&ci, &["fetch", "-q", "--depth", "1", "origin", pull]);
    repo.git_in(&ci, &["checkout", "-q", "--detach", "FETCH_HEAD"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/ci/gate.sh");
    let output = repo
        .command("sh", &ci)
        .env("PATH", crate::util::path_with_bin())
        .args([script.to_str().expect("utf8"), "main", "HEAD", format])
        .output()
        .expect("run gate.sh");
    crate::util::Run::from(output)
}

#[test]
fn the_gate_runs_in_ci_on_a_shallow_clone_of_a_forge_remote() {
    let (repo, remote, task, branch) = setup();
    // A forge runs no hook: the gate's only check is the CI job.
    std::fs::remove_file(remote.join("hooks/pre-receive")).expect("remove the server hook");
    for n in 0..3 {
        std::fs::write(repo.path.join(format!("main{n}.txt")), "x\n").expect("write");
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "--no-verify", "-m", &format!("main {n}")]);
    }
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    repo.approve(&[&short(&task)]);
    repo.ok(&["sync"]);
    // The pull request's merge commit, as the forge makes it (no hook runs).
    let merge = |name: &str, tip: &str| {
        let merged = repo.git(&[
            "commit-tree",
            &format!("{tip}^{{tree}}"),
            "-p",
            "main",
            "-p",
            tip,
            "-m",
            "merge",
        ]);
        repo.git(&[
            "push",
            "-q",
            "--no-verify",
            "origin",
            &format!("{}:refs/pull/{name}/merge", merged.trim()),
        ]);
    };
    merge("1", &branch);
    let run = ci_gate(&repo, &remote, "refs/pull/1/merge", "text");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("allowed: {} approved at", short(&task))),
        "{}",
        run.stdout
    );
    // A commit after the approval: refused, with an annotation for the pull request.
    repo.git(&["switch", "-q", &branch]);
    std::fs::write(repo.path.join("late.txt"), "late\n").expect("write");
    repo.git(&["add", "late.txt"]);
    repo.git(&["commit", "-q", "-m", "late"]);
    repo.git(&["switch", "-q", "main"]);
    merge("2", &branch);
    let run = ci_gate(&repo, &remote, "refs/pull/2/merge", "github");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with(&format!(
            "::error title=git ledger gate::{} was approved at",
            short(&task)
        )),
        "{}",
        run.stdout
    );
}
