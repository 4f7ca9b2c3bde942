//! Sixel and kitty pictures are sent beside the frame, not as cells: this decides, frame by
//! frame, when a picture must be sent, and when one on screen must go first (another picture,
//! a popup over the pane, a full redraw). A picture already on screen is not sent again while
//! nothing covers it.

use ratatui::layout::Rect;

use super::preview::Shown;
use super::state::{Mode, State};
use super::ui;
use crate::preview::graphics::{kitty_delete, Protocol};

/// What is on screen: whose picture, how it looks, where.
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    item_id: i64,
    look: crate::console::preview::Look,
    cost: usize,
    area: Rect,
}

#[derive(Debug, Default)]
pub struct Graphics {
    placed: Option<Placed>,
}

/// Bytes to send before the frame's cells and after them.
#[derive(Debug, Default)]
pub struct Plan {
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

impl Graphics {
    /// What this frame must send for pictures. `redrawn`: the screen was cleared.
    pub fn plan(&mut self, state: &State, redrawn: bool) -> Plan {
        let mut plan = Plan::default();
        let Some(protocol) = state.preview.protocol else {
            return plan;
        };
        let wanted = wanted(state);
        let want = wanted.as_ref().map(|(p, _)| p.clone());
        if redrawn {
            if protocol == Protocol::Kitty && self.placed.is_some() {
                plan.before.extend(kitty_delete());
            }
            self.placed = None;
        }
        if let Some(old) = self.placed.take() {
            if Some(&old) == want.as_ref() {
                self.placed = Some(old);
                return plan;
            }
            plan.before.extend(remove(protocol, old.area));
        }
        if let Some((p, bytes)) = wanted {
            plan.after
                .extend(format!("\x1b[{};{}H", p.area.y + 1, p.area.x + 1).as_bytes());
            plan.after.extend_from_slice(bytes);
            self.placed = Some(p);
        }
        plan
    }

    /// The cells a picture on screen covers.
    pub fn covered(&self) -> Option<Rect> {
        self.placed.as_ref().map(|p| p.area)
    }

    /// Bytes that take the picture off the screen (on quit).
    pub fn clear(&mut self, protocol: Option<Protocol>) -> Vec<u8> {
        match (self.placed.take(), protocol) {
            (Some(p), Some(proto)) => remove(proto, p.area),
            _ => Vec::new(),
        }
    }
}

/// The picture the frame should show, and its bytes: only while no popup is open (a popup
/// would be drawn under a kitty picture, or cut into a sixel one).
fn wanted(state: &State) -> Option<(Placed, &[u8])> {
    if !state.preview.open
        || !matches!(
            state.mode,
            Mode::Normal | Mode::Prompt(_) | Mode::ConfirmReveal(_)
        )
    {
        return None;
    }
    let Shown::Picture {
        item_id,
        picture: pic,
        look,
    } = &state.preview.shown
    else {
        return None;
    };
    let bytes = pic.graphic.as_deref()?;
    let inner = ui::preview_inner(state.width, state.height);
    Some((
        Placed {
            item_id: *item_id,
            look: *look,
            cost: pic.cost,
            area: ui::preview::picture_area(pic, inner),
        },
        bytes,
    ))
}

/// Take a picture off the screen. A sixel picture is pixels in the cells: they are erased
/// (the frame then draws whatever belongs there); kitty keeps its pictures apart: deleted.
fn remove(protocol: Protocol, area: Rect) -> Vec<u8> {
    match protocol {
        Protocol::Kitty => kitty_delete(),
        Protocol::Sixel => {
            let mut out = b"\x1b[0m".to_vec();
            for y in area.top()..area.bottom() {
                out.extend(
                    format!("\x1b[{};{}H\x1b[{}X", y + 1, area.x + 1, area.width).as_bytes(),
                );
            }
            out
        }
    }
}
