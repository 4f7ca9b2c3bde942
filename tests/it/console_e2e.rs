//! End-to-end tests of the review console: the real binary in a pseudo-terminal, driven by
//! keys, checked on the screen and in the case database.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::pty;

use std::path::PathBuf;
use std::process::Command;

use pty::Console;
use rusqlite::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_triage");

/// A demo case in a temporary folder, and an empty home for the console.
struct Fixture {
    _dir: tempfile::TempDir,
    home: tempfile::TempDir,
    case: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = tempfile::tempdir().expect("home");
        let out = Command::new(BIN)
            .args(["demo", "--no-open", "--dir"])
            .arg(dir.path())
            .env("HOME", home.path())
            .env_remove("TRIAGE_CASE")
            .output()
            .expect("run triage demo");
        assert!(
            out.status.success(),
            "triage demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let case = dir.path().join("case");
        assert!(case.join("case.db").is_file(), "no case.db in {case:?}");
        let n = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("T-"))
            .count();
        assert_eq!(n, 38, "the demo should list 38 items");
        Fixture {
            _dir: dir,
            home,
            case,
        }
    }

    /// Start the console on the case and wait for its first frame.
    fn open(&self) -> Console {
        let c = Console::spawn(pty::console_command(BIN, &self.case, self.home.path()));
        c.wait_ready();
        c
    }

    fn db(&self) -> Connection {
        Connection::open(self.case.join("case.db")).expect("open case.db")
    }

    /// `triage show REF --json`
    fn show(&self, reference: &str) -> serde_json::Value {
        let out = Command::new(BIN)
            .arg("--case")
            .arg(&self.case)
            .args(["show", reference, "--json"])
            .env("HOME", self.home.path())
            .output()
            .expect("run triage show");
        assert!(
            out.status.success(),
            "triage show failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("show --json is JSON")
    }
}

/// The login name the console records as the actor (the password database entry of our uid).
fn login_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; read at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            let name = std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy();
            if !name.is_empty() {
                return name.into_owned();
            }
        }
    }
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid{}", unsafe { libc::getuid() }))
}

