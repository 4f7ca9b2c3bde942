//! `verify` proves the decisions: it replays the audit log and names every tag, status, note,
//! role, view, provider condition, review, assignment and claim that differs from what the log
//! implies. Changes are made with the real sqlite3 tool, as someone with access to the
//! database file would; everything done through triage itself must still verify.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::common;
use common::{output_text as text, triage};

use std::path::{Path, PathBuf};
use std::process::Command;

use triage::store::changes::{self, Edit};
use triage::store::users::{self, PeopleChange, Role};
use triage::store::{assignments, claims, review, sources, views, Case};
use triage::taxonomy::Taxonomy;

/// The sqlite3 command-line tool; CI installs it, so there a missing tool is a failure.
fn sqlite3(db: &Path, sql: &str) {
    match Command::new("sqlite3").arg(db).arg(sql).output() {
        Ok(o) => assert!(
            o.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "sqlite3 tool missing in CI: {e}"
            );
            eprintln!("!!! sqlite3 tool not installed ({e}); using the bundled SQLite instead");
            let c = rusqlite::Connection::open(db).expect("open");
            c.execute_batch(sql).expect("sql");
        }
    }
}

/// `verify --quick`: (passed, the PROBLEM lines).
fn verify(case: &Path) -> (bool, Vec<String>) {
    let out = triage(case, &["verify", "--quick"]);
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("PROBLEM "))
        .map(str::to_string)
        .collect();
    (out.status.code() == Some(0), lines)
}

fn edit_tags(items: &[i64], add: &[&str], remove: &[&str]) -> Edit {
    Edit::Tags {
        items: items.to_vec(),
        add: add.iter().map(|s| s.to_string()).collect(),
        remove: remove.iter().map(|s| s.to_string()).collect(),
    }
}

fn status(items: &[i64], to: &str) -> Edit {
    Edit::Status {
        items: items.to_vec(),
        to: to.into(),
        reason: None,
    }
}

/// A case where a team did a bit of everything through triage: made by "ada" with the demo
/// material; the login running the tests is a member (reviewer) so that it may verify.
fn busy_case(tmp: &Path) -> PathBuf {
    let dir = tmp.join("case");
    let mut case = crate::common::ada_case_with_demo_material(&dir, &tmp.join("material"));
    let (_, text, origin) = Taxonomy::for_case_with_text(&dir).expect("taxonomy");
    triage::store::record_taxonomy(&case, "ada", &text, &origin).expect("taxonomy in use");
    let tax = Taxonomy::default_set();
    let me = triage::identity::login_name().expect("login");
    for (login, role) in [
        ("lee", Role::Lead),
        ("amal", Role::Reviewer),
        ("rob", Role::Reviewer),
        (me.as_str(), Role::Reviewer),
    ] {
        users::change(&mut case, "ada", login, PeopleChange::Add(role)).expect("add");
    }
    users::change(&mut case, "ada", "rob", PeopleChange::Disable).expect("disable");
    users::change(&mut case, "ada", "rob", PeopleChange::Enable).expect("enable");
    users::change(&mut case, "ada", "rob", PeopleChange::SetRole(Role::Lead)).expect("set");

    let apply = |case: &mut Case, who: &str, e: Edit| {
        changes::apply(case, &tax, who, &e).expect("apply");
    };
    apply(
        &mut case,
        "amal",
        edit_tags(&[1, 2, 3], &["graphic", "gov-forces"], &[]),
    );
    apply(&mut case, "amal", status(&[1, 2], "triaged"));
    apply(&mut case, "amal", edit_tags(&[3], &[], &["graphic"]));
    apply(&mut case, "amal", status(&[4], "escalated"));
    apply(
        &mut case,
        "amal",
        Edit::Note {
            item: 4,
            body: "the sign reads دوما".into(),
        },
    );
    apply(
        &mut case,
        "amal",
        Edit::Note {
            item: 5,
            body: "to be undone".into(),
        },
    );
    changes::undo(&mut case, "amal").expect("undo the note");
    apply(&mut case, "rob", edit_tags(&[6], &["children"], &[]));
    apply(&mut case, "rob", status(&[6], "triaged"));
    changes::undo(&mut case, "rob").expect("undo the status");
    // A lead overturns one decision, confirms an escalation, sets a sample.
    review::set_sample(&mut case, "lee", 50).expect("sample");
    review::confirm(&mut case, "lee", 4).expect("confirm");
    apply(&mut case, "lee", edit_tags(&[1], &[], &["gov-forces"]));
    assignments::assign(&mut case, "lee", "amal", "week-48", &[10, 11, 12], "ids").expect("assign");
    assignments::assign(&mut case, "lee", "rob", "week-49", &[12], "ids").expect("reassign");
    views::save(&mut case, "amal", "douma", "douma").expect("view");
    views::save(&mut case, "amal", "douma", "douma type:image").expect("replace");
    views::save(&mut case, "lee", "gone", "homs").expect("view");
    views::delete(&mut case, "lee", "gone").expect("delete");
    case.write(|tx| {
        sources::set(
            tx,
            "ada",
            "medical-network",
            Some("cso"),
            Some("desk@example.org"),
            Some(&["consent-required".to_string()]),
        )
    })
    .expect("source");
    assert_eq!(
        claims::claim(&mut case, "amal", 20, claims::LEASE_SECS).expect("claim"),
        claims::Claim::Held
    );
    dir
}

