//! Crop search: whether the smaller of two thumbnails is a (scaled) region of the larger.

use crate::model::fingerprint::{Thumb, THUMB};

/// The smallest share of the larger image's width or height that a crop may keep.
const MIN_KEEP: f32 = 0.76;
/// Profiles that fit worse than this are not aligned further.
const PROFILE_FIT: f32 = 0.7;
/// Search step for the crop's extent and offset, as a share of the larger image.
const STEP: f32 = 0.01;

/// How well the smaller of two thumbnails matches the best-fitting region of the larger one
/// (a crop, with any scaling): the correlation (-1 to 1) of the two, once aligned. The
/// alignment is found from row and column profiles, each axis on its own, then refined once.
pub fn crop_match(a: &Thumb, b: &Thumb) -> f32 {
    let area = |t: &Thumb| t.size.0 as u64 * t.size.1 as u64;
    let (big, small) = if area(a) >= area(b) { (a, b) } else { (b, a) };
    let n = THUMB;
    let cols = |t: &Thumb, r0: usize, r1: usize| -> Vec<f32> {
        (0..n)
            .map(|x| (r0..r1).map(|y| t.grid[y * n + x]).sum::<f32>() / (r1 - r0) as f32)
            .collect()
    };
    let rows = |t: &Thumb, c0: usize, c1: usize| -> Vec<f32> {
        (0..n)
            .map(|y| t.grid[y * n + c0..y * n + c1].iter().sum::<f32>() / (c1 - c0) as f32)
            .collect()
    };
    let span = |start: f32, len: f32| -> (usize, usize) {
        let a = ((start * n as f32).round() as usize).min(n - 1);
        let b = (((start + len) * n as f32).round() as usize).clamp(a + 1, n);
        (a, b)
    };
    let small_cols = cols(small, 0, n);
    let small_rows = rows(small, 0, n);
    // First pass: the larger image's whole profiles (a poor fit here is no match).
    let (_, _, sx) = align_1d(&small_cols, &cols(big, 0, n));
    if sx < PROFILE_FIT {
        return sx;
    }
    let (v0, kh, sy) = align_1d(&small_rows, &rows(big, 0, n));
    if sy < PROFILE_FIT {
        return sy;
    }
    // Second pass: each axis with the other's extent.
    let (r0, r1) = span(v0, kh);
    let (u0, kw, _) = align_1d(&small_cols, &cols(big, r0, r1));
    let (c0, c1) = span(u0, kw);
    let (v0, kh, _) = align_1d(&small_rows, &rows(big, c0, c1));
    // Uniform scaling: the region's shape must be the smaller image's.
    let shape = (kw * big.aspect) / (kh * small.aspect);
    if !(0.9..=1.11).contains(&shape) {
        return 0.0;
    }
    // The region of the larger image against the smaller one, 16×16 samples each.
    let m = n / 2;
    let mut p = Vec::with_capacity(m * m);
    let mut q = Vec::with_capacity(m * m);
    for j in 0..m {
        for i in 0..m {
            let (fx, fy) = ((i as f32 + 0.5) / m as f32, (j as f32 + 0.5) / m as f32);
            p.push(sample(&big.grid, u0 + kw * fx, v0 + kh * fy));
            q.push(sample(&small.grid, fx, fy));
        }
    }
    correlation(&p, &q)
}

/// The best place of `small` (a profile over a whole image) in `big` (a profile over a larger
/// one): start and length as shares of `big`, and the correlation there. A coarse search, then
/// a fine one around its best.
fn align_1d(small: &[f32], big: &[f32]) -> (f32, f32, f32) {
    let n = small.len();
    // `small` is the same in every fit: centred once (Σ centred = 0, so the covariance needs
    // no mean of the other side).
    let mean = small.iter().sum::<f32>() / n as f32;
    let centred: Vec<f32> = small.iter().map(|v| v - mean).collect();
    let saa: f32 = centred.iter().map(|v| v * v).sum();
    let mut buf = vec![0f32; n];
    let mut fit = |o: f32, k: f32| {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = sample_1d(big, o + k * (i as f32 + 0.5) / n as f32);
        }
        let mb = buf.iter().sum::<f32>() / n as f32;
        let (mut sab, mut sbb) = (0f32, 0f32);
        for (a, b) in centred.iter().zip(&buf) {
            let db = b - mb;
            sab += a * db;
            sbb += db * db;
        }
        if saa < 1e-6 || sbb < 1e-6 {
            return 0.0;
        }
        sab / (saa * sbb).sqrt()
    };
    let mut best = (0.0, 1.0, f32::MIN);
    let coarse = 2.0 * STEP;
    let steps = ((1.0 - MIN_KEEP) / coarse).round() as usize;
    for ks in 0..=steps {
        let k = 1.0 - ks as f32 * coarse;
        for os in 0..=ks {
            let o = os as f32 * coarse;
            let c = fit(o, k);
            if c > best.2 {
                best = (o, k, c);
            }
        }
    }
    let (o0, k0) = (best.0, best.1);
    for dk in -2..=2 {
        let k = k0 + dk as f32 * STEP / 2.0;
        if !(MIN_KEEP - STEP..=1.0).contains(&k) {
            continue;
        }
        for dof in -2..=2 {
            let o = o0 + dof as f32 * STEP / 2.0;
            if o < 0.0 || o + k > 1.0 + 1e-4 {
                continue;
            }
            let c = fit(o, k);
            if c > best.2 {
                best = (o, k, c);
            }
        }
    }
    best
}

/// The correlation of two thumbnails of images of the same shape, cell for cell.
pub fn direct_match(a: &Thumb, b: &Thumb) -> f32 {
    correlation(&a.grid, &b.grid)
}

/// Linear interpolation of a profile of cells over [0, 1] at `x`.
fn sample_1d(v: &[f32], x: f32) -> f32 {
    let n = v.len();
    let pos = (x * n as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let i = (pos as usize).min(n - 2);
    let t = pos - i as f32;
    v[i] * (1.0 - t) + v[i + 1] * t
}

/// Bilinear interpolation of a THUMB × THUMB grid over [0, 1]² at (`x`, `y`).
fn sample(grid: &[f32], x: f32, y: f32) -> f32 {
    let n = THUMB;
    let px = (x * n as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let py = (y * n as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let (i, j) = ((px as usize).min(n - 2), (py as usize).min(n - 2));
    let (tx, ty) = (px - i as f32, py - j as f32);
    let at = |i: usize, j: usize| grid[j * n + i];
    let top = at(i, j) * (1.0 - tx) + at(i + 1, j) * tx;
    let bottom = at(i, j + 1) * (1.0 - tx) + at(i + 1, j + 1) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// Pearson correlation; 0 when either side is flat.
fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa < 1e-6 || sbb < 1e-6 {
        return 0.0;
    }
    sab / (saa * sbb).sqrt()
}
