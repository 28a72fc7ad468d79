//! Requests that both front ends take: one type per operation, parsed from arguments by clap
//! on the command line and from a tool call's JSON by serde in the MCP server, with one
//! description of each field for `--help` and for the tool's schema. A field added here
//! reaches both, so the two cannot drift apart.

use crate::ledger::TaskInput;
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

/// A priority as a client sends it: `1` or `"p1"`; the ledger checks the value either way,
/// as it does the command line's text.
fn number_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Priority {
        Number(u64),
        Text(String),
    }
    Ok(
        Option::<Priority>::deserialize(deserializer)?.map(|p| match p {
            Priority::Number(n) => n.to_string(),
            Priority::Text(t) => t,
        }),
    )
}
