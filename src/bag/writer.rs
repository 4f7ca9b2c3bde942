//! Writing a bag for disclosure: payload files hashed while written and made durable (fsync)
//! before the manifests; the tag manifests come last, so a bag whose writing was interrupted
//! never validates.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use super::manifest::{digest_bytes, encode_path, Alg, Hashers};
use super::{Entry, BAGIT, BAGIT_TXT, BAG_INFO, BUF};

/// A bag being written. Create it, add payload files, then `finish`; `abandon` removes what
/// was written (an export that fails leaves no half bag behind).
pub struct Writer {
    root: PathBuf,
    created_root: bool,
    algs: BTreeSet<Alg>,
    payload: Vec<Entry>,
    /// Every payload file's digests, in every algorithm of the bag.
    digests: BTreeMap<String, BTreeMap<Alg, String>>,
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
    /// The algorithms of the manifests written (`sha256`, `sha512`...).
    pub algorithms: Vec<&'static str>,
}

/// Only names the writer makes itself: `data/` followed by plain ASCII components.
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

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("{}: cannot sync the folder", dir.display()))
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

/// Copy `from` into `to`, computing every digest in `algs`; `to` is synced.
fn copy_digesting(
    from: &mut impl Read,
    to: &mut File,
    algs: &BTreeSet<Alg>,
) -> io::Result<(BTreeMap<Alg, String>, u64)> {
    let mut h = Hashers::new(algs);
    let mut buf = vec![0u8; BUF];
    let n = crate::hashing::read_through(from, &mut buf, &mut h, |data| to.write_all(data))?;
    to.sync_all()?;
    Ok((h.finish(), n))
}

impl Writer {
    /// Start a bag in `root` (new, or an empty folder) with a manifest and a tag manifest for
    /// each algorithm (SHA-256 always among them: it is what the case names its originals by).
    pub fn with_algorithms(root: &Path, algs: &[Alg]) -> Result<Writer> {
        let mut algs: BTreeSet<Alg> = algs.iter().copied().collect();
        algs.insert(Alg::Sha256);
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
            algs,
            payload: Vec::new(),
            digests: BTreeMap::new(),
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

    fn added(&mut self, rel: &str, digests: BTreeMap<Alg, String>, size: u64) -> Entry {
        let e = Entry {
            path: rel.to_string(),
            sha256: digests.get(&Alg::Sha256).cloned().unwrap_or_default(),
            size,
        };
        self.digests.insert(rel.to_string(), digests);
        self.payload.push(e.clone());
        e
    }

    /// Copy the file at `src` into the payload as `rel`, hashing while copying. The caller
    /// compares the returned hash with the one it expects.
    pub fn copy_payload(&mut self, rel: &str, src: &Path) -> Result<Entry> {
        let mut input =
            File::open(src).with_context(|| format!("{}: cannot open", src.display()))?;
        let (path, mut out) = self.new_file(rel)?;
        let (digests, size) = copy_digesting(&mut input, &mut out, &self.algs)
            .with_context(|| format!("copying {} to {}", src.display(), path.display()))?;
        Ok(self.added(rel, digests, size))
    }

    /// Write bytes into the payload as `rel`.
    pub fn write_payload(&mut self, rel: &str, bytes: &[u8]) -> Result<Entry> {
        let (path, mut out) = self.new_file(rel)?;
        out.write_all(bytes)
            .and_then(|_| out.sync_all())
            .with_context(|| format!("{}: cannot write", path.display()))?;
        let digests = digest_bytes(&self.algs, bytes);
        Ok(self.added(rel, digests, bytes.len() as u64))
    }

    /// Write the manifests, `bag-info.txt` (the given fields after `Bagging-Date` and
    /// `Payload-Oxum`) and `bagit.txt`, each synced, then the tag manifests last.
    pub fn finish(&mut self, info: &[(String, String)]) -> Result<Finished> {
        if let Some(f) = &self.finished {
            return Ok(f.clone());
        }
        let mut payload = self.payload.clone();
        payload.sort_by(|a, b| a.path.cmp(&b.path));
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
        let mut tags: Vec<(String, String)> = vec![
            (BAGIT.to_string(), BAGIT_TXT.to_string()),
            (BAG_INFO.to_string(), bag_info),
        ];
        for alg in &self.algs {
            let manifest: String = payload
                .iter()
                .map(|e| {
                    let d = self
                        .digests
                        .get(&e.path)
                        .and_then(|d| d.get(alg))
                        .map(String::as_str)
                        .unwrap_or_default();
                    format!("{d}  {}\n", encode_path(&e.path))
                })
                .collect();
            tags.push((alg.manifest(), manifest));
        }
        for (name, text) in &tags {
            write_synced(&self.root.join(name), text.as_bytes())?;
        }
        for d in self.dirs.iter().rev() {
            sync_dir(d)?;
        }
        sync_dir(&self.root)?;
        let sha = |t: &str| hex::encode(Sha256::digest(t.as_bytes()));
        let mut tagmanifest_sha256 = String::new();
        for alg in &self.algs {
            let text: String = tags
                .iter()
                .map(|(name, t)| {
                    let d = digest_bytes(&BTreeSet::from([*alg]), t.as_bytes());
                    format!("{}  {name}\n", d.get(alg).cloned().unwrap_or_default())
                })
                .collect();
            if *alg == Alg::Sha256 {
                tagmanifest_sha256 = sha(&text);
            }
            write_synced(&self.root.join(alg.tagmanifest()), text.as_bytes())?;
        }
        sync_dir(&self.root)?;
        let f = Finished {
            payload_bytes: bytes,
            payload_files: payload.len(),
            manifest_sha256: tags
                .iter()
                .find(|(n, _)| *n == Alg::Sha256.manifest())
                .map(|(_, t)| sha(t))
                .unwrap_or_default(),
            tagmanifest_sha256,
            algorithms: self.algs.iter().map(|a| a.name()).collect(),
        };
        self.finished = Some(f.clone());
        Ok(f)
    }

    /// Remove everything this writer wrote (and the folder, if it made it).
    pub fn abandon(self) -> Result<()> {
        let mut names = vec![BAGIT.to_string(), BAG_INFO.to_string()];
        for alg in &self.algs {
            names.push(alg.tagmanifest());
            names.push(alg.manifest());
        }
        // Tag manifests first: a bag half removed must not validate.
        names.sort_by_key(|n| !n.starts_with("tagmanifest-"));
        for name in names {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_paths_only() {
        assert!(check_own_path("data/originals/../x").is_err());
        assert!(check_own_path("data/originals/T-000001.jpg").is_ok());
    }

    #[test]
    fn abandon_removes_the_bag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::with_algorithms(&root, &[Alg::Sha512]).expect("create");
        w.write_payload("data/x.txt", b"x").expect("payload");
        w.finish(&[]).expect("finish");
        w.abandon().expect("abandon");
        assert!(!root.exists());
        fs::write(dir.path().join("x"), b"x").expect("write");
        assert!(
            Writer::with_algorithms(dir.path(), &[]).is_err(),
            "non-empty folder taken"
        );
    }
}
