//! Everything a reviewer can ask for, in one table: each action's keymap name, the context its
//! keys are read in, its default keys and its line in the help. The keymap, the help screen and
//! the keymap file's names all come from this table, so they cannot drift apart.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// The incidents picker: link the item (or the marked ones) to an incident.
    LinkIncident,
    /// Link the current item to the first incident its details suggest.
    ConfirmSuggestion,
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
    /// A container and its members as a view.
    Family,
    /// The container the current item came in.
    Parent,
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
    // In a picker (typing filters it; these are the keys that do something else).
    PickerDown,
    PickerUp,
    PickerToggle,
    PickerApply,
    PickerCancel,
    PickerClear,
    // In a prompt.
    PromptSubmit,
    PromptCancel,
    PromptClear,
    // In the views menu (1-9 choose a view at once).
    ViewsDown,
    ViewsUp,
    ViewsChoose,
    ViewsClose,
    // In the overview.
    OverviewDown,
    OverviewUp,
    OverviewNextSection,
    OverviewPrevSection,
    OverviewPageDown,
    OverviewPageUp,
    OverviewTop,
    OverviewBottom,
    OverviewFilter,
    OverviewClose,
    // On the overview's map.
    MapNorth,
    MapSouth,
    MapWest,
    MapEast,
    // In the help and history popups (any other key closes them).
    ScrollDown,
    ScrollUp,
    ScrollPageDown,
    ScrollPageUp,
    // Asked "reveal?": any other key says no.
    ConfirmYes,
    // At a limit on graphic material: any other key says "not now".
    LimitSafeQueue,
    LimitGoOn,
}

/// Where a key is read. A key may mean one thing in the queue and another in a popup; within
/// one context it means one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Queue,
    Picker,
    Prompt,
    Views,
    Overview,
    Map,
    Scroll,
    Confirm,
    Limit,
}

impl Context {
    pub const ALL: [Context; 9] = [
        Context::Queue,
        Context::Picker,
        Context::Prompt,
        Context::Views,
        Context::Overview,
        Context::Map,
        Context::Scroll,
        Context::Confirm,
        Context::Limit,
    ];

    /// The heading of its part of the help.
    pub fn title(self) -> &'static str {
        match self {
            Context::Queue => "queue and details",
            Context::Picker => "in a picker (type to filter; 1-9 apply a recent term)",
            Context::Prompt => "in a prompt",
            Context::Views => "in the views menu (1-9 choose at once)",
            Context::Overview => "in the overview",
            Context::Map => "on the overview's map",
            Context::Scroll => "in help and history (any other key closes)",
            Context::Confirm => "asked to reveal (any other key: no)",
            Context::Limit => "at a limit on graphic material (any other key: not now)",
        }
    }
}

/// One row of the table.
pub struct Spec {
    pub action: Action,
    pub name: &'static str,
    pub context: Context,
    pub keys: &'static [&'static str],
    pub help: &'static str,
}

const fn spec(
    action: Action,
    name: &'static str,
    context: Context,
    keys: &'static [&'static str],
    help: &'static str,
) -> Spec {
    Spec {
        action,
        name,
        context,
        keys,
        help,
    }
}

use Action as A;
use Context as C;

