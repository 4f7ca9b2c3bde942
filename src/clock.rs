//! Timestamps: always UTC, RFC 3339 with microseconds, so they sort as text.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now() -> String {
    format(Utc::now())
}

pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn from_system_time(t: std::time::SystemTime) -> String {
    format(DateTime::<Utc>::from(t))
}
