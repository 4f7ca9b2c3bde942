//! Which worker carries out each effect (`lane`, the one routing table), and the workers.
//! Every query and every write runs off the UI thread, each worker on a connection of its own:
//! - reader: window loads, details, history, the lists later keys need;
//! - writer: decisions, claims, reveals, exposures counted, saved views; between tasks it also follows the case
//!   (`PRAGMA data_version` on its own connection moves only when someone else commits, so
//!   our own writes never wake the console);
//! - search: counts and first windows of queries, interrupted by newer ones;
//! - counting: the overview;
//! - preview: decoding images.
//!
//! Without workers (tests) the console runs every task on its own thread, in order.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use super::effect::{Effect, Outcome, Task};
use super::event::Event;
use super::runtime::{self, Runtime};
use crate::store::objects::ObjectStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// No I/O (compiling a filter): done at once, on the calling thread.
    Here,
    Reader,
    Writer,
    Search,
    Counting,
    Preview,
}

/// The routing table: the worker for each effect.
pub fn lane(effect: &Effect) -> Lane {
    match effect {
        Effect::SetFilter(_) | Effect::TryFilter(_) => Lane::Here,
        Effect::Load(_)
        | Effect::Detail(_)
        | Effect::Reread(_)
        | Effect::History(_)
        | Effect::Parent(_)
        | Effect::MarkAll
        | Effect::Lists => Lane::Reader,
        Effect::Apply { .. }
        | Effect::Undo
        | Effect::RepeatLast { .. }
        | Effect::CreateIncident { .. }
        | Effect::ConfirmReview(_)
        | Effect::SaveView { .. }
        | Effect::DeleteView(_)
        | Effect::Reveal { .. }
        | Effect::Exposure { .. }
        | Effect::LimitAnswer { .. }
        | Effect::Claim(_) => Lane::Writer,
        Effect::Search { .. } | Effect::Recount | Effect::RecountLater => Lane::Search,
        Effect::Overview => Lane::Counting,
        Effect::Preview { .. } => Lane::Preview,
    }
}

/// The UI thread's side of the workers.
pub struct Lanes {
    reader: Sender<Task>,
    writer: Sender<Task>,
    search: super::search::Worker,
    counting: Sender<()>,
    preview: Sender<crate::preview::Request>,
    root: PathBuf,
    objects: ObjectStore,
}

impl Lanes {
    /// Start the workers that are not running yet (the search worker is, for the first frame).
    pub fn spawn(
        here: &Runtime,
        search: super::search::Worker,
        events: Sender<Event>,
        follow_every: Duration,
    ) -> crate::store::Result<Lanes> {
        let root = here.case.root.clone();
        let reader = spawn_worker("reader", here.open_another()?, events.clone(), None)?;
        let writer = spawn_worker(
            "writer",
            here.open_another()?,
            events.clone(),
            Some(follow_every),
        )?;
        let (preview, preview_rx) = std::sync::mpsc::channel();
        crate::preview::ahead::spawn_worker(
            preview_rx,
            events.clone(),
            Event::Preview,
            Some(&root),
        );
        let counting = super::counting::spawn(&root, here.taxonomy(), events)?;
        Ok(Lanes {
            reader,
            writer,
            search,
            counting,
            preview,
            objects: here.case.objects.clone(),
            root,
        })
    }

    /// Send a task to its worker; a task for `Lane::Here` comes back, to be run at once.
    pub fn send(&self, task: Task) -> Option<Task> {
        match lane(&task.effect) {
            Lane::Here => return Some(task),
            Lane::Reader => {
                let _ = self.reader.send(task);
            }
            Lane::Writer => {
                let _ = self.writer.send(task);
            }
            Lane::Search => self.search.send(super::search::Request::for_task(task)),
            Lane::Counting => {
                let _ = self.counting.send(());
            }
            Lane::Preview => {
                if let Effect::Preview { sha256, request } = &task.effect {
                    let req = runtime::preview_request(&self.root, &self.objects, sha256, request);
                    let _ = self.preview.send(req);
                }
            }
        }
        None
    }
}

/// A worker thread running tasks in order on its own connection; with `follow`, it also looks
/// that often whether someone else committed to the case, and says so.
fn spawn_worker(
    name: &str,
    runtime: Runtime,
    events: Sender<Event>,
    follow: Option<Duration>,
) -> crate::store::Result<Sender<Task>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || serve(runtime, rx, events, follow))
        .map_err(|e| crate::store::CaseError::Internal(format!("{name} thread: {e}")))?;
    Ok(tx)
}

fn serve(
    mut runtime: Runtime,
    rx: Receiver<Task>,
    events: Sender<Event>,
    follow: Option<Duration>,
) {
    let mut watch = follow.and_then(|_| super::follow::Watch::new(&runtime.case));
    loop {
        let task = match follow {
            Some(every) => match rx.recv_timeout(every) {
                Ok(task) => Some(task),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(task) => Some(task),
                Err(_) => return,
            },
        };
        if let Some(task) = task {
            // A panic answers the task with an error, so that the console never waits for it.
            let outcomes =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.run(&task)))
                    .unwrap_or_else(|_| failed(&task));
            for o in outcomes {
                if events.send(Event::Search(o)).is_err() {
                    return;
                }
            }
        }
        if let Some(w) = &mut watch {
            match w.moved(&runtime.case) {
                Ok(false) => {}
                Ok(true) => {
                    if events.send(Event::CaseMoved).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let error = format!("no longer following the case: {e}");
                    let _ = events.send(Event::Search(Outcome::Error(error)));
                    watch = None;
                }
            }
        }
    }
}

/// The answer to a task whose worker panicked: an error, with the ticket or the "written"
/// the console waits for.
fn failed(task: &Task) -> Vec<Outcome> {
    let error =
        Outcome::Error("a worker failed while doing this; the history shows what was saved".into());
    match &task.effect {
        Effect::Load(_) => vec![Outcome::Paged {
            ticket: task.ticket,
            outcomes: vec![error],
        }],
        Effect::Apply { .. }
        | Effect::Undo
        | Effect::RepeatLast { .. }
        | Effect::CreateIncident { .. }
        | Effect::ConfirmReview(_) => {
            vec![Outcome::Written(vec![error])]
        }
        _ => vec![error],
    }
}
