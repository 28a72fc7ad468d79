//! Cost and effort: usage reported by sessions and agents, rolled up per agent, task and
//! objective, and budgets that `status` warns about.

use crate::util::{TestRepo, id_of, short};
use serde_json::Value;

fn agent(repo: &TestRepo, task: &str) -> String {
    id_of(&repo.json(&[
        "agent",
        "spawn",
        "--role",
        "developer",
        "-m",
        "Work",
        "--task",
        task,
    ]))
}

fn exit(repo: &TestRepo, agent: &str, cost: &str, tokens: &str) {
    repo.ok(&[
        "agent", "exit", agent, "--status", "0", "--model", "m-large", "--cost", cost, "--tokens",
        tokens,
    ]);
}

#[test]
fn roll_ups_are_the_sums_of_what_was_recorded_and_budgets_warn() {
    let repo = TestRepo::new();
    let objective = id_of(&repo.json(&["objective", "add", "Ship v2", "--budget", "10"]));
    let parser = repo.task(&["Write the parser", "-o", &objective]);
    let docs = repo.task(&["Write the docs", "-o", &objective]);
    let loose = repo.task(&["Tidy the CI"]);
    // One agent at a time per task: each holds its task until it exits.
    let a1 = agent(&repo, &parser);
    exit(&repo, &a1, "3.10", "120000");
    let a2 = agent(&repo, &parser);
    exit(&repo, &a2, "$0.0031", "950");
    let a3 = agent(&repo, &docs);
    exit(&repo, &a3, "2.05", "80000");
    let a4 = agent(&repo, &loose);
    exit(&repo, &a4, "1", "10");
    repo.ok(&["session", "start", "Costs"]);
    repo.ok(&[
        "session", "end", "--cost", "0.5", "--tokens", "3000", "--model", "m-small",
    ]);

    let cost = repo.json(&["status"])["cost"].clone();
    // 3.10 + 0.0031 + 2.05 + 1 + 0.5, exactly.
    assert_eq!(cost["total"]["cost_micros"], 6_653_100);
    assert_eq!(cost["total"]["tokens"], 120_000 + 950 + 80_000 + 10 + 3000);
    assert_eq!(cost["total"]["reports"], 5);
    assert_eq!(cost["by_task"][&parser]["cost_micros"], 3_103_100);
    assert_eq!(cost["by_task"][&parser]["reports"], 2);
    assert_eq!(cost["by_task"][&docs]["cost_micros"], 2_050_000);
    assert_eq!(cost["by_objective"][&objective]["cost_micros"], 5_153_100);
    assert_eq!(cost["by_agent"][&a1]["tokens"], 120_000);
    assert_eq!(cost["by_objective"].as_object().map(|o| o.len()), Some(1));
    assert_eq!(cost["warnings"], Value::Array(vec![]));
    let status = repo.ok(&["status"]);
    assert!(
        status.contains(&format!(
            "Cost\n  total: $6.6531 · 204.0k tokens (5 reports)\n  objective {} Ship v2: $5.1531 · 200.9k tokens (3 reports) of a $10.00 budget\n",
            short(&objective)
        )),
        "{status}"
    );
    assert!(!status.contains("Budget\n"), "{status}");

    // Another agent passes 80 % of the budget: status warns.
    let a5 = agent(&repo, &docs);
    exit(&repo, &a5, "3", "1000");
    let warnings = repo.json(&["status"])["cost"]["warnings"].clone();
    assert_eq!(warnings[0]["objective"], objective.as_str());
    assert_eq!(warnings[0]["percent"], 81);
    assert_eq!(warnings[0]["over"], false);
    assert!(repo.ok(&["status"]).contains(&format!(
        "Budget\n  {} Ship v2: $8.1531 of a $10.00 budget (81 %), nearing it\n",
        short(&objective)
    )));
    // A smaller budget: over it.
    repo.ok(&["objective", "budget", &objective, "8"]);
    assert!(repo.ok(&["status"]).contains(&format!(
        "Budget\n  {} Ship v2: $8.1531 of a $8.00 budget (101 %), over budget\n",
        short(&objective)
    )));
    // The long-term view rolls up the same figures, from the same code.
    let long = repo.ok(&["memory", "long"]);
    assert!(
        long.contains("Cost\n  total: $9.6531 · 205.0k tokens (6 reports)\n"),
        "{long}"
    );
    assert!(long.contains(&format!("  task {} Write the docs: $5.05", short(&docs))));
    let long = repo.json(&["memory", "long"]);
    assert_eq!(long["cost"]["total"]["cost_micros"], 9_653_100);
    // What each reported is kept with it.
    let agents = repo.json(&["agent", "list"]);
    let first = agents
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["id"] == a1.as_str())
        .expect("a1")
        .clone();
    assert_eq!(first["usage"]["model"], "m-large");
}

#[test]
fn bad_amounts_are_refused_and_nothing_is_written() {
    let repo = TestRepo::new();
    let task = repo.task(&["Something"]);
    let a = agent(&repo, &task);
    let before = repo.event_count();
    for bad in ["-1", "abc", "1.1234567", "1,5"] {
        let err = repo.fail(&["agent", "exit", &a, "--cost", bad]);
        assert!(
            err.starts_with(&format!("error: '{bad}' is not an amount of money")),
            "{err}"
        );
    }
    // A usage error, as clap reports them (exit 2).
    let run = repo.run(&["agent", "exit", &a, "--tokens", "many"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("invalid value 'many'"),
        "{}",
        run.stderr
    );
    let err = repo.fail(&["objective", "add", "X", "--budget", "ten"]);
    assert!(err.starts_with("error: 'ten' is not an amount"), "{err}");
    assert_eq!(repo.event_count(), before);
}
