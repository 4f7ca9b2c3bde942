//! `triage dups`: exact duplicates (one item received several times) and similar images
//! (re-encoded or resized copies), with fingerprints computed when first needed.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::common;

use std::path::Path;
use std::process::Command;

use triage::demo::{jpeg, PhotoSpec};

fn triage(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .output()
        .expect("run triage")
}

fn photo(seed: u8) -> Vec<u8> {
    jpeg(&PhotoSpec {
        width: 320,
        height: 240,
        seed,
        make: "Canon",
        model: "X",
        software: None,
        taken: "2013-08-21T02:47:13",
        gps: None,
        orientation: 1,
    })
}

fn reencode(bytes: &[u8], scale: f32, quality: u8) -> Vec<u8> {
    let img = image::load_from_memory(bytes).expect("decode");
    let (w, h) = (
        (img.width() as f32 * scale) as u32,
        (img.height() as f32 * scale) as u32,
    );
    let img = img
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(enc).expect("encode");
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(name), bytes).expect("write");
}

#[test]
fn exact_and_similar_groups() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let original = photo(10);
    write(&a, "original.jpg", &original);
    write(&a, "other.jpg", &photo(200));
    write(&b, "resized.jpg", &reencode(&original, 0.6, 80));
    write(&b, "reencoded.jpg", &reencode(&original, 1.0, 45));
    write(&b, "same-bytes.jpg", &original);
    let case_s = case.to_str().expect("utf8");
    assert!(triage(&["init", case_s]).status.success());
    for (src, dir) in [("A", &a), ("B", &b)] {
        let out = triage(&[
            "--case",
            case_s,
            "ingest",
            "--source",
            src,
            "--json",
            dir.to_str().expect("utf8"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Each ingest compared its images with the case: the groups kept are those a full
    // comparison (`dups`) finds.
    let kept = |case: &Path| -> Vec<(i64, i64)> {
        let conn = rusqlite::Connection::open(case.join("case.db")).expect("db");
        let mut stmt = conn
            .prepare("SELECT grp, item_id FROM similar ORDER BY item_id")
            .expect("sql");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query");
        rows.collect::<Result<_, _>>().expect("rows")
    };
    let after_ingests = kept(&case);
    assert_eq!(after_ingests.len(), 3, "{after_ingests:?}");
    let out = triage(&["--case", case_s, "dups", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(kept(&case), after_ingests);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let groups = v["groups"].as_array().expect("groups");
    let refs = |kind: &str| -> Vec<Vec<String>> {
        groups
            .iter()
            .filter(|g| g["kind"] == kind)
            .map(|g| {
                g["refs"]
                    .as_array()
                    .expect("refs")
                    .iter()
                    .map(|r| r.as_str().expect("ref").to_string())
                    .collect()
            })
            .collect()
    };
    // original.jpg is T-000001 (walk order), other.jpg T-000002, then B's files.
    assert_eq!(refs("exact"), vec![vec!["T-000001".to_string()]]);
    let similar = refs("similar");
    assert_eq!(similar.len(), 1, "{v}");
    assert!(similar[0].contains(&"T-000001".to_string()), "{v}");
    assert_eq!(similar[0].len(), 3, "original, resized and re-encoded: {v}");
    assert!(
        !similar[0].contains(&"T-000002".to_string()),
        "a different photo joined: {v}"
    );
}

// ---------------------------------------------------------------------------------------------
// Variants of a rotated photo, an exact duplicate, and hostile images.

fn run_in(case: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .env_remove("TRIAGE_CASE")
        .arg("--case")
        .arg(case)
        .args(args)
        .output()
        .expect("run triage")
}

fn init(case: &Path) {
    ok(&Command::new(env!("CARGO_BIN_EXE_triage"))
        .env_remove("TRIAGE_CASE")
        .arg("init")
        .arg(case)
        .output()
        .expect("init"));
}

fn ok(out: &std::process::Output) -> &std::process::Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn encode(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(enc).expect("encode");
    out
}

/// A picture unlike the demo photos: dark blocks on a bright ground, and stripes.
fn different_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(480, 640, |x, y| {
        let block = ((x / 60) + (y / 80)) % 2 == 0;
        let stripe = (y / 16) % 3 == 0;
        let v = match (block, stripe) {
            (true, _) => 40,
            (false, true) => 230,
            (false, false) => 170,
        };
        image::Rgb([v, v.saturating_sub(20), (x % 200) as u8])
    });
    encode(&img, 85)
}

/// Each received file's item reference, by file name (from `triage list --json`).
fn refs_by_name(case: &Path) -> std::collections::BTreeMap<String, String> {
    let out = run_in(case, &["list", "--json"]);
    ok(&out);
    let mut map = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        for s in v["sources"].as_array().expect("sources") {
            let path = s["path"].as_str().expect("path");
            let name = Path::new(path).file_name().expect("name").to_string_lossy();
            map.insert(
                name.into_owned(),
                v["ref"].as_str().expect("ref").to_string(),
            );
        }
    }
    map
}

fn warnings(case: &Path, reference: &str) -> Vec<String> {
    let out = run_in(case, &["show", "--json", reference]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("show json");
    v["metadata"]["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|s| s.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn has_fingerprint(case: &Path, reference: &str) -> bool {
    let id: i64 = reference.trim_start_matches("T-").parse().expect("ref");
    let db = rusqlite::Connection::open(case.join("case.db")).expect("open the case database");
    db.query_row(
        "SELECT count(*) FROM fingerprints WHERE item_id = ?1",
        [id],
        |r| r.get::<_, i64>(0),
    )
    .expect("query")
        == 1
}

/// The largest resident set of any child process waited for so far, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    usage.ru_maxrss as u64 * 1024 // kilobytes on Linux
}

/// The groups of `dups --json`, checking the exact shape of the document.
fn groups(out: &std::process::Output) -> Vec<(String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("dups json");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["groups"], "exactly one key: {v}");
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let o = g.as_object().expect("group object");
            assert_eq!(o.len(), 2, "kind and refs only: {g}");
            let refs = g["refs"]
                .as_array()
                .expect("refs")
                .iter()
                .map(|r| r.as_str().expect("ref").to_string())
                .collect();
            (g["kind"].as_str().expect("kind").to_string(), refs)
        })
        .collect()
}

#[test]
fn rotated_photo_and_its_reencoded_resized_and_cropped_copies_are_one_group() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // The original carries Orientation 6 (turn 90° clockwise to display); its copies, as a
    // messaging app makes them, have the turn applied to their pixels and no EXIF.
    let original = jpeg(&PhotoSpec {
        width: 640,
        height: 480,
        seed: 3,
        make: "Apple",
        model: "iPhone 7",
        software: None,
        taken: "2016-06-30T14:27:40",
        gps: Some((36.2021, 37.1343, 390.0)),
        orientation: 6,
    });
    let stored = image::load_from_memory(&original)
        .expect("decode")
        .to_rgb8();
    let shown = image::imageops::rotate90(&stored);
    let (w, h) = shown.dimensions();
    let resized = image::imageops::resize(
        &shown,
        (w as f32 * 0.6).round() as u32,
        (h as f32 * 0.6).round() as u32,
        image::imageops::FilterType::Lanczos3,
    );
    let (dx, dy) = (w / 20, h / 20);
    let cropped = image::imageops::crop_imm(&shown, dx, dy, w - 2 * dx, h - 2 * dy).to_image();
    let different = different_photo();
    write(&a, "IMG_0001.JPG", &original);
    write(&a, "IMG-20160701-WA0001.jpg", &encode(&shown, 40));
    write(&a, "IMG-20160701-WA0002.jpg", &encode(&resized, 80));
    write(&a, "IMG_0001_crop.jpg", &encode(&cropped, 80));
    write(&a, "other.jpg", &different);
    // The same bytes from a second provider.
    write(&b, "other (1).jpg", &different);

    init(&case);
    for (source, dir) in [("civil-defence", &a), ("medical-network", &b)] {
        ok(&run_in(
            &case,
            &[
                "ingest",
                "--source",
                source,
                "--json",
                dir.to_str().expect("utf8"),
            ],
        ));
    }
    let refs = refs_by_name(&case);
    let r = |name: &str| refs[name].clone();

    let out = run_in(&case, &["dups", "--json"]);
    ok(&out);
    let groups = groups(&out);
    let of_kind = |kind: &str| -> Vec<Vec<String>> {
        groups
            .iter()
            .filter(|g| g.0 == kind)
            .map(|g| g.1.clone())
            .collect()
    };
    assert_eq!(of_kind("exact"), vec![vec![r("other.jpg")]], "{groups:?}");
    let mut want = vec![
        r("IMG_0001.JPG"),
        r("IMG-20160701-WA0001.jpg"),
        r("IMG-20160701-WA0002.jpg"),
        r("IMG_0001_crop.jpg"),
    ];
    want.sort();
    assert_eq!(of_kind("similar"), vec![want.clone()], "{groups:?}");
    assert_eq!(groups.len(), 2, "{groups:?}");

    // Computed once and kept: every image has its fingerprint now, and a second run agrees
    // without computing anything.
    for (name, reference) in &refs {
        assert!(has_fingerprint(&case, reference), "{name}");
    }
    let again = run_in(&case, &["dups", "--json"]);
    assert_eq!(ok(&again).stdout, out.stdout);
    assert!(
        again.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Text: one group per line.
    let text = run_in(&case, &["dups"]);
    let text = String::from_utf8_lossy(&ok(&text).stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("exact ") && lines[0].contains(&r("other.jpg")),
        "{text}"
    );
    assert!(
        lines[1].starts_with("similar ") && lines[1].ends_with(&want.join(" ")),
        "{text}"
    );
}

/// A PNG whose header declares `w` × `h` pixels, followed by a few bytes of image data.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for b in bytes {
            c ^= *b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let mut covered = kind.to_vec();
        covered.extend_from_slice(data);
        png.extend_from_slice(&crc32(&covered).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &ihdr);
    // zlib of a few zero bytes: far too little for the declared size.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn plain_photo() -> Vec<u8> {
    jpeg(&PhotoSpec {
        width: 640,
        height: 480,
        seed: 9,
        make: "Canon",
        model: "Canon EOS 600D",
        software: None,
        taken: "2015-01-23T09:36:47",
        gps: None,
        orientation: 1,
    })
}

