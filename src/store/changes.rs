//! A reviewer's changes: tags, status, notes, and undo. Each change is one short transaction
//! that writes the new state, the change record (what undo needs) and one audit entry per
//! effect, with the old and the new value.

use rusqlite::{OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{Chain, Event};
use super::users::{self, Right};
use super::{claims, incidents, review, Case, CaseError};
use crate::taxonomy::{Taxonomy, TermKind};

/// What a reviewer asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Tags {
        items: Vec<i64>,
        add: Vec<String>,
        remove: Vec<String>,
    },
    Status {
        items: Vec<i64>,
        to: String,
        reason: Option<String>,
    },
    Note {
        item: i64,
        body: String,
    },
    /// Create an incident (`id` none) or change one.
    Incident {
        id: Option<i64>,
        record: incidents::Record,
    },
    /// Link items to an incident, or unlink them.
    Link {
        items: Vec<i64>,
        incident: i64,
        on: bool,
    },
    /// Several edits as one change (one undo): `.` repeats tags and links together.
    Together(Vec<Edit>),
}

impl Edit {
    /// The items an edit touches.
    pub fn items(&self) -> Vec<i64> {
        match self {
            Edit::Tags { items, .. } | Edit::Status { items, .. } | Edit::Link { items, .. } => {
                items.clone()
            }
            Edit::Note { item, .. } => vec![*item],
            Edit::Incident { .. } => vec![],
            Edit::Together(edits) => {
                let mut all: Vec<i64> = edits.iter().flat_map(Edit::items).collect();
                all.sort_unstable();
                all.dedup();
                all
            }
        }
    }
}

