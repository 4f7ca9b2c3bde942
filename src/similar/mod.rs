//! Similar images: which fingerprinted images show the same picture (re-encoded, resized,
//! lightly cropped or rotated copies), fingerprints and thumbnails computed for the images
//! that lack them, and the groups kept in the case for the console and the filters.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

mod crop;
mod group;

pub use crop::{crop_match, direct_match};
pub use group::{near_pairs_of, union_find};

use crate::ingest::fingerprint::{Fingerprint, Made, Thumb};
use crate::store::dups::{self, Fingerprinted, Unfingerprinted};
use crate::store::{reference, Case};

/// When two images are taken for the same picture. Measured on the benchmark corpora
/// (benches/dups_precision.py), where look-alike material (chat screenshots of one app, street
/// scenes drawn from one palette) is common: fingerprints alone either miss crops or join
/// look-alikes, so only very close fingerprints are trusted alone, and pairs in a wider band
/// are checked on their thumbnails (decoded from the originals).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Within these pHash and dHash distances two images are the same picture, whatever their
    /// size: re-encoded, resized or rotated copies.
    pub tight_phash: u32,
    pub tight_dhash: u32,
    /// Within these, two images of the same size are compared cell for cell.
    pub same_phash: u32,
    pub same_dhash: u32,
    /// Smallest correlation of two same-size thumbnails.
    pub same_accept: f32,
    /// Within these (looser) distances, two images of different sizes and nearly the same
    /// shape may be a crop of one another: their thumbnails are aligned and compared.
    pub crop_phash: u32,
    pub crop_dhash: u32,
    /// Largest difference of the natural logarithms of the two aspect ratios (0.2 ≈ 22 %).
    pub crop_aspect: f32,
    /// Smallest correlation of the aligned thumbnails.
    pub crop_accept: f32,
}

pub const DEFAULT: Tuning = Tuning {
    tight_phash: 2,
    tight_dhash: 8,
    same_phash: 4,
    same_dhash: 12,
    same_accept: 0.98,
    crop_phash: 16,
    crop_dhash: 22,
    crop_aspect: 0.2,
    crop_accept: 0.90,
};

impl Tuning {
    /// `--threshold N`: the pHash distance within which fingerprints alone decide; the
    /// bands checked on thumbnails stay at least as wide.
    pub fn with_threshold(t: u32) -> Tuning {
        let mut tuning = DEFAULT;
        tuning.tight_phash = t;
        tuning.tight_dhash = DEFAULT.tight_dhash + 2 * t.saturating_sub(DEFAULT.tight_phash);
        tuning.same_phash = DEFAULT.same_phash.max(t);
        tuning.same_dhash = DEFAULT.same_dhash.max(tuning.tight_dhash);
        tuning.crop_phash = DEFAULT.crop_phash.max(t);
        tuning.crop_dhash = DEFAULT.crop_dhash.max(tuning.tight_dhash);
        tuning
    }
}

/// Groups of item ids showing the same picture, joined transitively.
pub fn similar_groups(case: &Case, prints: &[Fingerprinted], t: Tuning) -> Result<Vec<Vec<i64>>> {
    let edges = same_picture_pairs(case, prints, None, t)?;
    Ok(groups_of(prints, edges))
}

/// Pairs (indexes into `prints`) joined transitively, as groups of item ids.
fn groups_of(prints: &[Fingerprinted], edges: Vec<(usize, usize)>) -> Vec<Vec<i64>> {
    union_find(prints.len(), edges)
        .into_iter()
        .map(|g| g.into_iter().map(|i| prints[i].id).collect())
        .collect()
}

