use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

pub fn run(case: Option<PathBuf>, bag: &Path, source: &str) -> Result<ExitCode> {
    let _ = (case, bag, source);
    anyhow::bail!("import: not built yet")
}
