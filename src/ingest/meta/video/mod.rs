//! Video. ISO base media files (MP4, MOV, 3GP: what phones write) are read by our own parser
//! (`bmff`), in the worker, without starting a process; every other container (MKV/WebM,
//! AVI, …), and a BMFF file our parser cannot answer for fully, by ffprobe run as an isolated
//! child (see `crate::worker::tool`).

pub mod bmff;
mod probe;

use std::io::Cursor;

use super::{Content, Metadata};
use crate::worker::tool::Failure;

/// What the pane and warnings say when ffmpeg is not installed.
pub const NO_FFMPEG: &str =
    "ffprobe not installed: only MP4/MOV/3GP read, no video previews (apt-get install ffmpeg)";

pub fn extract(content: &Content, m: &mut Metadata) {
    // What our reader found, and why ffprobe is still asked.
    let (found, why) = if bmff::looks_like(content.bytes) {
        match builtin(content) {
            Ok(bmff::Found {
                info,
                incomplete: None,
            }) => {
                m.video = Some(info);
                return;
            }
            Ok(bmff::Found {
                info,
                incomplete: Some(why),
            }) => (Some(info), Some(why)),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    match probe::probe(content.stored) {
        Ok(v) => m.video = Some(v),
        Err(e) => {
            if let Some(why) = why {
                m.warnings.push(format!("video container: {why}"));
            }
            m.warnings.push(match e {
                Failure::Missing => NO_FFMPEG.into(),
                Failure::Failed(e) => format!("ffprobe: {e}"),
            });
            m.video = found;
        }
    }
}

/// What ffprobe says of a video file (the reference our own reader is checked against).
pub fn ffprobe(path: &std::path::Path) -> Result<super::VideoInfo, Failure> {
    probe::probe(path)
}

fn builtin(content: &Content) -> Result<bmff::Found, String> {
    if content.complete {
        return bmff::read(Cursor::new(content.bytes), content.bytes.len() as u64);
    }
    let f = std::fs::File::open(content.stored).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    bmff::read(std::io::BufReader::new(f), len)
}
