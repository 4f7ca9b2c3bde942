//! Families: archives (ZIP, TAR plain and compressed, nested), compressed files and e-mails
//! with attachments expand into members at ingest, each an item with its hash, its parent and
//! its inner path; bombs and hostile members are recorded as problems on the container, and
//! nothing is written outside the case. Every fixture is built here.
// The tamper test opens case.db with rusqlite itself, as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{output_text, triage};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A new case in `dir/case`.
pub(crate) fn init(dir: &Path) -> PathBuf {
    let case = dir.join("case");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .env_remove("TRIAGE_CASE")
        .arg("init")
        .arg(&case)
        .output()
        .expect("init");
    assert!(out.status.success(), "init: {}", output_text(&out));
    case
}

/// `triage ingest --json` of `paths` with `extra` flags: the summary. The exit status is 1
/// exactly when problems were recorded.
fn ingest(case: &Path, extra: &[&str], path: &Path) -> Value {
    let mut args = vec!["ingest", "--source", "provider", "--json"];
    args.extend_from_slice(extra);
    let p = path.to_str().expect("utf-8 path");
    args.push(p);
    let out = triage(case, &args);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("ingest: {}", output_text(&out)));
    let problems = summary["problems"].as_array().map_or(0, Vec::len);
    assert_eq!(
        out.status.code(),
        Some(i32::from(problems > 0)),
        "{summary:#}"
    );
    summary
}

fn list(case: &Path) -> Vec<Value> {
    let out = triage(case, &["list", "--json"]);
    assert!(out.status.success(), "list: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn by_inner<'a>(items: &'a [Value], inner: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["inner_path"] == inner)
        .unwrap_or_else(|| panic!("no member {inner} in {items:#?}"))
}

fn reasons(summary: &Value) -> String {
    summary["problems"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| format!("{}: {}\n", p["path"], p["reason"]))
                .collect()
        })
        .unwrap_or_default()
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("append");
    }
    b.into_inner().expect("tar")
}

const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 not really a photo, but bytes to hash";

