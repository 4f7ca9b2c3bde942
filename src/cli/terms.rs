use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::taxonomy::Taxonomy;

pub fn run(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let tax = match case {
        Some(_) => super::taxonomy(&super::open_case(case)?)?,
        None => Taxonomy::default_set(),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for t in &tax.terms {
        // A closed pipe (`| head`) ends the listing quietly.
        let written = if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"id": t.id, "kind": t.kind.as_str(), "en": t.en, "ar": t.ar,
                    "ref": t.legal_ref, "group": t.group, "aliases": t.aliases})
            )
        } else {
            writeln!(
                out,
                "{:<6} {:<28} {}  {}",
                t.kind.as_str(),
                t.id,
                t.en,
                t.legal_ref.as_deref().unwrap_or("")
            )
        };
        if written.is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
