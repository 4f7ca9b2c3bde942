//! Video: every container ffprobe reads (MP4, MOV, 3GP, MKV/WebM, AVI, …), run as an isolated
//! child (see `crate::worker::tool`); without ffprobe, MP4 and QuickTime with the mp4 crate.

mod probe;

use std::io::{Cursor, Read, Seek};

use super::{Content, Metadata, VideoInfo};
use crate::worker::tool::Failure;

/// What the pane and warnings say when ffmpeg is not installed.
pub const NO_FFMPEG: &str =
    "ffprobe not installed: only MP4/MOV read, no video previews (apt-get install ffmpeg)";

/// Seconds between 1904-01-01 (the QuickTime epoch) and 1970-01-01.
const QT_EPOCH_OFFSET: i64 = 2_082_844_800;

pub fn extract(content: &Content, m: &mut Metadata) {
    match probe::probe(content.stored) {
        Ok(v) => {
            m.video = Some(v);
            return;
        }
        Err(Failure::Missing) => m.warnings.push(NO_FFMPEG.into()),
        Err(Failure::Failed(e)) => m.warnings.push(format!("ffprobe: {e}")),
    }
    builtin(content, m);
}

fn builtin(content: &Content, m: &mut Metadata) {
    let result = if content.complete {
        read(Cursor::new(content.bytes), content.bytes.len() as u64)
    } else {
        std::fs::File::open(content.stored)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                let len = f.metadata().map_err(|e| e.to_string())?.len();
                read(std::io::BufReader::new(f), len)
            })
    };
    match result {
        Ok(v) => m.video = Some(v),
        Err(e) => m.warnings.push(format!("video container: {e}")),
    }
}

fn read<R: Read + Seek>(reader: R, size: u64) -> Result<VideoInfo, String> {
    let mp4 = mp4::Mp4Reader::read_header(reader, size).map_err(|e| e.to_string())?;
    let mvhd = &mp4.moov.mvhd;
    let duration_s = (mvhd.timescale > 0)
        .then(|| (mvhd.duration as f64 / mvhd.timescale as f64 * 1000.0).round() / 1000.0);
    let created_at = (mvhd.creation_time > 0)
        .then(|| {
            chrono::DateTime::from_timestamp(mvhd.creation_time as i64 - QT_EPOCH_OFFSET, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        })
        .flatten();
    let video = mp4
        .tracks()
        .values()
        .find(|t| matches!(t.track_type(), Ok(mp4::TrackType::Video)));
    Ok(VideoInfo {
        duration_s,
        created_at,
        width: video.map(|t| t.width() as u32).filter(|w| *w > 0),
        height: video.map(|t| t.height() as u32).filter(|h| *h > 0),
        read_by: Some("built-in".into()),
        ..VideoInfo::default()
    })
}
