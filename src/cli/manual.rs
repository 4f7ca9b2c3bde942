//! Completions and man pages, generated from the clap definition in `args.rs` so they list
//! exactly the commands and options the binary accepts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::args::Args;

pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "triage", &mut buf);
    raw(&buf)
}

/// `triage man` prints triage(1); `--dir DIR` writes triage.1 and triage-SUBCOMMAND.1 (and
/// triage-SUBCOMMAND-ACTION.1) there, as packagers want them.
pub fn man(dir: Option<PathBuf>) -> Result<ExitCode> {
    let cmd = Args::command();
    match dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            raw(&buf)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
            write_pages(&dir, cmd)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn write_pages(dir: &Path, cmd: clap::Command) -> Result<()> {
    // generate_to names each page after its command path (triage-source-list.1).
    clap_mangen::generate_to(cmd, dir).with_context(|| format!("{}", dir.display()))?;
    Ok(())
}

/// Generated text is ours, not evidence: written as is (roff and shell scripts need their
/// backslashes and quotes), with the same quiet end on a closed pipe.
fn raw(bytes: &[u8]) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}
