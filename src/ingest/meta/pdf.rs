//! PDF: the document information dictionary, the page count and the text of the first pages,
//! with lopdf in the worker that already holds the parsed document. Poppler's pdftotext (run as
//! an isolated child, `crate::worker::tool`) reads the text when lopdf cannot: fonts without a
//! Unicode mapping, damaged content streams, or no text at all (it then confirms a scan).
//! pdftotext costs 15–20 ms a file, most of it loading poppler; lopdf a third of a millisecond.

use lopdf::{Document, Object};

use std::time::Duration;

use super::{Content, Metadata, PdfInfo};
use crate::worker::tool::{self, Failure};

/// Larger PDFs are not parsed at ingest: lopdf holds the whole document in memory.
const PARSE_LIMIT: u64 = 256 << 20;

/// Pages whose text is read at ingest (the details and the search index): enough to know
/// what the document is; the original holds the rest.
pub const TEXT_PAGES: u32 = 10;
/// Characters of text kept.
const TEXT_CHARS: usize = 64 * 1024;

pub fn extract(content: &Content, m: &mut Metadata) {
    let doc = info(content, m);
    let text = match doc.as_ref().map(own_text) {
        Some(Own::Text(t)) => Ok(t),
        // No page shows any text: a scan, certain without asking poppler.
        Some(Own::NoTextLayer) => Ok(String::new()),
        Some(Own::Unsure) | None => first_pages_text(content.stored),
    };
    match text {
        Ok(t) => {
            let p = m.pdf.get_or_insert_with(PdfInfo::default);
            if t.trim().is_empty() {
                p.scanned = true;
            } else {
                p.text = Some(t);
            }
        }
        Err(Failure::Missing) => m.warnings.push(NO_POPPLER.into()),
        Err(Failure::Failed(e)) => m.warnings.push(format!("PDF text: {e}")),
    }
}

/// What lopdf made of the first pages' text.
enum Own {
    Text(String),
    /// Their content streams hold no text-showing operator at all.
    NoTextLayer,
    /// It failed on a page, read nothing from text operators, or gave text that looks
    /// undecoded: pdftotext has its say.
    Unsure,
}

/// The text of the first pages as lopdf reads it, page breaks as blank lines.
fn own_text(doc: &Document) -> Own {
    let pages: Vec<(u32, lopdf::ObjectId)> = doc
        .get_pages()
        .into_iter()
        .take(TEXT_PAGES as usize)
        .collect();
    let mut shows_text = false;
    let mut text = String::new();
    for (number, id) in pages {
        let Ok(stream) = doc.get_page_content_with_limit(id, PAGE_CONTENT) else {
            return Own::Unsure;
        };
        let Ok(ops) = lopdf::content::Content::decode(&stream) else {
            return Own::Unsure;
        };
        if !ops
            .operations
            .iter()
            .any(|o| matches!(o.operator.as_str(), "Tj" | "TJ" | "'" | "\""))
        {
            continue;
        }
        shows_text = true;
        let Ok(t) = doc.extract_text_with_limit(&[number], PAGE_CONTENT) else {
            return Own::Unsure;
        };
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(t.trim_end());
        if text.len() >= TEXT_CHARS * 4 {
            break;
        }
    }
    if !shows_text {
        return Own::NoTextLayer;
    }
    let text: String = text.chars().take(TEXT_CHARS).collect();
    if looks_decoded(&text) {
        Own::Text(text)
    } else {
        Own::Unsure
    }
}

/// Decompressed content read from one page by lopdf.
const PAGE_CONTENT: usize = 16 << 20;

/// False for text with no letters or digits, or with replacement characters, control or
/// private-use characters in more than 1 % of it: the sign of a font lopdf could not map.
fn looks_decoded(text: &str) -> bool {
    let (mut total, mut odd, mut words) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if c.is_alphanumeric() {
            words += 1;
        }
        let private = ('\u{e000}'..='\u{f8ff}').contains(&c);
        if c == '\u{fffd}' || private || (c.is_control() && !c.is_whitespace()) {
            odd += 1;
        }
    }
    words > 0 && odd * 100 <= total
}

/// What a warning says when poppler-utils is not installed.
pub const NO_POPPLER: &str =
    "pdftotext not installed: no PDF text or page previews (apt-get install poppler-utils)";

