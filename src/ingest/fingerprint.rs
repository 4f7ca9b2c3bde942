//! Perceptual fingerprints of images, to find re-encoded, resized and lightly cropped copies of
//! the same picture: a 64-bit dHash (gradient signs of a 9×8 grayscale) and a 64-bit pHash
//! (signs of the low frequencies of a 32×32 grayscale's DCT against their median).
//!
//! Computed from the bytes the ingest already holds, after the EXIF orientation is applied to
//! the pixels (a copy made by a messaging app usually has the rotation baked in, while the
//! original carries an Orientation tag). Hostile files are refused before anything large is
//! allocated: the size is read from the header first, and the decoder runs under limits.

use std::io::{BufRead, BufReader, Cursor, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use super::meta::{Content, Metadata};

/// Images above this many pixels are not decoded.
pub const MAX_PIXELS: u64 = 50_000_000;
/// The decoder's allocation budget (its output buffer included).
const MAX_ALLOC: u64 = 512 << 20;
/// No side longer than this is decoded, whatever the area.
const MAX_SIDE: u32 = 1 << 16;
/// A stored file larger than this is not read for a fingerprint (the JPEG decoder reads its
/// whole input into memory before looking at the header).
const MAX_FILE: u64 = 256 << 20;

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

/// The number of differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The fingerprint of an image held in memory. `orientation` is the EXIF Orientation value
/// (1–8), applied before hashing. An error is a warning for the item, starting with
/// `fingerprint: `.
pub fn of_bytes(bytes: &[u8], orientation: Option<u16>) -> Result<Fingerprint, String> {
    guarded(|| compute(Cursor::new(bytes), orientation))
}

/// The fingerprint of an image stored on disk (content too large to be held in memory).
pub fn of_file(path: &Path, orientation: Option<u16>) -> Result<Fingerprint, String> {
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
    guarded(|| compute(BufReader::new(file), orientation))
}

/// The fingerprint of an image being ingested: from the bytes in memory when they are the
/// whole file, from the stored copy otherwise; the EXIF orientation read by the extractor.
pub fn of_content(content: &Content, metadata: &Metadata) -> Result<Fingerprint, String> {
    let orientation = metadata.exif.as_ref().and_then(|e| e.orientation);
    if content.complete {
        of_bytes(content.bytes, orientation)
    } else {
        of_file(content.stored, orientation)
    }
}

/// A decoder bug must not take the ingest down: a panic becomes a warning.
fn guarded(f: impl FnOnce() -> Result<Fingerprint, String>) -> Result<Fingerprint, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("fingerprint: the image decoder failed (panic)".into()))
}

fn compute<R: BufRead + Seek>(input: R, orientation: Option<u16>) -> Result<Fingerprint, String> {
    let mut reader = ImageReader::new(input)
        .with_guessed_format()
        .map_err(|e| format!("fingerprint: cannot read: {e}"))?;
    if reader.format().is_none() {
        return Err("fingerprint: image format not supported".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // The header only: nothing is decoded yet.
    let decoder = reader.into_decoder().map_err(|e| match e {
        ImageError::Limits(_) => {
            format!("fingerprint: image too large (a side over {MAX_SIDE} pixels)")
        }
        ImageError::Unsupported(e) => format!("fingerprint: image not supported: {e}"),
        e => format!("fingerprint: cannot decode: {e}"),
    })?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "fingerprint: image too large ({w}×{h}, over {} megapixels)",
            MAX_PIXELS / 1_000_000
        ));
    }
    if w == 0 || h == 0 {
        return Err(format!("fingerprint: empty image ({w}×{h})"));
    }
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(format!(
            "fingerprint: image too large ({w}×{h}, {} MB decoded)",
            decoder.total_bytes() >> 20
        ));
    }
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| format!("fingerprint: cannot decode: {e}"))?;
    let mut gray = DynamicImage::ImageLuma8(img.into_luma8());
    if let Some(o) = orientation
        .and_then(|o| u8::try_from(o).ok())
        .and_then(image::metadata::Orientation::from_exif)
    {
        gray.apply_orientation(o);
    }
    let gray = gray.into_luma8();
    let (w, h) = gray.dimensions();
    Ok(hash_gray(gray.as_raw(), w as usize, h as usize))
}

