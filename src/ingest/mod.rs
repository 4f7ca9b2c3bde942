//! Ingest: walk the roots, read each file once (hash while copying into the object store),
//! describe it, and record it. Readers run on every core; one writer commits in batches, each
//! after the batch's objects are durable.

pub mod copy;
pub mod detect;
pub mod family;
pub mod fingerprint;
pub mod heif;
pub mod jpeg_dc;
pub mod jpeg_scaled;
pub mod kept_preview;
pub mod meta;
mod pool;
mod progress;
pub mod walk;

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::store::audit::Chain;
use crate::store::ingest_rows::{self, Described, ReceivedFile, Recorded};
use crate::store::objects::TempSession;
use crate::store::{Case, ObjectStore};
use walk::{FileJob, Found, Roots};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Skipped,
    Failed,
    /// Taken in, but its parser crashed, ran out of memory or time: no metadata.
    #[serde(rename = "extract-failed")]
    ExtractFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::ExtractFailed => "extract-failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub path: Vec<u8>,
    pub outcome: Outcome,
    pub reason: String,
}

pub struct Options {
    pub source: String,
    pub roots: Vec<PathBuf>,
    pub actor: String,
    pub progress: bool,
    /// Compute image fingerprints and thumbnails now (the default) rather than when
    /// `triage dups` needs them.
    pub fingerprints: bool,
    /// How far containers are expanded.
    pub limits: family::Limits,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub batch: i64,
    pub new: u64,
    pub duplicates: u64,
    /// Files recorded before with the same content, source and path (a rerun).
    pub unchanged: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Files taken in whose metadata could not be read (see `problems`).
    pub extract_failed: u64,
    pub files: u64,
    /// Members taken out of containers (archives, e-mails), counted apart from `files`.
    pub members: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub problems: Vec<ProblemReport>,
}

#[derive(Debug, Serialize)]
pub struct ProblemReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    pub outcome: Outcome,
    pub reason: String,
}

/// A file read, stored in a temporary object and described, waiting for its batch.
struct Prepared {
    sha256: String,
    size: u64,
    mtime: Option<String>,
    received_at: String,
    temp: PathBuf,
    mime: String,
    kind: detect::Kind,
    ext_mismatch: Option<String>,
    metadata_json: String,
    captured_at: Option<String>,
    name: String,
    path: Vec<u8>,
    /// An image's fingerprint and thumbnail.
    fingerprint: Option<(fingerprint::Fingerprint, fingerprint::Thumb)>,
    /// An image's preview, made from the same decoding.
    kept: Option<kept_preview::Kept>,
    /// Why no metadata could be read (its parser died): recorded when the item is new.
    extract_problem: Option<String>,
    /// An e-mail with attachments (a container of members).
    attached: bool,
    /// A member of a container: its parent and place in it.
    family: Option<family::Membership>,
    /// A chat export's log: the files it names, linked to their messages when recorded.
    chat_log: Option<meta::ChatLog>,
}

enum Ready {
    File(Box<Prepared>),
    Problem(Problem),
    /// The last part of a walk position (a file may bring its members after it).
    End,
}

/// A result with its place in walk order: the walk position, then the part within it.
struct Numbered(u64, u32, Ready);

const BATCH_FILES: usize = 2000;
const BATCH_BYTES: u64 = 256 << 20;
const BATCH_AGE: Duration = Duration::from_secs(2);

