//! Neutralise control characters, escape sequences, bidi controls and invisible format
//! characters in evidence text, so that nothing an item holds can move the cursor, change
//! colours, set the title, reorder the line or make two different names look the same.
//! Each is replaced by a visible stand-in: `␛` for ESC, `␀`..`␟` for C0, `⟨RLO⟩` for bidi,
//! `⟨ZWJ⟩` for format characters.
//!
//! The result is a [`Safe`]: the only type the console's spans and the CLI's plain output
//! accept, and it can only be made by sanitizing.

use std::fmt;
use std::ops::Deref;

/// Text that is safe to put on a terminal. The field is private: the only way in is through
/// sanitizing, which is idempotent, so sanitizing text twice is harmless.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Safe(String);

impl Safe {
    pub fn new(s: &str) -> Safe {
        sanitize(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as a plain string, to compose with (width fitting, joining). What comes out
    /// holds no control or format character, so it may be wrapped in a `Safe` again for free.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Safe {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Safe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Safe {
    fn from(s: &str) -> Safe {
        sanitize(s)
    }
}

impl From<String> for Safe {
    fn from(s: String) -> Safe {
        sanitize(&s)
    }
}

impl From<&String> for Safe {
    fn from(s: &String) -> Safe {
        sanitize(s)
    }
}

impl From<&Safe> for Safe {
    fn from(s: &Safe) -> Safe {
        s.clone()
    }
}

/// One line of text: newlines and tabs become visible too.
pub fn sanitize(s: &str) -> Safe {
    let mut out = String::with_capacity(s.len());
    push_line(&mut out, s, false);
    Safe(out)
}

/// Several lines: newlines split lines (CR LF and CR too), tabs become spaces.
pub fn sanitize_multiline(s: &str) -> Vec<Safe> {
    s.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let mut out = String::with_capacity(line.len());
            push_line(&mut out, line, true);
            Safe(out)
        })
        .collect()
}

fn push_line(out: &mut String, s: &str, tabs_as_spaces: bool) {
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        push_safe(out, c, tabs_as_spaces, prev, next);
        prev = Some(c);
    }
}

fn push_safe(
    out: &mut String,
    c: char,
    tabs_as_spaces: bool,
    prev: Option<char>,
    next: Option<char>,
) {
    match c {
        '\t' if tabs_as_spaces => out.push_str("    "),
        '\u{1b}' => out.push('␛'),
        '\u{7f}' => out.push('␡'),
        // C0 controls have visible pictures at U+2400 + code.
        '\0'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
        // C1 controls (CSI, OSC, ST as single code points in 8-bit terminals).
        '\u{80}'..='\u{9f}' => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
        // Shaping needs the joiners between Arabic-script letters (Persian half-spaces, ligature
        // control): there they change how letters join, not whether a name looks empty.
        '\u{200c}' | '\u{200d}' if joins_arabic(prev) && joins_arabic(next) => out.push(c),
        _ => match format_name(c) {
            Some(name) => {
                out.push('⟨');
                out.push_str(name);
                out.push('⟩');
            }
            None if is_format(c) => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
            None => out.push(c),
        },
    }
}

fn joins_arabic(c: Option<char>) -> bool {
    c.is_some_and(|c| {
        matches!(c as u32,
            0x0620..=0x064A | 0x066E..=0x06D3 | 0x06D5 | 0x06EE..=0x06FF | 0x0750..=0x077F
            | 0x08A0..=0x08C9 | 0xFB50..=0xFDFF | 0xFE70..=0xFEFC)
    })
}

/// Named stand-ins for the bidi controls and the format characters names most often carry.
fn format_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202a}' => "LRE",
        '\u{202b}' => "RLE",
        '\u{202c}' => "PDF",
        '\u{202d}' => "LRO",
        '\u{202e}' => "RLO",
        '\u{2066}' => "LRI",
        '\u{2067}' => "RLI",
        '\u{2068}' => "FSI",
        '\u{2069}' => "PDI",
        '\u{200e}' => "LRM",
        '\u{200f}' => "RLM",
        '\u{061c}' => "ALM",
        '\u{200b}' => "ZWSP",
        '\u{200c}' => "ZWNJ",
        '\u{200d}' => "ZWJ",
        '\u{2060}' => "WJ",
        '\u{feff}' => "BOM",
        '\u{00ad}' => "SHY",
        // Line and paragraph separators would break a row like a newline.
        '\u{2028}' => "LS",
        '\u{2029}' => "PS",
        _ => return None,
    })
}

/// Unicode general category Cf (format characters): invisible, yet they change a name.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        let s = sanitize("a\u{1b}]0;pwned\u{7}b\u{1b}[2J");
        assert_eq!(s.as_str(), "a␛]0;pwned␇b␛[2J");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn bidi_overrides_are_named() {
        assert_eq!(
            sanitize("invoice\u{202e}fdp.exe").as_str(),
            "invoice⟨RLO⟩fdp.exe"
        );
        assert_eq!(sanitize("\u{2067}x\u{2069}").as_str(), "⟨RLI⟩x⟨PDI⟩");
    }

    #[test]
    fn c1_and_newlines() {
        assert_eq!(sanitize("a\u{9b}31m").as_str(), "a⟨U+009B⟩31m");
        assert_eq!(sanitize("a\nb").as_str(), "a␊b");
        let lines: Vec<String> = sanitize_multiline("a\r\nb\tc")
            .into_iter()
            .map(Safe::into_string)
            .collect();
        assert_eq!(lines, vec!["a", "b    c"]);
    }

    #[test]
    fn arabic_passes_unchanged() {
        assert_eq!(sanitize("شهادة الشاهد").as_str(), "شهادة الشاهد");
    }

    #[test]
    fn format_characters_in_names_are_visible() {
        // Two names that look identical without this.
        assert_eq!(sanitize("IMG\u{200d}_1.jpg").as_str(), "IMG⟨ZWJ⟩_1.jpg");
        assert_eq!(sanitize("IMG_\u{2060}1.jpg").as_str(), "IMG_⟨WJ⟩1.jpg");
        assert_eq!(sanitize("\u{feff}IMG_1.jpg").as_str(), "⟨BOM⟩IMG_1.jpg");
        assert_eq!(sanitize("a\u{2063}b").as_str(), "a⟨U+2063⟩b");
        assert_eq!(sanitize("a\u{e0041}b").as_str(), "a⟨U+E0041⟩b");
        // A joiner at the edge of Arabic, or between Latin letters, is shown.
        assert_eq!(sanitize("ب\u{200d}").as_str(), "ب⟨ZWJ⟩");
        assert_eq!(sanitize("a\u{200c}b").as_str(), "a⟨ZWNJ⟩b");
    }

    #[test]
    fn joiners_between_arabic_letters_stay_for_shaping() {
        // Persian: می‌خواهم keeps its half-space (ZWNJ) between م/ی and خ.
        let persian = "می\u{200c}خواهم";
        assert_eq!(sanitize(persian).as_str(), persian);
        let zwj = "ل\u{200d}ا";
        assert_eq!(sanitize(zwj).as_str(), zwj);
    }

    #[test]
    fn sanitizing_twice_changes_nothing() {
        for s in [
            "a\u{1b}[2J",
            "x\u{202e}y",
            "IMG\u{200d}1",
            "a\u{9b}b",
            "t\tu\nv",
        ] {
            let once = sanitize(s);
            assert_eq!(sanitize(&once), once);
        }
    }
}
