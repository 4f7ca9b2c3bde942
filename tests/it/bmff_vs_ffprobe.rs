//! Our ISO BMFF reader against ffprobe, field by field, on clips ffmpeg makes here: MP4 (3GPP
//! `loci`), MOV (QuickTime `©xyz`/`©mak`/`©mod`, and Apple's `keys`), 3GP, 3G2, M4V, a
//! rotated HEVC clip, MPEG-4 Part 2 with MP3. Ingest reads these containers with ours alone,
//! so what an item says must not depend on which reader read it.

use std::path::{Path, PathBuf};
use std::process::Command;

use triage::ingest::meta::{bmff, ffprobe, VideoInfo};

fn ffmpeg_here() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ffmpeg is not installed: .ci/run installs it"
        );
        eprintln!("SKIPPED: ffmpeg is not installed (apt-get install ffmpeg)");
    }
    ok
}

fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=10:duration=2")
        .args(["-f", "lavfi", "-i", "sine=duration=2", "-shortest"])
        .args(["-metadata", "creation_time=2013-08-21T02:45:00Z"])
        .args(args)
        .arg(&path)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The clip with a display matrix: ffmpeg 5 writes the `rotate` tag as one when copying.
fn turned(src: &Path) -> PathBuf {
    let path = src.with_file_name("turned.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(src)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&path)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn ours(path: &Path) -> VideoInfo {
    let f = std::fs::File::open(path).expect("open");
    let len = f.metadata().expect("len").len();
    let found = bmff::read(std::io::BufReader::new(f), len)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(found.incomplete, None, "{}", path.display());
    found.info
}

#[test]
fn our_reader_says_what_ffprobe_says() {
    if !ffmpeg_here() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let place = ["-metadata", "location=+33.5138+036.2765/"];
    let clips = [
        make(d, "loci.mp4", &place),
        make(
            d,
            "faststart.mp4",
            &[&place[..], &["-movflags", "+faststart"]].concat(),
        ),
        make(
            d,
            "udta.mov",
            &[
                &place[..],
                &["-metadata", "make=Apple", "-metadata", "model=iPhone 6"],
            ]
            .concat(),
        ),
        make(
            d,
            "keys.mov",
            &[
                "-movflags",
                "use_metadata_tags",
                "-metadata",
                "com.apple.quicktime.location.ISO6709=-12.5000-077.0500+100.000/",
                "-metadata",
                "com.apple.quicktime.make=Apple",
                "-metadata",
                "com.apple.quicktime.model=iPhone 13 Pro",
            ],
        ),
        make(
            d,
            "phone.3gp",
            &[
                &place[..],
                &[
                    "-c:v", "h263", "-s", "176x144", "-c:a", "aac", "-ar", "8000", "-ac", "1",
                ],
            ]
            .concat(),
        ),
        make(
            d,
            "phone.3g2",
            &[
                "-c:v", "h263", "-s", "176x144", "-c:a", "aac", "-ar", "8000", "-ac", "1",
            ],
        ),
        make(d, "clip.m4v", &["-f", "ipod"]),
        turned(&make(
            d,
            "hevc.mp4",
            &["-c:v", "libx265", "-x265-params", "log-level=none"],
        )),
        make(d, "part2.mp4", &["-c:v", "mpeg4", "-c:a", "libmp3lame"]),
    ];
    for path in &clips {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let theirs = ffprobe(path).unwrap_or_else(|e| panic!("ffprobe {name}: {e:?}"));
        let mine = ours(path);
        assert_eq!(mine.read_by.as_deref(), Some("built-in"));
        let mine = VideoInfo {
            read_by: theirs.read_by.clone(),
            ..mine
        };
        assert_eq!(mine, theirs, "{name}");
    }
    // The clips do hold what is compared (not all empty on both sides).
    let keys = ours(&clips[3]);
    assert_eq!(keys.model.as_deref(), Some("iPhone 13 Pro"));
    assert_eq!(keys.gps.map(|g| (g.lat, g.lon)), Some((-12.5, -77.05)));
    // ffmpeg's `rotate=90` is a quarter turn anticlockwise: 270 clockwise to display.
    assert_eq!(ours(&clips[7]).rotation, Some(270));
    assert_eq!(ours(&clips[7]).video_codec.as_deref(), Some("hevc"));
    assert_eq!(ours(&clips[8]).audio_codec.as_deref(), Some("mp3"));
    let udta = ours(&clips[2]);
    assert_eq!(udta.make.as_deref(), Some("Apple"));
    assert_eq!(
        udta.created_at.as_deref(),
        Some("2013-08-21T02:45:00Z"),
        "{udta:?}"
    );
    assert!(ours(&clips[4]).gps.is_some());
}
