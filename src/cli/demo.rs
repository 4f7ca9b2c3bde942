use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::ingest;
use crate::store::Case;

/// Build (once) and open the demo case. It lives in the per-user data folder unless `--dir`.
pub fn run(dir: Option<PathBuf>, material_only: bool, no_open: bool) -> Result<ExitCode> {
    if material_only {
        let dir = dir.context("--material-only needs --dir DIR")?;
        let sources = crate::demo::write_material(&dir)
            .with_context(|| format!("{}: cannot write the sample material", dir.display()))?;
        for (name, path) in sources {
            println!("{name}\t{}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let base = match dir {
        Some(d) => d,
        None => dirs::data_local_dir()
            .or_else(|| std::env::temp_dir().canonicalize().ok())
            .context("no data folder for this user")?
            .join("triage")
            .join("demo"),
    };
    let case_dir = base.join("case");
    let case = if case_dir.join(crate::store::DB_FILE).is_file() {
        // An existing demo case is opened like any case: members only.
        super::open_case(Some(case_dir.clone()))?
    } else {
        build(&base, &case_dir)?
    };
    eprintln!("demo case: {}", case_dir.display());
    if no_open || !super::is_terminal(0) || !super::is_terminal(1) {
        drop(case);
        return super::list::run(Some(case_dir), false, None);
    }
    super::open::open_case(case, None, Default::default())
}

fn build(base: &std::path::Path, case_dir: &std::path::Path) -> Result<Case> {
    let material = base.join("material");
    if material.exists() {
        std::fs::remove_dir_all(&material).with_context(|| format!("{}", material.display()))?;
    }
    let sources = crate::demo::write_material(&material)
        .with_context(|| format!("{}: cannot write the sample material", material.display()))?;
    let actor = crate::identity::login_name()?;
    if case_dir.exists() {
        std::fs::remove_dir_all(case_dir).with_context(|| format!("{}", case_dir.display()))?;
    }
    let mut case = Case::init(case_dir, &actor)?;
    super::taxonomy(&case)?;
    for (source, path) in sources {
        let s = ingest::run(
            &mut case,
            &ingest::Options {
                source: source.clone(),
                roots: vec![path],
                actor: actor.clone(),
                progress: false,
                fingerprints: true,
            },
        )?;
        eprintln!("{source}: {} new, {} duplicates", s.new, s.duplicates);
    }
    crate::similar::regroup(&mut case, crate::similar::DEFAULT)?;
    Ok(case)
}
