//! BagIt bags (RFC 8493): writing a bag for disclosure and validating a bag before anything of
//! it enters a case. Files and hashes only; no SQL.
//!
//! A bag written here has `bagit.txt`, `bag-info.txt`, `manifest-sha256.txt`,
//! `tagmanifest-sha256.txt` and a payload under `data/`. Every payload file is hashed while it
//! is written and made durable (fsync) before the manifests are written; `tagmanifest-sha256.txt`
//! comes last, so a bag whose writing was interrupted never validates.
//!
//! Validation reads a bag from anywhere, so everything in it is untrusted: paths from the
//! manifests must stay inside the bag, symbolic links are refused, and every problem found is
//! reported (not only the first), each with the bag-relative path it concerns.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
pub const MANIFEST: &str = "manifest-sha256.txt";
pub const TAGMANIFEST: &str = "tagmanifest-sha256.txt";
pub const BAG_INFO: &str = "bag-info.txt";
pub const BAGIT: &str = "bagit.txt";

const BUF: usize = 1 << 20;

/// One payload file: its bag-relative path (`data/...`), SHA-256 (lowercase hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// The extension a payload file gets, from the detected MIME type only (never from a name a
/// provider chose).
pub fn extension_for(mime: &str) -> &'static str {
    match mime.trim().to_ascii_lowercase().as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/tiff" => "tif",
        "image/bmp" => "bmp",
        "image/heif" | "image/heic" => "heic",
        "application/pdf" => "pdf",
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/x-msvideo" => "avi",
        "video/3gpp" => "3gp",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/ogg" => "ogg",
        "audio/x-wav" | "audio/wav" => "wav",
        "application/zip" => "zip",
        _ => "bin",
    }
}

/// Copy `from` into `to` (already open for writing), hashing on the way; `to` is synced.
/// Returns the SHA-256 (lowercase hex) and the number of bytes.
pub fn copy_hashing(from: &mut impl Read, to: &mut File) -> io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut n = 0u64;
    loop {
        let got = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..got]);
        to.write_all(&buf[..got])?;
        n += got as u64;
    }
    to.sync_all()?;
    Ok((hex::encode(h.finalize()), n))
}

/// SHA-256 and size of a file.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut n = 0u64;
    loop {
        let got = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..got]);
        n += got as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("{}: cannot sync the folder", dir.display()))
}

/// Only names this module makes itself: `data/` followed by plain ASCII components.
fn check_own_path(rel: &str) -> Result<()> {
    let ok = rel.starts_with("data/")
        && rel.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        bail!("{rel}: not a payload path this bag writer makes")
    }
}

/// A bag being written. Create it, add payload files, then `finish`; `abandon` removes what
/// was written (an export that fails leaves no half bag behind).
pub struct Writer {
    root: PathBuf,
    created_root: bool,
    payload: Vec<Entry>,
    dirs: BTreeSet<PathBuf>,
    finished: Option<Finished>,
}

/// What a finished bag is: enough to record it in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub payload_bytes: u64,
    pub payload_files: usize,
    /// SHA-256 of `manifest-sha256.txt` and of `tagmanifest-sha256.txt`.
    pub manifest_sha256: String,
    pub tagmanifest_sha256: String,
}

