use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::ingest::{self, Options};

pub fn run(
    case: Option<PathBuf>,
    source: &str,
    json: bool,
    fingerprints: bool,
    limits: ingest::family::Limits,
    paths: Vec<PathBuf>,
) -> Result<ExitCode> {
    if source.trim().is_empty() {
        super::tell!("triage: --source must name the provider");
        return Ok(ExitCode::from(2));
    }
    let mut case = super::open_as_member(case)?;
    let opts = Options {
        source: source.to_string(),
        roots: paths,
        actor: crate::identity::login_name()?,
        progress: !json && super::is_terminal(2),
        fingerprints,
        limits,
    };
    let before = crate::store::items::max_id(&case)?;
    let summary = ingest::run(&mut case, &opts)?;
    if fingerprints && summary.new > 0 {
        crate::similar::regroup_new(&mut case, before, crate::similar::DEFAULT)?;
    }
    if json {
        super::out::json(&summary)?;
    } else {
        super::say!(
            "batch {}: {} new, {} duplicates, {} already recorded, {} skipped, {} failed ({} files, {:.1} MB in {:.1} s)",
            summary.batch,
            summary.new,
            summary.duplicates,
            summary.unchanged,
            summary.skipped,
            summary.failed,
            summary.files,
            summary.bytes as f64 / 1e6,
            summary.seconds
        );
        if summary.members > 0 {
            super::say!(
                "{} members taken out of archives and e-mails",
                summary.members
            );
        }
        if summary.extract_failed > 0 {
            super::say!(
                "{} taken in without metadata (their parser failed)",
                summary.extract_failed
            );
        }
        for p in &summary.problems {
            super::say!(
                "  {}: {}: {}",
                p.outcome.as_str(),
                crate::text::sanitize(&p.path),
                // Reasons quote what parsers read (member names, decoder messages): evidence.
                crate::text::sanitize(&p.reason)
            );
        }
    }
    Ok(
        if summary.skipped + summary.failed + summary.extract_failed > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}
