//! Duplicates: image fingerprints (written at ingest, or afterwards by a backfill) and items
//! received more than once. Fingerprints are derived data, like thumbnails: recomputable from
//! the originals at any time, so they have no audit entries.

use rusqlite::{Connection, Transaction};

use crate::ingest::fingerprint::Fingerprint;

/// Record an item's fingerprint; an existing one is kept.
pub fn record_fingerprint(
    tx: &Transaction,
    item_id: i64,
    dhash: i64,
    phash: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO fingerprints(item_id, dhash, phash) VALUES (?1, ?2, ?3)",
    )?
    .execute((item_id, dhash, phash))?;
    Ok(())
}

/// An image item without a fingerprint.
#[derive(Debug, Clone)]
pub struct Missing {
    pub id: i64,
    pub sha256: String,
    pub orientation: Option<u16>,
}

/// Image items without a fingerprint that were never tried: ingested before fingerprints
/// existed, or imported. Items whose fingerprint failed at ingest (a `fingerprint:` warning in
/// their metadata) are left out: the same bytes would fail again.
pub fn missing_fingerprints(conn: &Connection) -> rusqlite::Result<Vec<Missing>> {
    let mut stmt = conn.prepare(
        "SELECT i.id, i.sha256, json_extract(i.metadata, '$.exif.orientation')
           FROM items i
          WHERE i.kind = 'image'
            AND NOT EXISTS (SELECT 1 FROM fingerprints f WHERE f.item_id = i.id)
            AND NOT EXISTS (SELECT 1 FROM json_each(i.metadata, '$.warnings') w
                             WHERE w.value LIKE 'fingerprint:%')
          ORDER BY i.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Missing {
            id: r.get(0)?,
            sha256: r.get(1)?,
            orientation: r
                .get::<_, Option<i64>>(2)
                .ok()
                .flatten()
                .and_then(|o| u16::try_from(o).ok()),
        })
    })?;
    rows.collect()
}

/// Every fingerprint, by item id.
pub fn fingerprints(conn: &Connection) -> rusqlite::Result<Vec<(i64, Fingerprint)>> {
    let mut stmt =
        conn.prepare("SELECT item_id, dhash, phash FROM fingerprints ORDER BY item_id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, Fingerprint::from_sql(r.get(1)?, r.get(2)?)))
    })?;
    rows.collect()
}

/// Items received more than once (the same content from several providers or paths), with
/// their number of provenance records.
pub fn received_more_than_once(conn: &Connection) -> rusqlite::Result<Vec<(i64, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT item_id, count(*) FROM provenance GROUP BY item_id HAVING count(*) > 1
          ORDER BY item_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    rows.collect()
}
