//! Reviewers' exposure to graphic material: counted per reviewer, UTC day and ISO week (reveals,
//! previews of items flagged graphic, from the moment they are flagged), limits set by leads
//! and the question they lead to, privacy of the figures, gentler defaults for flagged
//! pictures, and the settings recorded and replayed.

use crate::common::{self, add_member, demo_case, sql, triage};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use triage::console::preview::{Look, Shown};
use triage::console::state::Mode;
use triage::console::Console;
use triage::store::changes::{self, Edit};
use triage::store::users::Role;
use triage::store::wellbeing::{self, Exposure, Rule};
use triage::store::Case;
use triage::taxonomy::Taxonomy;

fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t)
        .expect("time")
        .with_timezone(&Utc)
}

/// The demo case with amal (reviewer) and lina (lead).
fn team_case(tmp: &std::path::Path) -> std::path::PathBuf {
    let dir = demo_case(tmp);
    let mut case = Case::open(&dir).expect("open");
    add_member(&mut case, "amal", Role::Reviewer);
    add_member(&mut case, "lina", Role::Lead);
    dir
}

fn flag(case: &mut Case, actor: &str, item: i64, term: &str) {
    changes::apply(
        case,
        &Taxonomy::default_set(),
        actor,
        &Edit::Tags {
            items: vec![item],
            add: vec![term.into()],
            remove: vec![],
        },
    )
    .expect("flag");
}

fn key(c: &mut Console, code: KeyCode) {
    c.key(KeyEvent::from(code));
    c.settle();
}

fn screen(c: &Console) -> String {
    common::screen(c, 120, 40)
}

/// The screen for a snapshot: what differs from run to run (times of the demo's intake) fixed.
fn snapshot_screen(c: &Console, w: u16, h: u16) -> String {
    let mut state = c.state.clone();
    crate::screens::fix_run_dependent_fields(&mut state);
    common::state_screen(&state, &c.keymap, w, h)
}

