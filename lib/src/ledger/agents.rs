//! Agents: spawned with a role and a mission, optionally in a linked worktree of their own and
//! running a command; their end recorded once, with its exit status.

use super::claims;
use super::error::{AgentError, InputError};
use super::supervise::{Renewal, Supervise, Termination, signal_name};
use super::{AGENT_ENV, Error, Ledger, Loaded, SESSION_ENV, optional_text, resolve, text};
use crate::event::EntityKind;
use crate::event::body::{AgentAttempted, AgentExited, AgentHeartbeat, AgentSpawned, TaskStarted};
use crate::fold::cost::Usage;
use crate::fold::state::State;
use crate::model::{Agent, TaskStatus};
use crate::view::health::DEFAULT_STALL_AFTER_MINUTES;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The lease of an agent's claim on its task; `agent spawn` renews it while the agent runs,
/// so the claim of an agent whose supervisor died runs out within this time.
const CLAIM_LEASE: u64 = 30 * 60;

/// The git config key of the silence after which a running agent counts as stalled.
pub const STALL_AFTER_CONFIG: &str = "ledger.agents.stallAfter";

/// What `agent spawn` is given.
#[derive(Debug, Default, Clone)]
pub struct AgentInput {
    pub role: String,
    pub mission: String,
    /// The task it works on (id or prefix); recorded, the task's status is left alone.
    /// Without one, the agent takes the top ready task for its role, if there is one.
    pub task: Option<String>,
    /// Make it a linked worktree and a branch of its own.
    pub worktree: bool,
    /// The command it runs (recorded; run by [`Ledger::agent_run`]).
    pub command: Vec<String>,
    /// How many more times a failed command is started.
    pub retry: u32,
    /// Command lines (run with `sh -c`) tried in order after the command failed.
    pub fallback: Vec<String>,
}

/// How an agent ended, as `agent.exited` records it.
#[derive(Debug, Clone)]
pub struct AgentEnd {
    pub status: Option<i32>,
    pub signal: Option<String>,
    /// `succeeded`, `failed` or `killed`.
    pub outcome: &'static str,
    /// The run time; `None` counts from the spawn to now.
    pub duration_ms: Option<u64>,
    pub summary: Option<String>,
    /// Model, tokens and cost the agent reported.
    pub usage: Option<Usage>,
    /// How many times its commands were started, when there could be more than one.
    pub attempts: Option<u64>,
}

impl AgentEnd {
    /// An end reported for an agent run elsewhere: a signal means it was killed, a non-zero
    /// status that it failed; with neither, it reported success without a status.
    pub fn reported(status: Option<i32>, signal: Option<String>, summary: Option<String>) -> Self {
        // `9`, `kill`, `SIGKILL` all name SIGKILL.
        let signal = signal.map(|s| {
            let s = s.trim().to_ascii_uppercase();
            match s.parse::<i32>() {
                Ok(n) => signal_name(n),
                Err(_) if s.is_empty() || s.starts_with("SIG") => s,
                Err(_) => format!("SIG{s}"),
            }
        });
        let outcome = match (status, &signal) {
            (_, Some(_)) => "killed",
            (Some(0) | None, None) => "succeeded",
            (Some(_), None) => "failed",
        };
        AgentEnd {
            status,
            signal,
            outcome,
            duration_ms: None,
            summary,
            usage: None,
            attempts: None,
        }
    }

    /// The end of a command `agent spawn` ran.
    pub fn of(termination: &Termination) -> Self {
        AgentEnd {
            status: termination.status,
            signal: termination.signal.map(signal_name),
            outcome: termination.outcome(),
            duration_ms: Some(u64::try_from(termination.duration.as_millis()).unwrap_or(u64::MAX)),
            summary: termination
                .interrupted
                .map(|s| format!("interrupted: git-ledger received {}", signal_name(s))),
            usage: None,
            attempts: None,
        }
    }

    /// An agent whose worktree or command could not even be started.
    fn not_started(why: String) -> Self {
        AgentEnd {
            status: None,
            signal: None,
            outcome: "failed",
            duration_ms: Some(0),
            summary: Some(why),
            usage: None,
            attempts: None,
        }
    }
}

