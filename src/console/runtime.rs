//! The executor: carries out one task on one connection and says what came of it. It keeps
//! no state of the screen (no view, no filter, no window): everything a task needs comes with
//! it, so the same executor runs on every worker, and on the calling thread in tests.

use std::sync::Arc;

use super::effect::{AfterChange, Effect, Outcome, Task, MARK_ALL_LIMIT};
use crate::store::changes::{self, Edit};
use crate::store::claims::{self, Claim};
use crate::store::query::{self, Selection};
use crate::store::Case;
use crate::store::{assignments, review, users, wellbeing};
use crate::store::{incidents, items};
use crate::taxonomy::{Taxonomy, TermKind};

pub struct Runtime {
    pub case: Case,
    tax: Arc<Taxonomy>,
    reviewer: String,
}

impl Runtime {
    pub fn new(case: Case, tax: Arc<Taxonomy>, reviewer: String) -> Runtime {
        Runtime {
            case,
            tax,
            reviewer,
        }
    }

    pub fn taxonomy(&self) -> Arc<Taxonomy> {
        self.tax.clone()
    }

    /// Another connection to the same case, for a worker.
    pub fn open_another(&self) -> crate::store::Result<Runtime> {
        Ok(Runtime::new(
            Case::open(&self.case.root)?,
            self.tax.clone(),
            self.reviewer.clone(),
        ))
    }

    /// What the first frame shows besides the first window: the reviewer's role and batch.
    pub fn start_screen(&mut self) -> Vec<Outcome> {
        let mut out = vec![self.batch(), self.wellbeing()];
        match users::check(&self.case, &self.reviewer, users::Right::Read) {
            Ok(r) => out.push(Outcome::Role(r.ok())),
            Err(e) => out.push(Outcome::Error(e.to_string())),
        }
        out
    }

    pub fn run(&mut self, task: &Task) -> Vec<Outcome> {
        let out = match self.try_run(task) {
            Ok(v) => v,
            Err(e) => vec![Outcome::Error(e)],
        };
        match &task.effect {
            // Every load is answered with its ticket, so the console knows it has arrived.
            Effect::Load(_) => vec![Outcome::Paged {
                ticket: task.ticket,
                outcomes: out,
            }],
            // A decision is answered once, saved or not, so the status bar stops saying
            // "saving".
            Effect::Apply { .. }
            | Effect::Undo
            | Effect::RepeatLast { .. }
            | Effect::ConfirmReview(_) => vec![Outcome::Written(out)],
            _ => out,
        }
    }

