//! Box-filter resampling: every source pixel counts, whatever the scale.

/// Resample an image (`channels` interleaved 8-bit samples per pixel: gray, gray+alpha, RGB or
/// RGBA) to grids of `ow`×`oh` cells of luma (BT.601 weights), each cell the area-weighted mean
/// of the pixels it covers (a box filter: every pixel counts, whatever the scale, up or down).
/// One pass over the pixels for all the grids.
pub(super) fn area_resample(
    px: &[u8],
    channels: usize,
    w: usize,
    h: usize,
    sizes: &[(usize, usize)],
) -> Vec<Vec<f32>> {
    let cols: Vec<Vec<Span>> = sizes
        .iter()
        .map(|&(ow, _)| Axis::new(w, ow).spans(ow))
        .collect();
    let rows: Vec<Axis> = sizes.iter().map(|&(_, oh)| Axis::new(h, oh)).collect();
    let mut out: Vec<Vec<f32>> = sizes.iter().map(|&(ow, oh)| vec![0f32; ow * oh]).collect();
    // Luma × 256, in integers: the sums over a cell's pixels vectorise.
    let mut line = vec![0u32; w];
    let mut acc: Vec<Vec<f32>> = sizes.iter().map(|&(ow, _)| vec![0f32; ow]).collect();
    for y in 0..h {
        let row = &px[y * w * channels..(y + 1) * w * channels];
        match channels {
            3 | 4 => {
                for (l, p) in line.iter_mut().zip(row.chunks_exact(channels)) {
                    *l = 77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32;
                }
            }
            _ => {
                for (l, p) in line.iter_mut().zip(row.chunks_exact(channels)) {
                    *l = (p[0] as u32) << 8;
                }
            }
        }
        for (g, (ow, _)) in sizes.iter().enumerate() {
            let a = &mut acc[g];
            for (cell, sp) in a.iter_mut().zip(&cols[g]) {
                *cell = sp.apply(&line) * (1.0 / 256.0);
            }
            for &(cell, wt) in rows[g].of(y) {
                let dst = &mut out[g][cell as usize * ow..(cell as usize + 1) * ow];
                for (d, v) in dst.iter_mut().zip(a.iter()) {
                    *d += v * wt;
                }
            }
        }
    }
    out
}

/// The pixels of one cell along an axis: `first..end`, the first and last weighted by how
/// much of them the cell covers, the ones between by `mid`.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: u32,
    end: u32,
    w_first: f32,
    w_mid: f32,
    w_last: f32,
}

impl Span {
    #[inline]
    fn apply(&self, line: &[u32]) -> f32 {
        let (a, b) = (self.first as usize, self.end as usize);
        match b - a {
            1 => line[a] as f32 * self.w_first,
            2 => line[a] as f32 * self.w_first + line[a + 1] as f32 * self.w_last,
            _ => {
                let mid: u32 = line[a + 1..b - 1].iter().sum();
                line[a] as f32 * self.w_first
                    + mid as f32 * self.w_mid
                    + line[b - 1] as f32 * self.w_last
            }
        }
    }
}

/// How the pixels of one axis (`len` of them) spread over `n` cells: for each pixel, the cells
/// it falls in and its weight in each (a cell's weights sum to 1).
pub(super) struct Axis {
    start: Vec<u32>,
    entries: Vec<(u32, f32)>,
}

impl Axis {
    pub(super) fn new(len: usize, n: usize) -> Axis {
        let scale = n as f64 / len as f64; // cells per pixel
        let mut start = Vec::with_capacity(len + 1);
        let mut entries = Vec::with_capacity(len + n);
        for i in 0..len {
            start.push(entries.len() as u32);
            // The pixel covers [i, i+1) in pixels, [a, b) in cells.
            let (a, b) = (i as f64 * scale, (i + 1) as f64 * scale);
            let mut c = a.floor() as usize;
            while (c as f64) < b && c < n {
                let cover = (b.min(c as f64 + 1.0) - a.max(c as f64)).max(0.0);
                if cover > 0.0 {
                    entries.push((c as u32, cover as f32));
                }
                c += 1;
            }
        }
        start.push(entries.len() as u32);
        let mut axis = Axis { start, entries };
        axis.normalise(n);
        axis
    }

    /// Make each cell's weights sum to 1.
    fn normalise(&mut self, n: usize) {
        let mut sum = vec![0f64; n];
        for &(c, w) in &self.entries {
            sum[c as usize] += w as f64;
        }
        for (c, w) in &mut self.entries {
            if sum[*c as usize] > 0.0 {
                *w = (*w as f64 / sum[*c as usize]) as f32;
            }
        }
    }

