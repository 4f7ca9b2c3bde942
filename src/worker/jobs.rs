//! The jobs themselves: the same code runs in a worker process (the product) or in the
//! calling thread (library callers that did not ask for isolation, such as unit tests).

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use base64::Engine;

use super::protocol::{Job, Print, Reply};
use crate::ingest::detect::Kind;
use crate::ingest::fingerprint::{self, Fingerprint, Thumb};
use crate::ingest::kept_preview::Kept;
use crate::ingest::meta::{self, Content};

pub fn handle(job: &Job) -> Reply {
    match job {
        Job::Describe {
            path,
            kind,
            mime,
            head,
            complete,
            fingerprint,
        } => describe(as_path(path), kind, mime, *head, *complete, *fingerprint),
        Job::Fingerprint { path, orientation } => {
            match fingerprint::made_of_file(as_path(path), *orientation) {
                Ok(made) => Reply::Print(print_made(made)),
                Err(e) => Reply::Refused(e),
            }
        }
        Job::Preview {
            path,
            thumbnail,
            orientation,
        } => preview(
            as_path(path),
            thumbnail.as_deref().map(as_path),
            *orientation,
        ),
        Job::Sheet {
            path,
            thumbnail,
            kind,
            duration_s,
        } => sheet(
            as_path(path),
            thumbnail.as_deref().map(as_path),
            kind,
            *duration_s,
        ),
        Job::Expand {
            path,
            format,
            name,
            into,
            budget,
        } => super::expand::expand(as_path(path), name, format, as_path(into), *budget),
    }
}

fn sheet(path: &Path, thumbnail: Option<&Path>, kind: &str, duration_s: Option<f64>) -> Reply {
    let cached = thumbnail.and_then(|t| image::open(t).ok());
    let fresh = cached.is_none();
    let made = match (cached, kind) {
        (Some(img), _) => Ok(img),
        (None, "video") => super::sheet::video(path, duration_s),
        (None, "pdf") => super::sheet::pdf_page(path),
        (None, other) => Err(format!("no preview for {other} items")),
    };
    match made {
        Ok(img) => image_reply(&img, fresh),
        Err(e) => Reply::Refused(e),
    }
}

fn image_reply(img: &image::DynamicImage, fresh: bool) -> Reply {
    let rgb = img.to_rgb8();
    Reply::Image {
        width: rgb.width(),
        height: rgb.height(),
        rgb: base64::engine::general_purpose::STANDARD.encode(rgb.as_raw()),
        fresh,
    }
}

fn as_path(bytes: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(bytes))
}

fn print((f, t): (Fingerprint, Thumb)) -> Print {
    Print {
        dhash: f.dhash,
        phash: f.phash,
        thumb: base64::engine::general_purpose::STANDARD.encode(t.to_blob()),
        preview: None,
    }
}

fn print_made(m: fingerprint::Made) -> Print {
    Print {
        preview: m.preview.map(|k| {
            (
                k.width,
                k.height,
                base64::engine::general_purpose::STANDARD.encode(k.jpeg),
            )
        }),
        ..print((m.print, m.thumb))
    }
}

/// The kept preview a print carries, if any.
pub fn unprint_preview(p: &Print) -> Option<Kept> {
    let (width, height, b64) = p.preview.as_ref()?;
    let jpeg = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(Kept {
        width: *width,
        height: *height,
        jpeg,
    })
}

/// A print as the parent uses it; `None` for a malformed thumbnail.
pub fn unprint(p: &Print) -> Option<(Fingerprint, Thumb)> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&p.thumb)
        .ok()?;
    Some((
        Fingerprint {
            dhash: p.dhash,
            phash: p.phash,
        },
        Thumb::from_blob(&blob)?,
    ))
}

fn describe(
    path: &Path,
    kind: &str,
    mime: &str,
    head: u64,
    complete: bool,
    want_print: bool,
) -> Reply {
    let Some(kind) = Kind::parse(kind) else {
        return Reply::Refused(format!("unknown kind {kind:?}"));
    };
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(head).read_to_end(&mut bytes));
    if let Err(e) = read {
        return Reply::Refused(format!("cannot read the stored copy: {e}"));
    }
    let content = Content {
        bytes: &bytes,
        complete,
        stored: path,
    };
    let mut metadata = meta::extract(kind, mime, &content);
    let print = (want_print && kind == Kind::Image)
        .then(|| fingerprint::made_of_content(&content, &metadata))
        .and_then(|r| r.map_err(|e| metadata.warnings.push(e)).ok())
        .map(print_made);
    Reply::Described {
        metadata: Box::new(metadata),
        print,
    }
}

fn preview(path: &Path, thumbnail: Option<&Path>, orientation: u16) -> Reply {
    let (img, fresh) = match thumbnail.and_then(|t| image::open(t).ok()) {
        Some(img) => (img, false),
        None => match crate::preview::decode::load(path, orientation) {
            Ok(img) => (img, true),
            Err(e) => return Reply::Refused(e),
        },
    };
    let rgb = img.to_rgb8();
    Reply::Image {
        width: rgb.width(),
        height: rgb.height(),
        rgb: base64::engine::general_purpose::STANDARD.encode(rgb.as_raw()),
        fresh,
    }
}