/// One effect of a change, enough to reverse it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Tag {
        item: i64,
        term: String,
        kind: String,
        on: bool,
    },
    Status {
        item: i64,
        from: String,
        to: String,
    },
    Note {
        item: i64,
        note: i64,
        retract: bool,
    },
    /// An incident's record from `old` to `new`; none is "absent" (created, or deleted by an
    /// undone creation).
    Incident {
        incident: i64,
        old: Option<Box<incidents::Record>>,
        new: Option<Box<incidents::Record>>,
    },
    Link {
        item: i64,
        incident: i64,
        on: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub change_id: Option<i64>,
    pub summary: String,
    pub ops: Vec<Op>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Case(#[from] CaseError),
}

impl From<rusqlite::Error> for ChangeError {
    fn from(e: rusqlite::Error) -> Self {
        ChangeError::Case(CaseError::Sql(e))
    }
}

pub const STATUSES: &[&str] = &["untriaged", "triaged", "escalated"];

/// Apply an edit for `actor`; returns what actually changed (tagging an item that already
/// carries the tag is not a change, and an edit with no effect records nothing).
pub fn apply(
    case: &mut Case,
    tax: &Taxonomy,
    actor: &str,
    edit: &Edit,
) -> Result<Applied, ChangeError> {
    validate(tax, edit)?;
    let summary = describe(tax, edit);
    let role = users::authorize(case, actor, Right::Tag, &summary)?;
    let targets = edit_items(edit);
    let outcome = case.write(|tx| {
        // Someone else is working on it: refused (recorded below, once this is rolled back).
        for &item in &targets {
            if let Some(other) = claims::holder(tx, item, actor)? {
                return Ok(Err((item, other)));
            }
        }
        let mut chain = Chain::load(tx)?;
        let ops = plan(tx, tax, edit)?;
        if ops.is_empty() {
            return Ok(Ok(Applied {
                change_id: None,
                summary: format!("{summary} (no change)"),
                ops,
            }));
        }
        let reviewed = review::before_change(tx, actor, role, &targets)?;
        let change_id = record_change(tx, actor, &summary, &ops, None)?;
        if let Edit::Status {
            reason: Some(r), ..
        } = edit
        {
            perform_all(tx, &mut chain, actor, change_id, &ops, Some(r))?;
        } else {
            perform_all(tx, &mut chain, actor, change_id, &ops, None)?;
        }
        touch_recents(tx, actor, edit)?;
        if let Edit::Status { items, to, .. } = edit {
            if to != "untriaged" {
                claims::release_items(tx, items)?;
            }
        }
        review::record_overturns(tx, &mut chain, actor, change_id, &reviewed)?;
        Ok(Ok(Applied {
            change_id: Some(change_id),
            summary: summary.clone(),
            ops,
        }))
    })?;
    claimed_elsewhere(case, actor, &summary, outcome)
}

/// A change refused because someone else holds a claim on one of its items (the write was
/// rolled back): recorded, then reported.
fn claimed_elsewhere(
    case: &mut Case,
    actor: &str,
    summary: &str,
    outcome: Result<Applied, (i64, String)>,
) -> Result<Applied, ChangeError> {
    match outcome {
        Ok(applied) => Ok(applied),
        Err((item, other)) => {
            users::record_denied(
                &case.conn,
                actor,
                Some(item),
                json!({ "right": "tag", "why": "claimed", "by": other, "attempt": summary }),
            )?;
            Err(ChangeError::Case(CaseError::Denied(format!(
                "{} is being reviewed by {other}",
                super::reference(item)
            ))))
        }
    }
}

impl Op {
    /// The item it changes (an incident's record is no item's).
    fn item(&self) -> Option<i64> {
        match self {
            Op::Tag { item, .. }
            | Op::Status { item, .. }
            | Op::Note { item, .. }
            | Op::Link { item, .. } => Some(*item),
            Op::Incident { .. } => None,
        }
    }
}

fn edit_items(edit: &Edit) -> Vec<i64> {
    edit.items()
}

/// After the ops are written: the pickers' recent terms and incidents.
fn touch_recents(tx: &Transaction, actor: &str, edit: &Edit) -> rusqlite::Result<()> {
    match edit {
        Edit::Tags { add, .. } => touch_recent(tx, actor, add),
        Edit::Link {
            incident, on: true, ..
        } => incidents::touch_recent(tx, actor, *incident),
        Edit::Together(edits) => edits.iter().try_for_each(|e| touch_recents(tx, actor, e)),
        _ => Ok(()),
    }
}

/// Reverse the actor's most recent change that is not undone yet. The reversal is a new
/// change; nothing is deleted.
pub fn undo(case: &mut Case, actor: &str) -> Result<Applied, ChangeError> {
    users::authorize(case, actor, Right::Tag, "undo")?;
    let outcome = case.write(|tx| {
        let last: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT id, summary, ops FROM changes
                 WHERE actor = ?1 AND undone_by IS NULL AND undoes IS NULL
                 ORDER BY id DESC LIMIT 1",
                [actor],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((id, summary, ops_json)) = last else {
            return Ok(Ok(Applied {
                change_id: None,
                summary: "nothing to undo".into(),
                ops: vec![],
            }));
        };
        let ops: Vec<Op> = serde_json::from_str(&ops_json).unwrap_or_default();
        // Like any change: not on an item someone else is working on.
        for item in ops.iter().filter_map(Op::item) {
            if let Some(other) = claims::holder(tx, item, actor)? {
                return Ok(Err((item, other)));
            }
        }
        let mut inverse = Vec::new();
        for op in ops.iter().rev() {
            inverse.extend(invert(tx, op)?);
        }
        let undo_summary = format!("undo: {summary}");
        let mut chain = Chain::load(tx)?;
        let undo_id = record_change(tx, actor, &undo_summary, &inverse, Some(id))?;
        tx.execute(
            "UPDATE changes SET undone_by = ?1 WHERE id = ?2",
            (undo_id, id),
        )?;
        chain.append(
            tx,
            &Event {
                actor,
                item_id: None,
                event: "undo",
                details: json!({ "undoes": id, "summary": summary }),
                change_id: Some(undo_id),
            },
        )?;
        perform_all(tx, &mut chain, actor, undo_id, &inverse, None)?;
        Ok(Ok(Applied {
            change_id: Some(undo_id),
            summary: undo_summary.clone(),
            ops: inverse,
        }))
    })?;
    claimed_elsewhere(case, actor, "undo", outcome)
}

fn validate(tax: &Taxonomy, edit: &Edit) -> Result<(), ChangeError> {
    match edit {
        Edit::Tags { items, add, remove } => {
            if items.is_empty() {
                return Err(ChangeError::Invalid("no item to tag".into()));
            }
            for t in add.iter().chain(remove) {
                if tax.get(t).is_none() {
                    return Err(ChangeError::Invalid(format!(
                        "unknown term {t:?}; `triage terms` lists them"
                    )));
                }
            }
        }
        Edit::Status { to, .. } => {
            if !STATUSES.contains(&to.as_str()) {
                return Err(ChangeError::Invalid(format!(
                    "unknown status {to:?}; expected untriaged, triaged or escalated"
                )));
            }
        }
        Edit::Note { body, .. } => {
            if body.trim().is_empty() {
                return Err(ChangeError::Invalid("an empty note is not saved".into()));
            }
        }
        Edit::Incident { record, .. } => {
            incidents::check(record).map_err(ChangeError::Invalid)?;
            for (terms, kind) in [
                (&record.crimes, TermKind::Crime),
                (&record.parties, TermKind::Party),
            ] {
                for t in terms {
                    if tax.get(t).map(|t| t.kind) != Some(kind) {
                        return Err(ChangeError::Invalid(format!(
                            "{t:?} is no {} term; `triage terms` lists them",
                            kind.as_str()
                        )));
                    }
                }
            }
        }
        Edit::Link { items, .. } => {
            if items.is_empty() {
                return Err(ChangeError::Invalid("no item to link".into()));
            }
        }
        Edit::Together(edits) => {
            for e in edits {
                if matches!(e, Edit::Together(_) | Edit::Incident { id: None, .. }) {
                    return Err(ChangeError::Invalid("not an edit to combine".into()));
                }
                validate(tax, e)?;
            }
        }
    }
    Ok(())
}

fn describe(tax: &Taxonomy, edit: &Edit) -> String {
    let label = |id: &String| {
        tax.get(id)
            .map(|t| t.en.clone())
            .unwrap_or_else(|| id.clone())
    };
    let n = |items: &Vec<i64>| {
        if items.len() == 1 {
            super::reference(items[0])
        } else {
            format!("{} items", items.len())
        }
    };
    match edit {
        Edit::Tags { items, add, remove } => {
            let mut parts: Vec<String> = add.iter().map(|t| format!("+{}", label(t))).collect();
            parts.extend(remove.iter().map(|t| format!("-{}", label(t))));
            format!("{} {}", n(items), parts.join(" "))
        }
        Edit::Status { items, to, .. } => format!("{} {to}", n(items)),
        Edit::Note { item, .. } => format!("{} note", super::reference(*item)),
        Edit::Incident { id: None, record } => format!("new incident {:?}", record.title),
        Edit::Incident { id: Some(id), .. } => format!("{} changed", incidents::reference(*id)),
        Edit::Link {
            items,
            incident,
            on,
        } => format!(
            "{} {}{}",
            n(items),
            if *on { "+" } else { "-" },
            incidents::reference(*incident)
        ),
        Edit::Together(edits) => edits
            .iter()
            .map(|e| describe(tax, e))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The effects an edit would have on the current state.
fn plan(tx: &Transaction, tax: &Taxonomy, edit: &Edit) -> rusqlite::Result<Vec<Op>> {
    let mut ops = Vec::new();
    match edit {
        Edit::Tags { items, add, remove } => {
            for &item in items {
                require_item(tx, item)?;
                for (terms, on) in [(add, true), (remove, false)] {
                    for term in terms {
                        if has_tag(tx, item, term)? != on {
                            let kind = tax.get(term).map(|t| t.kind).unwrap_or(TermKind::Crime);
                            ops.push(Op::Tag {
                                item,
                                term: term.clone(),
                                kind: kind.as_str().into(),
                                on,
                            });
                        }
                    }
                }
            }
        }
        Edit::Status { items, to, .. } => {
            for &item in items {
                let from: String =
                    tx.query_row("SELECT status FROM items WHERE id = ?1", [item], |r| {
                        r.get(0)
                    })?;
                if &from != to {
                    ops.push(Op::Status {
                        item,
                        from,
                        to: to.clone(),
                    });
                }
            }
        }
        Edit::Note { item, body } => {
            require_item(tx, *item)?;
            tx.execute(
                "INSERT INTO notes(item_id, author, created_at, body, retracted)
                 VALUES (?1, '', '', ?2, 1)",
                (item, body),
            )?;
            // Inserted retracted and published by perform(), so the audit sees the text.
            ops.push(Op::Note {
                item: *item,
                note: tx.last_insert_rowid(),
                retract: false,
            });
        }
        Edit::Incident { id: None, record } => {
            // Inserted empty and filled by perform(), like a note.
            ops.push(Op::Incident {
                incident: incidents::insert_placeholder(tx)?,
                old: None,
                new: Some(Box::new(record.clone())),
            });
        }
        Edit::Incident {
            id: Some(id),
            record,
        } => {
            let old = incidents::record_in(tx, *id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            if &old != record {
                ops.push(Op::Incident {
                    incident: *id,
                    old: Some(Box::new(old)),
                    new: Some(Box::new(record.clone())),
                });
            }
        }
        Edit::Link {
            items,
            incident,
            on,
        } => {
            if incidents::record_in(tx, *incident)?.is_none() {
                return Err(rusqlite::Error::QueryReturnedNoRows);
            }
            for &item in items {
                require_item(tx, item)?;
                if incidents::is_linked(tx, item, *incident)? != *on {
                    ops.push(Op::Link {
                        item,
                        incident: *incident,
                        on: *on,
                    });
                }
            }
        }
        Edit::Together(edits) => {
            for e in edits {
                ops.extend(plan(tx, tax, e)?);
            }
        }
    }
    Ok(ops)
}

fn require_item(tx: &Transaction, item: i64) -> rusqlite::Result<()> {
    tx.query_row("SELECT id FROM items WHERE id = ?1", [item], |r| {
        r.get::<_, i64>(0)
    })
    .map(|_| ())
}

fn has_tag(tx: &Transaction, item: i64, term: &str) -> rusqlite::Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM tags WHERE item_id = ?1 AND term_id = ?2")?
        .query_row((item, term), |_| Ok(()))
        .optional()?
        .is_some())
}

/// What reverses an op, if the state still is what it left (none when someone changed it
/// since). Undoing an incident's creation first unlinks the items linked to it since.
fn invert(tx: &Transaction, op: &Op) -> rusqlite::Result<Vec<Op>> {
    Ok(match op {
        Op::Incident { incident, old, new } => {
            let now = incidents::record_in(tx, *incident)?.map(Box::new);
            if &now != new {
                return Ok(vec![]);
            }
            let mut out = Vec::new();
            if old.is_none() {
                for item in incidents::items_in(tx, *incident)? {
                    out.push(Op::Link {
                        item,
                        incident: *incident,
                        on: false,
                    });
                }
            }
            out.push(Op::Incident {
                incident: *incident,
                old: new.clone(),
                new: old.clone(),
            });
            out
        }
        Op::Link { item, incident, on } => {
            let exists = incidents::record_in(tx, *incident)?.is_some();
            if exists && incidents::is_linked(tx, *item, *incident)? == *on {
                vec![Op::Link {
                    item: *item,
                    incident: *incident,
                    on: !on,
                }]
            } else {
                vec![]
            }
        }
        _ => invert_item(tx, op)?.into_iter().collect(),
    })
}

fn invert_item(tx: &Transaction, op: &Op) -> rusqlite::Result<Option<Op>> {
    Ok(match op {
        Op::Tag {
            item,
            term,
            kind,
            on,
        } => (has_tag(tx, *item, term)? == *on).then(|| Op::Tag {
            item: *item,
            term: term.clone(),
            kind: kind.clone(),
            on: !on,
        }),
        Op::Status { item, from, to } => {
            let now: String =
                tx.query_row("SELECT status FROM items WHERE id = ?1", [item], |r| {
                    r.get(0)
                })?;
            (now == *to).then(|| Op::Status {
                item: *item,
                from: to.clone(),
                to: from.clone(),
            })
        }
        Op::Note {
            item,
            note,
            retract,
        } => Some(Op::Note {
            item: *item,
            note: *note,
            retract: !retract,
        }),
        Op::Incident { .. } | Op::Link { .. } => None,
    })
}

fn record_change(
    tx: &Transaction,
    actor: &str,
    summary: &str,
    ops: &[Op],
    undoes: Option<i64>,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO changes(actor, at, summary, ops, undoes) VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            actor,
            crate::clock::now(),
            summary,
            serde_json::to_string(ops).unwrap_or_else(|_| "[]".into()),
            undoes,
        ),
    )?;
    Ok(tx.last_insert_rowid())
}

