//! Verification: every original against its name and its row, the audit chain entry by entry,
//! and the case's decisions against the state the log implies (`replay`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::Connection;
use serde::Serialize;

use super::audit::{entry_hash, GENESIS};
use super::objects::{ObjectStore, Place};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    /// `T-000123`, or `audit #42`, or an object path.
    pub what: String,
    pub problem: String,
}

/// One audit entry as the chain walk hands it on (to the replay).
pub struct Entry<'a> {
    pub seq: i64,
    pub actor: &'a str,
    pub item: Option<i64>,
    pub event: &'a str,
    pub details: &'a str,
}

/// The result of walking the audit chain.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ChainReport {
    pub entries: u64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first entry whose stored or recomputed hash does not hold.
    pub first_broken: Option<i64>,
}

/// Recompute every hash of the chain (up to `upto` when given).
pub fn check_chain(
    db: &impl crate::store::Db,
    upto: Option<i64>,
) -> rusqlite::Result<(ChainReport, Vec<Problem>)> {
    let conn = crate::store::conn_of(db);
    check_chain_with(conn, upto, &mut |_| {})
}

/// The chain and the decisions in one pass over the log, in one read snapshot (a reviewer
/// committing meanwhile cannot make the tables and the log disagree): the chain report, the
/// chain's problems, then the differences between the case and what the log implies.
pub fn check_chain_and_decisions(
    db: &impl crate::store::Db,
) -> rusqlite::Result<(ChainReport, Vec<Problem>, Vec<Problem>)> {
    let conn = crate::store::conn_of(db);
    conn.execute_batch("BEGIN DEFERRED")?;
    let result = (|| {
        let mut replay = super::replay::Replay::new();
        let (report, problems) = check_chain_with(conn, None, &mut |e| replay.event(e))?;
        Ok((report, problems, replay.compare(conn)?))
    })();
    conn.execute_batch("COMMIT")?;
    result
}

/// Each entry, once checked, is handed to `visit`.
pub fn check_chain_with(
    conn: &Connection,
    upto: Option<i64>,
    visit: &mut dyn FnMut(&Entry),
) -> rusqlite::Result<(ChainReport, Vec<Problem>)> {
    let mut st = conn.prepare(
        "SELECT seq, at, actor, item_id, event, details, change_id, prev_hash, hash
         FROM audit WHERE seq <= ?1 ORDER BY seq",
    )?;
    let mut rows = st.query([upto.unwrap_or(i64::MAX)])?;
    let mut report = ChainReport {
        head_hash: GENESIS.to_string(),
        ..ChainReport::default()
    };
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let stored_prev: String = r.get(7)?;
        let stored: String = r.get(8)?;
        let (at, actor, item, event, details) = (
            r.get_ref(1)?.as_str()?,
            r.get_ref(2)?.as_str()?,
            r.get::<_, Option<i64>>(3)?,
            r.get_ref(4)?.as_str()?,
            r.get_ref(5)?.as_str()?,
        );
        let computed = entry_hash(&prev, seq, at, actor, item, event, details, r.get(6)?);
        visit(&Entry {
            seq,
            actor,
            item,
            event,
            details,
        });
        let mut fault = None;
        if seq != expected_seq {
            fault = Some(format!("entries {expected_seq}..{} are missing", seq - 1));
        } else if stored_prev != prev {
            fault = Some("does not link to the entry before it".to_string());
        } else if computed != stored {
            fault = Some("its content does not match its hash (altered)".to_string());
        }
        if let Some(f) = fault {
            if report.first_broken.is_none() {
                report.first_broken = Some(seq);
            }
            problems.push(Problem {
                what: format!("audit #{seq}"),
                problem: f,
            });
            // Later entries are checked against what is stored, so one change is reported once.
        }
        prev = stored;
        expected_seq = seq + 1;
        report.entries += 1;
        report.head_seq = seq;
        report.head_hash = prev.clone();
    }
    Ok((report, problems))
}

/// Items without their object (items without their arrival event are found by the replay);
/// also the set of known hashes (for `stray_objects`). `progress` is told (done, total) now and
/// then, from the hashing threads.
pub fn check_items(
    db: &impl crate::store::Db,
    store: &ObjectStore,
    quick: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> rusqlite::Result<(Vec<Problem>, HashSet<String>)> {
    let conn = crate::store::conn_of(db);
    let mut problems = Vec::new();
    let mut st = conn.prepare("SELECT id, sha256, size FROM items ORDER BY id")?;
    let items: Vec<(i64, String, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    problems.extend(check_objects(store, &items, quick, progress));
    Ok((problems, items.into_iter().map(|(_, sha, _)| sha).collect()))
}

/// Re-hash (or, quick, stat) every object on all cores.
fn check_objects(
    store: &ObjectStore,
    items: &[(i64, String, i64)],
    quick: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Vec<Problem> {
    if let Place::Bucket(b) = &store.place {
        return check_bucket(b, items, quick, progress);
    }
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let found = Mutex::new(Vec::new());
    // The store itself failing (down, refused): one problem, and the rest is not tried.
    let down: Mutex<Option<String>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((id, sha, size)) = items.get(i) else {
                        break;
                    };
                    if down.lock().map(|d| d.is_some()).unwrap_or(true) {
                        break;
                    }
                    if let Some(p) = check_file(store, sha, *size, quick, &mut buf) {
                        if let Ok(mut f) = found.lock() {
                            f.push((*id, p));
                        }
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(500) {
                        progress(n, items.len() as u64);
                    }
                }
            });
        }
    });
    progress(items.len() as u64, items.len() as u64);
    let mut found = found.into_inner().unwrap_or_default();
    found.sort_by_key(|(id, _)| *id);
    let mut problems: Vec<Problem> = found
        .into_iter()
        .map(|(id, problem)| Problem {
            what: super::reference(id),
            problem,
        })
        .collect();
    if let Some(e) = down.into_inner().ok().flatten() {
        problems.push(Problem {
            what: store.describe(),
            problem: format!("the object store failed, objects not all checked: {e}"),
        });
    }
    problems
}

