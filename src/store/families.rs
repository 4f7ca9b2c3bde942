//! Families: containers and their members, as recorded in `provenance` (a member's row names
//! its parent item, its place in it and its name inside it). Reading only; members are
//! written with their arrival (`ingest_rows::record_file`).

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

/// A member's link to its parent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberLink {
    pub parent: i64,
    /// From 1, in the container's order.
    pub ordinal: u32,
    /// Its name inside the parent, as stored.
    #[serde(skip)]
    pub inner_path: Vec<u8>,
}

impl MemberLink {
    /// `T-000120/3`.
    pub fn reference(&self) -> String {
        format!("{}/{}", super::reference(self.parent), self.ordinal)
    }
}

/// Members of `parent`, in order: (ordinal, item, inner path). One row per place, however
/// many times the container arrived.
pub fn children(conn: &Connection, parent: i64) -> rusqlite::Result<Vec<(u32, i64, Vec<u8>)>> {
    let mut st = conn.prepare_cached(
        "SELECT ordinal, item_id, inner_path FROM provenance
         WHERE parent_id = ?1 GROUP BY ordinal ORDER BY ordinal",
    )?;
    let rows = st.query_map([parent], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// How many places `parent` has (its members, counting each place once).
pub fn child_count(conn: &Connection, parent: i64) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT count(DISTINCT ordinal) FROM provenance WHERE parent_id = ?1")?
        .query_row([parent], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

/// The item at place `ordinal` of `parent`.
pub fn member_at(conn: &Connection, parent: i64, ordinal: u32) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT item_id FROM provenance WHERE parent_id = ?1 AND ordinal = ?2 LIMIT 1",
    )?
    .query_row(rusqlite::params![parent, ordinal], |r| r.get(0))
    .optional()
}

/// The first parent an item was received in, if it is a member.
pub fn parent_of(db: &impl super::Db, id: i64) -> rusqlite::Result<Option<i64>> {
    super::conn_of(db)
        .prepare_cached(
            "SELECT parent_id FROM provenance WHERE item_id = ?1 AND parent_id IS NOT NULL
         ORDER BY id LIMIT 1",
        )?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// The ids of the families an item (the one parameter) belongs to: the item, every container
/// above it, and every member below each of those (the whole family, from the top). UNION
/// visits each id once, so the same content inside itself cannot loop.
pub const FAMILY_SQL: &str = "WITH RECURSIVE up(id) AS (
         SELECT ?
         UNION SELECT p.parent_id FROM provenance p JOIN up ON p.item_id = up.id
               WHERE p.parent_id IS NOT NULL),
     down(id) AS (
         SELECT id FROM up
         UNION SELECT p.item_id FROM provenance p JOIN down ON p.parent_id = down.id)
     SELECT id FROM down";

/// The ids of a container's members (the one parameter), at any depth.
pub const MEMBERS_SQL: &str = "WITH RECURSIVE down(id) AS (
         SELECT item_id FROM provenance WHERE parent_id = ?
         UNION SELECT p.item_id FROM provenance p JOIN down ON p.parent_id = down.id)
     SELECT id FROM down";

/// The whole family `id` belongs to (see [`FAMILY_SQL`]), in id order.
pub fn family_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut st = conn.prepare_cached(&format!("SELECT id FROM ({FAMILY_SQL}) ORDER BY id"))?;
    let rows = st.query_map([id], |r| r.get(0))?;
    rows.collect()
}

/// `ids` with every item of their families (see [`FAMILY_SQL`]), each once, in id order: one
/// query, whatever the number of ids.
pub fn with_families(db: &impl super::Db, ids: &[i64]) -> rusqlite::Result<Vec<i64>> {
    let conn = super::conn_of(db);
    let seed = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "SELECT id FROM ({}) ORDER BY id",
        FAMILY_SQL.replacen("SELECT ?", "SELECT value FROM json_each(?)", 1)
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map([seed], |r| r.get(0))?;
    rows.collect()
}

/// A member's address: `T-000120/3` (the third member of T-000120) or a path ending in
/// `container!/inner/path` (`upload.zip!/DCIM/IMG_0001.jpg`). `None` when `key` is neither
/// form (the caller tries the others).
pub fn find(conn: &Connection, key: &str) -> Option<Result<i64, String>> {
    if let Some((parent, n)) = key.rsplit_once('/') {
        if let (Some(parent), Ok(n)) = (super::parse_reference(parent), n.parse::<u32>()) {
            if !key.contains('!') {
                return Some(match member_at(conn, parent, n) {
                    Ok(Some(id)) => Ok(id),
                    Ok(None) => Err(format!("{key}: no such member")),
                    Err(e) => Err(e.to_string()),
                });
            }
        }
    }
    if !key.contains("!/") {
        return None;
    }
    Some(
        by_path(conn, key.as_bytes()).and_then(|ids| match ids.as_slice() {
            [id] => Ok(*id),
            [] => Err(format!("{key}: no such member")),
            _ => Err(format!(
                "{key}: several members have that path; give more of it or a reference"
            )),
        }),
    )
}

/// Members whose recorded path is `path` or ends in `/path` (distinct items, at most two).
fn by_path(conn: &Connection, path: &[u8]) -> Result<Vec<i64>, String> {
    let mut tail = b"/".to_vec();
    tail.extend_from_slice(path);
    let mut st = conn
        .prepare_cached(
            "SELECT DISTINCT item_id FROM provenance
             WHERE parent_id IS NOT NULL
               AND (path = ?1 OR substr(path, -length(?2)) = ?2)
             LIMIT 2",
        )
        .map_err(|e| e.to_string())?;
    let rows = st
        .query_map(rusqlite::params![path, tail], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    rows.collect::<rusqlite::Result<Vec<i64>>>()
        .map_err(|e| e.to_string())
}
