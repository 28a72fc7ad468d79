//! `git ledger mcp`: the ledger as a Model Context Protocol server on standard input and
//! output, for coding agents that speak MCP.
//!
//! Each tool is one ledger operation on the repository the server was started in, with the
//! same validation and the same data as the command line's `--json`. Every result carries the
//! command line's envelope — `{"ok":true,"data":…,"instructions":…}` — as its structured
//! content, and as text: a line or view for people, then the envelope. A refused operation
//! (an unknown id, a task not ready to close) is a tool error result carrying
//! `{"ok":false,"error":{code,message,hint}}`; arguments that do not fit a tool's schema are a
//! protocol error (invalid params). Either way the server keeps serving.
//!
//! The ledger is opened anew for every call: the server may start before `git ledger init`,
//! and each call sees what other processes appended meanwhile.
//!
//! The tools are grouped by family, one file and one router each (`sessions`, `tasks`,
//! `knowledge`, `agents`, `plans`); this file holds the server, the resources and the
//! result envelope they share.

mod agents;
mod knowledge;
mod plans;
mod sessions;
mod tasks;

use crate::event::EntityKind;
use crate::fold::compaction::Summaries;
use crate::ledger::{
    AgentInput, Error, Instructions, Ledger, Loaded, parse_before, parse_cost, parse_lease,
    plan_views, read_plan,
};
use crate::model::Task;
use crate::request::{
    DecisionMake, DecisionRequest, InsightAdd, ObjectiveAdd, TaskAdd, TaskBlock, TaskDone, TaskNote,
};
use crate::view::data;
use crate::view::doc::{Doc, Format};
use crate::view::health;
use crate::view::memory::{
    self, View, agent_line, agent_line_with, objective_line, objectives_text, task_line,
};
use crate::view::plan::plans_text;
use crate::view::prime::{DEFAULT_MAX_BYTES, Reader};
use crate::view::reply;
use crate::view::status;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Serve MCP on standard input and output until the client closes it.
pub fn serve(dir: &Path) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::io("cannot start the MCP server"))?;
    runtime.block_on(async {
        let service = Server::new(dir)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::io("MCP initialisation failed")(std::io::Error::other(e)))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::io("the MCP server stopped")(std::io::Error::other(e)))?;
        Ok(())
    })
}

/// The MCP server: the tools, and the memory views as resources.
#[derive(Debug, Clone)]
pub struct Server {
    dir: PathBuf,
    tool_router: ToolRouter<Server>,
}

/// The resources: each memory view in markdown, and the agent brief.
const RESOURCES: &[(&str, &str, &str)] = &[
    (
        "ledger://memory/working",
        "working memory",
        "This session: focus, tasks in progress, open decisions, last actions, next steps",
    ),
    (
        "ledger://memory/short",
        "short-term memory",
        "The last 7 days: completions, decisions, insights, sessions",
    ),
    (
        "ledger://memory/long",
        "long-term memory",
        "Every objective with its outcome, decisions with rationale, insights, metrics",
    ),
    (
        "ledger://memory/knowledge",
        "knowledge base",
        "Insights promoted for reuse, by tag",
    ),
    (
        "ledger://prime",
        "agent brief",
        "Who you are, your mission and task, where the work stands, and the commands you need",
    ),
];

/// A memory view.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ViewName {
    Working,
    Short,
    Long,
    Knowledge,
}

/// How a view's text is rendered.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    #[default]
    Text,
    Markdown,
}

/// What an operation produced: the state after it, the data and a text for people.
type Outcome = (Loaded, Value, String);

impl Server {
    pub fn new(dir: &Path) -> Server {
        Server {
            dir: dir.to_path_buf(),
            tool_router: Self::session_router()
                + Self::task_router()
                + Self::knowledge_router()
                + Self::agent_router()
                + Self::plan_router(),
        }
    }

    /// Run one operation on a freshly opened ledger and wrap its outcome, or its refusal, in a
    /// tool result.
    fn call(&self, op: impl Fn(&Ledger) -> Result<Outcome, Error>) -> CallToolResult {
        let ledger = match Ledger::open(&self.dir) {
            Ok(ledger) => ledger,
            Err(e) => return failure(&e),
        };
        match ledger.read_checked(op) {
            Ok((loaded, data, text)) => success(ledger.instructions(&loaded), data, text),
            Err(e) => failure(&e),
        }
    }

    /// The text of a resource.
    fn resource(&self, uri: &str) -> Result<String, Error> {
        Ledger::open(&self.dir)?.read_checked(|ledger| self.resource_text(ledger, uri))
    }

