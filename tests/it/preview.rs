//! Previews: a known image drawn in half blocks, the sensitivity gate (no image cells until a
//! recorded reveal), and hostile images that give a message instead of a crash.

use crate::common;

use std::path::{Path, PathBuf};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Color;
use ratatui::Terminal;

use triage::console::keymap::Keymap;
use triage::console::theme::Theme;
use triage::console::{ui, Console};
use triage::preview::{answer, Depth, Request};
use triage::store::Case;
use triage::taxonomy::Taxonomy;

fn request(path: &Path, cols: u16, rows: u16, depth: Depth, budget: usize) -> Request {
    Request {
        visual: Default::default(),
        generation: 1,
        item_id: 1,
        path: path.to_path_buf(),
        thumbnail: None,
        orientation: 1,
        max_cols: cols,
        max_rows: rows,
        budget,
        depth,
        grayscale: false,
        blur: false,
        protocol: None,
        cell_px: (8, 16),
        ahead: vec![],
    }
}

/// Four flat quadrants: red, green / blue, white.
fn quadrants(path: &Path) {
    let img = image::RgbImage::from_fn(40, 40, |x, y| match (x < 20, y < 20) {
        (true, true) => image::Rgb([255, 0, 0]),
        (false, true) => image::Rgb([0, 255, 0]),
        (true, false) => image::Rgb([0, 0, 255]),
        (false, false) => image::Rgb([255, 255, 255]),
    });
    img.save(path).expect("write png");
}

