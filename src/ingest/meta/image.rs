//! Images: dimensions from the header (no pixel decoding) and EXIF with kamadak-exif.

use std::io::Cursor;

use exif::{In, Reader, Tag, Value};

use super::{Content, Exif, Gps, ImageInfo, Metadata};

pub fn extract(mime: &str, content: &Content, m: &mut Metadata) {
    let format = mime.strip_prefix("image/").unwrap_or(mime).to_string();
    // HEIC: the size is libheif's to tell, in the parser worker (`crate::ingest::heif`).
    if crate::ingest::heif::is_heif(content.bytes) {
        match crate::ingest::heif::dimensions(content.stored) {
            Ok((width, height)) => {
                m.image = Some(ImageInfo {
                    format,
                    width,
                    height,
                })
            }
            Err(e) => m.warnings.push(format!("image header: {e}")),
        }
    } else {
        match image::ImageReader::new(Cursor::new(content.bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_dimensions().map_err(|e| e.to_string()))
        {
            Ok((width, height)) => {
                m.image = Some(ImageInfo {
                    format,
                    width,
                    height,
                })
            }
            Err(e) => m.warnings.push(format!("image header: {e}")),
        }
    }
    // Keep what can be read from damaged or unusual EXIF (e.g. an IFD chain longer than the
    // reader expects) and note what was wrong, instead of losing all of it.
    let read = Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(content.bytes))
        .or_else(|e| {
            e.distill_partial_result(|errors| {
                for err in errors {
                    m.warnings.push(format!("EXIF (partly read): {err}"));
                }
            })
        });
    match read {
        Ok(exif) => m.exif = Some(read_exif(&exif)),
        // No EXIF at all is normal (screenshots, messenger copies); only report damage.
        Err(exif::Error::NotFound(_)) => {}
        Err(e) => m.warnings.push(format!("EXIF: {e}")),
    }
}

fn read_exif(exif: &exif::Exif) -> Exif {
    let ascii = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .and_then(|f| match &f.value {
                Value::Ascii(parts) => parts
                    .first()
                    .map(|b| {
                        String::from_utf8_lossy(b)
                            .trim_end_matches('\0')
                            .trim()
                            .to_string()
                    })
                    .filter(|s| !s.is_empty()),
                _ => None,
            })
    };
    let datetime = |tag, offset_tag| {
        ascii(tag)
            .and_then(|s| exif_datetime(&s))
            .map(|dt| match ascii(offset_tag) {
                Some(off) if is_offset(&off) => format!("{dt}{off}"),
                _ => dt,
            })
    };
    Exif {
        make: ascii(Tag::Make),
        model: ascii(Tag::Model),
        software: ascii(Tag::Software),
        captured_at: datetime(Tag::DateTimeOriginal, Tag::OffsetTimeOriginal)
            .or_else(|| datetime(Tag::DateTimeDigitized, Tag::OffsetTimeDigitized)),
        modified_at: datetime(Tag::DateTime, Tag::OffsetTime),
        orientation: exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|v| u16::try_from(v).ok()),
        gps: gps(exif),
    }
}

/// `2013:08:21 02:45:00` → `2013-08-21T02:45:00`; blank or malformed values give None.
fn exif_datetime(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 19 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let date = s.get(..10)?.replace(':', "-");
    let time = s.get(11..19)?;
    if !time.bytes().all(|c| c.is_ascii_digit() || c == b':') {
        return None;
    }
    Some(format!("{date}T{time}"))
}

fn is_offset(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':'
}

fn gps(exif: &exif::Exif) -> Option<Gps> {
    let coord = |tag, ref_tag, negative: u8| -> Option<f64> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(parts) = &f.value else {
            return None;
        };
        let mut deg = 0.0;
        for (i, scale) in [1.0, 60.0, 3600.0].iter().enumerate() {
            if let Some(r) = parts.get(i) {
                if r.denom == 0 {
                    return None;
                }
                deg += r.to_f64() / scale;
            }
        }
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(v)) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        deg.is_finite().then_some(sign * deg)
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let alt = exif
        .get_field(Tag::GPSAltitude, In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Rational(v) if v.first().map(|r| r.denom != 0) == Some(true) => {
                Some(v[0].to_f64())
            }
            _ => None,
        })
        .map(|a| {
            let below = exif
                .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
                .and_then(|f| f.value.get_uint(0))
                == Some(1);
            if below {
                -a
            } else {
                a
            }
        });
    Some(Gps {
        lat: round6(lat),
        lon: round6(lon),
        alt: alt.map(|a| (a * 100.0).round() / 100.0),
    })
}

/// Six decimals is about 10 cm: more than any phone GPS gives.
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_forms() {
        assert_eq!(
            exif_datetime("2013:08:21 02:45:00").as_deref(),
            Some("2013-08-21T02:45:00")
        );
        assert_eq!(exif_datetime("    :  :     :  :  "), None);
    }
}