/// The pairs (indexes into `prints`) taken for the same picture, among those that involve one
/// of `only` (every pair when `None`).
fn same_picture_pairs(
    case: &Case,
    prints: &[Fingerprinted],
    only: Option<&[usize]>,
    t: Tuning,
) -> Result<Vec<(usize, usize)>> {
    let debug = std::env::var_os("TRIAGE_DUPS_DEBUG").is_some();
    let started = Instant::now();
    let fps: Vec<Fingerprint> = prints.iter().map(|p| p.fingerprint).collect();
    let near = near_pairs_of(
        &fps,
        only,
        t.tight_phash.max(t.same_phash).max(t.crop_phash),
        t.tight_dhash.max(t.same_dhash).max(t.crop_dhash),
    );
    let compared = started.elapsed();
    let crop_shaped = |a: &Fingerprinted, b: &Fingerprinted| match (a.size, b.size) {
        (Some(sa), Some(sb)) if sa != sb => {
            let ar = |s: (u32, u32)| (s.0 as f32 / s.1 as f32).ln();
            (ar(sa) - ar(sb)).abs() <= t.crop_aspect
        }
        _ => false,
    };
    let mut edges: Vec<(usize, usize)> = Vec::new();
    // Pairs to check on thumbnails: true when the two are the same size.
    let mut candidates: Vec<(usize, usize, bool)> = Vec::new();
    for n in &near {
        let (a, b) = (n.a as usize, n.b as usize);
        let (pd, dd) = (u32::from(n.phash), u32::from(n.dhash));
        let same_size = prints[a].size.is_some() && prints[a].size == prints[b].size;
        if pd <= t.tight_phash && dd <= t.tight_dhash {
            edges.push((a, b));
        } else if same_size && pd <= t.same_phash && dd <= t.same_dhash {
            candidates.push((a, b, true));
        } else if pd <= t.crop_phash && dd <= t.crop_dhash && crop_shaped(&prints[a], &prints[b]) {
            candidates.push((a, b, false));
        }
    }
    // Pairs already joined need no closer look.
    let joined = union_find(prints.len(), edges.iter().copied());
    let mut group_of: Vec<usize> = (0..prints.len()).collect();
    for g in &joined {
        for &i in g {
            group_of[i] = g[0];
        }
    }
    candidates.retain(|&(a, b, _)| group_of[a] != group_of[b]);
    let mut needed: Vec<usize> = candidates.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    needed.sort_unstable();
    needed.dedup();
    // Kept thumbnails are read for the images in a candidate pair only, and held as stored
    // (1 KB each); only images fingerprinted before thumbnails were kept are decoded again.
    let mut thumbs: Vec<Option<Vec<u8>>> = needed
        .iter()
        .map(|&i| dups::thumb(&case, prints[i].id))
        .collect::<crate::store::DbResult<_>>()?;
    let missing: Vec<usize> = (0..needed.len()).filter(|&k| thumbs[k].is_none()).collect();
    let objects = &case.objects;
    let made = par_map(&missing, |&k| {
        let p = &prints[needed[k]];
        let path = objects.local_path(&p.sha256).ok()?;
        crate::worker::fingerprint_file(&path, p.orientation)
            .ok()
            .map(|m| m.thumb.to_blob())
    });
    for (k, thumb) in missing.into_iter().zip(made) {
        thumbs[k] = thumb;
    }
    let thumb_of = |i: usize| {
        needed
            .binary_search(&i)
            .ok()
            .and_then(|k| thumbs[k].as_deref())
            .and_then(Thumb::from_blob)
    };
    let decoded = started.elapsed();
    let scores: Vec<f32> = par_map(&candidates, |&(a, b, same)| {
        match (thumb_of(a), thumb_of(b)) {
            (Some(ta), Some(tb)) if same => direct_match(&ta, &tb),
            (Some(ta), Some(tb)) => crop_match(&ta, &tb),
            _ => f32::MIN,
        }
    });
    let accepted = candidates
        .iter()
        .zip(&scores)
        .filter(|(&(_, _, same), &s)| s >= if same { t.same_accept } else { t.crop_accept })
        .map(|(&(a, b, _), _)| (a, b));
    let n_edges = edges.len();
    edges.extend(accepted);
    if debug {
        crate::cli::tell!(
            "dups: {} prints, {} near pairs ({:.2} s), {} tight, {} crop candidates, {} thumbs ({:.2} s), {} accepted, total {:.2} s",
            prints.len(),
            near.len(),
            compared.as_secs_f64(),
            n_edges,
            candidates.len(),
            needed.len(),
            (decoded - compared).as_secs_f64(),
            edges.len() - n_edges,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(edges)
}

/// `f` over `items` on every core, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 16);
    let chunk = items.len().div_ceil(threads * 8).max(1);
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (next, f) = (&next, &f);
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(chunk, Ordering::Relaxed);
                        if start >= items.len() {
                            return done;
                        }
                        let end = (start + chunk).min(items.len());
                        done.push((start, items[start..end].iter().map(f).collect()));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    });
    parts.sort_by_key(|(start, _)| *start);
    parts.into_iter().flat_map(|(_, v)| v).collect()
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
    let missing = dups::missing_fingerprints(&case)?;
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
        let (tx, rx) = mpsc::sync_channel::<(i64, Result<Made, String>)>(256);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, missing, objects) = (&next, &missing, &objects);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(Unfingerprinted {
                    id,
                    sha256,
                    orientation,
                }) = missing.get(i)
                else {
                    return;
                };
                let r = objects
                    .local_path(sha256)
                    .and_then(|path| crate::worker::fingerprint_file(&path, *orientation));
                if tx.send((*id, r)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut pending: Vec<(i64, Made)> = Vec::with_capacity(BACKFILL_ROWS);
        let mut since = Instant::now();
        let mut shown = Instant::now();
        // The preview kept for the console comes from the same decoding, as at ingest.
        let flush = |case: &mut Case, pending: &mut Vec<(i64, Made)>| -> Result<()> {
            if !pending.is_empty() {
                case.write(|tx| {
                    for (id, m) in pending.iter() {
                        dups::record_fingerprint(tx, *id, m.print, &m.thumb)?;
                        if let Some(kept) = &m.preview {
                            crate::store::kept_previews::record(tx, *id, kept)?;
                        }
                    }
                    Ok(())
                })?;
                pending.clear();
            }
            Ok(())
        };
        for (id, r) in rx {
            match r {
                Ok(m) => {
                    filled.done += 1;
                    pending.push((id, m));
                }
                Err(e) => {
                    filled.failed += 1;
                    if filled.failed <= NAMED_FAILURES {
                        crate::cli::tell!("triage: {}: {e}", reference(id));
                    }
                }
            }
            if pending.len() >= BACKFILL_ROWS || since.elapsed() > Duration::from_secs(1) {
                flush(case, &mut pending)?;
                since = Instant::now();
            }
            if progress && shown.elapsed() > Duration::from_millis(200) {
                crate::cli::out::err_text(&format!(
                    "\rfingerprinting images: {} of {total}",
                    filled.done + filled.failed
                ));
                shown = Instant::now();
            }
        }
        flush(case, &mut pending)?;
        if progress {
            crate::cli::out::err_text("\r\x1b[K");
        }
        Ok(())
    })?;
    if filled.failed > NAMED_FAILURES {
        crate::cli::tell!(
            "triage: … and {} more images could not be fingerprinted",
            filled.failed - NAMED_FAILURES
        );
    }
    Ok(filled)
}

