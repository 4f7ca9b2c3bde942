//! `?`: every binding with its action, from the keymap in force.

use super::text::{line, paragraph, span, styled};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use crate::console::action::Action;
use crate::console::keymap::Keymap;
use crate::console::theme::Theme;
use crate::text::width;

pub fn render(keymap: &Keymap, scroll: u16, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 78, 40);
    f.render_widget(Clear, area);
    let block = Block::bordered().title(styled(
        " keys — j/k scroll, any other key closes ",
        theme.title(),
    ));
    let w = block.inner(area).width as usize;
    let mut lines = Vec::new();
    for (action, name, desc) in Action::all() {
        let keys = keymap.keys_for(action);
        let keys = if keys.is_empty() {
            "(unbound)".to_string()
        } else {
            keys
        };
        lines.push(Line::from(vec![
            styled(width::fit(&keys, 14), theme.heading()),
            styled(width::fit(name, 16), theme.label()),
            span(width::truncate(desc, w.saturating_sub(30))),
        ]));
    }
    lines.push(Line::default());
    for text in [
        "In a picker: type to filter (English, Arabic, alias, legal reference);",
        "  Up/Down move, Space toggles, Enter applies, Esc cancels;",
        "  with an empty filter, 1-9 apply a recent term at once.",
        "Filter (/): words, \"phrases\", status: source: crime: party: flag:",
        "  type: by: captured: received:, -negation, OR, ( ).",
        "With marked items (v), tags apply to all of them in one change.",
        "Keymap: ~/.config/triage/keymap.toml, [keys] action = [\"key\", ...].",
    ] {
        lines.push(line(width::truncate(text, w), theme.dim()));
    }
    f.render_widget(paragraph(lines).block(block).scroll((scroll, 0)), area);
}
