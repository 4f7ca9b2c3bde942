//! Hostile files among good ones: parsers run in worker processes under limits, so a file
//! that crashes, exhausts or hangs its parser costs only its own metadata (issue 11, finding
//! 3, and the pixel-bomb point of finding 7). Run on the real binary, with fixtures made here.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

fn init_case(dir: &Path) -> PathBuf {
    let case = dir.join("case");
    let out = triage(None).arg("init").arg(&case).output().expect("init");
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    case
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}); status {:?}; stdout {}; stderr {}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn list(case: &Path) -> Vec<Value> {
    let out = triage(Some(case))
        .args(["list", "--json"])
        .output()
        .expect("list");
    assert!(out.status.success(), "list: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write a fixture");
}

// ---------------------------------------------------------------------------------------------
// hostile fixtures

/// An ISO BMFF box.
fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((8 + body.len()) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn ftyp() -> Vec<u8> {
    bx(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
}

fn hdlr(handler: &[u8; 4]) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    body.extend_from_slice(handler);
    body.extend_from_slice(&[0u8; 12]);
    body.push(0);
    bx(b"hdlr", &body)
}

fn meta(children: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8; 4];
    body.extend_from_slice(children);
    bx(b"meta", &body)
}

/// moov/meta/ilst/©day/data where the data box says 8 bytes: smaller than its own header.
fn mp4_short_data_box() -> Vec<u8> {
    let mut data = 8u32.to_be_bytes().to_vec();
    data.extend_from_slice(b"data");
    data.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    let item = bx(b"\xa9day", &data);
    let ilst = bx(b"ilst", &item);
    let mut children = hdlr(b"mdir");
    children.extend_from_slice(&ilst);
    let mut out = ftyp();
    out.extend_from_slice(&bx(b"moov", &meta(&children)));
    out
}

/// moov/meta (a non-iTunes handler) whose last child says 4 bytes: under a box header.
fn mp4_tiny_meta_child() -> Vec<u8> {
    let mut children = hdlr(b"pict");
    children.extend_from_slice(&4u32.to_be_bytes());
    children.extend_from_slice(b"free");
    let mut out = ftyp();
    out.extend_from_slice(&bx(b"moov", &meta(&children)));
    out.extend_from_slice(&bx(b"free", &[]));
    out
}

/// moov/meta whose child claims a 64-bit size of 1 TB.
fn mp4_terabyte_box() -> Vec<u8> {
    let mut children = hdlr(b"pict");
    children.extend_from_slice(&1u32.to_be_bytes());
    children.extend_from_slice(b"junk");
    children.extend_from_slice(&(1u64 << 40).to_be_bytes());
    let mut out = ftyp();
    out.extend_from_slice(&bx(b"moov", &meta(&children)));
    out
}

/// An e-mail with `levels` nested message/rfc822 parts.
fn nested_email(levels: usize) -> Vec<u8> {
    let mut out = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
    for _ in 0..levels {
        out.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
    }
    out.extend_from_slice(b"Subject: innermost\r\n\r\nhello\r\n");
    out
}