#[test]
fn a_known_image_at_a_fixed_size_draws_the_expected_cells() {
    let tmp = tempfile::tempdir().expect("tmp");
    let png = tmp.path().join("q.png");
    quadrants(&png);
    let a = answer(&request(&png, 20, 10, Depth::Ansi256, 16 * 1024));
    let pic = a.result.expect("picture");
    // 40×40 into 20 columns × 20 pixel rows: 20×20 pixels, 10 cell rows.
    assert_eq!((pic.width, pic.height, pic.depth), (20, 20, Depth::Ansi256));
    assert!(pic.cost <= 16 * 1024);
    let mut s = state_with(pic);
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("term");
    term.draw(|f| ui::render(&s.state, &s.keymap, &Theme::mono(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    // The preview's inner area starts at the details pane's left border + 1.
    let (top, _) = ui::split_preview(ui::areas(ratatui::layout::Rect::new(0, 0, 120, 40)).details);
    let (x0, y0) = (top.x + 1, top.y + 1);
    let cell = |dx: u16, dy: u16| buf[(x0 + dx, y0 + dy)].clone();
    let red = Color::Indexed(16 + 36 * 5);
    let green = Color::Indexed(16 + 6 * 5);
    let blue = Color::Indexed(16 + 5);
    let white = Color::Indexed(231);
    for (dx, dy, fg, bg) in [
        (2, 2, red, red),
        (15, 2, green, green),
        (2, 7, blue, blue),
        (15, 7, white, white),
    ] {
        let c = cell(dx, dy);
        assert_eq!(c.symbol(), "▀");
        assert_eq!((c.fg, c.bg), (fg, bg), "cell {dx},{dy}");
    }
    // Nothing drawn right of the picture.
    assert_eq!(cell(25, 2).symbol(), " ");
    s.state.preview.open = false;
}

struct Held {
    state: triage::console::state::State,
    keymap: Keymap,
}

fn state_with(pic: triage::preview::Picture) -> Held {
    let mut state = triage::console::state::State::new(
        "c".into(),
        "r".into(),
        std::sync::Arc::new(Taxonomy::default_set()),
    );
    state.preview.open = true;
    state.preview.shown = triage::console::preview::Shown::Picture {
        item_id: 1,
        picture: pic,
        look: Default::default(),
    };
    Held {
        state,
        keymap: Keymap::defaults(),
    }
}

/// The demo case, with "rev" a lead (who may reveal sensitive images in full).
fn demo_case(tmp: &Path) -> PathBuf {
    let dir = common::demo_case(tmp);
    let mut case = Case::open(&dir).expect("open");
    common::add_member(&mut case, "rev", triage::store::users::Role::Lead);
    dir
}

fn screen(c: &Console) -> String {
    common::screen(c, 120, 40)
}

fn key(c: &mut Console, code: KeyCode) {
    c.key(KeyEvent::from(code));
    c.settle();
}

#[test]
fn a_gated_item_shows_a_placeholder_until_a_recorded_reveal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let mut c = common::console(&dir, "rev", 120, 40);
    key(&mut c, KeyCode::Char('i'));
    assert!(screen(&c).contains('▀'), "an unflagged photo is previewed");
    key(&mut c, KeyCode::Char('1')); // flag: graphic violence
    let s = screen(&c);
    assert!(
        s.contains("Sensitive image withheld") && s.contains("Graphic violence"),
        "{s}"
    );
    assert!(!s.contains('▀'), "no image cells while gated");
    // Moving away and back keeps it gated.
    key(&mut c, KeyCode::Char('j'));
    key(&mut c, KeyCode::Char('k'));
    assert!(!screen(&c).contains('▀'));
    // R asks; n declines and nothing is recorded.
    key(&mut c, KeyCode::Char('R'));
    assert!(screen(&c).contains("The reveal is recorded"));
    key(&mut c, KeyCode::Char('n'));
    assert!(!screen(&c).contains('▀'));
    let reveals = |c: &Console| -> i64 {
        common::sql(&c.runtime.case)
            .query_row(
                "SELECT count(*) FROM audit WHERE event = 'reveal' AND item_id = 1",
                [],
                |r| r.get(0),
            )
            .expect("count")
    };
    assert_eq!(reveals(&c), 0);
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert_eq!(reveals(&c), 1, "the reveal is an audit event");
    assert!(screen(&c).contains('▀'), "revealed");
    // Decoded once, the thumbnail is cached in the case.
    let thumbs = std::fs::read_dir(dir.join("cache").join("thumbs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(thumbs >= 1, "no thumbnail cached");
}

#[test]
fn gate_all_reveals_blurred_first_then_in_full() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let mut c = common::console(&dir, "rev", 120, 40);
    c.state.preview.gate_all = true;
    key(&mut c, KeyCode::Char('i'));
    assert!(screen(&c).contains("all images are gated"));
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert!(matches!(
        &c.state.preview.shown,
        triage::console::preview::Shown::Picture {
            look: triage::console::preview::Look {
                grayscale: true,
                blurred: true
            },
            ..
        }
    ));
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert!(matches!(
        &c.state.preview.shown,
        triage::console::preview::Shown::Picture {
            look: triage::console::preview::Look {
                grayscale: false,
                blurred: false
            },
            ..
        }
    ));
    let levels: Vec<String> = common::sql(&c
        .runtime
        .case)
        .prepare("SELECT json_extract(details, '$.level') FROM audit WHERE event = 'reveal' ORDER BY seq")
        .expect("prep")
        .query_map([], |r| r.get(0))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(levels, ["blurred", "full"]);
}

/// A PNG whose header declares 50,000 × 50,000 pixels (its data is tiny and broken).
fn png_bomb(path: &Path) {
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
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    std::fs::write(path, png).expect("write");
}

/// The peak RSS is that of a process: with every test in one binary, other tests' memory
/// would count, so the test runs itself alone in a child process of the test binary.
#[test]
fn hostile_images_give_clear_messages_and_little_memory() {
    if !crate::common::alone("preview::hostile_images_give_clear_messages_and_little_memory") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let bomb = tmp.path().join("bomb.png");
    png_bomb(&bomb);
    let a = answer(&request(&bomb, 50, 20, Depth::Ansi256, 16 * 1024));
    let e = a.result.expect_err("a bomb is not decoded");
    assert!(e.contains("too large") && e.contains("50000×50000"), "{e}");

    let jpeg = triage::demo::jpeg(&triage::demo::PhotoSpec {
        width: 200,
        height: 150,
        seed: 3,
        make: "Canon",
        model: "X",
        software: None,
        taken: "2013-08-21T02:47:13",
        gps: None,
        orientation: 1,
    });
    let truncated = tmp.path().join("truncated.jpg");
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).expect("write");
    let e = answer(&request(&truncated, 50, 20, Depth::Ansi256, 16 * 1024)).result;
    match e {
        Err(msg) => assert!(msg.contains("cannot"), "{msg}"),
        // Some decoders fill the missing part; then a picture is fine too.
        Ok(p) => assert!(p.width > 0),
    }
    // Corrupt EXIF: the APP1 block's TIFF header is garbage; the pixels are fine.
    let mut corrupt = jpeg.clone();
    let pos = corrupt
        .windows(6)
        .position(|w| w == b"Exif\0\0")
        .expect("exif")
        + 6;
    for b in &mut corrupt[pos..pos + 16] {
        *b = 0xee;
    }
    let bad_exif = tmp.path().join("bad-exif.jpg");
    std::fs::write(&bad_exif, &corrupt).expect("write");
    let p = answer(&request(&bad_exif, 50, 20, Depth::Ansi256, 16 * 1024))
        .result
        .expect("pixels still decode");
    assert!(p.width > 0);
    // And at ingest the corrupt EXIF is a warning on the item, not a failure.
    let mut m = triage::ingest::meta::extract(
        triage::ingest::detect::Kind::Image,
        "image/jpeg",
        &triage::ingest::meta::Content {
            bytes: &corrupt,
            complete: true,
            stored: &bad_exif,
        },
    );
    assert!(
        m.warnings.iter().any(|w| w.contains("EXIF")),
        "{:?}",
        m.warnings
    );
    m.warnings.clear();

    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert!(ru.ru_maxrss < 200 * 1024, "peak RSS {} KiB", ru.ru_maxrss);
}

#[test]
fn the_budget_is_respected_at_every_depth() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("noise.png");
    let img = image::RgbImage::from_fn(300, 200, |x, y| {
        image::Rgb([
            (x * 7 + y * 13) as u8,
            ((x * 31) ^ (y * 17)) as u8,
            (x * y) as u8,
        ])
    });
    img.save(&path).expect("png");
    for depth in [Depth::True, Depth::Ansi256, Depth::Ansi16, Depth::Mono] {
        for budget in [4 * 1024, 16 * 1024] {
            let p = answer(&request(&path, 50, 18, depth, budget))
                .result
                .expect("fits");
            assert!(p.cost <= budget, "{depth:?} {budget}: {}", p.cost);
        }
    }
}
