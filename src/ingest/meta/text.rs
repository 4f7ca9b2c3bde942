//! Plain text: detect the encoding (Arabic statements are often Windows-1256) and keep a decoded
//! excerpt.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use super::{Metadata, TextInfo};

/// Enough to read a statement in full in the details pane (and to find it by its words).
const EXCERPT_CHARS: usize = 32 * 1024;

pub fn extract(bytes: &[u8], m: &mut Metadata) {
    let (encoding, bom_len) = match Encoding::for_bom(bytes) {
        Some((enc, len)) => (enc, len),
        None => (guess(bytes), 0),
    };
    let body = &bytes[bom_len..];
    // Decode only a bounded prefix; the excerpt needs no more.
    let prefix = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let (decoded, _) = encoding.decode_without_bom_handling(prefix);
    let excerpt: String = decoded.chars().take(EXCERPT_CHARS).collect();
    let lines = if encoding == UTF_16LE {
        body.chunks_exact(2).filter(|c| c == &[b'\n', 0]).count() as u64
    } else if encoding == UTF_16BE {
        body.chunks_exact(2).filter(|c| c == &[0, b'\n']).count() as u64
    } else {
        body.iter().filter(|&&b| b == b'\n').count() as u64
    };
    // A chat export's log is text: its attachments are read from all of it.
    m.chat_log = if prefix.len() == body.len() {
        super::chat::read(&decoded)
    } else {
        super::chat::read(&encoding.decode_without_bom_handling(body).0)
    };
    m.text = Some(TextInfo {
        encoding: encoding.name().to_string(),
        bom: bom_len > 0,
        lines,
        excerpt,
    });
}

fn guess(bytes: &[u8]) -> &'static Encoding {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if std::str::from_utf8(sample).is_ok()
        || std::str::from_utf8(sample)
            .err()
            .map(|e| e.error_len().is_none())
            == Some(true)
    {
        return UTF_8;
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(sample, sample.len() == bytes.len());
    det.guess(None, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1256_arabic() {
        let text = "أفاد الشاهد بأن القصف بدأ في الساعة الثانية فجراً وأن المستشفى أصيب مباشرة.\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(text);
        let mut m = Metadata::default();
        extract(&bytes, &mut m);
        let t = m.text.unwrap();
        assert_eq!(t.encoding, "windows-1256");
        assert_eq!(t.excerpt, text);
    }

    #[test]
    fn utf8_with_bom() {
        let mut m = Metadata::default();
        extract("\u{feff}hello\r\n".as_bytes(), &mut m);
        let t = m.text.unwrap();
        assert_eq!(t.encoding, "UTF-8");
        assert!(t.bom);
        assert_eq!(t.excerpt, "hello\r\n");
    }
}
