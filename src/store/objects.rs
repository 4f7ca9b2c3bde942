//! Content-addressed store of originals: `objects/<2 hex>/<sha256>`, written once, read-only.
//! New objects are written under `tmp/`, made durable, then renamed into place.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{io_err, Result};

/// A process's own temporary folder in the store; removed when dropped.
pub struct TempSession {
    dir: PathBuf,
    _lock: File,
    /// Folders handed out for containers' members.
    folders: std::sync::atomic::AtomicU64,
}

impl TempSession {
    /// A new temporary file in the store's own filesystem (so the rename is atomic). Each
    /// worker writes in its own folder: creating files in one shared folder serialises the
    /// workers on that folder's lock.
    pub fn temp_file(&self, worker: usize, n: u64) -> io::Result<(PathBuf, File)> {
        let dir = self.dir.join(format!("w{worker}"));
        let path = dir.join(format!("in-{n}"));
        // Created read-only: this descriptor may still write, and no chmod is needed later.
        let open = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(&path)
        };
        let f = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&dir)?;
                open()?
            }
            other => other?,
        };
        Ok((path, f))
    }

    /// A new folder's path (not yet made) for one container's members, in the worker's own
    /// folder: the parser worker writes them there, never outside the case.
    pub fn member_dir(&self, worker: usize) -> PathBuf {
        let n = self
            .folders
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.dir
            .join(format!("w{worker}"))
            .join(format!("members-{n}"))
    }
}

impl Drop for TempSession {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug, Clone)]
pub struct ObjectStore {
    objects: PathBuf,
    tmp: PathBuf,
}

impl ObjectStore {
    pub fn new(case_root: &Path) -> ObjectStore {
        ObjectStore {
            objects: case_root.join("objects"),
            tmp: case_root.join("tmp"),
        }
    }

    pub fn create(case_root: &Path) -> Result<()> {
        let s = ObjectStore::new(case_root);
        for d in [&s.objects, &s.tmp] {
            fs::create_dir_all(d).map_err(|e| io_err(d, e))?;
        }
        Ok(())
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.objects.join(prefix).join(sha256)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.path_of(sha256).is_file()
    }

    /// A private folder under `tmp/` for this process's new objects, locked for as long as
    /// the session lives, so that another process's clean-up never touches it.
    pub fn session(&self) -> Result<TempSession> {
        fs::create_dir_all(&self.tmp).map_err(|e| io_err(&self.tmp, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = self.tmp.join(format!("s-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let lock = File::create(dir.join(".lock")).map_err(|e| io_err(&dir, e))?;
        // SAFETY: flock only operates on the descriptor we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(io_err(&dir, io::Error::last_os_error()));
        }
        Ok(TempSession {
            dir,
            _lock: lock,
            folders: Default::default(),
        })
    }

    /// Remove what killed processes left under `tmp/`: sessions whose lock nobody holds.
    /// Their files never became objects.
    pub fn clean_temp(&self) -> Result<usize> {
        let mut n = 0;
        let rd = match fs::read_dir(&self.tmp) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err(&self.tmp, e)),
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                n += usize::from(fs::remove_file(&path).is_ok());
                continue;
            }
            let Ok(lock) = File::open(path.join(".lock")) else {
                n += usize::from(fs::remove_dir_all(&path).is_ok());
                continue;
            };
            // SAFETY: as above.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                n += usize::from(fs::remove_dir_all(&path).is_ok());
            }
        }
        Ok(n)
    }

    /// Move a written, synced temporary file into place as object `sha256`. If the object
    /// exists already (same content), the temporary copy is dropped and the object left alone.
    pub fn install(&self, temp: &Path, sha256: &str) -> Result<bool> {
        let dest = self.path_of(sha256);
        if dest.is_file() {
            let _ = fs::remove_file(temp);
            return Ok(false);
        }
        // Temporary files are created read-only (see `temp_file`), so no chmod is needed.
        match fs::rename(temp, &dest) {
            Ok(()) => {}
            // The first object of its prefix: make the folder, then move it.
            Err(e) if e.kind() == io::ErrorKind::NotFound && temp.exists() => {
                if let Some(dir) = dest.parent() {
                    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
                }
                fs::rename(temp, &dest).map_err(|e| io_err(&dest, e))?;
            }
            Err(e) => return Err(io_err(&dest, e)),
        }
        Ok(true)
    }

    /// Flush everything written to the store's filesystem: one syncfs per batch instead of
    /// one fsync per file.
    pub fn sync(&self) -> Result<()> {
        let dir = File::open(&self.objects).map_err(|e| io_err(&self.objects, e))?;
        // SAFETY: syncfs only reads the descriptor we own.
        let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
        if rc != 0 {
            return Err(io_err(&self.objects, io::Error::last_os_error()));
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.objects
    }
}
