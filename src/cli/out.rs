//! The CLI's standard output. Plain lines are sanitized as a whole (evidence text in them
//! cannot reach the terminal raw, whatever the command forgot), JSON has every character a
//! terminal could act on escaped, and a closed pipe (`triage show X | head -1`) ends the
//! command quietly instead of panicking in `println!`.

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

use crate::text::Safe;

/// One line of plain output.
pub fn line(text: impl Display) {
    let safe = Safe::new(&text.to_string());
    write(safe.as_str());
}

/// Tab-separated fields, each sanitized (a tab inside a field becomes visible).
pub fn fields(parts: &[&str]) {
    let joined: Vec<Safe> = parts.iter().map(|p| Safe::new(p)).collect();
    let joined: Vec<&str> = joined.iter().map(|s| s.as_str()).collect();
    write(&joined.join("\t"));
}

/// One JSON value on one line.
pub fn json(v: &impl Serialize) -> anyhow::Result<()> {
    write(&escape_json(&serde_json::to_string(v)?));
    Ok(())
}

/// One JSON value, indented.
pub fn json_pretty(v: &impl Serialize) -> anyhow::Result<()> {
    write(&escape_json(&serde_json::to_string_pretty(v)?));
    Ok(())
}

fn write(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{s}").and_then(|_| out.flush()) {
        closed(e);
    }
}

/// A reader that went away (`| head`) is not an error of ours: stop quietly. Any other
/// failure to write is reported once, on stderr.
pub fn closed(e: std::io::Error) -> ! {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        eprintln!("triage: cannot write to standard output: {e}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

/// serde_json leaves C1 controls, bidi controls and format characters raw inside strings; a
/// terminal showing the JSON would act on them. `\uXXXX` is the same JSON value.
pub fn escape_json(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    // Only characters serde_json may emit raw; structure characters are all ASCII.
    (c as u32) >= 0x7f
        && Safe::new(c.encode_utf8(&mut [0; 4]))
            .as_str()
            .chars()
            .ne([c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_a_terminal_acts_on_and_stays_the_same_value() {
        let v = serde_json::json!({ "name": "a\u{9b}31m\u{202e}b\u{200d}c\u{e0041}ش" });
        let s = escape_json(&serde_json::to_string(&v).unwrap_or_default());
        assert!(s.is_ascii() || s.chars().all(|c| !needs_escape(c)));
        assert!(s.contains("\\u009b") && s.contains("\\u202e") && s.contains("\\udb40\\udc41"));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back, v);
    }
}
