//! Outside programs that read evidence (ffprobe, ffmpeg, pdftotext, pdftoppm), run as child
//! processes under the same kind of limits as a worker: address space, CPU time, no core
//! file, killed with their parent, and a wall-clock deadline with the output capped. They are
//! started from within a worker job, so a tool that hangs costs that job, nothing more.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space of one tool run (ffmpeg maps its codecs' tables; 768 MB is plenty at one
/// thread for the frame sizes evidence video has).
const MEMORY: u64 = super::limits::MEMORY;
/// CPU seconds of one tool run.
const CPU_SECONDS: u64 = 20;

/// Why a tool gave nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Not installed (not on PATH).
    Missing,
    /// It ran and failed, timed out or was killed; the reason for a warning.
    Failed(String),
}

/// What is kept of a tool's log (standard error) when it is asked for.
const LOG_CAP: u64 = 64 << 10;

/// Run `program args`, give at most `cap` bytes of its standard output, wait at most `wall`.
pub fn run(
    program: &str,
    args: &[&std::ffi::OsStr],
    wall: Duration,
    cap: usize,
) -> Result<Vec<u8>, Failure> {
    run_logged(program, args, wall, cap, false).map(|(out, _)| out)
}

/// `run`, also giving the first 64 KiB of its standard error when `log` (ffmpeg's `showinfo`
/// tells there the time of the frame it gave).
pub fn run_logged(
    program: &str,
    args: &[&std::ffi::OsStr],
    wall: Duration,
    cap: usize,
    log: bool,
) -> Result<(Vec<u8>, String), Failure> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if log { Stdio::piped() } else { Stdio::null() })
        .env_remove(super::ENV);
    // SAFETY: only async-signal-safe calls (setrlimit, prctl) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            super::limits::apply_tool_limits(MEMORY, CPU_SECONDS);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Failure::Missing),
        Err(e) => return Err(Failure::Failed(format!("{program} did not start: {e}"))),
    };
    let Some(mut out) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Failure::Failed(format!("{program}: no output pipe")));
    };
    // Read on threads so that a tool filling a pipe never blocks the deadline check.
    let log_reader = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut err).take(LOG_CAP).read_to_end(&mut buf);
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            String::from_utf8_lossy(&buf).into_owned()
        })
    });
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut out).take(cap as u64 + 1).read_to_end(&mut buf);
        // Drain the rest so that the tool is not stuck on a full pipe.
        let _ = std::io::copy(&mut out, &mut std::io::sink());
        r.map(|_| buf)
    });
    let deadline = Instant::now() + wall;
    // Short first naps: most runs end within milliseconds, and a fixed 10 ms nap cost ~5 ms
    // a run on average, thousands of runs an intake.
    let mut nap = Duration::from_micros(500);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("{program} timed out after {} s", wall.as_secs()));
            }
            Ok(None) => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(10));
            }
            Err(e) => break Err(format!("{program}: {e}")),
        }
    };
    let output = reader
        .join()
        .map_err(|_| Failure::Failed(format!("{program}: reader failed")))?;
    let log = log_reader.and_then(|r| r.join().ok()).unwrap_or_default();
    let status = status.map_err(Failure::Failed)?;
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        let why = match status.signal() {
            Some(libc::SIGKILL) | Some(libc::SIGXCPU) => "killed at its limits".to_string(),
            Some(s) => format!("died of signal {s}"),
            None => format!("exited with {}", status.code().unwrap_or(-1)),
        };
        return Err(Failure::Failed(format!("{program} {why}")));
    }
    let mut output = output.map_err(|e| Failure::Failed(format!("{program}: {e}")))?;
    output.truncate(cap);
    Ok((output, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run` with string arguments.
    pub fn run_str(
        program: &str,
        args: &[&str],
        wall: Duration,
        cap: usize,
    ) -> Result<Vec<u8>, Failure> {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        run(program, &args, wall, cap)
    }

    #[test]
    fn a_hanging_tool_is_killed_at_its_deadline() {
        let started = Instant::now();
        let r = run_str("sleep", &["20"], Duration::from_millis(300), 1024);
        assert!(
            matches!(&r, Err(Failure::Failed(e)) if e.contains("timed out")),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_is_capped_and_missing_tools_are_named() {
        let r = run_str(
            "head",
            &["-c", "100000", "/dev/zero"],
            Duration::from_secs(10),
            10,
        );
        assert_eq!(r.map(|o| o.len()), Ok(10));
        assert_eq!(
            run_str("no-such-tool-here", &[], Duration::from_secs(1), 10),
            Err(Failure::Missing)
        );
    }

    #[test]
    fn a_tool_runs_under_the_memory_limit() {
        // A shell asking for more than the limit is refused by the kernel, not the machine.
        let r = run_str(
            "python3",
            &["-c", "x = bytearray(2 << 30)"],
            Duration::from_secs(20),
            1024,
        );
        if !matches!(r, Err(Failure::Missing)) {
            assert!(matches!(r, Err(Failure::Failed(_))), "{r:?}");
        }
    }
}
