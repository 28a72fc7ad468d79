//! `plan apply`: a plan file (YAML or JSON) of stages and tasks becomes an objective, tasks
//! and dependencies, in one commit. Applying the same file again records nothing; applying an
//! edited file records only the differences, and tasks dropped from it are cancelled.
//!
//! ```yaml
//! name: Ship the exporter          # the objective; the plan's identity
//! budget: 40                       # optional, in currency units
//! stages:
//!   - name: develop
//!     role: developer              # the default role of the stage's tasks
//!     tasks:
//!       - key: encoder             # stable within the plan: what re-applying matches on
//!         title: Write the encoder
//!         priority: 1
//!         estimate: 2h
//!         validation:
//!           - command: cargo test  # evidence `check run` records
//!           - Docs updated         # a checklist item
//!   - name: test
//!     role: tester
//!     triggers_on: all of develop  # every task of the stage waits for all of develop
//!     tasks:
//!       - key: e2e
//!         title: Test the export end to end
//!         triggers_on: [encoder]   # a task key, `stage <name>` or `all of <name>`
//! ```

use super::error::{FileError, Fix, InputError, WorkError};
use super::work::{parse_estimate, parse_priority, seen};
use super::{Batch, Error, Ledger, Loaded, optional_text, text};
use crate::event::EntityKind;
use crate::event::body::{
    ObjectiveBudgetSet, ObjectiveCreated, TaskCancelled, TaskCreated, TaskReopened, TaskUpdated,
};
use crate::fold::cost::parse_money;
use crate::fold::state::State;
use crate::model::{Rule, Task, TaskStatus};
use crate::view::plan::{PlanView, plan_names, plan_view};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The largest plan file read.
const MAX_PLAN_BYTES: u64 = 4 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    /// Default: "workflow" (a file that is one `workflow:` list, as orchestration docs write).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    budget: Option<Money>,
    #[serde(default)]
    stages: Vec<StageFile>,
    /// Tasks as a workflow list: one stage of its own, named "workflow".
    #[serde(default)]
    workflow: Vec<WorkflowItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageFile {
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    triggers_on: Triggers,
    #[serde(default)]
    validation: Vec<RuleFile>,
    #[serde(default)]
    tasks: Vec<TaskFile>,
    /// Tasks as a workflow list (`session`, `task`, `output`, `triggers_on`).
    #[serde(default)]
    workflow: Vec<WorkflowItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    /// What re-applying matches on; default: derived from the title.
    #[serde(default)]
    key: Option<String>,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    priority: Option<Scalar>,
    #[serde(default)]
    estimate: Option<Scalar>,
    #[serde(default)]
    triggers_on: Triggers,
    #[serde(default)]
    validation: Vec<RuleFile>,
}

/// A task as a workflow list writes it: the session (pool) that works it, the task's text,
/// what it outputs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowItem {
    session: String,
    task: String,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    priority: Option<Scalar>,
    #[serde(default)]
    estimate: Option<Scalar>,
    #[serde(default)]
    triggers_on: Triggers,
    #[serde(default)]
    validation: Vec<RuleFile>,
}

impl WorkflowItem {
    /// The task it stands for: the session is its role (the pool that works it), the output
    /// is kept in its description.
    fn into_task(self) -> TaskFile {
        TaskFile {
            key: self.key,
            description: self.output.map(|o| format!("Output: {o}")),
            role: Some(self.session),
            title: self.task,
            priority: self.priority,
            estimate: self.estimate,
            triggers_on: self.triggers_on,
            validation: self.validation,
        }
    }
}

/// One trigger or a list of them.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Triggers {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Triggers {
    fn list(&self) -> Vec<&str> {
        match self {
            Triggers::None => Vec::new(),
            Triggers::One(one) => vec![one.as_str()],
            Triggers::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// A rule as written: a checklist item as plain text, or `command:` / `item:`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RuleFile {
    Item(String),
    Tagged(Rule),
}

/// A number or a string (`priority: 1`, `estimate: 2h`, `budget: "12.50"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(serde_json::Number),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }
}

type Money = Scalar;

/// A plan checked and resolved: what each task should be.
#[derive(Debug)]
struct Plan {
    name: String,
    description: Option<String>,
    budget_micros: Option<u64>,
    tasks: Vec<PlannedTask>,
}

#[derive(Debug, Clone, PartialEq)]
struct PlannedTask {
    key: String,
    stage: String,
    title: String,
    description: Option<String>,
    role: Option<String>,
    priority: u8,
    estimate_minutes: Option<u64>,
    validation: Vec<Rule>,
    /// Keys of the tasks it waits for, in plan order.
    depends_on: Vec<String>,
}

