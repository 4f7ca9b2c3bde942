//! ffprobe's JSON (`-show_format -show_streams`) read into `VideoInfo`.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::super::{Gps, VideoInfo};
use crate::worker::tool::{self, Failure};

/// ffprobe reads headers only; 20 s is generous even on a loaded machine.
const WALL: Duration = Duration::from_secs(20);
/// Its JSON for one file is a few kilobytes; a hostile file with thousands of streams is cut.
const CAP: usize = 4 << 20;

pub fn probe(stored: &Path) -> Result<VideoInfo, Failure> {
    let mut input = std::ffi::OsString::from("file:");
    input.push(stored.as_os_str());
    let args: Vec<&std::ffi::OsStr> = [
        "-v",
        "error",
        // Local file only: a playlist-like container never reaches the network.
        "-protocol_whitelist",
        "file",
        "-threads",
        "1",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .chain(std::iter::once(input.as_os_str()))
    .collect();
    let out = tool::run("ffprobe", &args, WALL, CAP)?;
    let json: Value = serde_json::from_slice(&out)
        .map_err(|e| Failure::Failed(format!("unreadable ffprobe output: {e}")))?;
    parse(&json).ok_or_else(|| Failure::Failed("no video stream".into()))
}

/// A tag by name, whatever its case (MKV gives `LOCATION`, MP4 `location`).
fn tag<'a>(tags: Option<&'a Value>, name: &str) -> Option<&'a str> {
    tags?
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

pub fn parse(json: &Value) -> Option<VideoInfo> {
    let format = json.get("format");
    let ftags = format.and_then(|f| f.get("tags"));
    let streams = json.get("streams")?.as_array()?;
    let is = |s: &&Value, t: &str| s.get("codec_type").and_then(Value::as_str) == Some(t);
    // Cover art is a "video" stream of one picture; the moving picture is what counts.
    let video = streams.iter().find(|s| {
        is(s, "video")
            && s.get("disposition")
                .and_then(|d| d.get("attached_pic"))
                .and_then(Value::as_i64)
                != Some(1)
    })?;
    let audio = streams.iter().find(|s| is(s, "audio"));
    let vtags = video.get("tags");
    let duration_s = number(format.and_then(|f| f.get("duration")))
        .or_else(|| number(video.get("duration")))
        .map(|d| (d * 1000.0).round() / 1000.0);
    let created_at = tag(ftags, "creation_time")
        .or_else(|| tag(ftags, "com.apple.quicktime.creationdate"))
        .or_else(|| tag(ftags, "date"))
        .or_else(|| tag(vtags, "creation_time"))
        .map(normalise_time);
    let location = tag(ftags, "com.apple.quicktime.location.ISO6709")
        .or_else(|| tag(ftags, "location"))
        .or_else(|| tag(ftags, "location-eng"))
        .or_else(|| tag(vtags, "location"));
    let rotation = video
        .get("side_data_list")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find_map(|d| number(d.get("rotation"))))
        .map(|r| -r)
        .or_else(|| number(vtags.and_then(|t| t.get("rotate"))))
        .map(|r| (r.round() as i32).rem_euclid(360))
        .filter(|r| *r != 0);
    let text = |v: Option<&str>| v.map(str::to_string);
    Some(VideoInfo {
        duration_s,
        created_at,
        width: video
            .get("width")
            .and_then(Value::as_u64)
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w > 0),
        height: video
            .get("height")
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok())
            .filter(|h| *h > 0),
        container: text(
            format
                .and_then(|f| f.get("format_name"))
                .and_then(Value::as_str),
        ),
        video_codec: text(video.get("codec_name").and_then(Value::as_str)),
        audio_codec: text(
            audio
                .and_then(|a| a.get("codec_name"))
                .and_then(Value::as_str),
        ),
        rotation,
        make: text(tag(ftags, "com.apple.quicktime.make").or_else(|| tag(ftags, "make"))),
        model: text(tag(ftags, "com.apple.quicktime.model").or_else(|| tag(ftags, "model"))),
        gps: location.and_then(iso6709),
        read_by: Some("ffprobe".into()),
    })
}

