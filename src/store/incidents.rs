//! Incidents: the events items document (`I-0001`), their links to items, and what reads them —
//! the picker's recent incidents, an item's incidents, an incident's items with how well they
//! corroborate it, and suggestions (items whose capture time and position fall within an
//! incident's window and radius, or similar copies of an item already linked). Changes go
//! through `changes::apply` like every decision.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::Db;

pub const STATUSES: &[&str] = &["open", "corroborated", "closed"];

/// What a reviewer records about an incident (the audit entries carry it whole).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Record {
    pub title: String,
    /// First and last day (`YYYY-MM-DD`, inclusive); one day when equal.
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub place: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_m: Option<f64>,
    pub description: String,
    pub crimes: Vec<String>,
    pub parties: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: i64,
    pub record: Record,
    pub created_by: String,
    pub created_at: String,
    /// Items linked to it.
    pub items: u64,
}

/// `I-0001`.
pub fn reference(id: i64) -> String {
    format!("I-{id:04}")
}

/// `I-0001`, `i-1` or `1`.
pub fn parse_reference(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t
        .strip_prefix("I-")
        .or_else(|| t.strip_prefix("i-"))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n: &i64| n > 0)
}

const COLUMNS: &str = "i.id, i.title, i.date_from, i.date_to, i.place, i.lat, i.lon, i.radius_m,
     i.description, i.crimes, i.parties, i.status, i.created_by, i.created_at,
     (SELECT count(*) FROM incident_links l WHERE l.incident_id = i.id)";

fn from_row(r: &Row) -> rusqlite::Result<Incident> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(Incident {
        id: r.get(0)?,
        record: Record {
            title: r.get(1)?,
            date_from: r.get(2)?,
            date_to: r.get(3)?,
            place: r.get(4)?,
            lat: r.get(5)?,
            lon: r.get(6)?,
            radius_m: r.get(7)?,
            description: r.get(8)?,
            crimes: list(r.get(9)?),
            parties: list(r.get(10)?),
            status: r.get(11)?,
        },
        created_by: r.get(12)?,
        created_at: r.get(13)?,
        items: r.get::<_, i64>(14)? as u64,
    })
}

pub fn get(db: &impl Db, id: i64) -> rusqlite::Result<Option<Incident>> {
    super::conn_of(db)
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM incidents i WHERE i.id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()
}

/// Every incident, oldest first.
pub fn list(db: &impl Db) -> rusqlite::Result<Vec<Incident>> {
    super::conn_of(db)
        .prepare_cached(&format!("SELECT {COLUMNS} FROM incidents i ORDER BY i.id"))?
        .query_map([], from_row)?
        .collect()
}

/// The record as the change code reads it inside a write (no item count needed there).
pub(super) fn record_in(tx: &rusqlite::Transaction, id: i64) -> rusqlite::Result<Option<Record>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM incidents i WHERE i.id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()?
        .map(|i| i.record))
}

/// Write a record's fields into its row (the row exists: `changes` inserted it).
pub(super) fn write_record(
    tx: &rusqlite::Transaction,
    id: i64,
    r: &Record,
    actor: &str,
    now: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE incidents SET title = ?2, date_from = ?3, date_to = ?4, place = ?5, lat = ?6,
             lon = ?7, radius_m = ?8, description = ?9, crimes = ?10, parties = ?11,
             status = ?12,
             created_by = CASE created_by WHEN '' THEN ?13 ELSE created_by END,
             created_at = CASE created_at WHEN '' THEN ?14 ELSE created_at END
         WHERE id = ?1",
    )?
    .execute(rusqlite::params![
        id,
        r.title,
        r.date_from,
        r.date_to,
        r.place,
        r.lat,
        r.lon,
        r.radius_m,
        r.description,
        serde_json::to_string(&r.crimes).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&r.parties).unwrap_or_else(|_| "[]".into()),
        r.status,
        actor,
        now,
    ])?;
    Ok(())
}