    pub(super) fn of(&self, i: usize) -> &[(u32, f32)] {
        &self.entries[self.start[i] as usize..self.start[i + 1] as usize]
    }

    /// The same weights cell by cell.
    fn spans(&self, n: usize) -> Vec<Span> {
        let mut per_cell: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for i in 0..self.start.len() - 1 {
            for &(c, w) in self.of(i) {
                per_cell[c as usize].push((i as u32, w));
            }
        }
        per_cell
            .into_iter()
            .map(|px| {
                let (first, w_first) = px.first().copied().unwrap_or((0, 0.0));
                let (last, w_last) = px.last().copied().unwrap_or((0, 0.0));
                Span {
                    first,
                    end: last + 1,
                    w_first,
                    // Whole pixels inside a cell all weigh the same.
                    w_mid: px.get(1).map_or(0.0, |p| p.1),
                    w_last,
                }
            })
            .collect()
    }
}

/// An image reduced to `ow`×`oh` RGB pixels with the same box filter, colour kept: the preview
/// kept in the case. Alpha is dropped (previews are drawn opaque). Each output column's source
/// pixels and weights are worked out once; a row is then a few multiply-adds a pixel, read
/// straight from the interleaved samples.
pub fn area_resize_rgb(
    px: &[u8],
    channels: usize,
    w: usize,
    h: usize,
    (ow, oh): (usize, usize),
) -> Vec<u8> {
    // (first source pixel, weights of it and the ones after it) for each output column.
    let taps: Vec<(usize, Vec<f32>)> = Axis::new(w, ow)
        .spans(ow)
        .iter()
        .map(|sp| {
            let len = (sp.end - sp.first) as usize;
            let mut weights = vec![sp.w_mid; len];
            if let Some(first) = weights.first_mut() {
                *first = sp.w_first;
            }
            if len > 1 {
                weights[len - 1] = sp.w_last;
            }
            (sp.first as usize, weights)
        })
        .collect();
    let rows = Axis::new(h, oh);
    let mut out = vec![0f32; ow * oh * 3];
    let mut across = vec![0f32; ow * 3];
    // Gray sources give the same sample to all three channels.
    let (g, b) = if channels >= 3 { (1, 2) } else { (0, 0) };
    for y in 0..h {
        let row = &px[y * w * channels..(y + 1) * w * channels];
        for (acc, (first, weights)) in across.chunks_exact_mut(3).zip(&taps) {
            let (mut sr, mut sg, mut sb) = (0f32, 0f32, 0f32);
            let from = &row[first * channels..];
            for (p, wt) in from.chunks_exact(channels).zip(weights) {
                sr += f32::from(p[0]) * wt;
                sg += f32::from(p[g]) * wt;
                sb += f32::from(p[b]) * wt;
            }
            acc.copy_from_slice(&[sr, sg, sb]);
        }
        for &(cell, wt) in rows.of(y) {
            let dst = &mut out[cell as usize * ow * 3..(cell as usize + 1) * ow * 3];
            for (d, v) in dst.iter_mut().zip(&across) {
                *d += v * wt;
            }
        }
    }
    // `+ 0.5` and a saturating cast: `round` is a libm call per sample without SSE4.1.
    out.iter().map(|v| (v + 0.5) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_reduction_averages_what_each_pixel_covers() {
        // 4 × 2: a red half and a blue half.
        let px: Vec<u8> = (0..8)
            .flat_map(|i| if i % 4 < 2 { [255, 0, 0] } else { [0, 0, 255] })
            .collect();
        assert_eq!(
            area_resize_rgb(&px, 3, 4, 2, (2, 1)),
            [255, 0, 0, 0, 0, 255]
        );
        assert_eq!(area_resize_rgb(&px, 3, 4, 2, (1, 1)), [128, 0, 128]);
        // 3 → 2 columns: the middle pixel is shared half and half.
        let gray = [0u8, 90, 180];
        assert_eq!(
            area_resize_rgb(&gray, 1, 3, 1, (2, 1)),
            [30, 30, 30, 150, 150, 150]
        );
        // Same size: unchanged, alpha dropped.
        let rgba = [1u8, 2, 3, 255, 4, 5, 6, 0];
        assert_eq!(area_resize_rgb(&rgba, 4, 2, 1, (2, 1)), [1, 2, 3, 4, 5, 6]);
    }
}
