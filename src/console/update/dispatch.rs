//! From effects to tasks: what the state knew when each effect was asked for goes with it,
//! and what the screen now waits for is noted (a window's ticket, a decision being saved).
//! Also the moments the console asks update about: the end of a burst of keys, a renewal
//! tick, keys held for a load, a resize, whether the frame should wait.

use super::*;
use crate::console::effect::{Task, Viewport};

/// The effects, each with what it needs; a wanted detail is kept for the end of the burst
/// (only the last one of a burst of moves is read).
pub fn tasks(state: &mut State, effects: Vec<Effect>) -> Vec<Task> {
    let mut out = Vec::new();
    for effect in effects {
        match &effect {
            Effect::Detail(id) => {
                state.detail_wanted = Some(*id);
                continue;
            }
            Effect::Load(anchor) => {
                state.tickets += 1;
                if matches!(anchor, Anchor::Refresh { .. }) {
                    state.refreshing = Some(state.tickets);
                } else {
                    state.loading = Some(state.tickets);
                }
            }
            Effect::Apply { .. }
            | Effect::Undo
            | Effect::RepeatLast { .. }
            | Effect::ConfirmReview(_) => state.saving += 1,
            Effect::Search { .. } | Effect::Recount => state.counted = false,
            _ => {}
        }
        out.push(Task {
            effect,
            selection: state.selection.clone(),
            at: viewport(state),
            generation: state.search_generation,
            ticket: state.tickets,
        });
    }
    out
}

fn viewport(state: &State) -> Viewport {
    Viewport {
        page: state.page,
        first: state.rows.first().map(|r| r.id),
        last: state.rows.last().map(|r| r.id),
        current: state.current_id(),
        offset: state.offset,
        total: state.counted.then_some(state.total),
    }
}

/// The burst of keys is over: read the detail of the item it ended on, and claim it.
pub fn settle(state: &mut State) -> Vec<Effect> {
    match state.detail_wanted.take() {
        Some(id) if state.current_id() == Some(id) => {
            state.reading = Some(id);
            vec![Effect::Reread(id), Effect::Claim(id)]
        }
        _ => vec![],
    }
}

/// What the first frame shows: the first window, and the counts (from the search worker).
pub fn start(state: &mut State) -> Vec<Effect> {
    state.searching = true;
    vec![
        Effect::Load(Anchor::Start),
        Effect::Search { window: false },
    ]
}

/// Before the first frame: the detail of the first item, without claiming it yet (a write
/// the first frame need not wait for).
pub fn first_detail(state: &mut State) -> Vec<Effect> {
    state.detail_wanted = None;
    state.current_id().map(Effect::Reread).into_iter().collect()
}

/// What only later keys need, and the claim on the item shown (after the first frame).
pub fn rest_of_start(state: &mut State) -> Vec<Effect> {
    let mut effects = vec![Effect::Lists];
    effects.extend(renew(state));
    effects
}

/// Renew the claim on the item being looked at (a failure shows as a message).
pub fn renew(state: &State) -> Vec<Effect> {
    state.current_id().map(Effect::Claim).into_iter().collect()
}

/// The next key held while a window or a decision was on its way, once nothing is.
pub fn next_held(state: &mut State) -> Option<KeyEvent> {
    if state.loading.is_some() || state.saving > 0 || state.held.is_empty() {
        return None;
    }
    Some(state.held.remove(0))
}

/// Should the frame wait (briefly) for an answer on its way? A preview, a window, a decision
/// or a detail usually arrives within milliseconds: one frame with it costs fewer bytes than
/// a frame without it and then another.
pub fn awaiting(state: &State) -> bool {
    matches!(state.preview.shown, Shown::Loading(_))
        || state.loading.is_some()
        || state.saving > 0
        || state.reading.is_some()
}

pub fn resize(state: &mut State, width: u16, height: u16) -> Vec<Effect> {
    state.width = width;
    state.height = height;
    state.redraw_all = true;
    let page = crate::console::ui::page_size(width, height);
    if page == state.page {
        return vec![];
    }
    state.page = page;
    let Some(first) = state.rows.first().map(|r| r.id) else {
        return vec![];
    };
    let select = state.current_id().unwrap_or(first);
    vec![Effect::Load(Anchor::Reload {
        first,
        offset: state.offset,
        select,
    })]
}
