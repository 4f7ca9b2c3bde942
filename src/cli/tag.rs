use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

use crate::store::changes::{self, Edit};
use crate::store::items;

pub fn run(
    case: Option<PathBuf>,
    key: &str,
    add: Vec<String>,
    remove: Vec<String>,
    status: Option<String>,
    reason: Option<String>,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let tax = super::taxonomy(&case)?;
    let actor = crate::identity::login_name()?;
    let id = items::find(&case, key).map_err(|e| anyhow!(e))?;
    if add.is_empty() && remove.is_empty() && status.is_none() {
        super::tell!("triage: nothing to do: give --add, --remove or --status");
        return Ok(ExitCode::from(2));
    }
    if !add.is_empty() || !remove.is_empty() {
        let a = changes::apply(
            &mut case,
            &tax,
            &actor,
            &Edit::Tags {
                items: vec![id],
                add,
                remove,
            },
        )?;
        super::say!("{}", a.summary);
    }
    if let Some(to) = status {
        let a = changes::apply(
            &mut case,
            &tax,
            &actor,
            &Edit::Status {
                items: vec![id],
                to,
                reason,
            },
        )?;
        super::say!("{}", a.summary);
    }
    Ok(ExitCode::SUCCESS)
}
