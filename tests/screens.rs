//! Every screen and popup of the console as a golden snapshot (tests/snapshots/), at 80×24
//! and 120×40, drawn over ratatui's TestBackend from the built-in demo case. A change to any
//! screen shows as a reviewable diff (`cargo insta review`, or INSTA_UPDATE=always to accept).
//! What changes from run to run — today's date, the login, times — is redacted.

mod common;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use triage::console::Console;

fn press(c: &mut Console, code: KeyCode) {
    c.key(KeyEvent::new(code, KeyModifiers::NONE));
    c.settle();
}

fn typed(c: &mut Console, s: &str) {
    for ch in s.chars() {
        press(c, KeyCode::Char(ch));
    }
}

/// The screen with what varies between runs replaced by stable placeholders.
fn snap(name: &str, c: &Console, tmp: &std::path::Path, w: u16, h: u16) {
    let login = triage::identity::login_name();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let screen = common::screen(c, w, h)
        .replace(&today, "YYYY-MM-DD")
        .replace(tmp.to_str().unwrap_or("/tmp"), "/TMP")
        // The history's actor column is 10 wide: the same layout for any shorter login.
        .replace(&format!("{login:<10}"), "LOGIN     ");
    let screen = redact_temp_dirs(&redact_times(&screen));
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

/// `hh:mm:ss` of today's events (the demo case is built at test time) → placeholders. Only
/// on lines that carry today's date, so capture times of the material stay in the snapshot.
fn redact_times(screen: &str) -> String {
    screen
        .lines()
        .map(|l| {
            if !l.contains("YYYY-MM-DD") {
                return l.to_string();
            }
            let chars: Vec<char> = l.chars().collect();
            let mut out = String::new();
            let mut i = 0;
            while i < chars.len() {
                let is_time = i + 8 <= chars.len()
                    && chars[i..i + 8].iter().enumerate().all(|(k, c)| {
                        if k == 2 || k == 5 {
                            *c == ':'
                        } else {
                            c.is_ascii_digit()
                        }
                    });
                if is_time {
                    out.push_str("hh:mm:ss");
                    i += 8;
                } else {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
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
        snap("queue", &c, tmp.path(), w, h);

        press(&mut c, KeyCode::Tab);
        snap("details_focused", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Tab);

        press(&mut c, KeyCode::Char('?'));
        snap("help", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('c'));
        snap("picker_crimes", &c, tmp.path(), w, h);
        typed(&mut c, "chem");
        snap("picker_crimes_filtered", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('p'));
        snap("picker_parties", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('f'));
        snap("picker_flags", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('/'));
        typed(&mut c, "type:image (");
        snap("prompt_filter_error", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('n'));
        typed(&mut c, "seen at the clinic");
        snap("prompt_note", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('e'));
        snap("prompt_escalate", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char(':'));
        snap("prompt_command", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('w'));
        snap("views", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('H'));
        snap("history", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('O'));
        snap("overview", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);

        press(&mut c, KeyCode::Char('v'));
        press(&mut c, KeyCode::Char('j'));
        press(&mut c, KeyCode::Char('v'));
        snap("marks", &c, tmp.path(), w, h);
        press(&mut c, KeyCode::Esc);
    }
}