fn answers(case: &Case, login: &str) -> Vec<(String, String)> {
    sql(case)
        .prepare("SELECT rule, answer FROM limit_answers WHERE login = ?1 ORDER BY rowid")
        .expect("prepare")
        .query_map([login], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn exposure_is_counted_per_reviewer_by_utc_day_and_iso_week() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut case = Case::open(&dir).expect("open");
    // Monday 30 November 2026, ten minutes before midnight UTC: ISO week 49.
    triage::clock::pin(Some(at("2026-11-30T23:50:00Z")));
    wellbeing::record(&mut case, "amal", 1, Exposure::Preview).expect("count");
    wellbeing::record(&mut case, "amal", 1, Exposure::Preview).expect("again");
    changes::record_reveal(&mut case, "amal", 2, false).expect("reveal");
    wellbeing::record(&mut case, "amal", 12, Exposure::Sheet).expect("sheet");
    let today = wellbeing::today(&case, "amal").expect("today");
    assert_eq!((today.day.as_str(), today.items), ("2026-11-30", 3));
    assert_eq!(wellbeing::today(&case, "lina").expect("lina").items, 0);
    // The reveal is custody (an audit event) and exposure (a counted row), in one transaction.
    let (audited, counted): (i64, i64) = sql(&case)
        .query_row(
            "SELECT (SELECT count(*) FROM audit WHERE event = 'reveal' AND item_id = 2),
                    (SELECT count(*) FROM exposures WHERE kind = 'reveal' AND item_id = 2)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    assert_eq!((audited, counted), (1, 1));
    // A preview seen twice is one item, two views; counting is not an audit event.
    let views: i64 = sql(&case)
        .query_row(
            "SELECT views FROM exposures WHERE login = 'amal' AND item_id = 1",
            [],
            |r| r.get(0),
        )
        .expect("views");
    assert_eq!(views, 2);
    let exposure_events: i64 = sql(&case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event LIKE 'exposure%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(exposure_events, 0);

    // Twenty minutes later it is Tuesday in UTC: a new day, the same week.
    triage::clock::pin(Some(at("2026-12-01T00:10:00Z")));
    assert_eq!(wellbeing::today(&case, "amal").expect("today").items, 0);
    wellbeing::record(&mut case, "amal", 3, Exposure::Preview).expect("count");
    let own = wellbeing::own(&case, "amal").expect("own");
    assert_eq!((own.today.items, own.this_week.items), (1, 4));
    assert_eq!(own.this_week.period, "2026-W49");
    assert_eq!(
        (
            own.this_week.reveals,
            own.this_week.previews,
            own.this_week.sheets
        ),
        (1, 2, 1)
    );
    // The next Monday is week 50: nothing yet.
    triage::clock::pin(Some(at("2026-12-07T09:00:00Z")));
    let own = wellbeing::own(&case, "amal").expect("own");
    assert_eq!((own.today.items, own.this_week.items), (0, 0));
    assert_eq!(own.this_week.period, "2026-W50");
    // Earlier days are listed, newest first.
    let days: Vec<&str> = own.days.iter().map(|d| d.period.as_str()).collect();
    assert_eq!(days, ["2026-12-01", "2026-11-30"]);
    triage::clock::pin(None);
}

#[test]
fn previews_of_graphic_items_count_from_when_they_are_flagged_not_before() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut c = common::console(&dir, "amal", 120, 40);
    key(&mut c, KeyCode::Char('i'));
    // Two unflagged photos drawn: nothing counted.
    key(&mut c, KeyCode::Char('j'));
    assert!(matches!(
        c.state.preview.shown,
        Shown::Picture { item_id: 2, .. }
    ));
    key(&mut c, KeyCode::Char('k'));
    let items = |c: &Console| c.state.wellbeing.today.as_ref().map(|t| t.items);
    assert_eq!(items(&c), Some(0));
    // Another person flags the photo amal saw: what she saw before is not counted after.
    let mut other = Case::open(&dir).expect("open");
    flag(&mut other, "lina", 2, "graphic");
    assert_eq!(wellbeing::today(&other, "amal").expect("today").items, 0);
    // Back on it, it is gated; revealed (blurred, recorded) and drawn, it counts once.
    key(&mut c, KeyCode::Char('j'));
    assert!(matches!(c.state.preview.shown, Shown::Gated(2, _)));
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert!(matches!(
        c.state.preview.shown,
        Shown::Picture { item_id: 2, .. }
    ));
    assert_eq!(items(&c), Some(1));
    let kinds: Vec<String> = sql(&other)
        .prepare("SELECT kind FROM exposures WHERE login = 'amal' AND item_id = 2 ORDER BY kind")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kinds, ["preview", "reveal"]);
    // The status bar shows today's count.
    assert!(screen(&c).contains("graphic 1"), "{}", screen(&c));
    // Seeing it again is a view of the same item, not another item.
    key(&mut c, KeyCode::Char('k'));
    key(&mut c, KeyCode::Char('j'));
    assert_eq!(items(&c), Some(1));
    // amal flags the next photo herself: from then on it counts too.
    key(&mut c, KeyCode::Char('j'));
    key(&mut c, KeyCode::Char('1'));
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert_eq!(items(&c), Some(2));
    // lina's figures are her own.
    assert_eq!(wellbeing::today(&other, "lina").expect("lina").items, 0);
}

#[test]
fn flagged_pictures_start_blurred_and_grey_with_their_flags_named_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut case = Case::open(&dir).expect("open");
    flag(&mut case, "lina", 1, "graphic");
    flag(&mut case, "lina", 1, "children");
    let mut c = common::console(&dir, "amal", 80, 24);
    key(&mut c, KeyCode::Char('i'));
    insta::assert_snapshot!("flagged_item_gated_80x24", snapshot_screen(&c, 80, 24));
    key(&mut c, KeyCode::Char('R'));
    key(&mut c, KeyCode::Char('y'));
    assert!(
        matches!(
            c.state.preview.shown,
            Shown::Picture {
                item_id: 1,
                look: Look {
                    grayscale: true,
                    blurred: true
                },
                ..
            }
        ),
        "a reviewer's first reveal of a flagged picture is blurred and grey"
    );
    let level: String = sql(&case)
        .query_row(
            "SELECT json_extract(details, '$.level') FROM audit WHERE event = 'reveal'",
            [],
            |r| r.get(0),
        )
        .expect("reveal");
    assert_eq!(level, "blurred");
    insta::assert_snapshot!(
        "flagged_item_revealed_blurred_80x24",
        snapshot_screen(&c, 80, 24)
    );
    // A lead may turn the default off for the case: then a reveal is in full (leads only).
    wellbeing::set(&mut case, "lina", "flagged-blurred", "off", None).expect("set");
    let mut lead = common::console(&dir, "lina", 80, 24);
    key(&mut lead, KeyCode::Char('i'));
    key(&mut lead, KeyCode::Char('R'));
    key(&mut lead, KeyCode::Char('y'));
    assert!(matches!(
        lead.state.preview.shown,
        Shown::Picture {
            look: Look { blurred: false, .. },
            ..
        }
    ));
}

