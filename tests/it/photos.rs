//! Full-size phone photos: one reduced decoding at ingest gives the dimensions, the
//! fingerprints, the 32 × 32 grid and the preview kept in the case; the console's preview is
//! drawn from that kept preview, never from the original.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use triage::demo::{self, PhotoSpec};
use triage::ingest::fingerprint::{distance, hash_gray};
use triage::preview::{Depth, Request};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

fn triage(case: Option<&Path>, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TRIAGE_CASE").stdin(Stdio::null());
    if let Some(c) = case {
        cmd.arg("--case").arg(c);
    }
    let out = cmd.args(args).output().expect("run triage");
    assert!(
        out.status.success(),
        "triage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `IMG_<i>.jpg` in `intake` for each `(i, orientation)`: phone photos of `width`×`height`,
/// each its own scene (`seed + i`).
fn write_photos(intake: &Path, (width, height): (u32, u32), seed: u8, photos: &[(u8, u16)]) {
    std::fs::create_dir_all(intake).expect("mkdir");
    for &(i, orientation) in photos {
        let photo = demo::jpeg(&PhotoSpec {
            width,
            height,
            seed: seed + i,
            make: "Apple",
            model: "iPhone 13",
            software: None,
            taken: "2024-03-02T10:11:12",
            gps: None,
            orientation,
        });
        std::fs::write(intake.join(format!("IMG_{i}.jpg")), &photo).expect("write");
    }
}

/// A case holding the files of `intake`, ingested (fingerprints at ingest, the default).
fn ingested(dir: &Path, intake: &Path) -> PathBuf {
    let case = dir.join("case");
    triage(None, &["init".as_ref(), case.as_os_str()]);
    triage(
        Some(&case),
        &[
            "ingest".as_ref(),
            "--source".as_ref(),
            "field-office".as_ref(),
            "--json".as_ref(),
            intake.as_os_str(),
        ],
    );
    case
}

fn list(case: &Path) -> Vec<serde_json::Value> {
    let out = triage(Some(case), &["list".as_ref(), "--json".as_ref()]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn request(item_id: i64, path: PathBuf) -> Request {
    Request {
        visual: triage::preview::Visual::Image,
        generation: 1,
        item_id,
        path,
        thumbnail: None,
        orientation: 1,
        max_cols: 60,
        max_rows: 30,
        budget: 64 * 1024,
        depth: Depth::True,
        grayscale: false,
        blur: false,
        protocol: None,
        cell_px: (8, 16),
        ahead: vec![],
    }
}

/// The answer of a preview thread reading `case` to `req`.
fn preview_from_case(case: &Path, req: Request) -> triage::preview::Answer {
    let (tx, rx) = std::sync::mpsc::channel();
    let (reply_tx, reply_rx) = std::sync::mpsc::channel();
    triage::preview::ahead::spawn_worker(rx, reply_tx, |a| a, Some(case));
    tx.send(req).expect("send");
    reply_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("an answer")
}

#[test]
fn a_full_size_photo_gets_dimensions_fingerprints_and_a_kept_preview_from_one_decoding() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    // 12 MP, turned a quarter by its EXIF (Orientation 6), as phones store portraits.
    let photo = demo::jpeg(&PhotoSpec {
        width: 4000,
        height: 3000,
        seed: 11,
        make: "Apple",
        model: "iPhone 13",
        software: None,
        taken: "2024-03-02T10:11:12",
        gps: None,
        orientation: 6,
    });
    std::fs::write(intake.join("IMG_1001.JPG"), &photo).expect("write");
    let case = ingested(tmp.path(), &intake);

    let items = list(&case);
    let item = &items[0];
    assert_eq!(item["metadata"]["image"]["width"], 4000, "{item}");
    assert_eq!(item["metadata"]["image"]["height"], 3000, "{item}");
    assert_eq!(item["metadata"]["exif"]["orientation"], 6, "{item}");
    let store = triage::store::Case::open(&case).expect("open");
    let id: i64 = common::sql(&store)
        .query_row("SELECT id FROM items", [], |r| r.get(0))
        .expect("one item");
    // Fingerprints: close to those of a full-size decoding of the same photo, displayed.
    let (dhash, phash, thumb_len): (i64, i64, i64) = common::sql(&store)
        .query_row(
            "SELECT dhash, phash, length(thumb) FROM fingerprints WHERE item_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("a fingerprint row");
    assert_eq!(thumb_len, 1032, "the 32 × 32 grid is kept");
    let full = image::load_from_memory(&photo)
        .expect("full decode")
        .rotate90();
    let gray = full.to_luma8();
    let reference = hash_gray(gray.as_raw(), gray.width() as usize, gray.height() as usize);
    assert!(distance(phash as u64, reference.phash) <= 4, "pHash");
    assert!(distance(dhash as u64, reference.dhash) <= 4, "dHash");

    // The kept preview: at most 320 px, displayed the right way up (portrait), readable.
    let kept = triage::store::kept_previews::get(&store, id)
        .expect("query")
        .expect("a kept preview");
    assert_eq!((kept.width, kept.height), (240, 320));
    let img = triage::ingest::kept_preview::open(&kept.jpeg).expect("readable");
    assert_eq!((img.width(), img.height()), (240, 320));
    assert!(kept.jpeg.len() < 60_000, "{} bytes", kept.jpeg.len());
    // It looks like the photo: its colours match the full decoding reduced the same way.
    let small = full.thumbnail(240, 320).to_rgb8();
    let diff: u64 = small
        .as_raw()
        .iter()
        .zip(img.to_rgb8().as_raw())
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let mean = diff as f64 / small.as_raw().len() as f64;
    assert!(mean < 12.0, "mean difference {mean}");

    // The console's preview comes from the case: with the original out of reach it is drawn.
    let answer = preview_from_case(&case, request(id, tmp.path().join("no-such-original")));
    let picture = answer.result.expect("a picture from the kept preview");
    assert!(
        picture.width > 0 && picture.height > picture.width,
        "portrait"
    );
}

/// A HEIC of `w`×`h` made with libheif's encoder (with an embedded thumbnail, as phones
/// write), and the picture it holds; `None` when heif-enc is missing (a failure under CI).
fn heic(dir: &Path, w: u32, h: u32) -> Option<(PathBuf, image::RgbImage)> {
    // Blocks of pseudo-random shades: structure at the scale fingerprints look at.
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (bx, by) = (x * 24 / w.max(1), y * 18 / h.max(1));
        let v = (bx.wrapping_mul(2_654_435_761) ^ by.wrapping_mul(40_503)) >> 7;
        let v = (v % 200) as u8 + 20;
        image::Rgb([v, v / 2 + 40, 255 - v])
    });
    let png = dir.join("source.png");
    img.save(&png).expect("write the source");
    let heic = dir.join("IMG_2002.HEIC");
    let mut enc = Command::new("heif-enc");
    if w.max(h) > 320 {
        enc.args(["-t", "320"]);
    }
    let made = enc
        .args(["-q", "60", "-o"])
        .arg(&heic)
        .arg(&png)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let _ = std::fs::remove_file(&png);
    match made {
        Ok(out) if out.status.success() => Some((heic, img)),
        Ok(out) => panic!("heif-enc: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "heif-enc is needed under CI (apt-get install libheif-examples): {e}"
            );
            eprintln!("skipped: heif-enc not installed ({e})");
            None
        }
    }
}

#[test]
fn a_heic_photo_gets_dimensions_fingerprints_and_a_kept_preview() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    let Some((_, source)) = heic(&intake, 2400, 1800) else {
        return;
    };
    let case = ingested(tmp.path(), &intake);
    let items = list(&case);
    let item = &items[0];
    assert_eq!(item["type"], "image", "{item}");
    assert_eq!(item["metadata"]["image"]["width"], 2400, "{item}");
    assert_eq!(item["metadata"]["image"]["height"], 1800, "{item}");

    let store = triage::store::Case::open(&case).expect("open");
    let id: i64 = common::sql(&store)
        .query_row("SELECT id FROM items", [], |r| r.get(0))
        .expect("one item");
    let (dhash, phash): (i64, i64) = common::sql(&store)
        .query_row(
            "SELECT dhash, phash FROM fingerprints WHERE item_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a fingerprint row");
    let gray = image::DynamicImage::ImageRgb8(source).to_luma8();
    let reference = hash_gray(gray.as_raw(), gray.width() as usize, gray.height() as usize);
    let d = (
        distance(phash as u64, reference.phash),
        distance(dhash as u64, reference.dhash),
    );
    assert!(d.0 <= 6 && d.1 <= 6, "pHash, dHash distances {d:?}");

    let kept = triage::store::kept_previews::get(&store, id)
        .expect("query")
        .expect("a kept preview");
    assert_eq!((kept.width, kept.height), (320, 240));
    let answer = preview_from_case(&case, request(id, tmp.path().join("no-such-original")));
    assert!(answer.result.is_ok(), "{:?}", answer.result);
}

