//! Views and filters as SQL: the queue's views, the filter language compiled to a WHERE clause,
//! and keyset-paged windows over the result (the console never loads all rows).

use rusqlite::types::Value;
use rusqlite::Connection;

use super::items::{self, Row, ROW_COLUMNS};
use super::search_index;
use crate::filter::{Expr, Field, ParseError};
use crate::taxonomy::{Taxonomy, TermKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Untriaged,
    All,
    Mine,
    Flagged,
    Escalated,
    /// A lead's second-level review queue.
    Review,
    Source(String),
    /// An item and the images last grouped with it as the same picture.
    Similar(i64),
    /// A saved view: everything, narrowed by its saved filter (which the console sets).
    Saved(String),
    /// A container and its members, at any depth.
    Family(i64),
}

impl View {
    pub fn label(&self) -> String {
        match self {
            View::Untriaged => "untriaged".into(),
            View::All => "all".into(),
            View::Mine => "mine".into(),
            View::Flagged => "flagged".into(),
            View::Escalated => "escalated".into(),
            View::Review => "review".into(),
            View::Source(s) => format!("source {s}"),
            View::Similar(id) => format!("similar to {}", crate::store::reference(*id)),
            View::Saved(name) => format!("view {name}"),
            View::Family(id) => format!("family of {}", crate::store::reference(*id)),
        }
    }
}

/// A WHERE clause with its parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Where {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Where {
    fn and(mut self, other: Where) -> Where {
        if other.sql.is_empty() {
            return self;
        }
        if self.sql.is_empty() {
            return other;
        }
        self.sql = format!("({}) AND ({})", self.sql, other.sql);
        self.params.extend(other.params);
        self
    }
}

pub fn view_where(view: &View, me: &str) -> Where {
    let me_v = || Value::Text(me.into());
    let untriaged = format!(
        "items.status = 'untriaged' AND {}
         AND items.id NOT IN (SELECT item_id FROM assignments WHERE login <> ?)",
        super::claims::not_held_by_others_sql()
    );
    let review = super::review::queue_sql();
    let family = format!(
        "(items.id = ? OR items.id IN ({}))",
        super::families::MEMBERS_SQL
    );
    let (sql, params): (&str, Vec<Value>) = match view {
        View::All | View::Saved(_) => ("", vec![]),
        // Items others hold a claim on, or that are in someone else's batch, are skipped.
        View::Untriaged => (&untriaged, vec![me_v(), me_v()]),
        View::Review => (&review, vec![me_v()]),
        View::Escalated => ("items.status = 'escalated'", vec![]),
        View::Flagged => (
            "items.id IN (SELECT item_id FROM tags WHERE kind = 'flag')",
            vec![],
        ),
        View::Mine => (
            "(items.status_by = ? OR items.id IN (SELECT item_id FROM tags WHERE set_by = ?)
              OR items.id IN (SELECT item_id FROM assignments WHERE login = ?))",
            vec![me_v(), me_v(), me_v()],
        ),
        View::Source(s) => (
            "items.id IN (SELECT item_id FROM provenance WHERE source = ?)",
            vec![Value::Text(s.clone())],
        ),
        View::Similar(id) => (
            "(items.id = ? OR items.id IN (SELECT item_id FROM similar
                 WHERE grp = (SELECT grp FROM similar WHERE item_id = ?)))",
            vec![Value::Integer(*id), Value::Integer(*id)],
        ),
        View::Family(id) => (&family, vec![Value::Integer(*id), Value::Integer(*id)]),
    };
    Where {
        sql: sql.into(),
        params,
    }
}

/// Parse and compile a filter expression: the one road from text to SQL for the console's
/// `/`, `triage list`, `triage export` and saved views. `Ok(None)` when it is empty.
pub fn compile_filter(text: &str, tax: &Taxonomy) -> Result<Option<Where>, ParseError> {
    match crate::filter::parse(text)? {
        None => Ok(None),
        Some(expr) => filter_where(&expr, tax).map(Some),
    }
}

/// Compile a parsed filter. Term names are resolved against the taxonomy here, so that a
/// misspelt crime is an error at its position, not an empty result.
pub fn filter_where(expr: &Expr, tax: &Taxonomy) -> Result<Where, ParseError> {
    let mut w = Where::default();
    w.sql = compile(expr, tax, &mut w.params, false)?;
    Ok(w)
}