/// amal's console with a daily limit of `n` graphic items, items 1..=4 flagged graphic.
fn limited(dir: &std::path::Path, n: &str) -> Console {
    let mut case = Case::open(dir).expect("open");
    for item in 1..=4 {
        flag(&mut case, "lina", item, "graphic");
    }
    wellbeing::set(&mut case, "lina", "graphic-per-day", n, None).expect("limit");
    let mut c = common::console(dir, "amal", 120, 40);
    key(&mut c, KeyCode::Char('i'));
    c
}

fn reveal(c: &mut Console) {
    key(c, KeyCode::Char('R'));
    key(c, KeyCode::Char('y'));
}

#[test]
fn at_the_daily_limit_enter_gives_the_queue_without_graphic_items() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut c = limited(&dir, "2");
    reveal(&mut c);
    assert!(matches!(c.state.mode, Mode::Normal));
    key(&mut c, KeyCode::Char('j'));
    reveal(&mut c);
    // The second graphic item reaches the limit: asked, plainly.
    assert!(matches!(c.state.mode, Mode::Limit(Rule::PerDay)));
    insta::assert_snapshot!("daily_limit_question_80x24", snapshot_screen(&c, 80, 24));
    let s = screen(&c);
    assert!(
        s.contains("You have seen 2 graphic items today; the limit is 2.")
            && s.contains("Enter  the queue without graphic items"),
        "{s}"
    );
    assert!(s.contains("graphic 2/2"), "{s}");
    key(&mut c, KeyCode::Enter);
    assert_eq!(c.state.filter.as_deref(), Some("-flag:graphic"));
    assert!(!c.state.rows.is_empty());
    assert!(
        c.state
            .rows
            .iter()
            .all(|r| r.tags.iter().all(|(_, t)| t != "graphic")),
        "no graphic item in the queue"
    );
    let case = Case::open(&dir).expect("open");
    assert_eq!(
        answers(&case, "amal"),
        [("graphic-per-day".to_string(), "stop".to_string())]
    );
    // Non-graphic work goes on: a decision is saved as ever.
    key(&mut c, KeyCode::Char('x'));
    assert!(c.state.last_saved.is_some(), "{:?}", c.state.message);
}

