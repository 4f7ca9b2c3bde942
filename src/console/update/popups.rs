//! Help and history: scrolled, and closed by any other key.

use super::*;

pub(super) fn help_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
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
