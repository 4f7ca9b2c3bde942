//! Reviewers' exposure to graphic material, the limits leads set on it, and the answers
//! reviewers gave when a limit was reached.
//!
//! Days are UTC calendar days and weeks ISO 8601 weeks of UTC days: a case's reviewers may sit
//! in several time zones, and one boundary for everyone makes the team's figures add up.
//!
//! Exposures are counted rows, not audit entries: they record a person's load, not something
//! done to the evidence, and the audit log is readable by every member of the case (`triage
//! log`). A reveal stays an audit event (custody) and is also counted here, in the same
//! transaction. Only the figures leave this module: no function here hands anyone a list of
//! the items a person looked at.

use chrono::{DateTime, Datelike, Utc};
use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};
use super::users::{self, Right};
use super::{Case, CaseError};

/// The flag whose items are counted and limited (`-flag:graphic` is the queue without them).
pub const GRAPHIC: &str = "graphic";

/// How a person came to see graphic material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    /// A gated picture revealed (recorded in the audit log too).
    Reveal,
    /// The preview of an item flagged graphic, drawn.
    Preview,
    /// The contact sheet of a video flagged graphic, drawn.
    Sheet,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Reveal => "reveal",
            Exposure::Preview => "preview",
            Exposure::Sheet => "sheet",
        }
    }
}

/// A limit a lead sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rule {
    /// Graphic items per day.
    #[serde(rename = "graphic-per-day")]
    PerDay,
    /// A pause after this many graphic items in a row.
    #[serde(rename = "pause-after")]
    InARow,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PerDay => "graphic-per-day",
            Rule::InARow => "pause-after",
        }
    }
}

/// The settings a case has, with what each accepts.
pub const SETTINGS: &[(&str, &str)] = &[
    (
        "graphic-per-day",
        "graphic items a reviewer sees per day before being asked to stop: a number, or off",
    ),
    (
        "pause-after",
        "graphic items in a row before a pause is offered: a number, or off",
    ),
    (
        "flagged-blurred",
        "previews and contact sheets of flagged items start blurred and grey: on or off",
    ),
];

/// The UTC day and ISO week a moment falls in.
pub fn day_and_week(t: DateTime<Utc>) -> (String, String) {
    let w = t.iso_week();
    (
        t.format("%Y-%m-%d").to_string(),
        format!("{}-W{:02}", w.year(), w.week()),
    )
}

/// Count that `login` saw `item` this way now. Repeats on the same day count as views of the
/// same item. Returns the person's figures for today afterwards.
pub fn record(case: &mut Case, login: &str, item: i64, how: Exposure) -> super::Result<Today> {
    let now = crate::clock::utc_now();
    case.write(|tx| {
        count(tx, login, item, how, now)?;
        today_in(tx, login, now)
    })
}

/// The counting row, inside a caller's transaction (a reveal's).
pub(crate) fn count(
    tx: &Transaction,
    login: &str,
    item: i64,
    how: Exposure,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let (day, week) = day_and_week(now);
    tx.prepare_cached(
        "INSERT INTO exposures(login, day, week, item_id, kind, first_at, views)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
         ON CONFLICT(login, day, item_id, kind) DO UPDATE SET views = views + 1",
    )?
    .execute((
        login,
        &day,
        &week,
        item,
        how.as_str(),
        crate::clock::format(now),
    ))?;
    Ok(())
}

/// What the console needs to know about a reviewer today: how many graphic items, the limits
/// that apply to them, and which limits they chose to go on past today.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Today {
    pub day: String,
    /// Distinct items seen today, however (reveal, preview, contact sheet).
    pub items: u64,
    pub per_day: Option<u64>,
    pub in_a_row: Option<u64>,
    /// They chose to go on past the daily limit today (asked once a day).
    pub went_on_today: bool,
    pub blur_flagged: bool,
}

pub fn today(db: &impl super::Db, login: &str) -> rusqlite::Result<Today> {
    today_in(super::conn_of(db), login, crate::clock::utc_now())
}