pub fn run(case: &mut Case, opts: &Options) -> crate::store::Result<Summary> {
    crate::store::users::authorize(
        case,
        &opts.actor,
        crate::store::users::Right::Intake,
        &format!("ingest --source {}", opts.source),
    )?;
    let started = Instant::now();
    case.objects.clean_temp()?;
    for note in case.objects.abort_interrupted_uploads() {
        crate::cli::out::err_line(&format!("triage: {note}"));
    }
    let session = case.objects.session()?;
    let roots_text: Vec<String> = opts.roots.iter().map(|p| p.display().to_string()).collect();
    let batch_id = case.write(|tx| {
        let mut chain = Chain::load(tx)?;
        ingest_rows::begin_batch(tx, &mut chain, &opts.source, &opts.actor, &roots_text)
    })?;
    let mut summary = Summary {
        batch: batch_id,
        ..Summary::default()
    };
    let walked = Counters::default();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let roots = Roots::new(&opts.roots);
    let mut progress = progress::Progress::new(opts.progress);

    // Files wait in the pool for a thread; when the results are no longer wanted the pool
    // closes and the walk stops.
    let pool = &pool::Pool::new(256);
    let result = std::thread::scope(|s| {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Numbered>(256);
        let walker_ready = ready_tx.clone();
        let walked = &walked;
        s.spawn(move || {
            let mut seq = 0u64;
            roots.walk(&mut |found| {
                seq += 1;
                match found {
                    Found::File(mut job) => {
                        job.seq = seq - 1;
                        walked.files.fetch_add(1, Ordering::Relaxed);
                        walked.bytes.fetch_add(job.size, Ordering::Relaxed);
                        pool.push_file(job)
                    }
                    Found::Problem(p) => {
                        walker_ready
                            .send(Numbered(seq - 1, 0, Ready::Problem(p)))
                            .is_ok()
                            && walker_ready.send(Numbered(seq - 1, 1, Ready::End)).is_ok()
                    }
                }
            });
            pool.walk_done();
        });
        for w in 0..workers {
            let ready_tx = ready_tx.clone();
            let session = &session;
            let fingerprints = opts.fingerprints;
            let limits = opts.limits;
            s.spawn(move || worker(w, session, pool, ready_tx, fingerprints, limits));
        }
        drop(ready_tx);
        // One batch may wait at each stage: reading, syncing and recording overlap.
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(1);
        let (stored_tx, stored_rx) = mpsc::sync_channel::<Stored>(1);
        let store = case.objects.clone();
        let storing = std::thread::Builder::new()
            .name("ingest-sync".into())
            .spawn_scoped(s, move || store_objects(&store, batch_rx, stored_tx))
            .map_err(|e| {
                crate::store::CaseError::Internal(format!("cannot start a thread: {e}"))
            })?;
        let mut committer = Committer {
            case,
            chats: crate::store::chat_links::Waiting::default(),
            batch_id,
            actor: &opts.actor,
            source: &opts.source,
        };
        let committing = std::thread::Builder::new()
            .name("ingest-commit".into())
            .spawn_scoped(s, move || committer.run(stored_rx))
            .map_err(|e| {
                crate::store::CaseError::Internal(format!("cannot start a thread: {e}"))
            })?;
        let mut collector = Collector {
            pending: Vec::new(),
            problems: Vec::new(),
            pending_bytes: 0,
            since: Instant::now(),
        };
        collector.run(&ready_rx, &batch_tx, &mut summary, &mut progress, walked);
        drop(batch_tx);
        drop(ready_rx);
        let stored = storing.join().unwrap_or_else(|_| {
            Err(crate::store::CaseError::Internal(
                "the sync thread panicked".into(),
            ))
        });
        let tally = committing.join().unwrap_or_else(|_| {
            Err(crate::store::CaseError::Internal(
                "the committer thread panicked".into(),
            ))
        });
        stored.and(tally)
    });
    progress.finish();
    let tally = result?;
    summary.new = tally.new;
    summary.duplicates = tally.duplicates;
    summary.unchanged = tally.unchanged;
    summary.skipped = tally.skipped;
    summary.failed = tally.failed;
    summary.extract_failed = tally.extract_failed;
    summary.files -= tally.lost_files;
    summary.bytes -= tally.lost_bytes;
    summary.problems = tally.problems;
    if summary.new > 0 {
        crate::store::search_index::update_statistics(&case)?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
}

fn worker(
    w: usize,
    store: &TempSession,
    pool: &pool::Pool,
    out: SyncSender<Numbered>,
    fingerprints: bool,
    limits: family::Limits,
) {
    let mut n = 0u64;
    let mut chunk = vec![0u8; copy::CHUNK];
    // This thread's parser worker, started on the first file, replaced when it dies.
    let mut extractor = crate::worker::Extractor::new();
    while let Some(work) = pool.next() {
        let job = match work {
            pool::Work::Task(task) => {
                pool.run(task, &mut extractor);
                continue;
            }
            pool::Work::File(job) => job,
        };
        n += 1;
        let mut part = 0u32;
        let mut send = |ready: Ready| {
            part += 1;
            out.send(Numbered(job.seq, part - 1, ready)).is_ok()
        };
        let sent = match prepare(store, &job, w, n, &mut chunk, fingerprints, &mut extractor) {
            Ok(p) => {
                let mut family = family::Family {
                    store,
                    pool,
                    worker: w,
                    fingerprints,
                    extractor: &mut extractor,
                    left: limits,
                    limits,
                    send: &mut send,
                };
                family.take(p, 0)
            }
            Err(p) => send(Ready::Problem(p)),
        };
        let sent = sent && send(Ready::End);
        pool.file_done();
        if !sent {
            pool.close();
            return;
        }
    }
}

fn prepare(
    store: &TempSession,
    job: &FileJob,
    w: usize,
    n: u64,
    chunk: &mut [u8],
    fingerprints: bool,
    extractor: &mut crate::worker::Extractor,
) -> Result<Prepared, Problem> {
    let path = job.path.as_os_str().as_bytes().to_vec();
    let copied = copy::copy_in(store, job, w, n, chunk).map_err(|e| match e {
        copy::CopyError::Skip(reason) => Problem {
            path: path.clone(),
            outcome: Outcome::Skipped,
            reason,
        },
        copy::CopyError::Fail(reason) => Problem {
            path: path.clone(),
            outcome: Outcome::Failed,
            reason,
        },
    })?;
    let name = crate::text::file_name(&path);
    Ok(describe_stored(
        Arrived {
            sha256: copied.sha256,
            size: copied.size,
            mtime: copied.mtime,
            received_at: copied.received_at,
            temp: copied.temp,
            head: &copied.bytes,
            complete: copied.complete,
        },
        name,
        path,
        fingerprints,
        extractor,
    ))
}

/// A file or member in the case's temporary area, hashed, waiting to be described.
struct Arrived<'a> {
    sha256: String,
    size: u64,
    mtime: Option<String>,
    received_at: String,
    temp: PathBuf,
    /// Its first bytes (all of them when `complete`).
    head: &'a [u8],
    complete: bool,
}