/// Items whose indexed text matches an FTS5 query (the one parameter).
const MATCH_SQL: &str = "items.id IN (SELECT rowid FROM search WHERE search MATCH ?)";

/// `narrowed`: the expression is ANDed with a full-text match, which yields the candidate
/// rows; conditions are then better probed per row than listed in full.
fn compile(
    expr: &Expr,
    tax: &Taxonomy,
    params: &mut Vec<Value>,
    narrowed: bool,
) -> Result<String, ParseError> {
    if let Some(q) = fts_query(expr) {
        params.push(Value::Text(q));
        return Ok(MATCH_SQL.into());
    }
    Ok(match expr {
        Expr::And(parts) => {
            // The free words and phrases of one AND go to the index as one query.
            let (text, rest): (Vec<&Expr>, Vec<&Expr>) =
                parts.iter().partition(|p| fts_query(p).is_some());
            let mut sqls = Vec::new();
            if !text.is_empty() {
                let q: Vec<String> = text.iter().filter_map(|p| fts_query(p)).collect();
                params.push(Value::Text(q.join(" AND ")));
                sqls.push(format!("({MATCH_SQL})"));
            }
            for p in rest {
                sqls.push(format!(
                    "({})",
                    compile(p, tax, params, narrowed || !text.is_empty())?
                ));
            }
            sqls.join(" AND ")
        }
        Expr::Or(parts) => {
            let mut sqls = Vec::new();
            for p in parts {
                sqls.push(format!("({})", compile(p, tax, params, narrowed)?));
            }
            sqls.join(" OR ")
        }
        Expr::Not(inner) => format!("NOT ({})", compile(inner, tax, params, narrowed)?),
        // Only punctuation: nothing to look up, so it narrows nothing.
        Expr::Text(_) | Expr::Phrase(_) => "1".into(),
        Expr::Field { field, value, pos } => {
            compile_field(*field, value, *pos, tax, params, narrowed)?
        }
    })
}

/// The FTS5 query for an expression made only of words and phrases (with AND and OR).
fn fts_query(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Text(w) => search_index::fts_term(w, true),
        Expr::Phrase(p) => search_index::fts_term(p, false),
        Expr::And(parts) | Expr::Or(parts) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let qs = parts.iter().map(fts_query).collect::<Option<Vec<_>>>()?;
            Some(format!("({})", qs.join(joiner)))
        }
        Expr::Not(_) | Expr::Field { .. } => None,
    }
}

