//! MCP tools for sessions: start, resume, end.

use super::*;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionArgs {
    /// Session id or unique prefix (s-3f9a2c); default: this worktree's open session.
    pub id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionEndArgs {
    /// Session id or unique prefix; default: this worktree's open session.
    pub id: Option<String>,
    /// What the session achieved.
    pub summary: Option<String>,
    /// Mark it abandoned rather than finished.
    #[serde(default)]
    pub abandoned: bool,
    /// The model the session used.
    pub model: Option<String>,
    /// Tokens the session used.
    pub tokens: Option<u64>,
    /// What the session cost, in currency units (1.25).
    pub cost: Option<f64>,
}

#[tool_router(router = session_router, vis = "pub(super)")]
impl Server {
    #[tool(
        description = "Start a session in this worktree: events recorded while it is open \
                          belong to it, and it can be resumed after a crash."
    )]
    async fn session_start(
        &self,
        args: Parameters<crate::request::SessionStart>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let (loaded, context) = ledger.session_start(args.0.title.as_deref())?;
            let text = context
                .working
                .doc(&loaded.state, loaded.now)
                .render(Format::Markdown);
            let text = format!(
                "Started session {}\n\n{text}",
                session_line(&loaded.state, &context.session)
            );
            Ok((loaded, json!(context.started()), text))
        }))
    }

    #[tool(
        description = "Resume a session (default: this worktree's open one) and get its \
                          context: focus, work in progress, open decisions, last actions and \
                          next steps."
    )]
    async fn session_resume(
        &self,
        args: Parameters<SessionArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let (loaded, context) = ledger.session_resume(args.0.id.as_deref())?;
            let mut text: String = context.notices.iter().map(|n| format!("{n}\n")).collect();
            text.push_str(
                &context
                    .working
                    .doc(&loaded.state, loaded.now)
                    .render(Format::Markdown),
            );
            Ok((loaded, json!(context), text))
        }))
    }

    #[tool(
        description = "End a session (default: this worktree's open one) with what it \
                          achieved."
    )]
    async fn session_end(
        &self,
        args: Parameters<SessionEndArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        let usage = usage_input(args.model, args.tokens, args.cost);
        Ok(self.call(|ledger| {
            let (loaded, session) = ledger.session_end(
                args.id.as_deref(),
                args.summary.as_deref(),
                args.abandoned,
                &usage,
            )?;
            let text = format!("Ended session {}", session_line(&loaded.state, &session));
            Ok((loaded, json!(session), text))
        }))
    }
}
