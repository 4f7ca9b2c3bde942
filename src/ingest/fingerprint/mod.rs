//! Perceptual fingerprints of images, to find re-encoded, resized and lightly cropped copies of
//! the same picture: a 64-bit dHash (gradient signs of a 9×8 grayscale) and a 64-bit pHash
//! (signs of the low frequencies of a 32×32 grayscale's DCT against their median).
//!
//! Computed from the bytes the ingest already holds, after the EXIF orientation is applied to
//! the pixels (a copy made by a messaging app usually has the rotation baked in, while the
//! original carries an Orientation tag). Hostile files are refused before anything large is
//! allocated: the size is read from the header first, and the decoder runs under limits.

use std::path::Path;

use image::DynamicImage;

use super::meta::{Content, Metadata};

/// Images above this many pixels are not decoded.
pub const MAX_PIXELS: u64 = 50_000_000;
/// The decoder's allocation budget (its output buffer included), within a worker's memory.
const MAX_ALLOC: u64 = crate::worker::limits::DECODE_BUDGET;
/// The longer side a large JPEG is decoded at (at least): plenty for 32 × 32 cells, and
/// enough for the preview kept in the case, so one reduced decode serves both.
const SCALED_SIDE: u32 = super::kept_preview::SIDE;
/// No side longer than this is decoded, whatever the area.
const MAX_SIDE: u32 = 1 << 16;
/// A stored file larger than this is not read for a fingerprint (the JPEG decoder reads its
/// whole input into memory before looking at the header).
const MAX_FILE: u64 = 256 << 20;

pub use crate::model::fingerprint::{Fingerprint, Thumb, THUMB};

/// The fingerprint and the thumbnail of an image held in memory. `orientation` is the EXIF
/// Orientation value (1–8), applied before hashing. An error is a warning for the item,
/// starting with `fingerprint: `.
pub fn of_bytes(bytes: &[u8], orientation: Option<u16>) -> Result<(Fingerprint, Thumb), String> {
    guarded(|| decode(Input::Bytes(bytes), orientation, false).map(|(g, _)| g.both()))
}

/// The fingerprint and the thumbnail of an image stored on disk, from one decoding.
pub fn of_file(path: &Path, orientation: Option<u16>) -> Result<(Fingerprint, Thumb), String> {
    if super::heif::sniff(path) {
        return guarded(|| heif_made(path, &Metadata::default())).map(|m| (m.print, m.thumb));
    }
    let file = open_bounded(path)?;
    guarded(|| decode(Input::File(file), orientation, false).map(|(g, _)| g.both()))
}

/// `of_file`, and the preview kept in the case, from the same (reduced) decoding: for images
/// fingerprinted after their ingest (`triage dups`, imports).
pub fn made_of_file(path: &Path, orientation: Option<u16>) -> Result<Made, String> {
    if super::heif::sniff(path) {
        return guarded(|| heif_made(path, &Metadata::default()));
    }
    let file = open_bounded(path)?;
    guarded(|| decode(Input::File(file), orientation, true).map(|m| made(m, orientation)))
}

/// The prints and the kept preview of one decoding.
fn made((g, img): (Grids, Option<DynamicImage>), orientation: Option<u16>) -> Made {
    let preview = img.and_then(|i| super::kept_preview::make(&i, orientation));
    let (print, thumb) = g.both();
    Made {
        print,
        thumb,
        preview,
    }
}

/// What one decoding of an image being ingested gives: its fingerprint, its 32 × 32 grid,
/// and the preview kept in the case (a small JPEG, oriented; `None` if it could not be made).
pub struct Made {
    pub print: Fingerprint,
    pub thumb: Thumb,
    pub preview: Option<super::kept_preview::Kept>,
}

/// `of_content`, and the preview kept in the case, from the same (reduced) decoding.
pub fn made_of_content(content: &Content, metadata: &Metadata) -> Result<Made, String> {
    if super::heif::is_heif(content.bytes) {
        return guarded(|| heif_made(content.stored, metadata));
    }
    let orientation = metadata.exif.as_ref().and_then(|e| e.orientation);
    let made = |m| made(m, orientation);
    if content.complete {
        guarded(|| decode(Input::Bytes(content.bytes), orientation, true).map(made))
    } else {
        let file = open_bounded(content.stored)?;
        guarded(|| decode(Input::File(file), orientation, true).map(made))
    }
}

