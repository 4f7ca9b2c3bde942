//! Incidents: created, changed and linked only through recorded changes (undo, history, replay
//! by `verify`), the `incident:` filter, suggestions by time and place and by similar copies,
//! the picker in the console (snapshots) and linking in at most three keys on the real console.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::Path;

use ratatui::crossterm::event::KeyCode;

use crate::common::{self, output_text, sql, triage};
use crate::pty;
use crate::screens::{press, snap};
use triage::store::changes::{self, Edit, Op};
use triage::store::incidents::{self, Reason, Record};
use triage::store::{audit, Case};
use triage::taxonomy::Taxonomy;

/// The demo's T-000007 was taken in Douma on 2013-08-21 at 33.5725,36.4031; T-000038 is a
/// similar copy of it.
fn douma(date: &str, radius_m: f64) -> Record {
    let (from, to) = incidents::parse_dates(date).expect("date");
    Record {
        title: "Shelling of the field hospital".into(),
        date_from: Some(from),
        date_to: to,
        place: "Douma".into(),
        lat: Some(33.5711),
        lon: Some(36.4022),
        radius_m: Some(radius_m),
        description: String::new(),
        crimes: vec!["syr-chemical-weapons".into()],
        parties: vec![],
        status: "open".into(),
    }
}

fn create(case: &mut Case, actor: &str, record: Record) -> i64 {
    let tax = Taxonomy::default_set();
    let a = changes::apply(case, &tax, actor, &Edit::Incident { id: None, record }).expect("add");
    a.ops
        .iter()
        .find_map(|op| match op {
            Op::Incident { incident, .. } => Some(*incident),
            _ => None,
        })
        .expect("created")
}

fn link(case: &mut Case, actor: &str, items: &[i64], incident: i64, on: bool) {
    let tax = Taxonomy::default_set();
    changes::apply(
        case,
        &tax,
        actor,
        &Edit::Link {
            items: items.to_vec(),
            incident,
            on,
        },
    )
    .expect("link");
}

fn verify(case: &Path) -> (bool, String) {
    let out = triage(case, &["verify", "--quick"]);
    (out.status.success(), output_text(&out))
}

#[test]
fn incidents_are_recorded_undone_and_replayed() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = common::demo_case(dir.path());
    let me = triage::identity::login_name().expect("login");
    let tax = Taxonomy::default_set();
    let mut case = Case::open(&root).expect("open");
    let id = create(&mut case, &me, douma("2013-08-21", 3000.0));
    assert_eq!(incidents::reference(id), "I-0001");
    link(&mut case, &me, &[1, 2], id, true);
    assert_eq!(incidents::items_of(&case, id).expect("items"), vec![1, 2]);
    assert_eq!(incidents::recent(&case, &me, 9).expect("recent"), vec![id]);
    // A change of the record: status corroborated.
    let mut r = incidents::get(&case, id)
        .expect("get")
        .expect("there")
        .record;
    r.status = "corroborated".into();
    changes::apply(
        &mut case,
        &tax,
        &me,
        &Edit::Incident {
            id: Some(id),
            record: r,
        },
    )
    .expect("set");
    // History: the item's log names the link with its incident.
    let history = audit::for_item(&case, 1).expect("history");
    let linked = history
        .iter()
        .find(|e| e.event == "incident.link")
        .expect("link in the item's history");
    assert_eq!(linked.details["ref"], "I-0001");
    assert!(verify(&root).0, "{}", verify(&root).1);

    // Undo, newest first: the status, then the link (both items in one change).
    changes::undo(&mut case, &me).expect("undo");
    assert_eq!(
        incidents::get(&case, id)
            .expect("get")
            .expect("there")
            .record
            .status,
        "open"
    );
    changes::undo(&mut case, &me).expect("undo");
    assert!(incidents::items_of(&case, id).expect("items").is_empty());
    // Linked again, then the creation undone: its links go with it, and its reference is
    // never given again.
    link(&mut case, &me, &[3], id, true);
    let undo_link = changes::undo(&mut case, &me).expect("undo");
    assert!(
        undo_link.summary.contains("+I-0001"),
        "{}",
        undo_link.summary
    );
    link(&mut case, &me, &[3], id, true);
    // (the creation is older than this link: undo the link first, then the creation)
    changes::undo(&mut case, &me).expect("undo link");
    let gone = changes::undo(&mut case, &me).expect("undo creation");
    assert!(gone.summary.contains("new incident"), "{}", gone.summary);
    assert!(incidents::get(&case, id).expect("get").is_none());
    let again = create(&mut case, &me, douma("2013-08-21", 3000.0));
    assert_eq!(
        incidents::reference(again),
        "I-0002",
        "I-0001 is never reused"
    );
    link(&mut case, &me, &[4], again, true);
    let (ok, text) = verify(&root);
    assert!(ok, "everything done through triage verifies: {text}");

    // Changes that bypass the log are named.
    let db = sql(&case);
    db.execute_batch(
        "INSERT INTO incident_links VALUES (5, 2, 'mallory', '2026-01-01');
         UPDATE incidents SET title = 'Something else' WHERE id = 2;",
    )
    .expect("tamper");
    let (ok, text) = verify(&root);
    assert!(!ok);
    assert!(
        text.contains("linked to I-0002 in the case, not in the log"),
        "{text}"
    );
    assert!(
        text.contains("I-0002") && text.contains("record differs"),
        "{text}"
    );
}

