use super::output::{Failure, Reply};
use git_ledger::ledger::Ledger;
use git_ledger::projection::doc::Format;
use git_ledger::projection::memory::{self, View};

/// Memory views: working, short, long, knowledge.
///
/// working: this session's focus, tasks in progress, open decisions, last actions, next steps.
/// short: the last days' completions, decisions, insights and sessions. long: every objective
/// with its outcome, decisions with rationale, insights and metrics. knowledge: promoted
/// insights by tag.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    view: ViewArg,
    /// Text for people, or markdown to paste into an agent's prompt.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// How many days the short-term view covers.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// The view as it stood then: a time (2026-01-05, 2026-01-05T09:00:00Z), an event id or a
    /// session id (its end).
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
}

/// A memory view, as named on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ViewArg {
    Working,
    Short,
    Long,
    Knowledge,
}

impl From<ViewArg> for View {
    fn from(view: ViewArg) -> View {
        match view {
            ViewArg::Working => View::Working,
            ViewArg::Short => View::Short,
            ViewArg::Long => View::Long,
            ViewArg::Knowledge => View::Knowledge,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Markdown,
}

pub fn run(ledger: &Ledger, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load_at(args.at.as_deref())?;
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(&loaded, session.as_deref());
    let (data, doc) = memory::view(args.view.into(), &loaded.state, &scope, args.days);
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Markdown => Format::Markdown,
    };
    Ok(Reply::new(ledger, &loaded, data, doc.render(format)))
}