fn perform_all(
    tx: &Transaction,
    chain: &mut Chain,
    actor: &str,
    change_id: i64,
    ops: &[Op],
    reason: Option<&String>,
) -> rusqlite::Result<()> {
    let now = crate::clock::now();
    for op in ops {
        let (item, event, details) = match op {
            Op::Incident { incident, old, new } => {
                let event = match (old, new) {
                    (None, Some(r)) => {
                        incidents::write_record(tx, *incident, r, actor, &now)?;
                        "incident.add"
                    }
                    (Some(_), Some(r)) => {
                        incidents::write_record(tx, *incident, r, actor, &now)?;
                        "incident.set"
                    }
                    _ => {
                        incidents::delete(tx, *incident)?;
                        "incident.delete"
                    }
                };
                chain.append(
                    tx,
                    &Event {
                        actor,
                        item_id: None,
                        event,
                        details: json!({
                            "incident": incident,
                            "ref": incidents::reference(*incident),
                            "old": old,
                            "new": new,
                        }),
                        change_id: Some(change_id),
                    },
                )?;
                continue;
            }
            Op::Link { item, incident, on } => {
                incidents::set_link(tx, *item, *incident, *on, actor, &now)?;
                (
                    *item,
                    if *on {
                        "incident.link"
                    } else {
                        "incident.unlink"
                    },
                    json!({ "incident": incident, "ref": incidents::reference(*incident) }),
                )
            }
            Op::Tag {
                item,
                term,
                kind,
                on,
            } => {
                if *on {
                    tx.prepare_cached(
                        "INSERT INTO tags(item_id, term_id, kind, set_by, set_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute((item, term, kind, actor, &now))?;
                } else {
                    tx.prepare_cached("DELETE FROM tags WHERE item_id = ?1 AND term_id = ?2")?
                        .execute((item, term))?;
                }
                (
                    *item,
                    if *on { "tag.add" } else { "tag.remove" },
                    json!({ "term": term, "kind": kind, "old": !on, "new": on }),
                )
            }
            Op::Status { item, from, to } => {
                tx.prepare_cached(
                    "UPDATE items SET status = ?1, status_by = ?2, status_at = ?3 WHERE id = ?4",
                )?
                .execute((to, actor, &now, item))?;
                let mut d = json!({ "old": from, "new": to });
                if let Some(r) = reason {
                    d["reason"] = json!(r);
                }
                (*item, "status.set", d)
            }
            Op::Note {
                item,
                note,
                retract,
            } => {
                if *retract {
                    tx.execute("UPDATE notes SET retracted = 1 WHERE id = ?1", [note])?;
                } else {
                    tx.execute(
                        "UPDATE notes SET retracted = 0,
                         author = CASE author WHEN '' THEN ?2 ELSE author END,
                         created_at = CASE created_at WHEN '' THEN ?3 ELSE created_at END
                         WHERE id = ?1",
                        (note, actor, &now),
                    )?;
                }
                super::search_index::refresh(tx, *item)?;
                let body: String =
                    tx.query_row("SELECT body FROM notes WHERE id = ?1", [note], |r| r.get(0))?;
                (
                    *item,
                    if *retract { "note.retract" } else { "note.add" },
                    json!({ "note": note, "body": body }),
                )
            }
        };
        chain.append(
            tx,
            &Event {
                actor,
                item_id: Some(item),
                event,
                details,
                change_id: Some(change_id),
            },
        )?;
    }
    Ok(())
}

/// Remember the terms a reviewer used, for the pickers' "recent" list.
fn touch_recent(tx: &Transaction, actor: &str, terms: &[String]) -> rusqlite::Result<()> {
    let base: i64 = tx.query_row(
        "SELECT coalesce(max(used_at), 0) FROM recent_terms WHERE actor = ?1",
        [actor],
        |r| r.get(0),
    )?;
    for (i, t) in terms.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO recent_terms(actor, term_id, used_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(actor, term_id) DO UPDATE SET used_at = excluded.used_at",
        )?
        .execute((actor, t, base + 1 + i as i64))?;
    }
    Ok(())
}

