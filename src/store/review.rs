//! Second-level review: escalated items and a reproducible sample of triaged items go to the
//! leads' review queue; a lead confirms a decision or changes it, and a change is recorded as
//! an overturn of the first reviewer's decision. Reviewer statistics come from the same rows.

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};
use super::users::{self, Right, Role};
use super::{Case, CaseError};

/// The item is in the sample when a multiplicative hash of its id, modulo 100, is below the
/// sample percentage: the same items for the same percentage, on every machine.
const SAMPLED_SQL: &str = "((items.id * 2654435761) % 4294967296) % 100 <
    (SELECT CAST(value AS INTEGER) FROM case_info WHERE key = 'review_sample_pct')";

/// The review queue of lead `?` (one parameter): decisions by others, not reviewed yet, that
/// are escalations or fall in the sample.
pub fn queue_sql() -> String {
    format!(
        "items.status IN ('triaged', 'escalated') AND coalesce(items.status_by, '') <> ?
         AND items.id NOT IN (SELECT item_id FROM reviews)
         AND (items.status = 'escalated' OR {SAMPLED_SQL})"
    )
}

/// An item in review that a lead is about to change.
#[derive(Debug, Clone)]
pub struct Pending {
    item: i64,
    reason: &'static str,
    decided_by: String,
    decision: String,
}

fn in_queue(tx: &Connection, actor: &str, item: i64) -> rusqlite::Result<Option<Pending>> {
    tx.prepare_cached(&format!(
        "SELECT items.status, items.status_by FROM items WHERE items.id = ? AND {}",
        queue_sql()
    ))?
    .query_row((item, actor), |r| {
        let decision: String = r.get(0)?;
        Ok(Pending {
            item,
            reason: if decision == "escalated" {
                "escalated"
            } else {
                "sample"
            },
            decided_by: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            decision,
        })
    })
    .optional()
}

/// Before a change by `actor`: the targets that are in their review queue (only leads review).
pub fn before_change(
    tx: &Transaction,
    actor: &str,
    role: Role,
    items: &[i64],
) -> rusqlite::Result<Vec<Pending>> {
    if role < Role::Lead {
        return Ok(vec![]);
    }
    let mut v = Vec::new();
    for &item in items {
        if let Some(p) = in_queue(tx, actor, item)? {
            v.push(p);
        }
    }
    Ok(v)
}

/// A lead's change to items in review overturns the first decision: recorded in the same
/// transaction as the change.
pub fn record_overturns(
    tx: &Transaction,
    chain: &mut Chain,
    actor: &str,
    change_id: i64,
    pending: &[Pending],
) -> rusqlite::Result<()> {
    for p in pending {
        record(tx, actor, p, "overturned")?;
        chain.append(
            tx,
            &Event {
                actor,
                item_id: Some(p.item),
                event: "review.overturn",
                details: json!({ "reason": p.reason, "decided_by": p.decided_by, "decision": p.decision }),
                change_id: Some(change_id),
            },
        )?;
    }
    Ok(())
}

fn record(tx: &Transaction, actor: &str, p: &Pending, outcome: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO reviews(item_id, reason, decided_by, decision, reviewer, outcome, reviewed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            p.item,
            p.reason,
            &p.decided_by,
            &p.decision,
            actor,
            outcome,
            crate::clock::now(),
        ),
    )?;
    Ok(())
}

/// A lead confirms the decision on an item in their review queue.
pub fn confirm(case: &mut Case, actor: &str, item: i64) -> super::Result<()> {
    users::authorize(
        case,
        actor,
        Right::Review,
        &format!("confirm {}", super::reference(item)),
    )?;
    let done = case.write(|tx| {
        let Some(p) = in_queue(tx, actor, item)? else {
            return Ok(false);
        };
        record(tx, actor, &p, "confirmed")?;
        let mut chain = Chain::load(tx)?;
        chain.append(
            tx,
            &Event::item(
                actor,
                item,
                "review.confirm",
                json!({ "reason": p.reason, "decided_by": p.decided_by, "decision": p.decision }),
            ),
        )?;
        Ok(true)
    })?;
    if done {
        Ok(())
    } else {
        Err(CaseError::Invalid(format!(
            "{} is not in your review queue",
            super::reference(item)
        )))
    }
}