#[test]
fn archives_nested_and_compressed_become_families_with_hashes_and_inner_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let deep = b"deep inside two archives".as_slice();
    let nested = zip_of(&[("deep/x.txt", deep)], zip::CompressionMethod::Stored);
    let notes = b"notes of the upload\n".repeat(50);
    let upload = zip_of(
        &[
            ("DCIM/IMG_0001.jpg", PHOTO),
            ("notes.txt", &notes),
            ("nested.zip", &nested),
        ],
        zip::CompressionMethod::Deflated,
    );
    std::fs::write(input.join("upload.zip"), &upload).expect("write");
    let report = b"report body\n".as_slice();
    let tar = tar_of(&[("reports/r1.txt", report)]);
    std::fs::write(input.join("plain.tar"), &tar).expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_of(&[("gz/r.txt", b"gz member")]))
        .expect("gz");
    std::fs::write(input.join("r.tar.gz"), gz.finish().expect("gz")).expect("write");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&tar_of(&[("bz/r.txt", b"bz2 member")]))
        .expect("bz");
    std::fs::write(input.join("r.tar.bz2"), bz.finish().expect("bz")).expect("write");
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).expect("xz");
    xz.write_all(&tar_of(&[("xz/r.txt", b"xz member")]))
        .expect("xz");
    std::fs::write(input.join("r.tar.xz"), xz.finish().expect("xz")).expect("write");
    let zst =
        zstd::encode_all(tar_of(&[("zst/r.txt", b"zst member")]).as_slice(), 1).expect("zstd");
    std::fs::write(input.join("r.tar.zst"), zst).expect("write");
    let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    one.write_all(b"a single compressed log").expect("gz");
    std::fs::write(input.join("server.log.gz"), one.finish().expect("gz")).expect("write");

    let summary = ingest(&case, &[], &input);
    assert_eq!(summary["files"], 7, "{summary:#}");
    assert_eq!(summary["members"], 10, "{summary:#}");
    assert_eq!(summary["problems"], serde_json::json!([]), "{summary:#}");
    let items = list(&case);
    let upload_ref = items
        .iter()
        .find(|i| i["name"] == "upload.zip")
        .expect("the container is an item")["ref"]
        .clone();
    assert_eq!(
        items.iter().find(|i| i["ref"] == upload_ref).unwrap()["children"],
        3
    );
    let cases = [
        ("DCIM/IMG_0001.jpg", PHOTO),
        ("notes.txt", &notes[..]),
        ("nested.zip", &nested[..]),
        ("deep/x.txt", deep),
        ("reports/r1.txt", report),
        ("gz/r.txt", b"gz member"),
        ("bz/r.txt", b"bz2 member"),
        ("xz/r.txt", b"xz member"),
        ("zst/r.txt", b"zst member"),
        ("server.log", b"a single compressed log"),
    ];
    for (inner, bytes) in cases {
        let m = by_inner(&items, inner);
        assert_eq!(m["sha256"], sha(bytes), "{inner}");
        assert!(m["parent"].is_string(), "{inner} has a parent");
    }
    let photo = by_inner(&items, "DCIM/IMG_0001.jpg");
    assert_eq!(photo["parent"], upload_ref);
    assert_eq!(
        photo["member"],
        format!("{}/1", upload_ref.as_str().unwrap())
    );
    let path = photo["sources"][0]["path"].as_str().expect("path");
    assert!(path.ends_with("in/upload.zip!/DCIM/IMG_0001.jpg"), "{path}");
    // The nested member's parent is the nested archive, itself a member of the upload.
    let nested_item = by_inner(&items, "nested.zip");
    assert_eq!(by_inner(&items, "deep/x.txt")["parent"], nested_item["ref"]);
    let tar_member = by_inner(&items, "reports/r1.txt");
    assert_eq!(
        tar_member["sources"][0]["mtime"],
        "2023-11-14T22:13:20.000000Z"
    );

    // Addressed as a member, by number or by path.
    for key in [
        format!("{}/1", upload_ref.as_str().unwrap()),
        "upload.zip!/DCIM/IMG_0001.jpg".to_string(),
    ] {
        let out = triage(&case, &["show", &key, "--json"]);
        assert!(out.status.success(), "show {key}: {}", output_text(&out));
        let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(shown["ref"], photo["ref"], "{key}");
        assert_eq!(shown["inner_path"], "DCIM/IMG_0001.jpg");
    }
    let out = triage(&case, &["show", "upload.zip!/DCIM/IMG_0001.jpg"]);
    assert!(
        output_text(&out).contains(&format!("member   1 of {}", upload_ref.as_str().unwrap())),
        "{}",
        output_text(&out)
    );
    let filtered = |f: &str| -> Vec<String> {
        let out = triage(&case, &["list", "--json", "--filter", f]);
        assert!(out.status.success(), "{f}: {}", output_text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .into()
            })
            .collect()
    };
    let r = upload_ref.as_str().unwrap();
    assert_eq!(
        filtered(&format!("in:{r}")),
        ["IMG_0001.jpg", "notes.txt", "nested.zip", "x.txt"]
    );
    // Containers have their own type, members theirs.
    assert_eq!(
        filtered("type:archive"),
        [
            "plain.tar",
            "r.tar.bz2",
            "r.tar.gz",
            "r.tar.xz",
            "r.tar.zst",
            "server.log.gz",
            "upload.zip",
            "nested.zip"
        ]
    );
    assert_eq!(by_inner(&items, "notes.txt")["type"], "text");
    let x = by_inner(&items, "deep/x.txt")["ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        filtered(&format!("family:{x}")),
        [
            "upload.zip",
            "IMG_0001.jpg",
            "notes.txt",
            "nested.zip",
            "x.txt"
        ]
    );

    // A rerun adds nothing; verify proves members like files.
    let again = ingest(&case, &[], &input);
    assert_eq!(again["new"], 0, "{again:#}");
    let out = triage(&case, &["verify"]);
    assert!(out.status.success(), "verify: {}", output_text(&out));
}

