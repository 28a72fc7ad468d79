//! Claims with leases: one winner among concurrent claimers, leases that run out by
//! themselves, races across clones decided by the total order, agents holding their task,
//! and hooks warning an agent whose claim was taken over.

use crate::util::{TestRepo, path_with_bin, short, strings_of};
use serde_json::Value;

/// Run as an agent (the holder of its claims is `agent:<name>`).
fn as_agent(repo: &TestRepo, name: &str, args: &[&str]) -> crate::util::Run {
    repo.run_with(&repo.path, &[("GIT_LEDGER_AGENT", name)], args)
}

#[test]
fn eight_concurrent_claims_of_one_task_have_one_winner() {
    let repo = TestRepo::new();
    let task = repo.task(&["Migrate the schema"]);
    let runs: Vec<crate::util::Run> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|i| {
                let (repo, task) = (&repo, &task);
                scope.spawn(move || as_agent(repo, &format!("w{i}"), &["task", "claim", task]))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a claiming thread"))
            .collect()
    });
    let winners: Vec<usize> = (0..8).filter(|&i| runs[i].code == Some(0)).collect();
    assert_eq!(winners.len(), 1, "exactly one claim succeeds");
    let winner = format!("agent:w{}", winners[0]);
    for (i, run) in runs.iter().enumerate() {
        if i == winners[0] {
            assert!(run.stdout.starts_with("Claimed: "), "{}", run.stdout);
            continue;
        }
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "error: {} is claimed by {winner} until 2026-01-05 09:30 UTC\n",
                short(&task)
            )),
            "{}",
            run.stderr
        );
    }
    // One claim event in the ledger, epoch 1, held by the winner.
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["claims"]["current"]["holder"], winner.as_str());
    assert_eq!(shown["claims"]["current"]["epoch"], 1);
    assert_eq!(shown["claims"]["lost"], Value::Null);
    let claims = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|a| a["kind"] == "task.claimed")
        .count();
    assert_eq!(claims, 1);
}

#[test]
fn a_lease_runs_out_and_ready_offers_the_task_again() {
    let repo = TestRepo::new();
    let task = repo.task(&["Write the parser", "-p", "1"]);
    let other = repo.task(&["Write the docs", "-p", "3"]);
    let claimed = as_agent(&repo, "a1", &["task", "claim", "--lease", "45m"]);
    assert_eq!(claimed.code, Some(0), "{}", claimed.stderr);
    // No id: the top ready task.
    assert!(claimed.stdout.contains(&short(&task)), "{}", claimed.stdout);

    // Everyone else: the task is left out of `ready`, and shown with its holder.
    let ready = repo.ok(&["ready"]);
    assert_eq!(
        ready,
        format!(
            "{} [open] P3 Write the docs\n\nClaimed by others\n  {} [open] P1 Write the parser (claimed by agent:a1 until 2026-01-05 09:45)\n",
            short(&other),
            short(&task)
        )
    );
    let ids: Vec<String> = repo.json(&["ready"]).as_array().expect("list")[..]
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids, [other.as_str()]);
    // The holder still sees it as its own.
    let mine = as_agent(&repo, "a1", &["ready"]);
    assert!(mine.stdout.starts_with(&short(&task)), "{}", mine.stdout);
    // Starting it is refused to others.
    let refused = repo.fail(&["task", "start", &task]);
    assert!(refused.contains("is claimed by agent:a1"), "{refused}");
    // A second claimer takes the next free task instead.
    let second = as_agent(&repo, "a2", &["task", "claim", "--lease", "2h", "--json"]);
    let second: Value = serde_json::from_str(&second.stdout).expect("json");
    assert_eq!(second["data"]["id"], other.as_str());

    // 45 minutes later the lease has run out: the task is free again, by itself.
    repo.at(Some("2026-01-05T09:45:00Z"));
    let ids: Vec<String> = repo.json(&["ready"]).as_array().expect("list")[..]
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids, [task.as_str()]);
    let taken = as_agent(&repo, "a3", &["task", "claim", &task, "--json"]);
    assert_eq!(taken.code, Some(0), "{}", taken.stderr);
    let taken: Value = serde_json::from_str(&taken.stdout).expect("json");
    assert_eq!(taken["data"]["claims"]["current"]["epoch"], 2);
    // The first holder can no longer renew or release it.
    let renew = as_agent(&repo, "a1", &["task", "renew", &task]);
    assert_eq!(renew.code, Some(1));
    assert!(
        renew.stderr.contains("is claimed by agent:a3"),
        "{}",
        renew.stderr
    );
    // The new holder renews, then releases: free for everyone.
    repo.at(Some("2026-01-05T10:00:00Z"));
    let renewed = as_agent(&repo, "a3", &["task", "renew", "--lease", "2h"]);
    assert!(
        renewed
            .stdout
            .contains("claimed by agent:a3 until 2026-01-05 12:00"),
        "{}",
        renewed.stdout
    );
    let released = as_agent(&repo, "a3", &["task", "release"]);
    assert_eq!(released.code, Some(0), "{}", released.stderr);
    assert!(repo.ok(&["ready"]).starts_with(&short(&task)));
    let again = as_agent(&repo, "a3", &["task", "release", &task]);
    assert_eq!(again.code, Some(1));
    assert!(
        again.stderr.contains("is not claimed by agent:a3"),
        "{}",
        again.stderr
    );
}

