//! Decoding under limits, at reduced scale where the format allows it.

use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use super::grids::{grids, grids_of, Grids};
use super::{MAX_ALLOC, MAX_PIXELS, MAX_SIDE, SCALED_SIDE};

/// What is decoded: bytes already in memory, or a stored file.
pub(super) enum Input<'a> {
    Bytes(&'a [u8]),
    File(std::fs::File),
}

/// Decode under limits: the size is read from the header and checked before any pixel is.
/// With `keep`, the decoded (possibly reduced) picture is returned too, for the preview.
pub(super) fn decode(
    input: Input<'_>,
    orientation: Option<u16>,
    keep: bool,
) -> Result<(Grids, Option<DynamicImage>), String> {
    let cannot = |e: std::io::Error| format!("fingerprint: cannot read: {e}");
    match input {
        Input::Bytes(b) => decode_from(Cursor::new(b), Some(b), orientation, keep),
        Input::File(f) => {
            let mut r = BufReader::new(f);
            if is_jpeg(&mut r).map_err(cannot)? {
                // A JPEG is read whole (the file is bounded by the caller): the DC reader
                // works on a slice, and the JPEG decoder reads it all anyway.
                let mut whole = Vec::new();
                r.read_to_end(&mut whole).map_err(cannot)?;
                return decode_from(Cursor::new(&whole), Some(&whole), orientation, keep);
            }
            decode_from(r, None, orientation, keep)
        }
    }
}

/// `decode` of a reader; `whole` is the same input as one slice when the caller holds it so.
fn decode_from<R: BufRead + Seek>(
    mut input: R,
    whole: Option<&[u8]>,
    orientation: Option<u16>,
    keep: bool,
) -> Result<(Grids, Option<DynamicImage>), String> {
    // The JPEG decoder fills in what a truncated file lacks: that would be a fingerprint of
    // a picture nobody sent.
    if !jpeg_complete(&mut input).map_err(|e| format!("fingerprint: cannot read: {e}"))? {
        return Err(
            "fingerprint: truncated JPEG (no end-of-image marker after the image data)".into(),
        );
    }
    if is_jpeg(&mut input).map_err(|e| format!("fingerprint: cannot read: {e}"))? {
        // Large photos at 1/8 from their DC terms alone, when that is still large enough.
        if let Some(bytes) = whole {
            match crate::ingest::jpeg_dc::decode(bytes, SCALED_SIDE, MAX_PIXELS) {
                Ok(Some(dc)) => {
                    let full = (dc.full.0 as usize, dc.full.1 as usize);
                    let g = grids_of(&dc.image, orientation, full);
                    return Ok((g, keep.then_some(dc.image)));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("fingerprint: {e}")),
            }
        }
        match crate::ingest::jpeg_scaled::decode(&mut input, SCALED_SIDE, MAX_ALLOC, MAX_PIXELS) {
            Ok(Some(scaled)) => {
                let full = (scaled.full.0 as usize, scaled.full.1 as usize);
                let g = grids_of(&scaled.image, orientation, full);
                return Ok((g, keep.then_some(scaled.image)));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("fingerprint: {e}")),
        }
        input
            .seek(SeekFrom::Start(0))
            .map_err(|e| format!("fingerprint: cannot read: {e}"))?;
    }
    let mut reader = ImageReader::new(input)
        .with_guessed_format()
        .map_err(|e| format!("fingerprint: cannot read: {e}"))?;
    if reader.format().is_none() {
        return Err("fingerprint: image format not supported".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // The header only: nothing is decoded yet.
    let decoder = reader.into_decoder().map_err(|e| match e {
        ImageError::Limits(_) => {
            format!("fingerprint: image too large (a side over {MAX_SIDE} pixels)")
        }
        ImageError::Unsupported(e) => format!("fingerprint: image not supported: {e}"),
        e => format!("fingerprint: cannot decode: {e}"),
    })?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "fingerprint: image too large ({w}×{h}, over {} megapixels)",
            MAX_PIXELS / 1_000_000
        ));
    }
    if w == 0 || h == 0 {
        return Err(format!("fingerprint: empty image ({w}×{h})"));
    }
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(format!(
            "fingerprint: image too large ({w}×{h}, {} MB decoded)",
            decoder.total_bytes() >> 20
        ));
    }
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| format!("fingerprint: cannot decode: {e}"))?;
    let g = grids(&img, orientation);
    Ok((g, keep.then_some(img)))
}

/// True when the input starts like a JPEG; leaves the reader at the start.
fn is_jpeg<R: Read + Seek>(input: &mut R) -> std::io::Result<bool> {
    let mut head = [0u8; 3];
    let n = input.read(&mut head)?;
    input.seek(SeekFrom::Start(0))?;
    Ok(n == 3 && head == [0xff, 0xd8, 0xff])
}

/// False for a JPEG whose last scan (SOS) is not followed by an end-of-image marker (EOI), as
/// when the file was cut short; true for anything else. Looks at the last 1 MiB only (a marker
/// pair cannot occur inside entropy-coded data), and leaves the reader at the start.
fn jpeg_complete<R: Read + Seek>(input: &mut R) -> std::io::Result<bool> {
    const TAIL: u64 = 1 << 20;
    let mut head = [0u8; 3];
    let n = input.read(&mut head)?;
    let is_jpeg = n == 3 && head == [0xff, 0xd8, 0xff];
    let complete = if is_jpeg {
        let len = input.seek(SeekFrom::End(0))?;
        let from = len.saturating_sub(TAIL);
        input.seek(SeekFrom::Start(from))?;
        let mut tail = Vec::with_capacity((len - from) as usize);
        input.read_to_end(&mut tail)?;
        let last = |marker: u8| tail.windows(2).rposition(|w| w == [0xff, marker]);
        match (last(0xd9), last(0xda)) {
            (Some(eoi), Some(sos)) => eoi > sos,
            (Some(_), None) => true,
            (None, _) => false,
        }
    } else {
        true
    };
    input.seek(SeekFrom::Start(0))?;
    Ok(complete)
}
