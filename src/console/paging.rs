//! Window loads (page moves, `x` to the next untriaged item, `G`, a refresh after the case
//! moved), run on the reader worker with its own connection: on a million items some take tens to hundreds
//! of milliseconds, and the screen must not wait for them. Each load carries a ticket; the
//! console holds the keys typed meanwhile and replays them when the answer arrives, so a key
//! sequence means the same as if every load had been instant. A refresh (the case moved)
//! holds no keys: its answer is used only if the cursor is still where it was. Without a
//! worker (tests) the same `load` runs on the calling thread.

use super::effect::{Anchor, Outcome, Select, Viewport};
use crate::store::query::Selection;
use crate::store::{Db, DbResult};

/// What an anchor asks for, in `selection`, from where the window is now (`at`).
pub fn load(
    db: &impl Db,
    selection: &Selection,
    anchor: &Anchor,
    at: Viewport,
) -> DbResult<Vec<Outcome>> {
    if *anchor != Anchor::NextUntriaged {
        return Ok(vec![window(db, selection, anchor, at)?]);
    }
    let current = at.current.unwrap_or(0);
    let mut out = vec![];
    let anchor = match selection.next_untriaged(db, current)? {
        Some(next) if at.last.is_some_and(|l| next <= l) || at.last.is_none() => Anchor::Reload {
            first: at.first.unwrap_or(next),
            offset: at.offset,
            select: next,
        },
        // Past the window: its position is the window's plus the rows from the window's
        // first up to it (a short count, not one of everything before it).
        Some(next) => Anchor::Reload {
            first: next,
            offset: match at.first {
                Some(first) => at.offset + selection.count_range(db, first, next)?,
                None => selection.count_before(db, next)?,
            },
            select: next,
        },
        None => {
            out.push(Outcome::NoChange(
                "no more untriaged items in this view".into(),
            ));
            Anchor::Reload {
                first: at.first.unwrap_or(current),
                offset: at.offset,
                select: current,
            }
        }
    };
    out.insert(0, window(db, selection, &anchor, at)?);
    Ok(out)
}

fn window(db: &impl Db, selection: &Selection, anchor: &Anchor, at: Viewport) -> DbResult<Outcome> {
    let page = at.page.max(1);
    Ok(match anchor {
        Anchor::Start => Outcome::Window {
            rows: selection.after(db, None, page)?,
            offset: 0,
            select: Select::First,
        },
        Anchor::End => {
            let rows = selection.before(db, None, page)?;
            // A count on the UI thread only when the worker's is not known.
            let total = match at.total {
                Some(t) => t,
                None => selection.count(db)?,
            };
            Outcome::Window {
                offset: total.saturating_sub(rows.len() as u64),
                rows,
                select: Select::Last,
            }
        }
        Anchor::After(id, n, advance) => Outcome::Slide {
            rows: selection.after(db, Some(*id), *n)?,
            forward: true,
            advance: *advance,
        },
        Anchor::Before(id, n, advance) => Outcome::Slide {
            rows: selection.before(db, Some(*id), *n)?,
            forward: false,
            advance: *advance,
        },
        Anchor::Reload {
            first,
            offset,
            select,
        } => {
            let mut rows = selection.from(db, *first, page)?;
            let mut offset = *offset;
            // The window must reach the selected item...
            if rows.last().is_some_and(|r| r.id < *select) {
                rows = selection.from(db, *select, page)?;
                offset = selection.count_before(db, *select)?;
            }
            // ...and stay full near the end of the view.
            if rows.len() < page {
                let first_id = rows.first().map(|r| r.id);
                let before = selection.before(db, first_id, page - rows.len())?;
                offset = match first_id {
                    Some(_) => offset.saturating_sub(before.len() as u64),
                    None => selection.count(db)?.saturating_sub(before.len() as u64),
                };
                let mut all = before;
                all.extend(rows);
                rows = all;
            }
            Outcome::Window {
                rows,
                offset,
                select: Select::Id(*select),
            }
        }
        // `load` resolves it to a reload first.
        Anchor::NextUntriaged => window(db, selection, &Anchor::Start, at)?,
        Anchor::Refresh { first, select } => {
            let offset = selection.count_before(db, *first)?;
            let reload = Anchor::Reload {
                first: *first,
                offset,
                select: *select,
            };
            match window(db, selection, &reload, at)? {
                Outcome::Window { rows, offset, .. } => Outcome::Window {
                    rows,
                    offset,
                    select: Select::Keep(*select),
                },
                other => other,
            }
        }
    })
}
