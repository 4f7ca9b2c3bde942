//! The rows an import writes: a batch, items, provenance records naming the importing provider,
//! tags carried by the bag, and the sending case's history of each item, all with their audit
//! entries in the same transaction. A refused bag is one case-level audit event and nothing else.

use rusqlite::Transaction;
use serde_json::{json, Value};

use super::audit::{Chain, Event};

/// Where the rows come from: the bag, the case that made it, and who imports it as whom.
pub struct Origin<'a> {
    /// The bag's folder, as given (for the audit log).
    pub bag: &'a Value,
    /// `Triage-Case-Id` of the sending case, when the bag names one.
    pub sending_case: Option<&'a str>,
    /// The importing provider (the `--source` of the import).
    pub source: &'a str,
    pub actor: &'a str,
    /// `BagIt-Version` of the bag's declaration.
    pub bagit_version: &'a str,
    /// The bag's `bag-info.txt` fields in order: provenance of every item it brings.
    pub bag_info: &'a [(String, String)],
}

/// A tag as the sending case recorded it: a claim of the sender's (who and when, if the bag
/// says), not a decision of this case.
pub struct ImportedTag<'a> {
    pub term: &'a str,
    pub kind: &'a str,
    pub claimed_by: Option<&'a str>,
    pub claimed_at: Option<&'a str>,
}

/// One item of the bag, its original already in the object store.
pub struct ImportedItem<'a> {
    pub item: super::ingest_rows::Described<'a>,
    /// The reference the item had in the sending case.
    pub original_ref: &'a str,
    /// The file's path in the bag (`data/originals/...`).
    pub bag_file: &'a str,
    /// The original provenance paths (exact bytes) with their modification times; the bag
    /// file's path when the sending case withheld them.
    pub paths: &'a [(Vec<u8>, Option<String>)],
    pub tags: &'a [ImportedTag<'a>],
    /// The sending case's audit entries for this item, as exported.
    pub history: &'a [Value],
    /// The bag's own fixity of the file: its manifests' values by algorithm name.
    pub fixity: Option<&'a std::collections::BTreeMap<&'static str, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new item was created.
    New { id: i64, tags: usize },
    /// The content was in the case already; provenance was added.
    Duplicate { id: i64, tags: usize },
    /// This bag's records of the item are in the case already (an import run again).
    Unchanged(i64),
}

/// Start the import's batch: the provider made sure of, one `batches` row, the bag's
/// `bag_info` row, and one audit event carrying both.
pub fn begin_batch(tx: &Transaction, chain: &mut Chain, o: &Origin) -> rusqlite::Result<i64> {
    super::sources::ensure(tx, chain, o.actor, o.source)?;
    let now = crate::clock::now();
    let roots = json!([o.bag]).to_string();
    tx.execute(
        "INSERT INTO batches(source, actor, started_at, roots) VALUES (?1, ?2, ?3, ?4)",
        (o.source, o.actor, &now, &roots),
    )?;
    let id = tx.last_insert_rowid();
    let fields = json!(o.bag_info);
    tx.execute(
        "INSERT INTO bag_info(batch_id, bag, bagit_version, fields) VALUES (?1, ?2, ?3, ?4)",
        (id, o.bag.to_string(), o.bagit_version, fields.to_string()),
    )?;
    chain.append(
        tx,
        &Event::case(
            o.actor,
            "import.batch",
            json!({ "batch": id, "source": o.source, "bag": o.bag,
                    "sending_case": o.sending_case, "bagit_version": o.bagit_version,
                    "bag_info": fields }),
        ),
    )?;
    Ok(id)
}

