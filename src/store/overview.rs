//! The overview screen's counts for the whole case: each one a GROUP BY in SQL, so that a
//! million-item case answers in one pass per table and the console holds only the totals.

use rusqlite::Connection;

use crate::taxonomy::{Taxonomy, TermKind};

/// GPS positions are counted per cell of this many degrees (about 11 km north-south): the
/// map needs no finer detail, and a case holds at most a few thousand cells, not its points.
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
}

/// The category a crime is counted under when the taxonomy gives none.
pub const NO_GROUP: &str = "Other";

pub fn compute(conn: &Connection, tax: &Taxonomy) -> rusqlite::Result<Overview> {
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
    // One pass over the tag index for all three vocabularies.
    let mut st = conn.prepare_cached(
        "SELECT kind, term_id, count(*) FROM tags GROUP BY kind, term_id ORDER BY 3 DESC, 2",
    )?;
    let mut q = st.query([])?;
    while let Some(r) = q.next()? {
        let kind: String = r.get(0)?;
        let pair = (r.get::<_, String>(1)?, r.get::<_, i64>(2)? as u64);
        match TermKind::parse(&kind) {
            Some(TermKind::Crime) => ov.by_crime.push(pair),
            Some(TermKind::Party) => ov.by_party.push(pair),
            Some(TermKind::Flag) => ov.by_flag.push(pair),
            None => {}
        }
    }
    ov.by_crime_group = crime_groups(conn, tax)?;
    ov.by_source = pairs(
        conn,
        "SELECT source, count(DISTINCT item_id) FROM provenance GROUP BY source
         ORDER BY 2 DESC, 1",
        [],
    )?;
    ov.by_month = pairs(
        conn,
        "SELECT substr(captured_at, 1, 7) AS m, count(*) FROM items
         WHERE captured_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]*' GROUP BY m ORDER BY m",
        [],
    )?;
    ov.undated = total.saturating_sub(ov.by_month.iter().map(|(_, n)| n).sum());
    ov.places = places(conn)?;
    ov.located = ov.places.iter().map(|p| p.items).sum();
    Ok(ov)
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

/// Items per crime category, each item once per category. The term → category map comes
/// from the taxonomy (which the database does not hold), passed in as JSON.
fn crime_groups(conn: &Connection, tax: &Taxonomy) -> rusqlite::Result<Vec<(String, u64)>> {
    let map: serde_json::Map<String, serde_json::Value> = tax
        .of_kind(TermKind::Crime)
        .map(|t| {
            let group = t.group.clone().unwrap_or_else(|| NO_GROUP.to_string());
            (t.id.clone(), serde_json::Value::String(group))
        })
        .collect();
    let json = serde_json::Value::Object(map).to_string();
    pairs(
        conn,
        "SELECT coalesce(g.value, ?2), count(DISTINCT t.item_id)
         FROM tags t LEFT JOIN json_each(?1) g ON g.key = t.term_id
         WHERE t.kind = 'crime' GROUP BY 1 ORDER BY 2 DESC, 1",
        rusqlite::params![json, NO_GROUP],
    )
}

/// GPS cells with their item counts, the busiest first. Only rows whose metadata mentions
/// GPS are parsed as JSON: the rest cost a substring search.
fn places(conn: &Connection) -> rusqlite::Result<Vec<Place>> {
    let sql = format!(
        "SELECT round(lat / {CELL_DEGREES}) AS a, round(lon / {CELL_DEGREES}) AS o, count(*) FROM (
            SELECT json_extract(metadata, '$.exif.gps.lat') AS lat,
                   json_extract(metadata, '$.exif.gps.lon') AS lon
            FROM items WHERE instr(metadata, '\"gps\"') > 0)
         WHERE typeof(lat) IN ('real', 'integer') AND typeof(lon) IN ('real', 'integer')
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
