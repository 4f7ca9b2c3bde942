//! Progress on stderr while ingesting, only when stderr is a terminal.

use std::io::Write;
use std::time::Instant;

pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            started: Instant::now(),
            last: None,
        }
    }

    pub fn update(&mut self, files: u64, bytes: u64, seen_files: u64, seen_bytes: u64) {
        if !self.enabled {
            return;
        }
        if self.last.is_some_and(|t| t.elapsed().as_millis() < 250) {
            return;
        }
        self.last = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = bytes as f64 / secs;
        let eta = if rate > 0.0 && seen_bytes > bytes {
            format!("{:.0} s", (seen_bytes - bytes) as f64 / rate)
        } else {
            "-".into()
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[K{files}/{seen_files} files  {:.1}/{:.1} MB  {:.1} MB/s  {:.0} files/s  ETA {eta}",
            bytes as f64 / 1e6,
            seen_bytes as f64 / 1e6,
            rate / 1e6,
            files as f64 / secs,
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
