//! Team review in the store: every role check, claims, assignments, second-level review and
//! statistics, and the migration that makes an existing case's creator its admin. Each refusal
//! must be recorded as a `denied` audit event.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::PathBuf;

use triage::store::changes::{self, Edit};
use triage::store::claims::{self, Claim};
use triage::store::query::{Selection, View};
use triage::store::users::{self, PeopleChange, Right, Role};
use triage::store::{assignments, export_rows, review, Case, CaseError};
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

/// A case made by "ada" (admin) with the demo material, and lee (lead), rae and rob
/// (reviewers), and dan (disabled).
struct Team {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    tax: Taxonomy,
}

impl Team {
    fn new() -> Team {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("case");
        let mut case =
            crate::common::ada_case_with_demo_material(&dir, &tmp.path().join("material"));
        for (login, role) in [
            ("lee", Role::Lead),
            ("rae", Role::Reviewer),
            ("rob", Role::Reviewer),
            ("dan", Role::Reviewer),
        ] {
            users::change(&mut case, "ada", login, PeopleChange::Add(role)).expect("add");
        }
        users::change(&mut case, "ada", "dan", PeopleChange::Disable).expect("disable");
        Team {
            _tmp: tmp,
            dir,
            tax: Taxonomy::default_set(),
        }
    }

    fn case(&self) -> Case {
        Case::open(&self.dir).expect("open")
    }
}

fn denied(case: &Case, actor: &str) -> i64 {
    sql(case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'denied' AND actor = ?1",
            [actor],
            |r| r.get(0),
        )
        .expect("count denied")
}

fn tag(item: i64, term: &str) -> Edit {
    Edit::Tags {
        items: vec![item],
        add: vec![term.into()],
        remove: vec![],
    }
}

fn triaged(item: i64) -> Edit {
    Edit::Status {
        items: vec![item],
        to: "triaged".into(),
        reason: None,
    }
}

fn is_denied<T: std::fmt::Debug>(r: Result<T, CaseError>) -> bool {
    matches!(r, Err(CaseError::Denied(_)))
}

fn change_denied<T: std::fmt::Debug>(r: Result<T, changes::ChangeError>) -> bool {
    matches!(r, Err(changes::ChangeError::Case(CaseError::Denied(_))))
}

/// Assert that `f` is refused for `actor` and that the refusal was recorded.
fn refused(case: &mut Case, actor: &str, what: &str, f: impl FnOnce(&mut Case) -> bool) {
    let before = denied(case, actor);
    assert!(f(case), "{actor} should be refused: {what}");
    assert_eq!(
        denied(case, actor),
        before + 1,
        "{actor}'s refused {what} is recorded"
    );
}

#[test]
fn the_creator_is_admin_and_the_role_table_holds() {
    let t = Team::new();
    let case = t.case();
    let u = users::get(&case, "ada").expect("get").expect("ada listed");
    assert_eq!(u.role, Role::Admin);
    let expect = |who: &str, right: Right, ok: bool| {
        let got = users::check(&case, who, right).expect("check");
        assert_eq!(got.is_ok(), ok, "{who} {right:?}: {got:?}");
    };
    for right in [Right::Read, Right::Tag, Right::RevealBlurred] {
        for who in ["rae", "lee", "ada"] {
            expect(who, right, true);
        }
    }
    for right in [
        Right::RevealFull,
        Right::Review,
        Right::Assign,
        Right::Export,
        Right::OverrideConditions,
        Right::Intake,
    ] {
        expect("rae", right, false);
        expect("lee", right, true);
        expect("ada", right, true);
    }
    for right in [
        Right::ManagePeople,
        Right::ManageSources,
        Right::ManageTaxonomy,
    ] {
        expect("rae", right, false);
        expect("lee", right, false);
        expect("ada", right, true);
    }
    for who in ["dan", "eve"] {
        expect(who, Right::Read, false);
    }
}

