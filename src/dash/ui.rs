//! Drawing the dashboard: panes laid out for a terminal as small as 80×24.

use super::app::{App, DetailLine, Pane};
use crate::view::memory::minutes_text;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, HighlightSpacing, List, ListItem, ListState, Paragraph, Wrap};

/// What the footer offers.
const KEYS: &str = "Tab pane  ↑↓ move  Enter open  s session  a agent  c clear  q quit";

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(Line::from(app.header()).style(Style::new().add_modifier(Modifier::BOLD))),
        header,
    );
    let footer_text = match &app.message {
        Some(message) => message.clone(),
        None if app.detail.is_some() => "↑↓ scroll  Esc close  q quit".to_string(),
        None => KEYS.to_string(),
    };
    frame.render_widget(
        Paragraph::new(footer_text).style(Style::new().add_modifier(Modifier::REVERSED)),
        footer,
    );
    match &app.detail {
        Some(detail) => {
            let lines: Vec<Line> = detail
                .lines
                .iter()
                .map(|line| match line {
                    DetailLine::Heading(text) => Line::from(Span::styled(
                        text.clone(),
                        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                    )),
                    DetailLine::Text(text) => Line::from(text.clone()),
                })
                .collect();
            let block = Block::bordered().title(format!(" {} ", detail.title));
            frame.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false })
                    .scroll((detail.scroll, 0)),
                body,
            );
        }
        None => panes(frame, app, body),
    }
}

fn panes(frame: &mut Frame, app: &App, body: Rect) {
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Percentage(28),
        Constraint::Min(4),
    ])
    .areas(body);
    let halves = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]);
    let [objectives, tasks] = halves.areas(top);
    let [agents, decisions] = halves.areas(middle);
    let time = &app.overview.time;
    let mut time_line = format!(
        "time: {} of {} estimated",
        minutes_text(time.actual_minutes),
        minutes_text(time.estimate_minutes)
    );
    // The cost total (the first cost line) and how many budgets are at risk.
    if let Some(total) = app.overview.cost.first() {
        time_line.push_str(&format!(" · cost {}", total.trim_start_matches("total: ")));
    }
    if !app.overview.budget_warnings.is_empty() {
        time_line.push_str(&format!(
            " · {} budget warning(s)",
            app.overview.budget_warnings.len()
        ));
    }
    pane(frame, app, Pane::Objectives, objectives, Some(time_line));
    pane(frame, app, Pane::Tasks, tasks, None);
    pane(frame, app, Pane::Agents, agents, None);
    pane(frame, app, Pane::Decisions, decisions, None);
    pane(frame, app, Pane::Feed, bottom, None);
}

fn pane(frame: &mut Frame, app: &App, pane: Pane, area: Rect, first: Option<String>) {
    let focused = app.focus == pane;
    let title = if focused {
        format!("[{}]", pane.title())
    } else {
        format!(" {} ", pane.title())
    };
    let border = if focused {
        Style::new().add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::DIM)
    };
    let block = Block::bordered().title(title).border_style(border);
    let rows = app.rows(pane);
    if rows.is_empty() && first.is_none() {
        frame.render_widget(
            Paragraph::new(App::empty(pane))
                .style(Style::new().add_modifier(Modifier::DIM))
                .block(block),
            area,
        );
        return;
    }
    // A fixed first line (the time against estimates) above the list.
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let list_area = match first {
        Some(text) => {
            let [line, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
            frame.render_widget(
                Paragraph::new(text).style(Style::new().add_modifier(Modifier::ITALIC)),
                line,
            );
            rest
        }
        None => inner,
    };
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(App::empty(pane)), list_area);
        return;
    }
    let items: Vec<ListItem> = rows
        .iter()
        .map(|row| {
            if row.heading {
                ListItem::new(Line::from(Span::styled(
                    format!("─ {}", row.text),
                    Style::new().add_modifier(Modifier::BOLD),
                )))
            } else {
                ListItem::new(row.text.clone())
            }
        })
        .collect();
    let list = List::new(items)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    // Only the focused pane shows its selection; the others show their top.
    let mut state = ListState::default().with_selected(focused.then(|| app.selected(pane)));
    frame.render_stateful_widget(list, list_area, &mut state);
}
