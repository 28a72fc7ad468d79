//! A task in full: the one text `task show` and the MCP `task_show` tool give.

use super::memory::{action, minutes_text};
use crate::event::kind::one_line;
use crate::fold::state::State;
use crate::model::{Review, Rule, Task, TaskStatus};

/// A task in full, as `task show` prints it: fields, validation at `tip` (the commit its
/// rules are shown at, `Ledger::check_tip`), notes, merges, commits and history.
///
/// `tip`: the commit the task's validation rules are shown at (`Ledger::check_tip`).
pub fn detail_text(
    state: &State,
    task: &Task,
    now: chrono::DateTime<chrono::Utc>,
    tip: Option<&str>,
) -> String {
    let mut text = format!("{} {}\n", state.short(&task.id), task.title);
    let mut field = |name: &str, value: String| text.push_str(&format!("{name:<12}{value}\n"));
    field("status", task.status.label().to_string());
    field("priority", format!("P{}", task.priority));
    if let Some(role) = &task.role {
        field("role", role.clone());
    }
    for check in task.check_states(tip.unwrap_or("")) {
        let (what, text) = match &check.rule {
            Rule::Command(command) => ("command", command),
            Rule::Item(item) => ("item", item),
        };
        let at: String = tip.unwrap_or("no commit").chars().take(10).collect();
        field(
            "validation",
            format!(
                "{what}: {} ({} at {at})",
                one_line(text, 100),
                check.state.label()
            ),
        );
    }
    if let Some(objective) = &task.objective {
        let title = state
            .title_of(objective)
            .map(|t| one_line(t, 60))
            .unwrap_or_default();
        field("objective", format!("{} {title}", state.short(objective)));
    }
    if !task.depends_on.is_empty() {
        let deps: Vec<String> = task
            .depends_on
            .iter()
            .map(|d| {
                let done = state
                    .tasks
                    .get(d)
                    .is_some_and(|t| t.status == TaskStatus::Done);
                format!("{}{}", state.short(d), if done { " (done)" } else { "" })
            })
            .collect();
        field("depends on", deps.join(", "));
    }
    let estimate = task
        .estimate_minutes
        .map(minutes_text)
        .unwrap_or_else(|| "none".into());
    let worked = match task.actual_minutes(now) {
        Some(minutes) => format!("{} worked", minutes_text(minutes)),
        None => "not started".into(),
    };
    field("time", format!("{worked}, estimate {estimate}"));
    field(
        "created",
        format!(
            "{} by {}",
            task.created.format("%Y-%m-%d %H:%M"),
            task.created_by
        ),
    );
    if let Some(reason) = &task.block_reason {
        field("blocked", one_line(reason, 100));
    }
    if let Some(summary) = &task.summary {
        field("summary", one_line(summary, 100));
    }
    if let Some(overridden) = &task.forced_over {
        field(
            "forced",
            format!("closed with --force over: {}", overridden.join("; ")),
        );
    }
    if !task.branches.is_empty() {
        field("branches", task.branches.join(", "));
    }
    field("review", review_text(task));
    if let Some(description) = &task.description {
        text.push_str(&format!("\n{description}\n"));
    }
    text.push_str("\nNotes\n");
    if task.notes.is_empty() {
        text.push_str("  none\n");
    }
    for note in &task.notes {
        text.push_str(&format!(
            "  {} {} ({})\n",
            note.time.format("%Y-%m-%d %H:%M"),
            one_line(&note.text, 200),
            note.actor
        ));
    }
    if !task.merges.is_empty() {
        text.push_str("\nMerges\n");
        for m in &task.merges {
            text.push_str(&format!(
                "  {} {} {} into {}\n",
                crate::event::short_hex(&m.merge_commit),
                m.time.format("%Y-%m-%d %H:%M"),
                m.branch,
                m.into
            ));
        }
    }
    if !task.commits.is_empty() {
        text.push_str("\nCommits\n");
        for c in &task.commits {
            text.push_str(&format!(
                "  {} {} on {} by {}\n",
                crate::event::short_hex(&c.commit),
                c.time.format("%Y-%m-%d %H:%M"),
                c.branch.as_deref().unwrap_or("(detached)"),
                c.author.as_deref().unwrap_or("?")
            ));
        }
    }
    text.push_str("\nHistory\n");
    for &i in &task.history {
        text.push_str(&format!(
            "  {}\n",
            action(state, &state.events[i]).line(state)
        ));
    }
    text
}

/// The review state in a few words.
pub fn review_text(task: &Task) -> String {
    let short = |c: &str| c.chars().take(10).collect::<String>();
    match &task.review {
        Review::None => "none".into(),
        Review::Requested { commit: Some(c) } => format!("requested at {}", short(c)),
        Review::Requested { commit: None } => "requested".into(),
        Review::Approved { commit, by } => format!("approved at {} by {by}", short(commit)),
        Review::Rejected { commit, reason, by } => format!(
            "rejected{} by {by}: {reason}",
            commit
                .as_deref()
                .map(|c| format!(" at {}", short(c)))
                .unwrap_or_default()
        ),
    }
}
