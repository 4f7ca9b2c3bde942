//! Has the case moved? `PRAGMA data_version` changes on a connection whenever another
//! connection (another process, another reviewer, or our own writer) has committed since its
//! last look: one cheap read, no table touched.

use rusqlite::Connection;

/// A number that differs from the last one read on the same connection when someone else
/// committed in between.
pub fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}