fn describe_stored(
    stored: Arrived,
    name: String,
    path: Vec<u8>,
    fingerprints: bool,
    extractor: &mut crate::worker::Extractor,
) -> Prepared {
    let detected = detect::detect(stored.head);
    // The original is stored (and its hash known) before any parser sees it: a parser that
    // dies costs only this file's metadata. Fingerprinting decodes every image: on a
    // photo-heavy intake it costs more than the rest of the ingest together, so
    // `--no-fingerprints` leaves it to `triage dups`.
    let job = crate::worker::protocol::Job::Describe {
        path: stored.temp.as_os_str().as_bytes().to_vec(),
        kind: detected.kind.as_str().into(),
        mime: detected.mime.clone(),
        head: stored.head.len() as u64,
        complete: stored.complete,
        fingerprint: fingerprints,
    };
    // No parser reads an unrecognised type: no round trip for it.
    let (metadata, fingerprint, extract_problem, kept) =
        if matches!(detected.kind, detect::Kind::Other | detect::Kind::Archive) {
            (meta::Metadata::default(), None, None, None)
        } else {
            described(extractor.run(&job))
        };
    Prepared {
        metadata_json: serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()),
        captured_at: metadata.captured_at(),
        ext_mismatch: detect::extension_mismatch(&name, &detected.mime),
        attached: metadata
            .email
            .as_ref()
            .is_some_and(|e| !e.attachment_details.is_empty()),
        sha256: stored.sha256,
        size: stored.size,
        mtime: stored.mtime,
        received_at: stored.received_at,
        temp: stored.temp,
        mime: detected.mime,
        kind: detected.kind,
        name,
        path,
        fingerprint,
        kept,
        extract_problem,
        family: None,
        chat_log: metadata.chat_log,
    }
}

