use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::items;
use crate::text::sanitize;

pub fn run(case: Option<PathBuf>, key: &str, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let id = items::find(&case, key).map_err(|e| anyhow!(e))?;
    let d = items::detail(&case, id)?.ok_or_else(|| anyhow!("{key}: no such item"))?;
    if json {
        let mut v = super::json::item(&d, &tax, true);
        v["history"] = serde_json::to_value(crate::store::audit::for_item(&case, id)?)?;
        super::out::json_pretty(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let r = &d.row;
    super::say!("{}  {}", crate::store::reference(r.id), sanitize(&r.name));
    super::say!("  sha256   {}", r.sha256);
    super::say!("  size     {} bytes", r.size);
    super::say!("  type     {} ({})", r.mime, r.kind);
    if let Some(m) = &d.ext_mismatch {
        super::say!("  MISMATCH {m}");
    }
    if let Some(m) = d.parent() {
        super::say!(
            "  member   {} of {}: {}",
            m.ordinal,
            crate::store::reference(m.parent),
            sanitize(&String::from_utf8_lossy(&m.inner_path))
        );
    }
    if d.children > 0 {
        super::say!("  members  {} (T-{:06}/1 ...)", d.children, r.id);
    }
    super::say!(
        "  status   {}{}",
        r.status,
        d.status_by
            .as_ref()
            .map(|b| format!(" by {b} at {}", d.status_at.clone().unwrap_or_default()))
            .unwrap_or_default()
    );
    super::say!("  received");
    for p in &d.provenance {
        super::say!(
            "    {} {} by {} (batch {}): {}",
            p.received_at,
            sanitize(&p.source),
            p.received_by,
            p.batch,
            sanitize(&String::from_utf8_lossy(&p.path))
        );
    }
    for b in &d.bags {
        // The bag's own description of itself: the maker's words, as provenance.
        super::say!(
            "  bag-info (batch {}, {}, BagIt {})",
            b.batch,
            sanitize(&b.source),
            sanitize(&b.bagit_version)
        );
        for (k, v) in &b.fields {
            let first = crate::text::sanitize_multiline(v);
            super::say!(
                "    {:<24} {}",
                sanitize(k),
                first.first().cloned().unwrap_or_default()
            );
        }
    }
    let meta = serde_json::to_value(&d.metadata)?;
    if let Some(obj) = meta.as_object() {
        for (section, fields) in obj {
            super::say!("  {section}");
            match fields.as_object() {
                Some(f) => {
                    for (k, v) in f {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let first = crate::text::sanitize_multiline(&text);
                        super::say!("    {k:<12} {}", first.first().cloned().unwrap_or_default());
                    }
                }
                None => super::say!("    {}", sanitize(&fields.to_string())),
            }
        }
    }
    if !d.tags.is_empty() {
        super::say!("  tags");
        for t in &d.tags {
            let label = tax.get(&t.term).map(|x| x.en.as_str()).unwrap_or("?");
            super::say!(
                "    {:<6} {} ({}) by {} at {}",
                t.kind,
                t.term,
                label,
                sanitize(&t.set_by),
                sanitize(&t.set_at)
            );
        }
    }
    if !d.incidents.is_empty() || !d.suggested.is_empty() {
        super::say!("  incidents");
        for l in &d.incidents {
            super::say!(
                "    {} {} ({} items, {} providers, {} independent captures)",
                crate::store::incidents::reference(l.id),
                sanitize(&l.title),
                l.corroboration.items,
                l.corroboration.providers,
                l.corroboration.captures
            );
        }
        for (s, title) in &d.suggested {
            super::say!(
                "    suggested: {} {}",
                crate::store::incidents::reference(s.incident),
                sanitize(title)
            );
        }
    }
    if !d.claims.is_empty() {
        // Another case's decisions: shown as that case's, never as a local one.
        super::say!("  imported claims");
        for c in &d.claims {
            super::say!(
                "    {:<6} {} {}, imported by {} at {}",
                sanitize(&c.kind),
                sanitize(&c.term),
                claim_origin(c),
                sanitize(&c.imported_by),
                sanitize(&c.imported_at)
            );
        }
    }
    for n in &d.notes {
        super::say!("  note by {} at {}: {}", n.author, n.at, sanitize(&n.body));
    }
    Ok(ExitCode::SUCCESS)
}

/// "by amal in case X (T-000003) at TIME": the sender's who, where and when, as the bag said.
pub fn claim_origin(c: &crate::store::items::ImportedClaim) -> String {
    let or = |s: &str, none: &str| {
        if s.is_empty() {
            none.to_string()
        } else {
            sanitize(s).into_string()
        }
    };
    let there = if c.original_ref.is_empty() {
        String::new()
    } else {
        format!(" ({})", sanitize(&c.original_ref))
    };
    format!(
        "by {} in case {}{there} at {}",
        or(&c.claimed_by, "(not named)"),
        or(&c.sending_case, "(not named)"),
        or(&c.claimed_at, "(no time)")
    )
}
