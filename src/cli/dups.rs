//! `triage dups`: items received more than once, and images that show the same picture
//! (re-encoded, resized, lightly cropped or rotated copies), found by their fingerprints.
//! Image items without a fingerprint (ingested before fingerprints existed, or imported) are
//! fingerprinted first, from their originals.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::ingest::fingerprint::{self, Rule};
use crate::store::dups::{self, Missing};
use crate::store::{reference, Case};

/// The default largest pHash distance (of 63 bits); measured on the benchmark corpora
/// (benches/dups_precision.py).
pub const DEFAULT_THRESHOLD: u32 = 10;
/// The dHash bound that goes with the default: a second, independent check that keeps
/// look-alike scenes apart.
pub const DEFAULT_DHASH: u32 = 16;

pub fn run(case: Option<PathBuf>, json: bool, threshold: Option<u32>) -> Result<ExitCode> {
    let mut case = super::open_case(case)?;
    let progress = super::is_terminal(2);
    let filled = backfill(&mut case, progress)?;
    if filled.done + filled.failed > 0 {
        eprintln!(
            "fingerprinted {} image{} from their originals{}",
            filled.done,
            if filled.done == 1 { "" } else { "s" },
            if filled.failed > 0 {
                format!(", {} could not be", filled.failed)
            } else {
                String::new()
            }
        );
    }
    let rule = match threshold {
        Some(t) => Rule {
            phash: t,
            dhash: DEFAULT_DHASH.max(t),
        },
        None => Rule {
            phash: DEFAULT_THRESHOLD,
            dhash: DEFAULT_DHASH,
        },
    };
    let exact = dups::received_more_than_once(&case.conn)?;
    let prints = dups::fingerprints(&case.conn)?;
    let similar = fingerprint::group_similar(&prints, rule);

    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if json {
        let mut groups: Vec<serde_json::Value> = exact
            .iter()
            .map(|(id, _)| json!({"kind": "exact", "refs": [reference(*id)]}))
            .collect();
        groups.extend(similar.iter().map(|g| {
            json!({"kind": "similar", "refs": g.iter().map(|id| reference(*id)).collect::<Vec<_>>()})
        }));
        writeln!(out, "{}", json!({ "groups": groups }))?;
    } else {
        for (id, n) in &exact {
            writeln!(out, "exact    {}  received {n} times", reference(*id))?;
        }
        for g in &similar {
            let refs: Vec<String> = g.iter().map(|id| reference(*id)).collect();
            writeln!(out, "similar  {}", refs.join(" "))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Default)]
pub struct Backfilled {
    pub done: u64,
    pub failed: u64,
}

/// Rows written per transaction: short, so an ingest or a reviewer beside it is not held up.
const BACKFILL_ROWS: usize = 500;
/// Fingerprinting failures named on stderr (the rest are counted).
const NAMED_FAILURES: u64 = 20;

/// Fingerprint the image items that have none, from their stored originals, on every core;
/// written in short transactions as results come in (an interrupted backfill keeps what it
/// wrote). A failure is reported on stderr; the item is tried again by the next run.
pub fn backfill(case: &mut Case, progress: bool) -> Result<Backfilled> {
    let missing = dups::missing_fingerprints(&case.conn)?;
    let mut filled = Backfilled::default();
    if missing.is_empty() {
        return Ok(filled);
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(missing.len());
    let next = AtomicUsize::new(0);
    let objects = case.objects.clone();
    let total = missing.len();
    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(i64, Result<(i64, i64), String>)>(256);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, missing, objects) = (&next, &missing, &objects);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(Missing {
                    id,
                    sha256,
                    orientation,
                }) = missing.get(i)
                else {
                    return;
                };
                let r = fingerprint::of_file(&objects.path_of(sha256), *orientation)
                    .map(fingerprint::Fingerprint::to_sql);
                if tx.send((*id, r)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut pending: Vec<(i64, i64, i64)> = Vec::with_capacity(BACKFILL_ROWS);
        let mut since = Instant::now();
        let mut shown = Instant::now();
        let flush = |case: &mut Case, pending: &mut Vec<(i64, i64, i64)>| -> Result<()> {
            if !pending.is_empty() {
                case.write(|tx| {
                    for &(id, d, p) in pending.iter() {
                        dups::record_fingerprint(tx, id, d, p)?;
                    }
                    Ok(())
                })?;
                pending.clear();
            }
            Ok(())
        };
        for (id, r) in rx {
            match r {
                Ok((d, p)) => {
                    filled.done += 1;
                    pending.push((id, d, p));
                }
                Err(e) => {
                    filled.failed += 1;
                    if filled.failed <= NAMED_FAILURES {
                        eprintln!("triage: {}: {e}", reference(id));
                    }
                }
            }
            if pending.len() >= BACKFILL_ROWS || since.elapsed() > Duration::from_secs(1) {
                flush(case, &mut pending)?;
                since = Instant::now();
            }
            if progress && shown.elapsed() > Duration::from_millis(200) {
                eprint!(
                    "\rfingerprinting images: {} of {total}",
                    filled.done + filled.failed
                );
                shown = Instant::now();
            }
        }
        flush(case, &mut pending)?;
        if progress {
            eprint!("\r\x1b[K");
        }
        Ok(())
    })?;
    if filled.failed > NAMED_FAILURES {
        eprintln!(
            "triage: … and {} more images could not be fingerprinted",
            filled.failed - NAMED_FAILURES
        );
    }
    Ok(filled)
}
