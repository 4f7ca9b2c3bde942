//! The overview screen's counts for the whole case: each one a GROUP BY in SQL, so that a
//! million-item case answers in one pass per table and the console holds only the totals.

use rusqlite::Connection;

use crate::taxonomy::{Taxonomy, TermKind};

/// GPS positions are counted per cell of this many degrees (about 11 km north-south): the
/// map needs no finer detail, and a case holds at most a few thousand cells, not its points.
/// (The `* 10` of GPS_CELL_LAT/LON below.)
pub const CELL_DEGREES: f64 = 0.1;
/// The most map cells kept (the busiest ones).
const MAX_CELLS: usize = 20_000;

/// Items at one GPS cell (its centre).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub lat: f64,
    pub lon: f64,
    pub items: u64,
}

/// How many items of the case fall under each heading. Term counts are by term id; an item
/// with two crimes counts once under each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub total: u64,
    pub by_status: Vec<(String, u64)>,
    /// Crime category (the taxonomy's `group`) → items with any crime of it.
    pub by_crime_group: Vec<(String, u64)>,
    pub by_crime: Vec<(String, u64)>,
    pub by_party: Vec<(String, u64)>,
    pub by_flag: Vec<(String, u64)>,
    pub by_source: Vec<(String, u64)>,
    /// `YYYY-MM` → items captured that month, ascending.
    pub by_month: Vec<(String, u64)>,
    /// Items with no (or no readable) capture date.
    pub undated: u64,
    pub places: Vec<Place>,
    /// Items with a GPS position.
    pub located: u64,
    /// Incidents: (id, title, items linked), most items first.
    pub by_incident: Vec<(i64, String, u64)>,
    /// The incidents that have a position: (lat, lon).
    pub incident_places: Vec<(f64, f64)>,
}

/// The category a crime is counted under when the taxonomy gives none.
pub const NO_GROUP: &str = "Other";

pub fn compute(db: &impl crate::store::Db, tax: &Taxonomy) -> rusqlite::Result<Overview> {
    let conn = crate::store::conn_of(db);
    let by_status = pairs(
        conn,
        "SELECT status, count(*) FROM items GROUP BY status",
        [],
    )?;
    let total = by_status.iter().map(|(_, n)| n).sum();
    let mut ov = Overview {
        total,
        by_status,
        ..Overview::default()
    };
    // By term id alone, the tag index answers without reading the table; the kind comes from
    // the taxonomy (or, for a term it no longer has, from one of its tags).
    let by_term = pairs(
        conn,
        "SELECT term_id, count(*) FROM tags GROUP BY term_id ORDER BY 2 DESC, 1",
        [],
    )?;
    for (id, n) in by_term {
        let kind = match tax.get(&id) {
            Some(t) => Some(t.kind),
            None => kind_of_unknown(conn, &id)?,
        };
        match kind {
            Some(TermKind::Crime) => ov.by_crime.push((id, n)),
            Some(TermKind::Party) => ov.by_party.push((id, n)),
            Some(TermKind::Flag) => ov.by_flag.push((id, n)),
            None => {}
        }
    }
    ov.by_crime_group = crime_groups(conn, tax, &ov.by_crime)?;
    ov.by_source = pairs(
        conn,
        "SELECT source, count(DISTINCT item_id) FROM provenance GROUP BY source
         ORDER BY 2 DESC, 1",
        [],
    )?;
    // The expression is the one indexed as items_month (schema V5): an index scan, no sort.
    ov.by_month = pairs(
        conn,
        "SELECT substr(captured_at, 1, 7), count(*) FROM items
         WHERE substr(captured_at, 1, 7) IS NOT NULL GROUP BY substr(captured_at, 1, 7)",
        [],
    )?;
    // Only dates that start YYYY-MM (a stray format is counted as undated).
    ov.by_month.retain(|(m, _)| {
        let b = m.as_bytes();
        b.len() == 7
            && b[4] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit())
    });
    ov.by_month.sort();
    ov.undated = total.saturating_sub(ov.by_month.iter().map(|(_, n)| n).sum());
    ov.places = places(conn)?;
    ov.located = ov.places.iter().map(|p| p.items).sum();
    incidents(conn, &mut ov)?;
    Ok(ov)
}

/// Items per incident (the links' index answers), and where the incidents are.
fn incidents(conn: &Connection, ov: &mut Overview) -> rusqlite::Result<()> {
    let mut st = conn.prepare(
        "SELECT i.id, i.title, (SELECT count(*) FROM incident_links l WHERE l.incident_id = i.id),
                i.lat, i.lon
           FROM incidents i ORDER BY 3 DESC, 1",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        ov.by_incident
            .push((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64));
        if let (Some(lat), Some(lon)) = (r.get::<_, Option<f64>>(3)?, r.get::<_, Option<f64>>(4)?) {
            ov.incident_places.push((lat, lon));
        }
    }
    Ok(())
}

