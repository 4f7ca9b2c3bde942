//! Search benchmark helpers (run by benches/search.sh), kept out of the product binary: one of
//! them writes rows without audit entries, which the product must never do.
//!
//!   search_bench grow --case DIR --to N      clone the case's items (fresh fake hashes, their
//!                                            provenance, synthetic tags and statuses) until it
//!                                            holds N, then index the clones. Nothing is audited:
//!                                            a grown case is for measuring only and will not verify.
//!   search_bench search --case DIR [--repeat N] [--page N] EXPR...
//!                                            time each filter through the console's code path
//!                                            (compile, first page of the queue, count).
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
#![allow(clippy::disallowed_macros)] // a benchmark prints its own table

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand};

use triage::store::query::{self, Selection, View};
use triage::store::search_index;
use triage::taxonomy::TermKind;

/// The case's database on a connection of the test's own, as a checker or an intruder opens it
/// (the case's own connection is private to the store).
fn sql(case: &triage::store::Case) -> rusqlite::Connection {
    let conn =
        rusqlite::Connection::open(case.root.join(triage::store::DB_FILE)).expect("open case.db");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    conn
}

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Clone items until the case holds this many (no audit).
    Grow {
        #[arg(long, env = "TRIAGE_CASE")]
        case: PathBuf,
        #[arg(long)]
        to: u64,
    },
    /// Time filter expressions as the console runs them (first page, count).
    Search {
        #[arg(long, env = "TRIAGE_CASE")]
        case: PathBuf,
        #[arg(long, default_value_t = 20)]
        repeat: usize,
        #[arg(long, default_value_t = 50)]
        page: usize,
        #[arg(required = true)]
        exprs: Vec<String>,
    },
}

fn main() -> ExitCode {
    let result = match Args::parse().command {
        Cmd::Grow { case, to } => grow(Some(case), to),
        Cmd::Search {
            case,
            repeat,
            page,
            exprs,
        } => run(Some(case), exprs, repeat, page),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("search_bench: {e:#}");
            ExitCode::from(1)
        }
    }
}

pub fn grow(case: Option<PathBuf>, to: u64) -> Result<ExitCode> {
    let mut case = triage::cli::open_as_member(case)?;
    let tax = triage::cli::taxonomy(&case)?;
    let base: i64 =
        sql(&case).query_row("SELECT coalesce(max(id), 0) FROM items", [], |r| r.get(0))?;
    let have: i64 = sql(&case).query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
    if base == 0 {
        return Err(anyhow!("the case is empty; ingest a corpus first"));
    }
    let crimes: Vec<String> = tax.of_kind(TermKind::Crime).map(|t| t.id.clone()).collect();
    let parties: Vec<String> = tax.of_kind(TermKind::Party).map(|t| t.id.clone()).collect();
    let started = Instant::now();
    let mut total = have as u64;
    let mut copy = 0i64;
    let first_clone = base + 1;
    while total < to {
        copy += 1;
        let offset = base * copy;
        let n = (to - total).min(have as u64) as i64;
        case.write(|tx| {
            tx.execute(
                "INSERT INTO items(id, sha256, size, mime, kind, ext_mismatch, metadata,
                                   captured_at, name, first_source, status, created_at)
                 SELECT id + ?1, lower(hex(randomblob(32))), size, mime, kind, ext_mismatch,
                        metadata, captured_at, name, first_source, status, created_at
                   FROM items WHERE id <= ?2 ORDER BY id LIMIT ?3",
                (offset, base, n),
            )?;
            tx.execute(
                "INSERT INTO provenance(item_id, source, path, size, mtime, received_at,
                                        received_by, batch_id)
                 SELECT p.item_id + ?1, p.source, p.path, p.size, p.mtime, p.received_at,
                        p.received_by, p.batch_id
                   FROM provenance p JOIN items i ON i.id = p.item_id + ?1
                  WHERE p.item_id <= ?2",
                [offset, base],
            )?;
            Ok(())
        })?;
        total += n as u64;
        eprintln!(
            "cloned {total} items ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    // Reviewers' work, so that crime:, party:, status: and by: have something to find:
    // one item in 20 tagged with a crime, one in 50 with a party, one in 10 triaged.
    case.write(|tx| {
        tx.execute(
            "UPDATE items SET status = 'triaged', status_by = 'bench', status_at = created_at
              WHERE id % 10 = 3 AND status = 'untriaged'",
            [],
        )?;
        for (kind, terms, every) in [("crime", &crimes, 20), ("party", &parties, 50)] {
            for (k, term) in terms.iter().enumerate() {
                tx.execute(
                    &format!(
                        "INSERT OR IGNORE INTO tags(item_id, term_id, kind, set_by, set_at)
                         SELECT id, ?1, '{kind}', 'bench', created_at FROM items
                          WHERE id % {every} = 0 AND (id / {every}) % ?2 = ?3"
                    ),
                    (term, terms.len() as i64, k as i64),
                )?;
            }
        }
        Ok(())
    })?;
    eprintln!("indexing the clones");
    case.write(|tx| search_index::index_from(tx, first_clone))?;
    search_index::update_statistics(&case)?;
    eprintln!(
        "case holds {total} items ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(
    case: Option<PathBuf>,
    exprs: Vec<String>,
    repeat: usize,
    page: usize,
) -> Result<ExitCode> {
    let case = triage::cli::open_as_member(case)?;
    let tax = triage::cli::taxonomy(&case)?;
    let me = triage::identity::login_name()?;
    let items: i64 = sql(&case).query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
    let (fts, geo) = search_index::sizes(&case)?;
    let db = std::fs::metadata(case.root.join(triage::store::DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "items {items}  database {:.1} MB  search index {:.1} MB  item_geo {:.1} MB",
        mb(db),
        mb(fts),
        mb(geo)
    );
    println!(
        "{:<44} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "query", "matches", "page p50", "page p95", "count p50", "count p95"
    );
    let (mut all_page, mut all_count) = (Vec::new(), Vec::new());
    for expr in &exprs {
        let (mut pages, mut counts) = (Vec::new(), Vec::new());
        let mut matches = 0;
        for _ in 0..repeat.max(1) {
            let t = Instant::now();
            let compiled = query::compile_filter(expr, &tax)
                .map_err(|e| anyhow!("filter {}", e.pointer(expr)))?;
            let sel = Selection::new(&View::All, &me, compiled);
            let rows = sel.after(&case, None, page)?;
            pages.push(t.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(rows);
            let t = Instant::now();
            matches = sel.count(&case)?;
            counts.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{:<44} {:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms",
            triage::text::sanitize(expr),
            matches,
            pct(&mut pages, 50.0),
            pct(&mut pages, 95.0),
            pct(&mut counts, 50.0),
            pct(&mut counts, 95.0)
        );
        all_page.extend(pages);
        all_count.extend(counts);
    }
    println!(
        "{:<44} {:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms",
        "all queries",
        "",
        pct(&mut all_page, 50.0),
        pct(&mut all_page, 95.0),
        pct(&mut all_count, 50.0),
        pct(&mut all_count, 95.0)
    );
    Ok(ExitCode::SUCCESS)
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

/// The `p`th percentile (nearest rank).
fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