impl Writer {
    /// Start a bag in `root`, which must not exist or be an empty folder.
    pub fn create(root: &Path) -> Result<Writer> {
        let created_root = match fs::symlink_metadata(root) {
            Ok(m) if m.is_dir() => {
                let mut rd = fs::read_dir(root)
                    .with_context(|| format!("{}: cannot read the folder", root.display()))?;
                if rd.next().is_some() {
                    bail!(
                        "{}: already holds files; give a new or empty folder for the bag",
                        root.display()
                    );
                }
                false
            }
            Ok(_) => bail!(
                "{}: exists and is not a folder; give a new or empty folder for the bag",
                root.display()
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(root)
                    .with_context(|| format!("{}: cannot create the folder", root.display()))?;
                true
            }
            Err(e) => return Err(anyhow!(e).context(format!("{}", root.display()))),
        };
        let data = root.join("data");
        fs::create_dir(&data).with_context(|| format!("{}: cannot create", data.display()))?;
        let mut dirs = BTreeSet::new();
        dirs.insert(data);
        Ok(Writer {
            root: root.to_path_buf(),
            created_root,
            payload: Vec::new(),
            dirs,
            finished: None,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn new_file(&mut self, rel: &str) -> Result<(PathBuf, File)> {
        check_own_path(rel)?;
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            if !self.dirs.contains(parent) {
                fs::create_dir_all(parent)
                    .with_context(|| format!("{}: cannot create", parent.display()))?;
                let mut p = parent.to_path_buf();
                while p.starts_with(&self.root) && p != self.root {
                    self.dirs.insert(p.clone());
                    if !p.pop() {
                        break;
                    }
                }
            }
        }
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("{}: cannot create", path.display()))?;
        Ok((path, f))
    }

    /// Copy the file at `src` into the payload as `rel`, hashing while copying. The caller
    /// compares the returned hash with the one it expects.
    pub fn copy_payload(&mut self, rel: &str, src: &Path) -> Result<Entry> {
        let mut input =
            File::open(src).with_context(|| format!("{}: cannot open", src.display()))?;
        let (path, mut out) = self.new_file(rel)?;
        let (sha256, size) = copy_hashing(&mut input, &mut out)
            .with_context(|| format!("copying {} to {}", src.display(), path.display()))?;
        let e = Entry {
            path: rel.to_string(),
            sha256,
            size,
        };
        self.payload.push(e.clone());
        Ok(e)
    }

    /// Write bytes into the payload as `rel`.
    pub fn write_payload(&mut self, rel: &str, bytes: &[u8]) -> Result<Entry> {
        let (path, mut out) = self.new_file(rel)?;
        out.write_all(bytes)
            .and_then(|_| out.sync_all())
            .with_context(|| format!("{}: cannot write", path.display()))?;
        let e = Entry {
            path: rel.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        };
        self.payload.push(e.clone());
        Ok(e)
    }

    pub fn payload(&self) -> &[Entry] {
        &self.payload
    }

    /// Write the manifests, `bag-info.txt` (the given fields after `Bagging-Date` and
    /// `Payload-Oxum`) and `bagit.txt`, each synced, then `tagmanifest-sha256.txt` last.
    pub fn finish(&mut self, info: &[(String, String)]) -> Result<Finished> {
        if let Some(f) = &self.finished {
            return Ok(f.clone());
        }
        let mut payload = self.payload.clone();
        payload.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest: String = payload
            .iter()
            .map(|e| format!("{}  {}\n", e.sha256, encode_path(&e.path)))
            .collect();
        let bytes: u64 = payload.iter().map(|e| e.size).sum();
        let mut fields = vec![
            (
                "Bagging-Date".to_string(),
                chrono::Utc::now().format("%Y-%m-%d").to_string(),
            ),
            (
                "Payload-Oxum".to_string(),
                format!("{bytes}.{}", payload.len()),
            ),
        ];
        fields.extend(info.iter().cloned());
        let bag_info: String = fields
            .iter()
            .map(|(k, v)| format!("{}: {}\n", one_line(k), one_line(v)))
            .collect();
        let mut tags = Vec::new();
        for (name, text) in [
            (BAGIT, BAGIT_TXT.to_string()),
            (BAG_INFO, bag_info),
            (MANIFEST, manifest),
        ] {
            let path = self.root.join(name);
            write_synced(&path, text.as_bytes())?;
            tags.push((name, hex::encode(Sha256::digest(text.as_bytes()))));
        }
        let tagmanifest: String = tags
            .iter()
            .map(|(name, sha)| format!("{sha}  {name}\n"))
            .collect();
        for d in self.dirs.iter().rev() {
            sync_dir(d)?;
        }
        sync_dir(&self.root)?;
        write_synced(&self.root.join(TAGMANIFEST), tagmanifest.as_bytes())?;
        sync_dir(&self.root)?;
        let f = Finished {
            payload_bytes: bytes,
            payload_files: payload.len(),
            manifest_sha256: tags
                .iter()
                .find(|(n, _)| *n == MANIFEST)
                .map(|(_, s)| s.clone())
                .unwrap_or_default(),
            tagmanifest_sha256: hex::encode(Sha256::digest(tagmanifest.as_bytes())),
        };
        self.finished = Some(f.clone());
        Ok(f)
    }

    /// Remove everything this writer wrote (and the folder, if it made it).
    pub fn abandon(self) -> Result<()> {
        for name in [TAGMANIFEST, BAGIT, BAG_INFO, MANIFEST] {
            let p = self.root.join(name);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow!(e).context(format!("{}", p.display()))),
            }
        }
        let data = self.root.join("data");
        fs::remove_dir_all(&data).with_context(|| format!("{}: cannot remove", data.display()))?;
        if self.created_root {
            fs::remove_dir(&self.root)
                .with_context(|| format!("{}: cannot remove", self.root.display()))?;
        }
        Ok(())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// A tag-file value on one line (RFC 8493 allows folding, but one line reads everywhere).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// RFC 8493 §2.1.3: CR, LF and % in a manifest path are percent-encoded.
fn encode_path(p: &str) -> String {
    p.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn decode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut rest = p;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(|c| c.to_ascii_uppercase());
        match code.as_deref() {
            Some("25") => out.push('%'),
            Some("0D") => out.push('\r'),
            Some("0A") => out.push('\n'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// validation

/// Something wrong with one file of a bag. `path` is relative to the bag and comes from the bag
/// itself: sanitise it before showing it on a terminal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

fn problem(path: impl Into<String>, reason: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        reason: reason.into(),
    }
}

/// A bag that passed validation: every payload file is listed, present and has its hash.
#[derive(Debug, Clone)]
pub struct Valid {
    pub root: PathBuf,
    /// `bag-info.txt` fields in order (labels as written).
    pub info: Vec<(String, String)>,
    /// Payload files by bag-relative path.
    pub payload: BTreeMap<String, Entry>,
    /// Which file each payload path was when it was hashed: a later open must find the same.
    ids: BTreeMap<String, FileId>,
}

/// A file as validated: device, inode and size (from fstat of the descriptor that was read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
}

impl FileId {
    fn of(m: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
        }
    }
}

impl Valid {
    /// The first `bag-info.txt` value with this label (labels compare case-insensitively).
    pub fn info(&self, label: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }

