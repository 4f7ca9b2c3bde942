use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::taxonomy::Taxonomy;

pub fn run(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let tax = match case {
        Some(_) => super::taxonomy(&super::open_as_member(case)?)?,
        None => Taxonomy::default_set(),
    };
    let mut out = super::out::Lines::new();
    for t in &tax.terms {
        if json {
            out.json(
                &serde_json::json!({"id": t.id, "kind": t.kind.as_str(), "en": t.en, "ar": t.ar,
                "ref": t.legal_ref, "group": t.group, "aliases": t.aliases}),
            )?;
        } else {
            // A case's taxonomy is an administrator's file: sanitized like any other text.
            out.safe_line(
                crate::text::sanitize(&format!(
                    "{:<6} {:<28} {}  {}",
                    t.kind.as_str(),
                    t.id,
                    t.en,
                    t.legal_ref.as_deref().unwrap_or("")
                ))
                .as_str(),
            );
        }
    }
    out.finish();
    Ok(ExitCode::SUCCESS)
}
