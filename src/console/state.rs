//! What the screen shows: a window of rows (never the whole case), the selection, marks, the
//! open popup. The database stays the truth; this is a view of it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::store::items::{Detail, Row};
use crate::store::query::{Selection, View, Where};
use crate::taxonomy::{Taxonomy, TermKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Details,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Note,
    Escalate,
    /// `:` commands: `save NAME`, `views`.
    Command,
    /// A new incident, created inline from the incidents picker: its title, dates and place,
    /// asked one after the other.
    IncidentTitle,
    IncidentDate,
    IncidentPlace,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Filter => "filter",
            PromptKind::Note => "note",
            PromptKind::Escalate => "escalate: reason",
            PromptKind::Command => "",
            PromptKind::IncidentTitle => "new incident: title",
            PromptKind::IncidentDate => "new incident: date (YYYY-MM-DD or FROM..TO; Enter: none)",
            PromptKind::IncidentPlace => "new incident: place (Enter: none)",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// A problem with the input (e.g. a filter error), shown under it.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub kind: TermKind,
    pub query: String,
    /// Indexes into the taxonomy's terms, in display order (recent first when no query).
    pub matches: Vec<usize>,
    /// How many of `matches` (from the top) are recent terms with digit accelerators.
    pub recent_count: usize,
    pub cursor: usize,
    pub checked: BTreeSet<String>,
    pub original: BTreeSet<String>,
}

/// The incidents picker: the case's incidents filtered by what is typed, recent ones first.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentPicker {
    pub query: String,
    /// Incident ids in display order; None is "a new incident titled <query>".
    pub matches: Vec<Option<i64>>,
    /// How many of `matches` (from the top) are recent incidents with digit accelerators.
    pub recent_count: usize,
    pub cursor: usize,
    /// The incidents every target is linked to already (Enter on one unlinks it).
    pub linked: BTreeSet<i64>,
}

/// An incident being created inline, and the items it will be linked to.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub record: crate::store::incidents::Record,
    pub items: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ViewMenu {
    pub views: Vec<View>,
    pub cursor: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Picker(Picker),
    Incidents(IncidentPicker),
    Prompt(Prompt),
    Views(ViewMenu),
    Help {
        scroll: u16,
    },
    /// "Reveal the sensitive image of this item? (recorded)" — y / n.
    ConfirmReveal(i64),
    History {
        entries: Vec<crate::store::audit::Entry>,
        scroll: u16,
    },
    /// `O`: the case in counts, bar charts and a map; Enter on a bar filters the queue.
    Overview(Box<OverviewState>),
    /// A limit on graphic material was reached: the queue without graphic items, or go on?
    Limit(crate::store::wellbeing::Rule),
}

/// The overview's parts, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Status,
    Crimes,
    Parties,
    Flags,
    Sources,
    Incidents,
    Dates,
    Map,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Status,
        Section::Crimes,
        Section::Parties,
        Section::Flags,
        Section::Sources,
        Section::Incidents,
        Section::Dates,
        Section::Map,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Status => "status",
            Section::Crimes => "crimes by category",
            Section::Parties => "parties",
            Section::Flags => "flags",
            Section::Sources => "sources",
            Section::Incidents => "items per incident",
            Section::Dates => "captured",
            Section::Map => "map",
        }
    }
}

/// One selectable bar: what it is called, how many items it counts, and the filter
/// expression that shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub section: Section,
    /// Display text; may come from evidence (source names): sanitised when drawn.
    pub label: String,
    pub count: u64,
    /// A term under its category heading.
    pub nested: bool,
    pub filter: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverviewState {
    pub data: crate::store::overview::Overview,
    /// Every bar of every section (dates included), in display order.
    pub bars: Vec<Bar>,
    /// Index into `bars`, unless the map has the focus.
    pub cursor: usize,
    pub on_map: bool,
    /// The map cursor's cell centre and size, in degrees.
    pub map_lat: f64,
    pub map_lon: f64,
    pub map_step: f64,
    /// The area the map shows: (south, west, north, east).
    pub map_bounds: (f64, f64, f64, f64),
}

