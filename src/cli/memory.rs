use super::output::{Cx, Failure, Reply};
use git_ledger::fold::compaction::Summaries;
use git_ledger::ledger::parse_before;
use git_ledger::view::doc::Format;
use git_ledger::view::memory::{self, View};

/// Memory views: working, short, long, knowledge; and summaries of old periods.
///
/// Old periods can be summarised (`memory compact`): the short- and long-term views then show
/// the summary instead of the items it covers, and `--expand` shows them all again. Nothing is
/// ever deleted.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// This session's focus, tasks in progress, open decisions, last actions, next steps.
    Working(ViewArgs),
    /// The last days' completions, decisions, insights and sessions.
    Short {
        #[command(flatten)]
        view: ViewArgs,
        /// How many days the view covers.
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Every objective with its outcome, decisions with rationale, insights, metrics, cost.
    Long {
        #[command(flatten)]
        view: ViewArgs,
        #[command(flatten)]
        history: HistoryArgs,
    },
    /// Promoted insights by tag.
    Knowledge(ViewArgs),
    /// Summarise the period before a time, with a summary you write (or an agent does).
    ///
    /// Appends one event that points at the range of events it summarises; the short- and
    /// long-term views then show the summary in place of older items. Undo by reading with
    /// --expand, or by compacting again with an earlier time: nothing is deleted.
    Compact {
        /// The end of the period: 2026-02-01 (the start of that day, UTC) or an RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        before: String,
        /// A file holding the summary; `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        summary_file: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// Text for people, or markdown to paste into an agent's prompt.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// The view as it stood then: a time (2026-01-05, 2026-01-05T09:00:00Z), an event id or a
    /// session id (its end).
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Keep the text within this many bytes, leaving out the oldest lines of the longest
    /// sections first (the --json data is not trimmed).
    #[arg(long, value_name = "N")]
    max_bytes: Option<usize>,
    /// Show every item, ignoring summaries of old periods.
    #[arg(long)]
    expand: bool,
}

/// A memory view, as named on the command line (`diff --view`).
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

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    let none = HistoryArgs {
        max_bytes: None,
        expand: false,
    };
    let (view, args, days, history) = match command {
        Command::Working(args) => (View::Working, args, 7, none),
        Command::Short {
            view,
            days,
            history,
        } => (View::Short, view, days, history),
        Command::Long { view, history } => (View::Long, view, 7, history),
        Command::Knowledge(args) => (View::Knowledge, args, 7, none),
        Command::Compact {
            before,
            summary_file,
        } => return compact(ledger, &before, &summary_file),
    };
    let loaded = ledger.load_at(args.at.as_deref())?;
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(&loaded, session.as_deref());
    let summaries = if history.expand {
        Summaries::Expand
    } else {
        Summaries::Use
    };
    let (data, doc) = memory::view(view, &loaded.state, &scope, days, summaries);
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Markdown => Format::Markdown,
    };
    let text = match history.max_bytes {
        Some(max) => doc.render_within(format, max).0,
        None => doc.render(format),
    };
    Ok(Reply::new(ledger, &loaded, data, text))
}

fn compact(ledger: &Cx, before: &str, summary_file: &str) -> Result<Reply, Failure> {
    let before = parse_before(before)?;
    let summary = super::input::file_arg(summary_file)?;
    let (loaded, compaction) = ledger.memory_compact(before, &summary)?;
    let text = format!(
        "Summarised {} events before {} as {}; `git ledger memory long --expand` shows them\n",
        compaction.events,
        compaction.before.format("%Y-%m-%d %H:%M"),
        compaction.id
    );
    Ok(Reply::new(ledger, &loaded, &compaction, text))
}
