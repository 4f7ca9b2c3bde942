//! The non-interactive subcommands: one file each, one `run` function each.

/// `println!` for the CLI: the line is sanitized and a closed pipe ends the command quietly.
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::out::line(format_args!($($arg)*)) };
}
pub(crate) use say;

/// `eprintln!` for the CLI: a closed stderr (`2>&1 | head -c 1`) is ignored, never a panic.
macro_rules! tell {
    ($($arg:tt)*) => { $crate::cli::out::err_line(&format!($($arg)*)) };
}
pub(crate) use tell;

pub mod args;
pub mod assign;
pub mod demo;
pub mod doctor;
pub mod dups;
pub mod export;
pub mod import;
pub(crate) mod import_describe;
pub(crate) mod import_history;
pub mod incident;
pub mod info;
pub mod ingest;
pub mod init;
pub(crate) mod json;
pub mod list;
pub mod log;
pub mod manual;
pub mod open;
pub mod out;
pub mod reindex;
pub mod review;
pub mod seal;
pub(crate) mod seal_sign;
pub mod show;
pub mod source;
pub mod stats;
pub mod tag;
pub mod terms;
pub mod user;
pub mod verify;
pub mod view;
pub mod wellbeing;

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::store::Case;

/// The case named by `--case` or `TRIAGE_CASE`, opened; a clear one-line error otherwise.
/// The invoking login must be an active member of the case: anyone else is refused here, and
/// the refusal is recorded.
pub fn open_as_member(case: Option<PathBuf>) -> Result<Case> {
    let dir = case.context(
        "no case given: pass --case DIR or set TRIAGE_CASE (create one with `triage init DIR`)",
    )?;
    // Who is acting is settled first: without a login name nothing is opened or recorded.
    let me = crate::identity::login_name()?;
    let case = Case::open(&dir)?;
    let command = std::env::args().nth(1).unwrap_or_default();
    crate::store::users::authorize(
        &case,
        &me,
        crate::store::users::Right::Read,
        &format!("open the case ({})", crate::text::sanitize(&command)),
    )?;
    Ok(case)
}

/// The case's taxonomy. A taxonomy that differs from the one last used (the case's own file
/// was edited, or a new default shipped) is recorded in the audit log with its hash.
pub fn taxonomy(case: &Case) -> Result<crate::taxonomy::Taxonomy> {
    let (tax, text, origin) =
        crate::taxonomy::Taxonomy::for_case_with_text(&case.root).map_err(anyhow::Error::msg)?;
    crate::store::record_taxonomy(case, &crate::identity::login_name()?, &text, &origin)?;
    Ok(tax)
}

pub fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}