/// Both hashes of an 8-bit grayscale image in display orientation.
pub fn hash_gray(pixels: &[u8], w: usize, h: usize) -> Fingerprint {
    Fingerprint {
        dhash: dhash(&area_resample(pixels, w, h, 9, 8)),
        phash: phash(&area_resample(pixels, w, h, 32, 32)),
    }
}

/// dHash: for each of 8 rows of a 9×8 grid, whether each cell is brighter than its left
/// neighbour. Bit `row * 8 + col`.
fn dhash(grid: &[f32]) -> u64 {
    let mut bits = 0u64;
    for row in 0..8 {
        for col in 0..8 {
            if grid[row * 9 + col + 1] > grid[row * 9 + col] {
                bits |= 1 << (row * 8 + col);
            }
        }
    }
    bits
}

/// pHash: the 2-D DCT-II of a 32×32 grid; of its top-left 8×8 coefficients, each but the DC
/// term gives one bit, set when the coefficient is above the median of those 63. Bit
/// `v * 8 + u` (v the vertical frequency); bit 0 (DC) is always 0.
fn phash(grid: &[f32]) -> u64 {
    const N: usize = 32;
    const K: usize = 8;
    let mut cos = [[0f32; N]; K];
    for (u, row) in cos.iter_mut().enumerate() {
        for (x, c) in row.iter_mut().enumerate() {
            *c = (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * N) as f64).cos()
                as f32;
        }
    }
    // Rows first: for each grid row y, the K horizontal frequencies.
    let mut rows = [[0f32; K]; N];
    for (y, out) in rows.iter_mut().enumerate() {
        let line = &grid[y * N..(y + 1) * N];
        for (u, o) in out.iter_mut().enumerate() {
            *o = line.iter().zip(&cos[u]).map(|(p, c)| p * c).sum();
        }
    }
    let mut coef = [0f32; K * K];
    for v in 0..K {
        for u in 0..K {
            coef[v * K + u] = (0..N).map(|y| rows[y][u] * cos[v][y]).sum();
        }
    }
    let mut ac: Vec<f32> = coef[1..].to_vec();
    ac.sort_by(|a, b| a.total_cmp(b));
    let median = ac[ac.len() / 2];
    let mut bits = 0u64;
    for (i, c) in coef.iter().enumerate().skip(1) {
        if *c > median {
            bits |= 1 << i;
        }
    }
    bits
}

/// Resample a grayscale image to `ow`×`oh` cells, each the area-weighted mean of the pixels
/// it covers (a box filter: every pixel counts, whatever the scale, up or down).
fn area_resample(pixels: &[u8], w: usize, h: usize, ow: usize, oh: usize) -> Vec<f32> {
    let xs = spans(w, ow);
    let ys = spans(h, oh);
    // Horizontal pass: h rows of ow cells.
    let mut tmp = vec![0f32; h * ow];
    for y in 0..h {
        let line = &pixels[y * w..(y + 1) * w];
        let out = &mut tmp[y * ow..(y + 1) * ow];
        for (o, span) in out.iter_mut().zip(&xs) {
            *o = span.iter().map(|&(i, wt)| line[i] as f32 * wt).sum();
        }
    }
    let mut out = vec![0f32; oh * ow];
    for (row, span) in ys.iter().enumerate() {
        let dst = &mut out[row * ow..(row + 1) * ow];
        for &(y, wt) in span {
            for (d, s) in dst.iter_mut().zip(&tmp[y * ow..(y + 1) * ow]) {
                *d += s * wt;
            }
        }
    }
    out
}

