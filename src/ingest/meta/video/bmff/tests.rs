//! The reader on clips built here (every field, each way phones write it), on clips ffmpeg
//! makes, and a fuzz loop: seeded mutations and truncations of real clips that must neither
//! panic nor allocate beyond a bound.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use super::write::{boxed, full, keys_meta, user_string, Clip};
use super::{read, Found};

/// Counts this thread's live bytes and their peak, so that a test can bound what one call
/// allocates (other threads' tests do not disturb it).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: defers every call to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        note(new as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The most bytes live at once above the start, during `f`.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - start).max(0) as usize)
}

fn found(bytes: &[u8]) -> Found {
    read(Cursor::new(bytes), bytes.len() as u64).expect("readable")
}

#[test]
fn a_clip_with_quicktime_user_data() {
    let mut c = Clip::new(1920, 1080, 4, 1_377_053_100);
    c.brand = *b"qt  ";
    c.rotation = 90;
    c.audio = Some(*b"mp4a");
    c.udta = [
        user_string(b"\xa9xyz", "+33.5138+036.2765+700.5/"),
        user_string(b"\xa9mak", "Apple"),
        user_string(b"\xa9mod", "iPhone 6"),
    ]
    .concat();
    let f = found(&c.bytes());
    assert_eq!(f.incomplete, None);
    let v = f.info;
    assert_eq!(v.duration_s, Some(4.0));
    assert_eq!((v.width, v.height), (Some(1920), Some(1080)));
    assert_eq!(v.created_at.as_deref(), Some("2013-08-21T02:45:00Z"));
    assert_eq!(v.video_codec.as_deref(), Some("h264"));
    assert_eq!(v.audio_codec.as_deref(), Some("aac"));
    assert_eq!(v.rotation, Some(90));
    assert_eq!(v.make.as_deref(), Some("Apple"));
    assert_eq!(v.model.as_deref(), Some("iPhone 6"));
    let g = v.gps.expect("gps");
    assert_eq!((g.lat, g.lon, g.alt), (33.5138, 36.2765, Some(700.5)));
    assert_eq!(v.container.as_deref(), Some(super::CONTAINER));
    assert_eq!(v.read_by.as_deref(), Some("built-in"));
}

#[test]
fn apple_keys_come_before_user_data() {
    let mut c = Clip::new(640, 360, 2, 0);
    c.rotation = 270;
    c.udta = user_string(b"\xa9mak", "Other");
    c.moov_extra = keys_meta(&[
        ("com.apple.quicktime.make", "Apple"),
        ("com.apple.quicktime.model", "iPhone 13 Pro"),
        (
            "com.apple.quicktime.location.ISO6709",
            "-12.5000-077.0500+010.000/",
        ),
        ("com.apple.quicktime.creationdate", "2021-03-04T05:06:07Z"),
    ]);
    let v = found(&c.bytes()).info;
    assert_eq!(v.make.as_deref(), Some("Apple"));
    assert_eq!(v.model.as_deref(), Some("iPhone 13 Pro"));
    let g = v.gps.expect("gps");
    assert_eq!((g.lat, g.lon), (-12.5, -77.05));
    // No time in mvhd (zero): the key's.
    assert_eq!(v.created_at.as_deref(), Some("2021-03-04T05:06:07Z"));
    assert_eq!(v.rotation, Some(270));
    assert_eq!(v.audio_codec, None);
}

#[test]
fn a_3gp_place_in_loci() {
    let mut c = Clip::new(176, 144, 3, 1_377_053_100);
    c.brand = *b"3gp4";
    let mut loci = vec![0x15, 0xc7, b'D', b'o', b'u', b'm', b'a', 0, 0];
    for v in [36.2765f32, 33.5138, 0.0] {
        loci.extend_from_slice(&((v * 65536.0) as i32).to_be_bytes());
    }
    loci.extend_from_slice(b"earth\0\0");
    c.udta = full(b"loci", 0, 0, &[&loci]);
    let v = found(&c.bytes()).info;
    let g = v.gps.expect("gps");
    assert_eq!((g.lat, g.lon, g.alt), (33.5138, 36.2765, None));
}

