//! `triage review sample PERCENT` and `triage review confirm ITEM`: second-level review
//! (leads). The review queue itself is the console's "review" view.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::{items, review};

pub fn sample(case: Option<PathBuf>, percent: u8) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    review::set_sample(&mut case, &me, percent)?;
    super::say!(
        "{percent}% of triaged items now go to second-level review (with every escalation)"
    );
    Ok(ExitCode::SUCCESS)
}

pub fn confirm(case: Option<PathBuf>, key: &str) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let me = crate::identity::login_name()?;
    let id = items::find(&case, key).map_err(|e| anyhow!(e))?;
    review::confirm(&mut case, &me, id)?;
    super::say!("confirmed {}", crate::store::reference(id));
    Ok(ExitCode::SUCCESS)
}
