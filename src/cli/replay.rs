use super::output::{Cx, Failure, Reply};
use git_ledger::event::kind::describe;
use git_ledger::event::{EntityKind, Event};
use git_ledger::fold::point::{self, SessionEnd};
use git_ledger::fold::state::State;
use git_ledger::fold::timeline::Filter;
use git_ledger::ledger::{Error, resolve};
use std::io::{BufRead, IsTerminal, Write};

/// Replay the event timeline, oldest first, with session boundaries marked.
///
/// With --json, one canonical event per line (JSONL), as stored.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only events of this session.
    #[arg(long)]
    session: Option<String>,
    /// Only events about this objective or its tasks.
    #[arg(long)]
    objective: Option<String>,
    /// Only events about this task.
    #[arg(long)]
    task: Option<String>,
    /// Only events of this agent: those it wrote (as agent:<id>), and its spawn and end.
    #[arg(long)]
    agent: Option<String>,
    /// From this time, event id or session (its start), inclusive.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Up to this time, event id or session (its end), inclusive.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Pause after each event (on a terminal): Enter for the next, q to stop.
    #[arg(long)]
    step: bool,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Option<Reply>, Failure> {
    let json = ledger.json;
    let loaded = ledger.load_full()?;
    let state = &loaded.state;
    let filter = Filter {
        session: args
            .session
            .as_deref()
            .map(|s| resolve(state, EntityKind::Session, s))
            .transpose()?,
        objective: args
            .objective
            .as_deref()
            .map(|o| resolve(state, EntityKind::Objective, o))
            .transpose()?,
        task: args
            .task
            .as_deref()
            .map(|t| resolve(state, EntityKind::Task, t))
            .transpose()?,
        // A spawned agent by any unique prefix of its id; other names as typed.
        agent: args.agent.as_deref().map(|a| {
            state
                .resolve(EntityKind::Agent, a)
                .unwrap_or_else(|_| a.to_string())
        }),
        from: match &args.since {
            Some(since) => point::start_index(state, since).map_err(Error::from)?,
            None => 0,
        },
        to: match &args.until {
            Some(until) => Some(
                point::resolve(state, until, SessionEnd::End)
                    .map_err(Error::from)?
                    .events,
            ),
            None => None,
        },
    };
    let events = filter.select(state);
    let step = args.step && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let mut session: Option<&str> = None;
    for (n, event) in events.iter().enumerate() {
        let text = if json {
            event.to_line() + "\n"
        } else {
            let mut text = String::new();
            if n == 0 || event.session.as_deref() != session {
                text.push_str(&boundary(state, event));
            }
            session = event.session.as_deref();
            git_ledger::terminal::safe(&(text + &line(state, event))).into_owned()
        };
        if out.write_all(text.as_bytes()).is_err() {
            return Ok(None); // the reader went away (`| head`)
        }
        if step && n + 1 < events.len() {
            let _ = write!(out, "  [{}/{}] Enter: next, q: quit ", n + 1, events.len());
            let _ = out.flush();
            let mut answer = String::new();
            if std::io::stdin().lock().read_line(&mut answer).is_err() || answer.trim() == "q" {
                break;
            }
        }
    }
    if events.is_empty() && !json {
        let _ = out.write_all(b"No events match\n");
    }
    Ok(None)
}

fn boundary(state: &State, event: &Event) -> String {
    match event.session.as_deref() {
        Some(id) => {
            let title = state
                .sessions
                .get(id)
                .and_then(|s| s.title.as_deref())
                .map(|t| format!(" \"{}\"", git_ledger::event::kind::one_line(t, 60)))
                .unwrap_or_default();
            format!("── session {}{title} ──\n", state.short(id))
        }
        None => "── outside any session ──\n".to_string(),
    }
}

fn line(state: &State, event: &Event) -> String {
    let subject = event
        .subject
        .as_deref()
        .map(|s| state.short(s))
        .unwrap_or_else(|| "-".into());
    format!(
        "{}  {:<22} {:<10} {}\n",
        event.timestamp().format("%Y-%m-%d %H:%M:%S"),
        event.actor,
        subject,
        describe(event)
    )
}
