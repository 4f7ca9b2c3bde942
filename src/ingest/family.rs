//! Families: a container (ZIP, TAR, compressed file, e-mail with attachments) taken in is
//! expanded, in the parser worker, into members; each member is described and recorded like a
//! file, linked to its parent, and expanded in turn, within the limits of [`Limits`]. Each
//! container's expansion is one worker job: a crash or hang costs that container's members,
//! recorded as a problem on it, never the intake.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;

use super::pool::{Pool, Task};
use super::{describe_stored, detect, Arrived, Outcome, Prepared, Problem, Ready};
use crate::store::objects::TempSession;
use crate::worker::protocol::{Budget, Job, Member, Reply};

/// How far one top-level file's family may expand; each limit reached is a problem recorded
/// on the container where it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Members in the whole family.
    pub members: u64,
    /// Bytes expanded in the whole family.
    pub bytes: u64,
    /// Containers inside containers: a member at this depth is not expanded.
    pub depth: u32,
    /// A container may expand to this many times its size (at least `RATIO_FLOOR`).
    pub ratio: u64,
}

/// Below this a container's expansion is not judged by its ratio (a small ZIP of text files
/// legitimately expands a hundredfold).
pub const RATIO_FLOOR: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            members: 100_000,
            bytes: 64 << 30,
            depth: 5,
            ratio: 100,
        }
    }
}

/// A member's parent and place in it.
#[derive(Debug, Clone)]
pub struct Membership {
    pub parent_sha256: String,
    /// From 1, in the container's order: `T-000120/3`.
    pub ordinal: u32,
    /// Its name inside the parent, as stored (bytes).
    pub inner_path: Vec<u8>,
}

/// The expansion format of a described file, if it is a container.
pub(super) fn format_of(p: &Prepared) -> Option<&'static str> {
    Some(match p.mime.as_str() {
        "application/zip" => "zip",
        "application/x-tar" => "tar",
        "application/gzip" => "gzip",
        "application/x-bzip2" => "bzip2",
        "application/x-xz" => "xz",
        "application/zstd" => "zstd",
        "application/x-7z-compressed" => "7z",
        _ if p.kind == detect::Kind::Email && p.attached => "email",
        _ => return None,
    })
}

/// Separates a container's path from a member's inner path in the path a member is recorded
/// under (`upload.zip!/DCIM/IMG_0001.jpg`).
pub const SEPARATOR: &[u8] = b"!/";

/// One walk position's family, sent part by part (container before members) so that the
/// collector batches members like files, however many there are.
pub(super) struct Family<'a, F: FnMut(Ready) -> bool> {
    pub store: &'a TempSession,
    /// Members are described by every ingest thread through the pool.
    pub pool: &'a Pool,
    pub worker: usize,
    pub fingerprints: bool,
    pub extractor: &'a mut crate::worker::Extractor,
    /// What the family may still expand.
    pub left: Limits,
    pub limits: Limits,
    pub send: &'a mut F,
}

/// Members described ahead of the one to be sent next, at most: each holds its metadata and
/// kept preview in memory until its turn.
const AHEAD: u32 = 32;

/// The name under which the container is linked into its members' folder for the expansion:
/// once sent, its temporary copy may be moved into the object store at any moment.
const CONTAINER: &str = "container";

