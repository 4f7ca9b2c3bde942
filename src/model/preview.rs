//! A preview kept in the case for an image (made at ingest, read by the console).

/// A kept preview: its displayed size and JPEG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}
