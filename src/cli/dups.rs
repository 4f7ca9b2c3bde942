//! `triage dups`: items received more than once, and images that show the same picture
//! (see [`crate::similar`]). Image items without a fingerprint (ingested with
//! `--no-fingerprints`, or imported) are fingerprinted first, from their originals.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::similar::{backfill, regroup, similar_groups, Tuning, DEFAULT};
use crate::store::{dups, reference};

pub fn run(case: Option<PathBuf>, json: bool, threshold: Option<u32>) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    // Fingerprinting and regrouping write to the whole case: a lead's task.
    let me = crate::identity::login_name()?;
    crate::store::users::authorize(&case, &me, crate::store::users::Right::Maintain, "dups")?;
    let progress = super::is_terminal(2);
    let filled = backfill(&mut case, progress)?;
    if filled.done + filled.failed > 0 {
        super::tell!(
            "fingerprinted {} image{} from their originals{}",
            filled.done,
            if filled.done == 1 { "" } else { "s" },
            if filled.failed > 0 {
                format!(", {} could not be", filled.failed)
            } else {
                String::new()
            }
        );
    }
    let tuning = threshold.map_or(DEFAULT, Tuning::with_threshold);
    let exact = dups::received_more_than_once(&case)?;
    // `dup:similar` and the console's `s` answer from the groups of the default rule: other
    // thresholds are printed, not kept.
    let similar = if threshold.is_none() {
        regroup(&mut case, tuning)?
    } else {
        let prints = dups::fingerprints(&case)?;
        similar_groups(&case, &prints, tuning)?
    };

    let mut out = super::out::Lines::new();
    if json {
        let mut groups: Vec<serde_json::Value> = exact
            .iter()
            .map(|(id, _)| json!({"kind": "exact", "refs": [reference(*id)]}))
            .collect();
        groups.extend(similar.iter().map(|g| {
            json!({"kind": "similar", "refs": g.iter().map(|id| reference(*id)).collect::<Vec<_>>()})
        }));
        out.json(&json!({ "groups": groups }))?;
    } else {
        for (id, n) in &exact {
            out.safe_line(&format!("exact    {}  received {n} times", reference(*id)));
        }
        for g in &similar {
            let refs: Vec<String> = g.iter().map(|id| reference(*id)).collect();
            out.safe_line(&format!("similar  {}", refs.join(" ")));
        }
    }
    out.finish();
    Ok(ExitCode::SUCCESS)
}
