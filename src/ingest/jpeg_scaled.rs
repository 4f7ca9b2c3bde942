//! Large JPEGs decoded at reduced scale: the JPEG DCT can be inverted at 1/2, 1/4 or 1/8 of
//! the size for little more than the cost of entropy decoding, so a 48-megapixel photo gives
//! a 750 × 1000 picture in a few megabytes instead of 150 MB of full-size pixels. Fingerprints
//! and previews need far fewer pixels than that.

use std::io::Read;

use image::DynamicImage;

/// Smaller JPEGs are decoded as before, at full size (cheap, and their fingerprints stay
/// exactly those computed before scaled decoding existed).
pub const SCALE_ABOVE: u64 = 4_000_000;

/// What a scaled decode gave.
pub struct Scaled {
    pub image: DynamicImage,
    /// The full size the JPEG declares.
    pub full: (u32, u32),
}

/// Decode `input` (a JPEG) so that its longer side is at least `long_side` pixels, within
/// `budget` bytes of decoder memory. `Ok(None)` when scaling does not apply (a small image,
/// or a pixel format handled better by the full decoder, such as CMYK): decode it the
/// ordinary way; also when this decoder cannot read it, so that the ordinary decoder gives
/// its own verdict. `max_pixels` refuses images declaring more pixels before any is decoded.
pub fn decode<R: Read>(
    input: R,
    long_side: u32,
    budget: u64,
    max_pixels: u64,
) -> Result<Option<Scaled>, String> {
    let mut d = jpeg_decoder::Decoder::new(input);
    d.set_max_decoding_buffer_size(usize::try_from(budget).unwrap_or(usize::MAX));
    if d.read_info().is_err() {
        return Ok(None);
    }
    let Some(info) = d.info() else {
        return Ok(None);
    };
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(format!(
            "image too large ({w}×{h}, over {} megapixels)",
            max_pixels / 1_000_000
        ));
    }
    let format = info.pixel_format;
    if pixels <= SCALE_ABOVE
        || !matches!(
            format,
            jpeg_decoder::PixelFormat::L8 | jpeg_decoder::PixelFormat::RGB24
        )
    {
        return Ok(None);
    }
    let long = w.max(h).max(1);
    let want = |side: u32| -> u16 {
        u16::try_from((u64::from(side) * u64::from(long_side)).div_ceil(u64::from(long)))
            .unwrap_or(u16::MAX)
            .max(1)
    };
    let Ok((sw, sh)) = d.scale(want(w), want(h)) else {
        return Ok(None);
    };
    let Ok(raw) = d.decode() else {
        return Ok(None);
    };
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    let image = match format {
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(sw, sh, raw).map(DynamicImage::ImageLuma8)
        }
        _ => image::RgbImage::from_raw(sw, sh, raw).map(DynamicImage::ImageRgb8),
    }
    .ok_or("the JPEG decoder gave fewer pixels than the image has")?;
    Ok(Some(Scaled {
        image,
        full: (w, h),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x / 16) as u8, (y / 16) as u8, ((x + y) / 32) as u8])
        });
        let mut out = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70);
        img.write_with_encoder(enc).expect("encode");
        out
    }

    #[test]
    fn a_large_jpeg_comes_out_at_an_eighth() {
        let big = jpeg(2400, 1800);
        let s = decode(big.as_slice(), 256, 64 << 20, 50_000_000)
            .expect("decodes")
            .expect("scaled");
        assert_eq!(s.full, (2400, 1800));
        assert_eq!((s.image.width(), s.image.height()), (300, 225));
    }

    #[test]
    fn a_small_jpeg_is_left_to_the_full_decoder() {
        let small = jpeg(64, 48);
        assert!(decode(small.as_slice(), 256, 64 << 20, 50_000_000)
            .expect("reads")
            .is_none());
    }
}