#[test]
fn without_libheif_a_heic_item_says_what_to_install() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    std::fs::create_dir_all(&intake).expect("mkdir");
    let Some(_) = heic(&intake, 64, 48) else {
        return;
    };
    let case = tmp.path().join("case");
    triage(None, &["init".as_ref(), case.as_os_str()]);
    // No tool on the PATH: as on a machine without libheif-examples.
    let out = Command::new(BIN)
        .env_remove("TRIAGE_CASE")
        .env("PATH", tmp.path().join("empty"))
        .arg("--case")
        .arg(&case)
        .args(["ingest", "--source", "field-office", "--json"])
        .arg(&intake)
        .stdin(Stdio::null())
        .output()
        .expect("run triage");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items = list(&case);
    let warnings = items[0]["metadata"]["warnings"].to_string();
    assert!(
        warnings.contains("HEIC needs libheif: apt-get install"),
        "{warnings}"
    );
}

/// Images fingerprinted after their ingest (`--no-fingerprints`, then `triage dups`) and
/// images imported from a bag get the same kept preview as at ingest, from the same decoding.
#[test]
fn dups_and_imports_keep_a_preview_too() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    write_photos(&intake, (1200, 900), 20, &[(1, 1), (2, 6)]);
    let case = tmp.path().join("case");
    triage(None, &["init".as_ref(), case.as_os_str()]);
    let args = ["ingest", "--source", "field-office", "--no-fingerprints"];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    args.push(intake.as_os_str());
    triage(Some(&case), &args);
    let kept = |case: &Path| -> Vec<(i64, i64)> {
        let store = triage::store::Case::open(case).expect("open");
        let conn = common::sql(&store);
        let mut st = conn
            .prepare("SELECT width, height FROM kept_previews ORDER BY item_id")
            .expect("prepare");
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        rows
    };
    assert!(kept(&case).is_empty(), "--no-fingerprints decodes nothing");
    triage(Some(&case), &["dups".as_ref()]);
    assert_eq!(kept(&case), [(320, 240), (240, 320)], "made by `dups`");

    let bag = tmp.path().join("bag");
    triage(
        Some(&case),
        &[
            "export".as_ref(),
            "--filter".as_ref(),
            "".as_ref(),
            "--out".as_ref(),
            bag.as_os_str(),
        ],
    );
    let other = tmp.path().join("other");
    triage(None, &["init".as_ref(), other.as_os_str()]);
    triage(
        Some(&other),
        &[
            "import".as_ref(),
            bag.as_os_str(),
            "--source".as_ref(),
            "partner".as_ref(),
        ],
    );
    assert_eq!(kept(&other), [(320, 240), (240, 320)], "made by `import`");
}

