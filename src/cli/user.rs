//! `triage user add|list|set|disable|enable`: the case's people and their roles (admins only).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::users::{self, PeopleChange, Role};

pub fn add(case: Option<PathBuf>, login: &str, role: &str) -> Result<ExitCode> {
    change(case, login, PeopleChange::Add(parse_role(role)?))
}

pub fn set(case: Option<PathBuf>, login: &str, role: &str) -> Result<ExitCode> {
    change(case, login, PeopleChange::SetRole(parse_role(role)?))
}

pub fn disable(case: Option<PathBuf>, login: &str) -> Result<ExitCode> {
    change(case, login, PeopleChange::Disable)
}

pub fn enable(case: Option<PathBuf>, login: &str) -> Result<ExitCode> {
    change(case, login, PeopleChange::Enable)
}

fn change(case: Option<PathBuf>, login: &str, what: PeopleChange) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let done = users::change(&mut case, &me, login, what)?;
    super::say!("{done}");
    Ok(ExitCode::SUCCESS)
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| anyhow!("--role {s}: expected reviewer, lead or admin"))
}

pub fn list(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    for u in users::list(&case)? {
        if json {
            super::out::json(&u)?;
        } else {
            super::say!(
                "{:<20} {:<8} {:<8} added by {} at {}",
                crate::text::sanitize(&u.login),
                u.role.as_str(),
                if u.disabled { "disabled" } else { "active" },
                crate::text::sanitize(&u.added_by),
                u.added_at
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
