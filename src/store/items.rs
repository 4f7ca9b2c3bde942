//! Reading items: rows for lists and the queue, and everything known about one item.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::model::metadata::Metadata;

/// One item as a line in a list or the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub sha256: String,
    pub size: u64,
    pub mime: String,
    pub kind: String,
    pub status: String,
    pub name: String,
    pub first_source: String,
    pub captured_at: Option<String>,
    pub created_at: String,
    /// Term ids of the item's tags, in taxonomy kind order (crimes, parties, flags).
    pub tags: Vec<(String, String)>,
}

pub const ROW_COLUMNS: &str =
    "items.id, items.sha256, items.size, items.mime, items.kind, items.status, items.name,
     items.first_source, items.captured_at, items.created_at";

pub fn row_from(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        sha256: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        mime: r.get(3)?,
        kind: r.get(4)?,
        status: r.get(5)?,
        name: r.get(6)?,
        first_source: r.get(7)?,
        captured_at: r.get(8)?,
        created_at: r.get(9)?,
        tags: Vec::new(),
    })
}

/// Fill in the tags of a set of rows with one query.
pub fn attach_tags(conn: &Connection, rows: &mut [Row]) -> rusqlite::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let sql = format!(
        "SELECT item_id, term_id, kind FROM tags WHERE item_id IN ({}) ORDER BY item_id,
         CASE kind WHEN 'crime' THEN 0 WHEN 'party' THEN 1 ELSE 2 END, set_at",
        ids.join(",")
    );
    let mut st = conn.prepare(&sql)?;
    let mut by_item: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    let mut q = st.query([])?;
    while let Some(r) = q.next()? {
        by_item
            .entry(r.get(0)?)
            .or_default()
            .push((r.get(2)?, r.get(1)?));
    }
    for row in rows {
        row.tags = by_item.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Provenance {
    pub source: String,
    #[serde(skip)]
    pub path: Vec<u8>,
    pub size: u64,
    pub mtime: Option<String>,
    pub received_at: String,
    pub received_by: String,
    pub batch: i64,
    /// Received as a member of a container: its parent and place in it.
    pub member: Option<super::families::MemberLink>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tag {
    pub term: String,
    pub kind: String,
    pub set_by: String,
    pub set_at: String,
}

/// A decision another case sent in a bag: the sender's, shown as such (never as this case's).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedClaim {
    pub term: String,
    pub kind: String,
    /// The sender's login and time, and the sending case; empty when the bag did not say.
    pub claimed_by: String,
    pub claimed_at: String,
    pub sending_case: String,
    /// The item's reference in the sending case.
    pub original_ref: String,
    pub imported_by: String,
    pub imported_at: String,
}

/// The `bag-info.txt` of a bag the item came in: provenance of the item, as the bag's maker
/// described it (labels and values as written; untrusted text).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BagInfo {
    pub batch: i64,
    pub source: String,
    /// The bag's folder as given to the import (a JSON string, or `{"b64": ...}`).
    pub bag: serde_json::Value,
    pub bagit_version: String,
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Note {
    pub id: i64,
    pub author: String,
    pub at: String,
    pub body: String,
}

/// Everything known about one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub row: Row,
    pub ext_mismatch: Option<String>,
    pub metadata: Metadata,
    pub status_by: Option<String>,
    pub status_at: Option<String>,
    pub provenance: Vec<Provenance>,
    pub tags: Vec<Tag>,
    /// Decisions other cases sent with the item (imports).
    pub claims: Vec<ImportedClaim>,
    /// The bag-info of every bag it came in (imports), by batch.
    pub bags: Vec<BagInfo>,
    pub notes: Vec<Note>,
    /// The use conditions of every provider that sent it (strictest first).
    pub conditions: Vec<String>,
    /// Its members, when it is a container (each place counted once).
    pub children: u64,
    /// The incidents it is linked to.
    pub incidents: Vec<super::incidents::Linked>,
    /// Incidents suggested for it (not linked): the suggestion and the incident's title.
    pub suggested: Vec<(super::incidents::Suggestion, String)>,
}

impl Detail {
    /// The container it was first received in, if it is a member.
    pub fn parent(&self) -> Option<&super::families::MemberLink> {
        self.provenance.iter().find_map(|p| p.member.as_ref())
    }
}

