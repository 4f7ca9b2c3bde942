//! Duplicates: image fingerprints (written at ingest, or afterwards by a backfill) and items
//! received more than once. Fingerprints are derived data, like thumbnails: recomputable from
//! the originals at any time, so they have no audit entries.

use rusqlite::Transaction;

use crate::model::fingerprint::{Fingerprint, Thumb};

/// Record an item's fingerprint and thumbnail; an existing fingerprint is kept, a missing
/// thumbnail (cases fingerprinted before thumbnails were kept) is filled in.
pub fn record_fingerprint(
    tx: &Transaction,
    item_id: i64,
    fingerprint: Fingerprint,
    thumb: &Thumb,
) -> rusqlite::Result<()> {
    let (dhash, phash) = fingerprint.to_sql();
    tx.prepare_cached(
        "INSERT INTO fingerprints(item_id, dhash, phash, thumb) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(item_id) DO UPDATE SET thumb = excluded.thumb WHERE thumb IS NULL",
    )?
    .execute((item_id, dhash, phash, thumb.to_blob()))?;
    Ok(())
}

/// Replace the similar-image groups (each a list of item ids) in one transaction.
pub fn record_similar_groups(tx: &Transaction, groups: &[Vec<i64>]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM similar", [])?;
    let mut insert = tx.prepare_cached("INSERT INTO similar(item_id, grp) VALUES (?1, ?2)")?;
    for g in groups {
        let Some(&first) = g.first() else { continue };
        for &id in g {
            insert.execute((id, first))?;
        }
    }
    Ok(())
}

/// An image's kept thumbnail, as stored (see `Thumb::to_blob`).
pub fn thumb(db: &impl crate::store::Db, item_id: i64) -> rusqlite::Result<Option<Vec<u8>>> {
    let conn = crate::store::conn_of(db);
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT thumb FROM fingerprints WHERE item_id = ?1")?
        .query_row([item_id], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}

/// The similar-image groups kept in the case, each as its members' ids.
pub fn similar_groups(db: &impl crate::store::Db) -> rusqlite::Result<Vec<Vec<i64>>> {
    let conn = crate::store::conn_of(db);
    let mut stmt = conn.prepare("SELECT grp, item_id FROM similar ORDER BY grp, item_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    let mut groups: Vec<Vec<i64>> = Vec::new();
    let mut last = None;
    for row in rows {
        let (grp, id) = row?;
        if last != Some(grp) {
            groups.push(Vec::new());
            last = Some(grp);
        }
        if let Some(g) = groups.last_mut() {
            g.push(id);
        }
    }
    Ok(groups)
}

/// The other items in `item_id`'s similar-image group, as last computed.
pub fn similar_to(db: &impl crate::store::Db, item_id: i64) -> rusqlite::Result<Vec<i64>> {
    let conn = crate::store::conn_of(db);
    let mut stmt = conn.prepare_cached(
        "SELECT s.item_id FROM similar s
          WHERE s.grp = (SELECT grp FROM similar WHERE item_id = ?1) AND s.item_id <> ?1
          ORDER BY s.item_id",
    )?;
    let rows = stmt.query_map([item_id], |r| r.get(0))?;
    rows.collect()
}

/// An image item without a fingerprint.
#[derive(Debug, Clone)]
pub struct Unfingerprinted {
    pub id: i64,
    pub sha256: String,
    pub orientation: Option<u16>,
}

/// Image items without a fingerprint that were never tried (ingested before fingerprints
/// existed, or imported), or without a kept thumbnail. Items whose fingerprint failed at ingest (a `fingerprint:` warning in
/// their metadata) are left out: the same bytes would fail again.
pub fn missing_fingerprints(db: &impl crate::store::Db) -> rusqlite::Result<Vec<Unfingerprinted>> {
    let conn = crate::store::conn_of(db);
    let mut stmt = conn.prepare(
        "SELECT i.id, i.sha256, json_extract(i.metadata, '$.exif.orientation')
           FROM items i
          WHERE i.kind = 'image'
            AND NOT EXISTS (SELECT 1 FROM fingerprints f
                             WHERE f.item_id = i.id AND f.thumb IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM json_each(i.metadata, '$.warnings') w
                             WHERE w.value LIKE 'fingerprint:%')
          ORDER BY i.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Unfingerprinted {
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
pub struct Fingerprinted {
    pub id: i64,
    pub sha256: String,
    pub fingerprint: Fingerprint,
    /// Width and height as displayed (EXIF orientation applied), when the header gave them.
    pub size: Option<(u32, u32)>,
    pub orientation: Option<u16>,
}

/// Every fingerprint, by item id, with the image's size and orientation.
pub fn fingerprints(db: &impl crate::store::Db) -> rusqlite::Result<Vec<Fingerprinted>> {
    let conn = crate::store::conn_of(db);
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
        Ok(Fingerprinted {
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
pub fn received_more_than_once(db: &impl crate::store::Db) -> rusqlite::Result<Vec<(i64, u64)>> {
    let conn = crate::store::conn_of(db);
    let mut stmt = conn.prepare(
        "SELECT item_id, count(*) FROM provenance GROUP BY item_id HAVING count(*) > 1
          ORDER BY item_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    rows.collect()
}