#[test]
fn invalid_incidents_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = common::demo_case(dir.path());
    let me = triage::identity::login_name().expect("login");
    let tax = Taxonomy::default_set();
    let mut case = Case::open(&root).expect("open");
    let bad = [
        Record {
            title: " ".into(),
            ..douma("2013-08-21", 10.0)
        },
        Record {
            status: "maybe".into(),
            ..douma("2013-08-21", 10.0)
        },
        Record {
            crimes: vec!["no-such-term".into()],
            ..douma("2013-08-21", 10.0)
        },
        Record {
            lat: Some(123.0),
            ..douma("2013-08-21", 10.0)
        },
        Record {
            radius_m: Some(-1.0),
            ..douma("2013-08-21", 10.0)
        },
    ];
    for record in bad {
        let e = changes::apply(&mut case, &tax, &me, &Edit::Incident { id: None, record });
        assert!(e.is_err());
    }
    assert!(incidents::list(&case).expect("list").is_empty());
    // Linking to an incident that does not exist changes nothing.
    let e = changes::apply(
        &mut case,
        &tax,
        &me,
        &Edit::Link {
            items: vec![1],
            incident: 99,
            on: true,
        },
    );
    assert!(e.is_err());
}

#[test]
fn cli_incidents_links_and_the_filter() {
    let dir = tempfile::tempdir().expect("tmp");
    let case = common::demo_case(dir.path());
    let run = |args: &[&str]| {
        let o = triage(&case, args);
        assert!(o.status.success(), "{args:?}: {}", output_text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let r = run(&[
        "incident",
        "add",
        "Shelling of the field hospital",
        "--date",
        "2013-08-21",
        "--place",
        "Douma",
        "--at",
        "33.5711,36.4022,3000",
        "--crimes",
        "syr-chemical-weapons",
    ]);
    assert_eq!(r.trim(), "I-0001");
    run(&["link", "T-000001", "I-0001"]);
    run(&["link", "T-000002", "I-0001"]);
    run(&["link", "T-000002", "I-0001", "--remove"]);
    run(&["incident", "set", "I-0001", "--status", "corroborated"]);
    let listed = run(&["list", "--filter", "incident:I-0001"]);
    assert_eq!(
        listed.lines().map(|l| &l[..8]).collect::<Vec<_>>(),
        ["T-000001"]
    );
    let none = run(&["list", "--filter", "incident:none"]);
    assert_eq!(none.lines().count(), 37);
    assert!(!none.contains("T-000001"));
    let bad = triage(&case, &["list", "--filter", "incident:x"]);
    assert!(!bad.status.success());
    assert!(output_text(&bad).contains("not an incident reference"));
    let v: serde_json::Value =
        serde_json::from_str(&run(&["incident", "show", "I-0001", "--json"])).expect("json");
    assert_eq!(v["status"], "corroborated");
    assert_eq!(v["linked"], serde_json::json!(["T-000001"]));
    assert_eq!(v["corroboration"]["providers"], 1);
    assert_eq!(v["suggested"][0]["ref"], "T-000007");
    assert_eq!(v["suggested"][0]["why"], "time_and_place");
    let shown = run(&["show", "T-000001"]);
    assert!(
        shown.contains("I-0001 Shelling of the field hospital"),
        "{shown}"
    );
    let (ok, text) = verify(&case);
    assert!(ok, "{text}");
    // Refusals: an unknown incident, a bad date.
    let o = triage(&case, &["link", "T-000001", "I-0009"]);
    assert!(!o.status.success() && output_text(&o).contains("no incident I-0009"));
    let o = triage(&case, &["incident", "add", "x", "--date", "2013-13-01"]);
    assert!(!o.status.success() && output_text(&o).contains("not a date"));
}

#[test]
fn suggestions_by_time_and_place_and_by_similar_copies() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = common::demo_case(dir.path());
    let me = triage::identity::login_name().expect("login");
    let mut case = Case::open(&root).expect("open");
    // T-000007 is 170 m from the point, on the day.
    let there = create(&mut case, &me, douma("2013-08-21", 500.0));
    let too_small = create(&mut case, &me, douma("2013-08-21", 100.0));
    let other_day = create(&mut case, &me, douma("2013-08-22..2013-08-30", 5000.0));
    let suggested = |case: &Case, i| {
        incidents::suggested_items(case, i)
            .expect("suggested")
            .into_iter()
            .map(|s| (s.item, s.reason))
            .collect::<Vec<_>>()
    };
    assert_eq!(suggested(&case, there), vec![(7, Reason::TimeAndPlace)]);
    assert!(suggested(&case, too_small).is_empty(), "outside the radius");
    assert!(suggested(&case, other_day).is_empty(), "outside the dates");
    let for_item = incidents::suggested_for_item(&case, 7).expect("for item");
    assert_eq!(
        for_item.iter().map(|s| s.incident).collect::<Vec<_>>(),
        vec![there]
    );
    // Nothing is linked by a suggestion.
    assert!(incidents::items_of(&case, there).expect("items").is_empty());
    // Once T-000007 is linked, its similar copy T-000038 is suggested as such.
    link(&mut case, &me, &[7], there, true);
    assert_eq!(
        suggested(&case, there),
        vec![(38, Reason::Similar { of: 7 })]
    );
    let for_copy = incidents::suggested_for_item(&case, 38).expect("for copy");
    assert_eq!(for_copy.len(), 1);
    assert_eq!(for_copy[0].reason, Reason::Similar { of: 7 });
    // Two captures of one picture are one independent capture.
    link(&mut case, &me, &[38], there, true);
    let c = incidents::corroboration(&case, there).expect("corroboration");
    assert_eq!((c.items, c.captures), (2, 1));
}

/// A reviewer with a fixed name (stable screens), an incident they linked an item to (so it
/// is among their recent ones), on the demo case.
fn case_with_a_recent_incident(dir: &Path) -> std::path::PathBuf {
    let root = common::demo_case(dir);
    let mut case = Case::open(&root).expect("open");
    common::add_member(&mut case, "rev", triage::store::users::Role::Reviewer);
    let id = create(&mut case, "rev", douma("2013-08-21", 3000.0));
    link(&mut case, "rev", &[2], id, true);
    root
}

#[test]
fn console_links_creates_inline_repeats_and_confirms_suggestions() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = case_with_a_recent_incident(dir.path());
    let mut c = common::console(&root, "rev", 80, 24);
    c.settle();
    press(&mut c, KeyCode::Char('l'));
    snap("incident_picker", &mut c, 80, 24);
    // A digit links the recent incident at once.
    press(&mut c, KeyCode::Char('1'));
    let case = Case::open(&root).expect("open");
    assert_eq!(incidents::items_of(&case, 1).expect("items"), vec![1, 2]);
    snap("incident_linked_details", &mut c, 80, 24);
    // T-000001 triaged: its decision now includes I-0001; `.` on T-000003 repeats it.
    press(&mut c, KeyCode::Char('x'));
    c.settle();
    while c.state.current_id() != Some(3) {
        press(&mut c, KeyCode::Char('j'));
    }
    press(&mut c, KeyCode::Char('.'));
    assert_eq!(incidents::items_of(&case, 1).expect("items"), vec![1, 2, 3]);
    // T-000007's details suggest I-0001; L links it.
    while c.state.current_id() != Some(7) {
        press(&mut c, KeyCode::Char('j'));
    }
    snap("incident_suggested_details", &mut c, 80, 24);
    press(&mut c, KeyCode::Char('L'));
    assert!(incidents::items_of(&case, 1).expect("items").contains(&7));
    // Bulk: two marked items linked in one change.
    press(&mut c, KeyCode::Char('j'));
    press(&mut c, KeyCode::Char('v'));
    press(&mut c, KeyCode::Char('v'));
    let changes_before: i64 = sql(&case)
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    press(&mut c, KeyCode::Char('l'));
    press(&mut c, KeyCode::Char('1'));
    let changes_after: i64 = sql(&case)
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    assert_eq!(changes_after, changes_before + 1, "one change for both");
    assert!(incidents::items_of(&case, 1)
        .expect("items")
        .ends_with(&[8, 9]));
    // A new incident inline: typed in the picker, then its date and place.
    press(&mut c, KeyCode::Esc);
    press(&mut c, KeyCode::Char('l'));
    for ch in "Siege of Homs".chars() {
        press(&mut c, KeyCode::Char(ch));
    }
    press(&mut c, KeyCode::Enter); // the "new incident" row
    press(&mut c, KeyCode::Enter); // the title as typed
    for ch in "2014-01-01..2014-01-31".chars() {
        press(&mut c, KeyCode::Char(ch));
    }
    press(&mut c, KeyCode::Enter);
    for ch in "Homs".chars() {
        press(&mut c, KeyCode::Char(ch));
    }
    press(&mut c, KeyCode::Enter);
    let new = incidents::get(&case, 2)
        .expect("get")
        .expect("created inline");
    assert_eq!(new.record.title, "Siege of Homs");
    assert_eq!(new.record.date_to.as_deref(), Some("2014-01-31"));
    assert_eq!(new.record.place, "Homs");
    let current = c.state.current_id().expect("current");
    assert_eq!(incidents::items_of(&case, 2).expect("items"), vec![current]);
    // Undo: the link goes (the incident stays until its creation is undone too).
    press(&mut c, KeyCode::Char('u'));
    assert!(incidents::items_of(&case, 2).expect("items").is_empty());
    drop(c);
    let (ok, text) = verify(&root);
    assert!(ok, "{text}");
}

