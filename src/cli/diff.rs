use super::memory::ViewArg;
use super::output::{Cx, Failure, Reply};
use git_ledger::fold::point::{self, SessionEnd};
use git_ledger::ledger::Error;
use git_ledger::view::doc::Format;
use git_ledger::view::memory;
use serde_json::json;

/// Show how a memory view changed between two points, as a unified diff.
///
/// A point is a time (2026-01-05, 2026-01-05T09:00:00Z), an event id, or a session id: the
/// session's start as FROM, its end as TO. With only a session id, the diff spans that session.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The earlier point.
    from: String,
    /// The later point (default: now, or the end of the session named by FROM).
    to: Option<String>,
    /// Which view to compare.
    #[arg(long, value_enum, default_value = "long")]
    view: ViewArg,
    /// Days covered by the short-term view.
    #[arg(long, default_value_t = 7)]
    days: u32,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load_full()?;
    let state = &loaded.state;
    let from = point::resolve(state, &args.from, SessionEnd::Start).map_err(Error::from)?;
    let spans_session =
        args.to.is_none() && args.from.trim().to_ascii_lowercase().starts_with("s-");
    let (to, to_name) = match &args.to {
        Some(to) => (
            point::resolve(state, to, SessionEnd::End).map_err(Error::from)?,
            to.clone(),
        ),
        None if spans_session => (
            point::resolve(state, &args.from, SessionEnd::End).map_err(Error::from)?,
            format!("{} (end)", args.from),
        ),
        None => (
            point::Point {
                events: state.events.len(),
                now: loaded.now,
            },
            "now".to_string(),
        ),
    };
    let render = |at: point::Point| -> Result<String, Failure> {
        let past = point::state_at(state, at);
        let session = ledger.current_session(&past)?;
        let scope = git_ledger::view::memory::Scope {
            writer: ledger.writer(),
            actor: ledger.actor(),
            stall_after_minutes: git_ledger::view::health::DEFAULT_STALL_AFTER_MINUTES,
            worktree: ledger.worktree(),
            session: session.as_deref(),
            now: at.now,
        };
        // Compared in full: a summary recorded in between is not a change of the content.
        Ok(memory::view(
            args.view.into(),
            &past,
            &scope,
            args.days,
            git_ledger::fold::compaction::Summaries::Expand,
        )
        .1
        .render(Format::Text))
    };
    let (before, after) = (render(from)?, render(to)?);
    let label = |name: &str, at: &point::Point| {
        format!(
            "{name} ({} events, {})",
            at.events,
            at.now.format("%Y-%m-%d %H:%M:%S")
        )
    };
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&label(&args.from, &from), &label(&to_name, &to))
        .to_string();
    let text = if diff.is_empty() {
        "No change\n".to_string()
    } else {
        diff.clone()
    };
    let data = json!({
        "from": { "input": args.from, "events": from.events, "time": from.now },
        "to": { "input": args.to, "events": to.events, "time": to.now },
        "changed": !diff.is_empty(),
        "diff": diff,
    });
    Ok(Reply::new(ledger, &loaded, data, text))
}
