//! The two perceptual hashes: dHash of a 9 × 8 grid, pHash of a 32 × 32 grid's DCT.

use super::resample::area_resample;
use super::Fingerprint;

/// The number of differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Both hashes of an 8-bit grayscale image in display orientation.
pub fn hash_gray(pixels: &[u8], w: usize, h: usize) -> Fingerprint {
    let made = area_resample(pixels, 1, w, h, &[(9, 8), (32, 32)]);
    Fingerprint {
        dhash: dhash(&made[0]),
        phash: phash(&made[1]),
    }
}

/// dHash: for each of 8 rows of a 9×8 grid, whether each cell is brighter than its left
/// neighbour. Bit `row * 8 + col`.
pub(super) fn dhash(grid: &[f32]) -> u64 {
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
pub(super) fn phash(grid: &[f32]) -> u64 {
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
