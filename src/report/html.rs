//! The pages of the static report, as strings. Every piece of ledger text is escaped here:
//! titles, notes and rationales are written by whoever can append to the ledger. The pages
//! need no script, load nothing from outside (a content security policy says so), and carry
//! their few lines of CSS inline.

use crate::fold::state::State;
use crate::ledger::AuditReport;
use crate::model::{DecisionStatus, ObjectiveStatus, TaskStatus};
use crate::view::memory::{Action, KnowledgeBase, insight_line};
use crate::view::report::{
    AgentRow, Index, Limits, ObjectiveDetail, ObjectiveRow, Overview, TaskDetail, TaskGroup,
    TaskRow, Timeline, objective_detail, objective_row, task_detail, task_row,
};
use chrono::{DateTime, Utc};
use std::fmt::Write;

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

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M").to_string()
}

/// A page around `body`; `root` is the way back to the site's top (`""` or `"../"`).
fn page(site: &Site, root: &str, title: &str, body: &str) -> String {
    let nav = [
        ("index.html", "Overview"),
        ("timeline.html", "Timeline"),
        ("objectives.html", "Objectives"),
        ("tasks.html", "Tasks"),
        ("decisions.html", "Decisions"),
        ("knowledge.html", "Knowledge"),
        ("audit.html", "Audit"),
    ]
    .iter()
    .map(|(href, name)| format!("<a href=\"{root}{href}\">{name}</a>"))
    .collect::<String>();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\">\
<title>{} · git ledger</title><style>{CSS}</style></head>\n<body><nav>{nav}</nav><main>\n<h1>{}</h1>\n{body}</main>\
<footer>git ledger report · {} event(s) · as of {}</footer></body></html>\n",
        esc(title),
        esc(title),
        site.state.event_count,
        when(site.now),
    )
}

fn task_href(root: &str, id: &str) -> String {
    format!("{root}{}", task_path(id))
}

