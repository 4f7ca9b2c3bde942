//! A sample entry's four-character code to the codec name ffprobe gives (`codec_name`), so
//! that an item reads the same whichever reader described it. `None`: a code we do not know,
//! for which the caller asks ffprobe.

use super::boxes::FourCc;

pub fn video(code: &FourCc, object_type: Option<u8>) -> Option<&'static str> {
    Some(match code {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" => "h264",
        b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => "hevc",
        b"av01" => "av1",
        b"vp09" => "vp9",
        b"vp08" => "vp8",
        b"s263" | b"h263" | b"H263" => "h263",
        b"mp4v" => match object_type {
            None | Some(0x20) => "mpeg4",
            Some(0x21) => "h264",
            Some(0x60..=0x65) => "mpeg2video",
            Some(0x6a) => "mpeg1video",
            Some(0x6c) => "mjpeg",
            Some(_) => return None,
        },
        b"jpeg" | b"mjpa" | b"mjpb" => "mjpeg",
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "prores",
        b"dvc " | b"dvcp" | b"dv5n" | b"dv5p" | b"dvpp" => "dvvideo",
        b"mp1v" => "mpeg1video",
        b"mp2v" | b"hdv1" | b"hdv2" | b"hdv3" | b"xdvc" | b"xd5c" => "mpeg2video",
        b"png " => "png",
        b"raw " | b"2vuy" | b"yuv2" => "rawvideo",
        _ => return None,
    })
}

pub fn audio(code: &FourCc, object_type: Option<u8>, bits: u16) -> Option<&'static str> {
    Some(match code {
        b"twos" | b"sowt" if bits == 8 => "pcm_s8",
        b"mp4a" => match object_type {
            None | Some(0x40 | 0x66..=0x68) => "aac",
            Some(0x69 | 0x6b) => "mp3",
            Some(0xa5) => "ac3",
            Some(0xa6) => "eac3",
            Some(0xa9) => "dts",
            Some(0xad) => "opus",
            Some(0xdd) => "vorbis",
            Some(0xe1) => "qcelp",
            Some(_) => return None,
        },
        b"samr" => "amr_nb",
        b"sawb" => "amr_wb",
        b"ac-3" => "ac3",
        b"ec-3" => "eac3",
        b"Opus" => "opus",
        b"fLaC" => "flac",
        b"alac" => "alac",
        b".mp3" | b"ms\0\x55" => "mp3",
        b"sowt" => "pcm_s16le",
        b"twos" => "pcm_s16be",
        b"in24" => "pcm_s24be",
        b"in32" => "pcm_s32be",
        b"fl32" => "pcm_f32be",
        b"fl64" => "pcm_f64be",
        b"ulaw" => "pcm_mulaw",
        b"alaw" => "pcm_alaw",
        b"ima4" => "adpcm_ima_qt",
        b"sqcp" => "qcelp",
        b"sevc" => "evrc",
        _ => return None,
    })
}