#[test]
fn a_reviewer_who_stops_may_then_choose_to_go_on_and_both_are_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut c = limited(&dir, "1");
    reveal(&mut c);
    assert!(matches!(c.state.mode, Mode::Limit(Rule::PerDay)));
    // Not now: graphic pictures wait.
    key(&mut c, KeyCode::Esc);
    key(&mut c, KeyCode::Char('j'));
    let s = screen(&c);
    assert!(
        s.contains("your limit of 1 graphic items a day is reached"),
        "{s}"
    );
    // Asked again on the next graphic item; this time amal goes on.
    assert!(matches!(c.state.mode, Mode::Limit(Rule::PerDay)));
    key(&mut c, KeyCode::Char('y'));
    assert!(
        matches!(c.state.preview.shown, Shown::Gated(2, _)),
        "still behind the flag gate"
    );
    reveal(&mut c);
    assert!(matches!(
        c.state.preview.shown,
        Shown::Picture { item_id: 2, .. }
    ));
    // Asked once a day: the next graphic item is not asked about again.
    key(&mut c, KeyCode::Char('j'));
    reveal(&mut c);
    assert!(matches!(c.state.mode, Mode::Normal));
    let case = Case::open(&dir).expect("open");
    assert_eq!(
        answers(&case, "amal"),
        [
            ("graphic-per-day".to_string(), "stop".to_string()),
            ("graphic-per-day".to_string(), "go-on".to_string())
        ]
    );
    // A new console the same day knows she chose to go on.
    let again = common::console(&dir, "amal", 120, 40);
    assert!(!again.state.wellbeing.daily_reached());
    // The lead sees that the limit was reached and gone past, not what was seen.
    let team = wellbeing::team(&case).expect("team");
    let amal = team
        .people
        .iter()
        .find(|p| p.login == "amal")
        .expect("amal");
    assert_eq!((amal.per_day_reached, amal.went_on), (1, 1));
    assert_eq!(team.today.items, 3);
}

#[test]
fn a_pause_is_offered_after_n_graphic_items_in_a_row_for_one_reviewer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut case = Case::open(&dir).expect("open");
    for item in [1, 2, 4] {
        flag(&mut case, "lina", item, "graphic");
    }
    wellbeing::set(&mut case, "lina", "pause-after", "2", Some("amal")).expect("limit");
    let mut c = common::console(&dir, "amal", 120, 40);
    key(&mut c, KeyCode::Char('i'));
    reveal(&mut c);
    key(&mut c, KeyCode::Char('j'));
    reveal(&mut c);
    assert!(matches!(c.state.mode, Mode::Limit(Rule::InARow)));
    assert!(screen(&c).contains("2 graphic items in a row: time for a pause."));
    key(&mut c, KeyCode::Char('y'));
    // A non-graphic item breaks the row: one more graphic item does not ask.
    key(&mut c, KeyCode::Char('j'));
    key(&mut c, KeyCode::Char('j'));
    reveal(&mut c);
    assert!(matches!(c.state.mode, Mode::Normal));
    assert_eq!(
        answers(&case, "amal"),
        [("pause-after".to_string(), "go-on".to_string())]
    );
    // The limit is amal's only: lina has none.
    assert_eq!(
        wellbeing::today(&case, "lina").expect("lina").in_a_row,
        None
    );
}

#[test]
fn settings_are_for_leads_recorded_and_replayed_by_verify() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = team_case(tmp.path());
    let mut case = Case::open(&dir).expect("open");
    let refused = wellbeing::set(&mut case, "amal", "graphic-per-day", "5", None);
    assert!(refused.is_err());
    let denied: i64 = sql(&case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'denied' AND actor = 'amal'",
            [],
            |r| r.get(0),
        )
        .expect("denied");
    assert_eq!(denied, 1);
    wellbeing::set(&mut case, "lina", "graphic-per-day", "5", None).expect("set");
    wellbeing::set(&mut case, "lina", "graphic-per-day", "8", Some("amal")).expect("set");
    assert!(wellbeing::set(&mut case, "lina", "graphic-per-day", "many", None).is_err());
    assert!(wellbeing::set(&mut case, "lina", "flagged-blurred", "off", Some("amal")).is_err());
    assert_eq!(wellbeing::today(&case, "amal").expect("t").per_day, Some(8));
    assert_eq!(wellbeing::today(&case, "lina").expect("t").per_day, Some(5));
    let (details,): (String,) = sql(&case)
        .query_row(
            "SELECT details FROM audit WHERE event = 'settings.set' ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?,)),
        )
        .expect("audited");
    let d: serde_json::Value = serde_json::from_str(&details).expect("json");
    assert_eq!(
        d,
        serde_json::json!({"scope": "amal", "key": "graphic-per-day", "old": null, "new": "8"})
    );
    let out = triage(&dir, &["verify", "--quick"]);
    assert!(out.status.success(), "{}", common::output_text(&out));
    // A limit changed behind the log's back is found.
    sql(&case)
        .execute(
            "UPDATE case_settings SET value = '500' WHERE scope = ''",
            [],
        )
        .expect("tamper");
    let out = triage(&dir, &["verify", "--quick"]);
    let text = common::output_text(&out);
    assert!(!out.status.success());
    assert!(
        text.contains("setting graphic-per-day: is 500, the log says 5"),
        "{text}"
    );
}

