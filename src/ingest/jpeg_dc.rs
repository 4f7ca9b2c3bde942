//! Phone photos at an eighth of their size from the DC coefficients alone.
//!
//! An 8 × 8 block's DC coefficient is its mean, so the DC terms of a JPEG are the picture at
//! 1/8 scale: 504 × 378 for a 12-megapixel photo, plenty for fingerprints and the preview kept
//! in the case. A general decoder scaled to 1/8 still decodes every AC coefficient into a
//! block before throwing it away; here the AC codes are only skipped, with one table lookup
//! for most of them (the code and its extra bits together). That makes this reader about
//! four times faster than the general one on phone photos, which is what lets ingest of
//! full-size photos run near the speed of hashing them.
//!
//! Only the common processes are read: baseline and extended sequential Huffman JPEGs, and
//! progressive ones (whose first scans hold the DC terms), 8-bit, grey or three components.
//! Anything else, and any data this reader finds wrong, gives `None`: the caller then asks
//! the general decoder, which also gives the verdict on damaged files. The work is bounded by
//! the declared size (checked against `max_pixels` before anything is allocated); it runs in
//! a parser worker like every decoder of evidence.

use image::DynamicImage;

/// What a DC-only read gave.
pub struct Dc {
    /// The picture at 1/8 scale: ⌈width / 8⌉ × ⌈height / 8⌉.
    pub image: DynamicImage,
    /// The full size the JPEG declares.
    pub full: (u32, u32),
}

/// The picture at 1/8 scale when its longer side is then still at least `long_side`;
/// `Ok(None)` when this reader does not apply (a smaller picture, another process, CMYK,
/// damaged data). `Err` only for a picture declaring more than `max_pixels`.
pub fn decode(data: &[u8], long_side: u32, max_pixels: u64) -> Result<Option<Dc>, String> {
    let mut r = Reader {
        data,
        pos: 0,
        frame: None,
        dc_tables: Default::default(),
        ac_tables: Default::default(),
        quant_dc: [None; 4],
        restart: 0,
        adobe_transform: None,
        max_pixels,
        long_side,
    };
    match r.run() {
        Ok(Some(dc)) => Ok(Some(dc)),
        Ok(None) | Err(Stop::NotForUs) => Ok(None),
        Err(Stop::TooLarge(msg)) => Err(msg),
    }
}

enum Stop {
    /// Not a JPEG this reader handles, or damaged: the general decoder decides.
    NotForUs,
    TooLarge(String),
}

type Res<T> = Result<T, Stop>;

fn no<T>() -> Res<T> {
    Err(Stop::NotForUs)
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Blocks per row in the MCU-padded grid.
    bw: usize,
    /// Blocks per row and rows actually covered by the picture (a non-interleaved scan codes
    /// only these).
    cw: usize,
    ch: usize,
    /// The DC coefficient of every block, in the padded grid.
    dc: Vec<i16>,
}

struct Frame {
    progressive: bool,
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    mcux: usize,
    mcuy: usize,
    comps: Vec<Component>,
    /// The lowest bit of each component's DC terms read so far (`None`: no DC scan yet);
    /// progressive files may send the lowest bits in later refinement scans.
    low: Vec<Option<u8>>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    frame: Option<Frame>,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    /// The first (DC) entry of each quantisation table, when defined.
    quant_dc: [Option<u16>; 4],
    restart: usize,
    adobe_transform: Option<u8>,
    max_pixels: u64,
    long_side: u32,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Res<u8> {
        let b = *self.data.get(self.pos).ok_or(Stop::NotForUs)?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Res<u16> {
        Ok(u16::from(self.byte()?) << 8 | u16::from(self.byte()?))
    }

    /// The payload of the segment whose length field comes next.
    fn segment(&mut self) -> Res<&'a [u8]> {
        let len = usize::from(self.u16()?);
        if len < 2 || self.pos + len - 2 > self.data.len() {
            return no();
        }
        let s = &self.data[self.pos..self.pos + len - 2];
        self.pos += len - 2;
        Ok(s)
    }

