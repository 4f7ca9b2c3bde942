//! The parent's side: one long-lived worker process per calling thread, started on first use
//! and again after it dies. A job that kills its worker costs only that job.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::limits;
use super::protocol::{read_frame, write_frame, Job, Reply, MAX_FRAME};

/// The last bytes a dead worker wrote to stderr are kept to tell why it died.
const STDERR_KEPT: usize = 4096;

pub struct Extractor {
    running: Option<Running>,
    /// Worker processes started so far.
    pub started: u64,
    wall: Duration,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: ChildStderr,
    said: Vec<u8>,
}

impl Default for Extractor {
    fn default() -> Self {
        Extractor::new()
    }
}

impl Extractor {
    pub fn new() -> Extractor {
        Extractor {
            running: None,
            started: 0,
            wall: limits::WALL,
        }
    }

    /// The same, with another wall-clock limit per job (tests: a short one).
    #[cfg(test)]
    pub fn with_wall(wall: Duration) -> Extractor {
        Extractor {
            running: None,
            started: 0,
            wall,
        }
    }

    /// The wall-clock limit for the jobs that follow.
    pub fn set_wall(&mut self, wall: Duration) {
        self.wall = wall;
    }

    /// Do one job in the worker. `Err` says why the worker gave no answer (it died, ran out
    /// of memory or time); the worker is then gone and the next job starts another.
    pub fn run(&mut self, job: &Job) -> Result<Reply, String> {
        let Some(exe) = super::isolating() else {
            return Ok(super::serve::run_caught(job));
        };
        let mut command = Command::new(exe);
        command.env(super::ENV, "1");
        self.run_with(&mut command, job)
    }

    /// Start the worker now, if it is not running. A worker dies with the thread that started
    /// it (`PR_SET_PDEATHSIG`): one handed to a short-lived thread for a job must be started
    /// by its long-lived owner first.
    pub fn start(&mut self) {
        if self.running.is_some() {
            return;
        }
        let Some(exe) = super::isolating() else {
            return;
        };
        let mut command = Command::new(exe);
        command.env(super::ENV, "1");
        // A failure is the job's to report: `run` tries again.
        if let Ok(r) = spawn(&mut command) {
            self.running = Some(r);
            self.started += 1;
        }
    }

    /// `run` with the worker started by `command` (tests give a stand-in).
    pub fn run_with(&mut self, command: &mut Command, job: &Job) -> Result<Reply, String> {
        // A worker that died while idle is not this job's fault: start another and resend.
        for attempt in 0..2 {
            if self.running.is_none() {
                self.running = Some(spawn(command)?);
                self.started += 1;
            }
            let Some(running) = self.running.as_mut() else {
                continue;
            };
            if write_frame(&mut running.stdin, job).is_err() {
                let reason = self.bury();
                if attempt == 0 {
                    continue;
                }
                return Err(reason);
            }
            let reply = read_reply(&mut running.stdout, self.wall);
            running.drain_stderr();
            return match reply {
                Ok(reply) => Ok(reply),
                Err(Wait::TimedOut) => {
                    if let Some(r) = self.running.as_mut() {
                        let _ = r.child.kill();
                    }
                    self.bury();
                    Err(format!("timed out after {} s", self.wall.as_secs()))
                }
                Err(Wait::Broken) => Err(self.bury()),
            };
        }
        Err("the extractor could not be started".into())
    }

    /// Stop the worker (if still alive) and say how it ended.
    fn bury(&mut self) -> String {
        let Some(mut r) = self.running.take() else {
            return "extractor died".into();
        };
        // Ended already, or about to: give it a moment, then make sure.
        let deadline = Instant::now() + Duration::from_millis(500);
        let status = loop {
            match r.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                _ => {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break None;
                }
            }
        };
        r.drain_stderr();
        match status {
            Some(s) => why(s, &String::from_utf8_lossy(&r.said)),
            None => "extractor stopped answering".into(),
        }
    }
}