    /// The file of a listed payload entry.
    pub fn file(&self, rel: &str) -> Option<(PathBuf, &Entry)> {
        self.payload.get(rel).map(|e| (self.root.join(rel), e))
    }

    /// Open a listed payload file for reading, only if it is still the very file that was
    /// validated (same device, inode and size, a regular file). The bag may be changed by
    /// someone else after validation: a FIFO put in its place must not block the import.
    pub fn open(&self, rel: &str) -> std::result::Result<File, String> {
        let want = self
            .ids
            .get(rel)
            .ok_or_else(|| "not a payload file of the bag".to_string())?;
        let path = open_inside(&self.root, rel)
            .map_err(|r| format!("{r} (changed since it was validated)"))?;
        let (f, m) = open_regular(&path).map_err(|e| format!("cannot open: {e}"))?;
        if FileId::of(&m) != *want {
            return Err("replaced or changed since it was validated".into());
        }
        Ok(f)
    }
}

/// Open a file for reading without following a final symbolic link and without blocking (a
/// FIFO or device opened O_NONBLOCK returns at once), then refuse anything but a regular file.
fn open_regular(path: &Path) -> io::Result<(File, fs::Metadata)> {
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

/// The checksum algorithms a manifest may use (RFC 8493 §2.4 names these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alg {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Alg {
    pub const ALL: [Alg; 4] = [Alg::Md5, Alg::Sha1, Alg::Sha256, Alg::Sha512];

    /// The name in a manifest's file name (`manifest-<name>.txt`).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Md5 => "md5",
            Alg::Sha1 => "sha1",
            Alg::Sha256 => "sha256",
            Alg::Sha512 => "sha512",
        }
    }

    /// The name people read (`SHA-256`).
    pub fn label(self) -> &'static str {
        match self {
            Alg::Md5 => "MD5",
            Alg::Sha1 => "SHA-1",
            Alg::Sha256 => "SHA-256",
            Alg::Sha512 => "SHA-512",
        }
    }

    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    fn hex_len(self) -> usize {
        match self {
            Alg::Md5 => 32,
            Alg::Sha1 => 40,
            Alg::Sha256 => 64,
            Alg::Sha512 => 128,
        }
    }
}

/// Every digest a file needs, computed in one read.
#[derive(Default)]
struct Hashers {
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    sha256: Option<Sha256>,
    sha512: Option<sha2::Sha512>,
}