#[test]
fn hostile_images_are_taken_in_with_a_warning_and_no_fingerprint() {
    // Its peak memory is that of every child this process waited for: run it alone.
    if !crate::common::alone("dups::hostile_images_are_taken_in_with_a_warning_and_no_fingerprint")
    {
        return;
    }
    // The CRC helper is right: the IHDR CRC of a 1×1 8-bit RGB PNG is well known.
    assert_eq!(&png_declaring(1, 1)[29..33], &[0x90, 0x77, 0x53, 0xde]);

    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let dir = tmp.path().join("in");
    let photo = plain_photo();
    write(&dir, "huge.png", &png_declaring(50_000, 50_000));
    write(&dir, "truncated.jpg", &photo[..photo.len() / 2]);
    // An EXIF segment whose length runs past the end of the file.
    let mut overrun = photo.clone();
    let app1 = overrun
        .windows(2)
        .position(|w| w == [0xff, 0xe1])
        .expect("APP1");
    overrun[app1 + 2..app1 + 4].copy_from_slice(&0xfff0u16.to_be_bytes());
    overrun.truncate(app1 + 4000);
    write(&dir, "exif-overrun.jpg", &overrun);
    // EXIF whose first IFD lies far outside the block; the picture itself is intact.
    let mut garbled = photo.clone();
    let tiff = garbled
        .windows(6)
        .position(|w| w == b"Exif\0\0")
        .expect("Exif")
        + 6;
    garbled[tiff + 4..tiff + 8].copy_from_slice(&[0x7f, 0xff, 0xff, 0xf0]);
    write(&dir, "exif-garbled.jpg", &garbled);

    init(&case);
    let out = run_in(
        &case,
        &[
            "ingest",
            "--source",
            "s",
            "--json",
            dir.to_str().expect("utf8"),
        ],
    );
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(summary["new"], 4, "{summary}");
    let refs = refs_by_name(&case);
    for (name, want) in [
        ("huge.png", "fingerprint: image too large (50000×50000"),
        ("truncated.jpg", "fingerprint: "),
        ("exif-overrun.jpg", "fingerprint: "),
    ] {
        let w = warnings(&case, &refs[name]);
        assert!(w.iter().any(|w| w.starts_with(want)), "{name}: {w:?}");
        assert!(
            !has_fingerprint(&case, &refs[name]),
            "{name} has a fingerprint"
        );
    }
    // Damaged EXIF is reported; the picture is still fingerprinted (as stored: its
    // orientation could not be read).
    let w = warnings(&case, &refs["exif-garbled.jpg"]);
    assert!(w.iter().any(|w| w.contains("EXIF")), "{w:?}");
    assert!(has_fingerprint(&case, &refs["exif-garbled.jpg"]));

    // `dups` does not try them again, and no child process needed much memory.
    let out = run_in(&case, &["dups", "--json"]);
    ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = children_peak_rss();
    assert!(
        peak < 200 << 20,
        "a child process peaked at {} MB",
        peak >> 20
    );
}