impl Drop for Extractor {
    fn drop(&mut self) {
        if let Some(mut r) = self.running.take() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

fn spawn(command: &mut Command) -> Result<Running, String> {
    // No backtraces: resolving one loads the debug information (some 200 MB) at every crash a
    // hostile file causes. Two malloc arenas keep the address space (RLIMIT_AS) for data.
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure only calls setrlimit and prctl, which are async-signal-safe.
    unsafe {
        command.pre_exec(limits::apply_in_child);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("the extractor could not be started: {e}"))?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("the extractor could not be started: no pipes".into());
    };
    set_nonblocking(stderr.as_raw_fd());
    Ok(Running {
        child,
        stdin,
        stdout,
        stderr,
        said: Vec::new(),
    })
}

fn set_nonblocking(fd: i32) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

impl Running {
    /// Read what the worker wrote to stderr without waiting, keeping the last part.
    fn drain_stderr(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.said.extend_from_slice(&buf[..n]),
            }
        }
        if self.said.len() > STDERR_KEPT {
            self.said.drain(..self.said.len() - STDERR_KEPT);
        }
    }
}

enum Wait {
    TimedOut,
    /// The pipe closed or carried garbage: the worker is dead or broken.
    Broken,
}

/// One reply frame, within `wall`.
fn read_reply(stdout: &mut ChildStdout, wall: Duration) -> Result<Reply, Wait> {
    let deadline = Instant::now() + wall;
    let mut len = [0u8; 4];
    read_by(stdout, &mut len, deadline)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(Wait::Broken);
    }
    let mut frame = Vec::with_capacity(4 + len);
    frame.extend_from_slice(&(len as u32).to_le_bytes());
    frame.resize(4 + len, 0);
    read_by(stdout, &mut frame[4..], deadline)?;
    match read_frame::<_, Reply>(&mut frame.as_slice()) {
        Ok(Some(reply)) => Ok(reply),
        _ => Err(Wait::Broken),
    }
}

/// Fill `buf`, waiting for data with poll so that a stuck worker cannot hold us past the
/// deadline.
fn read_by(stdout: &mut ChildStdout, buf: &mut [u8], deadline: Instant) -> Result<(), Wait> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Wait::TimedOut);
        }
        let mut fds = libc::pollfd {
            fd: stdout.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut fds, 1, ms) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Wait::Broken);
        }
        if ready == 0 {
            continue; // the loop checks the deadline
        }
        match stdout.read(&mut buf[filled..]) {
            Ok(0) => return Err(Wait::Broken),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Wait::Broken),
        }
    }
    Ok(())
}

/// Why a worker ended, in the words a reviewer reads in the problem list.
fn why(status: ExitStatus, said: &str) -> String {
    if said.contains("memory allocation of") {
        return format!("out of memory (limit {} MB)", limits::MEMORY >> 20);
    }
    if said.contains("has overflowed its stack") {
        return "extractor died: stack overflow".into();
    }
    match status.signal() {
        Some(libc::SIGXCPU) => format!("timed out after {} s of CPU time", limits::CPU_SECONDS),
        Some(sig) => format!("extractor died: {}", signal_name(sig)),
        None => match status.code() {
            Some(code) => format!("extractor died: exit status {code}"),
            None => "extractor died".into(),
        },
    }
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGKILL => "SIGKILL",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job::Fingerprint {
            path: b"/nonexistent".to_vec(),
            orientation: None,
        }
    }

    #[test]
    fn a_worker_killed_mid_job_is_named_and_replaced() {
        let mut x = Extractor::new();
        // A stand-in worker that reads the job and is then killed.
        let mut sh = Command::new("sh");
        sh.args(["-c", "head -c 4 >/dev/null; kill -KILL $$"]);
        let r = x.run_with(&mut sh, &job());
        assert_eq!(r, Err("extractor died: SIGKILL".into()));
        let r = x.run_with(&mut sh, &job());
        assert_eq!(r, Err("extractor died: SIGKILL".into()));
        assert_eq!(x.started, 2, "a new worker for the second job");
    }

    #[test]
    fn a_silent_worker_times_out() {
        let mut x = Extractor::with_wall(Duration::from_millis(300));
        let mut sh = Command::new("sh");
        sh.args(["-c", "sleep 30"]);
        let started = Instant::now();
        let r = x.run_with(&mut sh, &job());
        assert_eq!(r, Err("timed out after 0 s".into()));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn an_allocation_failure_reads_as_out_of_memory() {
        let mut x = Extractor::new();
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            "head -c 4 >/dev/null; echo 'memory allocation of 1099511627776 bytes failed' >&2; kill -ABRT $$",
        ]);
        let r = x.run_with(&mut sh, &job());
        assert_eq!(
            r,
            Err(format!("out of memory (limit {} MB)", limits::MEMORY >> 20))
        );
    }
}
