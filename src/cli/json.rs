//! The scripting contract: an item as JSON (documented in the README).

use serde_json::{json, Value};

use crate::store::items::{Detail, Provenance, Row};
use crate::taxonomy::Taxonomy;

pub fn provenance(p: &Provenance) -> Value {
    let mut v = json!({
        "source": p.source,
        "path": String::from_utf8_lossy(&p.path),
        "received_at": p.received_at,
        "received_by": p.received_by,
        "size": p.size,
        "mtime": p.mtime,
        "batch": p.batch,
    });
    if std::str::from_utf8(&p.path).is_err() {
        v["path_b64"] = json!(crate::text::b64(&p.path));
    }
    if let Some(m) = &p.member {
        member(&mut v, m);
    }
    v
}

/// A member's link: `parent`, `member` (`T-000120/3`) and `inner_path` (with `inner_path_b64`
/// when the name is not UTF-8).
fn member(v: &mut Value, m: &crate::store::families::MemberLink) {
    v["parent"] = json!(crate::store::reference(m.parent));
    v["member"] = json!(m.reference());
    v["inner_path"] = json!(String::from_utf8_lossy(&m.inner_path));
    if std::str::from_utf8(&m.inner_path).is_err() {
        v["inner_path_b64"] = json!(crate::text::b64(&m.inner_path));
    }
}

pub fn tags(row: &Row) -> Value {
    let pick = |kind: &str| -> Vec<&str> {
        row.tags
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, t)| t.as_str())
            .collect()
    };
    json!({ "crimes": pick("crime"), "parties": pick("party"), "flags": pick("flag") })
}

pub fn item(d: &Detail, tax: &Taxonomy, full: bool) -> Value {
    let r = &d.row;
    let mut v = json!({
        "ref": crate::store::reference(r.id),
        "sha256": r.sha256,
        "size": r.size,
        "mime": r.mime,
        "type": r.kind,
        "status": r.status,
        "name": r.name,
        "captured_at": r.captured_at,
        "received_at": r.created_at,
        "ext_mismatch": d.ext_mismatch,
        "sources": d.provenance.iter().map(provenance).collect::<Vec<_>>(),
        "metadata": d.metadata,
        "tags": tags(r),
        "parent": null,
        "member": null,
        "inner_path": null,
        "children": d.children,
    });
    if let Some(m) = d.parent() {
        member(&mut v, m);
    }
    if full {
        v["status_by"] = json!(d.status_by);
        v["status_at"] = json!(d.status_at);
        v["tag_details"] = d
            .tags
            .iter()
            .map(|t| {
                let term = tax.get(&t.term);
                json!({
                    "term": t.term, "kind": t.kind, "set_by": t.set_by, "set_at": t.set_at,
                    "label": term.map(|x| x.en.clone()),
                    "ref": term.and_then(|x| x.legal_ref.clone()),
                })
            })
            .collect();
        // The sender's decisions, as the sender's: who, when and in which case.
        v["imported_claims"] = d
            .claims
            .iter()
            .map(|c| {
                let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
                json!({
                    "term": c.term, "kind": c.kind,
                    "claimed_by": opt(&c.claimed_by), "claimed_at": opt(&c.claimed_at),
                    "sending_case": opt(&c.sending_case), "original_ref": opt(&c.original_ref),
                    "imported_by": c.imported_by, "imported_at": c.imported_at,
                })
            })
            .collect();
        // The bag-info of every bag the item came in: provenance, as each bag's maker wrote it.
        v["bag_info"] = d
            .bags
            .iter()
            .map(|b| {
                json!({
                    "batch": b.batch, "source": b.source, "bag": b.bag,
                    "bagit_version": b.bagit_version,
                    "fields": b.fields.iter().map(|(k, v)| json!({ "label": k, "value": v }))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        v["notes"] = json!(d.notes);
    }
    v
}