/// The table. Its order is the help's order.
#[rustfmt::skip]
pub const ACTIONS: &[Spec] = &[
    spec(A::Down, "down", C::Queue, &["j", "Down"], "next item (or scroll details down)"),
    spec(A::Up, "up", C::Queue, &["k", "Up"], "previous item (or scroll details up)"),
    spec(A::Top, "top", C::Queue, &["g", "Home"], "first item"),
    spec(A::Bottom, "bottom", C::Queue, &["G", "End"], "last item"),
    spec(A::PageDown, "page-down", C::Queue, &["PgDn", "C-f", "C-d"], "one page down"),
    spec(A::PageUp, "page-up", C::Queue, &["PgUp", "C-b", "C-u"], "one page up"),
    spec(A::SwitchPane, "switch-pane", C::Queue, &["Tab"], "switch between queue and details"),
    spec(A::Quit, "quit", C::Queue, &["q"], "quit"),
    spec(A::PickCrime, "pick-crime", C::Queue, &["c"], "crimes picker"),
    spec(A::PickParty, "pick-party", C::Queue, &["p"], "parties picker"),
    spec(A::PickFlag, "pick-flag", C::Queue, &["f"], "sensitivity flags picker"),
    spec(A::LinkIncident, "link-incident", C::Queue, &["l"], "incidents picker: link to an incident (or create one)"),
    spec(A::ConfirmSuggestion, "confirm-suggestion", C::Queue, &["L"], "link to the incident the details suggest"),
    spec(A::RepeatLast, "repeat-last", C::Queue, &["."], "apply the previous decision's tags and incidents here"),
    spec(A::MarkTriaged, "mark-triaged", C::Queue, &["x"], "mark triaged, go to next untriaged"),
    spec(A::Escalate, "escalate", C::Queue, &["e"], "escalate for second review (with a reason)"),
    spec(A::Note, "note", C::Queue, &["n"], "add a note"),
    spec(A::Undo, "undo", C::Queue, &["u"], "undo your last change (recorded)"),
    spec(A::ToggleMark, "toggle-mark", C::Queue, &["v"], "mark/unmark item for bulk tagging"),
    spec(A::MarkAll, "mark-all", C::Queue, &["V"], "mark every item in the view (up to 5,000) for bulk tagging"),
    spec(A::ClearMarks, "clear-marks", C::Queue, &["Esc"], "clear marks and filter"),
    spec(A::Similar, "similar", C::Queue, &["s"], "show the images similar to this one (again: back)"),
    spec(A::Family, "family", C::Queue, &["F"], "this container and its members as a view (again: back; V marks them all)"),
    spec(A::Parent, "parent", C::Queue, &["P"], "go to the container this item came in (its family as a view)"),
    spec(A::Filter, "filter", C::Queue, &["/"], "filter the current view"),
    spec(A::Command, "command", C::Queue, &[":"], "command: save NAME (the filter as a view), delete NAME, views"),
    spec(A::Views, "views", C::Queue, &["w"], "choose a view (untriaged, all, mine, ...)"),
    spec(A::Help, "help", C::Queue, &["?", "F1"], "this help"),
    spec(A::History, "history", C::Queue, &["H"], "the item's history (audit log)"),
    spec(A::Preview, "preview", C::Queue, &["i"], "show/hide the image preview"),
    spec(A::Reveal, "reveal", C::Queue, &["R"], "reveal a gated sensitive image (asks; recorded)"),
    spec(A::Overview, "overview", C::Queue, &["O"], "overview of the case: counts, dates, map"),
    spec(A::ConfirmReview, "confirm-review", C::Queue, &["a"], "review view: confirm the decision (leads; changing it is an overturn)"),
    spec(A::Redraw, "redraw", C::Queue, &["C-l"], "redraw the whole screen"),
    spec(A::ToggleFlag(1), "toggle-flag-1", C::Queue, &["1"], "toggle sensitivity flag 1"),
    spec(A::ToggleFlag(2), "toggle-flag-2", C::Queue, &["2"], "toggle sensitivity flag 2"),
    spec(A::ToggleFlag(3), "toggle-flag-3", C::Queue, &["3"], "toggle sensitivity flag 3"),
    spec(A::ToggleFlag(4), "toggle-flag-4", C::Queue, &["4"], "toggle sensitivity flag 4"),
    spec(A::ToggleFlag(5), "toggle-flag-5", C::Queue, &["5"], "toggle sensitivity flag 5"),
    spec(A::ToggleFlag(6), "toggle-flag-6", C::Queue, &["6"], "toggle sensitivity flag 6"),
    spec(A::ToggleFlag(7), "toggle-flag-7", C::Queue, &["7"], "toggle sensitivity flag 7"),
    spec(A::ToggleFlag(8), "toggle-flag-8", C::Queue, &["8"], "toggle sensitivity flag 8"),
    spec(A::ToggleFlag(9), "toggle-flag-9", C::Queue, &["9"], "toggle sensitivity flag 9"),
    spec(A::PickerDown, "picker-down", C::Picker, &["Down", "C-n"], "next term"),
    spec(A::PickerUp, "picker-up", C::Picker, &["Up", "C-p"], "previous term"),
    spec(A::PickerToggle, "picker-toggle", C::Picker, &["Space"], "check/uncheck the term"),
    spec(A::PickerApply, "picker-apply", C::Picker, &["Enter"], "apply the checked terms (or the one under the cursor)"),
    spec(A::PickerCancel, "picker-cancel", C::Picker, &["Esc"], "close without a change"),
    spec(A::PickerClear, "picker-clear", C::Picker, &["C-u"], "clear what was typed"),
    spec(A::PromptSubmit, "prompt-submit", C::Prompt, &["Enter"], "done"),
    spec(A::PromptCancel, "prompt-cancel", C::Prompt, &["Esc"], "cancel (a filter goes back to what it was)"),
    spec(A::PromptClear, "prompt-clear", C::Prompt, &["C-u"], "clear what was typed"),
    spec(A::ViewsDown, "views-down", C::Views, &["j", "Down"], "next view"),
    spec(A::ViewsUp, "views-up", C::Views, &["k", "Up"], "previous view"),
    spec(A::ViewsChoose, "views-choose", C::Views, &["Enter"], "show the view"),
    spec(A::ViewsClose, "views-close", C::Views, &["Esc", "q"], "close the menu"),
    spec(A::OverviewDown, "overview-down", C::Overview, &["j", "Down", "l", "Right"], "next bar"),
    spec(A::OverviewUp, "overview-up", C::Overview, &["k", "Up", "h", "Left"], "previous bar"),
    spec(A::OverviewNextSection, "overview-next-section", C::Overview, &["Tab"], "next section (the map last)"),
    spec(A::OverviewPrevSection, "overview-prev-section", C::Overview, &["BTab"], "previous section"),
    spec(A::OverviewPageDown, "overview-page-down", C::Overview, &["PgDn"], "ten bars down"),
    spec(A::OverviewPageUp, "overview-page-up", C::Overview, &["PgUp"], "ten bars up"),
    spec(A::OverviewTop, "overview-top", C::Overview, &["g", "Home"], "first bar"),
    spec(A::OverviewBottom, "overview-bottom", C::Overview, &["G", "End"], "last bar"),
    spec(A::OverviewFilter, "overview-filter", C::Overview, &["Enter"], "the queue, filtered by the bar or place"),
    spec(A::OverviewClose, "overview-close", C::Overview, &["Esc", "q", "O"], "back to the queue"),
    spec(A::MapNorth, "map-north", C::Map, &["k", "Up"], "move the map's cursor north"),
    spec(A::MapSouth, "map-south", C::Map, &["j", "Down"], "move the map's cursor south"),
    spec(A::MapWest, "map-west", C::Map, &["h", "Left"], "move the map's cursor west"),
    spec(A::MapEast, "map-east", C::Map, &["l", "Right"], "move the map's cursor east"),
    spec(A::ScrollDown, "scroll-down", C::Scroll, &["j", "Down"], "scroll down"),
    spec(A::ScrollUp, "scroll-up", C::Scroll, &["k", "Up"], "scroll up"),
    spec(A::ScrollPageDown, "scroll-page-down", C::Scroll, &["PgDn", "C-f", "C-d"], "scroll a page down"),
    spec(A::ScrollPageUp, "scroll-page-up", C::Scroll, &["PgUp", "C-b", "C-u"], "scroll a page up"),
    spec(A::ConfirmYes, "confirm-yes", C::Confirm, &["y", "Y"], "yes, reveal (recorded)"),
    spec(A::LimitSafeQueue, "limit-safe-queue", C::Limit, &["Enter"], "the queue without graphic items (-flag:graphic); recorded"),
    spec(A::LimitGoOn, "limit-go-on", C::Limit, &["y", "Y"], "go on past the limit (your choice; recorded)"),
];

impl Action {
    pub fn spec(self) -> Option<&'static Spec> {
        ACTIONS.iter().find(|s| s.action == self)
    }

    pub fn name(self) -> &'static str {
        self.spec().map(|s| s.name).unwrap_or("?")
    }

    pub fn context(self) -> Context {
        self.spec().map(|s| s.context).unwrap_or(Context::Queue)
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|s| s.name == name).map(|s| s.action)
    }
}
