//! The command line at its edges (issue 18): every subcommand with its standard output closed
//! (`| head -c 1` whose reader is gone) ends without a panic and with the status it has when
//! its output is read; exit codes are 0, 1 or 2; completions and man pages come from the
//! clap definition; the configuration file is read and checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

fn cmd(args: &[&str], case: Option<&Path>) -> Command {
    let mut c = Command::new(BIN);
    if let Some(case) = case {
        c.arg("--case").arg(case);
    }
    c.args(args)
        .env_remove("TRIAGE_CASE")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Run with standard output read to the end.
fn read(args: &[&str], case: Option<&Path>) -> Output {
    cmd(args, case)
        .stdout(Stdio::piped())
        .output()
        .expect("run triage")
}

/// Run with standard output a pipe whose read end is already closed: the first write fails
/// with EPIPE, as under `| head -c 1` once head has its byte.
fn closed(args: &[&str], case: Option<&Path>) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    cmd(args, case).stdout(writer).output().expect("run triage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command names a help text lists under "Commands:".
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

fn offered() -> Vec<String> {
    let help = String::from_utf8_lossy(&read(&["--help"], None).stdout).into_owned();
    let mut all = Vec::new();
    for c in commands_in(&help) {
        let sub = String::from_utf8_lossy(&read(&[&c, "--help"], None).stdout).into_owned();
        let actions = commands_in(&sub);
        if actions.is_empty() {
            all.push(c);
        } else {
            all.extend(actions.into_iter().map(|a| format!("{c} {a}")));
        }
    }
    all
}

struct Demo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    case: PathBuf,
}

/// A demo case, of which the login running the tests is the admin.
fn demo() -> Demo {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().to_path_buf();
    let dir = root.join("demo");
    let o = read(&["demo", "--no-open", "--dir", s(&dir)], None);
    assert!(o.status.success(), "{}", stderr(&o));
    Demo {
        _tmp: tmp,
        case: dir.join("case"),
        root,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn no_panic(args: &[&str], o: &Output) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked")
            && !err.contains("Broken pipe")
            && !err.contains("RUST_BACKTRACE"),
        "{args:?}: {err}"
    );
    let code = o.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{args:?} exited {code:?}: {err}"
    );
}

