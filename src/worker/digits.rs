//! Times drawn into a picture: digits and a colon from a 3×5 font, each font cell a square of
//! pixels, white on black. A preview in half blocks shrinks a contact sheet about tenfold;
//! cells that large still come through as one or more terminal pixels each.

use image::{Rgb, RgbImage};

/// Rows of each glyph, three bits each (the colon is one column wide).
const GLYPHS: [(char, [u8; 5]); 11] = [
    ('0', [0b111, 0b101, 0b101, 0b101, 0b111]),
    ('1', [0b010, 0b110, 0b010, 0b010, 0b111]),
    ('2', [0b111, 0b001, 0b111, 0b100, 0b111]),
    ('3', [0b111, 0b001, 0b111, 0b001, 0b111]),
    ('4', [0b101, 0b101, 0b111, 0b001, 0b001]),
    ('5', [0b111, 0b100, 0b111, 0b001, 0b111]),
    ('6', [0b111, 0b100, 0b111, 0b101, 0b111]),
    ('7', [0b111, 0b001, 0b001, 0b001, 0b001]),
    ('8', [0b111, 0b101, 0b111, 0b101, 0b111]),
    ('9', [0b111, 0b101, 0b111, 0b001, 0b111]),
    (':', [0b0, 0b1, 0b0, 0b1, 0b0]),
];

pub const ROWS: u32 = 5;

fn glyph(c: char) -> Option<(u32, [u8; 5])> {
    GLYPHS
        .iter()
        .find(|(g, _)| *g == c)
        .map(|(g, rows)| (if *g == ':' { 1 } else { 3 }, *rows))
}

/// Width of `text` in font cells, one blank cell between glyphs.
pub fn cells(text: &str) -> u32 {
    let w: u32 = text.chars().filter_map(glyph).map(|(w, _)| w + 1).sum();
    w.saturating_sub(1)
}

/// `m:ss`, or `h:mm:ss` from an hour on.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// Draw `text` with its top-left at (`x`, `y`), each font cell `cell` pixels square; what
/// falls outside the picture is left out.
pub fn draw(img: &mut RgbImage, x: u32, y: u32, cell: u32, text: &str) {
    let mut left = x;
    for (w, rows) in text.chars().filter_map(glyph) {
        for (r, bits) in rows.iter().enumerate() {
            for c in 0..w {
                if bits >> (w - 1 - c) & 1 == 1 {
                    fill(img, left + c * cell, y + r as u32 * cell, cell);
                }
            }
        }
        left += (w + 1) * cell;
    }
}

fn fill(img: &mut RgbImage, x: u32, y: u32, cell: u32) {
    for py in y..(y + cell).min(img.height()) {
        for px in x..(x + cell).min(img.width()) {
            img.put_pixel(px, py, Rgb([255, 255, 255]));
        }
    }
}

/// The text a picture shows at (`x`, `y`) with cells of `cell` pixels (`cell` may be
/// fractional: a picture scaled down), read by thresholding each cell's centre: what a
/// reader's eye does at that resolution. For tests.
pub fn read(img: &RgbImage, x: f32, y: f32, cell: f32, len: usize) -> String {
    let lit = |cx: u32, cy: u32| -> bool {
        let px = x + (cx as f32 + 0.5) * cell;
        let py = y + (cy as f32 + 0.5) * cell;
        img.get_pixel_checked(px as u32, py as u32)
            .is_some_and(|p| p.0.iter().map(|v| u32::from(*v)).sum::<u32>() > 3 * 110)
    };
    let mut out = String::new();
    let mut at = 0u32;
    for _ in 0..len {
        // A colon is one lit column in rows 1 and 3 with the column after it blank.
        let colon = lit(at, 1) && lit(at, 3) && !lit(at, 0) && !lit(at, 2) && !lit(at, 4);
        if colon && !lit(at + 1, 1) {
            out.push(':');
            at += 2;
            continue;
        }
        let rows: Vec<u8> = (0..ROWS)
            .map(|r| (0..3).fold(0u8, |acc, c| acc << 1 | u8::from(lit(at + c, r))))
            .collect();
        let c = GLYPHS
            .iter()
            .find(|(g, bits)| *g != ':' && bits[..] == rows[..])
            .map_or('?', |(g, _)| *g);
        out.push(c);
        at += 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        assert_eq!(clock(5.9), "0:05");
        assert_eq!(clock(754.0), "12:34");
        assert_eq!(clock(3723.0), "1:02:03");
        assert_eq!(clock(-1.0), "0:00");
    }

    #[test]
    fn drawn_text_reads_back() {
        for text in ["0:05", "12:34", "1:02:03", "9:87"] {
            let mut img = RgbImage::new(200, 40);
            draw(&mut img, 3, 4, 4, text);
            assert_eq!(read(&img, 3.0, 4.0, 4.0, text.len()), text);
            assert!(cells(text) * 4 <= 200);
        }
        assert_eq!(cells("0:05"), 13);
    }
}
