//! The picture a video or PDF is previewed by, made in a worker with outside tools (see
//! `super::tool`): a contact sheet of keyframes spread over a video (ffmpeg), or a PDF's
//! first page (pdftoppm). Kept in the case's thumbnail cache by the caller, so each is made
//! once.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use image::{DynamicImage, GenericImageView, RgbImage};

use super::digits;
use super::tool::{self, Failure};

/// Frames on a contact sheet, in rows of `COLUMNS`.
pub const FRAMES: usize = 6;
const COLUMNS: u32 = 3;
/// One frame's box in pixels (16:9; other shapes are letterboxed).
const TILE_W: u32 = 168;
const TILE_H: u32 = 96;
/// A dark line between frames so that they read apart even in half blocks.
const GAP: u32 = 4;
/// Under each frame, its time in digits whose font cells are up to `CELL` pixels square:
/// at 120×40 a half-block preview shrinks the sheet about tenfold, leaving each cell a
/// terminal pixel or more.
const CELL: u32 = 12;
const BAND: u32 = digits::ROWS * CELL + 2 * PAD;
const PAD: u32 = 5;
/// Each ffmpeg run seeks to one frame and decodes it; the whole sheet stays within the
/// worker's 30 s per job.
const FRAME_WALL: Duration = Duration::from_secs(4);
const SHEET_WALL: Duration = Duration::from_secs(24);
/// One PNG frame or page is far smaller than this.
const CAP: usize = 8 << 20;

/// What the pane says when the tools are not installed.
pub const NO_FFMPEG: &str = "no video preview: ffmpeg is not installed (apt-get install ffmpeg)";
pub const NO_POPPLER: &str =
    "no page preview: poppler-utils is not installed (apt-get install poppler-utils)";

/// The seconds at which the sheet's frames are taken: the middle of each sixth of the clip.
pub fn frame_times(duration_s: f64) -> Vec<f64> {
    (0..FRAMES)
        .map(|i| duration_s.max(0.0) * (i as f64 + 0.5) / FRAMES as f64)
        .collect()
}

pub fn video(path: &Path, duration_s: Option<f64>) -> Result<DynamicImage, String> {
    let times = frame_times(duration_s.unwrap_or(0.0));
    let started = Instant::now();
    let mut frames = Vec::new();
    let mut last_err = String::new();
    for t in &times {
        if started.elapsed() > SHEET_WALL {
            break;
        }
        match frame(path, *t) {
            Ok(f) => frames.push(Some(f)),
            Err(Failure::Missing) => return Err(NO_FFMPEG.into()),
            Err(Failure::Failed(e)) => {
                last_err = e;
                frames.push(None);
            }
        }
    }
    if frames.iter().all(Option::is_none) {
        return Err(format!("no frame could be extracted: {last_err}"));
    }
    Ok(DynamicImage::ImageRgb8(compose(&frames)))
}

/// The sheet: frames in rows of `COLUMNS`, each letterboxed in its tile with its time drawn
/// under it; a frame that could not be had leaves its tile dark.
pub fn compose(frames: &[Option<(DynamicImage, f64)>]) -> RgbImage {
    let rows = (FRAMES as u32).div_ceil(COLUMNS);
    let mut sheet = RgbImage::new(
        COLUMNS * TILE_W + (COLUMNS - 1) * GAP,
        rows * (TILE_H + BAND) + (rows - 1) * GAP,
    );
    for (i, f) in frames.iter().take(FRAMES).enumerate() {
        let Some((img, at)) = f else { continue };
        let (x0, y0) = tile_origin(i);
        let img = img.thumbnail(TILE_W, TILE_H).to_rgb8();
        let (dx, dy) = ((TILE_W - img.width()) / 2, (TILE_H - img.height()) / 2);
        for (x, y, p) in img.enumerate_pixels() {
            sheet.put_pixel(x0 + dx + x, y0 + dy + y, *p);
        }
        let (x, cell, text) = label_at(i, *at);
        digits::draw(&mut sheet, x, y0 + TILE_H + PAD, cell, &text);
    }
    sheet
}

/// The top-left pixel of frame `i`'s tile.
fn tile_origin(i: usize) -> (u32, u32) {
    let i = i as u32;
    (
        (i % COLUMNS) * (TILE_W + GAP),
        (i / COLUMNS) * (TILE_H + BAND + GAP),
    )
}

/// Where frame `i`'s time starts, its cell size (smaller for long clips' `h:mm:ss`, to fit
/// the tile) and its text.
pub fn label_at(i: usize, seconds: f64) -> (u32, u32, String) {
    let text = digits::clock(seconds);
    let cells = digits::cells(&text).max(1);
    let cell = CELL.min((TILE_W - 2 * PAD) / cells).max(1);
    let (x0, _) = tile_origin(i);
    (x0 + (TILE_W - cells * cell) / 2, cell, text)
}

/// The top of frame `i`'s time, for tests that read it back.
pub fn label_top(i: usize) -> u32 {
    tile_origin(i).1 + TILE_H + PAD
}

/// One frame at about `t` seconds (rotation applied), scaled to a tile, with the time it was
/// taken at: the keyframe at or before `t`, decoded alone (a fraction of the work); when the
/// decoder gives none that way (some H.264 streams), the frame at `t` decoded from its
/// keyframe.
fn frame(path: &Path, t: f64) -> Result<(DynamicImage, f64), Failure> {
    match frame_with(path, t, true) {
        Ok(Some(img)) => Ok(img),
        Ok(None) => {
            frame_with(path, t, false)?.ok_or_else(|| Failure::Failed("no frame there".into()))
        }
        Err(e) => Err(e),
    }
}