    /// The next marker, skipping fill bytes (and, after a scan, its entropy-coded data).
    fn marker(&mut self) -> Res<u8> {
        loop {
            let b = self.byte()?;
            if b != 0xff {
                continue;
            }
            let mut m = self.byte()?;
            while m == 0xff {
                m = self.byte()?;
            }
            // 0xFF00 is a stuffed byte and RSTn a restart inside entropy-coded data.
            if m != 0 && !(0xd0..=0xd7).contains(&m) {
                return Ok(m);
            }
        }
    }

    fn run(&mut self) -> Res<Option<Dc>> {
        if self.data.get(..2) != Some(&[0xff, 0xd8]) {
            return no();
        }
        self.pos = 2;
        loop {
            match self.marker()? {
                0xd9 => return self.finish(),
                0xc0 | 0xc1 => self.frame(false)?,
                0xc2 => self.frame(true)?,
                // Lossless, hierarchical and arithmetic-coded processes: not read here.
                0xc3 | 0xc5..=0xc7 | 0xc8..=0xcb | 0xcd..=0xcf => return no(),
                0xc4 => self.huffman()?,
                0xdb => self.quant()?,
                0xdd => {
                    let s = self.segment()?;
                    if s.len() < 2 {
                        return no();
                    }
                    self.restart = usize::from(s[0]) << 8 | usize::from(s[1]);
                }
                0xee => {
                    let s = self.segment()?;
                    if s.len() >= 12 && &s[..5] == b"Adobe" {
                        self.adobe_transform = Some(s[11]);
                    }
                }
                0xda => {
                    if self.scan()? {
                        // Every DC term is known: the rest of a progressive file only
                        // refines AC terms.
                        return self.finish();
                    }
                }
                // DNL (a height given after the scan) is too rare to be worth reading.
                0xdc => return no(),
                _ => {
                    self.segment()?;
                }
            }
        }
    }

