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

/// A fingerprinted image: what `triage dups` compares.
#[derive(Debug, Clone)]
pub struct Printed {
    pub id: i64,
    pub sha256: String,
    pub fingerprint: Fingerprint,
    /// Width and height as displayed (EXIF orientation applied), when the header gave them.
    pub size: Option<(u32, u32)>,
    pub orientation: Option<u16>,
}

/// Every fingerprint, by item id, with the image's size and orientation.
pub fn fingerprints(conn: &Connection) -> rusqlite::Result<Vec<Printed>> {
    let mut stmt = conn.prepare(
        "SELECT f.item_id, i.sha256, f.dhash, f.phash,
                json_extract(i.metadata, '$.image.width'),
                json_extract(i.metadata, '$.image.height'),
                json_extract(i.metadata, '$.exif.orientation')
           FROM fingerprints f JOIN items i ON i.id = f.item_id
          ORDER BY f.item_id",
    )?;
    let rows = stmt.query_map([], |r| {
        let dim = |i| -> Option<u32> {
            r.get::<_, Option<i64>>(i)
                .ok()
                .flatten()
                .and_then(|v| u32::try_from(v).ok())
        };
        let orientation = dim(6).and_then(|o| u16::try_from(o).ok());
        let size = match (dim(4), dim(5)) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some(match orientation {
                Some(5..=8) => (h, w),
                _ => (w, h),
            }),
            _ => None,
        };
        Ok(Printed {
            id: r.get(0)?,
            sha256: r.get(1)?,
            fingerprint: Fingerprint::from_sql(r.get(2)?, r.get(3)?),
            size,
            orientation,
        })
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

/// Replace the recorded similar-image groups (derived data, what `dup:similar` filters on):
/// each member keyed to the smallest id of its group.
pub fn record_similar_groups(tx: &Transaction, groups: &[Vec<i64>]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM similar_members", [])?;
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO similar_members(item_id, group_id) VALUES (?1, ?2)",
    )?;
    for g in groups {
        let Some(&leader) = g.iter().min() else {
            continue;
        };
        for &id in g {
            st.execute((id, leader))?;
        }
    }
    Ok(())
}
