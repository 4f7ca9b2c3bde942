//! Exposure to graphic material: counting what was drawn, the reviewer's figures as the case
//! returns them, and the question when a limit is reached (the queue without graphic items in
//! one key, or going on, either answer recorded). Non-graphic work is never held up: only
//! graphic items' pictures wait for the answer.

use super::*;
use crate::console::wellbeing::is_graphic;
use crate::store::wellbeing::{Exposure, Rule, Today};

/// A picture of the item was drawn: counted if the item is flagged graphic (from the moment
/// it is flagged; what was seen before is not counted after).
pub(super) fn drawn(state: &mut State, item_id: i64) -> Vec<Effect> {
    let Some(d) = state.detail.as_ref().filter(|d| d.row.id == item_id) else {
        return vec![];
    };
    if !is_graphic(d) {
        return vec![];
    }
    let how = if d.row.kind == "video" {
        Exposure::Sheet
    } else {
        Exposure::Preview
    };
    let w = &mut state.wellbeing;
    if w.last != Some(item_id) {
        w.in_a_row += 1;
        w.last = Some(item_id);
    }
    if state.wellbeing.pause_due() {
        ask(state, Rule::InARow);
    }
    vec![Effect::Exposure { item_id, how }]
}

/// The detail of an item arrived: a non-graphic item breaks a row of graphic ones.
pub(super) fn looked_at(state: &mut State) {
    if state.detail.as_ref().is_some_and(|d| !is_graphic(d)) {
        state.wellbeing.in_a_row = 0;
        state.wellbeing.last = None;
    }
}

/// The reviewer's figures as the case holds them now.
pub(super) fn figures(state: &mut State, today: Today) -> Vec<Effect> {
    let was_reached = state.wellbeing.daily_reached();
    state.preview.blur_flagged = today.blur_flagged;
    state.wellbeing.today = Some(today);
    if state.wellbeing.daily_reached() && !was_reached {
        ask(state, Rule::PerDay);
    }
    refresh_preview(state)
}

/// Ask, unless something else is being asked or typed (then the next graphic picture asks).
pub(super) fn ask(state: &mut State, rule: Rule) {
    if matches!(state.mode, Mode::Normal) {
        state.mode = Mode::Limit(rule);
    }
}

/// A graphic item's detail arrived while the daily limit stands: its picture is withheld, and
/// the question asked (once for each item arrived at, not again when the same one is re-read).
pub(super) fn arrived(state: &mut State) {
    let Some(id) = state
        .detail
        .as_ref()
        .filter(|d| is_graphic(d))
        .map(|d| d.row.id)
    else {
        return;
    };
    if state.preview.open
        && state.wellbeing.daily_reached()
        && state.wellbeing.asked_for != Some(id)
    {
        state.wellbeing.asked_for = Some(id);
        ask(state, Rule::PerDay);
    }
}

/// The picture of a graphic item while the daily limit stands: withheld. None when the
/// picture may be drawn.
pub(super) fn withheld(state: &State) -> Option<Shown> {
    let id = state.detail.as_ref().filter(|d| is_graphic(d))?.row.id;
    if !state.wellbeing.daily_reached() {
        return None;
    }
    let n = state
        .wellbeing
        .today
        .as_ref()
        .and_then(|t| t.per_day)
        .unwrap_or(0);
    Some(Shown::Gated(
        id,
        vec![format!("your limit of {n} graphic items a day is reached")],
    ))
}

/// A key while asked at a limit: Enter takes the queue without graphic items, `y` goes on,
/// anything else is "not now" (graphic pictures stay withheld; asked again at the next one).
pub(super) fn limit_key(
    state: &mut State,
    keymap: &Keymap,
    ev: KeyEvent,
    rule: Rule,
) -> Vec<Effect> {
    state.mode = Mode::Normal;
    let action = keymap.action_in(Context::Limit, &ev);
    let go_on = action == Some(Action::LimitGoOn);
    if rule == Rule::InARow {
        state.wellbeing.in_a_row = 0;
        state.wellbeing.last = None;
    }
    let mut effects = vec![Effect::LimitAnswer { rule, go_on }];
    if go_on {
        if let Some(t) = state
            .wellbeing
            .today
            .as_mut()
            .filter(|_| rule == Rule::PerDay)
        {
            t.went_on_today = true;
        }
        state.message = Some((Level::Info, "going on — your choice, recorded".into()));
        effects.extend(refresh_preview(state));
    } else if action == Some(Action::LimitSafeQueue) {
        effects.extend(without_graphic(state));
    } else if rule == Rule::PerDay {
        state.message = Some((
            Level::Info,
            "not now — graphic pictures stay withheld (recorded)".into(),
        ));
    } else {
        state.message = Some((Level::Info, "not now (recorded)".into()));
    }
    effects
}

/// The current view and filter, without graphic items.
fn without_graphic(state: &mut State) -> Vec<Effect> {
    let expr = match state.filter.as_deref().map(str::trim) {
        Some(f) if f.split_whitespace().any(|w| w == "-flag:graphic") => f.to_string(),
        Some(f) if !f.is_empty() => format!("({f}) -flag:graphic"),
        _ => "-flag:graphic".to_string(),
    };
    state.message = Some((
        Level::Info,
        "the queue without graphic items (recorded); Esc clears the filter".into(),
    ));
    begin_query(state);
    vec![Effect::SetFilter(Some(expr))]
}