/// While the reviewer looks at one item, the preview thread decodes the next items' kept
/// previews: once it has, their pictures are answered without reading the case again (here,
/// with their kept previews deleted and the originals out of reach).
#[test]
fn the_next_previews_are_prepared_ahead() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    write_photos(&intake, (800, 600), 40, &[(1, 1), (2, 1), (3, 1), (4, 1)]);
    let case = ingested(tmp.path(), &intake);
    let store = triage::store::Case::open(&case).expect("open");
    let gone = tmp.path().join("no-such-original");

    let (tx, rx) = std::sync::mpsc::channel();
    let (reply_tx, reply_rx) = std::sync::mpsc::channel();
    triage::preview::ahead::spawn_worker(rx, reply_tx, |a| a, Some(&case));
    let answer = |tx: &std::sync::mpsc::Sender<Request>, req: Request| {
        tx.send(req).expect("send");
        reply_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("an answer")
    };
    let mut first = request(1, gone.clone());
    first.ahead = vec![2, 3];
    assert!(answer(&tx, first).result.is_ok(), "item 1 from the case");
    // The look-ahead runs after the answer; a kept preview decodes in a millisecond or two.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let deleted = common::sql(&store)
        .execute("DELETE FROM kept_previews WHERE item_id IN (2, 3)", [])
        .expect("delete");
    assert_eq!(deleted, 2);
    for id in [2, 3] {
        let got = answer(&tx, request(id, gone.clone()));
        assert!(got.result.is_ok(), "item {id} was prepared ahead");
    }
    // The control: an item not prepared ahead, its kept preview deleted too, has no picture.
    common::sql(&store)
        .execute("DELETE FROM kept_previews WHERE item_id = 4", [])
        .expect("delete");
    assert!(answer(&tx, request(4, gone.clone())).result.is_err());
    // A picture decoded from the original is held as well: asked again once the original
    // is out of reach, it is still answered.
    let copy = tmp.path().join("IMG_4-copy.jpg");
    std::fs::copy(intake.join("IMG_4.jpg"), &copy).expect("copy");
    assert!(answer(&tx, request(4, copy.clone())).result.is_ok());
    std::fs::remove_file(&copy).expect("remove");
    assert!(answer(&tx, request(4, copy)).result.is_ok(), "held");
}

