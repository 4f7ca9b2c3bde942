//! Containers opened in a parser worker: each member is streamed while hashed into the case's
//! temporary area and listed; the parent makes items of them. A member's name is never used
//! as a path: its data goes to `<into>/<ordinal>`, so names with `..`, absolute names and links
//! cannot write outside the case. Limits (members, bytes, ratio) stop the expansion and are
//! reported as problems on the container.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use mail_parser::MimeHeaders;

use super::protocol::{Budget, Member, Reply};
use crate::ingest::copy::{copy_hashed, CHUNK};

/// The list a worker writes beside the members it expanded.
pub const LIST: &str = "list";

/// Problems beyond this many are counted, not listed (a hostile archive may have millions).
const MAX_PROBLEMS: usize = 50;

pub fn expand(path: &Path, name: &[u8], format: &str, into: &Path, budget: Budget) -> Reply {
    let mut out = match Out::new(into, budget) {
        Ok(o) => o,
        Err(e) => return Reply::Refused(format!("cannot write into the case: {e}")),
    };
    let result = match format {
        "zip" => zip(path, &mut out),
        "tar" => File::open(path).and_then(|f| tar_or_single(Box::new(f), name, "", &mut out)),
        "gzip" => File::open(path).and_then(|f| {
            let gz = flate2::read::MultiGzDecoder::new(io::BufReader::new(f));
            tar_or_single(Box::new(gz), name, ".gz", &mut out)
        }),
        "bzip2" => File::open(path).and_then(|f| {
            let bz = bzip2::read::MultiBzDecoder::new(io::BufReader::new(f));
            tar_or_single(Box::new(bz), name, ".bz2", &mut out)
        }),
        "xz" => File::open(path).and_then(|f| {
            let xz = lzma_rust2::XzReader::new(io::BufReader::new(f), true);
            tar_or_single(Box::new(xz), name, ".xz", &mut out)
        }),
        "zstd" => File::open(path)
            .and_then(zstd::stream::read::Decoder::new)
            .and_then(|z| tar_or_single(Box::new(z), name, ".zst", &mut out)),
        "7z" => seven_zip(path, &mut out),
        "email" => email(path, &mut out),
        other => return Reply::Refused(format!("no expansion for {other:?}")),
    };
    if let Err(e) = result {
        out.problem(format!("expansion stopped: {e}"));
    }
    match out.finish() {
        Ok((members, problems)) => Reply::Expanded { members, problems },
        Err(e) => Reply::Refused(format!("cannot write into the case: {e}")),
    }
}

/// The expansion's output: members written and listed, problems noted, limits kept.
struct Out {
    into: PathBuf,
    list: BufWriter<File>,
    n: u32,
    budget: Budget,
    written: u64,
    names: HashSet<Vec<u8>>,
    problems: Vec<String>,
    unlisted: usize,
    /// A limit was reached: nothing more is expanded.
    stopped: bool,
    chunk: Vec<u8>,
}

