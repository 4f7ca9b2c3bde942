//! The worker's side: read jobs from stdin, answer on stdout, until stdin closes. It never
//! opens the case database; it reads only the files named in its jobs.

use std::io::{BufReader, BufWriter};

use super::protocol::{read_frame, write_frame, Job, Reply};

/// The worker's loop; returns its exit status.
pub fn serve() -> u8 {
    // The message only: a backtrace (RUST_BACKTRACE set by a developer) would load the debug
    // information, some 200 MB, for every panic a hostile file causes.
    std::panic::set_hook(Box::new(|info| eprintln!("parser panicked: {info}")));
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    loop {
        let job: Job = match read_frame(&mut input) {
            Ok(Some(job)) => job,
            Ok(None) => return 0,
            Err(_) => return 2,
        };
        super::limits::allow_cpu_for_next_job(job.cpu_seconds());
        let reply = run_caught(&job);
        if write_frame(&mut output, &reply).is_err() {
            return 0; // the parent is gone
        }
    }
}

/// One job, a panic in a parser turned into a reply (the worker's state is the job's only:
/// nothing is shared between jobs, so it can go on).
pub fn run_caught(job: &Job) -> Reply {
    std::panic::catch_unwind(|| super::jobs::handle(job)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        // A parser's message may quote the file: keep it short (it is sanitised where shown).
        let what: String = what.chars().take(200).collect();
        Reply::Panicked(format!("extractor panicked: {what}"))
    })
}