/// A case made by ada in which the login running the tests is `role`, with figures for
/// amal and for the tester.
fn privacy_case(tmp: &std::path::Path, role: Role) -> (std::path::PathBuf, String) {
    let dir = tmp.join("case");
    let mut case = common::ada_case_with_demo_material(&dir, &tmp.join("material"));
    let me = triage::identity::login_name().expect("login");
    for (login, r) in [("amal", Role::Reviewer), (me.as_str(), role)] {
        triage::store::users::change(
            &mut case,
            "ada",
            login,
            triage::store::users::PeopleChange::Add(r),
        )
        .expect("add");
    }
    wellbeing::set(&mut case, "ada", "graphic-per-day", "1", None).expect("limit");
    wellbeing::record(&mut case, "amal", 1, Exposure::Preview).expect("count");
    wellbeing::record(&mut case, "amal", 2, Exposure::Preview).expect("count");
    wellbeing::answer(&mut case, "amal", Rule::PerDay, true).expect("answer");
    wellbeing::record(&mut case, &me, 3, Exposure::Preview).expect("count");
    (dir, me)
}

#[test]
fn a_reviewer_sees_only_their_own_figures() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, me) = privacy_case(tmp.path(), Role::Reviewer);
    let out = triage(&dir, &["stats", "--wellbeing", "--json"]);
    assert!(out.status.success(), "{}", common::output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["own"]["login"], me.as_str());
    assert_eq!(v["own"]["today"]["items"], 1);
    assert_eq!(
        v["team"],
        serde_json::Value::Null,
        "no team figures for a reviewer"
    );
    // Another person's figures are refused, and the refusal recorded.
    let out = triage(&dir, &["stats", "--wellbeing", "--reviewer", "amal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::output_text(&out).contains("review"),
        "{}",
        common::output_text(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("amal"));
    let case = Case::open(&dir).expect("open");
    let attempt: String = sql(&case)
        .query_row(
            "SELECT json_extract(details, '$.attempt') FROM audit WHERE event = 'denied' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("denied");
    assert_eq!(attempt, "stats --wellbeing --reviewer amal");
    // Nor may a reviewer change the limits.
    let out = triage(&dir, &["settings", "set", "graphic-per-day", "off"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_lead_sees_limits_reached_per_person_and_team_totals_not_items() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, _) = privacy_case(tmp.path(), Role::Lead);
    let out = triage(
        &dir,
        &["stats", "--wellbeing", "--reviewer", "amal", "--json"],
    );
    assert!(out.status.success(), "{}", common::output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"login": "amal", "per_day_reached": 1, "pause_reached": 0, "went_on": 1})
    );
    let out = triage(&dir, &["stats", "--wellbeing", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["team"]["today"]["items"], 3, "team totals");
    let people = v["team"]["people"].as_array().expect("people");
    for p in people {
        let keys: Vec<&str> = p
            .as_object()
            .expect("obj")
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            ["login", "pause_reached", "per_day_reached", "went_on"]
        );
    }
    // Nothing names an item: no reference, no item id.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("T-0") && !text.contains("item_id"), "{text}");
    let out = triage(&dir, &["stats", "--wellbeing"]);
    let text = common::output_text(&out);
    assert!(
        text.contains("team (totals; no one's items are listed)"),
        "{text}"
    );
    // A lead changes a setting from the shell; it is recorded.
    let out = triage(
        &dir,
        &["settings", "set", "pause-after", "10", "--reviewer", "amal"],
    );
    assert!(out.status.success(), "{}", common::output_text(&out));
    let out = triage(&dir, &["settings"]);
    assert!(
        common::output_text(&out).contains("for amal"),
        "{}",
        common::output_text(&out)
    );
}

/// The real binary in a pseudo-terminal: past the daily limit the console says so, and one
/// key gives the queue without graphic items.
#[test]
fn pty_after_the_limit_one_key_gives_the_queue_without_graphic_items() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let home = tempfile::tempdir().expect("home");
    for reference in ["T-000001", "T-000002", "T-000003"] {
        let out = triage(&case, &["tag", reference, "--add", "graphic"]);
        assert!(out.status.success(), "{}", common::output_text(&out));
    }
    let out = triage(&case, &["settings", "set", "graphic-per-day", "1"]);
    assert!(out.status.success(), "{}", common::output_text(&out));
    let mut c = crate::pty::Console::spawn(crate::pty::console_command(
        env!("CARGO_BIN_EXE_triage"),
        &case,
        home.path(),
    ));
    c.wait_ready();
    c.wait_status("graphic 0/1");
    c.send("i");
    c.wait_text("Sensitive image withheld");
    c.send("R");
    c.wait_text("The reveal is recorded");
    c.send("y");
    // The reveal (blurred, recorded) is the first graphic item of the day: the limit.
    c.wait_text("You have seen 1 graphic items today; the limit is 1.");
    c.wait_text("Enter  the queue without graphic items");
    c.wait_status("graphic 1/1");
    c.send("\r");
    let s = c.wait_for("the queue without graphic items", |s| {
        s.contains("T-000004") && !s.contains("T-000001") && !s.contains("T-000003")
    });
    assert!(
        s.contains("the queue without graphic items (recorded)"),
        "{s}"
    );
    assert!(!s.contains("daily limit reached"), "{s}");
    // Non-graphic work goes on: a decision is saved.
    c.send("x");
    c.wait_text("saved:");
    c.quit();
    let answer: String = sql(&Case::open(&case).expect("open"))
        .query_row("SELECT answer FROM limit_answers", [], |r| r.get(0))
        .expect("recorded");
    assert_eq!(answer, "stop");
}

