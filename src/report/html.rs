//! The pages of the static report, as maud templates: maud escapes every interpolated value
//! unless it is marked `PreEscaped`, which only the stylesheet is. That matters because
//! titles, notes and rationales are written by whoever can append to the ledger. The pages
//! need no script, load nothing from outside (a content security policy says so), and carry
//! their few lines of CSS inline.

use crate::fold::state::State;
use crate::ledger::AuditReport;
use crate::model::{DecisionStatus, ObjectiveStatus, TaskStatus};
use crate::view::memory::{Action, KnowledgeBase, insight_line, minutes_text};
use crate::view::report::{
    AgentRow, Index, LaneKind, Limits, ObjectiveDetail, ObjectiveRow, Overview, TASK_GROUPS,
    TaskDetail, TaskGroup, TaskRow, Timeline, objective_detail, objective_row, task_detail,
    task_row,
};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// One page: where it goes in the site, and its text.
pub struct Page {
    pub path: String,
    pub html: String,
}

/// What the pages are made from; everything is computed by the projections before.
pub struct Site<'a> {
    pub state: &'a State,
    pub overview: &'a Overview,
    pub timeline: &'a Timeline,
    pub knowledge: &'a KnowledgeBase,
    pub index: &'a Index<'a>,
    pub audit: &'a AuditReport,
    pub now: DateTime<Utc>,
}

/// How many items a list page shows before it says how many were left out.
pub const LIST_LIMIT: usize = 500;
/// How many events an objective page lists.
pub const HISTORY_LIMIT: usize = 200;
/// How many of the newest events the timeline's lanes cover, and how many its table lists.
pub const TIMELINE_WINDOW: usize = 500;
pub const TIMELINE_TABLE: usize = 200;

