//! `triage view save|list|delete`: saved filter views, the same ones the console's `w` lists.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::{query, views};

pub fn save(case: Option<PathBuf>, name: &str, expr: &str) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    views::check_name(name).map_err(|e| anyhow!(e))?;
    // A view that cannot run is refused when saved, not when opened.
    if query::compile_filter(expr, &tax)
        .map_err(|e| anyhow!("filter {}", e.pointer(expr)))?
        .is_none()
    {
        return Err(anyhow!("a saved view needs a filter expression"));
    }
    let actor = crate::identity::login_name()?;
    let name = name.trim();
    let previous = views::save(&mut case, &actor, name, expr)?;
    match previous {
        Some(old) => super::say!(
            "replaced view {} (was: {})",
            crate::text::sanitize(name),
            crate::text::sanitize(&old)
        ),
        None => super::say!("saved view {}", crate::text::sanitize(name)),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    for v in views::list(&case)? {
        if json {
            super::out::json(&v)?;
        } else {
            super::say!(
                "{:<20} {}  ({} {})",
                crate::text::sanitize(&v.name),
                crate::text::sanitize(&v.expr),
                crate::text::sanitize(&v.created_by),
                v.created_at
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(case: Option<PathBuf>, name: &str) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let actor = crate::identity::login_name()?;
    if views::delete(&mut case, &actor, name)? {
        super::say!("deleted view {}", crate::text::sanitize(name));
        Ok(ExitCode::SUCCESS)
    } else {
        Err(anyhow!("no saved view {name:?}"))
    }
}
