//! Derived search data, kept in step by the store's own writes (no triggers: a trigger calling
//! `tfold()` would break any tool that opens the case without triage's functions):
//! - `search`, an FTS5 table with one row per item (rowid = item id) holding already-folded
//!   text: names (item name, providers, received paths), metadata values (EXIF, e-mail
//!   headers, PDF info, the text excerpt) and the item's live notes;
//! - `item_geo`, the GPS position of an item, for `near:`;
//! - `received_again`, the items received more than once, for `dup:exact`.
//!
//! Both can be rebuilt from the items at any time (`rebuild`), like fingerprints.

use rusqlite::Connection;

/// The folded document as the search migration (schema 6) first built it; never edited.
macro_rules! search_doc_insert_v6 {
    ($where_items:literal) => {
        concat!(
            "INSERT INTO search(rowid, names, meta, notes)
             SELECT i.id,
                tfold(i.name || ' ' || coalesce((SELECT group_concat(p.source || ' ' || p.path, ' ')
                                                   FROM provenance p WHERE p.item_id = i.id), '')),
                tfold(coalesce((SELECT group_concat(t.atom, ' ') FROM json_tree(i.metadata) t
                                 WHERE t.type = 'text'), '')),
                tfold(coalesce((SELECT group_concat(n.body, ' ') FROM notes n
                                 WHERE n.item_id = i.id AND n.retracted = 0), ''))
               FROM items i ",
            $where_items
        )
    };
}

/// The folded document of the items selected by `WHERE_ITEMS` (a clause on `i`): as
/// `search_doc_insert_v6`, with the `bag-info.txt` fields of every bag the item came in
/// among the metadata values. A macro so that every statement shares one definition.
macro_rules! search_doc_insert {
    ($where_items:literal) => {
        concat!(
            "INSERT INTO search(rowid, names, meta, notes)
             SELECT i.id,
                tfold(i.name || ' ' || coalesce((SELECT group_concat(p.source || ' ' || p.path, ' ')
                                                   FROM provenance p WHERE p.item_id = i.id), '')),
                tfold(coalesce((SELECT group_concat(t.atom, ' ') FROM json_tree(i.metadata) t
                                 WHERE t.type = 'text'), '') || ' ' ||
                      coalesce((SELECT group_concat(t.atom, ' ')
                                  FROM (SELECT DISTINCT b.fields FROM provenance p
                                          JOIN bag_info b ON b.batch_id = p.batch_id
                                         WHERE p.item_id = i.id) f, json_tree(f.fields) t
                                 WHERE t.type = 'text'), '')),
                tfold(coalesce((SELECT group_concat(n.body, ' ') FROM notes n
                                 WHERE n.item_id = i.id AND n.retracted = 0), ''))
               FROM items i ",
            $where_items
        )
    };
}

/// The GPS position recorded in an item's metadata, if it has a numeric one.
macro_rules! geo_insert {
    ($where_items:literal) => {
        concat!(
            "INSERT OR REPLACE INTO item_geo(item_id, lat, lon)
             SELECT i.id, json_extract(i.metadata, '$.exif.gps.lat'),
                    json_extract(i.metadata, '$.exif.gps.lon')
               FROM items i
              WHERE json_type(i.metadata, '$.exif.gps.lat') IN ('real', 'integer')
                AND json_type(i.metadata, '$.exif.gps.lon') IN ('real', 'integer') ",
            $where_items
        )
    };
}

/// A video's GPS position (from its container) when the item has no EXIF one.
macro_rules! video_geo_insert {
    ($where_items:literal) => {
        concat!(
            "INSERT OR IGNORE INTO item_geo(item_id, lat, lon)
             SELECT i.id, json_extract(i.metadata, '$.video.gps.lat'),
                    json_extract(i.metadata, '$.video.gps.lon')
               FROM items i
              WHERE json_type(i.metadata, '$.video.gps.lat') IN ('real', 'integer')
                AND json_type(i.metadata, '$.video.gps.lon') IN ('real', 'integer') ",
            $where_items
        )
    };
}

/// The schema migration that adds search (appended to `schema::MIGRATIONS`): the index is
/// filled from the items already in the case.
pub const MIGRATION: &str = concat!(
    "CREATE VIRTUAL TABLE search USING fts5(names, meta, notes, content = '',
         contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');\n",
    search_doc_insert_v6!(";"),
    "\nCREATE TABLE item_geo (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        lat     REAL NOT NULL,
        lon     REAL NOT NULL
    );
    CREATE INDEX item_geo_lat ON item_geo(lat, lon);\n",
    geo_insert!(";"),
    "
    CREATE TABLE received_again (item_id INTEGER PRIMARY KEY REFERENCES items(id));
    INSERT INTO received_again
        SELECT item_id FROM provenance GROUP BY item_id HAVING count(*) > 1;
    -- Date ranges (captured:, received:) without reading every item.
    CREATE INDEX items_captured ON items(captured_at);
    CREATE INDEX items_created ON items(created_at);
    ANALYZE items;
    -- Saved filter views, by name; saving and deleting one are audited changes.
    CREATE TABLE saved_views (
        name       TEXT PRIMARY KEY,
        expr       TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    "
);

