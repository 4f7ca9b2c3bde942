//! Families in the console: the details name a member's container and a container's members,
//! `F` lists a container and its members as a view, `P` goes to a member's container, and a
//! whole family is tagged in one change (`V` then a picker). Golden screens at 80×24, and the
//! same keys on the real console in a pseudo-terminal.
// The test reads case.db with rusqlite itself, as a checker would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::Write;
use std::path::{Path, PathBuf};

use ratatui::crossterm::event::KeyCode;

use crate::common::{output_text, triage};
use crate::pty;
use crate::screens::{press, snap};

/// A case holding `upload.zip` (two photos' worth of bytes and a nested ZIP with a note), in
/// `dir/case`, ingested by `triage ingest`.
fn family_case(dir: &Path) -> PathBuf {
    let case = crate::families::init(dir);
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let zip = |entries: &[(&str, &[u8])]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(
                zip::DateTime::from_date_and_time(2024, 3, 1, 10, 0, 0).expect("time"),
            );
        for (name, data) in entries {
            w.start_file(*name, opts).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    };
    let nested = zip(&[("note.txt", b"a note inside the nested archive")]);
    let upload = zip(&[
        ("DCIM/report-1.txt", b"first statement"),
        ("DCIM/report-2.txt", b"second statement"),
        ("nested.zip", &nested),
    ]);
    std::fs::write(input.join("upload.zip"), upload).expect("write");
    let out = triage(
        &case,
        &[
            "ingest",
            "--source",
            "civil-defence",
            input.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "ingest: {}", output_text(&out));
    case
}

#[test]
fn family_in_details_keys_to_parent_and_children_and_tagging_a_family_in_one_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = family_case(dir.path());
    // A reviewer with a fixed name, so the status bar is the same whoever runs the tests.
    let mut admin = triage::store::Case::open(&case).expect("open");
    crate::common::add_member(&mut admin, "rev", triage::store::users::Role::Reviewer);
    drop(admin);
    let mut c = crate::common::console(&case, "rev", 80, 24);
    c.settle();
    // T-000001 is the container: its details say how many members it holds.
    snap("family_container_details", &mut c, 80, 24);
    press(&mut c, KeyCode::Char('F'));
    snap("family_view", &mut c, 80, 24);
    assert_eq!(
        c.state.rows.len(),
        5,
        "the container, three members, the nested one"
    );
    // A member: its container and its path inside it.
    press(&mut c, KeyCode::Char('j'));
    snap("family_member_details", &mut c, 80, 24);
    // F again: back to the view before.
    press(&mut c, KeyCode::Char('F'));
    assert_eq!(c.state.view, triage::store::query::View::Untriaged);
    // The note inside the nested archive: P opens its container's family.
    press(&mut c, KeyCode::Char('G'));
    let last = c.state.current_id().expect("an item");
    assert_eq!(
        c.state.rows.last().map(|r| r.name.as_str()),
        Some("note.txt")
    );
    press(&mut c, KeyCode::Char('P'));
    assert_eq!(
        c.state.view,
        triage::store::query::View::Family(last - 1),
        "the nested archive's family"
    );
    assert_eq!(c.state.rows.len(), 2);
    press(&mut c, KeyCode::Char('F')); // back
    press(&mut c, KeyCode::Char('g'));
    // The whole family tagged in one change: F, V (mark all), the flags picker, Enter.
    press(&mut c, KeyCode::Char('F'));
    press(&mut c, KeyCode::Char('V'));
    assert_eq!(c.state.marks.len(), 5);
    press(&mut c, KeyCode::Char('f'));
    press(&mut c, KeyCode::Enter);
    drop(c);
    let conn = rusqlite::Connection::open(case.join(triage::store::DB_FILE)).expect("db");
    let tagged: i64 = conn
        .query_row("SELECT count(DISTINCT item_id) FROM tags", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tagged, 5, "every item of the family");
    let changes: i64 = conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    assert_eq!(changes, 1, "in one change");
}

#[test]
fn family_keys_on_the_real_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = family_case(dir.path());
    let home = tempfile::tempdir().expect("home");
    let mut c = pty::Console::spawn(pty::console_command(
        env!("CARGO_BIN_EXE_triage"),
        &case,
        home.path(),
    ));
    c.wait_ready();
    c.wait_text("3 members (F: list them)");
    c.send("F");
    c.wait_text("family of T-000001");
    c.send("j");
    c.wait_text("T-000001/1");
    c.send("G");
    c.wait_text("note.txt");
    c.send("P");
    c.wait_text("family of T-000004");
    c.send("q");
    c.wait_exit();
}
