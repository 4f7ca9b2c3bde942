//! Validating a bag before anything of it enters a case, one step per file of the bag: the
//! declaration, `bag-info.txt`, `fetch.txt`, the payload manifests, the payload files, the
//! files under `data/` nobody listed, the tag manifests, and the `Payload-Oxum`. Every step
//! adds its problems; the bag is valid only when no step found any.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::files::{self, FileId};
use super::manifest::{self, Alg, Manifests};
use super::tagfiles::{self, Declaration, Encoding, Fetch};
use super::{problem, Entry, Problem, BAGIT, BAG_INFO};

const FETCH: &str = "fetch.txt";

/// A bag that passed validation: every payload file is listed, present and has its hashes.
#[derive(Debug, Clone)]
pub struct Valid {
    pub root: PathBuf,
    /// `BagIt-Version` of `bagit.txt`.
    pub version: String,
    /// `bag-info.txt` fields in order (labels as written).
    pub info: Vec<(String, String)>,
    /// Payload files by bag-relative path (SHA-256 computed whatever the manifests use).
    pub payload: BTreeMap<String, Entry>,
    /// The bag's own fixity of each payload file: every manifest's value, by algorithm name.
    pub fixity: BTreeMap<String, BTreeMap<&'static str, String>>,
    /// Which file each payload path was when it was hashed: a later open must find the same.
    ids: BTreeMap<String, FileId>,
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
        let path = files::open_inside(&self.root, rel)
            .map_err(|r| format!("{r} (changed since it was validated)"))?;
        let (f, m) = files::open_regular(&path).map_err(|e| format!("cannot open: {e}"))?;
        if FileId::of(&m) != *want {
            return Err("replaced or changed since it was validated".into());
        }
        Ok(f)
    }
}

/// Where each payload path is expected: (algorithm, manifest name, expected digest).
type Wanted = BTreeMap<String, Vec<(Alg, String, String)>>;
/// What was read of each file: digests, size and which file it was.
type Read = BTreeMap<String, (BTreeMap<Alg, String>, u64, FileId)>;

/// A validation under way: the bag and every problem found so far.
struct Check<'a> {
    root: &'a Path,
    problems: Vec<Problem>,
}

/// Check a bag completely. All problems are returned, sorted by path.
pub fn validate(root: &Path) -> std::result::Result<Valid, Vec<Problem>> {
    if !root.is_dir() {
        return Err(vec![problem(
            root.display().to_string(),
            "not a folder (a bag is a folder with bagit.txt)",
        )]);
    }
    let mut c = Check {
        root,
        problems: Vec::new(),
    };
    let decl = c.declaration();
    // Without a usable declaration the other tag files are read as UTF-8, to report more.
    let encoding = decl.as_ref().map_or(Encoding::Utf8, |d| d.encoding);
    let info = c.bag_info(encoding);
    let fetch = c.fetch(encoding);
    let (payload_manifests, tag_manifests) = manifest::find(root, &mut c.problems);
    let (listed, wanted) = c.payload_manifests(&payload_manifests, encoding);
    let read = c.payload_files(&wanted, &fetch);
    c.unlisted_payload(&listed);
    c.tag_manifests(&tag_manifests, encoding);
    c.payload_oxum(&info, &read, wanted.len());
    let Check { mut problems, .. } = c;
    match decl {
        Some(d) if problems.is_empty() => {
            let algs = payload_manifests.iter().map(|(_, a)| *a).collect();
            Ok(valid(root, d, info, read, &algs))
        }
        _ => {
            if problems.is_empty() {
                // Never refuse without a reason.
                problems.push(problem(BAGIT, "the declaration could not be read"));
            }
            problems.sort_by(|a, b| a.path.cmp(&b.path));
            Err(problems)
        }
    }
}

/// The valid bag; `algs` are its payload manifests' algorithms (its own fixity).
fn valid(
    root: &Path,
    decl: Declaration,
    info: Vec<(String, String)>,
    read: Read,
    algs: &BTreeSet<Alg>,
) -> Valid {
    let mut ids = BTreeMap::new();
    let mut payload = BTreeMap::new();
    let mut fixity = BTreeMap::new();
    for (rel, (digests, size, id)) in read {
        ids.insert(rel.clone(), id);
        payload.insert(
            rel.clone(),
            Entry {
                path: rel.clone(),
                sha256: digests.get(&Alg::Sha256).cloned().unwrap_or_default(),
                size,
            },
        );
        fixity.insert(
            rel,
            digests
                .into_iter()
                .filter(|(a, _)| algs.contains(a))
                .map(|(a, d)| (a.name(), d))
                .collect(),
        );
    }
    Valid {
        root: root.to_path_buf(),
        version: decl.version,
        info,
        payload,
        fixity,
        ids,
    }
}