#[test]
fn bad_leases_and_nothing_to_claim_are_refused() {
    let repo = TestRepo::new();
    for lease in ["0", "soon", "8d", "200h"] {
        let err = repo.fail(&["task", "claim", "--lease", lease]);
        assert!(err.starts_with(&format!("error: lease '{lease}'")), "{err}");
    }
    let err = repo.fail(&["task", "claim"]);
    assert!(
        err.starts_with("error: no task is ready to be claimed"),
        "{err}"
    );
    let err = repo.fail(&["task", "release"]);
    assert!(err.starts_with("error: no task id given"), "{err}");
    let task = repo.task(&["Close me"]);
    repo.ok(&["task", "done", &task, "--force"]);
    let err = repo.fail(&["task", "claim", &task]);
    assert!(err.contains("is done; it cannot be claimed"), "{err}");
    assert_eq!(repo.event_count(), 2, "refusals write nothing");
}

#[test]
fn two_clones_claiming_offline_agree_after_sync() {
    let seed = TestRepo::bare_git();
    seed.git_in(
        seed.root(),
        &["clone", "--bare", "-q", "repo", "remote.git"],
    );
    let remote = seed.root().join("remote.git");
    let a = TestRepo::clone_of(&remote, "aaaaaaaaaaaa");
    let task = a.task(&["Rotate the keys"]);
    a.ok(&["sync"]);
    let b = TestRepo::clone_of(&remote, "bbbbbbbbbbbb");
    b.ok(&["sync"]);
    // Offline, both claim; A's clock is earlier, so A's claim comes first in the total order.
    a.at(Some("2026-01-05T09:01:00Z"));
    b.at(Some("2026-01-05T09:02:00Z"));
    a.ok(&["task", "claim", &task]);
    b.ok(&["task", "claim", &task]);
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    a.ok(&["sync"]);
    for clone in [&a, &b] {
        let claim = clone.json(&["task", "show", &task])["claims"].clone();
        assert_eq!(claim["current"]["writer"], "aaaaaaaaaaaa");
        assert_eq!(claim["current"]["epoch"], 1);
        assert_eq!(claim["lost"][0]["writer"], "bbbbbbbbbbbb");
    }
    // The loser is told, plainly; the winner is not.
    let status = b.ok(&["status"]);
    assert!(
        status.contains(&format!(
            "Lost claims\n  {} Rotate the keys: you lost the claim (2026-01-05 09:02) to human:Ann (epoch 1, claimed 2026-01-05 09:01, until 2026-01-05 09:31)\n",
            short(&task)
        )),
        "{status}"
    );
    assert!(!a.ok(&["status"]).contains("Lost claims"));
    let lost = b.json(&["status"])["lost_claims"].clone();
    assert_eq!(lost[0]["task"], task.as_str());
    assert_eq!(lost[0]["winner"]["writer"], "aaaaaaaaaaaa");
    b.ok(&["session", "start", "Keys"]);
    let resumed = b.ok(&["session", "resume"]);
    assert!(resumed.contains("Lost claims\n"), "{resumed}");
    // B cannot take it while A's lease runs.
    let err = b.fail(&["task", "claim", &task]);
    assert!(err.contains("is claimed by human:Ann"), "{err}");
}

