//! The preview kept in the case for each image: made at ingest from the same reduced decoding
//! as the fingerprints, so that the console shows an image without reading its original
//! again. A small JPEG (a few kilobytes): derived data, rebuilt by re-ingesting.

use image::DynamicImage;

/// The longest side kept: more than a preview pane of half blocks shows, enough for sixel.
pub const SIDE: u32 = 320;
const QUALITY: u8 = 80;

pub use crate::model::preview::Kept;

/// Reduce `img` (as stored) to at most `SIDE` a side, turn it as the EXIF orientation says,
/// and encode it. `None` if the encoder fails (the item simply has no kept preview).
pub fn make(img: &DynamicImage, orientation: Option<u16>) -> Option<Kept> {
    let small = if img.width() > SIDE || img.height() > SIDE {
        img.thumbnail(SIDE, SIDE)
    } else {
        img.clone()
    };
    let turned = crate::preview::decode::orient(small, orientation.unwrap_or(1));
    let rgb = turned.to_rgb8();
    let mut jpeg = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY);
    rgb.write_with_encoder(enc).ok()?;
    Some(Kept {
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
    })
}

/// Read a kept preview back (our own small JPEG; decoded under tight limits all the same).
pub fn open(jpeg: &[u8]) -> Result<DynamicImage, String> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(jpeg), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(SIDE);
    limits.max_image_height = Some(SIDE);
    limits.max_alloc = Some(4 << 20);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("the kept preview is unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_small_oriented_and_readable() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(1000, 500, |x, _| {
            image::Rgb([(x / 4) as u8, 0, 0])
        }));
        let kept = make(&img, Some(6)).expect("made");
        assert_eq!((kept.width, kept.height), (160, 320));
        let back = open(&kept.jpeg).expect("readable");
        assert_eq!((back.width(), back.height()), (160, 320));
        assert!(kept.jpeg.len() < 40_000);
    }
}
