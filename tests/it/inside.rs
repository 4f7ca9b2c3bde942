//! Seeing inside items: video metadata in every container ffprobe reads (made by ffmpeg here),
//! PDF text and scans, e-mail bodies and attachments, all searchable; a video's contact sheet
//! and a PDF's first page within the preview budget and behind the gate.
//!
//! Needs ffmpeg and poppler-utils. Without them a test says so and stops, except under
//! CI=true, where a missing tool fails it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_triage");

fn triage(case: Option<&Path>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TRIAGE_CASE").stdin(Stdio::null());
    if let Some(c) = case {
        cmd.arg("--case").arg(c);
    }
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn ingest(dir: &Path, files: &Path) -> PathBuf {
    let case = dir.join("case");
    let out = triage(None).arg("init").arg(&case).output().expect("init");
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    let out = triage(Some(&case))
        .args(["ingest", "--source", "test"])
        .arg(files)
        .output()
        .expect("ingest");
    assert!(out.status.success(), "ingest: {}", text(&out.stderr));
    case
}

fn list(case: &Path, filter: Option<&str>) -> Vec<Value> {
    let mut cmd = triage(Some(case));
    cmd.args(["list", "--json"]);
    if let Some(f) = filter {
        cmd.args(["--filter", f]);
    }
    let out = cmd.output().expect("list");
    assert!(out.status.success(), "list: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["name"] == name && i["parent"].is_null())
        .unwrap_or_else(|| panic!("{name} not ingested"))
}

/// A 3 s test pattern with sound in `container`, with a creation time and an ISO 6709
/// location as ffmpeg writes them for that container.
pub(crate) fn clip(dir: &Path, container: &str) -> PathBuf {
    let path = dir.join(format!("clip.{container}"));
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=10:duration=3")
        .args(["-f", "lavfi", "-i", "sine=duration=3", "-shortest"])
        .args(["-metadata", "creation_time=2013-08-21T02:45:00Z"])
        .args(["-metadata", "location=+33.5138+036.2765/"]);
    if container == "3gp" {
        cmd.args(["-s", "176x144", "-c:v", "h263", "-ar", "8000", "-ac", "1"]);
        cmd.args(["-c:a", "aac"]);
    }
    if container == "mov" {
        // The iPhone's key, as QuickTime metadata (not the ©xyz user data).
        cmd.args(["-movflags", "use_metadata_tags"]);
        cmd.args([
            "-metadata",
            "com.apple.quicktime.location.ISO6709=+33.5138+036.2765+100.000/",
        ]);
        cmd.args(["-metadata", "com.apple.quicktime.make=Apple"]);
        cmd.args(["-metadata", "com.apple.quicktime.model=iPhone 13 Pro"]);
    }
    let out = cmd.arg(&path).output().expect("ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {container}: {}",
        text(&out.stderr)
    );
    path
}

/// A PDF whose pages hold `pages` as text (Helvetica), or nothing for an empty string (a
/// page as a scan has it: no text layer).
fn pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let mut objs: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objs.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objs.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for (i, t) in pages.iter().enumerate() {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let stream = if t.is_empty() {
            String::new()
        } else {
            format!("BT /F1 12 Tf 20 150 Td ({t}) Tj ET")
        };
        objs.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

const EMAIL: &str = "From: Amal <amal@example.org>\r
To: intake@example.org\r
Subject: Material from Douma\r
Date: Wed, 21 Aug 2013 06:10:00 +0300\r
Message-ID: <m1@example.org>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"b1\"\r
\r
--b1\r
Content-Type: text/html; charset=utf-8\r
\r
<html><body><p>The clinic on the <b>main road</b> was damaged.</p><p>العيادة متضررة</p></body></html>\r
--b1\r
Content-Type: image/jpeg; name=\"IMG_0001.jpg\"\r
Content-Disposition: attachment; filename=\"IMG_0001.jpg\"\r
Content-Transfer-Encoding: base64\r
\r
/9j/4AAQSkZJRgABAQAAAQABAAD/\r
--b1\r
Content-Type: application/pdf; name=\"report.pdf\"\r
Content-Disposition: attachment; filename=\"report.pdf\"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQK\r
--b1--\r
";

#[test]
fn video_metadata_in_every_container() {
    if !common::have("ffmpeg") || !common::have("ffprobe") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    let containers = ["mp4", "mov", "3gp", "mkv", "webm", "avi"];
    for c in containers {
        clip(&files, c);
    }
    let case = ingest(tmp.path(), &files);
    let items = list(&case, None);
    for c in containers {
        let item = by_name(&items, &format!("clip.{c}"));
        assert_eq!(item["type"], "video", "{c}: {item}");
        let v = &item["metadata"]["video"];
        // ISO base media files by our own reader, the rest by ffprobe.
        let reader = if ["mp4", "mov", "3gp"].contains(&c) {
            "built-in"
        } else {
            "ffprobe"
        };
        assert_eq!(v["read_by"], reader, "{c}: {v}");
        let d = v["duration_s"].as_f64().unwrap_or(0.0);
        assert!((d - 3.0).abs() < 0.2, "{c}: duration {v}");
        let (w, h) = if c == "3gp" { (176, 144) } else { (320, 240) };
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w), Some(h)),
            "{c}"
        );
        assert!(
            v["video_codec"].is_string() && v["audio_codec"].is_string(),
            "{c}: {v}"
        );
        // AVI has no place for either: ffmpeg's AVI muxer writes neither.
        if c != "avi" {
            assert_eq!(v["created_at"], "2013-08-21T02:45:00Z", "{c}: {v}");
            assert_eq!(item["captured_at"], "2013-08-21T02:45:00Z", "{c}");
            assert!(
                (v["gps"]["lat"].as_f64().unwrap_or(0.0) - 33.5138).abs() < 1e-6
                    && (v["gps"]["lon"].as_f64().unwrap_or(0.0) - 36.2765).abs() < 1e-6,
                "{c}: {v}"
            );
        }
    }
    let mov = &by_name(&items, "clip.mov")["metadata"]["video"];
    assert_eq!(mov["make"], "Apple", "{mov}");
    assert_eq!(mov["model"], "iPhone 13 Pro", "{mov}");
    // A video's place is found by `near:` like a photo's.
    let near = list(&case, Some("near:33.5138,36.2765,1"));
    assert_eq!(near.len(), 5, "every clip but the AVI is there");
}

