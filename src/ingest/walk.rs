//! Find the files under the given roots. Never opens anything but folders: FIFOs, sockets and
//! devices are reported and left alone, and symbolic links are followed only to files that lie
//! inside the given roots.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::{Outcome, Problem};

/// A regular file to take in.
pub struct FileJob {
    /// Position in walk order: items are recorded in this order, so references are stable.
    pub seq: u64,
    /// The path as found under the root, kept for provenance.
    pub path: PathBuf,
    /// What to open: the path itself, or the resolved target of an in-root symbolic link.
    pub open_path: PathBuf,
    pub size: u64,
    pub follow_link: bool,
}

pub enum Found {
    File(FileJob),
    Problem(Problem),
}

/// The names chat exports give their logs: WhatsApp's `_chat.txt` and `WhatsApp Chat with
/// X.txt`, Telegram Desktop's `result.json` and `messages.html`, signal-export's `chat.md`
/// and `index.md`.
pub fn chat_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    matches!(
        name,
        "_chat.txt" | "result.json" | "messages.html" | "chat.md" | "index.md"
    ) || (name.starts_with("WhatsApp Chat") && name.ends_with(".txt"))
}

pub struct Roots {
    /// Each root as given (made absolute) and resolved.
    roots: Vec<(PathBuf, Option<PathBuf>)>,
}

impl Roots {
    pub fn new(given: &[PathBuf]) -> Roots {
        let roots = given
            .iter()
            .map(|p| {
                let abs = if p.is_absolute() {
                    p.clone()
                } else {
                    std::env::current_dir()
                        .map(|d| d.join(p))
                        .unwrap_or_else(|_| p.clone())
                };
                let abs = normalise(&abs);
                let canonical = fs::canonicalize(&abs).ok();
                (abs, canonical)
            })
            .collect();
        Roots { roots }
    }

    fn contains(&self, target: &Path) -> bool {
        self.roots
            .iter()
            .filter_map(|(_, c)| c.as_ref())
            .any(|c| target.starts_with(c))
    }

    /// Walk every root in order, depth first, entries sorted by name, calling `emit` for each
    /// file or problem. Stops early when `emit` returns false (the receiver went away).
    pub fn walk(&self, emit: &mut dyn FnMut(Found) -> bool) {
        for (abs, _) in &self.roots {
            match fs::symlink_metadata(abs) {
                Ok(_) => {
                    if !self.visit(abs, true, emit) {
                        return;
                    }
                }
                Err(e) => {
                    if !emit(Found::Problem(problem(
                        abs,
                        Outcome::Failed,
                        &e.to_string(),
                    ))) {
                        return;
                    }
                }
            }
        }
    }

    fn visit(&self, path: &Path, is_root: bool, emit: &mut dyn FnMut(Found) -> bool) -> bool {
        // A root given as a symbolic link is the user's explicit choice: follow it.
        let meta = match if is_root {
            fs::metadata(path)
        } else {
            fs::symlink_metadata(path)
        } {
            Ok(m) => m,
            Err(e) => {
                return emit(Found::Problem(problem(
                    path,
                    Outcome::Failed,
                    &e.to_string(),
                )))
            }
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    return emit(Found::Problem(problem(
                        path,
                        Outcome::Failed,
                        &e.to_string(),
                    )))
                }
            };
            // Chat logs first: the files they name, taken in after them, are linked to their
            // messages as they are recorded (`chat_links`).
            entries.sort_by(|a, b| {
                (!chat_log_name(a), a.as_os_str().as_bytes())
                    .cmp(&(!chat_log_name(b), b.as_os_str().as_bytes()))
            });
            for entry in entries {
                if !self.visit(&entry, false, emit) {
                    return false;
                }
            }
            return true;
        }
        if ft.is_file() {
            return emit(Found::File(FileJob {
                seq: 0,
                path: path.to_path_buf(),
                open_path: path.to_path_buf(),
                size: meta.len(),
                follow_link: false,
            }));
        }
        if ft.is_symlink() {
            return emit(self.resolve_link(path));
        }
        let what = if ft.is_fifo() {
            "named pipe (FIFO): not opened"
        } else if ft.is_socket() {
            "socket: not opened"
        } else if ft.is_block_device() || ft.is_char_device() {
            "device file: not opened"
        } else {
            "not a regular file"
        };
        emit(Found::Problem(problem(path, Outcome::Skipped, what)))
    }

    fn resolve_link(&self, path: &Path) -> Found {
        let target = match fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) => {
                return Found::Problem(problem(
                    path,
                    Outcome::Skipped,
                    &format!("symbolic link does not resolve: {e}"),
                ))
            }
        };
        if !self.contains(&target) {
            return Found::Problem(problem(
                path,
                Outcome::Skipped,
                &format!(
                    "symbolic link leads outside the given folders (to {}): not followed",
                    target.display()
                ),
            ));
        }
        match fs::metadata(&target) {
            Ok(m) if m.is_file() => Found::File(FileJob {
                seq: 0,
                path: path.to_path_buf(),
                open_path: target,
                size: m.len(),
                follow_link: true,
            }),
            Ok(m) if m.is_dir() => Found::Problem(problem(
                path,
                Outcome::Skipped,
                "symbolic link to a folder: not followed (its target is taken in where it lies)",
            )),
            Ok(_) => Found::Problem(problem(
                path,
                Outcome::Skipped,
                "symbolic link to a special file: not opened",
            )),
            Err(e) => Found::Problem(problem(path, Outcome::Failed, &e.to_string())),
        }
    }
}

/// `/a/./b/../c/` → `/a/c`, without touching the filesystem: the same folder given in
/// different spellings records the same paths.
fn normalise(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub fn problem(path: &Path, outcome: Outcome, reason: &str) -> Problem {
    Problem {
        path: path.as_os_str().as_bytes().to_vec(),
        outcome,
        reason: reason.to_string(),
    }
}