    fn resource_text(&self, ledger: &Ledger, uri: &str) -> Result<String, Error> {
        let loaded = ledger.load()?;
        if uri == "ledger://prime" {
            let session = ledger.current_session(&loaded.state)?;
            let scope = ledger.scope(&loaded, session.as_deref());
            let reader = Reader {
                actor: ledger.actor(),
                agent: ledger.agent_name(),
            };
            return Ok(ledger
                .prime(&loaded, &scope, reader, DEFAULT_MAX_BYTES)
                .markdown);
        }
        let name = match uri.strip_prefix("ledger://memory/") {
            Some("working") => ViewName::Working,
            Some("short") => ViewName::Short,
            Some("long") => ViewName::Long,
            Some("knowledge") => ViewName::Knowledge,
            _ => {
                let missing = std::io::ErrorKind::NotFound.into();
                return Err(Error::io(format!("no resource {uri}"))(missing));
            }
        };
        Ok(view(ledger, &loaded, name, None, false)?
            .1
            .render(Format::Markdown))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("git-ledger", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "The git ledger of this repository: the record of objectives, tasks, insights, \
             decisions and sessions of coding agents. Start with session_start (or \
             session_resume), read the ledger://prime resource, pick work with ready, and \
             record progress with task_note. Every result carries `instructions` with the next \
             actions.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(
            RESOURCES
                .iter()
                .map(|(uri, name, description)| {
                    Resource::new(*uri, *name)
                        .with_description(*description)
                        .with_mime_type("text/markdown")
                })
                .collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if !RESOURCES.iter().any(|(uri, _, _)| *uri == request.uri) {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        let text = self
            .resource(&request.uri)
            .map_err(|e| ErrorData::internal_error(e.to_string(), Some(error_json(&e))))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri).with_mime_type("text/markdown"),
        ])
        .into())
    }
}

// ---- results --------------------------------------------------------------------------------

/// The `--json` envelope of a success, as structured content and as text after the text for
/// people.
fn success(instructions: Instructions, data: Value, text: String) -> CallToolResult {
    let envelope = json!({ "ok": true, "data": data, "instructions": instructions });
    let mut result = CallToolResult::success(vec![
        ContentBlock::text(text),
        ContentBlock::text(envelope.to_string()),
    ]);
    result.structured_content = Some(envelope);
    result
}

/// A refused operation: a tool error the agent can read and act on.
fn failure(error: &Error) -> CallToolResult {
    let envelope = json!({ "ok": false, "error": error_json(error) });
    let mut text = format!("error: {error}");
    if let Some(hint) = crate::explain::hint(error) {
        text.push_str(&format!("\nhint: {hint}"));
    }
    let mut result = CallToolResult::error(vec![
        ContentBlock::text(text),
        ContentBlock::text(envelope.to_string()),
    ]);
    result.structured_content = Some(envelope);
    result
}

fn error_json(error: &Error) -> Value {
    let mut json = json!({ "code": crate::explain::code(error), "message": error.to_string() });
    if let Some(hint) = crate::explain::hint(error) {
        json["hint"] = hint.into();
    }
    json
}

fn task_reply(verb: &str, (loaded, task): (Loaded, Task)) -> Result<Outcome, Error> {
    let text = format!("{verb}: {}", task_line(&loaded.state, &task, loaded.now));
    let data = data::task(&loaded.state, &task, loaded.now);
    Ok((loaded, data, text))
}

/// One line each, or `empty`.
fn lines(items: impl Iterator<Item = String>, empty: &str) -> String {
    let text: Vec<String> = items.collect();
    if text.is_empty() {
        empty.to_string()
    } else {
        text.join("\n")
    }
}

/// A memory view's data and text, for this process's session.
fn view(
    ledger: &Ledger,
    loaded: &Loaded,
    name: ViewName,
    days: Option<u32>,
    expand: bool,
) -> Result<(Value, Doc), Error> {
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(loaded, session.as_deref());
    let view = match name {
        ViewName::Working => View::Working,
        ViewName::Short => View::Short,
        ViewName::Long => View::Long,
        ViewName::Knowledge => View::Knowledge,
    };
    let (data, doc) = memory::view(
        view,
        &loaded.state,
        &scope,
        days.unwrap_or(7),
        if expand {
            Summaries::Expand
        } else {
            Summaries::Use
        },
    );
    Ok((data, doc))
}

fn render_format(format: FormatName) -> Format {
    match format {
        FormatName::Text => Format::Text,
        FormatName::Markdown => Format::Markdown,
    }
}