fn first_pages_text(stored: &std::path::Path) -> Result<String, Failure> {
    let last = TEXT_PAGES.to_string();
    let fixed = ["-q", "-f", "1", "-l", &last, "-enc", "UTF-8"];
    let args: Vec<&std::ffi::OsStr> = fixed
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([stored.as_os_str(), std::ffi::OsStr::new("-")])
        .collect();
    let out = tool::run("pdftotext", &args, Duration::from_secs(20), TEXT_CHARS * 4)?;
    let text = String::from_utf8_lossy(&out);
    // Page breaks are form feeds; keep them as blank lines.
    let text: String = text
        .replace('\u{c}', "\n")
        .chars()
        .take(TEXT_CHARS)
        .collect();
    Ok(text.trim_end().to_string())
}

fn info(content: &Content, m: &mut Metadata) -> Option<Document> {
    let doc = if content.complete {
        Document::load_mem(content.bytes)
    } else {
        match std::fs::metadata(content.stored) {
            Ok(meta) if meta.len() > PARSE_LIMIT => {
                m.warnings.push(format!(
                    "PDF: {} MB, larger than the {} MB parsed at ingest; info not read",
                    meta.len() >> 20,
                    PARSE_LIMIT >> 20
                ));
                return None;
            }
            _ => Document::load(content.stored),
        }
    };
    let doc = match doc {
        Ok(d) => d,
        Err(e) => {
            m.warnings.push(format!("PDF: {e}"));
            return None;
        }
    };
    let mut info = PdfInfo {
        pages: u32::try_from(doc.get_pages().len()).ok(),
        ..PdfInfo::default()
    };
    if let Some(dict) = info_dict(&doc) {
        let text = |key: &[u8]| {
            dict.get(key)
                .ok()
                .and_then(|o| resolve(&doc, o))
                .and_then(|o| match o {
                    Object::String(bytes, _) => Some(decode_text_string(bytes)),
                    Object::Name(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                    _ => None,
                })
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        info.title = text(b"Title");
        info.author = text(b"Author");
        info.creator = text(b"Creator");
        info.producer = text(b"Producer");
        info.created = text(b"CreationDate").map(|d| pdf_date(&d).unwrap_or(d));
        info.modified = text(b"ModDate").map(|d| pdf_date(&d).unwrap_or(d));
    }
    m.pdf = Some(info);
    Some(doc)
}

fn resolve<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

fn info_dict(doc: &Document) -> Option<&lopdf::Dictionary> {
    let o = doc.trailer.get(b"Info").ok()?;
    resolve(doc, o)?.as_dict().ok()
}

/// PDF text strings are UTF-16BE with a BOM, UTF-8 with a BOM (PDF 2.0), or PDFDocEncoding,
/// which matches Latin-1 for the printable range.
fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

/// `D:20130821024500+03'00'` → `2013-08-21T02:45:00+03:00`. Partial dates keep what they have.
fn pdf_date(s: &str) -> Option<String> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let part = |a: usize, b: usize, default: &str| digits.get(a..b).unwrap_or(default).to_string();
    let mut out = format!(
        "{}-{}-{}T{}:{}:{}",
        part(0, 4, "0000"),
        part(4, 6, "01"),
        part(6, 8, "01"),
        part(8, 10, "00"),
        part(10, 12, "00"),
        part(12, 14, "00")
    );
    let rest = &s[digits.len()..];
    match rest.chars().next() {
        Some('Z') => out.push('Z'),
        Some(sign @ ('+' | '-')) => {
            let tz: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            if tz.len() >= 2 {
                let mm = tz.get(2..4).unwrap_or("00");
                out.push_str(&format!("{sign}{}:{mm}", &tz[..2]));
            }
        }
        _ => {}
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            pdf_date("D:20130821024500+03'00'").as_deref(),
            Some("2013-08-21T02:45:00+03:00")
        );
        assert_eq!(
            pdf_date("D:20130821").as_deref(),
            Some("2013-08-21T00:00:00")
        );
        assert_eq!(
            pdf_date("D:2013082102Z").as_deref(),
            Some("2013-08-21T02:00:00Z")
        );
    }

    #[test]
    fn undecoded_text_is_left_to_pdftotext() {
        assert!(looks_decoded("Place: Deir ez-Zor\n\nمكان الحادث"));
        assert!(!looks_decoded("   \n "));
        assert!(!looks_decoded("\u{fffd}\u{fffd}ab\u{fffd}"));
        assert!(!looks_decoded("\u{1}\u{2}\u{3}x"));
    }

    #[test]
    fn utf16_titles() {
        let mut b = vec![0xfe, 0xff];
        for u in "تقرير".encode_utf16() {
            b.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode_text_string(&b), "تقرير");
    }
}
