//! The queue: one line per item of the current window.

use super::text::{line, paragraph, span, styled};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Block;
use ratatui::Frame;

use crate::console::state::{Pane, State};
use crate::console::theme::Theme;
use crate::store::items::Row;
use crate::text::{bidi, sanitize, width};

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut title = format!(" {} ", state.view.label());
    if let Some(filt) = &state.filter {
        title.push_str(&format!("/{}/ ", sanitize(filt)));
    }
    let title_style = if state.focus == Pane::Queue {
        theme.title()
    } else {
        theme.dim()
    };
    let block = Block::bordered().title(styled(
        width::truncate(&title, area.width.saturating_sub(4) as usize),
        title_style,
    ));
    let inner = block.inner(area);
    let w = inner.width as usize;
    let lines: Vec<Line> = if state.rows.is_empty() {
        vec![line(
            if state.filter.is_some() {
                " nothing matches the filter (Esc clears it)"
            } else {
                " nothing in this view (w: choose another)"
            },
            theme.dim(),
        )]
    } else {
        state
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| row_line(state, r, i == state.selected, w, theme))
            .collect()
    };
    f.render_widget(paragraph(lines).block(block), area);
}

fn row_line<'a>(state: &State, r: &Row, selected: bool, w: usize, theme: &Theme) -> Line<'a> {
    let marked = state.marks.contains(&r.id);
    let status = match r.status.as_str() {
        "triaged" => "✓",
        "escalated" => "!",
        _ => "·",
    };
    let kind = match r.kind.as_str() {
        "image" => "img",
        "video" => "vid",
        "pdf" => "pdf",
        "email" => "eml",
        "text" => "txt",
        "archive" => "arc",
        _ => "bin",
    };
    let date = r
        .captured_at
        .as_deref()
        .unwrap_or(&r.created_at)
        .get(..10)
        .unwrap_or("")
        .to_string();
    let chips = chips(state, r);
    // Only the marker and reference carry the selection highlight: moving the selection by
    // one line then rewrites a few cells, not two whole rows.
    let mut spans = vec![
        styled(
            format!(
                "{}{}",
                if selected {
                    '▶'
                } else if marked {
                    '*'
                } else {
                    ' '
                },
                crate::store::reference(r.id)
            ),
            if selected {
                theme.selected()
            } else if marked {
                theme.heading()
            } else {
                Default::default()
            },
        ),
        span(format!(" {status} {kind} ")),
    ];
    let mut used = 9 + 7;
    if w >= 60 {
        spans.push(styled(format!("{date:<10} "), theme.dim()));
        used += 11;
    }
    if w >= 50 {
        spans.push(span(format!(
            "{} ",
            width::fit(&sanitize(&r.first_source), 8)
        )));
        used += 9;
    }
    let chips_w = width::width(&chips);
    let name_w = w.saturating_sub(used + chips_w + 1);
    let name = bidi::visual(&sanitize(&r.name));
    spans.push(span(width::fit(&name, name_w)));
    if !chips.is_empty() {
        spans.push(span(" "));
        spans.push(styled(chips, theme.flag()));
    }
    Line::from(spans)
}

/// Compact tag chips: `C2` crimes, `P1` parties, flags by their key number (`⚑13`).
fn chips(state: &State, r: &Row) -> String {
    let count = |k: &str| r.tags.iter().filter(|(kind, _)| kind == k).count();
    let mut out = Vec::new();
    let c = count("crime");
    if c > 0 {
        out.push(format!("C{c}"));
    }
    let p = count("party");
    if p > 0 {
        out.push(format!("P{p}"));
    }
    let flags = state.taxonomy.flags();
    let nums: String = flags
        .iter()
        .enumerate()
        .filter(|(_, fl)| r.tags.iter().any(|(_, t)| *t == fl.id))
        .map(|(i, _)| char::from(b'1' + i as u8))
        .collect();
    if !nums.is_empty() {
        out.push(format!("⚑{nums}"));
    }
    out.join(" ")
}
