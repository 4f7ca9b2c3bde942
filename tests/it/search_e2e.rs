//! Search in the real console (pty): results follow the `/` prompt as it is typed (the queries
//! run on the search worker), `:save` records a view, and `w` offers it.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::pty;

use std::process::Command;

use pty::Console;

const BIN: &str = env!("CARGO_BIN_EXE_triage");

#[test]
fn typing_a_filter_shows_results_and_save_makes_a_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    let out = Command::new(BIN)
        .args(["demo", "--no-open", "--dir"])
        .arg(dir.path())
        .env("HOME", home.path())
        .env_remove("TRIAGE_CASE")
        .output()
        .expect("run triage demo");
    assert!(out.status.success());
    let case = dir.path().join("case");
    let mut c = Console::spawn(pty::console_command(BIN, &case, home.path()));
    c.wait_ready();
    // The demo's untriaged view holds 38 items; four images mention Douma.
    c.send("/douma type:image");
    c.wait_status("/4 ");
    c.send("\r");
    c.wait_for("the prompt to close", |s| !s.contains("filter: "));
    c.send(":save douma images\r");
    c.wait_message("view douma images saved");
    let db = rusqlite::Connection::open(case.join("case.db")).expect("db");
    let expr: String = db
        .query_row(
            "SELECT expr FROM saved_views WHERE name = 'douma images'",
            [],
            |r| r.get(0),
        )
        .expect("saved");
    assert_eq!(expr, "douma type:image");
    // Esc clears the filter; the view chooser lists the saved view after the built-in ones.
    c.send("\x1b");
    c.wait_status("/38 ");
    c.send("w");
    c.wait_text("view douma images");
    c.send("q");
    c.send("q");
    c.wait_exit();
}
