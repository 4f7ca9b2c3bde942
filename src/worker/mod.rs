//! Untrusted parsers run isolated. Everything that parses evidence content (image headers and
//! pixels, EXIF, PDF, e-mail, video containers, text encodings, fingerprints, previews) runs
//! in long-lived child processes under memory, CPU-time and stack limits, as Apache Tika's
//! ForkParser does: a hostile file can crash, exhaust or hang only its worker, which the
//! parent notices, names, and replaces.
//!
//! The worker is the triage binary itself, run again with [`ENV`] set (checked at the top of
//! `main`, before the command line is read), so there is no extra executable and no hidden
//! subcommand. Library callers that never call [`isolate_with`] run jobs in their own thread.

pub mod client;
mod jobs;
pub mod limits;
pub mod protocol;
mod serve;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use client::Extractor;
pub use jobs::unprint;
pub use serve::serve;

/// Set in a worker's environment.
pub const ENV: &str = "TRIAGE_PARSER_WORKER";

static EXE: OnceLock<PathBuf> = OnceLock::new();

/// Run parser jobs in worker processes started from `exe` (the triage binary).
pub fn isolate_with(exe: PathBuf) {
    let _ = EXE.set(exe);
}

fn isolating() -> Option<&'static PathBuf> {
    EXE.get()
}

/// True when this process was started as a worker.
pub fn is_worker() -> bool {
    std::env::var_os(ENV).is_some_and(|v| v == "1")
}
