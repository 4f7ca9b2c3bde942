//! Everything that wakes the console comes through one channel: terminal input (read on its
//! own thread), signals, and a slow renewal tick for claims that draws nothing: nothing is drawn
//! unless something happened.

use std::sync::mpsc::{self, Receiver, Sender};

use ratatui::crossterm::event::{self, Event as TermEvent};

pub enum Event {
    Term(TermEvent),
    /// SIGTERM, SIGHUP, SIGINT: leave cleanly.
    Signal(i32),
    /// Input ended (the terminal or the SSH connection went away).
    InputClosed,
    /// A preview from the preview worker.
    Preview(crate::preview::Answer),
    /// An outcome from a worker: rows, counts, a window, a detail, a saved decision.
    Search(super::effect::Outcome),
    /// Something was committed to the case since the last look (the follow worker).
    CaseMoved,
    /// Time to renew the claim on the item being looked at (draws nothing).
    Renew,
}

/// Renew claims well inside their lease.
pub fn spawn_renewals(tx: Sender<Event>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        if tx.send(Event::Renew).is_err() {
            return;
        }
    });
}

pub fn channel() -> (Sender<Event>, Receiver<Event>) {
    mpsc::channel()
}

pub fn spawn_input(tx: Sender<Event>) {
    std::thread::spawn(move || loop {
        match event::read() {
            Ok(ev) => {
                if tx.send(Event::Term(ev)).is_err() {
                    return;
                }
            }
            Err(_) => {
                let _ = tx.send(Event::InputClosed);
                return;
            }
        }
    });
}

pub fn spawn_signals(tx: Sender<Event>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let _ = tx.send(Event::Signal(sig));
        }
    });
    Ok(())
}