/// A new, empty row: its id is the new reference (never reused: AUTOINCREMENT).
pub(super) fn insert_placeholder(tx: &rusqlite::Transaction) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO incidents(title, created_by, created_at) VALUES ('', '', '')",
        [],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(super) fn delete(tx: &rusqlite::Transaction, id: i64) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM recent_incidents WHERE incident_id = ?1", [id])?;
    tx.execute("DELETE FROM incidents WHERE id = ?1", [id])?;
    Ok(())
}

pub(super) fn is_linked(
    tx: &rusqlite::Transaction,
    item: i64,
    incident: i64,
) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM incident_links WHERE item_id = ?1 AND incident_id = ?2")?
        .exists((item, incident))
}

pub(super) fn set_link(
    tx: &rusqlite::Transaction,
    item: i64,
    incident: i64,
    on: bool,
    actor: &str,
    now: &str,
) -> rusqlite::Result<()> {
    if on {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO incident_links(item_id, incident_id, linked_by, linked_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((item, incident, actor, now))?;
    } else {
        tx.prepare_cached("DELETE FROM incident_links WHERE item_id = ?1 AND incident_id = ?2")?
            .execute((item, incident))?;
    }
    Ok(())
}

/// The items linked to an incident, by id.
pub fn items_of(db: &impl Db, incident: i64) -> rusqlite::Result<Vec<i64>> {
    super::conn_of(db)
        .prepare_cached(
            "SELECT item_id FROM incident_links WHERE incident_id = ?1 ORDER BY item_id",
        )?
        .query_map([incident], |r| r.get(0))?
        .collect()
}

pub(super) fn items_in(tx: &rusqlite::Transaction, incident: i64) -> rusqlite::Result<Vec<i64>> {
    tx.prepare_cached("SELECT item_id FROM incident_links WHERE incident_id = ?1 ORDER BY item_id")?
        .query_map([incident], |r| r.get(0))?
        .collect()
}

/// An incident an item is linked to, with how well its items corroborate it.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    pub id: i64,
    pub title: String,
    pub corroboration: Corroboration,
}

/// An item's incidents, by reference.
pub fn of_item(db: &impl Db, item: i64) -> rusqlite::Result<Vec<Linked>> {
    let found: Vec<(i64, String)> = super::conn_of(db)
        .prepare_cached(
            "SELECT i.id, i.title FROM incident_links l JOIN incidents i ON i.id = l.incident_id
             WHERE l.item_id = ?1 ORDER BY i.id",
        )?
        .query_map([item], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    found
        .into_iter()
        .map(|(id, title)| {
            Ok(Linked {
                id,
                title,
                corroboration: corroboration(db, id)?,
            })
        })
        .collect()
}

/// Remember the incidents a reviewer linked to, for the picker's recent list.
pub(super) fn touch_recent(
    tx: &rusqlite::Transaction,
    actor: &str,
    incident: i64,
) -> rusqlite::Result<()> {
    let base: i64 = tx.query_row(
        "SELECT coalesce(max(used_at), 0) FROM recent_incidents WHERE actor = ?1",
        [actor],
        |r| r.get(0),
    )?;
    tx.prepare_cached(
        "INSERT INTO recent_incidents(actor, incident_id, used_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(actor, incident_id) DO UPDATE SET used_at = excluded.used_at",
    )?
    .execute((actor, incident, base + 1))?;
    Ok(())
}

/// The actor's most recently used incidents, newest first.
pub fn recent(db: &impl Db, actor: &str, n: usize) -> rusqlite::Result<Vec<i64>> {
    super::conn_of(db)
        .prepare_cached(
            "SELECT incident_id FROM recent_incidents WHERE actor = ?1
             ORDER BY used_at DESC LIMIT ?2",
        )?
        .query_map((actor, n as i64), |r| r.get(0))?
        .collect()
}

/// How well an incident's items corroborate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Corroboration {
    pub items: u64,
    /// Distinct providers that sent any of its items.
    pub providers: u64,
    /// Independent captures: similar copies of one picture count once (an item in no
    /// similar-image group is its own capture; exact copies are one item already).
    pub captures: u64,
}