fn today_in(
    conn: &rusqlite::Connection,
    login: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Today> {
    let (day, _) = day_and_week(now);
    let items: i64 = conn
        .prepare_cached(
            "SELECT count(DISTINCT item_id) FROM exposures WHERE login = ?1 AND day = ?2",
        )?
        .query_row((login, &day), |r| r.get(0))?;
    let went_on: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM limit_answers
             WHERE login = ?1 AND day = ?2 AND rule = 'graphic-per-day' AND answer = 'go-on'",
        )?
        .query_row((login, &day), |r| r.get(0))?;
    Ok(Today {
        items: items as u64,
        per_day: limit(conn, login, Rule::PerDay)?,
        in_a_row: limit(conn, login, Rule::InARow)?,
        went_on_today: went_on > 0,
        blur_flagged: setting(conn, "", "flagged-blurred")?.as_deref() != Some("off"),
        day,
    })
}

/// The limit that applies to `login`: their own, else the case's; "off" is none.
fn limit(conn: &rusqlite::Connection, login: &str, rule: Rule) -> rusqlite::Result<Option<u64>> {
    let own = setting(conn, login, rule.as_str())?;
    let value = match own {
        Some(v) => Some(v),
        None => setting(conn, "", rule.as_str())?,
    };
    Ok(value.and_then(|v| v.parse().ok()).filter(|n: &u64| *n > 0))
}

fn setting(
    conn: &rusqlite::Connection,
    scope: &str,
    key: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM case_settings WHERE scope = ?1 AND key = ?2")?
        .query_row((scope, key), |r| r.get(0))
        .optional()
}

/// The reviewer's answer when a limit was reached: stop (take the queue without graphic
/// items, or not now) or go on. Kept with the figures, not in the audit log (see above).
pub fn answer(case: &mut Case, login: &str, rule: Rule, go_on: bool) -> super::Result<Today> {
    let now = crate::clock::utc_now();
    let (day, week) = day_and_week(now);
    case.write(|tx| {
        tx.execute(
            "INSERT INTO limit_answers(login, day, week, rule, answer, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (
                login,
                &day,
                &week,
                rule.as_str(),
                if go_on { "go-on" } else { "stop" },
                crate::clock::format(now),
            ),
        )?;
        today_in(tx, login, now)
    })
}

/// One setting: its scope (the case, or one reviewer), name and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// None: the case's; else the reviewer's own.
    pub reviewer: Option<String>,
    pub key: String,
    pub value: String,
    pub set_by: String,
    pub set_at: String,
}

pub fn settings(db: &impl super::Db) -> rusqlite::Result<Vec<Setting>> {
    super::conn_of(db)
        .prepare_cached(
            "SELECT scope, key, value, set_by, set_at FROM case_settings ORDER BY scope, key",
        )?
        .query_map([], |r| {
            let scope: String = r.get(0)?;
            Ok(Setting {
                reviewer: Some(scope).filter(|s| !s.is_empty()),
                key: r.get(1)?,
                value: r.get(2)?,
                set_by: r.get(3)?,
                set_at: r.get(4)?,
            })
        })?
        .collect()
}

/// Change a setting (leads and admins), recorded as `settings.set` with the old and new
/// value. `reviewer`: a limit for one person, over the case's. Returns the old value.
pub fn set(
    case: &mut Case,
    actor: &str,
    key: &str,
    value: &str,
    reviewer: Option<&str>,
) -> super::Result<Option<String>> {
    let attempt = match reviewer {
        Some(r) => format!("settings set {key} {value} --reviewer {r}"),
        None => format!("settings set {key} {value}"),
    };
    users::authorize(case, actor, Right::SetLimits, &attempt)?;
    let value = check_value(key, value, reviewer.is_some()).map_err(CaseError::Invalid)?;
    if let Some(r) = reviewer {
        if users::get(&case.conn, r)?.is_none() {
            return Err(CaseError::Invalid(format!(
                "{r} is not a member of this case"
            )));
        }
    }
    let scope = reviewer.unwrap_or("");
    case.write(|tx| {
        let old = setting(tx, scope, key)?;
        tx.execute(
            "INSERT INTO case_settings(scope, key, value, set_by, set_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(scope, key) DO UPDATE SET value = ?3, set_by = ?4, set_at = ?5",
            (scope, key, &value, actor, crate::clock::now()),
        )?;
        let mut chain = Chain::load(tx)?;
        chain.append(
            tx,
            &Event::case(
                actor,
                "settings.set",
                json!({ "scope": scope, "key": key, "old": old, "new": value }),
            ),
        )?;
        Ok(old)
    })
}