#[test]
fn reviewers_tag_but_may_not_lead_or_administer_and_each_refusal_is_recorded() {
    let t = Team::new();
    let mut case = t.case();
    let tax = &t.tax;
    changes::apply(&mut case, tax, "rae", &tag(1, "graphic")).expect("a reviewer tags");
    changes::record_reveal(&mut case, "rae", 1, false).expect("a blurred reveal");
    refused(&mut case, "rae", "full reveal", |c| {
        change_denied(changes::record_reveal(c, "rae", 1, true))
    });
    refused(&mut case, "rae", "export", |c| {
        is_denied(export_rows::authorize(c, "rae", "type:image", false))
    });
    refused(&mut case, "rae", "assign", |c| {
        is_denied(assignments::assign(c, "rae", "rob", "b", &[2], "x"))
    });
    refused(&mut case, "rae", "review sample", |c| {
        is_denied(review::set_sample(c, "rae", 10))
    });
    refused(&mut case, "rae", "review confirm", |c| {
        is_denied(review::confirm(c, "rae", 1))
    });
    refused(&mut case, "rae", "user add", |c| {
        is_denied(users::change(
            c,
            "rae",
            "mallory",
            PeopleChange::Add(Role::Admin),
        ))
    });
    refused(&mut case, "rae", "source change", |c| {
        is_denied(users::authorize(
            c,
            "rae",
            Right::ManageSources,
            "source add x",
        ))
    });
    let material = tempfile::tempdir().expect("tmp");
    std::fs::write(material.path().join("a.txt"), "hello").expect("write");
    refused(&mut case, "rae", "ingest", |c| {
        is_denied(triage::ingest::run(
            c,
            &triage::ingest::Options {
                source: "x".into(),
                roots: vec![material.path().to_path_buf()],
                actor: "rae".into(),
                progress: false,
                fingerprints: false,
                limits: Default::default(),
            },
        ))
    });
    assert!(
        users::get(&case, "mallory").expect("get").is_none(),
        "nobody was added"
    );
    let entry: (Option<i64>, String) = sql(&case)
        .query_row(
            "SELECT item_id, details FROM audit WHERE event = 'denied' AND actor = 'rae' ORDER BY seq LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("first denial");
    assert!(entry.1.contains("reveal-full"), "{entry:?}");
}

#[test]
fn leads_review_assign_export_and_override_but_do_not_manage_people() {
    let t = Team::new();
    let mut case = t.case();
    export_rows::authorize(&mut case, "lee", "type:image", true).expect("lead exports");
    changes::record_reveal(&mut case, "lee", 1, true).expect("lead reveals in full");
    review::set_sample(&mut case, "lee", 10).expect("lead sets the sample");
    assert_eq!(
        assignments::assign(&mut case, "lee", "rae", "b1", &[1, 2], "f").expect("assign"),
        2
    );
    refused(&mut case, "lee", "user set", |c| {
        is_denied(users::change(
            c,
            "lee",
            "lee",
            PeopleChange::SetRole(Role::Admin),
        ))
    });
    refused(&mut case, "lee", "source change", |c| {
        is_denied(users::authorize(
            c,
            "lee",
            Right::ManageSources,
            "source set x",
        ))
    });
    // Admins do.
    users::change(&mut case, "ada", "rob", PeopleChange::SetRole(Role::Lead)).expect("admin");
    assert_eq!(
        users::get(&case, "rob").expect("get").expect("rob").role,
        Role::Lead
    );
    // The only admin cannot demote or disable themselves.
    assert!(users::change(&mut case, "ada", "ada", PeopleChange::Disable).is_err());
}

#[test]
fn outsiders_and_disabled_members_are_refused_everything() {
    let t = Team::new();
    let mut case = t.case();
    for who in ["eve", "dan"] {
        refused(&mut case, who, "tag", |c| {
            change_denied(changes::apply(c, &t.tax, who, &tag(3, "graphic")))
        });
        refused(&mut case, who, "undo", |c| {
            change_denied(changes::undo(c, who))
        });
        refused(&mut case, who, "claim", |c| {
            is_denied(claims::claim(c, who, 3, 600))
        });
        refused(&mut case, who, "open", |c| {
            is_denied(users::authorize(c, who, Right::Read, "open"))
        });
    }
    let tags: i64 = sql(&case)
        .query_row("SELECT count(*) FROM tags WHERE item_id = 3", [], |r| {
            r.get(0)
        })
        .expect("tags");
    assert_eq!(tags, 0, "nothing was tagged");
    // Enabled again, dan works.
    users::change(&mut case, "ada", "dan", PeopleChange::Enable).expect("enable");
    changes::apply(&mut case, &t.tax, "dan", &tag(3, "graphic")).expect("dan tags");
}

fn view_ids(case: &Case, view: View, me: &str) -> Vec<i64> {
    Selection::new(&view, me, None)
        .after(&case, None, 1000)
        .expect("view")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[test]
fn a_claimed_item_is_skipped_by_others_and_cannot_be_tagged_by_them() {
    let t = Team::new();
    let mut case = t.case();
    assert_eq!(
        claims::claim(&mut case, "rae", 1, 600).expect("claim"),
        Claim::Held
    );
    assert_eq!(
        claims::claim(&mut case, "rob", 1, 600).expect("claim"),
        Claim::TakenBy("rae".into())
    );
    assert!(view_ids(&case, View::Untriaged, "rae").contains(&1));
    assert!(!view_ids(&case, View::Untriaged, "rob").contains(&1));
    let sel = Selection::new(&View::All, "rob", None);
    assert_eq!(
        sel.next_untriaged(&case, 0).expect("next"),
        Some(2),
        "rob's next untriaged item skips rae's"
    );
    refused(&mut case, "rob", "tag of a claimed item", |c| {
        change_denied(changes::apply(c, &t.tax, "rob", &tag(1, "graphic")))
    });
    let why: String = sql(&case)
        .query_row(
            "SELECT json_extract(details, '$.why') FROM audit WHERE event = 'denied' AND actor = 'rob' AND item_id = 1",
            [],
            |r| r.get(0),
        )
        .expect("denial");
    assert_eq!(why, "claimed");
    // Moving on releases the first claim; triaging releases the item.
    assert_eq!(
        claims::claim(&mut case, "rae", 2, 600).expect("claim"),
        Claim::Held
    );
    assert!(view_ids(&case, View::Untriaged, "rob").contains(&1));
    changes::apply(&mut case, &t.tax, "rae", &triaged(2)).expect("triage");
    let held: i64 = sql(&case)
        .query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
        .expect("claims");
    assert_eq!(held, 0, "triaging released the claim");
    // A lapsed lease hides nothing.
    claims::claim(&mut case, "rae", 4, -1).expect("claim");
    assert!(view_ids(&case, View::Untriaged, "rob").contains(&4));
    changes::apply(&mut case, &t.tax, "rob", &tag(4, "graphic")).expect("lapsed claim");
    // Undoing a change is a change too: not on an item someone else now holds.
    changes::apply(&mut case, &t.tax, "rob", &tag(5, "graphic")).expect("tag");
    claims::claim(&mut case, "rae", 5, 600).expect("claim");
    refused(&mut case, "rob", "undo on a claimed item", |c| {
        change_denied(changes::undo(c, "rob"))
    });
    claims::claim(&mut case, "rae", 6, 600).expect("claim elsewhere");
    changes::undo(&mut case, "rob").expect("undo once released");
    // claim_next hands two reviewers different items.
    let a = claims::claim_next(&mut case, "rae", 0, 600).expect("next");
    let b = claims::claim_next(&mut case, "rob", 0, 600).expect("next");
    assert!(a.is_some() && b.is_some() && a != b, "{a:?} {b:?}");
}

#[test]
fn assigned_batches_show_in_mine_with_progress_and_leave_others_untriaged_views() {
    let t = Team::new();
    let mut case = t.case();
    let n =
        assignments::assign(&mut case, "lee", "rae", "week-1", &[5, 6, 7], "f").expect("assign");
    assert_eq!(n, 3);
    assert!(matches!(
        assignments::assign(&mut case, "lee", "eve", "b", &[8], "f"),
        Err(CaseError::Invalid(_))
    ));
    let mine = view_ids(&case, View::Mine, "rae");
    assert_eq!(mine, vec![5, 6, 7]);
    assert!(!view_ids(&case, View::Untriaged, "rob").contains(&5));
    assert!(view_ids(&case, View::Untriaged, "rae").contains(&5));
    changes::apply(&mut case, &t.tax, "rae", &triaged(5)).expect("triage");
    let p = assignments::progress(&case, "rae").expect("progress");
    assert_eq!(
        p,
        vec![assignments::Progress {
            batch: "week-1".into(),
            done: 1,
            total: 3
        }]
    );
}

#[test]
fn leads_confirm_or_overturn_sampled_and_escalated_decisions_and_stats_count_them() {
    let t = Team::new();
    let mut case = t.case();
    for item in 1..=20 {
        changes::apply(&mut case, &t.tax, "rae", &triaged(item)).expect("triage");
    }
    changes::apply(
        &mut case,
        &t.tax,
        "rob",
        &Edit::Status {
            items: vec![21],
            to: "escalated".into(),
            reason: Some("unsure".into()),
        },
    )
    .expect("escalate");
    assert_eq!(
        view_ids(&case, View::Review, "lee"),
        vec![21],
        "no sample yet"
    );
    review::set_sample(&mut case, "lee", 30).expect("sample");
    let queue = view_ids(&case, View::Review, "lee");
    let sampled: Vec<i64> = queue.iter().copied().filter(|&i| i != 21).collect();
    assert!(queue.contains(&21));
    assert!(
        (2..=12).contains(&sampled.len()),
        "about 30% of 20: {sampled:?}"
    );
    assert_eq!(
        view_ids(&case, View::Review, "lee"),
        queue,
        "the sample is reproducible"
    );
    assert_eq!(
        view_ids(&case, View::Review, "rae"),
        vec![21],
        "nobody reviews their own decisions"
    );
    review::confirm(&mut case, "lee", sampled[0]).expect("confirm");
    changes::apply(&mut case, &t.tax, "lee", &tag(sampled[1], "graphic")).expect("overturn");
    changes::apply(&mut case, &t.tax, "lee", &triaged(21)).expect("overturn escalation");
    let left = view_ids(&case, View::Review, "lee");
    assert!(!left.contains(&sampled[0]) && !left.contains(&sampled[1]) && !left.contains(&21));
    let overturns: i64 = sql(&case)
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'review.overturn' AND actor = 'lee' AND change_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(overturns, 2);
    // An item not in review is not an overturn, and cannot be confirmed.
    assert!(review::confirm(&mut case, "lee", 30).is_err());
    let stats = review::stats(&case).expect("stats");
    let rae = stats.iter().find(|s| s.login == "rae").expect("rae");
    assert_eq!((rae.triaged, rae.reviewed, rae.overturned), (20, 2, 1));
    assert_eq!(rae.overturn_rate, Some(0.5));
    assert!(rae.per_hour.is_some_and(|h| h > 0.0));
    let rob = stats.iter().find(|s| s.login == "rob").expect("rob");
    assert_eq!((rob.triaged, rob.reviewed, rob.overturned), (1, 1, 1));
}

#[test]
fn a_case_made_before_roles_makes_its_creator_admin_on_migration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("case");
    drop(Case::init(&dir, "founder").expect("init"));
    // Back to the previous schema: no people tables, version 6.
    {
        let conn = rusqlite::Connection::open(dir.join("case.db")).expect("db");
        conn.execute_batch(
            "DROP TABLE users; DROP TABLE claims; DROP TABLE assignments; DROP TABLE reviews;
             DROP TABLE imported_claims; DROP TABLE bag_info; DROP TABLE kept_previews;
             DROP TABLE exposures; DROP TABLE limit_answers; DROP TABLE case_settings;
             DROP INDEX provenance_parent; ALTER TABLE provenance DROP COLUMN parent_id;
             ALTER TABLE provenance DROP COLUMN ordinal;
             ALTER TABLE provenance DROP COLUMN inner_path;
             DROP TABLE incidents; DROP TABLE incident_links; DROP TABLE recent_incidents;
             DROP TABLE imported_incidents;
             PRAGMA user_version = 6;",
        )
        .expect("downgrade");
    }
    let case = Case::open(&dir).expect("migrate");
    let u = users::get(&case, "founder").expect("get").expect("listed");
    assert_eq!(u.role, Role::Admin);
    let how: String = sql(&case)
        .query_row(
            "SELECT json_extract(details, '$.how') FROM audit WHERE event = 'user.add' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("audited");
    assert!(how.starts_with("migration"), "{how}");
    let (_, problems) = triage::store::verify::check_chain(&case, None).expect("chain");
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn only_an_admin_brings_a_changed_taxonomy_into_use() {
    let t = Team::new();
    let case = t.case();
    triage::store::record_taxonomy(&case, "ada", "v1", "test").expect("admin");
    triage::store::record_taxonomy(&case, "rae", "v1", "test").expect("unchanged is fine");
    let before = denied(&case, "rae");
    assert!(is_denied(triage::store::record_taxonomy(
        &case, "rae", "v2", "test"
    )));
    assert_eq!(denied(&case, "rae"), before + 1);
}

mod console {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use triage::console::keymap::Keymap;
    use triage::console::Console;

    fn open(t: &Team, who: &str) -> Console {
        Console::new(
            t.case(),
            Taxonomy::default_set(),
            who.into(),
            Keymap::defaults(),
            120,
            40,
        )
    }

    fn press(c: &mut Console, code: KeyCode) {
        c.key(KeyEvent::from(code));
        c.settle();
    }

    #[test]
    fn two_consoles_never_open_the_same_untriaged_item() {
        let t = Team::new();
        let rae = open(&t, "rae");
        assert_eq!(rae.state.current_id(), Some(1), "rae opens the first item");
        let mut rob = open(&t, "rob");
        assert_eq!(
            rob.state.current_id(),
            Some(2),
            "rob's view skips rae's claim"
        );
        // rob tags and marks his item triaged: the next one is not rae's either.
        press(&mut rob, KeyCode::Char('1'));
        press(&mut rob, KeyCode::Char('x'));
        assert_eq!(rob.state.current_id(), Some(3));
        let mut rae = rae;
        // Leaving the console releases rae's claim.
        rae.runtime.release();
        drop(rae);
        let rob2 = open(&t, "lee");
        assert_eq!(rob2.state.current_id(), Some(1));
    }

    #[test]
    fn a_lead_confirms_in_the_review_view_and_the_batch_shows_in_the_status() {
        let t = Team::new();
        let mut case = t.case();
        changes::apply(
            &mut case,
            &t.tax,
            "rae",
            &Edit::Status {
                items: vec![9],
                to: "escalated".into(),
                reason: Some("?".into()),
            },
        )
        .expect("escalate");
        assignments::assign(&mut case, "lee", "rae", "week-1", &[10, 11], "f").expect("assign");
        drop(case);
        let rae = open(&t, "rae");
        let b = rae.state.batch.clone().expect("rae has a batch");
        assert_eq!((b.batch.as_str(), b.done, b.total), ("week-1", 0, 2));
        let mut lee = open(&t, "lee");
        press(&mut lee, KeyCode::Char('w'));
        let triage::console::state::Mode::Views(menu) = &lee.state.mode else {
            panic!("no views menu");
        };
        let at = menu
            .views
            .iter()
            .position(|v| *v == View::Review)
            .expect("leads have a review view");
        for _ in 0..at {
            press(&mut lee, KeyCode::Down);
        }
        press(&mut lee, KeyCode::Enter);
        assert_eq!(lee.state.view, View::Review);
        assert_eq!(lee.state.current_id(), Some(9));
        press(&mut lee, KeyCode::Char('a'));
        assert!(lee.state.rows.is_empty(), "confirmed: the queue is empty");
        let n: i64 = sql(&lee.runtime.case)
            .query_row(
                "SELECT count(*) FROM reviews WHERE item_id = 9 AND outcome = 'confirmed'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, 1);
        // A reviewer has no review view.
        let mut rae = rae;
        press(&mut rae, KeyCode::Char('w'));
        let triage::console::state::Mode::Views(menu) = &rae.state.mode else {
            panic!("no views menu");
        };
        assert!(!menu.views.contains(&View::Review));
    }
}