#[test]
fn linking_takes_at_most_three_keys_on_the_real_console() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = case_with_a_recent_incident(dir.path());
    // The console runs as the invoking login: make the incident recent for them too.
    let me = triage::identity::login_name().expect("login");
    let mut case = Case::open(&root).expect("open");
    link(&mut case, &me, &[2], 1, false);
    link(&mut case, &me, &[2], 1, true);
    drop(case);
    let home = tempfile::tempdir().expect("home");
    let mut c = pty::Console::spawn(pty::console_command(
        env!("CARGO_BIN_EXE_triage"),
        &root,
        home.path(),
    ));
    c.wait_ready();
    // Two keys: the picker, the recent incident's digit.
    c.send("l");
    c.wait_text("digits: recent incidents");
    c.send("1");
    c.wait_message("saved: T-000001 +I-0001");
    c.wait_text("I-0001 Shelling of the field hospital");
    c.quit();
    let case = Case::open(&root).expect("open");
    assert_eq!(incidents::items_of(&case, 1).expect("items"), vec![1, 2]);
}

#[test]
fn overview_counts_items_per_incident_and_maps_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = case_with_a_recent_incident(dir.path());
    let mut case = Case::open(&root).expect("open");
    link(&mut case, "rev", &[7, 38], 1, true);
    let ov = triage::store::overview::compute(&case, &Taxonomy::default_set()).expect("count");
    assert_eq!(
        ov.by_incident,
        vec![(1, "Shelling of the field hospital".to_string(), 3)]
    );
    assert_eq!(ov.incident_places, vec![(33.5711, 36.4022)]);
    drop(case);
    let mut c = common::console(&root, "rev", 120, 40);
    c.settle();
    press(&mut c, KeyCode::Char('O'));
    snap("incident_overview", &mut c, 120, 40);
}

