//! Fitting text into terminal cells by display width (Arabic, CJK and emoji included).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cut `s` to at most `max` cells, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Exactly `cells` wide: cut, then padded with spaces.
pub fn fit(s: &str, cells: usize) -> String {
    let mut t = truncate(s, cells);
    let w = width(&t);
    t.extend(std::iter::repeat_n(' ', cells.saturating_sub(w)));
    t
}

/// Break `s` into lines of at most `cells` cells, at spaces where possible.
pub fn wrap(s: &str, cells: usize) -> Vec<String> {
    if cells == 0 {
        return vec![];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0;
    for word in s.split_inclusive(' ') {
        let ww = width(word);
        // The trailing space may hang past the edge.
        if w + width(word.trim_end()) > cells && !line.is_empty() {
            lines.push(line.trim_end().to_string());
            line.clear();
            w = 0;
        }
        if width(word.trim_end()) > cells {
            // A word longer than the line: break it by characters.
            for c in word.chars() {
                let cw = UnicodeWidthChar::width(c).unwrap_or(0);
                if w + cw > cells {
                    lines.push(std::mem::take(&mut line));
                    w = 0;
                }
                line.push(c);
                w += cw;
            }
        } else {
            line.push_str(word);
            w += ww;
        }
    }
    if !line.trim_end().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters() {
        assert_eq!(width("日本"), 4);
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(width(&fit("日本語テキスト", 6)), 6);
        assert_eq!(fit("ab", 4), "ab  ");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }
}
