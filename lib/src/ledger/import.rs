//! Importing: a ledger export (JSONL), an orchestrator's `orchestrator_context.json`, or beads
//! issues (JSONL).
//!
//! The whole input is parsed and checked before anything is written: one bad line refuses the
//! import. The events are appended in commits of at most [`IMPORT_EVENTS_PER_COMMIT`] events,
//! chained and published by one compare-and-swap of this clone's ref, so an import appears
//! entirely or not at all. Imports are idempotent: exported events are recognised by their
//! ids, and entities from other tools get ids derived from their source ids and the source's
//! identity (an orchestrator context's `project_name`, a beads issue's creation time; not the
//! writer and clock), so a second import of the same file finds them and adds nothing while
//! two projects that both number from `TASK_001` never collide. Entities imported before ids
//! carried the source's identity are recognised under their old id when their title matches.
//!
//! Entries of other tools are historical facts: they are recorded as they are, without the
//! validation of the commands (a completed task needs no notes). Their events carry the source's
//! timestamps in `time` when it has them (except `task.started`, which gets the import's time
//! so the work clock does not count the time before the import); `hlc` is the import's clock,
//! as for any append, so imported events order after everything the ledger had.

use super::error::{FileError, Fix};
use super::{Error, Ledger, Loaded, next_hlc};
use crate::clock;
use crate::event::body::{
    AgentExited, AgentSpawned, DecisionRequested, InsightAdded, ObjectiveCompleted,
    ObjectiveCreated, TaskBlocked, TaskCompleted, TaskCreated, TaskStarted,
};
use crate::event::{Body, EntityKind, Event, entity_id};
use crate::fold::state::State;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The most events one commit of an import holds.
pub const IMPORT_EVENTS_PER_COMMIT: usize = 1000;

/// Top-level keys that mark an orchestrator context.
const ORCHESTRATOR_KEYS: &[&str] = &[
    "objectives",
    "completed_tasks",
    "active_tasks",
    "key_insights",
];

/// What the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// Tell from the content.
    Auto,
    /// Events as written by `git ledger export`, one a line.
    Jsonl,
    /// An orchestrator's `orchestrator_context.json`.
    Orchestrator,
    /// beads issues, one JSON object a line.
    Beads,
}

impl ImportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Auto => "auto",
            ImportFormat::Jsonl => "jsonl",
            ImportFormat::Orchestrator => "orchestrator",
            ImportFormat::Beads => "beads",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    /// The format read (never `auto`).
    pub format: ImportFormat,
    /// Events in the input; for orchestrator and beads, the events its entries map to.
    pub read: usize,
    /// Events appended now.
    pub added: usize,
    /// Events not appended because the ledger already has them (or the input repeats them).
    pub skipped: usize,
    /// Commits the added events were written in.
    pub commits: usize,
}

/// One entity of another tool and the events that record it.
struct Entry {
    kind: EntityKind,
    subject: String,
    /// The id older versions gave it (from the source id alone), when that differs.
    legacy: Option<String>,
    events: Vec<Planned>,
}

impl Entry {
    /// What names it to a reader: a title, question, text or mission.
    fn headline(&self) -> Option<&str> {
        match &self.events.first()?.body {
            Body::ObjectiveCreated(b) => Some(&b.title),
            Body::TaskCreated(b) => Some(&b.title),
            Body::DecisionRequested(b) => Some(&b.question),
            Body::InsightAdded(b) => Some(&b.text),
            Body::AgentSpawned(b) => Some(&b.mission),
            _ => None,
        }
    }
}

struct Planned {
    body: Body,
    /// The source's timestamp; `None`: the time of the import.
    time: Option<DateTime<Utc>>,
}

enum Source {
    Events(Vec<Event>),
    Entries(Vec<Entry>),
}

