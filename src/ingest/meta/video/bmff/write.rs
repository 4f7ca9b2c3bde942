//! A small ISO BMFF writer: boxes from their parts, and a short clip of one AVC track whose
//! frames are placeholders (headers are all a reader looks at). For the demo material and the
//! reader's tests; never used on evidence.

/// A box of `kind` holding `parts` one after another.
pub fn boxed(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// A full box: version and flags, then `parts`.
pub fn full(kind: &[u8; 4], version: u8, flags: u32, parts: &[&[u8]]) -> Vec<u8> {
    let vf = (u32::from(version) << 24 | (flags & 0x00ff_ffff)).to_be_bytes();
    let mut all: Vec<&[u8]> = vec![&vf];
    all.extend_from_slice(parts);
    boxed(kind, &all)
}

/// A QuickTime user-data string (`©xyz`, `©mak`, …): length, language, text.
pub fn user_string(kind: &[u8; 4], text: &str) -> Vec<u8> {
    boxed(
        kind,
        &[
            &(text.len() as u16).to_be_bytes(),
            &[0x55, 0xc4],
            text.as_bytes(),
        ],
    )
}

/// A QuickTime `meta` box naming its items by `keys` (`com.apple.quicktime.*`).
pub fn keys_meta(pairs: &[(&str, &str)]) -> Vec<u8> {
    let hdlr = full(b"hdlr", 0, 0, &[&[0; 4], b"mdta", &[0; 12], b"\0"]);
    let mut keys = (pairs.len() as u32).to_be_bytes().to_vec();
    let mut ilst = Vec::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        keys.extend_from_slice(&(8 + k.len() as u32).to_be_bytes());
        keys.extend_from_slice(b"mdta");
        keys.extend_from_slice(k.as_bytes());
        let data = boxed(b"data", &[&1u32.to_be_bytes(), &[0; 4], v.as_bytes()]);
        ilst.extend(boxed(&(i as u32 + 1).to_be_bytes(), &[&data]));
    }
    boxed(
        b"meta",
        &[
            &hdlr,
            &full(b"keys", 0, 0, &[&keys]),
            &boxed(b"ilst", &[&ilst]),
        ],
    )
}

/// A clip of `seconds` one-second frames at `width`×`height`.
pub struct Clip {
    pub brand: [u8; 4],
    pub width: u16,
    pub height: u16,
    pub seconds: u32,
    /// Unix seconds, written as QuickTime time (since 1904); 0 for none, written as 0 as
    /// ffmpeg does.
    pub created_unix: i64,
    /// Degrees clockwise: 0, 90, 180 or 270, as the track's display matrix.
    pub rotation: u32,
    /// More boxes in `moov/udta` (`user_string`s, `loci`).
    pub udta: Vec<u8>,
    /// More boxes in `moov` (a `keys_meta`).
    pub moov_extra: Vec<u8>,
    /// The video sample entry's code (`avc1`, `hvc1`, …).
    pub codec: [u8; 4],
    /// An audio track with this sample entry code.
    pub audio: Option<[u8; 4]>,
}

/// Seconds between 1904-01-01 and 1970-01-01.
const QT_EPOCH_OFFSET: i64 = 2_082_844_800;
/// A valid 64×64 baseline SPS and PPS, so that ffprobe accepts the track.
const SPS: &[u8] = &[0x67, 0x42, 0xc0, 0x0a, 0xd9, 0x07, 0x3c, 0x04, 0x40];
const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];
/// One placeholder frame: a 2-byte NAL unit.
const FRAME: &[u8] = &[0, 0, 0, 2, 0x65, 0x88];

