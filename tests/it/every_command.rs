//! Every subcommand `triage --help` lists (and every action of those with actions), run by a
//! reviewer on a case: each one is either refused, with the refusal recorded in the audit log,
//! or leaves a case that `verify` passes, where any change to the case's tables came with new
//! audit entries. A command added without a line here fails this test.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::common::output_text as text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use triage::store::users::{self, PeopleChange, Role};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

/// Tables whose rows are the case (everything but the log itself, leases, the pickers' recent
/// terms and the search index's internals, which are derived).
const TABLES: &[&str] = &[
    "items",
    "provenance",
    "batches",
    "ingest_problems",
    "tags",
    "notes",
    "changes",
    "sources",
    "fingerprints",
    "similar",
    "users",
    "assignments",
    "reviews",
    "saved_views",
    "case_info",
    "case_settings",
    "exposures",
    "limit_answers",
    "incidents",
    "incident_links",
    "imported_incidents",
];

fn run(args: &[&str], case: Option<&Path>) -> Output {
    let mut cmd = Command::new(BIN);
    if let Some(c) = case {
        cmd.arg("--case").arg(c);
    }
    let mut child = cmd
        .args(args)
        .env_remove("TRIAGE_CASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run triage");
    // `open` without a terminal must end by itself; never wait for ever.
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("triage {args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The command names a help text lists under "Commands:".
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

/// The case's rows, as one text per table, and the head of the log.
fn snapshot(case: &Path) -> (BTreeMap<&'static str, String>, i64) {
    let c = rusqlite::Connection::open(case.join("case.db")).expect("open");
    let mut tables = BTreeMap::new();
    for t in TABLES {
        let mut st = c
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1"))
            .expect("select");
        let n = st.column_count();
        let mut rows = st.query([]).expect("rows");
        let mut dump = String::new();
        while let Some(r) = rows.next().expect("row") {
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).expect("value");
                dump.push_str(&format!("{v:?}|"));
            }
            dump.push('\n');
        }
        tables.insert(*t, dump);
    }
    let head: i64 = c
        .query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))
        .expect("head");
    (tables, head)
}

/// Audit entries after `seq`: (event, actor).
fn events_after(case: &Path, seq: i64) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(case.join("case.db")).expect("open");
    let mut st = c
        .prepare("SELECT event, actor FROM audit WHERE seq > ?1 ORDER BY seq")
        .expect("select");
    st.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    case: PathBuf,
    bag: PathBuf,
}

/// A case made by "ada" with the demo material, "lee" a lead with a saved view, and the login
/// running the tests a reviewer; and a bag exported from another case, to import.
fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    let case = root.join("case");
    let mut c = crate::common::ada_case_with_demo_material(&case, &root.join("material"));
    let (_, tax_text, origin) =
        triage::taxonomy::Taxonomy::for_case_with_text(&case).expect("taxonomy");
    triage::store::record_taxonomy(&c, "ada", &tax_text, &origin).expect("taxonomy in use");
    let me = triage::identity::login_name().expect("login");
    users::change(&mut c, "ada", "lee", PeopleChange::Add(Role::Lead)).expect("lee");
    users::change(&mut c, "ada", &me, PeopleChange::Add(Role::Reviewer)).expect("me");
    triage::store::views::save(&mut c, "lee", "lees", "douma").expect("view");
    drop(c);

    // A bag, from a demo case of our own (there we are its admin).
    let demo = root.join("sender");
    let out = run(
        &["demo", "--no-open", "--dir", demo.to_str().expect("utf-8")],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let bag = root.join("bag");
    let out = run(
        &[
            "export",
            "--filter",
            "source:medical",
            "--out",
            bag.to_str().expect("utf-8"),
        ],
        Some(&demo.join("case")),
    );
    assert!(out.status.success(), "{}", text(&out));
    Setup {
        _tmp: tmp,
        root,
        case,
        bag,
    }
}