    fn try_run(&mut self, task: &Task) -> Result<Vec<Outcome>, String> {
        let e = |e: crate::store::DbError| e.to_string();
        match &task.effect {
            Effect::Load(anchor) => {
                super::paging::load(&self.case, &task.selection, anchor, task.at).map_err(e)
            }
            Effect::Search { .. } => {
                let req = super::search::Request::for_task(task.clone());
                let mut out = Vec::new();
                if let Err(err) = super::search::answer(&self.case, &req, &mut |o| out.push(o)) {
                    out.push(Outcome::SearchFailed {
                        generation: task.generation,
                        error: err.to_string(),
                    });
                }
                Ok(out)
            }
            // Without a search worker (tests) our own changes' counts are exact already.
            Effect::RecountLater => Ok(vec![]),
            Effect::Recount => self.try_run(&Task {
                effect: Effect::Search { window: false },
                ..task.clone()
            }),
            Effect::SetFilter(text) => {
                let compiled = match text.as_deref().map(|t| query::compile_filter(t, &self.tax)) {
                    None => None,
                    Some(Ok(w)) => w,
                    Some(Err(err)) => return Ok(vec![Outcome::FilterError(err.to_string())]),
                };
                let shown = text.clone().filter(|t| !t.trim().is_empty());
                Ok(vec![Outcome::Filter(shown), Outcome::Compiled(compiled)])
            }
            Effect::TryFilter(text) => match query::compile_filter(text, &self.tax) {
                Ok(w) => Ok(vec![Outcome::Compiled(w)]),
                Err(_) => Ok(vec![Outcome::Incomplete]),
            },
            Effect::DeleteView(name) => {
                let deleted = crate::store::views::delete(&mut self.case, &self.reviewer, name)
                    .map_err(|e| format!("view not deleted: {e}"))?;
                if !deleted {
                    return Ok(vec![Outcome::NoChange(format!("no saved view {name}"))]);
                }
                Ok(vec![
                    saved(format!("view {name} deleted")),
                    self.saved_views(),
                ])
            }
            Effect::SaveView { name, expr } => {
                crate::store::views::check_name(name)?;
                let name = name.trim();
                let previous =
                    crate::store::views::save(&mut self.case, &self.reviewer, name, expr)
                        .map_err(|e| format!("view not saved: {e}"))?;
                let done = if previous.is_some() {
                    "replaced"
                } else {
                    "saved"
                };
                Ok(vec![
                    saved(format!("view {name} {done}")),
                    self.saved_views(),
                ])
            }
            Effect::Preview { sha256, request } => {
                let req = preview_request(&self.case.root, &self.case.objects, sha256, request);
                Ok(vec![Outcome::Preview(crate::preview::answer(&req))])
            }
            Effect::Lists => Ok(self.lists()),
            Effect::Reveal { item_id, full } => {
                changes::record_reveal(&mut self.case, &self.reviewer, *item_id, *full)
                    .map_err(|e| format!("not revealed: {e}"))?;
                // The reveal was counted in its own transaction: the figures as they are now.
                Ok(vec![
                    Outcome::Revealed {
                        item_id: *item_id,
                        full: *full,
                    },
                    self.wellbeing(),
                ])
            }
            Effect::Exposure { item_id, how } => Ok(vec![Outcome::Wellbeing(
                wellbeing::record(&mut self.case, &self.reviewer, *item_id, *how)
                    .map_err(|e| e.to_string())?,
            )]),
            Effect::LimitAnswer { rule, go_on } => Ok(vec![Outcome::Wellbeing(
                wellbeing::answer(&mut self.case, &self.reviewer, *rule, *go_on)
                    .map_err(|e| e.to_string())?,
            )]),
            Effect::MarkAll => {
                let rows = task
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
                crate::store::overview::Cached::default()
                    .get(&self.case, &self.tax)
                    .map_err(e)?,
            ))]),
            Effect::History(id) => Ok(vec![Outcome::History(
                crate::store::audit::for_item(&self.case, *id).map_err(e)?,
            )]),
            Effect::Parent(id) => Ok(vec![Outcome::Parent {
                of: *id,
                parent: crate::store::families::parent_of(&self.case, *id).map_err(e)?,
            }]),
            // `update::tasks` turns a wanted detail into a read and a claim once the burst of
            // keys is over; read here, it is only a read.
            Effect::Detail(id) | Effect::Reread(id) => Ok(vec![Outcome::Detail(
                items::detail(&self.case, *id).map_err(e)?.map(Box::new),
            )]),
            Effect::Claim(id) => self.claim(*id),
            Effect::ConfirmReview(id) => {
                review::confirm(&mut self.case, &self.reviewer, *id)
                    .map_err(|e| format!("not confirmed: {e}"))?;
                let applied = changes::Applied {
                    change_id: Some(0),
                    summary: format!("{} decision confirmed", crate::store::reference(*id)),
                    ops: vec![],
                };
                let mut out = self.after_change(applied, AfterChange::Stay, false);
                out.push(Outcome::CountAgain);
                Ok(out)
            }
            Effect::Apply { edit, then } => {
                let items = edit.items();
                let before = self.counts_among(&task.selection, &items);
                let applied = changes::apply(&mut self.case, &self.tax, &self.reviewer, edit)
                    .map_err(|e| format!("not saved: {e}"))?;
                let mut out = self.after_change(applied, *then, matches!(edit, Edit::Tags { .. }));
                out.push(self.counts_moved(task, &items, before));
                if matches!(
                    edit,
                    Edit::Link { .. } | Edit::Incident { .. } | Edit::Together(_)
                ) {
                    out.push(self.incidents());
                }
                Ok(out)
            }
            Effect::Undo => {
                let applied = changes::undo(&mut self.case, &self.reviewer)
                    .map_err(|e| format!("not undone: {e}"))?;
                let mut out = self.after_change(applied, AfterChange::Stay, true);
                out.push(Outcome::CountAgain);
                Ok(out)
            }
            Effect::RepeatLast { items } => {
                let last = changes::last_decision_tags(&self.case, &self.reviewer).map_err(e)?;
                // The same again: its tags and the incidents it is linked to, in one change.
                let linked = match &last {
                    Some((from, _)) => incidents::of_item(&self.case, *from).map_err(e)?,
                    None => vec![],
                };
                let Some((from, tags)) = last.filter(|(_, t)| !t.is_empty() || !linked.is_empty())
                else {
                    return Ok(vec![Outcome::NoChange(
                        "no previous decision with tags or incidents to repeat".into(),
                    )]);
                };
                let mut edits = Vec::new();
                if !tags.is_empty() {
                    edits.push(Edit::Tags {
                        items: items.clone(),
                        add: tags,
                        remove: vec![],
                    });
                }
                for l in linked {
                    edits.push(Edit::Link {
                        items: items.clone(),
                        incident: l.id,
                        on: true,
                    });
                }
                let edit = if edits.len() == 1 {
                    edits.remove(0)
                } else {
                    Edit::Together(edits)
                };
                let before = self.counts_among(&task.selection, items);
                let applied = changes::apply(&mut self.case, &self.tax, &self.reviewer, &edit)
                    .map_err(|e| format!("not saved: {e}"))?;
                let mut out = self.after_change(applied, AfterChange::Stay, true);
                if let Some(Outcome::Saved { summary, .. }) = out.first_mut() {
                    *summary = format!("{summary} (as {})", crate::store::reference(from));
                }
                out.push(self.counts_moved(task, items, before));
                out.push(self.incidents());
                Ok(out)
            }
            Effect::CreateIncident { record, items } => {
                let created = changes::apply(
                    &mut self.case,
                    &self.tax,
                    &self.reviewer,
                    &Edit::Incident {
                        id: None,
                        record: record.clone(),
                    },
                )
                .map_err(|e| format!("not saved: {e}"))?;
                let Some(incident) = created.ops.iter().find_map(|op| match op {
                    changes::Op::Incident { incident, .. } => Some(*incident),
                    _ => None,
                }) else {
                    return Ok(vec![Outcome::NoChange("no incident created".into())]);
                };
                let linked = changes::apply(
                    &mut self.case,
                    &self.tax,
                    &self.reviewer,
                    &Edit::Link {
                        items: items.clone(),
                        incident,
                        on: true,
                    },
                )
                .map_err(|e| {
                    format!(
                        "created {}, not linked: {e}",
                        incidents::reference(incident)
                    )
                })?;
                let applied = changes::Applied {
                    summary: format!(
                        "{} {}; {}",
                        incidents::reference(incident),
                        created.summary,
                        linked.summary
                    ),
                    ..linked
                };
                let mut out = self.after_change(applied, AfterChange::Stay, false);
                out.push(self.incidents());
                Ok(out)
            }
        }
    }

    /// Of these items: how many are in the selection, and how many untriaged. Taken before
    /// and after a change, the difference is what the change did to the counts on screen.
    fn counts_among(&self, selection: &Selection, items: &[i64]) -> Option<(u64, u64)> {
        let in_selection = selection.count_among(&self.case, items).ok()?;
        let untriaged = query::untriaged_among(&self.case, items).ok()?;
        Some((in_selection, untriaged))
    }

    /// The counts' move by our change; when it cannot be known, a count of everything.
    fn counts_moved(&self, task: &Task, items: &[i64], before: Option<(u64, u64)>) -> Outcome {
        match (before, self.counts_among(&task.selection, items)) {
            (Some((t0, u0)), Some((t1, u1))) => Outcome::CountsMoved {
                generation: task.generation,
                total: t1 as i64 - t0 as i64,
                untriaged: u1 as i64 - u0 as i64,
            },
            _ => Outcome::CountAgain,
        }
    }

    fn after_change(
        &mut self,
        applied: changes::Applied,
        then: AfterChange,
        tags_changed: bool,
    ) -> Vec<Outcome> {
        let mut out = vec![if applied.change_id.is_some() {
            saved(applied.summary)
        } else {
            Outcome::NoChange(applied.summary)
        }];
        // Where the window goes next is a query (on the reader): update asks for it.
        out.push(Outcome::Then(then));
        out.push(self.batch());
        if tags_changed {
            for kind in [TermKind::Crime, TermKind::Party, TermKind::Flag] {
                out.push(self.recent(kind));
            }
        }
        out
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

    fn incidents(&self) -> Outcome {
        let all = incidents::list(&self.case);
        let recent = incidents::recent(&self.case, &self.reviewer, 9);
        match (all, recent) {
            (Ok(all), Ok(recent)) => Outcome::Incidents { all, recent },
            (Err(e), _) | (_, Err(e)) => Outcome::Error(e.to_string()),
        }
    }

    fn lists(&self) -> Vec<Outcome> {
        let mut out = vec![self.saved_views(), self.incidents()];
        for kind in [TermKind::Crime, TermKind::Party, TermKind::Flag] {
            out.push(self.recent(kind));
        }
        match items::sources(&self.case) {
            Ok(s) => out.push(Outcome::Sources(s)),
            Err(e) => out.push(Outcome::Error(e.to_string())),
        }
        out
    }

    fn batch(&self) -> Outcome {
        match assignments::progress(&self.case, &self.reviewer) {
            Ok(p) => Outcome::Batch(p.into_iter().next()),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    fn wellbeing(&self) -> Outcome {
        match wellbeing::today(&self.case, &self.reviewer) {
            Ok(t) => Outcome::Wellbeing(t),
            Err(e) => Outcome::Error(e.to_string()),
        }
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

fn saved(summary: String) -> Outcome {
    Outcome::Saved {
        summary,
        at: chrono::Local::now().format("%H:%M:%S").to_string(),
    }
}

/// The preview worker's request: the one update made, with the original's place in the case.
pub fn preview_request(
    root: &std::path::Path,
    objects: &crate::store::objects::ObjectStore,
    sha256: &str,
    request: &crate::preview::Request,
) -> crate::preview::Request {
    crate::preview::Request {
        path: objects.path_of(sha256),
        thumbnail: Some(crate::preview::cached_picture(root, sha256)),
        ..request.clone()
    }
}