/// (term, kind) of an item's tags, sorted.
fn tags(db: &Connection, item: i64) -> Vec<(String, String)> {
    let mut st = db
        .prepare("SELECT term_id, kind FROM tags WHERE item_id = ?1 ORDER BY term_id")
        .unwrap();
    st.query_map([item], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[derive(Debug, Clone)]
struct AuditRow {
    actor: String,
    item_id: Option<i64>,
    event: String,
    details: serde_json::Value,
    change_id: Option<i64>,
}

/// Audit rows written by reviewers' changes (those with a change id), in order.
fn change_audit(db: &Connection) -> Vec<AuditRow> {
    let mut st = db
        .prepare(
            "SELECT actor, item_id, event, details, change_id FROM audit
             WHERE change_id IS NOT NULL ORDER BY seq",
        )
        .unwrap();
    st.query_map([], |r| {
        let details: String = r.get(3)?;
        Ok(AuditRow {
            actor: r.get(0)?,
            item_id: r.get(1)?,
            event: r.get(2)?,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            change_id: r.get(4)?,
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn status_of(db: &Connection, item: i64) -> String {
    db.query_row("SELECT status FROM items WHERE id = ?1", [item], |r| {
        r.get(0)
    })
    .unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// The four tags of the reviewer flow: crime, party and two flags.
fn expected_flow_tags() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("children", "flag"),
        ("graphic", "flag"),
        ("hts", "party"),
        ("syr-chemical-weapons", "crime"),
    ]
    .iter()
    .map(|(t, k)| (t.to_string(), k.to_string()))
    .collect();
    v.sort();
    v
}

/// Open a picker with `key`, type `query`, press Enter and wait for `label` to be saved.
/// Returns an error when typing the query did not highlight `label` first (the term is then
/// reached with Down, so the rest of the flow can still be checked).
fn pick(c: &mut Console, key: &str, title: &str, query: &str, label: &str) -> Result<(), String> {
    c.send(key);
    c.wait_text(title);
    c.send(query);
    c.wait_for(&format!("the picker to offer {label}"), |s| {
        s.contains(&format!("> {query}")) && s.contains(label)
    });
    let cursor_text = |c: &Console| c.picker_cursor().map(|(_, t)| t).unwrap_or_default();
    let first = cursor_text(c);
    let result = if first.contains(label) {
        Ok(())
    } else {
        Err(format!(
            "typing {query:?} in the picker highlights {first:?}, not {label:?}; the screen:\n{}",
            c.screen()
        ))
    };
    let mut downs = 0;
    while !cursor_text(c).contains(label) {
        assert!(
            downs < 10,
            "{label:?} not reachable in the picker:\n{}",
            c.screen()
        );
        let before = c.picker_cursor();
        c.send("\x1b[B");
        c.wait_for("the picker cursor to move", |_| c.picker_cursor() != before);
        downs += 1;
    }
    c.send("\r");
    c.wait_message(&format!("saved: T-000001 +{label}"));
    result
}

/// c QUERY ⏎ (Chemical weapons), p hay'at ⏎, 1, 3 on the current item (T-000001), each
/// waited for as saved. Returns the picker problems met on the way.
fn tag_first_item(c: &mut Console, crime_query: &str) -> Vec<String> {
    c.wait_status("1/38");
    let problems = [
        pick(
            c,
            "c",
            "crimes for T-000001",
            crime_query,
            "Chemical weapons",
        ),
        pick(
            c,
            "p",
            "parties for T-000001",
            "hay'at",
            "Hay'at Tahrir al-Sham",
        ),
    ];
    c.send("1");
    c.wait_message("saved: T-000001 +Graphic violence");
    c.send("3");
    c.wait_message("saved: T-000001 +Children");
    problems.into_iter().filter_map(Result::err).collect()
}

#[test]
fn reviewer_flow_tags_and_triages_an_item() {
    let fx = Fixture::new();
    let actor = login_name();
    let mut c = fx.open();
    let status = c.wait_status("38 untriaged");
    assert!(
        status.contains(&actor),
        "status bar names the reviewer: {status}"
    );

    // What a reviewer types: the label's first word.
    let picker_problems = tag_first_item(&mut c, "chemical");
    c.send("x");
    c.wait_status("37 untriaged");
    c.wait_message("saved: T-000001 triaged");
    c.quit();

    // Reopened: the item has left the untriaged view.
    let c = fx.open();
    c.wait_status("37 untriaged");
    let screen = c.wait_text("T-000002");
    assert!(
        !screen.contains("T-000001"),
        "T-000001 still shown in the untriaged view:\n{screen}"
    );
    drop(c);

    let db = fx.db();
    assert_eq!(tags(&db, 1), expected_flow_tags());
    assert_eq!(status_of(&db, 1), "triaged");
    let status_by: String = db
        .query_row("SELECT status_by FROM items WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status_by, actor);

    let audit: Vec<AuditRow> = change_audit(&db)
        .into_iter()
        .filter(|a| a.item_id == Some(1))
        .collect();
    let events: Vec<&str> = audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(
        events,
        ["tag.add", "tag.add", "tag.add", "tag.add", "status.set"],
        "{audit:#?}"
    );
    for a in &audit {
        assert_eq!(a.actor, actor, "{a:?}");
    }
    let added: Vec<String> = audit[..4]
        .iter()
        .map(|a| a.details["term"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        added,
        ["syr-chemical-weapons", "hts", "graphic", "children"],
        "tags added in the order pressed"
    );
    assert_eq!(audit[4].details["old"], "untriaged");
    assert_eq!(audit[4].details["new"], "triaged");

    // The scripting interface sees the same.
    let shown = fx.show("T-000001");
    assert_eq!(shown["status"], "triaged");
    let t = &shown["tags"];
    assert_eq!(strings(&t["crimes"]), ["syr-chemical-weapons"]);
    assert_eq!(strings(&t["parties"]), ["hts"]);
    assert_eq!(strings(&t["flags"]), ["children", "graphic"]);
    assert_eq!(shown["status_by"], actor.as_str());

    // Last, so that everything above is checked too: "chemical" must highlight the term
    // whose label is "Chemical weapons", not one that merely has it as an alias.
    assert!(picker_problems.is_empty(), "{}", picker_problems.join("\n"));
}

#[test]
fn dot_repeats_the_previous_decision() {
    let fx = Fixture::new();
    let mut c = fx.open();
    // The term id: unambiguous whatever the picker's ranking (see the reviewer flow test).
    let problems = tag_first_item(&mut c, "syr-chemical");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    c.send("x");
    c.wait_status("37 untriaged");
    c.wait_for("T-000002 selected", |s| {
        s.contains(" T-000002 ") && s.contains("▶T-000002")
    });
    c.send(".");
    let msg = c.wait_message("saved: T-000002");
    for label in ["+Chemical weapons", "+Hay'at", "+Graphic violence"] {
        assert!(msg.contains(label), "{label} missing from {msg:?}");
    }
    c.quit();

    let db = fx.db();
    assert_eq!(tags(&db, 2), expected_flow_tags());
    assert_eq!(tags(&db, 1), tags(&db, 2));
    // `.` tags only; the item stays untriaged.
    assert_eq!(status_of(&db, 2), "untriaged");
    let changes: i64 = db
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        changes, 6,
        "4 tag changes, the status change and the repeat"
    );
}

#[test]
fn undo_reverses_and_keeps_history() {
    let fx = Fixture::new();
    let actor = login_name();
    let mut c = fx.open();
    c.send("1");
    c.wait_message("saved: T-000001 +Graphic violence");
    c.wait_text("⚑1");
    c.send("u");
    c.wait_message("saved: undo: T-000001 +Graphic violence");
    c.wait_for("the flag chip to go", |s| !s.contains("⚑1"));
    c.quit();

    let db = fx.db();
    assert!(
        !tags(&db, 1).iter().any(|(t, _)| t == "graphic"),
        "graphic still on item 1: {:?}",
        tags(&db, 1)
    );
    let audit = change_audit(&db);
    let events: Vec<(&str, Option<i64>)> = audit
        .iter()
        .map(|a| (a.event.as_str(), a.item_id))
        .collect();
    assert_eq!(
        events,
        [
            ("tag.add", Some(1)),
            ("undo", None),
            ("tag.remove", Some(1))
        ],
        "{audit:#?}"
    );
    assert!(audit.iter().all(|a| a.actor == actor));
    assert_eq!(audit[0].details["term"], "graphic");
    assert_eq!(audit[2].details["term"], "graphic");
    // The undo is a change of its own, pointing at the one it reverses.
    assert_ne!(audit[0].change_id, audit[1].change_id);
    assert_eq!(audit[1].change_id, audit[2].change_id);
    assert_eq!(audit[1].details["undoes"], audit[0].change_id.unwrap());

    let rows: Vec<(i64, Option<i64>, Option<i64>)> = db
        .prepare("SELECT id, undoes, undone_by FROM changes ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (first, second) = (rows[0], rows[1]);
    assert_eq!(first.2, Some(second.0), "first change is marked undone");
    assert_eq!(second.1, Some(first.0), "second change undoes the first");
}

#[test]
fn bulk_tagging_marked_items_is_one_transaction() {
    let fx = Fixture::new();
    let mut c = fx.open();
    for n in 1..=3 {
        c.send("v");
        c.wait_status(&format!("{n} marked"));
    }
    // Three marked, the selection moved down to the fourth.
    c.wait_status("4/38");
    c.send("c");
    c.wait_text("crimes for 3 marked items");
    c.send("barrel");
    c.wait_for("the picker to offer Barrel bombs", |s| {
        s.contains("> barrel") && s.contains("Barrel bombs")
    });
    c.send("\r");
    c.wait_message("saved: 3 items +Barrel bombs");
    // Tagging keeps the marks; a lone Esc clears them.
    c.wait_status("3 marked");
    c.send("\x1b");
    c.wait_message("marks cleared");
    c.wait_for("the marks to go", |_| !c.status().contains("marked"));
    c.quit();

    let db = fx.db();
    let mut change_ids = Vec::new();
    for item in 1..=3 {
        let t = tags(&db, item);
        assert_eq!(t.len(), 1, "item {item}: {t:?}");
        assert!(t[0].0.starts_with("syr-barrel"), "item {item}: {t:?}");
        assert_eq!(t[0].1, "crime");
    }
    assert!(
        tags(&db, 4).is_empty(),
        "the unmarked current item was tagged"
    );
    let audit = change_audit(&db);
    assert_eq!(audit.len(), 3, "{audit:#?}");
    for (a, item) in audit.iter().zip(1..) {
        assert_eq!(a.event, "tag.add");
        assert_eq!(a.item_id, Some(item));
        assert!(a.details["term"]
            .as_str()
            .unwrap()
            .starts_with("syr-barrel"));
        change_ids.push(a.change_id);
    }
    assert!(change_ids[0].is_some());
    assert!(
        change_ids.iter().all(|id| *id == change_ids[0]),
        "one change for all three: {change_ids:?}"
    );
    let changes: i64 = db
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(changes, 1);
}

#[test]
fn saved_survives_kill_9() {
    let fx = Fixture::new();
    let mut c = fx.open();
    c.send("1");
    c.wait_message("saved:");
    c.kill9();

    let db = fx.db();
    assert!(
        tags(&db, 1).contains(&("graphic".to_string(), "flag".to_string())),
        "tag lost: {:?}",
        tags(&db, 1)
    );
    let audit = change_audit(&db);
    assert!(
        audit.iter().any(|a| a.event == "tag.add"
            && a.item_id == Some(1)
            && a.details["term"] == "graphic"),
        "audit row lost: {audit:#?}"
    );
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn hostile_names_are_neutralised() {
    let fx = Fixture::new();
    let id: i64 = fx
        .db()
        .query_row("SELECT id FROM items WHERE name LIKE '%pwned%'", [], |r| {
            r.get(0)
        })
        .expect("the demo has an item with a hostile name");
    let reference = format!("T-{id:06}");
    let mut c = fx.open();
    // The untriaged view is in id order: move down to the item.
    c.send(&"j".repeat(id as usize - 1));
    c.wait_status(&format!("{id}/38"));
    let screen = c.wait_text(&format!(" {reference} "));
    assert!(screen.contains("⟨RLO⟩"), "no ⟨RLO⟩ shown:\n{screen}");
    assert!(
        screen.contains("␛]0;pwned"),
        "no ␛]0;pwned shown:\n{screen}"
    );
    c.quit();

    let rec = c.recorder();
    assert!(rec.titles.is_empty(), "title set: {:?}", rec.titles);
    assert!(rec.icon_names.is_empty(), "icon set: {:?}", rec.icon_names);
    assert!(
        !rec.other_osc
            .iter()
            .flatten()
            .any(|p| p.windows(5).any(|w| w == b"pwned")),
        "OSC with the payload reached the terminal: {:?}",
        rec.other_osc
    );
    let raw = c.raw();
    assert!(
        !raw.windows(4).any(|w| w == b"\x1b]0;"),
        "an OSC 0 sequence reached the terminal"
    );
    assert!(
        !raw.windows(3).any(|w| w == "\u{202e}".as_bytes()),
        "a raw U+202E reached the terminal"
    );
}

#[test]
fn quitting_restores_the_terminal() {
    let fx = Fixture::new();
    let mut c = fx.open();
    assert!(
        c.with_screen(|s| s.alternate_screen()),
        "console not on the alternate screen"
    );
    let raw_mode = c.termios().map(|t| t.c_lflag & (libc::ICANON | libc::ECHO));
    assert_eq!(raw_mode, Some(0), "console not in raw mode");
    c.quit();

    let raw = c.raw();
    let last = |pat: &[u8]| raw.windows(pat.len()).rposition(|w| w == pat);
    let enter = last(b"\x1b[?1049h").expect("never entered the alternate screen");
    let leave = last(b"\x1b[?1049l").expect("never left the alternate screen");
    assert!(leave > enter, "the alternate screen is still on");
    let show = last(b"\x1b[?25h").expect("cursor never shown");
    if let Some(hide) = last(b"\x1b[?25l") {
        assert!(show > hide, "cursor still hidden");
    }
    assert!(
        show > leave,
        "cursor shown before leaving the alternate screen"
    );
    let tail = String::from_utf8_lossy(&raw[leave..]).into_owned();
    assert!(
        tail.ends_with("\x1b[?25h"),
        "output after leaving the alternate screen: {tail:?}"
    );
    assert!(c.with_screen(|s| !s.alternate_screen() && !s.hide_cursor()));
    // The pty keeps the modes the program left (after a kill -9 they stay raw).
    let t = c.termios().expect("pty modes readable");
    assert_eq!(
        t.c_lflag & (libc::ICANON | libc::ECHO),
        libc::ICANON | libc::ECHO,
        "raw mode left on"
    );
}

/// SIGTERM and SIGHUP (a dropped SSH connection) leave the terminal as it was.
#[test]
fn signals_restore_the_terminal() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let fx = Fixture::new();
        let mut c = fx.open();
        c.wait_ready();
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(c.pid() as libc::pid_t, sig) };
        c.wait_exit();
        let raw = c.raw();
        let last = |pat: &[u8]| raw.windows(pat.len()).rposition(|w| w == pat);
        let leave = last(b"\x1b[?1049l").expect("never left the alternate screen");
        assert!(last(b"\x1b[?1049h").is_some_and(|enter| leave > enter));
        assert!(
            last(b"\x1b[?25h").is_some_and(|show| show > leave),
            "cursor hidden after signal {sig}"
        );
        let t = c.termios().expect("pty modes readable");
        assert_eq!(
            t.c_lflag & (libc::ICANON | libc::ECHO),
            libc::ICANON | libc::ECHO,
            "raw mode left on after signal {sig}"
        );
    }
}

/// How many times `needle` occurs in `hay`.
fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn sixel_previews_are_sent_once_and_again_only_after_being_covered() {
    let f = Fixture::new();
    let mut cmd = pty::console_command(BIN, &f.case, f.home.path());
    cmd.args(["--images", "sixel"]);
    let mut c = Console::spawn(cmd);
    c.wait_ready();
    const SIXEL: &[u8] = b"\x1bP0;1;0q";
    let sixels = |c: &Console| occurrences(&c.raw(), SIXEL);
    c.send("i");
    // The picture is the frame's last part: wait until all of it has been read.
    let ended = |c: &Console| {
        let raw = c.raw();
        raw.windows(SIXEL.len())
            .position(|w| w == SIXEL)
            .is_some_and(|at| raw[at..].windows(2).any(|w| w == b"\x1b\\"))
    };
    c.wait_for("the whole picture", |_| ended(&c));
    assert_eq!(sixels(&c), 1, "the first photo, once");
    let raw = c.raw();
    let at = raw
        .windows(SIXEL.len())
        .position(|w| w == SIXEL)
        .expect("sixel");
    let size = raw[at..]
        .windows(2)
        .position(|w| w == b"\x1b\\")
        .expect("end")
        + 2;
    assert!(size <= 16 * 1024, "within the default budget: {size} bytes");
    // Moving the focus changes cells elsewhere: the picture is not sent again.
    c.send("\t");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sixels(&c), 1, "not re-sent while nothing covers it");
    // A popup takes it off the screen; closing the popup brings it back.
    c.send("?");
    c.wait_text("mark/unmark item for bulk tagging");
    c.send("\x1b");
    c.wait_for("the help closed", |s| !s.contains("mark/unmark item"));
    c.wait_for("the picture again", |_| sixels(&c) == 2);
    c.send("q");
}

#[test]
fn the_overview_is_counted_off_the_screen_thread_and_filters_the_queue() {
    let f = Fixture::new();
    let mut c = f.open();
    c.send("O");
    c.wait_text("overview, whole case");
    // The first bar is a status; Enter filters the queue by it.
    c.send("\r");
    c.wait_for("the queue filtered by status", |s| {
        !s.contains("overview, whole case") && s.contains("status:")
    });
    c.send("q");
}

/// The screen row whose reversed cells (the selection) name an item, and that item.
fn cursor_item(c: &Console) -> Option<String> {
    (0..pty::ROWS).find_map(|r| {
        let t = c.reversed_text(r);
        let at = t.find("T-0")?;
        t.get(at..at + 8).map(str::to_string)
    })
}

#[test]
fn the_console_follows_the_case_without_a_key() {
    let fx = Fixture::new();
    let mut c = fx.open();
    c.wait_status("38 untriaged");
    c.send("jj");
    c.wait_for("the cursor on T-000003", |_| {
        cursor_item(&c).as_deref() == Some("T-000003")
    });
    c.wait_status("3/38");
    c.wait_text("T-000005");

    // Another process takes in five new items...
    let intake = tempfile::tempdir().expect("intake");
    for i in 0..5 {
        std::fs::write(
            intake.path().join(format!("follow-{i}.txt")),
            format!("statement {i} received while the console was open\n"),
        )
        .expect("write an intake file");
    }
    let out = Command::new(BIN)
        .arg("--case")
        .arg(&fx.case)
        .args(["ingest", "--source", "late-intake"])
        .arg(intake.path())
        .env("HOME", fx.home.path())
        .output()
        .expect("run triage ingest");
    assert!(
        out.status.success(),
        "triage ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...and another login triages T-000005, which is on screen.
    let mut case = triage::store::Case::open(&fx.case).expect("open the case");
    triage::store::users::change(
        &mut case,
        &triage::identity::login_name().expect("login"),
        "amal",
        triage::store::users::PeopleChange::Add(triage::store::users::Role::Reviewer),
    )
    .expect("add amal");
    let tax = triage::taxonomy::Taxonomy::default_set();
    let edit = triage::store::changes::Edit::Status {
        items: vec![5],
        to: "triaged".into(),
        reason: None,
    };
    triage::store::changes::apply(&mut case, &tax, "amal", &edit).expect("amal triages");
    drop(case);

    // Within two seconds, no key pressed: 38 + 5 - 1 untriaged, T-000005 gone from the rows,
    // the cursor still on T-000003 (and the new items counted in its position's total).
    let two_s = std::time::Duration::from_secs(2);
    let screen = c.wait_for_within("the console to follow the case", two_s, |s| {
        c.status().contains("42 untriaged") && !s.contains("T-000005")
    });
    assert!(c.status().contains("3/42"), "{}", c.status());
    assert_eq!(cursor_item(&c).as_deref(), Some("T-000003"), "{screen}");
    // The screen still works as before.
    c.send("j");
    c.wait_for("the cursor on T-000004", |_| {
        cursor_item(&c).as_deref() == Some("T-000004")
    });
    c.quit();
}
