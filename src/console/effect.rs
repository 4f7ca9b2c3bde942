//! Effects: what an update asks the outside world to do (read a window, save a change), and
//! the outcomes that come back. The runtime is the only console code that touches the case.

use std::sync::Arc;

use crate::store::changes::{self, Edit};
use crate::store::claims::{self, Claim};
use crate::store::items::{self, Detail, Row};
use crate::store::query::{self, Selection, View};
use crate::store::Case;
use crate::store::{assignments, review, users};
use crate::taxonomy::{Taxonomy, TermKind};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Reload the window where it is.
    Stay,
    /// Move to the next untriaged item of the view.
    NextUntriaged,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Load(Anchor),
    SetView(View),
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
        then: Then,
    },
    Undo,
    RepeatLast {
        items: Vec<i64>,
    },
    History(i64),
    /// Find the container an item came in (for `P` before its details are read).
    Parent(i64),
    /// Mark every item of the view, when there are not too many.
    MarkAll,
    /// Decode and fit the image of an item (answered as `Outcome::Preview`).
    Preview {
        generation: u64,
        item_id: i64,
        grayscale: bool,
        blur: bool,
    },
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
    Detail(Option<Box<Detail>>),
    /// A change committed; `at` is the local wall time of the commit (HH:MM:SS).
    Saved {
        summary: String,
        at: String,
    },
    NoChange(String),
    Recent(TermKind, Vec<String>),
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
    Then(Then),
    /// The answer of the paging worker to the window load with this ticket.
    Paged {
        ticket: u64,
        outcomes: Vec<Outcome>,
    },
    Overview(Box<crate::store::overview::Overview>),
    /// Someone else is looking at this item (their login).
    ClaimedBy(i64, String),
    Role(Option<crate::store::users::Role>),
    Batch(Option<crate::store::assignments::Progress>),
    Error(String),
}

/// Window state the runtime needs to carry out an effect.
#[derive(Debug, Clone, Copy)]
pub struct Here {
    pub page: usize,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub current: Option<i64>,
    pub offset: u64,
    /// The selection's size as last counted by the search worker, when it is current.
    pub total: Option<u64>,
}

pub struct Runtime {
    pub case: Case,
    tax: Arc<Taxonomy>,
    reviewer: String,
    view: View,
    filter: Option<query::Where>,
    selection: Selection,
    /// The last overview and the audit entry it was counted at: every change to a case
    /// writes an audit entry, so while the last one is the same the counts still hold.
    overview: crate::store::overview::Cached,
    /// `PRAGMA data_version` on our connection when last looked at: it moves only when
    /// another connection commits.
    seen_version: Option<i64>,
}

impl Runtime {
    pub fn new(case: Case, tax: Arc<Taxonomy>, reviewer: String) -> Runtime {
        let selection = Selection::new(&View::Untriaged, &reviewer, None);
        let seen_version = crate::store::watch::data_version(&case).ok();
        Runtime {
            case,
            tax,
            reviewer,
            view: View::Untriaged,
            filter: None,
            selection,
            overview: Default::default(),
            seen_version,
        }
    }

    /// What the console needs at start: the first window, recent terms, sources, saved
    /// views. (The counts come from the search worker.)
    pub fn start(&mut self, page: usize) -> Vec<Outcome> {
        let mut out = self.start_screen(page);
        out.extend(self.start_rest());
        out
    }

    /// What the first frame shows: the first window, the reviewer's role and batch.
    pub fn start_screen(&mut self, page: usize) -> Vec<Outcome> {
        let mut out = self.run(&Effect::Load(Anchor::Start), here(page));
        out.push(self.batch());
        match users::check(&self.case, &self.reviewer, users::Right::Read) {
            Ok(r) => out.push(Outcome::Role(r.ok())),
            Err(e) => out.push(Outcome::Error(e.to_string())),
        }
        out
    }

    /// What only later keys need (saved views, recent terms, sources): read after the first
    /// frame has been drawn.
    pub fn start_rest(&mut self) -> Vec<Outcome> {
        let mut out = vec![self.saved_views()];
        for kind in [TermKind::Crime, TermKind::Party, TermKind::Flag] {
            out.push(self.recent(kind));
        }
        match items::sources(&self.case) {
            Ok(s) => out.push(Outcome::Sources(s)),
            Err(e) => out.push(Outcome::Error(e.to_string())),
        }
        out
    }

    pub fn run(&mut self, effect: &Effect, at: Here) -> Vec<Outcome> {
        match self.try_run(effect, at) {
            Ok(v) => v,
            Err(e) => vec![Outcome::Error(e)],
        }
    }

