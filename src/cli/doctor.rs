//! `triage doctor`: what this machine offers triage, and in plain words what is missing and
//! the command that installs it. Exit 1 when something needed is missing.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::text::sanitize;

/// An outside program: how to ask its version, the Debian package that has it, and whether
/// triage needs it (previews and extraction) or only some uses want it.
struct Tool {
    name: &'static str,
    /// How to ask its version; None: it has no way, its presence is what counts.
    version_args: Option<&'static [&'static str]>,
    package: &'static str,
    needed: bool,
    what_for: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "ffmpeg",
        version_args: Some(&["-version"]),
        package: "ffmpeg",
        needed: true,
        what_for: "video previews and frames",
    },
    Tool {
        name: "ffprobe",
        version_args: Some(&["-version"]),
        package: "ffmpeg",
        needed: true,
        what_for: "audio and video metadata",
    },
    Tool {
        name: "pdftoppm",
        version_args: Some(&["-v"]),
        package: "poppler-utils",
        needed: true,
        what_for: "PDF page previews",
    },
    Tool {
        name: "pdftotext",
        version_args: Some(&["-v"]),
        package: "poppler-utils",
        needed: true,
        what_for: "PDF text for search",
    },
    Tool {
        name: "heif-convert",
        // Without arguments it prints its libheif version first (it has no --version).
        version_args: Some(&[]),
        package: "libheif-examples",
        needed: true,
        what_for: "HEIC photo previews",
    },
    Tool {
        name: "ssh-keygen",
        version_args: None,
        package: "openssh-client",
        needed: false,
        what_for: "signed seals (seal --sign, verify --allowed-signers)",
    },
    Tool {
        name: "sshd",
        version_args: Some(&["-V"]),
        package: "openssh-server",
        needed: false,
        what_for: "reviewers over SSH (the Match Group recipe)",
    },
];

#[derive(Serialize)]
struct Check {
    name: String,
    present: bool,
    needed: bool,
    version: Option<String>,
    path: Option<String>,
    what_for: String,
    fix: Option<String>,
}

