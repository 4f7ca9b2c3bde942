//! An image's fingerprint (two perceptual hashes) and kept thumbnail: computed by ingest's
//! parser workers, stored by the store, compared by `similar`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub dhash: u64,
    pub phash: u64,
}

impl Fingerprint {
    /// The two hashes as SQLite integers (the same 64 bits).
    pub fn to_sql(self) -> (i64, i64) {
        (self.dhash as i64, self.phash as i64)
    }

    pub fn from_sql(dhash: i64, phash: i64) -> Fingerprint {
        Fingerprint {
            dhash: dhash as u64,
            phash: phash as u64,
        }
    }
}

/// Thumbnail side: enough detail to tell two scenes apart once aligned, small enough to keep
/// tens of thousands in memory (4 KB each).
pub const THUMB: usize = 32;

/// A small grayscale of an image as displayed, to check a candidate pair in detail.
#[derive(Debug, Clone)]
pub struct Thumb {
    /// Width / height as displayed.
    pub aspect: f32,
    /// Pixels as displayed.
    pub size: (u32, u32),
    /// THUMB × THUMB cells, row by row.
    pub grid: Vec<f32>,
}

impl Thumb {
    /// As kept in the case: width and height (u32, little-endian), then one byte per cell
    /// (luma rounded: 1 KB instead of 4, and the correlations move by well under 0.001).
    pub fn to_blob(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + THUMB * THUMB);
        out.extend_from_slice(&self.size.0.to_le_bytes());
        out.extend_from_slice(&self.size.1.to_le_bytes());
        out.extend(self.grid.iter().map(|v| v.round().clamp(0.0, 255.0) as u8));
        out
    }

    /// The thumbnail kept by [`Thumb::to_blob`]; `None` for anything else.
    pub fn from_blob(blob: &[u8]) -> Option<Thumb> {
        if blob.len() != 8 + THUMB * THUMB {
            return None;
        }
        let w = u32::from_le_bytes(blob[0..4].try_into().ok()?);
        let h = u32::from_le_bytes(blob[4..8].try_into().ok()?);
        if w == 0 || h == 0 {
            return None;
        }
        Some(Thumb {
            aspect: w as f32 / h as f32,
            size: (w, h),
            grid: blob[8..].iter().map(|&b| f32::from(b)).collect(),
        })
    }
}
