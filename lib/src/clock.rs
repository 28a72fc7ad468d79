//! The wall clock, which tests and demos can pin with `GIT_LEDGER_NOW` (RFC 3339).

use chrono::{DateTime, Utc};

pub const NOW_ENV: &str = "GIT_LEDGER_NOW";

#[derive(Debug, thiserror::Error)]
#[error("{NOW_ENV}={value:?} is not an RFC 3339 time (like 2026-01-31T09:00:00Z)")]
pub struct BadClock {
    pub value: String,
}

/// The current time, or the time pinned by `GIT_LEDGER_NOW`.
pub fn now() -> Result<DateTime<Utc>, BadClock> {
    match std::env::var(NOW_ENV) {
        Ok(value) if !value.trim().is_empty() => DateTime::parse_from_rfc3339(value.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| BadClock { value }),
        _ => Ok(Utc::now()),
    }
}

/// RFC 3339 with milliseconds and `Z`, the form stored in events.
pub fn format(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