#[test]
fn dups_fingerprints_what_the_ingest_did_not_and_names_what_it_cannot() {
    // Its peak memory is that of every child this process waited for: run it alone.
    if !crate::common::alone(
        "dups::dups_fingerprints_what_the_ingest_did_not_and_names_what_it_cannot",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let dir = tmp.path().join("in");
    write(&dir, "huge.png", &png_declaring(50_000, 50_000));
    write(&dir, "a.jpg", &plain_photo());
    write(&dir, "b.jpg", &different_photo());
    init(&case);
    ok(&run_in(
        &case,
        &[
            "ingest",
            "--no-fingerprints",
            "--source",
            "s",
            dir.to_str().expect("utf8"),
        ],
    ));
    let refs = refs_by_name(&case);
    assert!(!has_fingerprint(&case, &refs["a.jpg"]));
    let out = run_in(&case, &["dups", "--json"]);
    ok(&out);
    assert_eq!(groups(&out), vec![]);
    assert!(has_fingerprint(&case, &refs["a.jpg"]) && has_fingerprint(&case, &refs["b.jpg"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: fingerprint: image too large",
            refs["huge.png"]
        )),
        "{err}"
    );
    let peak = children_peak_rss();
    assert!(
        peak < 200 << 20,
        "a child process peaked at {} MB",
        peak >> 20
    );
}

// ---------------------------------------------------------------------------------------------
// The console: `s` shows the images grouped with the current one, `V` marks them, and one
// decision then applies to the whole group in one change.

#[test]
fn similar_images_are_grouped_at_ingest_and_tagged_together_from_the_console() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let a = tmp.path().join("a");
    let original = photo(10);
    write(&a, "1-original.jpg", &original);
    write(&a, "2-other.jpg", &photo(200));
    write(&a, "3-resized.jpg", &reencode(&original, 0.6, 80));
    write(&a, "4-reencoded.jpg", &reencode(&original, 1.0, 45));
    init(&case);
    ok(&run_in(
        &case,
        &["ingest", "--source", "A", a.to_str().expect("utf8")],
    ));
    // Grouped at ingest (no `triage dups` run), thumbnails kept beside the fingerprints.
    let store = triage::store::Case::open(&case).expect("open");
    let kept: i64 = common::sql(&store)
        .query_row(
            "SELECT count(*) FROM fingerprints WHERE length(thumb) = 1032",
            [],
            |r| r.get(0),
        )
        .expect("thumbs");
    assert_eq!(kept, 4);
    assert_eq!(
        triage::store::dups::similar_to(&store, 1).expect("similar"),
        vec![3, 4]
    );

    // The console below acts as "rev", a reviewer of the case.
    let mut store = store;
    common::add_member(&mut store, "rev", triage::store::users::Role::Reviewer);
    let mut c = triage::console::Console::new(
        store,
        triage::taxonomy::Taxonomy::default_set(),
        "rev".into(),
        triage::console::keymap::Keymap::defaults(),
        120,
        40,
    );
    let press = |c: &mut triage::console::Console, ch: char| {
        c.key(KeyEvent::from(KeyCode::Char(ch)));
        c.settle();
    };
    press(&mut c, 's');
    let s = common::screen(&c, 120, 40);
    assert!(s.contains("similar to T-000001"), "{s}");
    assert!(
        s.contains("3-resized.jpg") && s.contains("4-reencoded.jpg"),
        "{s}"
    );
    assert!(!s.contains("2-other.jpg"), "{s}");
    press(&mut c, 'V');
    assert!(common::screen(&c, 120, 40).contains("3 marked"));
    press(&mut c, 'x');
    let conn = &common::sql(&c.runtime.case);
    let triaged: Vec<i64> = conn
        .prepare("SELECT id FROM items WHERE status = 'triaged' ORDER BY id")
        .expect("sql")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(triaged, vec![1, 3, 4], "the group, and nothing else");
    let changes: i64 = conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("changes");
    assert_eq!(changes, 1, "one change for the group");
    // `s` again goes back to the view it came from.
    press(&mut c, 's');
    assert!(common::screen(&c, 120, 40).contains("2-other.jpg"));
}

#[test]
fn the_demo_shows_a_photo_passed_on_by_a_messaging_app_as_similar() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = common::demo_case(tmp.path());
    let out = run_in(&case, &["dups", "--json"]);
    ok(&out);
    let refs = |v: &[&str]| v.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    assert_eq!(
        groups(&out),
        vec![
            ("exact".to_string(), refs(&["T-000007"])),
            ("similar".to_string(), refs(&["T-000007", "T-000038"])),
        ],
        "the Douma photo from two providers, and its resized, recompressed copy without EXIF"
    );
}
