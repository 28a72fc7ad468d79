//! The text people and agents read, pinned. Ids are reproducible because the writer id and the
//! clock are fixed.

use crate::util::{TestRepo, id_of, short};

/// Two sessions of work on one objective, as in the demo.
fn scenario() -> TestRepo {
    let repo = TestRepo::new();
    repo.at(Some("2026-01-05T09:00:00Z"));
    repo.ok(&["session", "start", "Plan the OAuth2 migration"]);
    let objective = id_of(&repo.json(&["objective", "add", "Migrate authentication to OAuth2"]));
    let research = repo.task(&[
        "Research OAuth providers",
        "-o",
        &objective,
        "-p",
        "1",
        "-e",
        "2h",
    ]);
    let integrate = repo.task(&[
        "Implement the Auth0 integration",
        "-o",
        &objective,
        "-p",
        "1",
        "-e",
        "4h",
        "-d",
        &research,
    ]);
    repo.task(&[
        "Migrate the user table",
        "-o",
        &objective,
        "-p",
        "2",
        "-e",
        "3h",
        "-d",
        &integrate,
    ]);
    repo.task(&["Write the runbook", "-o", &objective, "-p", "3"]);
    repo.at(Some("2026-01-05T09:10:00Z"))
        .ok(&["task", "start", &short(&research)]);
    repo.at(Some("2026-01-05T10:00:00Z")).ok(&[
        "task",
        "note",
        "Compared Auth0, Okta and Keycloak on SSO and price",
    ]);
    repo.at(Some("2026-01-05T11:30:00Z")).ok(&[
        "task",
        "done",
        "-m",
        "Auth0: best enterprise features",
    ]);
    repo.ok(&[
        "insight",
        "add",
        "Auth0 has the best enterprise features",
        "--tag",
        "auth",
        "--knowledge",
    ]);
    let decision = id_of(&repo.json(&[
        "decision",
        "request",
        "Migrate all users at once?",
        "--option",
        "big bang",
        "--option",
        "by segment",
    ]));
    repo.at(Some("2026-01-05T12:00:00Z"))
        .ok(&["session", "end", "-m", "provider chosen"]);

    repo.at(Some("2026-01-07T09:00:00Z"))
        .ok(&["session", "start", "Build the integration"]);
    repo.ok(&[
        "decision",
        "make",
        &short(&decision),
        "by segment",
        "--rationale",
        "limits the blast radius",
    ]);
    repo.ok(&[
        "insight",
        "add",
        "Migration can be phased by user segment",
        "--tag",
        "auth",
        "--tag",
        "rollout",
    ]);
    repo.at(Some("2026-01-07T09:30:00Z"))
        .ok(&["task", "start", &short(&integrate)]);
    repo.at(Some("2026-01-07T10:15:00Z"))
        .ok(&["task", "note", "SDK wired into the login flow"]);
    repo.at(Some("2026-01-07T11:00:00Z"));
    repo
}

#[test]
fn status_text() {
    let repo = scenario();
    insta::assert_snapshot!("status", repo.ok(&["status"]));
}

#[test]
fn memory_views_text_and_markdown() {
    let repo = scenario();
    insta::assert_snapshot!("memory_working", repo.ok(&["memory", "working"]));
    insta::assert_snapshot!("memory_short", repo.ok(&["memory", "short"]));
    insta::assert_snapshot!("memory_long", repo.ok(&["memory", "long"]));
    insta::assert_snapshot!("memory_knowledge", repo.ok(&["memory", "knowledge"]));
    insta::assert_snapshot!(
        "memory_working_markdown",
        repo.ok(&["memory", "working", "--format", "markdown"])
    );
}

#[test]
fn help_texts() {
    let repo = TestRepo::new();
    insta::assert_snapshot!("help", repo.ok(&["--help"]));
    insta::assert_snapshot!("help_task", repo.ok(&["task", "--help"]));
    insta::assert_snapshot!("help_task_done", repo.ok(&["task", "done", "--help"]));
    insta::assert_snapshot!("help_memory", repo.ok(&["memory", "--help"]));
}

#[test]
fn replay_diff_and_audit_of_the_sample_ledger() {
    let repo = TestRepo::sample();
    insta::assert_snapshot!("sample_replay", repo.ok(&["replay"]));
    insta::assert_snapshot!(
        "sample_replay_agent",
        repo.ok(&["replay", "--agent", "developer"])
    );
    insta::assert_snapshot!(
        "sample_diff_week",
        repo.ok(&["diff", "2026-03-02", "2026-03-06", "--view", "long"])
    );
    let second = repo.json(&["session", "list"])[1]["id"]
        .as_str()
        .expect("session")
        .to_string();
    insta::assert_snapshot!(
        "sample_diff_session",
        repo.ok(&["diff", &second, "--view", "working"])
    );
    insta::assert_snapshot!("sample_audit", repo.ok(&["audit"]));
    insta::assert_snapshot!("sample_status", repo.ok(&["status"]));
}
