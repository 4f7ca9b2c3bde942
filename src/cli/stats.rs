//! `triage stats [--json]`: per reviewer, items triaged, per hour, overturn rate (leads).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::store::review;
use crate::store::users::{self, Right};

pub fn run(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    users::authorize(&case, &me, Right::Review, "stats")?;
    let stats = review::stats(&case)?;
    if json {
        let sample = review::sample_percent(&case)?;
        super::out::json(
            &serde_json::json!({ "review_sample_percent": sample, "reviewers": stats }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    super::say!(
        "{:<20} {:>8} {:>9} {:>9} {:>11} {:>9}",
        "reviewer",
        "triaged",
        "per hour",
        "reviewed",
        "overturned",
        "rate"
    );
    for s in stats {
        super::say!(
            "{:<20} {:>8} {:>9} {:>9} {:>11} {:>9}",
            crate::text::sanitize(&s.login),
            s.triaged,
            s.per_hour
                .map(|h| format!("{h:.1}"))
                .unwrap_or_else(|| "-".into()),
            s.reviewed,
            s.overturned,
            s.overturn_rate
                .map(|r| format!("{:.0}%", r * 100.0))
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
