//! Manifests and tag manifests: the algorithms, the digests (every one a file needs, in one
//! read), the `<digest>  <path>` lines and their percent-encoded paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::files::safe_rel;
use super::{problem, Problem};

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

    pub fn manifest(self) -> String {
        format!("manifest-{}.txt", self.name())
    }

    pub fn tagmanifest(self) -> String {
        format!("tagmanifest-{}.txt", self.name())
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
pub struct Hashers {
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    sha256: Option<Sha256>,
    sha512: Option<sha2::Sha512>,
}

impl Hashers {
    pub fn new(algs: &BTreeSet<Alg>) -> Hashers {
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

    pub fn finish(self) -> BTreeMap<Alg, String> {
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

impl crate::hashing::Digester for Hashers {
    fn update(&mut self, b: &[u8]) {
        if let Some(h) = &mut self.md5 {
            Digest::update(h, b);
        }
        if let Some(h) = &mut self.sha1 {
            Digest::update(h, b);
        }
        if let Some(h) = &mut self.sha256 {
            Digest::update(h, b);
        }
        if let Some(h) = &mut self.sha512 {
            Digest::update(h, b);
        }
    }
}

/// Digests of bytes in memory.
pub fn digest_bytes(algs: &BTreeSet<Alg>, bytes: &[u8]) -> BTreeMap<Alg, String> {
    let mut h = Hashers::new(algs);
    crate::hashing::Digester::update(&mut h, bytes);
    h.finish()
}

/// RFC 8493 §2.1.3: CR, LF and % in a manifest path are percent-encoded.
pub fn encode_path(p: &str) -> String {
    p.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn decode_path(p: &str) -> String {
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

/// A path as a manifest or `fetch.txt` gives it, decoded; `None` when it leaves the bag. A
/// leading `./` is allowed (some tools write it).
pub fn bag_path(raw: &str) -> Option<String> {
    let rel = decode_path(raw);
    let rel = rel.strip_prefix("./").map(str::to_string).unwrap_or(rel);
    safe_rel(&rel).then_some(rel)
}

/// The lines of a tag file with their numbers (from 1), blank lines skipped. A line ends with
/// LF, CR LF or a lone CR (RFC 8493 §2.1: all three are allowed; a CR or LF inside a name is
/// percent-encoded, so no name is cut).
pub fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let (line, next) = match rest.find(['\r', '\n']) {
            Some(i) => {
                let end = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], &rest[i + end..])
            }
            None => (rest, ""),
        };
        if !line.trim().is_empty() {
            out.push((n, line));
        }
        rest = next;
    }
    out
}

/// Parse a manifest: `<hex digest> <blanks> <path>` per line. A path listed twice with the
/// same digest is harmless; with different digests it is a problem.
pub fn parse(
    name: &str,
    alg: Alg,
    text: &str,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in lines(text) {
        let parsed = line
            .split_once([' ', '\t'])
            .map(|(h, p)| (h, p.trim_start_matches([' ', '\t'])));
        let Some((hash, raw)) = parsed.filter(|(_, p)| !p.is_empty()) else {
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
        // `md5sum -b` marks binary mode with `*` before the name; the Library of Congress tool
        // reads such lines, and no payload path can start with it.
        let raw = raw.strip_prefix('*').unwrap_or(raw);
        let Some(rel) = bag_path(raw) else {
            problems.push(problem(
                decode_path(raw),
                format!("{name} line {n}: path leaves the bag or is not relative"),
            ));
            continue;
        };
        match out.get(&rel) {
            Some(before) if *before != hash => problems.push(problem(
                rel.clone(),
                format!("listed twice in {name} with different values ({before}, {hash})"),
            )),
            Some(_) => {}
            None => {
                out.insert(rel, hash);
            }
        }
    }
    out
}

/// The manifests present at the top of the bag: (file name, algorithm) for payload manifests
/// and for tag manifests.
pub type Manifests = Vec<(String, Alg)>;

/// Find every manifest and tag manifest. One whose algorithm cannot be computed here is a
/// problem: every manifest present must be verified.
pub fn find(root: &Path, problems: &mut Vec<Problem>) -> (Manifests, Manifests) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_are_percent_coded() {
        let p = "data/a%b\nc\rd";
        assert_eq!(encode_path(p), "data/a%25b%0Ac%0Dd");
        assert_eq!(decode_path(&encode_path(p)), p);
        assert_eq!(decode_path("data/100%"), "data/100%");
        assert_eq!(decode_path("data/a%0a%0d"), "data/a\n\r");
    }

    #[test]
    fn unsafe_paths_are_refused_and_dot_slash_is_taken() {
        for bad in [
            "",
            "/etc/passwd",
            "data/../x",
            "data//x",
            "./../x",
            "data/a\\b",
        ] {
            assert_eq!(bag_path(bad), None, "{bad:?} accepted");
        }
        assert_eq!(bag_path("./data/x").as_deref(), Some("data/x"));
        assert_eq!(bag_path("data/a%2Fb").as_deref(), Some("data/a%2Fb"));
    }

    #[test]
    fn lines_end_with_lf_crlf_or_cr() {
        let got = lines("a\nb\r\nc\rd\n\n e");
        assert_eq!(got, [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (6, " e")]);
    }

    #[test]
    fn a_path_listed_twice_differently_is_a_problem() {
        let mut problems = Vec::new();
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let text = format!("{a}  data/x\n{a} ./data/x\n{b}  data/y\n{a}  data/y\n{a} *data/z\n");
        let m = parse("manifest-sha256.txt", Alg::Sha256, &text, &mut problems);
        assert_eq!(m.len(), 3);
        assert!(m.contains_key("data/z"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "data/y");
    }
}
