//! BagIt bags (RFC 8493, and BagIt 0.97): writing a bag for disclosure (`writer`) and
//! validating a bag from anywhere before anything of it enters a case (`validator`). Files and
//! hashes only; no SQL.
//!
//! A bag read here is untrusted: paths from its manifests must stay inside it, symbolic links
//! are refused, and every problem found is reported (not only the first), each with the
//! bag-relative path it concerns.

mod files;
pub(crate) mod manifest;
pub(crate) mod tagfiles;
mod validator;
mod writer;

pub use manifest::Alg;
pub use validator::{validate, Valid};
pub use writer::{Finished, Writer};

pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
pub const BAG_INFO: &str = "bag-info.txt";
pub const BAGIT: &str = "bagit.txt";

const BUF: usize = 1 << 20;

/// One payload file: its bag-relative path (`data/...`), SHA-256 (lowercase hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Something wrong with one file of a bag. `path` is relative to the bag and comes from the bag
/// itself: sanitise it before showing it on a terminal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

fn problem(path: impl Into<String>, reason: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        reason: reason.into(),
    }
}

/// The extension a payload file gets, from the detected MIME type only (never from a name a
/// provider chose).
pub fn extension_for(mime: &str) -> &'static str {
    match mime.trim().to_ascii_lowercase().as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/tiff" => "tif",
        "image/bmp" => "bmp",
        "image/heif" | "image/heic" => "heic",
        "application/pdf" => "pdf",
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/x-msvideo" => "avi",
        "video/3gpp" => "3gp",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/ogg" => "ogg",
        "audio/x-wav" | "audio/wav" => "wav",
        "application/zip" => "zip",
        _ => "bin",
    }
}
