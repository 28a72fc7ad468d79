use super::output::{Cx, Failure, Reply};
use git_ledger::event::kind::one_line;
use git_ledger::ledger::CheckRun;
use git_ledger::model::{CheckState, Rule};

/// Validation rules as checks: results pinned to the commit they hold for.
///
/// A task's rules are commands (`task add --check-command`) and checklist items
/// (`--check-item`). A result counts only for the commit it was recorded at: `task done`
/// refuses while a rule has no passing result at the task's tip (the tip of its branch, else
/// HEAD), and so does the merge gate with `ledger.gate.requireChecks=true`. A new commit makes
/// every result stale again.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run the task's command rules on its tip and record each result (default: the task in
    /// focus, or the agent's task).
    ///
    /// Each command runs with `sh -c` in the worktree that has the task's branch checked out
    /// (this worktree when the task has no branch), its output combined and digested; the
    /// results are recorded in one commit. Exits non-zero when any command fails.
    Run {
        /// Task id or unique prefix.
        task: Option<String>,
    },
    /// Record a checklist item of a task as confirmed at its tip (or failed, with --fail).
    Confirm {
        /// The item: its text, or its number in `check list`.
        item: String,
        /// The task, if not the one in focus.
        #[arg(long, short = 't')]
        task: Option<String>,
        /// Record that the item does not hold.
        #[arg(long)]
        fail: bool,
    },
    /// Show each rule of a task at its tip: passing, failing, stale (passed on an older
    /// commit) or never run.
    List {
        /// Task id or unique prefix (default: the task in focus).
        task: Option<String>,
    },
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Run { task } => {
            let (loaded, run) = ledger.check_run(task.as_deref())?;
            let text = results_text(&loaded.state.short(&run.task), &run, true);
            let mut reply = Reply::new(ledger, &loaded, &run, text);
            if run.failed() > 0 {
                reply.failure = Some(Failure {
                    code: "check_failed".into(),
                    message: format!(
                        "{} of {} check(s) failed at {}",
                        run.failed(),
                        run.results.len(),
                        short_hex(&run.commit)
                    ),
                    hint: Some(
                        "fix the work and commit it, then run `git ledger check run` again".into(),
                    ),
                });
            }
            Ok(reply)
        }
        Command::Confirm { item, task, fail } => {
            let (loaded, run) = ledger.check_confirm(task.as_deref(), &item, !fail)?;
            let text = results_text(&loaded.state.short(&run.task), &run, false);
            Ok(Reply::new(ledger, &loaded, &run, text))
        }
        Command::List { task } => {
            let (loaded, list) = ledger.check_list(task.as_deref())?;
            let at = list
                .commit
                .as_deref()
                .map(short_hex)
                .unwrap_or_else(|| "no commit".into());
            let mut text = format!("{} at {at}\n", loaded.state.short(&list.task));
            for (n, check) in list.rules.iter().enumerate() {
                let state = match &check.state {
                    CheckState::Stale { passed_at } => {
                        format!("stale (passed at {})", short_hex(passed_at))
                    }
                    other => other.label().to_string(),
                };
                text.push_str(&format!(
                    "  {}. {:<9} {}\n",
                    n + 1,
                    state,
                    rule_text(&check.rule)
                ));
            }
            Ok(Reply::new(ledger, &loaded, &list, text))
        }
    }
}

/// One line per result; a failed command's output tail below it.
fn results_text(task: &str, run: &CheckRun, with_output: bool) -> String {
    let mut text = format!("{task} at {}\n", short_hex(&run.commit));
    for result in &run.results {
        let mut line = format!(
            "  {} {}",
            if result.passed { "pass" } else { "FAIL" },
            rule_text(&result.rule)
        );
        match (result.exit_status, &result.output_digest) {
            (Some(0), _) | (_, None) => {}
            (Some(127), _) => line.push_str(" (exit 127: command not found)"),
            (Some(code), _) => line.push_str(&format!(" (exit {code})")),
            (None, Some(_)) => line.push_str(" (ended by a signal)"),
        }
        if let Some(ms) = result.duration_ms {
            line.push_str(&format!(" in {:.1}s", ms as f64 / 1000.0));
        }
        text.push_str(&line);
        text.push('\n');
        if with_output && !result.passed {
            let tail = result.output_tail.as_deref().unwrap_or("");
            let lines: Vec<&str> = tail.lines().collect();
            for line in &lines[lines.len().saturating_sub(20)..] {
                text.push_str(&format!("      {line}\n"));
            }
        }
    }
    text
}

fn rule_text(rule: &Rule) -> String {
    match rule {
        Rule::Command(command) => format!("$ {}", one_line(command, 100)),
        Rule::Item(item) => format!("[item] {}", one_line(item, 100)),
    }
}

fn short_hex(hex: &str) -> String {
    hex.chars().take(10).collect()
}