#[test]
fn pdf_text_and_email_bodies_are_read_and_searchable() {
    if !common::have("pdftotext") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    std::fs::write(
        files.join("report.pdf"),
        pdf(&["Witness statement from Zamalka", "The second page"]),
    )
    .expect("write");
    std::fs::write(files.join("scan.pdf"), pdf(&["", ""])).expect("write");
    std::fs::write(files.join("mail.eml"), EMAIL).expect("write");
    let case = ingest(tmp.path(), &files);
    let items = list(&case, None);
    let report = &by_name(&items, "report.pdf")["metadata"]["pdf"];
    assert_eq!(report["pages"], 2);
    let t = report["text"].as_str().unwrap_or_default();
    assert!(t.starts_with("Witness statement from Zamalka"), "{report}");
    assert!(t.contains("The second page"), "{report}");
    assert!(report.get("scanned").is_none());
    let scan = &by_name(&items, "scan.pdf")["metadata"]["pdf"];
    assert_eq!(scan["scanned"], true, "{scan}");
    assert!(scan.get("text").is_none());
    let mail = &by_name(&items, "mail.eml")["metadata"]["email"];
    let body = mail["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("The clinic on the main road was damaged."),
        "{mail}"
    );
    assert!(body.contains("العيادة متضررة"), "{mail}");
    assert!(!body.contains("<b>"), "HTML converted to text: {body}");
    let att = mail["attachment_details"].as_array().expect("attachments");
    assert_eq!(att.len(), 2, "{mail}");
    assert_eq!(att[0]["name"], "IMG_0001.jpg");
    assert_eq!(att[0]["type"], "image/jpeg");
    assert_eq!(att[0]["size"], 21);
    assert_eq!(att[1]["type"], "application/pdf");
    // Every word is found.
    let names = |f: &str| -> Vec<String> {
        list(&case, Some(f))
            .iter()
            .map(|i| i["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names("zamalka"), ["report.pdf"]);
    assert_eq!(names("\"second page\""), ["report.pdf"]);
    assert_eq!(names("clinic"), ["mail.eml"]);
    assert_eq!(names("متضررة"), ["mail.eml"]);
    // `show` prints them through the sanitiser.
    let out = triage(Some(&case))
        .args(["show", "T-000003"])
        .output()
        .expect("show");
    assert!(out.status.success());
}

/// lopdf reads a PDF's text in the worker; poppler is only asked when lopdf cannot, so a
/// machine without poppler still reads text PDFs, and knows a scan (no page shows text).
#[test]
fn pdf_text_and_scans_are_read_without_poppler() {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    std::fs::write(
        files.join("report.pdf"),
        pdf(&["Statement from Douma", "Second page"]),
    )
    .expect("write");
    std::fs::write(files.join("scan.pdf"), pdf(&[""])).expect("write");
    let case = tmp.path().join("case");
    let run = |args: &[&str]| {
        let out = triage(None)
            .env("PATH", "/nonexistent")
            .args(args)
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    run(&["init", case.to_str().expect("utf-8")]);
    run(&[
        "--case",
        case.to_str().expect("utf-8"),
        "ingest",
        "--source",
        "test",
        files.to_str().expect("utf-8"),
    ]);
    let items = list(&case, None);
    let report = &by_name(&items, "report.pdf")["metadata"];
    assert_eq!(
        report["pdf"]["text"], "Statement from Douma\n\nSecond page",
        "{report}"
    );
    assert!(report.get("warnings").is_none(), "{report}");
    let scan = &by_name(&items, "scan.pdf")["metadata"];
    assert_eq!(scan["pdf"]["scanned"], true, "{scan}");
    assert!(scan.get("warnings").is_none(), "{scan}");
}

/// Each frame of a sheet carries the time of the keyframe it shows (ffmpeg's, not the time
/// asked for): a clip with a keyframe each second, asked at the middle of each sixth.
#[test]
fn sheet_frames_carry_their_keyframe_times() {
    if !common::have("ffmpeg") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("gop.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=10:duration=6")
        .args(["-c:v", "libx264", "-g", "10", "-keyint_min", "10"])
        .args(["-sc_threshold", "0"])
        .arg(&path)
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sheet = triage::worker::sheet::video(&path, Some(6.0))
        .expect("a sheet")
        .to_rgb8();
    for i in 0..6 {
        // Asked at i + 0.5 s; the keyframe before it is at i s.
        let (x, cell, want) = triage::worker::sheet::label_at(i, i as f64);
        let y = triage::worker::sheet::label_top(i);
        let got = triage::worker::digits::read(&sheet, x as f32, y as f32, cell as f32, want.len());
        assert_eq!(got, want, "frame {i}");
    }
}

fn key(c: &mut triage::console::Console, code: KeyCode) {
    c.key(KeyEvent::from(code));
    c.settle();
}

#[test]
fn a_contact_sheet_within_the_budget_behind_the_gate() {
    if !common::have("ffmpeg") || !common::have("pdftoppm") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    clip(&files, "mkv");
    std::fs::write(files.join("report.pdf"), pdf(&["Page one text"])).expect("write");
    let case = ingest(tmp.path(), &files);
    {
        let mut c = triage::store::Case::open(&case).expect("open");
        common::add_member(&mut c, "rev", triage::store::users::Role::Lead);
    }
    let mut c = common::console(&case, "rev", 120, 40);
    let screen = |c: &triage::console::Console| common::screen(c, 120, 40);
    key(&mut c, KeyCode::Char('i'));
    // The first item (the clip): a sheet of keyframes (their times drawn on them).
    let s = screen(&c);
    let clip_row = s.contains("clip.mkv");
    assert!(clip_row, "{s}");
    assert!(s.contains('▀'), "a contact sheet is drawn: {s}");
    assert!(s.contains(" keyframes "), "{s}");
    if let triage::console::preview::Shown::Picture { picture: pic, .. } = &c.state.preview.shown {
        assert!(pic.cost <= c.state.preview.budget, "{} > budget", pic.cost);
    } else {
        panic!("no picture: {:?}", c.state.preview.shown);
    }
    // Kept in the case: made once.
    let thumbs = std::fs::read_dir(case.join("cache").join("thumbs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(thumbs, 1);
    // Flagged, it is withheld until a recorded reveal.
    key(&mut c, KeyCode::Char('1'));
    let s = screen(&c);
    assert!(!s.contains('▀'), "no image cells while gated: {s}");
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    let reveals: i64 = common::sql(&c.runtime.case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'reveal'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(reveals, 1);
    assert!(screen(&c).contains('▀'), "revealed");
    // The PDF: its first page.
    key(&mut c, KeyCode::Char('j'));
    let s = screen(&c);
    assert!(s.contains(" page 1 ") && s.contains('▀'), "{s}");
}

#[test]
fn bodies_and_pdf_text_are_read_in_the_details_pane() {
    if !common::have("pdftotext") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    std::fs::write(files.join("a-mail.eml"), EMAIL).expect("write");
    // pdftotext reads the first 10 pages; each holds one line, so 10 short lines: enough with
    // the other fields to need scrolling in a 40-row terminal's details pane below the list.
    let pages: Vec<String> = (1..=10).map(|i| format!("Line of page {i:02}")).collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    std::fs::write(files.join("b-report.pdf"), pdf(&pages)).expect("write");
    let case = ingest(tmp.path(), &files);
    let mut c = common::console(
        &case,
        &triage::identity::login_name().expect("login"),
        120,
        40,
    );
    let screen = |c: &triage::console::Console| common::screen(c, 120, 40);
    let s = screen(&c);
    assert!(
        s.contains("Body") && s.contains("The clinic on the main road was damaged."),
        "{s}"
    );
    assert!(s.contains("IMG_0001.jpg  image/jpeg"), "{s}");
    // The e-mail's attachments are items of their own after it: the PDF is the last item.
    key(&mut c, KeyCode::Char('G'));
    let s = screen(&c);
    assert!(s.contains("Line of page 01"), "{s}");
    key(&mut c, KeyCode::Tab);
    let mut reached = s.contains("Line of page 10");
    for _ in 0..5 {
        if reached {
            break;
        }
        key(&mut c, KeyCode::Char('j'));
        reached = screen(&c).contains("Line of page 10");
    }
    assert!(reached, "the tenth page's text is reached: {}", screen(&c));
}
