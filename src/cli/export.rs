//! `triage export`: the items a filter selects, as a BagIt bag (RFC 8493) for disclosure.
//!
//! Providers' use conditions are enforced here by the rule in `crate::disclosure`: refused
//! items are named on stderr unless `--override-reason` is given, which is then recorded in the
//! export's audit event; identity-confidential providers are withheld from the bag.
//!
//! The bag is written and made durable first; the one `export` audit event follows. If that
//! event cannot be written, the bag is removed: no disclosure without its record.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use crate::bag;
use crate::disclosure::{self, Condition, Recipient};
use crate::store::items::{self, Detail};
use crate::store::query::{self, Selection, View};
use crate::store::{export_rows, incidents, sources};

struct Chosen {
    detail: Detail,
    conditions: Vec<Condition>,
    /// The conditions that forbid this export (empty: allowed).
    blocking: Vec<Condition>,
}

/// What `triage export` was asked for.
pub struct Request<'a> {
    pub filter: Option<&'a str>,
    /// An incident: its items (within the filter, if any), and its record.
    pub incident: Option<&'a str>,
    pub out: &'a Path,
    pub purpose: Option<&'a str>,
    pub court: bool,
    pub override_reason: Option<&'a str>,
    pub algorithms: &'a str,
    pub with_family: bool,
    pub json: bool,
}

