//! Views: the menu, choosing one, the similar-images view and a family's view.

use super::*;

pub(super) fn views_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
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

pub(super) fn choose_view(state: &mut State) -> Vec<Effect> {
    let Mode::Views(m) = &state.mode else {
        return vec![];
    };
    let Some(view) = m.views.get(m.cursor).cloned() else {
        return vec![];
    };
    state.mode = Mode::Normal;
    set_view(state, view)
}

pub(super) fn set_view(state: &mut State, view: View) -> Vec<Effect> {
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
    state.selection = Selection::new(&view, &state.reviewer, state.filter_where.clone());
    let mut effects = vec![Effect::Search { window: true }];
    if saved_filter.is_some() || leaving_saved {
        effects.push(Effect::SetFilter(saved_filter));
    }
    effects
}

/// The built-in views, one per provider, then the saved views.
pub(super) fn open_views(state: &mut State) -> Vec<Effect> {
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

/// `s`: the current image and those grouped with it as the same picture; from there, back.
pub(super) fn similar(state: &mut State) -> Vec<Effect> {
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

/// `F`: a container and its members; from a family's view, back.
pub(super) fn family(state: &mut State) -> Vec<Effect> {
    if let View::Family(_) = state.view {
        let back = state.previous_view.take().unwrap_or(View::Untriaged);
        return set_view(state, back);
    }
    let Some(id) = state.current_id() else {
        return vec![];
    };
    // Before its details are read, the view opens all the same (it then holds the item alone).
    let known = state.detail.as_ref().filter(|d| d.row.id == id);
    if let Some(d) = known.filter(|d| d.children == 0) {
        let hint = if d.parent().is_some() {
            " (P: its container)"
        } else {
            ""
        };
        state.message = Some((
            Level::Info,
            format!("{} holds no members{hint}", crate::store::reference(id)),
        ));
        return vec![];
    }
    open_family(state, id)
}

/// `P`: the family of the container the current item came in.
pub(super) fn parent(state: &mut State) -> Vec<Effect> {
    let Some(id) = state.current_id() else {
        return vec![];
    };
    match state.detail.as_ref().filter(|d| d.row.id == id) {
        Some(d) => {
            let parent = d.parent().map(|m| m.parent);
            parent_found(state, id, parent)
        }
        None => vec![Effect::Parent(id)],
    }
}

pub(super) fn parent_found(state: &mut State, id: i64, parent: Option<i64>) -> Vec<Effect> {
    match parent {
        Some(parent) => open_family(state, parent),
        None => {
            state.message = Some((
                Level::Info,
                format!("{} came in no container", crate::store::reference(id)),
            ));
            vec![]
        }
    }
}

fn open_family(state: &mut State, id: i64) -> Vec<Effect> {
    if !matches!(state.view, View::Family(_)) {
        state.previous_view = Some(state.view.clone());
    }
    state.message = Some((
        Level::Info,
        format!(
            "family of {}: V marks them all, F goes back",
            crate::store::reference(id)
        ),
    ));
    set_view(state, View::Family(id))
}
