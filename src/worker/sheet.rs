//! The picture a video or PDF is previewed by, made in a worker with outside tools (see
//! `super::tool`): a contact sheet of keyframes spread over a video (ffmpeg), or a PDF's
//! first page (pdftoppm). Kept in the case's thumbnail cache by the caller, so each is made
//! once.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use image::{DynamicImage, GenericImageView, RgbImage};

use super::tool::{self, Failure};

/// Frames on a contact sheet, in rows of `COLUMNS`.
pub const FRAMES: usize = 6;
const COLUMNS: u32 = 3;
/// One frame's box in pixels (16:9; other shapes are letterboxed).
const TILE_W: u32 = 168;
const TILE_H: u32 = 96;
/// A dark line between frames so that they read apart even in half blocks.
const GAP: u32 = 4;
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
    let rows = (FRAMES as u32).div_ceil(COLUMNS);
    let mut sheet = RgbImage::new(
        COLUMNS * TILE_W + (COLUMNS - 1) * GAP,
        rows * TILE_H + (rows - 1) * GAP,
    );
    let started = Instant::now();
    let mut got = 0;
    let mut last_err = String::new();
    for (i, t) in times.iter().enumerate() {
        if started.elapsed() > SHEET_WALL {
            break;
        }
        match frame(path, *t) {
            Ok(img) => {
                let (x0, y0) = (
                    (i as u32 % COLUMNS) * (TILE_W + GAP),
                    (i as u32 / COLUMNS) * (TILE_H + GAP),
                );
                let img = img.thumbnail(TILE_W, TILE_H).to_rgb8();
                let (dx, dy) = ((TILE_W - img.width()) / 2, (TILE_H - img.height()) / 2);
                for (x, y, p) in img.enumerate_pixels() {
                    sheet.put_pixel(x0 + dx + x, y0 + dy + y, *p);
                }
                got += 1;
            }
            Err(Failure::Missing) => return Err(NO_FFMPEG.into()),
            Err(Failure::Failed(e)) => last_err = e,
        }
    }
    if got == 0 {
        return Err(format!("no frame could be extracted: {last_err}"));
    }
    Ok(DynamicImage::ImageRgb8(sheet))
}

/// One frame at about `t` seconds (rotation applied), scaled to a tile: the keyframe at or
/// before `t`, decoded alone (a fraction of the work); when the decoder gives none that way
/// (some H.264 streams), the frame at `t` decoded from its keyframe.
fn frame(path: &Path, t: f64) -> Result<DynamicImage, Failure> {
    match frame_with(path, t, true) {
        Ok(Some(img)) => Ok(img),
        Ok(None) => {
            frame_with(path, t, false)?.ok_or_else(|| Failure::Failed("no frame there".into()))
        }
        Err(e) => Err(e),
    }
}

fn frame_with(path: &Path, t: f64, keyframe: bool) -> Result<Option<DynamicImage>, Failure> {
    let mut input = std::ffi::OsString::from("file:");
    input.push(path.as_os_str());
    let at = format!("{t:.3}");
    let scale = format!("scale={TILE_W}:{TILE_H}:force_original_aspect_ratio=decrease");
    let before = ["-v", "error", "-nostdin", "-threads", "1"];
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
        &scale,
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
    let png = tool::run("ffmpeg", &args, FRAME_WALL, CAP)?;
    if png.is_empty() {
        return Ok(None);
    }
    png_image(&png).map(Some)
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
    #[test]
    fn frames_spread_over_the_clip() {
        let t = super::frame_times(12.0);
        assert_eq!(t, vec![1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
    }
}