/// What `plan apply` recorded.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PlanReport {
    pub plan: String,
    pub objective: String,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub cancelled: Vec<String>,
    pub reopened: Vec<String>,
    pub unchanged: usize,
    /// Events appended (0 when the ledger already matched the file).
    pub events: usize,
}

impl PlanReport {
    /// What was recorded, for people: a line, then a line per kind of change.
    pub fn summary(&self, state: &State) -> String {
        let ids = |ids: &[String]| -> String {
            ids.iter()
                .map(|id| state.short(id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = if self.events == 0 {
            format!(
                "Plan '{}' is recorded already: nothing changed\n",
                self.plan
            )
        } else {
            format!(
                "Applied plan '{}' ({}): {} event(s)\n",
                self.plan,
                state.short(&self.objective),
                self.events
            )
        };
        for (what, list) in [
            ("added", &self.created),
            ("updated", &self.updated),
            ("reopened", &self.reopened),
            ("cancelled", &self.cancelled),
        ] {
            if !list.is_empty() {
                text.push_str(&format!("  {what}: {}\n", ids(list)));
            }
        }
        text
    }
}

/// The views of the plan `name`, or of every plan.
pub fn plan_views(state: &State, name: Option<&str>) -> Result<Vec<PlanView>, Error> {
    let names = match name {
        Some(name) => vec![name.to_string()],
        None => plan_names(state),
    };
    names
        .iter()
        .map(|name| {
            plan_view(state, name)
                .ok_or_else(|| Error::Input(InputError::UnknownPlan(name.clone())))
        })
        .collect()
}

/// The names that share a word with `wanted` (case aside): what a mistyped trigger may mean.
fn candidates<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 2)
            .map(str::to_lowercase)
            .collect()
    };
    let wanted = words(wanted);
    let mut near: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| words(name).iter().any(|w| wanted.contains(w)))
        .collect();
    near.sort_unstable();
    near.dedup();
    near
}