impl Ledger {
    /// Record a new agent. With `worktree`, also create its linked worktree beside the
    /// repository (see [`Ledger::agents_dir`]) on a new branch: `task/<task>-<agent>` when it
    /// works on a task (so the hooks link its commits to the task), else `agent/<agent id>`.
    pub fn agent_spawn(&self, input: &AgentInput) -> Result<(Loaded, Agent), Error> {
        let role = text("role", &input.role)?;
        let mission = text("mission", &input.mission)?;
        if input.command.first().is_some_and(|p| p.trim().is_empty()) {
            return Err(Error::Input(InputError::Empty { what: "command" }));
        }
        if input.command.is_empty() && (input.retry > 0 || !input.fallback.is_empty()) {
            return Err(Error::Agent(AgentError::NothingToRetry));
        }
        let fallback = input
            .fallback
            .iter()
            .map(|line| text("fallback", line))
            .collect::<Result<Vec<_>, _>>()?;
        let agents_dir = input.worktree.then(|| self.agents_dir());
        let (loaded, id) = self.record(|state, batch| {
            let task = match input.task.as_deref() {
                Some(t) => Some(resolve(state, EntityKind::Task, t)?),
                // A pool: the top ready task for the role that nobody holds, if any.
                None => state
                    .ready_for_role(Some(&role))
                    .into_iter()
                    .find(|t| t.claims.live(batch.now).is_none())
                    .map(|t| t.id.clone()),
            };
            let id = batch.new_id(EntityKind::Agent, &format!("{role}\n{mission}"));
            let mut body = AgentSpawned {
                role: role.clone(),
                mission: mission.clone(),
                task: task.clone(),
                command: (!input.command.is_empty()).then(|| input.command.clone()),
                retry: (input.retry > 0).then_some(u64::from(input.retry)),
                fallback: (!fallback.is_empty()).then(|| fallback.clone()),
                ..AgentSpawned::default()
            };
            if let Some(dir) = &agents_dir {
                // Agent ids are unique, and the short form is made unique against every id
                // read (a concurrent spawn that won the race is among them after the retry),
                // so parallel spawns never share a worktree or a branch.
                let branch = match &task {
                    Some(task) => {
                        format!("task/{}-{}", state.short(task), state.short_for_new(&id))
                    }
                    None => format!("agent/{id}"),
                };
                body.worktree = Some(dir.join(&id).to_string_lossy().into_owned());
                body.branch = Some(branch);
            }
            let agent_worktree = body.worktree.clone();
            batch.push(&id, body);
            // The agent holds its task while it runs: no other agent is sent to it. A done
            // task (an agent sent to review it) is not claimed.
            if let Some(task) = task
                .as_ref()
                .filter(|t| state.tasks.get(t).is_some_and(|t| !t.status.is_closed()))
            {
                let holder = format!("agent:{id}");
                claims::push_claim(state, batch, task, &holder, self.writer(), CLAIM_LEASE)?;
                // Its run is the task's work time: the task starts with it (a blocked task
                // stays blocked until someone unblocks it).
                if let Some(open) = state
                    .tasks
                    .get(task)
                    .filter(|t| t.status != TaskStatus::Blocked)
                {
                    let start = TaskStarted {
                        worktree: agent_worktree,
                        agent: Some(id.clone()),
                        after: super::work::seen(open),
                    };
                    batch.push(task, start);
                }
            }
            Ok(id)
        })?;
        let (loaded, agent) = loaded.entity(EntityKind::Agent, id, |s, id| s.agents.get(id))?;
        if let (Some(path), Some(branch)) = (&agent.worktree, &agent.branch) {
            if let Err(e) = self.add_worktree(Path::new(path), branch) {
                // The spawn is recorded; so is that the agent never ran.
                let _ = self.agent_exit(Some(&agent.id), &AgentEnd::not_started(e.to_string()));
                return Err(e);
            }
            if let Some(task) = &agent.task {
                self.link_branch(branch, task)?;
            }
        }
        Ok((loaded, agent))
    }

