use super::output::{Cx, Failure, Reply};
use git_ledger::event::EntityKind;
use git_ledger::ledger::resolve;
use git_ledger::view::blame::blame;

/// Who set each field of an entity, with which event and when (like `git blame`).
///
/// For a task, objective, decision or insight: the last event that gave each field its value,
/// with its session and actor. A field cleared later (a block reason once the task restarts) still names the event that
/// last set it.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The entity: t-…, o-…, d-… or i-… (any unique prefix; a bare prefix means a task).
    id: String,
    /// Only this field (e.g. status, title, priority).
    field: Option<String>,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load_full()?;
    let state = &loaded.state;
    let kind = match args.id.trim().get(..2) {
        Some("o-") => EntityKind::Objective,
        Some("d-") => EntityKind::Decision,
        Some("i-") => EntityKind::Insight,
        _ => EntityKind::Task,
    };
    let id = resolve(state, kind, &args.id)?;
    let mut lines = blame(state, &id);
    if let Some(field) = &args.field {
        let known: Vec<&str> = lines.iter().map(|b| b.field).collect();
        if !known.contains(&field.as_str()) {
            return Err(Failure {
                code: "unknown_field".into(),
                message: format!(
                    "{} has no field '{field}' set by any event",
                    state.short(&id)
                ),
                hint: Some(format!("its fields: {}", known.join(", "))),
            });
        }
        lines.retain(|b| b.field == field.as_str());
    }
    let mut text = format!(
        "{} {}\n",
        state.short(&id),
        state.title_of(&id).unwrap_or("")
    );
    for b in &lines {
        let session = b
            .session
            .as_deref()
            .map(|s| state.short(s))
            .unwrap_or_else(|| "-".into());
        text.push_str(&format!(
            "  {:<16} {} {} {:<22} {:<9} {}\n",
            b.field,
            git_ledger::event::short_hex(&b.event),
            b.time.format("%Y-%m-%d %H:%M"),
            b.actor,
            session,
            b.kind
        ));
    }
    Ok(Reply::new(ledger, &loaded, &lines, text))
}
