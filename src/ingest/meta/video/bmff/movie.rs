//! The movie box (`moov`): its header, each track's header, handler and first sample entry,
//! and the user data and metadata phones write (place, make, model, date). Only the small
//! boxes named here are read, each up to a cap; sample tables, however large, are skipped.
//! The walk follows the fixed nesting of the format, so its depth is bounded by this code.

use std::io::{Cursor, Read, Seek};

use super::boxes::{four_at, u16_at, u32_at, u64_at, Boxed, FourCc, Source};

/// Tracks kept (a phone writes two to five; the rest of a hostile file's are not looked at).
const MAX_TRACKS: usize = 32;
/// Caps on what is read of one box's body.
const HEADER_CAP: usize = 256;
const STSD_CAP: usize = 64 << 10;
const KEYS_CAP: usize = 64 << 10;
const ITEM_CAP: usize = 4 << 10;
/// Keys looked at in one `keys` box.
const MAX_KEYS: u32 = 1024;

#[derive(Debug, Default)]
pub struct Movie {
    pub timescale: u32,
    pub duration: u64,
    /// Seconds since 1904 (or since 1970, as some writers put it).
    pub created: u64,
    /// `mvex/mehd`: a fragmented file's duration in the movie's timescale.
    pub fragment_duration: u64,
    pub tracks: Vec<Track>,
    pub tags: Tags,
}

#[derive(Debug, Default)]
pub struct Track {
    pub handler: FourCc,
    /// The display matrix's a, b, c, d (16.16).
    pub matrix: [i32; 4],
    /// Display size from `tkhd` (whole pixels).
    pub width: u32,
    pub height: u32,
    pub media_timescale: u32,
    pub media_duration: u64,
    pub media_created: u64,
    pub entry: Option<Entry>,
}

/// The first sample entry of a track's `stsd`.
#[derive(Debug, Default)]
pub struct Entry {
    pub code: FourCc,
    pub width: u16,
    pub height: u16,
    pub bits: u16,
    /// `esds`' objectTypeIndication, which tells what `mp4v`/`mp4a` hold.
    pub object_type: Option<u8>,
}

/// Tags as written, before choosing among them.
#[derive(Debug, Default)]
pub struct Tags {
    /// `com.apple.quicktime.*` keys.
    pub key_location: Option<String>,
    pub key_make: Option<String>,
    pub key_model: Option<String>,
    pub key_created: Option<String>,
    /// QuickTime user data (`©xyz`, `©mak`, `©mod`, `©day`) or iTunes-style items.
    pub xyz: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub day: Option<String>,
    /// 3GPP `loci`, formatted as ffmpeg does (`+33.5138+036.2765/`).
    pub loci: Option<String>,
}

pub fn read<R: Read + Seek>(src: &mut Source<R>) -> Result<Movie, String> {
    let moov = src
        .children(0, src.len())
        .find(src, b"moov")?
        .ok_or("no movie box (moov)")?;
    let mut m = Movie::default();
    let mut c = src.children(moov.body, moov.end);
    while let Some(b) = c.next(src)? {
        match &b.kind {
            b"mvhd" => mvhd(&src.body(&b, HEADER_CAP)?, &mut m),
            b"trak" if m.tracks.len() < MAX_TRACKS => m.tracks.push(track(src, &b)?),
            b"mvex" => {
                if let Some(h) = src.children(b.body, b.end).find(src, b"mehd")? {
                    let h = src.body(&h, HEADER_CAP)?;
                    m.fragment_duration = version_u64(&h, 4).unwrap_or(0);
                }
            }
            b"udta" => udta(src, &b, &mut m.tags)?,
            b"meta" => meta(src, &b, &mut m.tags)?,
            _ => {}
        }
    }
    Ok(m)
}

/// A field that is 32 bits in version 0 of a full box and 64 in version 1.
fn version_u64(b: &[u8], at: usize) -> Option<u64> {
    match b.first()? {
        1 => u64_at(b, at),
        _ => u32_at(b, at).map(u64::from),
    }
}

fn mvhd(b: &[u8], m: &mut Movie) {
    let v1 = b.first() == Some(&1);
    let (created, scale, dur) = if v1 { (4, 20, 24) } else { (4, 12, 16) };
    m.created = version_u64(b, created).unwrap_or(0);
    m.timescale = u32_at(b, scale).unwrap_or(0);
    m.duration = version_u64(b, dur).unwrap_or(0);
}

fn track<R: Read + Seek>(src: &mut Source<R>, trak: &Boxed) -> Result<Track, String> {
    let mut t = Track::default();
    let mut c = src.children(trak.body, trak.end);
    while let Some(b) = c.next(src)? {
        match &b.kind {
            b"tkhd" => tkhd(&src.body(&b, HEADER_CAP)?, &mut t),
            b"mdia" => mdia(src, &b, &mut t)?,
            _ => {}
        }
    }
    Ok(t)
}