pub fn corroboration(db: &impl Db, incident: i64) -> rusqlite::Result<Corroboration> {
    super::conn_of(db)
        .prepare_cached(
            "SELECT count(*),
                    (SELECT count(DISTINCT p.source) FROM provenance p
                      JOIN incident_links l2 ON l2.item_id = p.item_id
                     WHERE l2.incident_id = ?1),
                    count(DISTINCT coalesce('g' || s.grp, 'i' || l.item_id))
               FROM incident_links l LEFT JOIN similar s ON s.item_id = l.item_id
              WHERE l.incident_id = ?1",
        )?
        .query_row([incident], |r| {
            Ok(Corroboration {
                items: r.get::<_, i64>(0)? as u64,
                providers: r.get::<_, i64>(1)? as u64,
                captures: r.get::<_, i64>(2)? as u64,
            })
        })
}

/// Why an item is suggested for an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Reason {
    /// Captured within the incident's dates, within its radius.
    TimeAndPlace,
    /// A similar copy of an item already linked.
    Similar { of: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub incident: i64,
    pub item: i64,
    #[serde(flatten)]
    pub reason: Reason,
}

/// The window-and-radius test on an incident `i` and an item whose position is `g` (a row of
/// `item_geo`) and capture time `it.captured_at`; one text for both directions.
const WITHIN: &str = "i.lat IS NOT NULL AND i.lon IS NOT NULL AND i.radius_m IS NOT NULL
     AND i.date_from IS NOT NULL
     AND it.captured_at >= i.date_from
     AND it.captured_at < coalesce(i.date_to, i.date_from) || char(65535)
     AND geo_km(g.lat, g.lon, i.lat, i.lon) * 1000 <= i.radius_m";

