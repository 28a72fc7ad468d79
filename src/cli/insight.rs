use super::output::{Cx, Failure, Reply};
use git_ledger::view::memory::insight_line;
use git_ledger::view::reply;

/// Insights: what was learned; promoted ones form the knowledge base.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Record an insight.
    Add(git_ledger::request::InsightAdd),
    /// Promote an insight into the knowledge base.
    Promote {
        /// Insight id or unique prefix (i-3f9a2c).
        id: String,
    },
    /// List insights.
    List {
        /// Only insights with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    match command {
        Command::Add(add) => {
            let text = super::input::text_arg(add.text)?;
            let (loaded, insight) =
                ledger.insight_add(&text, &add.tags, add.knowledge, add.task.as_deref())?;
            let text = format!("{}\n", reply::insight_recorded(&loaded.state, &insight));
            Ok(Reply::new(ledger, &loaded, &insight, text))
        }
        Command::Promote { id } => {
            let (loaded, insight) = ledger.insight_promote(&id)?;
            let text = format!(
                "In the knowledge base: {}\n",
                insight_line(&loaded.state, &insight)
            );
            Ok(Reply::new(ledger, &loaded, &insight, text))
        }
        Command::List { tag } => {
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let tag = tag.map(|t| t.trim_start_matches('#').to_lowercase());
            let insights: Vec<_> = state
                .insights
                .iter()
                .filter(|i| tag.as_ref().is_none_or(|t| i.tags.contains(t)))
                .collect();
            let mut text: String = insights
                .iter()
                .map(|i| {
                    let kb = if i.knowledge { " (knowledge)" } else { "" };
                    insight_line(state, i) + kb + "\n"
                })
                .collect();
            if text.is_empty() {
                text = "No insights\n".into();
            }
            Ok(Reply::new(ledger, &loaded, &insights, text))
        }
    }
}