fn tkhd(b: &[u8], t: &mut Track) {
    let matrix = if b.first() == Some(&1) { 52 } else { 40 };
    for (i, m) in t.matrix.iter_mut().enumerate() {
        // a, b at 0 and 4; c, d at 12 and 16 (u, v, w between).
        let at = matrix + [0, 4, 12, 16][i];
        *m = u32_at(b, at).map(|v| v as i32).unwrap_or(0);
    }
    t.width = u32_at(b, matrix + 36).unwrap_or(0) >> 16;
    t.height = u32_at(b, matrix + 40).unwrap_or(0) >> 16;
}

fn mdia<R: Read + Seek>(src: &mut Source<R>, mdia: &Boxed, t: &mut Track) -> Result<(), String> {
    let mut stsd = None;
    let mut c = src.children(mdia.body, mdia.end);
    while let Some(b) = c.next(src)? {
        match &b.kind {
            b"mdhd" => {
                let h = src.body(&b, HEADER_CAP)?;
                let v1 = h.first() == Some(&1);
                t.media_created = version_u64(&h, 4).unwrap_or(0);
                t.media_timescale = u32_at(&h, if v1 { 20 } else { 12 }).unwrap_or(0);
                t.media_duration = version_u64(&h, if v1 { 24 } else { 16 }).unwrap_or(0);
            }
            b"hdlr" => t.handler = four_at(&src.body(&b, HEADER_CAP)?, 8).unwrap_or_default(),
            b"minf" => {
                if let Some(stbl) = src.children(b.body, b.end).find(src, b"stbl")? {
                    stsd = src.children(stbl.body, stbl.end).find(src, b"stsd")?;
                }
            }
            _ => {}
        }
    }
    // The handler says how to read the entry, and may come after minf.
    if let Some(s) = stsd {
        t.entry = sample_entry(&src.body(&s, STSD_CAP)?, &t.handler);
    }
    Ok(())
}

/// The first entry of an `stsd` body held in memory, read with the same bounded walk.
fn sample_entry(stsd: &[u8], handler: &FourCc) -> Option<Entry> {
    let mut s = Source::new(Cursor::new(stsd), stsd.len() as u64);
    let e = s.children(8, s.len()).next(&mut s).ok()??;
    let b = s.body(&e, STSD_CAP).ok()?;
    let mut entry = Entry {
        code: e.kind,
        ..Entry::default()
    };
    let children = match handler {
        b"vide" => {
            entry.width = u16_at(&b, 24).unwrap_or(0);
            entry.height = u16_at(&b, 26).unwrap_or(0);
            78
        }
        b"soun" => {
            entry.bits = u16_at(&b, 18).unwrap_or(0);
            // QuickTime sound descriptions version 1 and 2 carry more fields first.
            match u16_at(&b, 8) {
                Some(1) => 44,
                Some(2) => 64,
                _ => 28,
            }
        }
        _ => return Some(entry),
    };
    let mut inner = Source::new(Cursor::new(&b[..]), b.len() as u64);
    inside_entry(&mut inner, children, b.len() as u64, &mut entry, 0);
    Some(entry)
}

/// `esds` (maybe inside QuickTime's `wave`) and, for encrypted entries, `sinf/frma`'s
/// original format.
fn inside_entry(s: &mut Source<Cursor<&[u8]>>, start: u64, end: u64, e: &mut Entry, depth: u8) {
    let mut c = s.children(start, end);
    while let Ok(Some(b)) = c.next(s) {
        match &b.kind {
            b"esds" => e.object_type = s.body(&b, 256).ok().and_then(|d| object_type(&d)),
            b"wave" | b"sinf" if depth < 2 => inside_entry(s, b.body, b.end, e, depth + 1),
            b"frma" if matches!(&e.code, b"encv" | b"enca") => {
                if let Some(code) = s.body(&b, 4).ok().and_then(|d| four_at(&d, 0)) {
                    e.code = code;
                }
            }
            _ => {}
        }
    }
}

/// The objectTypeIndication of an `esds` body: ES_Descriptor, then DecoderConfigDescriptor.
fn object_type(esds: &[u8]) -> Option<u8> {
    let mut i = 4;
    if *esds.get(i)? != 0x03 {
        return None;
    }
    i = past_length(esds, i + 1)? + 2;
    let flags = *esds.get(i)?;
    i += 1;
    if flags & 0x80 != 0 {
        i += 2;
    }
    if flags & 0x40 != 0 {
        i += 1 + usize::from(*esds.get(i)?);
    }
    if flags & 0x20 != 0 {
        i += 2;
    }
    if *esds.get(i)? != 0x04 {
        return None;
    }
    esds.get(past_length(esds, i + 1)?).copied()
}