fn check_file(
    store: &ObjectStore,
    sha: &str,
    size: i64,
    quick: bool,
    buf: &mut [u8],
) -> Option<String> {
    let path = store.path_of(sha);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => return Some(format!("object {sha} is missing ({e})")),
    };
    if meta.len() != size as u64 {
        return Some(format!(
            "object {sha} has {} bytes, the record says {size}",
            meta.len()
        ));
    }
    if quick {
        return None;
    }
    let mut f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return Some(format!("object {sha} cannot be read ({e})")),
    };
    let actual = match crate::hashing::sha256(&mut f, buf) {
        Ok((actual, _)) => actual,
        Err(e) => return Some(format!("object {sha} cannot be read ({e})")),
    };
    (actual != sha).then(|| format!("object content has SHA-256 {actual}, not {sha} (altered)"))
}

/// The same checks on the objects in a bucket, many at once (see `Bucket::check_many`): its
/// size and the checksums kept with it (quick), or its content re-hashed.
fn check_bucket(
    bucket: &super::bucket::Bucket,
    items: &[(i64, String, i64)],
    quick: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Vec<Problem> {
    use super::bucket::Found;
    let total = items.len() as u64;
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(500) {
            progress(n, total);
        }
    };
    let objects: Vec<(String, u64)> = items
        .iter()
        .map(|(_, sha, size)| (sha.clone(), *size as u64))
        .collect();
    let results = bucket.check_many(&objects, quick, &tick);
    progress(total, total);
    let mut problems = Vec::new();
    let mut down = None;
    for ((id, sha, size), result) in items.iter().zip(results) {
        let size = *size as u64;
        let problem = match result {
            Err(e) => {
                down.get_or_insert(e);
                continue;
            }
            Ok(Found::Missing) => Some(format!(
                "object {sha} is missing from {}",
                bucket.location.describe()
            )),
            Ok(Found::Head(h)) if h.size != size => Some(format!(
                "object {sha} has {} bytes, the record says {size}",
                h.size
            )),
            Ok(Found::Head(h)) => quick_check(sha, &h),
            Ok(Found::Content(_, n)) if n != size => Some(format!(
                "object {sha} has {n} bytes, the record says {size}"
            )),
            Ok(Found::Content(actual, _)) if actual != *sha => Some(format!(
                "object content has SHA-256 {actual}, not {sha} (altered)"
            )),
            Ok(Found::Content(..)) => None,
        };
        if let Some(problem) = problem {
            problems.push(Problem {
                what: super::reference(*id),
                problem,
            });
        }
    }
    if let Some(e) = down {
        problems.push(Problem {
            what: bucket.location.describe(),
            problem: format!("the object store failed, objects not all checked: {e}"),
        });
    }
    problems
}

/// `--quick` on an object in a bucket whose size is right: the store's own checksum against
/// the name (the store computed it from the bytes it received, and checked it against the one
/// triage sent), and the SHA-256 triage stored with the object.
fn quick_check(sha: &str, head: &super::bucket::Head) -> Option<String> {
    if let Some(sum) = &head.store_checksum {
        match super::bucket::whole_checksum_hex(sum) {
            Some(hex) if hex != sha => {
                return Some(format!(
                    "the store's checksum of object {sha} is SHA-256 {hex} (replaced)"
                ))
            }
            Some(_) => {}
            // A checksum of the parts' checksums: compared with the one triage worked out
            // before the upload (objects uploaded before triage kept it have none).
            None => match &head.parts_checksum {
                Some(expected) if expected != sum => {
                    return Some(format!(
                        "the store's checksum of object {sha} is {sum}, not the {expected} of \
                         the parts uploaded (replaced)"
                    ))
                }
                _ => {}
            },
        }
    }
    match &head.sha256 {
        Some(kept) if kept != sha => Some(format!(
            "object {sha} is stored with SHA-256 {kept} (replaced)"
        )),
        Some(_) => None,
        None if head.store_checksum.is_some() => None,
        None => Some(format!(
            "object {sha} has no SHA-256 kept with it, by the store or by triage (not stored \
             by triage: replaced?)"
        )),
    }
}

/// Files in the object store that no item names (left by an interrupted ingest, or planted).
pub fn stray_objects(known: &HashSet<String>, store: &ObjectStore) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Place::Bucket(b) = &store.place {
        match b.list() {
            Ok(all) => {
                for (name, _) in all {
                    if !known.contains(&name) {
                        out.push(Problem {
                            what: format!("{} {name}", b.location.describe()),
                            problem: "object not referenced by any item".into(),
                        });
                    }
                }
            }
            Err(e) => out.push(Problem {
                what: b.location.describe(),
                problem: format!("cannot list the objects: {e}"),
            }),
        }
        return out;
    }
    let Ok(dirs) = std::fs::read_dir(store.root()) else {
        return out;
    };
    for d in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                out.push(Problem {
                    what: f.path().display().to_string(),
                    problem: "object not referenced by any item".into(),
                });
            }
        }
    }
    out
}
