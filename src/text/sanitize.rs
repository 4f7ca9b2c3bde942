//! Neutralise control characters, escape sequences and bidi controls in evidence text, so that
//! nothing an item holds can move the cursor, change colours, set the title or reorder the line.
//! Each is replaced by a visible stand-in: `␛` for ESC, `␀`..`␟` for C0, `⟨RLO⟩` for bidi.

/// One line of text: newlines and tabs become visible too.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_safe(&mut out, c, false);
    }
    out
}

/// Several lines: newlines split lines (CR LF and CR too), tabs become spaces.
pub fn sanitize_multiline(s: &str) -> Vec<String> {
    s.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let mut out = String::with_capacity(line.len());
            for c in line.chars() {
                push_safe(&mut out, c, true);
            }
            out
        })
        .collect()
}

fn push_safe(out: &mut String, c: char, tabs_as_spaces: bool) {
    match c {
        '\t' if tabs_as_spaces => out.push_str("    "),
        '\u{1b}' => out.push('␛'),
        '\u{7f}' => out.push('␡'),
        // C0 controls have visible pictures at U+2400 + code.
        '\0'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
        // C1 controls (CSI, OSC, ST as single code points in 8-bit terminals).
        '\u{80}'..='\u{9f}' => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
        _ => match bidi_name(c) {
            Some(name) => {
                out.push('⟨');
                out.push_str(name);
                out.push('⟩');
            }
            None => out.push(c),
        },
    }
}

/// Explicit bidi formatting characters: embeddings, overrides, isolates and marks.
fn bidi_name(c: char) -> Option<&'static str> {
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
        // Line and paragraph separators would break a row like a newline.
        '\u{2028}' => "LS",
        '\u{2029}' => "PS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        let s = sanitize("a\u{1b}]0;pwned\u{7}b\u{1b}[2J");
        assert_eq!(s, "a␛]0;pwned␇b␛[2J");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn bidi_overrides_are_named() {
        assert_eq!(sanitize("invoice\u{202e}fdp.exe"), "invoice⟨RLO⟩fdp.exe");
        assert_eq!(sanitize("\u{2067}x\u{2069}"), "⟨RLI⟩x⟨PDI⟩");
    }

    #[test]
    fn c1_and_newlines() {
        assert_eq!(sanitize("a\u{9b}31m"), "a⟨U+009B⟩31m");
        assert_eq!(sanitize("a\nb"), "a␊b");
        assert_eq!(sanitize_multiline("a\r\nb\tc"), vec!["a", "b    c"]);
    }

    #[test]
    fn arabic_passes_unchanged() {
        assert_eq!(sanitize("شهادة الشاهد"), "شهادة الشاهد");
    }
}
