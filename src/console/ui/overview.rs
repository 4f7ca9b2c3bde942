//! `O`: the whole case in counts. Left, horizontal bars per status, crime category, party,
//! flag and source; right, the capture-date histogram and the map. Bars are drawn in block
//! characters with their label and number, so they read the same without colour.

use super::text::{line, paragraph, section_block, span, styled, thousands};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::map;
use crate::console::state::{Bar, Level, OverviewState, Section, State};
use crate::console::theme::Theme;
use crate::text::{sanitize, width};

/// Eighths of a cell, for bar ends: a count is never rounded away to nothing.
const PARTIAL: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
/// Eighths of a cell, upwards, for the histogram's columns.
const RISING: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

const BAR_SECTIONS: [Section; 6] = [
    Section::Status,
    Section::Crimes,
    Section::Parties,
    Section::Flags,
    Section::Sources,
    Section::Incidents,
];

pub fn render(state: &State, o: &OverviewState, theme: &Theme, f: &mut Frame) {
    let area = f.area();
    f.render_widget(Clear, area);
    let [title, body, hint, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let d = &o.data;
    let head = format!(
        "overview, whole case: {} items · {} with GPS · {} undated",
        thousands(d.total),
        thousands(d.located),
        thousands(d.undated)
    );
    f.render_widget(
        paragraph(line(
            width::truncate(&head, title.width as usize),
            theme.title(),
        )),
        title,
    );
    let (counts, right) = if body.width >= 60 {
        let [l, r] = Layout::horizontal([Constraint::Percentage(53), Constraint::Percentage(47)])
            .areas(body);
        (l, r)
    } else {
        let [l, r] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
        (l, r)
    };
    let hist_h = (right.height / 3).clamp(6, 12).min(right.height);
    let [dates, place] =
        Layout::vertical([Constraint::Length(hist_h), Constraint::Min(0)]).areas(right);
    render_counts(o, theme, f, counts);
    render_dates(o, theme, f, dates);
    map::render(o, theme, f, place);
    let hint_text = match &state.message {
        Some((_, m)) => m.clone(),
        None if o.on_map => "Enter: items near the cursor".to_string(),
        None => match o.bars.get(o.cursor) {
            Some(b) => format!("Enter: queue filtered by {}", sanitize(&b.filter)),
            None => String::new(),
        },
    };
    let hint_style = match &state.message {
        Some((Level::Error, _)) => theme.warn(),
        Some(_) => theme.heading(),
        None => theme.label(),
    };
    f.render_widget(
        paragraph(line(
            width::truncate(&hint_text, hint.width as usize),
            hint_style,
        )),
        hint,
    );
    f.render_widget(
        paragraph(line(
            width::truncate(
                "j/k move · Tab next section · Enter filter the queue · Esc/q/O close",
                keys.width as usize,
            ),
            theme.dim(),
        )),
        keys,
    );
}

fn render_counts(o: &OverviewState, theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::bordered().title(styled(" counts ", theme.title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let count_w = o
        .bars
        .iter()
        .map(|b| thousands(b.count).len())
        .max()
        .unwrap_or(1);
    // Label, bar and number share the line: the label takes what it needs up to 45%.
    let label_w = o
        .bars
        .iter()
        .filter(|b| b.section != Section::Dates)
        .map(|b| width::width(&sanitize(&b.label)) + if b.nested { 2 } else { 0 })
        .max()
        .unwrap_or(8)
        .clamp(8, (w * 45 / 100).max(8));
    let bar_w = w.saturating_sub(label_w + count_w + 3);
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    for section in BAR_SECTIONS {
        let focused = !o.on_map && o.section() == section;
        // A case without incidents shows no such heading.
        if section == Section::Incidents && o.data.by_incident.is_empty() {
            continue;
        }
        lines.push(line(
            section.title(),
            if focused {
                theme.heading()
            } else {
                theme.title()
            },
        ));
        let of_section: Vec<(usize, &Bar)> = o
            .bars
            .iter()
            .enumerate()
            .filter(|(_, b)| b.section == section)
            .collect();
        if of_section.is_empty() {
            lines.push(line("  none yet", theme.dim()));
            continue;
        }
        let max = of_section.iter().map(|(_, b)| b.count).max().unwrap_or(0);
        for (i, b) in of_section {
            let selected = !o.on_map && i == o.cursor;
            if selected {
                cursor_line = lines.len();
            }
            let indent = if b.nested { "  " } else { "" };
            let label = width::fit(&format!("{indent}{}", sanitize(&b.label)), label_w);
            let text = format!(
                "{}{label} {} {:>count_w$}",
                if selected { ">" } else { " " },
                width::fit(&bar(b.count, max, bar_w), bar_w),
                thousands(b.count)
            );
            lines.push(if selected {
                line(text, theme.selected())
            } else {
                Line::from(vec![
                    span(width::fit(&format!(" {label}"), label_w + 1)),
                    styled(
                        format!(" {} ", width::fit(&bar(b.count, max, bar_w), bar_w)),
                        bar_style(theme, b),
                    ),
                    span(format!("{:>count_w$}", thousands(b.count))),
                ])
            });
        }
    }
    let h = inner.height as usize;
    // Keep the cursor in view, a few lines from the edge where possible.
    let scroll = cursor_line
        .saturating_sub(h.saturating_sub(3))
        .min(lines.len().saturating_sub(h));
    f.render_widget(paragraph(lines).scroll((scroll as u16, 0)), inner);
}

fn bar_style(theme: &Theme, b: &Bar) -> Style {
    match b.section {
        Section::Flags => theme.flag(),
        Section::Status if b.label == "escalated" => theme.warn(),
        _ => theme.ok(),
    }
}

/// 1234567 as "1,234,567": counts of a large case stay readable.
/// A section's frame, its title highlighted while the cursor is in it.
/// `count` of `max` as a bar of up to `cells` cells, in eighths.
fn bar(count: u64, max: u64, cells: usize) -> String {
    if max == 0 || cells == 0 || count == 0 {
        return String::new();
    }
    let eighths = ((count as u128 * cells as u128 * 8) / max as u128).max(1) as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTIAL[eighths % 8]);
    s
}

/// The histogram: one column per month (or year), the selected one marked below it.
fn render_dates(o: &OverviewState, theme: &Theme, f: &mut Frame, area: Rect) {
    let dates: Vec<(usize, &Bar)> = o
        .bars
        .iter()
        .enumerate()
        .filter(|(_, b)| b.section == Section::Dates)
        .collect();
    let focused = !o.on_map && o.section() == Section::Dates;
    let unit = match dates.first() {
        Some((_, b)) if b.label.len() == 4 => "by year",
        Some(_) => "by month",
        None => "no dates",
    };
    let range = match (dates.first(), dates.last()) {
        (Some((_, a)), Some((_, b))) => format!("{}..{} ", a.label, b.label),
        _ => String::new(),
    };
    let block = section_block(format!(" captured {range}{unit} "), focused, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 3 || inner.width < 4 {
        return;
    }
    if dates.is_empty() {
        f.render_widget(
            paragraph(line("no capture dates known", theme.dim())),
            inner,
        );
        return;
    }
    let w = inner.width as usize;
    let col_w = (w / dates.len()).clamp(1, 6);
    // Wide columns keep a gap, so that neighbours read as separate bars.
    let gap = usize::from(col_w >= 3);
    let fits = (w / col_w).max(1);
    // A window of buckets that holds the selected one (or the latest).
    let sel = dates.iter().position(|(i, _)| focused && *i == o.cursor);
    let end = match sel {
        Some(s) => (s + 1).max(fits).min(dates.len()),
        None => dates.len(),
    };
    let shown = &dates[end.saturating_sub(fits)..end];
    let max = shown.iter().map(|(_, b)| b.count).max().unwrap_or(0).max(1);
    let rows = inner.height as usize - 2;
    let mut lines: Vec<Line> = Vec::new();
    for r in 0..rows {
        // Row r (from the top) is full when the column reaches past it.
        let floor = (rows - 1 - r) * 8;
        let spans: Vec<Span> = shown
            .iter()
            .map(|(i, b)| {
                let eighths = if b.count == 0 {
                    0
                } else {
                    ((b.count as u128 * rows as u128 * 8) / max as u128).max(1) as usize
                };
                let level = eighths.saturating_sub(floor).min(8);
                let cell = RISING[level].repeat(col_w - gap) + &" ".repeat(gap);
                if focused && *i == o.cursor {
                    styled(cell, theme.selected())
                } else {
                    styled(cell, theme.ok())
                }
            })
            .collect();
        lines.push(Line::from(spans));
    }
    let marker: String = shown
        .iter()
        .map(|(i, _)| {
            if focused && *i == o.cursor {
                "^".repeat(col_w - gap) + &" ".repeat(gap)
            } else {
                " ".repeat(col_w)
            }
        })
        .collect();
    lines.push(line(marker, Style::default()));
    let info = match sel.and_then(|s| dates.get(s)) {
        Some((_, b)) => format!("{}: {} items", b.label, thousands(b.count)),
        None => match shown.iter().max_by_key(|(_, b)| b.count) {
            Some((_, b)) => format!("most: {} with {} items", b.label, thousands(b.count)),
            None => String::new(),
        },
    };
    lines.push(line(width::truncate(&info, w), theme.label()));
    f.render_widget(paragraph(lines), inner);
}