impl Out {
    fn new(into: &Path, budget: Budget) -> io::Result<Out> {
        std::fs::create_dir_all(into)?;
        Ok(Out {
            into: into.to_path_buf(),
            list: BufWriter::new(create(&into.join(LIST))?),
            n: 0,
            budget,
            written: 0,
            names: HashSet::new(),
            problems: Vec::new(),
            unlisted: 0,
            stopped: false,
            chunk: vec![0; CHUNK],
        })
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text);
        } else {
            self.unlisted += 1;
        }
    }

    /// Bytes this container may still expand to.
    fn allowed(&self) -> u64 {
        let b = &self.budget;
        let by_ratio = b.ratio.saturating_mul(b.container_size).max(b.ratio_floor);
        b.bytes.min(by_ratio).saturating_sub(self.written)
    }

    /// Say what is odd about a member's name; the member is expanded all the same (its data
    /// is written under its number, never under its name).
    fn check_name(&mut self, name: &[u8]) {
        let shown = shown(name);
        let absolute = name.first().is_some_and(|c| *c == b'/' || *c == b'\\')
            || (name.len() > 1 && name[1] == b':' && name[0].is_ascii_alphabetic());
        if absolute {
            self.problem(format!(
                "member {shown}: absolute name, kept inside the case"
            ));
        }
        if name
            .split(|c| *c == b'/' || *c == b'\\')
            .any(|c| c == b"..")
        {
            self.problem(format!(
                "member {shown}: name climbs out of the archive (..), kept inside the case"
            ));
        }
        if !self.names.insert(name.to_vec()) {
            self.problem(format!("member {shown}: duplicate name, each copy kept"));
        }
    }

    /// Stream one member in while hashing it. `false` when a limit stopped the expansion.
    fn member(&mut self, name: &[u8], mtime: Option<String>, data: &mut dyn Read) -> bool {
        if self.stopped {
            return false;
        }
        if u64::from(self.n) >= self.budget.members {
            self.problem(format!(
                "more than {} members: the rest not expanded",
                self.budget.members
            ));
            self.stopped = true;
            return false;
        }
        self.check_name(name);
        let ordinal = self.n + 1;
        let file = self.into.join(ordinal.to_string());
        let allowed = self.allowed();
        let copied = create(&file).and_then(|mut f| {
            let r = copy_hashed(data, &mut f, allowed, &mut self.chunk);
            r.and_then(|v| f.flush().map(|_| v))
        });
        let shown = shown(name);
        let (sha256, size) = match copied {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                self.problem(format!("member {shown}: cannot be read: {e}"));
                return true;
            }
        };
        if size > allowed {
            let _ = std::fs::remove_file(&file);
            let b = &self.budget;
            let why = if allowed + self.written >= b.bytes {
                format!("more than {} bytes expanded", b.bytes)
            } else {
                format!(
                    "expands more than {} times its size (a compression bomb?)",
                    b.ratio
                )
            };
            self.problem(format!(
                "expansion stopped at member {shown}: {why}; the rest not expanded"
            ));
            self.stopped = true;
            return false;
        }
        self.written += size;
        self.n = ordinal;
        let member = Member {
            ordinal,
            name_b64: base64::engine::general_purpose::STANDARD.encode(name),
            size,
            sha256,
            mtime,
        };
        let line = serde_json::to_string(&member).unwrap_or_default();
        if let Err(e) = writeln!(self.list, "{line}") {
            self.problem(format!("cannot list member {shown}: {e}"));
            self.stopped = true;
            return false;
        }
        true
    }

    fn finish(mut self) -> io::Result<(u32, Vec<String>)> {
        self.list.flush()?;
        if self.unlisted > 0 {
            self.problems
                .push(format!("and {} more problems", self.unlisted));
        }
        Ok((self.n, self.problems))
    }
}

/// A member's name as a problem quotes it: one safe line (names are evidence).
fn shown(name: &[u8]) -> String {
    crate::text::sanitize(&String::from_utf8_lossy(name)).to_string()
}

/// A new read-only file (as the object store's temporary files are).
fn create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)
}

fn zip(path: &Path, out: &mut Out) -> io::Result<()> {
    let file = io::BufReader::new(File::open(path)?);
    let mut archive = zip::ZipArchive::new(file).map_err(io::Error::other)?;
    if archive.has_duplicate_names() {
        // The zip reader keeps one entry per name: the others cannot be reached. Name them
        // from the central directory, read here.
        let dups = File::open(path)
            .and_then(|mut f| zip_duplicate_names(&mut f))
            .unwrap_or_default();
        if dups.is_empty() {
            out.problem("duplicate names in the archive: one member per name expanded".into());
        }
        for (name, n) in dups {
            out.problem(format!(
                "member {}: duplicate name ({n} entries), one expanded",
                shown(&name)
            ));
        }
    }
    for i in 0..archive.len() {
        if out.stopped {
            break;
        }
        let (name, kind, encrypted, mtime) = match archive.by_index_raw(i) {
            Ok(f) => (
                f.name_raw().to_vec(),
                if f.is_dir() {
                    Entry::Dir
                } else if f.is_symlink() {
                    Entry::Link
                } else {
                    Entry::File
                },
                f.encrypted(),
                zip_time(&f),
            ),
            Err(e) => {
                out.problem(format!("entry {}: cannot be read: {e}", i + 1));
                continue;
            }
        };
        let shown = shown(&name);
        match kind {
            Entry::Dir => continue,
            Entry::Link => {
                out.problem(format!("member {shown}: symbolic link, not expanded"));
                continue;
            }
            Entry::File if encrypted => {
                out.problem(format!("member {shown}: encrypted, not expanded"));
                continue;
            }
            Entry::File => {}
        }
        match archive.by_index(i) {
            Ok(mut f) => {
                out.member(&name, mtime, &mut f);
            }
            Err(e) => out.problem(format!("member {shown}: cannot be read: {e}")),
        }
    }
    Ok(())
}

