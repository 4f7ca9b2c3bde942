//! The console follows the case: a thread with its own connection looks about twice a second
//! whether anything was committed (new intake, another reviewer's decision, claim or note, or
//! our own writes) and, when so, wakes the console, which refreshes what it shows. Looking is
//! one pragma; nothing is sent to the terminal unless the screen changed.

use std::path::Path;
use std::sync::mpsc::Sender;
use std::time::Duration;

use super::effect::Outcome;
use super::event::Event;
use crate::store::watch::data_version;
use crate::store::Case;

/// How often the case is looked at.
pub const EVERY: Duration = Duration::from_millis(500);

/// Start the watcher. It ends when the console is gone (the channel is closed); a failure or
/// a panic on it is reported once as an error and stops following, never the console.
pub fn spawn(root: &Path, events: Sender<Event>, every: Duration) -> crate::store::Result<()> {
    let case = Case::open(root)?;
    std::thread::Builder::new()
        .name("follow".into())
        .spawn(move || {
            let watched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                watch(&case, &events, every)
            }));
            let error = match watched {
                Ok(Ok(())) => return,
                Ok(Err(e)) => format!("no longer following the case: {e}"),
                Err(_) => "no longer following the case: its watcher failed".to_string(),
            };
            let _ = events.send(Event::Search(Outcome::Error(error)));
        })
        .map_err(|e| crate::store::CaseError::Internal(format!("follow thread: {e}")))?;
    Ok(())
}

fn watch(case: &Case, events: &Sender<Event>, every: Duration) -> crate::store::DbResult<()> {
    let mut seen = data_version(&case)?;
    loop {
        std::thread::sleep(every);
        let now = data_version(&case)?;
        if now != seen {
            seen = now;
            if events.send(Event::CaseMoved).is_err() {
                return Ok(());
            }
        }
    }
}
