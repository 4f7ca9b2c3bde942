//! `triage import BAG --source NAME`: take in a BagIt bag (RFC 8493 or 0.97) made by triage or
//! by any other BagIt tool.
//!
//! The whole bag is validated first (every manifest and tag manifest, whatever its algorithm,
//! every payload file listed, tag files in the encoding the bag declares); a bag with any
//! problem is refused with every problem, and only the refusal is recorded. A bag triage made
//! (`Triage-Case-Id` in `bag-info.txt` and `data/metadata.jsonl`) keeps its meaning: its items
//! as described there, the sending case's history recomputed against its chain head, its tags
//! applied by the importing login with the sender's who/when/case kept as imported claims. In
//! a bag from any other tool every payload file is an item, described as `ingest` describes a
//! file while it is copied in. Either way the originals are copied into the object store (from
//! descriptors checked to be the validated files, hashed again while copied) and made durable,
//! then the rows are recorded in transactions of at most 500 items, the bag's `bag-info.txt`
//! kept as provenance of every item and each file's own fixity in its audit entry.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use serde_json::Value;

use super::{import_describe, import_history};
use crate::bag::{self, Problem};
use crate::ingest::fingerprint::Made;
use crate::ingest::meta::Metadata;
use crate::store::audit::Chain;
use crate::store::import_rows::{self, ImportedItem, ImportedTag, Origin, Recorded};
use crate::store::ingest_rows::Described;
use crate::store::objects::TempSession;
use crate::store::Case;
use crate::taxonomy::Taxonomy;
use crate::text::sanitize;

/// Items recorded per transaction: short ones, so a reviewer beside the import is not held up.
const ITEMS_PER_TRANSACTION: usize = 500;

/// One item of the bag, checked and reduced to what is recorded.
struct Incoming {
    original_ref: String,
    sha256: String,
    size: u64,
    file: String,
    mime: String,
    kind: String,
    ext_mismatch: Option<String>,
    metadata_json: String,
    captured_at: Option<String>,
    name: String,
    paths: Vec<(Vec<u8>, Option<String>)>,
    /// (term, kind in this case's taxonomy, set by, set at) as the sender recorded them.
    tags: Vec<(String, String, Option<String>, Option<String>)>,
    /// Terms this case's taxonomy does not know: not applied.
    unknown_terms: Vec<String>,
    /// Described from its content while copied in (a bag from another tool), not by the bag.
    describe: bool,
    fingerprint: Option<Made>,
}

#[derive(Default)]
struct Summary {
    new: usize,
    duplicates: usize,
    unchanged: usize,
    tags: usize,
}

/// A bag triage made: its items are described in `data/metadata.jsonl`.
fn made_by_triage(valid: &bag::Valid) -> bool {
    valid.info("Triage-Case-Id").is_some() && valid.file(METADATA).is_some()
}

const METADATA: &str = "data/metadata.jsonl";

