//! A backend wrapper that sends fewer bytes: ratatui sends only changed cells, but jumps the
//! cursor over every unchanged run, and a jump costs 6-8 bytes. When the unchanged gap between
//! two changed cells on a row is shorter than a jump and has the same style, the gap's cells
//! (which are already on the screen) are sent again instead — as curses does. A shadow copy of
//! the screen says what those cells hold.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::{Position, Rect, Size};
use unicode_width::UnicodeWidthStr;

/// Longest gap re-sent rather than jumped over (a jump `ESC[rr;cccH` is 6-9 bytes).
const MAX_GAP: u16 = 6;

pub struct Frugal<B> {
    inner: B,
    shadow: Buffer,
    /// Cells sent since `take_sent` was last asked: none means the frame changed nothing.
    sent: usize,
}

impl<B: Backend> Frugal<B> {
    pub fn new(inner: B) -> Frugal<B> {
        let size = inner.size().unwrap_or(Size::new(0, 0));
        Frugal {
            inner,
            shadow: Buffer::empty(Rect::new(0, 0, size.width, size.height)),
            sent: 0,
        }
    }

    /// How many cells were sent since the last call.
    pub fn take_sent(&mut self) -> usize {
        std::mem::take(&mut self.sent)
    }

    pub fn inner_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Cells covered by a picture sent outside the buffer (sixel, kitty): what is on screen
    /// there is not text, so it is never re-sent to fill a gap.
    pub fn protect(&mut self, area: Rect) {
        let area = area.intersection(self.shadow.area);
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                self.shadow[(x, y)].set_diff_option(CellDiffOption::Skip);
            }
        }
    }

    fn fits_shadow(&self, x: u16, y: u16) -> bool {
        x < self.shadow.area.width && y < self.shadow.area.height
    }

    /// Can the shadow cells `from..to` on row `y` be re-sent in place of a jump?
    fn gap_is_plain(&self, y: u16, from: u16, to: u16, style: ratatui::style::Style) -> bool {
        (from..to).all(|gx| {
            self.fits_shadow(gx, y) && {
                let c = &self.shadow[(gx, y)];
                c.diff_option == CellDiffOption::None
                    && c.symbol().width() == 1
                    && c.style() == style
            }
        })
    }
}

impl<B: Backend> Backend for Frugal<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut out: Vec<(u16, u16, Cell)> = Vec::new();
        // (row, first column after the last sent cell, its style)
        let mut last: Option<(u16, u16, ratatui::style::Style)> = None;
        for (x, y, cell) in content {
            if let Some((ly, end, style)) = last {
                if ly == y && x > end && x - end <= MAX_GAP && self.gap_is_plain(y, end, x, style) {
                    for gx in end..x {
                        out.push((gx, y, self.shadow[(gx, y)].clone()));
                    }
                }
            }
            let w = (cell.symbol().width() as u16).max(1);
            if self.fits_shadow(x, y) {
                self.shadow[(x, y)] = cell.clone();
            }
            last = Some((y, x + w, cell.style()));
            out.push((x, y, cell.clone()));
        }
        self.sent += out.len();
        self.inner.draw(out.iter().map(|(x, y, c)| (*x, *y, c)))
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        // The screen is blank now, and may have a new size.
        let size = self.inner.size()?;
        self.sent += 1; // the blank screen itself is a change
        self.shadow = Buffer::empty(Rect::new(0, 0, size.width, size.height));
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        if clear_type == ClearType::All {
            return self.clear();
        }
        // A partial clear leaves the shadow unknown: never re-send from it until a full clear.
        self.shadow = Buffer::empty(Rect::new(0, 0, 0, 0));
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the test draws plain widgets to measure the diff
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::Paragraph;
    use ratatui::Terminal;

    #[test]
    fn the_screen_is_the_same_with_gaps_filled() {
        let mut t = Terminal::new(Frugal::new(TestBackend::new(30, 3))).unwrap();
        t.draw(|f| {
            f.render_widget(
                Paragraph::new("DOC-2012-008 Aleppo.pdf\nشهادة 日本"),
                f.area(),
            )
        })
        .unwrap();
        t.draw(|f| {
            f.render_widget(
                Paragraph::new("DOC-2013-009 Aleppo.pdf\nشهادة 日本"),
                f.area(),
            )
        })
        .unwrap();
        let screen = t.backend_mut().inner_mut().buffer().clone();
        let mut expect = Terminal::new(TestBackend::new(30, 3)).unwrap();
        expect
            .draw(|f| {
                f.render_widget(
                    Paragraph::new("DOC-2013-009 Aleppo.pdf\nشهادة 日本"),
                    f.area(),
                )
            })
            .unwrap();
        assert_eq!(&screen, expect.backend().buffer());
    }

    #[test]
    fn a_frame_that_changes_nothing_sends_no_cell() {
        let mut t = Terminal::new(Frugal::new(TestBackend::new(30, 3))).unwrap();
        let draw = |t: &mut Terminal<Frugal<TestBackend>>, text: &'static str| {
            t.draw(|f| f.render_widget(Paragraph::new(text), f.area()))
                .unwrap();
            t.backend_mut().take_sent()
        };
        assert!(draw(&mut t, "451 untriaged") > 0);
        assert_eq!(draw(&mut t, "451 untriaged"), 0);
        assert_eq!(draw(&mut t, "775 untriaged"), 3); // 4, 5, 1 -> 7, 7, 5
    }
}