#[test]
fn email_attachments_and_attached_emails_are_members() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let inner_doc = b"the forwarded report";
    let forwarded = format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: report\r\n\
         Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <in@x>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\n\
         Content-Type: text/plain\r\n\r\nsee attached\r\n--in\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"report.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--in--\r\n",
        b64(inner_doc)
    );
    let outer = format!(
        "From: c@example.org\r\nTo: d@example.org\r\nSubject: photos\r\n\
         Date: Tue, 2 Jan 2024 10:00:00 +0000\r\nMessage-ID: <out@x>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n--out\r\n\
         Content-Type: text/plain\r\n\r\nphotos and the report\r\n--out\r\n\
         Content-Type: image/jpeg\r\n\
         Content-Disposition: attachment; filename=\"IMG_0002.jpg\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--out\r\n\
         Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n{forwarded}\r\n\
         --out--\r\n",
        b64(PHOTO)
    );
    std::fs::write(input.join("mail.eml"), &outer).expect("write");
    let summary = ingest(&case, &[], &input);
    assert_eq!(summary["members"], 3, "{summary:#}");
    let items = list(&case);
    let mail = items
        .iter()
        .find(|i| i["name"] == "mail.eml")
        .expect("mail");
    let photo = by_inner(&items, "IMG_0002.jpg");
    assert_eq!(photo["sha256"], sha(PHOTO));
    assert_eq!(photo["parent"], mail["ref"]);
    let attached = by_inner(&items, "attachment-2.eml");
    assert_eq!(attached["type"], "email");
    assert_eq!(attached["parent"], mail["ref"]);
    let doc = by_inner(&items, "report.bin");
    assert_eq!(doc["sha256"], sha(inner_doc));
    assert_eq!(doc["parent"], attached["ref"]);
}

/// Flag every entry of a stored ZIP as encrypted (bit 0 of the general purpose flags, in the
/// local and the central headers), as a ZipCrypto archive is.
fn mark_encrypted(zip: &mut [u8]) {
    let mut i = 0;
    while i + 4 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => zip[i + 6] |= 1,
            b"PK\x01\x02" => zip[i + 8] |= 1,
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn bombs_and_hostile_members_are_recorded_on_the_container_and_nothing_leaves_the_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    // Ratio: 40 MiB of zeros deflate to some 40 KB.
    let zeros = vec![0u8; 40 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)], zip::CompressionMethod::Deflated);
    assert!(bomb.len() < 200 << 10);
    std::fs::write(input.join("bomb.zip"), &bomb).expect("write");
    // Count: twelve members where ten are allowed.
    let many: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| (format!("f{i}.txt"), format!("member {i}").into_bytes()))
        .collect();
    let many_refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    std::fs::write(
        input.join("many.zip"),
        zip_of(&many_refs, zip::CompressionMethod::Stored),
    )
    .expect("write");
    // Depth: four archives one in another, where two levels are expanded.
    let mut russian = zip_of(&[("core.txt", b"the core")], zip::CompressionMethod::Stored);
    for level in 0..3 {
        let name = format!("level{level}.zip");
        russian = zip_of(&[(&name, &russian)], zip::CompressionMethod::Stored);
    }
    std::fs::write(input.join("russian.zip"), &russian).expect("write");
    // Names that climb out, absolute names, a link, an encrypted member, a device.
    let hostile = zip_of(
        &[
            ("../../escaped.txt", b"climbing"),
            ("/etc/absolute.txt", b"absolute"),
            ("same.txt", b"first"),
        ],
        zip::CompressionMethod::Stored,
    );
    std::fs::write(input.join("hostile.zip"), &hostile).expect("write");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_symlink("link", "/etc/passwd", opts).expect("symlink");
    w.start_file("ok.txt", opts).expect("start");
    w.write_all(b"fine").expect("write");
    std::fs::write(input.join("link.zip"), w.finish().unwrap().into_inner()).expect("write");
    let mut locked = zip_of(&[("secret.txt", b"secret")], zip::CompressionMethod::Stored);
    mark_encrypted(&mut locked);
    std::fs::write(input.join("locked.zip"), &locked).expect("write");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Char);
    h.set_size(0);
    h.set_cksum();
    b.append_data(&mut h, "dev/null-ish", std::io::empty())
        .expect("append");
    let mut h = tar::Header::new_ustar();
    h.set_size(4);
    h.set_cksum();
    b.append_data(&mut h, "dup.txt", b"one!".as_slice())
        .expect("append");
    let mut h = tar::Header::new_ustar();
    h.set_size(4);
    h.set_cksum();
    b.append_data(&mut h, "dup.txt", b"two!".as_slice())
        .expect("append");
    std::fs::write(input.join("dev.tar"), b.into_inner().unwrap()).expect("write");

    let summary = ingest(&case, &["--max-members", "10", "--max-depth", "2"], &input);
    let problems = reasons(&summary);
    for (container, reason) in [
        ("bomb.zip", "expands more than 100 times its size"),
        ("many.zip", "more than 10 members: the rest not expanded"),
        (
            "russian.zip!/level2.zip!/level1.zip",
            "nested more than 2 containers deep",
        ),
        (
            "hostile.zip",
            "../../escaped.txt: name climbs out of the archive",
        ),
        ("hostile.zip", "/etc/absolute.txt: absolute name"),
        ("link.zip", "member link: symbolic link, not expanded"),
        ("locked.zip", "member secret.txt: encrypted, not expanded"),
        (
            "dev.tar",
            "member dev/null-ish: device or pipe, not expanded",
        ),
        ("dev.tar", "member dup.txt: duplicate name, each copy kept"),
    ] {
        assert!(
            problems
                .lines()
                .any(|l| l.contains(&format!("{container}\"")) && l.contains(reason)),
            "{container}: {reason} not in\n{problems}"
        );
    }
    let items = list(&case);
    // The bomb's member was stopped and not kept; the others were kept inside the case.
    assert!(items.iter().all(|i| i["name"] != "zeros.bin"));
    assert_eq!(
        by_inner(&items, "../../escaped.txt")["sha256"],
        sha(b"climbing")
    );
    assert_eq!(by_inner(&items, "ok.txt")["sha256"], sha(b"fine"));
    assert_eq!(
        items.iter().filter(|i| i["name"] == "dup.txt").count(),
        2,
        "both copies of a duplicate name"
    );
    // Nothing was written outside the case: the folder holds the input and the case only,
    // and the case's temporary area is empty again.
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["case", "in"]);
    assert!(!Path::new("/etc/absolute.txt").exists());
    let tmp: Vec<_> = std::fs::read_dir(case.join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "left in tmp: {tmp:?}");
    let out = triage(&case, &["verify"]);
    assert!(out.status.success(), "verify: {}", output_text(&out));
}

