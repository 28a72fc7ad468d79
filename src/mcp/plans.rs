//! MCP tools for objectives, plans and the status overview.

use super::*;
use crate::ledger::{FileError, Fix};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanApplyArgs {
    /// The plan file (YAML or JSON), relative to the repository; or give `text`.
    pub file: Option<String>,
    /// The plan itself, as the file would hold it.
    pub text: Option<String>,
}

#[tool_router(router = plan_router, vis = "pub(super)")]
impl Server {
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
        args: Parameters<crate::request::ObjectiveDone>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = args.0;
        Ok(self.call(|ledger| {
            let (loaded, objective) =
                ledger.objective_done(&args.id, args.outcome.as_deref(), args.force)?;
            let text = reply::objective_done(&loaded.state, &objective);
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
                    return Err(Error::File(FileError {
                        line: None,
                        message: "give the plan as `file` or as `text`, one of the two".into(),
                        fix: Fix::PlanFormat,
                    }));
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
    async fn plan_show(
        &self,
        args: Parameters<crate::request::PlanShow>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.call(|ledger| {
            let loaded = ledger.load()?;
            let views = plan_views(&loaded.state, args.0.name.as_deref())?;
            let text = plans_text(&loaded.state, loaded.now, &views, Format::Markdown);
            let data = json!(views);
            Ok((loaded, data, text))
        }))
    }
}
