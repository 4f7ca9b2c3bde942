//! Bags from any BagIt tool (issue 15): bags made by the Library of Congress `bagit` tool in
//! every algorithm, hand-made BagIt 0.97 bags with Latin-1 and UTF-16 tag files and
//! percent-encoded names, a holey bag, an invalid bag of every kind (refused whole with the
//! reason, the case unchanged), and the round trip export → import with SHA-512 manifests.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use sha2::Digest;

const BIN: &str = env!("CARGO_BIN_EXE_triage");

// ---------------------------------------------------------------------------------------------
// helpers

fn run<I, S>(case: Option<&Path>, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TRIAGE_CASE").stdin(Stdio::null());
    if let Some(c) = case {
        cmd.arg("--case").arg(c);
    }
    cmd.args(args).output().expect("run the triage binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what} failed\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn init_case(path: &Path) -> PathBuf {
    ok(&run(None, [OsStr::new("init"), path.as_os_str()]), "init");
    path.to_path_buf()
}

fn import(case: &Path, bag: &Path) -> Output {
    run(
        Some(case),
        [
            OsStr::new("import"),
            bag.as_os_str(),
            "--source".as_ref(),
            "partner".as_ref(),
        ],
    )
}

fn list(case: &Path, filter: &str) -> Vec<Value> {
    let out = run(Some(case), ["list", "--json", "--filter", filter]);
    ok(&out, "list");
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn show(case: &Path, r: &str) -> Value {
    let out = run(Some(case), ["show", "--json", r]);
    ok(&out, "show");
    serde_json::from_slice(&out.stdout).expect("show --json")
}

fn db(case: &Path) -> Connection {
    Connection::open_with_flags(case.join("case.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open case.db")
}

fn count(case: &Path, sql: &str) -> i64 {
    db(case)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn events(case: &Path, event: &str) -> Vec<Value> {
    let conn = db(case);
    let mut st = conn
        .prepare("SELECT details FROM audit WHERE event = ?1 ORDER BY seq")
        .expect("prepare");
    st.query_map([event], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|d| serde_json::from_str(&d.expect("row")).expect("JSON"))
        .collect()
}

fn digest(alg: &str, bytes: &[u8]) -> String {
    match alg {
        "md5" => hex::encode(md5::Md5::digest(bytes)),
        "sha1" => hex::encode(sha1::Sha1::digest(bytes)),
        "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
        "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
        other => panic!("{other}"),
    }
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 7) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// Whether the Library of Congress tool can run; under CI it must.
fn has_bagit() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import bagit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("python3 module `bagit` is missing; CI must install it (pip install bagit)");
        }
        eprintln!("\n## SKIPPED: the Library of Congress `bagit` tool is not installed (pip install bagit) ##\n");
    }
    ok
}

/// A folder of payload: an image, a text in a subfolder with a space in its name.
fn payload(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let files: BTreeMap<String, Vec<u8>> = [
        ("photo.png".to_string(), png()),
        (
            "statements/witness one.txt".to_string(),
            "The shelling began at dawn near the bakery.\n"
                .as_bytes()
                .to_vec(),
        ),
    ]
    .into();
    for (rel, bytes) in &files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
    files
}

/// Make a bag with the Library of Congress tool in place.
fn loc_bag(dir: &Path, algs: &[&str]) {
    let script = format!(
        "import bagit, sys\nbagit.make_bag(sys.argv[1], checksums={algs:?}, bag_info={{\
         'Source-Organization': 'Syrian Archive Partners', 'Contact-Name': 'Rana Haddad', \
         'Contact-Email': 'rana@example.org', 'External-Identifier': 'SAP-2026-0042', \
         'External-Description': 'Statements and photographs from Douma', \
         'Bag-Group-Identifier': 'douma-set', 'Internal-Sender-Identifier': 'box-7', \
         'Witness-Protocol': 'WP-3'}})\n"
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .expect("python3");
    assert!(out.status.success(), "make_bag: {}", text(&out.stderr));
}

/// Rewrite every tag manifest of a bag after a tag file changed (as a tool would).
fn retag(bag: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(bag)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for t in names.iter().filter(|n| n.starts_with("tagmanifest-")) {
        let alg = &t["tagmanifest-".len()..t.len() - 4];
        let body: String = names
            .iter()
            .filter(|n| !n.starts_with("tagmanifest-") && bag.join(n).is_file())
            .map(|n| {
                format!(
                    "{}  {n}\n",
                    digest(alg, &std::fs::read(bag.join(n)).expect("read"))
                )
            })
            .collect();
        std::fs::write(bag.join(t), body).expect("write");
    }
}

/// A hand-made bag: payload files (bag-relative names under `data/`, any bytes), manifests in
/// `algs`, `bag-info.txt` fields, tag files encoded by `encode`.
struct HandBag<'a> {
    version: &'a str,
    encoding: &'a str,
    encode: &'a dyn Fn(&str) -> Vec<u8>,
    algs: &'a [&'a str],
    info: &'a [(&'a str, &'a str)],
    files: &'a [(&'a [u8], &'a [u8])],
}

