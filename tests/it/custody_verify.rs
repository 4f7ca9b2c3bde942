//! Chain of custody: verify catches an altered object, an altered or rewritten audit log and a
//! missing object; an untouched case verifies. The audit row is altered with the real sqlite3
//! tool, as someone with access to the database file would.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::common;
use common::demo_case;
use common::triage;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

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

type AuditRow = (
    i64,
    String,
    String,
    Option<i64>,
    String,
    String,
    Option<i64>,
);

fn object_of(case: &Path, reference: &str) -> PathBuf {
    let out = triage(case, &["show", reference, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let sha = v["sha256"].as_str().expect("sha").to_string();
    case.join("objects").join(&sha[..2]).join(&sha)
}

#[test]
fn untouched_case_verifies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let out = triage(&case, &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["items"], 38);
    // The verification is recorded.
    let log = stdout(&triage(&case, &["log"]));
    assert!(log.contains(" verify "), "{log}");
}

#[test]
fn one_changed_byte_in_an_object_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let obj = object_of(&case, "T-000005");
    let mut perms = std::fs::metadata(&obj).expect("meta").permissions();
    assert!(perms.readonly(), "objects are stored read-only");
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).expect("chmod");
    let mut bytes = std::fs::read(&obj).expect("read");
    bytes[100] ^= 0x01;
    std::fs::write(&obj, bytes).expect("write");
    let out = triage(&case, &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("PROBLEM T-000005"),
        "{}",
        stdout(&out)
    );
    // --quick checks sizes only: the same size passes.
    assert_eq!(triage(&case, &["verify", "--quick"]).status.code(), Some(0));
}

#[test]
fn a_deleted_object_is_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    std::fs::remove_file(object_of(&case, "T-000012")).expect("rm");
    let out = triage(&case, &["verify", "--quick"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("PROBLEM T-000012") && text.contains("missing"),
        "{text}"
    );
}

#[test]
fn the_audit_log_refuses_changes_and_an_altered_row_is_found() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let db = case.join("case.db");
    // Through SQLite the triggers refuse it.
    let c = rusqlite::Connection::open(&db).expect("open");
    assert!(c
        .execute("UPDATE audit SET actor = 'x' WHERE seq = 3", [])
        .is_err());
    assert!(c.execute("DELETE FROM audit WHERE seq = 3", []).is_err());
    drop(c);
    sqlite3(
        &db,
        "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 7;",
    );
    let out = triage(&case, &["verify", "--quick", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["chain"]["first_broken"], 7, "{v}");
}

#[test]
fn a_seal_detects_a_rewritten_history() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let seal = tmp.path().join("seal.txt");
    let out = triage(&case, &["seal", "--out", seal.to_str().expect("utf8")]);
    assert!(out.status.success());
    // Later entries do not disturb the seal.
    triage(&case, &["tag", "T-000001", "--add", "graphic"]);
    let args = [
        "verify",
        "--quick",
        "--against",
        seal.to_str().expect("utf8"),
    ];
    assert_eq!(triage(&case, &args).status.code(), Some(0));
    // Rewrite entry 10 and recompute every hash after it: the chain is consistent again,
    // only the seal can tell.
    let db = case.join("case.db");
    sqlite3(&db, "DROP TRIGGER audit_no_update;");
    let c = rusqlite::Connection::open(&db).expect("open");
    c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 10", [])
        .expect("update");
    let rows: Vec<AuditRow> = c
        .prepare(
            "SELECT seq, at, actor, item_id, event, details, change_id FROM audit ORDER BY seq",
        )
        .expect("prep")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut prev = triage::store::audit::GENESIS.to_string();
    for (seq, at, actor, item, event, details, change) in rows {
        let h = triage::store::audit::entry_hash(
            &prev, seq, &at, &actor, item, &event, &details, change,
        );
        c.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            (&prev, &h, seq),
        )
        .expect("rehash");
        prev = h;
    }
    drop(c);
    assert_eq!(triage(&case, &["verify", "--quick"]).status.code(), Some(0));
    let out = triage(&case, &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("rewritten"), "{}", stdout(&out));
}

#[test]
fn sources_carry_conditions_and_changes_are_audited() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    let out = triage(
        &case,
        &[
            "source",
            "set",
            "medical-network",
            "--kind",
            "cso",
            "--conditions",
            "share-with-courts",
            "identity-confidential",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = triage(
        &case,
        &["source", "set", "medical-network", "--conditions", "bogus"],
    );
    assert_eq!(out.status.code(), Some(1));
    let list = stdout(&triage(&case, &["source", "list"]));
    assert!(
        list.contains("share-with-courts, identity-confidential")
            || list.contains("identity-confidential, share-with-courts"),
        "{list}"
    );
    let log = stdout(&triage(&case, &["log"]));
    assert!(log.contains("source.set"), "{log}");
}

#[test]
fn a_changed_taxonomy_is_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = demo_case(tmp.path());
    assert!(triage(&case, &["list"]).status.success());
    let own = triage::taxonomy::DEFAULT.replacen("Graphic violence", "Graphic violence (case)", 1);
    std::fs::write(case.join("taxonomy.toml"), own).expect("write");
    assert!(triage(&case, &["list"]).status.success());
    assert!(triage(&case, &["list"]).status.success());
    let log = stdout(&triage(&case, &["log", "--json"]));
    let events: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["event"].as_str().map(str::to_string))
        .filter(|e| e.starts_with("taxonomy."))
        .collect();
    assert_eq!(events, ["taxonomy.use", "taxonomy.change"], "{log}");
}
