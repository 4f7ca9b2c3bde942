//! `triage dups`: exact duplicates (one item received several times) and similar images
//! (re-encoded or resized copies), with fingerprints computed when first needed.

use std::path::Path;
use std::process::Command;

use triage::demo::{jpeg, PhotoSpec};

fn triage(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .output()
        .expect("run triage")
}

fn photo(seed: u8) -> Vec<u8> {
    jpeg(&PhotoSpec {
        width: 320,
        height: 240,
        seed,
        make: "Canon",
        model: "X",
        software: None,
        taken: "2013-08-21T02:47:13",
        gps: None,
        orientation: 1,
    })
}

fn reencode(bytes: &[u8], scale: f32, quality: u8) -> Vec<u8> {
    let img = image::load_from_memory(bytes).expect("decode");
    let (w, h) = (
        (img.width() as f32 * scale) as u32,
        (img.height() as f32 * scale) as u32,
    );
    let img = img
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(enc).expect("encode");
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(name), bytes).expect("write");
}

#[test]
fn exact_and_similar_groups() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let original = photo(10);
    write(&a, "original.jpg", &original);
    write(&a, "other.jpg", &photo(200));
    write(&b, "resized.jpg", &reencode(&original, 0.6, 80));
    write(&b, "reencoded.jpg", &reencode(&original, 1.0, 45));
    write(&b, "same-bytes.jpg", &original);
    let case_s = case.to_str().expect("utf8");
    assert!(triage(&["init", case_s]).status.success());
    for (src, dir) in [("A", &a), ("B", &b)] {
        let out = triage(&[
            "--case",
            case_s,
            "ingest",
            "--source",
            src,
            "--json",
            dir.to_str().expect("utf8"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = triage(&["--case", case_s, "dups", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let groups = v["groups"].as_array().expect("groups");
    let refs = |kind: &str| -> Vec<Vec<String>> {
        groups
            .iter()
            .filter(|g| g["kind"] == kind)
            .map(|g| {
                g["refs"]
                    .as_array()
                    .expect("refs")
                    .iter()
                    .map(|r| r.as_str().expect("ref").to_string())
                    .collect()
            })
            .collect()
    };
    // original.jpg is T-000001 (walk order), other.jpg T-000002, then B's files.
    assert_eq!(refs("exact"), vec![vec!["T-000001".to_string()]]);
    let similar = refs("similar");
    assert_eq!(similar.len(), 1, "{v}");
    assert!(similar[0].contains(&"T-000001".to_string()), "{v}");
    assert_eq!(similar[0].len(), 3, "original, resized and re-encoded: {v}");
    assert!(
        !similar[0].contains(&"T-000002".to_string()),
        "a different photo joined: {v}"
    );
}
