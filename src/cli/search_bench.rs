//! Hidden benchmark commands for search (see `benches/search.sh`):
//! - `triage bench-grow --to N` clones the case's items (with fresh fake hashes, their
//!   provenance, and synthetic tags and statuses) until it holds N items, then indexes the
//!   clones. No audit entries are written for the clones: a grown case is for measuring only
//!   and will not verify.
//! - `triage search-bench EXPR...` times each expression through the console's own code path
//!   (compile the filter, first page of the queue, count for the status bar).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Result};

use crate::store::query::{self, Selection, View};
use crate::store::search_index;
use crate::taxonomy::TermKind;

pub fn grow(case: Option<PathBuf>, to: u64) -> Result<ExitCode> {
    let mut case = super::open_case(case)?;
    let tax = super::taxonomy(&case)?;
    let base: i64 = case
        .conn
        .query_row("SELECT coalesce(max(id), 0) FROM items", [], |r| r.get(0))?;
    let have: i64 = case
        .conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
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
    search_index::update_statistics(&case.conn)?;
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
    let case = super::open_case(case)?;
    let tax = super::taxonomy(&case)?;
    let me = crate::identity::login_name();
    let items: i64 = case
        .conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
    let (fts, geo) = search_index::sizes(&case.conn)?;
    let db = std::fs::metadata(case.root.join(crate::store::DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    super::say!(
        "items {items}  database {:.1} MB  search index {:.1} MB  item_geo {:.1} MB",
        mb(db),
        mb(fts),
        mb(geo)
    );
    super::say!(
        "{:<44} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "query",
        "matches",
        "page p50",
        "page p95",
        "count p50",
        "count p95"
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
            let rows = sel.after(&case.conn, None, page)?;
            pages.push(t.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(rows);
            let t = Instant::now();
            matches = sel.count(&case.conn)?;
            counts.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        super::say!(
            "{:<44} {:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms",
            crate::text::sanitize(expr),
            matches,
            pct(&mut pages, 50.0),
            pct(&mut pages, 95.0),
            pct(&mut counts, 50.0),
            pct(&mut counts, 95.0)
        );
        all_page.extend(pages);
        all_count.extend(counts);
    }
    super::say!(
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

pub fn reindex(case: Option<PathBuf>) -> Result<ExitCode> {
    let mut case = super::open_case(case)?;
    let started = Instant::now();
    case.write(|tx| search_index::rebuild(tx))?;
    let (fts, geo) = search_index::sizes(&case.conn)?;
    super::say!(
        "search index rebuilt in {:.1} s: {:.1} MB, positions {:.1} MB",
        started.elapsed().as_secs_f64(),
        mb(fts),
        mb(geo)
    );
    Ok(ExitCode::SUCCESS)
}
