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
    let (w, h) = (img.width(), img.height());
    let scale = (f64::from(SIDE) / f64::from(w.max(h).max(1))).min(1.0);
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    let (ow, oh) = (fit(w), fit(h));
    let rgb = match img {
        DynamicImage::ImageRgb8(b) => reduce(b.as_raw(), 3, (w, h), (ow, oh)),
        DynamicImage::ImageRgba8(b) => reduce(b.as_raw(), 4, (w, h), (ow, oh)),
        DynamicImage::ImageLuma8(b) => reduce(b.as_raw(), 1, (w, h), (ow, oh)),
        DynamicImage::ImageLumaA8(b) => reduce(b.as_raw(), 2, (w, h), (ow, oh)),
        other => reduce(other.to_rgb8().as_raw(), 3, (w, h), (ow, oh)),
    }?;
    let turned =
        crate::preview::decode::orient(DynamicImage::ImageRgb8(rgb), orientation.unwrap_or(1))
            .into_rgb8();
    let (width, height) = turned.dimensions();
    let mut jpeg = Vec::new();
    // 4:2:0 chroma, as cameras write: half the blocks of 4:4:4 to encode and to send.
    let enc = jpeg_encoder::Encoder::new(&mut jpeg, QUALITY);
    enc.encode(
        turned.as_raw(),
        u16::try_from(width).ok()?,
        u16::try_from(height).ok()?,
        jpeg_encoder::ColorType::Rgb,
    )
    .ok()?;
    Some(Kept {
        width,
        height,
        jpeg,
    })
}

/// `px` (`channels` samples a pixel, `w`×`h`) as RGB at `ow`×`oh`; as is when the size is kept.
fn reduce(
    px: &[u8],
    channels: usize,
    (w, h): (u32, u32),
    (ow, oh): (u32, u32),
) -> Option<image::RgbImage> {
    let raw = if (ow, oh) == (w, h) && channels == 3 {
        px.to_vec()
    } else {
        let size = (ow as usize, oh as usize);
        super::fingerprint::area_resize_rgb(px, channels, w as usize, h as usize, size)
    };
    image::RgbImage::from_raw(ow, oh, raw)
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

    #[test]
    fn colours_and_grays_survive_the_reduction() {
        let red = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            641,
            480,
            image::Rgba([200, 30, 40, 255]),
        ));
        let kept = make(&red, None).expect("made");
        assert_eq!((kept.width, kept.height), (320, 240));
        let back = open(&kept.jpeg).expect("readable").to_rgb8();
        let p = back.get_pixel(160, 120).0;
        assert!(
            p[0].abs_diff(200) < 8 && p[1].abs_diff(30) < 8 && p[2].abs_diff(40) < 8,
            "{p:?}"
        );
        let gray =
            DynamicImage::ImageLuma8(image::GrayImage::from_pixel(100, 50, image::Luma([90])));
        let kept = make(&gray, Some(8)).expect("made");
        assert_eq!((kept.width, kept.height), (50, 100));
        let p = open(&kept.jpeg)
            .expect("readable")
            .to_rgb8()
            .get_pixel(25, 50)
            .0;
        assert!(p.iter().all(|c| c.abs_diff(90) < 4), "{p:?}");
    }
}