fn objective_href(root: &str, id: &str) -> String {
    format!("{root}{}", objective_path(id))
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

fn list(items: impl IntoIterator<Item = String>, empty: &str) -> String {
    let items: String = items
        .into_iter()
        .map(|item| format!("<li>{item}</li>\n"))
        .collect();
    if items.is_empty() {
        format!("<p class=\"muted\">{}</p>\n", esc(empty))
    } else {
        format!("<ul>\n{items}</ul>\n")
    }
}

fn more(shown: usize, total: usize, what: &str) -> String {
    if total > shown {
        format!(
            "<p class=\"muted\">{} more {what} not shown.</p>\n",
            total - shown
        )
    } else {
        String::new()
    }
}

fn bar(fraction: f64) -> String {
    format!(
        "<div class=\"bar\"><i style=\"width:{:.0}%\"></i></div>",
        (fraction * 100.0).clamp(0.0, 100.0)
    )
}

fn task_link(root: &str, row: &TaskRow) -> String {
    format!(
        "<a href=\"{}\">{}</a> <span class=\"s-{}\">[{}]</span> {}",
        task_href(root, &row.id),
        esc(&row.short_id),
        status_class(row.status),
        row.status.label(),
        esc(row
            .line
            .split_once("] ")
            .map_or(&row.line, |(_, rest)| rest))
    )
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

fn objectives_table(root: &str, rows: &[ObjectiveRow]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">no objective yet</p>\n".into();
    }
    let mut out = String::from(
        "<table><tr><th>objective</th><th>status</th><th>progress</th><th>tasks</th><th>time</th></tr>\n",
    );
    for o in rows {
        let status = match o.status {
            ObjectiveStatus::Active => "active",
            ObjectiveStatus::Done => "done",
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{}\">{}</a> {}</td><td class=\"s-{status}\">{status}</td><td>{}</td><td>{}/{}</td><td>{}</td></tr>",
            objective_href(root, &o.id),
            esc(&o.short_id),
            esc(&o.title),
            bar(o.progress()),
            o.tasks_done,
            o.tasks_total,
            esc(&time_text(o.actual_minutes, o.estimate_minutes)),
        );
    }
    out.push_str("</table>\n");
    out
}

fn time_text(actual: u64, estimate: u64) -> String {
    use crate::view::memory::minutes_text;
    if estimate == 0 {
        minutes_text(actual)
    } else {
        format!("{} of {}", minutes_text(actual), minutes_text(estimate))
    }
}

fn task_groups(root: &str, groups: &[TaskGroup]) -> String {
    let mut out = String::new();
    for group in groups {
        let _ = writeln!(out, "<h3>{} ({})</h3>", group.label, group.total);
        out.push_str(&list(
            group.tasks.iter().map(|t| task_link(root, t)),
            "none",
        ));
        out.push_str(&more(group.tasks.len(), group.total, "task(s)"));
    }
    out
}

fn agent_item(agent: &AgentRow) -> String {
    format!(
        "<span class=\"s-{}\">[{}]</span> {}",
        agent.state.label(),
        agent.state.label(),
        esc(&agent.line)
    )
}

/// Events as a table; `page_of` is the entity whose page this is (not linked to itself).
fn action_rows(root: &str, actions: &[Action], state: &State, page_of: Option<&str>) -> String {
    if actions.is_empty() {
        return "<p class=\"muted\">no event</p>\n".into();
    }
    let mut out = String::from("<table><tr><th>time</th><th>actor</th><th>what</th></tr>\n");
    for a in actions {
        let subject = match &a.subject {
            Some(id) if Some(id.as_str()) == page_of => String::new(),
            Some(id) if state.tasks.contains(id) => format!(
                "<a href=\"{}\">{}</a> ",
                task_href(root, id),
                esc(&state.short(id))
            ),
            Some(id) if state.objectives.contains(id) => format!(
                "<a href=\"{}\">{}</a> ",
                objective_href(root, id),
                esc(&state.short(id))
            ),
            Some(id) => format!("{} ", esc(&state.short(id))),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{subject}{}</td></tr>",
            when(a.time),
            esc(&a.actor),
            esc(&a.what)
        );
    }
    out.push_str("</table>\n");
    out
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
    ]
    .iter()
    .map(|(name, n)| format!("<div class=\"stat\"><b>{n}</b>{name}</div>"))
    .collect::<String>();
    let verdict = if site.audit.intact {
        "<span class=\"ok\">intact</span>"
    } else {
        "<span class=\"fail\">NOT intact</span>"
    };
    let mut body = format!(
        "<div class=\"stats\">{stats}</div>\n<p>Time: {}. Audit: <a href=\"audit.html\">{verdict}</a>.</p>\n",
        esc(&o.time.line())
    );
    if !o.cost.is_empty() {
        body.push_str("<h2>Cost</h2>\n");
        body.push_str(&list(o.cost.iter().map(|l| esc(l)), ""));
    }
    if !o.budget_warnings.is_empty() {
        body.push_str("<h2>Budget</h2>\n");
        body.push_str(&list(
            o.budget_warnings
                .iter()
                .map(|l| format!("<span class=\"fail\">{}</span>", esc(l))),
            "",
        ));
    }
    body.push_str("<h2>Objectives</h2>\n");
    body.push_str(&objectives_table("", &o.objectives));
    body.push_str(&more(
        o.objectives.len(),
        c.objectives_active + c.objectives_done,
        "objective(s), see the objectives page",
    ));
    body.push_str("<h2>Tasks by state</h2>\n");
    body.push_str(&task_groups("", &o.task_groups));
    body.push_str("<h2>Agents</h2>\n");
    body.push_str(&list(o.agents.iter().map(agent_item), "no agent spawned"));
    body.push_str("<h2>Open decisions</h2>\n");
    body.push_str(&list(o.open_decisions.iter().map(|d| esc(&d.line)), "none"));
    body.push_str("<h2>Latest events</h2>\n");
    body.push_str(&action_rows("", &o.feed, site.state, None));
    page(site, "", "Project overview", &body)
}

pub fn timeline(site: &Site) -> String {
    let t = site.timeline;
    let mut body = format!(
        "<p>The newest {} of {} event(s), from {} to {}: sessions and agent runs as bars (overlapping ones in parallel lanes), and each actor's events as marks.</p>\n",
        t.events_shown,
        t.events_total,
        when(t.from),
        when(t.to)
    );
    let span = (t.to - t.from).num_milliseconds();
    let ticks: String = (0..5)
        .map(|k| {
            let at = t.from + chrono::Duration::milliseconds(span * k / 4);
            format!("<span>{}</span>", when(at))
        })
        .collect();
    let _ = writeln!(
        body,
        "<div class=\"axis\">{ticks}</div>\n<div class=\"lanes\">"
    );
    for lane in &t.lanes {
        let class = match lane.kind {
            crate::view::report::LaneKind::Sessions => "sessions",
            crate::view::report::LaneKind::Agents => "agents",
            crate::view::report::LaneKind::Actor => "actor",
        };
        let _ = write!(
            body,
            "<div class=\"lane {class}\"><b title=\"{}\">{}</b><div class=\"track\">",
            esc(&lane.name),
            esc(&lane.name)
        );
        for s in &lane.spans {
            let _ = write!(
                body,
                "<div class=\"span{}\" style=\"left:{:.2}%;width:{:.2}%\" title=\"{} {} ({})\">{}</div>",
                if s.open { " open" } else { "" },
                s.start * 100.0,
                ((s.end - s.start) * 100.0).max(0.3),
                esc(&s.short_id),
                esc(&s.label),
                esc(&s.detail),
                esc(&s.label)
            );
        }
        for m in &lane.marks {
            let _ = write!(
                body,
                "<i class=\"mark\" style=\"left:{:.2}%\" title=\"{}\"></i>",
                m.at * 100.0,
                esc(&m.what)
            );
        }
        body.push_str("</div></div>\n");
    }
    body.push_str("</div>\n");
    let sessions: Vec<String> = t
        .lanes
        .iter()
        .filter(|l| l.kind != crate::view::report::LaneKind::Actor)
        .flat_map(|l| &l.spans)
        .map(|s| {
            format!(
                "{} {} — {}",
                esc(&s.short_id),
                esc(&s.label),
                esc(&s.detail)
            )
        })
        .collect();
    body.push_str("<h2>Sessions and agents in this window</h2>\n");
    body.push_str(&list(sessions, "none"));
    body.push_str("<h2>Events, newest first</h2>\n");
    let shown = t.events.len().min(TIMELINE_TABLE);
    body.push_str(&action_rows("", &t.events[..shown], site.state, None));
    body.push_str(&more(shown, t.events_total, "event(s)"));
    page(site, "", "Timeline", &body)
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
    let mut body = objectives_table("", &rows);
    body.push_str(&more(rows.len(), state.objectives.len(), "objective(s)"));
    page(site, "", "Objectives", &body)
}