#[test]
fn verify_notices_a_member_moved_to_another_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    std::fs::write(
        input.join("a.zip"),
        zip_of(&[("x.txt", b"x")], zip::CompressionMethod::Stored),
    )
    .expect("write");
    std::fs::write(
        input.join("b.zip"),
        zip_of(&[("y.txt", b"y")], zip::CompressionMethod::Stored),
    )
    .expect("write");
    ingest(&case, &[], &input);
    let out = triage(&case, &["verify"]);
    assert!(out.status.success(), "verify: {}", output_text(&out));
    let conn = rusqlite::Connection::open(case.join(triage::store::DB_FILE)).expect("db");
    conn.execute(
        "UPDATE provenance SET parent_id = (SELECT id FROM items WHERE name = 'b.zip')
         WHERE item_id = (SELECT id FROM items WHERE name = 'x.txt')",
        [],
    )
    .expect("tamper");
    drop(conn);
    let out = triage(&case, &["verify"]);
    assert!(!out.status.success());
    let text = output_text(&out);
    assert!(text.contains("in the case, not in the log"), "{text}");
    assert!(text.contains("the log has it as member"), "{text}");
}

#[test]
fn export_with_family_brings_the_containers_and_all_their_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let nested = zip_of(
        &[("deep/needle.txt", b"needle")],
        zip::CompressionMethod::Stored,
    );
    std::fs::write(
        input.join("outer.zip"),
        zip_of(
            &[("hay.txt", b"hay"), ("nested.zip", &nested)],
            zip::CompressionMethod::Stored,
        ),
    )
    .expect("write");
    std::fs::write(input.join("alone.txt"), b"not in any family").expect("write");
    ingest(&case, &[], &input);
    let bag = dir.path().join("bag");
    let out = triage(
        &case,
        &[
            "export",
            "--filter",
            "needle",
            "--with-family",
            "--json",
            "--out",
            bag.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "export: {}", output_text(&out));
    let mut names: Vec<String> = std::fs::read_dir(bag.join("data/originals"))
        .expect("originals")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        4,
        "outer.zip, hay, nested.zip, needle: {names:?}"
    );
    let alone = dir.path().join("alone");
    let out = triage(
        &case,
        &[
            "export",
            "--filter",
            "needle",
            "--out",
            alone.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "export: {}", output_text(&out));
    let n = std::fs::read_dir(alone.join("data/originals"))
        .unwrap()
        .count();
    assert_eq!(n, 1, "without --with-family, the member alone");
}

