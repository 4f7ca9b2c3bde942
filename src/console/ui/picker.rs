//! The term picker popup.

use super::text::{line, paragraph, span, styled};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use crate::console::state::{IncidentPicker, Picker, State};
use crate::console::theme::Theme;
use crate::text::{bidi, sanitize, width};

pub fn render(state: &State, p: &Picker, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 76, 22);
    f.render_widget(Clear, area);
    let n_targets = state.targets().len();
    let title = format!(
        " {} for {} — type to filter · Space toggle · Enter apply · Esc cancel ",
        p.kind.plural(),
        if n_targets == 1 {
            crate::store::reference(state.current_id().unwrap_or(0))
        } else {
            format!("{n_targets} marked items")
        }
    );
    let block = Block::bordered().title(styled(title, theme.title()));
    let inner = block.inner(area);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        styled("> ", theme.label()),
        span(p.query.clone()),
        styled("█", theme.dim()),
        styled(
            if p.query.is_empty() && p.recent_count > 0 {
                "   digits: recent terms"
            } else {
                ""
            },
            theme.dim(),
        ),
    ])];
    let rows = inner.height.saturating_sub(1) as usize;
    let start = p.cursor.saturating_sub(rows.saturating_sub(1));
    for (pos, &i) in p.matches.iter().enumerate().skip(start).take(rows) {
        let t = &state.taxonomy.terms[i];
        let key = if p.query.is_empty() && pos < p.recent_count {
            format!("{}", pos + 1)
        } else {
            " ".into()
        };
        let check = if p.checked.contains(&t.id) {
            "[x]"
        } else {
            "[ ]"
        };
        let reference = t.legal_ref.as_deref().unwrap_or("");
        let ar = bidi::visual(&t.ar);
        let left = format!("{key} {check} {}", t.en);
        let right = format!("{ar}  {reference}");
        let lw = width::width(&left).min(w);
        let text = format!(
            "{left} {}",
            width::truncate(&right, w.saturating_sub(lw + 1))
        );
        let style = if pos == p.cursor {
            theme.selected()
        } else {
            Default::default()
        };
        lines.push(line(width::fit(&text, w), style));
    }
    if p.matches.is_empty() {
        lines.push(line("  no term matches", theme.dim()));
    }
    f.render_widget(paragraph(lines).block(block), area);
}

/// The incidents picker: recent incidents with their digits, reference, dates, place and title
/// (typed by reviewers: text like any other, sanitised), and "new incident" when typing.
pub fn render_incidents(state: &State, p: &IncidentPicker, theme: &Theme, f: &mut Frame) {
    use crate::store::incidents::{dates_text, reference};
    let area = super::centered(f.area(), 76, 22);
    f.render_widget(Clear, area);
    let n_targets = state.targets().len();
    let title = format!(
        " incidents for {} — type to filter · Enter link/unlink · Esc cancel ",
        if n_targets == 1 {
            crate::store::reference(state.current_id().unwrap_or(0))
        } else {
            format!("{n_targets} marked items")
        }
    );
    let block = Block::bordered().title(styled(title, theme.title()));
    let inner = block.inner(area);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        styled("> ", theme.label()),
        span(sanitize(&p.query).into_string()),
        styled("█", theme.dim()),
        styled(
            if p.query.is_empty() && p.recent_count > 0 {
                "   digits: recent incidents"
            } else if p.query.is_empty() {
                "   type a title to find or create one"
            } else {
                ""
            },
            theme.dim(),
        ),
    ])];
    let rows = inner.height.saturating_sub(1) as usize;
    let start = p.cursor.saturating_sub(rows.saturating_sub(1));
    for (pos, m) in p.matches.iter().enumerate().skip(start).take(rows) {
        let key = if p.query.is_empty() && pos < p.recent_count {
            format!("{}", pos + 1)
        } else {
            " ".into()
        };
        let text = match m {
            Some(id) => {
                let Some(i) = state.incidents.iter().find(|i| i.id == *id) else {
                    continue;
                };
                let check = if p.linked.contains(id) { "[x]" } else { "[ ]" };
                let r = &i.record;
                format!(
                    "{key} {check} {} {:<10} {} · {}",
                    reference(*id),
                    dates_text(r).get(..10).unwrap_or(""),
                    bidi::visual(&sanitize(&r.place)),
                    bidi::visual(&sanitize(&r.title)),
                )
            }
            None => format!(
                "  + new incident \u{201c}{}\u{201d} (then date and place)",
                bidi::visual(&sanitize(p.query.trim()))
            ),
        };
        let style = if pos == p.cursor {
            theme.selected()
        } else {
            Default::default()
        };
        lines.push(line(width::fit(&width::truncate(&text, w), w), style));
    }
    if p.matches.is_empty() {
        lines.push(line(
            "  no incident yet: type a title to create one",
            theme.dim(),
        ));
    }
    f.render_widget(paragraph(lines).block(block), area);
}
