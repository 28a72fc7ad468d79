use super::output::{Cx, Failure, Reply};
use git_ledger::event::kind::describe;

/// The event log, newest first, like `git log`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Show at most this many events (0: all).
    #[arg(long = "max-count", short = 'n', default_value_t = 20)]
    max_count: usize,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let limit = if args.max_count == 0 {
        usize::MAX
    } else {
        args.max_count
    };
    // The newest events come with the cached state; older ones need the whole history.
    let mut loaded = ledger.load()?;
    if !loaded.state.complete && limit > loaded.state.recent.len().min(loaded.state.event_count) {
        loaded = ledger.load_full()?;
    }
    let state = &loaded.state;
    let events: Vec<_> = if state.complete {
        state.events.iter().rev().take(limit).collect()
    } else {
        state.recent.iter().rev().take(limit).collect()
    };
    let mut text = String::new();
    for event in &events {
        let subject = event
            .subject
            .as_deref()
            .map(|s| state.short(s))
            .unwrap_or_else(|| "-".into());
        text.push_str(&format!(
            "{} {} {:<20} {:<10} {} ({})\n",
            git_ledger::event::short_hex(&event.id),
            event.timestamp().format("%Y-%m-%d %H:%M:%S"),
            event.kind,
            subject,
            describe(event),
            event.actor
        ));
    }
    if text.is_empty() {
        text = "No events yet\n".into();
    }
    for problem in &loaded.problems {
        git_ledger::eprintln_safe!(
            "warning: {} at {}: {}",
            problem.reference,
            git_ledger::event::short_hex(&problem.commit),
            problem.message
        );
    }
    Ok(Reply::new(ledger, &loaded, &events, text))
}