#[test]
fn everything_done_through_triage_verifies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = busy_case(tmp.path());
    let (ok, problems) = verify(&case);
    assert!(ok, "{problems:#?}");
}

#[test]
fn an_imported_case_verifies_on_both_sides() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The login running the tests is the demo case's admin.
    let case = common::demo_case(tmp.path());
    for args in [
        &["tag", "T-000030", "--add", "graphic", "gov-forces"][..],
        &[
            "tag", "T-000031", "--add", "children", "--status", "triaged",
        ][..],
    ] {
        let out = triage(&case, args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let bag = tmp.path().join("bag");
    let out = triage(
        &case,
        &[
            "export",
            "--filter",
            "source:citizen",
            "--out",
            bag.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let other = tmp.path().join("other");
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("init")
        .arg(&other)
        .output()
        .expect("init");
    assert!(out.status.success(), "{}", text(&out));
    let out = triage(
        &other,
        &[
            "import",
            bag.to_str().expect("utf-8"),
            "--source",
            "partner",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    for c in [&case, &other] {
        let (ok, problems) = verify(c);
        assert!(ok, "{}: {problems:#?}", c.display());
    }
    let c = rusqlite::Connection::open(other.join("case.db")).expect("open");
    let tags: i64 = c
        .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tags, 3, "the imported tags are there, and verified");
}

#[test]
fn verify_names_each_decision_changed_with_sqlite3() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = busy_case(tmp.path());
    let db = case.join("case.db");
    sqlite3(
        &db,
        "INSERT INTO tags(item_id, term_id, kind, set_by, set_at)
             VALUES (12, 'gov-forces', 'party', 'amal', '2026-01-01T00:00:00Z');
         DELETE FROM tags WHERE item_id = 2 AND term_id = 'graphic';
         UPDATE items SET status = 'triaged', status_by = 'amal' WHERE id = 7;
         UPDATE users SET role = 'admin' WHERE login = 'amal';",
    );
    let (ok, problems) = verify(&case);
    assert!(!ok);
    let expect = [
        "PROBLEM T-000012: tag gov-forces is in the case but not in the log",
        "PROBLEM T-000002: tag graphic is in the log but not in the case",
        "PROBLEM T-000007: status is triaged (by amal), the log says untriaged",
        "PROBLEM user amal: role is admin, the log says reviewer",
    ];
    for line in expect {
        assert!(problems.iter().any(|p| p == line), "{line}\n{problems:#?}");
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
}

#[test]
fn verify_names_every_other_kind_of_decision_changed_behind_its_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = busy_case(tmp.path());
    let db = case.join("case.db");
    sqlite3(
        &db,
        "UPDATE tags SET set_by = 'lee' WHERE item_id = 3 AND term_id = 'gov-forces';
         UPDATE notes SET body = 'rewritten' WHERE item_id = 4;
         UPDATE notes SET retracted = 0 WHERE item_id = 5;
         UPDATE users SET disabled = 1 WHERE login = 'lee';
         INSERT INTO users(login, role, disabled, added_by, added_at)
             VALUES ('mallory', 'admin', 0, 'ada', '2026-01-01T00:00:00Z');
         UPDATE saved_views SET expr = 'homs' WHERE name = 'douma';
         UPDATE sources SET conditions = '[]' WHERE name = 'medical-network';
         DELETE FROM reviews WHERE item_id = 4;
         UPDATE assignments SET login = 'rob' WHERE item_id = 10;
         UPDATE case_info SET value = '0' WHERE key = 'review_sample_pct';
         UPDATE claims SET expires_at = expires_at + 86400 * 365;
         INSERT INTO claims(item_id, login, claimed_at, expires_at)
             VALUES (21, 'mallory', 'x', CAST(strftime('%s', 'now') AS INTEGER) + 60);
         DELETE FROM provenance WHERE item_id = 30;",
    );
    let (ok, problems) = verify(&case);
    assert!(!ok);
    let expect = [
        "PROBLEM T-000003: tag gov-forces was set by lee in the case, the log says amal",
        "PROBLEM T-000004: note 1 has a text other than the log's",
        "PROBLEM T-000005: note 2 is shown, the log says retracted",
        "PROBLEM user lee: is disabled, the log says active",
        "PROBLEM user mallory: is admin in the case but not in the log",
        "PROBLEM view douma: filter is \"homs\", the log says \"douma type:image\"",
        "PROBLEM source medical-network: conditions are [], the log says [consent-required]",
        "PROBLEM T-000004: review decision is in the log but not in the case",
        "PROBLEM T-000010: assigned to rob (week-48), the log says amal (week-48)",
        "PROBLEM review sample: is 0 %, the log says 50 %",
        "PROBLEM T-000021: claimed by mallory, who the log does not make an active member",
        "PROBLEM T-000030: the log has it received from citizen-journalists, the case does not",
    ];
    for line in expect {
        assert!(problems.iter().any(|p| p == line), "{line}\n{problems:#?}");
    }
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("PROBLEM T-000020: claimed by amal for another")),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), expect.len() + 1, "{problems:#?}");
}

