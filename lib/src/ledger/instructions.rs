//! The `instructions` every reply carries, on the command line (`--json`) and over MCP alike:
//! what to do next, the commands to do it with, and where the caller stands.

use super::{Ledger, Loaded};
use crate::view::memory::{self, ContextReminder};
use serde::Serialize;

/// Next actions, suggested commands and a context reminder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Instructions {
    pub next_actions: Vec<String>,
    pub suggested_commands: Vec<String>,
    pub context_reminder: ContextReminder,
}

impl Ledger {
    /// The instructions for this process (its session and worktree), from the state as it is
    /// after the command.
    pub fn instructions(&self, loaded: &Loaded) -> Instructions {
        // A session named by GIT_LEDGER_SESSION that does not resolve is no reason to fail a
        // command that already succeeded: the suggestions then assume no session.
        let session = self.current_session(&loaded.state).ok().flatten();
        let scope = self.scope(loaded, session.as_deref());
        let (steps, context_reminder) = memory::next_steps_and_reminder(&loaded.state, &scope);
        Instructions {
            next_actions: steps.next_actions,
            suggested_commands: steps.suggested_commands,
            context_reminder,
        }
    }
}
