//! Requests that both front ends take: one type per operation, parsed from arguments by clap
//! on the command line and from a tool call's JSON by serde in the MCP server, with one
//! description of each field for `--help` and for the tool's schema. A field added here
//! reaches both, so the two cannot drift apart.

use crate::fold::state::READY_LIMIT;
use crate::ledger::{AgentEnd, Error, TaskInput, UsageInput};
use crate::model::Rule;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// Add a task.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct TaskAdd {
    /// What is to be done.
    pub title: String,
    /// The objective it serves (id or prefix).
    #[arg(long, short = 'o')]
    pub objective: Option<String>,
    /// 0 (highest) … 4 (lowest); default 2.
    #[arg(long, short = 'p')]
    #[serde(default, deserialize_with = "number_or_text")]
    #[schemars(with = "Option<u8>")]
    pub priority: Option<String>,
    /// Expected effort, like 45m, 2h or 1h30m.
    #[arg(long, short = 'e')]
    pub estimate: Option<String>,
    /// Tasks that must be done first (ids or prefixes; repeatable).
    #[arg(long = "depends-on", short = 'd', value_name = "TASK")]
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Longer description.
    #[arg(long)]
    pub description: Option<String>,
    /// Who should take it: developer, tester, reviewer, … (`ready --role` filters by it).
    #[arg(long)]
    pub role: Option<String>,
    /// Commands whose success the work must show before the task is done, like "cargo
    /// test" (repeatable; `check run` runs them).
    #[arg(long = "check-command", value_name = "COMMAND")]
    #[serde(default)]
    pub check_commands: Vec<String>,
    /// Checklist items someone must confirm before the task is done (repeatable).
    #[arg(long = "check-item", value_name = "TEXT")]
    #[serde(default)]
    pub check_items: Vec<String>,
}

impl From<TaskAdd> for TaskInput {
    fn from(request: TaskAdd) -> TaskInput {
        let validation = request
            .check_commands
            .into_iter()
            .map(Rule::Command)
            .chain(request.check_items.into_iter().map(Rule::Item))
            .collect();
        TaskInput {
            title: request.title,
            description: request.description,
            objective: request.objective,
            priority: request.priority,
            estimate: request.estimate,
            depends_on: request.depends_on,
            role: request.role,
            validation,
        }
    }
}

/// A number as a client sends it: `1`, `12.5` or `"p1"`; the ledger checks the value either
/// way, as it does the command line's text. A number is taken as its shortest decimal (1.25,
/// not 1.2500000001).
fn number_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(serde_json::Number),
        Text(String),
    }
    Ok(
        Option::<NumberOrText>::deserialize(deserializer)?.map(|p| match p {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(t) => t,
        }),
    )
}

/// Record progress on a task (default: the task in focus).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskNote {
    /// What was done or found; `-` reads it from standard input (on the command line).
    pub text: String,
    /// The task, if not the one in focus.
    #[arg(long, short = 't')]
    pub task: Option<String>,
}

/// Mark a task blocked (default: the task in focus). Blocked time is not counted as work.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskBlock {
    /// Task id or unique prefix.
    pub id: Option<String>,
    /// What it waits for.
    #[arg(long, short = 'r')]
    pub reason: String,
}

/// Complete a task (default: the task in focus).
///
/// Refused without a summary, without recorded work (notes), or while a validation rule has
/// no passing result at the task's tip (`check run`, `check confirm`); --force closes anyway
/// and the override is recorded for the audit.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskDone {
    /// Task id or unique prefix.
    pub id: Option<String>,
    /// The outcome.
    #[arg(long, short = 'm')]
    pub summary: Option<String>,
    /// Close even if validation fails (recorded).
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

/// Record an insight.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct InsightAdd {
    /// What was learned; `-` reads it from standard input (on the command line).
    pub text: String,
    /// A tag for finding it again (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    #[serde(default)]
    pub tags: Vec<String>,
    /// Promote it into the knowledge base right away.
    #[arg(long)]
    #[serde(default)]
    pub knowledge: bool,
    /// The task it came from.
    #[arg(long, short = 't')]
    pub task: Option<String>,
}

