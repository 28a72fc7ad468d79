//! `dash`: a live terminal dashboard of the ledger. It only reads: the views come from
//! [`crate::view::report`], and it reloads when a writer ref moves (polled, cheaply, by
//! comparing the tips), so a `git fetch` or an agent's append shows within half a second.

pub mod app;
pub mod ui;

use crate::ledger::{self, Ledger, Loaded};
use app::{App, Key};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often the refs are compared with what is shown.
const POLL: Duration = Duration::from_millis(500);
/// How often the views are recomputed when nothing moved (time worked on tasks in progress,
/// agents becoming stalled: both counted in minutes).
const TICK: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the dashboard needs a terminal, and standard input or output is not one")]
    NotATerminal,
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error(transparent)]
    Ledger(#[from] ledger::Error),
}

/// Run the dashboard until the user quits.
pub fn run(ledger: &Ledger) -> Result<(), Error> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::NotATerminal);
    }
    let mut terminal = match ratatui::try_init() {
        Ok(terminal) => terminal,
        Err(e) => {
            // Raw mode may be on already: leave the terminal as it was found.
            ratatui::restore();
            return Err(e.into());
        }
    };
    let result = start(ledger, &mut terminal);
    ratatui::restore();
    result
}

/// Read the ledger (a big one takes a second: a note says so meanwhile), then run the loop.
fn start(ledger: &Ledger, terminal: &mut ratatui::DefaultTerminal) -> Result<(), Error> {
    terminal.draw(|frame| {
        frame.render_widget(
            ratatui::widgets::Paragraph::new("git ledger: reading the ledger…"),
            frame.area(),
        )
    })?;
    let mut loaded = ledger.load_full()?;
    let session = ledger.current_session(&loaded.state)?;
    let mut app = App::new(
        std::mem::take(&mut loaded.state),
        loaded.now,
        ledger.writer().to_string(),
        ledger.actor().to_string(),
        ledger.worktree().to_path_buf(),
        session,
    );
    app.stall_after_minutes = ledger.scope(&loaded, None).stall_after_minutes;
    event_loop(ledger, terminal, &mut app, loaded)
}

fn event_loop(
    ledger: &Ledger,
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    mut loaded: Loaded,
) -> Result<(), Error> {
    let mut last_tick = Instant::now();
    let mut reload = false;
    loop {
        terminal.draw(|frame| ui::draw(frame, app))?;
        if event::poll(POLL)? {
            match event::read()? {
                Event::Key(key) if key.kind == KeyEventKind::Press => {
                    if let Some(key) = translate(key.code, key.modifiers) {
                        if key == Key::Reload {
                            reload = true;
                        }
                        app.key(key);
                    }
                }
                _ => {}
            }
        }
        if app.quit {
            return Ok(());
        }
        let moved = ledger.tips()? != loaded.tips();
        if moved || reload {
            reload = false;
            loaded.state = std::mem::take(&mut app.state);
            // A reload that fails (a ref rewritten under us) gets one full read.
            loaded = match ledger.reload(loaded) {
                Ok(loaded) => loaded,
                Err(_) => ledger.load_full()?,
            };
            let session = ledger.current_session(&loaded.state)?;
            app.replace(std::mem::take(&mut loaded.state), loaded.now, session);
            last_tick = Instant::now();
        } else if last_tick.elapsed() >= TICK {
            app.now = crate::clock::now().map_err(ledger::Error::from)?;
            app.refresh();
            last_tick = Instant::now();
        }
    }
}

fn translate(code: KeyCode, modifiers: KeyModifiers) -> Option<Key> {
    Some(match code {
        KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => Key::Quit,
        KeyCode::Char('q') => Key::Quit,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => Key::NextPane,
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => Key::PreviousPane,
        KeyCode::Up | KeyCode::Char('k') => Key::Up,
        KeyCode::Down | KeyCode::Char('j') => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Key::PageDown,
        KeyCode::Enter => Key::Open,
        KeyCode::Esc | KeyCode::Backspace => Key::Close,
        KeyCode::Char('s') => Key::CycleSession,
        KeyCode::Char('a') => Key::CycleAgent,
        KeyCode::Char('c') => Key::ClearFilter,
        KeyCode::Char('r') => Key::Reload,
        _ => return None,
    })
}