impl Ledger {
    /// Import `input` (the bytes of a file) into this clone's ref. Nothing is written when
    /// any part of the input is refused.
    pub fn import(
        &self,
        input: &[u8],
        format: ImportFormat,
    ) -> Result<(Loaded, ImportReport), Error> {
        let text = decode(input)?;
        let worktree = self.worktree().to_string_lossy().into_owned();
        let (format, source) = parse(text, format, &worktree)?;
        // What is already there is recognised by event id (exports) or by the spawn events of
        // agents, which takes every event of the ledger.
        self.append_with_retry(IMPORT_EVENTS_PER_COMMIT, true, |loaded| {
            let (events, skipped) = match &source {
                Source::Events(events) => new_events(&loaded.state, events),
                Source::Entries(entries) => self.seal_entries(loaded, entries)?,
            };
            let report = ImportReport {
                format,
                read: events.len() + skipped,
                added: events.len(),
                skipped,
                commits: events.len().div_ceil(IMPORT_EVENTS_PER_COMMIT),
            };
            Ok((events, report))
        })
    }

    /// Seal the events of the entries the ledger does not have yet, after everything it has.
    /// Returns them and the number of events skipped.
    fn seal_entries(
        &self,
        loaded: &Loaded,
        entries: &[Entry],
    ) -> Result<(Vec<Event>, usize), Error> {
        let state = &loaded.state;
        let session = self.current_session(state)?;
        let base = next_hlc(loaded);
        // Entries an older version imported under their legacy id: references to them (an
        // objective, dependencies) follow them there.
        let renamed: HashMap<&str, &str> = entries
            .iter()
            .filter(|e| !exists(state, e.kind, &e.subject))
            .filter_map(|e| {
                let legacy = e.legacy.as_deref()?;
                let same = exists(state, e.kind, legacy)
                    && headline_of(state, e.kind, legacy) == e.headline();
                same.then_some((e.subject.as_str(), legacy))
            })
            .collect();
        let rename = |id: &mut String| {
            if let Some(legacy) = renamed.get(id.as_str()) {
                *id = legacy.to_string();
            }
        };
        let mut seen = HashSet::new();
        let mut events = Vec::new();
        let mut skipped = 0;
        for entry in entries {
            if !seen.insert(entry.subject.as_str())
                || exists(state, entry.kind, &entry.subject)
                || renamed.contains_key(entry.subject.as_str())
            {
                skipped += entry.events.len();
                continue;
            }
            for planned in &entry.events {
                let mut body = planned.body.clone();
                if let Body::TaskCreated(task) = &mut body {
                    task.objective.iter_mut().for_each(rename);
                    task.depends_on.iter_mut().for_each(rename);
                }
                events.push(Event::seal(
                    body.kind().unwrap_or("unknown"),
                    clock::format(planned.time.unwrap_or(loaded.now)),
                    base + events.len() as u64,
                    &self.writer,
                    session.clone(),
                    &self.actor,
                    Some(entry.subject.clone()),
                    body,
                ));
            }
        }
        Ok((events, skipped))
    }
}

fn exists(state: &State, kind: EntityKind, id: &str) -> bool {
    match kind {
        EntityKind::Objective => state.objectives.contains(id),
        EntityKind::Task => state.tasks.contains(id),
        EntityKind::Insight => state.insights.contains(id),
        EntityKind::Decision => state.decisions.contains(id),
        EntityKind::Session => state.sessions.contains(id),
        EntityKind::Agent => state.agents.contains(id),
    }
}

/// The title, question, text or mission of an entity the ledger holds.
fn headline_of<'a>(state: &'a State, kind: EntityKind, id: &str) -> Option<&'a str> {
    match kind {
        EntityKind::Objective => state.objectives.get(id).map(|o| o.title.as_str()),
        EntityKind::Task => state.tasks.get(id).map(|t| t.title.as_str()),
        EntityKind::Insight => state.insights.get(id).map(|i| i.text.as_str()),
        EntityKind::Decision => state.decisions.get(id).map(|d| d.question.as_str()),
        EntityKind::Agent => state.agents.get(id).map(|a| a.mission.as_str()),
        EntityKind::Session => None,
    }
}

/// The exported events the ledger does not have yet, in input order, and how many it has.
fn new_events(state: &State, events: &[Event]) -> (Vec<Event>, usize) {
    let mut seen: HashSet<&str> = state.events.iter().map(|e| e.id.as_str()).collect();
    let mut fresh = Vec::new();
    for event in events {
        if seen.insert(event.id.as_str()) {
            fresh.push(event.clone());
        }
    }
    let skipped = events.len() - fresh.len();
    (fresh, skipped)
}

