//! The previews kept for images (see `crate::ingest::kept_preview`).

use rusqlite::{OptionalExtension, Transaction};

use crate::model::preview::Kept;

/// Keep an item's preview; an existing one stays (an item is described once).
pub fn record(tx: &Transaction, item_id: i64, kept: &Kept) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO kept_previews(item_id, width, height, jpeg) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(item_id) DO NOTHING",
    )?
    .execute((item_id, kept.width, kept.height, &kept.jpeg))?;
    Ok(())
}

/// An item's kept preview, if it has one.
pub fn get(db: &impl super::Db, item_id: i64) -> rusqlite::Result<Option<Kept>> {
    super::conn_of(db)
        .prepare_cached("SELECT width, height, jpeg FROM kept_previews WHERE item_id = ?1")?
        .query_row([item_id], |r| {
            Ok(Kept {
                width: r.get(0)?,
                height: r.get(1)?,
                jpeg: r.get(2)?,
            })
        })
        .optional()
}
