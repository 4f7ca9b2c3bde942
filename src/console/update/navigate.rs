//! Moving through the queue: line, page, and what a new selection asks for.

use super::*;

pub(super) fn move_by(state: &mut State, delta: i64) -> Vec<Effect> {
    if state.rows.is_empty() {
        return vec![];
    }
    let target = state.selected as i64 + delta;
    if target >= 0 && (target as usize) < state.rows.len() {
        state.selected = target as usize;
        return select_changed(state);
    }
    // Past the edge, the window jumps half a page rather than one line: a one-line scroll
    // rewrites every row of the queue on each key, a half-page jump once per half page.
    let fetch = (state.page / 2).max(1);
    let advance = delta.unsigned_abs() as usize;
    if delta > 0 {
        let last = state.rows[state.rows.len() - 1].id;
        vec![Effect::Load(Anchor::After(last, fetch, advance))]
    } else {
        vec![Effect::Load(Anchor::Before(
            state.rows[0].id,
            fetch,
            advance,
        ))]
    }
}

pub(super) fn page(state: &mut State, down: bool) -> Vec<Effect> {
    let (Some(first), Some(last)) = (state.rows.first(), state.rows.last()) else {
        return vec![];
    };
    if down {
        vec![Effect::Load(Anchor::After(last.id, state.page, state.page))]
    } else {
        vec![Effect::Load(Anchor::Before(
            first.id, state.page, state.page,
        ))]
    }
}

pub(super) fn select_changed(state: &mut State) -> Vec<Effect> {
    state.detail_scroll = 0;
    match state.current_id() {
        Some(id) => vec![Effect::Detail(id)],
        None => {
            state.detail = None;
            vec![]
        }
    }
}