/// For each of `n` output cells over `len` input pixels: the pixels it covers and the share of
/// each (summing to 1).
fn spans(len: usize, n: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = len as f64 / n as f64;
    (0..n)
        .map(|j| {
            let (a, b) = (j as f64 * scale, (j + 1) as f64 * scale);
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).min(len).max(first + 1);
            (first..last)
                .filter_map(|i| {
                    let cover = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0);
                    (cover > 0.0).then_some((i, (cover / scale) as f32))
                })
                .collect()
        })
        .collect()
}

/// Groups of items whose fingerprints are within `rule` of each other, joined transitively.
/// Each group is sorted, and groups come in the order of their first item.
pub fn group_similar(items: &[(i64, Fingerprint)], rule: Rule) -> Vec<Vec<i64>> {
    let pairs = similar_pairs(items, rule);
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, b) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<i64>> = Default::default();
    for i in 0..items.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(items[i].0);
    }
    let mut out: Vec<Vec<i64>> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort_unstable();
            g
        })
        .collect();
    out.sort_unstable();
    out
}

/// When two fingerprints are taken as the same picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Largest pHash distance.
    pub phash: u32,
    /// Largest dHash distance.
    pub dhash: u32,
}

impl Rule {
    pub fn matches(self, a: Fingerprint, b: Fingerprint) -> bool {
        distance(a.phash, b.phash) <= self.phash && distance(a.dhash, b.dhash) <= self.dhash
    }
}

/// Every pair (indexes into `items`, smaller first) within `rule`: all pairs compared, on
/// every core (50,000 images are 1.25e9 comparisons, about a second).
pub fn similar_pairs(items: &[(i64, Fingerprint)], rule: Rule) -> Vec<(usize, usize)> {
    let p: Vec<u64> = items.iter().map(|(_, f)| f.phash).collect();
    let d: Vec<u64> = items.iter().map(|(_, f)| f.dhash).collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 16);
    let n = p.len();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (p, d) = (&p, &d);
                s.spawn(move || {
                    let mut found = Vec::new();
                    // Rows dealt round-robin so each thread gets long and short ones.
                    for i in (t..n).step_by(threads) {
                        let (pi, di) = (p[i], d[i]);
                        for (j, &pj) in p.iter().enumerate().skip(i + 1) {
                            if (pi ^ pj).count_ones() <= rule.phash
                                && (di ^ d[j]).count_ones() <= rule.dhash
                            {
                                found.push((i, j));
                            }
                        }
                    }
                    found
                })
            })
            .collect();
        let mut all: Vec<(usize, usize)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_unstable();
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn spans_cover_everything_once() {
        for (len, n) in [(320, 32), (31, 32), (7, 9), (4032, 9), (1, 32)] {
            let sp = spans(len, n);
            let mut per_pixel = vec![0f64; len];
            for cell in &sp {
                let sum: f32 = cell.iter().map(|(_, w)| w).sum();
                assert!((sum - 1.0).abs() < 1e-4, "{len}->{n}: {sum}");
                for &(i, w) in cell {
                    per_pixel[i] += w as f64 * len as f64 / n as f64;
                }
            }
            for p in per_pixel {
                assert!((p - 1.0).abs() < 1e-3, "{len}->{n}: {p}");
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
    fn groups_are_transitive() {
        let f = |p: u64| Fingerprint { dhash: 0, phash: p };
        let items = vec![
            (1, f(0)),
            (2, f(0b111)),        // 3 from item 1
            (3, f(0b111111)),     // 3 from item 2, 6 from item 1
            (4, f(u64::MAX)),     // far from all
            (5, f(u64::MAX - 1)), // 1 from item 4
        ];
        let rule = Rule {
            phash: 3,
            dhash: 64,
        };
        assert_eq!(group_similar(&items, rule), vec![vec![1, 2, 3], vec![4, 5]]);
    }

    #[test]
    fn hostile_headers_are_refused_without_decoding() {
        // A PNG header declaring 50,000 × 50,000 pixels.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&[0, 0, 0, 0]); // CRC not checked before the data
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
}
