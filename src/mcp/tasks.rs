//! MCP tools for tasks: add, start, claim, note, block, done, checks, and what is ready.

use super::*;
use crate::ledger::InputError;

#[tool_router(router = task_router, vis = "pub(super)")]
impl Server {
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
    async fn task_start(
        &self,
        args: Parameters<crate::request::TaskStart>,
    ) -> Result<CallToolResult, ErrorData> {
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
        args: Parameters<crate::request::TaskClaim>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let lease = parse_lease(&args.lease)?;
            task_reply("Claimed", ledger.task_claim(args.id.as_deref(), lease)?)
        }))
    }

    #[tool(description = "Give up your claim on a task (default: the one task you hold).")]
    async fn task_release(
        &self,
        args: Parameters<crate::request::TaskRelease>,
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
    async fn check_run(
        &self,
        args: Parameters<crate::request::TaskRef>,
    ) -> Result<CallToolResult, ErrorData> {
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
    async fn task_show(
        &self,
        args: Parameters<crate::request::TaskRef>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            // The history takes every event.
            let loaded = ledger.load_full()?;
            let id = ledger.find_task(&loaded.state, args.0.id.as_deref())?;
            let task = loaded.state.tasks.get(&id).ok_or_else(|| {
                Error::Input(InputError::UnknownId {
                    kind: EntityKind::Task,
                    input: id.clone(),
                })
            })?;
            let tip = if task.validation.is_empty() {
                None
            } else {
                ledger.check_tip(task)
            };
            let data = data::task_detail(&loaded.state, task, loaded.now);
            let text =
                crate::view::task::detail_text(&loaded.state, task, loaded.now, tip.as_deref());
            Ok((loaded, data, text))
        }))
    }

    #[tool(
        description = "Tasks that can be started now: open, every dependency done, not \
                          claimed by someone else, by priority; `role` filters by role."
    )]
    async fn ready(
        &self,
        args: Parameters<crate::request::Ready>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let ready = loaded
                .state
                .ready_split(
                    args.0.role.as_deref().map(str::trim),
                    ledger.actor(),
                    ledger.writer(),
                    loaded.now,
                    (args.0.limit > 0).then_some(args.0.limit),
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
}
