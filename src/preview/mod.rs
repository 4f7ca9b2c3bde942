//! Image previews: decoded and scaled off the UI thread, within a byte budget, never from an
//! image too large to decode safely. The console asks; a worker answers on the event channel.

pub mod ahead;
pub(crate) mod budget;
pub(crate) mod decode;
pub(crate) mod graphics;

use std::path::PathBuf;

/// How an image is shown in cells: each cell is two pixels, one above the other (`▀`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Shades of `░▒▓█` for terminals without colour.
    Mono,
    Ansi16,
    Ansi256,
    True,
}

/// What the picture of an item is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Visual {
    /// The image itself.
    #[default]
    Image,
    /// A contact sheet of keyframes (`crate::worker::sheet`).
    Video { duration_s: Option<f64> },
    /// The first page.
    PdfPage,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub visual: Visual,
    pub generation: u64,
    pub item_id: i64,
    /// The stored original.
    pub path: PathBuf,
    /// Where the case caches this image's thumbnail (`cache/thumbs/<sha256>.png`).
    pub thumbnail: Option<PathBuf>,
    /// EXIF orientation to apply (1 = none).
    pub orientation: u16,
    /// The largest area it may take, in cells.
    pub max_cols: u16,
    pub max_rows: u16,
    /// Bytes the drawing may cost on the wire.
    pub budget: usize,
    /// The best colour depth the terminal can show.
    pub depth: Depth,
    pub grayscale: bool,
    pub blur: bool,
    /// Sixel or kitty instead of half blocks (only when the reviewer asks for it).
    pub protocol: Option<graphics::Protocol>,
    /// Pixels per cell, as the terminal reports them (for sixel and kitty).
    pub cell_px: (u16, u16),
    /// The items with a picture the reviewer is likely to look at next: their kept previews
    /// (or contact sheets, PDF pages) are read and decoded while the reviewer looks at this one.
    pub ahead: Vec<i64>,
}

/// Where a case caches the picture decoded from an original (a contact sheet, a PDF page, an
/// image it keeps no preview of): `cache/thumbs/<sha256>.png`.
pub fn cached_picture(root: &std::path::Path, sha256: &str) -> PathBuf {
    root.join("cache")
        .join("thumbs")
        .join(format!("{sha256}.png"))
}

/// What an item's picture is made from, by its kind; `None` for kinds without a picture.
pub fn visual_of(kind: &str, video: Option<&crate::model::metadata::VideoInfo>) -> Option<Visual> {
    match kind {
        "video" => Some(Visual::Video {
            duration_s: video.and_then(|v| v.duration_s),
        }),
        "pdf" => Some(Visual::PdfPage),
        "image" => Some(Visual::Image),
        _ => None,
    }
}

/// A scaled image ready to draw: `height` is in pixels (two per cell row).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub width: u16,
    pub height: u16,
    pub depth: Depth,
    /// Row-major RGB, already reduced to `depth`.
    pub pixels: Vec<[u8; 3]>,
    /// Estimated bytes to draw it.
    pub cost: usize,
    /// A sixel or kitty escape sequence to send at the picture's top-left cell, instead of
    /// `pixels` in half blocks.
    pub graphic: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub generation: u64,
    pub item_id: i64,
    pub result: Result<Picture, String>,
}

/// Do one request (on whatever thread calls it), from the original (no case at hand).
pub fn answer(req: &Request) -> Answer {
    answer_from(req, None)
}

/// Answer from `base` (the item's kept preview, decoded) when given, else from the original.
pub fn answer_from(req: &Request, base: Option<image::DynamicImage>) -> Answer {
    answer_of(req, base.map_or_else(|| decode::load_base(req), Ok))
}

/// The answer to `req` from its picture before the variant, or why there is none.
pub fn answer_of(req: &Request, base: Result<image::DynamicImage, String>) -> Answer {
    let img = base.map(|img| decode::variant(img, req));
    Answer {
        generation: req.generation,
        item_id: req.item_id,
        result: img.and_then(|img| match req.protocol {
            Some(p) => graphics::fit(&img, req, p),
            None => budget::fit(&img, req),
        }),
    }
}
