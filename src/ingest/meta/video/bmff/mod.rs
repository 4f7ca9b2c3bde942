//! Our own reader of ISO base media files (MP4, MOV, 3GP/3G2, M4V: what phones write),
//! giving what ffprobe gives for them without starting a process (ffprobe's start alone costs
//! about 130 ms, most of a video's ingest). Robust by construction: reads through
//! `Read + Seek` (never the whole file), every size checked against its parent and the file,
//! every body read up to a cap, a bounded number of headers, a fixed nesting. No video track is
//! an error; what it cannot answer fully (no duration, a codec it does not know) it says with
//! what it found, and the caller asks ffprobe.

mod boxes;
mod codec;
mod movie;
pub mod write;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek};

use super::probe::{iso6709, normalise_time};
use crate::model::metadata::VideoInfo;

/// The container's name as ffprobe gives it for every ISO base media file.
pub const CONTAINER: &str = "mov,mp4,m4a,3gp,3g2,mj2";

/// Seconds between 1904-01-01 (the QuickTime epoch) and 1970-01-01.
const QT_EPOCH_OFFSET: u64 = 2_082_844_800;

/// A file that starts like an ISO base media file: `ftyp` or `moov` first, or, in QuickTime
/// files older than `ftyp`, `wide` or `mdat`.
pub fn looks_like(head: &[u8]) -> bool {
    matches!(head.get(4..8), Some(b"ftyp" | b"moov" | b"wide" | b"mdat"))
}

/// What the file holds, and why it is not the whole answer when it is not.
pub struct Found {
    pub info: VideoInfo,
    pub incomplete: Option<String>,
}

pub fn read<R: Read + Seek>(reader: R, len: u64) -> Result<Found, String> {
    let mut src = boxes::Source::new(reader, len);
    let m = movie::read(&mut src)?;
    let video = m
        .tracks
        .iter()
        .find(|t| &t.handler == b"vide" && t.entry.is_some())
        .ok_or("no video track")?;
    let entry = video.entry.as_ref().ok_or("no video track")?;
    let mut incomplete = None;
    let video_codec = codec::video(&entry.code, entry.object_type);
    if video_codec.is_none() {
        incomplete = Some(format!("video codec {} not known", show(&entry.code)));
    }
    let audio = m.tracks.iter().find(|t| &t.handler == b"soun");
    let audio_codec = audio
        .and_then(|t| t.entry.as_ref())
        .and_then(|e| codec::audio(&e.code, e.object_type, e.bits));
    if audio.is_some() && audio_codec.is_none() {
        let code = audio.and_then(|t| t.entry.as_ref()).map(|e| show(&e.code));
        incomplete = Some(format!(
            "audio codec {} not known",
            code.unwrap_or_default()
        ));
    }
    let duration_s = duration(&m);
    if duration_s.is_none() {
        incomplete = Some("no duration".into());
    }
    let tags = &m.tags;
    let created_at = time(m.created)
        .or_else(|| tags.key_created.as_deref().map(normalise_time))
        .or_else(|| tags.day.as_deref().map(normalise_time))
        .or_else(|| time(video.media_created));
    let gps = tags
        .key_location
        .as_deref()
        .or(tags.xyz.as_deref())
        .or(tags.loci.as_deref())
        .and_then(iso6709);
    let nonzero = |v: u32| (v > 0).then_some(v);
    let info = VideoInfo {
        duration_s,
        created_at,
        width: nonzero(u32::from(entry.width)).or(nonzero(video.width)),
        height: nonzero(u32::from(entry.height)).or(nonzero(video.height)),
        container: Some(CONTAINER.into()),
        video_codec: video_codec.map(str::to_string),
        audio_codec: audio_codec.map(str::to_string),
        rotation: rotation(&video.matrix),
        make: tags.key_make.clone().or_else(|| tags.make.clone()),
        model: tags.key_model.clone().or_else(|| tags.model.clone()),
        gps,
        read_by: Some("built-in".into()),
    };
    Ok(Found { info, incomplete })
}

/// The movie header's duration; a fragmented file's `mehd`; else the longest track.
fn duration(m: &movie::Movie) -> Option<f64> {
    let secs = |d: u64, scale: u32| (d > 0 && scale > 0).then(|| d as f64 / f64::from(scale));
    secs(m.duration, m.timescale)
        .or_else(|| secs(m.fragment_duration, m.timescale))
        .or_else(|| {
            m.tracks
                .iter()
                .filter_map(|t| secs(t.media_duration, t.media_timescale))
                .reduce(f64::max)
        })
        .filter(|d| d.is_finite())
        .map(|d| (d * 1000.0).round() / 1000.0)
}

/// A QuickTime time as ffmpeg reads it: seconds since 1904, or since 1970 when smaller than
/// the gap between the two (some writers put Unix time); zero is no time.
fn time(t: u64) -> Option<String> {
    if t == 0 {
        return None;
    }
    let unix = if t >= QT_EPOCH_OFFSET {
        t - QT_EPOCH_OFFSET
    } else {
        t
    };
    chrono::DateTime::from_timestamp(i64::try_from(unix).ok()?, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Degrees clockwise from the display matrix, as ffprobe's rotation (negated) gives them.
fn rotation(m: &[i32; 4]) -> Option<i32> {
    let f = |v: i32| f64::from(v) / 65536.0;
    let (a, b, c, d) = (f(m[0]), f(m[1]), f(m[2]), f(m[3]));
    let (sx, sy) = (a.hypot(c), b.hypot(d));
    if sx == 0.0 || sy == 0.0 {
        return None;
    }
    let deg = (b / sy).atan2(a / sx).to_degrees();
    Some((deg.round() as i32).rem_euclid(360)).filter(|r| *r != 0)
}

fn show(code: &[u8; 4]) -> String {
    code.iter()
        .map(|c| {
            if c.is_ascii_graphic() || *c == b' ' {
                char::from(*c)
            } else {
                '?'
            }
        })
        .collect()
}