impl OverviewState {
    pub fn section(&self) -> Section {
        if self.on_map {
            return Section::Map;
        }
        self.bars
            .get(self.cursor)
            .map(|b| b.section)
            .unwrap_or(Section::Map)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Saved,
    Error,
}

#[derive(Debug, Clone)]
pub struct State {
    pub case_name: String,
    pub reviewer: String,
    /// The reviewer's role in the case (None: not a member; every write will be refused).
    pub role: Option<crate::store::users::Role>,
    /// The reviewer's latest assigned batch: name, done, total.
    pub batch: Option<crate::store::assignments::Progress>,
    pub taxonomy: Arc<Taxonomy>,
    pub view: View,
    /// The view to go back to from a "similar to" view.
    pub previous_view: Option<View>,
    pub filter: Option<String>,
    /// The filter compiled, and the view narrowed by it: the set the queue pages over.
    pub filter_where: Option<Where>,
    pub selection: Selection,
    /// The visible window of the current view.
    pub rows: Vec<Row>,
    /// Position in the view of `rows[0]`.
    pub offset: u64,
    pub selected: usize,
    pub total: u64,
    pub untriaged: u64,
    pub detail: Option<Detail>,
    pub detail_scroll: u16,
    pub marks: BTreeSet<i64>,
    pub focus: Pane,
    pub mode: Mode,
    /// How many queue rows fit on screen; the window size.
    pub page: usize,
    pub width: u16,
    pub height: u16,
    pub message: Option<(Level, String)>,
    pub last_saved: Option<String>,
    pub recent: HashMap<TermKind, Vec<String>>,
    /// The case's incidents (for the picker and the details), and the reviewer's recent ones.
    pub incidents: Vec<crate::store::incidents::Incident>,
    pub recent_incidents: Vec<i64>,
    /// An incident being created inline (its prompts are open).
    pub draft: Option<Draft>,
    pub sources: Vec<String>,
    pub quit: bool,
    pub preview: super::preview::Preview,
    /// The generation of the newest query (filter or view); answers of older ones are stale.
    pub search_generation: u64,
    /// A query's rows or counts are still being worked out.
    pub searching: bool,
    /// `total` is the count of the current selection as it is now (no count outstanding).
    pub counted: bool,
    pub saved_views: Vec<crate::store::views::SavedView>,
    /// The ticket of the window load on its way from the reader worker, if any: keys typed
    /// meanwhile are held in `held` and replayed when it arrives.
    pub loading: Option<u64>,
    pub held: Vec<ratatui::crossterm::event::KeyEvent>,
    /// The ticket of a refresh on its way (the case moved): keys are not held for it, and
    /// its answer is used only if the cursor is still on the same item.
    pub refreshing: Option<u64>,
    /// The last ticket given to a window load.
    pub tickets: u64,
    /// The filter as it was when live filtering began in the `/` prompt (Esc restores it).
    pub filter_before: Option<Option<String>>,
    /// Decisions sent to the writer and not yet answered: shown as "saving…", and keys wait
    /// for them as they wait for a window.
    pub saving: u32,
    /// The item whose detail is wanted once the current burst of keys is over.
    pub detail_wanted: Option<i64>,
    /// The item whose detail is being read: the frame waits for it briefly.
    pub reading: Option<i64>,
    /// The whole screen is to be drawn again (Ctrl-L, a resize).
    pub redraw_all: bool,
    /// The reviewer's exposure to graphic material today, and in a row.
    pub wellbeing: super::wellbeing::Wellbeing,
}

impl State {
    pub fn new(case_name: String, reviewer: String, taxonomy: Arc<Taxonomy>) -> State {
        let selection = Selection::new(&View::Untriaged, &reviewer, None);
        State {
            case_name,
            reviewer,
            role: None,
            batch: None,
            taxonomy,
            view: View::Untriaged,
            previous_view: None,
            filter: None,
            filter_where: None,
            selection,
            rows: Vec::new(),
            offset: 0,
            selected: 0,
            total: 0,
            untriaged: 0,
            detail: None,
            detail_scroll: 0,
            marks: BTreeSet::new(),
            focus: Pane::Queue,
            mode: Mode::Normal,
            page: 20,
            width: 80,
            height: 24,
            message: None,
            last_saved: None,
            recent: HashMap::new(),
            incidents: Vec::new(),
            recent_incidents: Vec::new(),
            draft: None,
            sources: Vec::new(),
            quit: false,
            preview: super::preview::Preview::new(
                crate::preview::Depth::Ansi256,
                16 * 1024,
                false,
                false,
                true,
            ),
            search_generation: 0,
            searching: false,
            counted: false,
            saved_views: Vec::new(),
            filter_before: None,
            loading: None,
            held: Vec::new(),
            refreshing: None,
            tickets: 0,
            saving: 0,
            detail_wanted: None,
            reading: None,
            redraw_all: false,
            wellbeing: Default::default(),
        }
    }

    pub fn current(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    pub fn current_id(&self) -> Option<i64> {
        self.current().map(|r| r.id)
    }

    /// The items a tagging action applies to: the marked ones, or the current one.
    pub fn targets(&self) -> Vec<i64> {
        if self.marks.is_empty() {
            self.current_id().into_iter().collect()
        } else {
            self.marks.iter().copied().collect()
        }
    }

    /// Position of the selection in the view (0-based).
    pub fn position(&self) -> u64 {
        self.offset + self.selected as u64
    }

    /// Does the current item carry this term (as far as the loaded detail says)?
    pub fn current_has(&self, term: &str) -> bool {
        self.current()
            .map(|r| r.tags.iter().any(|(_, t)| t == term))
            .unwrap_or(false)
    }
}
