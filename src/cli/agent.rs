use super::output::{self, Cx, Failure, Reply};
use git_ledger::fold::state::State;
use git_ledger::ledger::AgentInput;
use git_ledger::model::Agent;
use git_ledger::view::data;
use git_ledger::view::doc::{Doc, Format};
use git_ledger::view::health;
use git_ledger::view::memory::{agent_line, agent_line_with};
use git_ledger::view::reply;
use std::path::Path;

/// Agents: spawn (in a worktree of their own, running a command), list, exit.
///
/// An agent has a role, a mission and maybe a task; what it records is attributed to it
/// (GIT_LEDGER_AGENT), and its end is recorded once, with its exit status.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Record an agent and, given a command after `--`, run it to its end.
    ///
    /// The command runs in the agent's worktree (or here) with GIT_LEDGER_AGENT=<agent id> and
    /// GIT_LEDGER_SESSION=<this session>, so what it records is attributed to the agent. Its
    /// output streams through; its end (exit status, signal, duration) is recorded, also when
    /// git-ledger is interrupted, and git-ledger exits with its status.
    Spawn {
        /// What kind of agent: researcher, developer, tester, …
        #[arg(long)]
        role: String,
        /// What it is sent to do.
        #[arg(long, short = 'm')]
        mission: String,
        /// The task it works on (recorded; the task's status is left alone). Without it, the
        /// agent takes the top ready task for its role that nobody holds, if there is one.
        #[arg(long, short = 't')]
        task: Option<String>,
        /// Give it a linked worktree beside the repository (<repo>-agents/<agent id>) on a new
        /// branch: task/<task>-<agent> with --task (the hooks link its commits), else
        /// agent/<agent id>.
        #[arg(long)]
        worktree: bool,
        /// Start the command again when it fails (a non-zero status or a crash), up to N
        /// more times; each fallback gets as many. Every run is recorded.
        #[arg(long, value_name = "N", default_value_t = 0,
              value_parser = clap::value_parser!(u32).range(0..=100))]
        retry: u32,
        /// A command line to run with `sh -c` when the command (and its retries) failed, like
        /// another AI provider's CLI; repeat it for several, tried in order until one
        /// succeeds. Every run is recorded.
        #[arg(long, value_name = "COMMAND LINE")]
        fallback: Vec<String>,
        /// The command to run, after `--`.
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// List agents: the stalled ones, the other running ones, then the finished ones with
    /// their outcome.
    ///
    /// A running agent is stalled when it has been silent (no event written, no heartbeat)
    /// for longer than git config ledger.agents.stallAfter (default 10m).
    List,
    /// Record that an agent is alive, during a long stretch in which it records nothing else.
    ///
    /// Any event an agent writes counts as a sign of life; `agent list` and `status` flag a
    /// running agent silent for longer than ledger.agents.stallAfter (default 10m) as stalled.
    Heartbeat(git_ledger::request::AgentHeartbeat),
    /// Record the end of an agent run elsewhere (once).
    ///
    /// A signal records it as killed, a non-zero status as failed; with neither it is
    /// recorded as succeeded, without a status.
    Exit(git_ledger::request::AgentExit),
}

/// `None` when the reply was printed here: a spawn that ran a command exits with its status.
pub fn run(ledger: &Cx, dir: &Path, command: Command) -> Result<Option<Reply>, Failure> {
    let json = ledger.json;
    match command {
        Command::Spawn {
            role,
            mission,
            task,
            worktree,
            retry,
            fallback,
            command,
        } => {
            let input = AgentInput {
                role,
                mission,
                task,
                worktree,
                command,
                retry,
                fallback,
            };
            let (loaded, agent) = ledger.agent_spawn(&input)?;
            if agent.command.is_empty() {
                let text = spawned_text(&loaded.state, &agent);
                let data = data::agent(&loaded.state, &agent);
                return Ok(Some(Reply::new(ledger, &loaded, data, text)));
            }
            git_ledger::eprintln_safe!("{}", spawned_text(&loaded.state, &agent).trim_end());
            // With --json, standard output carries only the reply: the child's goes to stderr.
            let (loaded, agent, termination) = ledger.agent_run(&agent, dir, json, |renewal| {
                Ok(Box::new(super::supervisor::Supervisor::new(renewal)?))
            })?;
            let text = format!("{}\n", reply::agent_exited(&loaded.state, &agent));
            let reply = Reply::new(ledger, &loaded, data::agent(&loaded.state, &agent), text);
            output::print_reply(&reply, json);
            std::process::exit(termination.exit_code());
        }
        Command::List => {
            let stall_after = ledger.stall_after_minutes()?;
            let loaded = ledger.load()?;
            let state = &loaded.state;
            let roster = health::roster(state, loaded.now, stall_after);
            let mut doc = Doc::new(format!("Agents: {}", roster.counts()));
            // Only when there are any, so the list of a healthy ledger stays as it was.
            if !roster.stalled.is_empty() {
                doc.section(
                    "Stalled",
                    roster
                        .stalled
                        .iter()
                        .map(|(a, stall)| agent_line_with(state, a, Some(stall)))
                        .collect(),
                    "",
                );
            }
            let lines = |agents: &[&Agent]| agents.iter().map(|a| agent_line(state, a)).collect();
            doc.section("Running", lines(&roster.running), "none");
            doc.section("Finished", lines(&roster.finished), "none");
            let data: Vec<_> = roster
                .all()
                .map(|a| data::listed_agent(state, a, loaded.now, stall_after))
                .collect();
            Ok(Some(Reply::new(
                ledger,
                &loaded,
                data,
                doc.render(Format::Text),
            )))
        }
        Command::Heartbeat(heartbeat) => {
            let (loaded, agent) = ledger.agent_heartbeat(heartbeat.id.as_deref())?;
            let text = format!("{}\n", reply::agent_alive(&loaded.state, &agent));
            let data = data::agent(&loaded.state, &agent);
            Ok(Some(Reply::new(ledger, &loaded, data, text)))
        }
        Command::Exit(exit) => {
            let id = exit.id.clone();
            let (loaded, agent) = ledger.agent_exit(id.as_deref(), &exit.end()?)?;
            let text = format!("{}\n", reply::agent_exited(&loaded.state, &agent));
            let data = data::agent(&loaded.state, &agent);
            Ok(Some(Reply::new(ledger, &loaded, data, text)))
        }
    }
}

/// What a spawn made, and how to run the agent when git-ledger does not run it.
fn spawned_text(state: &State, agent: &Agent) -> String {
    let mut text = format!("Spawned: {}\n", agent_line(state, agent));
    if let Some(worktree) = &agent.worktree {
        text.push_str(&format!("  worktree  {worktree}\n"));
    }
    if let Some(branch) = &agent.branch {
        text.push_str(&format!("  branch    {branch}\n"));
    }
    if agent.command.is_empty() {
        let session = agent
            .session
            .as_deref()
            .map(|s| format!(" GIT_LEDGER_SESSION={s}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "  run it with GIT_LEDGER_AGENT={}{session}\n  when it ends: git ledger agent exit {} --status <code>\n",
            agent.id,
            state.short(&agent.id)
        ));
    }
    text
}