/// Set the share of triaged items sampled for review (0-100 %).
pub fn set_sample(case: &mut Case, actor: &str, percent: u8) -> super::Result<()> {
    users::authorize(
        case,
        actor,
        Right::Review,
        &format!("review sample {percent}"),
    )?;
    if percent > 100 {
        return Err(CaseError::Invalid(format!(
            "{percent}: a sample is 0 to 100 percent"
        )));
    }
    case.write(|tx| {
        let old: Option<String> = tx
            .query_row(
                "SELECT value FROM case_info WHERE key = 'review_sample_pct'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO case_info(key, value) VALUES ('review_sample_pct', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [percent.to_string()],
        )?;
        let mut chain = Chain::load(tx)?;
        chain.append(
            tx,
            &Event::case(
                actor,
                "review.sample",
                json!({ "old": old.and_then(|o| o.parse::<u8>().ok()), "new": percent }),
            ),
        )?;
        Ok(())
    })
}

pub fn sample_percent(db: &impl crate::store::Db) -> rusqlite::Result<u8> {
    let conn = crate::store::conn_of(db);
    Ok(conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM case_info WHERE key = 'review_sample_pct'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0)
        .clamp(0, 100) as u8)
}

/// One reviewer's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewerStats {
    pub login: String,
    /// Distinct items the reviewer marked triaged or escalated.
    pub triaged: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Items per hour over the span from the first to the last decision (at least a minute).
    pub per_hour: Option<f64>,
    /// Of the reviewer's decisions, how many a lead reviewed, and how many were overturned.
    pub reviewed: u64,
    pub overturned: u64,
    pub overturn_rate: Option<f64>,
}

pub fn stats(db: &impl crate::store::Db) -> rusqlite::Result<Vec<ReviewerStats>> {
    let conn = crate::store::conn_of(db);
    let mut st = conn.prepare(
        "SELECT actor, count(DISTINCT item_id), min(at), max(at) FROM audit
         WHERE event = 'status.set' AND json_extract(details, '$.new') IN ('triaged', 'escalated')
         GROUP BY actor ORDER BY actor",
    )?;
    let mut out: Vec<ReviewerStats> = st
        .query_map([], |r| {
            Ok(ReviewerStats {
                login: r.get(0)?,
                triaged: r.get::<_, i64>(1)? as u64,
                first: r.get(2)?,
                last: r.get(3)?,
                per_hour: None,
                reviewed: 0,
                overturned: 0,
                overturn_rate: None,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare(
        "SELECT decided_by, count(*), sum(outcome = 'overturned') FROM reviews GROUP BY decided_by",
    )?;
    let reviews: Vec<(String, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (login, n, over) in reviews {
        let i = match out.iter().position(|s| s.login == login) {
            Some(i) => i,
            None => {
                out.push(ReviewerStats {
                    login,
                    triaged: 0,
                    first: None,
                    last: None,
                    per_hour: None,
                    reviewed: 0,
                    overturned: 0,
                    overturn_rate: None,
                });
                out.len() - 1
            }
        };
        out[i].reviewed = n as u64;
        out[i].overturned = over as u64;
        out[i].overturn_rate = (n > 0).then(|| over as f64 / n as f64);
    }
    for s in &mut out {
        if let (Some(a), Some(b)) = (&s.first, &s.last) {
            let secs = match (
                chrono::DateTime::parse_from_rfc3339(a),
                chrono::DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(a), Ok(b)) => (b - a).num_milliseconds() as f64 / 1000.0,
                _ => 0.0,
            };
            s.per_hour = Some(s.triaged as f64 / (secs.max(60.0) / 3600.0));
        }
    }
    out.sort_by(|a, b| a.login.cmp(&b.login));
    Ok(out)
}
