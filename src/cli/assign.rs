//! `triage assign --filter EXPR --to LOGIN [--batch NAME]`: a lead gives a reviewer a batch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::assignments;
use crate::store::query::{self, Selection, View};

pub fn run(case: Option<PathBuf>, filter: &str, to: &str, batch: Option<&str>) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let me = crate::identity::login_name()?;
    let compiled =
        query::compile_filter(filter, &tax).map_err(|e| anyhow!("filter {}", e.pointer(filter)))?;
    let sel = Selection::new(&View::All, &me, compiled);
    let ids = sel.ids(&case, |r| r.status == "untriaged")?;
    let batch = batch
        .map(str::to_string)
        .unwrap_or_else(|| format!("{to}-{}", &crate::clock::now()[..10]));
    let n = assignments::assign(&mut case, &me, to, &batch, &ids, filter)?;
    super::say!("assigned {n} untriaged items to {to} (batch {batch})");
    Ok(if n == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