impl Hashers {
    fn new(algs: &BTreeSet<Alg>) -> Hashers {
        let mut h = Hashers::default();
        for a in algs {
            match a {
                Alg::Md5 => h.md5 = Some(md5::Md5::new()),
                Alg::Sha1 => h.sha1 = Some(sha1::Sha1::new()),
                Alg::Sha256 => h.sha256 = Some(Sha256::new()),
                Alg::Sha512 => h.sha512 = Some(sha2::Sha512::new()),
            }
        }
        h
    }

    fn update(&mut self, b: &[u8]) {
        if let Some(h) = &mut self.md5 {
            h.update(b);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(b);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(b);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(b);
        }
    }

    fn finish(self) -> BTreeMap<Alg, String> {
        let mut out = BTreeMap::new();
        if let Some(h) = self.md5 {
            out.insert(Alg::Md5, hex::encode(h.finalize()));
        }
        if let Some(h) = self.sha1 {
            out.insert(Alg::Sha1, hex::encode(h.finalize()));
        }
        if let Some(h) = self.sha256 {
            out.insert(Alg::Sha256, hex::encode(h.finalize()));
        }
        if let Some(h) = self.sha512 {
            out.insert(Alg::Sha512, hex::encode(h.finalize()));
        }
        out
    }
}

/// Read a file once, computing every digest in `algs`. Returns the digests, the byte count
/// and which file was read.
fn digest_file(
    path: &Path,
    algs: &BTreeSet<Alg>,
) -> io::Result<(BTreeMap<Alg, String>, u64, FileId)> {
    let (mut f, m) = open_regular(path)?;
    let mut h = Hashers::new(algs);
    let mut buf = vec![0u8; BUF];
    let mut n = 0u64;
    loop {
        let got = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..got]);
        n += got as u64;
    }
    let id = FileId::of(&m);
    if n != id.size {
        return Err(io::Error::other("changed while being read"));
    }
    Ok((h.finish(), n, id))
}

/// A bag-relative path from a manifest, accepted only when it stays inside the bag.
fn safe_rel(rel: &str) -> bool {
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
fn open_inside(root: &Path, rel: &str) -> std::result::Result<PathBuf, String> {
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

fn read_text(root: &Path, name: &str, problems: &mut Vec<Problem>) -> Option<String> {
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
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Some(s.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(s)),
            Err(_) => {
                problems.push(problem(name, "not UTF-8 text"));
                None
            }
        },
        Err(e) => {
            problems.push(problem(name, format!("cannot read: {e}")));
            None
        }
    }
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Parse `bagit.txt` or `bag-info.txt`: `Label: value`, continuation lines start with blanks.
fn parse_fields(text: &str) -> std::result::Result<Vec<(String, String)>, usize> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in lines(text) {
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(n),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(n);
        };
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// Parse a manifest: `<hex digest> <blanks> <path>` per line.
fn parse_manifest(
    name: &str,
    alg: Alg,
    text: &str,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (n, line) in lines(text) {
        let parsed = line
            .split_once([' ', '\t'])
            .map(|(h, p)| (h, p.trim_start_matches([' ', '\t'])));
        let Some((hash, raw)) = parsed else {
            problems.push(problem(
                name,
                format!("line {n}: not `<{}>  <path>`", alg.name()),
            ));
            continue;
        };
        let hash = hash.to_ascii_lowercase();
        if hash.len() != alg.hex_len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(problem(
                name,
                format!("line {n}: not a {} value", alg.label()),
            ));
            continue;
        }
        let rel = decode_path(raw);
        if !safe_rel(&rel) {
            problems.push(problem(
                rel,
                format!("{name} line {n}: path leaves the bag or is not relative"),
            ));
            continue;
        }
        if out.insert(rel.clone(), hash).is_some() {
            problems.push(problem(rel, format!("listed twice in {name}")));
        }
    }
    out
}

/// The manifests present at the top of the bag: (file name, algorithm) for payload manifests
/// and for tag manifests. A manifest whose algorithm cannot be computed here is a problem: RFC
/// 8493 requires every manifest present to be verified.
type Manifests = Vec<(String, Alg)>;

