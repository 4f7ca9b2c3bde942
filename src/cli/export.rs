use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

pub fn run(
    case: Option<PathBuf>,
    filter: &str,
    out: &Path,
    purpose: Option<&str>,
    court: bool,
    override_reason: Option<&str>,
) -> Result<ExitCode> {
    let _ = (case, filter, out, purpose, court, override_reason);
    anyhow::bail!("export: not built yet")
}
