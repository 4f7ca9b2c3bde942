//! Claims: a short lease on an untriaged item a reviewer is looking at, so that two reviewers
//! never work on the same item. Other reviewers' untriaged views skip a claimed item (in the
//! query), and tagging an item claimed by someone else is refused (in `changes::apply`).
//!
//! Claims are coordination, not decisions: taking and renewing them is not written to the
//! audit log (it would log every cursor movement); a refusal because of a claim is.

use rusqlite::{Connection, OptionalExtension, Transaction};

use super::users::{self, Right};
use super::Case;

/// The default lease: renewed while the reviewer stays on the item.
pub const LEASE_SECS: i64 = 600;

/// SQLite's current time in whole seconds, as claims store it.
pub const NOW_SQL: &str = "CAST(strftime('%s', 'now') AS INTEGER)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The actor holds the item until the lease ends.
    Held,
    /// Someone else holds it.
    TakenBy(String),
    /// The item is not untriaged: nothing to claim.
    NotNeeded,
}

/// Claim (or renew the claim on) `item` for `actor`, releasing the actor's other claims: a
/// reviewer looks at one item at a time.
pub fn claim(case: &mut Case, actor: &str, item: i64, lease_secs: i64) -> super::Result<Claim> {
    users::authorize(
        case,
        actor,
        Right::Tag,
        &format!("claim {}", super::reference(item)),
    )?;
    case.write(|tx| {
        let status: Option<String> = tx
            .prepare_cached("SELECT status FROM items WHERE id = ?1")?
            .query_row([item], |r| r.get(0))
            .optional()?;
        if status.as_deref() != Some("untriaged") {
            release_tx(tx, actor)?;
            return Ok(Claim::NotNeeded);
        }
        if let Some(other) = holder(tx, item, actor)? {
            return Ok(Claim::TakenBy(other));
        }
        tx.prepare_cached("DELETE FROM claims WHERE login = ?1 AND item_id <> ?2")?
            .execute((actor, item))?;
        tx.prepare_cached(&format!(
            "INSERT INTO claims(item_id, login, claimed_at, expires_at)
             VALUES (?1, ?2, ?3, {NOW_SQL} + ?4)
             ON CONFLICT(item_id) DO UPDATE SET login = excluded.login,
                claimed_at = CASE WHEN claims.login = excluded.login THEN claims.claimed_at
                                  ELSE excluded.claimed_at END,
                expires_at = excluded.expires_at"
        ))?
        .execute((item, actor, crate::clock::now(), lease_secs))?;
        Ok(Claim::Held)
    })
}

/// Claim the first untriaged item nobody holds, in id order after `after` (a reviewer
/// working through the queue without a screen: the load test, scripts).
pub fn claim_next(
    case: &mut Case,
    actor: &str,
    after: i64,
    lease_secs: i64,
) -> super::Result<Option<i64>> {
    users::authorize(case, actor, Right::Tag, "claim next")?;
    case.write(|tx| {
        let next: Option<i64> = tx
            .prepare_cached(&format!(
                "SELECT id FROM items WHERE status = 'untriaged' AND id > ?1
                 AND id NOT IN (SELECT item_id FROM claims WHERE login <> ?2 AND expires_at > {NOW_SQL})
                 ORDER BY id LIMIT 1"
            ))?
            .query_row((after, actor), |r| r.get(0))
            .optional()?;
        let Some(item) = next else { return Ok(None) };
        tx.prepare_cached("DELETE FROM claims WHERE login = ?1 OR item_id = ?2")?
            .execute((actor, item))?;
        tx.prepare_cached(&format!(
            "INSERT INTO claims(item_id, login, claimed_at, expires_at) VALUES (?1, ?2, ?3, {NOW_SQL} + ?4)"
        ))?
        .execute((item, actor, crate::clock::now(), lease_secs))?;
        Ok(Some(item))
    })
}

/// Give up every claim of the actor (leaving the console, or an item that is not untriaged).
pub fn release_all(case: &mut Case, actor: &str) -> super::Result<()> {
    case.write(|tx| release_tx(tx, actor))
}

fn release_tx(tx: &Transaction, actor: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM claims WHERE login = ?1")?
        .execute([actor])?;
    Ok(())
}

/// Who else holds a live claim on `item`, if anyone.
pub fn holder(conn: &Connection, item: i64, actor: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(&format!(
        "SELECT login FROM claims WHERE item_id = ?1 AND login <> ?2 AND expires_at > {NOW_SQL}"
    ))?
    .query_row((item, actor), |r| r.get(0))
    .optional()
}

/// Items finished with (triaged, escalated) need no claim any more.
pub fn release_items(tx: &Transaction, items: &[i64]) -> rusqlite::Result<()> {
    for item in items {
        tx.prepare_cached("DELETE FROM claims WHERE item_id = ?1")?
            .execute([item])?;
    }
    Ok(())
}

/// The SQL condition "not held by someone other than ?" (one parameter: the actor).
pub fn not_held_by_others_sql() -> String {
    format!(
        "items.id NOT IN (SELECT item_id FROM claims WHERE login <> ? AND expires_at > {NOW_SQL})"
    )
}