#[test]
fn seven_zip_archives_expand_like_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let mut w = sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new())).expect("7z");
    // A small dictionary: the default encoder takes some 100 MB in the test process, which
    // other tests' children would count as theirs (a child's peak includes its parent's
    // resident set when it was started).
    w.set_content_methods(vec![
        sevenz_rust2::encoder_options::Lzma2Options::from_level(1).into(),
    ]);
    let inner = zip_of(
        &[("x.txt", b"inside a zip inside a 7z")],
        zip::CompressionMethod::Stored,
    );
    let report = b"a report, LZMA2-compressed\n".repeat(100);
    for (name, data) in [
        ("DCIM/IMG_0001.jpg", PHOTO),
        ("reports/r.txt", &report[..]),
        ("inner.zip", &inner[..]),
    ] {
        w.push_archive_entry(
            sevenz_rust2::ArchiveEntry::new_file(name),
            Some(std::io::Cursor::new(data)),
        )
        .expect("entry");
    }
    std::fs::write(
        input.join("upload.7z"),
        w.finish().expect("7z").into_inner(),
    )
    .expect("write");

    let summary = ingest(&case, &[], &input);
    assert_eq!(summary["members"], 4, "{summary:#}");
    let items = list(&case);
    let archive = items.iter().find(|i| i["name"] == "upload.7z").expect("7z");
    assert_eq!(archive["type"], "archive");
    assert_eq!(archive["children"], 3);
    for (inner_path, bytes) in [
        ("DCIM/IMG_0001.jpg", PHOTO),
        ("reports/r.txt", &report[..]),
        ("x.txt", b"inside a zip inside a 7z".as_slice()),
    ] {
        assert_eq!(
            by_inner(&items, inner_path)["sha256"],
            sha(bytes),
            "{inner_path}"
        );
    }
    assert_eq!(
        by_inner(&items, "DCIM/IMG_0001.jpg")["parent"],
        archive["ref"]
    );

    // Limits hold as for ZIP: two members where one is allowed.
    let case2 = init(&dir.path().join("second"));
    let summary = ingest(&case2, &["--max-members", "1"], &input);
    assert!(
        reasons(&summary).contains("more than 1 members"),
        "{}",
        reasons(&summary)
    );
}

#[test]
fn duplicate_names_in_a_zip_are_named_and_what_is_reachable_is_expanded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    // The zip writer refuses a name twice: write two names, then make them one.
    let mut bytes = zip_of(
        &[
            ("DCIM/a.jpg", b"first copy"),
            ("DCIM/b.jpg", b"second copy"),
            ("other.txt", b"unique"),
        ],
        zip::CompressionMethod::Stored,
    );
    for i in 0..bytes.len() - 10 {
        if &bytes[i..i + 10] == b"DCIM/b.jpg" {
            bytes[i + 5] = b'a';
        }
    }
    std::fs::write(input.join("dups.zip"), &bytes).expect("write");
    let summary = ingest(&case, &[], &input);
    assert!(
        reasons(&summary).contains("member DCIM/a.jpg: duplicate name (2 entries), one expanded"),
        "{}",
        reasons(&summary)
    );
    let items = list(&case);
    let zip = items.iter().find(|i| i["name"] == "dups.zip").expect("zip");
    assert_eq!(by_inner(&items, "other.txt")["parent"], zip["ref"]);
    assert!(items.iter().any(|i| i["inner_path"] == "DCIM/a.jpg"));
}