/// Group every fingerprinted image under `tuning` and keep the groups in the case.
pub fn regroup(case: &mut Case, tuning: Tuning) -> Result<Vec<Vec<i64>>> {
    let prints = dups::fingerprints(&case)?;
    let groups = similar_groups(case, &prints, tuning)?;
    case.write(|tx| dups::record_similar_groups(tx, &groups))?;
    Ok(groups)
}

/// After an ingest: compare the images of items above `after_id` with the whole case (not
/// the case with itself) and join them to the groups kept in the case.
pub fn regroup_new(case: &mut Case, after_id: i64, tuning: Tuning) -> Result<()> {
    let prints = dups::fingerprints(&case)?;
    let new: Vec<usize> = (0..prints.len())
        .filter(|&i| prints[i].id > after_id)
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let mut edges = same_picture_pairs(case, &prints, Some(&new), tuning)?;
    // The groups already kept stay joined.
    let index: std::collections::HashMap<i64, usize> =
        prints.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    for group in dups::similar_groups(&case)? {
        let members: Vec<usize> = group
            .iter()
            .filter_map(|id| index.get(id).copied())
            .collect();
        if let Some(&first) = members.first() {
            edges.extend(members[1..].iter().map(|&m| (first, m)));
        }
    }
    let groups = groups_of(&prints, edges);
    case.write(|tx| dups::record_similar_groups(tx, &groups))?;
    Ok(())
}