/// Incidents suggested for an item (not linked yet), time-and-place first.
pub fn suggested_for_item(db: &impl Db, item: i64) -> rusqlite::Result<Vec<Suggestion>> {
    let conn = super::conn_of(db);
    let mut out: Vec<Suggestion> = conn
        .prepare_cached(&format!(
            "SELECT i.id FROM items it JOIN item_geo g ON g.item_id = it.id, incidents i
              WHERE it.id = ?1 AND {WITHIN}
                AND NOT EXISTS (SELECT 1 FROM incident_links l
                                 WHERE l.item_id = it.id AND l.incident_id = i.id)
              ORDER BY i.id"
        ))?
        .query_map([item], |r| {
            Ok(Suggestion {
                incident: r.get(0)?,
                item,
                reason: Reason::TimeAndPlace,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let similar: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT l.incident_id, min(l.item_id) FROM similar me
               JOIN similar s ON s.grp = me.grp AND s.item_id <> me.item_id
               JOIN incident_links l ON l.item_id = s.item_id
              WHERE me.item_id = ?1
                AND NOT EXISTS (SELECT 1 FROM incident_links m
                                 WHERE m.item_id = ?1 AND m.incident_id = l.incident_id)
              GROUP BY l.incident_id ORDER BY l.incident_id",
        )?
        .query_map([item], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (incident, of) in similar {
        if !out.iter().any(|s| s.incident == incident) {
            out.push(Suggestion {
                incident,
                item,
                reason: Reason::Similar { of },
            });
        }
    }
    Ok(out)
}

/// Items suggested for an incident (not linked yet), by id.
pub fn suggested_items(db: &impl Db, incident: i64) -> rusqlite::Result<Vec<Suggestion>> {
    let conn = super::conn_of(db);
    let Some(inc) = get(db, incident)? else {
        return Ok(vec![]);
    };
    let mut out: Vec<Suggestion> = Vec::new();
    if let (Some(lat), Some(lon), Some(r)) = (inc.record.lat, inc.record.lon, inc.record.radius_m) {
        // A bounding box the geo index answers first, then the exact test.
        let km = r / 1000.0;
        let dlat = km / 111.19;
        let dlon = km / (111.19 * lat.to_radians().cos().max(0.01));
        let mut st = conn.prepare_cached(&format!(
            "SELECT it.id FROM incidents i, item_geo g JOIN items it ON it.id = g.item_id
              WHERE i.id = ?1 AND g.lat BETWEEN ?2 AND ?3 AND g.lon BETWEEN ?4 AND ?5
                AND {WITHIN}
                AND NOT EXISTS (SELECT 1 FROM incident_links l
                                 WHERE l.item_id = it.id AND l.incident_id = i.id)
              ORDER BY it.id"
        ))?;
        let rows = st.query_map(
            rusqlite::params![incident, lat - dlat, lat + dlat, lon - dlon, lon + dlon],
            |r| r.get::<_, i64>(0),
        )?;
        for item in rows {
            out.push(Suggestion {
                incident,
                item: item?,
                reason: Reason::TimeAndPlace,
            });
        }
    }
    let similar: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT s.item_id, min(me.item_id) FROM incident_links l
               JOIN similar me ON me.item_id = l.item_id
               JOIN similar s ON s.grp = me.grp
              WHERE l.incident_id = ?1
                AND NOT EXISTS (SELECT 1 FROM incident_links m
                                 WHERE m.item_id = s.item_id AND m.incident_id = ?1)
              GROUP BY s.item_id ORDER BY s.item_id",
        )?
        .query_map([incident], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (item, of) in similar {
        if !out.iter().any(|s| s.item == item) {
            out.push(Suggestion {
                incident,
                item,
                reason: Reason::Similar { of },
            });
        }
    }
    out.sort_by_key(|s| s.item);
    Ok(out)
}

/// Check a record before it is written: a title, a known status, dates, coordinates and a
/// radius that mean something. Term ids are checked by the caller against the taxonomy.
pub fn check(r: &Record) -> Result<(), String> {
    if r.title.trim().is_empty() {
        return Err("an incident needs a title".into());
    }
    if !STATUSES.contains(&r.status.as_str()) {
        return Err(format!(
            "unknown incident status {:?}; expected open, corroborated or closed",
            r.status
        ));
    }
    for d in [&r.date_from, &r.date_to].into_iter().flatten() {
        if !is_date(d) {
            return Err(format!("`{d}` is not a date (YYYY-MM-DD)"));
        }
    }
    if r.date_to.is_some() && r.date_from.is_none() {
        return Err("an end date needs a start date".into());
    }
    if let (Some(a), Some(b)) = (&r.date_from, &r.date_to) {
        if b < a {
            return Err(format!("the dates {a}..{b} end before they start"));
        }
    }
    match (r.lat, r.lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(format!("{lat},{lon} is not a position on Earth"));
            }
        }
        (None, None) => {
            if r.radius_m.is_some() {
                return Err("a radius needs a position (--at LAT,LON)".into());
            }
        }
        _ => return Err("a position needs both latitude and longitude".into()),
    }
    if let Some(m) = r.radius_m {
        if !(m.is_finite() && m > 0.0) {
            return Err(format!("a radius of {m} m means nothing"));
        }
    }
    Ok(())
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// `2013-08-21` or `2013-08-01..2013-08-31`.
pub fn parse_dates(s: &str) -> Result<(String, Option<String>), String> {
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (s.trim(), None),
    };
    for d in std::iter::once(a).chain(b) {
        if !is_date(d) {
            return Err(format!("`{d}` is not a date (YYYY-MM-DD)"));
        }
    }
    Ok((a.to_string(), b.filter(|b| *b != a).map(str::to_string)))
}

/// `LAT,LON` or `LAT,LON,METRES`.
pub fn parse_position(s: &str) -> Result<(f64, f64, Option<f64>), String> {
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{s}`: expected LAT,LON or LAT,LON,METRES"))?;
    match parts[..] {
        [lat, lon] => Ok((lat, lon, None)),
        [lat, lon, m] => Ok((lat, lon, Some(m))),
        _ => Err(format!("`{s}`: expected LAT,LON or LAT,LON,METRES")),
    }
}

/// The dates as one text: `2013-08-21` or `2013-08-01..2013-08-31`.
pub fn dates_text(r: &Record) -> String {
    match (&r.date_from, &r.date_to) {
        (Some(a), Some(b)) => format!("{a}..{b}"),
        (Some(a), None) => a.clone(),
        _ => String::new(),
    }
}

/// An incident another case sent (`import`), kept as its claim until merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    pub id: i64,
    pub sending_case: String,
    pub original_ref: String,
    pub record: Record,
    /// The local items the bag linked to it.
    pub items: Vec<i64>,
    pub imported_by: String,
    pub imported_at: String,
    pub merged_into: Option<i64>,
    pub merged_by: Option<String>,
}

/// A sender's incident as a bag carries it, its items already matched to local ones.
pub struct Sent<'a> {
    pub sending_case: &'a str,
    pub original_ref: &'a str,
    pub record: &'a Record,
    pub items: &'a [i64],
}

/// Record a sender's incident with an import, with its audit entry: the claim as received,
/// never a local incident.
pub fn record_imported(
    tx: &rusqlite::Transaction,
    chain: &mut super::audit::Chain,
    batch: i64,
    actor: &str,
    sent: &Sent,
) -> rusqlite::Result<i64> {
    let Sent {
        sending_case,
        original_ref,
        record,
        items,
    } = *sent;
    let now = crate::clock::now();
    let record_json = serde_json::to_string(record).unwrap_or_else(|_| "{}".into());
    let items_json = serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO imported_incidents(sending_case, original_ref, record, items, batch_id,
             imported_by, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            sending_case,
            original_ref,
            &record_json,
            &items_json,
            batch,
            actor,
            &now,
        ),
    )?;
    let id = tx.last_insert_rowid();
    chain.append(
        tx,
        &super::audit::Event::case(
            actor,
            "import.incident",
            serde_json::json!({
                "claim": id, "sending_case": sending_case, "original_ref": original_ref,
                "record": record, "items": items, "batch": batch,
            }),
        ),
    )?;
    Ok(id)
}

fn imported_from_row(r: &Row) -> rusqlite::Result<Imported> {
    let record: String = r.get(3)?;
    let items: String = r.get(4)?;
    Ok(Imported {
        id: r.get(0)?,
        sending_case: r.get(1)?,
        original_ref: r.get(2)?,
        record: serde_json::from_str(&record).unwrap_or_default(),
        items: serde_json::from_str(&items).unwrap_or_default(),
        imported_by: r.get(5)?,
        imported_at: r.get(6)?,
        merged_into: r.get(7)?,
        merged_by: r.get(8)?,
    })
}

const IMPORTED_COLUMNS: &str = "id, sending_case, original_ref, record, items, imported_by,
     imported_at, merged_into, merged_by";

/// Every imported incident, oldest first.
pub fn imported(db: &impl Db) -> rusqlite::Result<Vec<Imported>> {
    super::conn_of(db)
        .prepare_cached(&format!(
            "SELECT {IMPORTED_COLUMNS} FROM imported_incidents ORDER BY id"
        ))?
        .query_map([], imported_from_row)?
        .collect()
}

pub fn imported_one(db: &impl Db, id: i64) -> rusqlite::Result<Option<Imported>> {
    super::conn_of(db)
        .prepare_cached(&format!(
            "SELECT {IMPORTED_COLUMNS} FROM imported_incidents WHERE id = ?1"
        ))?
        .query_row([id], imported_from_row)
        .optional()
}

/// Mark an imported incident merged into a local one (the links themselves are made by
/// `changes::apply`, each recorded), with its audit entry.
pub fn mark_merged(
    case: &mut super::Case,
    actor: &str,
    claim: i64,
    into: i64,
) -> super::Result<()> {
    case.write(|tx| {
        tx.execute(
            "UPDATE imported_incidents SET merged_into = ?2, merged_by = ?3 WHERE id = ?1",
            (claim, into, actor),
        )?;
        let mut chain = super::audit::Chain::load(tx)?;
        chain.append(
            tx,
            &super::audit::Event::case(
                actor,
                "incident.merge",
                serde_json::json!({ "claim": claim, "into": into, "ref": reference(into) }),
            ),
        )?;
        Ok(())
    })
}
