//! MCP tools for agents: spawns, exits, heartbeats, the roster.

use super::*;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentSpawnArgs {
    /// What kind of agent: researcher, developer, tester, …
    pub role: String,
    /// What it is sent to do.
    pub mission: String,
    /// The task it works on (id or prefix).
    pub task: Option<String>,
}

#[tool_router(router = agent_router, vis = "pub(super)")]
impl Server {
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
        args: Parameters<crate::request::AgentExit>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, agent) = ledger.agent_exit(args.id.as_deref(), &args.clone().end()?)?;
            let text = reply::agent_exited(&loaded.state, &agent);
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
        args: Parameters<crate::request::AgentHeartbeat>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, agent) = ledger.agent_heartbeat(args.id.as_deref())?;
            let text = reply::agent_alive(&loaded.state, &agent);
            let data = data::agent(&loaded.state, &agent);
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
