//! Decoding a stored image safely: dimensions are checked from the header before any pixel is
//! decoded, and decoding runs under the `image` crate's limits, so a decompression bomb or a
//! truncated file gives a message, not a crash or a memory spike.

use std::io::BufReader;
use std::path::Path;

use image::{DynamicImage, ImageReader, Limits};

/// Larger images are not decoded for a preview.
pub const MAX_PIXELS: u64 = 50_000_000;
const MAX_ALLOC: u64 = crate::worker::limits::DECODE_BUDGET;
/// The longest side kept after decoding; previews are small.
const WORK_SIZE: u32 = 512;

/// The image for a request when the case keeps no preview of it (ingested before previews
/// were kept, or with `--no-fingerprints`): from the case's thumbnail cache when there, else decoded from the
/// original (and the thumbnail written for next time; a cache, so failures are ignored). Both
/// are read in a parser worker (see `crate::worker`): a decoder that crashes costs a message.
/// The request's variant (grayscale, blur) is applied by the caller: the picture before it is
/// what is worth holding for the next time the reviewer comes back to the item.
pub fn load_base(req: &super::Request) -> Result<DynamicImage, String> {
    use crate::worker::protocol::{Job, Reply};
    use base64::Engine;
    use std::os::unix::ffi::OsStrExt;
    // An original in a bucket is fetched into the case's read cache first (unless a picture
    // made from it is cached already); this runs on the preview thread, never the UI's.
    if !req.thumbnail.as_ref().is_some_and(|t| t.is_file()) {
        crate::store::objects::ensure_local(&req.path)
            .map_err(|e| format!("the original cannot be read: {e}"))?;
    }
    let path = req.path.as_os_str().as_bytes().to_vec();
    let thumbnail = req
        .thumbnail
        .as_ref()
        .map(|t| t.as_os_str().as_bytes().to_vec());
    let job = match req.visual {
        super::Visual::Image => Job::Preview {
            path,
            thumbnail,
            orientation: req.orientation,
        },
        super::Visual::Video { duration_s } => Job::Sheet {
            path,
            thumbnail,
            kind: "video".into(),
            duration_s,
        },
        super::Visual::PdfPage => Job::Sheet {
            path,
            thumbnail,
            kind: "pdf".into(),
            duration_s: None,
        },
    };
    let base = match crate::worker::run(&job) {
        Ok(Reply::Image {
            width,
            height,
            rgb,
            fresh,
        }) => {
            let img = base64::engine::general_purpose::STANDARD
                .decode(rgb)
                .ok()
                .and_then(|raw| image::RgbImage::from_raw(width, height, raw))
                .map(DynamicImage::ImageRgb8)
                .ok_or("the image decoder gave a malformed picture")?;
            if let (true, Some(t)) = (fresh, &req.thumbnail) {
                write_thumbnail(&img, t);
            }
            img
        }
        Ok(Reply::Refused(e)) => return Err(e),
        Ok(Reply::Panicked(e)) | Err(e) => return Err(format!("cannot decode the image: {e}")),
        Ok(_) => return Err("the image decoder gave an unexpected answer".into()),
    };
    Ok(base)
}

/// The picture as the request wants it drawn (grayscale, blurred).
pub fn variant(base: DynamicImage, req: &super::Request) -> DynamicImage {
    let img = if req.grayscale {
        DynamicImage::ImageLuma8(base.to_luma8())
    } else {
        base
    };
    if req.blur {
        img.blur(3.0)
    } else {
        img
    }
}

fn write_thumbnail(img: &DynamicImage, path: &Path) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if img
        .to_rgb8()
        .save_with_format(&tmp, image::ImageFormat::Png)
        .is_ok()
    {
        let _ = std::fs::rename(&tmp, path);
    } else {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Decode an original (oriented, scaled to at most 512 pixels a side).
pub fn load(path: &Path, orientation: u16) -> Result<DynamicImage, String> {
    // libheif turns HEIC pictures itself: their EXIF orientation is not applied again.
    if crate::ingest::heif::sniff(path) {
        return crate::ingest::heif::reduced(path, WORK_SIZE);
    }
    let open = || -> Result<ImageReader<BufReader<std::fs::File>>, String> {
        ImageReader::open(path)
            .map_err(|e| format!("cannot open the stored original: {e}"))?
            .with_guessed_format()
            .map_err(|e| format!("cannot read the image header: {e}"))
    };
    let (w, h) = open()?
        .into_dimensions()
        .map_err(|e| format!("cannot read the image header: {e}"))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!(
            "image too large to preview safely ({w}×{h} pixels, limit {} megapixels)",
            MAX_PIXELS / 1_000_000
        ));
    }
    // A large JPEG at 1/2 to 1/8 of its size: a few megabytes instead of hundreds.
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open the stored original: {e}"))?;
    if let Some(scaled) =
        crate::ingest::jpeg_scaled::decode(BufReader::new(file), WORK_SIZE, MAX_ALLOC, MAX_PIXELS)?
    {
        return Ok(orient(
            scaled.image.thumbnail(WORK_SIZE, WORK_SIZE),
            orientation,
        ));
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(w.max(1));
    limits.max_image_height = Some(h.max(1));
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("cannot decode the image: {e}"))?;
    let img = if img.width() > WORK_SIZE || img.height() > WORK_SIZE {
        img.thumbnail(WORK_SIZE, WORK_SIZE)
    } else {
        img
    };
    Ok(orient(img, orientation))
}

/// Apply an EXIF orientation (1-8) to the pixels.
pub fn orient(img: DynamicImage, orientation: u16) -> DynamicImage {
    match orientation {
        2 => img.fliph(),
        3 => img.rotate180(),
        4 => img.flipv(),
        5 => img.rotate90().fliph(),
        6 => img.rotate90(),
        7 => img.rotate270().fliph(),
        8 => img.rotate270(),
        _ => img,
    }
}
