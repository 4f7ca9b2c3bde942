//! HEIC/HEIF (iPhone photos) through libheif's own command-line tools, run as child processes
//! of the parser worker (so under its memory and CPU limits): `heif-info` for the dimensions,
//! `heif-thumbnailer` for a reduced picture (the file's embedded thumbnail when it is large
//! enough, else the image decoded and scaled by libheif). Tools rather than the Rust binding:
//! the build needs no libheif headers, and a machine without the tools says so per item.

use std::path::Path;

use image::DynamicImage;

/// What an item says when the tools are missing.
pub const NEEDS: &str = "HEIC needs libheif: apt-get install libheif-examples heif-thumbnailer";

/// The largest side read back from the thumbnailer (it is asked for less).
const MAX_SIDE: u32 = 1024;

/// True when the file starts like a HEIF container of still images (`ftyp` with a HEIF brand).
pub fn sniff(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 12];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
    read.is_ok() && is_heif(&head)
}

/// `sniff` on bytes in memory.
pub fn is_heif(head: &[u8]) -> bool {
    head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(
            &head[8..12],
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"heif"
        )
}

/// Run a libheif tool as a limited child (memory, CPU, a deadline, killed with the worker):
/// a HEIC that makes the decoder hang costs that item's picture, not the worker's next jobs.
fn run(tool: &str, args: &[&std::ffi::OsStr], cap: usize) -> Result<Vec<u8>, String> {
    use crate::worker::tool::{self, Failure};
    tool::run(tool, args, WALL, cap).map_err(|e| match e {
        Failure::Missing => NEEDS.to_string(),
        Failure::Failed(why) => format!("libheif cannot read it: {why}"),
    })
}

/// How long a libheif tool may take: decoding a 48-MP HEIC without an embedded thumbnail
/// takes a few seconds on one core.
const WALL: std::time::Duration = std::time::Duration::from_secs(25);

/// The primary image's width and height (as displayed: libheif applies the container's
/// rotation).
pub fn dimensions(path: &Path) -> Result<(u32, u32), String> {
    let out = run("heif-info", &[path.as_os_str()], 64 << 10)?;
    let text = String::from_utf8_lossy(&out);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .find(|l| l.contains("primary"))
        .and_then(|l| {
            let size = l.split_whitespace().next()?;
            let (w, h) = size.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .ok_or_else(|| "libheif gave no size for the primary image".into())
}

/// The image reduced to at most `side` pixels a side, the right way up. The PNG comes back
/// on the tool's stdout: no temporary file to leave behind if the worker is stopped.
pub fn reduced(path: &Path, side: u32) -> Result<DynamicImage, String> {
    let out = run(
        "heif-thumbnailer",
        &[
            "-s".as_ref(),
            side.to_string().as_ref(),
            path.as_os_str(),
            "/dev/stdout".as_ref(),
        ],
        16 << 20,
    )?;
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(out), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(16 << 20);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("libheif's picture is unreadable: {e}"))
}