pub fn run(case: Option<PathBuf>, req: Request) -> Result<ExitCode> {
    let Request {
        filter,
        incident,
        out,
        purpose,
        court,
        override_reason,
        algorithms,
        with_family,
        json: json_out,
    } = req;
    let mut algs = Vec::new();
    for name in algorithms
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match bag::Alg::from_name(&name.to_ascii_lowercase()) {
            Some(a) => algs.push(a),
            None => {
                super::tell!(
                    "triage: --algorithms: {name:?} is not one of md5, sha1, sha256, sha512"
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    if override_reason.is_some_and(|r| r.trim().is_empty()) {
        super::tell!(
            "triage: --override-reason needs the reason (it is recorded in the audit log)"
        );
        return Ok(ExitCode::from(2));
    }
    let override_reason = override_reason.map(str::trim);
    let purpose = purpose.map(str::trim).filter(|p| !p.is_empty());
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let incident = match incident {
        Some(key) => {
            let id = incidents::parse_reference(key)
                .ok_or_else(|| anyhow!("`{key}` is not an incident reference (I-0001)"))?;
            Some(
                incidents::get(&case, id)?
                    .ok_or_else(|| anyhow!("no incident {}", incidents::reference(id)))?,
            )
        }
        None => None,
    };
    let filter_text = match (filter, &incident) {
        (Some(f), Some(i)) => format!("({f}) incident:{}", incidents::reference(i.id)),
        (None, Some(i)) => format!("incident:{}", incidents::reference(i.id)),
        (Some(f), None) => f.to_string(),
        (None, None) => bail!("give --filter or --incident"),
    };
    let filter = filter_text.as_str();
    export_rows::authorize(&mut case, &me, filter, override_reason.is_some())?;
    let tax = super::taxonomy(&case)?;

    let compiled =
        query::compile_filter(filter, &tax).map_err(|e| anyhow!("filter {}", e.pointer(filter)))?;
    let sel = Selection::new(&View::All, &me, compiled);
    let mut ids = sel.ids(&case, |_| true)?;
    if with_family {
        ids = crate::store::families::with_families(&case, &ids)?;
    }
    if ids.is_empty() {
        super::tell!("triage: no item matches the filter; nothing exported");
        return Ok(ExitCode::from(1));
    }

    let recipient = if court {
        Recipient::Court
    } else {
        Recipient::Other
    };
    let mut chosen = Vec::with_capacity(ids.len());
    for id in ids {
        let detail = items::detail(&case, id)?
            .ok_or_else(|| anyhow!("{}: vanished while exporting", crate::store::reference(id)))?;
        let conditions = disclosure::parse_all(&sources::item_conditions(&case, id)?);
        let blocking = disclosure::refusing(&conditions, recipient);
        chosen.push(Chosen {
            detail,
            conditions,
            blocking,
        });
    }
    let (blocked, allowed): (Vec<&Chosen>, Vec<&Chosen>) =
        chosen.iter().partition(|c| !c.blocking.is_empty());
    let refused: Vec<&Chosen> = if override_reason.is_some() {
        Vec::new()
    } else {
        blocked.clone()
    };
    for c in &refused {
        super::tell!(
            "triage: refused {}: {}",
            crate::store::reference(c.detail.row.id),
            disclosure::reasons(&c.blocking)
        );
    }
    let exported: Vec<&Chosen> = match override_reason {
        Some(_) => chosen.iter().collect(),
        None => allowed,
    };
    if exported.is_empty() {
        super::tell!(
            "triage: every selected item ({}) is refused by its providers' conditions; nothing written",
            refused.len()
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(reason) = override_reason {
        for c in &blocked {
            super::tell!(
                "triage: override: {} exported despite {} (reason: {reason})",
                crate::store::reference(c.detail.row.id),
                disclosure::names(&c.blocking).join(", ")
            );
        }
    }

    let providers = sources::list(&case)?;
    let confidential: BTreeSet<String> = disclosure::confidential(
        providers
            .iter()
            .map(|s| (s.name.clone(), s.conditions.as_slice())),
    );
    let case_id = case
        .info("case_id")?
        .unwrap_or_else(|| "(unknown)".to_string());
    let (head_seq, head_hash) = export_rows::chain_head(&case)?;
    let exported_at = crate::clock::now();

    let mut writer = bag::Writer::with_algorithms(out, &algs)?;
    let written = (|| -> Result<bag::Finished> {
        let mut metadata = String::new();
        let mut audit = String::new();
        for c in &exported {
            let d = &c.detail;
            let r = &d.row;
            let reference = crate::store::reference(r.id);
            let rel = format!("data/originals/{reference}.{}", bag::extension_for(&r.mime));
            // From a bucket, through the read cache (checked against its name on arrival).
            let object = case.objects.local_path(&r.sha256).map_err(|e| {
                anyhow::anyhow!("{reference}: its original cannot be read ({e}); export aborted")
            })?;
            if !object.is_file() {
                bail!(
                    "{reference}: its original is missing from the object store ({}); export aborted",
                    object.display()
                );
            }
            let e = writer
                .copy_payload(&rel, &object)
                .with_context(|| format!("{reference}: cannot copy the original"))?;
            if e.sha256 != r.sha256 || e.size != r.size {
                bail!(
                    "{reference}: the stored original does not match its record (SHA-256 {} and \
                     {} bytes recorded, {} and {} bytes found in {}): the object store was \
                     altered; export aborted",
                    r.sha256,
                    r.size,
                    e.sha256,
                    e.size,
                    object.display()
                );
            }
            let mut v = super::json::item(d, &tax, true);
            v["file"] = json!(rel);
            v["conditions"] = json!(disclosure::names(&c.conditions));
            if !c.blocking.is_empty() {
                v["override_reason"] = json!(override_reason);
            }
            disclosure::withhold_item(&mut v, &r.first_source, &confidential);
            metadata.push_str(&serde_json::to_string(&v)?);
            metadata.push('\n');
            for entry in crate::store::audit::for_item(&case, r.id)? {
                let mut a = serde_json::to_value(&entry)?;
                a["ref"] = json!(reference);
                a["prev_hash"] = json!(entry.prev_hash);
                let before = a.clone();
                disclosure::withhold(&mut a, &confidential);
                if a != before {
                    // Its hash no longer recomputes; the receiving case is told why.
                    a["withheld"] = json!(true);
                }
                audit.push_str(&serde_json::to_string(&a)?);
                audit.push('\n');
            }
        }
        audit.push_str(&serde_json::to_string(&json!({
            "chain_head": { "case_id": case_id, "seq": head_seq, "hash": head_hash,
                            "at": exported_at },
        }))?);
        audit.push('\n');
        writer.write_payload("data/metadata.jsonl", metadata.as_bytes())?;
        if let Some(i) = &incident {
            // The incident's record with the items exported (refused ones stay out).
            let mut v = super::incident::json_of(i);
            v["items"] = json!(exported
                .iter()
                .map(|c| crate::store::reference(c.detail.row.id))
                .collect::<Vec<_>>());
            writer.write_payload(
                "data/incidents.jsonl",
                format!("{}\n", serde_json::to_string(&v)?).as_bytes(),
            )?;
        }
        writer.write_payload("data/audit.jsonl", audit.as_bytes())?;
        writer.write_payload(
            "data/chain-head.txt",
            format!(
                "Triage-Case-Id: {case_id}\nChain-Head-Seq: {head_seq}\nChain-Head-Hash: {head_hash}\nExported-At: {exported_at}\n"
            )
            .as_bytes(),
        )?;
        let mut info = vec![
            (
                "Source-Organization".to_string(),
                format!("triage case {case_id}"),
            ),
            (
                "Bag-Software-Agent".to_string(),
                format!("triage {}", env!("CARGO_PKG_VERSION")),
            ),
        ];
        if let Some(p) = purpose {
            info.push(("External-Description".to_string(), p.to_string()));
        }
        info.push(("Triage-Case-Id".to_string(), case_id.clone()));
        info.push((
            "Triage-Chain-Head".to_string(),
            format!("{head_seq} {head_hash}"),
        ));
        if let Some(p) = purpose {
            info.push(("Triage-Purpose".to_string(), p.to_string()));
        }
        info.push(("Triage-Exported-By".to_string(), me.clone()));
        writer.finish(&info)
    })();
    let finished = match written {
        Ok(f) => f,
        Err(e) => {
            let root = writer.root().display().to_string();
            if let Err(clean) = writer.abandon() {
                super::tell!("triage: {root}: could not remove the incomplete bag: {clean:#}");
            }
            return Err(e);
        }
    };

    let out_abs = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let refs = |cs: &[&Chosen]| -> Vec<String> {
        cs.iter()
            .map(|c| crate::store::reference(c.detail.row.id))
            .collect()
    };
    let details = json!({
        "purpose": purpose,
        "out": crate::text::path_for_json(out_abs.as_os_str().as_encoded_bytes()),
        "filter": filter,
        "incident": incident.as_ref().map(|i| incidents::reference(i.id)),
        "court": court,
        "exported": refs(&exported),
        "refused": refused.iter().map(|c| json!({
            "ref": crate::store::reference(c.detail.row.id),
            "conditions": disclosure::names(&c.blocking),
            "reason": disclosure::reasons(&c.blocking),
        })).collect::<Vec<_>>(),
        "override": override_reason.map(|reason| json!({
            "reason": reason,
            "items": blocked.iter().map(|c| json!({
                "ref": crate::store::reference(c.detail.row.id),
                "conditions": disclosure::names(&c.blocking),
            })).collect::<Vec<_>>(),
        })),
        "identity_withheld": confidential,
        "chain_head": { "seq": head_seq, "hash": head_hash },
        "bag": {
            "payload_bytes": finished.payload_bytes,
            "payload_files": finished.payload_files,
            "manifest_sha256": finished.manifest_sha256,
            "tagmanifest_sha256": finished.tagmanifest_sha256,
            "algorithms": finished.algorithms,
        },
    });
    let recorded = case.write(|tx| export_rows::record(tx, &me, &details));
    if let Err(e) = recorded {
        let root = writer.root().display().to_string();
        if let Err(clean) = writer.abandon() {
            super::tell!("triage: {root}: could not remove the unrecorded bag: {clean:#}");
        }
        return Err(anyhow!(e)
            .context("the export could not be recorded in the audit log, so its bag was removed"));
    }
    if json_out {
        // The summary is what the audit log recorded for this export.
        super::out::json(&details)?;
    } else {
        super::say!(
            "exported {} items ({} payload files, {:.1} MB) to {}; {} refused",
            exported.len(),
            finished.payload_files,
            finished.payload_bytes as f64 / 1e6,
            out.display(),
            refused.len()
        );
    }
    Ok(if refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