#[test]
fn every_subcommand_into_a_closed_pipe_ends_quietly_with_its_usual_status() {
    let d = demo();
    let p = |n: &str| d.root.join(n).to_str().expect("utf-8").to_string();
    let o = read(&["demo", "--material-only", "--dir", &p("material")], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let material = p("material/source-A-civil-defence");
    let (new_case, seal, bag, demo2) = (p("new"), p("seal.txt"), p("bag"), p("demo2"));
    let bag2 = p("bag2");
    // A bag to import, exported normally first.
    let o = read(
        &["export", "--filter", "douma", "--out", &bag],
        Some(&d.case),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let me = String::from_utf8_lossy(&read(&["user", "list", "--json"], Some(&d.case)).stdout)
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["login"].as_str().map(str::to_string))
        .expect("the admin");

    // Commands that only read: their status with the pipe closed must equal their status when
    // read. The others change the case, so each runs once, closed.
    let reads: Vec<(&str, Vec<&str>)> = vec![
        ("list", vec!["list", "--json"]),
        ("show", vec!["show", "T-000001"]),
        ("terms", vec!["terms"]),
        ("info", vec!["info"]),
        ("log", vec!["log"]),
        ("verify", vec!["verify", "--json"]),
        ("source list", vec!["source", "list"]),
        ("user list", vec!["user", "list"]),
        ("view list", vec!["view", "list", "--json"]),
        ("incident list", vec!["incident", "list", "--json"]),
        ("incident show", vec!["incident", "show", "I-0001"]),
        ("incident claims", vec!["incident", "claims"]),
        ("stats", vec!["stats"]),
        ("settings list", vec!["settings", "list"]),
        ("doctor", vec!["doctor"]),
        ("completions", vec!["completions", "bash"]),
        ("man", vec!["man"]),
        ("open", vec!["open"]),
    ];
    // An incident for the reads above (made before them, read into an open pipe).
    let o = read(
        &["incident", "add", "Shelling", "--date", "2013-08-21"],
        Some(&d.case),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let writes: Vec<(&str, Vec<&str>)> = vec![
        ("init", vec!["init", &new_case]),
        ("incident add", vec!["incident", "add", "Siege"]),
        (
            "incident set",
            vec!["incident", "set", "I-0002", "--status", "closed"],
        ),
        ("link", vec!["link", "T-000002", "I-0001"]),
        ("incident merge", vec!["incident", "merge", "9", "--new"]),
        ("ingest", vec!["ingest", "--source", "x", &material]),
        ("tag", vec!["tag", "T-000002", "--add", "graphic"]),
        ("seal", vec!["seal", "--out", &seal]),
        ("source add", vec!["source", "add", "y"]),
        ("source set", vec!["source", "set", "y", "--kind", "cso"]),
        ("user add", vec!["user", "add", "bob", "--role", "reviewer"]),
        ("user set", vec!["user", "set", "bob", "--role", "lead"]),
        ("user disable", vec!["user", "disable", "bob"]),
        ("user enable", vec!["user", "enable", "bob"]),
        ("assign", vec!["assign", "--filter", "douma", "--to", &me]),
        ("review sample", vec!["review", "sample", "100"]),
        ("review confirm", vec!["review", "confirm", "T-000002"]),
        (
            "export",
            vec!["export", "--filter", "aleppo", "--out", &bag2],
        ),
        (
            "import",
            vec!["import", &bag, "--source", "partner", "--json"],
        ),
        ("dups", vec!["dups"]),
        ("view save", vec!["view", "save", "v", "douma"]),
        ("view delete", vec!["view", "delete", "v"]),
        ("reindex", vec!["reindex"]),
        ("settings set", vec!["settings", "set", "pause-after", "10"]),
        ("demo", vec!["demo", "--no-open", "--dir", &demo2]),
    ];
    for name in offered() {
        assert!(
            reads.iter().chain(&writes).any(|(n, _)| *n == name),
            "`triage {name}` is not run into a closed pipe by this test"
        );
    }
    for (_, args) in &reads {
        let shut = closed(args, Some(&d.case));
        no_panic(args, &shut);
        let open = read(args, Some(&d.case));
        assert_eq!(
            shut.status.code(),
            open.status.code(),
            "{args:?}: closed pipe {}, read {}",
            stderr(&shut),
            stderr(&open)
        );
    }
    for (_, args) in &writes {
        let shut = closed(args, Some(&d.case));
        no_panic(args, &shut);
    }
    // The changes went in although nobody read about them.
    let log = String::from_utf8_lossy(&read(&["log", "--json"], Some(&d.case)).stdout).into_owned();
    for event in ["\"user.add\"", "\"view.save\"", "\"export\""] {
        assert!(log.contains(event), "{event} not in the log");
    }
    assert!(Path::new(&new_case).join("case.db").is_file());
    // With stderr closed too (`2>&1 | head -c 1`), a refusal keeps its status: no panic (101).
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let both = cmd(
        &[
            "export",
            "--filter",
            "nothing-matches-this",
            "--out",
            &p("none"),
        ],
        Some(&d.case),
    )
    .stdout(writer.try_clone().expect("clone"))
    .stderr(writer)
    .status()
    .expect("run");
    assert_eq!(both.code(), Some(1));
    // Usage errors are 2, from clap and from our own checks alike.
    for args in [
        vec!["list", "--nope"],
        vec![
            "export",
            "--filter",
            "x",
            "--out",
            "y",
            "--algorithms",
            "crc",
        ],
    ] {
        assert_eq!(
            closed(&args, Some(&d.case)).status.code(),
            Some(2),
            "{args:?}"
        );
    }
}

#[test]
fn a_broken_case_keeps_verify_failing_into_a_closed_pipe() {
    let d = demo();
    // An original altered on disk: verify finds it and fails, whether or not anyone reads.
    let obj = walk(&d.case.join("objects"))
        .into_iter()
        .next()
        .expect("an object");
    let mut perm = std::fs::metadata(&obj).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&obj, perm).expect("chmod");
    std::fs::write(&obj, b"altered").expect("alter");
    assert_eq!(read(&["verify"], Some(&d.case)).status.code(), Some(1));
    let shut = closed(&["verify"], Some(&d.case));
    no_panic(&["verify"], &shut);
    assert_eq!(shut.status.code(), Some(1));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn bash_completion_completes_ver_to_verify() {
    if Command::new("bash").arg("--version").output().is_err() {
        return;
    }
    let script = String::from_utf8(read(&["completions", "bash"], None).stdout).expect("utf-8");
    let test = format!(
        "{script}\nCOMP_WORDS=(triage ver); COMP_CWORD=1; _triage triage ver triage; echo \"${{COMPREPLY[@]}}\"\n"
    );
    let o = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(test)
        .output()
        .expect("bash");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "verify",
        "{}",
        stderr(&o)
    );
    for shell in ["zsh", "fish"] {
        let o = read(&["completions", shell], None);
        assert!(o.status.success() && o.stdout.len() > 1000, "{shell}");
    }
}

#[test]
fn man_pages_are_made_for_triage_and_every_subcommand() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = read(&["man", "--dir", s(tmp.path())], None);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in [
        "triage.1",
        "triage-verify.1",
        "triage-source-list.1",
        "triage-doctor.1",
    ] {
        let text = std::fs::read_to_string(tmp.path().join(page)).expect(page);
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let o = read(&["man"], None);
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(".TH triage 1") && page.contains("verify"));
}