#[test]
fn export_by_incident_and_import_as_claims_merged_by_a_reviewer() {
    let dir = tempfile::tempdir().expect("tmp");
    let sender = common::demo_case(dir.path());
    let me = triage::identity::login_name().expect("login");
    let mut case = Case::open(&sender).expect("open");
    let id = create(&mut case, &me, douma("2013-08-21", 3000.0));
    // T-000001 (civil-defence) and T-000016 (medical-network, refused below).
    link(&mut case, &me, &[1, 16], id, true);
    drop(case);
    let run = |case: &Path, args: &[&str]| {
        let o = triage(case, args);
        assert!(
            o.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            output_text(&o)
        );
        o
    };
    let provider =
        String::from_utf8_lossy(&run(&sender, &["show", "T-000016", "--json"]).stdout).to_string();
    let provider: serde_json::Value = serde_json::from_str(&provider).expect("json");
    let provider = provider["sources"][0]["source"]
        .as_str()
        .expect("source")
        .to_string();
    assert_ne!(provider, "civil-defence");
    run(
        &sender,
        &[
            "source",
            "set",
            &provider,
            "--conditions",
            "no-onward-sharing",
        ],
    );
    let bag = dir.path().join("bag");
    let o = run(
        &sender,
        &[
            "export",
            "--incident",
            "I-0001",
            "--out",
            bag.to_str().expect("utf-8"),
            "--json",
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(summary["incident"], "I-0001");
    assert_eq!(summary["exported"], serde_json::json!(["T-000001"]));
    assert_eq!(
        summary["refused"][0]["ref"], "T-000016",
        "conditions still apply"
    );
    let sent = std::fs::read_to_string(bag.join("data/incidents.jsonl")).expect("incidents");
    let sent: serde_json::Value = serde_json::from_str(sent.trim()).expect("json");
    assert_eq!(sent["ref"], "I-0001");
    assert_eq!(
        sent["items"],
        serde_json::json!(["T-000001"]),
        "only what was exported"
    );

    // The receiving case keeps it as the sender's claim until a reviewer merges it.
    let receiver = dir.path().join("receiver");
    assert!(
        triage(&receiver, &["init", receiver.to_str().expect("utf-8")])
            .status
            .success()
    );
    let o = run(
        &receiver,
        &[
            "import",
            bag.to_str().expect("utf-8"),
            "--source",
            "partner",
            "--json",
        ],
    );
    let imported: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(imported["incidents"], 1);
    let r = Case::open(&receiver).expect("open");
    assert!(
        incidents::list(&r).expect("list").is_empty(),
        "nothing local yet"
    );
    let claims = incidents::imported(&r).expect("claims");
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].original_ref, "I-0001");
    assert_eq!(claims[0].record.title, "Shelling of the field hospital");
    assert_eq!(claims[0].items, vec![1]);
    drop(r);
    let listed =
        String::from_utf8_lossy(&run(&receiver, &["incident", "claims"]).stdout).to_string();
    assert!(listed.contains("not merged"), "{listed}");
    // Merged into a local incident made first.
    let local = String::from_utf8_lossy(
        &run(
            &receiver,
            &[
                "incident",
                "add",
                "Douma, August 2013",
                "--date",
                "2013-08-21",
            ],
        )
        .stdout,
    )
    .trim()
    .to_string();
    run(&receiver, &["incident", "merge", "1", "--into", &local]);
    let r = Case::open(&receiver).expect("open");
    assert_eq!(incidents::items_of(&r, 1).expect("items"), vec![1]);
    assert_eq!(
        incidents::imported(&r).expect("claims")[0].merged_into,
        Some(1)
    );
    drop(r);
    let o = triage(&receiver, &["incident", "merge", "1", "--new"]);
    assert!(!o.status.success(), "merged once");
    let (ok, text) = verify(&receiver);
    assert!(ok, "{text}");
    // A claim altered outside triage is named.
    let db = rusqlite::Connection::open(receiver.join("case.db")).expect("db");
    db.execute("UPDATE imported_incidents SET items = '[1,2]'", [])
        .expect("tamper");
    let (ok, text) = verify(&receiver);
    assert!(!ok);
    assert!(
        text.contains("differs from what the import logged"),
        "{text}"
    );
}
