use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};

use crate::ingest;
use crate::store::Case;

/// Build (once) and open the demo case. It lives in the per-user data folder unless `--dir`.
pub fn run(dir: Option<PathBuf>, material_only: bool, no_open: bool) -> Result<ExitCode> {
    if material_only {
        let dir = dir.context("--material-only needs --dir DIR")?;
        claim_folder(&dir)?;
        let sources = crate::demo::write_material(&dir)
            .with_context(|| format!("{}: cannot write the sample material", dir.display()))?;
        for (name, path) in sources {
            super::out::fields(&[&name, &path.display().to_string()]);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let given = dir.is_some();
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
        super::open_as_member(Some(case_dir.clone()))?
    } else {
        // The default folder is triage's own; a given one may hold someone's files.
        if given {
            claim_folder(&base)?;
        }
        build(&base, &case_dir)?
    };
    super::tell!("demo case: {}", case_dir.display());
    if no_open || !super::is_terminal(0) || !super::is_terminal(1) {
        drop(case);
        return super::list::run(Some(case_dir), false, None);
    }
    super::open::console_on(case, None, Default::default())
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
                limits: Default::default(),
            },
        )?;
        super::tell!("{source}: {} new, {} duplicates", s.new, s.duplicates);
    }
    crate::similar::regroup(&mut case, crate::similar::DEFAULT)?;
    Ok(case)
}

/// Marks a folder as a demo folder triage made, so that building the demo again there may
/// replace what it wrote before.
const MARKER: &str = ".triage-demo";

/// Make sure `dir` is new, empty or a demo folder triage made (its marker), and mark it: the
/// demo replaces its own `material/` and `case/`, never files someone else put there.
fn claim_folder(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut rd) => {
            if rd.next().is_some() && !dir.join(MARKER).is_file() {
                bail!(
                    "{}: already holds files and is not a demo folder triage made; nothing was \
                     changed. Give a new or empty folder for the demo",
                    dir.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        Err(e) => return Err(anyhow!(e).context(format!("{}", dir.display()))),
    }
    std::fs::write(
        dir.join(MARKER),
        "a demo folder made by `triage demo`: its material/ and case/ are rebuilt at will\n",
    )
    .with_context(|| format!("{}", dir.display()))
}