pub fn tasks(site: &Site) -> String {
    let state = site.state;
    let groups: Vec<TaskGroup> = crate::view::report::TASK_GROUPS
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
    page(site, "", "Tasks", &task_groups("", &groups))
}

pub fn decisions(site: &Site) -> String {
    let state = site.state;
    let mut decisions: Vec<_> = state.decisions.iter().rev().collect();
    decisions.sort_by_key(|d| d.status != DecisionStatus::Open);
    let mut body = String::new();
    for d in decisions.iter().take(LIST_LIMIT) {
        let status = match d.status {
            DecisionStatus::Open => "open".to_string(),
            DecisionStatus::Made => format!("decided {}", d.made.map(when).unwrap_or_default()),
        };
        let _ = writeln!(
            body,
            "<h3>{} {}</h3>\n<dl><dt>status</dt><dd>{status}</dd><dt>requested</dt><dd>{}</dd>",
            esc(&state.short(&d.id)),
            esc(&d.question),
            when(d.requested)
        );
        if !d.options.is_empty() {
            let options: Vec<String> = d.options.iter().map(|o| esc(o)).collect();
            let _ = write!(body, "<dt>options</dt><dd>{}</dd>", options.join(" | "));
        }
        if let Some(choice) = &d.choice {
            let _ = write!(body, "<dt>choice</dt><dd>{}</dd>", esc(choice));
        }
        if let Some(rationale) = &d.rationale {
            let _ = write!(body, "<dt>rationale</dt><dd>{}</dd>", esc(rationale));
        }
        if let Some(task) = d.task.as_deref() {
            let _ = write!(
                body,
                "<dt>task</dt><dd><a href=\"{}\">{}</a> {}</dd>",
                task_href("", task),
                esc(&state.short(task)),
                esc(state.title_of(task).unwrap_or(""))
            );
        }
        body.push_str("</dl>\n");
    }
    if decisions.is_empty() {
        body.push_str("<p class=\"muted\">no decision yet</p>\n");
    }
    body.push_str(&more(
        decisions.len().min(LIST_LIMIT),
        decisions.len(),
        "decision(s)",
    ));
    page(site, "", "Decisions", &body)
}

pub fn knowledge(site: &Site) -> String {
    let mut body = String::from("<p>Insights promoted for reuse, by tag.</p>\n");
    if site.knowledge.by_tag.is_empty() {
        body.push_str("<p class=\"muted\">nothing promoted yet</p>\n");
    }
    for (tag, insights) in &site.knowledge.by_tag {
        let _ = writeln!(body, "<h2>#{}</h2>", esc(tag));
        body.push_str(&list(
            insights
                .iter()
                .rev()
                .take(LIST_LIMIT)
                .map(|i| esc(&insight_line(site.state, i))),
            "none",
        ));
        body.push_str(&more(
            insights.len().min(LIST_LIMIT),
            insights.len(),
            "insight(s)",
        ));
    }
    page(site, "", "Knowledge base", &body)
}

