//! The rows an ingest writes: a batch, items, provenance records and problems, each with its
//! audit entry in the same transaction.

use rusqlite::{OptionalExtension, Transaction};
use serde_json::json;

use super::audit::{Chain, Event};

/// What arrived, as described on arrival (by ingest or import): the item's own columns.
#[derive(Debug, Clone, Copy)]
pub struct Described<'a> {
    pub sha256: &'a str,
    pub size: u64,
    pub mime: &'a str,
    pub kind: &'a str,
    pub ext_mismatch: Option<&'a str>,
    pub metadata_json: &'a str,
    pub captured_at: Option<&'a str>,
    pub name: &'a str,
}

/// One received file, hashed, stored and described, ready to be recorded.
pub struct ReceivedFile<'a> {
    pub item: Described<'a>,
    pub source: &'a str,
    pub path: &'a [u8],
    pub mtime: Option<&'a str>,
    pub received_at: &'a str,
    /// A member of a container: recorded with its parent and its place in it.
    pub member: Option<MemberOf<'a>>,
}

/// A member's link to its parent, as the ingest knows it (the parent by content: it is
/// recorded before its members, in the same transaction or an earlier one).
#[derive(Debug, Clone, Copy)]
pub struct MemberOf<'a> {
    pub parent_sha256: &'a str,
    pub ordinal: u32,
    pub inner_path: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new item was created.
    New(i64),
    /// The content was already in the case; a new provenance record was added.
    Duplicate(i64),
    /// This very file (same content, source and path) was recorded before, e.g. by an
    /// ingest that was interrupted and is being rerun.
    Unchanged(i64),
}

pub fn begin_batch(
    tx: &Transaction,
    chain: &mut Chain,
    source: &str,
    actor: &str,
    roots: &[String],
) -> rusqlite::Result<i64> {
    super::sources::ensure(tx, chain, actor, source)?;
    let now = crate::clock::now();
    let roots_json = serde_json::to_string(roots).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO batches(source, actor, started_at, roots) VALUES (?1, ?2, ?3, ?4)",
        (source, actor, &now, &roots_json),
    )?;
    let id = tx.last_insert_rowid();
    chain.append(
        tx,
        &Event::case(
            actor,
            "ingest.batch",
            json!({ "batch": id, "source": source, "roots": roots }),
        ),
    )?;
    Ok(id)
}

/// An item as first received (ingest or import).
pub struct NewItem<'a> {
    pub item: Described<'a>,
    pub first_source: &'a str,
    pub created_at: &'a str,
}

/// The item with this content, created if the case does not have it yet: (id, created).
pub fn find_or_create_item(tx: &Transaction, it: &NewItem) -> rusqlite::Result<(i64, bool)> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM items WHERE sha256 = ?1")?
        .query_row([it.item.sha256], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    tx.prepare_cached(
        "INSERT INTO items(sha256, size, mime, kind, ext_mismatch, metadata, captured_at,
                           name, first_source, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(rusqlite::params![
        it.item.sha256,
        it.item.size as i64,
        it.item.mime,
        it.item.kind,
        it.item.ext_mismatch,
        it.item.metadata_json,
        it.item.captured_at,
        it.item.name,
        it.first_source,
        it.created_at
    ])?;
    let id = tx.last_insert_rowid();
    super::search_index::record_geo(tx, id)?;
    Ok((id, true))
}

/// Record one received file: its item (found or created), provenance and audit entry. The
/// caller brings the search index up to date for the items it recorded, in the same
/// transaction, with `search_index::refresh_many` (a new path or provider is a new name to
/// find the item by).
pub fn record_file(
    tx: &Transaction,
    chain: &mut Chain,
    batch_id: i64,
    actor: &str,
    f: &ReceivedFile,
) -> rusqlite::Result<Recorded> {
    let (item_id, is_new) = find_or_create_item(
        tx,
        &NewItem {
            item: f.item,
            first_source: f.source,
            created_at: f.received_at,
        },
    )?;
    let parent = match f.member {
        Some(m) => tx
            .prepare_cached("SELECT id FROM items WHERE sha256 = ?1")?
            .query_row([m.parent_sha256], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|id| (id, m)),
        None => None,
    };
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO provenance(item_id, source, path, size, mtime, received_at,
                                              received_by, batch_id, parent_id, ordinal,
                                              inner_path)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(rusqlite::params![
            item_id,
            f.source,
            f.path,
            f.item.size as i64,
            f.mtime,
            f.received_at,
            actor,
            batch_id,
            parent.map(|(id, _)| id),
            parent.map(|(_, m)| m.ordinal),
            parent.map(|(_, m)| m.inner_path),
        ])?;
    if inserted == 0 {
        return Ok(Recorded::Unchanged(item_id));
    }
    let path = crate::text::path_for_json(f.path);
    let mut details = json!({
        "batch": batch_id,
        "source": f.source,
        "path": path,
        "sha256": f.item.sha256,
        "size": f.item.size,
    });
    if let (Some((id, m)), Some(d)) = (parent, details.as_object_mut()) {
        d.insert("parent".into(), json!(id));
        d.insert("ordinal".into(), json!(m.ordinal));
        d.insert(
            "inner_path".into(),
            json!(crate::text::path_for_json(m.inner_path)),
        );
    }
    chain.append(
        tx,
        &Event::item(
            actor,
            item_id,
            if is_new {
                "ingest.new"
            } else {
                "ingest.duplicate"
            },
            details,
        ),
    )?;
    Ok(if is_new {
        Recorded::New(item_id)
    } else {
        Recorded::Duplicate(item_id)
    })
}

pub fn record_problem(
    tx: &Transaction,
    chain: &mut Chain,
    batch_id: i64,
    actor: &str,
    path: &[u8],
    outcome: &str,
    reason: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO ingest_problems(batch_id, path, outcome, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(rusqlite::params![
        batch_id,
        path,
        outcome,
        reason,
        crate::clock::now()
    ])?;
    chain.append(
        tx,
        &Event::case(
            actor,
            "ingest.problem",
            json!({ "batch": batch_id, "path": crate::text::path_for_json(path),
                    "outcome": outcome, "reason": reason }),
        ),
    )?;
    Ok(())
}