fn import_error(line: Option<usize>, message: impl Into<String>, fix: Fix) -> Error {
    Error::File(FileError {
        line,
        message: message.into(),
        fix,
    })
}

/// The input as text: UTF-8, a leading byte order mark dropped.
fn decode(input: &[u8]) -> Result<&str, Error> {
    match std::str::from_utf8(input) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(e) => {
            let line = input[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(import_error(Some(line), "not valid UTF-8", Fix::Utf8))
        }
    }
}

/// The non-blank lines of the input with their 1-based line numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty())
}

/// serde_json's message without its position (which is reported separately).
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&position).unwrap_or(&text).to_string()
}

/// A JSON syntax error on line `line` of the input (for one line: its column too).
fn json_error(e: &serde_json::Error, line: usize, column: bool) -> Error {
    let message = if column {
        format!("not valid JSON: {} (column {})", json_reason(e), e.column())
    } else {
        format!("not valid JSON: {}", json_reason(e))
    };
    import_error(Some(line), message, Fix::Content)
}

fn parse(
    text: &str,
    format: ImportFormat,
    worktree: &str,
) -> Result<(ImportFormat, Source), Error> {
    let source = match format {
        ImportFormat::Auto => return parse(text, detect(text)?, worktree),
        ImportFormat::Jsonl => Source::Events(parse_export(text)?),
        ImportFormat::Orchestrator => Source::Entries(orchestrator(text, worktree)?),
        ImportFormat::Beads => Source::Entries(beads(text, worktree)?),
    };
    Ok((format, source))
}

/// Tell the format from the content: one JSON object with orchestrator keys, else the first
/// line: a ledger event (`kind`, `hlc`, `writer`) or a beads issue (`title`, `status`).
fn detect(text: &str) -> Result<ImportFormat, Error> {
    let unknown = |why: String| {
        import_error(
            None,
            format!("cannot tell the format of the input: {why}"),
            Fix::ImportFormat,
        )
    };
    let Some((first_line, first)) = lines(text).next() else {
        return Err(import_error(None, "the input is empty", Fix::ImportFormat));
    };
    let first_alone = serde_json::from_str::<Value>(first);
    if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => {
                if ORCHESTRATOR_KEYS.iter().any(|k| map.contains_key(*k)) {
                    return Ok(ImportFormat::Orchestrator);
                }
                if first_alone.is_err() {
                    return Err(unknown(format!(
                        "a JSON object without any of the keys {}",
                        ORCHESTRATOR_KEYS.join(", ")
                    )));
                }
            }
            // One JSON document spread over several lines (not JSONL): report where it breaks.
            Err(e) if first_alone.is_err() => return Err(json_error(&e, e.line(), false)),
            _ => {}
        }
    }
    let value = first_alone.map_err(|e| json_error(&e, first_line, true))?;
    let has = |key: &str| value.get(key).is_some();
    if has("kind") && has("hlc") && has("writer") {
        Ok(ImportFormat::Jsonl)
    } else if has("title") && has("status") && !has("kind") {
        Ok(ImportFormat::Beads)
    } else {
        Err(unknown(format!(
            "line {first_line} is neither a ledger event (kind, hlc, writer) nor a beads issue (title, status)"
        )))
    }
}

/// How far ahead of this clone's clock an imported event's clock may be.
const SKEW_MS: u64 = 24 * 3_600_000;

/// Every line an event whose id verifies.
fn parse_export(text: &str) -> Result<Vec<Event>, Error> {
    lines(text)
        .map(|(n, line)| {
            let event = Event::from_line(line.trim())
                .map_err(|e| import_error(Some(n), e.to_string(), Fix::Content))?;
            // What readers would skip is refused here, before anything is written.
            crate::event::kind::shape_errors(&event)
                .map_err(|e| import_error(Some(n), e, Fix::Content))?;
            let now = crate::clock::now()
                .unwrap_or_else(|_| chrono::Utc::now())
                .max(chrono::Utc::now());
            let now = u64::try_from(now.timestamp_millis()).unwrap_or(0);
            let ahead = event.hlc > now.saturating_add(SKEW_MS);
            if ahead {
                return Err(import_error(
                    Some(n),
                    "the event's clock is more than 24 h ahead of this clone's".to_string(),
                    Fix::Content,
                ));
            }
            Ok(event)
        })
        .collect()
}

