//! `?`: every binding with its action, from the keymap in force.

use super::text::{line, paragraph, span, styled};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use crate::console::action::{Context, ACTIONS};
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
    for context in Context::ALL {
        if context != Context::Queue {
            lines.push(Line::default());
            lines.push(line(width::truncate(context.title(), w), theme.title()));
        }
        for spec in ACTIONS.iter().filter(|s| s.context == context) {
            let keys = keymap.keys_for(spec.action);
            let keys = if keys.is_empty() {
                "(unbound)".to_string()
            } else {
                keys
            };
            lines.push(Line::from(vec![
                styled(width::fit(&keys, 14), theme.heading()),
                styled(width::fit(spec.name, 22), theme.label()),
                span(width::truncate(spec.help, w.saturating_sub(36))),
            ]));
        }
    }
    lines.push(Line::default());
    for text in [
        "Pickers filter by English, Arabic, alias or legal reference.",
        "Filter (/): words, \"phrases\", status: source: crime: party: flag:",
        "  type: by: captured: received:, -negation, OR, ( ).",
        "With marked items (v), tags apply to all of them in one change.",
        "Keymap: ~/.config/triage/keymap.toml, [keys] action = [\"key\", ...];",
        "  every name above can be bound, in its own context.",
    ] {
        lines.push(line(width::truncate(text, w), theme.dim()));
    }
    f.render_widget(paragraph(lines).block(block).scroll((scroll, 0)), area);
}
