//! Search in the console: a newer query supersedes an older one (state level and on the real
//! worker), "searching…" while a query is out, `:save NAME` and saved views in the picker,
//! and `triage view save|list|delete`.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::common::triage;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use triage::console::effect::{Effect, Outcome};
use triage::console::event::Event;
use triage::console::keymap::Keymap;
use triage::console::search::{Request, Worker};
use triage::console::state::{Mode, State};
use triage::console::update::{apply, key};
use triage::console::Console;
use triage::store::items::Row;
use triage::store::query::{compile_filter, Selection, View};
use triage::store::Case;
use triage::taxonomy::Taxonomy;

/// The case's database on a connection of the test's own, as a checker or an intruder opens it
/// (the case's own connection is private to the store).
fn sql(case: &triage::store::Case) -> rusqlite::Connection {
    let conn =
        rusqlite::Connection::open(case.root.join(triage::store::DB_FILE)).expect("open case.db");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    conn
}

fn row(id: i64) -> Row {
    Row {
        id,
        sha256: "ab".repeat(32),
        size: 1,
        mime: "text/plain".into(),
        kind: "text".into(),
        status: "untriaged".into(),
        name: format!("file-{id}.txt"),
        first_source: "A".into(),
        captured_at: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        tags: vec![],
    }
}

fn type_keys(s: &mut State, text: &str) -> Vec<Effect> {
    let km = Keymap::defaults();
    let mut all = vec![];
    for c in text.chars() {
        let ev = match c {
            '\n' => KeyEvent::from(KeyCode::Enter),
            c => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        };
        all.extend(key(s, &km, ev));
    }
    all
}

fn render(state: &State) -> String {
    crate::common::state_screen(state, &Keymap::defaults(), 100, 24)
}

#[test]
fn a_newer_query_supersedes_an_older_one() {
    let mut s = State::new(
        "c".into(),
        "alice".into(),
        Arc::new(Taxonomy::default_set()),
    );
    s.page = 10;
    s.rows = (1..=5).map(row).collect();
    s.total = 5;
    // Each keystroke in `/` is a query of its own, Enter the last one.
    let before = s.search_generation;
    let fx = type_keys(&mut s, "/douma\n");
    assert_eq!(
        fx,
        vec![
            Effect::TryFilter("d".into()),
            Effect::TryFilter("do".into()),
            Effect::TryFilter("dou".into()),
            Effect::TryFilter("doum".into()),
            Effect::TryFilter("douma".into()),
            Effect::SetFilter(Some("douma".into())),
        ]
    );
    assert_eq!(s.search_generation, before + 6, "one generation per query");
    let first = s.search_generation;
    assert!(s.searching);
    assert!(render(&s).contains("searching…"), "{}", render(&s));
    apply(&mut s, Outcome::Filter(Some("douma".into())));
    // A second filter before the first answered.
    s.mode = Mode::Normal;
    type_keys(&mut s, "/حمص\n");
    let second = s.search_generation;
    assert!(second > first);
    // The first query's answers arrive late: ignored.
    apply(
        &mut s,
        Outcome::Found {
            generation: first,
            rows: vec![row(100)],
        },
    );
    apply(
        &mut s,
        Outcome::Counted {
            generation: first,
            total: 1,
            untriaged: 1,
        },
    );
    assert_eq!(s.rows.first().map(|r| r.id), Some(1), "stale rows dropped");
    assert!(s.searching, "still waiting for the newest query");
    // The newest answers are shown.
    apply(
        &mut s,
        Outcome::Found {
            generation: second,
            rows: vec![row(7), row(9)],
        },
    );
    assert_eq!(s.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![7, 9]);
    apply(
        &mut s,
        Outcome::Counted {
            generation: second,
            total: 2,
            untriaged: 2,
        },
    );
    assert!(!s.searching);
    assert_eq!(s.total, 2);
    let screen = render(&s);
    assert!(
        !screen.contains("searching…") && screen.contains("1/2"),
        "{screen}"
    );
}

