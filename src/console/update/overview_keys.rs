//! The overview's keys: bars, sections, the map, Enter to filter the queue.

use super::*;

/// The overview: j/k (arrows) move between bars across sections, Tab jumps to the next
/// section, the map takes arrows and h/j/k/l for its cursor, Enter filters the queue.
pub(super) fn overview_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Overview(o) = &mut state.mode else {
        return vec![];
    };
    // On the map its keys come first; what it does not bind means what it means in the overview.
    let on_map = if o.on_map {
        keymap.action_in(Context::Map, &ev)
    } else {
        None
    };
    let action = on_map.or_else(|| keymap.action_in(Context::Overview, &ev));
    state.message = None;
    let last = o.bars.len().saturating_sub(1);
    match action {
        Some(Action::OverviewClose) => state.mode = Mode::Normal,
        Some(Action::OverviewNextSection) => overview::next_section(o, true),
        Some(Action::OverviewPrevSection) => overview::next_section(o, false),
        Some(Action::OverviewFilter) => return overview_enter(state),
        Some(Action::MapNorth) => overview::move_map(o, 1.0, 0.0),
        Some(Action::MapSouth) => overview::move_map(o, -1.0, 0.0),
        Some(Action::MapWest) => overview::move_map(o, 0.0, -1.0),
        Some(Action::MapEast) => overview::move_map(o, 0.0, 1.0),
        Some(Action::OverviewDown) => o.cursor = (o.cursor + 1).min(last),
        Some(Action::OverviewUp) => o.cursor = o.cursor.saturating_sub(1),
        Some(Action::OverviewPageDown) => o.cursor = (o.cursor + 10).min(last),
        Some(Action::OverviewPageUp) => o.cursor = o.cursor.saturating_sub(10),
        Some(Action::OverviewTop) if !o.on_map => o.cursor = 0,
        Some(Action::OverviewBottom) if !o.on_map => o.cursor = last,
        _ => {}
    }
    vec![]
}

/// Enter in the overview: the queue, showing every item (view "all") under the filter the
/// bar or place stands for.
pub(super) fn overview_enter(state: &mut State) -> Vec<Effect> {
    let Mode::Overview(o) = &state.mode else {
        return vec![];
    };
    let expr = if o.on_map {
        overview::place_filter(o)
    } else {
        match o.bars.get(o.cursor) {
            Some(bar) => bar.filter.clone(),
            None => return vec![],
        }
    };
    state.mode = Mode::Normal;
    state.focus = Pane::Queue;
    state.previous_view = None;
    let mut effects = set_view(state, View::All);
    effects.push(Effect::SetFilter(Some(expr)));
    effects
}