/// `2013-08-21T02:45:00.000000Z` → `2013-08-21T02:45:00Z`: the form the rest of the case uses.
pub(super) fn normalise_time(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        Err(_) => s.to_string(),
    }
}

/// An ISO 6709 point, `+33.5138+036.2765+700.5/` (degrees), or with minutes and seconds
/// (`+3330.8+03616.6/`, `+333049+0361635/`), as QuickTime `©xyz` and Apple's key hold it.
pub fn iso6709(s: &str) -> Option<Gps> {
    let s = s.trim().trim_end_matches('/');
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == '+' || c == '-' {
            if let Some(b) = start {
                parts.push(&s[b..i]);
            }
            start = Some(i);
        } else if !(c.is_ascii_digit() || c == '.') {
            // A CRS suffix ("CRSWGS_84") ends the numbers.
            if let Some(b) = start.take() {
                parts.push(&s[b..i]);
            }
            break;
        }
    }
    if let Some(b) = start {
        parts.push(&s[b..]);
    }
    let lat = angle(parts.first()?, 2)?;
    let lon = angle(parts.get(1)?, 3)?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let alt = parts.get(2).and_then(|a| a.parse::<f64>().ok());
    Some(Gps { lat, lon, alt })
}

/// A signed angle whose whole part has `deg` digits of degrees, then optional minutes and
/// seconds.
fn angle(p: &str, deg: usize) -> Option<f64> {
    let (sign, body) = match p.as_bytes().first()? {
        b'-' => (-1.0, &p[1..]),
        b'+' => (1.0, &p[1..]),
        _ => (1.0, p),
    };
    let whole = body.split('.').next()?;
    let value: f64 = body.parse().ok()?;
    let v = match whole.len() {
        n if n == deg => value,
        n if n == deg + 2 => {
            let d = (value / 100.0).trunc();
            d + (value - d * 100.0) / 60.0
        }
        n if n == deg + 4 => {
            let d = (value / 10000.0).trunc();
            let m = ((value - d * 10000.0) / 100.0).trunc();
            d + m / 60.0 + (value - d * 10000.0 - m * 100.0) / 3600.0
        }
        _ => return None,
    };
    Some(sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso6709_forms() {
        let g = iso6709("+33.5138+036.2765+700.5/").unwrap();
        assert_eq!((g.lat, g.lon, g.alt), (33.5138, 36.2765, Some(700.5)));
        let g = iso6709("-12.5000-077.0500/").unwrap();
        assert_eq!((g.lat, g.lon, g.alt), (-12.5, -77.05, None));
        let g = iso6709("+3330.0+03615.0/").unwrap();
        assert!((g.lat - 33.5).abs() < 1e-9 && (g.lon - 36.25).abs() < 1e-9);
        let g = iso6709("+33.5138+036.2765CRSWGS_84/").unwrap();
        assert_eq!((g.lat, g.lon), (33.5138, 36.2765));
        assert!(iso6709("garbage").is_none());
        assert!(iso6709("+95.0+036.0/").is_none());
    }

    #[test]
    fn ffprobe_json() {
        let j: Value = serde_json::json!({
            "streams": [
                {"codec_type": "video", "codec_name": "h264", "width": 640, "height": 360,
                 "side_data_list": [{"rotation": -90}]},
                {"codec_type": "audio", "codec_name": "aac"}
            ],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "4.004000",
                "tags": {"creation_time": "2013-08-21T02:45:00.000000Z",
                         "com.apple.quicktime.location.ISO6709": "+33.5138+036.2765/",
                         "com.apple.quicktime.make": "Apple"}}
        });
        let v = parse(&j).unwrap();
        assert_eq!(v.duration_s, Some(4.004));
        assert_eq!(v.created_at.as_deref(), Some("2013-08-21T02:45:00Z"));
        assert_eq!((v.width, v.height), (Some(640), Some(360)));
        assert_eq!(v.rotation, Some(90));
        assert_eq!(v.make.as_deref(), Some("Apple"));
        assert_eq!(v.gps.map(|g| g.lat), Some(33.5138));
        assert_eq!(v.audio_codec.as_deref(), Some("aac"));
    }
}
