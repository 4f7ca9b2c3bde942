//! `H`: the selected item's history from the audit log, oldest first.

use super::text::{paragraph, span, styled};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use crate::console::state::State;
use crate::console::theme::Theme;
use crate::store::audit::Entry;
use crate::text::{sanitize, width};

pub fn render(state: &State, entries: &[Entry], scroll: u16, theme: &Theme, f: &mut Frame) {
    let area = super::centered(f.area(), 110, 36);
    f.render_widget(Clear, area);
    let title = format!(
        " history of {} — {} entries · j/k scroll · any other key closes ",
        state
            .current_id()
            .map(crate::store::reference)
            .unwrap_or_default(),
        entries.len()
    );
    let block = Block::bordered().title(styled(title, theme.title()));
    let w = block.inner(area).width as usize;
    let lines: Vec<Line> = entries
        .iter()
        .map(|e| {
            let when = format!(
                "{} {}",
                e.at.get(..10).unwrap_or(""),
                e.at.get(11..19).unwrap_or("")
            );
            let head = format!(
                "#{:<6} {when} {:<10} {:<16} ",
                e.seq,
                sanitize(&e.actor),
                e.event
            );
            let details = sanitize(&describe(state, e));
            Line::from(vec![
                styled(head.clone(), theme.label()),
                span(width::truncate(
                    &details,
                    w.saturating_sub(width::width(&head)),
                )),
            ])
        })
        .collect();
    f.render_widget(paragraph(lines).block(block).scroll((scroll, 0)), area);
}

/// A readable line for an event: term labels instead of ids where it helps.
fn describe(state: &State, e: &Entry) -> String {
    let d = &e.details;
    match e.event.as_str() {
        "tag.add" | "tag.remove" => {
            let id = d["term"].as_str().unwrap_or("?");
            let label = state.taxonomy.get(id).map(|t| t.en.as_str()).unwrap_or(id);
            format!("{}{label}", if e.event == "tag.add" { "+" } else { "-" })
        }
        "status.set" => format!(
            "{} → {}{}",
            d["old"].as_str().unwrap_or("?"),
            d["new"].as_str().unwrap_or("?"),
            d["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        "ingest.new" | "ingest.duplicate" => format!(
            "from {} batch {}: {}",
            d["source"].as_str().unwrap_or("?"),
            d["batch"],
            d["path"].as_str().unwrap_or("(non-UTF-8 path)")
        ),
        "note.add" | "note.retract" => d["body"].as_str().unwrap_or("").to_string(),
        "incident.link" | "incident.unlink" => {
            let reference = d["ref"].as_str().unwrap_or("?");
            let title = d["incident"]
                .as_i64()
                .and_then(|id| state.incidents.iter().find(|i| i.id == id))
                .map(|i| format!(" {}", i.record.title))
                .unwrap_or_default();
            let sign = if e.event == "incident.link" { "+" } else { "-" };
            format!("{sign}{reference}{title}")
        }
        _ => d.to_string(),
    }
}
