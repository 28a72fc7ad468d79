//! MCP tools for insights, decisions and the memory views.

use super::*;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MemoryArgs {
    /// working: this session; short: the last days; long: everything with rationale and
    /// metrics; knowledge: promoted insights by tag.
    pub view: ViewName,
    /// text (default) or markdown.
    #[serde(default)]
    pub format: FormatName,
    /// How many days the short-term view covers (default 7).
    pub days: Option<u32>,
    /// Show every item, ignoring summaries of old periods (short and long views).
    #[serde(default)]
    pub expand: bool,
    /// Keep the text within this many bytes, leaving out the oldest lines first.
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MemoryCompactArgs {
    /// The end of the period summarised: 2026-02-01 (start of that day, UTC) or RFC 3339.
    pub before: String,
    /// The summary of that period, written by you.
    pub summary: String,
}

#[tool_router(router = knowledge_router, vis = "pub(super)")]
impl Server {
    #[tool(
        description = "Find tasks, objectives, insights and decisions by their words (each \
                          word a prefix, all required), best match first; `kind` keeps one \
                          kind. Use it before starting work to find what is known about it."
    )]
    async fn search(
        &self,
        args: Parameters<crate::request::Search>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, hits) = ledger.search(&args.text(), args.kind.as_deref(), args.limit)?;
            let text = reply::search_hits(&loaded.state, &hits);
            Ok((loaded, json!(hits), text))
        }))
    }

    #[tool(
        description = "Record an insight, with tags; knowledge=true promotes it into the \
                          knowledge base."
    )]
    async fn insight_add(&self, args: Parameters<InsightAdd>) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, insight) =
                ledger.insight_add(&args.text, &args.tags, args.knowledge, args.task.as_deref())?;
            let text = reply::insight_recorded(&loaded.state, &insight);
            Ok((loaded, json!(insight), text))
        }))
    }

    #[tool(description = "Ask for a decision: a question with options (none: free choice).")]
    async fn decision_request(
        &self,
        args: Parameters<DecisionRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, decision) =
                ledger.decision_request(&args.question, &args.options, args.task.as_deref())?;
            let text = reply::decision_requested(&loaded.state, &decision);
            Ok((loaded, json!(decision), text))
        }))
    }

    #[tool(
        description = "Make a decision: the choice (one of the options, or its number) and \
                          the rationale."
    )]
    async fn decision_make(
        &self,
        args: Parameters<DecisionMake>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, decision) =
                ledger.decision_make(&args.id, &args.choice, &args.rationale)?;
            let text = reply::decision_made(&loaded.state, &decision);
            Ok((loaded, json!(decision), text))
        }))
    }

    #[tool(
        description = "A memory view: working (this session), short (the last days), long \
                          (everything, with rationale and metrics) or knowledge (promoted \
                          insights by tag), as text or markdown."
    )]
    async fn memory(&self, args: Parameters<MemoryArgs>) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let (data, doc) = view(ledger, &loaded, args.view, args.days, args.expand)?;
            let format = render_format(args.format);
            let text = match args.max_bytes {
                Some(max) => doc.render_within(format, max).0,
                None => doc.render(format),
            };
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Summarise the period before a time with your summary: the short- and \
                          long-term views then show it instead of the older items (expand \
                          shows them again; nothing is deleted)."
    )]
    async fn memory_compact(
        &self,
        args: Parameters<MemoryCompactArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let before = parse_before(&args.before)?;
            let (loaded, compaction) = ledger.memory_compact(before, &args.summary)?;
            let text = format!(
                "Summarised {} events before {} as {}",
                compaction.events,
                compaction.before.format("%Y-%m-%d %H:%M"),
                compaction.id
            );
            Ok((loaded, json!(compaction), text))
        }))
    }
}
