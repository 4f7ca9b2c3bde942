//! End-to-end tests of disclosure as BagIt bags: `triage export` writes a bag whose every hash
//! is recomputed here (and checked by the Library of Congress validator when it is installed),
//! `triage import` brings it into another case with its tags and history, refuses a bag with
//! one byte changed without recording anything but the refusal, and providers' use conditions
//! refuse, override or withhold as documented.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_triage");
const WITHHELD: &str = "withheld (identity-confidential)";

// ---------------------------------------------------------------------------------------------
// helpers

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

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

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("triage was killed by a signal: {:?}", out.status))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output, what: &str) {
    assert_eq!(
        code(out),
        0,
        "{what} failed\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The demo case (38 items from civil-defence, medical-network, citizen-journalists).
fn demo_case(dir: &Path) -> PathBuf {
    let out = run(
        None,
        [
            OsStr::new("demo"),
            "--dir".as_ref(),
            dir.as_os_str(),
            "--no-open".as_ref(),
        ],
    );
    ok(&out, "triage demo");
    let case = dir.join("case");
    assert!(case.join("case.db").is_file(), "demo made no case");
    case
}

fn init_case(path: &Path) -> PathBuf {
    let out = run(None, [OsStr::new("init"), path.as_os_str()]);
    ok(&out, "triage init");
    path.to_path_buf()
}

fn list(case: &Path, filter: Option<&str>) -> Vec<Value> {
    let mut args = vec!["list", "--json"];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    let out = run(Some(case), args);
    ok(&out, "triage list");
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("list --json line is JSON"))
        .collect()
}

fn show(case: &Path, item: &str) -> Value {
    let out = run(Some(case), ["show", "--json", item]);
    ok(&out, "triage show");
    serde_json::from_slice(&out.stdout).expect("show --json is JSON")
}

fn tag(case: &Path, item: &str, terms: &[&str]) {
    let mut args = vec!["tag", item, "--add"];
    args.extend_from_slice(terms);
    args.extend(["--status", "triaged"]);
    ok(&run(Some(case), args), "triage tag");
}

fn export(case: &Path, out_dir: &Path, filter: &str, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![
        "export".as_ref(),
        "--filter".as_ref(),
        filter.as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ];
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    run(Some(case), args)
}

fn import(case: &Path, bag: &Path, source: &str) -> Output {
    run(
        Some(case),
        [
            OsStr::new("import"),
            bag.as_os_str(),
            "--source".as_ref(),
            source.as_ref(),
        ],
    )
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

/// The details of every audit event of this name, oldest first.
fn events(case: &Path, event: &str) -> Vec<Value> {
    let conn = db(case);
    let mut st = conn
        .prepare("SELECT details FROM audit WHERE event = ?1 ORDER BY seq")
        .expect("prepare");
    st.query_map([event], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|d| serde_json::from_str(&d.expect("row")).expect("details are JSON"))
        .collect()
}

/// Set a provider's conditions with `triage source set`, or directly in case.db while that
/// command is not built yet.
fn set_conditions(case: &Path, source: &str, conditions: &[&str]) {
    let mut args = vec!["source", "set", source, "--conditions"];
    args.extend_from_slice(conditions);
    let out = run(Some(case), args);
    if code(&out) == 0 {
        return;
    }
    let err = text(&out.stderr);
    assert!(
        err.contains("not built") || err.contains("unrecognized subcommand"),
        "triage source set failed: {err}"
    );
    let conn = Connection::open(case.join("case.db")).expect("open case.db");
    let json = serde_json::to_string(conditions).expect("json");
    let n = conn
        .execute(
            "UPDATE sources SET conditions = ?1 WHERE name = ?2",
            (&json, source),
        )
        .expect("update sources");
    assert_eq!(n, 1, "no provider {source}");
}

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hex::encode(Sha256::digest(&bytes))
}

/// A manifest as path -> hash, checked for the RFC 8493 line form.
fn manifest(bag: &Path, name: &str) -> BTreeMap<String, String> {
    let body = std::fs::read_to_string(bag.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    body.lines()
        .map(|l| {
            let (hash, path) = l
                .split_once("  ")
                .unwrap_or_else(|| panic!("{name}: bad line {l:?}"));
            assert_eq!(hash.len(), 64, "{name}: {l:?}");
            (path.to_string(), hash.to_string())
        })
        .collect()
}

/// Every file under `dir`, relative to `base`, with `/` separators.
fn files_under(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files_under(base, &p, out);
        } else {
            let rel = p.strip_prefix(base).expect("inside");
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn bag_info(bag: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(bag.join("bag-info.txt"))
        .expect("bag-info.txt")
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Check a bag completely, recomputing every hash; returns the payload manifest.
fn check_bag(bag: &Path) -> BTreeMap<String, String> {
    assert_eq!(
        std::fs::read_to_string(bag.join("bagit.txt")).expect("bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let payload = manifest(bag, "manifest-sha256.txt");
    let mut on_disk = BTreeSet::new();
    files_under(bag, &bag.join("data"), &mut on_disk);
    assert_eq!(
        payload.keys().cloned().collect::<BTreeSet<_>>(),
        on_disk,
        "the manifest must list exactly the files under data/"
    );
    let mut bytes = 0u64;
    for (rel, hash) in &payload {
        assert_eq!(
            &sha256_file(&bag.join(rel)),
            hash,
            "{rel}: hash in manifest"
        );
        bytes += std::fs::metadata(bag.join(rel)).expect("stat").len();
    }
    let info = bag_info(bag);
    assert_eq!(
        info.get("Payload-Oxum"),
        Some(&format!("{bytes}.{}", payload.len())),
        "Payload-Oxum"
    );
    let date = info.get("Bagging-Date").expect("Bagging-Date");
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "Bagging-Date {date}"
    );
    let tags = manifest(bag, "tagmanifest-sha256.txt");
    assert_eq!(
        tags.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["bag-info.txt", "bagit.txt", "manifest-sha256.txt"])
    );
    for (rel, hash) in &tags {
        assert_eq!(
            &sha256_file(&bag.join(rel)),
            hash,
            "{rel}: hash in tag manifest"
        );
    }
    payload
}

/// The demo case with two medical-network items tagged.
fn tagged_demo(dir: &Path) -> PathBuf {
    let case = demo_case(dir);
    let medical = list(&case, Some("source:medical"));
    assert!(medical.len() >= 4, "demo has medical-network items");
    let email = medical
        .iter()
        .find(|i| i["type"] == "email")
        .expect("a medical email");
    let pdf = medical
        .iter()
        .find(|i| i["type"] == "pdf")
        .expect("a medical report");
    tag(
        &case,
        email["ref"].as_str().expect("ref"),
        &["gen-killing", "gov-forces", "graphic"],
    );
    tag(
        &case,
        pdf["ref"].as_str().expect("ref"),
        &["gen-serious-harm"],
    );
    case
}

// ---------------------------------------------------------------------------------------------
// 1. export

#[test]
fn export_writes_a_complete_bag_and_records_it() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let selected = list(&case, Some("source:medical"));
    let bag = dir.path().join("bag");
    let out = export(
        &case,
        &bag,
        "source:medical",
        &["--purpose", "ICC request 7"],
    );
    ok(&out, "triage export");

    let payload = check_bag(&bag);
    for f in [
        "data/metadata.jsonl",
        "data/audit.jsonl",
        "data/chain-head.txt",
    ] {
        assert!(payload.contains_key(f), "{f} in the payload");
    }
    let originals: Vec<&String> = payload
        .keys()
        .filter(|k| k.starts_with("data/originals/"))
        .collect();
    assert_eq!(originals.len(), selected.len(), "one original per item");

    let info = bag_info(&bag);
    let case_id: String = db(&case)
        .query_row(
            "SELECT value FROM case_info WHERE key = 'case_id'",
            [],
            |r| r.get(0),
        )
        .expect("case id");
    assert_eq!(
        info["Source-Organization"],
        format!("triage case {case_id}")
    );
    assert_eq!(info["Triage-Case-Id"], case_id);
    assert_eq!(info["External-Description"], "ICC request 7");
    assert_eq!(info["Triage-Purpose"], "ICC request 7");
    assert!(!info["Triage-Exported-By"].is_empty());
    let head = &info["Triage-Chain-Head"];
    let (seq, hash) = head.split_once(' ').expect("seq and hash");
    let stored: String = db(&case)
        .query_row(
            "SELECT hash FROM audit WHERE seq = ?1",
            [seq.parse::<i64>().expect("seq")],
            |r| r.get(0),
        )
        .expect("the head entry exists");
    assert_eq!(stored, hash, "Triage-Chain-Head names a real entry");

    let meta = jsonl(&bag.join("data/metadata.jsonl"));
    assert_eq!(meta.len(), selected.len(), "one metadata line per item");
    let by_ref: BTreeMap<&str, &Value> = meta
        .iter()
        .map(|m| (m["ref"].as_str().expect("ref"), m))
        .collect();
    for item in &selected {
        let r = item["ref"].as_str().expect("ref");
        let m = by_ref
            .get(r)
            .unwrap_or_else(|| panic!("{r} missing from metadata.jsonl"));
        assert_eq!(m["sha256"], item["sha256"]);
        let file = m["file"].as_str().expect("file");
        assert!(
            file.starts_with(&format!("data/originals/{r}.")),
            "{file}: named by reference, never by the provider's name"
        );
        assert_eq!(
            payload[file],
            item["sha256"].as_str().expect("sha"),
            "{file}"
        );
        assert_eq!(m["tags"], item["tags"]);
        assert!(m["conditions"].is_array());
    }
    let tagged: Vec<&&Value> = by_ref
        .values()
        .filter(|m| m["tag_details"].as_array().is_some_and(|t| !t.is_empty()))
        .collect();
    assert_eq!(tagged.len(), 2, "the two tagged items carry their tags");
    let killing = tagged
        .iter()
        .flat_map(|m| m["tag_details"].as_array().expect("array").iter())
        .find(|t| t["term"] == "gen-killing")
        .expect("gen-killing exported");
    assert_eq!(killing["label"], "Genocide: killing members of the group");
    assert_eq!(killing["ref"], "Rome Statute art. 6(a)");
    assert!(killing["set_by"].is_string() && killing["set_at"].is_string());

    let audit = jsonl(&bag.join("data/audit.jsonl"));
    for item in &selected {
        let r = item["ref"].as_str().expect("ref");
        assert!(
            audit
                .iter()
                .any(|a| a["ref"] == r && a["event"] == "ingest.new"),
            "{r}: its ingest event travels in audit.jsonl"
        );
    }
    assert!(audit.iter().any(|a| a["event"] == "tag.add"));
    let last = audit.last().expect("audit lines");
    assert_eq!(
        last["chain_head"]["hash"], hash,
        "audit.jsonl ends with the chain head"
    );
    let chain_head = std::fs::read_to_string(bag.join("data/chain-head.txt")).expect("chain-head");
    assert!(chain_head.contains(hash) && chain_head.contains(&case_id));

    let exports = events(&case, "export");
    assert_eq!(exports.len(), 1, "one export event");
    let e = &exports[0];
    assert_eq!(e["purpose"], "ICC request 7");
    assert_eq!(e["court"], false);
    let refs: BTreeSet<&str> = e["exported"]
        .as_array()
        .expect("exported")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let want: BTreeSet<&str> = selected.iter().filter_map(|i| i["ref"].as_str()).collect();
    assert_eq!(refs, want);
    assert_eq!(e["refused"], serde_json::json!([]));
    assert_eq!(
        e["bag"]["manifest_sha256"],
        sha256_file(&bag.join("manifest-sha256.txt")),
        "the event names the bag's manifest"
    );
    assert_eq!(
        count(
            &case,
            "SELECT count(*) FROM audit WHERE event = 'export' AND item_id IS NULL"
        ),
        1
    );

    // The bag's folder must be new or empty: a second export into it is refused, unrecorded.
    let again = export(&case, &bag, "source:medical", &[]);
    assert_ne!(code(&again), 0);
    assert!(
        text(&again.stderr).contains("already holds files"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(events(&case, "export").len(), 1);
    // A filter that selects nothing writes nothing.
    let none = dir.path().join("none");
    let empty = export(&case, &none, "type:video -type:video", &[]);
    assert_eq!(code(&empty), 1);
    assert!(!none.exists());
}

// ---------------------------------------------------------------------------------------------
// 2. the Library of Congress validator

#[test]
fn library_of_congress_bagit_validates_the_export() {
    let has_bagit = Command::new("python3")
        .args(["-c", "import bagit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_bagit {
        if std::env::var_os("CI").is_some() {
            panic!("python3 module `bagit` is missing; CI must install it (pip install bagit)");
        }
        eprintln!();
        eprintln!(
            "################################################################################"
        );
        eprintln!(
            "## SKIPPED: the Library of Congress BagIt validator did not run.              ##"
        );
        eprintln!(
            "## `python3 -c 'import bagit'` failed; install it with `pip install bagit`.  ##"
        );
        eprintln!(
            "################################################################################"
        );
        return;
    }
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(
        &export(&case, &bag, "", &["--purpose", "validator run"]),
        "export",
    );
    let out = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(&bag)
        .output()
        .expect("run python3 -m bagit");
    assert!(
        out.status.success(),
        "bagit --validate failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("is valid"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. import

#[test]
fn import_brings_items_tags_and_history_into_a_new_case() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    let sent = list(&case, Some("source:medical"));

    let other = init_case(&dir.path().join("other"));
    let out = import(&other, &bag, "partner-mechanism");
    ok(&out, "import");
    let summary = text(&out.stdout);
    assert!(
        summary.contains(&format!("{} new", sent.len())),
        "{summary}"
    );

    let got = list(&other, None);
    let shas = |items: &[Value]| -> BTreeSet<String> {
        items
            .iter()
            .map(|i| i["sha256"].as_str().expect("sha").to_string())
            .collect()
    };
    assert_eq!(shas(&got), shas(&sent), "the same content, by hash");
    let tags_of = |items: &[Value]| -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|i| {
                (
                    i["sha256"].as_str().expect("sha").to_string(),
                    i["tags"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(tags_of(&got), tags_of(&sent), "the same tags");
    for item in &got {
        assert_eq!(
            item["status"], "untriaged",
            "the receiving case reviews for itself"
        );
        let sources = item["sources"].as_array().expect("sources");
        assert!(!sources.is_empty());
        assert!(sources.iter().all(|s| s["source"] == "partner-mechanism"));
        let sha = item["sha256"].as_str().expect("sha");
        let object = other.join("objects").join(&sha[..2]).join(sha);
        assert_eq!(
            sha256_file(&object),
            sha,
            "the original is stored byte for byte"
        );
    }
    // Original paths travel as provenance.
    let sent_paths: BTreeSet<String> = sent
        .iter()
        .flat_map(|i| i["sources"].as_array().expect("sources").clone())
        .filter_map(|s| s["path"].as_str().map(str::to_string))
        .collect();
    let got_paths: BTreeSet<String> = got
        .iter()
        .flat_map(|i| i["sources"].as_array().expect("sources").clone())
        .filter_map(|s| s["path"].as_str().map(str::to_string))
        .collect();
    assert_eq!(got_paths, sent_paths);

    // Tag details (who and when in the sending case) and the history travel with the item.
    let tagged = got
        .iter()
        .find(|i| {
            i["tags"]["crimes"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .expect("a tagged item");
    let d = show(&other, tagged["ref"].as_str().expect("ref"));
    let original = sent
        .iter()
        .find(|i| i["sha256"] == tagged["sha256"])
        .expect("the same item in the sending case");
    let original_d = show(&case, original["ref"].as_str().expect("ref"));
    // The sender's decisions arrive as the sender's claims (who and when, in that case); the
    // local tags are the importing login's act.
    let terms = |tags: &Value| -> BTreeSet<String> {
        tags.as_array()
            .expect("a list")
            .iter()
            .map(|t| t["term"].as_str().expect("term").to_string())
            .collect()
    };
    assert_eq!(terms(&d["tag_details"]), terms(&original_d["tag_details"]));
    let claims: BTreeSet<(String, String, String)> = d["imported_claims"]
        .as_array()
        .expect("imported_claims")
        .iter()
        .map(|c| {
            assert_eq!(c["sending_case"], bag_info(&bag)["Triage-Case-Id"].as_str());
            (
                c["term"].as_str().expect("term").to_string(),
                c["claimed_by"].as_str().expect("by").to_string(),
                c["claimed_at"].as_str().expect("at").to_string(),
            )
        })
        .collect();
    let sent_claims: BTreeSet<(String, String, String)> = original_d["tag_details"]
        .as_array()
        .expect("tag_details")
        .iter()
        .map(|t| {
            (
                t["term"].as_str().expect("term").to_string(),
                t["set_by"].as_str().expect("by").to_string(),
                t["set_at"].as_str().expect("at").to_string(),
            )
        })
        .collect();
    assert_eq!(claims, sent_claims);
    let history = d["history"].as_array().expect("history");
    assert!(history.iter().any(|h| h["event"] == "import.new"));
    let imported: Vec<&Value> = history
        .iter()
        .filter(|h| h["event"] == "import.history")
        .collect();
    let original_history = original_d["history"].as_array().expect("history");
    assert_eq!(
        imported.len(),
        original_history.len(),
        "one event per original entry"
    );
    for (h, o) in imported.iter().zip(original_history) {
        assert_eq!(h["details"]["entry"]["hash"], o["hash"]);
        assert_eq!(h["details"]["entry"]["seq"], o["seq"]);
        assert_eq!(h["details"]["entry"]["event"], o["event"]);
        assert_eq!(h["details"]["original_ref"], original["ref"]);
    }

    // Importing the same bag again records nothing new.
    let items_before = count(&other, "SELECT count(*) FROM items");
    let item_events = "SELECT count(*) FROM audit WHERE item_id IS NOT NULL";
    let events_before = count(&other, item_events);
    let again = import(&other, &bag, "partner-mechanism");
    ok(&again, "second import");
    assert!(
        text(&again.stdout).contains("0 new"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(count(&other, "SELECT count(*) FROM items"), items_before);
    assert_eq!(
        count(&other, item_events),
        events_before,
        "no item history twice"
    );

    // The receiving case holds together.
    let verify = run(Some(&other), ["verify"]);
    let err = text(&verify.stderr);
    if err.contains("not built") || err.contains("unrecognized subcommand") {
        eprintln!("note: `triage verify` is not built yet; its check was skipped");
    } else {
        assert_eq!(
            code(&verify),
            0,
            "triage verify after import\nstdout: {}\nstderr: {err}",
            text(&verify.stdout)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. a damaged bag

#[test]
fn a_bag_with_one_byte_changed_is_refused_and_nothing_enters() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    let payload = manifest(&bag, "manifest-sha256.txt");
    let victim = payload
        .keys()
        .find(|k| k.starts_with("data/originals/"))
        .expect("an original")
        .clone();
    let path = bag.join(&victim);
    let mut bytes = std::fs::read(&path).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");

    let other = init_case(&dir.path().join("other"));
    let out = import(&other, &bag, "partner-mechanism");
    assert_eq!(code(&out), 1, "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains(&victim), "stderr names {victim}: {err}");
    assert!(err.to_lowercase().contains("mismatch"), "{err}");
    for table in ["items", "provenance", "batches", "tags"] {
        assert_eq!(
            count(&other, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table} must stay empty"
        );
    }
    let objects: BTreeSet<String> = {
        let mut s = BTreeSet::new();
        files_under(&other.join("objects"), &other.join("objects"), &mut s);
        s
    };
    assert!(objects.is_empty(), "no original stored: {objects:?}");
    let refused = events(&other, "import.refused");
    assert_eq!(refused.len(), 1, "the refusal is recorded");
    let named = refused[0]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .any(|p| p["path"] == victim.as_str());
    assert!(named, "the event names the bad file: {}", refused[0]);
    assert_eq!(
        count(
            &other,
            "SELECT count(*) FROM audit WHERE item_id IS NOT NULL"
        ),
        0
    );

    // Files the manifest does not list, a hostile file name and a manifest line that leaves
    // the bag are refused too, and the names reach the terminal neutralised.
    let bag2 = dir.path().join("bag2");
    ok(&export(&case, &bag2, "source:civil", &[]), "export");
    std::fs::write(bag2.join("data/originals/smuggled.txt"), b"x").expect("write");
    std::fs::write(bag2.join("data/originals/\x1b]0;pwned\x07.txt"), b"x").expect("write");
    let mut m = std::fs::read_to_string(bag2.join("manifest-sha256.txt")).expect("read");
    m.push_str(&format!("{}  data/../../outside\n", "0".repeat(64)));
    std::fs::write(bag2.join("manifest-sha256.txt"), m).expect("write");
    let out = import(&other, &bag2, "partner-mechanism");
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    assert!(err.contains("data/originals/smuggled.txt"), "{err}");
    assert!(err.contains("data/../../outside"), "{err}");
    assert!(
        err.contains("manifest-sha256.txt"),
        "the altered manifest: {err}"
    );
    assert!(
        !err.contains('\x1b') && !err.contains('\x07'),
        "raw controls: {err:?}"
    );
    assert!(err.contains("pwned"), "{err}");
    assert_eq!(count(&other, "SELECT count(*) FROM items"), 0);
    assert_eq!(events(&other, "import.refused").len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 5. providers' conditions

#[test]
fn conditions_refuse_override_and_withhold() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let medical = list(&case, Some("source:medical"));
    let medical_refs: BTreeSet<String> = medical
        .iter()
        .map(|i| i["ref"].as_str().expect("ref").to_string())
        .collect();

    set_conditions(&case, "medical-network", &["no-onward-sharing"]);
    let refused_bag = dir.path().join("refused");
    let out = export(&case, &refused_bag, "source:medical", &[]);
    assert_eq!(code(&out), 1, "every item refused");
    let err = text(&out.stderr);
    for r in &medical_refs {
        assert!(err.contains(r.as_str()), "{r} named as refused: {err}");
    }
    assert!(err.contains("no-onward-sharing"), "{err}");
    assert!(
        !refused_bag.join("bagit.txt").exists() && !refused_bag.join("data").exists(),
        "nothing written"
    );
    assert!(events(&case, "export").is_empty(), "no export happened");

    // Mixed: the rest is exported, the refused are named, exit 1.
    let mixed = dir.path().join("mixed");
    let out = export(&case, &mixed, "source:medical OR source:civil", &[]);
    assert_eq!(code(&out), 1);
    let payload = check_bag(&mixed);
    let exported: BTreeSet<String> = jsonl(&mixed.join("data/metadata.jsonl"))
        .iter()
        .map(|m| m["ref"].as_str().expect("ref").to_string())
        .collect();
    assert!(
        exported.is_disjoint(&medical_refs),
        "no refused item in the bag"
    );
    assert!(!exported.is_empty());
    assert!(payload
        .keys()
        .all(|k| !medical_refs.iter().any(|r| k.contains(r.as_str()))));
    let e = events(&case, "export");
    let refused_in_event: BTreeSet<String> = e[0]["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| {
            assert!(r["reason"]
                .as_str()
                .is_some_and(|s| s.contains("no-onward-sharing")));
            r["ref"].as_str().expect("ref").to_string()
        })
        .collect();
    assert_eq!(refused_in_event, medical_refs);

    // Overridden for a recorded reason: exported, exit 0, the override in the event.
    let court_order = dir.path().join("court-order");
    let out = export(
        &case,
        &court_order,
        "source:medical",
        &["--override-reason", "court order 12/2026"],
    );
    ok(&out, "export with override");
    check_bag(&court_order);
    assert_eq!(
        jsonl(&court_order.join("data/metadata.jsonl")).len(),
        medical_refs.len()
    );
    let e = events(&case, "export");
    let last = e.last().expect("event");
    assert_eq!(last["override"]["reason"], "court order 12/2026");
    let overridden: BTreeSet<String> = last["override"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            assert_eq!(i["conditions"], serde_json::json!(["no-onward-sharing"]));
            i["ref"].as_str().expect("ref").to_string()
        })
        .collect();
    assert_eq!(overridden, medical_refs);

    // share-with-courts: only with --court.
    set_conditions(&case, "medical-network", &["share-with-courts"]);
    let out = export(&case, &dir.path().join("ngo"), "source:medical", &[]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("share-with-courts"));
    let out = export(
        &case,
        &dir.path().join("court"),
        "source:medical",
        &["--court"],
    );
    ok(&out, "export --court");
    assert_eq!(
        events(&case, "export").last().expect("event")["court"],
        true
    );

    // identity-confidential: the provider's name and paths never reach the bag.
    set_conditions(&case, "medical-network", &["identity-confidential"]);
    let their_paths: BTreeSet<String> = medical
        .iter()
        .flat_map(|i| i["sources"].as_array().expect("sources").clone())
        .filter(|s| s["source"] == "medical-network")
        .filter_map(|s| s["path"].as_str().map(str::to_string))
        .collect();
    assert!(!their_paths.is_empty());
    let bag = dir.path().join("confidential");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    check_bag(&bag);
    let meta_text = std::fs::read_to_string(bag.join("data/metadata.jsonl")).expect("read");
    let audit_text = std::fs::read_to_string(bag.join("data/audit.jsonl")).expect("read");
    for (name, body) in [("metadata.jsonl", &meta_text), ("audit.jsonl", &audit_text)] {
        assert!(
            !body.contains("\"medical-network\""),
            "{name} names the confidential provider"
        );
        for p in &their_paths {
            assert!(!body.contains(p.as_str()), "{name} holds the path {p}");
        }
    }
    let mut withheld = 0;
    for m in jsonl(&bag.join("data/metadata.jsonl")) {
        for s in m["sources"].as_array().expect("sources") {
            assert_ne!(s["source"], "medical-network");
            if s["source"] == WITHHELD {
                withheld += 1;
                assert!(
                    s.get("path").is_none() && s.get("path_b64").is_none(),
                    "{s}"
                );
                assert!(s["received_at"].is_string());
            }
        }
    }
    assert_eq!(
        withheld,
        their_paths.len(),
        "every record of that provider withheld"
    );
    // The other providers' records are intact.
    assert!(meta_text.contains("\"civil-defence\""));

    // Such a bag still imports: the withheld records become the bag's own file paths.
    let other = init_case(&dir.path().join("other"));
    ok(&import(&other, &bag, "partner-mechanism"), "import");
    assert_eq!(
        count(&other, "SELECT count(*) FROM items") as usize,
        medical_refs.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 6. a tampered object store

#[test]
fn export_aborts_when_a_stored_original_was_altered() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let case = demo_case(dir.path());
    let medical = list(&case, Some("source:medical"));
    let victim = &medical[medical.len() / 2];
    let sha = victim["sha256"].as_str().expect("sha");
    let object = case.join("objects").join(&sha[..2]).join(sha);
    std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut bytes = std::fs::read(&object).expect("read");
    bytes[0] ^= 0x20;
    std::fs::write(&object, &bytes).expect("write");

    let bag = dir.path().join("bag");
    let out = export(&case, &bag, "source:medical", &[]);
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    let r = victim["ref"].as_str().expect("ref");
    assert!(
        err.contains(r) && err.contains("altered"),
        "names {r}: {err}"
    );
    assert!(!bag.exists(), "no half bag left behind");
    assert!(
        events(&case, "export").is_empty(),
        "nothing recorded as disclosed"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. imports keep claims as claims; the history and every manifest are checked

/// Copy a folder tree (a bag) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// After a payload file was edited: rewrite the SHA-256 manifests so the bag is consistent
/// again (what a forger with the bag in hand can do).
fn reseal(bag: &Path) {
    let mut files = BTreeSet::new();
    files_under(bag, &bag.join("data"), &mut files);
    let m: String = files
        .iter()
        .map(|rel| format!("{}  {rel}\n", sha256_file(&bag.join(rel))))
        .collect();
    std::fs::write(bag.join("manifest-sha256.txt"), m).expect("write manifest");
    let t: String = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"]
        .iter()
        .map(|rel| format!("{}  {rel}\n", sha256_file(&bag.join(rel))))
        .collect();
    std::fs::write(bag.join("tagmanifest-sha256.txt"), t).expect("write tag manifest");
}

/// Rewrite every line of a JSON-lines payload file.
fn edit_jsonl(path: &Path, mut f: impl FnMut(&mut Value)) {
    let out: String = jsonl(path)
        .into_iter()
        .map(|mut v| {
            f(&mut v);
            format!("{}\n", serde_json::to_string(&v).expect("json"))
        })
        .collect();
    std::fs::write(path, out).expect("write");
}

#[test]
fn imported_decisions_stay_the_senders_claims() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    // The sender's reviewer is "amal", a login the receiving case also has.
    edit_jsonl(&bag.join("data/metadata.jsonl"), |v| {
        if let Some(list) = v["tag_details"].as_array_mut() {
            for t in list {
                t["set_by"] = Value::from("amal");
                t["set_at"] = Value::from("2013-09-01T10:00:00.000000Z");
            }
        }
    });
    reseal(&bag);
    let other = init_case(&dir.path().join("other"));
    ok(
        &run(Some(&other), ["user", "add", "amal", "--role", "reviewer"]),
        "user add",
    );
    ok(&import(&other, &bag, "partner-mechanism"), "import");
    let me: String = db(&other)
        .query_row(
            "SELECT actor FROM audit WHERE event = 'import.batch'",
            [],
            |r| r.get(0),
        )
        .expect("the importing login");
    assert_ne!(me, "amal");

    // Locally the importing login applied the tags, now; nothing is "by amal" here.
    assert!(count(&other, "SELECT count(*) FROM tags") > 0);
    assert_eq!(
        count(&other, "SELECT count(*) FROM tags WHERE set_by = 'amal'"),
        0
    );
    let conn = db(&other);
    let local: i64 = conn
        .query_row("SELECT count(*) FROM tags WHERE set_by = ?1", [&me], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(local, count(&other, "SELECT count(*) FROM tags"));
    for e in events(&other, "tag.add") {
        assert_eq!(e["imported"]["claimed_by"], "amal", "{e}");
    }
    let actors: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'tag.add' AND actor <> ?1",
            [&me],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(actors, 0, "the tag events are the importing login's");

    // amal's "mine" view does not hold them.
    let mine = triage::store::query::view_where(&triage::store::query::View::Mine, "amal");
    let n: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM items WHERE {}", mine.sql),
            rusqlite::params_from_iter(mine.params.iter()),
            |r| r.get(0),
        )
        .expect("mine view");
    assert_eq!(n, 0, "imported decisions in amal's mine view");
    assert!(list(&other, Some("by:amal")).is_empty());

    // show (JSON and text) presents them as the sender's.
    let tagged = list(&other, None)
        .into_iter()
        .find(|i| {
            i["tags"]["crimes"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .expect("a tagged item");
    let r = tagged["ref"].as_str().expect("ref");
    let d = show(&other, r);
    let case_id = bag_info(&bag)["Triage-Case-Id"].clone();
    let claims = d["imported_claims"].as_array().expect("imported_claims");
    assert!(!claims.is_empty());
    for c in claims {
        assert_eq!(c["claimed_by"], "amal");
        assert_eq!(c["claimed_at"], "2013-09-01T10:00:00.000000Z");
        assert_eq!(c["sending_case"], case_id.as_str());
        assert_eq!(c["imported_by"], me.as_str());
    }
    for t in d["tag_details"].as_array().expect("tag_details") {
        assert_eq!(t["set_by"], me.as_str());
    }
    let out = run(Some(&other), ["show", r]);
    ok(&out, "show");
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!("by amal in case {case_id}")),
        "{shown}"
    );
}

#[test]
fn a_bag_with_a_forged_history_is_refused() {
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    let other = init_case(&dir.path().join("other"));

    // All-zero hashes.
    let zero = dir.path().join("zero");
    copy_tree(&bag, &zero);
    edit_jsonl(&zero.join("data/audit.jsonl"), |v| {
        if v.get("hash").is_some() {
            v["hash"] = Value::from("0".repeat(64));
            v["prev_hash"] = Value::from("0".repeat(64));
        }
    });
    reseal(&zero);
    let out = import(&other, &zero, "partner-mechanism");
    assert_eq!(code(&out), 1, "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("data/audit.jsonl"), "{err}");
    assert!(err.contains("all-zero"), "{err}");

    // One entry altered (who did it), the manifests made to fit.
    let altered = dir.path().join("altered");
    copy_tree(&bag, &altered);
    let mut done = false;
    edit_jsonl(&altered.join("data/audit.jsonl"), |v| {
        if !done && v["event"] == "tag.add" {
            v["actor"] = Value::from("someone-else");
            done = true;
        }
    });
    assert!(done, "the bag has a tag.add entry");
    reseal(&altered);
    let out = import(&other, &altered, "partner-mechanism");
    assert_eq!(code(&out), 1, "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("altered"), "{err}");

    // A different chain head in bag-info.txt than in the history.
    let head = dir.path().join("head");
    copy_tree(&bag, &head);
    let info = std::fs::read_to_string(head.join("bag-info.txt")).expect("read");
    let info: String = info
        .lines()
        .map(|l| match l.strip_prefix("Triage-Chain-Head: ") {
            Some(v) => format!(
                "Triage-Chain-Head: {} {}\n",
                v.split(' ').next().unwrap_or("1"),
                "1".repeat(64)
            ),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(head.join("bag-info.txt"), info).expect("write");
    reseal(&head);
    let out = import(&other, &head, "partner-mechanism");
    assert_eq!(code(&out), 1, "stdout: {}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("chain head"),
        "{}",
        text(&out.stderr)
    );

    assert_eq!(count(&other, "SELECT count(*) FROM items"), 0);
    assert_eq!(events(&other, "import.refused").len(), 3);
    // The bag as exported goes in, every entry's hash recomputed.
    ok(&import(&other, &bag, "partner-mechanism"), "import");
    let hist = events(&other, "import.history");
    assert!(!hist.is_empty());
    assert!(hist.iter().all(|h| h["hash_recomputed"] == true));
}

#[test]
fn every_manifest_is_verified_whatever_its_algorithm() {
    use sha2::Sha512;
    let dir = tempdir();
    let case = tagged_demo(dir.path());
    let bag = dir.path().join("bag");
    ok(&export(&case, &bag, "source:medical", &[]), "export");
    let other = init_case(&dir.path().join("other"));
    let mut files = BTreeSet::new();
    files_under(&bag, &bag.join("data"), &mut files);
    let victim = files
        .iter()
        .find(|f| f.starts_with("data/originals/"))
        .expect("an original")
        .clone();
    let md5_of = |p: &Path| hex::encode(md5::Md5::digest(std::fs::read(p).expect("read")));
    let sha512_of = |p: &Path| hex::encode(Sha512::digest(std::fs::read(p).expect("read")));
    let write_manifest = |b: &Path, name: &str, f: &dyn Fn(&Path) -> String, wrong: bool| {
        let body: String = files
            .iter()
            .map(|rel| {
                let mut h = f(&b.join(rel));
                if wrong && rel == &victim {
                    h = h.replace(&h[..1], if &h[..1] == "0" { "1" } else { "0" });
                }
                format!("{h}  {rel}\n")
            })
            .collect();
        std::fs::write(b.join(name), body).expect("write manifest");
    };

    for (alg, name, f) in [
        (
            "MD5",
            "manifest-md5.txt",
            &md5_of as &dyn Fn(&Path) -> String,
        ),
        ("SHA-512", "manifest-sha512.txt", &sha512_of),
    ] {
        let b = dir.path().join(name);
        copy_tree(&bag, &b);
        write_manifest(&b, name, f, true);
        let out = import(&other, &b, "partner-mechanism");
        assert_eq!(code(&out), 1, "{name}: stdout: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains(&victim), "{name}: names the file: {err}");
        assert!(
            err.contains(&format!("{alg} mismatch")) && err.contains(name),
            "{name}: names the algorithm and manifest: {err}"
        );
    }
    // A wrong tag manifest in another algorithm is refused too.
    let b = dir.path().join("tag512");
    copy_tree(&bag, &b);
    std::fs::write(
        b.join("tagmanifest-sha512.txt"),
        format!("{}  bag-info.txt\n", "ab".repeat(64)),
    )
    .expect("write");
    let out = import(&other, &b, "partner-mechanism");
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("SHA-512 mismatch: tagmanifest-sha512.txt"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(count(&other, "SELECT count(*) FROM items"), 0);

    // Correct MD5 and SHA-512 manifests (and tag manifest) beside the SHA-256 one: accepted.
    let b = dir.path().join("good");
    copy_tree(&bag, &b);
    write_manifest(&b, "manifest-md5.txt", &md5_of, false);
    write_manifest(&b, "manifest-sha512.txt", &sha512_of, false);
    let t: String = [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-md5.txt",
    ]
    .iter()
    .map(|rel| format!("{}  {rel}\n", sha512_of(&b.join(rel))))
    .collect();
    std::fs::write(b.join("tagmanifest-sha512.txt"), t).expect("write");
    ok(
        &import(&other, &b, "partner-mechanism"),
        "import with extra manifests",
    );
}