pub fn audit(site: &Site) -> String {
    let a = site.audit;
    let mut body = format!(
        "<p>{} event(s) from {} writer(s): {}</p>\n<table><tr><th>check</th><th>result</th><th>findings</th></tr>\n",
        a.events,
        a.writers,
        if a.intact {
            "<b class=\"ok\">intact</b>"
        } else {
            "<b class=\"fail\">NOT intact</b>"
        }
    );
    for check in &a.checks {
        let findings: Vec<String> = check
            .findings
            .iter()
            .take(HISTORY_LIMIT)
            .map(|f| esc(f))
            .collect();
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}{}</td></tr>",
            esc(check.name),
            if check.passed { "ok" } else { "fail" },
            if check.passed { "ok" } else { "FAIL" },
            findings.join("<br>"),
            more(findings.len(), check.findings.len(), "finding(s)")
        );
    }
    body.push_str("</table>\n");
    let n = &a.notices;
    let unknown: Vec<String> = n
        .unknown_kinds
        .iter()
        .map(|(k, count)| format!("{k}: {count} event(s), kept"))
        .collect();
    for (title, items) in [
        ("Forced completions", &n.forced_completions),
        ("Gate overrides", &n.gate_overrides),
        ("Open sessions", &n.open_sessions),
        (
            "Concurrent edits (the later one in the order won)",
            &n.conflicts,
        ),
        ("Kinds unknown to this version", &unknown),
    ] {
        if !items.is_empty() {
            let _ = writeln!(body, "<h2>{title}</h2>");
            body.push_str(&list(items.iter().take(LIST_LIMIT).map(|i| esc(i)), "none"));
            body.push_str(&more(items.len().min(LIST_LIMIT), items.len(), "item(s)"));
        }
    }
    body.push_str("<p class=\"muted\">This page shows the verdict; it does not move the checkpoint that <code>git ledger audit</code> keeps.</p>\n");
    page(site, "", "Audit", &body)
}

pub fn objective(site: &Site, detail: &ObjectiveDetail) -> String {
    let root = "../";
    let o = &detail.row;
    let mut body = format!(
        "<dl><dt>status</dt><dd>{}</dd><dt>progress</dt><dd>{} {}/{} task(s) done</dd><dt>time</dt><dd>{}</dd>",
        match o.status {
            ObjectiveStatus::Active => "active",
            ObjectiveStatus::Done => "done",
        },
        bar(o.progress()),
        o.tasks_done,
        o.tasks_total,
        esc(&time_text(o.actual_minutes, o.estimate_minutes))
    );
    if let Some(d) = &detail.description {
        let _ = write!(body, "<dt>description</dt><dd>{}</dd>", esc(d));
    }
    if let Some(outcome) = &detail.outcome {
        let _ = write!(body, "<dt>outcome</dt><dd>{}</dd>", esc(outcome));
    }
    body.push_str("</dl>\n<h2>Tasks</h2>\n");
    body.push_str(&list(
        detail.tasks.iter().map(|t| task_link(root, t)),
        "no task",
    ));
    body.push_str("<h2>History, newest first</h2>\n");
    body.push_str(&action_rows(root, &detail.history, site.state, Some(&o.id)));
    body.push_str(&more(
        detail.history.len(),
        detail.history_total,
        "event(s)",
    ));
    let title = format!("{} {}", o.short_id, o.title);
    page(site, root, &title, &body)
}

pub fn task(site: &Site, detail: &TaskDetail) -> String {
    let root = "../";
    let mut body = String::from("<dl>");
    for (name, value) in &detail.facts {
        let _ = write!(body, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
    }
    if let Some(o) = &detail.objective {
        let _ = write!(
            body,
            "<dt>objective</dt><dd><a href=\"{}\">{}</a> {}</dd>",
            objective_href(root, &o.id),
            esc(&o.short_id),
            esc(&o.title)
        );
    }
    if let Some(d) = &detail.description {
        let _ = write!(body, "<dt>description</dt><dd>{}</dd>", esc(d));
    }
    let _ = writeln!(body, "<dt>review</dt><dd>{}</dd></dl>", esc(&detail.review));
    // Notes and commits are what a reader looks for, so their absence is said; the other
    // sections only appear when they have something (most tasks have none of them).
    for (title, items, empty) in [
        ("Depends on", &detail.depends_on, None),
        ("Notes", &detail.notes, Some("no note")),
        ("Commits", &detail.commits, Some("no commit linked")),
        ("Merges", &detail.merges, None),
        ("Decisions", &detail.decisions, None),
        ("Insights", &detail.insights, None),
        ("Agents", &detail.agents, None),
    ] {
        if items.is_empty() && empty.is_none() {
            continue;
        }
        let _ = writeln!(body, "<h2>{title}</h2>");
        body.push_str(&list(items.iter().map(|i| esc(i)), empty.unwrap_or("")));
    }
    body.push_str("<h2>History</h2>\n");
    body.push_str(&action_rows(
        root,
        &detail.history,
        site.state,
        Some(&detail.row.id),
    ));
    let title = format!("{} {}", detail.row.short_id, detail.row.title);
    page(site, root, &title, &body)
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
    fn text_is_escaped_for_elements_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
