//! Perceptual fingerprints of images, to find re-encoded, resized and lightly cropped copies of
//! the same picture: a 64-bit dHash (gradient signs of a 9×8 grayscale) and a 64-bit pHash
//! (signs of the low frequencies of a 32×32 grayscale's DCT against their median).
//!
//! Computed from the bytes the ingest already holds, after the EXIF orientation is applied to
//! the pixels (a copy made by a messaging app usually has the rotation baked in, while the
//! original carries an Orientation tag). Hostile files are refused before anything large is
//! allocated: the size is read from the header first, and the decoder runs under limits.

use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

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

/// The number of differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The fingerprint and the thumbnail of an image held in memory. `orientation` is the EXIF
/// Orientation value (1–8), applied before hashing. An error is a warning for the item,
/// starting with `fingerprint: `.
pub fn of_bytes(bytes: &[u8], orientation: Option<u16>) -> Result<(Fingerprint, Thumb), String> {
    guarded(|| decode(Cursor::new(bytes), orientation, false).map(|(g, _)| g.both()))
}

/// The fingerprint and the thumbnail of an image stored on disk, from one decoding.
pub fn of_file(path: &Path, orientation: Option<u16>) -> Result<(Fingerprint, Thumb), String> {
    if super::heif::sniff(path) {
        return guarded(|| heif_made(path, &Metadata::default())).map(|m| (m.print, m.thumb));
    }
    let file = open_bounded(path)?;
    guarded(|| decode(BufReader::new(file), orientation, false).map(|(g, _)| g.both()))
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
    let made = |(g, img): (Grids, Option<DynamicImage>)| {
        let preview = img.and_then(|i| super::kept_preview::make(&i, orientation));
        let (print, thumb) = g.both();
        Made {
            print,
            thumb,
            preview,
        }
    };
    if content.complete {
        guarded(|| decode(Cursor::new(content.bytes), orientation, true).map(made))
    } else {
        let file = open_bounded(content.stored)?;
        guarded(|| decode(BufReader::new(file), orientation, true).map(made))
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

/// What the hashes and the thumbnail are made from: two grids of the image as displayed.
struct Grids {
    /// Displayed width and height.
    size: (usize, usize),
    /// 9 × 8 cells, for the dHash.
    small: Vec<f32>,
    /// 32 × 32 cells, for the pHash and the thumbnail.
    large: Vec<f32>,
}

/// Decode under limits: the size is read from the header and checked before any pixel is.
/// With `keep`, the decoded (possibly reduced) picture is returned too, for the preview.
fn decode<R: BufRead + Seek>(
    mut input: R,
    orientation: Option<u16>,
    keep: bool,
) -> Result<(Grids, Option<DynamicImage>), String> {
    // The JPEG decoder fills in what a truncated file lacks: that would be a fingerprint of
    // a picture nobody sent.
    if !jpeg_complete(&mut input).map_err(|e| format!("fingerprint: cannot read: {e}"))? {
        return Err(
            "fingerprint: truncated JPEG (no end-of-image marker after the image data)".into(),
        );
    }
    if is_jpeg(&mut input).map_err(|e| format!("fingerprint: cannot read: {e}"))? {
        match super::jpeg_scaled::decode(&mut input, SCALED_SIDE, MAX_ALLOC, MAX_PIXELS) {
            Ok(Some(scaled)) => {
                let full = (scaled.full.0 as usize, scaled.full.1 as usize);
                let g = grids_of(&scaled.image, orientation, full);
                return Ok((g, keep.then_some(scaled.image)));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("fingerprint: {e}")),
        }
        input
            .seek(SeekFrom::Start(0))
            .map_err(|e| format!("fingerprint: cannot read: {e}"))?;
    }
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
    let g = grids(&img, orientation);
    Ok((g, keep.then_some(img)))
}

/// True when the input starts like a JPEG; leaves the reader at the start.
fn is_jpeg<R: Read + Seek>(input: &mut R) -> std::io::Result<bool> {
    let mut head = [0u8; 3];
    let n = input.read(&mut head)?;
    input.seek(SeekFrom::Start(0))?;
    Ok(n == 3 && head == [0xff, 0xd8, 0xff])
}

/// False for a JPEG whose last scan (SOS) is not followed by an end-of-image marker (EOI), as
/// when the file was cut short; true for anything else. Looks at the last 1 MiB only (a marker
/// pair cannot occur inside entropy-coded data), and leaves the reader at the start.
fn jpeg_complete<R: Read + Seek>(input: &mut R) -> std::io::Result<bool> {
    const TAIL: u64 = 1 << 20;
    let mut head = [0u8; 3];
    let n = input.read(&mut head)?;
    let is_jpeg = n == 3 && head == [0xff, 0xd8, 0xff];
    let complete = if is_jpeg {
        let len = input.seek(SeekFrom::End(0))?;
        let from = len.saturating_sub(TAIL);
        input.seek(SeekFrom::Start(from))?;
        let mut tail = Vec::with_capacity((len - from) as usize);
        input.read_to_end(&mut tail)?;
        let last = |marker: u8| tail.windows(2).rposition(|w| w == [0xff, marker]);
        match (last(0xd9), last(0xda)) {
            (Some(eoi), Some(sos)) => eoi > sos,
            (Some(_), None) => true,
            (None, _) => false,
        }
    } else {
        true
    };
    input.seek(SeekFrom::Start(0))?;
    Ok(complete)
}

/// The grids of a decoded image, its EXIF orientation applied. They are made in stored
/// coordinates, then turned: far cheaper than turning the image, and the same cells (a box
/// filter commutes with flips and transposes).
fn grids(img: &DynamicImage, orientation: Option<u16>) -> Grids {
    grids_of(
        img,
        orientation,
        (img.width() as usize, img.height() as usize),
    )
}

/// `grids` of a picture decoded at reduced scale from one of `full` pixels (the size kept).
fn grids_of(img: &DynamicImage, orientation: Option<u16>, full: (usize, usize)) -> Grids {
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
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            dhash: dhash(&self.small),
            phash: phash(&self.large),
        }
    }

    fn both(self) -> (Fingerprint, Thumb) {
        (self.fingerprint(), self.thumb())
    }

    fn thumb(self) -> Thumb {
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

/// Resample an image (`channels` interleaved 8-bit samples per pixel: gray, gray+alpha, RGB or
/// RGBA) to grids of `ow`×`oh` cells of luma (BT.601 weights), each cell the area-weighted mean
/// of the pixels it covers (a box filter: every pixel counts, whatever the scale, up or down).
/// One pass over the pixels for all the grids.
fn area_resample(
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
struct Axis {
    start: Vec<u32>,
    entries: Vec<(u32, f32)>,
}

impl Axis {
    fn new(len: usize, n: usize) -> Axis {
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

    fn of(&self, i: usize) -> &[(u32, f32)] {
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

/// Join pairs (indexes below `n`) transitively; each group (of two or more) as its members'
/// indexes, sorted, groups in the order of their first member.
pub fn union_find(n: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
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
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// A pair of fingerprints within reach: indexes (smaller first) and the two distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Near {
    pub a: u32,
    pub b: u32,
    pub phash: u8,
    pub dhash: u8,
}

/// Every pair within `phash` and `dhash` distance: all pairs compared, on every core (50,000
/// images are 1.25e9 comparisons, about a second).
pub fn near_pairs(prints: &[Fingerprint], phash: u32, dhash: u32) -> Vec<Near> {
    near_pairs_of(prints, None, phash, dhash)
}

/// The pairs within distance that involve at least one of the images `only` (indexes), or
/// every pair when `None`: a new intake is compared with the case, not the case with itself.
pub fn near_pairs_of(
    prints: &[Fingerprint],
    only: Option<&[usize]>,
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    let p: Vec<u64> = prints.iter().map(|f| f.phash).collect();
    let d: Vec<u64> = prints.iter().map(|f| f.dhash).collect();
    let mut is_row = vec![only.is_none(); p.len()];
    let rows: Vec<usize> = match only {
        None => (0..p.len()).collect(),
        Some(rows) => {
            for &r in rows {
                if let Some(x) = is_row.get_mut(r) {
                    *x = true;
                }
            }
            rows.iter().copied().filter(|&r| r < p.len()).collect()
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 16);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (p, d, rows, is_row) = (&p, &d, &rows, &is_row);
                // Rows dealt round-robin so each thread gets long and short ones.
                let mine: Vec<usize> = rows.iter().copied().skip(t).step_by(threads).collect();
                s.spawn(move || scan(p, d, &mine, is_row, phash, dhash))
            })
            .collect();
        let mut all: Vec<Near> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_unstable();
        all
    })
}

/// Each row in `rows` against every other image; a pair of two rows is taken once (from its
/// first). With every image a row, that is each row against the later ones.
fn scan(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has the instruction, checked just above.
        return unsafe { scan_popcnt(p, d, rows, is_row, phash, dhash) };
    }
    scan_portable(p, d, rows, is_row, phash, dhash)
}

/// The same loop compiled with the POPCNT instruction (3× faster than without).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn scan_popcnt(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    scan_portable(p, d, rows, is_row, phash, dhash)
}

#[inline(always)]
fn scan_portable(
    p: &[u64],
    d: &[u64],
    rows: &[usize],
    is_row: &[bool],
    phash: u32,
    dhash: u32,
) -> Vec<Near> {
    let mut found = Vec::new();
    for &i in rows {
        let (pi, di) = (p[i], d[i]);
        let mut check = |j: usize, pj: u64| {
            let pd = (pi ^ pj).count_ones();
            if pd <= phash {
                let dd = (di ^ d[j]).count_ones();
                if dd <= dhash {
                    found.push(Near {
                        a: i.min(j) as u32,
                        b: i.max(j) as u32,
                        phash: pd as u8,
                        dhash: dd as u8,
                    });
                }
            }
        };
        // Later images always; earlier ones only when they are not rows themselves.
        for (j, &pj) in p.iter().enumerate().skip(i + 1) {
            check(j, pj);
        }
        for (j, &pj) in p.iter().enumerate().take(i) {
            if !is_row[j] {
                check(j, pj);
            }
        }
    }
    found
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
    fn groups_are_transitive() {
        let f = |p: u64| Fingerprint { dhash: 0, phash: p };
        let prints = [f(0), f(0b111), f(0b111111), f(u64::MAX), f(u64::MAX - 1)];
        let near = near_pairs(&prints, 3, 64);
        let pairs: Vec<(u32, u32)> = near.iter().map(|n| (n.a, n.b)).collect();
        assert_eq!(pairs, vec![(0, 1), (1, 2), (3, 4)]);
        let groups = union_find(5, near.iter().map(|n| (n.a as usize, n.b as usize)));
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3, 4]]);
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
