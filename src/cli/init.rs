use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::store::bucket::Location;
use crate::store::Case;

pub fn run(
    dir: &Path,
    objects: Option<&str>,
    endpoint: Option<&str>,
    region: Option<&str>,
    credentials: Option<PathBuf>,
) -> Result<ExitCode> {
    let actor = crate::identity::login_name()?;
    let bucket = match (objects, endpoint) {
        (Some(url), Some(endpoint)) => {
            let mut loc = Location::parse(url, endpoint, region).map_err(anyhow::Error::msg)?;
            loc.credentials = credentials;
            Some(loc)
        }
        _ => None,
    };
    let case = Case::init_with(dir, &actor, bucket.as_ref())?;
    // The creator (admin) brings the taxonomy into use, so reviewers can start at once.
    super::taxonomy(&case)?;
    super::say!("created case {} (admin: {actor})", dir.display());
    if bucket.is_some() {
        super::say!("originals live in {}", case.objects.describe());
    }
    super::say!(
        "next: triage --case {} ingest --source NAME PATH...",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