/// One object of the input, with where it came from for error messages.
struct Item<'a> {
    place: String,
    map: &'a Map<String, Value>,
}

impl<'a> Item<'a> {
    fn new(place: String, value: &'a Value, line: Option<usize>) -> Result<Item<'a>, Error> {
        match value {
            Value::Object(map) => Ok(Item { place, map }),
            _ => Err(import_error(
                line,
                format!("{place} is not a JSON object"),
                Fix::Content,
            )),
        }
    }

    /// The first of `keys` that holds a non-blank string, trimmed.
    fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter()
            .filter_map(|k| self.map.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// The source's id: a string or a number.
    fn id(&self) -> Option<String> {
        match self.map.get("id")? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The first of `keys` that holds a time this module can read.
    fn time(&self, keys: &[&str]) -> Option<DateTime<Utc>> {
        keys.iter()
            .filter_map(|k| self.map.get(*k).and_then(Value::as_str))
            .find_map(parse_time)
    }

    fn strings(&self, key: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for value in self
            .map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = match value {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if !text.is_empty() && !out.contains(&text) {
                out.push(text);
            }
        }
        out
    }

    /// Normalised status: lowercase, words joined by `_`.
    fn status(&self) -> String {
        self.text(&["status"])
            .unwrap_or_default()
            .to_lowercase()
            .replace([' ', '-'], "_")
    }

    /// Priority 0 (highest) … 4: a number (clamped), `p1`, or a word; 2 when absent.
    fn priority(&self) -> u8 {
        match self.map.get("priority") {
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map_or(2, |p| p.clamp(0, 4) as u8),
            Some(Value::String(s)) => {
                let s = s.trim().to_lowercase();
                match s.trim_start_matches('p').parse::<i64>() {
                    Ok(p) => p.clamp(0, 4) as u8,
                    Err(_) => match s.as_str() {
                        "critical" | "urgent" => 0,
                        "high" => 1,
                        "low" => 3,
                        "lowest" | "backlog" => 4,
                        _ => 2,
                    },
                }
            }
            _ => 2,
        }
    }

    fn missing(&self, what: &str) -> Error {
        import_error(None, format!("{} has no {what}", self.place), Fix::Content)
    }
}

/// A timestamp with or without a time zone (none means UTC), or a date alone.
fn parse_time(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// An imported task started at the time of the import, in this worktree.
fn started_in(worktree: &str) -> TaskStarted {
    TaskStarted {
        worktree: Some(worktree.to_string()),
        agent: None,
        after: None,
    }
}

fn planned(body: impl Into<Body>, time: Option<DateTime<Utc>>) -> Planned {
    Planned {
        body: body.into(),
        time,
    }
}

/// An imported entity's id, the same on every import: from `seed` (the source's identity and
/// the entry's source id), and the legacy id older versions made from `legacy_seed` (the
/// source id alone). Without an identity, the legacy id is the id.
fn import_ids(
    kind: EntityKind,
    legacy_seed: String,
    seed: Option<String>,
) -> (String, Option<String>) {
    let id = |seed: &str| entity_id(kind, "import", 0, seed);
    match seed {
        Some(seed) => (id(&seed), Some(id(&legacy_seed))),
        None => (id(&legacy_seed), None),
    }
}

/// The ids of an orchestrator entry of `project`.
fn project_ids(
    kind: EntityKind,
    project: Option<&str>,
    source_id: &str,
) -> (String, Option<String>) {
    let seed = project.map(|project| format!("orchestrator:{project}:{source_id}"));
    import_ids(kind, format!("orchestrator:{source_id}"), seed)
}

/// The entity id a beads issue had from its source id alone (older versions; dependencies
/// on an issue not in the file).
fn beads_id(source_id: &str) -> String {
    import_ids(EntityKind::Task, format!("beads:{source_id}"), None).0
}

/// A beads issue's ids: repositories number their issues alike (`bd-1`), so its creation time
/// tells two apart.
fn beads_ids(source_id: &str, created: Option<&str>) -> (String, Option<String>) {
    let seed = created.map(|created| format!("beads:{source_id}@{created}"));
    import_ids(EntityKind::Task, format!("beads:{source_id}"), seed)
}

/// Map an orchestrator context: objectives, completed and active tasks, pending decisions,
/// key insights and spawned agents. Its metrics are not imported: they are recomputed from the
/// events.
fn orchestrator(text: &str, worktree: &str) -> Result<Vec<Entry>, Error> {
    let root: Value = serde_json::from_str(text).map_err(|e| json_error(&e, e.line(), false))?;
    let Value::Object(root) = root else {
        return Err(import_error(
            None,
            "an orchestrator context is one JSON object",
            Fix::ImportFormat,
        ));
    };
    let section = |key: &'static str| -> Result<Vec<Item<'_>>, Error> {
        match root.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Item::new(format!("{key}[{i}]"), v, None))
                .collect(),
            Some(_) => Err(import_error(
                None,
                format!("\"{key}\" is not a list"),
                Fix::Content,
            )),
        }
    };
    // What tells this project from another that numbers its entities alike.
    let project = ["project_name", "created_date"].iter().find_map(|key| {
        root.get(*key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
    });
    let mut entries = Vec::new();
    let mut objective_ids = HashMap::new();
    for item in &section("objectives")? {
        entries.push(orchestrator_objective(item, project, &mut objective_ids)?);
    }
    let tasks = [("completed_tasks", true), ("active_tasks", false)];
    for (key, done) in tasks {
        for item in &section(key)? {
            let objective = task_objective(item, &objective_ids);
            entries.push(orchestrator_task(item, done, objective, project, worktree)?);
        }
    }
    for (i, value) in raw_list(&root, "pending_decisions")?
        .into_iter()
        .enumerate()
    {
        let place = format!("pending_decisions[{i}]");
        entries.push(orchestrator_decision(text_or_item(place, value)?, project)?);
    }
    for (i, value) in raw_list(&root, "key_insights")?.into_iter().enumerate() {
        let place = format!("key_insights[{i}]");
        entries.push(orchestrator_insight(text_or_item(place, value)?, project)?);
    }
    for item in &section("spawned_agents")? {
        entries.push(orchestrator_agent(item, project)?);
    }
    Ok(entries)
}

/// An orchestrator entry's title and source id: each stands in for the other when missing.
fn title_and_source_id(item: &Item) -> Result<(String, String), Error> {
    let title = item.text(&["description", "title", "name"]);
    let source_id = item
        .id()
        .or_else(|| title.clone())
        .ok_or_else(|| item.missing("id and no description"))?;
    let title = title.unwrap_or_else(|| source_id.clone());
    Ok((title, source_id))
}

/// An orchestrator objective, completed if its status says so; its id noted by source id.
fn orchestrator_objective(
    item: &Item,
    project: Option<&str>,
    objective_ids: &mut HashMap<String, String>,
) -> Result<Entry, Error> {
    let (title, source_id) = title_and_source_id(item)?;
    let (id, legacy) = project_ids(EntityKind::Objective, project, &source_id);
    objective_ids.insert(source_id.clone(), id.clone());
    let created = ObjectiveCreated {
        title,
        source_id: Some(source_id),
        ..ObjectiveCreated::default()
    };
    let mut events = vec![planned(created, item.time(&["created", "created_date"]))];
    if matches!(item.status().as_str(), "completed" | "done" | "complete") {
        let completed = ObjectiveCompleted {
            outcome: item.text(&["outcome"]),
            forced: None,
        };
        events.push(planned(
            completed,
            item.time(&["completed", "completed_date"]),
        ));
    }
    Ok(Entry {
        kind: EntityKind::Objective,
        subject: id,
        legacy,
        events,
    })
}

/// The objective a task entry names; in a file with one objective, that one.
fn task_objective(item: &Item, objective_ids: &HashMap<String, String>) -> Option<String> {
    match item.text(&["objective", "objective_id"]) {
        Some(o) => objective_ids.get(&o).cloned(),
        None if objective_ids.len() == 1 => objective_ids.values().next().cloned(),
        None => None,
    }
}

/// An orchestrator task: done (a historical fact, recorded without the validation `task
/// done` applies), or open, in progress or blocked as its status says.
fn orchestrator_task(
    item: &Item,
    done: bool,
    objective: Option<String>,
    project: Option<&str>,
    worktree: &str,
) -> Result<Entry, Error> {
    let (title, source_id) = title_and_source_id(item)?;
    let body = TaskCreated {
        title,
        priority: item.priority(),
        source_id: Some(source_id.clone()),
        objective,
        ..TaskCreated::default()
    };
    let completed = item.time(&["completed", "completed_date"]);
    let created = item
        .time(&["created", "created_date"])
        .or(if done { completed } else { None });
    let mut events = vec![planned(body, created)];
    if done {
        let body = TaskCompleted {
            imported: Some(true),
            summary: item.text(&["outcome", "summary"]),
            ..TaskCompleted::default()
        };
        events.push(planned(body, completed));
    } else if matches!(
        item.status().as_str(),
        "in_progress" | "inprogress" | "started" | "working"
    ) {
        // At the time of the import: the work clock counts from when the ledger knows.
        events.push(planned(started_in(worktree), None));
    } else if item.status() == "blocked" {
        let reason = item
            .text(&["blocked_reason", "block_reason", "reason"])
            .unwrap_or_else(|| "imported as blocked".into());
        let blocked = TaskBlocked {
            reason,
            after: None,
        };
        events.push(planned(blocked, None));
    }
    let (subject, legacy) = project_ids(EntityKind::Task, project, &source_id);
    Ok(Entry {
        kind: EntityKind::Task,
        subject,
        legacy,
        events,
    })
}

/// A pending decision: a plain string (the question) or an object.
fn orchestrator_decision(entry: TextOrItem, project: Option<&str>) -> Result<Entry, Error> {
    let (question, source_id, options, time) = match entry {
        TextOrItem::Text(text) => (text, None, Vec::new(), None),
        TextOrItem::Item(item) => {
            let question = item
                .text(&["question", "description", "title"])
                .ok_or_else(|| item.missing("question or description"))?;
            (
                question,
                item.id(),
                item.strings("options"),
                item.time(&["created", "created_date"]),
            )
        }
    };
    let source_id = source_id.unwrap_or_else(|| question.clone());
    let body = DecisionRequested {
        question,
        options,
        task: None,
        source_id: Some(source_id.clone()),
    };
    let (subject, legacy) = project_ids(EntityKind::Decision, project, &source_id);
    Ok(Entry {
        kind: EntityKind::Decision,
        subject,
        legacy,
        events: vec![planned(body, time)],
    })
}

/// A key insight: a plain string or an object with a "text" (and tags, without `#`).
fn orchestrator_insight(entry: TextOrItem, project: Option<&str>) -> Result<Entry, Error> {
    let (text, source_id, tags, time) = match entry {
        TextOrItem::Text(text) => (text, None, Vec::new(), None),
        TextOrItem::Item(item) => {
            let text = item
                .text(&["text", "insight", "description"])
                .ok_or_else(|| item.missing("text"))?;
            let tags: Vec<String> = item
                .strings("tags")
                .iter()
                .map(|t| t.trim_start_matches('#').to_lowercase())
                .filter(|t| !t.is_empty())
                .fold(Vec::new(), |mut acc, t| {
                    if !acc.contains(&t) {
                        acc.push(t);
                    }
                    acc
                });
            (
                text,
                item.id(),
                tags,
                item.time(&["created", "created_date"]),
            )
        }
    };
    let (subject, legacy) = project_ids(
        EntityKind::Insight,
        project,
        source_id.as_deref().unwrap_or(&text),
    );
    let body = InsightAdded {
        text,
        tags,
        knowledge: false,
        task: None,
        source_id,
    };
    Ok(Entry {
        kind: EntityKind::Insight,
        subject,
        legacy,
        events: vec![planned(body, time)],
    })
}

/// A spawned agent: the file records agents that ran, so it comes in finished, not as a
/// running agent that went silent.
fn orchestrator_agent(item: &Item, project: Option<&str>) -> Result<Entry, Error> {
    let source_id = item.id().ok_or_else(|| item.missing("id"))?;
    // Role and mission are required of `agent.spawned`: an entry without them still records
    // that an agent ran, as a plain "agent" with no mission text.
    let body = AgentSpawned {
        source_id: Some(source_id.clone()),
        role: item
            .text(&["type", "role"])
            .unwrap_or_else(|| "agent".into()),
        mission: item.text(&["mission", "description"]).unwrap_or_default(),
        ..AgentSpawned::default()
    };
    let (subject, legacy) = project_ids(EntityKind::Agent, project, &source_id);
    let spawned = item.time(&["spawned", "created", "created_date"]);
    let ended = item.time(&["completed", "finished", "ended"]).or(spawned);
    let outcome = match item.status().as_str() {
        "failed" | "error" | "errored" => "failed",
        "killed" | "cancelled" | "canceled" => "killed",
        _ => "succeeded",
    };
    let duration_ms = match (spawned, ended) {
        (Some(s), Some(e)) => u64::try_from((e - s).num_milliseconds()).unwrap_or(0),
        _ => 0,
    };
    let end = AgentExited {
        status: None,
        outcome: outcome.to_string(),
        duration_ms,
        summary: item.text(&["outcome", "summary", "result"]),
        ..AgentExited::default()
    };
    Ok(Entry {
        kind: EntityKind::Agent,
        subject,
        legacy,
        events: vec![planned(body, spawned), planned(end, ended)],
    })
}

/// An entry of a list that takes plain strings (its text) as well as objects.
enum TextOrItem<'a> {
    Text(String),
    Item(Item<'a>),
}

fn text_or_item(place: String, value: &Value) -> Result<TextOrItem<'_>, Error> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(TextOrItem::Text(s.trim().to_string())),
        Value::String(_) => Err(import_error(
            None,
            format!("{place} is empty"),
            Fix::Content,
        )),
        other => Ok(TextOrItem::Item(Item::new(place, other, None)?)),
    }
}

/// The items of a top-level list that may hold plain strings as well as objects.
fn raw_list<'a>(root: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a Value>, Error> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(_) => Err(import_error(
            None,
            format!("\"{key}\" is not a list"),
            Fix::Content,
        )),
    }
}