/// A descriptor's length is one to four bytes of seven bits each.
fn past_length(b: &[u8], mut i: usize) -> Option<usize> {
    for _ in 0..4 {
        let c = *b.get(i)?;
        i += 1;
        if c & 0x80 == 0 {
            break;
        }
    }
    Some(i)
}

fn udta<R: Read + Seek>(src: &mut Source<R>, udta: &Boxed, tags: &mut Tags) -> Result<(), String> {
    let mut c = src.children(udta.body, udta.end);
    while let Some(b) = c.next(src)? {
        let slot = match &b.kind {
            b"\xa9xyz" => &mut tags.xyz,
            b"\xa9mak" => &mut tags.make,
            b"\xa9mod" => &mut tags.model,
            b"\xa9day" => &mut tags.day,
            b"loci" => {
                tags.loci = loci(&src.body(&b, ITEM_CAP)?);
                continue;
            }
            b"meta" => {
                meta(src, &b, tags)?;
                continue;
            }
            _ => continue,
        };
        *slot = user_string(&src.body(&b, ITEM_CAP)?);
    }
    Ok(())
}

/// A QuickTime user-data string (16-bit length, language, text), or an iTunes-style item
/// holding a `data` box.
fn user_string(b: &[u8]) -> Option<String> {
    if four_at(b, 4) == Some(*b"data") {
        return data_value(b);
    }
    let len = usize::from(u16_at(b, 0)?);
    text(b.get(4..)?.get(..len.min(b.len().saturating_sub(4)))?, 1)
}

/// The value of a `data` box at the start of `b`: type, locale, then the value.
fn data_value(b: &[u8]) -> Option<String> {
    let size = (u32_at(b, 0)? as usize).min(b.len());
    let kind = u32_at(b, 8)? & 0x00ff_ffff;
    text(b.get(16..size)?, kind)
}

/// UTF-8 (type 1, or 0 as some writers put it) or UTF-16 (type 2); other types are not text.
fn text(b: &[u8], kind: u32) -> Option<String> {
    let s = match kind {
        0 | 1 => String::from_utf8_lossy(b).into_owned(),
        2 => char::decode_utf16(b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])))
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
        _ => return None,
    };
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_string())
}

/// 3GPP `loci`: language, place name, role, then longitude, latitude and altitude in 16.16,
/// written out the way ffmpeg does (single precision, four decimals) so that both readers
/// agree to the digit.
fn loci(b: &[u8]) -> Option<String> {
    let name = b.get(6..)?;
    let nul = name.iter().position(|c| *c == 0)?;
    let at = 6 + nul + 2;
    let fixed = |i: usize| u32_at(b, at + i).map(|v| v as i32 as f32 / 65536.0);
    let (lon, lat, alt) = (fixed(0)?, fixed(4)?, fixed(8)?);
    let mut s = format!("{lat:+08.4}{lon:+09.4}");
    if alt != 0.0 {
        s.push_str(&format!("{alt:+.6}"));
    }
    s.push('/');
    Some(s)
}