fn find_manifests(root: &Path, problems: &mut Vec<Problem>) -> (Manifests, Manifests) {
    let mut payload = Vec::new();
    let mut tag = Vec::new();
    let rd = match fs::read_dir(root) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(problem(".", format!("cannot read the folder: {e}")));
            return (payload, tag);
        }
    };
    for entry in rd.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let (list, alg) = if let Some(a) = name
            .strip_prefix("tagmanifest-")
            .and_then(|r| r.strip_suffix(".txt"))
        {
            (&mut tag, a.to_string())
        } else if let Some(a) = name
            .strip_prefix("manifest-")
            .and_then(|r| r.strip_suffix(".txt"))
        {
            (&mut payload, a.to_string())
        } else {
            continue;
        };
        match Alg::from_name(&alg) {
            Some(a) => list.push((name, a)),
            None => problems.push(problem(
                name,
                format!(
                    "checksum algorithm {alg:?} is not supported (md5, sha1, sha256, sha512): \
                     the manifest cannot be verified"
                ),
            )),
        }
    }
    payload.sort();
    tag.sort();
    (payload, tag)
}

/// Hash each file once with every algorithm its manifests use and compare. `wanted` maps a
/// bag-relative path to (algorithm, manifest name, expected digest). Returns what was read.
fn check_digests(
    root: &Path,
    wanted: &BTreeMap<String, Vec<(Alg, String, String)>>,
    always: Option<Alg>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, (BTreeMap<Alg, String>, u64, FileId)> {
    let mut out = BTreeMap::new();
    for (rel, checks) in wanted {
        let path = match open_inside(root, rel) {
            Ok(p) => p,
            Err(reason) => {
                let names: Vec<&str> = checks.iter().map(|(_, m, _)| m.as_str()).collect();
                problems.push(problem(
                    rel.clone(),
                    format!("{reason} (listed in {})", names.join(", ")),
                ));
                continue;
            }
        };
        let mut algs: BTreeSet<Alg> = checks.iter().map(|(a, _, _)| *a).collect();
        algs.extend(always);
        let (got, size, id) = match digest_file(&path, &algs) {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(rel.clone(), format!("cannot read: {e}")));
                continue;
            }
        };
        let mut ok = true;
        for (alg, manifest, want) in checks {
            let have = got.get(alg).map(String::as_str).unwrap_or_default();
            if have != want {
                ok = false;
                problems.push(problem(
                    rel.clone(),
                    format!(
                        "{} mismatch: {manifest} says {want}, the file has {have}",
                        alg.label()
                    ),
                ));
            }
        }
        if ok {
            out.insert(rel.clone(), (got, size, id));
        }
    }
    out
}