/// Items the case keeps no preview of (videos, PDFs, images ingested without fingerprints)
/// are prepared ahead too: their picture is decoded from the original, in a worker, and
/// cached in the case before the reviewer reaches them.
#[test]
fn pictures_without_a_kept_preview_are_prepared_ahead_too() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let intake = tmp.path().join("intake");
    write_photos(&intake, (640, 480), 60, &[(1, 1), (2, 1)]);
    let case = tmp.path().join("case");
    triage(None, &["init".as_ref(), case.as_os_str()]);
    let args = ["ingest", "--source", "field-office", "--no-fingerprints"];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    args.push(intake.as_os_str());
    triage(Some(&case), &args);
    let items = list(&case);
    let sha = |name: &str| -> String {
        let item = items.iter().find(|i| i["name"] == name).expect("item");
        item["sha256"].as_str().expect("sha").to_string()
    };
    let second = triage::preview::cached_picture(&case, &sha("IMG_2.jpg"));
    assert!(!second.exists());

    let store = triage::store::Case::open(&case).expect("open");
    let (tx, rx) = std::sync::mpsc::channel();
    let (reply_tx, reply_rx) = std::sync::mpsc::channel();
    triage::preview::ahead::spawn_worker(rx, reply_tx, |a| a, Some(&case));
    let mut first = request(1, store.objects.path_of(&sha("IMG_1.jpg")));
    first.thumbnail = Some(triage::preview::cached_picture(&case, &sha("IMG_1.jpg")));
    first.ahead = vec![2];
    tx.send(first).expect("send");
    let a = reply_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("an answer");
    assert!(a.result.is_ok());
    let started = std::time::Instant::now();
    while !second.exists() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(second.exists(), "item 2's picture was made ahead");
}
