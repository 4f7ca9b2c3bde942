//! Key → action → state change. Pure: no I/O. What must touch the case comes back as effects,
//! and their outcomes come in through `apply`. One file per mode: navigate, tagging (the
//! pickers), prompt, views, overview_keys, popups, preview_gate, outcomes.

mod dispatch;
mod incidents;
mod limits;
mod navigate;
mod outcomes;
mod overview_keys;
mod popups;
mod preview_gate;
mod prompt;
mod tagging;
mod views;

use std::collections::BTreeSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Context};
use super::effect::{AfterChange, Anchor, Effect, Outcome, Select};
use super::keymap::Keymap;
use super::overview;
use super::picker;
use super::preview::{Look, Reveal, Shown};
use super::state::{Level, Mode, Pane, Picker, Prompt, PromptKind, State, ViewMenu};
use crate::store::changes::Edit;
use crate::store::items::Detail;
use crate::store::query::{Selection, View};
use crate::taxonomy::TermKind;
pub use dispatch::{
    awaiting, first_detail, next_held, renew, resize, rest_of_start, settle, start, tasks,
};
use incidents::*;
use limits::*;
use navigate::*;
pub use outcomes::{apply, case_moved};
use overview_keys::*;
use popups::*;
use preview_gate::*;
use prompt::*;
use tagging::*;
use views::*;

/// A key press in whatever mode the console is in.
pub fn key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    if ev.kind == KeyEventKind::Release {
        return vec![];
    }
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return vec![];
    }
    // A key typed while the window is loading, or a decision is being saved, acts on the
    // window it will show.
    if state.loading.is_some() || state.saving > 0 {
        state.held.push(ev);
        return vec![];
    }
    // A new key replaces the last message (it has been seen).
    if matches!(state.mode, Mode::Normal) {
        state.message = None;
    }
    match &state.mode {
        Mode::Normal => match keymap.action(&ev) {
            Some(a) => update(state, a),
            None => vec![],
        },
        Mode::Picker(_) => picker_key(state, keymap, ev),
        Mode::Incidents(_) => incidents_key(state, keymap, ev),
        Mode::Prompt(_) => prompt_key(state, keymap, ev),
        Mode::Views(_) => views_key(state, keymap, ev),
        Mode::Help { .. } | Mode::History { .. } => help_key(state, keymap, ev),
        Mode::Overview(_) => overview_key(state, keymap, ev),
        Mode::Limit(rule) => {
            let rule = *rule;
            limit_key(state, keymap, ev, rule)
        }
        Mode::ConfirmReveal(id) => {
            let id = *id;
            state.mode = Mode::Normal;
            if keymap.action_in(Context::Confirm, &ev) == Some(Action::ConfirmYes) {
                // A first reveal is grayscale and blurred: under the gate-all setting, and for
                // flagged items while the case keeps flagged pictures blurred at first.
                let blurred_first = if has_gating_flag(state) {
                    state.preview.blur_flagged
                } else {
                    state.preview.gate_all
                };
                let full = !blurred_first || state.preview.revealed.contains_key(&id);
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
        let step = match action {
            Action::Down => 1,
            Action::Up => -1,
            Action::PageDown => state.page as i32,
            Action::PageUp => -(state.page as i32),
            _ => 0,
        };
        if step != 0 {
            // Within the text: never past its last line (from where `k` would seem dead).
            let last = i32::from(crate::console::ui::details::last_scroll(state));
            let now = i32::from(state.detail_scroll).min(last);
            state.detail_scroll = (now + step).clamp(0, last) as u16;
            return vec![];
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
        Action::LinkIncident => open_incidents(state),
        Action::ConfirmSuggestion => confirm_suggestion(state),
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
                then: AfterChange::NextUntriaged,
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
        Action::Family => family(state),
        Action::Parent => parent(state),
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
                || state
                    .current_id()
                    .is_some_and(|id| state.preview.revealed.get(&id) == Some(&Reveal::Blurred));
            if state.detail.as_ref().is_some_and(|d| {
                crate::console::wellbeing::is_graphic(d) && state.wellbeing.daily_reached()
            }) {
                // Past the daily limit, a graphic item is revealed only by choosing to go on.
                state.preview.open = true;
                ask(state, crate::store::wellbeing::Rule::PerDay);
                return vec![];
            }
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
        Action::Redraw => {
            state.redraw_all = true;
            vec![]
        }
        // The popups' actions: their keys are read only in their own contexts.
        _ => vec![],
    }
}

/// A key that types its character (no Ctrl or Alt).
fn plain(ev: &KeyEvent) -> bool {
    !ev.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}