pub fn detail(db: &impl crate::store::Db, id: i64) -> rusqlite::Result<Option<Detail>> {
    let conn = crate::store::conn_of(db);
    let sql = format!(
        "SELECT {ROW_COLUMNS}, items.ext_mismatch, items.metadata, items.status_by, items.status_at
         FROM items WHERE items.id = ?1"
    );
    let head = conn
        .prepare_cached(&sql)?
        .query_row([id], |r| {
            let row = row_from(r)?;
            let meta: String = r.get(11)?;
            Ok((row, r.get(10)?, meta, r.get(12)?, r.get(13)?))
        })
        .optional()?;
    let Some((row, ext_mismatch, meta, status_by, status_at)) = head else {
        return Ok(None);
    };
    let metadata = serde_json::from_str(&meta).unwrap_or_default();
    let provenance = conn
        .prepare_cached(
            "SELECT source, path, size, mtime, received_at, received_by, batch_id,
                    parent_id, ordinal, inner_path
             FROM provenance WHERE item_id = ?1 ORDER BY id",
        )?
        .query_map([id], |r| {
            let parent: Option<i64> = r.get(7)?;
            Ok(Provenance {
                member: match parent {
                    Some(parent) => Some(super::families::MemberLink {
                        parent,
                        ordinal: r.get(8)?,
                        inner_path: r.get::<_, Option<Vec<u8>>>(9)?.unwrap_or_default(),
                    }),
                    None => None,
                },
                source: r.get(0)?,
                path: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                mtime: r.get(3)?,
                received_at: r.get(4)?,
                received_by: r.get(5)?,
                batch: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let tags = conn
        .prepare_cached(
            "SELECT term_id, kind, set_by, set_at FROM tags WHERE item_id = ?1
             ORDER BY CASE kind WHEN 'crime' THEN 0 WHEN 'party' THEN 1 ELSE 2 END, set_at",
        )?
        .query_map([id], |r| {
            Ok(Tag {
                term: r.get(0)?,
                kind: r.get(1)?,
                set_by: r.get(2)?,
                set_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let claims = conn
        .prepare_cached(
            "SELECT term_id, kind, claimed_by, claimed_at, sending_case, original_ref,
                    imported_by, imported_at
             FROM imported_claims WHERE item_id = ?1 ORDER BY id",
        )?
        .query_map([id], |r| {
            Ok(ImportedClaim {
                term: r.get(0)?,
                kind: r.get(1)?,
                claimed_by: r.get(2)?,
                claimed_at: r.get(3)?,
                sending_case: r.get(4)?,
                original_ref: r.get(5)?,
                imported_by: r.get(6)?,
                imported_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let bags = conn
        .prepare_cached(
            "SELECT b.batch_id, min(p.source), b.bag, b.bagit_version, b.fields
               FROM bag_info b JOIN provenance p ON p.batch_id = b.batch_id
              WHERE p.item_id = ?1 GROUP BY b.batch_id ORDER BY b.batch_id",
        )?
        .query_map([id], |r| {
            let bag: String = r.get(2)?;
            let fields: String = r.get(4)?;
            Ok(BagInfo {
                batch: r.get(0)?,
                source: r.get(1)?,
                bag: serde_json::from_str(&bag).unwrap_or(serde_json::Value::String(bag)),
                bagit_version: r.get(3)?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let notes = conn
        .prepare_cached(
            "SELECT id, author, created_at, body FROM notes WHERE item_id = ?1 AND retracted = 0
             ORDER BY id",
        )?
        .query_map([id], |r| {
            Ok(Note {
                id: r.get(0)?,
                author: r.get(1)?,
                at: r.get(2)?,
                body: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut rows = [row];
    attach_tags(conn, &mut rows)?;
    let [row] = rows;
    Ok(Some(Detail {
        row,
        ext_mismatch,
        metadata,
        status_by,
        status_at,
        provenance,
        tags,
        claims,
        bags,
        notes,
        conditions: super::sources::item_conditions(conn, id)?,
        children: super::families::child_count(conn, id)?,
        incidents: super::incidents::of_item(conn, id)?,
        suggested: super::incidents::suggested_for_item(conn, id)?
            .into_iter()
            .map(|s| {
                let title = super::incidents::get(conn, s.incident)
                    .ok()
                    .flatten()
                    .map(|i| i.record.title)
                    .unwrap_or_default();
                (s, title)
            })
            .collect(),
    }))
}

/// Find an item by reference (`T-000123`), by a prefix of its SHA-256 (at least 6 hex digits),
/// or as a member (`T-000120/3`, `upload.zip!/DCIM/IMG_0001.jpg`).
pub fn find(db: &impl crate::store::Db, key: &str) -> Result<i64, String> {
    let conn = crate::store::conn_of(db);
    if let Some(found) = super::families::find(conn, key) {
        return found;
    }
    if let Some(id) = super::parse_reference(key) {
        let found: Option<i64> = conn
            .query_row("SELECT id FROM items WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())?;
        if let Some(id) = found {
            return Ok(id);
        }
        if key.len() < 6 || key.starts_with(['T', 't']) {
            return Err(format!("{key}: no such item"));
        }
    }
    let hexkey = key.to_ascii_lowercase();
    if hexkey.len() < 6 || !hexkey.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{key}: not an item reference (T-000123) or a SHA-256 prefix of 6+ hex digits"
        ));
    }
    let mut st = conn
        .prepare("SELECT id FROM items WHERE sha256 >= ?1 AND sha256 < ?2 LIMIT 2")
        .map_err(|e| e.to_string())?;
    let upper = format!("{hexkey}g");
    let ids: Vec<i64> = st
        .query_map([&hexkey, &upper], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(format!("{key}: no item has that hash")),
        _ => Err(format!(
            "{key}: several items share that prefix; give more digits"
        )),
    }
}

/// The providers' names, in order. One index probe per name (a skip scan written out): a
/// plain DISTINCT reads the whole index, a row per provenance record.
pub fn sources(db: &impl crate::store::Db) -> rusqlite::Result<Vec<String>> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached(
        "WITH RECURSIVE s(source) AS (
             SELECT min(source) FROM provenance
             UNION ALL
             SELECT (SELECT min(source) FROM provenance WHERE source > s.source)
             FROM s WHERE s.source IS NOT NULL)
         SELECT source FROM s WHERE source IS NOT NULL",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// How many items the case holds.
pub fn count(db: &impl crate::store::Db) -> rusqlite::Result<i64> {
    crate::store::conn_of(db).query_row("SELECT count(*) FROM items", [], |r| r.get(0))
}

/// The highest item id so far (0 for an empty case): items above it are new since.
pub fn max_id(db: &impl crate::store::Db) -> rusqlite::Result<i64> {
    crate::store::conn_of(db).query_row("SELECT coalesce(max(id), 0) FROM items", [], |r| r.get(0))
}
