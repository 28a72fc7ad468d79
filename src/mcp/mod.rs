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

use crate::event::EntityKind;
use crate::fold::compaction::Summaries;
use crate::ledger::{
    AgentEnd, AgentInput, DEFAULT_LEASE_SECONDS, Error, Instructions, Ledger, Loaded, UsageInput,
    parse_before, parse_cost, parse_lease, plan_views, read_plan,
};
use crate::model::Task;
use crate::request::{
    DecisionMake, DecisionRequest, InsightAdd, ObjectiveAdd, TaskAdd, TaskBlock, TaskDone, TaskNote,
};
use crate::view::data;
use crate::view::doc::{Doc, Format};
use crate::view::health;
use crate::view::memory::{
    self, View, agent_line, agent_line_with, decision_line, insight_line, objective_line,
    objectives_text, session_line, task_line,
};
use crate::view::plan::plans_text;
use crate::view::prime::{DEFAULT_MAX_BYTES, Reader, prime};
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
        .map_err(|e| Error::Io(format!("cannot start the MCP server: {e}")))?;
    runtime.block_on(async {
        let service = Server::new(dir)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::Io(format!("MCP initialisation failed: {e}")))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::Io(format!("the MCP server stopped: {e}")))?;
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

// ---- tool arguments -------------------------------------------------------------------------

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionStartArgs {
    /// The session's goal.
    pub title: Option<String>,
}

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

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReadyArgs {
    /// Only tasks for this role (developer, tester, reviewer, …).
    pub role: Option<String>,
    /// At most this many tasks (default 50; 0: all).
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskClaimArgs {
    /// Task id or unique prefix; default: the top ready task nobody holds (to claim), or the
    /// one task you hold (to release).
    pub id: Option<String>,
    /// How long the claim lasts, like 90s, 30m or 2h (a minute to a week; default 30m).
    pub lease: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentExitArgs {
    /// Agent id or unique prefix; default: the agent this server runs for (GIT_LEDGER_AGENT).
    pub id: Option<String>,
    /// Its exit status.
    pub status: Option<i32>,
    /// What it achieved.
    pub summary: Option<String>,
    /// The model the agent used.
    pub model: Option<String>,
    /// Tokens the agent used.
    pub tokens: Option<u64>,
    /// What the agent cost, in currency units (1.25).
    pub cost: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentHeartbeatArgs {
    /// Agent id or unique prefix; default: the agent this server runs for (GIT_LEDGER_AGENT).
    pub id: Option<String>,
}

/// The usage fields of a tool call, as the CLI takes them.
fn usage_input(model: Option<String>, tokens: Option<u64>, cost: Option<f64>) -> UsageInput {
    UsageInput {
        model,
        tokens,
        // The shortest decimal that reads back as the same number: 1.25, not 1.2500000001.
        cost: cost.map(|c| c.to_string()),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskIdArgs {
    /// Task id or unique prefix (t-3f9a2c).
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskShowArgs {
    /// Task id or unique prefix; default: the task in focus.
    pub id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ObjectiveDoneArgs {
    /// Objective id or unique prefix (o-3f9a2c).
    pub id: String,
    /// What came of it.
    pub summary: Option<String>,
    /// Close it with tasks not done (recorded).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanApplyArgs {
    /// The plan file (YAML or JSON), relative to the repository; or give `text`.
    pub file: Option<String>,
    /// The plan itself, as the file would hold it.
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanShowArgs {
    /// The plan's name; default: every plan.
    pub name: Option<String>,
}

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

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentSpawnArgs {
    /// What kind of agent: researcher, developer, tester, …
    pub role: String,
    /// What it is sent to do.
    pub mission: String,
    /// The task it works on (id or prefix).
    pub task: Option<String>,
}

// ---- tools ----------------------------------------------------------------------------------

/// What an operation produced: the state after it, the data and a text for people.
type Outcome = (Loaded, Value, String);

#[tool_router]
impl Server {
    pub fn new(dir: &Path) -> Server {
        Server {
            dir: dir.to_path_buf(),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Start a session in this worktree: events recorded while it is open \
                          belong to it, and it can be resumed after a crash."
    )]
    async fn session_start(
        &self,
        args: Parameters<SessionStartArgs>,
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

    #[tool(
        description = "Add a task, optionally to an objective, with a priority (0 highest … \
                          4), an estimate, dependencies, a role, and validation rules (commands \
                          that must pass, checklist items to confirm) before it is done."
    )]
    async fn task_add(&self, args: Parameters<TaskAdd>) -> Result<CallToolResult, ErrorData> {
        let input = args.0.into();
        Ok(self.call(|ledger| task_reply("Added", ledger.task_add(&input)?)))
    }

    #[tool(description = "Start a task and put it in focus for this worktree.")]
    async fn task_start(&self, args: Parameters<TaskIdArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(self
            .call(|ledger| task_reply("Started (in focus)", ledger.task_start(Some(&args.0.id))?)))
    }

    #[tool(
        description = "Claim a task for a lease (default: the top ready task nobody holds), so \
                          no other agent takes it; claiming again extends the lease. Refused \
                          with the holder's name when someone else holds it."
    )]
    async fn task_claim(
        &self,
        args: Parameters<TaskClaimArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let lease = match args.lease.as_deref() {
                Some(lease) => parse_lease(lease)?,
                None => DEFAULT_LEASE_SECONDS,
            };
            task_reply("Claimed", ledger.task_claim(args.id.as_deref(), lease)?)
        }))
    }

    #[tool(description = "Give up your claim on a task (default: the one task you hold).")]
    async fn task_release(
        &self,
        args: Parameters<TaskClaimArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| task_reply("Released", ledger.task_release(args.0.id.as_deref())?)))
    }

    #[tool(
        description = "Record progress on a task (default: the task in focus, or the task \
                          this agent was spawned for)."
    )]
    async fn task_note(&self, args: Parameters<TaskNote>) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            task_reply(
                "Noted on",
                ledger.task_note(args.task.as_deref(), &args.text)?,
            )
        }))
    }

    #[tool(
        description = "Mark a task blocked, with what it waits for (default: the task in \
                          focus)."
    )]
    async fn task_block(&self, args: Parameters<TaskBlock>) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            task_reply(
                "Blocked",
                ledger.task_block(args.id.as_deref(), &args.reason)?,
            )
        }))
    }

    #[tool(
        description = "Complete a task (default: the task in focus). Refused without a \
                          summary or without recorded notes unless forced (recorded)."
    )]
    async fn task_done(&self, args: Parameters<TaskDone>) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let done = ledger.task_done(args.id.as_deref(), args.summary.as_deref(), args.force)?;
            let verb = if done.1.forced_over.is_some() {
                "Done (forced)"
            } else {
                "Done"
            };
            task_reply(verb, done)
        }))
    }

    #[tool(
        description = "Run a task's command rules (default: the task in focus) with sh -c in \
                          the worktree that has its branch checked out, and record each \
                          result at that commit. `task_done` refuses while a rule has no \
                          passing result at the task's tip."
    )]
    async fn check_run(&self, args: Parameters<TaskShowArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let (loaded, run) = ledger.check_run(args.0.id.as_deref())?;
            let short: String = run.commit.chars().take(10).collect();
            let mut text = format!(
                "{} of {} check(s) failed at {short}",
                run.failed(),
                run.results.len()
            );
            for result in &run.results {
                let verdict = if result.passed { "pass" } else { "FAIL" };
                text.push_str(&format!("\n{verdict} {}", result.rule.text()));
            }
            let data = serde_json::to_value(&run).unwrap_or(Value::Null);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Show a task: state, notes, time, branches, commits, review and \
                          history (default: the task in focus)."
    )]
    async fn task_show(&self, args: Parameters<TaskShowArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            // The history takes every event.
            let loaded = ledger.load_full()?;
            let id = ledger.find_task(&loaded.state, args.0.id.as_deref())?;
            let task = loaded
                .state
                .tasks
                .get(&id)
                .ok_or_else(|| Error::UnknownId {
                    kind: EntityKind::Task,
                    input: id.clone(),
                })?;
            let data = data::task_detail(&loaded.state, task, loaded.now);
            let text = task_line(&loaded.state, task, loaded.now);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Tasks that can be started now: open, every dependency done, not \
                          claimed by someone else, by priority; `role` filters by role."
    )]
    async fn ready(&self, args: Parameters<ReadyArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let ready = loaded
                .state
                .ready_split(
                    args.0.role.as_deref().map(str::trim),
                    ledger.actor(),
                    ledger.writer(),
                    loaded.now,
                    args.0
                        .limit
                        .map_or(Some(crate::fold::state::READY_LIMIT), |n| {
                            (n > 0).then_some(n)
                        }),
                )
                .ready;
            let text = lines(
                ready
                    .iter()
                    .map(|t| task_line(&loaded.state, t, loaded.now)),
                "No task is ready",
            );
            let data = json!(ready);
            Ok((loaded, data, text))
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
            let text = format!("Recorded: {}", insight_line(&loaded.state, &insight));
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
            let text = format!("Requested: {}", decision_line(&loaded.state, &decision));
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
            let text = format!("Decided: {}", decision_line(&loaded.state, &decision));
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

    #[tool(
        description = "Record an agent with a role and a mission (and the task it works \
                          on). Only recorded: no process is started. Run it with \
                          GIT_LEDGER_AGENT set to the returned id."
    )]
    async fn agent_spawn(
        &self,
        args: Parameters<AgentSpawnArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        let input = AgentInput {
            role: args.role,
            mission: args.mission,
            task: args.task,
            worktree: false,
            ..AgentInput::default()
        };
        Ok(self.call(|ledger| {
            let (loaded, agent) = ledger.agent_spawn(&input)?;
            let text = format!(
                "Spawned: {}\nRun it with GIT_LEDGER_AGENT={}",
                agent_line(&loaded.state, &agent),
                agent.id
            );
            let data = data::agent(&loaded.state, &agent);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Record an agent's end (once), with its exit status, summary and what \
                          it cost (model, tokens, cost)."
    )]
    async fn agent_exit(
        &self,
        args: Parameters<AgentExitArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let mut end = AgentEnd::reported(args.status, None, args.summary.clone());
            end.usage = usage_input(args.model.clone(), args.tokens, args.cost).parse()?;
            let (loaded, agent) = ledger.agent_exit(args.id.as_deref(), &end)?;
            let text = format!("Exited: {}", agent_line(&loaded.state, &agent));
            let data = data::agent(&loaded.state, &agent);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Record that an agent is alive, during a long stretch in which it \
                          records nothing else (any event it writes counts too). Running \
                          agents silent for longer than ledger.agents.stallAfter (default \
                          10m) are listed as stalled."
    )]
    async fn agent_heartbeat(
        &self,
        args: Parameters<AgentHeartbeatArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, agent) = ledger.agent_heartbeat(args.id.as_deref())?;
            let text = format!("Alive: {}", agent_line(&loaded.state, &agent));
            let data = data::agent(&loaded.state, &agent);
            Ok((loaded, data, text))
        }))
    }

    #[tool(description = "Add an objective: what a set of tasks is for.")]
    async fn objective_add(
        &self,
        args: Parameters<ObjectiveAdd>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let budget = args.budget.as_deref().map(parse_cost).transpose()?;
            let (loaded, objective) =
                ledger.objective_add(&args.title, args.description.as_deref(), budget)?;
            let text = format!(
                "Added objective {}",
                objective_line(&loaded.state, &objective)
            );
            Ok((loaded, json!(objective), text))
        }))
    }

    #[tool(description = "List objectives with their progress (tasks done of all).")]
    async fn objective_list(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let text = objectives_text(&loaded.state);
            let data: Vec<_> = loaded.state.objectives.iter().collect();
            let data = json!(data);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Mark an objective done with what came of it; refused while some of \
                          its tasks are not done unless forced (recorded)."
    )]
    async fn objective_done(
        &self,
        args: Parameters<ObjectiveDoneArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, objective) =
                ledger.objective_done(&args.id, args.summary.as_deref(), args.force)?;
            let text = format!("Done: {}", objective_line(&loaded.state, &objective));
            Ok((loaded, json!(objective), text))
        }))
    }

    #[tool(
        description = "The project at a glance: counts, this worktree's session and focus, \
                          objectives, work in progress, ready and blocked tasks, open \
                          decisions, agents."
    )]
    async fn status(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let session = ledger.current_session(&loaded.state)?;
            let scope = ledger.scope(&loaded, session.as_deref());
            let view = status::status(&loaded.state, &scope, ledger.stall_after_minutes()?, None);
            let text = view.doc(&loaded.state, &scope).render(Format::Markdown);
            Ok((loaded, json!(view), text))
        }))
    }

    #[tool(
        description = "Record a plan (YAML or JSON: stages of tasks with roles, triggers and \
                          validation), from a file or as text; applying it again records only \
                          what changed."
    )]
    async fn plan_apply(
        &self,
        args: Parameters<PlanApplyArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let source = match (&args.file, &args.text) {
                (Some(file), None) => read_plan(&self.dir.join(file).to_string_lossy())?,
                (None, Some(text)) => text.clone(),
                _ => {
                    return Err(Error::Import {
                        line: None,
                        message: "give the plan as `file` or as `text`, one of the two".into(),
                        hint: "see `git ledger plan apply --help` for the plan format",
                    });
                }
            };
            let (loaded, report) = ledger.plan_apply(&source)?;
            let text = report.summary(&loaded.state);
            Ok((loaded, json!(report), text))
        }))
    }

    #[tool(
        description = "Draw a plan's stages and the state of their tasks (default: every plan)."
    )]
    async fn plan_show(&self, args: Parameters<PlanShowArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let views = plan_views(&loaded.state, args.0.name.as_deref())?;
            let text = plans_text(&loaded.state, loaded.now, &views, Format::Markdown);
            let data = json!(views);
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "List agents: stalled ones first (running, but silent for longer than \
                          the threshold), then the other running ones, then finished ones \
                          with their outcome."
    )]
    async fn agent_list(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let stall_after = ledger.stall_after_minutes()?;
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let roster = health::roster(state, loaded.now, stall_after);
            let stalled = roster
                .stalled
                .iter()
                .map(|(a, stall)| agent_line_with(state, a, Some(stall)));
            let others = roster
                .running
                .iter()
                .chain(&roster.finished)
                .map(|a| agent_line(state, a));
            let text = lines(stalled.chain(others), "No agents");
            let data: Vec<_> = roster
                .all()
                .map(|a| data::listed_agent(state, a, loaded.now, stall_after))
                .collect();
            Ok((loaded, json!(data), text))
        }))
    }
}

impl Server {
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
            return Ok(prime(&loaded.state, &scope, reader, DEFAULT_MAX_BYTES).markdown);
        }
        let name = match uri.strip_prefix("ledger://memory/") {
            Some("working") => ViewName::Working,
            Some("short") => ViewName::Short,
            Some("long") => ViewName::Long,
            Some("knowledge") => ViewName::Knowledge,
            _ => return Err(Error::Io(format!("no resource {uri}"))),
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
    if let Some(hint) = error.hint() {
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
    let mut json = json!({ "code": error.code(), "message": error.to_string() });
    if let Some(hint) = error.hint() {
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
