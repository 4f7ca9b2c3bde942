use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::store::Case;

pub fn run(dir: &Path) -> Result<ExitCode> {
    let actor = crate::identity::login_name()?;
    let case = Case::init(dir, &actor)?;
    // The creator (admin) brings the taxonomy into use, so reviewers can start at once.
    super::taxonomy(&case)?;
    super::say!("created case {} (admin: {actor})", dir.display());
    super::say!(
        "next: triage --case {} ingest --source NAME PATH...",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