/// A PDF whose page tree loops (a Pages node is its own kid) and whose xref chain loops
/// (the trailer's /Prev points at the same table).
fn looping_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for body in [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 /Parent 2 0 R >>",
        "<< /Type /Page /Parent 2 0 R >>",
    ] {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", offsets.len()).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 4 /Root 1 0 R /Prev {xref} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

/// A PDF whose one object is an array nested 100,000 deep.
fn nested_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let at = out.len();
    out.extend_from_slice(b"1 0 obj\n");
    out.extend(std::iter::repeat_n(b'[', 100_000));
    out.extend(std::iter::repeat_n(b']', 100_000));
    out.extend_from_slice(b"\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 2\n0000000000 65535 f \n{at:010} 00000 n \n").as_bytes(),
    );
    out.extend_from_slice(
        format!("trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut c = kind.to_vec();
    c.extend_from_slice(data);
    out.extend_from_slice(&c);
    out.extend_from_slice(&crc32(&c).to_be_bytes());
}

const BOMB: u32 = 60_000;

fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = BOMB.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&BOMB.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A small real JPEG whose frame header (SOF0) is made to say 60,000 × 60,000.
fn jpeg_bomb() -> Vec<u8> {
    let mut jpeg = small_image(image::ImageFormat::Jpeg, 16, 16, 1);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("a baseline JPEG has SOF0");
    // marker, length (2), precision (1), height (2), width (2)
    jpeg[sof + 5..sof + 7].copy_from_slice(&(BOMB as u16).to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&(BOMB as u16).to_be_bytes());
    jpeg
}

/// A small GIF whose screen and frame say 60,000 × 60,000.
fn gif_bomb() -> Vec<u8> {
    let mut gif = small_image(image::ImageFormat::Gif, 16, 16, 2);
    gif[6..8].copy_from_slice(&(BOMB as u16).to_le_bytes());
    gif[8..10].copy_from_slice(&(BOMB as u16).to_le_bytes());
    if let Some(d) = gif.iter().position(|&b| b == 0x2c) {
        gif[d + 5..d + 7].copy_from_slice(&(BOMB as u16).to_le_bytes());
        gif[d + 7..d + 9].copy_from_slice(&(BOMB as u16).to_le_bytes());
    }
    gif
}

/// An extended WebP whose canvas says 16,384 × 16,384 (the format's largest), holding a
/// tiny lossless image.
fn webp_bomb() -> Vec<u8> {
    let small = small_image(image::ImageFormat::WebP, 16, 16, 3);
    // RIFF size WEBP, then the image's chunks.
    let chunks = &small[12..];
    let side = (16_384u32 - 1).to_le_bytes();
    let mut vp8x = vec![0u8; 4];
    vp8x.extend_from_slice(&side[..3]);
    vp8x.extend_from_slice(&side[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&(vp8x.len() as u32).to_le_bytes());
    body.extend_from_slice(&vp8x);
    body.extend_from_slice(chunks);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A grey TIFF of 60,000 × 60,000 in one uncompressed strip of which 64 bytes exist.
fn tiff_bomb() -> Vec<u8> {
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, BOMB), // ImageWidth
        (257, 4, BOMB), // ImageLength
        (258, 3, 8),    // BitsPerSample
        (259, 3, 1),    // Compression: none
        (262, 3, 1),    // BlackIsZero
        (273, 4, 0),    // StripOffsets, set below
        (277, 3, 1),    // SamplesPerPixel
        (278, 4, BOMB), // RowsPerStrip
        (279, 4, 64),   // StripByteCounts
    ];
    let ifd_len = 2 + entries.len() * 12 + 4;
    let data_at = (8 + ifd_len) as u32;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        let value = if tag == 273 { data_at } else { value };
        if kind == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[0x80; 64]);
    out
}

/// A 24-bit BMP of 60,000 × 60,000 with 64 bytes of pixels.
fn bmp_bomb() -> Vec<u8> {
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&(54u32 + 64).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(BOMB as i32).to_le_bytes());
    out.extend_from_slice(&(BOMB as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    out.extend_from_slice(&[0x40; 64]);
    out
}

fn small_image(format: image::ImageFormat, w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 13) as u8 ^ seed,
            (y * 7) as u8,
            ((x + y) as u8).wrapping_mul(seed),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let img = if format == image::ImageFormat::Gif {
        image::DynamicImage::ImageRgba8(image::DynamicImage::ImageRgb8(img).to_rgba8())
    } else {
        image::DynamicImage::ImageRgb8(img)
    };
    img.write_to(&mut out, format)
        .expect("encode a small image");
    out.into_inner()
}

