//! `triage demo --dir D` builds the demo in D, replacing only what an earlier demo wrote there:
//! a folder holding someone else's files is refused and left as it was.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn demo(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("demo")
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .env_remove("TRIAGE_CASE")
        .stdin(Stdio::null())
        .output()
        .expect("run triage demo")
}

#[test]
fn demo_refuses_a_folder_with_files_it_did_not_make() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path().join("mine");
    std::fs::create_dir_all(d.join("material")).expect("mkdir");
    std::fs::create_dir_all(d.join("case")).expect("mkdir");
    std::fs::write(d.join("notes.txt"), b"my notes").expect("write");
    std::fs::write(d.join("material/keep.txt"), b"keep").expect("write");
    std::fs::write(d.join("case/keep.txt"), b"keep too").expect("write");
    for extra in [&["--no-open"][..], &["--material-only"][..]] {
        let out = demo(&d, extra);
        assert!(
            !out.status.success(),
            "{extra:?}: accepted a folder with files"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a demo folder"), "{err}");
        assert_eq!(
            std::fs::read(d.join("notes.txt")).expect("kept"),
            b"my notes"
        );
        assert_eq!(
            std::fs::read(d.join("material/keep.txt")).expect("kept"),
            b"keep"
        );
        assert_eq!(
            std::fs::read(d.join("case/keep.txt")).expect("kept"),
            b"keep too"
        );
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .expect("read")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["case", "material", "notes.txt"], "nothing added");
    }

    // A new folder gets the demo; running it again re-opens the same case.
    let e = tmp.path().join("demo");
    let first = demo(&e, &["--no-open"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = demo(&e, &["--no-open"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(first.stdout, again.stdout, "the same case listed twice");
}