fn frame_with(path: &Path, t: f64, keyframe: bool) -> Result<Option<(DynamicImage, f64)>, Failure> {
    let mut input = std::ffi::OsString::from("file:");
    input.push(path.as_os_str());
    let at = format!("{t:.3}");
    // showinfo logs each frame's time, relative to the seek point: the keyframe's own time.
    let filters = format!("showinfo,scale={TILE_W}:{TILE_H}:force_original_aspect_ratio=decrease");
    let before = [
        "-v",
        "info",
        "-hide_banner",
        "-nostats",
        "-nostdin",
        "-threads",
        "1",
    ];
    let fast: &[&str] = if keyframe {
        &["-skip_frame", "nokey", "-noaccurate_seek"]
    } else {
        &[]
    };
    let seek = ["-protocol_whitelist", "file", "-ss", &at, "-i"];
    let after = [
        "-frames:v",
        "1",
        "-an",
        "-vf",
        &filters,
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ];
    let args: Vec<&OsStr> = before
        .iter()
        .chain(fast.iter())
        .chain(seek.iter())
        .map(OsStr::new)
        .chain(std::iter::once(input.as_os_str()))
        .chain(after.iter().map(OsStr::new))
        .collect();
    let (png, log) = tool::run_logged("ffmpeg", &args, FRAME_WALL, CAP, true)?;
    if png.is_empty() {
        return Ok(None);
    }
    let shown = (t + pts_time(&log).unwrap_or(0.0)).max(0.0);
    png_image(&png).map(|img| Some((img, shown)))
}

/// The first frame's `pts_time:` in ffmpeg's showinfo log.
fn pts_time(log: &str) -> Option<f64> {
    let rest = &log[log.find("pts_time:")? + "pts_time:".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok().filter(|v: &f64| v.is_finite())
}

/// A PDF's first page, rendered small (the preview is a few hundred pixels at most).
pub fn pdf_page(path: &Path) -> Result<DynamicImage, String> {
    let fixed = [
        "-q",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        "-scale-to",
        "512",
        "-png",
    ];
    let args: Vec<&OsStr> = fixed
        .iter()
        .map(OsStr::new)
        .chain(std::iter::once(path.as_os_str()))
        .collect();
    match tool::run("pdftoppm", &args, Duration::from_secs(20), CAP) {
        Ok(png) => png_image(&png).map_err(|e| match e {
            Failure::Failed(e) => e,
            Failure::Missing => NO_POPPLER.into(),
        }),
        Err(Failure::Missing) => Err(NO_POPPLER.into()),
        Err(Failure::Failed(e)) => Err(format!("the first page could not be rendered: {e}")),
    }
}

/// A tool's PNG, decoded under the same limits as any image.
fn png_image(png: &[u8]) -> Result<DynamicImage, Failure> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(png), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(super::limits::DECODE_BUDGET);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| Failure::Failed(format!("unreadable frame: {e}")))?;
    if img.dimensions().0 == 0 || img.dimensions().1 == 0 {
        return Err(Failure::Failed("empty frame".into()));
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn showinfo_times() {
        let log = "[Parsed_showinfo_0 @ 0x55] n:   0 pts:  -25600 pts_time:-2.5 duration:512\n\
                   [Parsed_showinfo_0 @ 0x55] n:   1 pts:  5120 pts_time:0.5\n";
        assert_eq!(pts_time(log), Some(-2.5));
        assert_eq!(pts_time("pts_time:12 x"), Some(12.0));
        assert_eq!(pts_time("no frame"), None);
        assert_eq!(pts_time("pts_time:nan"), None);
    }

    /// Each frame's time is drawn under it, and still reads when the sheet is shrunk to what
    /// a half-block preview at 120×40 shows (52×34 terminal pixels at most).
    #[test]
    fn frame_times_are_drawn_legibly() {
        let grey = DynamicImage::ImageRgb8(RgbImage::from_pixel(320, 240, image::Rgb([90; 3])));
        let times = [0.0, 5.0, 12.5, 59.0, 754.2, 3723.0];
        let frames: Vec<_> = times.iter().map(|t| Some((grey.clone(), *t))).collect();
        let sheet = compose(&frames);
        let (pw, ph) = (52.0f32, 34.0f32);
        let k = (pw / sheet.width() as f32).min(ph / sheet.height() as f32);
        let small = image::imageops::resize(
            &sheet,
            (sheet.width() as f32 * k).round() as u32,
            (sheet.height() as f32 * k).round() as u32,
            image::imageops::FilterType::Triangle,
        );
        for (i, t) in times.iter().enumerate() {
            let (x, cell, text) = label_at(i, *t);
            let y = label_top(i);
            assert_eq!(
                digits::read(&sheet, x as f32, y as f32, cell as f32, text.len()),
                text,
                "frame {i} in the sheet"
            );
            // Under ten minutes, m:ss fits at full size: a terminal pixel or more per font
            // cell (looked at: the digits read, if softly; longer times come out smaller).
            if *t < 600.0 {
                assert_eq!(cell, CELL);
                assert!(cell as f32 * k >= 1.0, "{}", cell as f32 * k);
            }
        }
        // And the labels stand apart: dark between one frame's time and the next's.
        let (x0, cell, text) = label_at(0, 0.0);
        let end = x0 + digits::cells(&text) * cell;
        let (x1, _, _) = label_at(1, 0.0);
        assert!(x1 - end >= 12, "{end} {x1}");
        let y = (label_top(0) + cell * 2) as f32 * k;
        let mid = ((end + x1) as f32 / 2.0 * k) as u32;
        assert!(small.get_pixel(mid, y as u32).0[0] < 128);
    }

    #[test]
    fn frames_spread_over_the_clip() {
        let t = frame_times(12.0);
        assert_eq!(t, vec![1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
    }
}