/// Read and check a plan file: YAML (JSON is YAML too).
fn parse(source: &str) -> Result<Plan, Error> {
    let bad = |message: String| {
        Error::from(FileError {
            line: None,
            message,
            fix: Fix::PlanFormat,
        })
    };
    let mut file: PlanFile = yaml_serde::from_str(source).map_err(|e| bad(format!("plan: {e}")))?;
    let name = text("plan name", file.name.as_deref().unwrap_or("workflow"))?;
    // Workflow lists are tasks written another way.
    if !file.workflow.is_empty() {
        file.stages.push(StageFile {
            name: "workflow".into(),
            role: None,
            triggers_on: Triggers::None,
            validation: Vec::new(),
            tasks: Vec::new(),
            workflow: std::mem::take(&mut file.workflow),
        });
    }
    for stage in &mut file.stages {
        let workflow = std::mem::take(&mut stage.workflow);
        stage
            .tasks
            .extend(workflow.into_iter().map(WorkflowItem::into_task));
    }
    if file.stages.iter().all(|s| s.tasks.is_empty()) {
        return Err(bad(
            "the plan has no tasks (give `stages:` with tasks, or a `workflow:` list)".into(),
        ));
    }
    // A task's key: as given, else from its title (stable while the title is).
    let key_of = |task: &TaskFile| -> Result<String, Error> {
        match &task.key {
            Some(key) => text("task key", key),
            None => Ok(super::work::slug(&text("title", &task.title)?)),
        }
    };
    let description = optional_text("plan description", file.description.as_deref())?;
    let budget_micros = match &file.budget {
        Some(budget) => Some(
            parse_money(&budget.text())
                .ok_or_else(|| Error::Input(InputError::BadMoney(budget.text())))?,
        ),
        None => None,
    };
    let mut stage_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // The tasks of each role (a workflow's session: the pool that works them).
    let mut role_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    for stage in &file.stages {
        let name = text("stage name", &stage.name)?;
        if stage_keys.contains_key(&name) {
            return Err(bad(format!("stage '{name}' appears twice")));
        }
        let mut stage_tasks = Vec::new();
        for task in &stage.tasks {
            let key = key_of(task)?;
            if !keys.insert(key.clone()) {
                let why = match task.key {
                    Some(_) => format!("task key '{key}' appears twice"),
                    None => format!(
                        "two tasks get the key '{key}' from their titles: give them `key:`s"
                    ),
                };
                return Err(bad(why));
            }
            if let Some(role) = task.role.as_deref().or(stage.role.as_deref()) {
                role_keys
                    .entry(role.trim().to_string())
                    .or_default()
                    .push(key.clone());
            }
            stage_tasks.push(key);
        }
        stage_keys.insert(name, stage_tasks);
    }
    // A trigger names what a task waits for: a task key, a stage or a role (a workflow's
    // session), bare or as orchestration docs write it: `X completion`, `all X complete`,
    // `all of X`, `stage X`.
    let resolve = |trigger: &str, own: &str| -> Result<Vec<String>, Error> {
        let t = trigger.trim();
        let t = [" completion", " completed", " complete", " done"]
            .iter()
            .find_map(|suffix| t.strip_suffix(suffix))
            .unwrap_or(t)
            .trim();
        let (t, only_stage, only_groups) = if let Some(rest) = t.strip_prefix("stage ") {
            (rest.trim(), true, true)
        } else if let Some(rest) = t.strip_prefix("stage:") {
            (rest.trim(), true, true)
        } else if let Some(rest) = t.strip_prefix("all of ") {
            (rest.trim(), false, true)
        } else if let Some(rest) = t.strip_prefix("all ") {
            (rest.trim(), false, true)
        } else {
            (t, false, false)
        };
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        if !only_groups && keys.contains(t) {
            found.push((format!("task {t}"), vec![t.to_string()]));
        }
        if let Some(tasks) = stage_keys.get(t) {
            if t == own {
                return Err(bad(format!("stage '{t}' cannot wait for itself")));
            }
            found.push((format!("stage {t}"), tasks.clone()));
        }
        if !only_stage && let Some(tasks) = role_keys.get(t) {
            found.push((format!("session {t}"), tasks.clone()));
        }
        found.dedup_by(|a, b| a.1 == b.1);
        match found.len() {
            1 => Ok(found.remove(0).1),
            0 => {
                let names: Vec<&str> = keys
                    .iter()
                    .chain(stage_keys.keys())
                    .chain(role_keys.keys())
                    .map(String::as_str)
                    .collect();
                let near = candidates(t, &names);
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", near.join(", "))
                };
                Err(bad(format!(
                    "trigger '{trigger}': no task, session or stage '{t}'{hint}"
                )))
            }
            _ => Err(bad(format!(
                "trigger '{trigger}' is ambiguous: it names {}; write `stage {t}` or give the task a different key",
                found
                    .iter()
                    .map(|(what, _)| what.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))),
        }
    };
    let rules = |written: &[RuleFile]| -> Result<Vec<Rule>, Error> {
        written
            .iter()
            .map(|rule| {
                Ok(match rule {
                    RuleFile::Item(item) | RuleFile::Tagged(Rule::Item(item)) => {
                        Rule::Item(text("validation rule", item)?)
                    }
                    RuleFile::Tagged(Rule::Command(command)) => {
                        Rule::Command(text("validation command", command)?)
                    }
                })
            })
            .collect()
    };
    let mut tasks = Vec::new();
    for stage in &file.stages {
        let stage_name = stage.name.trim().to_string();
        let stage_rules = rules(&stage.validation)?;
        let mut stage_deps = Vec::new();
        for trigger in stage.triggers_on.list() {
            stage_deps.extend(resolve(trigger, &stage_name)?);
        }
        for task in &stage.tasks {
            let mut depends_on: Vec<String> = Vec::new();
            let mut add = |keys: Vec<String>| {
                for key in keys {
                    if !depends_on.contains(&key) {
                        depends_on.push(key);
                    }
                }
            };
            add(stage_deps.clone());
            for trigger in task.triggers_on.list() {
                add(resolve(trigger, "")?);
            }
            let key = key_of(task)?;
            if depends_on.contains(&key) {
                return Err(bad(format!("task '{key}' cannot wait for itself")));
            }
            let mut validation = stage_rules.clone();
            validation.extend(rules(&task.validation)?);
            tasks.push(PlannedTask {
                key,
                stage: stage_name.clone(),
                title: text("title", &task.title)?,
                description: optional_text("description", task.description.as_deref())?,
                role: optional_text("role", task.role.as_deref().or(stage.role.as_deref()))?,
                priority: match &task.priority {
                    Some(p) => parse_priority(&p.text())?,
                    None => 2,
                },
                estimate_minutes: task
                    .estimate
                    .as_ref()
                    .map(|e| parse_estimate(&e.text()))
                    .transpose()?,
                validation,
                depends_on,
            });
        }
    }
    if let Some(cycle) = cycle(&tasks) {
        return Err(Error::Work(WorkError::Cycle(cycle)));
    }
    Ok(Plan {
        name,
        description,
        budget_micros,
        tasks,
    })
}

