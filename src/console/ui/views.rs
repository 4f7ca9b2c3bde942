//! The view chooser popup.

use super::text::{line, paragraph, styled};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use crate::console::state::ViewMenu;
use crate::console::theme::Theme;
use crate::text::{sanitize, width};

pub fn render(m: &ViewMenu, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 44, m.views.len() as u16 + 2);
    f.render_widget(Clear, area);
    let block = Block::bordered().title(styled(" views — Enter choose, Esc close ", theme.title()));
    let w = block.inner(area).width as usize;
    let lines: Vec<Line> = m
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = if i < 9 {
                format!("{}", i + 1)
            } else {
                " ".into()
            };
            let text = width::fit(&format!("{key} {}", sanitize(&v.label())), w);
            if i == m.cursor {
                line(text, theme.selected())
            } else {
                line(text, Style::default())
            }
        })
        .collect();
    f.render_widget(paragraph(lines).block(block), area);
}
