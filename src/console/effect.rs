//! Effects: what an update asks the outside world to do (read a window, save a change), and
//! the outcomes that come back. `route` says which worker carries each out; `runtime` is the
//! only console code that touches the case.

use crate::store::changes::Edit;
use crate::store::items::{Detail, Row};
use crate::store::query::{self, Selection};
use crate::taxonomy::TermKind;

#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    Start,
    End,
    /// `fetch` more rows after this id, sliding the window forward and the selection by
    /// `advance` rows.
    After(i64, usize, usize),
    /// `fetch` more rows before this id, sliding back, the selection up by `advance` rows.
    Before(i64, usize, usize),
    /// Reload the window from `first` (known to be at `offset`), selecting `select` or the
    /// first row after it.
    Reload {
        first: i64,
        offset: u64,
        select: i64,
    },
    /// The case moved under the window: reload it from `first`, counting its position again
    /// (items before it may have come or gone), keeping `select` if it is still in the view.
    Refresh {
        first: i64,
        select: i64,
    },
    /// The next untriaged item of the view after the current one (`x`): in this window if it
    /// is there, else in a window of its own; when there is none, the window stays.
    NextUntriaged,
}

/// The most items "mark all" takes: a bulk change beyond this is better made from the command
/// line, where it can be reviewed first.
pub const MARK_ALL_LIMIT: usize = 5000;

/// Where the window goes once a change is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterChange {
    /// Reload the window where it is.
    Stay,
    /// Move to the next untriaged item of the view.
    NextUntriaged,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Load(Anchor),
    /// Count the current selection, and find its first window when `window` (a new query).
    Search {
        window: bool,
    },
    /// Count the current selection again once the reviewer pauses: our own changes moved the
    /// counts by their known effect already; this only catches what that could not know.
    RecountLater,
    /// Compile the filter, and make it the current one (answered as `Compiled`).
    SetFilter(Option<String>),
    /// The filter prompt's text as it is being typed: applied if it compiles.
    TryFilter(String),
    Detail(i64),
    /// Read the item's detail again (the case moved), without claiming it anew.
    Reread(i64),
    /// Count the current query again (the case moved); its rows stay as they are.
    Recount,
    Apply {
        edit: Edit,
        then: AfterChange,
    },
    Undo,
    RepeatLast {
        items: Vec<i64>,
    },
    /// Create an incident, then link these items to it (two recorded changes).
    CreateIncident {
        record: crate::store::incidents::Record,
        items: Vec<i64>,
    },
    History(i64),
    /// Find the container an item came in (for `P` before its details are read).
    Parent(i64),
    /// Mark every item of the view, when there are not too many.
    MarkAll,
    /// Decode and fit the image of an item (answered as `Outcome::Preview`): the request
    /// without the original's place in the case, which the runtime adds from `sha256`.
    Preview {
        sha256: String,
        request: Box<crate::preview::Request>,
    },
    /// What only later keys need: saved views, recent terms, sources (read after the first
    /// frame).
    Lists,
    /// Count the whole case for the overview screen.
    Overview,
    /// Save the current filter as a named view (recorded).
    SaveView {
        name: String,
        expr: String,
    },
    /// Delete a saved view (recorded).
    DeleteView(String),
    /// Record that the reviewer revealed a gated image.
    Reveal {
        item_id: i64,
        full: bool,
    },
    /// Take or renew the claim on the item being looked at.
    Claim(i64),
    /// A lead confirms the first decision on an item in review.
    ConfirmReview(i64),
    /// Count that the reviewer saw graphic material: a preview or contact sheet was drawn.
    Exposure {
        item_id: i64,
        how: crate::store::wellbeing::Exposure,
    },
    /// The reviewer's answer when a limit was reached (kept with their figures).
    LimitAnswer {
        rule: crate::store::wellbeing::Rule,
        go_on: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    First,
    Last,
    Id(i64),
    /// The same item as before (its details pane scrolled as it was), or the next one when
    /// it has left the view.
    Keep(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Window {
        rows: Vec<Row>,
        offset: u64,
        select: Select,
    },
    Slide {
        rows: Vec<Row>,
        forward: bool,
        advance: usize,
    },
    /// The first window of a new query (from the search worker).
    Found {
        generation: u64,
        rows: Vec<Row>,
    },
    /// The counts the status bar shows, for the query of that generation.
    Counted {
        generation: u64,
        total: u64,
        untriaged: u64,
    },
    SearchFailed {
        generation: u64,
        error: String,
    },
    SavedViews(Vec<crate::store::views::SavedView>),
    /// A filter compiled (None: no filter): the selection is made from it.
    Compiled(Option<query::Where>),
    /// A decision (a change, an undo, a confirmation) was written, or refused: what came of
    /// it. Until this arrives the status bar shows it as being saved.
    Written(Vec<Outcome>),
    /// A change of ours moved the counts by an amount not known here: count again.
    CountAgain,
    /// Our change moved the counts of the query of that generation by this much.
    CountsMoved {
        generation: u64,
        total: i64,
        untriaged: i64,
    },
    Detail(Option<Box<Detail>>),
    /// A change committed; `at` is the local wall time of the commit (HH:MM:SS).
    Saved {
        summary: String,
        at: String,
    },
    NoChange(String),
    Recent(TermKind, Vec<String>),
    /// The case's incidents and the reviewer's recent ones.
    Incidents {
        all: Vec<crate::store::incidents::Incident>,
        recent: Vec<i64>,
    },
    Sources(Vec<String>),
    Filter(Option<String>),
    FilterError(String),
    /// A filter being typed does not compile yet; the results stay as they were.
    Incomplete,
    History(Vec<crate::store::audit::Entry>),
    /// The container item `of` came in, if any.
    Parent {
        of: i64,
        parent: Option<i64>,
    },
    Preview(crate::preview::Answer),
    Revealed {
        item_id: i64,
        full: bool,
    },
    Marked(Vec<i64>),
    /// A change was saved: where the window goes next.
    Then(AfterChange),
    /// The answer to the window load with this ticket (from the reader worker).
    Paged {
        ticket: u64,
        outcomes: Vec<Outcome>,
    },
    Overview(Box<crate::store::overview::Overview>),
    /// Someone else is looking at this item (their login).
    ClaimedBy(i64, String),
    Role(Option<crate::store::users::Role>),
    /// The reviewer's exposure today and the limits that apply to them.
    Wellbeing(crate::store::wellbeing::Today),
    Batch(Option<crate::store::assignments::Progress>),
    Error(String),
}

/// Where the queue's window is when an effect is asked for: what a window load needs to
/// know of the screen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Viewport {
    pub page: usize,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub current: Option<i64>,
    pub offset: u64,
    /// The selection's size as last counted by the search worker, when it is current.
    pub total: Option<u64>,
}

/// An effect with what the state knew when it was asked for: the selection it concerns,
/// where the window was, the query generation and the ticket of a window load. Workers need
/// nothing else; they keep no copy of the view.
#[derive(Debug, Clone)]
pub struct Task {
    pub effect: Effect,
    pub selection: Selection,
    pub at: Viewport,
    pub generation: u64,
    pub ticket: u64,
}
