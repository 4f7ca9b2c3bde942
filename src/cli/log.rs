use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::{audit, items};
use crate::text::sanitize;

pub fn run(case: Option<PathBuf>, item: Option<&str>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let entries = match item {
        Some(key) => {
            let id = items::find(&case, key).map_err(|e| anyhow!(e))?;
            audit::for_item(&case, id)?
        }
        None => audit::all(&case)?,
    };
    let mut out = super::out::Lines::new();
    for e in entries {
        let line = if json {
            super::out::escape_json(&serde_json::to_string(&e)?)
        } else {
            format!(
                "#{:<6} {} {:<10} {:<9} {:<16} {}",
                e.seq,
                e.at,
                sanitize(&e.actor),
                e.item_id
                    .map(crate::store::reference)
                    .unwrap_or_else(|| "-".into()),
                e.event,
                sanitize(&e.details.to_string())
            )
        };
        out.safe_line(&line);
        if super::out::closed() {
            break;
        }
    }
    out.finish();
    Ok(ExitCode::SUCCESS)
}