#[test]
fn esc_after_typing_puts_the_filter_back() {
    let mut s = State::new(
        "c".into(),
        "alice".into(),
        Arc::new(Taxonomy::default_set()),
    );
    s.rows = vec![row(1)];
    s.filter = Some("type:image".into());
    let fx = type_keys(&mut s, "/ x");
    assert_eq!(fx.last(), Some(&Effect::TryFilter("type:image x".into())));
    // A half-typed expression that does not compile leaves the results alone.
    apply(&mut s, Outcome::Incomplete);
    assert!(!s.searching);
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Esc));
    assert_eq!(fx, vec![Effect::SetFilter(Some("type:image".into()))]);
    assert_eq!(s.mode, Mode::Normal);
    // Esc without typing changes nothing.
    assert!(type_keys(&mut s, "/").is_empty());
    assert!(key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Esc)).is_empty());
}

#[test]
fn save_needs_a_filter_and_a_name() {
    let mut s = State::new(
        "c".into(),
        "alice".into(),
        Arc::new(Taxonomy::default_set()),
    );
    s.rows = vec![row(1)];
    assert!(type_keys(&mut s, ":save douma\n").is_empty());
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt stays open")
    };
    assert!(p.error.as_deref().unwrap_or("").contains("no filter"));
    s.mode = Mode::Normal;
    s.filter = Some("douma type:image".into());
    assert!(type_keys(&mut s, ":save\n").is_empty());
    s.mode = Mode::Normal;
    assert_eq!(
        type_keys(&mut s, ":save douma photos\n"),
        vec![Effect::SaveView {
            name: "douma photos".into(),
            expr: "douma type:image".into()
        }]
    );
    assert_eq!(s.mode, Mode::Normal);
}

fn demo_case(tmp: &Path) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["demo", "--no-open", "--dir"])
        .arg(tmp)
        .output()
        .expect("demo");
    assert!(out.status.success());
    tmp.join("case")
}

fn press(c: &mut Console, text: &str) {
    for ch in text.chars() {
        let ev = match ch {
            '\n' => KeyEvent::from(KeyCode::Enter),
            ch => KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE),
        };
        c.key(ev);
    }
    c.settle();
}

fn screen(c: &Console) -> String {
    render(&c.state)
}