/// The limits of the overview page.
pub fn overview_limits() -> Limits {
    Limits {
        objectives: 50,
        tasks_per_group: 25,
        agents: 50,
        decisions: 50,
        feed: 30,
    }
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}\
nav{background:#1d2330;padding:8px 16px}nav a{color:#dfe6f3;margin-right:14px;text-decoration:none}\
main{max-width:1100px;margin:0 auto;padding:8px 16px 32px}h1{font-size:22px}h2{font-size:17px;margin-top:26px}\
a{color:#2456b3}table{border-collapse:collapse;width:100%;background:#fff}\
td,th{border-bottom:1px solid #e3e6ec;padding:4px 6px;text-align:left;vertical-align:top}\
.stats{display:flex;flex-wrap:wrap;gap:8px}.stat{background:#fff;border:1px solid #e3e6ec;padding:6px 10px;border-radius:4px}\
.stat b{display:block;font-size:18px}.bar{background:#e3e6ec;height:8px;width:120px;border-radius:4px}\
.bar i{display:block;height:8px;background:#3b8f4f;border-radius:4px}\
.s-in_progress,.s-running{color:#2456b3}.s-blocked,.s-stalled,.fail{color:#b3342b}.s-done,.ok{color:#3b8f4f}\
.muted,footer{color:#667}footer{text-align:center;padding:12px}ul{padding-left:20px}\
.lanes{background:#fff;border:1px solid #e3e6ec;padding:6px}.lane{display:flex;align-items:center;height:24px}\
.lane>b{width:170px;flex:none;font-weight:normal;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}\
.track{position:relative;flex:1;height:18px;background:#f0f2f5}\
.span{position:absolute;top:2px;height:14px;min-width:3px;background:#7aa3e5;border-radius:3px;overflow:hidden;\
font-size:11px;line-height:14px;white-space:nowrap;color:#102040}.agents .span{background:#e5b97a}\
.span.open{background:#9bd0a6}.mark{position:absolute;top:3px;width:2px;height:12px;background:#1d2330}\
.axis{display:flex;justify-content:space-between;margin-left:170px;font-size:11px;color:#667}\
dl{display:grid;grid-template-columns:130px 1fr;gap:2px 10px}dt{color:#667}dd{margin:0}";

const NAV: [(&str, &str); 7] = [
    ("index.html", "Overview"),
    ("timeline.html", "Timeline"),
    ("objectives.html", "Objectives"),
    ("tasks.html", "Tasks"),
    ("decisions.html", "Decisions"),
    ("knowledge.html", "Knowledge"),
    ("audit.html", "Audit"),
];

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M").to_string()
}

/// A page around `body`; `root` is the way back to the site's top (`""` or `"../"`).
fn page(site: &Site, root: &str, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                meta name="viewport" content="width=device-width,initial-scale=1";
                link rel="icon" href="data:,";
                title { (title) " · git ledger" }
                style { (PreEscaped(CSS)) }
            }
            body {
                nav { @for (href, name) in NAV { a href={ (root) (href) } { (name) } } }
                main {
                    h1 { (title) }
                    (body)
                }
                footer {
                    "git ledger report · " (site.state.event_count) " event(s) · as of "
                    (when(site.now))
                }
            }
        }
    }
    .into_string()
}

/// Where a task's page goes, relative to the site's top.
pub fn task_path(id: &str) -> String {
    format!("tasks/{}.html", file_name(id))
}

pub fn objective_path(id: &str) -> String {
    format!("objectives/{}.html", file_name(id))
}

/// An entity id as a file name. Ids come from the ledger, which anyone with push access
/// writes: one that is not plain letters, digits and dashes is named by its hash instead, so
/// it can never point outside the site.
fn file_name(id: &str) -> String {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        id.to_string()
    } else {
        format!("x-{}", &blake3::hash(id.as_bytes()).to_hex()[..16])
    }
}

/// A bulleted list, or `empty` in grey when there is nothing to list.
fn list(items: impl IntoIterator<Item = Markup>, empty: &str) -> Markup {
    let items: Vec<Markup> = items.into_iter().collect();
    html! {
        @if items.is_empty() {
            p.muted { (empty) }
        } @else {
            ul { @for item in items { li { (item) } } }
        }
    }
}

/// A list of plain texts.
fn text_list<'t>(items: impl IntoIterator<Item = &'t String>, empty: &str) -> Markup {
    list(items.into_iter().map(|text| html! { (text) }), empty)
}

fn more(shown: usize, total: usize, what: &str) -> Markup {
    html! {
        @if total > shown {
            p.muted { (total - shown) " more " (what) " not shown." }
        }
    }
}

fn bar(fraction: f64) -> Markup {
    let width = format!("width:{:.0}%", (fraction * 100.0).clamp(0.0, 100.0));
    html! { div.bar { i style=(width) {} } }
}

fn task_link(root: &str, row: &TaskRow) -> Markup {
    let text = row
        .line
        .split_once("] ")
        .map_or(row.line.as_str(), |(_, rest)| rest);
    html! {
        a href={ (root) (task_path(&row.id)) } { (row.short_id) }
        " "
        span class={ "s-" (status_class(row.status)) } { "[" (row.status.label()) "]" }
        " " (text)
    }
}

fn status_class(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Open => "open",
        TaskStatus::InProgress => "in_progress",
        TaskStatus::Blocked => "blocked",
        TaskStatus::Done => "done",
        TaskStatus::Cancelled => "cancelled",
    }
}

fn objective_status(status: ObjectiveStatus) -> &'static str {
    match status {
        ObjectiveStatus::Active => "active",
        ObjectiveStatus::Done => "done",
    }
}

fn objectives_table(root: &str, rows: &[ObjectiveRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "no objective yet" }
        } @else {
            table {
                tr { th { "objective" } th { "status" } th { "progress" } th { "tasks" } th { "time" } }
                @for o in rows {
                    @let status = objective_status(o.status);
                    tr {
                        td { a href={ (root) (objective_path(&o.id)) } { (o.short_id) } " " (o.title) }
                        td class={ "s-" (status) } { (status) }
                        td { (bar(o.progress())) }
                        td { (o.tasks_done) "/" (o.tasks_total) }
                        td { (time_text(o.actual_minutes, o.estimate_minutes)) }
                    }
                }
            }
        }
    }
}

fn time_text(actual: u64, estimate: u64) -> String {
    if estimate == 0 {
        minutes_text(actual)
    } else {
        format!("{} of {}", minutes_text(actual), minutes_text(estimate))
    }
}

fn task_groups(root: &str, groups: &[TaskGroup]) -> Markup {
    html! {
        @for group in groups {
            h3 { (group.label) " (" (group.total) ")" }
            (list(group.tasks.iter().map(|t| task_link(root, t)), "none"))
            (more(group.tasks.len(), group.total, "task(s)"))
        }
    }
}

fn agent_item(agent: &AgentRow) -> Markup {
    let state = agent.state.label();
    html! { span class={ "s-" (state) } { "[" (state) "]" } " " (agent.line) }
}

/// A link to an entity's page if it has one; `page_of` is the entity whose page this is
/// (not linked to itself).
fn subject(root: &str, id: Option<&str>, state: &State, page_of: Option<&str>) -> Markup {
    html! {
        @match id {
            Some(id) if Some(id) == page_of => {}
            Some(id) if state.tasks.contains(id) => {
                a href={ (root) (task_path(id)) } { (state.short(id)) } " "
            }
            Some(id) if state.objectives.contains(id) => {
                a href={ (root) (objective_path(id)) } { (state.short(id)) } " "
            }
            Some(id) => { (state.short(id)) " " }
            None => {}
        }
    }
}

/// Events as a table.
fn action_rows(root: &str, actions: &[Action], state: &State, page_of: Option<&str>) -> Markup {
    html! {
        @if actions.is_empty() {
            p.muted { "no event" }
        } @else {
            table {
                tr { th { "time" } th { "actor" } th { "what" } }
                @for a in actions {
                    tr {
                        td { (when(a.time)) }
                        td { (a.actor) }
                        td { (subject(root, a.subject.as_deref(), state, page_of)) (a.what) }
                    }
                }
            }
        }
    }
}

fn verdict(intact: bool) -> Markup {
    html! {
        @if intact { span.ok { "intact" } } @else { span.fail { "NOT intact" } }
    }
}

pub fn index(site: &Site) -> String {
    let o = site.overview;
    let c = &o.counts;
    let stats = [
        ("objectives active", c.objectives_active),
        ("objectives done", c.objectives_done),
        ("tasks open", c.tasks_open),
        ("ready", c.tasks_ready),
        ("in progress", c.tasks_in_progress),
        ("blocked", c.tasks_blocked),
        ("done", c.tasks_done),
        ("decisions open", c.decisions_open),
        ("insights", c.insights),
        ("sessions open", c.sessions_open),
        ("agents running", c.agents_running),
        ("of them stalled", o.agents_stalled),
        ("events", c.events),
    ];
    let body = html! {
        div.stats { @for (name, n) in stats { div.stat { b { (n) } (name) } } }
        p {
            "Time: " (o.time.line()) ". Audit: "
            a href="audit.html" { (verdict(site.audit.intact)) } "."
        }
        @if !o.cost.is_empty() {
            h2 { "Cost" }
            (text_list(&o.cost, ""))
        }
        @if !o.budget_warnings.is_empty() {
            h2 { "Budget" }
            (list(o.budget_warnings.iter().map(|l| html! { span.fail { (l) } }), ""))
        }
        h2 { "Objectives" }
        (objectives_table("", &o.objectives))
        (more(o.objectives.len(), c.objectives_active + c.objectives_done,
            "objective(s), see the objectives page"))
        h2 { "Tasks by state" }
        (task_groups("", &o.task_groups))
        h2 { "Agents" }
        (list(o.agents.iter().map(agent_item), "no agent spawned"))
        h2 { "Open decisions" }
        (text_list(o.open_decisions.iter().map(|d| &d.line), "none"))
        h2 { "Latest events" }
        (action_rows("", &o.feed, site.state, None))
    };
    page(site, "", "Project overview", body)
}

pub fn timeline(site: &Site) -> String {
    let t = site.timeline;
    let span = (t.to - t.from).num_milliseconds();
    let ticks = (0..5).map(|k| when(t.from + chrono::Duration::milliseconds(span * k / 4)));
    let runs: Vec<String> = t
        .lanes
        .iter()
        .filter(|l| l.kind != LaneKind::Actor)
        .flat_map(|l| &l.spans)
        .map(|s| format!("{} {} — {}", s.short_id, s.label, s.detail))
        .collect();
    let shown = t.events.len().min(TIMELINE_TABLE);
    let body = html! {
        p {
            "The newest " (t.events_shown) " of " (t.events_total) " event(s), from "
            (when(t.from)) " to " (when(t.to))
            ": sessions and agent runs as bars (overlapping ones in parallel lanes), and each actor's events as marks."
        }
        div.axis { @for tick in ticks { span { (tick) } } }
        div.lanes {
            @for lane in &t.lanes {
                @let class = match lane.kind {
                    LaneKind::Sessions => "sessions",
                    LaneKind::Agents => "agents",
                    LaneKind::Actor => "actor",
                };
                div class={ "lane " (class) } {
                    b title=(lane.name) { (lane.name) }
                    div.track {
                        @for s in &lane.spans {
                            div.span.open[s.open]
                                style=(format!("left:{:.2}%;width:{:.2}%", s.start * 100.0,
                                    ((s.end - s.start) * 100.0).max(0.3)))
                                title={ (s.short_id) " " (s.label) " (" (s.detail) ")" }
                            { (s.label) }
                        }
                        @for m in &lane.marks {
                            i.mark style=(format!("left:{:.2}%", m.at * 100.0)) title=(m.what) {}
                        }
                    }
                }
            }
        }
        h2 { "Sessions and agents in this window" }
        (text_list(&runs, "none"))
        h2 { "Events, newest first" }
        (action_rows("", &t.events[..shown], site.state, None))
        (more(shown, t.events_total, "event(s)"))
    };
    page(site, "", "Timeline", body)
}

pub fn objectives(site: &Site) -> String {
    let state = site.state;
    let mut rows: Vec<ObjectiveRow> = state
        .objectives
        .iter()
        .rev()
        .take(LIST_LIMIT)
        .map(|o| objective_row(state, site.index, &o.id, site.now))
        .collect();
    rows.sort_by_key(|o| o.status != ObjectiveStatus::Active);
    let body = html! {
        (objectives_table("", &rows))
        (more(rows.len(), state.objectives.len(), "objective(s)"))
    };
    page(site, "", "Objectives", body)
}

pub fn tasks(site: &Site) -> String {
    let state = site.state;
    let groups: Vec<TaskGroup> = TASK_GROUPS
        .iter()
        .map(|&status| {
            let all: Vec<_> = state.tasks.iter().filter(|t| t.status == status).collect();
            TaskGroup {
                status,
                label: status.label(),
                total: all.len(),
                tasks: all
                    .iter()
                    .rev()
                    .take(LIST_LIMIT / 2)
                    .map(|t| task_row(state, t, site.now))
                    .collect(),
            }
        })
        .collect();
    page(site, "", "Tasks", task_groups("", &groups))
}

pub fn decisions(site: &Site) -> String {
    let state = site.state;
    let mut decisions: Vec<_> = state.decisions.iter().rev().collect();
    decisions.sort_by_key(|d| d.status != DecisionStatus::Open);
    let body = html! {
        @for d in decisions.iter().take(LIST_LIMIT) {
            h3 { (state.short(&d.id)) " " (d.question) }
            dl {
                dt { "status" }
                dd {
                    @match d.status {
                        DecisionStatus::Open => "open",
                        DecisionStatus::Made => { "decided " (d.made.map(when).unwrap_or_default()) }
                    }
                }
                dt { "requested" } dd { (when(d.requested)) }
                @if !d.options.is_empty() {
                    dt { "options" } dd { (d.options.join(" | ")) }
                }
                @if let Some(choice) = &d.choice {
                    dt { "choice" } dd { (choice) }
                }
                @if let Some(rationale) = &d.rationale {
                    dt { "rationale" } dd { (rationale) }
                }
                @if let Some(task) = d.task.as_deref() {
                    dt { "task" }
                    dd {
                        a href=(task_path(task)) { (state.short(task)) } " "
                        (state.title_of(task).unwrap_or(""))
                    }
                }
            }
        }
        @if decisions.is_empty() {
            p.muted { "no decision yet" }
        }
        (more(decisions.len().min(LIST_LIMIT), decisions.len(), "decision(s)"))
    };
    page(site, "", "Decisions", body)
}

pub fn knowledge(site: &Site) -> String {
    let by_tag = &site.knowledge.by_tag;
    let body = html! {
        p { "Insights promoted for reuse, by tag." }
        @if by_tag.is_empty() {
            p.muted { "nothing promoted yet" }
        }
        @for (tag, insights) in by_tag {
            h2 { "#" (tag) }
            (list(
                insights.iter().rev().take(LIST_LIMIT)
                    .map(|i| html! { (insight_line(site.state, i)) }),
                "none",
            ))
            (more(insights.len().min(LIST_LIMIT), insights.len(), "insight(s)"))
        }
    };
    page(site, "", "Knowledge base", body)
}

pub fn audit(site: &Site) -> String {
    let a = site.audit;
    let n = &a.notices;
    let unknown: Vec<String> = n
        .unknown_kinds
        .iter()
        .map(|(k, count)| format!("{k}: {count} event(s), kept"))
        .collect();
    let notices = [
        ("Forced completions", &n.forced_completions),
        ("Gate overrides", &n.gate_overrides),
        ("Open sessions", &n.open_sessions),
        (
            "Concurrent edits (the later one in the order won)",
            &n.conflicts,
        ),
        ("Kinds unknown to this version", &unknown),
    ];
    let body = html! {
        p {
            (a.events) " event(s) from " (a.writers) " writer(s): "
            @if a.intact { b.ok { "intact" } } @else { b.fail { "NOT intact" } }
        }
        table {
            tr { th { "check" } th { "result" } th { "findings" } }
            @for check in &a.checks {
                @let shown = check.findings.len().min(HISTORY_LIMIT);
                tr {
                    td { (check.name) }
                    @if check.passed { td.ok { "ok" } } @else { td.fail { "FAIL" } }
                    td {
                        @for (i, finding) in check.findings[..shown].iter().enumerate() {
                            @if i > 0 { br; }
                            (finding)
                        }
                        (more(shown, check.findings.len(), "finding(s)"))
                    }
                }
            }
        }
        @for (title, items) in notices {
            @if !items.is_empty() {
                h2 { (title) }
                (text_list(items.iter().take(LIST_LIMIT), "none"))
                (more(items.len().min(LIST_LIMIT), items.len(), "item(s)"))
            }
        }
        p.muted {
            "This page shows the verdict; it does not move the checkpoint that "
            code { "git ledger audit" } " keeps."
        }
    };
    page(site, "", "Audit", body)
}

pub fn objective(site: &Site, detail: &ObjectiveDetail) -> String {
    let root = "../";
    let o = &detail.row;
    let body = html! {
        dl {
            dt { "status" } dd { (objective_status(o.status)) }
            dt { "progress" }
            dd { (bar(o.progress())) " " (o.tasks_done) "/" (o.tasks_total) " task(s) done" }
            dt { "time" } dd { (time_text(o.actual_minutes, o.estimate_minutes)) }
            @if let Some(d) = &detail.description {
                dt { "description" } dd { (d) }
            }
            @if let Some(outcome) = &detail.outcome {
                dt { "outcome" } dd { (outcome) }
            }
        }
        h2 { "Tasks" }
        (list(detail.tasks.iter().map(|t| task_link(root, t)), "no task"))
        h2 { "History, newest first" }
        (action_rows(root, &detail.history, site.state, Some(&o.id)))
        (more(detail.history.len(), detail.history_total, "event(s)"))
    };
    page(site, root, &format!("{} {}", o.short_id, o.title), body)
}

pub fn task(site: &Site, detail: &TaskDetail) -> String {
    let root = "../";
    // Notes and commits are what a reader looks for, so their absence is said; the other
    // sections only appear when they have something (most tasks have none of them).
    let sections = [
        ("Depends on", &detail.depends_on, None),
        ("Notes", &detail.notes, Some("no note")),
        ("Commits", &detail.commits, Some("no commit linked")),
        ("Merges", &detail.merges, None),
        ("Decisions", &detail.decisions, None),
        ("Insights", &detail.insights, None),
        ("Agents", &detail.agents, None),
    ];
    let body = html! {
        dl {
            @for (name, value) in &detail.facts {
                dt { (name) } dd { (value) }
            }
            @if let Some(o) = &detail.objective {
                dt { "objective" }
                dd { a href={ (root) (objective_path(&o.id)) } { (o.short_id) } " " (o.title) }
            }
            @if let Some(d) = &detail.description {
                dt { "description" } dd { (d) }
            }
            dt { "review" } dd { (detail.review) }
        }
        @for (title, items, empty) in sections {
            @if !items.is_empty() || empty.is_some() {
                h2 { (title) }
                (text_list(items, empty.unwrap_or("")))
            }
        }
        h2 { "History" }
        (action_rows(root, &detail.history, site.state, Some(&detail.row.id)))
    };
    let title = format!("{} {}", detail.row.short_id, detail.row.title);
    page(site, root, &title, body)
}

/// Every page of the site, one at a time (a big ledger has tens of thousands).
pub fn pages<E>(site: &Site, mut emit: impl FnMut(Page) -> Result<(), E>) -> Result<(), E> {
    type Render = fn(&Site) -> String;
    let top: [(&str, Render); 7] = [
        ("index.html", index),
        ("timeline.html", timeline),
        ("objectives.html", objectives),
        ("tasks.html", tasks),
        ("decisions.html", decisions),
        ("knowledge.html", knowledge),
        ("audit.html", audit),
    ];
    for (path, render) in top {
        emit(Page {
            path: path.to_string(),
            html: render(site),
        })?;
    }
    for o in site.state.objectives.iter() {
        let detail = objective_detail(site.state, site.index, &o.id, site.now, HISTORY_LIMIT);
        emit(Page {
            path: objective_path(&o.id),
            html: objective(site, &detail),
        })?;
    }
    for t in site.state.tasks.iter() {
        let detail = task_detail(site.state, site.index, t, site.now);
        emit(Page {
            path: task_path(&t.id),
            html: task(site, &detail),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_are_not_plain_become_hashed_file_names() {
        assert_eq!(task_path("t-3f9a2c"), "tasks/t-3f9a2c.html");
        for hostile in ["../../etc/passwd", "t-1/../../x", "", "t-<b>", "t-ä"] {
            let path = task_path(hostile);
            let name = path.trim_start_matches("tasks/");
            assert!(name.starts_with("x-") && name.ends_with(".html"), "{path}");
            assert!(!name.contains('/') && !name.contains(".."), "{path}");
        }
    }

    #[test]
    fn ledger_text_is_escaped_in_elements_and_attributes() {
        let hostile = "<b onclick=\"x\">&</b>";
        let markup = html! { b title=(hostile) { (hostile) } }.into_string();
        assert_eq!(
            markup,
            "<b title=\"&lt;b onclick=&quot;x&quot;&gt;&amp;&lt;/b&gt;\">\
             &lt;b onclick=&quot;x&quot;&gt;&amp;&lt;/b&gt;</b>"
        );
    }
}
