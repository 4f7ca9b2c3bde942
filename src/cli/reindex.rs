//! `triage reindex`: rebuild the search index (full text and GPS positions) from the items.
//! The index is derived data, but rebuilding it writes the whole case: a lead's task.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::store::search_index;

pub fn run(case: Option<PathBuf>) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    crate::store::users::authorize(&case, &me, crate::store::users::Right::Maintain, "reindex")?;
    let started = Instant::now();
    case.write(|tx| search_index::rebuild(tx))?;
    let (fts, geo) = search_index::sizes(&case)?;
    super::say!(
        "search index rebuilt in {:.1} s: {:.1} MB, positions {:.1} MB",
        started.elapsed().as_secs_f64(),
        mb(fts),
        mb(geo)
    );
    Ok(ExitCode::SUCCESS)
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}
