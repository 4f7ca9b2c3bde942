//! Fitting a preview into a byte budget: the size and colour depth are chosen by estimating
//! exactly what the terminal will be sent (a colour change per cell where neighbours differ,
//! the `▀` glyph, a cursor move per row).

use image::imageops::FilterType;
use image::DynamicImage;

use super::{Depth, Picture, Request};

pub fn fit(img: &DynamicImage, req: &Request) -> Result<Picture, String> {
    if req.max_cols < 4 || req.max_rows < 2 {
        return Err("no room for a preview".into());
    }
    let depths: &[Depth] = match req.depth {
        Depth::True => &[Depth::True, Depth::Ansi256, Depth::Ansi16],
        Depth::Ansi256 => &[Depth::Ansi256, Depth::Ansi16],
        Depth::Ansi16 => &[Depth::Ansi16],
        Depth::Mono => &[Depth::Mono],
    };
    // Largest first: at each size try the richest depth that fits, then shrink.
    let mut scale = 1.0f32;
    for _ in 0..24 {
        let (w, h) = scaled(img, req, scale);
        let small = img
            .resize_exact(w as u32, h as u32, FilterType::Triangle)
            .to_rgb8();
        for &depth in depths {
            let pixels: Vec<[u8; 3]> = small.pixels().map(|p| reduce(p.0, depth)).collect();
            let cost = cost(&pixels, w, h, depth);
            if cost <= req.budget {
                return Ok(Picture {
                    width: w,
                    height: h,
                    depth,
                    pixels,
                    cost,
                    graphic: None,
                });
            }
        }
        scale *= 0.85;
    }
    Err(format!("no preview fits in {} bytes", req.budget))
}

/// Size in pixels (two per cell row) fitting the area, keeping the aspect ratio.
fn scaled(img: &DynamicImage, req: &Request, scale: f32) -> (u16, u16) {
    let (iw, ih) = (img.width().max(1) as f32, img.height().max(1) as f32);
    let (aw, ah) = (
        req.max_cols as f32 * scale,
        req.max_rows as f32 * 2.0 * scale,
    );
    let k = (aw / iw).min(ah / ih);
    let w = (iw * k).round().clamp(2.0, aw.max(2.0));
    let mut h = (ih * k).round().clamp(2.0, ah.max(2.0)) as u16;
    h += h % 2; // whole cell rows
    (w as u16, h)
}

/// Reduce a colour to what the depth can show (so neighbours become equal and cost nothing).
pub fn reduce(p: [u8; 3], depth: Depth) -> [u8; 3] {
    match depth {
        Depth::True => [p[0] & 0xf8, p[1] & 0xf8, p[2] & 0xf8],
        Depth::Ansi256 => {
            let c = |v: u8| CUBE[cube_index(v)];
            [c(p[0]), c(p[1]), c(p[2])]
        }
        Depth::Ansi16 => ANSI16[ansi16_index(p) as usize],
        Depth::Mono => {
            let l = luma(p);
            [l, l, l]
        }
    }
}

pub const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

pub fn cube_index(v: u8) -> usize {
    if v < 48 {
        0
    } else if v < 115 {
        1
    } else {
        ((v as usize - 35) / 40).min(5)
    }
}

/// The xterm default palette for the 16 ANSI colours.
pub const ANSI16: [[u8; 3]; 16] = [
    [0, 0, 0],
    [205, 0, 0],
    [0, 205, 0],
    [205, 205, 0],
    [0, 0, 238],
    [205, 0, 205],
    [0, 205, 205],
    [229, 229, 229],
    [127, 127, 127],
    [255, 0, 0],
    [0, 255, 0],
    [255, 255, 0],
    [92, 92, 255],
    [255, 0, 255],
    [0, 255, 255],
    [255, 255, 255],
];

pub fn ansi16_index(p: [u8; 3]) -> u8 {
    let d = |q: &[u8; 3]| {
        (0..3)
            .map(|i| (p[i] as i32 - q[i] as i32).pow(2))
            .sum::<i32>()
    };
    (0..16).min_by_key(|&i| d(&ANSI16[i])).unwrap_or(0) as u8
}

pub fn luma(p: [u8; 3]) -> u8 {
    ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8
}

/// Bytes of one colour pair's escape sequence at this depth.
fn sgr_len(top: [u8; 3], bottom: [u8; 3], depth: Depth) -> usize {
    let digits = |v: u8| {
        if v >= 100 {
            3
        } else if v >= 10 {
            2
        } else {
            1
        }
    };
    match depth {
        // ESC[38;2;R;G;B;48;2;R;G;Bm
        Depth::True => {
            16 + top
                .iter()
                .chain(bottom.iter())
                .map(|&v| digits(v))
                .sum::<usize>()
        }
        // ESC[38;5;N;48;5;Nm
        Depth::Ansi256 | Depth::Ansi16 => 18,
        Depth::Mono => 0,
    }
}

/// What drawing these pixels costs: per cell the glyph, plus a colour sequence wherever the
/// pair differs from the cell before; a cursor move per row.
pub fn cost(pixels: &[[u8; 3]], w: u16, h: u16, depth: Depth) -> usize {
    let (w, h) = (w as usize, h as usize);
    let mut bytes = 0;
    for row in 0..h / 2 {
        bytes += 8;
        let mut last: Option<([u8; 3], [u8; 3])> = None;
        for x in 0..w {
            let top = pixels[(2 * row) * w + x];
            let bottom = pixels[(2 * row + 1) * w + x];
            if depth == Depth::Mono {
                bytes += 3;
                continue;
            }
            if last != Some((top, bottom)) {
                bytes += sgr_len(top, bottom, depth);
                last = Some((top, bottom));
            }
            bytes += 3;
        }
    }
    bytes
}
