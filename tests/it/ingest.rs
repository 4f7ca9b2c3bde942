//! End-to-end tests of `triage ingest`, run as a subprocess against fixtures built by the
//! tests themselves: metadata of each supported type, duplicates across providers, raw file
//! names, symbolic links, FIFOs, a SIGKILL in the middle of an ingest, unreadable files and
//! the error given outside a case.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use sha2::{Digest, Sha256};

use triage::demo::{self, PhotoSpec};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

/// Arabic text that Windows-1256 can represent exactly (no Arabic-Indic digits).
const STATEMENT_AR: &str = "شهادة الشاهد\nأفاد الشاهد بأن القصف بدأ في الساعة الثانية فجراً، وأن رائحة غريبة انتشرت في الحي.\nنُقل المصابون إلى المستشفى الميداني في دوما.\n";
const SUBJECT_AR: &str = "شهادات جديدة من دوما";

// ---------------------------------------------------------------------------------------------
// helpers

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

/// The binary with a clean environment for the case (TRIAGE_CASE must not leak in).
fn triage_cmd(case: Option<&Path>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TRIAGE_CASE").stdin(Stdio::null());
    if let Some(c) = case {
        cmd.arg("--case").arg(c);
    }
    cmd
}

fn run<I, S>(case: Option<&Path>, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    triage_cmd(case)
        .args(args)
        .output()
        .expect("run the triage binary")
}

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .unwrap_or_else(|| panic!("triage was killed by a signal: {:?}", out.status))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `triage init DIR/case`, checked.
fn init_case(dir: &Path) -> PathBuf {
    let case = dir.join("case");
    let out = run(None, [OsStr::new("init"), case.as_os_str()]);
    assert_eq!(code(&out), 0, "triage init failed: {}", text(&out.stderr));
    assert!(case.join("case.db").is_file(), "init made no case.db");
    case
}

fn ingest_args(source: &str, paths: &[&Path]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "ingest".into(),
        "--source".into(),
        source.into(),
        "--json".into(),
    ];
    args.extend(paths.iter().map(|p| p.as_os_str().to_os_string()));
    args
}

fn parse_summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ingest --json printed no JSON object ({e}); stdout: {}; stderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// `triage ingest --source SOURCE --json PATHS`: (exit code, summary).
fn ingest(case: &Path, source: &str, paths: &[&Path]) -> (i32, Value) {
    let out = run(Some(case), ingest_args(source, paths));
    (code(&out), parse_summary(&out))
}