/// A setting's value in the form kept, or why it is not one.
fn check_value(key: &str, value: &str, for_reviewer: bool) -> Result<String, String> {
    let v = value.trim().to_ascii_lowercase();
    match key {
        "graphic-per-day" | "pause-after" => match v.as_str() {
            "off" | "0" | "none" => Ok("off".into()),
            n => n
                .parse::<u32>()
                .map(|n| n.to_string())
                .map_err(|_| format!("{key} takes a number of items, or off")),
        },
        "flagged-blurred" if for_reviewer => {
            Err("flagged-blurred is set for the whole case, not per reviewer".into())
        }
        "flagged-blurred" => match v.as_str() {
            "on" | "true" | "yes" => Ok("on".into()),
            "off" | "false" | "no" => Ok("off".into()),
            _ => Err("flagged-blurred takes on or off".into()),
        },
        _ => Err(format!(
            "no setting {key:?}; the settings are {}",
            SETTINGS
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A person's own figures: per day and per week, by way of seeing, with their limits and
/// the answers they gave.
#[derive(Debug, Clone, Serialize)]
pub struct Own {
    pub login: String,
    pub today: Period,
    pub this_week: Period,
    pub per_day: Option<u64>,
    pub in_a_row: Option<u64>,
    pub days: Vec<Period>,
}

/// Figures over a day or a week.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Period {
    /// `2026-12-01` or `2026-W49`.
    pub period: String,
    /// Distinct graphic items seen.
    pub items: u64,
    pub reveals: u64,
    pub previews: u64,
    pub sheets: u64,
    /// Times a limit was reached (each answer is one), and how many of those went on.
    pub limits_reached: u64,
    pub went_on: u64,
}

/// The figures `login` may read of themself (the last 14 days with any).
pub fn own(db: &impl super::Db, login: &str) -> rusqlite::Result<Own> {
    let conn = super::conn_of(db);
    let now = crate::clock::utc_now();
    let (day, week) = day_and_week(now);
    let mut days = vec![];
    let listed: Vec<String> = conn
        .prepare_cached(
            "SELECT day FROM exposures WHERE login = ?1
             UNION SELECT day FROM limit_answers WHERE login = ?1 ORDER BY 1 DESC LIMIT 14",
        )?
        .query_map([login], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for d in listed {
        days.push(period(conn, Some(login), "day", &d)?);
    }
    Ok(Own {
        login: login.to_string(),
        today: period(conn, Some(login), "day", &day)?,
        this_week: period(conn, Some(login), "week", &week)?,
        per_day: limit(conn, login, Rule::PerDay)?,
        in_a_row: limit(conn, login, Rule::InARow)?,
        days,
    })
}

/// Figures over a day or week (`column` is "day" or "week"), of one person or everyone.
fn period(
    conn: &rusqlite::Connection,
    login: Option<&str>,
    column: &str,
    value: &str,
) -> rusqlite::Result<Period> {
    let who = if login.is_some() {
        "login = ?2"
    } else {
        "?2 IS NULL"
    };
    let (items, reveals, previews, sheets): (i64, i64, i64, i64) = conn.query_row(
        &format!(
            "SELECT count(DISTINCT login || ' ' || item_id),
                    count(*) FILTER (WHERE kind = 'reveal'),
                    count(*) FILTER (WHERE kind = 'preview'),
                    count(*) FILTER (WHERE kind = 'sheet')
             FROM (SELECT DISTINCT login, item_id, kind, {column} FROM exposures
                   WHERE {column} = ?1 AND {who})"
        ),
        (value, login),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let (reached, went_on): (i64, i64) = conn.query_row(
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE answer = 'go-on')
             FROM limit_answers WHERE {column} = ?1 AND {who}"
        ),
        (value, login),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Period {
        period: value.to_string(),
        items: items as u64,
        reveals: reveals as u64,
        previews: previews as u64,
        sheets: sheets as u64,
        limits_reached: reached as u64,
        went_on: went_on as u64,
    })
}

/// What a lead sees: per person, only how often limits were reached (and gone past); for the
/// team, totals. Never who saw which item, nor one person's exposure figures.
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub today: Period,
    pub this_week: Period,
    pub people: Vec<LimitsReached>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LimitsReached {
    pub login: String,
    /// This ISO week: days the daily limit was reached, pauses offered, and how often they
    /// chose to go on.
    pub per_day_reached: u64,
    pub pause_reached: u64,
    pub went_on: u64,
}

pub fn team(db: &impl super::Db) -> rusqlite::Result<Team> {
    let conn = super::conn_of(db);
    let (day, week) = day_and_week(crate::clock::utc_now());
    let mut people = vec![];
    let logins: Vec<String> = conn
        .prepare_cached("SELECT login FROM users ORDER BY login")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for login in logins {
        let (per_day, pause, went_on): (i64, i64, i64) = conn
            .prepare_cached(
                "SELECT count(DISTINCT day) FILTER (WHERE rule = 'graphic-per-day'),
                        count(*) FILTER (WHERE rule = 'pause-after'),
                        count(*) FILTER (WHERE answer = 'go-on')
                 FROM limit_answers WHERE login = ?1 AND week = ?2",
            )?
            .query_row((&login, &week), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        people.push(LimitsReached {
            login,
            per_day_reached: per_day as u64,
            pause_reached: pause as u64,
            went_on: went_on as u64,
        });
    }
    Ok(Team {
        today: period(conn, None, "day", &day)?,
        this_week: period(conn, None, "week", &week)?,
        people,
    })
}

/// The settings a replay of the log implies are compared with these.
pub(crate) fn stored_settings(
    conn: &rusqlite::Connection,
) -> rusqlite::Result<Vec<(String, String, String)>> {
    conn.prepare("SELECT scope, key, value FROM case_settings")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

pub(super) const MIGRATION: &str = r#"
CREATE TABLE exposures (
    login    TEXT NOT NULL,
    day      TEXT NOT NULL,
    week     TEXT NOT NULL,
    item_id  INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('reveal', 'preview', 'sheet')),
    first_at TEXT NOT NULL,
    views    INTEGER NOT NULL,
    PRIMARY KEY (login, day, item_id, kind)
) WITHOUT ROWID;
CREATE INDEX exposures_week ON exposures(week, login);
CREATE TABLE limit_answers (
    login  TEXT NOT NULL,
    day    TEXT NOT NULL,
    week   TEXT NOT NULL,
    rule   TEXT NOT NULL CHECK (rule IN ('graphic-per-day', 'pause-after')),
    answer TEXT NOT NULL CHECK (answer IN ('stop', 'go-on')),
    at     TEXT NOT NULL
);
CREATE INDEX limit_answers_login ON limit_answers(login, day);
CREATE TABLE case_settings (
    scope  TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_weeks_iso_across_a_year_end() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 1 January 2027 is a Friday: still in week 53 of 2026.
        assert_eq!(
            day_and_week(t("2027-01-01T12:00:00Z")),
            ("2027-01-01".into(), "2026-W53".into())
        );
        // 23:30 in Damascus (UTC+3) on 1 December is 20:30 UTC, the same day.
        assert_eq!(day_and_week(t("2026-12-01T23:30:00+03:00")).0, "2026-12-01");
        // 01:00 in Damascus on 2 December is still 1 December in UTC.
        assert_eq!(day_and_week(t("2026-12-02T01:00:00+03:00")).0, "2026-12-01");
    }

    #[test]
    fn values_are_checked_and_kept_in_one_form() {
        assert_eq!(
            check_value("graphic-per-day", " 40 ", false),
            Ok("40".into())
        );
        assert_eq!(check_value("pause-after", "OFF", true), Ok("off".into()));
        assert!(check_value("pause-after", "-3", false).is_err());
        assert_eq!(
            check_value("flagged-blurred", "no", false),
            Ok("off".into())
        );
        assert!(check_value("flagged-blurred", "on", true).is_err());
        assert!(check_value("colour", "on", false).is_err());
    }
}
