//! Timestamps: always UTC, RFC 3339 with microseconds, so they sort as text.
//!
//! Tests move time with `pin` (this thread only): there is no environment variable or option
//! to set the clock, so nobody can write a recorded time of their choosing.

use std::cell::Cell;

use chrono::{DateTime, SecondsFormat, Utc};

thread_local! {
    static PINNED: Cell<Option<DateTime<Utc>>> = const { Cell::new(None) };
}

/// The time now (or the time pinned on this thread).
pub fn utc_now() -> DateTime<Utc> {
    PINNED.with(|p| p.get()).unwrap_or_else(Utc::now)
}

/// Hold this thread's clock at `t` (None: the real clock again). For tests.
pub fn pin(t: Option<DateTime<Utc>>) {
    PINNED.with(|p| p.set(t));
}

pub fn now() -> String {
    format(utc_now())
}

pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn from_system_time(t: std::time::SystemTime) -> String {
    format(DateTime::<Utc>::from(t))
}