fn compile_field(
    field: Field,
    value: &str,
    pos: usize,
    tax: &Taxonomy,
    params: &mut Vec<Value>,
    narrowed: bool,
) -> Result<String, ParseError> {
    let err = |message: String| ParseError { pos, message };
    Ok(match field {
        Field::Status => {
            let v = value.to_ascii_lowercase();
            if !["untriaged", "triaged", "escalated"].contains(&v.as_str()) {
                return Err(err(format!(
                    "unknown status `{value}`; expected untriaged, triaged or escalated"
                )));
            }
            params.push(Value::Text(v));
            "items.status = ?".into()
        }
        Field::Type => {
            let v = value.to_ascii_lowercase();
            if crate::ingest::detect::Kind::parse(&v).is_none() {
                return Err(err(format!(
                    "unknown type `{value}`; expected image, video, pdf, email, text, archive or other"
                )));
            }
            params.push(Value::Text(v));
            "items.kind = ?".into()
        }
        Field::Source => {
            params.push(Value::Text(crate::text::fold::fold(value)));
            // Matched against the (few) providers. Beside a full-text match, probed per
            // candidate item; otherwise the providers' items are listed through the index
            // (probing every item of a large case would take a second).
            if narrowed {
                "EXISTS (SELECT 1 FROM provenance p WHERE p.item_id = items.id AND p.source IN
                   (SELECT name FROM sources WHERE instr(tfold(name), ?) = 1))"
                    .into()
            } else {
                "items.id IN (SELECT item_id FROM provenance WHERE source IN
                   (SELECT name FROM sources WHERE instr(tfold(name), ?) = 1))"
                    .into()
            }
        }
        Field::By => {
            params.push(Value::Text(value.into()));
            params.push(Value::Text(value.into()));
            "items.status_by = ? OR items.id IN (SELECT item_id FROM tags WHERE set_by = ?)".into()
        }
        Field::Crime | Field::Party | Field::Flag => {
            let kind = match field {
                Field::Crime => TermKind::Crime,
                Field::Party => TermKind::Party,
                _ => TermKind::Flag,
            };
            let terms = tax.resolve(Some(kind), value);
            if terms.is_empty() {
                return Err(err(format!(
                    "no {} matches `{value}` (give a term id or the start of its English or Arabic label)",
                    kind.as_str()
                )));
            }
            let marks = vec!["?"; terms.len()].join(",");
            for t in terms {
                params.push(Value::Text(t.id.clone()));
            }
            format!("items.id IN (SELECT item_id FROM tags WHERE term_id IN ({marks}))")
        }
        Field::Near => {
            let (lat, lon, km) = parse_near(value).map_err(err)?;
            // A bounding box the index can answer, then the exact distance.
            let dlat = km / 111.19;
            let coslat = lat.to_radians().cos();
            let (lo_lon, hi_lon) = if coslat > 0.01 && km / (111.19 * coslat) < 180.0 {
                let d = km / (111.19 * coslat);
                (lon - d, lon + d)
            } else {
                (-180.0, 180.0)
            };
            params.extend([lat - dlat, lat + dlat, lo_lon, hi_lon, lat, lon, km].map(Value::Real));
            "items.id IN (SELECT item_id FROM item_geo WHERE lat BETWEEN ? AND ?
               AND lon BETWEEN ? AND ? AND geo_km(lat, lon, ?, ?) <= ?)"
                .into()
        }
        Field::Dup => {
            const EXACT: &str = "items.id IN (SELECT item_id FROM received_again)";
            const SIMILAR: &str = "items.id IN (SELECT item_id FROM similar)";
            match value.to_ascii_lowercase().as_str() {
                "exact" => EXACT.into(),
                "similar" => SIMILAR.into(),
                "yes" | "any" => format!("{EXACT} OR {SIMILAR}"),
                _ => {
                    return Err(err(format!(
                        "unknown dup `{value}`; expected yes (any duplicate), exact (received \
                         more than once) or similar (in a similar-image group)"
                    )))
                }
            }
        }
        Field::Family | Field::In => {
            let Some(id) = super::parse_reference(value) else {
                return Err(err(format!(
                    "`{value}` is not an item reference (T-000123)"
                )));
            };
            params.push(Value::Integer(id));
            let ids = if field == Field::Family {
                super::families::FAMILY_SQL
            } else {
                super::families::MEMBERS_SQL
            };
            format!("items.id IN ({ids})")
        }
        Field::Incident => {
            if value.eq_ignore_ascii_case("none") {
                "items.id NOT IN (SELECT item_id FROM incident_links)".into()
            } else if value.eq_ignore_ascii_case("any") {
                "items.id IN (SELECT item_id FROM incident_links)".into()
            } else {
                let Some(id) = super::incidents::parse_reference(value) else {
                    return Err(err(format!(
                        "`{value}` is not an incident reference (I-0001), none or any"
                    )));
                };
                params.push(Value::Integer(id));
                "items.id IN (SELECT item_id FROM incident_links WHERE incident_id = ?)".into()
            }
        }
        Field::Captured | Field::Received => {
            let column = if field == Field::Captured {
                "items.captured_at"
            } else {
                "items.created_at"
            };
            let (from, to) = value.split_once("..").unwrap_or((value, value));
            let mut parts = Vec::new();
            if !from.is_empty() {
                check_date(from).map_err(err)?;
                params.push(Value::Text(from.into()));
                parts.push(format!("{column} >= ?"));
            }
            if !to.is_empty() {
                check_date(to).map_err(err)?;
                // Inclusive end: everything that starts with the end date sorts below its successor.
                params.push(Value::Text(format!("{to}\u{ffff}")));
                parts.push(format!("{column} < ?"));
            }
            if parts.is_empty() {
                return Err(err(
                    "expected a date range like 2013-08-01..2013-08-31".into()
                ));
            }
            parts.join(" AND ")
        }
    })
}

