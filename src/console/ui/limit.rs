//! The question at a limit on graphic material, in plain words, over the queue.

use super::text::{line, paragraph, styled};
use ratatui::style::Style;
use ratatui::widgets::{Block, Clear, Wrap};
use ratatui::Frame;

use crate::console::state::State;
use crate::console::theme::Theme;
use crate::store::wellbeing::Rule;

pub fn render(state: &State, rule: Rule, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 60, 9);
    f.render_widget(Clear, area);
    let title = match rule {
        Rule::PerDay => " daily limit reached ",
        Rule::InARow => " a pause? ",
    };
    let block = Block::bordered().title(styled(title, theme.title()));
    let lines = vec![
        line(
            format!(" {}", state.wellbeing.question(rule)),
            Style::default(),
        ),
        line(" Non-graphic work goes on as before.", Style::default()),
        line("", Style::default()),
        line(" Enter  the queue without graphic items", Style::default()),
        line(" y      go on (your choice, recorded)", Style::default()),
        line(
            match rule {
                Rule::PerDay => " other  not now: graphic pictures stay withheld",
                Rule::InARow => " other  not now",
            },
            theme.dim(),
        ),
    ];
    f.render_widget(
        paragraph(lines).block(block).wrap(Wrap { trim: false }),
        area,
    );
}