/// Header buffers and decoder dictionaries a 7z archive may ask for (KiB): well inside the
/// worker's address space (a 64 MiB LZMA dictionary is the largest 7-Zip writes by default).
const SEVEN_ZIP_MEMORY_KB: usize = 256 << 10;

fn seven_zip(path: &Path, out: &mut Out) -> io::Result<()> {
    use sevenz_rust2::{ArchiveReader, Error, Password};
    let encrypted = |e: &Error| matches!(e, Error::PasswordRequired | Error::MaybeBadPassword(_));
    let file = io::BufReader::new(File::open(path)?);
    let mut archive =
        match ArchiveReader::new_with_memory_limit(file, Password::empty(), SEVEN_ZIP_MEMORY_KB) {
            Ok(a) => a,
            Err(e) if encrypted(&e) => {
                out.problem("encrypted (names and members), not expanded".into());
                return Ok(());
            }
            Err(e) => return Err(io::Error::other(e.to_string())),
        };
    // One thread: the worker runs one job on one core, as the pool expects.
    archive.set_thread_count(1);
    let mut last = String::new();
    let result = archive.for_each_entries(|entry, data| {
        if out.stopped {
            return Ok(false);
        }
        if entry.is_directory || entry.is_anti_item {
            return Ok(true);
        }
        last.clone_from(&entry.name);
        let mtime = entry.has_last_modified_date.then(|| {
            let t: std::time::SystemTime = entry.last_modified_date.into();
            t.duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| unix_time(d.as_secs() as i64))
        });
        Ok(out.member(entry.name.as_bytes(), mtime.flatten(), data))
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) if encrypted(&e) => {
            out.problem(format!(
                "member {}: encrypted, not expanded (nor the rest of its block)",
                shown(last.as_bytes())
            ));
            Ok(())
        }
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// Central directory entries read at most when looking for duplicate names.
const CENTRAL_ENTRIES: usize = 1_000_000;

/// Names the central directory of a ZIP lists more than once, with their counts, in order.
/// ZIP64 archives are read through their ZIP64 end record.
fn zip_duplicate_names(f: &mut File) -> io::Result<Vec<(Vec<u8>, usize)>> {
    use std::io::{Seek, SeekFrom};
    let len = f.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65_535 + 20);
    f.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail)?;
    let le16 = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let le32 =
        |b: &[u8], i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let bad = || io::Error::other("no end of central directory");
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")
        .ok_or_else(bad)?;
    let (mut start, mut size) = (le32(&tail, eocd + 16), le32(&tail, eocd + 12));
    if (start == 0xffff_ffff || size == 0xffff_ffff)
        && eocd >= 20
        && tail[eocd - 20..eocd - 16] == *b"PK\x06\x07"
    {
        let at = u64::from_le_bytes(tail[eocd - 12..eocd - 4].try_into().map_err(|_| bad())?);
        f.seek(SeekFrom::Start(at))?;
        let mut z = [0u8; 56];
        f.read_exact(&mut z)?;
        if z[..4] != *b"PK\x06\x06" {
            return Err(bad());
        }
        size = u64::from_le_bytes(z[40..48].try_into().map_err(|_| bad())?);
        start = u64::from_le_bytes(z[48..56].try_into().map_err(|_| bad())?);
    }
    if start.saturating_add(size) > len {
        return Err(bad());
    }
    f.seek(SeekFrom::Start(start))?;
    let mut central = io::BufReader::new(f.take(size));
    let mut seen: std::collections::HashMap<Vec<u8>, usize> = Default::default();
    let mut order = Vec::new();
    let mut head = [0u8; 46];
    for _ in 0..CENTRAL_ENTRIES {
        if central.read_exact(&mut head).is_err() || head[..4] != *b"PK\x01\x02" {
            break;
        }
        let (n, extra, comment) = (le16(&head, 28), le16(&head, 30), le16(&head, 32));
        let mut name = vec![0u8; n as usize];
        central.read_exact(&mut name)?;
        io::copy(&mut (&mut central).take(extra + comment), &mut io::sink())?;
        let count = seen.entry(name.clone()).or_insert(0);
        *count += 1;
        if *count == 2 {
            order.push(name);
        }
    }
    Ok(order
        .into_iter()
        .map(|n| {
            let c = seen[&n];
            (n, c)
        })
        .collect())
}

