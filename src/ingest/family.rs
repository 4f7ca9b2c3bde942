//! Families: a container (ZIP, TAR, compressed file, e-mail with attachments) taken in is
//! expanded, in the parser worker, into members; each member is described and recorded like a
//! file, linked to its parent, and expanded in turn, within the limits of [`Limits`]. Each
//! container's expansion is one worker job: a crash or hang costs that container's members,
//! recorded as a problem on it, never the intake.

use std::io::{BufRead, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use base64::Engine;

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
    pub worker: usize,
    pub fingerprints: bool,
    pub extractor: &'a mut crate::worker::Extractor,
    /// What the family may still expand.
    pub left: Limits,
    pub limits: Limits,
    pub send: &'a mut F,
}

impl<F: FnMut(Ready) -> bool> Family<'_, F> {
    /// Send `p`, then its members (expanded first, while its temporary copy is still there:
    /// once sent, it may be moved into the object store). `false` when the receiver stopped.
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
        let (members, problems) = self.expand(&p, format, &into);
        let parent_sha256 = p.sha256.clone();
        let parent_path = p.path.clone();
        if !(self.send)(Ready::File(Box::new(p))) {
            return false;
        }
        for reason in problems {
            if !(self.send)(problem(parent_path.clone(), reason)) {
                return false;
            }
        }
        for m in members {
            let Some(member) = self.describe(&m, &into, &parent_sha256, &parent_path) else {
                continue;
            };
            self.left.members = self.left.members.saturating_sub(1);
            self.left.bytes = self.left.bytes.saturating_sub(m.size);
            if !self.take(member, depth + 1) {
                return false;
            }
        }
        let _ = std::fs::remove_file(into.join(crate::worker::expand::LIST));
        true
    }

    /// Expand in the worker: the members listed, and the problems to record on the container.
    fn expand(&mut self, p: &Prepared, format: &str, into: &Path) -> (Vec<Member>, Vec<String>) {
        let job = Job::Expand {
            path: p.temp.as_os_str().as_bytes().to_vec(),
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
        };
        // A large archive needs longer than one file's metadata; the worker's CPU limit
        // grows with it too (`Job::cpu_seconds`).
        self.extractor
            .set_wall(Duration::from_secs(2 * job.cpu_seconds() + 30));
        let reply = self.extractor.run(&job);
        self.extractor.set_wall(crate::worker::limits::WALL);
        let mut problems = match reply {
            Ok(Reply::Expanded { problems, .. }) => problems,
            Ok(Reply::Refused(why)) => vec![format!("not expanded: {why}")],
            Ok(Reply::Panicked(why)) | Err(why) => {
                vec![format!(
                    "expansion failed: {why}; members listed so far kept"
                )]
            }
            Ok(_) => vec!["not expanded: the extractor gave an unexpected answer".into()],
        };
        // Members are read from the list even when the worker died: those it finished are
        // whole (each line is written after its member's data).
        let members = read_list(&into.join(crate::worker::expand::LIST), &mut problems);
        (members, problems)
    }

    /// A listed member, described like a file; `None` when its data is not where it should be.
    fn describe(
        &mut self,
        m: &Member,
        into: &Path,
        parent_sha256: &str,
        parent_path: &[u8],
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
            self.fingerprints,
            self.extractor,
        );
        p.family = Some(Membership {
            parent_sha256: parent_sha256.to_string(),
            ordinal: m.ordinal,
            inner_path: inner,
        });
        Some(p)
    }
}

fn problem(path: Vec<u8>, reason: String) -> Ready {
    Ready::Problem(Problem {
        path,
        outcome: Outcome::Skipped,
        reason,
    })
}

/// The worker's list of members. A line that does not parse (the worker died while writing
/// it) ends the list.
fn read_list(path: &Path, problems: &mut Vec<String>) -> Vec<Member> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        match line
            .ok()
            .and_then(|l| serde_json::from_str::<Member>(&l).ok())
        {
            Some(m) => members.push(m),
            None => {
                problems.push("the list of members ends in a damaged line".into());
                break;
            }
        }
    }
    members
}
