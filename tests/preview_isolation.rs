//! Previews are decoded in a parser worker process: when it crashes, the pane says why and the
//! console goes on (issue 11, finding 3). A stand-in worker that crashes on every job plays
//! a decoder hitting a bug; its own file, because the choice of worker is per process.

#[path = "it/common/mod.rs"]
mod common;

use std::os::unix::fs::PermissionsExt;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

#[test]
fn a_preview_decoder_that_crashes_shows_a_message_and_the_console_goes_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    let worker = tmp.path().join("crashing-worker");
    std::fs::write(&worker, "#!/bin/sh\nhead -c 4 > /dev/null\nkill -SEGV $$\n").expect("write");
    std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    triage::worker::isolate_with(worker);

    let dir = common::demo_case(tmp.path());
    let mut case = triage::store::Case::open(&dir).expect("open");
    common::add_member(&mut case, "rev", triage::store::users::Role::Lead);
    drop(case);
    let mut c = common::console(&dir, "rev", 120, 40);
    let key = |c: &mut triage::console::Console, code| {
        c.key(KeyEvent::from(code));
        c.settle();
    };
    key(&mut c, KeyCode::Char('i'));
    let s = common::screen(&c, 120, 40);
    assert!(s.contains("SIGSEGV"), "the pane names the crash: {s}");
    assert!(!s.contains('▀'));
    // The next item: a new worker is started (and crashes too); the console answers keys.
    key(&mut c, KeyCode::Char('j'));
    let s2 = common::screen(&c, 120, 40);
    assert!(s2.contains("SIGSEGV"), "{s2}");
    assert_ne!(s, s2, "the selection moved");
    key(&mut c, KeyCode::Char('i'));
    assert!(
        !common::screen(&c, 120, 40).contains("SIGSEGV"),
        "the pane closes"
    );
}
