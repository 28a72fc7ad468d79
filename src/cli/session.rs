use super::output::{Cx, Failure, Reply};
use git_ledger::view::doc::Format;
use git_ledger::view::memory::{action, session_line};
use git_ledger::view::reply;
use serde_json::json;

/// Sessions: resumable stretches of work in one worktree.
///
/// Events recorded while a session is open belong to it; `session resume` brings back its
/// context after a crash or in a new process.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Start a session in this worktree.
    Start(git_ledger::request::SessionStart),
    /// Resume a session and print its context, last actions and next steps.
    ///
    /// Without an id: the open session of this worktree, else the one that ended last here.
    /// With an id from another worktree, the session moves here, and the session open here (a
    /// worktree has one) ends. An ended session is continued in a new session linked to it.
    Resume {
        #[command(flatten)]
        session: git_ledger::request::SessionResume,
        /// Print the context as markdown, ready for an agent's prompt.
        #[arg(long)]
        markdown: bool,
    },
    /// End a session (default: this worktree's).
    End {
        #[command(flatten)]
        end: git_ledger::request::SessionEnd,
        /// Run as the harness's session-end hook: end the ledger session of the harness
        /// session named in its JSON on standard input (nothing to do when there is none).
        #[arg(long, value_enum, value_name = "HARNESS", conflicts_with_all = ["id", "abandoned"])]
        hook: Option<super::input::Hook>,
    },
    /// Show a session and its events (default: this worktree's).
    Show {
        /// Session id or unique prefix.
        id: Option<String>,
    },
    /// List sessions.
    List,
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Start(start) => {
            let (loaded, context) = ledger.session_start(start.title.as_deref())?;
            let text = context.started_text(&loaded, Format::Text);
            Ok(Reply::new(ledger, &loaded, context.started(), text))
        }
        Command::Resume { session, markdown } => {
            let (loaded, context) = ledger.session_resume(session.id.as_deref())?;
            for notice in &context.notices {
                git_ledger::eprintln_safe!("{notice}");
            }
            let format = if markdown {
                Format::Markdown
            } else {
                Format::Text
            };
            let text = context
                .working
                .doc(&loaded.state, loaded.now)
                .render(format);
            Ok(Reply::new(ledger, &loaded, &context, text))
        }
        Command::End {
            end,
            hook: Some(hook),
        } => {
            let key = super::input::hook_session_key(hook)?;
            let (loaded, ended) =
                ledger.session_end_for_harness(&key, end.summary.as_deref(), &end.usage.into())?;
            let Some(session) = ended else {
                let text = "No open session records this harness session\n".to_string();
                return Ok(Reply::new(ledger, &loaded, serde_json::Value::Null, text));
            };
            let text = format!("{}\n", reply::session_ended(&loaded.state, &session));
            Ok(Reply::new(ledger, &loaded, &session, text))
        }
        Command::End { end, hook: None } => {
            let (loaded, session) = ledger.session_end(
                end.id.as_deref(),
                end.summary.as_deref(),
                end.abandoned,
                &end.usage.into(),
            )?;
            let text = format!("{}\n", reply::session_ended(&loaded.state, &session));
            Ok(Reply::new(ledger, &loaded, &session, text))
        }
        Command::Show { id } => {
            let loaded = ledger.load_full()?;
            let state = &loaded.state;
            let id = ledger.find_session(state, id.as_deref())?;
            let session = state.sessions.get(&id);
            let actions: Vec<_> = state
                .session_events(&id)
                .map(|e| action(state, e))
                .collect();
            let mut text = session.map(|s| session_line(state, s)).unwrap_or_default() + "\n";
            if let Some(summary) = session.and_then(|s| s.summary.as_deref()) {
                text.push_str(&format!("summary: {summary}\n"));
            }
            text.push_str("\nEvents\n");
            for a in &actions {
                text.push_str(&format!("  {}\n", a.line(state)));
            }
            let data = json!({ "session": session, "events": actions });
            Ok(Reply::new(ledger, &loaded, data, text))
        }
        Command::List => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let mut text: String = state
                .sessions
                .iter()
                .map(|s| session_line(state, s) + "\n")
                .collect();
            if text.is_empty() {
                text = "No sessions yet (git ledger session start \"<goal>\")\n".into();
            }
            let data: Vec<_> = state.sessions.iter().collect();
            Ok(Reply::new(ledger, &loaded, &data, text))
        }
    }
}
