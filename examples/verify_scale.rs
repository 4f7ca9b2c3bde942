//! What replaying the log costs `triage verify` on a large case (run by hand; see
//! benches/README.md).
//!
//!   verify_scale make DIR ITEMS   a case of ITEMS items recorded as ingest does (audit entries,
//!                                 no originals), 1 in 20 tagged with a crime and a flag and 1 in
//!                                 10 triaged by a reviewer, through the store in changes of
//!                                 1,000 items
//!   verify_scale time DIR         the log pass alone (chain only, as before the replay) and the
//!                                 chain with the replay and its comparison with the tables
//!
//! Objects are left out: re-hashing them is unchanged and measured by benches/verify.sh.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
#![allow(clippy::disallowed_macros)] // a measurement printed, not evidence text

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use triage::store::audit::Chain;
use triage::store::changes::{self, Edit};
use triage::store::ingest_rows::{self, Described, ReceivedFile};
use triage::store::users::{self, PeopleChange, Role};
use triage::store::{verify, Case};
use triage::taxonomy::Taxonomy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["make", dir, items] => items
            .parse()
            .map_err(|_| format!("{items:?} is not a number"))
            .and_then(|n| make(Path::new(dir), n)),
        ["time", dir] => time(Path::new(dir)),
        _ => Err("usage: verify_scale make DIR ITEMS | time DIR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("verify_scale: {e}");
            ExitCode::from(1)
        }
    }
}

fn make(dir: &Path, items: i64) -> Result<(), String> {
    let e = |e: triage::store::CaseError| e.to_string();
    let mut case = Case::init(dir, "ada").map_err(e)?;
    users::change(&mut case, "ada", "amal", PeopleChange::Add(Role::Reviewer)).map_err(e)?;
    let now = triage::clock::now();
    let started = Instant::now();
    let mut next = 0i64;
    while next < items {
        let end = (next + 10_000).min(items);
        case.write(|tx| {
            let mut chain = Chain::load(tx)?;
            let batch = ingest_rows::begin_batch(tx, &mut chain, "bench", "ada", &[])?;
            for i in next..end {
                let sha = format!("{i:064x}");
                let name = format!("IMG_{i:07}.jpg");
                let f = ReceivedFile {
                    item: Described {
                        sha256: &sha,
                        size: 1000,
                        mime: "image/jpeg",
                        kind: "image",
                        ext_mismatch: None,
                        metadata_json: "{}",
                        captured_at: None,
                        name: &name,
                    },
                    source: "bench",
                    path: name.as_bytes(),
                    mtime: None,
                    received_at: &now,
                    member: None,
                };
                ingest_rows::record_file(tx, &mut chain, batch, "ada", &f)?;
            }
            Ok(())
        })
        .map_err(e)?;
        next = end;
    }
    eprintln!(
        "{items} items recorded in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let tax = Taxonomy::default_set();
    let ids: Vec<i64> = (1..=items).collect();
    for chunk in ids.chunks(20_000) {
        let tagged: Vec<i64> = chunk.iter().copied().filter(|i| i % 20 == 0).collect();
        let triaged: Vec<i64> = chunk.iter().copied().filter(|i| i % 10 == 3).collect();
        let edits = [
            Edit::Tags {
                items: tagged,
                add: vec!["cah-torture".into(), "graphic".into()],
                remove: vec![],
            },
            Edit::Status {
                items: triaged,
                to: "triaged".into(),
                reason: None,
            },
        ];
        for edit in &edits {
            changes::apply(&mut case, &tax, "amal", edit).map_err(|e| e.to_string())?;
        }
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn time(dir: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join(triage::store::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let (chain, _) = verify::check_chain(&conn, None).map_err(|e| e.to_string())?;
    let chain_only = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (_, _, differences) =
        verify::check_chain_and_decisions(&conn).map_err(|e| e.to_string())?;
    let with_replay = t.elapsed().as_secs_f64();
    println!(
        "{} entries: chain only {chain_only:.2} s, chain + replay + comparison {with_replay:.2} s, {} differences",
        chain.entries,
        differences.len()
    );
    Ok(())
}
