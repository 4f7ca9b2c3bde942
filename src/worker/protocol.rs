//! What the parent and a parser worker say to each other over the worker's stdin and stdout:
//! frames of a 4-byte little-endian length and a JSON body. Paths go as bytes (lossless).

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::ingest::meta::Metadata;

/// No frame is longer (a preview image is at most 512 × 512 RGB, base64).
pub const MAX_FRAME: usize = 16 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Job {
    /// An ingested file's metadata, and its fingerprint when asked. The worker reads the
    /// first `head` bytes of the stored copy (the whole file when `complete`), as the
    /// extractors saw them in memory before isolation.
    Describe {
        path: Vec<u8>,
        kind: String,
        mime: String,
        head: u64,
        complete: bool,
        fingerprint: bool,
    },
    /// An image's fingerprint and thumbnail, from its stored original.
    Fingerprint {
        path: Vec<u8>,
        orientation: Option<u16>,
    },
    /// The image a preview is drawn from: the cached thumbnail when there and readable, else
    /// the original decoded (oriented, at most 512 pixels a side).
    Preview {
        path: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
        orientation: u16,
    },
    /// The picture a video (a contact sheet of keyframes) or a PDF (its first page) is
    /// previewed by: the cached one when there and readable, else made from the original.
    Sheet {
        path: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
        /// `video` or `pdf`.
        kind: String,
        duration_s: Option<f64>,
    },
    /// A container's members (archive entries, e-mail attachments), each streamed while
    /// hashed into `into/<ordinal>` (a fresh folder in the case's temporary area) and listed
    /// in `into/list` (see [`Member`]); members past the budget are not expanded.
    Expand {
        path: Vec<u8>,
        /// `zip`, `tar`, `gzip`, `bzip2`, `xz`, `zstd`, `7z` or `email`.
        format: String,
        /// The container's own name: a single compressed file's member is named after it.
        name: Vec<u8>,
        into: Vec<u8>,
        budget: Budget,
    },
}

impl Job {
    /// CPU seconds this job may use: a container's expansion gets more the larger it is.
    pub fn cpu_seconds(&self) -> u64 {
        match self {
            Job::Expand { budget, .. } => {
                super::limits::CPU_SECONDS + budget.container_size / (8 << 20)
            }
            _ => super::limits::CPU_SECONDS,
        }
    }
}

/// What one container's expansion may still use: the family's remaining members and bytes,
/// and this container's own ratio of expanded to stored bytes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Budget {
    pub members: u64,
    pub bytes: u64,
    /// Expanded bytes may reach `ratio` × `container_size` (at least `ratio_floor`).
    pub ratio: u64,
    pub ratio_floor: u64,
    pub container_size: u64,
}

/// One member as listed by the worker (one JSON line of `into/list`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Member {
    /// Its place in the container, from 1; its data is `into/<ordinal>`.
    pub ordinal: u32,
    /// The name inside the container, as stored (base64: names need not be UTF-8).
    pub name_b64: String,
    pub size: u64,
    pub sha256: String,
    /// The modification time the container gives, if any.
    pub mtime: Option<String>,
}

/// A fingerprint and its thumbnail as kept in the case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Print {
    pub dhash: u64,
    pub phash: u64,
    /// `Thumb::to_blob`, base64.
    pub thumb: String,
    /// The preview kept in the case (ingest only): width, height and JPEG, base64.
    #[serde(default)]
    pub preview: Option<(u32, u32, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Reply {
    Described {
        metadata: Box<Metadata>,
        print: Option<Print>,
    },
    Print(Print),
    Image {
        width: u32,
        height: u32,
        /// Row-major RGB, base64.
        rgb: String,
        /// Decoded from the original (the parent may cache it as the thumbnail).
        fresh: bool,
    },
    /// A container expanded: how many members were listed, and what was refused or stopped
    /// (each a problem recorded on the container).
    Expanded {
        members: u32,
        problems: Vec<String>,
    },
    /// The parser said no (a damaged or unsupported file): an ordinary warning.
    Refused(String),
    /// The parser panicked; the worker caught it and goes on.
    Panicked(String),
}

pub fn write_frame<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    if body.len() > MAX_FRAME {
        return Err(io::Error::other("frame too large"));
    }
    out.write_all(&(body.len() as u32).to_le_bytes())?;
    out.write_all(&body)?;
    out.flush()
}

/// The next frame, or `None` at a clean end of input.
pub fn read_frame<R: Read, T: for<'de> Deserialize<'de>>(input: &mut R) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other("frame too large"));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let job = Job::Fingerprint {
            path: b"/x/\xff".to_vec(),
            orientation: Some(6),
        };
        let mut buf = Vec::new();
        write_frame(&mut buf, &job).unwrap();
        let back: Option<Job> = read_frame(&mut buf.as_slice()).unwrap();
        assert!(
            matches!(back, Some(Job::Fingerprint { path, orientation: Some(6) }) if path == b"/x/\xff")
        );
        let none: Option<Job> = read_frame(&mut [].as_slice()).unwrap();
        assert!(none.is_none());
    }
}