#[test]
fn a_spawned_agent_holds_its_task_until_it_exits() {
    let repo = TestRepo::new();
    let task = repo.task(&["Fix the flaky test"]);
    // The agent looks at its claim from inside, then exits.
    let path = path_with_bin();
    let run = repo.run_with(
        &repo.path,
        &[("PATH", &path)],
        &[
            "agent",
            "spawn",
            "--role",
            "developer",
            "-m",
            "Fix it",
            "--task",
            &task,
            "--",
            "sh",
            "-c",
            "git ledger task show --json",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let inside: Value = serde_json::from_str(
        run.stdout
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("the agent's output"),
    )
    .expect("json");
    let holder = inside["data"]["claims"]["current"]["holder"]
        .as_str()
        .expect("a holder")
        .to_string();
    assert!(holder.starts_with("agent:a-"), "{holder}");
    // After the exit, the claim is released in the same commit as the end.
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["claims"]["current"], Value::Null);
    assert_eq!(shown["claims"]["epoch"], 1);
    let kinds = strings_of(&shown["history"], "kind");
    assert_eq!(
        kinds,
        [
            "task.created",
            "task.claimed",
            "task.started",
            "task.released"
        ]
    );

    // A spawn for a task someone else holds is refused, and nothing is recorded.
    repo.ok(&["task", "claim", &task]);
    let before = repo.event_count();
    let err = repo.run_with(
        &repo.path,
        &[("GIT_LEDGER_AGENT", "lead")],
        &[
            "agent",
            "spawn",
            "--role",
            "developer",
            "-m",
            "Also",
            "--task",
            &task,
        ],
    );
    assert_eq!(err.code, Some(1));
    assert!(
        err.stderr.contains("is claimed by human:Ann"),
        "{}",
        err.stderr
    );
    assert_eq!(repo.event_count(), before);
}

#[test]
fn hooks_warn_an_agent_whose_claim_was_taken_over() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    let task = repo.task(&["Speed up the build"]);
    as_agent(&repo, "slow", &["task", "claim", &task, "--lease", "10m"]);
    repo.git(&[
        "switch",
        "-q",
        "-c",
        &format!("task/{}-speed", short(&task)),
    ]);
    let commit = |name: &str, file: &str| {
        std::fs::write(repo.path.join(file), name).expect("write");
        repo.git(&["add", file]);
        let (ok, stderr) =
            repo.try_git_with(&[("GIT_LEDGER_AGENT", name)], &["commit", "-q", "-m", file]);
        assert!(ok, "{stderr}");
        stderr
    };
    // While it holds the claim, its commits pass quietly.
    assert_eq!(commit("slow", "one.txt"), "");
    // Its lease runs out; another agent takes the task over (epoch 2).
    repo.at(Some("2026-01-05T09:20:00Z"));
    as_agent(&repo, "fast", &["task", "claim", &task]);
    let warning = commit("slow", "two.txt");
    assert_eq!(
        warning,
        format!(
            "git-ledger: warning: this commit is on {}, which agent:fast took over from agent:slow (its epoch 1; now epoch 2, until 2026-01-05 09:50); coordinate before going on\n",
            short(&task)
        )
    );
    // The new holder is not warned.
    assert_eq!(commit("fast", "three.txt"), "");
}
