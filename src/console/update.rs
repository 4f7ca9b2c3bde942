//! Key → action → state change. Pure: no I/O. What must touch the case comes back as effects,
//! and their outcomes come in through `apply`.

use std::collections::BTreeSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context};
use super::effect::{Anchor, Effect, Outcome, Select, Then};
use super::keymap::Keymap;
use super::overview;
use super::picker;
use super::preview::{Reveal, Shown};
use super::state::{Level, Mode, Pane, Picker, Prompt, PromptKind, State, ViewMenu};
use crate::store::changes::Edit;
use crate::store::query::View;
use crate::taxonomy::TermKind;

/// A key press in whatever mode the console is in.
pub fn key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return vec![];
    }
    match &state.mode {
        Mode::Normal => match keymap.action(&ev) {
            Some(a) => update(state, a),
            None => vec![],
        },
        Mode::Picker(_) => picker_key(state, keymap, ev),
        Mode::Prompt(_) => prompt_key(state, keymap, ev),
        Mode::Views(_) => views_key(state, keymap, ev),
        Mode::Help { .. } | Mode::History { .. } => help_key(state, keymap, ev),
        Mode::Overview(_) => overview_key(state, keymap, ev),
        Mode::ConfirmReveal(id) => {
            let id = *id;
            state.mode = Mode::Normal;
            if keymap.action_in(Context::Confirm, &ev) == Some(Action::ConfirmYes) {
                let full = !(state.preview.gate_all
                    && !state.preview.revealed.contains_key(&id)
                    && !has_gating_flag(state));
                vec![Effect::Reveal { item_id: id, full }]
            } else {
                state.message = Some((Level::Info, "not revealed".into()));
                vec![]
            }
        }
    }
}

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    if state.focus == Pane::Details {
        match action {
            Action::Down => {
                state.detail_scroll = state.detail_scroll.saturating_add(1);
                return vec![];
            }
            Action::Up => {
                state.detail_scroll = state.detail_scroll.saturating_sub(1);
                return vec![];
            }
            Action::PageDown => {
                state.detail_scroll = state.detail_scroll.saturating_add(state.page as u16);
                return vec![];
            }
            Action::PageUp => {
                state.detail_scroll = state.detail_scroll.saturating_sub(state.page as u16);
                return vec![];
            }
            _ => {}
        }
    }
    match action {
        Action::Down => move_by(state, 1),
        Action::Up => move_by(state, -1),
        Action::PageDown => page(state, true),
        Action::PageUp => page(state, false),
        Action::Top => vec![Effect::Load(Anchor::Start)],
        Action::Bottom => vec![Effect::Load(Anchor::End)],
        Action::SwitchPane => {
            state.focus = match state.focus {
                Pane::Queue => Pane::Details,
                Pane::Details => Pane::Queue,
            };
            vec![]
        }
        Action::Quit => {
            state.quit = true;
            vec![]
        }
        Action::PickCrime => open_picker(state, TermKind::Crime),
        Action::PickParty => open_picker(state, TermKind::Party),
        Action::PickFlag => open_picker(state, TermKind::Flag),
        Action::ToggleFlag(n) => {
            let flags = state.taxonomy.flags();
            let Some(flag) = flags.get(n as usize - 1) else {
                return vec![];
            };
            let id = flag.id.clone();
            toggle(state, id)
        }
        Action::RepeatLast => {
            let items = state.targets();
            if items.is_empty() {
                return vec![];
            }
            vec![Effect::RepeatLast { items }]
        }
        Action::MarkTriaged => {
            let items = state.targets();
            if items.is_empty() {
                return vec![];
            }
            state.marks.clear();
            vec![Effect::Apply {
                edit: Edit::Status {
                    items,
                    to: "triaged".into(),
                    reason: None,
                },
                then: Then::NextUntriaged,
            }]
        }
        Action::Escalate => open_prompt(state, PromptKind::Escalate),
        Action::Note => open_prompt(state, PromptKind::Note),
        Action::Filter => {
            let input = state.filter.clone().unwrap_or_default();
            state.mode = Mode::Prompt(Prompt {
                kind: PromptKind::Filter,
                input,
                error: None,
            });
            vec![]
        }
        Action::Command => {
            state.mode = Mode::Prompt(Prompt {
                kind: PromptKind::Command,
                input: String::new(),
                error: None,
            });
            vec![]
        }
        Action::Undo => vec![Effect::Undo],
        Action::ToggleMark => {
            if let Some(id) = state.current_id() {
                if !state.marks.remove(&id) {
                    state.marks.insert(id);
                }
                state.message = Some((Level::Info, format!("{} marked", state.marks.len())));
                return move_by(state, 1);
            }
            vec![]
        }
        Action::MarkAll => vec![Effect::MarkAll],
        Action::Similar => similar(state),
        Action::ClearMarks => {
            let mut effects = vec![];
            if !state.marks.is_empty() {
                state.marks.clear();
                state.message = Some((Level::Info, "marks cleared".into()));
            } else if state.filter.is_some() {
                begin_query(state);
                effects.push(Effect::SetFilter(None));
            }
            effects
        }
        Action::Views => open_views(state),
        Action::Help => {
            state.mode = Mode::Help { scroll: 0 };
            vec![]
        }
        Action::History => state
            .current_id()
            .map(Effect::History)
            .into_iter()
            .collect(),
        Action::Preview => {
            state.preview.open = !state.preview.open;
            if !state.preview.open {
                state.preview.shown = Shown::Nothing;
            }
            refresh_preview(state)
        }
        Action::Reveal => {
            let gated = matches!(state.preview.shown, Shown::Gated(..))
                || (state.preview.gate_all
                    && state.current_id().is_some_and(|id| {
                        state.preview.revealed.get(&id) == Some(&Reveal::Blurred)
                    }));
            match state.current_id() {
                Some(id)
                    if gated
                        && state.detail.as_ref().is_some_and(|d| {
                            matches!(d.row.kind.as_str(), "image" | "video" | "pdf")
                        }) =>
                {
                    state.preview.open = true;
                    state.mode = Mode::ConfirmReveal(id);
                }
                _ => state.message = Some((Level::Info, "nothing gated to reveal here".into())),
            }
            vec![]
        }
        Action::Overview => {
            state.message = Some((Level::Info, "counting the case…".into()));
            vec![Effect::Overview]
        }
        Action::ConfirmReview => match state.current_id() {
            Some(id) if state.view == View::Review => vec![Effect::ConfirmReview(id)],
            _ => {
                state.message = Some((
                    Level::Info,
                    "confirm works in the review view (w, then review)".into(),
                ));
                vec![]
            }
        },
        Action::Redraw => vec![],
        // The popups' actions: their keys are read only in their own contexts.
        _ => vec![],
    }
}

