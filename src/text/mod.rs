//! Untrusted text from evidence: the only road from it to the screen, and lossless paths.

pub(crate) mod bidi;
pub(crate) mod fold;
pub(crate) mod sanitize;
pub(crate) mod width;

pub use sanitize::{sanitize, sanitize_multiline, Safe};

use base64::Engine;

/// A path as JSON: the string when it is valid UTF-8, otherwise `{"b64": ...}` of its bytes.
pub fn path_for_json(path: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(path) {
        Ok(s) => serde_json::Value::String(s.to_string()),
        Err(_) => serde_json::json!({ "b64": b64(path) }),
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// The last component of a path, decoded lossily (for display and search only).
pub fn file_name(path: &[u8]) -> String {
    let last = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
    String::from_utf8_lossy(last).into_owned()
}