/// The actor's most recently used terms of a kind, newest first.
pub fn recent_terms(
    db: &impl crate::store::Db,
    actor: &str,
    tax: &Taxonomy,
    kind: TermKind,
    n: usize,
) -> rusqlite::Result<Vec<String>> {
    let conn = crate::store::conn_of(db);
    let mut st = conn.prepare_cached(
        "SELECT term_id FROM recent_terms WHERE actor = ?1 ORDER BY used_at DESC",
    )?;
    let ids: Vec<String> = st
        .query_map([actor], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids
        .into_iter()
        .filter(|id| tax.get(id).map(|t| t.kind) == Some(kind))
        .take(n)
        .collect())
}

/// The tags of the actor's most recent decision (the last item they marked triaged or
/// escalated), for `.` — "the same again".
pub fn last_decision_tags(
    db: &impl crate::store::Db,
    actor: &str,
) -> rusqlite::Result<Option<(i64, Vec<String>)>> {
    let conn = crate::store::conn_of(db);
    let item: Option<i64> = conn
        .query_row(
            "SELECT item_id FROM audit WHERE actor = ?1 AND event = 'status.set'
             AND json_extract(details, '$.new') IN ('triaged', 'escalated')
             ORDER BY seq DESC LIMIT 1",
            [actor],
            |r| r.get(0),
        )
        .optional()?;
    let Some(item) = item else { return Ok(None) };
    let tags = conn
        .prepare_cached("SELECT term_id FROM tags WHERE item_id = ?1 ORDER BY set_at")?
        .query_map([item], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some((item, tags)))
}