    fn frame(&mut self, progressive: bool) -> Res<()> {
        if self.frame.is_some() {
            return no();
        }
        let s = self.segment()?;
        if s.len() < 6 || s[0] != 8 {
            return no();
        }
        let height = usize::from(s[1]) << 8 | usize::from(s[2]);
        let width = usize::from(s[3]) << 8 | usize::from(s[4]);
        let n = usize::from(s[5]);
        if width == 0 || height == 0 || !(n == 1 || n == 3) || s.len() < 6 + 3 * n {
            return no();
        }
        let pixels = width as u64 * height as u64;
        if pixels > self.max_pixels {
            return Err(Stop::TooLarge(format!(
                "image too large ({width}×{height}, over {} megapixels)",
                self.max_pixels / 1_000_000
            )));
        }
        if (width.max(height).div_ceil(8) as u64) < u64::from(self.long_side) {
            return no();
        }
        let mut comps = Vec::with_capacity(n);
        for c in s[6..6 + 3 * n].chunks_exact(3) {
            let (h, v, tq) = (
                usize::from(c[1] >> 4),
                usize::from(c[1] & 15),
                usize::from(c[2]),
            );
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
                return no();
            }
            comps.push((c[0], h, v, tq));
        }
        let hmax = comps.iter().map(|c| c.1).max().unwrap_or(1);
        let vmax = comps.iter().map(|c| c.2).max().unwrap_or(1);
        let mcux = width.div_ceil(8 * hmax);
        let mcuy = height.div_ceil(8 * vmax);
        let comps = comps
            .into_iter()
            .map(|(id, h, v, tq)| {
                let (bw, bh) = (mcux * h, mcuy * v);
                Component {
                    id,
                    h,
                    v,
                    tq,
                    bw,
                    cw: (width * h).div_ceil(hmax).div_ceil(8),
                    ch: (height * v).div_ceil(vmax).div_ceil(8),
                    dc: vec![0; bw * bh],
                }
            })
            .collect::<Vec<_>>();
        self.frame = Some(Frame {
            progressive,
            width,
            height,
            hmax,
            vmax,
            mcux,
            mcuy,
            low: vec![None; comps.len()],
            comps,
        });
        Ok(())
    }

    fn huffman(&mut self) -> Res<()> {
        let mut s = self.segment()?;
        while !s.is_empty() {
            if s.len() < 17 {
                return no();
            }
            let (class, id) = (s[0] >> 4, usize::from(s[0] & 15));
            let mut counts = [0u8; 16];
            counts.copy_from_slice(&s[1..17]);
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if id > 3 || class > 1 || total > 256 || s.len() < 17 + total {
                return no();
            }
            let table =
                Huffman::new(&counts, &s[17..17 + total], class == 1).ok_or(Stop::NotForUs)?;
            if class == 0 {
                self.dc_tables[id] = Some(table);
            } else {
                self.ac_tables[id] = Some(table);
            }
            s = &s[17 + total..];
        }
        Ok(())
    }

    fn quant(&mut self) -> Res<()> {
        let mut s = self.segment()?;
        while !s.is_empty() {
            let (precision, id) = (s[0] >> 4, usize::from(s[0] & 15));
            let size = if precision == 0 { 64 } else { 128 };
            if id > 3 || precision > 1 || s.len() < 1 + size {
                return no();
            }
            self.quant_dc[id] = Some(if precision == 0 {
                u16::from(s[1])
            } else {
                u16::from(s[1]) << 8 | u16::from(s[2])
            });
            s = &s[1 + size..];
        }
        Ok(())
    }

    /// Read one scan; true once every component's DC terms are complete, to the last bit.
    fn scan(&mut self) -> Res<bool> {
        let s = self.segment()?;
        let Some(frame) = self.frame.as_mut() else {
            return no();
        };
        let n = usize::from(*s.first().ok_or(Stop::NotForUs)?);
        if n == 0 || n > 4 || s.len() < 1 + 2 * n + 3 {
            return no();
        }
        let mut members = Vec::with_capacity(n);
        for c in s[1..1 + 2 * n].chunks_exact(2) {
            let idx = frame
                .comps
                .iter()
                .position(|k| k.id == c[0])
                .ok_or(Stop::NotForUs)?;
            members.push((idx, usize::from(c[1] >> 4), usize::from(c[1] & 15)));
        }
        let (ss, se, ah, al) = (
            s[1 + 2 * n],
            s[2 + 2 * n],
            s[3 + 2 * n] >> 4,
            s[3 + 2 * n] & 15,
        );
        if frame.progressive && ss > 0 {
            // An AC scan: skipped (the caller's marker search steps over its data).
            return Ok(false);
        }
        if !frame.progressive && (ss != 0 || se != 63 || ah != 0 || al != 0) {
            return no();
        }
        if frame.progressive && (se != 0 || al > 13) {
            return no();
        }
        let mut tables = Vec::with_capacity(n);
        for &(idx, td, ta) in &members {
            let q = self.quant_dc[frame.comps[idx].tq].ok_or(Stop::NotForUs)?;
            let dc = self.dc_tables.get(td).and_then(Option::as_ref);
            let ac = self.ac_tables.get(ta).and_then(Option::as_ref);
            let needs_dc = !(frame.progressive && ah > 0);
            if (needs_dc && dc.is_none()) || (!frame.progressive && ac.is_none()) {
                return no();
            }
            tables.push((idx, dc, ac, q));
        }
        let mode = match (frame.progressive, ah) {
            (false, _) => Mode::Sequential,
            (true, 0) => Mode::First(al),
            (true, _) => Mode::Refine(al),
        };
        let mut bits = Bits::new(self.data, self.pos);
        let mut preds = vec![0i32; n];
        let interleaved = n > 1;
        let units = if interleaved {
            frame.mcux * frame.mcuy
        } else {
            let c = &frame.comps[members[0].0];
            c.cw * c.ch
        };
        let mut left = self.restart;
        for unit in 0..units {
            if self.restart > 0 {
                if left == 0 {
                    bits.restart()?;
                    preds.iter_mut().for_each(|p| *p = 0);
                    left = self.restart;
                }
                left -= 1;
            }
            if interleaved {
                let (mx, my) = (unit % frame.mcux, unit / frame.mcux);
                for (k, &(idx, dc, ac, _)) in tables.iter().enumerate() {
                    let c = &mut frame.comps[idx];
                    for v in 0..c.v {
                        for h in 0..c.h {
                            let at = (my * c.v + v) * c.bw + mx * c.h + h;
                            block(&mut bits, mode, dc, ac, &mut preds[k], &mut c.dc[at])?;
                        }
                    }
                }
            } else {
                let (idx, dc, ac, _) = tables[0];
                let c = &mut frame.comps[idx];
                let at = (unit / c.cw) * c.bw + unit % c.cw;
                block(&mut bits, mode, dc, ac, &mut preds[0], &mut c.dc[at])?;
            }
        }
        if bits.overrun() {
            return no();
        }
        self.pos = bits.pos;
        let low = match mode {
            Mode::Sequential => 0,
            Mode::First(al) | Mode::Refine(al) => al,
        };
        for &(idx, ..) in &members {
            frame.low[idx] = Some(low);
        }
        Ok(frame.low.iter().all(|l| *l == Some(0)))
    }

    fn finish(&mut self) -> Res<Option<Dc>> {
        let Some(frame) = self.frame.take() else {
            return no();
        };
        // A progressive file missing a refinement scan still gives every DC term but its
        // lowest bits, as the general decoders show it.
        if frame.low.iter().any(Option::is_none) {
            return no();
        }
        let (w, h) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
        // Each component's blocks as samples, the way a 1 × 1 inverse DCT gives them.
        let mut planes = Vec::with_capacity(frame.comps.len());
        for c in &frame.comps {
            let q = i32::from(self.quant_dc[c.tq].ok_or(Stop::NotForUs)?);
            let columns: Vec<usize> = (0..w).map(|x| x * c.h / frame.hmax).collect();
            let mut plane = vec![0u8; w * h];
            let mut last = None;
            for y in 0..h {
                let by = y * c.v / frame.vmax;
                // A subsampled component's rows repeat: copied, not worked out again.
                if let Some(prev) = last.filter(|&(_, b)| b == by).map(|(p, _)| p) {
                    plane.copy_within(prev * w..(prev + 1) * w, y * w);
                    continue;
                }
                last = Some((y, by));
                let row = &c.dc[by * c.bw..(by + 1) * c.bw];
                for (out, &x) in plane[y * w..(y + 1) * w].iter_mut().zip(&columns) {
                    let d = i32::from(row.get(x).copied().unwrap_or(0));
                    *out = ((d * q + 1024) >> 3).clamp(0, 255) as u8;
                }
            }
            planes.push(plane);
        }
        let (w32, h32) = (w as u32, h as u32);
        let full = (frame.width as u32, frame.height as u32);
        let image = if planes.len() == 1 {
            image::GrayImage::from_raw(w32, h32, planes.pop().unwrap_or_default())
                .map(DynamicImage::ImageLuma8)
        } else {
            let ids: Vec<u8> = frame.comps.iter().map(|c| c.id).collect();
            let rgb = match self.adobe_transform {
                Some(t) => t == 0,
                None => ids == b"RGB",
            };
            let mut out = vec![0u8; w * h * 3];
            let [p0, p1, p2] = &planes[..] else {
                return no();
            };
            let samples = p0.iter().zip(p1).zip(p2);
            for (px, ((&a, &b), &c)) in out.chunks_exact_mut(3).zip(samples) {
                let [r, g, bl] = if rgb {
                    [a, b, c]
                } else {
                    ycbcr_to_rgb(a, b, c)
                };
                px[0] = r;
                px[1] = g;
                px[2] = bl;
            }
            image::RgbImage::from_raw(w32, h32, out).map(DynamicImage::ImageRgb8)
        };
        Ok(image.map(|image| Dc { image, full }))
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Sequential,
    /// A progressive file's first DC scan, with its point transform.
    First(u8),
    /// A DC refinement scan: one more bit of every DC term.
    Refine(u8),
}