/// A cycle among the plan's triggers, as a path of keys.
fn cycle(tasks: &[PlannedTask]) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, &[String]> = tasks
        .iter()
        .map(|t| (t.key.as_str(), t.depends_on.as_slice()))
        .collect();
    // Depth-first search with colours: 1 on the path, 2 finished.
    fn visit<'a>(
        key: &'a str,
        deps: &BTreeMap<&'a str, &'a [String]>,
        colour: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match colour.get(key) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|k| *k == key).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|k| k.to_string()).collect();
                cycle.push(key.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        colour.insert(key, 1);
        path.push(key);
        for dep in deps.get(key).copied().unwrap_or(&[]) {
            if let Some(cycle) = visit(dep, deps, colour, path) {
                return Some(cycle);
            }
        }
        path.pop();
        colour.insert(key, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for task in tasks {
        if let Some(cycle) = visit(&task.key, &deps, &mut colour, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// Read a plan file (or standard input for `-`), at most [`MAX_PLAN_BYTES`].
pub fn read_plan(path: &str) -> Result<String, Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let result = if path == "-" {
        std::io::stdin()
            .take(MAX_PLAN_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes))
    };
    result.map_err(Error::io(format!("cannot read {path}")))?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(Error::Input(InputError::TooLarge {
            what: "plan file",
            size: bytes.len(),
            limit: MAX_PLAN_BYTES as usize,
        }));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::from(FileError {
            line: None,
            message: format!(
                "{path} is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
            fix: Fix::Utf8,
        })
    })
}

impl Ledger {
    /// Apply a plan (the text of a plan file): record what differs from the ledger.
    pub fn plan_apply(&self, source: &str) -> Result<(Loaded, PlanReport), Error> {
        let plan = parse(source)?;
        self.record(|state, batch| Ok(diff(state, batch, &plan)))
    }
}

/// Draft the events that make the ledger match the plan.
fn diff(state: &State, batch: &mut Batch, plan: &Plan) -> PlanReport {
    let mut report = PlanReport {
        plan: plan.name.clone(),
        ..PlanReport::default()
    };
    let existing_objective = state
        .objectives
        .iter()
        .rev()
        .find(|o| o.plan.as_deref() == Some(plan.name.as_str()));
    let objective = match existing_objective {
        Some(o) => {
            if o.budget_micros != plan.budget_micros
                && let Some(budget) = plan.budget_micros
            {
                let budget_micros = budget;
                batch.push(&o.id, ObjectiveBudgetSet { budget_micros });
            }
            o.id.clone()
        }
        None => {
            let id = batch.new_id(EntityKind::Objective, &plan.name);
            let body = ObjectiveCreated {
                title: plan.name.clone(),
                description: plan.description.clone(),
                budget_micros: plan.budget_micros,
                plan: Some(plan.name.clone()),
                source_id: None,
            };
            batch.push(&id, body);
            id
        }
    };
    report.objective = objective.clone();
    // The plan's tasks already in the ledger, by key (the newest if a key repeats).
    let mut by_key: BTreeMap<&str, &Task> = BTreeMap::new();
    for task in state.tasks.iter() {
        if task.objective.as_deref() == Some(objective.as_str())
            && let Some(key) = &task.plan_key
        {
            by_key.insert(key, task);
        }
    }
    let ids: BTreeMap<&str, String> = plan
        .tasks
        .iter()
        .map(|planned| {
            let id = match by_key.get(planned.key.as_str()) {
                Some(task) => task.id.clone(),
                None => batch.new_id(EntityKind::Task, &format!("{}\n{}", plan.name, planned.key)),
            };
            (planned.key.as_str(), id)
        })
        .collect();
    for planned in &plan.tasks {
        let id = &ids[planned.key.as_str()];
        let depends_on: Vec<String> = planned
            .depends_on
            .iter()
            .filter_map(|key| ids.get(key.as_str()).cloned())
            .collect();
        match by_key.get(planned.key.as_str()) {
            None => {
                let body = TaskCreated {
                    title: planned.title.clone(),
                    priority: planned.priority,
                    depends_on,
                    objective: Some(objective.clone()),
                    stage: Some(planned.stage.clone()),
                    plan_key: Some(planned.key.clone()),
                    description: planned.description.clone(),
                    role: planned.role.clone(),
                    estimate_minutes: planned.estimate_minutes,
                    validation: (!planned.validation.is_empty())
                        .then(|| planned.validation.clone()),
                    ..TaskCreated::default()
                };
                batch.push(id, body);
                report.created.push(id.clone());
            }
            Some(task) => {
                if task.status == TaskStatus::Cancelled {
                    let body = TaskReopened {
                        reason: Some("back in the plan".into()),
                        after: seen(task),
                    };
                    batch.push(id, body);
                    report.reopened.push(id.clone());
                }
                let changes = TaskUpdated {
                    title: (task.title != planned.title).then(|| planned.title.clone()),
                    description: planned
                        .description
                        .clone()
                        .filter(|_| task.description != planned.description),
                    priority: (task.priority != planned.priority).then_some(planned.priority),
                    estimate_minutes: planned
                        .estimate_minutes
                        .filter(|_| task.estimate_minutes != planned.estimate_minutes),
                    role: planned.role.clone().filter(|_| task.role != planned.role),
                    validation: (task.validation != planned.validation)
                        .then(|| planned.validation.clone()),
                    stage: (task.stage.as_deref() != Some(planned.stage.as_str()))
                        .then(|| planned.stage.clone()),
                    depends_on: (task.depends_on != depends_on).then_some(depends_on),
                };
                if changes != TaskUpdated::default() {
                    batch.push(id, changes);
                    report.updated.push(id.clone());
                } else if task.status != TaskStatus::Cancelled {
                    report.unchanged += 1;
                }
            }
        }
    }
    // Dropped from the plan: cancelled, never deleted; finished work stays as it is.
    for (key, task) in &by_key {
        if !ids.contains_key(key) && !task.status.is_closed() {
            let reason = format!("dropped from plan '{}'", plan.name);
            let body = TaskCancelled {
                reason: Some(reason),
                after: seen(task),
            };
            batch.push(&task.id, body);
            report.cancelled.push(task.id.clone());
        }
    }
    report.events = batch.len();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "
name: Ship it
stages:
  - name: develop
    role: developer
    tasks:
      - key: a
        title: Build A
        validation:
          - command: cargo test
          - Docs updated
  - name: test
    role: tester
    triggers_on: all of develop
    tasks:
      - key: b
        title: Test A
        priority: 1
        estimate: 1h
";

    #[test]
    fn plans_resolve_triggers_roles_and_rules() {
        let plan = parse(PLAN).expect("a plan");
        assert_eq!(plan.tasks.len(), 2);
        let b = &plan.tasks[1];
        assert_eq!(b.depends_on, ["a"]);
        assert_eq!(b.role.as_deref(), Some("tester"));
        assert_eq!((b.priority, b.estimate_minutes), (1, Some(60)));
        assert_eq!(
            plan.tasks[0].validation,
            [
                Rule::Command("cargo test".into()),
                Rule::Item("Docs updated".into())
            ]
        );
    }

    #[test]
    fn bad_plans_are_refused() {
        for (source, wanted) in [
            (
                "name: x\nstages: [{name: s, tasks: [{key: a, title: A, triggers_on: zz}]}]",
                "no task, session or stage 'zz'",
            ),
            (
                "name: x\nstages: [{name: s, tasks: [{key: a, title: A}, {key: a, title: B}]}]",
                "appears twice",
            ),
            (
                "name: x\nstages: [{name: s, tasks: [{key: a, title: A, triggers_on: b}, {key: b, title: B, triggers_on: a}]}]",
                "dependency cycle",
            ),
            (
                "name: x\nstages: [{name: s, triggers_on: all of s, tasks: [{key: a, title: A}]}]",
                "cannot wait for itself",
            ),
            (
                "name: x\nstages: [{name: s, tasks: [{key: a, title: A, colour: red}]}]",
                "unknown field",
            ),
            (
                "name: x\nstages: [{name: s, tasks: [{key: a, title: A, priority: 9}]}]",
                "priority '9'",
            ),
            ("name: '  '\nstages: []", "empty"),
            ("name: x\nstages: []", "no tasks"),
            (
                "name: x\nstages: [{name: s, tasks: [{title: Same}, {title: same}]}]",
                "give them `key:`s",
            ),
            (
                "name: x\nstages: [{name: a, tasks: [{key: a, title: A}, {key: c, title: C}]}, {name: b, tasks: [{key: b, title: B, triggers_on: a}]}]",
                "is ambiguous: it names task a and stage a",
            ),
            (": : :", "plan:"),
        ] {
            let err = parse(source).expect_err(source).to_string();
            assert!(err.contains(wanted), "{source}: {err}");
        }
    }
}
