//! Reading files of an untrusted bag: paths stay inside it, links are never followed, nothing
//! but regular files is opened, and opening never blocks (a FIFO put in a file's place).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::manifest::{Alg, Hashers};
use super::{problem, Problem, BUF};

/// A file as validated: device, inode and size (from fstat of the descriptor that was read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
    pub(super) size: u64,
}

impl FileId {
    pub(super) fn of(m: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
        }
    }
}

/// Open a file for reading without following a final symbolic link and without blocking (a
/// FIFO or device opened O_NONBLOCK returns at once), then refuse anything but a regular file.
pub(super) fn open_regular(path: &Path) -> io::Result<(File, fs::Metadata)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok((f, m))
}

/// A bag-relative path from a manifest, accepted only when it stays inside the bag.
pub(super) fn safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && !rel.contains('\0')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The file at a safe relative path, refusing symbolic links on the way and anything but a
/// regular file at the end.
pub(super) fn open_inside(root: &Path, rel: &str) -> std::result::Result<PathBuf, String> {
    let mut p = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        p.push(part);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err("a symbolic link (not allowed in a bag)".into())
            }
            Ok(m) if i + 1 == parts.len() && !m.is_file() => {
                return Err("not a regular file".into())
            }
            Ok(m) if i + 1 < parts.len() && !m.is_dir() => return Err("missing".into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("missing".into()),
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    Ok(p)
}

/// The bytes of a tag file, or a problem naming it.
pub(super) fn read_bytes(root: &Path, name: &str, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
    let path = match open_inside(root, name) {
        Ok(p) => p,
        Err(reason) => {
            problems.push(problem(name, reason));
            return None;
        }
    };
    let read = open_regular(&path).and_then(|(mut f, _)| {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map(|_| bytes)
    });
    match read {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            problems.push(problem(name, format!("cannot read: {e}")));
            None
        }
    }
}

/// Whether anything (a file, a link, a folder) has this name at the top of the bag.
pub(super) fn exists(root: &Path, name: &str) -> bool {
    fs::symlink_metadata(root.join(name)).is_ok()
}

/// Read a file once, computing every digest in `algs`. Returns the digests, the byte count
/// and which file was read.
pub(super) fn digest_file(
    path: &Path,
    algs: &BTreeSet<Alg>,
) -> io::Result<(BTreeMap<Alg, String>, u64, FileId)> {
    let (mut f, m) = open_regular(path)?;
    let mut h = Hashers::new(algs);
    // Sized to the file: a bag of many small files would otherwise zero a megabyte for each.
    let mut buf = vec![0u8; (m.len() as usize).saturating_add(1).clamp(8 << 10, BUF)];
    let n = crate::hashing::read_through(&mut f, &mut buf, &mut h, |_| Ok(()))?;
    let id = FileId::of(&m);
    if n != id.size {
        return Err(io::Error::other("changed while being read"));
    }
    Ok((h.finish(), n, id))
}

/// Every file under `rel` (bag-relative names), with problems for what is not a regular file.
pub(super) fn walk(
    root: &Path,
    rel: &str,
    out: &mut BTreeSet<String>,
    problems: &mut Vec<Problem>,
) {
    let dir = root.join(rel);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(problem(rel, format!("cannot read the folder: {e}")));
            return;
        }
    };
    for entry in rd {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(problem(rel, format!("cannot read the folder: {e}")));
                continue;
            }
        };
        let name = entry.file_name();
        let child = match name.to_str() {
            Some(s) => format!("{rel}/{s}"),
            None => {
                problems.push(problem(
                    format!("{rel}/{}", name.to_string_lossy()),
                    "file name is not UTF-8 (cannot be listed in a manifest)",
                ));
                continue;
            }
        };
        match entry.file_type() {
            Ok(t) if t.is_symlink() => {
                problems.push(problem(child, "a symbolic link (not allowed in a bag)"))
            }
            Ok(t) if t.is_dir() => walk(root, &child, out, problems),
            Ok(t) if t.is_file() => {
                out.insert(child);
            }
            Ok(_) => problems.push(problem(child, "not a regular file")),
            Err(e) => problems.push(problem(child, format!("cannot read: {e}"))),
        }
    }
}
