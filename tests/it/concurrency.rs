//! Two reviewers at the same moment: every change of both is committed and recorded, in one
//! unbroken chain, and "database is locked" never surfaces.

use crate::common;
use common::demo_case;

use triage::store::changes::{self, Edit};
use triage::store::users::{self, PeopleChange, Role};
use triage::store::{verify, Case};
use triage::taxonomy::Taxonomy;

#[test]
fn two_reviewers_changing_one_item_are_both_recorded_in_order() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_case(tmp.path());
    // The demo's creator (this login) is its admin; the two reviewers are made members.
    let mut admin = Case::open(&dir).expect("open");
    let me = triage::identity::login_name().expect("login");
    for who in ["alice", "bob"] {
        users::change(&mut admin, &me, who, PeopleChange::Add(Role::Reviewer)).expect("add");
    }
    drop(admin);
    let before: i64 = common::sql(&Case::open(&dir).expect("open"))
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .expect("count");
    const ROUNDS: usize = 60;
    let handles: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|who| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let tax = Taxonomy::default_set();
                let mut case = Case::open(&dir).expect("open");
                let flag = if who == "alice" {
                    "graphic"
                } else {
                    "children"
                };
                for i in 0..ROUNDS {
                    let edit = if i % 2 == 0 {
                        Edit::Tags {
                            items: vec![1],
                            add: vec![flag.into()],
                            remove: vec![],
                        }
                    } else {
                        Edit::Tags {
                            items: vec![1],
                            add: vec![],
                            remove: vec![flag.into()],
                        }
                    };
                    let applied = changes::apply(&mut case, &tax, who, &edit)
                        .unwrap_or_else(|e| panic!("{who} round {i}: {e}"));
                    assert!(
                        applied.change_id.is_some(),
                        "{who} round {i} changed nothing"
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("reviewer thread");
    }
    let case = Case::open(&dir).expect("open");
    let after: i64 = common::sql(&case)
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        after - before,
        2 * ROUNDS as i64,
        "one audit row per change"
    );
    for who in ["alice", "bob"] {
        let n: i64 = common::sql(&case)
            .query_row(
                "SELECT count(*) FROM audit WHERE actor = ?1 AND item_id = 1",
                [who],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, ROUNDS as i64, "{who}'s changes");
    }
    let (report, problems) = verify::check_chain(&case, None).expect("chain");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.first_broken, None);
    // Both reviewers ended on "removed": the item carries neither flag.
    let tags: i64 = common::sql(&case)
        .query_row("SELECT count(*) FROM tags WHERE item_id = 1", [], |r| {
            r.get(0)
        })
        .expect("tags");
    assert_eq!(tags, 0);
}