/// Map beads issues, one a line: each a task, started, blocked or completed after its status;
/// dependencies of type "blocks" become `depends_on` (they may name issues further down).
fn beads(text: &str, worktree: &str) -> Result<Vec<Entry>, Error> {
    let mut values = Vec::new();
    for (n, line) in lines(text) {
        let value: Value = serde_json::from_str(line).map_err(|e| json_error(&e, n, true))?;
        values.push((n, value));
    }
    let mut issues = Vec::new();
    for (n, value) in &values {
        let item = Item::new("the issue".into(), value, Some(*n))?;
        let Some(source_id) = item.id() else {
            return Err(import_error(
                Some(*n),
                "the issue has no \"id\"",
                Fix::Content,
            ));
        };
        issues.push((*n, item, source_id));
    }
    let created_of = |item: &Item| {
        item.map
            .get("created_at")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let id_of: HashMap<&str, String> = issues
        .iter()
        .map(|(_, item, source_id)| {
            let (id, _) = beads_ids(source_id, created_of(item).as_deref());
            (source_id.as_str(), id)
        })
        .collect();
    let mut entries = Vec::new();
    for (n, item, source_id) in &issues {
        let (id, legacy) = beads_ids(source_id, created_of(item).as_deref());
        let Some(title) = item.text(&["title"]) else {
            return Err(import_error(
                Some(*n),
                "the issue has no \"title\"",
                Fix::Content,
            ));
        };
        let mut depends_on: Vec<String> = Vec::new();
        let deps = item.map.get("dependencies").and_then(Value::as_array);
        for dep in deps.into_iter().flatten() {
            let of = dep.get("issue_id").and_then(Value::as_str);
            let dep_type = dep.get("type").and_then(Value::as_str);
            let on = dep.get("depends_on_id").and_then(Value::as_str);
            let (Some("blocks"), Some(on)) = (dep_type, on) else {
                continue;
            };
            if of.is_some_and(|of| of != source_id.as_str()) || on == source_id.as_str() {
                continue;
            }
            // An issue not in this file keeps the id it would have had alone.
            let on = id_of.get(on).cloned().unwrap_or_else(|| beads_id(on));
            if !depends_on.contains(&on) {
                depends_on.push(on);
            }
        }
        let labels = item.strings("labels");
        let body = TaskCreated {
            title,
            priority: item.priority(),
            depends_on,
            source_id: Some(source_id.clone()),
            description: item.text(&["description"]),
            issue_type: item.text(&["issue_type"]),
            labels: (!labels.is_empty()).then_some(labels),
            ..TaskCreated::default()
        };
        let updated = item.time(&["updated_at"]);
        let mut events = vec![planned(body, item.time(&["created_at"]))];
        match item.status().as_str() {
            // At the time of the import, as for an orchestrator's task in progress.
            "in_progress" => events.push(planned(started_in(worktree), None)),
            "blocked" => {
                let blocked = TaskBlocked {
                    reason: "imported from beads as blocked".into(),
                    after: None,
                };
                events.push(planned(blocked, updated))
            }
            "closed" => {
                let closed = TaskCompleted {
                    imported: Some(true),
                    summary: Some("closed in beads".into()),
                    ..TaskCompleted::default()
                };
                events.push(planned(closed, item.time(&["closed_at"]).or(updated)))
            }
            _ => {}
        }
        entries.push(Entry {
            kind: EntityKind::Task,
            subject: id,
            legacy,
            events,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_with_and_without_zone() {
        let utc = |s: &str| parse_time(s).map(clock::format);
        assert_eq!(
            utc("2024-01-01T10:00:00").as_deref(),
            Some("2024-01-01T10:00:00.000Z")
        );
        assert_eq!(
            utc("2024-01-01T10:00:00+02:00").as_deref(),
            Some("2024-01-01T08:00:00.000Z")
        );
        assert_eq!(
            utc("2024-01-01 10:00:00.250").as_deref(),
            Some("2024-01-01T10:00:00.250Z")
        );
        assert_eq!(
            utc("2024-01-03").as_deref(),
            Some("2024-01-03T00:00:00.000Z")
        );
        assert_eq!(utc("yesterday"), None);
    }

    #[test]
    fn formats_are_detected() {
        assert_eq!(
            detect("{\n \"objectives\": []\n}\n").ok(),
            Some(ImportFormat::Orchestrator)
        );
        assert_eq!(
            detect("\n{\"kind\":\"task.created\",\"hlc\":1,\"writer\":\"ab\"}\n").ok(),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(
            detect("{\"id\":\"bd-1\",\"title\":\"x\",\"status\":\"open\"}\n").ok(),
            Some(ImportFormat::Beads)
        );
        for bad in [
            "",
            "  \n",
            "[1, 2]",
            "{\"a\": 1}",
            "{\n\"a\": 1\n}",
            "hello",
        ] {
            assert!(detect(bad).is_err(), "{bad:?} should be refused");
        }
        let broken = detect("{\n \"objectives\": [\n}\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            broken.as_deref(),
            Some("line 3: not valid JSON: expected value")
        );
    }

    #[test]
    fn beads_priorities_are_clamped() {
        let value = json!({"priority": 9});
        let item = Item::new("x".into(), &value, None).ok();
        assert_eq!(item.map(|i| i.priority()), Some(4));
        let value = json!({"priority": -1});
        let item = Item::new("x".into(), &value, None).ok();
        assert_eq!(item.map(|i| i.priority()), Some(0));
    }
}
