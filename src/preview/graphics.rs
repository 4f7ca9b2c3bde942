//! Pixel previews for terminals that can show images (sixel, or kitty's graphics protocol),
//! chosen by the reviewer with `--images sixel|kitty`. Like half blocks they are fitted into the
//! byte budget: smaller pictures and fewer colours until the escape sequence fits.

use base64::Engine;
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

use super::{Depth, Picture, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Sixel,
    Kitty,
}

/// The id under which kitty keeps the preview (one image at a time).
pub const KITTY_ID: u32 = 7311;

/// Pixels per cell when the terminal does not say (TIOCGWINSZ without pixel sizes). Small on
/// purpose: a sixel image drawn larger than its pane would cover the rest of the screen.
pub const FALLBACK_CELL: (u16, u16) = (6, 12);

/// Fit `img` into the request's area and budget as `protocol` escape bytes. The picture's
/// `width` is in cells and `height` in half cells, like a half-block picture, so the console
/// knows which cells it covers.
pub fn fit(img: &DynamicImage, req: &Request, protocol: Protocol) -> Result<Picture, String> {
    if req.max_cols < 4 || req.max_rows < 2 {
        return Err("no room for a preview".into());
    }
    let (cw, ch) = (req.cell_px.0.max(1) as f32, req.cell_px.1.max(1) as f32);
    let (iw, ih) = (img.width().max(1) as f32, img.height().max(1) as f32);
    // The largest cell area with the image's shape.
    let k = (req.max_cols as f32 * cw / iw).min(req.max_rows as f32 * ch / ih);
    let (full_w, full_h) = ((iw * k).max(1.0), (ih * k).max(1.0));
    let levels: &[u8] = match req.depth {
        Depth::True | Depth::Ansi256 => &[6, 4, 3, 2],
        Depth::Ansi16 => &[3, 2],
        Depth::Mono => &[0],
    };
    let mut scale = 1.0f32;
    for _ in 0..24 {
        let (w, h) = (
            ((full_w * scale).round() as u32).max(2),
            ((full_h * scale).round() as u32).max(2),
        );
        let small = img.resize_exact(w, h, FilterType::Triangle).to_rgb8();
        let attempts: Vec<(Vec<u8>, u16, u16)> = match protocol {
            Protocol::Kitty => {
                // Kitty scales the picture into the cells it is given: the cells stay, the
                // resolution drops.
                let cols = (full_w / cw).ceil().clamp(1.0, req.max_cols as f32) as u16;
                let rows = (full_h / ch).ceil().clamp(1.0, req.max_rows as f32) as u16;
                let gray = req.depth == Depth::Mono;
                vec![(kitty(&small, cols, rows, gray)?, cols, rows)]
            }
            Protocol::Sixel => {
                let cols = ((w as f32 / cw).ceil() as u16).clamp(1, req.max_cols);
                let rows = ((h as f32 / ch).ceil() as u16).clamp(1, req.max_rows);
                levels
                    .iter()
                    .map(|&l| (sixel(&small, l), cols, rows))
                    .collect()
            }
        };
        for (bytes, cols, rows) in attempts {
            if bytes.len() <= req.budget {
                return Ok(Picture {
                    width: cols,
                    height: rows * 2,
                    depth: req.depth,
                    pixels: Vec::new(),
                    cost: bytes.len(),
                    graphic: Some(bytes),
                });
            }
        }
        scale *= 0.8;
    }
    Err(format!("no preview fits in {} bytes", req.budget))
}

/// Kitty graphics: a PNG, base64 in chunks of 4096, shown over `cols`×`rows` cells at the
/// cursor, which stays where it is (`C=1`); `q=2` so the terminal sends no reply into the input.
fn kitty(img: &RgbImage, cols: u16, rows: u16, gray: bool) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    let encoded = if gray {
        DynamicImage::ImageRgb8(img.clone())
            .to_luma8()
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    } else {
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    };
    encoded.map_err(|e| format!("preview: cannot encode: {e}"))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(4096).collect();
    let mut out = Vec::with_capacity(data.len() + 64 * chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        if i == 0 {
            out.extend_from_slice(
                format!("\x1b_Ga=T,f=100,q=2,C=1,i={KITTY_ID},c={cols},r={rows},m={more};")
                    .as_bytes(),
            );
        } else {
            out.extend_from_slice(format!("\x1b_Gm={more};").as_bytes());
        }
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\x1b\\");
    }
    Ok(out)
}

/// Remove the preview from a kitty terminal.
pub fn kitty_delete() -> Vec<u8> {
    format!("\x1b_Ga=d,d=I,i={KITTY_ID},q=2\x1b\\").into_bytes()
}

