//! The only road from text to the screen: every span, line and paragraph is made here from
//! [`Safe`] text, so nothing reaches the terminal unsanitized. `clippy.toml` disallows
//! ratatui's raw constructors everywhere else; `From<&str>`/`From<String>` for `Safe`
//! sanitize, so program text passes through the same (idempotent) door at no risk.
#![allow(clippy::disallowed_methods)]

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::console::theme::Theme;

use crate::text::Safe;

pub fn span(s: impl Into<Safe>) -> Span<'static> {
    Span::raw(s.into().into_string())
}

pub fn styled(s: impl Into<Safe>, style: Style) -> Span<'static> {
    Span::styled(s.into().into_string(), style)
}

/// One line of one style.
pub fn line(s: impl Into<Safe>, style: Style) -> Line<'static> {
    Line::styled(s.into().into_string(), style)
}

/// A paragraph of lines already made of safe spans (one line, or several).
pub fn paragraph(lines: impl Into<Lines>) -> Paragraph<'static> {
    Paragraph::new(lines.into().0)
}

/// Lines for a paragraph: only ones made by this module's functions, never a bare string.
pub struct Lines(Vec<Line<'static>>);

impl From<Line<'static>> for Lines {
    fn from(l: Line<'static>) -> Lines {
        Lines(vec![l])
    }
}

impl From<Vec<Line<'static>>> for Lines {
    fn from(v: Vec<Line<'static>>) -> Lines {
        Lines(v)
    }
}

/// A bordered section with its title, highlighted when it has the focus.
pub fn section_block(title: String, focused: bool, theme: &Theme) -> Block<'static> {
    let style = if focused {
        theme.heading()
    } else {
        theme.title()
    };
    Block::bordered().title(styled(title, style))
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
