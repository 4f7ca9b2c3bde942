//! The payload of a bag made by any BagIt tool: each file under `data/` is an item, described
//! as `ingest` describes a file (type from content, metadata, image fingerprint) while it is
//! copied into the case, with its path relative to `data/` as its provenance path.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::ingest::{detect, fingerprint, meta};

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
/// hashing it and keeping what the extractors need, as ingest does. Not synced: the caller
/// makes all copies durable at once. Returns the SHA-256, the size and the kept bytes with
/// whether they are the whole file.
pub fn copy(
    input: &mut File,
    out: &mut File,
    buf: &mut [u8],
) -> io::Result<(String, u64, Vec<u8>, bool)> {
    let expected = input.metadata().map(|m| m.len()).unwrap_or(0);
    let k = crate::ingest::copy::copy_keeping(input, out, expected, buf)?;
    Ok((k.sha256, k.size, k.bytes, k.complete))
}

/// Describe a copied file with ingest's own extractors, in this thread's parser worker (a
/// bag's payload is evidence like any other: a parser it crashes costs only its metadata).
pub fn describe(name: &str, bytes: &[u8], complete: bool, stored: &Path) -> Description {
    use std::os::unix::ffi::OsStrExt;
    let detected = detect::detect(bytes);
    let (metadata, fingerprint) =
        if matches!(detected.kind, detect::Kind::Other | detect::Kind::Archive) {
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
