use crate::util::{TestRepo, short};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const CLIENT: [&str; 6] = [
    "prepare-commit-msg",
    "post-commit",
    "post-checkout",
    "post-merge",
    "pre-merge-commit",
    "pre-push",
];

fn write_hook(path: &Path, script: &str) {
    std::fs::write(path, script).expect("write hook");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn states(repo: &TestRepo) -> Vec<String> {
    repo.json(&["hooks", "status"])
        .as_array()
        .expect("list")
        .iter()
        .map(|h| {
            format!(
                "{} {}",
                h["name"].as_str().unwrap_or(""),
                h["state"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn install_chains_an_existing_hook_and_uninstall_restores_it() {
    let repo = TestRepo::new();
    let hooks = repo.path.join(".git/hooks");
    let original =
        "#!/bin/sh\necho original post-commit ran >> \"$(git rev-parse --git-dir)/original.log\"\n";
    write_hook(&hooks.join("post-commit"), original);
    // A failing pre-existing pre-merge-commit keeps failing merges.
    write_hook(
        &hooks.join("pre-merge-commit"),
        "#!/bin/sh\necho custom policy says no >&2\nexit 3\n",
    );

    repo.ok(&["hooks", "install"]);
    let installed = states(&repo);
    assert_eq!(installed[0], "prepare-commit-msg ours");
    assert_eq!(installed[1], "post-commit chained");
    assert_eq!(installed[4], "pre-merge-commit chained");
    // Twice changes nothing.
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("hooks dir")
            .flatten()
            .map(|e| {
                format!(
                    "{} {:?}",
                    e.file_name().to_string_lossy(),
                    std::fs::read_link(e.path()).ok()
                )
            })
            .collect();
        names.sort();
        names
    };
    let before = listing(&hooks);
    repo.ok(&["hooks", "install"]);
    assert_eq!(listing(&hooks), before);

    // The chained hook still runs, and its exit status still counts.
    std::fs::write(repo.path.join("a.txt"), "a").expect("write");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "a"]);
    let log = std::fs::read_to_string(repo.path.join(".git/original.log")).expect("original ran");
    assert_eq!(log, "original post-commit ran\n");
    repo.git(&["switch", "-q", "-c", "side"]);
    std::fs::write(repo.path.join("b.txt"), "b").expect("write");
    repo.git(&["add", "b.txt"]);
    repo.git(&["commit", "-q", "-m", "b"]);
    repo.git(&["switch", "-q", "main"]);
    let (ok, stderr) = repo.try_git(&["merge", "--no-ff", "-q", "side", "-m", "merge"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("custom policy says no"), "{stderr}");
    repo.git(&["merge", "--abort"]);

    repo.ok(&["hooks", "uninstall"]);
    assert_eq!(
        std::fs::read_to_string(hooks.join("post-commit")).expect("restored"),
        original
    );
    let mode = std::fs::metadata(hooks.join("post-commit"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(!hooks.join("post-commit.ledger-chained").exists());
    assert!(!hooks.join("prepare-commit-msg").exists());
    assert_eq!(
        states(&repo),
        CLIENT
            .iter()
            .map(|h| {
                let state = if *h == "post-commit" || *h == "pre-merge-commit" {
                    "foreign"
                } else {
                    "missing"
                };
                format!("{h} {state}")
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn core_hooks_path_is_honoured() {
    let repo = TestRepo::new();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    let text = repo.ok(&["hooks", "install"]);
    assert!(
        text.contains(&format!("{}", repo.path.join("githooks").display())),
        "{text}"
    );
    assert!(
        repo.path
            .join("githooks/post-commit")
            .symlink_metadata()
            .is_ok()
    );
    assert!(!repo.path.join(".git/hooks/post-commit").exists());
    repo.ok(&["hooks", "uninstall"]);
    assert!(
        repo.path
            .join("githooks/post-commit")
            .symlink_metadata()
            .is_err()
    );
}

#[test]
fn commits_on_a_task_branch_are_linked_with_a_trailer() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let task = repo.task(&["Fix the login"]);
    let run = repo.run(&["task", "start", &short(&task), "--branch"]);
    let branch = format!("task/{}-fix-the-login", short(&task));
    assert_eq!(run.stderr, format!("Switched to a new branch '{branch}'\n"));
    assert_eq!(repo.git(&["branch", "--show-current"]).trim(), branch);

    std::fs::write(repo.path.join("login.rs"), "fn login() {}\n").expect("write");
    repo.git(&["add", "login.rs"]);
    repo.git(&["commit", "-q", "-m", "Fix the login"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert_eq!(
        message,
        format!("Fix the login\n\nLedger-Task: {}\n\n", short(&task))
    );
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();

    let shown = repo.json(&["task", "show", &short(&task)]);
    assert_eq!(shown["branches"], serde_json::json!([branch]));
    assert_eq!(shown["commits"][0]["commit"], head.as_str());
    assert_eq!(shown["commits"][0]["branch"], branch.as_str());
    assert_eq!(shown["commits"][0]["author"], "Ann <ann@example.com>");
    let text = repo.ok(&["task", "show", &short(&task)]);
    assert!(text.contains(&format!("branches    {branch}\n")), "{text}");
    assert!(
        text.contains(&format!("Commits\n  {} ", &head[..10])),
        "{text}"
    );
    // Checking the branch out again does not link it twice.
    repo.git(&["switch", "-q", "main"]);
    repo.git(&["switch", "-q", &branch]);
    let kinds = repo.ok(&["replay", "--task", &task, "--json"]);
    assert_eq!(kinds.matches("\"branch.linked\"").count(), 1);
    repo.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn focus_adds_the_trailer_on_any_branch_and_worktrees_link_branches() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let task = repo.task(&["Docs"]);
    repo.ok(&["task", "start", &short(&task)]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "docs: intro"]);
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Ledger-Task,valueonly)"
        ])
        .trim(),
        task
    );
    assert_eq!(
        repo.json(&["task", "show", &task])["commits"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A linked worktree on a task branch: post-checkout links it there.
    let other = repo.task(&["Other work"]);
    let dir = repo.root().join("wt");
    let branch = format!("task/{}", short(&other));
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        &branch,
        dir.to_str().expect("utf8"),
    ]);
    assert_eq!(
        repo.json(&["task", "show", &other])["branches"],
        serde_json::json!([branch])
    );
    // A commit there is linked by its branch, not by the main worktree's focus.
    repo.git_in(
        &dir,
        &["commit", "-q", "--allow-empty", "-m", "other: start"],
    );
    let commits = repo.json(&["task", "show", &other])["commits"].clone();
    assert_eq!(commits[0]["branch"], branch.as_str());
    assert_eq!(
        repo.json(&["task", "show", &task])["commits"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn observer_hooks_never_block_git() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    // A hand-broken ledger ref: reading it fails for the hooks, yet commits go through.
    repo.git(&["config", "ledger.writer", "0a1b2c3d4e5f"]);
    let blob = repo.git(&["rev-parse", "HEAD:README"]);
    repo.git(&[
        "update-ref",
        "refs/ledger/v1/writers/0a1b2c3d4e5f",
        blob.trim(),
    ]);
    repo.git(&["switch", "-q", "-c", "task/t-abcdef"]);
    let (ok, stderr) = repo.try_git(&["commit", "-q", "--allow-empty", "-m", "still works"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("git-ledger: post-commit: ") && stderr.contains("(ignored)"),
        "{stderr}"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "still works"
    );
}

#[test]
fn a_repository_without_a_ledger_is_left_alone() {
    let repo = TestRepo::bare_git();
    repo.ok(&["hooks", "install"]);
    repo.git(&["switch", "-q", "-c", "task/t-abcdef"]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "plain"]);
    assert_eq!(repo.git(&["log", "-1", "--format=%B"]), "plain\n\n");
    assert!(repo.git(&["for-each-ref", "refs/ledger"]).is_empty());
}
