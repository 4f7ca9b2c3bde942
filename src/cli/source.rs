use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::sources;
use crate::store::users::{self, Right};

pub fn add(
    case: Option<PathBuf>,
    name: &str,
    kind: &str,
    contact: Option<&str>,
    conditions: Vec<String>,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    sources::validate(Some(kind), &conditions).map_err(|e| anyhow!(e))?;
    if sources::get(&case, name)?.is_some() {
        return Err(anyhow!(
            "source {name:?} exists already; change it with `triage source set`"
        ));
    }
    let actor = crate::identity::login_name()?;
    users::authorize(
        &case,
        &actor,
        Right::ManageSources,
        &format!("source add {name}"),
    )?;
    case.write(|tx| sources::set(tx, &actor, name, Some(kind), contact, Some(&conditions)))?;
    super::say!("added source {name}");
    Ok(ExitCode::SUCCESS)
}

pub fn set(
    case: Option<PathBuf>,
    name: &str,
    kind: Option<&str>,
    contact: Option<&str>,
    conditions: Option<Vec<String>>,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    sources::validate(kind, conditions.as_deref().unwrap_or(&[])).map_err(|e| anyhow!(e))?;
    if sources::get(&case, name)?.is_none() {
        return Err(anyhow!(
            "no source {name:?}; add it with `triage source add`"
        ));
    }
    let actor = crate::identity::login_name()?;
    users::authorize(
        &case,
        &actor,
        Right::ManageSources,
        &format!("source set {name}"),
    )?;
    case.write(|tx| sources::set(tx, &actor, name, kind, contact, conditions.as_deref()))?;
    super::say!("updated source {name}");
    Ok(ExitCode::SUCCESS)
}

pub fn list(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    for s in sources::list(&case)? {
        if json {
            super::out::json(&s)?;
        } else {
            super::say!(
                "{:<28} {:<11} {:>7} items  {}",
                crate::text::sanitize(&s.name),
                s.kind,
                s.items,
                if s.conditions.is_empty() {
                    "-".to_string()
                } else {
                    s.conditions.join(", ")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