#[test]
fn a_contact_sheet_of_a_video_flagged_graphic_counts_as_a_sheet() {
    if !common::have("ffmpeg") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).expect("dir");
    crate::inside::clip(&files, "mp4");
    let dir = crate::inside::ingest(tmp.path(), &files);
    let mut case = Case::open(&dir).expect("open");
    add_member(&mut case, "amal", Role::Reviewer);
    add_member(&mut case, "lina", Role::Lead);
    flag(&mut case, "lina", 1, "graphic");
    let mut c = common::console(&dir, "amal", 120, 40);
    key(&mut c, KeyCode::Char('i'));
    assert!(matches!(c.state.preview.shown, Shown::Gated(1, _)));
    reveal(&mut c);
    assert!(
        matches!(
            c.state.preview.shown,
            Shown::Picture {
                item_id: 1,
                look: Look {
                    grayscale: true,
                    blurred: true
                },
                ..
            }
        ),
        "the contact sheet, blurred and grey: {}",
        match &c.state.preview.shown {
            Shown::Message(_, m) => m.clone(),
            Shown::Loading(_) => "loading".into(),
            Shown::Gated(_, r) => r.join(", "),
            _ => "other".into(),
        }
    );
    let kinds: Vec<String> = sql(&case)
        .prepare("SELECT kind FROM exposures WHERE login = 'amal' AND item_id = 1 ORDER BY kind")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kinds, ["reveal", "sheet"]);
    assert_eq!(c.state.wellbeing.today.as_ref().map(|t| t.items), Some(1));
}