/// One block of a scan: its DC term updated, its AC terms (sequential only) skipped. The bit
/// buffer is worked on in locals: kept in registers, not in memory, along the chain of
/// lookups that makes most of the time.
#[inline(always)]
fn block(
    bits: &mut Bits,
    mode: Mode,
    dc: Option<&Huffman>,
    ac: Option<&Huffman>,
    pred: &mut i32,
    out: &mut i16,
) -> Res<()> {
    let (mut acc, mut n) = (bits.acc, bits.n);
    macro_rules! fill {
        () => {
            if n < 32 {
                (acc, n) = bits.refill(acc, n);
            }
        };
    }
    macro_rules! skip {
        ($k:expr) => {{
            let k = $k;
            acc <<= k;
            n -= k;
        }};
    }
    if let Mode::Refine(al) = mode {
        fill!();
        if acc >> 63 == 1 {
            *out |= 1 << al;
        }
        skip!(1);
        (bits.acc, bits.n) = (acc, n);
        return Ok(());
    }
    let dc = dc.ok_or(Stop::NotForUs)?;
    fill!();
    let (s, len) = dc.symbol(acc).ok_or(Stop::NotForUs)?;
    skip!(len);
    if s > 11 {
        return no();
    }
    let s = u32::from(s);
    fill!();
    let diff = if s == 0 {
        0
    } else {
        let v = (acc >> (64 - s)) as u32;
        skip!(s);
        extend(v, s)
    };
    *pred += diff;
    let shift = if let Mode::First(al) = mode { al } else { 0 };
    *out = i16::try_from(*pred << shift).map_err(|_| Stop::NotForUs)?;
    if let Mode::First(_) = mode {
        (bits.acc, bits.n) = (acc, n);
        return Ok(());
    }
    let ac = ac.ok_or(Stop::NotForUs)?;
    let fast = &*ac.fast_ac;
    let pairs = &*ac.pairs;
    let mut k = 1usize;
    // Two codes per lookup while one code cannot finish the block (a code moves at most 16):
    // the lookups are one chain, each waiting on the last, so fewer of them is what counts.
    while k < 48 {
        fill!();
        let e = pairs[(acc >> (64 - FAST)) as usize];
        if e == 0 {
            break;
        }
        skip!(u32::from(e & 0xff));
        k += usize::from((e >> 8) & 0x7f);
        if e & PAIR_END != 0 {
            (bits.acc, bits.n) = (acc, n);
            return Ok(());
        }
    }
    while k < 64 {
        fill!();
        let e = fast[(acc >> (64 - FAST)) as usize];
        if e != 0 {
            skip!(u32::from(e & 0xff));
            let advance = usize::from(e >> 8);
            if advance == 0 {
                break;
            }
            k += advance;
            continue;
        }
        let (rs, len) = ac.symbol(acc).ok_or(Stop::NotForUs)?;
        skip!(len);
        let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
        if s == 0 {
            if r == 15 {
                k += 16;
                continue;
            }
            break;
        }
        fill!();
        skip!(s);
        k += r + 1;
    }
    (bits.acc, bits.n) = (acc, n);
    if k > 64 {
        return no();
    }
    Ok(())
}

