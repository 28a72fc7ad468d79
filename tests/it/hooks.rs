use crate::util::{TestRepo, short};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const CLIENT: [&str; 5] = [
    "prepare-commit-msg",
    "post-checkout",
    "post-merge",
    "pre-merge-commit",
    "pre-push",
];

fn write_hook(path: &Path, script: &str) {
    std::fs::write(path, script).expect("write hook");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A repository with the hooks installed and a task started on a branch of its own.
fn on_a_task_branch(title: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let task = repo.task(&[title]);
    repo.ok(&["task", "start", &short(&task), "--branch"]);
    (repo, task)
}

/// The commits the ledger links to `task`, oldest first.
fn recorded_commits(repo: &TestRepo, task: &str) -> Vec<String> {
    let shown = repo.json(&["task", "show", task]);
    crate::util::strings_of(&shown["commits"], "commit")
        .into_iter()
        .map(str::to_string)
        .collect()
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
    let original = "#!/bin/sh\necho original prepare-commit-msg ran >> \"$(git rev-parse --git-dir)/original.log\"\n";
    write_hook(&hooks.join("prepare-commit-msg"), original);
    // A failing pre-existing pre-merge-commit keeps failing merges.
    write_hook(
        &hooks.join("pre-merge-commit"),
        "#!/bin/sh\necho custom policy says no >&2\nexit 3\n",
    );

    repo.ok(&["hooks", "install"]);
    let installed = states(&repo);
    assert_eq!(installed[0], "prepare-commit-msg chained");
    assert_eq!(installed[1], "post-checkout ours");
    assert_eq!(installed[3], "pre-merge-commit chained");
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
    assert_eq!(log, "original prepare-commit-msg ran\n");
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
        std::fs::read_to_string(hooks.join("prepare-commit-msg")).expect("restored"),
        original
    );
    let mode = std::fs::metadata(hooks.join("prepare-commit-msg"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(!hooks.join("prepare-commit-msg.ledger-chained").exists());
    assert!(!hooks.join("post-checkout").exists());
    assert_eq!(
        states(&repo),
        CLIENT
            .iter()
            .map(|h| {
                let state = if *h == "prepare-commit-msg" || *h == "pre-merge-commit" {
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
            .join("githooks/prepare-commit-msg")
            .symlink_metadata()
            .is_ok()
    );
    assert!(!repo.path.join(".git/hooks/prepare-commit-msg").exists());
    repo.ok(&["hooks", "uninstall"]);
    assert!(
        repo.path
            .join("githooks/prepare-commit-msg")
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
        short(&task),
        "the trailer names the task as its branch would"
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
    let (ok, stderr) = repo.try_git(&["switch", "-q", "-c", "task/t-abcdef"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("git-ledger: post-checkout: ") && stderr.contains("(ignored)"),
        "{stderr}"
    );
    let (ok, stderr) = repo.try_git(&["commit", "-q", "--allow-empty", "-m", "still works"]);
    assert!(ok, "{stderr}");
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

#[test]
fn a_post_commit_hook_left_by_an_earlier_install_is_retired() {
    let repo = TestRepo::new();
    let hooks = repo.path.join(".git/hooks");
    let theirs =
        "#!/bin/sh\necho their post-commit ran >> \"$(git rev-parse --git-dir)/theirs.log\"\n";
    write_hook(&hooks.join("post-commit.ledger-chained"), theirs);
    std::os::unix::fs::symlink(crate::util::BIN, hooks.join("post-commit")).expect("link");
    // Until the hooks are installed again, the old link runs what it chained, quietly.
    let (ok, stderr) = repo.try_git(&["commit", "-q", "--allow-empty", "-m", "before"]);
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    let log = repo.path.join(".git/theirs.log");
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "their post-commit ran\n"
    );

    repo.ok(&["hooks", "install"]);
    assert_eq!(
        std::fs::read_to_string(hooks.join("post-commit")).expect("put back"),
        theirs
    );
    assert!(!hooks.join("post-commit.ledger-chained").exists());
    repo.git(&["commit", "-q", "--allow-empty", "-m", "after"]);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "their post-commit ran\ntheir post-commit ran\n"
    );
}

#[test]
fn commits_are_recorded_by_the_next_command_once_each() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let notes = repo.path.join(".git/ledger/noted-commits");
    let noted = || std::fs::read_to_string(&notes).map_or(0, |n| n.lines().count());
    // A commit outside task work leaves nothing behind.
    repo.git(&["commit", "-q", "--allow-empty", "-m", "chore"]);
    assert_eq!(noted(), 0);

    let task = repo.task(&["Cache the index"]);
    repo.ok(&["task", "start", &short(&task), "--branch"]);
    // An aborted commit (empty message), then two commits, before any ledger command.
    let (ok, _) = repo.try_git(&["commit", "-q", "--allow-empty", "-m", ""]);
    assert!(!ok);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    let one = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["commit", "-q", "--allow-empty", "-m", "two"]);
    let two = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(noted(), 3);
    // Plain git sees no event for them yet; the next command records both, oldest first.
    let commits = |repo: &TestRepo| recorded_commits(repo, &task);
    assert_eq!(commits(&repo), vec![one.clone(), two.clone()]);
    assert_eq!(noted(), 0);
    assert_eq!(commits(&repo), vec![one.clone(), two.clone()]);

    // A note whose commit is not made yet stays until the branch moves; an amended commit
    // is recorded too.
    let (ok, _) = repo.try_git(&["commit", "-q", "--allow-empty", "-m", ""]);
    assert!(!ok);
    repo.ok(&["status"]);
    assert_eq!(noted(), 1);
    // ... and is not written again by every command while it waits.
    let inode = || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&notes).expect("notes"));
    let before = inode();
    repo.ok(&["status"]);
    assert_eq!(inode(), before);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "--allow-empty",
        "-m",
        "two, amended",
    ]);
    let amended = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(commits(&repo), vec![one, two, amended]);
    assert_eq!(noted(), 0);
    let replayed = repo.ok(&["replay", "--task", &task, "--json"]);
    assert_eq!(replayed.matches("\"commit.linked\"").count(), 3);
    repo.ok(&["audit"]);
}