/// The fingerprint and thumbnail of an image being ingested: from the bytes in memory when
/// they are the whole file, from the stored copy otherwise; the EXIF orientation read by the
/// extractor.
pub fn of_content(content: &Content, metadata: &Metadata) -> Result<(Fingerprint, Thumb), String> {
    let orientation = metadata.exif.as_ref().and_then(|e| e.orientation);
    if content.complete {
        of_bytes(content.bytes, orientation)
    } else {
        of_file(content.stored, orientation)
    }
}

/// A HEIC's prints and preview from libheif's reduced picture (already the right way up:
/// libheif applies the container's rotation, and the EXIF orientation must not be applied
/// again). The full size is the one read for the metadata, else asked of libheif.
fn heif_made(path: &Path, metadata: &Metadata) -> Result<Made, String> {
    let img = super::heif::reduced(path, super::kept_preview::SIDE)
        .map_err(|e| format!("fingerprint: {e}"))?;
    let full = match &metadata.image {
        Some(i) => (i.width as usize, i.height as usize),
        None => super::heif::dimensions(path)
            .map(|(w, h)| (w as usize, h as usize))
            .unwrap_or((img.width() as usize, img.height() as usize)),
    };
    let (print, thumb) = grids_of(&img, None, full).both();
    Ok(Made {
        print,
        thumb,
        preview: super::kept_preview::make(&img, None),
    })
}

fn open_bounded(path: &Path) -> Result<std::fs::File, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("fingerprint: cannot read: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("fingerprint: cannot read: {e}"))?
        .len();
    if size > MAX_FILE {
        return Err(format!(
            "fingerprint: file too large to decode ({size} bytes)"
        ));
    }
    Ok(file)
}

/// A decoder bug must not take the ingest down: a panic becomes a warning.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("fingerprint: the image decoder failed (panic)".into()))
}

mod decode;
mod grids;
mod hash;
mod resample;

use decode::{decode, Input};
use grids::{grids_of, Grids};
pub use hash::{distance, hash_gray};
pub use resample::area_resize_rgb;

#[cfg(test)]
mod tests {
    use super::grids::grids;
    use super::resample::{area_resample, Axis};
    use super::*;
    use crate::similar::direct_match;