/// Ask for a decision.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct DecisionRequest {
    /// The question to decide.
    pub question: String,
    /// A possible answer (repeatable); none means a free choice.
    #[arg(long = "option", value_name = "OPTION")]
    #[serde(default)]
    pub options: Vec<String>,
    /// The task it blocks or belongs to.
    #[arg(long, short = 't')]
    pub task: Option<String>,
}

/// Make a decision: the choice (one of the options, or its number) and why.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct DecisionMake {
    /// Decision id or unique prefix (d-3f9a2c).
    pub id: String,
    /// The chosen option (as listed, or its number from 1).
    pub choice: String,
    /// Why this choice.
    #[arg(long, short = 'r')]
    pub rationale: String,
}

/// Add an objective.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct ObjectiveAdd {
    /// What should be achieved.
    pub title: String,
    /// Longer description.
    #[arg(long)]
    pub description: Option<String>,
    /// What the work towards it may cost, in currency units (25, 12.50); `status` warns at
    /// 80 % and when it is passed.
    #[arg(long)]
    #[serde(default, deserialize_with = "number_or_text")]
    #[schemars(with = "Option<String>")]
    pub budget: Option<String>,
}

/// Start a session in this worktree.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct SessionStart {
    /// The session's goal.
    pub title: Option<String>,
}

/// Mark an objective done; refused while some of its tasks are not done.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct ObjectiveDone {
    /// Objective id or unique prefix (o-3f9a2c).
    pub id: String,
    /// What came of it.
    #[arg(long, short = 'm', visible_alias = "summary")]
    #[serde(alias = "summary")]
    pub outcome: Option<String>,
    /// Close it with tasks not done (recorded as forced).
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

/// Tasks that can be started now: open, with every dependency done, by priority.
///
/// Tasks another holder has a live claim on are left out and listed after, with who holds
/// them and until when; an expired claim frees its task.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct Ready {
    /// Only tasks for this role (developer, tester, reviewer, …).
    #[arg(long)]
    pub role: Option<String>,
    /// Show at most this many (0: all).
    #[arg(long, short = 'n', default_value_t = READY_LIMIT)]
    #[serde(default = "ready_limit")]
    pub limit: usize,
}

fn ready_limit() -> usize {
    READY_LIMIT
}

/// Claim a task for yourself (default: the top ready task nobody holds), for a lease.
///
/// While the claim is live, `ready` leaves the task out for everyone else and their claims
/// and starts are refused; when the lease runs out the task is free again. Claiming a task
/// you hold extends the lease.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskClaim {
    /// Task id or unique prefix.
    pub id: Option<String>,
    /// How long the claim lasts, like 90s, 30m or 2h (from a minute to a week).
    #[arg(long, default_value = DEFAULT_LEASE)]
    #[serde(default = "default_lease")]
    pub lease: String,
}

/// Give up your claim on a task (default: the one task you hold).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskRelease {
    /// Task id or unique prefix.
    pub id: Option<String>,
}

/// Start a task and put it in focus for this worktree.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskStart {
    /// Task id or unique prefix (t-3f9a2c).
    pub id: String,
}

/// A task, by id, or the one in focus (`task show`, `check run`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct TaskRef {
    /// Task id or unique prefix (t-3f9a2c); default: the task in focus.
    pub id: Option<String>,
}

/// Resume a session and get its context, last actions and next steps.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct SessionResume {
    /// Session id or unique prefix (s-3f9a2c); default: this worktree's open session, else
    /// the one that ended last here.
    pub id: Option<String>,
}