/// Metadata, fingerprint and grid, problem to record, kept preview.
pub(crate) type WorkerAnswer = (
    meta::Metadata,
    Option<(fingerprint::Fingerprint, fingerprint::Thumb)>,
    Option<String>,
    Option<kept_preview::Kept>,
);

/// What a worker's answer to `Job::Describe` gives: metadata (with the reason as a warning
/// when the parser failed), the fingerprint, the problem to record, and the kept preview.
pub(crate) fn described(reply: Result<crate::worker::protocol::Reply, String>) -> WorkerAnswer {
    use crate::worker::protocol::Reply;
    let failed = |reason: String| {
        let reason = format!("metadata not read: {reason}");
        let metadata = meta::Metadata {
            warnings: vec![reason.clone()],
            ..meta::Metadata::default()
        };
        (metadata, None, Some(reason), None)
    };
    match reply {
        Ok(Reply::Described { metadata, print }) => (
            *metadata,
            print.as_ref().and_then(crate::worker::unprint),
            None,
            print.as_ref().and_then(crate::worker::unprint_preview),
        ),
        Ok(Reply::Panicked(why)) | Err(why) => failed(why),
        Ok(Reply::Refused(why)) => failed(why),
        Ok(_) => failed("the extractor gave an unexpected answer".into()),
    }
}

/// A batch handed from the collector to the committer.
struct Batch {
    files: Vec<Prepared>,
    problems: Vec<Problem>,
}

/// Takes results in walk order and cuts them into batches. Runs while the committer makes the
/// previous batch durable, so reading and syncing overlap.
struct Collector {
    pending: Vec<Prepared>,
    problems: Vec<Problem>,
    pending_bytes: u64,
    since: Instant,
}

impl Collector {
    fn run(
        &mut self,
        rx: &Receiver<Numbered>,
        out: &SyncSender<Batch>,
        summary: &mut Summary,
        progress: &mut progress::Progress,
        walked: &Counters,
    ) {
        // Workers finish out of order; results are taken in walk order, so the same folder
        // always gives the same references.
        let mut waiting: BTreeMap<(u64, u32), Ready> = BTreeMap::new();
        let mut next = (0u64, 0u32);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Numbered(seq, part, ready)) => {
                    waiting.insert((seq, part), ready);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Some(ready) = waiting.remove(&next) {
                next = match ready {
                    Ready::End => (next.0 + 1, 0),
                    _ => (next.0, next.1 + 1),
                };
                self.take(ready, summary);
            }
            if (self.pending.len() >= BATCH_FILES
                || self.pending_bytes >= BATCH_BYTES
                || self.since.elapsed() >= BATCH_AGE)
                && !self.send(out)
            {
                return; // the committer stopped (an error): stop reading
            }
            progress.update(
                summary.files,
                summary.bytes,
                walked.files.load(Ordering::Relaxed),
                walked.bytes.load(Ordering::Relaxed),
            );
        }
        // Anything still waiting (a number never came: its worker stopped) goes in order.
        for (_, ready) in std::mem::take(&mut waiting) {
            self.take(ready, summary);
        }
        self.send(out);
    }

    fn take(&mut self, ready: Ready, summary: &mut Summary) {
        match ready {
            Ready::File(p) if p.family.is_some() => {
                summary.members += 1;
                self.pending_bytes += p.size;
                self.pending.push(*p);
            }
            Ready::File(p) => {
                summary.files += 1;
                summary.bytes += p.size;
                self.pending_bytes += p.size;
                self.pending.push(*p);
            }
            Ready::Problem(p) => self.problems.push(p),
            Ready::End => {}
        }
    }

    fn send(&mut self, out: &SyncSender<Batch>) -> bool {
        self.since = Instant::now();
        if self.pending.is_empty() && self.problems.is_empty() {
            return true;
        }
        self.pending_bytes = 0;
        out.send(Batch {
            files: std::mem::take(&mut self.pending),
            problems: std::mem::take(&mut self.problems),
        })
        .is_ok()
    }
}

