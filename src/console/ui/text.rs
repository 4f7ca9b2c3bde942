//! The only road from text to the screen: every span, line and paragraph is made here from
//! [`Safe`] text, so nothing reaches the terminal unsanitized. `clippy.toml` disallows
//! ratatui's raw constructors everywhere else; `From<&str>`/`From<String>` for `Safe`
//! sanitize, so program text passes through the same (idempotent) door at no risk.
#![allow(clippy::disallowed_methods)]

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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