#[test]
fn a_filter_saved_in_the_console_is_a_view_beside_the_built_in_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let mut case = Case::open(&dir).expect("open");
    // Saving a view is a member's write: "rev" must be one.
    triage::store::users::change(
        &mut case,
        &triage::identity::login_name().expect("login"),
        "rev",
        triage::store::users::PeopleChange::Add(triage::store::users::Role::Reviewer),
    )
    .expect("add rev");
    let mut c = Console::new(
        case,
        Taxonomy::default_set(),
        "rev".into(),
        Keymap::defaults(),
        100,
        24,
    );
    press(&mut c, "/douma type:image\n");
    assert!(!c.state.searching);
    assert_eq!(c.state.total, 4, "{}", screen(&c));
    press(&mut c, ":save douma photos\n");
    let saved: (String, i64) = sql(&c.runtime.case)
        .query_row(
            "SELECT (SELECT expr FROM saved_views WHERE name = 'douma photos'),
                    (SELECT count(*) FROM audit WHERE event = 'view.save')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("saved");
    assert_eq!(saved, ("douma type:image".into(), 1), "saved and recorded");
    assert!(screen(&c).contains("view douma photos saved"));
    // Leave the filter, then come back to it through the view picker.
    c.key(KeyEvent::from(KeyCode::Esc));
    c.settle();
    assert_eq!(c.state.filter, None);
    press(&mut c, "w");
    let s = screen(&c);
    assert!(
        s.contains("untriaged") && s.contains("view douma photos"),
        "{s}"
    );
    c.key(KeyEvent::from(KeyCode::Up)); // the saved view is last
    let last = match &c.state.mode {
        Mode::Views(m) => m.views.len() - 1,
        _ => panic!("views menu"),
    };
    if let Mode::Views(m) = &mut c.state.mode {
        m.cursor = last;
    }
    c.key(KeyEvent::from(KeyCode::Enter));
    c.settle();
    assert_eq!(c.state.view, View::Saved("douma photos".into()));
    assert_eq!(c.state.filter.as_deref(), Some("douma type:image"));
    assert_eq!(c.state.total, 4);
    assert!(c.state.rows.iter().all(|r| r.kind == "image"));
    // Back to a built-in view: the saved view's filter goes with it.
    press(&mut c, "w2");
    assert_eq!(c.state.view, View::All);
    assert_eq!(c.state.filter, None);
    assert!(c.state.total > 4);
    // :delete removes it, recorded; the chooser no longer offers it.
    press(&mut c, ":delete douma photos\n");
    assert!(c.state.saved_views.is_empty());
    assert!(screen(&c).contains("view douma photos deleted"));
    let deletes: i64 = sql(&c.runtime.case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'view.delete'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(deletes, 1);
    press(&mut c, ":delete douma photos\n");
    assert!(screen(&c).contains("no saved view douma photos"));
}

#[test]
fn the_worker_answers_only_the_newest_query() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let case = Case::open(&dir).expect("open");
    let tax = Taxonomy::default_set();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = Worker::spawn(&dir, tx).expect("worker");
    let sel = |expr: &str| {
        Selection::new(
            &View::All,
            "rev",
            compile_filter(expr, &tax).expect("filter"),
        )
    };
    for (generation, expr) in [(1, "douma"), (2, "type:video"), (3, "type:image")] {
        worker.send(Request {
            generation,
            selection: sel(expr),
            page: 50,
            window: true,
            settle: false,
        });
    }
    let mut last_found = None;
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).expect("an answer") {
            Event::Search(Outcome::Found { generation, rows }) => {
                last_found = Some((generation, rows.len()))
            }
            Event::Search(Outcome::Counted {
                generation: 3,
                total,
                ..
            }) => {
                let images: i64 = sql(&case)
                    .query_row("SELECT count(*) FROM items WHERE kind = 'image'", [], |r| {
                        r.get(0)
                    })
                    .expect("count");
                assert_eq!(total, images as u64);
                break;
            }
            _ => {}
        }
    }
    let (generation, n) = last_found.expect("a window");
    assert_eq!(generation, 3, "the newest query's window comes last");
    assert!(n > 0);
}

#[test]
fn views_from_the_command_line_are_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let out = triage(
        &dir,
        &["view", "save", "torture", "crime:التعذيب status:untriaged"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = triage(&dir, &["view", "save", "bad", "near:1,2"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("near:LAT,LON,KM") && err.contains('^'),
        "{err}"
    );
    let out = triage(&dir, &["view", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("torture") && !list.contains("bad"), "{list}");
    let out = triage(&dir, &["view", "delete", "torture"]);
    assert!(out.status.success());
    let out = triage(&dir, &["view", "delete", "torture"]);
    assert!(!out.status.success(), "deleting twice is an error");
    let log = String::from_utf8_lossy(&triage(&dir, &["log"]).stdout).to_string();
    assert!(
        log.contains("view.save") && log.contains("view.delete"),
        "{log}"
    );
    assert!(
        String::from_utf8_lossy(&triage(&dir, &["view", "list"]).stdout)
            .trim()
            .is_empty()
    );
}

#[test]
fn export_takes_the_same_filter_and_imported_items_are_indexed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    let listed = String::from_utf8_lossy(&triage(&dir, &["list", "--filter", "douma"]).stdout)
        .lines()
        .count();
    assert!(listed > 0);
    let bag = tmp.path().join("bag");
    let out = triage(
        &dir,
        &[
            "export",
            "--filter",
            "douma",
            "--out",
            &bag.display().to_string(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("exported {listed} items")));
    let other = tmp.path().join("other");
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("init")
        .arg(&other)
        .output()
        .expect("init");
    assert!(out.status.success());
    let out = triage(
        &other,
        &["import", &bag.display().to_string(), "--source", "partner"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = String::from_utf8_lossy(
        &triage(&other, &["list", "--filter", "douma source:partner"]).stdout,
    )
    .lines()
    .count();
    assert_eq!(found, listed, "imported items are in the index");
    let out = triage(
        &dir,
        &["export", "--filter", "near:1", "--out", "/nonexistent"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("near:LAT,LON,KM"));
}