enum Entry {
    File,
    Dir,
    Link,
}

/// A member's time: the extended timestamp (UTC) when there, else the DOS time, which has no
/// zone (written without one).
fn zip_time<R: Read>(f: &zip::read::ZipFile<'_, R>) -> Option<String> {
    for field in f.extra_data_fields() {
        if let zip::extra_fields::ExtraField::ExtendedTimestamp(t) = field {
            if let Some(secs) = t.mod_time() {
                return unix_time(i64::from(secs));
            }
        }
    }
    let t = f.last_modified()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

fn unix_time(secs: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs, 0).map(crate::clock::format)
}

/// A decompressed stream: a tar archive's members, or else one member (the stream itself,
/// named after the container without its compression suffix).
fn tar_or_single(
    mut stream: Box<dyn Read>,
    name: &[u8],
    suffix: &str,
    out: &mut Out,
) -> io::Result<()> {
    let mut head = vec![0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match stream.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    head.truncate(got);
    let is_tar = head.get(257..262) == Some(b"ustar") || (got == 512 && tar_checksum_ok(&head));
    let whole = io::Cursor::new(head).chain(stream);
    if is_tar {
        return tar(whole, out);
    }
    if suffix.is_empty() {
        return Err(io::Error::other("not a tar archive"));
    }
    // A single compressed file: its member is named after it, without the suffix.
    let name = name.strip_suffix(suffix.as_bytes()).unwrap_or(name);
    let name = if name.is_empty() {
        b"content".as_slice()
    } else {
        name
    };
    let mut whole = whole;
    out.member(name, None, &mut whole);
    Ok(())
}

/// A tar header's checksum: the sum of its bytes with the checksum field read as spaces.
fn tar_checksum_ok(h: &[u8]) -> bool {
    let field = &h[148..156];
    let text: String = field
        .iter()
        .take_while(|c| **c != 0 && **c != b' ')
        .map(|c| *c as char)
        .collect();
    let Ok(want) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*c)
            }
        })
        .sum();
    sum == want
}

fn tar(stream: impl Read, out: &mut Out) -> io::Result<()> {
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries()? {
        if out.stopped {
            break;
        }
        let mut entry = entry?;
        let name = entry.path_bytes().into_owned();
        let shown = shown(&name);
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {}
            T::Directory | T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {
                continue
            }
            T::Symlink | T::Link => {
                out.problem(format!("member {shown}: link, not expanded"));
                continue;
            }
            T::Char | T::Block | T::Fifo => {
                out.problem(format!("member {shown}: device or pipe, not expanded"));
                continue;
            }
            _ => {
                out.problem(format!("member {shown}: unknown entry type, not expanded"));
                continue;
            }
        }
        let mtime = entry
            .header()
            .mtime()
            .ok()
            .and_then(|t| unix_time(i64::try_from(t).ok()?));
        out.member(&name, mtime, &mut entry);
    }
    Ok(())
}

/// An e-mail's attachments, attached e-mails among them (each one a member, expanded in turn
/// by the parent like any container).
fn email(path: &Path, out: &mut Out) -> io::Result<()> {
    let bytes = std::fs::read(path)?;
    let Some(message) = mail_parser::MessageParser::default().parse(&bytes) else {
        return Err(io::Error::other("not a readable e-mail"));
    };
    for (i, part) in message.attachments().enumerate() {
        let name = match part.attachment_name() {
            Some(n) if !n.is_empty() => n.as_bytes().to_vec(),
            _ if part.is_message() => format!("attachment-{}.eml", i + 1).into_bytes(),
            _ => format!("attachment-{}", i + 1).into_bytes(),
        };
        if !out.member(&name, None, &mut part.contents()) {
            break;
        }
    }
    Ok(())
}
