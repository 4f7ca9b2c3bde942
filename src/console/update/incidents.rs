//! Incidents: the picker (link the current or marked items to an incident, or unlink them),
//! an incident created inline without leaving the queue, and a suggestion confirmed with a key.

use super::*;
use crate::console::state::{Draft, IncidentPicker};
use crate::store::incidents::Record;

pub(super) fn open_incidents(state: &mut State) -> Vec<Effect> {
    if state.targets().is_empty() {
        state.message = Some((Level::Info, "no item to link".into()));
        return vec![];
    }
    // Without marks, the incidents the current item is linked to (as its details say).
    let linked = match (&state.detail, state.current_id()) {
        (Some(d), Some(id)) if state.marks.is_empty() && d.row.id == id => {
            d.incidents.iter().map(|l| l.id).collect()
        }
        _ => BTreeSet::new(),
    };
    let mut p = IncidentPicker {
        query: String::new(),
        matches: vec![],
        recent_count: 0,
        cursor: 0,
        linked,
    };
    picker::refilter_incidents(&mut p, &state.incidents, &state.recent_incidents);
    state.mode = Mode::Incidents(p);
    vec![]
}

/// Link the targets to an incident (or unlink them).
fn link(state: &mut State, incident: i64, on: bool) -> Vec<Effect> {
    state.mode = Mode::Normal;
    let items = state.targets();
    if items.is_empty() {
        return vec![];
    }
    vec![Effect::Apply {
        edit: Edit::Link {
            items,
            incident,
            on,
        },
        then: AfterChange::Stay,
    }]
}

pub(super) fn incidents_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Incidents(p) = &mut state.mode else {
        return vec![];
    };
    // Titles and places have spaces: here Space types one (there is nothing to tick).
    if ev.code == KeyCode::Char(' ') && plain(&ev) {
        p.query.push(' ');
        picker::refilter_incidents(p, &state.incidents, &state.recent_incidents);
        return vec![];
    }
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
        Some(Action::PickerApply) => match p.matches.get(p.cursor) {
            Some(Some(id)) => {
                let (id, on) = (*id, !p.linked.contains(id));
                link(state, id, on)
            }
            Some(None) => {
                let title = p.query.trim().to_string();
                start_draft(state, title)
            }
            None => vec![],
        },
        Some(Action::PickerClear) => {
            p.query.clear();
            picker::refilter_incidents(p, &state.incidents, &state.recent_incidents);
            vec![]
        }
        _ => match ev.code {
            // With an empty query, a digit links that recent incident at once.
            KeyCode::Char(d @ '1'..='9') if p.query.is_empty() && plain(&ev) => {
                let n = d as usize - '1' as usize;
                let Some(Some(id)) = p.matches.get(n).filter(|_| n < p.recent_count) else {
                    return vec![];
                };
                let (id, on) = (*id, !p.linked.contains(id));
                link(state, id, on)
            }
            KeyCode::Backspace => {
                p.query.pop();
                picker::refilter_incidents(p, &state.incidents, &state.recent_incidents);
                vec![]
            }
            KeyCode::Char(c) if plain(&ev) => {
                p.query.push(c);
                picker::refilter_incidents(p, &state.incidents, &state.recent_incidents);
                vec![]
            }
            _ => vec![],
        },
    }
}

/// A new incident for the targets: its title (what was typed, to edit), dates and place are
/// asked in the status line, then it is created and linked.
fn start_draft(state: &mut State, title: String) -> Vec<Effect> {
    state.draft = Some(Draft {
        record: Record {
            title: title.clone(),
            status: "open".into(),
            ..Record::default()
        },
        items: state.targets(),
    });
    state.mode = Mode::Prompt(Prompt {
        kind: PromptKind::IncidentTitle,
        input: title,
        error: None,
    });
    vec![]
}

/// A draft's prompt answered: the next one, or the incident to create.
pub(super) fn draft_step(state: &mut State, kind: PromptKind, input: String) -> Vec<Effect> {
    let Some(draft) = state.draft.as_mut() else {
        state.mode = Mode::Normal;
        return vec![];
    };
    let next = match kind {
        PromptKind::IncidentTitle => {
            if input.is_empty() {
                return prompt_error(state, "an incident needs a title (Esc: cancel)");
            }
            draft.record.title = input;
            Some(PromptKind::IncidentDate)
        }
        PromptKind::IncidentDate => {
            if !input.is_empty() {
                match crate::store::incidents::parse_dates(&input) {
                    Ok((a, b)) => (draft.record.date_from, draft.record.date_to) = (Some(a), b),
                    Err(e) => return prompt_error(state, &e),
                }
            }
            Some(PromptKind::IncidentPlace)
        }
        _ => {
            draft.record.place = input;
            None
        }
    };
    match next {
        Some(kind) => {
            state.mode = Mode::Prompt(Prompt {
                kind,
                input: String::new(),
                error: None,
            });
            vec![]
        }
        None => {
            state.mode = Mode::Normal;
            let Some(Draft { record, items }) = state.draft.take() else {
                return vec![];
            };
            vec![Effect::CreateIncident { record, items }]
        }
    }
}

fn prompt_error(state: &mut State, e: &str) -> Vec<Effect> {
    if let Mode::Prompt(p) = &mut state.mode {
        p.error = Some(e.to_string());
    }
    vec![]
}

/// `L`: link the current item to the first incident its details suggest.
pub(super) fn confirm_suggestion(state: &mut State) -> Vec<Effect> {
    let suggested = match (&state.detail, state.current_id()) {
        (Some(d), Some(id)) if d.row.id == id => d.suggested.first().map(|(s, _)| s.incident),
        _ => None,
    };
    match (suggested, state.current_id()) {
        (Some(incident), Some(item)) => vec![Effect::Apply {
            edit: Edit::Link {
                items: vec![item],
                incident,
                on: true,
            },
            then: AfterChange::Stay,
        }],
        _ => {
            state.message = Some((Level::Info, "no incident suggested for this item".into()));
            vec![]
        }
    }
}