/// A sender's decision shown in the case (an imported claim) must be one an import recorded.
/// The table is made here if this schema has none yet (imports keep claims in it).
#[test]
fn verify_names_an_imported_claim_that_no_import_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = busy_case(tmp.path());
    sqlite3(
        &case.join("case.db"),
        "CREATE TABLE IF NOT EXISTS imported_claims (
             id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, term_id TEXT NOT NULL,
             kind TEXT NOT NULL, claimed_by TEXT NOT NULL, claimed_at TEXT NOT NULL,
             sending_case TEXT NOT NULL, original_ref TEXT NOT NULL, batch_id INTEGER NOT NULL,
             imported_by TEXT NOT NULL, imported_at TEXT NOT NULL);
         INSERT INTO imported_claims(item_id, term_id, kind, claimed_by, claimed_at,
             sending_case, original_ref, batch_id, imported_by, imported_at)
         VALUES (9, 'gov-forces', 'party', 'karim', '2026-01-01T00:00:00Z', 'case-x',
             'T-000001', 1, 'ada', '2026-01-02T00:00:00Z');",
    );
    let (ok, problems) = verify(&case);
    assert!(!ok);
    assert_eq!(
        problems,
        ["PROBLEM T-000009: imported claim gov-forces by karim is in the case but not in the log"]
    );
}
