//! Load test driver (run by benches/load.sh): reviewers tagging one case through the store.
//!
//!   load setup DIR ITEMS REVIEWERS   a case of ITEMS synthetic untriaged items (or, with
//!                                    ITEMS = 0, an existing case at DIR) and reviewers r1..rN
//!   load review DIR LOGIN SECONDS OUT  claim next → tag → mark triaged, until SECONDS pass;
//!                                    each commit's latency (µs) is written to OUT
//!   load check DIR                   the invariants, as one JSON line; exit 1 if one fails
//!
//! Items are synthetic rows (the load is on the database, not on reading originals).
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// A benchmark tool, not the product: its output is its own figures, no evidence text.
#![allow(clippy::disallowed_macros)]

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use triage::store::changes::{self, Edit};
use triage::store::claims;
use triage::store::users::{self, PeopleChange, Role};
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["setup", dir, items, reviewers] => setup(Path::new(dir), items, reviewers),
        ["review", dir, login, secs, out] => review(Path::new(dir), login, secs, Path::new(out)),
        ["check", dir] => check(Path::new(dir)),
        _ => Err(
            "usage: load setup DIR ITEMS REVIEWERS | review DIR LOGIN SECONDS OUT | check DIR"
                .into(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::from(1)
        }
    }
}

type R = Result<ExitCode, String>;

fn num(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("{s:?} is not a number"))
}

fn setup(dir: &Path, items: &str, reviewers: &str) -> R {
    let (items, reviewers) = (num(items)?, num(reviewers)?);
    let admin = triage::identity::login_name().map_err(|e| e.to_string())?;
    let mut case = if items == 0 {
        Case::open(dir).map_err(|e| e.to_string())?
    } else {
        let mut case = Case::init(dir, &admin).map_err(|e| e.to_string())?;
        let now = triage::clock::now();
        case.write(|tx| {
            let mut st = tx.prepare(
                "INSERT INTO items(sha256, size, mime, kind, metadata, name, first_source, created_at)
                 VALUES (?1, 1000, 'image/jpeg', 'image', '{}', ?2, 'bench', ?3)",
            )?;
            for i in 0..items {
                st.execute((format!("{i:064x}"), format!("IMG_{i:06}.jpg"), &now))?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        case
    };
    for n in 1..=reviewers {
        let login = format!("r{n}");
        if users::get(&case, &login)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            users::change(&mut case, &admin, &login, PeopleChange::Add(Role::Reviewer))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn review(dir: &Path, login: &str, secs: &str, out: &Path) -> R {
    let secs = num(secs)?;
    let tax = Taxonomy::default_set();
    let mut case = Case::open(dir).map_err(|e| e.to_string())?;
    let mut lat = std::io::BufWriter::new(
        std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?,
    );
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut items, mut changes_made, mut errors, mut after) = (0u64, 0u64, 0u64, 0i64);
    let terms = ["syr-chemical-weapons", "graphic"];
    while Instant::now() < deadline {
        let t = Instant::now();
        let next = match claims::claim_next(&mut case, login, after, claims::LEASE_SECS) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("{login}: claim: {e}");
                errors += 1;
                continue;
            }
        };
        let _ = writeln!(lat, "claim {}", t.elapsed().as_micros());
        let Some(item) = next else { break };
        after = item;
        let edits = [
            Edit::Tags {
                items: vec![item],
                add: vec![terms[(item % 2) as usize].to_string()],
                remove: vec![],
            },
            Edit::Status {
                items: vec![item],
                to: "triaged".into(),
                reason: None,
            },
        ];
        for edit in &edits {
            let t = Instant::now();
            match changes::apply(&mut case, &tax, login, edit) {
                Ok(a) if a.change_id.is_some() => {
                    changes_made += 1;
                    let _ = writeln!(lat, "commit {}", t.elapsed().as_micros());
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("{login}: {}: {e}", triage::store::reference(item));
                    errors += 1;
                }
            }
        }
        items += 1;
    }
    lat.flush().map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({ "login": login, "items": items, "changes": changes_made, "errors": errors })
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(dir: &Path) -> R {
    let case = Case::open(dir).map_err(|e| e.to_string())?;
    let conn = sql(&case);
    let q = |query: &str| -> Result<i64, String> {
        conn.query_row(query, [], |r| r.get(0))
            .map_err(|e| e.to_string())
    };
    let changes = q("SELECT count(*) FROM changes WHERE actor GLOB 'r[0-9]*'")?;
    let change_events =
        q("SELECT count(*) FROM audit WHERE change_id IS NOT NULL AND actor GLOB 'r[0-9]*'")?;
    let ops = q(
        "SELECT coalesce(sum(json_array_length(ops)), 0) FROM changes WHERE actor GLOB 'r[0-9]*'",
    )?;
    let changes_without_audit = q("SELECT count(*) FROM changes WHERE actor GLOB 'r[0-9]*'
         AND id NOT IN (SELECT change_id FROM audit WHERE change_id IS NOT NULL)")?;
    let triaged = q("SELECT count(*) FROM items WHERE status = 'triaged'")?;
    let two_reviewers = q(
        "SELECT count(*) FROM (SELECT item_id FROM audit WHERE change_id IS NOT NULL
         AND actor GLOB 'r[0-9]*' GROUP BY item_id HAVING count(DISTINCT actor) > 1)",
    )?;
    let denied = q("SELECT count(*) FROM audit WHERE event = 'denied'")?;
    let (_, problems) =
        triage::store::verify::check_chain(&case, None).map_err(|e| e.to_string())?;
    let ok = changes_without_audit == 0
        && change_events == ops
        && two_reviewers == 0
        && denied == 0
        && problems.is_empty();
    println!(
        "{}",
        serde_json::json!({
            "ok": ok, "changes": changes, "audit_rows_for_changes": change_events, "ops": ops,
            "changes_without_audit": changes_without_audit, "items_triaged": triaged,
            "items_changed_by_two_reviewers": two_reviewers, "denied": denied,
            "chain_problems": problems.len(),
        })
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