/// The largest resident set of any finished child of this process (their own children
/// included, as each waited for its own), in bytes.
fn children_peak_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: filled by the successful call.
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn hostile_files_among_good_ones_cost_only_their_own_metadata() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    for i in 0..300 {
        write(
            &intake.join(format!("statement-{i:03}.txt")),
            format!("Statement {i}\nThe shelling began at dawn.\n").as_bytes(),
        );
    }
    let good_images = [
        (
            "photo-a.jpg",
            small_image(image::ImageFormat::Jpeg, 64, 48, 5),
        ),
        (
            "photo-b.png",
            small_image(image::ImageFormat::Png, 40, 30, 6),
        ),
        (
            "photo-c.gif",
            small_image(image::ImageFormat::Gif, 20, 20, 7),
        ),
        (
            "photo-d.webp",
            small_image(image::ImageFormat::WebP, 32, 32, 8),
        ),
        (
            "photo-e.tiff",
            small_image(image::ImageFormat::Tiff, 24, 24, 9),
        ),
        (
            "photo-f.bmp",
            small_image(image::ImageFormat::Bmp, 24, 16, 10),
        ),
    ];
    for (name, bytes) in &good_images {
        write(&intake.join(name), bytes);
    }
    // An ordinary large photo (48 megapixels): fingerprinted, within the memory budget.
    let large = image::RgbImage::from_fn(8000, 6000, |x, y| {
        image::Rgb([(x / 32) as u8, (y / 24) as u8, ((x ^ y) / 64) as u8])
    });
    let mut large_jpeg = Vec::new();
    large
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut large_jpeg,
            80,
        ))
        .expect("encode a large JPEG");
    drop(large);
    write(&intake.join("large-48mp.jpg"), &large_jpeg);
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("short-data-box.mp4", mp4_short_data_box()),
        ("tiny-meta-child.mp4", mp4_tiny_meta_child()),
        ("terabyte-box.mp4", mp4_terabyte_box()),
        ("nested.eml", nested_email(40_000)),
        ("nested-deeper.eml", nested_email(100_000)),
        ("looping.pdf", looping_pdf()),
        ("nested.pdf", nested_pdf()),
        ("bomb.png", png_bomb()),
        ("bomb.jpg", jpeg_bomb()),
        ("bomb.gif", gif_bomb()),
        ("bomb.webp", webp_bomb()),
        ("bomb.tiff", tiff_bomb()),
        ("bomb.bmp", bmp_bomb()),
    ];
    for (name, bytes) in &hostile {
        write(&intake.join(name), bytes);
    }
    let total = 300 + good_images.len() + 1 + hostile.len();

    // A child starts with its parent's peak RSS as its own (fork copies the high-water mark):
    // reset this process's, raised by encoding the large photo above, so that the figure
    // below is the ingest's and its workers'.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let started = Instant::now();
    let out = triage(Some(&case))
        .args(["ingest", "--source", "field", "--json"])
        .arg(&intake)
        .output()
        .expect("run ingest");
    let took = started.elapsed();
    let peak = children_peak_rss();
    let s = summary(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1 when any file has a problem; stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(s["new"], total as u64, "every file is an item: {s}");
    assert!(
        peak < 500 << 20,
        "peak RSS of the ingest and its workers: {} MB",
        peak >> 20
    );
    assert!(took < Duration::from_secs(120), "took {took:?}");
    eprintln!("ingest: {took:?}, peak RSS {} MB", peak >> 20);

    let problems: BTreeMap<String, (String, String)> = s["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            let path = p["path"].as_str().expect("path");
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            (
                name,
                (
                    p["outcome"].as_str().unwrap_or("").to_string(),
                    p["reason"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    let items = list(&case);
    assert_eq!(items.len(), total);
    let by_name: BTreeMap<&str, &Value> = items
        .iter()
        .map(|i| (i["name"].as_str().expect("name"), i))
        .collect();
    let warnings = |name: &str| -> Vec<String> {
        by_name[name]["metadata"]["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };

    // Good files: taken in with their metadata, no problem, no warning.
    for i in 0..300 {
        let name = format!("statement-{i:03}.txt");
        let item = by_name[name.as_str()];
        assert_eq!(item["metadata"]["text"]["lines"], 2, "{name}: {item}");
        assert!(!problems.contains_key(&name));
    }
    for (name, _) in &good_images {
        let item = by_name[name];
        assert!(
            item["metadata"]["image"]["width"].as_u64().unwrap_or(0) > 0,
            "{item}"
        );
        // (kamadak-exif reads no EXIF from GIF or BMP and says so: not this test's concern)
        assert!(
            warnings(name).iter().all(|w| w.starts_with("EXIF: ")),
            "{name}: {:?}",
            warnings(name)
        );
        assert!(
            !problems.contains_key(*name),
            "{name}: {:?}",
            problems.get(*name)
        );
    }

    let large = by_name["large-48mp.jpg"];
    assert_eq!(large["metadata"]["image"]["width"], 8000);
    let db = rusqlite::Connection::open_with_flags(
        case.join("case.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the case read-only");
    let printed: i64 = db
        .query_row(
            "SELECT count(*) FROM fingerprints f JOIN items i ON i.id = f.item_id
             WHERE i.name IN ('large-48mp.jpg', 'photo-a.jpg', 'photo-b.png', 'photo-c.gif',
                              'photo-d.webp', 'photo-e.tiff', 'photo-f.bmp')",
            [],
            |r| r.get(0),
        )
        .expect("count fingerprints");
    assert_eq!(printed, 7, "every good image has its fingerprint");

    // Boxes that crashed or exhausted the mp4 crate (a data box under its own header, a
    // child under a box header, a 1 TB size): our reader holds every size to its parent and
    // says what it did not find; nothing died.
    for name in [
        "short-data-box.mp4",
        "tiny-meta-child.mp4",
        "terabyte-box.mp4",
    ] {
        assert!(
            !problems.contains_key(name),
            "{name}: {:?}",
            problems.get(name)
        );
        assert!(
            warnings(name)
                .iter()
                .any(|w| w.starts_with("video container: ")),
            "{name}: {:?}",
            warnings(name)
        );
    }
    // A parser that crashes its worker: a recorded problem and the same reason as a warning
    // on the item.
    {
        let name = "nested-deeper.eml";
        let (outcome, reason) = problems
            .get(name)
            .unwrap_or_else(|| panic!("{name}: no problem recorded; {:?}; {s}", warnings(name)));
        assert_eq!(outcome, "extract-failed", "{name}");
        assert!(
            reason.starts_with("metadata not read: "),
            "{name}: {reason}"
        );
        assert!(
            warnings(name).contains(reason),
            "{name}: {:?}",
            warnings(name)
        );
    }
    assert!(
        problems["nested-deeper.eml"].1.contains("stack overflow"),
        "{:?}",
        problems["nested-deeper.eml"]
    );
    // 40,000 levels (the depth that overflowed a 2 MB ingest thread) fit the worker's 8 MB
    // stack in an optimised build, not in a debug one: parsed, or a stack overflow recorded.
    match problems.get("nested.eml") {
        Some((outcome, reason)) => {
            assert_eq!(outcome, "extract-failed");
            assert!(reason.contains("stack overflow"), "{reason}");
        }
        None => assert_eq!(
            by_name["nested.eml"]["metadata"]["email"]["subject"],
            "nested"
        ),
    }
    // Refused within the decode budget: a warning naming why; nothing died.
    for name in [
        "bomb.png",
        "bomb.jpg",
        "bomb.gif",
        "bomb.webp",
        "bomb.tiff",
        "bomb.bmp",
    ] {
        let w = warnings(name);
        assert!(
            w.iter().any(|w| w.contains("too large")),
            "{name}: {w:?}; problem {:?}",
            problems.get(name)
        );
    }
    // The PDFs: lopdf survives the loops and the nesting (no page is reachable); whatever a PDF parser does
    // with them, the item is there and nothing else was lost (the counts above).
    for name in ["looping.pdf", "nested.pdf"] {
        assert_eq!(by_name[name]["metadata"]["pdf"]["pages"], 0, "{name}");
    }

    // The same intake again changes nothing.
    let before = list(&case);
    let again = triage(Some(&case))
        .args(["ingest", "--source", "field", "--json"])
        .arg(&intake)
        .output()
        .expect("rerun");
    let s2 = summary(&again);
    assert_eq!(s2["unchanged"], total as u64, "{s2}");
    assert_eq!(s2["new"], 0);
    assert_eq!(s2["problems"].as_array().map(Vec::len), Some(0), "{s2}");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let strip = |items: &[Value]| -> Vec<Value> {
        items
            .iter()
            .map(|i| {
                let mut i = i.clone();
                i["sources"] = Value::Null;
                i
            })
            .collect()
    };
    assert_eq!(strip(&list(&case)), strip(&before));
    let verify = triage(Some(&case)).arg("verify").output().expect("verify");
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

/// The parser workers of process `parent`: its children (read from /proc).
fn children_of(parent: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

#[test]
fn a_worker_killed_mid_job_is_replaced_and_that_file_gets_a_problem() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    let total = 1000;
    for i in 0..total {
        write(
            &intake.join(format!("note-{i:04}.txt")),
            format!("note {i}\nline two\n").as_bytes(),
        );
    }
    let child = triage(Some(&case))
        .args(["ingest", "--source", "field", "--json"])
        .arg(&intake)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ingest");
    // The first worker to appear is stopped, then killed: whatever job it holds (or is sent
    // while it is stopped) dies with it.
    let started = Instant::now();
    let victim = loop {
        // A worker once it runs (between fork and exec it is still a copy of the ingest).
        let running = children_of(child.id()).into_iter().find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"/proc/self/exe"))
        });
        if let Some(pid) = running {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no worker process appeared"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    // SAFETY: kill only sends signals, to a process of this test's ingest.
    unsafe { libc::kill(victim, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: as above.
    unsafe { libc::kill(victim, libc::SIGKILL) };
    let out = child.wait_with_output().expect("wait for ingest");
    let s = summary(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "victim {victim}: {s} {}",
        text(&out.stderr)
    );
    assert_eq!(s["new"], total, "every file is an item: {s}");
    let problems = s["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{s}");
    assert_eq!(problems[0]["outcome"], "extract-failed");
    assert_eq!(
        problems[0]["reason"],
        "metadata not read: extractor died: SIGKILL"
    );
    let victim_name = problems[0]["path"]
        .as_str()
        .and_then(|p| p.rsplit('/').next())
        .expect("path")
        .to_string();
    // Every other file was described, the ones after the kill by a new worker.
    let items = list(&case);
    assert_eq!(items.len(), total as usize);
    for item in &items {
        let name = item["name"].as_str().expect("name");
        if name == victim_name {
            assert_eq!(
                item["metadata"]["warnings"][0],
                "metadata not read: extractor died: SIGKILL"
            );
        } else {
            assert_eq!(item["metadata"]["text"]["lines"], 2, "{item}");
        }
    }
}

/// Damaged and hostile files given to ffprobe, ffmpeg, pdftotext and pdftoppm: each costs at
/// most its own metadata or preview (a warning or a message), never the ingest or the console.
#[test]
fn hostile_media_given_to_ffmpeg_and_poppler() {
    if !crate::common::have("ffmpeg") || !crate::common::have("pdftotext") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let case = init_case(tmp.path());
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    let good = intake.join("good.mkv");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=10:duration=4")
        .arg(&good)
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&good).expect("read");
    // Cut short, and its middle overwritten with noise.
    write(&intake.join("truncated.mkv"), &bytes[..bytes.len() / 3]);
    let mut noisy = bytes.clone();
    for (i, b) in noisy.iter_mut().enumerate().skip(200) {
        *b ^= (i * 31 % 251) as u8;
    }
    write(&intake.join("noisy.mkv"), &noisy);
    // An MP4 header over nothing, and an MP4 box claiming a terabyte.
    write(&intake.join("terabyte.mp4"), &mp4_terabyte_box());
    let mut headless = ftyp();
    headless.extend_from_slice(&[0xff; 4096]);
    write(&intake.join("headless.mp4"), &headless);
    // PDFs that loop, nest, or stop in the middle.
    write(&intake.join("looping.pdf"), &looping_pdf());
    write(&intake.join("nested.pdf"), &nested_pdf());
    let mut cut = looping_pdf();
    cut.truncate(cut.len() / 2);
    write(&intake.join("cut.pdf"), &cut);
    let out = triage(Some(&case))
        .args(["ingest", "--source", "t", "--json"])
        .arg(&intake)
        .output()
        .expect("ingest");
    let s = summary(&out);
    assert_eq!(s["new"], 8, "{s}");
    let items = list(&case);
    assert_eq!(items.len(), 8);
    let good = items
        .iter()
        .find(|i| i["name"] == "good.mkv")
        .expect("good");
    assert_eq!(good["metadata"]["video"]["width"], 320, "{good}");
    // Previews of every one of them: a picture or a message, and the console goes on.
    for item in &items {
        let sha = item["sha256"].as_str().unwrap_or_default();
        let path = case.join("objects").join(&sha[..2]).join(sha);
        let visual = match item["type"].as_str() {
            Some("video") => triage::preview::Visual::Video {
                duration_s: item["metadata"]["video"]["duration_s"].as_f64(),
            },
            Some("pdf") => triage::preview::Visual::PdfPage,
            _ => continue,
        };
        let req = triage::preview::Request {
            visual,
            generation: 1,
            item_id: 1,
            path,
            thumbnail: None,
            orientation: 1,
            max_cols: 40,
            max_rows: 12,
            budget: 20_000,
            depth: triage::preview::Depth::Ansi256,
            grayscale: false,
            blur: false,
            protocol: None,
            ahead: vec![],
            cell_px: (8, 16),
        };
        let started = Instant::now();
        let a = triage::preview::answer(&req);
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "{}: preview took {:?}",
            item["name"],
            started.elapsed()
        );
        if let Ok(p) = &a.result {
            assert!(p.cost <= 20_000);
        }
    }
}
