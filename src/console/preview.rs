//! The preview pane's state and the sensitivity gate: which items' images may be drawn, and
//! what stands in for them until a reviewer reveals them deliberately.

use std::collections::HashMap;

use crate::preview::{Depth, Picture};
use crate::store::items::Detail;
use crate::taxonomy::Taxonomy;

/// Flags whose images are never drawn until revealed.
pub const GATING_FLAGS: &[&str] = &["graphic", "remains", "children", "sgbv", "detainees"];

#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Nothing,
    Loading(i64),
    /// An item's picture, drawn as `look` says.
    Picture {
        item_id: i64,
        picture: Picture,
        look: Look,
    },
    /// Withheld: the reasons (flag labels, or the reviewer's gate-all setting).
    Gated(i64, Vec<String>),
    Message(i64, String),
}

/// How a picture is drawn: in grey, blurred (a first reveal under the gate-all setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub grayscale: bool,
    pub blurred: bool,
}

/// How far an item has been revealed in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reveal {
    /// Grayscale and blurred (first step when every image is gated).
    Blurred,
    Full,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub open: bool,
    pub generation: u64,
    pub shown: Shown,
    pub revealed: HashMap<i64, Reveal>,
    /// The reviewer's setting: every image is gated, and revealed blurred first.
    pub gate_all: bool,
    /// The case's setting (on by default): flagged pictures are revealed blurred and grey
    /// first, then in full.
    pub blur_flagged: bool,
    pub grayscale: bool,
    pub depth: Depth,
    pub budget: usize,
    pub enabled: bool,
    pub last_cost: Option<usize>,
    /// Sixel or kitty pictures instead of half blocks (`--images`).
    pub protocol: Option<crate::preview::graphics::Protocol>,
    /// Pixels per cell as the terminal reports them (sixel and kitty only).
    pub cell_px: (u16, u16),
}

impl Preview {
    pub fn new(
        depth: Depth,
        budget: usize,
        gate_all: bool,
        grayscale: bool,
        enabled: bool,
    ) -> Preview {
        Preview {
            open: false,
            generation: 0,
            shown: Shown::Nothing,
            revealed: HashMap::new(),
            gate_all,
            blur_flagged: true,
            grayscale,
            depth,
            budget,
            enabled,
            last_cost: None,
            protocol: None,
            cell_px: crate::preview::graphics::FALLBACK_CELL,
        }
    }
}

/// Why an item's image is withheld right now, if it is: the labels of its gating flags, or
/// the gate-all setting. Empty when it may be shown.
pub fn gate_reasons(p: &Preview, d: &Detail, tax: &Taxonomy) -> Vec<String> {
    let flags: Vec<String> = d
        .tags
        .iter()
        .filter(|t| GATING_FLAGS.contains(&t.term.as_str()))
        .map(|t| {
            tax.get(&t.term)
                .map(|x| x.en.clone())
                .unwrap_or_else(|| t.term.clone())
        })
        .collect();
    let revealed = p.revealed.get(&d.row.id).copied();
    let needed = if flags.is_empty() && !p.gate_all {
        None
    } else if (p.gate_all && flags.is_empty()) || (!flags.is_empty() && p.blur_flagged) {
        Some(Reveal::Blurred)
    } else {
        Some(Reveal::Full)
    };
    match (needed, revealed) {
        (None, _) => vec![],
        (Some(n), Some(r)) if r >= n => vec![],
        (Some(_), _) if p.gate_all && flags.is_empty() => {
            vec!["all images are gated (your setting)".into()]
        }
        (Some(_), _) => flags,
    }
}
