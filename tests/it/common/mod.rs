//! Helpers shared by the test files: a demo case, and the console's screen as text.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
#![allow(dead_code)] // each test file uses some of them

use std::path::{Path, PathBuf};
use std::process::Command;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use triage::console::theme::Theme;
use triage::console::{ui, Console};

/// The built-in demo case (`triage demo --no-open`), in `DIR/case`: built once per test
/// binary and copied for each test, since building it decodes and fingerprints its images.
pub fn demo_case(dir: &Path) -> PathBuf {
    static BUILT: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(["demo", "--no-open", "--dir"])
            .arg(tmp.path())
            .env_remove("TRIAGE_CASE")
            .output()
            .expect("run triage demo");
        assert!(
            out.status.success(),
            "triage demo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmp
    });
    // cp -a keeps the objects read-only and the case's files as they are (the demo process
    // has exited, so the database is checkpointed and closed).
    let out = Command::new("cp")
        .arg("-a")
        .arg(built.path().join("."))
        .arg(dir)
        .output()
        .expect("cp");
    assert!(out.status.success(), "copy the demo case: {out:?}");
    dir.join("case")
}

/// The console drawn without colour into a `w`×`h` test terminal, row by row.
pub fn screen(c: &Console, w: u16, h: u16) -> String {
    state_screen(&c.state, &c.keymap, w, h)
}

/// A console state drawn as `screen` draws it.
pub fn state_screen(
    state: &triage::console::state::State,
    keymap: &triage::console::keymap::Keymap,
    w: u16,
    h: u16,
) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("term");
    term.draw(|f| ui::render(state, keymap, &Theme::mono(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Make `login` a member of the case with `role`, as the case's admin (the login running the
/// tests, who made it).
pub fn add_member(case: &mut triage::store::Case, login: &str, role: triage::store::users::Role) {
    triage::store::users::change(
        case,
        &triage::identity::login_name().expect("login"),
        login,
        triage::store::users::PeopleChange::Add(role),
    )
    .expect("add a member");
}

/// The console on the case in `dir`, acting as `login`, in a `w`×`h` terminal.
pub fn console(dir: &Path, login: &str, w: u16, h: u16) -> Console {
    let case = triage::store::Case::open(dir).expect("open the case");
    Console::new(
        case,
        triage::taxonomy::Taxonomy::default_set(),
        login.into(),
        triage::console::keymap::Keymap::defaults(),
        w,
        h,
    )
}

/// The case's database on a connection of the test's own, as a checker or an intruder opens it
/// (the case's own connection is private to the store).
pub fn sql(case: &triage::store::Case) -> rusqlite::Connection {
    let conn =
        rusqlite::Connection::open(case.root.join(triage::store::DB_FILE)).expect("open case.db");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    conn
}

/// `triage --case CASE ARGS...` with a clean environment for the case, its output captured.
pub fn triage(case: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .env_remove("TRIAGE_CASE")
        .arg("--case")
        .arg(case)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run triage")
}

/// A command's stdout and stderr together, for messages and assertions.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// True when the outside tool `tool` runs; false (the test skipped, said aloud) when it is not
/// installed outside CI; a failure under `CI=true`, where `.ci/run` installs it.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-h")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is not installed: .ci/run installs ffmpeg and poppler-utils"
        );
        eprintln!("SKIPPED: {tool} is not installed (apt-get install ffmpeg poppler-utils)");
    }
    ok
}

/// A case made by "ada" at `dir`, holding the demo material (written under `material`),
/// ingested by ada without fingerprints: the start of the team and custody tests.
pub fn ada_case_with_demo_material(dir: &Path, material: &Path) -> triage::store::Case {
    let mut case = triage::store::Case::init(dir, "ada").expect("init");
    for (source, path) in triage::demo::write_material(material).expect("material") {
        triage::ingest::run(
            &mut case,
            &triage::ingest::Options {
                source,
                roots: vec![path],
                actor: "ada".into(),
                progress: false,
                fingerprints: false,
                limits: Default::default(),
            },
        )
        .expect("ingest");
    }
    case
}

/// For a test that measures its process's peak memory: with every test in one binary, other
/// tests' memory would count, so the test runs itself alone in a child of the test binary.
/// True in that child (go on with the test); in the parent, runs the child, asserts that it
/// passed, and gives false (return at once).
pub fn alone(test: &str) -> bool {
    const ALONE: &str = "TRIAGE_TEST_ALONE";
    if std::env::var_os(ALONE).is_some() {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", test, "--test-threads=1", "--nocapture"])
        .env(ALONE, "1")
        .output()
        .expect("run the test alone");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
