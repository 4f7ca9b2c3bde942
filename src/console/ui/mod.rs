//! Rendering: a pure function of the state. Never touches the case or the disk.

pub mod details;
mod help;
mod history;
mod limit;
mod map;
mod outline;
mod overview;
mod picker;
pub mod preview;
mod queue;
mod statusbar;
pub mod text;
mod views;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::Frame;

use super::keymap::Keymap;
use super::state::{Mode, State};
use super::theme::Theme;

pub struct Areas {
    pub queue: Rect,
    pub details: Rect,
    pub status: Rect,
    pub message: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let [main, status, message] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let left = if area.width >= 100 { 55 } else { 50 };
    let [queue, details] = Layout::horizontal([
        Constraint::Percentage(left),
        Constraint::Percentage(100 - left),
    ])
    .areas(main);
    Areas {
        queue,
        details,
        status,
        message,
    }
}

/// How many queue rows fit in a terminal of this size: the window the console loads.
pub fn page_size(width: u16, height: u16) -> usize {
    let a = areas(Rect::new(0, 0, width, height));
    a.queue.height.saturating_sub(2).max(1) as usize
}

pub fn render(state: &State, keymap: &Keymap, theme: &Theme, f: &mut Frame) {
    if let Mode::Overview(o) = &state.mode {
        overview::render(state, o, theme, f);
        return;
    }
    let a = areas(f.area());
    queue::render(state, theme, f, a.queue);
    if state.preview.open {
        let (top, rest) = split_preview(a.details);
        preview::render(state, theme, f, top);
        details::render(state, theme, f, rest);
    } else {
        details::render(state, theme, f, a.details);
    }
    statusbar::render_status(state, theme, f, a.status);
    statusbar::render_message(state, keymap, theme, f, a.message);
    match &state.mode {
        Mode::Picker(p) => picker::render(state, p, theme, f),
        Mode::Incidents(p) => picker::render_incidents(state, p, theme, f),
        Mode::Views(m) => views::render(m, theme, f),
        Mode::Help { scroll } => help::render(keymap, *scroll, theme, f),
        Mode::History { entries, scroll } => history::render(state, entries, *scroll, theme, f),
        Mode::Limit(rule) => limit::render(state, *rule, theme, f),
        Mode::Normal | Mode::Prompt(_) | Mode::ConfirmReveal(_) | Mode::Overview(_) => {}
    }
}

/// The preview takes the top of the details pane.
pub fn split_preview(details: Rect) -> (Rect, Rect) {
    let h = preview::height(details.height);
    (
        Rect::new(details.x, details.y, details.width, h),
        Rect::new(details.x, details.y + h, details.width, details.height - h),
    )
}

/// The cells an image may take in a terminal of this size (inside the preview's border).
pub fn preview_cells(width: u16, height: u16) -> (u16, u16) {
    let inner = preview_inner(width, height);
    (inner.width, inner.height)
}

/// The inside of the preview pane (inside its border) in a terminal of this size.
pub fn preview_inner(width: u16, height: u16) -> Rect {
    let (top, _) = split_preview(areas(Rect::new(0, 0, width, height)).details);
    Rect::new(
        top.x + 1,
        top.y + 1,
        top.width.saturating_sub(2),
        top.height.saturating_sub(2),
    )
}

/// A rectangle of at most `w`×`h` centred in `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(10.min(area.width));
    let h = h.min(area.height.saturating_sub(2)).max(3.min(area.height));
    Rect::new(
        area.x + (area.width.saturating_sub(w)) / 2,
        area.y + (area.height.saturating_sub(h)) / 2,
        w,
        h,
    )
}