impl Check<'_> {
    fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.problems.push(problem(path, reason));
    }

    /// A tag file in the declared encoding; `None` (with a problem) if absent or unreadable.
    fn text(&mut self, name: &str, encoding: Encoding) -> Option<String> {
        let bytes = files::read_bytes(self.root, name, &mut self.problems)?;
        match encoding.decode(&bytes) {
            Ok(t) => Some(t.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(t)),
            Err(reason) => {
                self.push(name, reason);
                None
            }
        }
    }

    /// `bagit.txt`: required, UTF-8 without a BOM, the two fields in order.
    fn declaration(&mut self) -> Option<Declaration> {
        if !files::exists(self.root, BAGIT) {
            self.push(BAGIT, "missing (a bag starts with its declaration)");
            return None;
        }
        let bytes = files::read_bytes(self.root, BAGIT, &mut self.problems)?;
        tagfiles::declaration(&bytes, &mut self.problems)
    }

    /// `bag-info.txt`: optional; its fields when present.
    fn bag_info(&mut self, encoding: Encoding) -> Vec<(String, String)> {
        if !files::exists(self.root, BAG_INFO) {
            return Vec::new();
        }
        let Some(text) = self.text(BAG_INFO, encoding) else {
            return Vec::new();
        };
        match tagfiles::parse_fields(&text) {
            Ok(f) => f,
            Err(n) => {
                self.push(BAG_INFO, format!("line {n}: not `Label: value`"));
                Vec::new()
            }
        }
    }

    /// `fetch.txt`: optional; the files it lists must all be present (checked with the
    /// payload), so a holey bag is taken only once it was completed.
    fn fetch(&mut self, encoding: Encoding) -> BTreeMap<String, Fetch> {
        if !files::exists(self.root, FETCH) {
            return BTreeMap::new();
        }
        let Some(text) = self.text(FETCH, encoding) else {
            return BTreeMap::new();
        };
        tagfiles::parse_fetch(&text, &mut self.problems)
            .into_iter()
            .map(|f| (f.path.clone(), f))
            .collect()
    }

    /// The payload manifests: at least one; each path under `data/`; each payload file in
    /// every one (RFC 8493 §3). Returns every path listed and what each must hash to.
    fn payload_manifests(
        &mut self,
        manifests: &Manifests,
        encoding: Encoding,
    ) -> (BTreeSet<String>, Wanted) {
        if manifests.is_empty() {
            self.push(
                "manifest-<algorithm>.txt",
                "missing: a bag has at least one payload manifest",
            );
        }
        let mut per_manifest: Vec<(String, Alg, BTreeMap<String, String>)> = Vec::new();
        for (name, alg) in manifests {
            if let Some(t) = self.text(name, encoding) {
                let m = manifest::parse(name, *alg, &t, &mut self.problems);
                per_manifest.push((name.clone(), *alg, m));
            }
        }
        let mut wanted: Wanted = BTreeMap::new();
        for (name, alg, m) in &per_manifest {
            for (rel, hash) in m {
                wanted
                    .entry(rel.clone())
                    .or_default()
                    .push((*alg, name.clone(), hash.clone()));
            }
        }
        let listed: BTreeSet<String> = wanted.keys().cloned().collect();
        let outside: Vec<String> = listed
            .iter()
            .filter(|r| !r.starts_with("data/"))
            .cloned()
            .collect();
        for rel in outside {
            let names: Vec<&str> = wanted
                .get(&rel)
                .map(|w| w.iter().map(|(_, n, _)| n.as_str()).collect())
                .unwrap_or_default();
            let reason = format!("listed in {} but not under data/", names.join(", "));
            wanted.remove(&rel);
            self.push(rel, reason);
        }
        for rel in wanted.keys() {
            for (name, _, m) in &per_manifest {
                if !m.contains_key(rel) {
                    self.problems.push(problem(
                        rel.clone(),
                        format!(
                            "not listed in {name} (every manifest must list every payload file)"
                        ),
                    ));
                }
            }
        }
        (listed, wanted)
    }

    /// Every listed payload file: present, a regular file inside the bag, every digest
    /// right. SHA-256 is computed for every file whatever the manifests use.
    fn payload_files(&mut self, wanted: &Wanted, fetch: &BTreeMap<String, Fetch>) -> Read {
        let read = self.digests(wanted, Some(Alg::Sha256), |rel, reason| {
            match fetch.get(rel) {
                Some(f) if reason == "missing" => Some(format!(
                    "missing: the bag is holey (fetch.txt lists it at {}); fetch every \
                         listed file into the bag first",
                    f.url
                )),
                _ => None,
            }
        });
        for rel in fetch.keys() {
            if !wanted.contains_key(rel) {
                self.push(
                    rel.clone(),
                    "listed in fetch.txt but in no payload manifest",
                );
            }
        }
        read
    }

    /// Files under `data/` that no manifest lists, and what is not a regular file there.
    fn unlisted_payload(&mut self, listed: &BTreeSet<String>) {
        match fs::symlink_metadata(self.root.join("data")) {
            Ok(m) if m.is_dir() => {
                let mut found = BTreeSet::new();
                files::walk(self.root, "data", &mut found, &mut self.problems);
                for rel in found {
                    if !listed.contains(&rel) {
                        self.push(rel, "not listed in any payload manifest");
                    }
                }
            }
            Ok(_) => self.push("data", "not a folder"),
            Err(_) => self.push("data", "missing (the payload folder)"),
        }
    }

    /// Every tag manifest, whatever its algorithm, each tag file read once.
    fn tag_manifests(&mut self, manifests: &Manifests, encoding: Encoding) {
        let mut wanted: Wanted = BTreeMap::new();
        for (name, alg) in manifests {
            let Some(text) = self.text(name, encoding) else {
                continue;
            };
            for (rel, want) in manifest::parse(name, *alg, &text, &mut self.problems) {
                if rel.starts_with("data/") {
                    self.push(rel, format!("a payload file listed in {name}"));
                    continue;
                }
                wanted
                    .entry(rel)
                    .or_default()
                    .push((*alg, name.clone(), want));
            }
        }
        self.digests(&wanted, None, |_, _| None);
    }

    /// `Payload-Oxum` (`<bytes>.<files>`) when `bag-info.txt` gives one.
    fn payload_oxum(&mut self, info: &[(String, String)], read: &Read, listed: usize) {
        let Some((_, oxum)) = info
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Payload-Oxum"))
        else {
            return;
        };
        let parsed = oxum
            .split_once('.')
            .and_then(|(b, n)| Some((b.parse::<u64>().ok()?, n.parse::<usize>().ok()?)));
        let Some((bytes, count)) = parsed else {
            self.push(
                BAG_INFO,
                format!("Payload-Oxum {oxum:?} is not `<bytes>.<files>`"),
            );
            return;
        };
        // Only meaningful when every listed file could be read.
        if read.len() != listed {
            return;
        }
        let have: u64 = read.values().map(|(_, size, _)| *size).sum();
        if (have, read.len()) != (bytes, count) {
            self.push(
                BAG_INFO,
                format!(
                    "Payload-Oxum {oxum} but the payload is {have}.{}",
                    read.len()
                ),
            );
        }
    }

    /// Hash each file once with every algorithm its manifests use (and `always`) and compare.
    /// `explain` may give a better reason for a file that cannot be opened.
    fn digests(
        &mut self,
        wanted: &Wanted,
        always: Option<Alg>,
        mut explain: impl FnMut(&str, &str) -> Option<String>,
    ) -> Read {
        let mut out = BTreeMap::new();
        for (rel, checks) in wanted {
            let path = match files::open_inside(self.root, rel) {
                Ok(p) => p,
                Err(reason) => {
                    let names: Vec<&str> = checks.iter().map(|(_, m, _)| m.as_str()).collect();
                    let reason = explain(rel, &reason)
                        .unwrap_or_else(|| format!("{reason} (listed in {})", names.join(", ")));
                    self.push(rel.clone(), reason);
                    continue;
                }
            };
            let mut algs: BTreeSet<Alg> = checks.iter().map(|(a, _, _)| *a).collect();
            algs.extend(always);
            let (got, size, id) = match files::digest_file(&path, &algs) {
                Ok(r) => r,
                Err(e) => {
                    self.push(rel.clone(), format!("cannot read: {e}"));
                    continue;
                }
            };
            let mut ok = true;
            for (alg, manifest, want) in checks {
                let have = got.get(alg).map(String::as_str).unwrap_or_default();
                if have != want {
                    ok = false;
                    self.push(
                        rel.clone(),
                        format!(
                            "{} mismatch: {manifest} says {want}, the file has {have}",
                            alg.label()
                        ),
                    );
                }
            }
            if ok {
                out.insert(rel.clone(), (got, size, id));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::Writer;
    use super::*;

    #[test]
    fn written_bag_validates_and_a_flipped_byte_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::with_algorithms(&root, &[]).expect("create");
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
        assert_eq!(v.version, "1.0");
        fs::write(root.join("data/originals/T-000001.txt"), b"hellO\n").expect("alter");
        fs::write(root.join("data/extra"), b"x").expect("extra");
        let problems = validate(&root).expect_err("invalid");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["data/extra", "data/originals/T-000001.txt"]);
    }

    #[test]
    fn a_bag_in_sha512_only_is_valid_and_its_fixity_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::with_algorithms(&root, &[Alg::Sha512]).expect("create");
        w.write_payload("data/a.txt", b"a").expect("payload");
        w.finish(&[]).expect("finish");
        fs::remove_file(root.join("manifest-sha256.txt")).expect("rm");
        fs::remove_file(root.join("tagmanifest-sha256.txt")).expect("rm");
        let t = root.join("tagmanifest-sha512.txt");
        let kept: String = fs::read_to_string(&t)
            .expect("read")
            .lines()
            .filter(|l| !l.ends_with("manifest-sha256.txt"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&t, kept).expect("write");
        let v = validate(&root).expect("valid");
        let e = &v.payload["data/a.txt"];
        assert_eq!(e.size, 1);
        assert_eq!(e.sha256.len(), 64, "SHA-256 computed anyway");
        assert_eq!(v.fixity["data/a.txt"]["sha512"].len(), 128);
    }

    #[test]
    fn a_file_swapped_for_a_fifo_after_validation_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("bag");
        let mut w = Writer::with_algorithms(&root, &[]).expect("create");
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
}