fn percent(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

impl HandBag<'_> {
    fn write(&self, root: &Path) {
        std::fs::create_dir_all(root.join("data")).expect("mkdir");
        std::fs::write(
            root.join("bagit.txt"),
            format!(
                "BagIt-Version: {}\nTag-File-Character-Encoding: {}\n",
                self.version, self.encoding
            ),
        )
        .expect("bagit.txt");
        let mut bytes = 0;
        for (name, content) in self.files {
            let p = root.join(OsStr::from_bytes(name));
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, content).expect("write payload");
            bytes += content.len();
        }
        let mut info: String = self
            .info
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        info.push_str(&format!("Payload-Oxum: {bytes}.{}\n", self.files.len()));
        std::fs::write(root.join("bag-info.txt"), (self.encode)(&info)).expect("bag-info");
        for alg in self.algs {
            let m: String = self
                .files
                .iter()
                .map(|(name, content)| format!("{}  {}\n", digest(alg, content), percent(name)))
                .collect();
            std::fs::write(root.join(format!("manifest-{alg}.txt")), (self.encode)(&m))
                .expect("manifest");
        }
        for alg in self.algs {
            let mut names = vec!["bagit.txt".to_string(), "bag-info.txt".to_string()];
            names.extend(self.algs.iter().map(|a| format!("manifest-{a}.txt")));
            let t: String = names
                .iter()
                .map(|n| {
                    format!(
                        "{}  {n}\n",
                        digest(alg, &std::fs::read(root.join(n)).expect("read"))
                    )
                })
                .collect();
            std::fs::write(
                root.join(format!("tagmanifest-{alg}.txt")),
                (self.encode)(&t),
            )
            .expect("tagmanifest");
        }
    }
}

fn utf8(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 character"))
        .collect()
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    out.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
    out
}

fn utf16be_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xfe, 0xff];
    out.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));
    out
}

/// A small valid hand-made bag (BagIt 1.0, UTF-8, SHA-256 and MD5).
fn plain_bag(root: &Path) {
    HandBag {
        version: "1.0",
        encoding: "UTF-8",
        encode: &utf8,
        algs: &["md5", "sha256"],
        info: &[("Source-Organization", "Hand Made")],
        files: &[
            (b"data/a.txt", b"first statement\n"),
            (b"data/b.txt", b"second statement\n"),
        ],
    }
    .write(root);
}

