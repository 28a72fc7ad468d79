use super::output::{Failure, Reply, to_value};
use git_ledger::ledger::Ledger;
use git_ledger::projection::doc::Format;
use git_ledger::projection::memory;

/// Memory views: working, short, long, knowledge.
///
/// working: this session's focus, tasks in progress, open decisions, last actions, next steps.
/// short: the last days' completions, decisions, insights and sessions. long: every objective
/// with its outcome, decisions with rationale, insights and metrics. knowledge: promoted
/// insights by tag.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    view: View,
    /// Text for people, or markdown to paste into an agent's prompt.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// How many days the short-term view covers.
    #[arg(long, default_value_t = 7)]
    days: u32,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum View {
    Working,
    Short,
    Long,
    Knowledge,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Markdown,
}

pub fn run(ledger: &Ledger, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load()?;
    let state = &loaded.state;
    let now = loaded.now;
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Markdown => Format::Markdown,
    };
    let (data, doc) = match args.view {
        View::Working => {
            let session = ledger.current_session(state)?;
            let view = memory::working(state, &ledger.scope(&loaded, session.as_deref()));
            (to_value(&view), view.doc(state, now))
        }
        View::Short => {
            let view = memory::short_term(state, now, args.days);
            (to_value(&view), view.doc(state, now))
        }
        View::Long => {
            let view = memory::long_term(state, now);
            (to_value(&view), view.doc(state, now))
        }
        View::Knowledge => {
            let view = memory::knowledge(state);
            (to_value(&view), view.doc(state))
        }
    };
    let text = doc.render(format);
    Ok(Reply::new(ledger, &loaded, data, text))
}
