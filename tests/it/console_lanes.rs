//! The console with its workers: a decision is written off the screen's thread and shown as
//! saved only once committed; the counts move by its effect; our own writes do not wake the
//! console as if the case had moved, someone else's do.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use triage::console::event::Event;
use triage::console::state::Level;
use triage::console::Console;

use crate::common;

/// Hand the console every event until `done` holds (or fail after 10 s); the events seen.
fn pump(c: &mut Console, rx: &Receiver<Event>, done: impl Fn(&Console) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = vec![];
    while !done(c) {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).expect("an event before the deadline");
        seen.push(kind(&ev));
        c.handle(ev);
        c.settle();
    }
    seen
}

fn kind(ev: &Event) -> String {
    match ev {
        Event::CaseMoved => "moved".into(),
        Event::Search(o) => format!("{o:?}").chars().take(30).collect(),
        _ => "other".into(),
    }
}

#[test]
fn a_decision_is_saved_by_the_writer_and_only_our_neighbours_wake_the_console() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = common::demo_case(tmp.path());
    let me = triage::identity::login_name().expect("login");
    let mut c = common::console(&case, &me, 120, 40);
    let (tx, rx) = triage::console::event::channel();
    c.start_lanes(tx).expect("workers");
    let (untriaged, total) = (c.state.untriaged, c.state.total);
    let first = c.state.current_id().expect("an item");

    c.key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert_eq!(c.state.saving, 1, "sent to the writer, not saved yet");
    assert!(
        c.state
            .message
            .as_ref()
            .is_none_or(|(l, _)| *l != Level::Saved),
        "nothing says saved before the writer does"
    );
    let seen = pump(&mut c, &rx, |c| {
        c.state.saving == 0 && c.state.loading.is_none() && c.state.reading.is_none()
    });
    let (level, text) = c.state.message.clone().expect("a message");
    assert_eq!(level, Level::Saved, "{text}");
    let status: String = common::sql(&c.runtime.case)
        .query_row("SELECT status FROM items WHERE id = ?", [first], |r| {
            r.get(0)
        })
        .expect("status");
    assert_eq!(status, "triaged", "saved means committed");
    assert_eq!(
        (c.state.untriaged, c.state.total),
        (untriaged - 1, total - 1),
        "counts moved by the decision's effect"
    );
    assert_ne!(
        c.state.current_id(),
        Some(first),
        "on to the next untriaged"
    );

    // Our own writes (the decision, claims) never look like someone else's: for two looks of
    // the watcher, nothing moves.
    let quiet = Instant::now() + triage::console::follow::EVERY * 3;
    let mut later = seen;
    while let Ok(ev) = rx.recv_timeout(quiet.saturating_duration_since(Instant::now())) {
        later.push(kind(&ev));
        c.handle(ev);
    }
    assert!(!later.contains(&"moved".to_string()), "{later:?}");

    // Someone else's decision wakes it within a second or so.
    let mut other = triage::store::Case::open(&case).expect("open");
    triage::store::changes::apply(
        &mut other,
        &triage::taxonomy::Taxonomy::default_set(),
        &me,
        &triage::store::changes::Edit::Note {
            item: first,
            body: "from another console".into(),
        },
    )
    .expect("note");
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut moved = false;
    while let Ok(ev) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if matches!(ev, Event::CaseMoved) {
            moved = true;
            break;
        }
        c.handle(ev);
    }
    assert!(moved, "another connection's commit wakes the console");
}