    fn try_run(&mut self, effect: &Effect, at: Here) -> Result<Vec<Outcome>, String> {
        let e = |e: crate::store::DbError| e.to_string();
        match effect {
            Effect::Load(anchor) => {
                super::paging::load(&self.case, &self.selection, anchor, at).map_err(e)
            }
            // The new selection is made here (cheap); its rows and counts come from the
            // search worker, asked for by the console.
            Effect::SetView(view) => {
                self.view = view.clone();
                self.rebuild();
                Ok(vec![])
            }
            Effect::SetFilter(text) => {
                let compiled = match text.as_deref().map(|t| query::compile_filter(t, &self.tax)) {
                    None => None,
                    Some(Ok(w)) => w,
                    Some(Err(err)) => return Ok(vec![Outcome::FilterError(err.to_string())]),
                };
                self.filter = compiled;
                self.rebuild();
                let shown = text.clone().filter(|t| !t.trim().is_empty());
                Ok(vec![Outcome::Filter(shown)])
            }
            Effect::TryFilter(text) => match query::compile_filter(text, &self.tax) {
                Ok(w) => {
                    self.filter = w;
                    self.rebuild();
                    Ok(vec![])
                }
                Err(_) => Ok(vec![Outcome::Incomplete]),
            },
            Effect::DeleteView(name) => {
                let deleted = crate::store::views::delete(&mut self.case, &self.reviewer, name)
                    .map_err(|e| format!("view not deleted: {e}"))?;
                if !deleted {
                    return Ok(vec![Outcome::NoChange(format!("no saved view {name}"))]);
                }
                Ok(vec![
                    Outcome::Saved {
                        summary: format!("view {name} deleted"),
                        at: chrono::Local::now().format("%H:%M:%S").to_string(),
                    },
                    self.saved_views(),
                ])
            }
            Effect::SaveView { name, expr } => {
                crate::store::views::check_name(name)?;
                let name = name.trim();
                let previous =
                    crate::store::views::save(&mut self.case, &self.reviewer, name, expr)
                        .map_err(|e| format!("view not saved: {e}"))?;
                Ok(vec![
                    Outcome::Saved {
                        summary: format!(
                            "view {name} {}",
                            if previous.is_some() {
                                "replaced"
                            } else {
                                "saved"
                            }
                        ),
                        at: chrono::Local::now().format("%H:%M:%S").to_string(),
                    },
                    self.saved_views(),
                ])
            }
            // Handled by the console, which owns the preview worker.
            Effect::Preview { .. } => Ok(vec![]),
            Effect::Reveal { item_id, full } => {
                changes::record_reveal(&mut self.case, &self.reviewer, *item_id, *full)
                    .map_err(|e| format!("not revealed: {e}"))?;
                Ok(vec![Outcome::Revealed {
                    item_id: *item_id,
                    full: *full,
                }])
            }
            Effect::MarkAll => {
                let rows = self
                    .selection
                    .after(&self.case, None, MARK_ALL_LIMIT + 1)
                    .map_err(e)?;
                if rows.len() > MARK_ALL_LIMIT {
                    return Ok(vec![Outcome::NoChange(format!(
                        "more than {MARK_ALL_LIMIT} items here: narrow the view with / first"
                    ))]);
                }
                Ok(vec![Outcome::Marked(rows.iter().map(|r| r.id).collect())])
            }
            Effect::Overview => Ok(vec![Outcome::Overview(Box::new(
                self.overview().map_err(e)?,
            ))]),
            Effect::History(id) => Ok(vec![Outcome::History(
                crate::store::audit::for_item(&self.case, *id).map_err(e)?,
            )]),
            Effect::Parent(id) => Ok(vec![Outcome::Parent {
                of: *id,
                parent: crate::store::families::parent_of(&self.case, *id).map_err(e)?,
            }]),
            // Opening an item claims it (when untriaged) and releases the previous one.
            Effect::Detail(id) => {
                let mut out = vec![Outcome::Detail(
                    items::detail(&self.case, *id).map_err(e)?.map(Box::new),
                )];
                out.extend(self.claim(*id)?);
                Ok(out)
            }
            Effect::Reread(id) => Ok(vec![Outcome::Detail(
                items::detail(&self.case, *id).map_err(e)?.map(Box::new),
            )]),
            // Routed to the search worker by the console.
            Effect::Recount => Ok(vec![]),
            Effect::Claim(id) => self.claim(*id),
            Effect::ConfirmReview(id) => {
                review::confirm(&mut self.case, &self.reviewer, *id)
                    .map_err(|e| format!("not confirmed: {e}"))?;
                let applied = changes::Applied {
                    change_id: Some(0),
                    summary: format!("{} decision confirmed", crate::store::reference(*id)),
                    ops: vec![],
                };
                self.after_change(applied, Then::Stay, false)
            }
            Effect::Apply { edit, then } => {
                let applied = changes::apply(&mut self.case, &self.tax, &self.reviewer, edit)
                    .map_err(|e| format!("not saved: {e}"))?;
                self.after_change(applied, *then, matches!(edit, Edit::Tags { .. }))
            }
            Effect::Undo => {
                let applied = changes::undo(&mut self.case, &self.reviewer)
                    .map_err(|e| format!("not undone: {e}"))?;
                self.after_change(applied, Then::Stay, true)
            }
            Effect::RepeatLast { items } => {
                let last = changes::last_decision_tags(&self.case, &self.reviewer).map_err(e)?;
                let Some((from, tags)) = last.filter(|(_, t)| !t.is_empty()) else {
                    return Ok(vec![Outcome::NoChange(
                        "no previous decision with tags to repeat".into(),
                    )]);
                };
                let edit = Edit::Tags {
                    items: items.clone(),
                    add: tags,
                    remove: vec![],
                };
                let applied = changes::apply(&mut self.case, &self.tax, &self.reviewer, &edit)
                    .map_err(|e| format!("not saved: {e}"))?;
                let mut out = self.after_change(applied, Then::Stay, true)?;
                if let Some(Outcome::Saved { summary, .. }) = out.first_mut() {
                    *summary = format!("{summary} (as {})", crate::store::reference(from));
                }
                Ok(out)
            }
        }
    }