impl Clip {
    pub fn new(width: u16, height: u16, seconds: u32, created_unix: i64) -> Self {
        Clip {
            brand: *b"isom",
            width,
            height,
            seconds,
            created_unix,
            rotation: 0,
            udta: Vec::new(),
            moov_extra: Vec::new(),
            codec: *b"avc1",
            audio: None,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let ftyp = boxed(
            b"ftyp",
            &[&self.brand, &512u32.to_be_bytes(), &self.brand, b"mp41"],
        );
        let n = self.seconds.max(1);
        let mdat = boxed(b"mdat", &[&FRAME.repeat(n as usize)]);
        let chunk = (ftyp.len() + 8) as u32;
        let t = match self.created_unix {
            0 => 0,
            t => (t + QT_EPOCH_OFFSET).clamp(0, u32::MAX as i64) as u32,
        };
        let dur = n * 1000;
        let times = [t.to_be_bytes(), t.to_be_bytes()].concat();
        let mvhd = full(
            b"mvhd",
            0,
            0,
            &[
                &times,
                &1000u32.to_be_bytes(),
                &dur.to_be_bytes(),
                &0x0001_0000u32.to_be_bytes(),
                &[1, 0],
                &[0; 10],
                &matrix(0),
                &[0; 24],
                &3u32.to_be_bytes(),
            ],
        );
        let video = self.track(1, b"vide", &times, dur, chunk, n);
        let audio = self
            .audio
            .map(|_| self.track(2, b"soun", &times, dur, chunk, n))
            .unwrap_or_default();
        let udta = if self.udta.is_empty() {
            Vec::new()
        } else {
            boxed(b"udta", &[&self.udta])
        };
        let moov = boxed(b"moov", &[&mvhd, &video, &audio, &udta, &self.moov_extra]);
        [ftyp, mdat, moov].concat()
    }

    fn track(
        &self,
        id: u32,
        handler: &[u8; 4],
        times: &[u8],
        dur: u32,
        chunk: u32,
        n: u32,
    ) -> Vec<u8> {
        let vide = handler == b"vide";
        let (w, h) = if vide {
            (u32::from(self.width) << 16, u32::from(self.height) << 16)
        } else {
            (0, 0)
        };
        let tkhd = full(
            b"tkhd",
            0,
            3,
            &[
                times,
                &id.to_be_bytes(),
                &[0; 4],
                &dur.to_be_bytes(),
                &[0; 8],
                &[0; 4],
                &(if vide { 0u16 } else { 0x0100 }).to_be_bytes(),
                &[0; 2],
                &matrix(if vide { self.rotation } else { 0 }),
                &w.to_be_bytes(),
                &h.to_be_bytes(),
            ],
        );
        let mdhd = full(
            b"mdhd",
            0,
            0,
            &[
                times,
                &1000u32.to_be_bytes(),
                &dur.to_be_bytes(),
                &[0x55, 0xc4, 0, 0],
            ],
        );
        let hdlr = full(b"hdlr", 0, 0, &[&[0; 4], handler, &[0; 12], b"Handler\0"]);
        let header = if vide {
            full(b"vmhd", 0, 1, &[&[0; 8]])
        } else {
            full(b"smhd", 0, 0, &[&[0; 4]])
        };
        let dinf = boxed(
            b"dinf",
            &[&full(
                b"dref",
                0,
                0,
                &[&1u32.to_be_bytes(), &full(b"url ", 0, 1, &[])],
            )],
        );
        let entry = if vide {
            self.video_entry()
        } else {
            audio_entry(&self.audio.unwrap_or(*b"mp4a"))
        };
        let stbl = boxed(
            b"stbl",
            &[
                &full(b"stsd", 0, 0, &[&1u32.to_be_bytes(), &entry]),
                &full(
                    b"stts",
                    0,
                    0,
                    &[
                        &1u32.to_be_bytes(),
                        &n.to_be_bytes(),
                        &1000u32.to_be_bytes(),
                    ],
                ),
                &full(
                    b"stsc",
                    0,
                    0,
                    &[
                        &1u32.to_be_bytes(),
                        &1u32.to_be_bytes(),
                        &n.to_be_bytes(),
                        &1u32.to_be_bytes(),
                    ],
                ),
                &full(
                    b"stsz",
                    0,
                    0,
                    &[&(FRAME.len() as u32).to_be_bytes(), &n.to_be_bytes()],
                ),
                &full(b"stco", 0, 0, &[&1u32.to_be_bytes(), &chunk.to_be_bytes()]),
            ],
        );
        let minf = boxed(b"minf", &[&header, &dinf, &stbl]);
        let mdia = boxed(b"mdia", &[&mdhd, &hdlr, &minf]);
        boxed(b"trak", &[&tkhd, &mdia])
    }

    fn video_entry(&self) -> Vec<u8> {
        let avcc = boxed(
            b"avcC",
            &[
                &[1, SPS[1], SPS[2], SPS[3], 0xff, 0xe1],
                &(SPS.len() as u16).to_be_bytes(),
                SPS,
                &[1],
                &(PPS.len() as u16).to_be_bytes(),
                PPS,
            ],
        );
        let config: &[u8] = if &self.codec == b"avc1" { &avcc } else { &[] };
        boxed(
            &self.codec,
            &[
                &[0; 6],
                &1u16.to_be_bytes(),
                &[0; 16],
                &self.width.to_be_bytes(),
                &self.height.to_be_bytes(),
                &0x0048_0000u32.to_be_bytes(),
                &0x0048_0000u32.to_be_bytes(),
                &[0; 4],
                &1u16.to_be_bytes(),
                &[0; 32],
                &0x18u16.to_be_bytes(),
                &0xffffu16.to_be_bytes(),
                config,
            ],
        )
    }
}

/// An audio sample entry (ISO form) with an AAC `esds` for `mp4a`.
fn audio_entry(code: &[u8; 4]) -> Vec<u8> {
    let esds = full(
        b"esds",
        0,
        0,
        &[&[
            3, 0x19, 0, 1, 0, 4, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0x12,
            0x10, 6, 1, 2,
        ]],
    );
    let config: &[u8] = if code == b"mp4a" { &esds } else { &[] };
    boxed(
        code,
        &[
            &[0; 6],
            &1u16.to_be_bytes(),
            &[0; 8],
            &2u16.to_be_bytes(),
            &16u16.to_be_bytes(),
            &[0; 4],
            &(44_100u32 << 16).to_be_bytes(),
            config,
        ],
    )
}

/// A display matrix turning the picture `degrees` clockwise.
fn matrix(degrees: u32) -> Vec<u8> {
    const ONE: i32 = 0x0001_0000;
    let (a, b, c, d) = match degrees {
        90 => (0, ONE, -ONE, 0),
        180 => (-ONE, 0, 0, -ONE),
        270 => (0, -ONE, ONE, 0),
        _ => (ONE, 0, 0, ONE),
    };
    [a, b, 0, c, d, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}
