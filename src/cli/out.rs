//! The CLI's standard output. Plain lines are sanitized as a whole (evidence text in them
//! cannot reach the terminal raw, whatever the command forgot), JSON has every character a
//! terminal could act on escaped, and a closed pipe (`triage show X | head -1`) never panics.
//!
//! A closed pipe does not change a command's status: once the reader has gone, output is
//! dropped, listings stop early ([`closed`]), and the command exits with the status it would
//! have had. `triage verify | head -1` still exits 1 on a broken case, and an ingest is never
//! cut short because its summary had no reader.

use std::fmt::Display;
use std::io::{BufWriter, StdoutLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

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

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output's reader has gone: long listings stop here.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

fn write(s: &str) {
    if closed() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{s}").and_then(|_| out.flush()) {
        failed(e);
    }
}

/// A reader that went away (`| head`) is not an error of ours: drop the rest quietly. Any
/// other failure to write (a full disk behind `>`) is reported once, on stderr, and fails
/// the command.
fn failed(e: std::io::Error) {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        err_line(&format!("triage: cannot write to standard output: {e}"));
        std::process::exit(1);
    }
}

/// One line on stderr; a closed stderr is ignored (`eprintln!` would panic on it).
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Text on stderr without a newline (progress redrawn in place).
pub fn err_text(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}").and_then(|_| err.flush());
}

/// Buffered output for long listings (one flush, not one per line), with the same edge.
pub struct Lines {
    out: BufWriter<StdoutLock<'static>>,
}

impl Default for Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl Lines {
    pub fn new() -> Self {
        Self {
            out: BufWriter::new(std::io::stdout().lock()),
        }
    }

    /// A line the caller has already made safe (sanitized fields or escaped JSON).
    pub fn safe_line(&mut self, s: &str) {
        if closed() {
            return;
        }
        if let Err(e) = writeln!(self.out, "{s}") {
            failed(e);
        }
    }

    /// One JSON value on one line.
    pub fn json(&mut self, v: &impl Serialize) -> anyhow::Result<()> {
        self.safe_line(&escape_json(&serde_json::to_string(v)?));
        Ok(())
    }

    pub fn finish(mut self) {
        if closed() {
            return;
        }
        if let Err(e) = self.out.flush() {
            failed(e);
        }
    }
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
