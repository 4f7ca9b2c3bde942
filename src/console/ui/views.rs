//! The view chooser popup.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::console::state::ViewMenu;
use crate::console::theme::Theme;
use crate::text::{sanitize, width};

pub fn render(m: &ViewMenu, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 44, m.views.len() as u16 + 2);
    f.render_widget(Clear, area);
    let block = Block::bordered().title(Span::styled(
        " views — Enter choose, Esc close ",
        theme.title(),
    ));
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
                Line::styled(text, theme.selected())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}
