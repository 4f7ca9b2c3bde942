//! Image previews: decoded and scaled off the UI thread, within a byte budget, never from an
//! image too large to decode safely. The console asks; a worker answers on the event channel.

pub mod budget;
pub mod decode;
pub mod graphics;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};

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

/// Do one request (on whatever thread calls it).
pub fn answer(req: &Request) -> Answer {
    Answer {
        generation: req.generation,
        item_id: req.item_id,
        result: decode::load_cached(req).and_then(|img| match req.protocol {
            Some(p) => graphics::fit(&img, req, p),
            None => budget::fit(&img, req),
        }),
    }
}

/// A worker thread: takes the newest request (older queued ones are dropped: the reviewer
/// moved on), answers through `reply`.
pub fn spawn_worker<T: Send + 'static>(
    requests: Receiver<Request>,
    reply: Sender<T>,
    wrap: fn(Answer) -> T,
) {
    std::thread::Builder::new()
        .name("preview".into())
        .spawn(move || {
            while let Ok(mut req) = requests.recv() {
                while let Ok(newer) = requests.try_recv() {
                    req = newer;
                }
                if reply.send(wrap(answer(&req))).is_err() {
                    return;
                }
            }
        })
        .ok();
}