/// `triage list --json`: one object per line.
fn list(case: &Path) -> Vec<Value> {
    let out = run(Some(case), ["list", "--json"]);
    assert_eq!(code(&out), 0, "list failed: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn show(case: &Path, item: &str) -> Value {
    let out = run(Some(case), ["show", item, "--json"]);
    assert_eq!(code(&out), 0, "show failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("show --json prints one JSON object")
}

fn count(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary has no count {key:?}: {summary}"))
}

fn problems(summary: &Value) -> &Vec<Value> {
    summary["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("summary has no problems list: {summary}"))
}

/// The login name of a uid, as triage determines it.
fn login_of(uid: libc::uid_t) -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; read at once.
    unsafe {
        let pw = libc::getpwuid(uid);
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    format!("uid{uid}")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create fixture folder");
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn open_db(case: &Path) -> Connection {
    let conn = Connection::open_with_flags(
        case.join("case.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open case.db read-only");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("set busy timeout");
    conn
}

fn query_i64(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The item whose first provenance path ends with `/name`.
fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    let suffix = format!("/{name}");
    items
        .iter()
        .find(|i| {
            i["sources"][0]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&suffix))
        })
        .unwrap_or_else(|| panic!("no item received as {name}"))
}

/// Wait for a child, killing it and failing the test if it runs longer than `limit`.
fn wait_with_timeout(child: &mut std::process::Child, limit: Duration, what: &str) {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("poll the child") {
            Some(_) => return,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} still running after {limit:?}: killed");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), distinct per `index`.
fn pseudo_random_file(index: u64) -> Vec<u8> {
    let mut state = (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let size = 2048 + (next() % (18 * 1024)) as usize;
    let mut out = Vec::with_capacity(size + 8);
    // The index first: the contents are distinct whatever the generator does.
    out.extend_from_slice(&index.to_le_bytes());
    while out.len() < size {
        out.extend_from_slice(&next().to_le_bytes());
    }
    out.truncate(size);
    out
}

// ---------------------------------------------------------------------------------------------
// 1. every type's metadata

#[test]
fn mixed_folder_yields_each_types_metadata() {
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");

    let photo = demo::jpeg(&PhotoSpec {
        width: 160,
        height: 120,
        seed: 7,
        make: "Canon",
        model: "Canon EOS 600D",
        software: None,
        taken: "2013-08-21T02:47:13",
        gps: Some((33.5711, 36.4019, 690.0)),
        orientation: 6,
    });
    assert!(!photo.is_empty(), "demo::jpeg produced nothing");
    write(&intake.join("photos/IMG_0417.jpg"), &photo);
    write(
        &intake.join("reports/report.pdf"),
        &demo::pdf(
            "Attack on field hospital, Douma",
            "Medical Network Documentation Unit",
            "20130821101500+03'00'",
            3,
        ),
    );
    write(
        &intake.join("mail/message.eml"),
        &demo::email(
            "Dr. Sami <sami@medical-network.example>",
            "intake@mechanism.example",
            "Wed, 21 Aug 2013 09:12:44 +0300",
            SUBJECT_AR,
            "20130821091244.4711@medical-network.example",
            "Please find the details attached.\nRegards",
        ),
    );
    write(
        &intake.join("statements/statement-utf8.txt"),
        STATEMENT_AR.as_bytes(),
    );
    let (cp1256, _, unmappable) = encoding_rs::WINDOWS_1256.encode(STATEMENT_AR);
    assert!(!unmappable, "the fixture text must fit Windows-1256");
    assert!(
        std::str::from_utf8(&cp1256).is_err(),
        "cp1256 bytes are not UTF-8"
    );
    write(&intake.join("statements/statement-cp1256.txt"), &cp1256);
    let clip = demo::mp4(128, 96, 3, 1_377_053_220);
    assert!(!clip.is_empty(), "demo::mp4 produced nothing");
    write(&intake.join("clip.mp4"), &clip);
    let blob: Vec<u8> = (0..4096usize).map(|i| (i * 7919 % 251) as u8).collect();
    write(&intake.join("export.bin"), &blob);

    let (code, summary) = ingest(&case, "civil-defence", &[&intake]);
    assert_eq!(code, 0, "every file is taken in: {summary}");
    assert_eq!(count(&summary, "new"), 7, "{summary}");
    assert_eq!(count(&summary, "duplicates"), 0, "{summary}");
    assert_eq!(count(&summary, "unchanged"), 0, "{summary}");
    assert_eq!(count(&summary, "skipped"), 0, "{summary}");
    assert_eq!(count(&summary, "failed"), 0, "{summary}");
    assert_eq!(count(&summary, "files"), 7, "{summary}");
    let total_bytes = photo.len()
        + clip.len()
        + blob.len()
        + cp1256.len()
        + STATEMENT_AR.len()
        + std::fs::read(intake.join("reports/report.pdf"))
            .expect("read back")
            .len()
        + std::fs::read(intake.join("mail/message.eml"))
            .expect("read back")
            .len();
    assert_eq!(count(&summary, "bytes"), total_bytes as u64, "{summary}");
    assert!(problems(&summary).is_empty(), "{summary}");
    assert!(summary["batch"].as_i64().is_some(), "{summary}");
    assert!(summary["seconds"].as_f64().is_some(), "{summary}");

    let items = list(&case);
    assert_eq!(items.len(), 7, "{items:#?}");
    for item in &items {
        assert_eq!(item["status"], "untriaged");
        assert_eq!(item["sources"].as_array().map(Vec::len), Some(1), "{item}");
        assert_eq!(item["sources"][0]["source"], "civil-defence");
        assert!(item["ref"].as_str().is_some_and(|r| r.starts_with("T-")));
    }

    // The photo: EXIF, GPS, dimensions.
    let img = by_name(&items, "IMG_0417.jpg");
    assert_eq!(img["type"], "image");
    assert_eq!(img["mime"], "image/jpeg");
    assert_eq!(img["sha256"], sha256_hex(&photo));
    assert_eq!(img["size"], photo.len() as u64);
    assert_eq!(img["name"], "IMG_0417.jpg");
    assert_eq!(img["ext_mismatch"], Value::Null);
    let exif = &img["metadata"]["exif"];
    let gps = &exif["gps"];
    let lat = gps["lat"].as_f64().expect("gps.lat");
    let lon = gps["lon"].as_f64().expect("gps.lon");
    assert!((lat - 33.5711).abs() < 1e-4, "lat {lat}");
    assert!((lon - 36.4019).abs() < 1e-4, "lon {lon}");
    let alt = gps["alt"].as_f64().expect("gps.alt");
    assert!((alt - 690.0).abs() < 1e-6, "alt {alt}");
    assert_eq!(exif["make"], "Canon");
    assert_eq!(exif["model"], "Canon EOS 600D");
    assert_eq!(exif["captured_at"], "2013-08-21T02:47:13");
    assert_eq!(exif["orientation"], 6);
    assert_eq!(img["captured_at"], "2013-08-21T02:47:13");
    assert_eq!(img["metadata"]["image"]["width"], 160);
    assert_eq!(img["metadata"]["image"]["height"], 120);
    assert_eq!(img["metadata"]["image"]["format"], "jpeg");

    // The PDF: page count and the information dictionary.
    let pdf = by_name(&items, "report.pdf");
    assert_eq!(pdf["type"], "pdf");
    assert_eq!(pdf["mime"], "application/pdf");
    let info = &pdf["metadata"]["pdf"];
    assert_eq!(info["pages"], 3);
    assert_eq!(info["title"], "Attack on field hospital, Douma");
    assert_eq!(info["author"], "Medical Network Documentation Unit");
    assert_eq!(info["created"], "2013-08-21T10:15:00+03:00");
    assert_eq!(pdf["captured_at"], "2013-08-21T10:15:00+03:00");

    // The e-mail: the RFC 2047 subject decoded.
    let mail = by_name(&items, "message.eml");
    assert_eq!(mail["type"], "email");
    assert_eq!(mail["mime"], "message/rfc822");
    let raw = std::fs::read(intake.join("mail/message.eml")).expect("read back");
    assert!(
        !raw.windows(SUBJECT_AR.len())
            .any(|w| w == SUBJECT_AR.as_bytes()),
        "the fixture's subject must be RFC 2047 encoded, not raw UTF-8"
    );
    let em = &mail["metadata"]["email"];
    assert_eq!(em["subject"], SUBJECT_AR);
    assert_eq!(em["from"], "Dr. Sami <sami@medical-network.example>");
    assert_eq!(em["to"], serde_json::json!(["intake@mechanism.example"]));
    assert_eq!(
        em["message_id"],
        "20130821091244.4711@medical-network.example"
    );
    assert_eq!(em["date"], "2013-08-21T09:12:44+03:00");
    assert_eq!(mail["captured_at"], "2013-08-21T09:12:44+03:00");

    // The two statements: the encoding detected, the excerpt decoded to the same text.
    let utf8 = by_name(&items, "statement-utf8.txt");
    let legacy = by_name(&items, "statement-cp1256.txt");
    for (item, encoding) in [(utf8, "UTF-8"), (legacy, "windows-1256")] {
        assert_eq!(item["type"], "text", "{item}");
        assert_eq!(item["mime"], "text/plain", "{item}");
        let t = &item["metadata"]["text"];
        assert_eq!(t["encoding"], encoding, "{item}");
        assert_eq!(t["excerpt"], STATEMENT_AR, "{item}");
        assert_eq!(t["bom"], false, "{item}");
        assert_eq!(t["lines"], 3, "{item}");
    }
    assert_ne!(utf8["sha256"], legacy["sha256"]);

    // The video: container duration, creation time, frame size.
    let video = by_name(&items, "clip.mp4");
    assert_eq!(video["type"], "video");
    assert_eq!(video["mime"], "video/mp4");
    let v = &video["metadata"]["video"];
    assert_eq!(v["duration_s"].as_f64(), Some(3.0), "{v}");
    assert_eq!(v["created_at"], "2013-08-21T02:47:00Z");
    assert_eq!(v["width"], 128);
    assert_eq!(v["height"], 96);
    assert_eq!(video["captured_at"], "2013-08-21T02:47:00Z");

    // The unknown binary: taken in as it is.
    let bin = by_name(&items, "export.bin");
    assert_eq!(bin["type"], "other");
    assert_eq!(bin["mime"], "application/octet-stream");
    assert_eq!(bin["size"], 4096);
    assert_eq!(bin["sha256"], sha256_hex(&blob));
    assert_eq!(bin["captured_at"], Value::Null);

    // Every item has its original, byte for byte, in the object store.
    for item in &items {
        let sha = item["sha256"].as_str().expect("sha256");
        let stored = std::fs::read(case.join("objects").join(&sha[..2]).join(sha))
            .unwrap_or_else(|e| panic!("object {sha}: {e}"));
        assert_eq!(sha256_hex(&stored), sha);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. the same file from two providers

#[test]
fn exact_duplicate_from_two_sources_is_one_item_with_two_provenance_records() {
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let photo = demo::jpeg(&PhotoSpec {
        width: 120,
        height: 80,
        seed: 201,
        make: "samsung",
        model: "SM-A520F",
        software: None,
        taken: "2013-08-21T02:47:13",
        gps: Some((33.5725, 36.4031, 688.0)),
        orientation: 1,
    });
    let dir_a = tmp.path().join("source-A");
    let dir_b = tmp.path().join("source-B");
    let path_a = dir_a.join("2013-08/Douma/IMG_20130821_024713.jpg");
    let path_b = dir_b.join("received/photo from Douma.jpg");
    write(&path_a, &photo);
    write(&path_b, &photo);

    let (code_a, first) = ingest(&case, "civil-defence", &[&dir_a]);
    assert_eq!(code_a, 0, "{first}");
    assert_eq!(count(&first, "new"), 1, "{first}");
    assert_eq!(count(&first, "duplicates"), 0, "{first}");

    let (code_b, second) = ingest(&case, "medical-network", &[&dir_b]);
    assert_eq!(code_b, 0, "{second}");
    assert_eq!(count(&second, "new"), 0, "{second}");
    assert_eq!(count(&second, "duplicates"), 1, "{second}");
    assert_eq!(count(&second, "unchanged"), 0, "{second}");
    assert_ne!(first["batch"], second["batch"]);

    let items = list(&case);
    assert_eq!(items.len(), 1, "{items:#?}");
    let item = &items[0];
    assert_eq!(item["sha256"], sha256_hex(&photo));
    assert_eq!(
        item["name"], "IMG_20130821_024713.jpg",
        "the first name received"
    );
    let sources = item["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{item}");
    assert_eq!(sources[0]["source"], "civil-defence");
    assert_eq!(sources[0]["path"], path_str(&path_a));
    assert_eq!(sources[0]["batch"], first["batch"]);
    assert_eq!(sources[1]["source"], "medical-network");
    assert_eq!(sources[1]["path"], path_str(&path_b));
    assert_eq!(sources[1]["batch"], second["batch"]);
    for s in sources {
        assert_eq!(s["size"], photo.len() as u64);
        assert!(s.get("path_b64").is_none(), "UTF-8 paths carry no path_b64");
    }

    // The same ingest again: recorded before, nothing new.
    let (code_again, again) = ingest(&case, "civil-defence", &[&dir_a]);
    assert_eq!(code_again, 0, "{again}");
    assert_eq!(count(&again, "unchanged"), 1, "{again}");
    assert_eq!(count(&again, "new"), 0, "{again}");
    assert_eq!(count(&again, "duplicates"), 0, "{again}");
    let items = list(&case);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sources"].as_array().map(Vec::len), Some(2));
    let db = open_db(&case);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM provenance"), 2);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM items"), 1);

    // `show` tells the same story, and its history has one entry per provenance record.
    let reference = items[0]["ref"].as_str().expect("ref");
    let detail = show(&case, reference);
    assert_eq!(detail["sha256"], items[0]["sha256"]);
    assert_eq!(detail["sources"], items[0]["sources"]);
    let events: Vec<&str> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(events, ["ingest.new", "ingest.duplicate"]);

    // One object on disk.
    let objects = object_files(&case);
    assert_eq!(objects.len(), 1, "{objects:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. file names that are not UTF-8

#[test]
fn non_utf8_file_name_round_trips_through_list_json() {
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("create intake");
    let name = OsStr::from_bytes(b"caf\xe9-\xff.txt");
    let path = intake.join(name);
    write(&path, b"bonjour du caf\xc3\xa9\n");
    let original: Vec<u8> = path.as_os_str().as_bytes().to_vec();
    assert!(std::str::from_utf8(&original).is_err());

    let (code, summary) = ingest(&case, "citizen-journalists", &[&intake]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(count(&summary, "new"), 1, "{summary}");

    let items = list(&case);
    assert_eq!(items.len(), 1);
    let source = &items[0]["sources"][0];
    let b64 = source["path_b64"]
        .as_str()
        .unwrap_or_else(|| panic!("no path_b64 for a non-UTF-8 path: {source}"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("path_b64 is standard base64");
    assert_eq!(decoded, original, "path_b64 gives the exact path bytes");
    // The display forms are lossy but valid.
    let lossy = String::from_utf8_lossy(&original).into_owned();
    assert_eq!(source["path"], lossy);
    assert_eq!(items[0]["name"], "caf\u{fffd}-\u{fffd}.txt");

    // The raw bytes are what the database holds too.
    let db = open_db(&case);
    let stored: Vec<u8> = db
        .query_row("SELECT path FROM provenance", [], |r| r.get(0))
        .expect("one provenance row");
    assert_eq!(stored, original);
}

// ---------------------------------------------------------------------------------------------
// 4. symbolic links

#[test]
fn symlink_outside_the_root_is_skipped_and_one_inside_is_taken_in() {
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    let outside = tmp.path().join("outside");
    let secret = b"not evidence: a file outside the given folder\n";
    write(&outside.join("secret.txt"), secret);
    let inside = b"a statement inside the given folder\n";
    write(&intake.join("real.txt"), inside);
    let escape = intake.join("escape.txt");
    std::os::unix::fs::symlink(outside.join("secret.txt"), &escape).expect("symlink out");
    let alias = intake.join("alias.txt");
    std::os::unix::fs::symlink("real.txt", &alias).expect("symlink in");

    let (code, summary) = ingest(&case, "civil-defence", &[&intake]);
    assert_eq!(code, 1, "a skipped file makes the exit status 1: {summary}");
    assert!(count(&summary, "skipped") >= 1, "{summary}");
    assert_eq!(count(&summary, "failed"), 0, "{summary}");
    let problem = problems(&summary)
        .iter()
        .find(|p| p["path"] == path_str(&escape))
        .unwrap_or_else(|| panic!("the outward link is not among the problems: {summary}"));
    assert_eq!(problem["outcome"], "skipped");
    let reason = problem["reason"].as_str().expect("reason");
    assert!(reason.contains("outside"), "reason: {reason}");

    let items = list(&case);
    let secret_sha = sha256_hex(secret);
    assert!(
        items.iter().all(|i| i["sha256"] != secret_sha),
        "the outside file's content was taken in: {items:#?}"
    );
    assert!(
        !object_files(&case).iter().any(|p| p.ends_with(&secret_sha)),
        "the outside file's content is in objects/"
    );
    assert_eq!(items.len(), 1, "{items:#?}");
    let item = &items[0];
    assert_eq!(item["sha256"], sha256_hex(inside));
    let paths: BTreeSet<&str> = item["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["path"].as_str())
        .collect();
    assert!(
        paths.contains(path_str(&alias)),
        "the inward link was not taken in: {paths:?}"
    );
    assert!(
        paths.contains(path_str(&intake.join("real.txt"))),
        "{paths:?}"
    );

    // The skip is recorded in the case, not only printed.
    let db = open_db(&case);
    let recorded: i64 = db
        .query_row(
            "SELECT count(*) FROM ingest_problems WHERE path = ?1 AND outcome = 'skipped'",
            [escape.as_os_str().as_bytes()],
            |r| r.get(0),
        )
        .expect("query ingest_problems");
    assert_eq!(recorded, 1);
}

// ---------------------------------------------------------------------------------------------
// 5. FIFOs

#[test]
fn fifo_is_skipped_without_hanging() {
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    write(
        &intake.join("note.txt"),
        b"an ordinary file next to the pipe\n",
    );
    let fifo = intake.join("pipe");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("no NUL in path");
    // SAFETY: mkfifo reads the NUL-terminated path we own.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());

    let mut child = triage_cmd(Some(&case))
        .args(ingest_args("civil-defence", &[&intake]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start triage ingest");
    // The summary is one short line: it fits in the pipe's buffer while we poll.
    wait_with_timeout(
        &mut child,
        Duration::from_secs(60),
        "ingest of a folder with a FIFO",
    );
    let out = child.wait_with_output().expect("collect the output");
    let summary = parse_summary(&out);
    assert_eq!(code(&out), 1, "{summary}");
    assert_eq!(count(&summary, "skipped"), 1, "{summary}");
    assert_eq!(count(&summary, "new"), 1, "{summary}");
    let problem = problems(&summary)
        .iter()
        .find(|p| p["path"] == path_str(&fifo))
        .unwrap_or_else(|| panic!("the FIFO is not among the problems: {summary}"));
    assert_eq!(problem["outcome"], "skipped");
    let reason = problem["reason"].as_str().expect("reason");
    assert!(
        reason.contains("FIFO") || reason.contains("pipe"),
        "reason: {reason}"
    );
    assert_eq!(list(&case).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 6. SIGKILL in the middle of an ingest, then the same command again

fn object_files(case: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let objects = case.join("objects");
    for prefix in std::fs::read_dir(&objects).expect("read objects/") {
        let prefix = prefix.expect("objects/ entry").path();
        assert!(
            prefix.is_dir(),
            "stray file in objects/: {}",
            prefix.display()
        );
        for f in std::fs::read_dir(&prefix).expect("read objects/xx") {
            out.push(f.expect("object entry").path());
        }
    }
    out.sort();
    out
}

/// Kills (SIGKILL also ends a stopped process) and reaps the child if the test fails early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn signal(child: &std::process::Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill only sends a signal, to a child we started and have not reaped.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Files being written: each ingest keeps its own folders under `tmp/` (a lock file and one
/// folder per worker); counts the regular files other than the lock.
fn temp_files(case: &Path) -> usize {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        count(&p)
                    } else {
                        usize::from(e.file_name() != ".lock")
                    }
                })
                .sum()
        })
    }
    count(&case.join("tmp"))
}

fn items_committed(case: &Path) -> Option<i64> {
    let conn = Connection::open_with_flags(
        case.join("case.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_millis(500)).ok()?;
    conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .ok()
}

#[test]
fn sigkill_midway_then_rerun_completes_consistently() {
    const FILES: u64 = 2000;
    let started = Instant::now();
    let tmp = tempdir();
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    let mut expected: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..FILES {
        let bytes = pseudo_random_file(i);
        let path = intake.join(format!("d{}/sub{}/f{i:04}.bin", i % 4, i % 3));
        write(&path, &bytes);
        let previous = expected.insert(sha256_hex(&bytes), path.as_os_str().as_bytes().to_vec());
        assert!(previous.is_none(), "fixture contents must be distinct");
    }
    eprintln!("fixtures written in {:?}", started.elapsed());

    // The writer commits a batch every 2,000 files or every 2 s, so an ingest of 2,000 small
    // files that runs in under 2 s commits everything at once and has no "some committed, the
    // rest not" moment. To get one on any machine, the ingest is paused (SIGSTOP) once its
    // workers have prepared some files, for longer than the batch age; on resuming, the writer
    // commits what it holds, and the process is killed as soon as that batch is visible, while
    // the rest of the files are still being read.
    let args = ingest_args("civil-defence", &[&intake]);
    let mut guard = KillOnDrop(
        triage_cmd(Some(&case))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start triage ingest"),
    );
    let spawned = Instant::now();
    let deadline = spawned + Duration::from_secs(30);
    while temp_files(&case) < 100 {
        assert!(
            guard.0.try_wait().expect("poll the ingest").is_none(),
            "the ingest finished before it could be paused: make the fixture bigger"
        );
        assert!(
            Instant::now() < deadline,
            "the ingest made no progress in 30 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    signal(&guard.0, libc::SIGSTOP);
    let prepared = temp_files(&case);
    std::thread::sleep(Duration::from_millis(2200));
    signal(&guard.0, libc::SIGCONT);
    let committed = loop {
        assert!(
            guard.0.try_wait().expect("poll the ingest").is_none(),
            "the ingest finished before it could be killed: make the fixture bigger"
        );
        assert!(Instant::now() < deadline, "no batch committed in 30 s");
        let n = items_committed(&case).unwrap_or(0);
        if n > 0 {
            signal(&guard.0, libc::SIGKILL);
            break n;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let status = guard.0.wait().expect("reap the ingest");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    let after_kill = items_committed(&case).unwrap_or(-1);
    assert!(
        after_kill > 0 && after_kill < FILES as i64,
        "killed with {after_kill} of {FILES} items committed: not midway"
    );
    eprintln!(
        "paused with {prepared} files prepared; killed after {:?} with {committed} items \
         committed ({after_kill} after the kill), {} files left in tmp/, {} objects",
        spawned.elapsed(),
        temp_files(&case),
        object_files(&case).len()
    );

    let rerun = triage_cmd(Some(&case))
        .args(&args)
        .output()
        .expect("rerun triage ingest");
    let summary = parse_summary(&rerun);
    assert_eq!(code(&rerun), 0, "{summary}");
    eprintln!("rerun: {summary}");
    assert_eq!(
        count(&summary, "new") + count(&summary, "unchanged"),
        FILES,
        "{summary}"
    );
    assert_eq!(
        count(&summary, "unchanged"),
        after_kill as u64,
        "what the killed run committed is recognised: {summary}"
    );
    assert_eq!(count(&summary, "duplicates"), 0, "{summary}");

    let db = open_db(&case);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM items"), FILES as i64);
    assert_eq!(
        query_i64(&db, "SELECT count(DISTINCT sha256) FROM items"),
        FILES as i64
    );
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM provenance"),
        FILES as i64
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM (SELECT 1 FROM provenance GROUP BY source, path HAVING count(*) > 1)"
        ),
        0,
        "the same source and path recorded twice"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM items WHERE NOT EXISTS
             (SELECT 1 FROM provenance p WHERE p.item_id = items.id)"
        ),
        0,
        "items without provenance"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM provenance WHERE NOT EXISTS
             (SELECT 1 FROM items i WHERE i.id = provenance.item_id)"
        ),
        0,
        "provenance without an item"
    );
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM ingest_problems"),
        0,
        "problems recorded"
    );
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");

    // Each distinct content once, received at its own path.
    let mut st = db
        .prepare(
            "SELECT items.sha256, provenance.path FROM items JOIN provenance
             ON provenance.item_id = items.id",
        )
        .expect("prepare");
    let actual: BTreeMap<String, Vec<u8>> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query items")
        .collect::<rusqlite::Result<_>>()
        .expect("read items");
    assert!(actual == expected, "items differ from the files given");

    // One `ingest.new` audit entry per item, and the hash chain unbroken.
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM audit WHERE event = 'ingest.new'"),
        FILES as i64
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM (SELECT item_id FROM audit WHERE event = 'ingest.new'
             GROUP BY item_id HAVING count(*) > 1)"
        ),
        0
    );
    check_audit_chain(&db);

    // The object store: every object named by its hash, every item's object present, no
    // leftovers.
    let objects = object_files(&case);
    for path in &objects {
        let name = path
            .file_name()
            .and_then(OsStr::to_str)
            .expect("object names are hex");
        let prefix = path
            .parent()
            .and_then(Path::file_name)
            .and_then(OsStr::to_str)
            .expect("prefix folder");
        assert_eq!(&name[..2], prefix, "{}", path.display());
        let bytes = std::fs::read(path).expect("read object");
        assert_eq!(
            sha256_hex(&bytes),
            name,
            "object content differs from its name"
        );
    }
    let names: BTreeSet<String> = objects
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    let wanted: BTreeSet<String> = expected.keys().cloned().collect();
    assert!(names == wanted, "objects/ differs from the items' contents");
    let leftovers: Vec<_> = std::fs::read_dir(case.join("tmp"))
        .expect("read tmp/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert!(leftovers.is_empty(), "tmp/ is not empty: {leftovers:?}");

    // The scripting view agrees (and pages through more than one keyset page).
    let listed = list(&case);
    assert_eq!(listed.len(), FILES as usize);
    let refs: BTreeSet<&str> = listed.iter().filter_map(|i| i["ref"].as_str()).collect();
    assert_eq!(
        refs.len(),
        FILES as usize,
        "references repeat in list --json"
    );
    eprintln!("kill test done in {:?}", started.elapsed());
}

fn check_audit_chain(db: &Connection) {
    let mut st = db
        .prepare(
            "SELECT seq, at, actor, item_id, event, details, change_id, prev_hash, hash
             FROM audit ORDER BY seq",
        )
        .expect("prepare audit");
    let mut rows = st.query([]).expect("query audit");
    let mut prev: Option<(i64, String)> = None;
    while let Some(r) = rows.next().expect("audit row") {
        let seq: i64 = r.get(0).expect("seq");
        let at: String = r.get(1).expect("at");
        let actor: String = r.get(2).expect("actor");
        let item_id: Option<i64> = r.get(3).expect("item_id");
        let event: String = r.get(4).expect("event");
        let details: String = r.get(5).expect("details");
        let change_id: Option<i64> = r.get(6).expect("change_id");
        let prev_hash: String = r.get(7).expect("prev_hash");
        let hash: String = r.get(8).expect("hash");
        if let Some((p_seq, p_hash)) = &prev {
            assert_eq!(seq, p_seq + 1, "audit sequence has a gap");
            assert_eq!(&prev_hash, p_hash, "audit chain broken at {seq}");
        }
        let recomputed = triage::store::audit::entry_hash(
            &prev_hash, seq, &at, &actor, item_id, &event, &details, change_id,
        );
        assert_eq!(
            recomputed, hash,
            "audit entry {seq} does not match its hash"
        );
        prev = Some((seq, hash));
    }
    assert!(prev.is_some(), "the audit log is empty");
}

// ---------------------------------------------------------------------------------------------
// 7. unreadable files

/// The unprivileged user the unreadable-file check runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// Run the binary, as `uid` (and the same gid, no supplementary groups) when given.
fn run_as(uid: Option<u32>, args: &[OsString]) -> std::io::Result<Output> {
    use std::os::unix::process::CommandExt;
    let mut cmd = triage_cmd(None);
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    cmd.args(args).output()
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

#[test]
fn unreadable_file_is_recorded_as_failed_with_the_os_error() {
    let tmp = tempdir();
    let intake = tmp.path().join("intake");
    let readable = intake.join("a-readable.txt");
    let locked = intake.join("b-locked.txt");
    write(&readable, b"anyone may read this\n");
    write(&locked, b"nobody may read this\n");
    chmod(&locked, 0o000);
    let cases = tmp.path().join("cases");
    std::fs::create_dir_all(&cases).expect("create cases folder");
    let case = cases.join("case");

    // chmod 000 does not stop root. As root, the ingest runs as `nobody` instead (in folders
    // that user may use); if that is not possible, only the "recorded as failed" check is
    // skipped.
    // SAFETY: geteuid has no preconditions.
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut user = None;
    if is_root {
        chmod(tmp.path(), 0o755);
        chmod(&intake, 0o755);
        chmod(&cases, 0o777);
        let init: Vec<OsString> = vec!["init".into(), case.clone().into()];
        match run_as(Some(NOBODY), &init) {
            Ok(out) if out.status.success() => user = Some(NOBODY),
            Ok(out) => eprintln!(
                "cannot make a case as uid {NOBODY} ({}): running as root",
                text(&out.stderr).trim_end()
            ),
            Err(e) => eprintln!("cannot run triage as uid {NOBODY} ({e}): running as root"),
        }
        if user.is_none() && case.exists() {
            std::fs::remove_dir_all(&case).expect("remove the half-made case");
        }
    }
    if user.is_none() {
        let init: Vec<OsString> = vec!["init".into(), case.clone().into()];
        let out = run_as(None, &init).expect("run triage init");
        assert!(out.status.success(), "init: {}", text(&out.stderr));
    }

    if let Some(uid) = user {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(case.join("case.db"))
            .expect("stat case.db")
            .uid();
        assert_eq!(owner, uid, "the case was not made by the unprivileged user");
        // Its creator (admin) lets this test's own login read it.
        // SAFETY: getuid has no preconditions.
        let me = login_of(unsafe { libc::getuid() });
        let add: Vec<OsString> = vec![
            "--case".into(),
            case.clone().into(),
            "user".into(),
            "add".into(),
            me.into(),
            "--role".into(),
            "reviewer".into(),
        ];
        let out = run_as(user, &add).expect("run triage user add");
        assert!(out.status.success(), "user add: {}", text(&out.stderr));
    }

    let mut args: Vec<OsString> = vec!["--case".into(), case.clone().into()];
    args.extend(ingest_args("civil-defence", &[&intake]));
    let out = run_as(user, &args).expect("run triage ingest");
    let summary = parse_summary(&out);
    let code = code(&out);
    let items = list(&case);
    assert!(
        items
            .iter()
            .any(|i| i["sources"][0]["path"] == path_str(&readable)),
        "the readable file next to it was not taken in: {summary}"
    );

    if is_root && user.is_none() {
        eprintln!(
            "running as root: chmod 000 does not stop root from reading, so the \
             'recorded as failed' check is skipped (the file was read: {summary})"
        );
        return;
    }
    assert_eq!(code, 1, "a failed file makes the exit status 1: {summary}");
    assert_eq!(count(&summary, "failed"), 1, "{summary}");
    assert_eq!(count(&summary, "skipped"), 0, "{summary}");
    assert_eq!(count(&summary, "new"), 1, "{summary}");
    assert_eq!(items.len(), 1);
    let problem = problems(&summary)
        .iter()
        .find(|p| p["path"] == path_str(&locked))
        .unwrap_or_else(|| panic!("the unreadable file is not among the problems: {summary}"));
    assert_eq!(problem["outcome"], "failed");
    let reason = problem["reason"].as_str().expect("reason");
    assert!(
        reason.contains("Permission denied") && reason.contains("os error 13"),
        "the OS error is not in the reason: {reason}"
    );
    let db = open_db(&case);
    let recorded: String = db
        .query_row(
            "SELECT reason FROM ingest_problems WHERE path = ?1 AND outcome = 'failed'",
            [locked.as_os_str().as_bytes()],
            |r| r.get(0),
        )
        .expect("the failure is recorded in ingest_problems");
    assert_eq!(recorded, reason);
    assert!(
        std::fs::read_dir(case.join("tmp"))
            .expect("read tmp/")
            .next()
            .is_none(),
        "a failed file left a temporary file"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. outside a case

fn assert_one_line_init_hint(out: &Output, what: &str) {
    assert_eq!(code(out), 1, "{what}: exit status");
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout {:?}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: stderr {err:?}");
    assert!(err.contains("triage init"), "{what}: stderr {err:?}");
}

#[test]
fn list_outside_a_case_says_how_to_make_one() {
    let tmp = tempdir();
    let not_a_case = tmp.path().join("just-a-folder");
    write(&not_a_case.join("readme.txt"), b"not a case\n");
    let out = run(Some(&not_a_case), ["list"]);
    assert_one_line_init_hint(&out, "folder without case.db");
    assert!(text(&out.stderr).contains(path_str(&not_a_case)));
    assert!(
        !not_a_case.join("case.db").exists(),
        "list must not create a case"
    );

    let missing = tmp.path().join("no-such-folder");
    let out = run(Some(&missing), ["list", "--json"]);
    assert_one_line_init_hint(&out, "missing folder");
    assert!(!missing.exists(), "list must not create the folder");

    let out = run(None, ["list"]);
    assert_one_line_init_hint(&out, "no --case and no TRIAGE_CASE");
}
