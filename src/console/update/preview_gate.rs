//! The preview pane: which picture to ask for, and the sensitivity gate.

use super::*;

pub(super) fn has_gating_flag(state: &State) -> bool {
    state.detail.as_ref().is_some_and(|d| {
        d.tags
            .iter()
            .any(|t| crate::console::preview::GATING_FLAGS.contains(&t.term.as_str()))
    })
}

/// How the item's picture is to be drawn: grayscale and blurred after a first reveal under
/// the gate-all setting, otherwise as the reviewer's grayscale setting says.
pub(super) fn preview_variant(state: &State, id: i64) -> (bool, bool) {
    let p = &state.preview;
    if p.gate_all && p.revealed.get(&id) == Some(&Reveal::Blurred) {
        (true, true)
    } else {
        (p.grayscale, false)
    }
}

/// After the selection or its tags changed: what the preview pane should show, and whether
/// an image must be decoded (off the UI thread) for it.
pub(super) fn refresh_preview(state: &mut State) -> Vec<Effect> {
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
    let reasons = crate::console::preview::gate_reasons(&state.preview, d, &state.taxonomy);
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
