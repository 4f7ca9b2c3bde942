//! Content-addressed store of originals: `objects/<2 hex>/<sha256>`, written once, read-only,
//! in the case folder or in an S3-compatible bucket (`Place`). New objects are written under
//! `tmp/` first (hashed, and read there by the parser workers), then made durable and renamed
//! into place, or uploaded under their content key.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::bucket::{Bucket, Location};

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

/// Where a case's originals live.
#[derive(Debug, Clone)]
pub enum Place {
    /// `objects/` in the case folder (the default).
    Folder,
    /// A bucket; originals read for previews and fingerprints are cached in `cache/originals/`.
    Bucket(Arc<Bucket>),
}

#[derive(Debug, Clone)]
pub struct ObjectStore {
    objects: PathBuf,
    tmp: PathBuf,
    cache: PathBuf,
    pub place: Place,
}

/// A staged file to install: its temporary path, SHA-256 and size.
pub type Staged = (PathBuf, String, u64);

impl ObjectStore {
    /// The case's store, as its `originals.toml` says (the local folder without one). No
    /// connection is made here: a case whose bucket is unreachable still opens.
    pub fn open(case_root: &Path) -> Result<ObjectStore> {
        let place = match Location::read(case_root).map_err(super::CaseError::Internal)? {
            None => Place::Folder,
            Some(loc) => Place::Bucket(Arc::new(Bucket::new(loc, case_root))),
        };
        let cache = case_root.join("cache").join("originals");
        if matches!(place, Place::Bucket(_)) {
            register_cache(&cache, &place);
        }
        Ok(ObjectStore {
            objects: case_root.join("objects"),
            tmp: case_root.join("tmp"),
            cache,
            place,
        })
    }

