//! Read a file once: hash it while copying it into a temporary file of the object store, and
//! keep its head (or all of it, when small) in memory for the metadata extractors.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::walk::FileJob;
use crate::hashing::{self, Stop};
use crate::store::objects::TempSession;

/// Files up to this size are kept whole in memory for metadata; larger ones keep their head
/// and are parsed from the stored copy. Two workers: at most 2 × this much held at once.
pub const WHOLE_LIMIT: usize = 16 << 20;
const HEAD_LIMIT: usize = 1 << 20;
/// The read size; each worker allocates one buffer of this size and reuses it.
pub const CHUNK: usize = 256 << 10;

pub struct Copied {
    pub sha256: String,
    pub size: u64,
    pub mtime: Option<String>,
    pub temp: PathBuf,
    /// The whole file when `complete`, otherwise its first bytes.
    pub bytes: Vec<u8>,
    pub complete: bool,
    pub received_at: String,
}

pub enum CopyError {
    /// Not something to take in (e.g. it turned into a FIFO between the walk and the open).
    Skip(String),
    Fail(String),
}

pub fn copy_in(
    store: &TempSession,
    job: &FileJob,
    worker: usize,
    n: u64,
    chunk: &mut [u8],
) -> Result<Copied, CopyError> {
    // O_NONBLOCK: if the file was swapped for a FIFO since the walk, open must not hang.
    // O_NOFOLLOW: the path must not have become a link since the walk (a followed link's
    // target was resolved there, so it is opened as the file itself).
    let flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(&job.open_path)
        .map_err(|e| CopyError::Fail(format!("cannot open: {e}")))?;
    let before = file
        .metadata()
        .map_err(|e| CopyError::Fail(format!("cannot stat: {e}")))?;
    if !before.file_type().is_file() {
        return Err(CopyError::Skip(
            "not a regular file when opened: not read".into(),
        ));
    }
    let (temp, mut out) = store
        .temp_file(worker, n)
        .map_err(|e| CopyError::Fail(format!("cannot create a temporary file in the case: {e}")))?;
    let result = copy_keeping(&mut file, &mut out, before.len(), chunk);
    let fail = |msg: String| {
        let _ = std::fs::remove_file(&temp);
        CopyError::Fail(msg)
    };
    let HashedCopy {
        sha256,
        size: total,
        bytes,
        complete,
    } = match result {
        Ok(v) => v,
        Err(Stop::Read(e)) => return Err(fail(format!("read error: {e}"))),
        Err(Stop::Use(e)) => return Err(fail(format!("cannot write into the case: {e}"))),
    };
    let after = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Err(fail(format!("cannot stat after reading: {e}"))),
    };
    if after.len() != before.len()
        || total != before.len()
        || after.mtime() != before.mtime()
        || after.mtime_nsec() != before.mtime_nsec()
    {
        return Err(fail(
            "file changed while it was being read (size or modification time differ); nothing stored"
                .into(),
        ));
    }
    let mtime = before.modified().ok().map(crate::clock::from_system_time);
    Ok(Copied {
        sha256,
        size: total,
        mtime,
        temp,
        bytes,
        complete,
        received_at: crate::clock::now(),
    })
}

/// A file as copied: its SHA-256 and size, and what was kept of it for the extractors.
pub struct HashedCopy {
    pub sha256: String,
    pub size: u64,
    /// The whole file when `complete`, otherwise its first bytes.
    pub bytes: Vec<u8>,
    pub complete: bool,
}

/// Copy `src` into `dst` through `chunk` in one read, hashing it and keeping the whole file
/// when `expected` (its size) is at most `WHOLE_LIMIT`, else its head. Not synced.
pub fn copy_keeping(
    src: &mut File,
    dst: &mut File,
    expected: u64,
    chunk: &mut [u8],
) -> Result<HashedCopy, Stop> {
    let limit = if expected <= WHOLE_LIMIT as u64 {
        WHOLE_LIMIT
    } else {
        HEAD_LIMIT
    };
    let mut bytes: Vec<u8> = Vec::with_capacity((expected as usize).min(limit));
    let mut complete = true;
    let mut hasher = Sha256::new();
    let size = hashing::read_through(src, chunk, &mut hasher, |data| {
        dst.write_all(data)?;
        let take = limit.saturating_sub(bytes.len()).min(data.len());
        bytes.extend_from_slice(&data[..take]);
        if take < data.len() {
            complete = false;
        }
        Ok(())
    })?;
    Ok(HashedCopy {
        sha256: hex::encode(hasher.finalize()),
        size,
        bytes,
        complete,
    })
}

/// Copy at most `max + 1` bytes from `src` to `dst`, hashing them: (sha256, bytes copied).
/// More than `max` copied means `src` was longer than allowed (a caller's limit); the hash
/// then covers only what was copied. Used for archive members, which have no stat to check.
pub fn copy_hashed(
    src: &mut dyn std::io::Read,
    dst: &mut dyn Write,
    max: u64,
    chunk: &mut [u8],
) -> std::io::Result<(String, u64)> {
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut limited = src.take(max.saturating_add(1));
    let total =
        hashing::read_through(&mut limited, chunk, &mut hasher, |data| dst.write_all(data))?;
    Ok((hex::encode(hasher.finalize()), total))
}
