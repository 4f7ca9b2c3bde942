//! A file received beside a chat log gets the message that carried it as its metadata
//! (`metadata.chat`), with an audit entry (`chat.link`) in the same transaction.

use rusqlite::{OptionalExtension, Transaction};
use serde_json::json;

use super::audit::{Chain, Event};
use crate::model::metadata::ChatMessage;

/// The member of the container `parent_sha256` named `inner` (the first such place).
pub fn member_named(
    tx: &Transaction,
    parent_sha256: &str,
    inner: &[u8],
) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(
        "SELECT p.item_id FROM provenance p JOIN items i ON i.id = p.parent_id
         WHERE i.sha256 = ?1 AND p.inner_path = ?2 ORDER BY p.ordinal LIMIT 1",
    )?
    .query_row(rusqlite::params![parent_sha256, inner], |r| r.get(0))
    .optional()
}

/// Record `message` on `item` unless it has one already (the first log to name a file
/// links it). `true` when recorded.
pub fn link(
    tx: &Transaction,
    chain: &mut Chain,
    actor: &str,
    item: i64,
    message: &ChatMessage,
) -> rusqlite::Result<bool> {
    let value = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
    let changed = tx
        .prepare_cached(
            "UPDATE items SET metadata = json_set(metadata, '$.chat', json(?2))
             WHERE id = ?1 AND json_extract(metadata, '$.chat') IS NULL",
        )?
        .execute(rusqlite::params![item, value])?;
    if changed == 0 {
        return Ok(false);
    }
    chain.append(
        tx,
        &Event {
            actor,
            item_id: Some(item),
            event: "chat.link",
            details: json!({ "log": message.log, "sender": message.sender,
                             "sent_at": message.sent_at }),
            change_id: None,
        },
    )?;
    super::search_index::refresh(tx, item)?;
    Ok(true)
}