/// Re-index one item after its names, provenance or notes changed. Runs inside the caller's
/// transaction, so the index never disagrees with a committed change.
pub fn refresh(conn: &Connection, item_id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
        .execute([item_id])?;
    conn.prepare_cached(search_doc_insert!("WHERE i.id = ?1"))?
        .execute([item_id])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO received_again(item_id)
         SELECT ?1 WHERE (SELECT count(*) FROM provenance WHERE item_id = ?1) > 1",
    )?
    .execute([item_id])?;
    Ok(())
}

/// `refresh` for many items at once: one statement each for the whole set. FTS5 flushes its
/// pending terms at every statement that writes to it, so an ingest that refreshed item by
/// item wrote thousands of tiny index segments per batch and spent most of its time merging
/// them.
pub fn refresh_many(conn: &Connection, items: &[i64]) -> rusqlite::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached("DELETE FROM search WHERE rowid IN (SELECT value FROM json_each(?1))")?
        .execute([&ids])?;
    conn.prepare_cached(search_doc_insert!(
        "WHERE i.id IN (SELECT value FROM json_each(?1))"
    ))?
    .execute([&ids])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO received_again(item_id)
         SELECT j.value FROM json_each(?1) j
          WHERE (SELECT count(*) FROM provenance WHERE item_id = j.value) > 1",
    )?
    .execute([&ids])?;
    Ok(())
}

/// Record a new item's GPS position, if its metadata has one.
pub fn record_geo(conn: &Connection, item_id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(geo_insert!("AND i.id = ?1"))?
        .execute([item_id])?;
    conn.prepare_cached(video_geo_insert!("AND i.id = ?1"))?
        .execute([item_id])?;
    Ok(())
}

/// Refresh the query planner's statistics of the items table, so that a filter on a narrow
/// date range is answered from the date index rather than by reading every image. Run after
/// items were added in bulk (about 0.7 s per million items).
pub fn update_statistics(db: &impl crate::store::Db) -> rusqlite::Result<()> {
    let conn = crate::store::conn_of(db);
    conn.execute_batch("PRAGMA analysis_limit = 0; ANALYZE items;")
}

/// Rebuild both from scratch (items added behind triage's back, e.g. a benchmark's clones).
pub fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(concat!(
        "DELETE FROM search; DELETE FROM item_geo; DELETE FROM received_again;\n",
        search_doc_insert!(";"),
        "\n",
        geo_insert!(";"),
        "\n",
        video_geo_insert!(";"),
        "\nINSERT INTO received_again
             SELECT item_id FROM provenance GROUP BY item_id HAVING count(*) > 1;"
    ))
}

/// Index the items from `first_id` on (rows added in bulk, e.g. a benchmark's clones).
pub fn index_from(conn: &Connection, first_id: i64) -> rusqlite::Result<()> {
    conn.execute(search_doc_insert!("WHERE i.id >= ?1"), [first_id])?;
    conn.execute(geo_insert!("AND i.id >= ?1"), [first_id])?;
    conn.execute(video_geo_insert!("AND i.id >= ?1"), [first_id])?;
    conn.execute(
        "INSERT OR IGNORE INTO received_again
         SELECT item_id FROM provenance WHERE item_id >= ?1 GROUP BY item_id HAVING count(*) > 1",
        [first_id],
    )?;
    Ok(())
}

/// Bytes used by the search index (the FTS5 table's shadow tables) and by `item_geo`.
pub fn sizes(db: &impl crate::store::Db) -> rusqlite::Result<(u64, u64)> {
    let conn = crate::store::conn_of(db);
    let size = |like: &str| -> rusqlite::Result<u64> {
        conn.query_row(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?1",
            [like],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as u64)
    };
    Ok((size("search%")?, size("item_geo%")?))
}

/// Quote a user's word or phrase for an FTS5 MATCH, folded as the index is. A word of two
/// characters or more matches as a prefix (`bomb` finds `bombing`; a single letter as a prefix
/// would match most of a case); a phrase matches its words in order.
pub fn fts_term(text: &str, prefix: bool) -> Option<String> {
    let folded = crate::text::fold::fold(text);
    // A term without letters or digits has no tokens; FTS5 would reject it.
    if !folded.chars().any(char::is_alphanumeric) {
        return None;
    }
    let quoted = format!("\"{}\"", folded.replace('"', "\"\""));
    let prefix = prefix && folded.chars().filter(|c| c.is_alphanumeric()).count() >= 2;
    Some(if prefix { format!("{quoted}*") } else { quoted })
}

/// Distance in kilometres between two points on the Earth (haversine, mean radius).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6371.0088;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_folded_and_quoted() {
        assert_eq!(fts_term("Dūmā", true).as_deref(), Some("\"duma\"*"));
        assert_eq!(
            fts_term("say \"hi\"", false).as_deref(),
            Some("\"say \"\"hi\"\"\"")
        );
        assert_eq!(fts_term("--", true), None);
        assert_eq!(fts_term("d", true).as_deref(), Some("\"d\""));
    }

    #[test]
    fn distances() {
        // Damascus to Douma is about 10 km.
        let d = distance_km(33.5138, 36.2765, 33.5711, 36.4019);
        assert!((d - 13.2).abs() < 1.0, "{d}");
        assert!(distance_km(10.0, 10.0, 10.0, 10.0) < 1e-9);
    }
}