/// A JPEG magnitude category `s` and its `s` extra bits as a signed value.
#[inline]
fn extend(v: u32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < 1 << (s - 1) {
        v as i32 - (1 << s) + 1
    } else {
        v as i32
    }
}

/// BT.601, as libjpeg-turbo and the `jpeg-decoder` crate convert (fixed point, 20 bits).
#[inline]
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    // round(x * 2^20) for 1.402, 0.34414, 0.71414 and 1.772.
    const CR_R: i32 = 1_470_104;
    const CB_G: i32 = 360_857;
    const CR_G: i32 = 748_830;
    const CB_B: i32 = 1_858_077;
    let y = i32::from(y) * (1 << 20) + (1 << 19);
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let c = |v: i32| (v >> 20).clamp(0, 255) as u8;
    [
        c(y + CR_R * cr),
        c(y - CB_G * cb - CR_G * cr),
        c(y + CB_B * cb),
    ]
}

/// Bits looked up at once: codes (with their extra bits, for AC) up to this long take one
/// lookup.
const FAST: u32 = 12;
/// In `Huffman::pairs`: the block ends with these codes.
const PAIR_END: u16 = 0x8000;

struct Huffman {
    /// For codes up to FAST bits: length << 8 | symbol; 0 when longer.
    fast: Box<[u16; 1 << FAST]>,
    /// For AC tables: for a code up to FAST bits, the bits to skip, code and extra bits
    /// together (low byte), and how far the position in the block moves (high byte; 0 = end
    /// of block); 0 for a longer code.
    fast_ac: Box<[u16; 1 << FAST]>,
    /// For AC tables: as `fast_ac`, but for a code followed by a second one whose code bits
    /// are also within the FAST bits, both at once: bits to skip (low byte), how far the
    /// position moves (bits 8-14), PAIR_END when the block ends there (an end-of-block code
    /// first or second). A lone code where no second fits; 0 for a longer first code.
    pairs: Box<[u16; 1 << FAST]>,
    /// Canonical decoding of longer codes: the largest code of each length (-1: none), and
    /// where that length's symbols start.
    maxcode: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8], ac: bool) -> Option<Huffman> {
        let mut fast = Box::new([0u16; 1 << FAST]);
        let mut fast_ac = Box::new([0u16; 1 << FAST]);
        let mut maxcode = [-1i32; 18];
        let mut offset = [0i32; 17];
        let mut code = 0u32;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let count = usize::from(counts[len as usize - 1]);
            offset[len as usize] = k as i32 - code as i32;
            for _ in 0..count {
                if code >= 1 << len {
                    return None;
                }
                let sym = symbols[k];
                if len <= FAST {
                    let spare = FAST - len;
                    let first = (code << spare) as usize;
                    for e in &mut fast[first..first + (1 << spare)] {
                        *e = (len as u16) << 8 | u16::from(sym);
                    }
                    if ac {
                        // The extra bits are skipped, never read, so they need not fit in
                        // the lookahead: every code up to FAST bits takes the one lookup
                        // (at most 12 + 15 bits, under the 32 a refill guarantees).
                        let (r, s) = (u32::from(sym >> 4), u32::from(sym & 15));
                        let total = len + s;
                        let advance = match (r, s) {
                            (_, 0) if r == 15 => 16,
                            (_, 0) => 0,
                            _ => r + 1,
                        };
                        for e in &mut fast_ac[first..first + (1 << spare)] {
                            *e = (advance as u16) << 8 | total as u16;
                        }
                    }
                }
                code += 1;
                k += 1;
            }
            if count > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut pairs = Box::new([0u16; 1 << FAST]);
        if ac {
            for (w, p) in pairs.iter_mut().enumerate() {
                let one = fast_ac[w];
                if one == 0 {
                    continue;
                }
                let (total, advance) = (one & 0xff, one >> 8);
                if advance == 0 {
                    *p = total | PAIR_END;
                    continue;
                }
                *p = one;
                if u32::from(total) >= FAST {
                    continue;
                }
                // The next code's length is known if its code bits are inside the window
                // (the bits past the window read as zeros here, so only then).
                let next = fast[(w << total) & ((1 << FAST) - 1)];
                let len = u32::from(next >> 8);
                if next == 0 || u32::from(total) + len > FAST {
                    continue;
                }
                let sym = next & 0xff;
                let (r, s) = (sym >> 4, sym & 15);
                let both = total + len as u16 + s;
                *p = match (r, s) {
                    (15, 0) => (advance + 16) << 8 | both,
                    (_, 0) => advance << 8 | both | PAIR_END,
                    _ => (advance + r + 1) << 8 | both,
                };
            }
        }
        Some(Huffman {
            fast,
            fast_ac,
            pairs,
            maxcode,
            offset,
            symbols: symbols.to_vec(),
        })
    }

    /// The symbol whose code starts the bits `acc` (filled with at least 16) and the code's
    /// length; `None` for a code the table does not have.
    #[inline(always)]
    fn symbol(&self, acc: u64) -> Option<(u8, u32)> {
        let e = self.fast[(acc >> (64 - FAST)) as usize];
        if e != 0 {
            return Some((e as u8, u32::from(e >> 8)));
        }
        self.symbol_long(acc)
    }

    #[cold]
    fn symbol_long(&self, acc: u64) -> Option<(u8, u32)> {
        let code = (acc >> 48) as i32;
        for len in FAST + 1..=16 {
            let c = code >> (16 - len);
            if c <= self.maxcode[len as usize] {
                let i = self.offset[len as usize] + c;
                return self.symbols.get(i as usize).map(|&s| (s, len));
            }
        }
        None
    }
}