    /// Make a new case's store: `objects/` and `tmp/`, or `tmp/` and the bucket's location.
    pub fn create(case_root: &Path, bucket: Option<&Location>) -> Result<()> {
        let objects = case_root.join("objects");
        let tmp = case_root.join("tmp");
        if let Some(loc) = bucket {
            loc.write(case_root)
                .map_err(|e| io_err(&case_root.join(super::bucket::LOCATION_FILE), e))?;
        } else {
            fs::create_dir_all(&objects).map_err(|e| io_err(&objects, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        Ok(())
    }

    /// Where originals live, for people.
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Folder => self.objects.display().to_string(),
            Place::Bucket(b) => b.location.describe(),
        }
    }

    /// The object's local path: in `objects/`, or its place in the read cache (filled by
    /// `local_path` or `ensure_local`).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        match self.place {
            Place::Folder => {
                let prefix = sha256.get(..2).unwrap_or("00");
                self.objects.join(prefix).join(sha256)
            }
            Place::Bucket(_) => self.cache.join(sha256),
        }
    }

    /// The object as a local file: the stored one, or a copy fetched into the read cache.
    pub fn local_path(&self, sha256: &str) -> std::result::Result<PathBuf, String> {
        let path = self.path_of(sha256);
        if let Place::Bucket(b) = &self.place {
            fetch(b, &self.cache, sha256)?;
        }
        Ok(path)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        match &self.place {
            Place::Folder => self.path_of(sha256).is_file(),
            Place::Bucket(b) => matches!(b.head(sha256), Ok(Some(_))),
        }
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

    /// Abort the bucket's multipart uploads that killed runs left unfinished (recorded in the
    /// case's upload journal), as `clean_temp` removes their staged files: a line for people
    /// on what was done or could not be, if anything.
    pub fn abort_interrupted_uploads(&self) -> Vec<String> {
        let Place::Bucket(b) = &self.place else {
            return Vec::new();
        };
        let (aborted, notes) = b.abort_interrupted();
        let mut out = Vec::new();
        if aborted > 0 {
            out.push(format!(
                "aborted {aborted} multipart upload(s) to {} that an interrupted run left",
                b.location.describe()
            ));
        }
        for n in notes {
            out.push(format!(
                "an interrupted multipart upload could not be aborted, kept for the next run: {n}"
            ));
        }
        out
    }

    /// Install staged files; for each, what came of it. In a bucket they are uploaded
    /// several at once, and a store error stops everything (the store is down: a clear error
    /// for the whole run rather than a failure per file).
    pub fn install_many(&self, files: &[Staged]) -> Result<Vec<std::result::Result<bool, String>>> {
        match &self.place {
            Place::Folder => Ok(files
                .iter()
                .map(|(temp, sha, _)| self.install(temp, sha).map_err(|e| e.to_string()))
                .collect()),
            Place::Bucket(b) => {
                let done = b
                    .put_files(files)
                    .map_err(|e| super::CaseError::Store(e.0))?;
                for (temp, _, _) in files {
                    let _ = fs::remove_file(temp);
                }
                Ok(done.into_iter().map(Ok).collect())
            }
        }
    }

    /// Move a written, synced temporary file into place as object `sha256` (or upload it).
    /// If the object exists already (same content), the temporary copy is dropped and the
    /// object left alone.
    pub fn install(&self, temp: &Path, sha256: &str) -> Result<bool> {
        if let Place::Bucket(_) = self.place {
            let size = fs::metadata(temp).map_err(|e| io_err(temp, e))?.len();
            let staged = [(temp.to_path_buf(), sha256.to_string(), size)];
            return Ok(self.install_many(&staged)?.pop() == Some(Ok(true)));
        }
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
    /// In a bucket, nothing: the store acknowledged each object.
    pub fn sync(&self) -> Result<()> {
        if let Place::Bucket(_) = self.place {
            return Ok(());
        }
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

/// The read cache's size limit in bytes (`TRIAGE_S3_CACHE_MB`, 2 GiB by default).
fn cache_limit() -> u64 {
    std::env::var("TRIAGE_S3_CACHE_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(2048)
        << 20
}

/// Fetch object `sha256` into `cache` unless there (checked against its name while written),
/// then drop the least recently used files past the cache's limit.
fn fetch(bucket: &Bucket, cache: &Path, sha256: &str) -> std::result::Result<(), String> {
    let dest = cache.join(sha256);
    if dest.is_file() {
        // Its mtime marks its last use, for the eviction below.
        let _ = File::options()
            .append(true)
            .open(&dest)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(());
    }
    fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let part = cache.join(format!(
        ".part-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut out = File::create(&part).map_err(|e| format!("{}: {e}", part.display()))?;
    let got = bucket.read_into(sha256, &mut out);
    let result = match got {
        Ok((actual, _)) if actual == sha256 => {
            fs::rename(&part, &dest).map_err(|e| format!("{}: {e}", dest.display()))
        }
        Ok((actual, _)) => Err(format!(
            "object {sha256} in {} has SHA-256 {actual} (altered)",
            bucket.location.describe()
        )),
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result?;
    evict(cache, cache_limit(), &dest);
    Ok(())
}

/// Remove the least recently used cached originals until the cache holds at most `limit`
/// bytes (never `keep`, the one just fetched).
fn evict(cache: &Path, limit: u64, keep: &Path) {
    let Ok(rd) = fs::read_dir(cache) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            let name = e.file_name();
            if !m.is_file() || name.to_string_lossy().starts_with('.') {
                return None;
            }
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= limit {
            break;
        }
        if path != keep && fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// Caches of buckets in this process, by folder: a preview request carries only a path, and
/// the preview thread fills it from the bucket through `ensure_local`.
static CACHES: std::sync::Mutex<Vec<(PathBuf, Arc<Bucket>)>> = std::sync::Mutex::new(Vec::new());

fn register_cache(cache: &Path, place: &Place) {
    let Place::Bucket(b) = place else { return };
    if let Ok(mut all) = CACHES.lock() {
        if !all.iter().any(|(c, _)| c == cache) {
            all.push((cache.to_path_buf(), Arc::clone(b)));
        }
    }
}

/// Make sure the original at `path` is on local disk: a path in a bucket's read cache is
/// fetched when missing; any other path is left as it is.
pub fn ensure_local(path: &Path) -> std::result::Result<(), String> {
    if path.is_file() {
        return Ok(());
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(());
    };
    let bucket = CACHES.lock().ok().and_then(|all| {
        all.iter()
            .find(|(c, _)| c == dir)
            .map(|(_, b)| Arc::clone(b))
    });
    match bucket {
        Some(b) => fetch(&b, dir, &name.to_string_lossy()),
        None => Ok(()),
    }
}
