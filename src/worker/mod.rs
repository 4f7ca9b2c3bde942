//! Untrusted parsers run isolated. Everything that parses evidence content (image headers and
//! pixels, EXIF, PDF, e-mail, video containers, text encodings, fingerprints, previews) runs
//! in long-lived child processes under memory, CPU-time and stack limits, as Apache Tika's
//! ForkParser does: a hostile file can crash, exhaust or hang only its worker, which the
//! parent notices, names, and replaces.
//!
//! The worker is the triage binary itself, run again with [`ENV`] set (checked at the top of
//! `main`, before the command line is read), so there is no extra executable and no hidden
//! subcommand. Library callers that never call [`isolate_with`] run jobs in their own thread.

pub(crate) mod client;
pub mod digits;
pub(crate) mod expand;
mod jobs;
pub(crate) mod limits;
pub(crate) mod protocol;
mod serve;
pub mod sheet;
pub(crate) mod tool;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use client::Extractor;
pub use jobs::{unprint, unprint_preview};
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

thread_local! {
    /// Each thread's own worker: the kernel ties a worker's parent-death signal to the thread
    /// that started it, so a worker is used only by that thread.
    static MINE: std::cell::RefCell<Extractor> = std::cell::RefCell::new(Extractor::new());
}

/// Do `job` in this thread's worker.
pub fn run(job: &protocol::Job) -> Result<protocol::Reply, String> {
    MINE.with(|x| match x.try_borrow_mut() {
        Ok(mut x) => x.run(job),
        Err(_) => Err("the extractor is busy".into()),
    })
}

/// The fingerprint, thumbnail and kept preview of a stored image, made in a worker.
pub fn fingerprint_file(
    path: &std::path::Path,
    orientation: Option<u16>,
) -> Result<crate::ingest::fingerprint::Made, String> {
    use std::os::unix::ffi::OsStrExt;
    let job = protocol::Job::Fingerprint {
        path: path.as_os_str().as_bytes().to_vec(),
        orientation,
    };
    match run(&job) {
        Ok(protocol::Reply::Print(p)) => unprint(&p)
            .map(|(print, thumb)| crate::ingest::fingerprint::Made {
                print,
                thumb,
                preview: jobs::unprint_preview(&p),
            })
            .ok_or_else(|| "fingerprint: the extractor's thumbnail is malformed".into()),
        Ok(protocol::Reply::Refused(e)) => Err(e),
        Ok(protocol::Reply::Panicked(e)) | Err(e) => Err(format!("fingerprint: {e}")),
        Ok(_) => Err("fingerprint: the extractor gave an unexpected answer".into()),
    }
}
