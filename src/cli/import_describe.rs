//! The payload of a bag made by any BagIt tool: each file under `data/` is an item, described
//! as `ingest` describes a file (type from content, metadata, image fingerprint) while it is
//! copied into the case, with its path relative to `data/` as its provenance path.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::ingest::{detect, fingerprint, meta};

/// The read size of a copy (as ingest's).
pub const CHUNK: usize = crate::ingest::copy::CHUNK;

/// Files up to this size are kept whole in memory for the extractors (as ingest does); of
/// larger ones the head is kept and the extractors read the stored copy.
const WHOLE_LIMIT: usize = crate::ingest::copy::WHOLE_LIMIT;
const HEAD_LIMIT: usize = 1 << 20;

/// What the content says a file is.
pub struct Description {
    pub mime: String,
    pub kind: &'static str,
    pub ext_mismatch: Option<String>,
    pub metadata_json: String,
    pub captured_at: Option<String>,
    /// The image's prints and the preview kept in the case, from one decoding.
    pub fingerprint: Option<fingerprint::Made>,
}

/// The item's name and provenance path for a payload file: its last component, and its path
/// relative to `data/`.
pub fn names(bag_file: &str) -> (String, Vec<u8>) {
    let rel = bag_file.strip_prefix("data/").unwrap_or(bag_file);
    (
        crate::text::file_name(rel.as_bytes()),
        rel.as_bytes().to_vec(),
    )
}

/// Copy `input` into `out` (a temporary object) through `buf` (reused from file to file),
/// hashing it and keeping what the extractors need. Not synced: the caller makes all copies
/// durable at once. Returns the SHA-256, the size and the kept bytes with
/// whether they are the whole file.
pub fn copy(
    input: &mut File,
    out: &mut File,
    buf: &mut [u8],
) -> io::Result<(String, u64, Vec<u8>, bool)> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    let expected = input.metadata().map(|m| m.len()).unwrap_or(0);
    let keep_whole = expected <= WHOLE_LIMIT as u64;
    let limit = if keep_whole { WHOLE_LIMIT } else { HEAD_LIMIT };
    let mut kept = Vec::with_capacity((expected as usize).min(limit));
    let mut complete = true;
    loop {
        let n = match input.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &buf[..n];
        h.update(data);
        out.write_all(data)?;
        total += n as u64;
        let take = limit.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&data[..take]);
        if take < n {
            complete = false;
        }
    }
    Ok((hex::encode(h.finalize()), total, kept, complete))
}

/// Describe a copied file with ingest's own extractors, in this thread's parser worker (a
/// bag's payload is evidence like any other: a parser it crashes costs only its metadata).
pub fn describe(name: &str, bytes: &[u8], complete: bool, stored: &Path) -> Description {
    use std::os::unix::ffi::OsStrExt;
    let detected = detect::detect(bytes);
    let (metadata, fingerprint) = if detected.kind == detect::Kind::Other {
        (meta::Metadata::default(), None)
    } else {
        let job = crate::worker::protocol::Job::Describe {
            path: stored.as_os_str().as_bytes().to_vec(),
            kind: detected.kind.as_str().into(),
            mime: detected.mime.clone(),
            head: bytes.len() as u64,
            complete,
            fingerprint: detected.kind == detect::Kind::Image,
        };
        let (metadata, prints, _problem, preview) =
            crate::ingest::described(crate::worker::run(&job));
        let made = prints.map(|(print, thumb)| fingerprint::Made {
            print,
            thumb,
            preview,
        });
        (metadata, made)
    };
    Description {
        metadata_json: serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()),
        captured_at: metadata.captured_at(),
        ext_mismatch: detect::extension_mismatch(name, &detected.mime),
        kind: detected.kind.as_str(),
        mime: detected.mime,
        fingerprint,
    }
}

/// The fingerprint and kept preview of an image a triage bag describes (its metadata is the
/// sender's; only what bags do not carry is computed here).
pub fn fingerprint_only(metadata_json: &str, stored: &Path) -> Option<fingerprint::Made> {
    let metadata: meta::Metadata = serde_json::from_str(metadata_json).unwrap_or_default();
    let orientation = metadata.exif.as_ref().and_then(|e| e.orientation);
    crate::worker::fingerprint_file(stored, orientation).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_to_data() {
        let (name, path) = names("data/photos/a b.jpg");
        assert_eq!(name, "a b.jpg");
        assert_eq!(path, b"photos/a b.jpg");
    }
}