/// A PATH of symlinks to the tools this machine has, without those named.
fn path_without(tmp: &Path, left_out: &[&str]) -> PathBuf {
    let bin = tmp.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let tools = [
        "ffmpeg",
        "ffprobe",
        "pdftoppm",
        "pdftotext",
        "heif-convert",
        "ssh-keygen",
        "python3",
    ];
    let path = std::env::var_os("PATH").unwrap_or_default();
    for t in tools.iter().filter(|t| !left_out.contains(t)) {
        if let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join(t))
            .find(|p| p.is_file())
        {
            std::os::unix::fs::symlink(found, bin.join(t)).expect("symlink");
        }
    }
    bin
}

#[test]
fn doctor_names_a_missing_ffmpeg_with_its_install_command_and_exits_1() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bin = path_without(tmp.path(), &["ffmpeg", "ffprobe"]);
    let o = cmd(&["doctor"], None)
        .env("PATH", &bin)
        .stdout(Stdio::piped())
        .output()
        .expect("doctor");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("ffmpeg "))
        .expect("an ffmpeg line");
    assert!(
        line.contains("MISSING") && line.contains("apt-get install ffmpeg"),
        "{line}"
    );
    assert!(out.contains("to fix: apt-get install ffmpeg"), "{out}");

    let o = cmd(&["doctor", "--json"], None)
        .env("PATH", &bin)
        .stdout(Stdio::piped())
        .output()
        .expect("doctor");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let ffmpeg = v["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["name"] == "ffmpeg")
        .expect("ffmpeg");
    assert_eq!(ffmpeg["present"], false);
    assert_eq!(ffmpeg["fix"], "apt-get install ffmpeg");
    assert_eq!(v["ok"], false);
}

/// Under CI the machine is set up with every tool (.ci/run installs them): doctor says so.
#[test]
fn doctor_on_the_ci_machine_reports_every_tool_present() {
    if std::env::var_os("CI").is_none() {
        return;
    }
    let o = read(&["doctor", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    for t in v["tools"].as_array().expect("tools") {
        assert_eq!(t["present"], true, "{t}");
    }
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn doctor_reports_the_case_folder_and_the_configuration() {
    let d = demo();
    let xdg = d.root.join("xdg");
    std::fs::create_dir_all(xdg.join("triage")).expect("xdg");
    std::fs::write(
        xdg.join("triage/config.toml"),
        "preview_budget = 4096\nimages = \"off\"\n",
    )
    .expect("config");
    let o = cmd(&["doctor", "--json"], Some(&d.case))
        .env("XDG_CONFIG_HOME", &xdg)
        .stdout(Stdio::piped())
        .output()
        .expect("doctor");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["config"]["effective"]["preview_budget"], 4096);
    assert_eq!(v["config"]["effective"]["images"], "off");
    assert_eq!(v["object_store"], "not configured");
    let lines = v["case"]["lines"].as_array().expect("case lines");
    assert!(
        lines.iter().any(|l| l
            .as_str()
            .is_some_and(|l| l.starts_with("case.db") && l.contains("mode"))),
        "{lines:?}"
    );

    // A file that does not parse is named, and doctor fails.
    std::fs::write(xdg.join("triage/config.toml"), "budget = 1\n").expect("config");
    let o = cmd(&["doctor"], Some(&d.case))
        .env("XDG_CONFIG_HOME", &xdg)
        .stdout(Stdio::piped())
        .output()
        .expect("doctor");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("does not parse"));
}
