//! `triage info`: the case folder and where its originals live (never a credential).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::store::objects::Place;

pub fn run(case: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let case = super::open_as_member(case)?;
    let (kind, originals) = match &case.objects.place {
        Place::Folder => ("folder", case.objects.describe()),
        Place::Bucket(b) => ("s3", b.location.describe()),
    };
    if json {
        super::say!(
            "{}",
            json!({
                "case": case.root.display().to_string(),
                "originals": { "kind": kind, "where": originals },
            })
        );
    } else {
        super::say!("case       {}", case.root.display());
        super::say!("originals  {originals}");
    }
    Ok(ExitCode::SUCCESS)
}