    fn scene(w: usize, h: usize, seed: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
                let s = seed as f32;
                let val = 128.0
                    + 60.0 * ((fx * (3.0 + s)).sin() * (fy * (2.0 + s * 0.5)).cos())
                    + if fy > 0.6 { 40.0 } else { 0.0 };
                v.push(val.clamp(0.0, 255.0) as u8);
            }
        }
        v
    }

    #[test]
    fn every_pixel_counts_once() {
        for (len, n) in [(320, 32), (31, 32), (7, 9), (4032, 9), (1, 32), (240, 8)] {
            let axis = Axis::new(len, n);
            let mut per_cell = vec![0f64; n];
            let mut per_pixel = vec![0f64; len];
            for (i, p) in per_pixel.iter_mut().enumerate() {
                for &(c, w) in axis.of(i) {
                    per_cell[c as usize] += w as f64;
                    *p += w as f64;
                }
            }
            for c in per_cell {
                assert!((c - 1.0).abs() < 1e-4, "{len}->{n}: cell {c}");
            }
            for p in per_pixel {
                assert!(
                    (p * len as f64 / n as f64 - 1.0).abs() < 1e-3,
                    "{len}->{n}: pixel {p}"
                );
            }
        }
    }

    #[test]
    fn cells_are_area_means() {
        for (w, h, ow, oh) in [
            (320, 240, 32, 32),
            (37, 19, 9, 8),
            (7, 5, 9, 8),
            (100, 3, 32, 32),
        ] {
            let px: Vec<u8> = (0..w * h)
                .map(|i| ((i * 37 + i / w * 11) % 256) as u8)
                .collect();
            let got = &area_resample(&px, 1, w, h, &[(ow, oh)])[0];
            for cy in 0..oh {
                for cx in 0..ow {
                    // The cell covers [x0, x1) × [y0, y1) in pixels.
                    let (x0, x1) = (
                        cx as f64 * w as f64 / ow as f64,
                        (cx + 1) as f64 * w as f64 / ow as f64,
                    );
                    let (y0, y1) = (
                        cy as f64 * h as f64 / oh as f64,
                        (cy + 1) as f64 * h as f64 / oh as f64,
                    );
                    let (mut sum, mut area) = (0.0, 0.0);
                    for y in 0..h {
                        for x in 0..w {
                            let ox = (x1.min(x as f64 + 1.0) - x0.max(x as f64)).max(0.0);
                            let oy = (y1.min(y as f64 + 1.0) - y0.max(y as f64)).max(0.0);
                            sum += ox * oy * px[y * w + x] as f64;
                            area += ox * oy;
                        }
                    }
                    let want = sum / area;
                    let have = got[cy * ow + cx] as f64;
                    assert!(
                        (want - have).abs() < 0.01,
                        "{w}x{h}->{ow}x{oh} ({cx},{cy}): {want} vs {have}"
                    );
                }
            }
        }
    }

    #[test]
    fn orientation_is_applied_to_the_grids() {
        let (w, h) = (40usize, 24usize);
        let img = image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 10) as u8, ((x * y) % 251) as u8])
        });
        for o in 1..=8u16 {
            let mut turned = DynamicImage::ImageRgb8(img.clone());
            turned.apply_orientation(image::metadata::Orientation::from_exif(o as u8).unwrap());
            let want = grids(&turned, None);
            let got = grids(&DynamicImage::ImageRgb8(img.clone()), Some(o));
            assert_eq!(got.size, want.size, "orientation {o}");
            for (a, b) in got
                .large
                .iter()
                .zip(&want.large)
                .chain(got.small.iter().zip(&want.small))
            {
                assert!((a - b).abs() < 1e-3, "orientation {o}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn resized_copy_is_close_other_scene_is_far() {
        let a = scene(320, 240, 1);
        let fa = hash_gray(&a, 320, 240);
        // A half-size copy by 2×2 averaging.
        let mut b = Vec::new();
        for y in 0..120 {
            for x in 0..160 {
                let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| a[(2 * y + dy) * 320 + 2 * x + dx] as u32)
                    .sum();
                b.push((s / 4) as u8);
            }
        }
        let fb = hash_gray(&b, 160, 120);
        assert!(distance(fa.phash, fb.phash) <= 4, "{fa:?} {fb:?}");
        assert!(distance(fa.dhash, fb.dhash) <= 6, "{fa:?} {fb:?}");
        let c = scene(320, 240, 4);
        let fc = hash_gray(&c, 320, 240);
        assert!(distance(fa.phash, fc.phash) > 12, "{fa:?} {fc:?}");
    }

    #[test]
    fn hostile_headers_are_refused_without_decoding() {
        // A PNG declaring 50,000 × 50,000 pixels, with a few bytes of image data.
        fn chunk(png: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            let mut c = !0u32;
            for b in kind.iter().chain(data) {
                c ^= *b as u32;
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            png.extend_from_slice(kind);
            png.extend_from_slice(data);
            png.extend_from_slice(&(!c).to_be_bytes());
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = 50_000u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]);
        chunk(&mut png, b"IEND", &[]);
        let e = of_bytes(&png, None).unwrap_err();
        assert!(
            e.starts_with("fingerprint: image too large (50000×50000"),
            "{e}"
        );
        let e = of_bytes(b"\xff\xd8\xff\xe0garbage", None).unwrap_err();
        assert!(e.starts_with("fingerprint: "), "{e}");
        let e = of_bytes(b"not an image at all", None).unwrap_err();
        assert!(e.starts_with("fingerprint: "), "{e}");
    }

    #[test]
    fn a_large_photo_scaled_at_decoding_keeps_its_fingerprint() {
        let (w, h) = (3000usize, 2000usize);
        let gray = scene(w, h, 3);
        let img = image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let v = gray[y as usize * w + x as usize];
            image::Rgb([v, v.wrapping_add(20), 255 - v])
        });
        let mut jpeg = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85);
        img.write_with_encoder(enc).expect("encode");
        // Scaled (6 MP is above the threshold) against a full decode of the same bytes.
        let (print, thumb) = of_bytes(&jpeg, Some(6)).expect("fingerprint");
        let full = image::load_from_memory(&jpeg).expect("full decode");
        let reference = grids(&full, Some(6)).both();
        assert_eq!(
            thumb.size,
            (2000, 3000),
            "the full size, turned by the orientation"
        );
        assert!(distance(print.phash, reference.0.phash) <= 3);
        assert!(distance(print.dhash, reference.0.dhash) <= 3);
        assert!(direct_match(&thumb, &reference.1) > 0.99);
    }
}
