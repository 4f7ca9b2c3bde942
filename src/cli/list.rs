use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::query::{self, Selection, View};

pub fn run(case: Option<PathBuf>, json: bool, filter: Option<&str>) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let me = crate::identity::login_name()?;
    let compiled = match filter {
        Some(f) => {
            query::compile_filter(f, &tax).map_err(|e| anyhow!("filter {}", e.pointer(f)))?
        }
        None => None,
    };
    let sel = Selection::new(&View::All, &me, compiled);
    let mut out = super::out::Lines::new();
    let mut after = None;
    loop {
        // Keyset pages keep memory flat on a case of any size.
        let rows = sel.after(&case, after, 500)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for row in &rows {
            let line = if json {
                let detail = crate::store::items::detail(&case, row.id)?
                    .ok_or_else(|| anyhow!("item {} vanished", row.id))?;
                super::out::escape_json(&serde_json::to_string(&super::json::item(
                    &detail, &tax, false,
                ))?)
            } else {
                format!(
                    "{}  {}  {:<6} {:>10}  {:<10} {}  {}",
                    crate::store::reference(row.id),
                    &row.sha256[..12],
                    row.kind,
                    row.size,
                    row.status,
                    crate::text::sanitize(&row.first_source),
                    crate::text::sanitize(&row.name)
                )
            };
            out.safe_line(&line);
        }
        if super::out::closed() {
            break; // the reader went away (`| head`): no use reading further pages
        }
    }
    out.finish();
    Ok(ExitCode::SUCCESS)
}
