//! The preview pane: which picture to ask for, and the sensitivity gate.

use super::*;

pub(super) fn has_gating_flag(state: &State) -> bool {
    state.detail.as_ref().is_some_and(|d| {
        d.tags
            .iter()
            .any(|t| crate::console::preview::GATING_FLAGS.contains(&t.term.as_str()))
    })
}

/// How the item's picture is to be drawn: grayscale and blurred after a first reveal (under
/// the gate-all setting, or of a flagged item), otherwise as the reviewer's grayscale setting
/// says.
pub(super) fn preview_look(state: &State, id: i64) -> Look {
    let p = &state.preview;
    if p.revealed.get(&id) == Some(&Reveal::Blurred) {
        Look {
            grayscale: true,
            blurred: true,
        }
    } else {
        Look {
            grayscale: p.grayscale,
            blurred: false,
        }
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
    if let Some(shown) = withheld(state) {
        state.preview.shown = shown;
        return vec![];
    }
    let Some(d) = &state.detail else {
        return vec![];
    };
    let reasons = crate::console::preview::gate_reasons(&state.preview, d, &state.taxonomy);
    if !reasons.is_empty() {
        state.preview.shown = Shown::Gated(id, reasons);
        return vec![];
    }
    let look = preview_look(state, id);
    if matches!(&state.preview.shown, Shown::Picture { item_id, look: l, .. } if *item_id == id && *l == look)
        || matches!(&state.preview.shown, Shown::Loading(pid) if *pid == id)
    {
        return vec![];
    }
    state.preview.generation += 1;
    state.preview.shown = Shown::Loading(id);
    vec![Effect::Preview {
        sha256: d.row.sha256.clone(),
        request: Box::new(preview_request(state, d, look)),
    }]
}

/// What the preview worker is asked to draw (the runtime adds where the original is).
fn preview_request(state: &State, d: &Detail, look: Look) -> crate::preview::Request {
    let (max_cols, max_rows) = crate::console::ui::preview_cells(state.width, state.height);
    let visual =
        crate::preview::visual_of(&d.row.kind, d.metadata.video.as_ref()).unwrap_or_default();
    let p = &state.preview;
    crate::preview::Request {
        visual,
        generation: p.generation,
        item_id: d.row.id,
        path: Default::default(),
        thumbnail: None,
        orientation: d
            .metadata
            .exif
            .as_ref()
            .and_then(|e| e.orientation)
            .unwrap_or(1),
        max_cols,
        max_rows,
        budget: p.budget,
        depth: p.depth,
        grayscale: look.grayscale,
        blur: look.blurred,
        protocol: p.protocol,
        cell_px: p.cell_px,
        ahead: images_ahead(state),
    }
}

/// The items with a picture (images, videos, PDFs) after the selected one (then the one
/// before): those a reviewer pressing `j` (or `k`) sees next.
fn images_ahead(state: &State) -> Vec<i64> {
    const AHEAD: usize = 3;
    let rows = &state.rows;
    let at = state.selected;
    let pictured =
        |r: &&crate::store::items::Row| crate::preview::visual_of(&r.kind, None).is_some();
    let after = rows.iter().skip(at + 1).filter(pictured);
    let before = rows[..at.min(rows.len())].iter().rev().filter(pictured);
    after
        .take(AHEAD)
        .chain(before.take(1))
        .map(|r| r.id)
        .collect()
}