/// The entropy-coded data of a scan, read most significant bit first, with stuffed bytes
/// removed. At a marker it feeds zeros; reading into those means the data ended early.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// The next bits, from the top; bits below the `n` counted ones may already hold the
    /// following bytes (the fast refill ORs whole words in, always at the same places).
    acc: u64,
    n: u32,
    /// Zero bits fed after a marker. Once at a marker every refill adds as many to `n` as to
    /// `fake`, so `n < fake` at any later time means real data ran out.
    fake: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            acc: 0,
            n: 0,
            fake: 0,
            at_marker: false,
        }
    }

    /// `acc` and `n` with at least 32 bits counted (enough for a code and its extra bits).
    #[inline(always)]
    fn refill(&mut self, acc: u64, n: u32) -> (u64, u32) {
        // Eight plain bytes (no 0xFF among them) taken at once, as many as fit counted.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0xff; 8]));
            let ff = (!word).wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080;
            if ff == 0 && !self.at_marker {
                self.pos += ((63 - n) >> 3) as usize;
                return (acc | word >> n, n | 56);
            }
        }
        self.refill_slow(acc, n)
    }

    #[cold]
    fn refill_slow(&mut self, mut acc: u64, mut n: u32) -> (u64, u32) {
        while n <= 56 {
            let b = if self.at_marker {
                None
            } else {
                match self.data.get(self.pos) {
                    Some(0xff) => match self.data.get(self.pos + 1) {
                        Some(0) => {
                            self.pos += 2;
                            Some(0xff)
                        }
                        _ => None,
                    },
                    Some(&b) => {
                        self.pos += 1;
                        Some(b)
                    }
                    None => None,
                }
            };
            // Below the counted bits the buffer may hold bytes a fast refill put there: the
            // same bytes at the same places (they had no 0xFF), so OR-ing again is harmless.
            match b {
                Some(b) => acc |= u64::from(b) << (56 - n),
                None => {
                    self.at_marker = true;
                    self.fake += 8;
                }
            }
            n += 8;
        }
        (acc, n)
    }

    fn overrun(&self) -> bool {
        self.n < self.fake
    }

    /// At a restart interval's end: the rest of the byte is padding, then comes RSTn.
    fn restart(&mut self) -> Res<()> {
        if self.overrun() {
            return no();
        }
        self.acc = 0;
        self.n = 0;
        self.fake = 0;
        self.at_marker = false;
        while self.data.get(self.pos) == Some(&0xff) && self.data.get(self.pos + 1) == Some(&0xff) {
            self.pos += 1;
        }
        match self.data.get(self.pos..self.pos + 2) {
            Some([0xff, m]) if (0xd0..=0xd7).contains(m) => {
                self.pos += 2;
                Ok(())
            }
            _ => no(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// A picture with detail at every scale, so that AC codes of every length occur.
    fn scene(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        let mut seed = 12345u32;
        for y in 0..h {
            for x in 0..w {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let noise = (seed >> 24) as i32 / 8;
                let base = ((x * 255 / w) as i32 + (((x / 7) ^ (y / 5)) & 1) as i32 * 40) & 255;
                v.push((base + noise).clamp(0, 255) as u8);
                v.push(((y * 255 / h) as i32 + noise).clamp(0, 255) as u8);
                v.push((((x + y) / 3 % 256) as i32 - noise).clamp(0, 255) as u8);
            }
        }
        v
    }

    fn encode(w: u32, h: u32, f: impl FnOnce(&mut Encoder<&mut Vec<u8>>), grey: bool) -> Vec<u8> {
        let rgb = scene(w, h);
        let mut out = Vec::new();
        let mut e = Encoder::new(&mut out, 85);
        f(&mut e);
        if grey {
            let luma: Vec<u8> = rgb.chunks(3).map(|p| p[0]).collect();
            e.encode(&luma, w as u16, h as u16, ColorType::Luma)
                .expect("encodes");
        } else {
            e.encode(&rgb, w as u16, h as u16, ColorType::Rgb)
                .expect("encodes");
        }
        out
    }

    /// The general decoder at 1/8 scale, for comparison.
    fn reference(jpeg: &[u8]) -> DynamicImage {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        d.read_info().expect("header");
        let info = d.info().expect("info");
        let (w, h) = d.scale(info.width / 8, info.height / 8).expect("scales");
        let raw = d.decode().expect("decodes");
        let (w, h) = (u32::from(w), u32::from(h));
        match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => {
                DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, raw).expect("grey"))
            }
            _ => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, raw).expect("rgb")),
        }
    }

    fn assert_close(ours: &DynamicImage, theirs: &DynamicImage, what: &str) {
        assert_eq!(
            (ours.width(), ours.height()),
            (theirs.width(), theirs.height()),
            "{what}: size"
        );
        let (a, b) = (ours.to_rgb8(), theirs.to_rgb8());
        let mut worst = 0i32;
        let mut total = 0i64;
        for (p, q) in a.as_raw().iter().zip(b.as_raw()) {
            let d = (i32::from(*p) - i32::from(*q)).abs();
            worst = worst.max(d);
            total += i64::from(d);
        }
        let mean = total as f64 / a.as_raw().len() as f64;
        // Luma is exact; chroma differs only where the general decoder interpolates the
        // subsampled colour planes and this reader repeats them.
        assert!(mean < 2.0, "{what}: mean difference {mean}");
        assert!(worst <= 64, "{what}: worst difference {worst}");
    }

    #[test]
    fn equals_the_general_decoder_at_an_eighth() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("4:2:0", encode(2600, 1950, |_| {}, false)),
            (
                "4:4:4",
                encode(
                    2601,
                    1203,
                    |e| e.set_sampling_factor(SamplingFactor::R_4_4_4),
                    false,
                ),
            ),
            (
                "4:2:2",
                encode(
                    2599,
                    1001,
                    |e| e.set_sampling_factor(SamplingFactor::R_4_2_2),
                    false,
                ),
            ),
            (
                "4:4:0",
                encode(
                    1003,
                    2611,
                    |e| e.set_sampling_factor(SamplingFactor::R_4_4_0),
                    false,
                ),
            ),
            (
                "restarts",
                encode(2600, 1000, |e| e.set_restart_interval(7), false),
            ),
            (
                "progressive",
                encode(2650, 1020, |e| e.set_progressive(true), false),
            ),
            (
                "progressive with restarts",
                encode(
                    2650,
                    1020,
                    |e| {
                        e.set_progressive(true);
                        e.set_restart_interval(5)
                    },
                    false,
                ),
            ),
            ("grey", encode(2605, 999, |_| {}, true)),
            (
                "grey progressive",
                encode(2605, 999, |e| e.set_progressive(true), true),
            ),
        ];
        for (what, jpeg) in cases {
            let ours = decode(&jpeg, 1, 50_000_000)
                .expect("reads")
                .unwrap_or_else(|| panic!("{what}: not read"));
            let theirs = reference(&jpeg);
            assert_close(&ours.image, &theirs, what);
            // Luma alone must be exact.
            if what.starts_with("grey") {
                assert_eq!(ours.image.to_luma8(), theirs.to_luma8(), "{what}");
            }
        }
    }

    #[test]
    fn small_pictures_and_other_processes_are_left_to_the_general_decoder() {
        let small = encode(800, 600, |_| {}, false);
        assert!(decode(&small, 320, 50_000_000).expect("reads").is_none());
        assert!(decode(b"not a jpeg", 1, 50_000_000)
            .expect("reads")
            .is_none());
        let big = encode(2600, 100, |_| {}, false);
        assert!(matches!(decode(&big, 1, 100_000), Err(m) if m.contains("too large")));
    }

    #[test]
    fn damaged_data_never_panics_and_is_left_to_the_general_decoder() {
        let jpeg = encode(2600, 400, |e| e.set_restart_interval(3), false);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        for _ in 0..400 {
            let mut m = jpeg.clone();
            for _ in 0..1 + next() % 8 {
                let at = next() % m.len();
                m[at] = next() as u8;
            }
            if next() % 5 == 0 {
                m.truncate(next() % m.len());
            }
            // Either a picture of the declared size or "not for us": never a panic.
            if let Ok(Some(dc)) = decode(&m, 1, 50_000_000) {
                assert!(dc.image.width() as usize * dc.image.height() as usize <= 400 * 2600);
            }
        }
    }
}