fn move_by(state: &mut State, delta: i64) -> Vec<Effect> {
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

fn page(state: &mut State, down: bool) -> Vec<Effect> {
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

fn select_changed(state: &mut State) -> Vec<Effect> {
    state.detail_scroll = 0;
    match state.current_id() {
        Some(id) => vec![Effect::Detail(id)],
        None => {
            state.detail = None;
            vec![]
        }
    }
}

fn toggle(state: &mut State, term: String) -> Vec<Effect> {
    let items = state.targets();
    if items.is_empty() {
        return vec![];
    }
    // With marks, remove only when every marked item carries the term (as far as the window
    // shows); otherwise add it to all. Without marks, the current item decides.
    let on = if state.marks.is_empty() {
        state.current_has(&term)
    } else {
        state.marks.iter().all(|id| {
            state
                .rows
                .iter()
                .find(|r| r.id == *id)
                .is_some_and(|r| r.tags.iter().any(|(_, t)| *t == term))
        })
    };
    let edit = if on {
        Edit::Tags {
            items,
            add: vec![],
            remove: vec![term],
        }
    } else {
        Edit::Tags {
            items,
            add: vec![term],
            remove: vec![],
        }
    };
    vec![Effect::Apply {
        edit,
        then: Then::Stay,
    }]
}

fn open_picker(state: &mut State, kind: TermKind) -> Vec<Effect> {
    if state.targets().is_empty() {
        state.message = Some((Level::Info, "no item to tag".into()));
        return vec![];
    }
    let original: BTreeSet<String> = if state.marks.is_empty() {
        state
            .current()
            .map(|r| {
                r.tags
                    .iter()
                    .filter(|(k, _)| k == kind.as_str())
                    .map(|(_, t)| t.clone())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        BTreeSet::new()
    };
    let mut p = Picker {
        kind,
        query: String::new(),
        matches: vec![],
        recent_count: 0,
        cursor: 0,
        checked: original.clone(),
        original,
    };
    picker::refilter(
        &mut p,
        &state.taxonomy,
        state.recent.get(&kind).map(Vec::as_slice).unwrap_or(&[]),
    );
    state.mode = Mode::Picker(p);
    vec![]
}

fn picker_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Picker(p) = &mut state.mode else {
        return vec![];
    };
    let recent = state.recent.get(&p.kind).cloned().unwrap_or_default();
    match keymap.action_in(Context::Picker, &ev) {
        Some(Action::PickerCancel) => {
            state.mode = Mode::Normal;
            vec![]
        }
        Some(Action::PickerDown) => {
            p.cursor = (p.cursor + 1).min(p.matches.len().saturating_sub(1));
            vec![]
        }
        Some(Action::PickerUp) => {
            p.cursor = p.cursor.saturating_sub(1);
            vec![]
        }
        Some(Action::PickerToggle) => {
            if let Some(&i) = p.matches.get(p.cursor) {
                let id = state.taxonomy.terms[i].id.clone();
                if !p.checked.remove(&id) {
                    p.checked.insert(id);
                }
                p.cursor = (p.cursor + 1).min(p.matches.len().saturating_sub(1));
            }
            vec![]
        }
        Some(Action::PickerApply) => {
            let (add, remove): (Vec<String>, Vec<String>) = if p.checked != p.original {
                (
                    p.checked.difference(&p.original).cloned().collect(),
                    p.original.difference(&p.checked).cloned().collect(),
                )
            } else if let Some(&i) = p.matches.get(p.cursor) {
                let id = state.taxonomy.terms[i].id.clone();
                if p.original.contains(&id) {
                    (vec![], vec![id])
                } else {
                    (vec![id], vec![])
                }
            } else {
                (vec![], vec![])
            };
            state.mode = Mode::Normal;
            let items = state.targets();
            if items.is_empty() || (add.is_empty() && remove.is_empty()) {
                return vec![];
            }
            vec![Effect::Apply {
                edit: Edit::Tags { items, add, remove },
                then: Then::Stay,
            }]
        }
        Some(Action::PickerClear) => {
            p.query.clear();
            picker::refilter(p, &state.taxonomy, &recent);
            vec![]
        }
        _ => match ev.code {
            // With an empty query, a digit applies that recent term at once.
            KeyCode::Char(d @ '1'..='9') if p.query.is_empty() && plain(&ev) => {
                let n = d as usize - '1' as usize;
                let Some(term) = recent.get(n).cloned() else {
                    return vec![];
                };
                state.mode = Mode::Normal;
                toggle(state, term)
            }
            KeyCode::Backspace => {
                p.query.pop();
                picker::refilter(p, &state.taxonomy, &recent);
                vec![]
            }
            KeyCode::Char(c) if plain(&ev) => {
                p.query.push(c);
                picker::refilter(p, &state.taxonomy, &recent);
                vec![]
            }
            _ => vec![],
        },
    }
}

/// A key that types its character (no Ctrl or Alt).
fn plain(ev: &KeyEvent) -> bool {
    !ev.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

fn open_prompt(state: &mut State, kind: PromptKind) -> Vec<Effect> {
    if state.current().is_none() {
        return vec![];
    }
    state.mode = Mode::Prompt(Prompt {
        kind,
        input: String::new(),
        error: None,
    });
    vec![]
}

fn prompt_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Prompt(p) = &mut state.mode else {
        return vec![];
    };
    let live = p.kind == PromptKind::Filter;
    match keymap.action_in(Context::Prompt, &ev) {
        Some(Action::PromptCancel) => {
            state.mode = Mode::Normal;
            // Live results were shown while typing: back to the filter as it was.
            match state.filter_before.take() {
                Some(before) => {
                    begin_query(state);
                    vec![Effect::SetFilter(before)]
                }
                None => vec![],
            }
        }
        Some(Action::PromptClear) => {
            p.input.clear();
            try_filter(state, live)
        }
        Some(Action::PromptSubmit) => {
            let input = p.input.trim().to_string();
            let kind = p.kind;
            match kind {
                // The prompt stays open until the filter is known to be valid.
                PromptKind::Filter => {
                    state.filter_before = None;
                    begin_query(state);
                    vec![Effect::SetFilter(Some(input).filter(|s| !s.is_empty()))]
                }
                PromptKind::Command => command(state, &input),
                PromptKind::Note | PromptKind::Escalate if input.is_empty() => {
                    p.error = Some("type some text, or Esc to cancel".into());
                    vec![]
                }
                PromptKind::Note => {
                    state.mode = Mode::Normal;
                    let Some(item) = state.current_id() else {
                        return vec![];
                    };
                    vec![Effect::Apply {
                        edit: Edit::Note { item, body: input },
                        then: Then::Stay,
                    }]
                }
                PromptKind::Escalate => {
                    state.mode = Mode::Normal;
                    let items = state.targets();
                    state.marks.clear();
                    vec![Effect::Apply {
                        edit: Edit::Status {
                            items,
                            to: "escalated".into(),
                            reason: Some(input),
                        },
                        then: Then::NextUntriaged,
                    }]
                }
            }
        }
        _ => match ev.code {
            KeyCode::Backspace => {
                p.input.pop();
                p.error = None;
                try_filter(state, live)
            }
            KeyCode::Char(c) if plain(&ev) => {
                p.input.push(c);
                p.error = None;
                try_filter(state, live)
            }
            _ => vec![],
        },
    }
}

fn views_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Views(m) = &mut state.mode else {
        return vec![];
    };
    match keymap.action_in(Context::Views, &ev) {
        Some(Action::ViewsClose) => {
            state.mode = Mode::Normal;
            vec![]
        }
        Some(Action::ViewsDown) => {
            m.cursor = (m.cursor + 1).min(m.views.len().saturating_sub(1));
            vec![]
        }
        Some(Action::ViewsUp) => {
            m.cursor = m.cursor.saturating_sub(1);
            vec![]
        }
        Some(Action::ViewsChoose) => choose_view(state),
        _ => match ev.code {
            KeyCode::Char(d @ '1'..='9') if plain(&ev) => {
                let i = d as usize - '1' as usize;
                if i < m.views.len() {
                    m.cursor = i;
                    return choose_view(state);
                }
                vec![]
            }
            _ => vec![],
        },
    }
}

fn choose_view(state: &mut State) -> Vec<Effect> {
    let Mode::Views(m) = &state.mode else {
        return vec![];
    };
    let Some(view) = m.views.get(m.cursor).cloned() else {
        return vec![];
    };
    state.mode = Mode::Normal;
    set_view(state, view)
}

fn set_view(state: &mut State, view: View) -> Vec<Effect> {
    let was_saved = matches!(state.view, View::Saved(_));
    state.view = view.clone();
    state.marks.clear();
    begin_query(state);
    // A saved view is all items under its filter; leaving one leaves its filter too.
    let saved_filter = match &view {
        View::Saved(name) => state
            .saved_views
            .iter()
            .find(|v| &v.name == name)
            .map(|v| v.expr.clone()),
        _ => None,
    };
    let leaving_saved = saved_filter.is_none() && state.filter.is_some() && was_saved;
    let mut effects = vec![Effect::SetView(view)];
    if saved_filter.is_some() || leaving_saved {
        effects.push(Effect::SetFilter(saved_filter));
    }
    effects
}

/// The built-in views, one per provider, then the saved views.
fn open_views(state: &mut State) -> Vec<Effect> {
    let mut views = vec![
        View::Untriaged,
        View::All,
        View::Mine,
        View::Flagged,
        View::Escalated,
    ];
    if state.role >= Some(crate::store::users::Role::Lead) {
        views.push(View::Review);
    }
    views.extend(state.sources.iter().cloned().map(View::Source));
    views.extend(
        state
            .saved_views
            .iter()
            .map(|v| View::Saved(v.name.clone())),
    );
    let cursor = views.iter().position(|v| *v == state.view).unwrap_or(0);
    state.mode = Mode::Views(ViewMenu { views, cursor });
    vec![]
}

/// Filter as the reviewer types: each keystroke is a new query that supersedes the last
/// (an expression that does not compile yet leaves the results as they are).
fn try_filter(state: &mut State, live: bool) -> Vec<Effect> {
    let Mode::Prompt(p) = &state.mode else {
        return vec![];
    };
    if !live {
        return vec![];
    }
    let input = p.input.trim().to_string();
    if state.filter_before.is_none() {
        state.filter_before = Some(state.filter.clone());
    }
    begin_query(state);
    vec![Effect::TryFilter(input)]
}

/// A new query supersedes any still running: answers of older generations are dropped.
fn begin_query(state: &mut State) {
    state.search_generation += 1;
    state.searching = true;
}

/// A `:` command.
fn command(state: &mut State, input: &str) -> Vec<Effect> {
    let (verb, rest) = input.split_once(' ').unwrap_or((input, ""));
    let rest = rest.trim();
    let error = match verb {
        "save" | "w" if rest.is_empty() => "expected a name: save NAME".to_string(),
        "save" | "w" => match &state.filter {
            Some(expr) => {
                let effect = Effect::SaveView {
                    name: rest.to_string(),
                    expr: expr.clone(),
                };
                state.mode = Mode::Normal;
                return vec![effect];
            }
            None => "no filter to save: set one with / first".to_string(),
        },
        "delete" if rest.is_empty() => "expected a name: delete NAME".to_string(),
        "delete" => {
            state.mode = Mode::Normal;
            return vec![Effect::DeleteView(rest.to_string())];
        }
        "views" => return open_views(state),
        _ => format!("unknown command `{verb}`; expected save NAME, delete NAME or views"),
    };
    if let Mode::Prompt(p) = &mut state.mode {
        p.error = Some(error);
    }
    vec![]
}

/// `s`: the current image and those grouped with it as the same picture; from there, back.
fn similar(state: &mut State) -> Vec<Effect> {
    if let View::Similar(_) = state.view {
        let back = state.previous_view.take().unwrap_or(View::Untriaged);
        return set_view(state, back);
    }
    let Some(row) = state.current() else {
        return vec![];
    };
    if row.kind != "image" {
        state.message = Some((Level::Info, "similar items: images only".into()));
        return vec![];
    }
    let id = row.id;
    state.previous_view = Some(state.view.clone());
    state.message = Some((
        Level::Info,
        "similar images: V marks them all, s goes back".into(),
    ));
    set_view(state, View::Similar(id))
}

fn help_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let (Mode::Help { scroll } | Mode::History { scroll, .. }) = &mut state.mode else {
        return vec![];
    };
    match keymap.action_in(Context::Scroll, &ev) {
        Some(Action::ScrollDown) => *scroll = scroll.saturating_add(1),
        Some(Action::ScrollUp) => *scroll = scroll.saturating_sub(1),
        Some(Action::ScrollPageDown) => *scroll = scroll.saturating_add(10),
        Some(Action::ScrollPageUp) => *scroll = scroll.saturating_sub(10),
        _ => state.mode = Mode::Normal,
    }
    vec![]
}

/// The overview: j/k (arrows) move between bars across sections, Tab jumps to the next
/// section, the map takes arrows and h/j/k/l for its cursor, Enter filters the queue.
fn overview_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
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
fn overview_enter(state: &mut State) -> Vec<Effect> {
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

fn has_gating_flag(state: &State) -> bool {
    state.detail.as_ref().is_some_and(|d| {
        d.tags
            .iter()
            .any(|t| super::preview::GATING_FLAGS.contains(&t.term.as_str()))
    })
}

/// How the item's picture is to be drawn: grayscale and blurred after a first reveal under
/// the gate-all setting, otherwise as the reviewer's grayscale setting says.
fn preview_variant(state: &State, id: i64) -> (bool, bool) {
    let p = &state.preview;
    if p.gate_all && p.revealed.get(&id) == Some(&Reveal::Blurred) {
        (true, true)
    } else {
        (p.grayscale, false)
    }
}

/// After the selection or its tags changed: what the preview pane should show, and whether
/// an image must be decoded (off the UI thread) for it.
fn refresh_preview(state: &mut State) -> Vec<Effect> {
    if !state.preview.open {
        return vec![];
    }
    let Some(d) = &state.detail else {
        state.preview.shown = Shown::Nothing;
        return vec![];
    };
    let id = d.row.id;
    if !matches!(d.row.kind.as_str(), "image" | "video" | "pdf") {
        state.preview.shown = Shown::Message(id, format!("no preview for {} items", d.row.kind));
        return vec![];
    }
    if !state.preview.enabled {
        state.preview.shown = Shown::Message(id, "previews are off (--images off)".into());
        return vec![];
    }
    let reasons = super::preview::gate_reasons(&state.preview, d, &state.taxonomy);
    if !reasons.is_empty() {
        state.preview.shown = Shown::Gated(id, reasons);
        return vec![];
    }
    let (grayscale, blur) = preview_variant(state, id);
    if matches!(&state.preview.shown, Shown::Picture(pid, _, v) if *pid == id && *v == (grayscale, blur))
        || matches!(&state.preview.shown, Shown::Loading(pid) if *pid == id)
    {
        return vec![];
    }
    state.preview.generation += 1;
    state.preview.shown = Shown::Loading(id);
    vec![Effect::Preview {
        generation: state.preview.generation,
        item_id: id,
        grayscale,
        blur,
    }]
}

/// An outcome from the runtime changes the state.
pub fn apply(state: &mut State, outcome: Outcome) -> Vec<Effect> {
    match outcome {
        Outcome::Window {
            rows,
            offset,
            select,
        } => {
            state.rows = rows;
            state.offset = offset;
            state.selected = match select {
                Select::First => 0,
                Select::Last => state.rows.len().saturating_sub(1),
                Select::Id(id) => state
                    .rows
                    .iter()
                    .position(|r| r.id >= id)
                    .unwrap_or(state.rows.len().saturating_sub(1)),
            };
            select_changed(state)
        }
        Outcome::Slide {
            rows,
            forward,
            advance,
        } => {
            if state.rows.is_empty() {
                return vec![];
            }
            if rows.is_empty() {
                // At the end of the view: a page key still moves to the last (first) row.
                let edge = if forward { state.rows.len() - 1 } else { 0 };
                if edge == state.selected {
                    return vec![];
                }
                state.selected = edge;
                return select_changed(state);
            }
            let n = rows.len();
            if forward {
                let target = state.selected + advance;
                state.rows.extend(rows);
                let target = target.min(state.rows.len() - 1);
                let excess = state.rows.len().saturating_sub(state.page);
                state.rows.drain(..excess);
                state.offset += excess as u64;
                state.selected = target.saturating_sub(excess);
            } else {
                let target = (state.selected + n).saturating_sub(advance);
                let mut all = rows;
                all.append(&mut state.rows);
                all.truncate(state.page.max(n));
                state.rows = all;
                state.offset = state.offset.saturating_sub(n as u64);
                state.selected = target.min(state.rows.len() - 1);
            }
            select_changed(state)
        }
        Outcome::Found { generation, rows } => {
            if generation != state.search_generation {
                return vec![]; // a newer query was asked for: a stale answer
            }
            apply(
                state,
                Outcome::Window {
                    rows,
                    offset: 0,
                    select: Select::First,
                },
            )
        }
        Outcome::Counted {
            generation,
            total,
            untriaged,
        } => {
            if generation == state.search_generation {
                state.total = total;
                state.untriaged = untriaged;
                state.searching = false;
                state.counted = true;
                if matches!(state.view, View::Similar(_)) && total <= 1 {
                    state.message = Some((
                        Level::Info,
                        "no other image in the case shows the same picture".into(),
                    ));
                }
            }
            vec![]
        }
        Outcome::SearchFailed { generation, error } => {
            if generation == state.search_generation {
                state.searching = false;
                state.message = Some((Level::Error, format!("search failed: {error}")));
            }
            vec![]
        }
        Outcome::Marked(ids) => {
            state.message = Some((
                Level::Info,
                format!("{} marked: tags now apply to all of them", ids.len()),
            ));
            state.marks = ids.into_iter().collect();
            vec![]
        }
        Outcome::SavedViews(v) => {
            state.saved_views = v;
            vec![]
        }
        Outcome::Detail(d) => {
            state.detail = d.map(|b| *b);
            refresh_preview(state)
        }
        Outcome::Preview(answer) => {
            if answer.generation != state.preview.generation {
                return vec![]; // the reviewer moved on: a stale answer
            }
            let variant = preview_variant(state, answer.item_id);
            state.preview.shown = match answer.result {
                Ok(pic) => {
                    state.preview.last_cost = Some(pic.cost);
                    Shown::Picture(answer.item_id, pic, variant)
                }
                Err(e) => Shown::Message(answer.item_id, e),
            };
            vec![]
        }
        Outcome::Revealed { item_id, full } => {
            let level = if full { Reveal::Full } else { Reveal::Blurred };
            let e = state.preview.revealed.entry(item_id).or_insert(level);
            *e = (*e).max(level);
            state.message = Some((
                Level::Saved,
                format!(
                    "revealed {} ({}) — recorded",
                    crate::store::reference(item_id),
                    if full {
                        "in full"
                    } else {
                        "grayscale, blurred; R again for full"
                    }
                ),
            ));
            refresh_preview(state)
        }
        Outcome::Saved { summary, at } => {
            state.last_saved = Some(format!("{at} {summary}"));
            state.message = Some((Level::Saved, format!("saved: {summary}")));
            vec![]
        }
        Outcome::NoChange(msg) => {
            state.message = Some((Level::Info, msg));
            vec![]
        }
        Outcome::Recent(kind, ids) => {
            state.recent.insert(kind, ids);
            vec![]
        }
        Outcome::Sources(s) => {
            state.sources = s;
            vec![]
        }
        Outcome::Filter(f) => {
            state.filter = f;
            if matches!(
                state.mode,
                Mode::Prompt(Prompt {
                    kind: PromptKind::Filter,
                    ..
                })
            ) {
                state.mode = Mode::Normal;
            }
            vec![]
        }
        Outcome::Incomplete => {
            state.searching = false;
            vec![]
        }
        Outcome::FilterError(e) => {
            state.searching = false;
            if let Mode::Prompt(p) = &mut state.mode {
                p.error = Some(e);
            } else {
                state.message = Some((Level::Error, e));
            }
            vec![]
        }
        Outcome::Overview(data) => {
            state.message = None;
            state.mode = Mode::Overview(Box::new(overview::build(*data, &state.taxonomy)));
            vec![]
        }
        Outcome::History(entries) => {
            state.mode = Mode::History { entries, scroll: 0 };
            vec![]
        }
        Outcome::ClaimedBy(id, other) => {
            if state.current_id() == Some(id) {
                state.message = Some((
                    Level::Error,
                    format!(
                        "{} is being reviewed by {}; changes to it are refused",
                        crate::store::reference(id),
                        other
                    ),
                ));
            }
            vec![]
        }
        Outcome::Role(role) => {
            state.role = role;
            vec![]
        }
        Outcome::Batch(b) => {
            state.batch = b;
            vec![]
        }
        Outcome::Error(e) => {
            state.message = Some((Level::Error, e));
            vec![]
        }
    }
}
