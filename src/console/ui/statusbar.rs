//! The status bar (case, view, position, untriaged left, reviewer, last save) and the message
//! line below it (the prompt, a message, or a hint of the main keys).

use super::text::{line, paragraph, span, styled, thousands};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::console::action::Action;
use crate::console::keymap::Keymap;
use crate::console::state::{Level, Mode, State};
use crate::console::theme::Theme;
use crate::text::{sanitize, width};

pub fn render_status(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let pos = if state.searching {
        // The query is on the search worker; the old total would be wrong.
        "searching…".to_string()
    } else if state.rows.is_empty() {
        format!("0/{}", thousands(state.total))
    } else {
        format!(
            "{}/{}",
            thousands(state.position() + 1),
            thousands(state.total)
        )
    };
    let mut parts = vec![
        sanitize(&state.case_name).into_string(),
        sanitize(&state.view.label()).into_string(),
        pos,
        format!("{} untriaged", thousands(state.untriaged)),
        state.reviewer.clone(),
    ];
    // The reviewer's own count of graphic items today (out of their limit, if one is set),
    // before their name: at 80 columns the end of the bar is what is cut.
    if let Some(t) = state.wellbeing.today.as_ref() {
        if t.items > 0 || t.per_day.is_some() {
            let at = parts.len() - 1;
            parts.insert(
                at,
                match t.per_day {
                    Some(n) => format!("graphic {}/{n}", t.items),
                    None => format!("graphic {}", t.items),
                },
            );
        }
    }
    if !state.marks.is_empty() {
        parts.insert(3, format!("{} marked", state.marks.len()));
    }
    if let Some(b) = &state.batch {
        parts.push(format!(
            "batch {}: {}/{}",
            sanitize(&b.batch),
            b.done,
            b.total
        ));
    }
    if let Some(cost) = state.preview.last_cost.filter(|_| state.preview.open) {
        parts.push(format!("preview {:.1} kB", cost as f64 / 1000.0));
    }
    // "saved" only once the writer has said so: until then the decision is being saved.
    if state.saving > 0 {
        parts.push("saving…".to_string());
    } else if let Some(s) = &state.last_saved {
        parts.push(format!("saved {s}"));
    }
    let text = format!(" {}", parts.join(" │ "));
    f.render_widget(
        paragraph(line(
            width::fit(&text, area.width as usize),
            theme.status_bar(),
        )),
        area,
    );
}

pub fn render_message(state: &State, keymap: &Keymap, theme: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let line = match &state.mode {
        Mode::Prompt(p) => {
            let mut spans = vec![
                styled(format!("{}: ", p.kind.label()), theme.title()),
                span(sanitize(&p.input)),
                styled("█", theme.dim()),
            ];
            if let Some(e) = &p.error {
                spans.push(styled(format!("  {}", sanitize(e)), theme.warn()));
            }
            Line::from(spans)
        }
        Mode::Limit(_) => line(
            width::truncate(
                " Enter: the queue without graphic items · y: go on (recorded) · other: not now",
                w,
            ),
            theme.warn(),
        ),
        Mode::ConfirmReveal(id) => Line::from(vec![
            styled(
                format!(
                    " Reveal the sensitive image of {}? ",
                    crate::store::reference(*id)
                ),
                theme.warn(),
            ),
            span("The reveal is recorded. y / n"),
        ]),
        _ => match &state.message {
            Some((level, text)) => {
                let style = match level {
                    Level::Error => theme.warn(),
                    Level::Saved => theme.ok(),
                    Level::Info => Default::default(),
                };
                line(width::truncate(&format!(" {}", sanitize(text)), w), style)
            }
            None => line(width::truncate(&hint(keymap), w), theme.dim()),
        },
    };
    f.render_widget(paragraph(line), area);
}

fn hint(k: &Keymap) -> String {
    let first = |a: Action| k.keys_for(a).split(' ').next().unwrap_or("").to_string();
    format!(
        " {} help  {} crime  {} party  {} flag  1-9 flags  {} done  {} escalate  {} undo  {} filter  {} views",
        first(Action::Help),
        first(Action::PickCrime),
        first(Action::PickParty),
        first(Action::PickFlag),
        first(Action::MarkTriaged),
        first(Action::Escalate),
        first(Action::Undo),
        first(Action::Filter),
        first(Action::Views),
    )
}