/// Record one item of the bag. The caller brings the search index up to date for the items it
/// recorded, in the same transaction, with `search_index::refresh_many` (one statement for a
/// chunk: FTS5 flushes at every statement that writes to it).
pub fn record_item(
    tx: &Transaction,
    chain: &mut Chain,
    batch_id: i64,
    o: &Origin,
    it: &ImportedItem,
) -> rusqlite::Result<Recorded> {
    let now = crate::clock::now();
    let (item_id, is_new) = super::ingest_rows::find_or_create_item(
        tx,
        &super::ingest_rows::NewItem {
            item: it.item,
            first_source: o.source,
            created_at: &now,
        },
    )?;
    let fallback = [(it.bag_file.as_bytes().to_vec(), None)];
    let paths = if it.paths.is_empty() {
        &fallback[..]
    } else {
        it.paths
    };
    let mut inserted = 0;
    for (path, mtime) in paths {
        inserted += tx
            .prepare_cached(
                "INSERT OR IGNORE INTO provenance(item_id, source, path, size, mtime,
                                                  received_at, received_by, batch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(rusqlite::params![
                item_id,
                o.source,
                path,
                it.item.size as i64,
                mtime,
                now,
                o.actor,
                batch_id
            ])?;
    }
    if inserted == 0 {
        return Ok(Recorded::Unchanged(item_id));
    }
    let origin = json!({
        "bag": o.bag,
        "sending_case": o.sending_case,
        "original_ref": it.original_ref,
    });
    chain.append(
        tx,
        &Event::item(
            o.actor,
            item_id,
            if is_new {
                "import.new"
            } else {
                "import.duplicate"
            },
            json!({
                "batch": batch_id,
                "source": o.source,
                "bag": o.bag,
                "sending_case": o.sending_case,
                "original_ref": it.original_ref,
                "sha256": it.item.sha256,
                "size": it.item.size,
                "bag_file": it.bag_file,
                "paths": paths.iter().map(|(p, _)| crate::text::path_for_json(p))
                    .collect::<Vec<_>>(),
                "bag_fixity": it.fixity,
            }),
        ),
    )?;
    for entry in it.history {
        let mut d = origin.clone();
        d["entry"] = entry.clone();
        // Checked before the import (hash recomputed and linked), except entries the sender
        // redacted, whose hash can no longer be recomputed.
        d["hash_recomputed"] = json!(entry.get("withheld").and_then(Value::as_bool) != Some(true));
        chain.append(tx, &Event::item(o.actor, item_id, "import.history", d))?;
    }
    // Locally the importing login applies the tags (the `tags` row and the `tag.add` event
    // are its act, now); the sender's who/when/case stay a claim, in the event's details and
    // in `imported_claims`.
    let mut tags = 0;
    for t in it.tags {
        let claim = json!({
            "claimed_by": t.claimed_by,
            "claimed_at": t.claimed_at,
            "sending_case": o.sending_case,
            "original_ref": it.original_ref,
            "bag": o.bag,
        });
        let recorded = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO imported_claims(item_id, term_id, kind, claimed_by,
                     claimed_at, sending_case, original_ref, batch_id, imported_by, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(rusqlite::params![
                item_id,
                t.term,
                t.kind,
                t.claimed_by.unwrap_or_default(),
                t.claimed_at.unwrap_or_default(),
                o.sending_case.unwrap_or_default(),
                it.original_ref,
                batch_id,
                o.actor,
                now
            ])?;
        let added = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO tags(item_id, term_id, kind, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((item_id, t.term, t.kind, o.actor, &now))?;
        if added > 0 {
            tags += 1;
            let d = json!({
                "term": t.term, "kind": t.kind, "old": false, "new": true, "imported": claim,
            });
            chain.append(tx, &Event::item(o.actor, item_id, "tag.add", d))?;
        } else if recorded > 0 {
            // The tag was set here already: the sender's claim is still recorded.
            let d = json!({ "term": t.term, "kind": t.kind, "imported": claim });
            chain.append(tx, &Event::item(o.actor, item_id, "import.claim", d))?;
        }
    }
    Ok(if is_new {
        Recorded::New { id: item_id, tags }
    } else {
        Recorded::Duplicate { id: item_id, tags }
    })
}

/// A bag that failed validation: one case-level event naming the bag and its bad files.
pub fn record_refused(
    tx: &Transaction,
    actor: &str,
    bag: &Value,
    source: &str,
    problems: &Value,
) -> rusqlite::Result<i64> {
    let mut chain = Chain::load(tx)?;
    chain.append(
        tx,
        &Event::case(
            actor,
            "import.refused",
            json!({ "bag": bag, "source": source, "problems": problems }),
        ),
    )
}
