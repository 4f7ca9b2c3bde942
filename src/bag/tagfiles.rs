//! Tag files: the bag declaration (`bagit.txt`), the encoding it declares for every other tag
//! file, `Label: value` fields (`bag-info.txt`) and `fetch.txt`.

use super::manifest::{bag_path, lines};
use super::{problem, Problem, BAGIT};

/// The versions read here: RFC 8493 (1.0) and the last draft before it (0.97), which the
/// Library of Congress tool still writes by default.
pub const VERSIONS: [&str; 2] = ["1.0", "0.97"];

/// What `bagit.txt` declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub version: String,
    pub encoding: Encoding,
}

/// The character encoding of the tag files other than `bagit.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// ISO-8859-1 exactly: each byte is the code point (not windows-1252).
    Latin1,
    /// UTF-16: the byte order from the BOM, big-endian without one (RFC 2781).
    Utf16,
    /// Another encoding the WHATWG Encoding Standard names (windows-1252, Shift_JIS...).
    Other(&'static encoding_rs::Encoding),
}

impl Encoding {
    pub fn from_label(label: &str) -> Option<Encoding> {
        let l = label.trim().to_ascii_lowercase();
        match l.as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" => {
                Some(Encoding::Latin1)
            }
            "utf-16" | "utf16" | "utf-16le" | "utf-16be" => Some(Encoding::Utf16),
            _ => encoding_rs::Encoding::for_label(l.as_bytes()).map(Encoding::Other),
        }
    }

    /// Decode a tag file, or say why it cannot be.
    pub fn decode(self, bytes: &[u8]) -> Result<String, String> {
        match self {
            Encoding::Utf8 => {
                let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
                String::from_utf8(b.to_vec()).map_err(|_| "not UTF-8 text".to_string())
            }
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
            Encoding::Utf16 => {
                let (enc, body) = match bytes {
                    [0xff, 0xfe, rest @ ..] => (encoding_rs::UTF_16LE, rest),
                    [0xfe, 0xff, rest @ ..] => (encoding_rs::UTF_16BE, rest),
                    _ => (encoding_rs::UTF_16BE, bytes),
                };
                enc.decode_without_bom_handling_and_without_replacement(body)
                    .map(|s| s.into_owned())
                    .ok_or_else(|| "not UTF-16 text".to_string())
            }
            Encoding::Other(enc) => enc
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|s| s.into_owned())
                .ok_or_else(|| format!("not {} text", enc.name())),
        }
    }
}

/// Parse `Label: value` lines; a line starting with blanks continues the previous value.
/// `Err(line number)` for a line that is neither.
pub fn parse_fields(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in lines(text) {
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(n),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(n);
        };
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// Check the bag declaration: UTF-8 without a BOM, exactly `BagIt-Version: M.N` then
/// `Tag-File-Character-Encoding: ENCODING` (RFC 8493 §2.1.1), a version read here and an
/// encoding known. Problems are pushed; the declaration is returned when it can be used.
pub fn declaration(bytes: &[u8], problems: &mut Vec<Problem>) -> Option<Declaration> {
    let before = problems.len();
    let body = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => {
            problems.push(problem(
                BAGIT,
                "starts with a byte-order mark (not allowed)",
            ));
            rest
        }
        None => bytes,
    };
    let Ok(text) = std::str::from_utf8(body) else {
        problems.push(problem(BAGIT, "not UTF-8 text"));
        return None;
    };
    let fields = match parse_fields(text) {
        Ok(f) => f,
        Err(n) => {
            problems.push(problem(BAGIT, format!("line {n}: not `Label: value`")));
            return None;
        }
    };
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    if names != ["BagIt-Version", "Tag-File-Character-Encoding"] {
        problems.push(problem(
            BAGIT,
            format!(
                "must be exactly `BagIt-Version` then `Tag-File-Character-Encoding`, found {}",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let version = field("BagIt-Version");
    match version {
        Some(v) if VERSIONS.contains(&v) => {}
        Some(v) => problems.push(problem(
            BAGIT,
            format!("BagIt-Version {v:?} is not read here (1.0 or 0.97)"),
        )),
        None => {}
    }
    let encoding = match field("Tag-File-Character-Encoding") {
        Some(label) => match Encoding::from_label(label) {
            Some(e) => Some(e),
            None => {
                problems.push(problem(
                    BAGIT,
                    format!("Tag-File-Character-Encoding {label:?} is not a known encoding"),
                ));
                None
            }
        },
        None => None,
    };
    if problems.len() > before {
        return None;
    }
    Some(Declaration {
        version: version?.to_string(),
        encoding: encoding?,
    })
}

/// One line of `fetch.txt`: where a payload file is to be fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub url: String,
    pub path: String,
}

/// Parse `fetch.txt`: `URL LENGTH FILEPATH` per line (LENGTH a number or `-`), paths under
/// `data/`.
pub fn parse_fetch(text: &str, problems: &mut Vec<Problem>) -> Vec<Fetch> {
    const FETCH: &str = "fetch.txt";
    let mut out = Vec::new();
    for (n, line) in lines(text) {
        let mut parts = line.splitn(3, [' ', '\t']);
        let (Some(url), Some(len), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
            problems.push(problem(FETCH, format!("line {n}: not `URL LENGTH PATH`")));
            continue;
        };
        if len != "-" && len.parse::<u64>().is_err() {
            problems.push(problem(
                FETCH,
                format!("line {n}: length {len:?} is not a number or -"),
            ));
            continue;
        }
        match bag_path(raw.trim_start_matches([' ', '\t'])) {
            Some(path) if path.starts_with("data/") => out.push(Fetch {
                url: url.to_string(),
                path,
            }),
            _ => problems.push(problem(
                FETCH,
                format!("line {n}: path {raw:?} is not under data/"),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations() {
        let mut p = Vec::new();
        let d = declaration(
            b"BagIt-Version: 0.97\nTag-File-Character-Encoding: ISO-8859-1\n",
            &mut p,
        );
        assert_eq!(p, []);
        assert_eq!(
            d,
            Some(Declaration {
                version: "0.97".into(),
                encoding: Encoding::Latin1
            })
        );
        for bad in [
            &b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"[..],
            b"BagIt-Version: 1.0\n",
            b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
            b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n",
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: klingon\n",
        ] {
            let mut p = Vec::new();
            assert_eq!(declaration(bad, &mut p), None);
            assert!(!p.is_empty());
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::Latin1.decode(b"caf\xe9").as_deref(), Ok("café"));
        let le = [0xff, 0xfe, b'h', 0, 0xe9, 0];
        assert_eq!(Encoding::Utf16.decode(&le).as_deref(), Ok("hé"));
        let be = [0xfe, 0xff, 0, b'h', 0, 0xe9];
        assert_eq!(Encoding::Utf16.decode(&be).as_deref(), Ok("hé"));
        assert!(Encoding::Utf8.decode(b"\xff").is_err());
        assert_eq!(Encoding::from_label("UTF-16"), Some(Encoding::Utf16));
    }
}
