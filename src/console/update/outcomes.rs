//! Outcomes from the runtime (windows, details, saves, previews, counts) applied to the state.

use super::*;

/// Something was committed to the case (by anyone): show the window where it is, with what
/// the case holds now, and count again. The item under the cursor stays, by id.
pub fn case_moved(state: &mut State) -> Vec<Effect> {
    // A load on its way reads the case as it is now.
    if state.loading.is_some() {
        return vec![Effect::Recount];
    }
    let load = match (state.rows.first(), state.current_id()) {
        (Some(first), Some(select)) => Anchor::Refresh {
            first: first.id,
            select,
        },
        _ => Anchor::Start,
    };
    vec![Effect::Load(load), Effect::Recount]
}

/// An outcome from the runtime changes the state.
pub fn apply(state: &mut State, outcome: Outcome) -> Vec<Effect> {
    match outcome {
        Outcome::Window {
            rows,
            offset,
            select,
        } => {
            let before = state.current_id();
            state.rows = rows;
            state.offset = offset;
            state.selected = match select {
                Select::First => 0,
                Select::Last => state.rows.len().saturating_sub(1),
                Select::Id(id) | Select::Keep(id) => state
                    .rows
                    .iter()
                    .position(|r| r.id >= id)
                    .unwrap_or(state.rows.len().saturating_sub(1)),
            };
            match (select, state.current_id()) {
                // Still on the same item: read it again (others may have tagged it or added
                // a note) without resetting the details pane or claiming it anew.
                (Select::Keep(_), Some(id)) if before == Some(id) => vec![Effect::Reread(id)],
                _ => select_changed(state),
            }
        }
        Outcome::Slide {
            rows,
            forward,
            advance,
        } => {
            if state.rows.is_empty() {
                return vec![];
            }
            if rows.is_empty() {
                // At the end of the view: a page key still moves to the last (first) row.
                let edge = if forward { state.rows.len() - 1 } else { 0 };
                if edge == state.selected {
                    return vec![];
                }
                state.selected = edge;
                return select_changed(state);
            }
            let n = rows.len();
            if forward {
                let target = state.selected + advance;
                state.rows.extend(rows);
                let target = target.min(state.rows.len() - 1);
                let excess = state.rows.len().saturating_sub(state.page);
                state.rows.drain(..excess);
                state.offset += excess as u64;
                state.selected = target.saturating_sub(excess);
            } else {
                let target = (state.selected + n).saturating_sub(advance);
                let mut all = rows;
                all.append(&mut state.rows);
                all.truncate(state.page.max(n));
                state.rows = all;
                state.offset = state.offset.saturating_sub(n as u64);
                state.selected = target.min(state.rows.len() - 1);
            }
            select_changed(state)
        }
        Outcome::Found { generation, rows } => {
            if generation != state.search_generation {
                return vec![]; // a newer query was asked for: a stale answer
            }
            // A window load of the old query on its way would be stale when it arrives.
            state.loading = None;
            state.refreshing = None;
            apply(
                state,
                Outcome::Window {
                    rows,
                    offset: 0,
                    select: Select::First,
                },
            )
        }
        Outcome::Counted {
            generation,
            total,
            untriaged,
        } => {
            if generation == state.search_generation {
                state.total = total;
                state.untriaged = untriaged;
                state.searching = false;
                state.counted = true;
                if matches!(state.view, View::Similar(_)) && total <= 1 {
                    state.message = Some((
                        Level::Info,
                        "no other image in the case shows the same picture".into(),
                    ));
                }
            }
            vec![]
        }
        Outcome::SearchFailed { generation, error } => {
            if generation == state.search_generation {
                state.searching = false;
                state.message = Some((Level::Error, format!("search failed: {error}")));
            }
            vec![]
        }
        Outcome::Then(then) => {
            let current = state.current_id().unwrap_or(0);
            let anchor = match then {
                AfterChange::NextUntriaged => Anchor::NextUntriaged,
                AfterChange::Stay => Anchor::Reload {
                    first: state.rows.first().map(|r| r.id).unwrap_or(current),
                    offset: state.offset,
                    select: current,
                },
            };
            vec![Effect::Load(anchor)]
        }
        Outcome::Paged { ticket, outcomes } => {
            if state.refreshing == Some(ticket) {
                state.refreshing = None;
                let still_here = |o: &Outcome| match o {
                    Outcome::Window {
                        select: Select::Keep(id),
                        ..
                    } => state.current_id() == Some(*id),
                    _ => true,
                };
                if state.loading.is_some() {
                    return vec![]; // the load on its way reads the case as it is now
                }
                if !outcomes.iter().all(still_here) {
                    return case_moved(state); // the cursor moved meanwhile: again from here
                }
            } else if state.loading == Some(ticket) {
                state.loading = None;
            } else {
                return vec![]; // a newer load was asked for, or a new query
            }
            let mut effects = vec![];
            for o in outcomes {
                effects.extend(apply(state, o));
            }
            effects
        }
        Outcome::Marked(ids) => {
            state.message = Some((
                Level::Info,
                format!("{} marked: tags now apply to all of them", ids.len()),
            ));
            state.marks = ids.into_iter().collect();
            vec![]
        }
        Outcome::Compiled(filter) => {
            state.filter_where = filter;
            state.selection =
                Selection::new(&state.view, &state.reviewer, state.filter_where.clone());
            begin_query(state);
            vec![Effect::Search { window: true }]
        }
        Outcome::Written(outcomes) => {
            state.saving = state.saving.saturating_sub(1);
            let mut effects = vec![];
            for o in outcomes {
                effects.extend(apply(state, o));
            }
            effects
        }
        Outcome::CountsMoved {
            generation,
            total,
            untriaged,
        } => {
            if generation != state.search_generation {
                return vec![]; // another query is shown now: it is counted anew anyway
            }
            state.total = state.total.saturating_add_signed(total);
            state.untriaged = state.untriaged.saturating_add_signed(untriaged);
            // What the change could not know (someone else's write meanwhile) is caught by a
            // count once the reviewer pauses.
            vec![Effect::RecountLater]
        }
        Outcome::CountAgain => vec![Effect::Recount],
        Outcome::SavedViews(v) => {
            state.saved_views = v;
            vec![]
        }
        Outcome::Detail(d) => {
            state.reading = None;
            state.detail = d.map(|b| *b);
            looked_at(state);
            let effects = refresh_preview(state);
            arrived(state);
            effects
        }
        Outcome::Preview(answer) => {
            if answer.generation != state.preview.generation {
                return vec![]; // the reviewer moved on: a stale answer
            }
            let look = preview_look(state, answer.item_id);
            let item_id = answer.item_id;
            state.preview.shown = match answer.result {
                Ok(picture) => {
                    state.preview.last_cost = Some(picture.cost);
                    Shown::Picture {
                        item_id,
                        picture,
                        look,
                    }
                }
                Err(e) => Shown::Message(item_id, e),
            };
            if matches!(state.preview.shown, Shown::Picture { .. }) {
                return drawn(state, item_id);
            }
            vec![]
        }
        Outcome::Revealed { item_id, full } => {
            let level = if full { Reveal::Full } else { Reveal::Blurred };
            let e = state.preview.revealed.entry(item_id).or_insert(level);
            *e = (*e).max(level);
            state.message = Some((
                Level::Saved,
                format!(
                    "revealed {} ({}) — recorded",
                    crate::store::reference(item_id),
                    if full {
                        "in full"
                    } else {
                        "grayscale, blurred; R again for full"
                    }
                ),
            ));
            refresh_preview(state)
        }
        Outcome::Saved { summary, at } => {
            state.last_saved = Some(format!("{at} {summary}"));
            state.message = Some((Level::Saved, format!("saved: {summary}")));
            vec![]
        }
        Outcome::NoChange(msg) => {
            state.message = Some((Level::Info, msg));
            vec![]
        }
        Outcome::Incidents { all, recent } => {
            state.incidents = all;
            state.recent_incidents = recent;
            // The picker opened before the list came (a key typed right after the start).
            if let Mode::Incidents(p) = &mut state.mode {
                picker::refilter_incidents(p, &state.incidents, &state.recent_incidents);
            }
            vec![]
        }
        Outcome::Recent(kind, ids) => {
            state.recent.insert(kind, ids);
            vec![]
        }
        Outcome::Sources(s) => {
            state.sources = s;
            vec![]
        }
        Outcome::Filter(f) => {
            state.filter = f;
            if matches!(
                state.mode,
                Mode::Prompt(Prompt {
                    kind: PromptKind::Filter,
                    ..
                })
            ) {
                state.mode = Mode::Normal;
            }
            vec![]
        }
        Outcome::Incomplete => {
            state.searching = false;
            vec![]
        }
        Outcome::FilterError(e) => {
            state.searching = false;
            if let Mode::Prompt(p) = &mut state.mode {
                p.error = Some(e);
            } else {
                state.message = Some((Level::Error, e));
            }
            vec![]
        }
        Outcome::Overview(data) => {
            state.message = None;
            state.mode = Mode::Overview(Box::new(overview::build(*data, &state.taxonomy)));
            vec![]
        }
        Outcome::Parent { of, parent } => {
            // Only if the reviewer is still on that item.
            if state.current_id() == Some(of) {
                return super::views::parent_found(state, of, parent);
            }
            vec![]
        }
        Outcome::History(entries) => {
            state.mode = Mode::History { entries, scroll: 0 };
            vec![]
        }
        Outcome::ClaimedBy(id, other) => {
            if state.current_id() == Some(id) {
                state.message = Some((
                    Level::Error,
                    format!(
                        "{} is being reviewed by {}; changes to it are refused",
                        crate::store::reference(id),
                        other
                    ),
                ));
            }
            vec![]
        }
        Outcome::Role(role) => {
            state.role = role;
            vec![]
        }
        Outcome::Wellbeing(today) => figures(state, today),
        Outcome::Batch(b) => {
            state.batch = b;
            vec![]
        }
        Outcome::Error(e) => {
            // A detail that could not be read is not waited for.
            state.reading = None;
            state.message = Some((Level::Error, e));
            vec![]
        }
    }
}
