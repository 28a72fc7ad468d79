//! Points in the ledger's history, for time travel (`--at`), `diff` and `replay` bounds: a time,
//! an event id, or a session (its start or its end).

use super::state::State;
use crate::event::Event;
use chrono::{DateTime, NaiveDate, Utc};

/// A position in the total order: the first `events` events, as seen at time `now`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// How many events (in the total order) are included.
    pub events: usize,
    /// The time the views are computed at.
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    #[error("'{0}' is not a time (2026-01-05, 2026-01-05T09:00:00Z), an event id or a session id")]
    Unrecognised(String),
    #[error("no event or session matches '{0}'")]
    Unknown(String),
    #[error("'{0}' matches {1} events; type more characters")]
    Ambiguous(String, usize),
}

/// Which end of a session a session id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Start,
    End,
}

/// Parse a time: RFC 3339, or a date (meaning the end of that day, UTC).
pub fn parse_time(input: &str) -> Option<DateTime<Utc>> {
    let input = input.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(input) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(input, "%Y-%m-%d").ok()?;
    Some(date.and_hms_milli_opt(23, 59, 59, 999)?.and_utc())
}

/// Resolve what a user typed into a point of `state`'s history.
pub fn resolve(state: &State, input: &str, end: SessionEnd) -> Result<Point, PointError> {
    let trimmed = input.trim();
    if let Some(time) = parse_time(trimmed) {
        // "Up to T" is a prefix of the order: up to the last event recorded at or before T.
        // (Not by clock value: events recorded in the same millisecond get clock values
        // just past it, and would be left out.)
        let events = state
            .events
            .iter()
            .rposition(|e| e.timestamp() <= time)
            .map_or(0, |i| i + 1);
        return Ok(Point { events, now: time });
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("s-") {
        let id = state
            .resolve(crate::event::EntityKind::Session, &lower)
            .map_err(|_| PointError::Unknown(trimmed.to_string()))?;
        let positions: Vec<usize> = state
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.session.as_deref() == Some(id.as_str()))
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            return Err(PointError::Unknown(trimmed.to_string()));
        };
        let at = if end == SessionEnd::Start {
            first
        } else {
            last
        };
        return Ok(after(state, at));
    }
    if lower.len() >= 4 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        let matches: Vec<usize> = state
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.id.starts_with(&lower))
            .map(|(i, _)| i)
            .collect();
        return match matches.as_slice() {
            [] => Err(PointError::Unknown(trimmed.to_string())),
            [one] => Ok(after(state, *one)),
            many => Err(PointError::Ambiguous(trimmed.to_string(), many.len())),
        };
    }
    Err(PointError::Unrecognised(trimmed.to_string()))
}

/// Where a range that starts at `input` begins (inclusive): the first event at or after a
/// time, the event itself, or a session's first event.
pub fn start_index(state: &State, input: &str) -> Result<usize, PointError> {
    let day_start = NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    if let Some(time) = day_start.or_else(|| parse_time(input)) {
        let limit = time.timestamp_millis().max(0) as u64;
        return Ok(state.events.partition_point(|e| e.hlc < limit));
    }
    resolve(state, input, SessionEnd::Start).map(|p| p.events - 1)
}

/// The point just after the event at `position`.
fn after(state: &State, position: usize) -> Point {
    Point {
        events: position + 1,
        now: state.events[position].timestamp(),
    }
}

/// The state as it stood at `point`.
pub fn state_at(state: &State, point: Point) -> State {
    let events: Vec<Event> = state.events[..point.events.min(state.events.len())].to_vec();
    State::from_events(events)
}