#[test]
fn every_subcommand_run_by_a_reviewer_is_refused_and_recorded_or_leaves_a_verified_case() {
    let s = setup();
    let me = triage::identity::login_name().expect("login");
    let p = |name: &str| s.root.join(name).to_str().expect("utf-8").to_string();
    let bag = s.bag.to_str().expect("utf-8").to_string();
    let material = p("material/civil-defence");
    let (new_case, demo_dir, seal, out_bag) = (p("mine"), p("demo"), p("seal.txt"), p("out-bag"));

    // What each command is run with; several runs where a command can do different things.
    let plan: Vec<(&str, Vec<Vec<&str>>)> = vec![
        ("init", vec![vec!["init", &new_case]]),
        ("info", vec![vec!["info"], vec!["info", "--json"]]),
        (
            "ingest",
            vec![vec!["ingest", "--source", "civil-defence", &material]],
        ),
        ("list", vec![vec!["list"], vec!["list", "--json"]]),
        ("show", vec![vec!["show", "T-000001", "--json"]]),
        (
            "tag",
            vec![
                vec!["tag", "T-000012", "--add", "graphic", "gov-forces"],
                vec![
                    "tag",
                    "T-000012",
                    "--status",
                    "escalated",
                    "--reason",
                    "check",
                ],
                vec!["tag", "T-000012", "--remove", "graphic"],
            ],
        ),
        (
            "incident add",
            vec![vec![
                "incident",
                "add",
                "Shelling",
                "--date",
                "2013-08-21",
                "--at",
                "33.57,36.40,3000",
            ]],
        ),
        (
            "incident set",
            vec![vec!["incident", "set", "I-0001", "--status", "closed"]],
        ),
        ("incident list", vec![vec!["incident", "list", "--json"]]),
        ("incident show", vec![vec!["incident", "show", "I-0001"]]),
        ("incident claims", vec![vec!["incident", "claims"]]),
        (
            "incident merge",
            vec![vec!["incident", "merge", "1", "--new"]],
        ),
        (
            "link",
            vec![
                vec!["link", "T-000012", "I-0001"],
                vec!["link", "T-000013", "I-0001"],
                vec!["link", "T-000013", "I-0001", "--remove"],
            ],
        ),
        ("terms", vec![vec!["terms"]]),
        ("log", vec![vec!["log"], vec!["log", "T-000012", "--json"]]),
        ("seal", vec![vec!["seal", "--out", &seal]]),
        ("verify", vec![vec!["verify", "--quick"]]),
        (
            "source add",
            vec![vec![
                "source",
                "add",
                "x",
                "--conditions",
                "share-with-courts",
            ]],
        ),
        (
            "source set",
            vec![vec!["source", "set", "medical-network", "--conditions"]],
        ),
        ("source list", vec![vec!["source", "list"]]),
        (
            "user add",
            vec![vec!["user", "add", "eve", "--role", "admin"]],
        ),
        ("user list", vec![vec!["user", "list"]]),
        (
            "user set",
            vec![vec!["user", "set", &me, "--role", "admin"]],
        ),
        ("user disable", vec![vec!["user", "disable", "lee"]]),
        ("user enable", vec![vec!["user", "enable", "lee"]]),
        (
            "assign",
            vec![vec![
                "assign", "--filter", "douma", "--to", &me, "--batch", "b",
            ]],
        ),
        ("review sample", vec![vec!["review", "sample", "100"]]),
        (
            "review confirm",
            vec![vec!["review", "confirm", "T-000012"]],
        ),
        (
            "stats",
            vec![
                vec!["stats"],
                vec!["stats", "--wellbeing", "--json"],
                vec!["stats", "--wellbeing", "--reviewer", "lee"],
            ],
        ),
        (
            "settings list",
            vec![vec!["settings", "list"], vec!["settings", "list", "--json"]],
        ),
        (
            "settings set",
            vec![vec!["settings", "set", "graphic-per-day", "5"]],
        ),
        (
            "export",
            vec![vec!["export", "--filter", "douma", "--out", &out_bag]],
        ),
        ("import", vec![vec!["import", &bag, "--source", "partner"]]),
        ("dups", vec![vec!["dups"]]),
        ("open", vec![vec!["open"]]),
        (
            "view save",
            vec![
                vec!["view", "save", "mine", "aleppo"],
                vec!["view", "save", "lees", "homs"],
            ],
        ),
        ("view list", vec![vec!["view", "list"]]),
        (
            "view delete",
            vec![
                vec!["view", "delete", "lees"],
                vec!["view", "delete", "mine"],
            ],
        ),
        ("reindex", vec![vec!["reindex"]]),
        ("demo", vec![vec!["demo", "--no-open", "--dir", &demo_dir]]),
        ("doctor", vec![vec!["doctor"], vec!["doctor", "--json"]]),
        // fish's script (37 KB) fits the pipe's buffer: run() reads output only at the end.
        ("completions", vec![vec!["completions", "fish"]]),
        ("man", vec![vec!["man"]]),
    ];

    // Every command and action the binary offers has a line in the plan.
    let help = text(&run(&["--help"], None));
    let mut offered = Vec::new();
    for cmd in commands_in(&help) {
        let actions = commands_in(&text(&run(&[&cmd, "--help"], None)));
        if actions.is_empty() {
            offered.push(cmd);
        } else {
            offered.extend(actions.into_iter().map(|a| format!("{cmd} {a}")));
        }
    }
    assert!(offered.len() > 20, "{offered:?}");
    for name in &offered {
        assert!(
            plan.iter().any(|(n, _)| n == name),
            "`triage {name}` is not covered by this test"
        );
    }

    let mut refused = Vec::new();
    for (name, runs) in &plan {
        for args in runs {
            let (before, head) = snapshot(&s.case);
            let out = run(args, Some(&s.case));
            let (after, _) = snapshot(&s.case);
            let new = events_after(&s.case, head);
            let denied = new.iter().any(|(e, a)| e == "denied" && *a == me);
            if !out.status.success() && denied {
                refused.push(name.to_string());
                // A refusal changes nothing but the log.
                assert_eq!(before, after, "{args:?} was refused but changed the case");
                continue;
            }
            let changed: Vec<&str> = TABLES
                .iter()
                .copied()
                .filter(|t| before[t] != after[t])
                .collect();
            let recorded = new.iter().any(|(e, _)| e != "denied" && e != "verify");
            assert!(
                changed.is_empty() || recorded,
                "{args:?} changed {changed:?} without an audit entry\n{}",
                text(&out)
            );
            let verified = run(&["verify", "--quick"], Some(&s.case));
            assert!(
                verified.status.success(),
                "after {args:?} ({}), verify fails:\n{}",
                text(&out),
                text(&verified)
            );
        }
    }
    // The commands that write for leads and admins were all refused to a reviewer.
    for name in [
        "ingest",
        "source add",
        "source set",
        "user add",
        "user set",
        "user disable",
        "user enable",
        "assign",
        "review sample",
        "review confirm",
        "export",
        "import",
        "dups",
        "reindex",
        "view save",
        "view delete",
        "settings set",
    ] {
        assert!(
            refused.iter().any(|r| r == name),
            "{name} was not refused: {refused:?}"
        );
    }
    // A reviewer's own work went in, and verifies.
    let c = rusqlite::Connection::open(s.case.join("case.db")).expect("open");
    let (status, tags): (String, i64) = c
        .query_row(
            "SELECT status, (SELECT count(*) FROM tags WHERE item_id = 12) FROM items WHERE id = 12",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("item 12");
    assert_eq!((status.as_str(), tags), ("escalated", 1));
}