#[test]
fn what_it_cannot_name_it_says() {
    let mut c = Clip::new(320, 240, 2, 0);
    c.codec = *b"zzzz";
    c.audio = Some(*b"qqqq");
    let f = found(&c.bytes());
    assert!(f.incomplete.is_some());
    assert_eq!(f.info.video_codec, None);
    assert_eq!(f.info.duration_s, Some(2.0));
    let mut c = Clip::new(320, 240, 2, 0);
    c.codec = *b"hvc1";
    c.audio = Some(*b"samr");
    let f = found(&c.bytes());
    assert_eq!(f.incomplete, None);
    assert_eq!(f.info.video_codec.as_deref(), Some("hevc"));
    assert_eq!(f.info.audio_codec.as_deref(), Some("amr_nb"));
}

#[test]
fn no_movie_or_no_picture_is_an_error() {
    let ftyp = boxed(b"ftyp", &[b"isom", &[0; 4]]);
    assert!(read(Cursor::new(&ftyp), ftyp.len() as u64).is_err());
    let moov = [ftyp, boxed(b"moov", &[&full(b"mvhd", 0, 0, &[&[0; 96]])])].concat();
    let e = read(Cursor::new(&moov), moov.len() as u64).err();
    assert_eq!(e.as_deref(), Some("no video track"));
}

#[test]
fn unix_times_and_version_1_headers() {
    // Some writers put Unix time in mvhd: read as such, like ffmpeg.
    let mut b = Clip::new(64, 64, 1, 0).bytes();
    let at = b.windows(4).position(|w| w == b"mvhd").expect("mvhd") + 8;
    b[at..at + 4].copy_from_slice(&1_377_053_100u32.to_be_bytes());
    assert_eq!(
        found(&b).info.created_at.as_deref(),
        Some("2013-08-21T02:45:00Z")
    );
    // A version-1 mvhd (64-bit times and duration) in place of version 0.
    let t = 1_377_053_100u64 + super::QT_EPOCH_OFFSET;
    let v1 = full(
        b"mvhd",
        1,
        0,
        &[
            &t.to_be_bytes(),
            &t.to_be_bytes(),
            &600u32.to_be_bytes(),
            &3000u64.to_be_bytes(),
            &[0; 80],
        ],
    );
    let c = Clip::new(64, 64, 1, 0).bytes();
    let s = c.windows(4).position(|w| w == b"mvhd").expect("mvhd") - 4;
    let old = u32::from_be_bytes(c[s..s + 4].try_into().unwrap()) as usize;
    let moov = c.windows(4).position(|w| w == b"moov").expect("moov") - 4;
    let mut out = [&c[..s], &v1[..], &c[s + old..]].concat();
    let grown = (out.len() - moov) as u32;
    out[moov..moov + 4].copy_from_slice(&grown.to_be_bytes());
    let v = found(&out).info;
    assert_eq!(v.duration_s, Some(5.0));
    assert_eq!(v.created_at.as_deref(), Some("2013-08-21T02:45:00Z"));
}

/// A deterministic generator (xorshift64*): the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Sizes that break walkers: zero, one (64-bit follows), below a header, huge, one past.
const NASTY: [u32; 8] = [0, 1, 7, 8, 16, 0x7fff_ffff, 0xffff_ffff, 0x0001_0000];

fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 => b.truncate(rng.below(b.len())),
            1 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    if let Some(x) = b.get_mut(i) {
                        *x = rng.next() as u8;
                    }
                }
            }
            // A box's size field (four bytes before a type made of letters) set to a nasty
            // value; a random field when none is found.
            2 | 3 => {
                let starts: Vec<usize> = (4..b.len().saturating_sub(4))
                    .filter(|&i| b[i..i + 4].iter().all(u8::is_ascii_alphanumeric))
                    .collect();
                let i = if starts.is_empty() {
                    rng.below(b.len())
                } else {
                    starts[rng.below(starts.len())] - 4
                };
                let v = NASTY[rng.below(NASTY.len())].to_be_bytes();
                if i + 4 <= b.len() {
                    b[i..i + 4].copy_from_slice(&v);
                }
            }
            // A stretch copied elsewhere (nesting a box in itself, repeating children).
            4 => {
                let (s, n, at) = (rng.below(b.len()), rng.below(512), rng.below(b.len()));
                let piece: Vec<u8> = b[s..(s + n).min(b.len())].to_vec();
                b.splice(at..at, piece);
            }
            _ => {
                let s = rng.below(b.len());
                let n = rng.below(256).min(b.len() - s);
                b.drain(s..s + n);
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

/// Clips made by ffmpeg (when installed; under CI it must be), beside those built here.
fn real_clips(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let runs: [(&str, &[&str]); 3] = [
        (
            "a.mp4",
            &["-movflags", "+faststart", "-c:v", "libx264", "-c:a", "aac"],
        ),
        (
            "a.mov",
            &[
                "-c:v",
                "libx264",
                "-c:a",
                "aac",
                "-movflags",
                "use_metadata_tags",
                "-metadata",
                "com.apple.quicktime.location.ISO6709=+33.5138+036.2765/",
                "-metadata",
                "make=Apple",
            ],
        ),
        (
            "a.3gp",
            &[
                "-c:v", "h263", "-s", "176x144", "-c:a", "aac", "-ar", "8000", "-ac", "1",
            ],
        ),
    ];
    for (name, args) in runs {
        let path = dir.join(name);
        let ran = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("testsrc=size=64x48:rate=5:duration=1")
            .args(["-f", "lavfi", "-i", "sine=duration=1", "-shortest"])
            .args(["-metadata", "creation_time=2013-08-21T02:45:00Z"])
            .args(["-metadata", "location=+33.5138+036.2765/"])
            .args(args)
            .arg(&path)
            .output();
        match ran {
            Ok(o) if o.status.success() => out.push(std::fs::read(&path).expect("clip")),
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "ffmpeg is needed under CI (.ci/run installs it)"
                );
                eprintln!("SKIPPED real clips: ffmpeg is not installed");
                break;
            }
        }
    }
    out
}

#[test]
fn fuzz_never_panics_nor_allocates_beyond_a_bound() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut bases = real_clips(tmp.path());
    let mut c = Clip::new(320, 240, 3, 1_377_053_100);
    c.audio = Some(*b"mp4a");
    c.udta = [
        user_string(b"\xa9xyz", "+33.5138+036.2765/"),
        user_string(b"\xa9mak", "Apple"),
    ]
    .concat();
    c.moov_extra = keys_meta(&[("com.apple.quicktime.model", "iPhone")]);
    bases.push(c.bytes());
    for base in &bases {
        assert!(found(base).info.duration_s.is_some(), "base clips read");
    }
    // Bodies are read up to 64 KiB (stsd, keys), the largest cap: twice that for the rest.
    const BOUND: usize = 256 << 10;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut worst, mut read_ok) = (0, 0);
    for i in 0..20_000 {
        let base = &bases[i % bases.len()];
        let m = mutate(base, &mut rng);
        let (r, peak) = peak_during(|| {
            std::panic::catch_unwind(|| read(Cursor::new(&m[..]), m.len() as u64).map(|_| ()))
        });
        let Ok(r) = r else {
            panic!("iteration {i} panicked")
        };
        read_ok += usize::from(r.is_ok());
        assert!(peak <= BOUND, "iteration {i} allocated {peak} bytes");
        worst = worst.max(peak);
        // The file's length is trusted no more than its boxes: a reader told of more bytes
        // than there are fails cleanly.
        if i % 97 == 0 {
            let lied = std::panic::catch_unwind(|| {
                read(Cursor::new(&m[..]), m.len() as u64 + (1 << 40)).map(|_| ())
            });
            assert!(lied.is_ok(), "iteration {i} panicked on a long length");
        }
    }
    eprintln!("fuzz: 20000 mutations, {read_ok} still read, most allocated at once {worst} bytes");
    // Most mutations must reach the parsing of the boxes, not stop at the first header.
    assert!(read_ok > 2_000, "only {read_ok} mutated clips read");
}