/// The last audit entry: it changes with every change to the case (ingest, tags, status,
/// notes, sources), so counts made at the same entry still hold.
pub fn last_change(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))
}

/// The counts, made again only when the audit log has a new entry since the last time.
#[derive(Debug, Default)]
pub struct Cached(Option<(i64, Overview)>);

impl Cached {
    pub fn get(
        &mut self,
        db: &impl crate::store::Db,
        tax: &Taxonomy,
    ) -> rusqlite::Result<Overview> {
        let conn = crate::store::conn_of(db);
        let at = last_change(conn)?;
        if let Some((seq, ov)) = &self.0 {
            if *seq == at {
                return Ok(ov.clone());
            }
        }
        let ov = compute(conn, tax)?;
        self.0 = Some((at, ov.clone()));
        Ok(ov)
    }
}

fn pairs<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<Vec<(String, u64)>> {
    conn.prepare_cached(sql)?
        .query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect()
}

fn kind_of_unknown(conn: &Connection, id: &str) -> rusqlite::Result<Option<TermKind>> {
    use rusqlite::OptionalExtension;
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM tags WHERE term_id = ? LIMIT 1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(kind.as_deref().and_then(TermKind::parse))
}

/// Items per crime category, each item once per category. The term → category map comes
/// from the taxonomy (which the database does not hold), passed in as JSON; driving the join
/// from it lets the tag index find each term's items.
fn crime_groups(
    conn: &Connection,
    tax: &Taxonomy,
    by_crime: &[(String, u64)],
) -> rusqlite::Result<Vec<(String, u64)>> {
    let map: serde_json::Map<String, serde_json::Value> = by_crime
        .iter()
        .map(|(id, _)| {
            let group = tax
                .get(id)
                .and_then(|t| t.group.clone())
                .unwrap_or_else(|| NO_GROUP.to_string());
            (id.clone(), serde_json::Value::String(group))
        })
        .collect();
    let json = serde_json::Value::Object(map).to_string();
    pairs(
        conn,
        "SELECT g.value, count(DISTINCT t.item_id)
         FROM json_each(?1) g JOIN tags t ON t.term_id = g.key
         GROUP BY g.value ORDER BY 2 DESC, 1",
        [json],
    )
}

/// The GPS cell expressions, the same text as the partial index items_gps_cell (schema V5)
/// so that SQLite answers from the index: cells of a tenth of a degree.
pub const GPS_CELL_LAT: &str = "round(json_extract(metadata, '$.exif.gps.lat') * 10)";
pub const GPS_CELL_LON: &str = "round(json_extract(metadata, '$.exif.gps.lon') * 10)";
/// Rows that may hold a position, and only valid JSON: the index must never make an insert
/// fail on a row whose metadata is not JSON.
pub const GPS_ROWS: &str = "instr(metadata, '\"gps\"') > 0 AND json_valid(metadata)";

/// GPS cells with their item counts, the busiest first.
fn places(conn: &Connection) -> rusqlite::Result<Vec<Place>> {
    let sql = format!(
        "SELECT {GPS_CELL_LAT} AS a, {GPS_CELL_LON} AS o, count(*) FROM items
         WHERE {GPS_ROWS} AND a IS NOT NULL AND o IS NOT NULL
         GROUP BY a, o ORDER BY 3 DESC LIMIT {MAX_CELLS}"
    );
    conn.prepare_cached(&sql)?
        .query_map([], |r| {
            Ok(Place {
                lat: r.get::<_, f64>(0)? * CELL_DEGREES,
                lon: r.get::<_, f64>(1)? * CELL_DEGREES,
                items: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queries name the indexed expressions exactly, or SQLite scans the table.
    #[test]
    fn queries_use_the_overview_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::query::register_functions(&conn).unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let plan = |sql: &str| -> String {
            let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
        };
        let gps = plan(&format!(
            "SELECT {GPS_CELL_LAT} AS a, {GPS_CELL_LON} AS o, count(*) FROM items
             WHERE {GPS_ROWS} AND a IS NOT NULL AND o IS NOT NULL GROUP BY a, o"
        ));
        assert!(gps.contains("items_gps_cell"), "{gps}");
        let months = plan(
            "SELECT substr(captured_at, 1, 7), count(*) FROM items
             WHERE substr(captured_at, 1, 7) IS NOT NULL GROUP BY substr(captured_at, 1, 7)",
        );
        assert!(months.contains("items_month"), "{months}");
        // Metadata that is not JSON (or has no position) is stored, just not on the map.
        for (i, meta) in ["{\"exif\":{\"gps\":", "{}"].iter().enumerate() {
            conn.execute(
                "INSERT INTO items(sha256, size, mime, kind, metadata, name, first_source,
                 created_at) VALUES (?1, 1, 'x', 'other', ?2, 'n', 's', 't')",
                rusqlite::params![format!("{i}"), meta],
            )
            .unwrap();
        }
        assert!(places(&conn).unwrap().is_empty());
    }
}