#[test]
fn every_commit_made_before_the_next_command_is_recorded() {
    let (repo, task) = on_a_task_branch("Long branch");
    for i in 0..120 {
        repo.git(&["commit", "-q", "--allow-empty", "-m", &format!("step {i}")]);
    }
    let made = repo.git(&["rev-list", "--reverse", "main..HEAD"]);
    assert_eq!(
        recorded_commits(&repo, &task),
        made.lines().collect::<Vec<_>>()
    );
}

#[test]
fn the_commit_hook_links_to_the_small_program_beside_the_binary() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let hooks = repo.path.join(".git/hooks");
    let program = |hook: &str| {
        let target = std::fs::read_link(hooks.join(hook)).expect("a link");
        target
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(program("prepare-commit-msg"), "git-ledger-hook");
    assert_eq!(program("pre-push"), "git-ledger");

    // A binary on its own (no git-ledger-hook beside it) links every hook to itself, and
    // re-installing from it re-points the commit hook.
    let alone = repo.root().join("alone");
    std::fs::create_dir_all(&alone).expect("dir");
    let binary = alone.join("git-ledger");
    // A hard link where the file system allows (the debug binary is large), else a copy.
    std::fs::hard_link(crate::util::BIN, &binary)
        .or_else(|_| std::fs::copy(crate::util::BIN, &binary).map(drop))
        .expect("the binary on its own");
    // Another test's child may still hold a copy open for writing for a moment (it was
    // forked while the copy was written): retry while the file is busy.
    let output = (0..100)
        .find_map(|_| {
            let run = repo
                .command(binary.to_str().expect("utf8"), &repo.path)
                .args(["hooks", "install"])
                .output();
            match run {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                }
                run => Some(run.expect("run")),
            }
        })
        .expect("the copy stays busy");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read_link(hooks.join("prepare-commit-msg")).expect("a link"),
        binary
    );
    let task = repo.task(&["Alone"]);
    repo.ok(&["task", "start", &short(&task), "--branch"]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "by the binary"]);
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["commits"].as_array().map(Vec::len), Some(1));
}

#[test]
fn commits_in_worktrees_while_commands_run_are_each_recorded_once() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let tasks: Vec<String> = (0..2).map(|i| repo.task(&[&format!("Work {i}")])).collect();
    let dirs: Vec<std::path::PathBuf> = tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let dir = repo.root().join(format!("wt{i}"));
            let branch = format!("task/{}", short(task));
            let path = dir.to_str().expect("utf8");
            repo.git(&["worktree", "add", "-q", "-b", &branch, path]);
            dir
        })
        .collect();
    std::thread::scope(|s| {
        for dir in &dirs {
            let repo = &repo;
            s.spawn(move || {
                for i in 0..15 {
                    let message = format!("step {i}");
                    repo.git_in(dir, &["commit", "-q", "--allow-empty", "-m", &message]);
                }
            });
        }
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..8 {
                    repo.ok(&["status"]);
                }
            });
        }
    });
    for (task, dir) in tasks.iter().zip(&dirs) {
        let made = repo.git_in(dir, &["rev-list", "--reverse", "main..HEAD"]);
        assert_eq!(
            recorded_commits(&repo, task),
            made.lines().collect::<Vec<_>>()
        );
    }
    assert!(!repo.path.join(".git/ledger/noted-commits").exists());
}

#[test]
fn a_damaged_note_is_dropped_and_the_others_recorded() {
    let (repo, task) = on_a_task_branch("Damage");
    let notes = repo.path.join(".git/ledger/noted-commits");
    std::fs::create_dir_all(notes.parent().expect("dir")).expect("dir");
    std::fs::write(&notes, b"{\"task\": \"t-\xff\n{not json\n").expect("write");
    repo.git(&["commit", "-q", "--allow-empty", "-m", "after the damage"]);
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let run = repo.run(&["task", "show", &task, "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        crate::util::strings_of(&shown["data"]["commits"], "commit"),
        vec![head.as_str()]
    );
    assert!(!notes.exists());
}

#[test]
fn a_commit_message_that_is_not_utf8_is_left_alone_and_the_commit_recorded() {
    let (repo, task) = on_a_task_branch("Latin-1");
    let message = repo.root().join("message");
    std::fs::write(&message, b"caf\xe9\n").expect("write");
    let (ok, stderr) = repo.try_git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-F",
        message.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("git-ledger"), "{stderr}");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let body = repo.git(&["cat-file", "commit", "HEAD"]);
    assert!(!body.contains("Ledger-Task"), "{body}");
    assert_eq!(recorded_commits(&repo, &task), vec![head]);
}