/// Record that `actor` revealed the gated image of an item (blurred or in full). Reveals are
/// not changes to the item and cannot be undone; they are part of the record.
pub fn record_reveal(
    case: &mut Case,
    actor: &str,
    item: i64,
    full: bool,
) -> Result<(), ChangeError> {
    let right = if full {
        Right::RevealFull
    } else {
        Right::RevealBlurred
    };
    users::authorize(
        case,
        actor,
        right,
        &format!("reveal {}", super::reference(item)),
    )?;
    case.write(|tx| {
        require_item(tx, item)?;
        let flags: Vec<String> = tx
            .prepare_cached(
                "SELECT term_id FROM tags WHERE item_id = ?1 AND kind = 'flag' ORDER BY term_id",
            )?
            .query_map([item], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut chain = Chain::load(tx)?;
        chain.append(
            tx,
            &Event::item(
                actor,
                item,
                "reveal",
                json!({ "level": if full { "full" } else { "blurred" }, "flags": flags }),
            ),
        )?;
        // The reveal is also what the reviewer saw: counted in the same transaction.
        super::wellbeing::count(
            tx,
            actor,
            item,
            super::wellbeing::Exposure::Reveal,
            crate::clock::utc_now(),
        )?;
        Ok(())
    })?;
    Ok(())
}