/// Sixel: `levels` steps per channel (a `levels`³ colour cube; 0 means 16 grays), six pixel
/// rows per band, each colour's row run-length encoded.
pub fn sixel(img: &RgbImage, levels: u8) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let index = |p: [u8; 3]| -> usize {
        if levels == 0 {
            let l = super::budget::luma(p) as usize;
            (l * 15 + 127) / 255
        } else {
            let l = levels as usize;
            let q = |v: u8| (v as usize * (l - 1) + 127) / 255;
            q(p[0]) * l * l + q(p[1]) * l + q(p[2])
        }
    };
    let colours = if levels == 0 {
        16
    } else {
        (levels as usize).pow(3)
    };
    let px: Vec<usize> = img.pixels().map(|p| index(p.0)).collect();
    let mut used = vec![false; colours];
    for &i in &px {
        used[i] = true;
    }
    let mut out = Vec::with_capacity(w * h / 2);
    out.extend_from_slice(format!("\x1bP0;1;0q\"1;1;{w};{h}").as_bytes());
    for (i, _) in used.iter().enumerate().filter(|(_, &u)| u) {
        let pct = |step: usize, of: usize| step * 100 / of.max(1);
        let (r, g, b) = if levels == 0 {
            let v = pct(i, 15);
            (v, v, v)
        } else {
            let l = levels as usize;
            (
                pct(i / (l * l), l - 1),
                pct(i / l % l, l - 1),
                pct(i % l, l - 1),
            )
        };
        out.extend_from_slice(format!("#{i};2;{r};{g};{b}").as_bytes());
    }
    let mut line = vec![0u8; w];
    for band in (0..h).step_by(6) {
        let rows = (h - band).min(6);
        let mut in_band = vec![false; colours];
        for y in band..band + rows {
            for &i in &px[y * w..(y + 1) * w] {
                in_band[i] = true;
            }
        }
        let mut first = true;
        for (colour, _) in in_band.iter().enumerate().filter(|(_, &u)| u) {
            for (x, bits) in line.iter_mut().enumerate() {
                *bits = (0..rows)
                    .filter(|&k| px[(band + k) * w + x] == colour)
                    .fold(0u8, |b, k| b | (1 << k));
            }
            // Columns after the last set one need not be sent.
            let end = line.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            if !first {
                out.push(b'$');
            }
            first = false;
            out.extend_from_slice(format!("#{colour}").as_bytes());
            run_length(&line[..end], &mut out);
        }
        out.push(b'-');
    }
    out.extend_from_slice(b"\x1b\\");
    out
}

/// Sixel characters for a row of 6-bit columns, runs of four or more as `!n`.
fn run_length(line: &[u8], out: &mut Vec<u8>) {
    let mut x = 0;
    while x < line.len() {
        let v = line[x];
        let run = line[x..].iter().take_while(|&&b| b == v).count();
        let c = b'?' + v;
        if run >= 4 {
            out.extend_from_slice(format!("!{run}").as_bytes());
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(c, run));
        }
        x += run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quadrants() -> RgbImage {
        RgbImage::from_fn(12, 12, |x, y| match (x < 6, y < 6) {
            (true, true) => image::Rgb([255, 0, 0]),
            (false, true) => image::Rgb([0, 255, 0]),
            (true, false) => image::Rgb([0, 0, 255]),
            (false, false) => image::Rgb([255, 255, 255]),
        })
    }

    #[test]
    fn sixel_of_four_quadrants() {
        let s = String::from_utf8(sixel(&quadrants(), 2)).expect("ascii");
        // Header with the size, four palette entries, two bands of two colours each.
        assert!(s.starts_with("\x1bP0;1;0q\"1;1;12;12"), "{s:?}");
        assert!(
            s.contains("#4;2;100;0;0") && s.contains("#2;2;0;100;0"),
            "{s:?}"
        );
        assert!(
            s.contains("#1;2;0;0;100") && s.contains("#7;2;100;100;100"),
            "{s:?}"
        );
        // Band 1: red over the left six columns (all six bits: `~`), green after.
        assert!(s.contains("#2!6?!6~$#4!6~-"), "{s:?}");
        assert!(s.contains("#1!6~$#7!6?!6~-"), "{s:?}");
        assert!(s.ends_with("\x1b\\"));
    }

    #[test]
    fn kitty_sends_a_png_in_chunks_without_replies() {
        // Noise: a PNG that needs several chunks.
        let mut seed = 1u32;
        let big = RgbImage::from_fn(200, 200, |_, _| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let [a, b, c, _] = seed.to_le_bytes();
            image::Rgb([a, b, c])
        });
        let k = kitty(&big, 20, 10, false).expect("encode");
        let s = String::from_utf8(k).expect("ascii");
        assert!(s.starts_with("\x1b_Ga=T,f=100,q=2,C=1,i=7311,c=20,r=10,m=1;"));
        assert!(s.contains("\x1b_Gm=0;"));
        assert!(s.split("\x1b\\").all(|chunk| chunk.len() <= 4096 + 64));
    }
}
