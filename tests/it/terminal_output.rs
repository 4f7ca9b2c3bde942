//! What the command line prints is safe for a terminal: evidence text (file names, extension
//! mismatches, symlink targets, stray object names) reaches stdout and stderr only sanitized,
//! JSON has every character a terminal acts on escaped (and still parses to the same value),
//! and a reader that goes away (`| head -1`) ends a command quietly.

use crate::common::triage;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_triage");
const ESC_NAME: &str = "report.\u{1b}]0;pwned\u{7}pdf";
const RLO_NAME: &str = "invoice\u{202e}fdp.exe";

/// Bytes a terminal would act on or hide: C0/C1 controls (but newline), bidi controls.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    for c in s.chars() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{feff}');
        assert!(!bad, "{what} carries {c:?} raw:\n{s}");
    }
}

fn case_with_hostile_intake(dir: &Path) -> std::path::PathBuf {
    let case = dir.join("case");
    let out = Command::new(BIN)
        .arg("init")
        .arg(&case)
        .output()
        .expect("init");
    assert!(out.status.success(), "{out:?}");
    let intake = dir.join("intake");
    std::fs::create_dir_all(&intake).expect("intake");
    std::fs::write(intake.join(ESC_NAME), b"plain text, not a PDF\n").expect("write");
    std::fs::write(intake.join(RLO_NAME), b"another text\n").expect("write");
    // A link out of the intake: skipped, and its target is named in the reason.
    let outside = dir.join(std::ffi::OsStr::from_bytes(b"\x1b[2J\x1b]0;owned\x07"));
    std::fs::write(&outside, b"outside").expect("write");
    std::os::unix::fs::symlink(&outside, intake.join("link")).expect("symlink");
    let out = triage(
        &case,
        &["ingest", "--source", "p", intake.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(1), "the link is skipped: {out:?}");
    assert_terminal_safe("ingest stdout", &out.stdout);
    assert_terminal_safe("ingest stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("␛[2J"),
        "the link's target is shown, made visible: {stdout}"
    );
    case
}

#[test]
fn show_list_and_log_print_evidence_text_sanitized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = case_with_hostile_intake(dir.path());
    let list = triage(&case, &["list"]);
    assert!(list.status.success());
    assert_terminal_safe("list", &list.stdout);
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(listed.contains("invoice⟨RLO⟩fdp.exe"), "{listed}");
    for item in ["T-000001", "T-000002"] {
        let show = triage(&case, &["show", item]);
        assert!(show.status.success(), "{show:?}");
        assert_terminal_safe("show", &show.stdout);
    }
    let shown: String = ["T-000001", "T-000002"]
        .iter()
        .map(|i| String::from_utf8_lossy(&triage(&case, &["show", i]).stdout).to_string())
        .collect();
    // The extension-mismatch text quotes the hostile extension: visible, not acted on.
    assert!(shown.contains("MISMATCH"), "{shown}");
    assert!(shown.contains("␛]0;pwned␇"), "{shown}");
    let log = triage(&case, &["log"]);
    assert_terminal_safe("log", &log.stdout);
}

#[test]
fn json_output_escapes_what_a_terminal_acts_on_and_keeps_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = case_with_hostile_intake(dir.path());
    let list = triage(&case, &["list", "--json"]);
    assert_terminal_safe("list --json", &list.stdout);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["name"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(names.iter().any(|n| n == RLO_NAME), "{names:?}");
    assert!(names.iter().any(|n| n == ESC_NAME), "{names:?}");
    let show = triage(&case, &["show", "--json", "T-000002"]);
    assert_terminal_safe("show --json", &show.stdout);
}

#[test]
fn verify_names_a_planted_object_without_acting_on_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = case_with_hostile_intake(dir.path());
    let shard = case.join("objects").join("ab");
    std::fs::create_dir_all(&shard).expect("shard");
    let planted = shard.join(std::ffi::OsStr::from_bytes(
        b"ab\x1b]0;planted\x07\xe2\x80\xae",
    ));
    std::fs::write(&planted, b"x").expect("plant");
    let out = triage(&case, &["verify", "--quick"]);
    assert_terminal_safe("verify", &out.stdout);
    assert_terminal_safe("verify stderr", &out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("␛]0;planted␇⟨RLO⟩"), "{stdout}");
}

#[test]
fn a_reader_that_goes_away_ends_show_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = case_with_hostile_intake(dir.path());
    // The read end is closed before triage writes: its first write meets EPIPE.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(BIN)
        .env_remove("TRIAGE_CASE")
        .arg("--case")
        .arg(&case)
        .args(["show", "T-000001"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
