//! Everything a reviewer can ask for. The names are the ones written in a keymap file.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    SwitchPane,
    Quit,
    PickCrime,
    PickParty,
    PickFlag,
    /// Toggle sensitivity flag N (1-based, taxonomy order).
    ToggleFlag(u8),
    RepeatLast,
    MarkTriaged,
    Escalate,
    Note,
    Undo,
    ToggleMark,
    MarkAll,
    ClearMarks,
    Similar,
    Filter,
    Command,
    Views,
    Help,
    History,
    Preview,
    Reveal,
    Overview,
    /// Second-level review: confirm the decision on the current item (leads).
    ConfirmReview,
    Redraw,
}

impl Action {
    /// Every action with its keymap name and a one-line description (for `?`).
    pub fn all() -> Vec<(Action, &'static str, &'static str)> {
        let mut v = vec![
            (Action::Down, "down", "next item (or scroll details down)"),
            (Action::Up, "up", "previous item (or scroll details up)"),
            (Action::Top, "top", "first item"),
            (Action::Bottom, "bottom", "last item"),
            (Action::PageDown, "page-down", "one page down"),
            (Action::PageUp, "page-up", "one page up"),
            (
                Action::SwitchPane,
                "switch-pane",
                "switch between queue and details",
            ),
            (Action::Quit, "quit", "quit"),
            (Action::PickCrime, "pick-crime", "crimes picker"),
            (Action::PickParty, "pick-party", "parties picker"),
            (Action::PickFlag, "pick-flag", "sensitivity flags picker"),
            (
                Action::RepeatLast,
                "repeat-last",
                "apply the previous decision's tags here",
            ),
            (
                Action::MarkTriaged,
                "mark-triaged",
                "mark triaged, go to next untriaged",
            ),
            (
                Action::Escalate,
                "escalate",
                "escalate for second review (with a reason)",
            ),
            (Action::Note, "note", "add a note"),
            (Action::Undo, "undo", "undo your last change (recorded)"),
            (
                Action::ToggleMark,
                "toggle-mark",
                "mark/unmark item for bulk tagging",
            ),
            (
                Action::MarkAll,
                "mark-all",
                "mark every item in the view (up to 5,000) for bulk tagging",
            ),
            (Action::ClearMarks, "clear-marks", "clear marks and filter"),
            (
                Action::Similar,
                "similar",
                "show the images similar to this one (again: back)",
            ),
            (Action::Filter, "filter", "filter the current view"),
            (
                Action::Command,
                "command",
                "command: save NAME (the filter as a view), delete NAME, views",
            ),
            (
                Action::Views,
                "views",
                "choose a view (untriaged, all, mine, ...)",
            ),
            (Action::Help, "help", "this help"),
            (Action::History, "history", "the item's history (audit log)"),
            (Action::Preview, "preview", "show/hide the image preview"),
            (
                Action::Reveal,
                "reveal",
                "reveal a gated sensitive image (asks; recorded)",
            ),
            (
                Action::Overview,
                "overview",
                "overview of the case: counts, dates, map",
            ),
            (
                Action::ConfirmReview,
                "confirm-review",
                "review view: confirm the decision (leads; changing it is an overturn)",
            ),
            (Action::Redraw, "redraw", "redraw the whole screen"),
        ];
        for (n, name) in FLAG_NAMES.iter().enumerate() {
            v.push((
                Action::ToggleFlag(n as u8 + 1),
                name,
                "toggle sensitivity flag",
            ));
        }
        v
    }

    pub fn name(self) -> &'static str {
        Self::all()
            .into_iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, n, _)| n)
            .unwrap_or("?")
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Self::all()
            .into_iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| a)
    }
}

const FLAG_NAMES: [&str; 9] = [
    "toggle-flag-1",
    "toggle-flag-2",
    "toggle-flag-3",
    "toggle-flag-4",
    "toggle-flag-5",
    "toggle-flag-6",
    "toggle-flag-7",
    "toggle-flag-8",
    "toggle-flag-9",
];
