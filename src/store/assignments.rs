//! Batches of items a lead assigns to a reviewer. Assigned items appear in the reviewer's
//! "mine" view, and other reviewers' untriaged views skip them.

use serde_json::json;

use super::audit::{Chain, Event};
use super::users::{self, Right};
use super::{Case, CaseError};

/// Assign the untriaged items among `items` to `to` in batch `batch`; returns how many.
pub fn assign(
    case: &mut Case,
    actor: &str,
    to: &str,
    batch: &str,
    items: &[i64],
    filter: &str,
) -> super::Result<u64> {
    users::authorize(
        case,
        actor,
        Right::Assign,
        &format!("assign --filter {filter:?} --to {to}"),
    )?;
    match users::get(&case.conn, to)? {
        Some(u) if !u.disabled => {}
        Some(_) => return Err(CaseError::Invalid(format!("{to} is disabled in this case"))),
        None => {
            return Err(CaseError::Invalid(format!(
                "{to} is not a member of this case; add them with `triage user add`"
            )))
        }
    }
    if batch.trim().is_empty() {
        return Err(CaseError::Invalid("a batch needs a name".into()));
    }
    case.write(|tx| {
        let now = crate::clock::now();
        let mut done = Vec::new();
        for &item in items {
            let n = tx
                .prepare_cached(
                    "INSERT INTO assignments(item_id, login, batch, assigned_by, assigned_at)
                     SELECT id, ?2, ?3, ?4, ?5 FROM items WHERE id = ?1 AND status = 'untriaged'
                     ON CONFLICT(item_id) DO UPDATE SET login = excluded.login,
                        batch = excluded.batch, assigned_by = excluded.assigned_by,
                        assigned_at = excluded.assigned_at",
                )?
                .execute((item, to, batch, actor, &now))?;
            if n > 0 {
                done.push(item);
            }
        }
        let mut chain = Chain::load(tx)?;
        chain.append(
            tx,
            &Event::case(
                actor,
                "assign",
                json!({ "to": to, "batch": batch, "filter": filter, "count": done.len(), "items": done }),
            ),
        )?;
        Ok(done.len() as u64)
    })
}

/// A reviewer's batches: name, items done (not untriaged any more), items in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub batch: String,
    pub done: u64,
    pub total: u64,
}

pub fn progress(db: &impl crate::store::Db, login: &str) -> rusqlite::Result<Vec<Progress>> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached(
        "SELECT a.batch, sum(i.status <> 'untriaged'), count(*), max(a.assigned_at) AS latest
         FROM assignments a JOIN items i ON i.id = a.item_id
         WHERE a.login = ?1 GROUP BY a.batch ORDER BY latest DESC",
    )?
    .query_map([login], |r| {
        Ok(Progress {
            batch: r.get(0)?,
            done: r.get::<_, i64>(1)? as u64,
            total: r.get::<_, i64>(2)? as u64,
        })
    })?
    .collect()
}
