//! The append-only audit log. Each entry stores SHA-256(previous hash ‖ canonical bytes of the
//! entry), so changing or removing any entry breaks every hash after it.

use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub struct Event<'a> {
    pub actor: &'a str,
    pub item_id: Option<i64>,
    pub event: &'a str,
    pub details: Value,
    pub change_id: Option<i64>,
}

impl<'a> Event<'a> {
    pub fn case(actor: &'a str, event: &'a str, details: Value) -> Self {
        Event {
            actor,
            item_id: None,
            event,
            details,
            change_id: None,
        }
    }
    pub fn item(actor: &'a str, item_id: i64, event: &'a str, details: Value) -> Self {
        Event {
            actor,
            item_id: Some(item_id),
            event,
            details,
            change_id: None,
        }
    }
}

/// The head of the chain inside one write transaction. Load it after the transaction has the
/// write lock, so no other writer can append in between.
pub struct Chain {
    seq: i64,
    hash: String,
}

impl Chain {
    pub fn load(tx: &Transaction) -> rusqlite::Result<Chain> {
        let head: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, hash) = head.unwrap_or((0, GENESIS.to_string()));
        Ok(Chain { seq, hash })
    }

    pub fn append(&mut self, tx: &Transaction, ev: &Event) -> rusqlite::Result<i64> {
        let seq = self.seq + 1;
        let at = crate::clock::now();
        let details = ev.details.to_string();
        let hash = entry_hash(
            &self.hash,
            seq,
            &at,
            ev.actor,
            ev.item_id,
            ev.event,
            &details,
            ev.change_id,
        );
        tx.prepare_cached(
            "INSERT INTO audit(seq, at, actor, item_id, event, details, change_id, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(rusqlite::params![
            seq,
            at,
            ev.actor,
            ev.item_id,
            ev.event,
            details,
            ev.change_id,
            self.hash,
            hash
        ])?;
        self.seq = seq;
        self.hash = hash;
        Ok(seq)
    }
}

/// The canonical bytes are a JSON array of the entry's fields in a fixed order; serde_json
/// escapes strings deterministically, so the same entry always gives the same bytes.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor: &str,
    item_id: Option<i64>,
    event: &str,
    details: &str,
    change_id: Option<i64>,
) -> String {
    let canonical = serde_json::json!([seq, at, actor, item_id, event, details, change_id]);
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// One audit entry as read back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub item_id: Option<i64>,
    pub event: String,
    pub details: Value,
    pub change_id: Option<i64>,
    pub hash: String,
    /// The previous entry's hash; not shown, but a bag carries it so that the receiving case
    /// can recompute each entry's hash.
    #[serde(skip)]
    pub prev_hash: String,
}

pub fn for_item(db: &impl crate::store::Db, item_id: i64) -> rusqlite::Result<Vec<Entry>> {
    let conn = crate::store::conn_of(db);
    query(conn, "WHERE item_id = ?1", [item_id])
}

pub fn all(db: &impl crate::store::Db) -> rusqlite::Result<Vec<Entry>> {
    let conn = crate::store::conn_of(db);
    query(conn, "", [])
}

fn query<P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    filter: &str,
    params: P,
) -> rusqlite::Result<Vec<Entry>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT seq, at, actor, item_id, event, details, change_id, hash, prev_hash FROM audit {filter} ORDER BY seq"
    ))?;
    let rows = st.query_map(params, |r| {
        let details: String = r.get(5)?;
        Ok(Entry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            item_id: r.get(3)?,
            event: r.get(4)?,
            details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
            change_id: r.get(6)?,
            hash: r.get(7)?,
            prev_hash: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// The last entry's sequence number and hash; `None` for an empty log.
pub fn last(db: &impl crate::store::Db) -> rusqlite::Result<Option<(i64, String)>> {
    crate::store::conn_of(db)
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
}

/// The stored hash of entry `seq`, if it is still there.
pub fn hash_at(db: &impl crate::store::Db, seq: i64) -> rusqlite::Result<Option<String>> {
    crate::store::conn_of(db)
        .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
        .optional()
}
