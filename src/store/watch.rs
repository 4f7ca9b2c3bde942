//! Has the case moved? `PRAGMA data_version` changes on a connection whenever another
//! connection (another process, another reviewer, or our own writer) has committed since its
//! last look: one cheap read, no table touched.

/// A number that differs from the last one read on the same connection when someone else
/// committed in between.
pub fn data_version(db: &impl crate::store::Db) -> rusqlite::Result<i64> {
    let conn = crate::store::conn_of(db);
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}