/// What the committer counted.
#[derive(Default)]
struct Tally {
    new: u64,
    duplicates: u64,
    unchanged: u64,
    skipped: u64,
    failed: u64,
    extract_failed: u64,
    /// Files read but not stored (counted in `files` by the collector).
    lost_files: u64,
    lost_bytes: u64,
    problems: Vec<ProblemReport>,
}

/// Stage one of a batch's commit: make its objects durable and move them into place. Runs
/// beside stage two, so one batch's rows are written while the next one's data is synced.
fn store_objects(
    store: &ObjectStore,
    rx: Receiver<Batch>,
    out: SyncSender<Stored>,
) -> crate::store::Result<()> {
    for Batch {
        mut files,
        mut problems,
    } in rx
    {
        let mut lost = (0, 0);
        if !files.is_empty() {
            store.sync()?;
            let staged: Vec<_> = files
                .iter()
                .map(|f| (f.temp.clone(), f.sha256.clone(), f.size))
                .collect();
            // A bucket that fails stops the ingest here: the rows of this batch are never
            // written, so no row names an object the store did not acknowledge.
            let results = store.install_many(&staged)?;
            let mut installed = Vec::with_capacity(files.len());
            for (f, r) in files.drain(..).zip(results) {
                match r {
                    Ok(_) => installed.push(f),
                    Err(e) => {
                        let _ = std::fs::remove_file(&f.temp);
                        if f.family.is_none() {
                            lost.0 += 1;
                            lost.1 += f.size;
                        }
                        problems.push(Problem {
                            path: f.path.clone(),
                            outcome: Outcome::Failed,
                            reason: format!("could not store the object: {e}"),
                        });
                    }
                }
            }
            files = installed;
            store.sync()?;
        }
        if out
            .send(Stored {
                files,
                problems,
                lost,
            })
            .is_err()
        {
            break;
        }
    }
    Ok(())
}

/// A batch whose objects are durable and in place.
struct Stored {
    files: Vec<Prepared>,
    problems: Vec<Problem>,
    /// Files and bytes read but not stored.
    lost: (u64, u64),
}

/// Stage two: commit the rows of batches whose objects are durable.
struct Committer<'a> {
    case: &'a mut Case,
    /// Files named by chat logs, awaited.
    chats: crate::store::chat_links::Waiting,
    batch_id: i64,
    actor: &'a str,
    source: &'a str,
}

