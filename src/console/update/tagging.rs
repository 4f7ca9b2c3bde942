//! Tagging: the pickers (crimes, parties, flags) and flag keys.

use super::*;

pub(super) fn toggle(state: &mut State, term: String) -> Vec<Effect> {
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
        then: AfterChange::Stay,
    }]
}

pub(super) fn open_picker(state: &mut State, kind: TermKind) -> Vec<Effect> {
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

pub(super) fn picker_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
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
                then: AfterChange::Stay,
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