    fn after_change(
        &mut self,
        applied: changes::Applied,
        then: Then,
        tags_changed: bool,
    ) -> Result<Vec<Outcome>, String> {
        let mut out = vec![if applied.change_id.is_some() {
            Outcome::Saved {
                summary: applied.summary,
                at: chrono::Local::now().format("%H:%M:%S").to_string(),
            }
        } else {
            Outcome::NoChange(applied.summary)
        }];
        // Where the window goes next is a query (on the paging worker): update asks for it.
        out.push(Outcome::Then(then));
        out.push(self.batch());
        if tags_changed {
            for kind in [TermKind::Crime, TermKind::Party, TermKind::Flag] {
                out.push(self.recent(kind));
            }
        }
        Ok(out)
    }

    fn overview(&mut self) -> crate::store::DbResult<crate::store::overview::Overview> {
        self.overview.get(&self.case, &self.tax)
    }

    /// Claim an item for the reviewer (or renew the claim); someone else's claim is reported.
    fn claim(&mut self, id: i64) -> Result<Vec<Outcome>, String> {
        match claims::claim(&mut self.case, &self.reviewer, id, claims::LEASE_SECS) {
            Ok(Claim::TakenBy(other)) => Ok(vec![Outcome::ClaimedBy(id, other)]),
            Ok(_) => Ok(vec![]),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Leaving the console gives up the reviewer's claim.
    pub fn release(&mut self) {
        let _ = claims::release_all(&mut self.case, &self.reviewer);
    }

    fn batch(&self) -> Outcome {
        match assignments::progress(&self.case, &self.reviewer) {
            Ok(p) => Outcome::Batch(p.into_iter().next()),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    fn rebuild(&mut self) {
        self.selection = Selection::new(&self.view, &self.reviewer, self.filter.clone());
    }

    /// Has anyone else committed to the case since the last call? Our own writes (claims on
    /// every move, decisions) refresh the screen already; following them too would count a
    /// million items again after each key.
    pub fn others_wrote(&mut self) -> bool {
        match crate::store::watch::data_version(&self.case) {
            Ok(v) => self.seen_version.replace(v) != Some(v),
            Err(_) => true,
        }
    }

    /// The selection the queue pages over (the search worker counts it).
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    fn saved_views(&self) -> Outcome {
        match crate::store::views::list(&self.case) {
            Ok(v) => Outcome::SavedViews(v),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    fn recent(&self, kind: TermKind) -> Outcome {
        match changes::recent_terms(&self.case, &self.reviewer, &self.tax, kind, 9) {
            Ok(ids) => Outcome::Recent(kind, ids),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }
}

fn here(page: usize) -> Here {
    Here {
        page,
        first: None,
        last: None,
        current: None,
        offset: 0,
        total: None,
    }
}