/// A `meta` box: QuickTime's (children at once) or ISO's (a full box: version and flags
/// first). Its `keys` name the `ilst` items by index; without keys the items are four-char
/// codes.
fn meta<R: Read + Seek>(src: &mut Source<R>, meta: &Boxed, tags: &mut Tags) -> Result<(), String> {
    let head = src.body(meta, 8)?;
    let start = if four_at(&head, 4) == Some(*b"hdlr") {
        meta.body
    } else {
        meta.body + 4
    };
    let (mut keys, mut ilst) = (None, None);
    let mut c = src.children(start, meta.end);
    while let Some(b) = c.next(src)? {
        match &b.kind {
            b"keys" => keys = Some(b),
            b"ilst" => ilst = Some(b),
            _ => {}
        }
    }
    let Some(ilst) = ilst else { return Ok(()) };
    let named = match keys {
        Some(k) => key_names(&src.body(&k, KEYS_CAP)?),
        None => Vec::new(),
    };
    let mut c = src.children(ilst.body, ilst.end);
    while let Some(item) = c.next(src)? {
        let index = u32::from_be_bytes(item.kind);
        let slot = match named.iter().find(|(i, _)| *i == index).map(|(_, k)| *k) {
            Some(Key::Location) => &mut tags.key_location,
            Some(Key::Make) => &mut tags.key_make,
            Some(Key::Model) => &mut tags.key_model,
            Some(Key::Created) => &mut tags.key_created,
            None => match &item.kind {
                b"\xa9xyz" => &mut tags.xyz,
                b"\xa9mak" => &mut tags.make,
                b"\xa9mod" => &mut tags.model,
                b"\xa9day" => &mut tags.day,
                _ => continue,
            },
        };
        let body = src.body(&item, ITEM_CAP)?;
        if four_at(&body, 4) == Some(*b"data") {
            *slot = data_value(&body);
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Location,
    Make,
    Model,
    Created,
}

/// The 1-based indexes of the keys we read.
fn key_names(b: &[u8]) -> Vec<(u32, Key)> {
    let count = u32_at(b, 4).unwrap_or(0).min(MAX_KEYS);
    let mut out = Vec::new();
    let mut at = 8usize;
    for index in 1..=count {
        let Some(size) = u32_at(b, at).map(|s| s as usize) else {
            break;
        };
        if size < 8 {
            break;
        }
        let Some(name) = at.checked_add(size).and_then(|end| b.get(at + 8..end)) else {
            break;
        };
        let key = match name {
            b"com.apple.quicktime.location.ISO6709" => Key::Location,
            b"com.apple.quicktime.make" => Key::Make,
            b"com.apple.quicktime.model" => Key::Model,
            b"com.apple.quicktime.creationdate" => Key::Created,
            _ => {
                at += size;
                continue;
            }
        };
        out.push((index, key));
        at += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esds_object_types() {
        // version/flags, ES_Descriptor (len 0x19), ES_ID, flags 0, DecoderConfig (OTI 0x40)
        let esds = [0, 0, 0, 0, 3, 0x19, 0, 1, 0, 4, 0x11, 0x40, 0x15];
        assert_eq!(object_type(&esds), Some(0x40));
        // Four-byte lengths, as ffmpeg writes them, and a URL flag with its string.
        let esds = [
            0, 0, 0, 0, 3, 0x80, 0x80, 0x80, 0x22, 0, 1, 0x40, 2, b'a', b'b', 4, 0x80, 0x80, 0x80,
            0x14, 0x6b,
        ];
        assert_eq!(object_type(&esds), Some(0x6b));
        assert_eq!(object_type(&[0, 0, 0, 0, 3, 0x80, 0x80]), None);
        assert_eq!(object_type(&[]), None);
    }

    #[test]
    fn loci_as_ffmpeg_writes_it() {
        let mut b = vec![0, 0, 0, 0, 0x15, 0xc7, 0, 0];
        b.extend_from_slice(&0x0024_46c8u32.to_be_bytes());
        b.extend_from_slice(&0x0021_8388u32.to_be_bytes());
        b.extend_from_slice(&0u32.to_be_bytes());
        b.extend_from_slice(b"earth\0\0");
        assert_eq!(loci(&b).as_deref(), Some("+33.5138+036.2765/"));
        // South and west, with an altitude.
        let mut b = vec![0, 0, 0, 0, 0, 0, b'x', 0, 0];
        b.extend_from_slice(&((-12.5f32 * 65536.0) as i32).to_be_bytes());
        b.extend_from_slice(&((-33.25f32 * 65536.0) as i32).to_be_bytes());
        b.extend_from_slice(&((100.5f32 * 65536.0) as i32).to_be_bytes());
        assert_eq!(loci(&b).as_deref(), Some("-33.2500-012.5000+100.500000/"));
        assert_eq!(loci(&[0, 0, 0, 0, 0, 0, b'x']), None);
    }

    #[test]
    fn user_strings_both_ways() {
        assert_eq!(
            user_string(b"\x00\x05\x55\xc4Apple").as_deref(),
            Some("Apple")
        );
        // A length past the body is cut to it.
        assert_eq!(user_string(b"\xff\xff\x55\xc4Ap").as_deref(), Some("Ap"));
        let mut d = 21u32.to_be_bytes().to_vec();
        d.extend_from_slice(b"data\0\0\0\x01\0\0\0\0Apple");
        assert_eq!(user_string(&d).as_deref(), Some("Apple"));
        assert_eq!(user_string(b"\x00"), None);
    }

    #[test]
    fn keys_by_index() {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 3];
        for k in [
            "com.apple.quicktime.make",
            "com.example.other",
            "com.apple.quicktime.location.ISO6709",
        ] {
            b.extend_from_slice(&(8 + k.len() as u32).to_be_bytes());
            b.extend_from_slice(b"mdta");
            b.extend_from_slice(k.as_bytes());
        }
        assert_eq!(key_names(&b), vec![(1, Key::Make), (3, Key::Location)]);
        // A count far beyond the body and a size past it stop the reading.
        b[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(key_names(&b).len(), 2);
        b[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(key_names(&b).is_empty());
    }
}