/// Everything the case holds apart from refusals: its items and audit entries.
fn state(case: &Path) -> (i64, i64) {
    (
        count(case, "SELECT count(*) FROM items"),
        count(
            case,
            "SELECT count(*) FROM audit WHERE event <> 'import.refused'",
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// 1. bags made by the Library of Congress tool, in every algorithm

#[test]
fn bags_from_the_library_of_congress_tool_in_every_algorithm() {
    if !has_bagit() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    for (n, algs) in [
        &["md5"][..],
        &["sha1"],
        &["sha256"],
        &["sha512"],
        &["sha256", "sha512"],
    ]
    .iter()
    .enumerate()
    {
        let bag = dir.path().join(format!("bag{n}"));
        let files = payload(&bag);
        loc_bag(&bag, algs);
        let case = init_case(&dir.path().join(format!("case{n}")));
        let out = import(&case, &bag);
        ok(&out, &format!("import of a bagit bag in {algs:?}"));
        assert!(
            text(&out.stdout).contains("BagIt 0.97"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stdout).contains("from Syrian Archive Partners"),
            "{}",
            text(&out.stdout)
        );

        // Every payload file is an item, its path relative to data/, described by content.
        let items = list(&case, "");
        assert_eq!(items.len(), files.len(), "{algs:?}");
        let paths: BTreeSet<String> = items
            .iter()
            .map(|i| i["sources"][0]["path"].as_str().expect("path").to_string())
            .collect();
        assert_eq!(paths, files.keys().cloned().collect::<BTreeSet<_>>());
        for i in &items {
            let want = &files[i["sources"][0]["path"].as_str().expect("path")];
            assert_eq!(
                i["sha256"],
                digest("sha256", want),
                "SHA-256 computed on intake"
            );
        }
        let image = items.iter().find(|i| i["type"] == "image").expect("image");
        assert_eq!(image["mime"], "image/png");
        assert_eq!(image["metadata"]["image"]["width"], 48);
        assert_eq!(image["name"], "photo.png");
        let statement = items.iter().find(|i| i["type"] == "text").expect("text");
        assert!(statement["metadata"]["text"]["excerpt"]
            .as_str()
            .expect("excerpt")
            .contains("bakery"));
        assert_eq!(
            count(&case, "SELECT count(*) FROM fingerprints"),
            1,
            "the image was fingerprinted"
        );

        // bag-info kept as provenance of every item, shown and searchable.
        for i in &items {
            let d = show(&case, i["ref"].as_str().expect("ref"));
            let bags = d["bag_info"].as_array().expect("bag_info");
            assert_eq!(bags.len(), 1);
            assert_eq!(bags[0]["bagit_version"], "0.97");
            let fields: BTreeMap<String, String> = bags[0]["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| {
                    (
                        f["label"].as_str().expect("label").to_string(),
                        f["value"].as_str().expect("value").to_string(),
                    )
                })
                .collect();
            for (k, v) in [
                ("Source-Organization", "Syrian Archive Partners"),
                ("Contact-Name", "Rana Haddad"),
                ("Contact-Email", "rana@example.org"),
                ("External-Identifier", "SAP-2026-0042"),
                (
                    "External-Description",
                    "Statements and photographs from Douma",
                ),
                ("Bag-Group-Identifier", "douma-set"),
                ("Internal-Sender-Identifier", "box-7"),
                ("Witness-Protocol", "WP-3"),
            ] {
                assert_eq!(fields.get(k).map(String::as_str), Some(v), "{k}");
            }
            assert!(fields.contains_key("Bagging-Date") && fields.contains_key("Payload-Oxum"));
        }
        let shown = run(
            Some(&case),
            ["show", items[0]["ref"].as_str().expect("ref")],
        );
        ok(&shown, "show");
        assert!(
            text(&shown.stdout).contains("SAP-2026-0042"),
            "{}",
            text(&shown.stdout)
        );
        assert_eq!(
            list(&case, "SAP-2026-0042").len(),
            files.len(),
            "found by identifier"
        );
        assert_eq!(list(&case, "\"Archive Partners\"").len(), files.len());

        // The bag's own fixity is recorded with its algorithm.
        let new = events(&case, "import.new");
        assert_eq!(new.len(), files.len());
        for e in &new {
            let fixity = e["bag_fixity"].as_object().expect("bag_fixity");
            let names: Vec<&str> = fixity.keys().map(String::as_str).collect();
            let mut want = algs.to_vec();
            want.sort();
            assert_eq!(names, want, "{e}");
        }
        let recorded: BTreeSet<&str> = new
            .iter()
            .flat_map(|e| e["paths"].as_array().expect("paths"))
            .map(|p| p.as_str().expect("path"))
            .collect();
        assert_eq!(
            recorded,
            files.keys().map(String::as_str).collect(),
            "paths in the log"
        );
        let verify = run(Some(&case), ["verify"]);
        ok(&verify, "verify after importing a bagit bag");
        let batch = events(&case, "import.batch");
        assert_eq!(batch[0]["bagit_version"], "0.97");
        assert!(batch[0]["bag_info"]
            .to_string()
            .contains("Witness-Protocol"));
    }

    // The same tool's bag declared 1.0 (tag manifests redone) is taken in too.
    let bag = dir.path().join("bag-1.0");
    payload(&bag);
    loc_bag(&bag, &["sha512"]);
    std::fs::write(
        bag.join("bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .expect("write");
    retag(&bag);
    let case = init_case(&dir.path().join("case-1.0"));
    ok(&import(&case, &bag), "import of a 1.0 bag");
    assert_eq!(count(&case, "SELECT count(*) FROM items"), 2);
}

// ---------------------------------------------------------------------------------------------
// 2. hand-made BagIt 0.97 bags: Latin-1 and UTF-16 tag files, percent-encoded names

#[test]
fn hand_made_097_bags_in_latin1_and_utf16_with_percent_encoded_names() {
    let dir = tempfile::tempdir().expect("tmp");
    let files: &[(&[u8], &[u8])] = &[
        (b"data/line\nbreak.txt", b"one\n"),
        (b"data/carriage\rreturn.txt", b"two\n"),
        (b"data/100% sure.txt", b"three\n"),
        (b"data/caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9.txt", b"four\n"),
    ];
    type Enc = (&'static str, &'static dyn Fn(&str) -> Vec<u8>);
    let encodings: [Enc; 4] = [
        ("ISO-8859-1", &latin1),
        ("UTF-16", &utf16le_bom),
        ("UTF-16", &utf16be_bom),
        ("UTF-8", &utf8),
    ];
    for (n, (label, encode)) in encodings.into_iter().enumerate() {
        let bag = dir.path().join(format!("bag{n}"));
        HandBag {
            version: "0.97",
            encoding: label,
            encode,
            algs: &["sha1", "sha256"],
            info: &[
                ("Source-Organization", "Organisation Médicale Syrienne"),
                ("Contact-Name", "José Núñez"),
            ],
            files,
        }
        .write(&bag);
        let case = init_case(&dir.path().join(format!("case{n}")));
        ok(&import(&case, &bag), &format!("import of a {label} bag"));
        let items = list(&case, "");
        assert_eq!(items.len(), files.len(), "{label}");
        let got: BTreeSet<Vec<u8>> = db(&case)
            .prepare("SELECT path FROM provenance")
            .expect("prepare")
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .expect("query")
            .map(|p| p.expect("row"))
            .collect();
        let want: BTreeSet<Vec<u8>> = files
            .iter()
            .map(|(n, _)| n.strip_prefix(b"data/").expect("data/").to_vec())
            .collect();
        assert_eq!(got, want, "{label}: exact names, decoded");
        let d = show(&case, items[0]["ref"].as_str().expect("ref"));
        let fields = d["bag_info"][0]["fields"].to_string();
        assert!(fields.contains("José Núñez"), "{label}: {fields}");
        assert!(fields.contains("Organisation Médicale Syrienne"), "{label}");
        assert_eq!(
            list(&case, "nunez").len(),
            files.len(),
            "{label}: searchable, folded"
        );
    }

    // Tag files that are not what bagit.txt declares are refused.
    let bag = dir.path().join("liar");
    HandBag {
        version: "0.97",
        encoding: "UTF-8",
        encode: &latin1,
        algs: &["sha256"],
        info: &[("Contact-Name", "José")],
        files,
    }
    .write(&bag);
    let case = init_case(&dir.path().join("liar-case"));
    let out = import(&case, &bag);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bag-info.txt: not UTF-8 text"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. a holey bag

#[test]
fn a_holey_bag_is_refused_until_every_listed_file_is_present() {
    let dir = tempfile::tempdir().expect("tmp");
    let bag = dir.path().join("bag");
    plain_bag(&bag);
    std::fs::write(
        bag.join("fetch.txt"),
        "https://archive.example.org/b.txt 17 data/b.txt\n",
    )
    .expect("fetch.txt");
    let case = init_case(&dir.path().join("case"));
    let b = std::fs::read(bag.join("data/b.txt")).expect("read");
    std::fs::remove_file(bag.join("data/b.txt")).expect("rm");
    let before = state(&case);
    let out = import(&case, &bag);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("data/b.txt: missing: the bag is holey (fetch.txt lists it at https://archive.example.org/b.txt)"),
        "{err}"
    );
    assert_eq!(state(&case), before, "nothing entered");
    // Once fetched, the same bag is complete and taken in.
    std::fs::write(bag.join("data/b.txt"), b).expect("fetched");
    ok(&import(&case, &bag), "import of the completed bag");
    assert_eq!(count(&case, "SELECT count(*) FROM items"), 2);
}

// ---------------------------------------------------------------------------------------------
// 4. invalid bags, each refused whole with the reason

#[test]
fn invalid_bags_are_refused_whole_with_every_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let case = init_case(&dir.path().join("case"));
    let before = state(&case);
    type Break = fn(&Path);
    let cases: &[(&str, Break, &[&str])] = &[
        (
            "wrong hash in one manifest",
            |b| {
                let m = std::fs::read_to_string(b.join("manifest-md5.txt")).expect("read");
                let wrong = m.replacen(&m[..1], if &m[..1] == "0" { "1" } else { "0" }, 1);
                std::fs::write(b.join("manifest-md5.txt"), wrong).expect("write");
                retag(b);
            },
            &["data/a.txt: MD5 mismatch: manifest-md5.txt says"],
        ),
        (
            "a listed file missing",
            |b| std::fs::remove_file(b.join("data/b.txt")).expect("rm"),
            &["data/b.txt: missing (listed in manifest-md5.txt, manifest-sha256.txt)"],
        ),
        (
            "a file not listed",
            |b| std::fs::write(b.join("data/c.txt"), "stowaway").expect("write"),
            &["data/c.txt: not listed in any payload manifest"],
        ),
        (
            "a path leaving the bag",
            |b| {
                for m in ["manifest-md5.txt", "manifest-sha256.txt"] {
                    let mut t = std::fs::read_to_string(b.join(m)).expect("read");
                    t.push_str(&format!("{}  data/../../etc/passwd\n", "0".repeat(if m.contains("md5") { 32 } else { 64 })));
                    std::fs::write(b.join(m), t).expect("write");
                }
                retag(b);
            },
            &["data/../../etc/passwd: manifest-md5.txt line 3: path leaves the bag"],
        ),
        (
            "a file listed twice with different hashes",
            |b| {
                let mut t = std::fs::read_to_string(b.join("manifest-sha256.txt")).expect("read");
                t.push_str(&format!("{}  ./data/a.txt\n", "0".repeat(64)));
                std::fs::write(b.join("manifest-sha256.txt"), t).expect("write");
                retag(b);
            },
            &["data/a.txt: listed twice in manifest-sha256.txt with different values"],
        ),
        (
            "an unknown BagIt version",
            |b| {
                std::fs::write(b.join("bagit.txt"), "BagIt-Version: 0.93\nTag-File-Character-Encoding: UTF-8\n").expect("write");
                retag(b);
            },
            &["bagit.txt: BagIt-Version \"0.93\" is not read here"],
        ),
        (
            "a byte-order mark in bagit.txt",
            |b| {
                std::fs::write(b.join("bagit.txt"), "\u{feff}BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n").expect("write");
                retag(b);
            },
            &["bagit.txt: starts with a byte-order mark"],
        ),
        (
            "a missing field in bagit.txt",
            |b| {
                std::fs::write(b.join("bagit.txt"), "BagIt-Version: 1.0\n").expect("write");
                retag(b);
            },
            &["bagit.txt: must be exactly `BagIt-Version` then `Tag-File-Character-Encoding`, found BagIt-Version"],
        ),
        (
            "no bagit.txt",
            |b| std::fs::remove_file(b.join("bagit.txt")).expect("rm"),
            &["bagit.txt: missing"],
        ),
        (
            "no payload manifest",
            |b| {
                std::fs::remove_file(b.join("manifest-md5.txt")).expect("rm");
                std::fs::remove_file(b.join("manifest-sha256.txt")).expect("rm");
                for t in ["tagmanifest-md5.txt", "tagmanifest-sha256.txt"] {
                    let kept: String = std::fs::read_to_string(b.join(t)).expect("read")
                        .lines().filter(|l| !l.contains(" manifest-")).map(|l| format!("{l}\n")).collect();
                    std::fs::write(b.join(t), kept).expect("write");
                }
            },
            &["manifest-<algorithm>.txt: missing: a bag has at least one payload manifest"],
        ),
        (
            "a wrong tag manifest",
            |b| std::fs::write(b.join("bag-info.txt"), "Source-Organization: Someone Else\n").expect("write"),
            &["bag-info.txt: MD5 mismatch: tagmanifest-md5.txt", "bag-info.txt: SHA-256 mismatch: tagmanifest-sha256.txt"],
        ),
        (
            "a wrong Payload-Oxum",
            |b| {
                let t = std::fs::read_to_string(b.join("bag-info.txt")).expect("read");
                let i = t.find("Payload-Oxum").expect("oxum");
                std::fs::write(b.join("bag-info.txt"), format!("{}Payload-Oxum: 1.1\n", &t[..i])).expect("write");
                retag(b);
            },
            &["bag-info.txt: Payload-Oxum 1.1 but the payload is 33.2"],
        ),
        (
            "a symbolic link in the payload",
            |b| {
                std::fs::remove_file(b.join("data/b.txt")).expect("rm");
                std::os::unix::fs::symlink("/etc/hostname", b.join("data/b.txt")).expect("symlink");
            },
            &["data/b.txt: a symbolic link (not allowed in a bag)"],
        ),
        (
            "several problems at once",
            |b| {
                std::fs::write(b.join("data/a.txt"), "altered statement\n").expect("write");
                std::fs::write(b.join("data/z.txt"), "stowaway").expect("write");
            },
            &[
                "data/a.txt: MD5 mismatch",
                "data/a.txt: SHA-256 mismatch",
                "data/z.txt: not listed in any payload manifest",
                "refused, nothing imported (3 problems)",
            ],
        ),
    ];
    for (n, (what, break_it, reasons)) in cases.iter().enumerate() {
        let bag = dir.path().join(format!("bag{n}"));
        plain_bag(&bag);
        break_it(&bag);
        let out = import(&case, &bag);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: accepted\n{err}");
        for r in *reasons {
            assert!(err.contains(r), "{what}: expected {r:?} in\n{err}");
        }
        assert_eq!(state(&case), before, "{what}: the case changed");
        let refused = events(&case, "import.refused");
        assert_eq!(refused.len(), n + 1, "{what}: the refusal is recorded");
        let listed: Vec<String> = refused[n]["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p["path"].as_str().unwrap_or(""),
                    p["reason"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert!(
            listed.iter().any(|l| l.contains(reasons[0])),
            "{what}: the recorded refusal lists {listed:?}"
        );
    }
    // The untouched bag is valid: the breakages above are what was refused.
    let good = dir.path().join("good");
    plain_bag(&good);
    ok(&import(&case, &good), "the valid hand-made bag");
}

// ---------------------------------------------------------------------------------------------
// 5. round trip with SHA-512 manifests

#[test]
fn round_trip_with_sha512_keeps_items_hashes_provenance_bag_info_and_claims() {
    let dir = tempfile::tempdir().expect("tmp");
    ok(
        &run(
            None,
            [
                OsStr::new("demo"),
                "--dir".as_ref(),
                dir.path().join("demo").as_os_str(),
                "--no-open".as_ref(),
            ],
        ),
        "demo",
    );
    let case = dir.path().join("demo/case");
    let sent = list(&case, "source:medical");
    let first = sent[0]["ref"].as_str().expect("ref").to_string();
    ok(
        &run(
            Some(&case),
            [
                "tag",
                &first,
                "--add",
                "gen-killing",
                "gov-forces",
                "--status",
                "triaged",
            ],
        ),
        "tag",
    );
    let bag = dir.path().join("bag");
    let out = run(
        Some(&case),
        [
            OsStr::new("export"),
            "--filter".as_ref(),
            "source:medical".as_ref(),
            "--out".as_ref(),
            bag.as_os_str(),
            "--algorithms".as_ref(),
            "sha256,sha512".as_ref(),
            "--purpose".as_ref(),
            "Request 2026/14".as_ref(),
        ],
    );
    ok(&out, "export --algorithms sha256,sha512");
    for f in [
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    ] {
        assert!(bag.join(f).is_file(), "{f}");
    }
    let exported = events(&case, "export");
    assert_eq!(
        exported[0]["bag"]["algorithms"],
        serde_json::json!(["sha256", "sha512"])
    );
    if has_bagit() {
        let v = Command::new("python3")
            .args(["-m", "bagit", "--validate"])
            .arg(&bag)
            .output()
            .expect("bagit");
        assert!(v.status.success(), "bagit --validate: {}", text(&v.stderr));
    }
    let bad = run(
        Some(&case),
        [
            OsStr::new("export"),
            "--filter".as_ref(),
            "".as_ref(),
            "--out".as_ref(),
            dir.path().join("never").as_os_str(),
            "--algorithms".as_ref(),
            "sha3".as_ref(),
        ],
    );
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown algorithm is a usage error"
    );

    let other = init_case(&dir.path().join("other"));
    ok(&import(&other, &bag), "import");
    let got = list(&other, "");
    assert_eq!(got.len(), sent.len());
    let key = |v: &Value| {
        (
            v["sha256"].as_str().expect("sha").to_string(),
            v["size"].as_u64().expect("size"),
            v["mime"].as_str().expect("mime").to_string(),
        )
    };
    let a: BTreeSet<_> = sent.iter().map(key).collect();
    let b: BTreeSet<_> = got.iter().map(key).collect();
    assert_eq!(a, b, "same items and hashes");
    let images = sent.iter().filter(|i| i["type"] == "image").count() as i64;
    assert!(images > 0, "the demo's medical items include images");
    assert_eq!(
        count(&other, "SELECT count(*) FROM fingerprints"),
        images,
        "images from a triage bag are fingerprinted on intake"
    );
    for g in &got {
        let s = sent
            .iter()
            .find(|s| s["sha256"] == g["sha256"])
            .expect("sent item");
        // The sender's provenance paths come with the item; the importing provider is named.
        let sent_paths: BTreeSet<&str> = s["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .filter_map(|p| p["path"].as_str())
            .collect();
        let got_paths: BTreeSet<&str> = g["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .filter_map(|p| p["path"].as_str())
            .collect();
        assert_eq!(sent_paths, got_paths);
        assert!(g["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .all(|p| p["source"] == "partner"));
        assert_eq!(
            g["metadata"], s["metadata"],
            "the sender's description kept"
        );
        let d = show(&other, g["ref"].as_str().expect("ref"));
        let info = d["bag_info"][0]["fields"].to_string();
        assert!(
            info.contains("Triage-Case-Id") && info.contains("Request 2026/14"),
            "{info}"
        );
        assert_eq!(d["bag_info"][0]["bagit_version"], "1.0");
    }
    let first_sha = sent[0]["sha256"].as_str().expect("sha");
    let tagged = got
        .iter()
        .find(|g| g["sha256"] == first_sha)
        .expect("tagged item");
    let d = show(&other, tagged["ref"].as_str().expect("ref"));
    let claims: BTreeSet<&str> = d["imported_claims"]
        .as_array()
        .expect("claims")
        .iter()
        .map(|c| c["term"].as_str().expect("term"))
        .collect();
    assert!(
        claims.contains("gen-killing") && claims.contains("gov-forces"),
        "{claims:?}"
    );
    assert!(
        !events(&other, "import.history").is_empty(),
        "the sender's history came along"
    );
    let new = events(&other, "import.new");
    assert!(new.iter().all(|e| e["bag_fixity"]["sha512"]
        .as_str()
        .is_some_and(|s| s.len() == 128)));
}

// ---------------------------------------------------------------------------------------------
// 6. bag-info is the bag maker's text: neutralised before it reaches a terminal

#[test]
fn hostile_bag_info_is_neutralised_in_show() {
    let dir = tempfile::tempdir().expect("tmp");
    let bag = dir.path().join("bag");
    HandBag {
        version: "1.0",
        encoding: "UTF-8",
        encode: &utf8,
        algs: &["sha256"],
        info: &[
            ("Contact-Name", "Evil \u{1b}]0;pwned\u{7} \u{202e}Name"),
            ("X-\u{1b}[2J-Label", "value"),
        ],
        files: &[(b"data/a.txt", b"statement\n")],
    }
    .write(&bag);
    let case = init_case(&dir.path().join("case"));
    let out = import(&case, &bag);
    ok(&out, "import");
    let shown = run(Some(&case), ["show", "T-000001"]);
    ok(&shown, "show");
    let t = text(&shown.stdout);
    assert!(!t.contains('\u{1b}') && !t.contains('\u{202e}'), "{t:?}");
    assert!(t.contains("␛]0;pwned") && t.contains("⟨RLO⟩Name"), "{t}");
    // The JSON keeps the exact text (escaped by JSON).
    let d = show(&case, "T-000001");
    assert_eq!(
        d["bag_info"][0]["fields"][0]["value"],
        "Evil \u{1b}]0;pwned\u{7} \u{202e}Name"
    );
}

#[test]
fn containers_in_an_imported_bag_are_expanded_into_members() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tmp");
    let case = init_case(&tmp.path().join("case"));
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        "DCIM/IMG_0001.jpg",
        zip::write::SimpleFileOptions::default(),
    )
    .expect("zip");
    z.write_all(b"\xff\xd8\xff\xe0 a photo in a zip in a bag")
        .expect("zip");
    let zip = z.finish().expect("zip").into_inner();
    let bag = tmp.path().join("bag");
    HandBag {
        version: "1.0",
        encoding: "UTF-8",
        encode: &utf8,
        algs: &["sha256"],
        info: &[("Source-Organization", "Hand Made")],
        files: &[
            (b"data/upload.zip", &zip),
            (b"data/a.txt", b"a statement\n"),
        ],
    }
    .write(&bag);
    ok(&import(&case, &bag), "import");
    let items = list(&case, "");
    let container = items
        .iter()
        .find(|i| i["name"] == "upload.zip")
        .expect("the container");
    assert_eq!(container["type"], "archive");
    assert_eq!(container["children"], 1);
    let member = items
        .iter()
        .find(|i| i["inner_path"] == "DCIM/IMG_0001.jpg")
        .expect("the member is an item");
    assert_eq!(member["parent"], container["ref"]);
    assert_eq!(
        member["sha256"],
        digest("sha256", b"\xff\xd8\xff\xe0 a photo in a zip in a bag")
    );
    let out = run(Some(&case), ["verify"]);
    ok(&out, "verify");
}
