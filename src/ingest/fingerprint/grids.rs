//! The grids hashes and thumbnails are made from, in display orientation.

use image::DynamicImage;

use super::hash::{dhash, phash};
use super::resample::area_resample;
use super::{Fingerprint, Thumb};

/// What the hashes and the thumbnail are made from: two grids of the image as displayed.
pub(super) struct Grids {
    /// Displayed width and height.
    pub(super) size: (usize, usize),
    /// 9 × 8 cells, for the dHash.
    pub(super) small: Vec<f32>,
    /// 32 × 32 cells, for the pHash and the thumbnail.
    pub(super) large: Vec<f32>,
}

/// The grids of a decoded image, its EXIF orientation applied. They are made in stored
/// coordinates, then turned: far cheaper than turning the image, and the same cells (a box
/// filter commutes with flips and transposes).
pub(super) fn grids(img: &DynamicImage, orientation: Option<u16>) -> Grids {
    grids_of(
        img,
        orientation,
        (img.width() as usize, img.height() as usize),
    )
}

/// `grids` of a picture decoded at reduced scale from one of `full` pixels (the size kept).
pub(super) fn grids_of(
    img: &DynamicImage,
    orientation: Option<u16>,
    full: (usize, usize),
) -> Grids {
    let o = orientation.filter(|o| (1..=8).contains(o)).unwrap_or(1);
    let transposed = o >= 5;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let small = if transposed { (8, 9) } else { (9, 8) };
    let mut made = match img {
        DynamicImage::ImageLuma8(b) => area_resample(b.as_raw(), 1, w, h, &[small, (32, 32)]),
        DynamicImage::ImageLumaA8(b) => area_resample(b.as_raw(), 2, w, h, &[small, (32, 32)]),
        DynamicImage::ImageRgb8(b) => area_resample(b.as_raw(), 3, w, h, &[small, (32, 32)]),
        DynamicImage::ImageRgba8(b) => area_resample(b.as_raw(), 4, w, h, &[small, (32, 32)]),
        other => area_resample(other.to_luma8().as_raw(), 1, w, h, &[small, (32, 32)]),
    };
    let large = orient_grid(&made.pop().unwrap_or_default(), 32, 32, o);
    let small = orient_grid(&made.pop().unwrap_or_default(), small.0, small.1, o);
    Grids {
        size: if transposed { (full.1, full.0) } else { full },
        small,
        large,
    }
}

impl Grids {
    pub(super) fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            dhash: dhash(&self.small),
            phash: phash(&self.large),
        }
    }

    pub(super) fn both(self) -> (Fingerprint, Thumb) {
        (self.fingerprint(), self.thumb())
    }

    pub(super) fn thumb(self) -> Thumb {
        Thumb {
            aspect: self.size.0 as f32 / self.size.1 as f32,
            size: (self.size.0 as u32, self.size.1 as u32),
            grid: self.large,
        }
    }
}

/// `grid` (gw×gh, stored orientation) as displayed under EXIF orientation `o`.
fn orient_grid(grid: &[f32], gw: usize, gh: usize, o: u16) -> Vec<f32> {
    if o == 1 {
        return grid.to_vec();
    }
    let (dw, dh) = if o >= 5 { (gh, gw) } else { (gw, gh) };
    let mut out = Vec::with_capacity(dw * dh);
    for y in 0..dh {
        for x in 0..dw {
            let (sx, sy) = match o {
                2 => (gw - 1 - x, y),
                3 => (gw - 1 - x, gh - 1 - y),
                4 => (x, gh - 1 - y),
                5 => (y, x),
                6 => (y, gh - 1 - x),
                7 => (gw - 1 - y, gh - 1 - x),
                8 => (gw - 1 - y, x),
                _ => (x, y),
            };
            out.push(grid[sy * gw + sx]);
        }
    }
    out
}
