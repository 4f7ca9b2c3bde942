//! The limits a parser worker runs under. A hostile file may make a parser allocate without
//! end, recurse without end or loop: the kernel stops the worker, and the parent records why.

use std::time::Duration;

/// Address space of one worker. Large enough for the image decode budget below plus the
/// binary and the parsers' working memory; a 1 TB allocation fails at once.
pub const MEMORY: u64 = 768 << 20;
/// What an image decoder may allocate (its output buffer included), within `MEMORY`.
pub const DECODE_BUDGET: u64 = 256 << 20;
/// The main thread's stack, where jobs run: deep recursion ends in a clean stack overflow.
pub const STACK: u64 = 8 << 20;
/// CPU seconds one job may use (the worker raises its soft limit by this before each job).
pub const CPU_SECONDS: u64 = 30;
/// Wall-clock time the parent waits for one job's reply.
pub const WALL: Duration = Duration::from_secs(30);

/// Lower `resource` to `soft`/`hard`, never above what this process already has (an
/// unprivileged process cannot raise a hard limit, and must not fail for trying).
fn set(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let mut now = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct; async-signal-safe.
    if unsafe { libc::getrlimit(resource, &mut now) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let hard = hard.min(now.rlim_max);
    let lim = libc::rlimit {
        rlim_cur: soft.min(hard),
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit only reads the struct; it is async-signal-safe, so it may run
    // between fork and exec.
    if unsafe { libc::setrlimit(resource, &lim) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Run in the child between fork and exec: only async-signal-safe calls.
pub fn apply_in_child() -> std::io::Result<()> {
    set(libc::RLIMIT_AS, MEMORY, MEMORY)?;
    set(libc::RLIMIT_STACK, STACK, STACK)?;
    // The hard limit stays open: the worker moves the soft one before each job.
    set(libc::RLIMIT_CPU, CPU_SECONDS, libc::RLIM_INFINITY)?;
    // A crashed parser must not leave a core file holding evidence content behind.
    set(libc::RLIMIT_CORE, 0, 0)?;
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number; async-signal-safe.
    // The worker goes when its parent does, whatever the way.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    Ok(())
}

/// In the worker, before each job: `seconds` more from now.
pub fn allow_cpu_for_next_job(seconds: u64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let used = if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
        // SAFETY: initialised by the successful call above.
        let u = unsafe { usage.assume_init() };
        (u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1).max(0) as u64
    } else {
        0
    };
    let _ = set(libc::RLIMIT_CPU, used + seconds, libc::RLIM_INFINITY);
}

/// Run in an outside tool's child between fork and exec (see `super::tool`): its own address
/// space and CPU limits, no core file, killed with the worker. Only async-signal-safe calls;
/// failures leave the worker's inherited limits, which are as strict.
pub fn apply_tool_limits(memory: u64, cpu_seconds: u64) {
    let _ = set(libc::RLIMIT_AS, memory, memory);
    let _ = set(libc::RLIMIT_CPU, cpu_seconds, cpu_seconds + 1);
    let _ = set(libc::RLIMIT_CORE, 0, 0);
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number; async-signal-safe.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}
