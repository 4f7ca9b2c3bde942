//! `triage stats --wellbeing` and `triage settings`: a reviewer's exposure to graphic material,
//! seen only by them; leads see how often each person reached a limit and the team's totals.
//! The acting login's role decides what is shown, here and in the store's functions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::store::users::{self, Right, Role};
use crate::store::wellbeing::{self, Period};
use crate::text::sanitize;

pub fn stats(case: Option<PathBuf>, json: bool, reviewer: Option<&str>) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let role = users::check(&case, &me, Right::Read)?.ok();
    let lead = role.is_some_and(|r| r >= Role::Lead);
    match reviewer.filter(|r| *r != me) {
        // Another person's figures: only a lead, and only how often they reached a limit.
        Some(other) => {
            users::authorize(
                &case,
                &me,
                Right::Review,
                &format!("stats --wellbeing --reviewer {other}"),
            )?;
            let team = wellbeing::team(&case)?;
            let Some(row) = team.people.into_iter().find(|p| p.login == other) else {
                anyhow::bail!("{} is not a member of this case", sanitize(other));
            };
            if json {
                super::out::json(&row)?;
            } else {
                super::say!(
                    "{} this week: daily limit reached {}, pause offered {}, went on {}",
                    sanitize(&row.login),
                    row.per_day_reached,
                    row.pause_reached,
                    row.went_on
                );
            }
        }
        None => {
            let own = wellbeing::own(&case, &me)?;
            let team = if lead {
                Some(wellbeing::team(&case)?)
            } else {
                None
            };
            if json {
                super::out::json(&serde_json::json!({ "own": own, "team": team }))?;
                return Ok(ExitCode::SUCCESS);
            }
            let limit = |l: Option<u64>| l.map_or("none".to_string(), |n| n.to_string());
            super::say!(
                "{}: graphic items seen (UTC days, ISO weeks); limits: {} a day, a pause after {} in a row",
                sanitize(&own.login),
                limit(own.per_day),
                limit(own.in_a_row)
            );
            period_header();
            period_line("today", &own.today);
            period_line("this week", &own.this_week);
            for d in own.days.iter().filter(|d| d.period != own.today.period) {
                period_line(&d.period, d);
            }
            if let Some(team) = team {
                super::say!("");
                super::say!("team (totals; no one's items are listed)");
                period_header();
                period_line("today", &team.today);
                period_line("this week", &team.this_week);
                super::say!("");
                super::say!(
                    "{:<20} {:>12} {:>10} {:>8}",
                    "this week",
                    "daily limit",
                    "pause",
                    "went on"
                );
                for p in team.people {
                    super::say!(
                        "{:<20} {:>12} {:>10} {:>8}",
                        sanitize(&p.login).to_string(),
                        p.per_day_reached,
                        p.pause_reached,
                        p.went_on
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn period_header() {
    super::say!(
        "{:<12} {:>6} {:>8} {:>9} {:>7} {:>8} {:>8}",
        "",
        "items",
        "reveals",
        "previews",
        "sheets",
        "limits",
        "went on"
    );
}

fn period_line(label: &str, p: &Period) {
    super::say!(
        "{:<12} {:>6} {:>8} {:>9} {:>7} {:>8} {:>8}",
        label,
        p.items,
        p.reveals,
        p.previews,
        p.sheets,
        p.limits_reached,
        p.went_on
    );
}

pub fn list(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let lead = users::check(&case, &me, Right::Review)?.is_ok();
    // A reviewer's own limit is theirs and the leads' to know, not their colleagues'.
    let set: Vec<_> = wellbeing::settings(&case)?
        .into_iter()
        .filter(|s| lead || s.reviewer.as_deref().is_none_or(|r| r == me))
        .collect();
    if json {
        for s in &set {
            super::out::json(s)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (key, what) in wellbeing::SETTINGS {
        let case_value = set
            .iter()
            .find(|s| s.reviewer.is_none() && s.key == *key)
            .map(|s| s.value.clone());
        let default = if *key == "flagged-blurred" {
            "on"
        } else {
            "off"
        };
        super::say!(
            "{:<16} {:<5} {}",
            key,
            case_value.as_deref().unwrap_or(default),
            what
        );
        for s in set.iter().filter(|s| s.reviewer.is_some() && s.key == *key) {
            super::say!(
                "  for {:<10} {}",
                sanitize(s.reviewer.as_deref().unwrap_or("")).to_string(),
                sanitize(&s.value)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn set(
    case: Option<PathBuf>,
    key: &str,
    value: &str,
    reviewer: Option<&str>,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let old = wellbeing::set(&mut case, &me, key, value, reviewer)?;
    let whose = reviewer
        .map(|r| format!(" for {}", sanitize(r)))
        .unwrap_or_default();
    super::say!(
        "{key}{whose}: {} (was {}) — recorded",
        sanitize(value),
        old.as_deref()
            .map(sanitize)
            .map(|s| s.into_string())
            .unwrap_or_else(|| "not set".into())
    );
    Ok(ExitCode::SUCCESS)
}
