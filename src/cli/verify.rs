use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::store::audit::{Chain, Event};
use crate::store::verify;

pub fn run(
    case: Option<PathBuf>,
    quick: bool,
    json: bool,
    against: Option<PathBuf>,
    allowed_signers: Option<PathBuf>,
) -> Result<ExitCode> {
    let mut case = super::open_as_member(case)?;
    let started = std::time::Instant::now();
    let seal = match &against {
        Some(path) => Some(super::seal::Seal::read(path)?),
        None => None,
    };
    // The chain is checked, and the log replayed against the decisions, on its own connection
    // while the objects are re-hashed. `--quick` skips only the re-hashing.
    let root = case.root.clone();
    let chain_check = std::thread::spawn(move || -> Result<_> {
        let reader = crate::store::Reader::open(&root)?;
        Ok(verify::check_chain_and_decisions(&reader)?)
    });
    let show_progress = super::is_terminal(2);
    let progress = move |done: u64, total: u64| {
        if show_progress && total > 100 {
            if done < total {
                super::out::err_text(&format!("\r\x1b[Kverifying {done}/{total}"));
            } else {
                super::out::err_text("\r\x1b[K");
            }
        }
    };
    let (mut problems, known) = verify::check_items(&case, &case.objects, quick, &progress)?;
    let stray = verify::stray_objects(&known, &case.objects);
    let (chain, chain_problems, decision_problems) = chain_check
        .join()
        .map_err(|_| anyhow::anyhow!("the chain check failed unexpectedly"))??;
    problems.splice(0..0, chain_problems);
    problems.extend(decision_problems);
    if let Some(seal) = &seal {
        problems.extend(super::seal::check(&case, seal)?);
    }
    // Who sealed it: the signature beside the seal, against the allowed signers.
    let mut signer = None;
    if let (Some(path), Some(signers)) = (&against, &allowed_signers) {
        match super::seal_sign::check(path, signers)? {
            Ok(s) => signer = Some(s),
            Err(reason) => problems.push(verify::Problem {
                what: "seal signature".into(),
                problem: reason,
            }),
        }
    }
    let items = crate::store::items::count(&case)?;
    let ok = problems.is_empty();
    let seconds = started.elapsed().as_secs_f64();
    // The verification itself is part of the record.
    let actor = crate::identity::login_name()?;
    let summary = json!({
        "ok": ok, "quick": quick, "items": items, "chain_entries": chain.entries,
        "problems": problems.len(), "stray_objects": stray.len(),
        "against": seal.as_ref().map(|s| json!({"entry": s.entry, "hash": s.hash})),
        "seal_signed_by": signer,
    });
    case.write(|tx| {
        let mut c = Chain::load(tx)?;
        c.append(tx, &Event::case(&actor, "verify", summary.clone()))?;
        Ok(())
    })
    .context("recording the verification")?;
    if json {
        super::out::json(&json!({
            "ok": ok, "quick": quick, "items": items, "seconds": seconds,
            "chain": chain, "problems": problems, "stray_objects": stray,
            "seal_signed_by": signer,
        }))?;
    } else {
        // Names and values in problems come from the database: shown sanitized.
        for p in &problems {
            super::say!("PROBLEM {}: {}", p.what, p.problem);
        }
        for p in &stray {
            super::say!("note    {}: {}", p.what, p.problem);
        }
        if let Some(s) = &signer {
            super::say!(
                "seal signed by {} ({})",
                crate::text::sanitize(&s.principals),
                s.key
            );
        }
        super::say!(
            "{}: {items} items{}, audit chain of {} entries (head #{} {}){} in {seconds:.1} s",
            if ok { "OK" } else { "FAILED" },
            match (quick, &case.objects.place) {
                (false, _) => " re-hashed",
                (true, crate::store::objects::Place::Folder) => " (sizes only)",
                (true, _) => " (sizes and the store's checksums)",
            },
            chain.entries,
            chain.head_seq,
            &chain.head_hash[..16.min(chain.head_hash.len())],
            match &chain.first_broken {
                Some(s) => format!(", first broken entry #{s}"),
                None => String::new(),
            },
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
