//! A seal: the chain head as a short text a supervisor keeps elsewhere. Later, `verify
//! --against SEAL` proves the log up to that entry is unchanged.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};

use crate::store::verify::{self, Problem};
use crate::store::Case;

pub struct Seal {
    pub case_id: String,
    pub entry: i64,
    pub hash: String,
    pub time: String,
}

impl Seal {
    pub fn text(&self) -> String {
        format!(
            "triage audit seal\ncase: {}\nentry: {}\nhash: {}\ntime: {}\n",
            self.case_id, self.entry, self.hash, self.time
        )
    }

    pub fn read(path: &Path) -> Result<Seal> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .map(|v| v.trim().to_string())
                .ok_or_else(|| anyhow!("{}: not a seal (no `{name}:` line)", path.display()))
        };
        Ok(Seal {
            case_id: field("case")?,
            entry: field("entry")?
                .parse()
                .map_err(|_| anyhow!("{}: `entry:` is not a number", path.display()))?,
            hash: field("hash")?,
            time: field("time")?,
        })
    }
}

pub fn run(case: Option<PathBuf>, out: Option<PathBuf>, sign: Option<PathBuf>) -> Result<ExitCode> {
    // The key is read first: a key that cannot sign leaves no unsigned seal behind.
    let key = match &sign {
        Some(k) => Some(super::seal_sign::load_key(k)?),
        None => None,
    };
    let case = super::open_as_member(case)?;
    let (seq, hash) =
        crate::store::audit::last(&case)?.ok_or_else(|| anyhow!("the audit log is empty"))?;
    let seal = Seal {
        case_id: case.info("case_id")?.unwrap_or_default(),
        entry: seq,
        hash,
        time: crate::clock::now(),
    };
    match (out, key) {
        (Some(p), Some(key)) => {
            let text = seal.text();
            let sig = super::seal_sign::sign(&key, text.as_bytes())?;
            let sig_path = super::seal_sign::sig_path(&p);
            std::fs::write(&p, &text).with_context(|| format!("{}", p.display()))?;
            std::fs::write(&sig_path, sig).with_context(|| format!("{}", sig_path.display()))?;
            super::tell!(
                "seal written to {}, signed with {} ({}) in {}",
                p.display(),
                key.algorithm(),
                key.public_key().fingerprint(ssh_key::HashAlg::Sha256),
                sig_path.display()
            );
        }
        (Some(p), None) => {
            std::fs::write(&p, seal.text()).with_context(|| format!("{}", p.display()))?;
            super::tell!("seal written to {}", p.display());
        }
        (None, Some(_)) => {
            bail!("--sign needs --out FILE (the signature goes beside it as FILE.sig)")
        }
        (None, None) => {
            for l in seal.text().lines() {
                super::say!("{l}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Does the case's log still hold what the seal saw?
pub fn check(case: &Case, seal: &Seal) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let case_id = case.info("case_id")?.unwrap_or_default();
    if case_id != seal.case_id {
        problems.push(Problem {
            what: "seal".into(),
            problem: format!("is for case {}, this is {case_id}", seal.case_id),
        });
    }
    let stored = crate::store::audit::hash_at(case, seal.entry)?;
    match stored {
        None => problems.push(Problem {
            what: format!("audit #{}", seal.entry),
            problem: "the sealed entry is gone".into(),
        }),
        Some(h) if h != seal.hash => problems.push(Problem {
            what: format!("audit #{}", seal.entry),
            problem: format!(
                "hash {} differs from the seal's {}: the history up to the seal was rewritten",
                &h[..16.min(h.len())],
                &seal.hash[..16.min(seal.hash.len())]
            ),
        }),
        Some(_) => {
            let (report, _) = verify::check_chain(&case, Some(seal.entry))?;
            if report.head_hash != seal.hash {
                problems.push(Problem {
                    what: format!("audit #{}", seal.entry),
                    problem: "the chain up to the seal does not recompute to the sealed hash"
                        .into(),
                });
            }
        }
    }
    Ok(problems)
}
