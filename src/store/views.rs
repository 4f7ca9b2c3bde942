//! Saved views: a named filter expression stored in the case. Saving, replacing and deleting
//! one are recorded in the audit log in the same transaction. A view belongs to whoever saved
//! it: only they or a lead may replace or delete it (a refusal is recorded).

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};
use super::users::{self, Right, Role};
use super::{Case, CaseError};

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

/// Save (or replace) a view as `actor`; returns the expression it replaced, if any.
pub fn save(case: &mut Case, actor: &str, name: &str, expr: &str) -> super::Result<Option<String>> {
    let role = users::authorize(case, actor, Right::Tag, &format!("view save {name}"))?;
    let outcome = case.write(|tx| {
        if let Some(owner) = foreign_owner(tx, actor, role, name)? {
            return Ok(Err(owner));
        }
        save_tx(tx, actor, name, expr).map(Ok)
    })?;
    refused_unless_owner(case, actor, "save", name, outcome)
}

/// Delete a view as `actor`; false when there was none of that name (nothing recorded).
pub fn delete(case: &mut Case, actor: &str, name: &str) -> super::Result<bool> {
    let role = users::authorize(case, actor, Right::Tag, &format!("view delete {name}"))?;
    let outcome = case.write(|tx| {
        if let Some(owner) = foreign_owner(tx, actor, role, name)? {
            return Ok(Err(owner));
        }
        delete_tx(tx, actor, name).map(Ok)
    })?;
    refused_unless_owner(case, actor, "delete", name, outcome)
}

/// The owner of view `name` when it exists, is someone else's, and `actor` is not a lead.
fn foreign_owner(
    tx: &Transaction,
    actor: &str,
    role: Role,
    name: &str,
) -> rusqlite::Result<Option<String>> {
    let owner: Option<String> = tx
        .query_row(
            "SELECT created_by FROM saved_views WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(owner.filter(|o| o != actor && role < Role::Lead))
}

/// Someone else's view: the write was rolled back; the refusal is recorded, then reported.
fn refused_unless_owner<T>(
    case: &mut Case,
    actor: &str,
    what: &str,
    name: &str,
    outcome: Result<T, String>,
) -> super::Result<T> {
    match outcome {
        Ok(v) => Ok(v),
        Err(owner) => {
            users::record_denied(
                &case.conn,
                actor,
                None,
                json!({ "right": "views", "why": "owner", "owner": owner,
                        "attempt": format!("view {what} {name}") }),
            )?;
            Err(CaseError::Denied(format!(
                "the view {} is {}'s; only they or a lead may {what} it",
                crate::text::sanitize(name),
                crate::text::sanitize(&owner)
            )))
        }
    }
}

fn save_tx(
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

fn delete_tx(tx: &Transaction, actor: &str, name: &str) -> rusqlite::Result<bool> {
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
pub fn list(db: &impl crate::store::Db) -> rusqlite::Result<Vec<SavedView>> {
    let conn = crate::store::conn_of(db);
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
