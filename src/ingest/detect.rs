//! Type from content (magic bytes), never from the name; the name's extension is only compared.

/// What kind of material an item is; drives the extractor, the filter `type:` and the icons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Video,
    Pdf,
    Email,
    Text,
    /// A container: ZIP, TAR, 7z, a compressed file (expanded into members at ingest).
    Archive,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Pdf => "pdf",
            Kind::Email => "email",
            Kind::Text => "text",
            Kind::Archive => "archive",
            Kind::Other => "other",
        }
    }

    pub const ALL: [Kind; 7] = [
        Kind::Image,
        Kind::Video,
        Kind::Pdf,
        Kind::Email,
        Kind::Text,
        Kind::Archive,
        Kind::Other,
    ];

    /// The kind named by [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

pub struct Detected {
    pub mime: String,
    pub kind: Kind,
}

fn video(mime: &str) -> Detected {
    Detected {
        mime: mime.into(),
        kind: Kind::Video,
    }
}

pub fn detect(head: &[u8]) -> Detected {
    // infer does not know 3GPP (phones' MMS video): an ISO media file with a 3gp/3g2 brand.
    if head.get(4..8) == Some(b"ftyp") {
        match head.get(8..11) {
            Some(b"3gp") => return video("video/3gpp"),
            Some(b"3g2") => return video("video/3gpp2"),
            _ => {}
        }
    }
    if let Some(t) = infer::get(head) {
        let mime = t.mime_type().to_string();
        let kind = match mime.as_str() {
            "application/pdf" => Kind::Pdf,
            m if m.starts_with("image/") => Kind::Image,
            m if m.starts_with("video/") => Kind::Video,
            "message/rfc822" => Kind::Email,
            m if is_archive(m) => Kind::Archive,
            // HTML and XML are text (a Telegram export's messages.html among them).
            m if m.starts_with("text/") => Kind::Text,
            _ => Kind::Other,
        };
        return Detected { mime, kind };
    }
    if looks_like_email(head) {
        return Detected {
            mime: "message/rfc822".into(),
            kind: Kind::Email,
        };
    }
    if looks_like_text(head) {
        return Detected {
            mime: "text/plain".into(),
            kind: Kind::Text,
        };
    }
    Detected {
        mime: "application/octet-stream".into(),
        kind: Kind::Other,
    }
}

/// Containers by MIME type (as `infer` names them).
pub fn is_archive(mime: &str) -> bool {
    matches!(
        mime,
        "application/zip"
            | "application/x-tar"
            | "application/gzip"
            | "application/x-bzip2"
            | "application/x-xz"
            | "application/zstd"
            | "application/x-7z-compressed"
            | "application/vnd.rar"
            | "application/x-rar-compressed"
    )
}

/// A message starts with header fields up to an empty line; require a few of the usual ones.
fn looks_like_email(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let mut seen = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || name.contains(' ') {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "from" | "to" | "date" | "subject" | "message-id" | "received" | "mime-version"
        ) {
            seen += 1;
        }
    }
    seen >= 3
}

/// Text: no NUL bytes and few control characters in the first 8 KiB (any encoding).
fn looks_like_text(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(8192)];
    if sample.is_empty() {
        return false;
    }
    // UTF-16 with a BOM is text despite its NULs.
    if sample.starts_with(&[0xff, 0xfe]) || sample.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let controls = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)))
        .count();
    controls == 0 || (sample.iter().all(|&b| b != 0) && controls * 100 < sample.len())
}

/// The extensions a type is normally given. None: any extension is fine (unknown types).
fn usual_extensions(mime: &str) -> Option<&'static [&'static str]> {
    Some(match mime {
        "image/jpeg" => &["jpg", "jpeg", "jpe", "jfif"],
        "image/png" => &["png"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "image/tiff" => &["tif", "tiff", "dng"],
        "image/bmp" => &["bmp", "dib"],
        "image/heif" | "image/heic" => &["heic", "heif"],
        "application/pdf" => &["pdf"],
        "message/rfc822" => &["eml", "msg", "mht", "txt"],
        "text/plain" => &[
            "txt", "text", "csv", "tsv", "md", "log", "json", "xml", "html", "htm", "srt", "vtt",
        ],
        "video/mp4" => &["mp4", "m4v", "3gp", "mov"],
        "video/3gpp" => &["3gp", "3gpp", "mp4"],
        "video/3gpp2" => &["3g2", "3gp2", "mp4"],
        "video/quicktime" => &["mov", "qt", "mp4"],
        "application/zip" => &["zip", "docx", "xlsx", "pptx", "odt", "apk", "jar"],
        _ => return None,
    })
}

/// A description of the mismatch when the name's extension does not fit the content.
pub fn extension_mismatch(name: &str, mime: &str) -> Option<String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    if ext.is_empty() || ext.len() > 8 {
        return None;
    }
    let usual = usual_extensions(mime)?;
    if usual.contains(&ext.as_str()) {
        return None;
    }
    Some(format!("named .{ext} but the content is {mime}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_by_magic() {
        let d = detect(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0]);
        assert_eq!(d.kind, Kind::Image);
        assert_eq!(d.mime, "image/jpeg");
    }

    #[test]
    fn email_and_text() {
        let mail = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\nDate: Mon, 1 Jan 2018 10:00:00 +0000\r\n\r\nbody";
        assert_eq!(detect(mail).kind, Kind::Email);
        assert_eq!(detect("شهادة\n".as_bytes()).kind, Kind::Text);
        assert_eq!(detect(&[0, 1, 2, 3, 0xfe]).kind, Kind::Other);
    }

    #[test]
    fn mismatch() {
        assert!(extension_mismatch("report.pdf", "image/jpeg").is_some());
        assert!(extension_mismatch("IMG_1.JPG", "image/jpeg").is_none());
        assert!(extension_mismatch("noext", "image/jpeg").is_none());
    }
}
