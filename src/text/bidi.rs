//! Right-to-left text in a terminal. Most terminals lay out cells left to right and do no bidi
//! reordering, so a line holding Arabic is reordered here into visual order (Unicode bidi
//! algorithm) and aligned to the right of its box.

use unicode_bidi::BidiInfo;

/// Does the text hold any strong right-to-left character?
pub fn has_rtl(s: &str) -> bool {
    s.chars().any(is_rtl_char)
}

fn is_rtl_char(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

/// Is the paragraph's base direction right-to-left (first strong character is RTL)?
pub fn is_rtl_paragraph(s: &str) -> bool {
    let info = BidiInfo::new(s, None);
    info.paragraphs
        .first()
        .map(|p| p.level.is_rtl())
        .unwrap_or(false)
}

/// The line in visual (left-to-right cell) order. Text without RTL characters is returned as is.
pub fn visual(s: &str) -> String {
    if !has_rtl(s) {
        return s.to_string();
    }
    let info = BidiInfo::new(s, None);
    let mut out = String::with_capacity(s.len());
    for para in &info.paragraphs {
        let line = para.range.clone();
        out.push_str(&info.reorder_line(para, line));
    }
    out
}

/// The line in visual order with the paragraph level it was laid out at.
pub fn visual_with_direction(s: &str) -> (String, bool) {
    if !has_rtl(s) {
        return (s.to_string(), false);
    }
    let info = BidiInfo::new(s, None);
    let rtl = info
        .paragraphs
        .first()
        .map(|p| p.level.is_rtl())
        .unwrap_or(false);
    (visual(s), rtl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_is_untouched() {
        assert_eq!(visual("hello world"), "hello world");
        assert!(!is_rtl_paragraph("hello"));
    }

    #[test]
    fn arabic_is_reversed_into_visual_order() {
        // "ab" in Arabic letters: alef then beh; visually beh is left of alef.
        let v = visual("اب");
        assert_eq!(v, "با");
        assert!(is_rtl_paragraph("اب test"));
    }
}