    /// Record an agent's end: `input` names it, else `GIT_LEDGER_AGENT`. Refused when its end
    /// is already recorded.
    pub fn agent_exit(
        &self,
        input: Option<&str>,
        end: &AgentEnd,
    ) -> Result<(Loaded, Agent), Error> {
        let summary = optional_text("summary", end.summary.as_deref())?;
        let signal = optional_text("signal", end.signal.as_deref())?;
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_agent(state, input, "exit")?;
            let agent = state.agents.get(&id).ok_or_else(|| {
                Error::Input(InputError::UnknownId {
                    kind: EntityKind::Agent,
                    input: id.clone(),
                })
            })?;
            if !agent.is_running() {
                return Err(Error::Agent(AgentError::Exited {
                    id: state.short(&id),
                    outcome: agent.outcome.clone().unwrap_or_else(|| "exited".into()),
                }));
            }
            let duration_ms = end.duration_ms.unwrap_or_else(|| {
                u64::try_from((batch.now - agent.spawned).num_milliseconds()).unwrap_or(0)
            });
            let (model, tokens, cost_micros) = super::cost::usage_fields(&end.usage);
            let body = AgentExited {
                status: end.status.map(i64::from),
                outcome: end.outcome.to_string(),
                duration_ms,
                signal: signal.clone(),
                summary: summary.clone(),
                model,
                tokens,
                cost_micros,
                attempts: end.attempts,
            };
            batch.push(&id, body);
            let holder = format!("agent:{id}");
            if let Some(claim) = agent
                .task
                .as_deref()
                .and_then(|task| state.tasks.get(task))
                .and_then(|task| task.claims.current.as_ref())
                .filter(|claim| claim.is_held_by(&holder, self.writer()))
                && let Some(task) = &agent.task
            {
                claims::push_release(batch, task, &holder, claim.epoch);
            }
            Ok(id)
        })?;
        loaded.entity(EntityKind::Agent, id, |s, id| s.agents.get(id))
    }

    /// Run the agent's recorded command in its worktree (else in `dir`) with
    /// `GIT_LEDGER_AGENT` set to its id and `GIT_LEDGER_SESSION` to the session it was spawned
    /// in, wait for it, and record its end — unless the agent recorded one itself.
    ///
    /// A command that fails (a non-zero status, a crash) is started again up to the agent's
    /// `retry` times, then each fallback (with `sh -c`) in turn, with as many retries, until
    /// one succeeds; each run is recorded as an `agent.attempted` when there could be more
    /// than one. A command killed from outside, or an interrupted git-ledger, ends the runs.
    ///
    /// `supervisor` makes what runs the commands, given the claim renewal to call while they
    /// run.
    pub fn agent_run(
        &self,
        agent: &Agent,
        dir: &Path,
        stdout_to_stderr: bool,
        supervisor: impl for<'r> FnOnce(Renewal<'r>) -> std::io::Result<Box<dyn Supervise + 'r>>,
    ) -> Result<(Loaded, Agent, Termination), Error> {
        let dir = agent.worktree.as_deref().map(Path::new).unwrap_or(dir);
        let mut env = vec![(AGENT_ENV, agent.id.clone())];
        if let Some(session) = &agent.session {
            env.push((SESSION_ENV, session.clone()));
        }
        let holder = format!("agent:{}", agent.id);
        let mut renew = || {
            if let Some(task) = &agent.task {
                // Best effort: a renewal that fails now is tried again at the next tick.
                let _ = self.renew_claim(&holder, Some(task), CLAIM_LEASE);
            }
        };
        let renewal = agent.task.is_some().then_some((
            std::time::Duration::from_secs(CLAIM_LEASE / 3),
            &mut renew as &mut dyn FnMut(),
        ));
        let not_started = |why: String| {
            let _ = self.agent_exit(Some(&agent.id), &AgentEnd::not_started(why.clone()));
            Err(Error::Agent(AgentError::NotStarted(why)))
        };
        let mut supervisor = match supervisor(renewal) {
            Ok(supervisor) => supervisor,
            Err(e) => return not_started(format!("cannot supervise the agent: {e}")),
        };
        let plan: Vec<Vec<String>> = std::iter::once(agent.command.clone())
            .chain(
                agent
                    .fallback
                    .iter()
                    .map(|line| vec!["sh".to_string(), "-c".to_string(), line.clone()]),
            )
            .collect();
        let record_attempts = plan.len() > 1 || agent.retry > 0;
        let started = std::time::Instant::now();
        let mut attempts: u64 = 0;
        // How the last attempt ended: run to its end, or never started (and why).
        let mut last: Result<Termination, String> = Err("no command".to_string());
        'plan: for command in &plan {
            for _ in 0..=agent.retry {
                if attempts > 0
                    && let Some(received) = supervisor.interrupted()
                {
                    // Stopped while an attempt was being recorded: no further attempt.
                    if let Ok(termination) = &mut last {
                        termination.interrupted = Some(received);
                    }
                    break 'plan;
                }
                attempts += 1;
                last = supervisor
                    .run(command, dir, &env, stdout_to_stderr)
                    .map_err(|e| {
                        let program = command.first().map(String::as_str).unwrap_or("");
                        format!("cannot run {program}: {e}")
                    });
                // Best effort: the attempt ran whether or not it could be recorded. An agent
                // that recorded its own end meant it: it is not started again.
                if record_attempts
                    && let Ok(false) = self.agent_attempted(&agent.id, attempts, command, &last)
                {
                    break 'plan;
                }
                match &last {
                    Ok(termination) if termination.outcome() != "failed" => break 'plan,
                    Ok(_) => {}
                    // Started again, it would not start either: on to the next command.
                    Err(_) => continue 'plan,
                }
            }
        }
        let termination = match last {
            Ok(termination) => termination,
            Err(why) => return not_started(why),
        };
        let mut end = AgentEnd::of(&termination);
        if record_attempts {
            end.duration_ms =
                Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
            end.attempts = Some(attempts);
        }
        let (loaded, agent) = match self.agent_exit(Some(&agent.id), &end) {
            Ok(done) => done,
            // The agent ran `git ledger agent exit` itself: its own account stands.
            Err(Error::Agent(AgentError::Exited { .. })) => {
                self.load()?
                    .entity(EntityKind::Agent, agent.id.clone(), |s, id| {
                        s.agents.get(id)
                    })?
            }
            Err(e) => return Err(e),
        };
        Ok((loaded, agent, termination))
    }

    /// Record one run of an agent's command: `attempt` (1 for the first), what ran, how it
    /// ended (or why it could not start). Whether the agent is still running after it.
    fn agent_attempted(
        &self,
        id: &str,
        attempt: u64,
        command: &[String],
        ended: &Result<Termination, String>,
    ) -> Result<bool, Error> {
        let end = match ended {
            Ok(termination) => AgentEnd::of(termination),
            Err(why) => AgentEnd::not_started(why.clone()),
        };
        let body = AgentAttempted {
            attempt,
            command: command.to_vec(),
            status: end.status.map(i64::from),
            outcome: end.outcome.to_string(),
            duration_ms: end.duration_ms.unwrap_or(0),
            signal: end.signal.clone(),
            summary: end.summary.clone(),
        };
        let (loaded, ()) = self.record(|_, batch| {
            batch.push(id, body.clone());
            Ok(())
        })?;
        Ok(loaded.state.agents.get(id).is_some_and(Agent::is_running))
    }

    /// Record a sign of life of an agent (`input`, else the one this process acts for), for
    /// long stretches in which it writes nothing else. Refused once it has exited.
    pub fn agent_heartbeat(&self, input: Option<&str>) -> Result<(Loaded, Agent), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_agent(state, input, "heartbeat")?;
            if let Some(agent) = state.agents.get(&id).filter(|a| !a.is_running()) {
                return Err(Error::Agent(AgentError::Exited {
                    id: state.short(&id),
                    outcome: agent.outcome.clone().unwrap_or_else(|| "exited".into()),
                }));
            }
            batch.push(&id, AgentHeartbeat {});
            Ok(id)
        })?;
        loaded.entity(EntityKind::Agent, id, |s, id| s.agents.get(id))
    }

    /// How long an agent may stay silent before `agent list` and `status` call it stalled:
    /// git config `ledger.agents.stallAfter` (like `15m`), else
    /// [`DEFAULT_STALL_AFTER_MINUTES`] minutes.
    pub fn stall_after_minutes(&self) -> Result<u64, Error> {
        match self.store.config_string(STALL_AFTER_CONFIG) {
            None => Ok(DEFAULT_STALL_AFTER_MINUTES),
            Some(value) => super::parse_estimate(&value).map_err(|_| {
                Error::Input(InputError::BadConfig {
                    key: STALL_AFTER_CONFIG,
                    value,
                    expected: "a duration like 10m, 2h or 1h30m",
                    example: "15m",
                })
            }),
        }
    }

    /// The agent this process acts for (`GIT_LEDGER_AGENT`), as named there.
    pub fn agent_name(&self) -> Option<&str> {
        self.actor.strip_prefix("agent:")
    }

    /// The agent named by `input`, else the one this process acts for; `command` is the
    /// `agent` subcommand asking, for the hint when there is neither.
    pub fn find_agent(
        &self,
        state: &State,
        input: Option<&str>,
        command: &'static str,
    ) -> Result<String, Error> {
        match input.or(self.agent_name()) {
            Some(input) => resolve(state, EntityKind::Agent, input),
            None => Err(Error::Agent(AgentError::NoAgent { command })),
        }
    }

    /// The task of the agent this process acts for, if it was spawned with one.
    pub fn agent_task<'s>(&self, state: &'s State) -> Option<&'s str> {
        let id = state.resolve(EntityKind::Agent, self.agent_name()?).ok()?;
        state.agents.get(&id)?.task.as_deref()
    }

    /// Where agents' worktrees go: `<repository>-agents/` beside the main worktree. Outside
    /// the work tree, so they never show as untracked files, and outside `.git`, so tools that
    /// search parent directories for their configuration (a Cargo workspace, package.json,
    /// .editorconfig) do not mistake the main checkout's for the agent's.
    pub fn agents_dir(&self) -> PathBuf {
        let common = self.store.repo().commondir();
        let common = common
            .canonicalize()
            .unwrap_or_else(|_| common.to_path_buf());
        // The main worktree holds the common git dir as `.git`; a repository with a separate
        // git dir has no such worktree, and its agents go beside the current one.
        let main = match common.file_name() {
            Some(name) if name == ".git" => common.parent().map(Path::to_path_buf),
            _ => None,
        }
        .unwrap_or_else(|| self.worktree.clone());
        let name = main
            .file_name()
            .map(|n| format!("{}-agents", n.to_string_lossy()))
            .unwrap_or_else(|| "agents".into());
        main.parent().unwrap_or(&main).join(name)
    }

    /// `git worktree add -b <branch> <path>` from this worktree's HEAD.
    fn add_worktree(&self, path: &Path, branch: &str) -> Result<(), Error> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("cannot create {}", parent.display())))?;
        }
        let status = Command::new("git")
            .args(["worktree", "add", "--quiet", "-b", branch])
            .arg(path)
            .current_dir(self.worktree())
            .stdin(Stdio::null())
            // This process's standard output may be a JSON reply: git's (and its hooks') go
            // to standard error.
            .stdout(stderr_as_stdio())
            .status()
            .map_err(Error::io("cannot run git"))?;
        if !status.success() {
            return Err(Error::Git(format!(
                "git worktree add -b {branch} {}",
                path.display()
            )));
        }
        Ok(())
    }
}

/// This process's standard error, to hand to a child as its standard output.
fn stderr_as_stdio() -> Stdio {
    use std::os::fd::AsFd;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_ends() {
        let end = AgentEnd::reported(Some(0), None, None);
        assert_eq!((end.outcome, end.status), ("succeeded", Some(0)));
        assert_eq!(AgentEnd::reported(None, None, None).outcome, "succeeded");
        assert_eq!(AgentEnd::reported(Some(2), None, None).outcome, "failed");
        for signal in ["kill", "SIGKILL", " 9 "] {
            let end = AgentEnd::reported(None, Some(signal.into()), None);
            assert_eq!(end.outcome, "killed");
            assert_eq!(end.signal.as_deref(), Some("SIGKILL"), "{signal}");
        }
        // Blank stays blank, for the text check to refuse.
        let end = AgentEnd::reported(None, Some("  ".into()), None);
        assert_eq!(end.signal.as_deref(), Some(""));
    }
}