pub fn run(
    case: Option<PathBuf>,
    bag_dir: &Path,
    source: &str,
    json_out: bool,
) -> Result<ExitCode> {
    if source.trim().is_empty() {
        super::tell!("triage: --source must name the provider the bag comes from");
        return Ok(ExitCode::from(2));
    }
    let mut case = super::open_as_member(case)?;
    let actor = crate::identity::login_name()?;
    crate::store::users::authorize(
        &case,
        &actor,
        crate::store::users::Right::Intake,
        &format!("import --source {source}"),
    )?;
    let tax = super::taxonomy(&case)?;
    let bag_abs = std::fs::canonicalize(bag_dir).unwrap_or_else(|_| bag_dir.to_path_buf());
    let bag_json = crate::text::path_for_json(bag_abs.as_os_str().as_bytes());

    let checked = bag::validate(bag_dir).and_then(|valid| {
        let (items, history) = if made_by_triage(&valid) {
            read_contents(&valid, &tax)?
        } else {
            (payload_items(&valid), History::new())
        };
        Ok((valid, items, history))
    });
    let (valid, mut incoming, history) = match checked {
        Ok(v) => v,
        Err(problems) => return refuse(&mut case, &actor, bag_dir, &bag_json, source, &problems),
    };
    let triage_bag = made_by_triage(&valid);
    let sending_case = triage_bag
        .then(|| valid.info("Triage-Case-Id").map(str::to_string))
        .flatten();

    if let Some(p) = store_originals(&case, &valid, &mut incoming)? {
        return refuse(&mut case, &actor, bag_dir, &bag_json, source, &[p]);
    }

    let origin = Origin {
        bag: &bag_json,
        sending_case: sending_case.as_deref(),
        source,
        actor: &actor,
        bagit_version: &valid.version,
        bag_info: &valid.info,
    };
    for it in &incoming {
        for term in &it.unknown_terms {
            super::tell!(
                "triage: {} ({}): tag {} is not in this case's taxonomy; not applied (it stays in the imported history)",
                sanitize(&it.original_ref),
                sanitize(&it.file),
                sanitize(term)
            );
        }
    }
    let (summary, batch, first_new) = record(&mut case, &origin, &valid, &incoming, &history)?;
    let incidents = match (batch, &sending_case) {
        (Some(b), Some(from)) => record_incidents(&mut case, &actor, b, from, &valid, &incoming)?,
        _ => 0,
    };
    let members = expand_containers(&mut case, bag_dir, source, &actor, &incoming)?;
    if summary.new > 0 {
        crate::store::search_index::update_statistics(&case)?;
    }
    if let Some(first) = first_new {
        // New images join the similar-image groups, as after an ingest.
        crate::similar::regroup_new(&mut case, first - 1, crate::similar::DEFAULT)?;
    }
    let from = match (&sending_case, valid.info("Source-Organization")) {
        (Some(c), _) => format!("case {c}"),
        (None, Some(org)) => org.to_string(),
        (None, None) => "(not named)".to_string(),
    };
    if json_out {
        super::out::json(&serde_json::json!({
            "bag": bag_json,
            "bagit_version": valid.version,
            "from": from,
            "new": summary.new,
            "duplicates": summary.duplicates,
            "unchanged": summary.unchanged,
            "tags": summary.tags,
            "incidents": incidents,
            "batch": batch,
            "members": members.as_ref().map_or(0, |m| m.members),
            "member_batch": members.as_ref().map(|m| m.batch),
            "problems": members.as_ref().map_or(&[][..], |m| &m.problems[..]),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    super::say!(
        "imported {} (BagIt {}) from {}: {} new, {} duplicates, {} already recorded, {} tags applied (batch {})",
        sanitize(&bag_dir.display().to_string()),
        sanitize(&valid.version),
        sanitize(&from),
        summary.new,
        summary.duplicates,
        summary.unchanged,
        summary.tags,
        batch.map(|b| b.to_string()).unwrap_or_else(|| "-".into())
    );
    if incidents > 0 {
        super::say!(
            "{incidents} incidents kept as the sender's claims: `triage incident claims` lists them, `triage incident merge` makes them local"
        );
    }
    if let Some(m) = &members {
        super::say!(
            "expanded its containers: {} members ({} new, batch {})",
            m.members,
            m.new,
            m.batch
        );
        for p in &m.problems {
            super::tell!("triage: {}: {}", sanitize(&p.path), sanitize(&p.reason));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Containers that came in the bag (archives, e-mails with attachments) are expanded as at
/// ingest: an ingest of their files in the bag, under the same provider, so each member is
/// an item (or a provenance record of one) linked to its container, within the same limits.
/// The container gains a provenance record naming its file in the bag.
fn expand_containers(
    case: &mut Case,
    bag_dir: &Path,
    source: &str,
    actor: &str,
    incoming: &[Incoming],
) -> Result<Option<crate::ingest::Summary>> {
    let roots: Vec<PathBuf> = incoming
        .iter()
        .filter(|it| {
            it.kind == "archive"
                || (it.kind == "email"
                    && serde_json::from_str::<Metadata>(&it.metadata_json)
                        .ok()
                        .and_then(|m| m.email)
                        .is_some_and(|e| !e.attachment_details.is_empty()))
        })
        .map(|it| bag_dir.join(&it.file))
        .collect();
    if roots.is_empty() {
        return Ok(None);
    }
    let summary = crate::ingest::run(
        case,
        &crate::ingest::Options {
            source: source.to_string(),
            roots,
            actor: actor.to_string(),
            progress: false,
            fingerprints: true,
            limits: crate::ingest::family::Limits::default(),
        },
    )?;
    Ok(Some(summary))
}

/// Record the items in transactions of at most `ITEMS_PER_TRANSACTION`, the batch (with the bag's
/// `bag-info.txt`) begun in the first. Returns the counts, the batch and the first new item.
fn record(
    case: &mut Case,
    origin: &Origin,
    valid: &bag::Valid,
    incoming: &[Incoming],
    history: &History,
) -> Result<(Summary, Option<i64>, Option<i64>)> {
    let empty: Vec<Value> = Vec::new();
    let mut summary = Summary::default();
    let mut batch: Option<i64> = None;
    let mut first_new: Option<i64> = None;
    for chunk in incoming.chunks(ITEMS_PER_TRANSACTION) {
        let (b, results) = case.write(|tx| {
            let mut chain = Chain::load(tx)?;
            let b = match batch {
                Some(b) => b,
                None => import_rows::begin_batch(tx, &mut chain, origin)?,
            };
            let mut results = Vec::with_capacity(chunk.len());
            for it in chunk {
                let tags: Vec<ImportedTag> = it
                    .tags
                    .iter()
                    .map(|(term, kind, set_by, set_at)| ImportedTag {
                        term,
                        kind,
                        claimed_by: set_by.as_deref(),
                        claimed_at: set_at.as_deref(),
                    })
                    .collect();
                let hist = history.get(&it.original_ref).unwrap_or(&empty);
                let recorded = import_rows::record_item(
                    tx,
                    &mut chain,
                    b,
                    origin,
                    &ImportedItem {
                        item: Described {
                            sha256: &it.sha256,
                            size: it.size,
                            mime: &it.mime,
                            kind: &it.kind,
                            ext_mismatch: it.ext_mismatch.as_deref(),
                            metadata_json: &it.metadata_json,
                            captured_at: it.captured_at.as_deref(),
                            name: &it.name,
                        },
                        original_ref: &it.original_ref,
                        bag_file: &it.file,
                        paths: &it.paths,
                        tags: &tags,
                        history: hist,
                        fixity: valid.fixity.get(&it.file),
                    },
                )?;
                if let (Recorded::New { id, .. }, Some(made)) = (recorded, &it.fingerprint) {
                    crate::store::dups::record_fingerprint(tx, id, made.print, &made.thumb)?;
                    if let Some(kept) = &made.preview {
                        crate::store::kept_previews::record(tx, id, kept)?;
                    }
                }
                results.push(recorded);
            }
            let touched: Vec<i64> = results
                .iter()
                .filter_map(|r| match r {
                    Recorded::New { id, .. } | Recorded::Duplicate { id, .. } => Some(*id),
                    Recorded::Unchanged(_) => None,
                })
                .collect();
            crate::store::search_index::refresh_many(tx, &touched)?;
            Ok((b, results))
        })?;
        batch = Some(b);
        for r in results {
            match r {
                Recorded::New { id, tags } => {
                    summary.new += 1;
                    summary.tags += tags;
                    first_new = Some(first_new.map_or(id, |f| f.min(id)));
                }
                Recorded::Duplicate { tags, .. } => {
                    summary.duplicates += 1;
                    summary.tags += tags;
                }
                Recorded::Unchanged(_) => summary.unchanged += 1,
            }
        }
    }
    Ok((summary, batch, first_new))
}

/// Copy the originals into the object store, durable before any row names them; the files
/// of a bag from another tool are described on the way. A file that is no longer the one
/// validated is the problem returned (nothing recorded, no copy left).
fn store_originals(
    case: &Case,
    valid: &bag::Valid,
    incoming: &mut [Incoming],
) -> Result<Option<Problem>> {
    for note in case.objects.abort_interrupted_uploads() {
        super::tell!("triage: {note}");
    }
    // The session's folder, with any copy left in it, is removed when it is dropped.
    let session = case.objects.session()?;
    let mut temps = Vec::new();
    let copied = copy_originals(case, &session, valid, incoming, &mut temps);
    if !matches!(copied, Ok(None)) {
        return copied;
    }
    if temps.is_empty() {
        return Ok(None);
    }
    // As ingest does: the copies durable before they are moved into place (one syncfs, not
    // one fsync per file), the moves durable before any row names them.
    case.objects.sync()?;
    for (tmp, sha) in &temps {
        case.objects.install(tmp, sha)?;
    }
    case.objects.sync()?;
    Ok(None)
}

/// Copy each original into a temporary object (listed in `temps` with its SHA-256).
fn copy_originals(
    case: &Case,
    session: &TempSession,
    valid: &bag::Valid,
    incoming: &mut [Incoming],
    temps: &mut Vec<(PathBuf, String)>,
) -> Result<Option<Problem>> {
    let mut buf = vec![0u8; crate::ingest::copy::CHUNK];
    for (n, it) in incoming.iter_mut().enumerate() {
        if !it.describe && case.objects.contains(&it.sha256) {
            continue;
        }
        // The descriptor is checked to be the very file validated: a file swapped after
        // validation (for a FIFO, another file) is refused, never waited on.
        let mut input = match valid.open(&it.file) {
            Ok(f) => f,
            Err(reason) => {
                return Ok(Some(Problem {
                    path: it.file.clone(),
                    reason,
                }));
            }
        };
        let src = valid.root.join(&it.file);
        let (tmp, mut out) = session.temp_file(0, n as u64).with_context(|| {
            format!(
                "{}: cannot create a temporary file",
                case.objects.describe()
            )
        })?;
        let copied = if it.describe {
            if let Some(p) = it.paths.first_mut() {
                p.1 = input
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .map(crate::clock::from_system_time);
            }
            import_describe::copy(&mut input, &mut out, &mut buf).map(
                |(sha, size, kept, complete)| {
                    if sha == it.sha256 {
                        let d = import_describe::describe(&it.name, &kept, complete, &tmp);
                        it.mime = d.mime;
                        it.kind = d.kind.to_string();
                        it.ext_mismatch = d.ext_mismatch;
                        it.metadata_json = d.metadata_json;
                        it.captured_at = d.captured_at;
                        it.fingerprint = d.fingerprint;
                    }
                    (sha, size)
                },
            )
        } else {
            import_describe::copy(&mut input, &mut out, &mut buf).map(
                |(sha, size, _kept, _complete)| {
                    if sha == it.sha256 && it.kind == "image" {
                        it.fingerprint = import_describe::fingerprint_only(&it.metadata_json, &tmp);
                    }
                    (sha, size)
                },
            )
        };
        drop(out);
        let (sha, _) = match copied {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(
                    anyhow!(e).context(format!("{}: cannot copy into the case", shown(&src)))
                );
            }
        };
        if sha != it.sha256 {
            let _ = std::fs::remove_file(&tmp);
            return Ok(Some(Problem {
                path: it.file.clone(),
                reason: format!(
                    "changed while being imported (SHA-256 now {sha}, validated as {})",
                    it.sha256
                ),
            }));
        }
        temps.push((tmp, it.sha256.clone()));
    }
    Ok(None)
}

/// Every payload file of a bag from another tool, as an item to describe when copied in.
fn payload_items(valid: &bag::Valid) -> Vec<Incoming> {
    valid
        .payload
        .values()
        .map(|e| {
            let (name, path) = import_describe::names(&e.path);
            Incoming {
                original_ref: String::new(),
                sha256: e.sha256.clone(),
                size: e.size,
                file: e.path.clone(),
                mime: "application/octet-stream".into(),
                kind: "other".into(),
                ext_mismatch: None,
                metadata_json: "{}".into(),
                captured_at: None,
                name,
                paths: vec![(path, None)],
                tags: Vec::new(),
                unknown_terms: Vec::new(),
                describe: true,
                fingerprint: None,
            }
        })
        .collect()
}

/// A bag with problems: record the refusal (a case-level event, nothing else) and list them.
fn refuse(
    case: &mut Case,
    actor: &str,
    bag_dir: &Path,
    bag_json: &Value,
    source: &str,
    problems: &[Problem],
) -> Result<ExitCode> {
    let listed = serde_json::to_value(problems)?;
    case.write(|tx| import_rows::record_refused(tx, actor, bag_json, source, &listed))?;
    super::tell!(
        "triage: {}: refused, nothing imported ({} problem{}):",
        sanitize(&bag_dir.display().to_string()),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        super::tell!("{}: {}", sanitize(&p.path), sanitize(&p.reason));
    }
    Ok(ExitCode::from(1))
}

type History = HashMap<String, Vec<Value>>;

/// A path inside a bag, for messages: its names come from the bag, so they are sanitised.
fn shown(p: &Path) -> crate::text::Safe {
    sanitize(&p.display().to_string())
}

/// Read `data/metadata.jsonl` and `data/audit.jsonl` of a valid bag. Both are untrusted: any
/// line that does not hold together is a problem, and the bag is refused as a whole.
fn read_contents(
    valid: &bag::Valid,
    tax: &Taxonomy,
) -> std::result::Result<(Vec<Incoming>, History), Vec<Problem>> {
    const META: &str = METADATA;
    const AUDIT: &str = "data/audit.jsonl";
    let mut problems = Vec::new();
    let mut incoming = Vec::new();
    match read_listed(valid, META) {
        Ok(Some(text)) => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match parse_item(valid, tax, line) {
                    Ok(it) => incoming.push(it),
                    Err(reason) => problems.push(Problem {
                        path: META.into(),
                        reason: format!("line {}: {reason}", i + 1),
                    }),
                }
            }
            if incoming.is_empty() && problems.is_empty() {
                problems.push(Problem {
                    path: META.into(),
                    reason: "lists no item".into(),
                });
            }
        }
        Ok(None) => problems.push(Problem {
            path: META.into(),
            reason: "missing".into(),
        }),
        Err(p) => problems.push(p),
    }
    // Every payload original must be described, or it would be silently left behind.
    let described: std::collections::BTreeSet<&str> =
        incoming.iter().map(|i| i.file.as_str()).collect();
    for rel in valid.payload.keys() {
        if rel.starts_with("data/originals/") && !described.contains(rel.as_str()) {
            problems.push(Problem {
                path: rel.clone(),
                reason: format!("not described in {META}"),
            });
        }
    }
    let mut history: History = HashMap::new();
    let mut entries: Vec<(usize, Value)> = Vec::new();
    let mut head: Option<import_history::Head> = None;
    match read_listed(valid, AUDIT) {
        Ok(Some(text)) => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(v) if v.get("chain_head").is_some() => {
                        head = import_history::parse_head(&v["chain_head"]);
                        if head.is_none() {
                            problems.push(Problem {
                                path: AUDIT.into(),
                                reason: format!(
                                    "line {}: a chain_head without seq and hash",
                                    i + 1
                                ),
                            });
                        }
                    }
                    Ok(v) => match v.get("ref").and_then(Value::as_str) {
                        Some(r) => {
                            entries.push((i + 1, v.clone()));
                            history.entry(r.to_string()).or_default().push(v)
                        }
                        None => problems.push(Problem {
                            path: AUDIT.into(),
                            reason: format!("line {}: an entry without \"ref\"", i + 1),
                        }),
                    },
                    Err(e) => problems.push(Problem {
                        path: AUDIT.into(),
                        reason: format!("line {}: not JSON: {e}", i + 1),
                    }),
                }
            }
        }
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    // The history goes in only if it holds together and agrees with the recorded head.
    let mut others = Vec::new();
    if let Some(v) = valid.info("Triage-Chain-Head") {
        match import_history::parse_head_info(v) {
            Some(h) => others.push((bag::BAG_INFO, h)),
            None => problems.push(Problem {
                path: bag::BAG_INFO.into(),
                reason: "Triage-Chain-Head is not `<seq> <hash>`".into(),
            }),
        }
    }
    const HEAD_TXT: &str = "data/chain-head.txt";
    match read_listed(valid, HEAD_TXT) {
        Ok(Some(text)) => match import_history::parse_head_text(&text) {
            Some(h) => others.push((HEAD_TXT, h)),
            None => problems.push(Problem {
                path: HEAD_TXT.into(),
                reason: "no Chain-Head-Seq and Chain-Head-Hash lines".into(),
            }),
        },
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    if head.is_some() || !entries.is_empty() {
        problems.extend(import_history::check(&entries, head.as_ref(), &others));
    }
    if problems.is_empty() {
        Ok((incoming, history))
    } else {
        Err(problems)
    }
}

/// The sender's incidents (`data/incidents.jsonl` of a triage bag), each with the items it
/// linked matched to local ones, kept as claims. The file is evidence like the rest: a line that
/// does not read as an incident is named and skipped.
fn record_incidents(
    case: &mut Case,
    actor: &str,
    batch: i64,
    sending_case: &str,
    valid: &bag::Valid,
    incoming: &[Incoming],
) -> Result<usize> {
    let text = match read_listed(valid, "data/incidents.jsonl") {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(0),
        Err(p) => {
            super::tell!("triage: {}: {}; no incident imported", p.path, p.reason);
            return Ok(0);
        }
    };
    let mut n = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parsed = serde_json::from_str::<Value>(line).ok().and_then(|v| {
            let record: crate::store::incidents::Record = serde_json::from_value(v.clone()).ok()?;
            crate::store::incidents::check(&record).ok()?;
            let original_ref = v.get("ref")?.as_str()?.to_string();
            let refs: Vec<String> = v
                .get("items")?
                .as_array()?
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            Some((record, original_ref, refs))
        });
        let Some((record, original_ref, refs)) = parsed else {
            super::tell!(
                "triage: data/incidents.jsonl line {}: not an incident; skipped",
                i + 1
            );
            continue;
        };
        let mut items = Vec::new();
        for r in &refs {
            if let Some(it) = incoming.iter().find(|it| &it.original_ref == r) {
                if let Ok(id) = crate::store::items::find(&*case, &it.sha256) {
                    items.push(id);
                }
            }
        }
        items.sort_unstable();
        items.dedup();
        case.write(|tx| {
            let mut chain = Chain::load(tx)?;
            crate::store::incidents::record_imported(
                tx,
                &mut chain,
                batch,
                actor,
                &crate::store::incidents::Sent {
                    sending_case,
                    original_ref: &original_ref,
                    record: &record,
                    items: &items,
                },
            )
        })?;
        n += 1;
    }
    Ok(n)
}

fn read_listed(valid: &bag::Valid, rel: &str) -> std::result::Result<Option<String>, Problem> {
    if valid.file(rel).is_none() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    valid
        .open(rel)
        .and_then(|mut f| {
            f.read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read: {e}"))
        })
        .map_err(|reason| Problem {
            path: rel.into(),
            reason,
        })?;
    String::from_utf8(bytes).map(Some).map_err(|_| Problem {
        path: rel.into(),
        reason: "not UTF-8".into(),
    })
}

fn parse_item(
    valid: &bag::Valid,
    tax: &Taxonomy,
    text: &str,
) -> std::result::Result<Incoming, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let str_field = |k: &str| v.get(k).and_then(Value::as_str);
    let sha256 = str_field("sha256")
        .map(str::to_ascii_lowercase)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("no valid \"sha256\"")?;
    let file = str_field("file").ok_or("no \"file\"")?.to_string();
    let Some((_, entry)) = valid.file(&file) else {
        return Err(format!(
            "\"file\" {file:?} is not a payload file of the bag"
        ));
    };
    if entry.sha256 != sha256 {
        return Err(format!(
            "\"sha256\" {sha256} but {file:?} has SHA-256 {}",
            entry.sha256
        ));
    }
    if let Some(size) = v.get("size") {
        if size.as_u64() != Some(entry.size) {
            return Err(format!(
                "\"size\" {size} but {file:?} is {} bytes",
                entry.size
            ));
        }
    }
    let original_ref = str_field("ref").unwrap_or_default().to_string();
    let mime = str_field("mime")
        .filter(|m| m.len() <= 255 && m.contains('/') && m.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("application/octet-stream")
        .to_string();
    let kind = str_field("type")
        .filter(|k| crate::ingest::detect::Kind::parse(k).is_some())
        .unwrap_or("other")
        .to_string();
    let metadata: Metadata = match v.get("metadata") {
        None | Some(Value::Null) => Metadata::default(),
        Some(m) => serde_json::from_value(m.clone()).unwrap_or_else(|e| Metadata {
            warnings: vec![format!("metadata in the bag could not be read: {e}")],
            ..Metadata::default()
        }),
    };
    let metadata_json = serde_json::to_string(&metadata).map_err(|e| e.to_string())?;
    let captured_at = str_field("captured_at")
        .filter(|s| s.len() <= 64)
        .map(str::to_string);
    let ext_mismatch = str_field("ext_mismatch").map(str::to_string);
    let name = str_field("name")
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| crate::text::file_name(file.as_bytes()));
    let mut paths: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    if let Some(list) = v.get("sources").and_then(Value::as_array) {
        for s in list {
            let bytes = match s.get("path_b64").and_then(Value::as_str) {
                Some(b) => Some(
                    crate::text::b64_decode(b)
                        .ok_or_else(|| format!("a \"path_b64\" that is not base64: {b:?}"))?,
                ),
                None => s
                    .get("path")
                    .and_then(Value::as_str)
                    .map(|p| p.as_bytes().to_vec()),
            };
            let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
                continue; // withheld by the sender
            };
            if paths.iter().any(|(p, _)| *p == bytes) {
                continue;
            }
            let mtime = s.get("mtime").and_then(Value::as_str).map(str::to_string);
            paths.push((bytes, mtime));
        }
    }
    let mut tags = Vec::new();
    let mut unknown_terms = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push_tag = |term: &str, set_by: Option<&str>, set_at: Option<&str>| {
        if !seen.insert(term.to_string()) {
            return;
        }
        // Only terms this case's taxonomy knows, with its kind; others stay in the history.
        match tax.get(term) {
            Some(t) => tags.push((
                term.to_string(),
                t.kind.as_str().to_string(),
                set_by.filter(|s| !s.is_empty()).map(str::to_string),
                set_at.filter(|s| !s.is_empty()).map(str::to_string),
            )),
            None => unknown_terms.push(term.to_string()),
        }
    };
    if let Some(details) = v.get("tag_details").and_then(Value::as_array) {
        for t in details {
            let Some(term) = t.get("term").and_then(Value::as_str) else {
                return Err("a tag without \"term\"".into());
            };
            let set_by = t.get("set_by").and_then(Value::as_str);
            let set_at = t.get("set_at").and_then(Value::as_str);
            push_tag(term, set_by, set_at);
        }
    } else if let Some(groups) = v.get("tags").and_then(Value::as_object) {
        for list in groups.values().filter_map(Value::as_array) {
            for term in list.iter().filter_map(Value::as_str) {
                push_tag(term, None, None);
            }
        }
    }
    Ok(Incoming {
        original_ref,
        sha256,
        size: entry.size,
        file,
        mime,
        kind,
        ext_mismatch,
        metadata_json,
        captured_at,
        name,
        paths,
        tags,
        unknown_terms,
        describe: false,
        fingerprint: None,
    })
}