/// What a session or an agent spent.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct Usage {
    /// The model used (claude-sonnet-4, gpt-5, …).
    #[arg(long)]
    pub model: Option<String>,
    /// Tokens used, input and output together.
    #[arg(long)]
    pub tokens: Option<u64>,
    /// What it cost, in currency units (1.25, 0.003).
    #[arg(long, allow_hyphen_values = true)]
    #[serde(default, deserialize_with = "number_or_text")]
    #[schemars(with = "Option<f64>")]
    pub cost: Option<String>,
}

impl From<Usage> for UsageInput {
    fn from(usage: Usage) -> UsageInput {
        UsageInput {
            model: usage.model,
            tokens: usage.tokens,
            cost: usage.cost,
        }
    }
}

/// End a session (default: this worktree's open one) with what it achieved.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct SessionEnd {
    /// Session id or unique prefix; default: this worktree's open session.
    pub id: Option<String>,
    /// What the session achieved.
    #[arg(long, short = 'm')]
    pub summary: Option<String>,
    /// Mark it abandoned rather than finished.
    #[arg(long)]
    #[serde(default)]
    pub abandoned: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub usage: Usage,
}

/// Record that an agent is alive, during a long stretch in which it records nothing else.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct AgentHeartbeat {
    /// Agent id or unique prefix (a-3f9a2c); default: GIT_LEDGER_AGENT.
    pub id: Option<String>,
}

/// Record the end of an agent run elsewhere (once).
///
/// A signal records it as killed, a non-zero status as failed; with neither it is recorded as
/// succeeded, without a status.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct AgentExit {
    /// Agent id or unique prefix (a-3f9a2c); default: GIT_LEDGER_AGENT.
    pub id: Option<String>,
    /// Its exit status.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=255))]
    pub status: Option<i32>,
    /// The signal that ended it: TERM, SIGKILL, 9, …
    #[arg(long)]
    pub signal: Option<String>,
    /// What it achieved.
    #[arg(long, short = 'm')]
    pub summary: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub usage: Usage,
}

impl AgentExit {
    /// The end it records; refused when the usage does not parse.
    pub fn end(self) -> Result<AgentEnd, Error> {
        let mut end = AgentEnd::reported(self.status, self.signal, self.summary);
        end.usage = UsageInput::from(self.usage).parse()?;
        Ok(end)
    }
}

/// Draw a plan's stages and the state of their tasks.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct PlanShow {
    /// The plan's name; default: every plan.
    pub name: Option<String>,
}

/// A claim's lease when none is given.
const DEFAULT_LEASE: &str = "30m";

fn default_lease() -> String {
    DEFAULT_LEASE.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_lease_is_the_ledgers() {
        assert_eq!(
            crate::ledger::parse_lease(super::DEFAULT_LEASE).ok(),
            Some(crate::ledger::DEFAULT_LEASE_SECONDS)
        );
    }
}

/// Find tasks, objectives, insights and decisions by their words.
///
/// Every word must start a word of the entity's text: a task's title, description, notes and
/// block reason; an objective's title, description and outcome; an insight's text and tags;
/// a decision's question, options, choice and rationale. Best matches (BM25) first.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct Search {
    /// The words to look for (in MCP, one string).
    #[arg(required = true, num_args = 1.., value_name = "WORD")]
    #[serde(deserialize_with = "words")]
    #[schemars(with = "String")]
    pub query: Vec<String>,
    /// Only this kind of entity.
    #[arg(long, value_parser = crate::index::KINDS)]
    pub kind: Option<String>,
    /// Show at most this many (0: all).
    #[arg(long, short = 'n', default_value_t = SEARCH_LIMIT)]
    #[serde(default = "search_limit")]
    pub limit: usize,
}

/// How many matches a search shows unless told otherwise.
pub const SEARCH_LIMIT: usize = 10;

fn search_limit() -> usize {
    SEARCH_LIMIT
}

/// A query given as one string (MCP) is kept whole; the command line gives it word by word.
fn words<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(vec![String::deserialize(deserializer)?])
}

impl Search {
    /// The words, as one query.
    pub fn text(&self) -> String {
        self.query.join(" ")
    }
}
