//! Every screen and popup of the console as a golden snapshot (tests/snapshots/), at 80×24
//! and 120×40, drawn over ratatui's TestBackend from the built-in demo case. A change to any
//! screen shows as a reviewable diff (`cargo insta review`, or INSTA_UPDATE=always to accept).
//! What changes from run to run (when and by whom the demo case was built, its temporary
//! folder) is fixed before drawing.

use crate::common;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use triage::console::Console;

pub(crate) fn press(c: &mut Console, code: KeyCode) {
    c.key(KeyEvent::new(code, KeyModifiers::NONE));
    c.settle();
}

fn typed(c: &mut Console, s: &str) {
    for ch in s.chars() {
        press(c, KeyCode::Char(ch));
    }
}

/// The screen with what varies between runs replaced by stable placeholders.
pub(crate) fn snap(name: &str, c: &mut Console, w: u16, h: u16) {
    fix_run_dependent_fields(&mut c.state);
    let screen = redact_temp_dirs(&common::screen(c, w, h));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen));
}

/// Temporary folders (`/tmp/.tmpAbC123`): the demo case is built in one and copied.
fn redact_temp_dirs(screen: &str) -> String {
    let mut out = String::new();
    let mut rest = screen;
    while let Some(i) = rest.find("/tmp/.tmp") {
        out.push_str(&rest[..i]);
        out.push_str("/TMP");
        let tail = &rest[i + "/tmp/.tmp".len()..];
        let skip = tail
            .char_indices()
            .take(6)
            .take_while(|(_, c)| c.is_ascii_alphanumeric())
            .map(|(k, c)| k + c.len_utf8())
            .last()
            .unwrap_or(0);
        rest = &tail[skip..];
    }
    out.push_str(rest);
    out
}

/// What differs from run to run in the demo case (built at test time, by whoever runs the
/// tests) is set to fixed values in the state before drawing: the time each item was received
/// and by whom, and the history's times and actors.
pub(crate) fn fix_run_dependent_fields(state: &mut triage::console::state::State) {
    const AT: &str = "2026-01-02T03:04:05.000000Z";
    let login = triage::identity::login_name().expect("login");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let fix_at = |at: &mut String| {
        if at.starts_with(&today) {
            *at = AT.into();
        }
    };
    let fix_login = |who: &mut String| {
        if *who == login {
            *who = "admin".into();
        }
    };
    for r in &mut state.rows {
        fix_at(&mut r.created_at);
    }
    // "HH:MM:SS summary": the local time of the last save.
    if let Some(saved) = &mut state.last_saved {
        if saved.get(2..3) == Some(":") && saved.get(5..6) == Some(":") {
            saved.replace_range(..8, "03:04:05");
        }
    }
    if let Some(d) = &mut state.detail {
        fix_at(&mut d.row.created_at);
        for p in &mut d.provenance {
            fix_at(&mut p.received_at);
            fix_login(&mut p.received_by);
        }
    }
    if let triage::console::state::Mode::History { entries, .. } = &mut state.mode {
        for e in entries {
            fix_at(&mut e.at);
            fix_login(&mut e.actor);
        }
    }
}

#[test]
fn every_screen_and_popup_at_two_sizes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = common::demo_case(tmp.path());
    // A reviewer with a fixed name, so the status bar is the same whoever runs the tests.
    let mut admin = triage::store::Case::open(&case).expect("open");
    common::add_member(&mut admin, "rev", triage::store::users::Role::Reviewer);
    drop(admin);
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut c = common::console(&case, "rev", w, h);
        c.settle();
        snap("queue", &mut c, w, h);

        press(&mut c, KeyCode::Tab);
        snap("details_focused", &mut c, w, h);
        press(&mut c, KeyCode::Tab);

        press(&mut c, KeyCode::Char('?'));
        snap("help", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('c'));
        snap("picker_crimes", &mut c, w, h);
        typed(&mut c, "chem");
        snap("picker_crimes_filtered", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('p'));
        snap("picker_parties", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('f'));
        snap("picker_flags", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('/'));
        typed(&mut c, "type:image (");
        snap("prompt_filter_error", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('n'));
        typed(&mut c, "seen at the clinic");
        snap("prompt_note", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('e'));
        snap("prompt_escalate", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char(':'));
        snap("prompt_command", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('w'));
        snap("views", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('H'));
        snap("history", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('O'));
        snap("overview", &mut c, w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('v'));
        press(&mut c, KeyCode::Char('j'));
        press(&mut c, KeyCode::Char('v'));
        snap("marks", &mut c, w, h);
        press(&mut c, KeyCode::Esc);
    }
}