impl<F: FnMut(Ready) -> bool> Family<'_, F> {
    /// Send `p`, then its members as they are expanded, described by every thread, in the
    /// container's order, then the problems of its expansion. `false` when the receiver
    /// stopped.
    pub fn take(&mut self, p: Prepared, depth: u32) -> bool {
        let Some(format) = format_of(&p) else {
            return (self.send)(Ready::File(Box::new(p)));
        };
        if depth >= self.limits.depth {
            let path = p.path.clone();
            return (self.send)(Ready::File(Box::new(p)))
                && (self.send)(problem(
                    path,
                    format!(
                        "nested more than {} containers deep: not expanded",
                        self.limits.depth
                    ),
                ));
        }
        if self.left.members == 0 || self.left.bytes == 0 {
            let path = p.path.clone();
            return (self.send)(Ready::File(Box::new(p)))
                && (self.send)(problem(
                    path,
                    "not expanded: the family's limits on members or bytes were reached".into(),
                ));
        }
        let into = self.store.member_dir(self.worker);
        let source = into.join(CONTAINER);
        if let Err(e) =
            std::fs::create_dir_all(&into).and_then(|_| std::fs::hard_link(&p.temp, &source))
        {
            let path = p.path.clone();
            return (self.send)(Ready::File(Box::new(p)))
                && (self.send)(problem(
                    path,
                    format!("not expanded: cannot write into the case: {e}"),
                ));
        }
        let job = self.job(&p, format, &source, &into);
        let parent = Parent {
            sha256: p.sha256.clone(),
            path: p.path.clone(),
            into: into.clone(),
        };
        let sent = (self.send)(Ready::File(Box::new(p))) && self.members(job, &parent, depth);
        let _ = std::fs::remove_file(&source);
        let _ = std::fs::remove_file(into.join(crate::worker::expand::LIST));
        sent
    }

    fn job(&self, p: &Prepared, format: &str, source: &Path, into: &Path) -> Job {
        Job::Expand {
            path: source.as_os_str().as_bytes().to_vec(),
            format: format.into(),
            name: p.name.as_bytes().to_vec(),
            into: into.as_os_str().as_bytes().to_vec(),
            budget: Budget {
                members: self.left.members,
                bytes: self.left.bytes,
                ratio: self.limits.ratio,
                ratio_floor: RATIO_FLOOR,
                container_size: p.size,
            },
        }
    }

    /// Expand in this thread's worker while the members it lists are described by the pool
    /// and sent in order; then the expansion's problems. A member that is a container is
    /// expanded in turn, here (with a second worker while the first is still busy).
    fn members(&mut self, job: Job, parent: &Parent, depth: u32) -> bool {
        self.extractor.start();
        let mut expander = std::mem::take(self.extractor);
        let described = Arc::new(Described::default());
        let mut list = Tail::new(parent.into.join(crate::worker::expand::LIST));
        let mut problems = Vec::new();
        let (mut listed, mut dispatched, mut next) = (VecDeque::<Member>::new(), 0u32, 0u32);
        let sent = std::thread::scope(|s| {
            let mut expanding = Some(s.spawn(move || {
                // A large archive needs longer than one file's metadata; the worker's CPU
                // limit grows with it too (`Job::cpu_seconds`).
                expander.set_wall(Duration::from_secs(2 * job.cpu_seconds() + 30));
                let reply = expander.run(&job);
                expander.set_wall(crate::worker::limits::WALL);
                (expander, reply)
            }));
            loop {
                let seen = self.pool.generation();
                if expanding.as_ref().is_some_and(|h| h.is_finished()) {
                    if let Some(Ok((expander, reply))) = expanding.take().map(|h| h.join()) {
                        *self.extractor = expander;
                        problems.extend(expansion_problems(reply));
                    } else {
                        problems.push("expansion failed: its thread panicked".into());
                    }
                    // Members are read from the list even when the worker died: those it
                    // finished are whole (each line is written after its member's data).
                    list.read(&mut listed, true, &mut problems);
                } else if expanding.is_some() {
                    list.read(&mut listed, false, &mut problems);
                }
                while dispatched - next < AHEAD {
                    let Some(m) = listed.pop_front() else { break };
                    self.pool.push_task(describe_task(
                        m,
                        dispatched,
                        parent,
                        self.fingerprints,
                        Arc::clone(&described),
                    ));
                    dispatched += 1;
                }
                while let Some(result) = described.take(next) {
                    next += 1;
                    let Some(member) = result else { continue };
                    self.left.members = self.left.members.saturating_sub(1);
                    self.left.bytes = self.left.bytes.saturating_sub(member.size);
                    if !self.take(member, depth + 1) {
                        described.cancel();
                        return false;
                    }
                }
                if expanding.is_none() && listed.is_empty() && next == dispatched {
                    return true;
                }
                // Help with the members (this family's or another's) once this thread's
                // worker is free; while it expands, this thread only waits.
                if expanding.is_none() {
                    if let Some(task) = self.pool.try_task() {
                        self.pool.run(task, self.extractor);
                        continue;
                    }
                }
                let poll = if expanding.is_some() { 2 } else { 50 };
                self.pool.wait_change(seen, Duration::from_millis(poll));
            }
        });
        sent && problems
            .into_iter()
            .all(|reason| (self.send)(problem(parent.path.clone(), reason)))
    }
}

/// What members are described against.
struct Parent {
    sha256: String,
    path: Vec<u8>,
    /// The folder its members were expanded into.
    into: PathBuf,
}