/// `LAT,LON,KM`: a point in decimal degrees and a radius in kilometres.
fn parse_near(value: &str) -> Result<(f64, f64, f64), String> {
    let expected = "expected near:LAT,LON,KM like near:33.57,36.40,10";
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [lat, lon, km] = parts[..] else {
        return Err(format!("`{value}`: {expected}"));
    };
    let num = |s: &str, what: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{s}` is not a {what}; {expected}"))
    };
    let (lat, lon, km) = (
        num(lat, "latitude")?,
        num(lon, "longitude")?,
        num(km, "distance")?,
    );
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "`{value}`: latitude must be within ±90 and longitude within ±180"
        ));
    }
    if km <= 0.0 {
        return Err(format!("`{value}`: the distance must be more than 0 km"));
    }
    Ok((lat, lon, km))
}

fn check_date(s: &str) -> Result<(), String> {
    let ok = s.len() >= 4
        && s.len() <= 10
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a date; expected YYYY, YYYY-MM or YYYY-MM-DD"
        ))
    }
}

/// A view narrowed by an optional filter: the set the queue pages over.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub filter: Where,
    /// Whose view it is: items others have claimed are never "next".
    pub me: String,
}

impl Selection {
    pub fn new(view: &View, me: &str, filter: Option<Where>) -> Selection {
        let w = view_where(view, me);
        Selection {
            filter: match filter {
                Some(f) => w.and(f),
                None => w,
            },
            me: me.to_string(),
        }
    }

    fn clause(&self, extra: &str) -> String {
        match (self.filter.sql.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("WHERE {extra}"),
            (false, true) => format!("WHERE ({})", self.filter.sql),
            (false, false) => format!("WHERE ({}) AND {extra}", self.filter.sql),
        }
    }

    fn run(&self, conn: &Connection, sql: &str, extra: &[Value]) -> rusqlite::Result<Vec<Row>> {
        let mut params = self.filter.params.clone();
        params.extend_from_slice(extra);
        let mut st = conn.prepare_cached(sql)?;
        let mut rows = st
            .query_map(rusqlite::params_from_iter(params), items::row_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        items::attach_tags(conn, &mut rows)?;
        Ok(rows)
    }

    /// Up to `n` rows with id > `after` (or from the start), ascending.
    pub fn after(
        &self,
        db: &impl crate::store::Db,
        after: Option<i64>,
        n: usize,
    ) -> rusqlite::Result<Vec<Row>> {
        let conn = crate::store::conn_of(db);
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM items {} ORDER BY items.id LIMIT {n}",
            self.clause(if after.is_some() { "items.id > ?" } else { "" })
        );
        self.run(
            conn,
            &sql,
            &after.map(Value::Integer).into_iter().collect::<Vec<_>>(),
        )
    }

    /// Up to `n` rows with id >= `from`, ascending.
    pub fn from(
        &self,
        db: &impl crate::store::Db,
        from: i64,
        n: usize,
    ) -> rusqlite::Result<Vec<Row>> {
        let conn = crate::store::conn_of(db);
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM items {} ORDER BY items.id LIMIT {n}",
            self.clause("items.id >= ?")
        );
        self.run(conn, &sql, &[Value::Integer(from)])
    }

    /// Up to `n` rows with id < `before` (or from the end), returned ascending.
    pub fn before(
        &self,
        db: &impl crate::store::Db,
        before: Option<i64>,
        n: usize,
    ) -> rusqlite::Result<Vec<Row>> {
        let conn = crate::store::conn_of(db);
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM items {} ORDER BY items.id DESC LIMIT {n}",
            self.clause(if before.is_some() { "items.id < ?" } else { "" })
        );
        let mut rows = self.run(
            conn,
            &sql,
            &before.map(Value::Integer).into_iter().collect::<Vec<_>>(),
        )?;
        rows.reverse();
        Ok(rows)
    }

    /// The ids of every row of the selection that `keep` accepts, paged through in id order
    /// (for commands that act on all of them: export, assign).
    pub fn ids(
        &self,
        db: &impl crate::store::Db,
        keep: impl Fn(&Row) -> bool,
    ) -> rusqlite::Result<Vec<i64>> {
        let conn = crate::store::conn_of(db);
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let rows = self.after(conn, after, 500)?;
            let Some(last) = rows.last() else {
                return Ok(ids);
            };
            after = Some(last.id);
            ids.extend(rows.iter().filter(|r| keep(r)).map(|r| r.id));
        }
    }

    pub fn count(&self, db: &impl crate::store::Db) -> rusqlite::Result<u64> {
        let conn = crate::store::conn_of(db);
        self.count_where(conn, "", &[])
    }

    /// How many rows come before `id`: the position of a window that starts there.
    pub fn count_before(&self, db: &impl crate::store::Db, id: i64) -> rusqlite::Result<u64> {
        let conn = crate::store::conn_of(db);
        self.count_where(conn, "items.id < ?", &[Value::Integer(id)])
    }

    /// How many rows have `from <= id < to`: a position found from a known one without
    /// counting everything before it.
    pub fn count_range(
        &self,
        db: &impl crate::store::Db,
        from: i64,
        to: i64,
    ) -> rusqlite::Result<u64> {
        let conn = crate::store::conn_of(db);
        self.count_where(
            conn,
            "items.id >= ? AND items.id < ?",
            &[Value::Integer(from), Value::Integer(to)],
        )
    }

    fn count_where(
        &self,
        conn: &Connection,
        extra: &str,
        values: &[Value],
    ) -> rusqlite::Result<u64> {
        let sql = format!("SELECT count(*) FROM items {}", self.clause(extra));
        let mut params = self.filter.params.clone();
        params.extend_from_slice(values);
        conn.prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    }

    /// How many of these items are in the selection: before and after a change to them,
    /// the change's effect on the selection's count, without counting all of it again.
    pub fn count_among(&self, db: &impl crate::store::Db, ids: &[i64]) -> rusqlite::Result<u64> {
        let conn = crate::store::conn_of(db);
        self.count_where(
            conn,
            "items.id IN (SELECT value FROM json_each(?))",
            &[Value::Text(ids_json(ids))],
        )
    }

    /// The first untriaged item after `id` in this selection.
    pub fn next_untriaged(
        &self,
        db: &impl crate::store::Db,
        id: i64,
    ) -> rusqlite::Result<Option<i64>> {
        let conn = crate::store::conn_of(db);
        use rusqlite::OptionalExtension;
        let sql = format!(
            "SELECT items.id FROM items {} ORDER BY items.id LIMIT 1",
            self.clause(&format!(
                "items.id > ? AND items.status = 'untriaged' AND {}",
                super::claims::not_held_by_others_sql()
            ))
        );
        let mut params = self.filter.params.clone();
        params.push(Value::Integer(id));
        params.push(Value::Text(self.me.clone()));
        conn.prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), |r| r.get(0))
            .optional()
    }
}

/// Register `tfold(text)`, the matching fold, on a connection.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "tfold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // Received paths are bytes, not necessarily UTF-8: decoded lossily, for matching only.
            use rusqlite::types::ValueRef;
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(b) | ValueRef::Blob(b) => {
                    Some(crate::text::fold::fold(&String::from_utf8_lossy(b)))
                }
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(f) => Some(f.to_string()),
                ValueRef::Null => None,
            })
        },
    )?;
    conn.create_scalar_function(
        "geo_km",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(super::search_index::distance_km(
                ctx.get(0)?,
                ctx.get(1)?,
                ctx.get(2)?,
                ctx.get(3)?,
            ))
        },
    )
}

/// How many of these items are untriaged (see `Selection::count_among`).
pub fn untriaged_among(db: &impl crate::store::Db, ids: &[i64]) -> rusqlite::Result<u64> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached(
        "SELECT count(*) FROM items WHERE status = 'untriaged'
         AND id IN (SELECT value FROM json_each(?))",
    )?
    .query_row([ids_json(ids)], |r| r.get::<_, i64>(0))
    .map(|n| n as u64)
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

pub fn untriaged_count(db: &impl crate::store::Db) -> rusqlite::Result<u64> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached("SELECT count(*) FROM items WHERE status = 'untriaged'")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}
