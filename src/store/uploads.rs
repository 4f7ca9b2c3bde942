//! The journal of multipart uploads in flight: `uploads/` in the case folder, one small file per
//! upload naming its key and upload id, written and fsynced before the first part is sent and
//! removed once the upload is completed or aborted. S3 keeps the parts of an upload that was
//! never completed (and bills their space) until it is aborted, and object_store cannot list
//! them, so the next ingest or import aborts every upload left here by a killed process.
//!
//! A record's writer holds an exclusive `flock` on it for as long as the upload runs: a record
//! that can be locked belongs to a process that is gone.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The journal's folder in the case.
pub const DIR: &str = "uploads";

/// What a record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub key: String,
    pub upload_id: String,
}

/// The journal of one case.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// A record of an upload of this process, locked until `done` (or until the process dies).
pub struct Record {
    path: PathBuf,
    _lock: File,
}

/// A record left by a process that is gone, locked by us while its upload is aborted.
pub struct Stale {
    pub path: PathBuf,
    /// `None`: a record never finished (its writer died before any part was sent).
    pub upload: Option<Upload>,
    _lock: File,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn lock(f: &File) -> bool {
    // SAFETY: flock only operates on the descriptor we own.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Journal {
    pub fn new(case_root: &Path) -> Journal {
        Journal {
            dir: case_root.join(DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Record an upload durably (file and folder entry fsynced) before its first part is sent.
    pub fn begin(&self, upload: &Upload) -> io::Result<Record> {
        fs::create_dir_all(&self.dir)?;
        let text = toml::to_string(upload).map_err(io::Error::other)?;
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join(format!("{}-{n}.upload", std::process::id()));
            let mut f = match File::options().write(true).create_new(true).open(&path) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                other => other?,
            };
            if !lock(&f) {
                continue;
            }
            // Between creating and locking it, another run's clean-up may have taken the empty
            // file for a dead writer's and removed it: then write a new one.
            let same = fs::metadata(&path)
                .and_then(|m| f.metadata().map(|mine| m.ino() == mine.ino()))
                .unwrap_or(false);
            if !same {
                continue;
            }
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            sync_dir(&self.dir)?;
            return Ok(Record { path, _lock: f });
        }
    }

    /// Records whose writer is gone, each locked by us until dropped or `remove`d.
    pub fn stale(&self) -> io::Result<Vec<Stale>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "upload") {
                continue;
            }
            let Ok(mut f) = File::open(&path) else {
                continue;
            };
            if !lock(&f) {
                continue;
            }
            let mut text = String::new();
            let upload = f
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| toml::from_str(&text).ok());
            out.push(Stale {
                path,
                upload,
                _lock: f,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

impl Record {
    /// The upload was completed or aborted: forget it. A record that stays (the removal
    /// failed) only makes the next run abort an upload that no longer exists, which is harmless.
    pub fn done(self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Stale {
    pub fn remove(self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_record_is_not_stale_and_a_dead_ones_is() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        let up = Upload {
            key: "p/objects/ab/abcd".into(),
            upload_id: "id-1".into(),
        };
        let live = j.begin(&up).unwrap();
        // flock locks belong to the open file description: another open in this process
        // cannot take it either, as another process could not.
        assert!(j.stale().unwrap().is_empty());
        let path = live.path.clone();
        drop(live);
        let stale = j.stale().unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].upload.as_ref(), Some(&up));
        // While one clean-up holds it, another does not see it.
        assert!(j.stale().unwrap().is_empty());
        stale.into_iter().for_each(Stale::remove);
        assert!(!path.exists());
        j.begin(&up).unwrap().done();
        assert_eq!(fs::read_dir(j.dir()).unwrap().count(), 0);
    }
}