/// Members described by the pool, by their place in the list, until sent.
#[derive(Default)]
struct Described {
    done: Mutex<BTreeMap<u32, Option<Prepared>>>,
    /// The family stopped: its remaining tasks do nothing.
    cancelled: AtomicBool,
}

impl Described {
    fn take(&self, n: u32) -> Option<Option<Prepared>> {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&n)
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.done.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn describe_task(
    m: Member,
    n: u32,
    parent: &Parent,
    fingerprints: bool,
    described: Arc<Described>,
) -> Task {
    let (sha256, path, into) = (
        parent.sha256.clone(),
        parent.path.clone(),
        parent.into.clone(),
    );
    Box::new(move |extractor| {
        if described.cancelled.load(Ordering::Relaxed) {
            return;
        }
        let p = describe(&m, &into, &sha256, &path, fingerprints, extractor);
        if !described.cancelled.load(Ordering::Relaxed) {
            described
                .done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(n, p);
        }
    })
}

/// The problems an expansion's answer gives.
fn expansion_problems(reply: Result<Reply, String>) -> Vec<String> {
    match reply {
        Ok(Reply::Expanded { problems, .. }) => problems,
        Ok(Reply::Refused(why)) => vec![format!("not expanded: {why}")],
        Ok(Reply::Panicked(why)) | Err(why) => {
            vec![format!(
                "expansion failed: {why}; members listed so far kept"
            )]
        }
        Ok(_) => vec!["not expanded: the extractor gave an unexpected answer".into()],
    }
}

/// A listed member, described like a file; `None` when its data is not where it should be.
fn describe(
    m: &Member,
    into: &Path,
    parent_sha256: &str,
    parent_path: &[u8],
    fingerprints: bool,
    extractor: &mut crate::worker::Extractor,
) -> Option<Prepared> {
    let temp = into.join(m.ordinal.to_string());
    let inner = base64::engine::general_purpose::STANDARD
        .decode(&m.name_b64)
        .ok()?;
    let whole = m.size <= super::copy::WHOLE_LIMIT as u64;
    let mut head = Vec::new();
    let limit = if whole { m.size } else { 64 << 10 };
    std::fs::File::open(&temp)
        .and_then(|f| f.take(limit).read_to_end(&mut head))
        .ok()?;
    let mut path = parent_path.to_vec();
    path.extend_from_slice(SEPARATOR);
    path.extend_from_slice(&inner);
    let name = crate::text::file_name(&inner);
    let mut p = describe_stored(
        Arrived {
            sha256: m.sha256.clone(),
            size: m.size,
            mtime: m.mtime.clone(),
            received_at: crate::clock::now(),
            temp,
            head: &head,
            complete: whole,
        },
        name,
        path,
        fingerprints,
        extractor,
    );
    p.family = Some(Membership {
        parent_sha256: parent_sha256.to_string(),
        ordinal: m.ordinal,
        inner_path: inner,
    });
    Some(p)
}

fn problem(path: Vec<u8>, reason: String) -> Ready {
    Ready::Problem(Problem {
        path,
        outcome: Outcome::Skipped,
        reason,
    })
}

/// The worker's list of members, read as it grows. A line that does not parse (the worker
/// died while writing it) ends the list.
struct Tail {
    path: PathBuf,
    file: Option<std::fs::File>,
    /// The start of a line not yet whole.
    partial: Vec<u8>,
    ended: bool,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            path,
            file: None,
            partial: Vec::new(),
            ended: false,
        }
    }

    /// Add the members listed since the last call; `last`: the worker is done writing.
    fn read(&mut self, into: &mut VecDeque<Member>, last: bool, problems: &mut Vec<String>) {
        if self.ended {
            return;
        }
        if self.file.is_none() {
            self.file = std::fs::File::open(&self.path).ok();
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        if file.read_to_end(&mut self.partial).is_err() {
            return;
        }
        let mut used = 0;
        while let Some(end) = self.partial[used..].iter().position(|c| *c == b'\n') {
            let line = &self.partial[used..used + end];
            used += end + 1;
            match serde_json::from_slice::<Member>(line) {
                Ok(m) => into.push_back(m),
                Err(_) => {
                    self.damaged(problems);
                    return;
                }
            }
        }
        self.partial.drain(..used);
        if last && !self.partial.is_empty() {
            self.damaged(problems);
        }
    }

    fn damaged(&mut self, problems: &mut Vec<String>) {
        problems.push("the list of members ends in a damaged line".into());
        self.ended = true;
        self.partial.clear();
    }
}