pub fn run(case: Option<PathBuf>, json_out: bool) -> Result<ExitCode> {
    let mut checks: Vec<Check> = TOOLS.iter().map(tool).collect();
    checks.push(bagit());
    let case_report = case.as_deref().map(case_folder);
    let sshd_recipe = sshd_recipe(case.as_deref());
    let config = crate::config::load().map_err(|e| format!("{e:#}"));
    let config_files: Vec<_> = crate::config::files()
        .into_iter()
        .map(|(p, exists)| json!({"path": p.display().to_string(), "exists": exists}))
        .collect();
    let missing_needed = checks.iter().any(|c| c.needed && !c.present)
        || case_report.as_ref().is_some_and(|c| !c.ok)
        || config.is_err();
    let fix = install_command(&checks);
    if json_out {
        super::out::json_pretty(&json!({
            "ok": !missing_needed,
            "sqlite": rusqlite::version(),
            "tools": checks,
            "case": case_report,
            "sshd_recipe": sshd_recipe,
            "object_store": "not configured",
            "config": {
                "files": config_files,
                "effective": config.as_ref().ok(),
                "error": config.as_ref().err(),
            },
            "fix": fix,
        }))?;
    } else {
        super::say!("sqlite        {} (built into triage)", rusqlite::version());
        for c in &checks {
            match (&c.version, c.present) {
                (Some(v), true) => super::say!("{:<13} {v}", c.name),
                (None, true) => super::say!("{:<13} present", c.name),
                _ => super::say!(
                    "{:<13} MISSING{}: {} (for {})",
                    c.name,
                    if c.needed { "" } else { " (optional)" },
                    c.fix.as_deref().unwrap_or(""),
                    c.what_for
                ),
            }
        }
        if let Some(c) = &case_report {
            for l in &c.lines {
                super::say!("case          {l}");
            }
        }
        match &sshd_recipe {
            Some(lines) => {
                for l in lines {
                    super::say!("sshd recipe   {l}");
                }
            }
            None => super::say!(
                "sshd recipe   none found in /etc/ssh (see the README for administrators)"
            ),
        }
        super::say!("object store  not configured");
        for (path, exists) in crate::config::files() {
            let state = if exists { "read" } else { "not present" };
            super::say!("config        {} ({state})", path.display());
        }
        if let Err(e) = &config {
            super::say!("config        does not parse (the console will refuse to open): {e}");
        }
        match (&fix, missing_needed) {
            (Some(f), true) => super::say!("to fix: {f}"),
            (Some(f), false) => super::say!("everything needed is present; optional: {f}"),
            (None, false) => super::say!("everything is present"),
            (None, true) => super::say!("the case folder needs attention (above)"),
        }
    }
    Ok(if missing_needed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The first executable of that name on PATH (sshd also in /usr/sbin, often off a user's PATH).
fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if name == "sshd" {
        dirs.push("/usr/sbin".into());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn tool(t: &Tool) -> Check {
    let path = find(t.name);
    let version = path
        .as_ref()
        .zip(t.version_args)
        .and_then(|(p, args)| version_of(p, args));
    Check {
        name: t.name.into(),
        present: path.is_some(),
        needed: t.needed,
        version,
        path: path.map(|p| sanitize(&p.display().to_string()).to_string()),
        what_for: t.what_for.into(),
        fix: Some(format!("apt-get install {}", t.package)),
    }
    .settled()
}

impl Check {
    fn settled(mut self) -> Self {
        if self.present {
            self.fix = None;
        }
        self
    }
}

/// The first line the tool prints about itself (some print it on stderr), sanitized.
fn version_of(path: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let first = first.split(" Copyright").next().unwrap_or(first);
    Some(sanitize(&first.chars().take(80).collect::<String>()).to_string())
}

/// The Library of Congress BagIt tool (Python): validates exported bags elsewhere.
fn bagit() -> Check {
    let python = find("python3");
    let version = python.as_ref().and_then(|p| {
        let out = Command::new(p)
            .args([
                "-c",
                "import bagit; print('bagit', getattr(bagit, 'VERSION', ''))",
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| sanitize(String::from_utf8_lossy(&out.stdout).trim()).to_string())
    });
    Check {
        name: "bagit".into(),
        present: version.is_some(),
        needed: false,
        version,
        path: None,
        what_for: "checking bags with the Library of Congress tool".into(),
        fix: Some("python3 -m pip install bagit".into()),
    }
    .settled()
}

/// One `apt-get install` for every missing package (each named once).
fn install_command(checks: &[Check]) -> Option<String> {
    let mut pkgs: Vec<&str> = Vec::new();
    for c in checks.iter().filter(|c| !c.present) {
        if let Some(p) = c
            .fix
            .as_deref()
            .and_then(|f| f.strip_prefix("apt-get install "))
        {
            if !pkgs.contains(&p) {
                pkgs.push(p);
            }
        }
    }
    (!pkgs.is_empty()).then(|| format!("apt-get install {}", pkgs.join(" ")))
}

#[derive(Serialize)]
struct CaseReport {
    ok: bool,
    lines: Vec<String>,
}

/// Owner, group and modes of the case folder and what is in it: the group model of the
/// README (a group per case, nothing for others) made visible.
fn case_folder(dir: &Path) -> CaseReport {
    let mut lines = Vec::new();
    let mut ok = true;
    // A case whose originals are in a bucket has no objects/ (its file names the bucket).
    let objects = if dir.join(crate::store::bucket::LOCATION_FILE).is_file() {
        ("originals", dir.join(crate::store::bucket::LOCATION_FILE))
    } else {
        ("objects/", dir.join("objects"))
    };
    for (label, p) in [
        ("folder", dir.to_path_buf()),
        ("case.db", dir.join("case.db")),
        objects,
    ] {
        match std::fs::metadata(&p) {
            Ok(m) => {
                let mode = m.permissions().mode() & 0o7777;
                let others = if mode & 0o007 != 0 {
                    "  (others have access: chmod o-rwx)"
                } else {
                    ""
                };
                lines.push(format!(
                    "{label:<9} owner {} group {} mode {mode:04o}{others}",
                    owner(m.uid()),
                    group(m.gid())
                ));
            }
            Err(e) => {
                ok = false;
                lines.push(format!(
                    "{label:<9} {}: {e}",
                    sanitize(&p.display().to_string())
                ));
            }
        }
    }
    CaseReport { ok, lines }
}

fn owner(uid: u32) -> String {
    crate::identity::login_of(uid).unwrap_or_else(|_| uid.to_string())
}

/// Group names from /etc/group (the numeric id when not listed there).
fn group(gid: u32) -> String {
    std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                let id = f.nth(1)?;
                (id.parse::<u32>().ok()? == gid).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| gid.to_string())
}

/// `Match`/`ForceCommand` lines of sshd's configuration that start triage (for this case when
/// one is given).
fn sshd_recipe(case: Option<&Path>) -> Option<Vec<String>> {
    let mut files = vec![PathBuf::from("/etc/ssh/sshd_config")];
    if let Ok(rd) = std::fs::read_dir("/etc/ssh/sshd_config.d") {
        files.extend(rd.flatten().map(|e| e.path()));
    }
    let case = case.map(|c| c.display().to_string());
    let mut found = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let mut last_match = None;
        for l in text.lines().map(str::trim) {
            if l.starts_with("Match ") {
                last_match = Some(l.to_string());
            }
            let forced = l.starts_with("ForceCommand") && l.contains("triage");
            if forced && case.as_ref().is_none_or(|c| l.contains(c.as_str())) {
                if let Some(m) = last_match.take() {
                    found.push(sanitize(&m).to_string());
                }
                found.push(format!("{}: {}", f.display(), sanitize(l)));
            }
        }
    }
    (!found.is_empty()).then_some(found)
}
