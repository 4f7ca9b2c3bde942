//! Queries off the UI thread: the first window of a new filter or view, and the counts the
//! status bar shows, run on a worker with its own connection. Every request carries the
//! generation of the query it belongs to; a newer generation interrupts the running one
//! (`sqlite3_interrupt`), requests waiting behind it are dropped, and a stale answer that
//! still arrives is ignored by `update::apply`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use super::effect::{Effect, Outcome, Task};
use super::event::Event;
use crate::store::query::{self, Selection};
use crate::store::{is_interrupted, Case, Db, DbResult, Interrupt};

#[derive(Debug, Clone)]
pub struct Request {
    pub generation: u64,
    pub selection: Selection,
    pub page: usize,
    /// Also load the first window (a new filter or view); otherwise only the counts.
    pub window: bool,
    /// Only the counts, once no other request came for `SETTLE`: after our own changes,
    /// whose effect on the counts is known already, a count of a million rows per key would
    /// only compete with the keys for the processor.
    pub settle: bool,
}

impl Request {
    /// The request for a task of the search lane (`Search`, `Recount`, `RecountLater`).
    pub fn for_task(task: Task) -> Request {
        Request {
            generation: task.generation,
            page: task.at.page,
            window: matches!(task.effect, Effect::Search { window: true }),
            settle: task.effect == Effect::RecountLater,
            selection: task.selection,
        }
    }
}

/// How long a settling count waits for the reviewer to pause.
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(1500);

/// Answer a request: the first window (if asked) as soon as it is known, then the counts.
pub fn answer(db: &impl Db, req: &Request, send: &mut dyn FnMut(Outcome)) -> DbResult<()> {
    if req.window {
        let rows = req.selection.after(db, None, req.page.max(1))?;
        send(Outcome::Found {
            generation: req.generation,
            rows,
        });
    }
    let total = req.selection.count(db)?;
    let untriaged = query::untriaged_count(db)?;
    send(Outcome::Counted {
        generation: req.generation,
        total,
        untriaged,
    });
    Ok(())
}

/// The UI thread's side of the worker.
pub struct Worker {
    tx: Sender<Request>,
    interrupt: Interrupt,
    /// The newest generation asked for, and the one the worker is running.
    latest: Arc<AtomicU64>,
    running: Arc<AtomicU64>,
}

impl Worker {
    /// Open a second connection to the case and start the worker thread.
    pub fn spawn(root: &Path, events: Sender<Event>) -> crate::store::Result<Worker> {
        let case = Case::open(root)?;
        let interrupt = case.interrupt_handle();
        let (tx, rx) = std::sync::mpsc::channel();
        let latest = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicU64::new(0));
        let (l, r) = (latest.clone(), running.clone());
        std::thread::spawn(move || serve(case, rx, events, l, r));
        Ok(Worker {
            tx,
            interrupt,
            latest,
            running,
        })
    }

    pub fn send(&self, req: Request) {
        let g = req.generation;
        self.latest.fetch_max(g, Ordering::SeqCst);
        // An older query still running is of no use any more: stop it now. So is a count
        // of this query begun before the latest change: it starts again and answers once,
        // rather than show a count already out of date and then the right one.
        if self.running.load(Ordering::SeqCst) <= g {
            self.interrupt.interrupt();
        }
        let _ = self.tx.send(req);
    }
}

fn serve(
    case: Case,
    rx: Receiver<Request>,
    events: Sender<Event>,
    latest: Arc<AtomicU64>,
    running: Arc<AtomicU64>,
) {
    while let Ok(first) = rx.recv() {
        let mut req = newest(first, rx.try_iter());
        while req.settle {
            match rx.recv_timeout(SETTLE) {
                Ok(next) => req = newest(req, std::iter::once(next).chain(rx.try_iter())),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        running.store(req.generation, Ordering::SeqCst);
        let mut send = |o: Outcome| {
            let _ = events.send(Event::Search(o));
        };
        loop {
            // A panic answers the query with an error: the status bar must not wait for it.
            let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                answer(&case, &req, &mut send)
            }));
            let Ok(answered) = answered else {
                send(Outcome::SearchFailed {
                    generation: req.generation,
                    error: "the search worker failed on this query".into(),
                });
                break;
            };
            match answered {
                Ok(()) => break,
                // Interrupted for a newer query, or (a race) just as this one started: run it
                // again only if it is still the newest.
                Err(e) if is_interrupted(&e) => {
                    if latest.load(Ordering::SeqCst) != req.generation {
                        break;
                    }
                }
                Err(e) => {
                    send(Outcome::SearchFailed {
                        generation: req.generation,
                        error: e.to_string(),
                    });
                    break;
                }
            }
        }
    }
}

/// Of the requests waiting, only the newest matters; a window asked for by an older request
/// of the same generation is still wanted.
pub fn newest(first: Request, rest: impl Iterator<Item = Request>) -> Request {
    let mut req = first;
    for r in rest {
        let same = r.generation == req.generation;
        let window = r.window || (same && req.window);
        // A count asked for at once is not put off by a settling one behind it.
        let settle = r.settle && (!same || req.settle);
        req = Request {
            window,
            settle,
            ..r
        };
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(generation: u64, window: bool) -> Request {
        Request {
            generation,
            selection: Selection::default(),
            page: 10,
            window,
            settle: false,
        }
    }

    #[test]
    fn only_the_newest_request_runs() {
        let r = newest(req(1, true), vec![req(2, true), req(3, false)].into_iter());
        assert_eq!((r.generation, r.window), (3, false));
        let r = newest(req(4, true), vec![req(4, false)].into_iter());
        assert_eq!((r.generation, r.window), (4, true));
    }
}
