//! Saved views: a named filter expression stored in the case. Saving, replacing and deleting
//! one are recorded in the audit log in the same transaction.

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedView {
    pub name: String,
    pub expr: String,
    pub created_by: String,
    pub created_at: String,
}

/// A view name: something a reviewer can type after `:save` and pick from a list.
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("a saved view needs a name".into());
    }
    if n.chars().count() > 40 {
        return Err("a view name has at most 40 characters".into());
    }
    if n.chars().any(char::is_control) {
        return Err("a view name cannot hold control characters".into());
    }
    Ok(())
}

/// Save (or replace) a view; returns the expression it replaced, if any.
pub fn save(
    tx: &Transaction,
    actor: &str,
    name: &str,
    expr: &str,
) -> rusqlite::Result<Option<String>> {
    let previous: Option<String> = tx
        .query_row(
            "SELECT expr FROM saved_views WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "INSERT INTO saved_views(name, expr, created_by, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET expr = excluded.expr,
             created_by = excluded.created_by, created_at = excluded.created_at",
        (name, expr, actor, crate::clock::now()),
    )?;
    let mut chain = Chain::load(tx)?;
    chain.append(
        tx,
        &Event::case(
            actor,
            "view.save",
            json!({ "name": name, "expr": expr, "previous": previous }),
        ),
    )?;
    Ok(previous)
}

/// Delete a view; false when there was none of that name (nothing recorded).
pub fn delete(tx: &Transaction, actor: &str, name: &str) -> rusqlite::Result<bool> {
    let expr: Option<String> = tx
        .query_row(
            "SELECT expr FROM saved_views WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    let Some(expr) = expr else {
        return Ok(false);
    };
    tx.execute("DELETE FROM saved_views WHERE name = ?1", [name])?;
    let mut chain = Chain::load(tx)?;
    chain.append(
        tx,
        &Event::case(actor, "view.delete", json!({ "name": name, "expr": expr })),
    )?;
    Ok(true)
}

/// Every saved view, by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<SavedView>> {
    let mut st = conn.prepare_cached(
        "SELECT name, expr, created_by, created_at FROM saved_views ORDER BY name",
    )?;
    let rows = st.query_map([], |r| {
        Ok(SavedView {
            name: r.get(0)?,
            expr: r.get(1)?,
            created_by: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?;
    rows.collect()
}
