//! The overview's counts on a thread and connection of their own: on a million items they
//! take most of a second, and the screen must not wait for them.

use std::path::Path;
use std::sync::mpsc::{Sender, TryRecvError};
use std::sync::Arc;

use super::effect::Outcome;
use super::event::Event;
use crate::store::overview::Cached;
use crate::store::Case;
use crate::taxonomy::Taxonomy;

/// Start the worker; each `()` sent asks for the counts, answered as `Outcome::Overview`.
pub fn spawn(
    root: &Path,
    tax: Arc<Taxonomy>,
    events: Sender<Event>,
) -> crate::store::Result<Sender<()>> {
    let case = Case::open(root)?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("counting".into())
        .spawn(move || {
            let mut cached = Cached::default();
            while rx.recv().is_ok() {
                // Requests that queued up meanwhile are answered by this one.
                while !matches!(
                    rx.try_recv(),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected)
                ) {}
                let counted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cached.get(&case, &tax)
                }));
                let outcome = match counted {
                    Ok(Ok(ov)) => Outcome::Overview(Box::new(ov)),
                    Ok(Err(e)) => Outcome::Error(format!("overview: {e}")),
                    Err(_) => Outcome::Error("overview: the counting worker failed".into()),
                };
                if events.send(Event::Search(outcome)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| crate::store::CaseError::Internal(format!("counting thread: {e}")))?;
    Ok(tx)
}