/// The largest resident set of any child process (and theirs) waited for so far, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    usage.ru_maxrss as u64 * 1024 // kilobytes on Linux
}

/// Expanding many members, a bomb and a large member keeps the ingest and its workers small:
/// members are streamed to the case, described a few at a time, and batched. The peak is
/// that of this test's children only, so the test runs itself alone in a child process of
/// the test binary (other tests' processes would count).
#[test]
fn expansion_memory_stays_bounded() {
    if !crate::common::alone("families::expansion_memory_stays_bounded") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    // 5,000 small members, one 96 MiB member (not compressible), and a bomb, written in
    // pieces: a child's peak counts its parent's resident set when it was started.
    let opts = |m| zip::write::SimpleFileOptions::default().compression_method(m);
    let file = std::fs::File::create(input.join("many.zip")).expect("create");
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for i in 0..5000 {
        w.start_file(
            format!("m/{i:05}.txt"),
            opts(zip::CompressionMethod::Stored),
        )
        .expect("start");
        w.write_all(format!("member {i}\n").as_bytes())
            .expect("write");
    }
    w.start_file("big.bin", opts(zip::CompressionMethod::Stored))
        .expect("start");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut piece = vec![0u8; 1 << 20];
    for _ in 0..96 {
        for chunk in piece.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        w.write_all(&piece).expect("write");
    }
    w.finish().expect("finish");
    let file = std::fs::File::create(input.join("bomb.zip")).expect("create");
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(file));
    w.start_file("zeros.bin", opts(zip::CompressionMethod::Deflated))
        .expect("start");
    piece.fill(0);
    for _ in 0..256 {
        w.write_all(&piece).expect("write");
    }
    w.finish().expect("finish");
    drop(piece);
    let before = children_peak_rss();
    let summary = ingest(&case, &[], &input);
    let peak = children_peak_rss();
    assert_eq!(summary["members"], 5001, "{}", reasons(&summary));
    assert!(
        reasons(&summary).contains("a compression bomb"),
        "{}",
        reasons(&summary)
    );
    eprintln!(
        "peak RSS of the ingest and its workers: {} MB (before: {} MB)",
        peak >> 20,
        before >> 20
    );
    // Some 27 MB when written (the ingest of a single small file: some 20 MB).
    assert!(peak < 64 << 20, "the ingest peaked at {} MB", peak >> 20);
}

/// Members are described by every thread but recorded in the container's order: two cases
/// given the same archives give each member the same reference and place.
#[test]
fn members_described_in_parallel_keep_the_containers_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    for z in 0..3 {
        let entries: Vec<(String, Vec<u8>)> = (0..150)
            .map(|i| {
                // Sizes vary, so that some members take longer than others.
                let body = format!("archive {z} member {i}\n").repeat(1 + (i * 37) % 200);
                (format!("d{}/f{i:03}.txt", i % 7), body.into_bytes())
            })
            .collect();
        let refs: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        std::fs::write(
            input.join(format!("a{z}.zip")),
            zip_of(&refs, zip::CompressionMethod::Deflated),
        )
        .expect("write");
    }
    let placed = |case: &Path| -> Vec<(String, String, String)> {
        ingest(case, &[], &input);
        list(case)
            .iter()
            .map(|i| {
                (
                    i["ref"].as_str().unwrap_or_default().to_string(),
                    i["member"].as_str().unwrap_or_default().to_string(),
                    i["inner_path"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let first = placed(&init(&dir.path().join("one")));
    let second = placed(&init(&dir.path().join("two")));
    assert_eq!(first.len(), 3 + 450);
    assert_eq!(first, second);
    // Within a container, members follow its order: place n is the n-th entry.
    let a0: Vec<&(String, String, String)> = first
        .iter()
        .filter(|(_, m, _)| m.starts_with("T-000001/"))
        .collect();
    for (n, (_, member, inner)) in a0.iter().enumerate() {
        assert_eq!(*member, format!("T-000001/{}", n + 1));
        assert_eq!(*inner, format!("d{}/f{n:03}.txt", n % 7));
    }
}