impl Committer<'_> {
    fn run(&mut self, rx: Receiver<Stored>) -> crate::store::Result<Tally> {
        let mut tally = Tally::default();
        for stored in rx {
            self.commit(stored, &mut tally)?;
        }
        Ok(tally)
    }

    fn commit(&mut self, stored: Stored, tally: &mut Tally) -> crate::store::Result<()> {
        let Stored {
            files,
            problems,
            lost,
        } = stored;
        tally.lost_files += lost.0;
        tally.lost_bytes += lost.1;
        let (batch_id, actor, source) = (self.batch_id, self.actor, self.source);
        let chats = &mut self.chats;
        let outcomes = self.case.write(|tx| {
            let mut chain = Chain::load(tx)?;
            let mut out = Vec::with_capacity(files.len());
            let mut extract_problems = Vec::new();
            for f in &files {
                let recorded = ingest_rows::record_file(
                    tx,
                    &mut chain,
                    batch_id,
                    actor,
                    &ReceivedFile {
                        item: Described {
                            sha256: &f.sha256,
                            size: f.size,
                            mime: &f.mime,
                            kind: f.kind.as_str(),
                            ext_mismatch: f.ext_mismatch.as_deref(),
                            metadata_json: &f.metadata_json,
                            captured_at: f.captured_at.as_deref(),
                            name: &f.name,
                        },
                        source,
                        path: &f.path,
                        mtime: f.mtime.as_deref(),
                        received_at: &f.received_at,
                        member: f.family.as_ref().map(|m| ingest_rows::MemberOf {
                            parent_sha256: &m.parent_sha256,
                            ordinal: m.ordinal,
                            inner_path: &m.inner_path,
                        }),
                    },
                )?;
                if let Recorded::New(id) | Recorded::Duplicate(id) = recorded {
                    let arrived = crate::store::chat_links::Arrived {
                        path: &f.path,
                        chat_log: f.chat_log.as_ref(),
                        member_of: f
                            .family
                            .as_ref()
                            .map(|m| (m.parent_sha256.as_str(), m.inner_path.as_slice())),
                    };
                    chats.recorded(tx, &mut chain, actor, arrived, id)?;
                }
                if let (Recorded::New(id), Some((print, thumb))) = (recorded, &f.fingerprint) {
                    crate::store::dups::record_fingerprint(tx, id, *print, thumb)?;
                }
                if let (Recorded::New(id), Some(kept)) = (recorded, &f.kept) {
                    crate::store::kept_previews::record(tx, id, kept)?;
                }
                // Only a new item's: a rerun or a duplicate adds no metadata, so no problem.
                if let (Recorded::New(_), Some(reason)) = (recorded, &f.extract_problem) {
                    ingest_rows::record_problem(
                        tx,
                        &mut chain,
                        batch_id,
                        actor,
                        &f.path,
                        Outcome::ExtractFailed.as_str(),
                        reason,
                    )?;
                    extract_problems.push(Problem {
                        path: f.path.clone(),
                        outcome: Outcome::ExtractFailed,
                        reason: reason.clone(),
                    });
                }
                out.push(recorded);
            }
            let touched: Vec<i64> = out
                .iter()
                .filter_map(|r| match r {
                    Recorded::New(id) | Recorded::Duplicate(id) => Some(*id),
                    Recorded::Unchanged(_) => None,
                })
                .collect();
            crate::store::search_index::refresh_many(tx, &touched)?;
            for p in &problems {
                ingest_rows::record_problem(
                    tx,
                    &mut chain,
                    batch_id,
                    actor,
                    &p.path,
                    p.outcome.as_str(),
                    &p.reason,
                )?;
            }
            Ok((out, extract_problems))
        })?;
        let (outcomes, extract_problems) = outcomes;
        for o in outcomes {
            match o {
                Recorded::New(_) => tally.new += 1,
                Recorded::Duplicate(_) => tally.duplicates += 1,
                Recorded::Unchanged(_) => tally.unchanged += 1,
            }
        }
        for p in problems.into_iter().chain(extract_problems) {
            match p.outcome {
                Outcome::Skipped => tally.skipped += 1,
                Outcome::Failed => tally.failed += 1,
                Outcome::ExtractFailed => tally.extract_failed += 1,
            }
            let text = std::str::from_utf8(&p.path);
            tally.problems.push(ProblemReport {
                path: String::from_utf8_lossy(&p.path).into_owned(),
                path_b64: text.is_err().then(|| crate::text::b64(&p.path)),
                outcome: p.outcome,
                reason: p.reason,
            });
        }
        Ok(())
    }
}