/// Every file under `dir` (bag-relative names), with problems for what is not a regular file.
fn walk(root: &Path, rel: &str, out: &mut BTreeSet<String>, problems: &mut Vec<Problem>) {
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

/// Check a bag completely: `bagit.txt`; every payload manifest present, whatever its
/// algorithm (MD5, SHA-1, SHA-256, SHA-512; SHA-256 is required), each payload file read once
/// for all of them; every file under `data/` listed; every tag manifest present; and the
/// `Payload-Oxum` of `bag-info.txt` if given. All problems are returned, sorted by path.
pub fn validate(root: &Path) -> std::result::Result<Valid, Vec<Problem>> {
    let mut problems = Vec::new();
    if !root.is_dir() {
        return Err(vec![problem(
            root.display().to_string(),
            "not a folder (a bag is a folder with bagit.txt)",
        )]);
    }
    if let Some(text) = read_text(root, BAGIT, &mut problems) {
        match parse_fields(&text) {
            Ok(fields) => {
                let version = fields
                    .iter()
                    .find(|(k, _)| k == "BagIt-Version")
                    .map(|(_, v)| v.as_str());
                let version_ok = fields.first().map(|(k, _)| k.as_str()) == Some("BagIt-Version")
                    && version.is_some_and(|v| {
                        v.split_once('.').is_some_and(|(a, b)| {
                            !a.is_empty()
                                && !b.is_empty()
                                && a.bytes().all(|c| c.is_ascii_digit())
                                && b.bytes().all(|c| c.is_ascii_digit())
                        })
                    });
                if !version_ok {
                    problems.push(problem(BAGIT, "first line is not `BagIt-Version: M.N`"));
                }
                let enc = fields
                    .iter()
                    .find(|(k, _)| k == "Tag-File-Character-Encoding")
                    .map(|(_, v)| v.as_str());
                match enc {
                    Some(e) if e.eq_ignore_ascii_case("UTF-8") => {}
                    Some(e) => problems.push(problem(
                        BAGIT,
                        format!("tag files in {e:?}; only UTF-8 is read"),
                    )),
                    None => problems.push(problem(BAGIT, "no Tag-File-Character-Encoding line")),
                }
            }
            Err(n) => problems.push(problem(BAGIT, format!("line {n}: not `Label: value`"))),
        }
    }
    let info = match fs::symlink_metadata(root.join(BAG_INFO)) {
        Ok(_) => match read_text(root, BAG_INFO, &mut problems) {
            Some(text) => match parse_fields(&text) {
                Ok(f) => f,
                Err(n) => {
                    problems.push(problem(BAG_INFO, format!("line {n}: not `Label: value`")));
                    Vec::new()
                }
            },
            None => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    if fs::symlink_metadata(root.join("fetch.txt")).is_ok() {
        problems.push(problem(
            "fetch.txt",
            "the bag fetches payload from elsewhere; only complete bags are accepted",
        ));
    }
    let (payload_manifests, tag_manifests) = find_manifests(root, &mut problems);
    if !payload_manifests.iter().any(|(_, a)| *a == Alg::Sha256) {
        problems.push(problem(
            MANIFEST,
            "missing (only bags with SHA-256 manifests are accepted)",
        ));
    }
    // Every payload manifest is read; RFC 8493 §3: each payload file is listed in every one.
    let mut per_manifest: Vec<(String, Alg, BTreeMap<String, String>)> = Vec::new();
    for (name, alg) in &payload_manifests {
        if let Some(t) = read_text(root, name, &mut problems) {
            let m = parse_manifest(name, *alg, &t, &mut problems);
            per_manifest.push((name.clone(), *alg, m));
        }
    }
    let mut wanted: BTreeMap<String, Vec<(Alg, String, String)>> = BTreeMap::new();
    for (name, alg, m) in &per_manifest {
        for (rel, hash) in m {
            wanted
                .entry(rel.clone())
                .or_default()
                .push((*alg, name.clone(), hash.clone()));
        }
    }
    let listed: BTreeSet<String> = wanted.keys().cloned().collect();
    wanted.retain(|rel, _| {
        if rel.starts_with("data/") {
            return true;
        }
        let names: Vec<&str> = per_manifest
            .iter()
            .filter(|(_, _, m)| m.contains_key(rel))
            .map(|(n, _, _)| n.as_str())
            .collect();
        problems.push(problem(
            rel.clone(),
            format!("listed in {} but not under data/", names.join(", ")),
        ));
        false
    });
    for rel in wanted.keys() {
        for (name, _, m) in &per_manifest {
            if !m.contains_key(rel) {
                problems.push(problem(
                    rel.clone(),
                    format!("not listed in {name} (every manifest must list every payload file)"),
                ));
            }
        }
    }
    let mut ids = BTreeMap::new();
    let mut payload = BTreeMap::new();
    for (rel, (digests, size, id)) in check_digests(root, &wanted, Some(Alg::Sha256), &mut problems)
    {
        ids.insert(rel.clone(), id);
        payload.insert(
            rel.clone(),
            Entry {
                path: rel,
                sha256: digests.get(&Alg::Sha256).cloned().unwrap_or_default(),
                size,
            },
        );
    }
    match fs::symlink_metadata(root.join("data")) {
        Ok(m) if m.is_dir() => {
            let mut found = BTreeSet::new();
            walk(root, "data", &mut found, &mut problems);
            for rel in found {
                if !listed.contains(&rel) {
                    problems.push(problem(rel, format!("not listed in {MANIFEST}")));
                }
            }
        }
        Ok(_) => problems.push(problem("data", "not a folder")),
        Err(_) => problems.push(problem("data", "missing (the payload folder)")),
    }
    // Tag manifests: every one present, whatever its algorithm, each tag file read once.
    let mut tag_wanted: BTreeMap<String, Vec<(Alg, String, String)>> = BTreeMap::new();
    for (name, alg) in &tag_manifests {
        let Some(text) = read_text(root, name, &mut problems) else {
            continue;
        };
        for (rel, want) in parse_manifest(name, *alg, &text, &mut problems) {
            if rel.starts_with("data/") {
                problems.push(problem(rel, format!("a payload file listed in {name}")));
                continue;
            }
            tag_wanted
                .entry(rel)
                .or_default()
                .push((*alg, name.clone(), want));
        }
    }
    check_digests(root, &tag_wanted, None, &mut problems);
    if let Some((_, oxum)) = info
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Payload-Oxum"))
    {
        let parsed = oxum
            .split_once('.')
            .and_then(|(b, n)| Some((b.parse::<u64>().ok()?, n.parse::<usize>().ok()?)));
        match parsed {
            Some((bytes, files)) => {
                // Only meaningful when every listed file could be read.
                if payload.len() == wanted.len() {
                    let have: u64 = payload.values().map(|e| e.size).sum();
                    if (have, payload.len()) != (bytes, files) {
                        problems.push(problem(
                            BAG_INFO,
                            format!(
                                "Payload-Oxum {oxum} but the payload is {have}.{}",
                                payload.len()
                            ),
                        ));
                    }
                }
            }
            None => problems.push(problem(
                BAG_INFO,
                format!("Payload-Oxum {oxum:?} is not `<bytes>.<files>`"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(Valid {
            root: root.to_path_buf(),
            info,
            payload,
            ids,
        })
    } else {
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_are_percent_coded() {
        let p = "data/a%b\nc\rd";
        assert_eq!(encode_path(p), "data/a%25b%0Ac%0Dd");
        assert_eq!(decode_path(&encode_path(p)), p);
        assert_eq!(decode_path("data/100%"), "data/100%");
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "data/../x",
            "data//x",
            "./data/x",
            "data/a\\b",
        ] {
            assert!(!safe_rel(bad), "{bad:?} accepted");
        }
        assert!(safe_rel("data/originals/T-000001.jpg"));
        assert!(check_own_path("data/originals/../x").is_err());
        assert!(check_own_path("data/originals/T-000001.jpg").is_ok());
    }

    #[test]
    fn written_bag_validates_and_a_flipped_byte_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::create(&root).expect("create");
        w.write_payload("data/originals/T-000001.txt", b"hello\n")
            .expect("payload");
        w.write_payload("data/metadata.jsonl", b"{}\n")
            .expect("meta");
        let f = w
            .finish(&[("Source-Organization".into(), "test".into())])
            .expect("finish");
        assert_eq!((f.payload_bytes, f.payload_files), (9, 2));
        let v = validate(&root).expect("valid");
        assert_eq!(v.info("payload-oxum"), Some("9.2"));
        fs::write(root.join("data/originals/T-000001.txt"), b"hellO\n").expect("alter");
        fs::write(root.join("data/extra"), b"x").expect("extra");
        let problems = validate(&root).expect_err("invalid");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["data/extra", "data/originals/T-000001.txt"]);
    }

    #[test]
    fn a_file_swapped_for_a_fifo_after_validation_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::create(&root).expect("create");
        w.write_payload("data/originals/T-000001.txt", b"hello\n")
            .expect("payload");
        w.finish(&[]).expect("finish");
        let v = validate(&root).expect("valid");
        assert!(v.open("data/originals/T-000001.txt").is_ok());
        let path = root.join("data/originals/T-000001.txt");
        fs::remove_file(&path).expect("remove");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        // Opened by path without care this blocks forever (no writer): run it aside.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(v.open("data/originals/T-000001.txt").map(|_| ()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("opening the swapped file did not return (hung on the FIFO)");
        assert!(got.is_err(), "a FIFO was accepted as the validated file");
        // Another regular file in its place is refused too.
        fs::remove_file(&path).expect("remove");
        fs::write(&path, b"hello\n").expect("write");
        let v2 = validate(&root).expect("valid again");
        fs::remove_file(&path).expect("remove");
        // (A different size: a new file may get the freed inode number back.)
        fs::write(&path, b"another\n").expect("write");
        assert!(v2.open("data/originals/T-000001.txt").is_err());
    }

    #[test]
    fn abandon_removes_the_bag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::create(&root).expect("create");
        w.write_payload("data/x.txt", b"x").expect("payload");
        w.abandon().expect("abandon");
        assert!(!root.exists());
        fs::write(dir.path().join("x"), b"x").expect("write");
        assert!(
            Writer::create(dir.path()).is_err(),
            "non-empty folder taken"
        );
    }
}
