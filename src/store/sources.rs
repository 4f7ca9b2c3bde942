//! Providers and their use conditions. An item carries the conditions of every provider that
//! sent it; the strictest wins.

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};

pub const KINDS: &[&str] = &["cso", "individual", "open-source", "other-body", "other"];

/// Known conditions, strictest first.
pub const CONDITIONS: &[(&str, &str)] = &[
    ("no-onward-sharing", "never shared outside the mechanism"),
    (
        "consent-required",
        "shared only after the provider consents (record it in the override reason)",
    ),
    (
        "share-with-courts",
        "shared only with courts and prosecutors (export --court)",
    ),
    (
        "identity-confidential",
        "the provider's identity is withheld from every export",
    ),
];

/// What a stored list of conditions that cannot be read stands for. Conditions fail closed: an
/// unreadable or unknown condition refuses export and withholds the provider's identity.
pub const UNREADABLE: &str = "unreadable-conditions";

/// A provider's stored conditions (a JSON array of names); `[UNREADABLE]` when it is not one.
pub fn parse_conditions(stored: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(stored).unwrap_or_else(|_| vec![UNREADABLE.to_string()])
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    pub name: String,
    pub kind: String,
    pub contact: Option<String>,
    pub conditions: Vec<String>,
    pub created_at: String,
    pub items: u64,
}

pub fn validate(kind: Option<&str>, conditions: &[String]) -> Result<(), String> {
    if let Some(k) = kind {
        if !KINDS.contains(&k) {
            return Err(format!(
                "unknown kind {k:?}; expected one of {}",
                KINDS.join(", ")
            ));
        }
    }
    for c in conditions {
        if !CONDITIONS.iter().any(|(n, _)| n == c) {
            return Err(format!(
                "unknown condition {c:?}; expected any of {}",
                CONDITIONS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Make sure a provider exists (ingest and import name providers that may be new).
pub fn ensure(
    tx: &Transaction,
    chain: &mut Chain,
    actor: &str,
    name: &str,
) -> rusqlite::Result<()> {
    let exists = tx
        .prepare_cached("SELECT 1 FROM sources WHERE name = ?1")?
        .query_row([name], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        tx.execute(
            "INSERT INTO sources(name, created_at) VALUES (?1, ?2)",
            (name, crate::clock::now()),
        )?;
        chain.append(
            tx,
            &Event::case(
                actor,
                "source.add",
                json!({ "name": name, "kind": "other", "conditions": [] }),
            ),
        )?;
    }
    Ok(())
}

/// Add or change a provider; every change is an audit event with the old and new values.
pub fn set(
    tx: &Transaction,
    actor: &str,
    name: &str,
    kind: Option<&str>,
    contact: Option<&str>,
    conditions: Option<&[String]>,
) -> rusqlite::Result<()> {
    let mut chain = Chain::load(tx)?;
    ensure(tx, &mut chain, actor, name)?;
    let old = get(tx, name)?;
    if let Some(k) = kind {
        tx.execute("UPDATE sources SET kind = ?1 WHERE name = ?2", (k, name))?;
    }
    if let Some(c) = contact {
        tx.execute("UPDATE sources SET contact = ?1 WHERE name = ?2", (c, name))?;
    }
    if let Some(c) = conditions {
        let mut c = c.to_vec();
        c.sort();
        c.dedup();
        tx.execute(
            "UPDATE sources SET conditions = ?1 WHERE name = ?2",
            (
                serde_json::to_string(&c).unwrap_or_else(|_| "[]".into()),
                name,
            ),
        )?;
    }
    let new = get(tx, name)?;
    if old != new {
        chain.append(
            tx,
            &Event::case(
                actor,
                "source.set",
                json!({ "name": name, "old": old, "new": new }),
            ),
        )?;
    }
    Ok(())
}

pub fn get(db: &impl crate::store::Db, name: &str) -> rusqlite::Result<Option<Source>> {
    let conn = crate::store::conn_of(db);
    conn.query_row(
        "SELECT s.name, s.kind, s.contact, s.conditions, s.created_at,
                (SELECT count(DISTINCT item_id) FROM provenance p WHERE p.source = s.name)
         FROM sources s WHERE s.name = ?1",
        [name],
        from_row,
    )
    .optional()
}

pub fn list(db: &impl crate::store::Db) -> rusqlite::Result<Vec<Source>> {
    let conn = crate::store::conn_of(db);
    conn.prepare(
        "SELECT s.name, s.kind, s.contact, s.conditions, s.created_at,
                (SELECT count(DISTINCT item_id) FROM provenance p WHERE p.source = s.name)
         FROM sources s ORDER BY s.name",
    )?
    .query_map([], from_row)?
    .collect()
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Source> {
    let cond: String = r.get(3)?;
    Ok(Source {
        name: r.get(0)?,
        kind: r.get(1)?,
        contact: r.get(2)?,
        conditions: parse_conditions(&cond),
        created_at: r.get(4)?,
        items: r.get::<_, i64>(5)? as u64,
    })
}

/// The conditions an item carries: the union over all its providers, strictest first.
pub fn item_conditions(db: &impl crate::store::Db, item_id: i64) -> rusqlite::Result<Vec<String>> {
    let conn = crate::store::conn_of(db);
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT s.conditions FROM provenance p JOIN sources s ON s.name = p.source
         WHERE p.item_id = ?1",
    )?;
    let sets: Vec<String> = st
        .query_map([item_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut all: Vec<String> = sets.iter().flat_map(|s| parse_conditions(s)).collect();
    all.sort_by_key(|c| {
        CONDITIONS
            .iter()
            .position(|(n, _)| n == c)
            .unwrap_or(usize::MAX)
    });
    all.dedup();
    Ok(all)
}
