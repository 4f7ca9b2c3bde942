//! Metadata extracted at ingest, one typed structure stored as JSON. One file per format; each
//! extractor gets the bytes in memory (or the stored copy for large files) and never fails the
//! ingest: a parse error becomes a warning on the item.

mod chat;
mod email;
mod image;
mod pdf;
mod text;
mod video;

use std::path::Path;

use super::detect::Kind;

pub use pdf::TEXT_PAGES as PDF_TEXT_PAGES;
pub use video::bmff;
pub use video::ffprobe;
pub use video::NO_FFMPEG;

pub use crate::model::metadata::{
    Attachment, ChatAttachment, ChatLog, ChatMessage, EmailInfo, Exif, Gps, ImageInfo, Metadata,
    PdfInfo, TextInfo, VideoInfo,
};

/// The content to describe: all of it in memory, or its head plus the stored copy on disk.
pub struct Content<'a> {
    pub bytes: &'a [u8],
    pub complete: bool,
    pub stored: &'a Path,
}

pub fn extract(kind: Kind, mime: &str, content: &Content) -> Metadata {
    let mut m = Metadata::default();
    match kind {
        Kind::Image => image::extract(mime, content, &mut m),
        Kind::Pdf => pdf::extract(content, &mut m),
        Kind::Email => email::extract(content.bytes, &mut m),
        Kind::Text => text::extract(content.bytes, &mut m),
        Kind::Video => video::extract(content, &mut m),
        Kind::Archive | Kind::Other => {}
    }
    m
}
