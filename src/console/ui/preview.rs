//! The preview pane: an image in half-block cells (two pixels per cell), a neutral placeholder
//! for gated sensitive material, or a message.

use super::text::{line, paragraph, styled};
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget, Wrap};
use ratatui::Frame;

use crate::console::preview::Shown;
use crate::console::state::State;
use crate::console::theme::Theme;
use crate::preview::budget::{ansi16_index, cube_index, luma};
use crate::preview::{Depth, Picture};

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::bordered().title(styled(title(state), theme.dim()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    match &state.preview.shown {
        Shown::Picture { picture, .. } if picture.graphic.is_some() => {
            f.render_widget(Covered(picture_area(picture, inner)), inner)
        }
        Shown::Picture { picture, .. } => f.render_widget(Halfblocks(picture), inner),
        Shown::Gated(_, reasons) => {
            let lines = vec![
                Line::default(),
                line("  Sensitive image withheld", theme.warn()),
                line(format!("  {}", reasons.join(", ")), Style::default()),
                Line::default(),
                line(
                    "  R to reveal it (asks first; the reveal is recorded)",
                    theme.dim(),
                ),
            ];
            f.render_widget(paragraph(lines).wrap(Wrap { trim: false }), inner);
        }
        Shown::Loading(_) => f.render_widget(paragraph(line("  loading…", theme.dim())), inner),
        Shown::Message(_, m) => f.render_widget(
            paragraph(line(format!("  {}", crate::text::sanitize(m)), theme.dim()))
                .wrap(Wrap { trim: false }),
            inner,
        ),
        Shown::Nothing => {}
    }
}

/// The pane's title: what the picture is (a contact sheet's frames carry their own times),
/// after the item's flags, which are read before the picture is seen.
fn title(state: &State) -> String {
    let shown = matches!(state.preview.shown, Shown::Picture { .. });
    let what = match state.detail.as_ref() {
        Some(d) if shown && d.row.kind == "video" => "keyframes",
        Some(d) if shown && d.row.kind == "pdf" => "page 1",
        _ => "preview",
    };
    let flags = state
        .detail
        .as_ref()
        .map(|d| super::details::flag_labels(state, d))
        .unwrap_or_default();
    if flags.is_empty() {
        format!(" {what} ")
    } else {
        format!(" {} · {what} ", flags.join(", "))
    }
}

/// How many rows the preview pane takes in a details pane of this height.
pub fn height(details_height: u16) -> u16 {
    (details_height / 2)
        .clamp(6, 22)
        .min(details_height.saturating_sub(6))
}

/// The cells a picture covers, from the top-left of the pane's inside.
pub fn picture_area(pic: &Picture, inner: Rect) -> Rect {
    Rect::new(inner.x, inner.y, pic.width, pic.height / 2).intersection(inner)
}

/// Cells under a sixel or kitty picture: left alone by the diff, so text never overwrites
/// the picture and the picture is not sent again while nothing covers it.
struct Covered(Rect);

impl Widget for Covered {
    fn render(self, _area: Rect, buf: &mut Buffer) {
        for y in self.0.top()..self.0.bottom() {
            for x in self.0.left()..self.0.right() {
                buf[(x, y)].set_diff_option(CellDiffOption::Skip);
            }
        }
    }
}

struct Halfblocks<'a>(&'a Picture);

impl Widget for Halfblocks<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let p = self.0;
        let (w, rows) = (p.width.min(area.width), (p.height / 2).min(area.height));
        for row in 0..rows {
            for x in 0..w {
                let top = p.pixels[(2 * row as usize) * p.width as usize + x as usize];
                let bottom = p.pixels[(2 * row as usize + 1) * p.width as usize + x as usize];
                let cell = &mut buf[(area.x + x, area.y + row)];
                if p.depth == Depth::Mono {
                    let l = ((luma(top) as u16 + luma(bottom) as u16) / 2) as u8;
                    cell.set_symbol(match l {
                        0..=40 => " ",
                        41..=100 => "░",
                        101..=160 => "▒",
                        161..=220 => "▓",
                        _ => "█",
                    });
                } else {
                    cell.set_symbol("▀").set_style(
                        Style::default()
                            .fg(color(top, p.depth))
                            .bg(color(bottom, p.depth)),
                    );
                }
            }
        }
    }
}

fn color(c: [u8; 3], depth: Depth) -> Color {
    match depth {
        Depth::True => Color::Rgb(c[0], c[1], c[2]),
        Depth::Ansi256 => Color::Indexed(
            16 + 36 * cube_index(c[0]) as u8 + 6 * cube_index(c[1]) as u8 + cube_index(c[2]) as u8,
        ),
        Depth::Ansi16 => Color::Indexed(ansi16_index(c)),
        Depth::Mono => Color::Reset,
    }
}
