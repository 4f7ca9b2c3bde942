//! Every `--json` against the shape the README's scripting contract documents: the top-level
//! keys of each object are read from the README's table, so the two cannot drift apart.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_triage");

fn run(args: &[&str], case: &Path) -> (Option<i32>, String) {
    let o = Command::new(BIN)
        .arg("--case")
        .arg(case)
        .args(args)
        .env_remove("TRIAGE_CASE")
        .stdin(Stdio::null())
        .output()
        .expect("run triage");
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// The README's row for a command: its shape column.
fn documented(command: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let row = readme
        .lines()
        .find(|l| l.starts_with(&format!("| `{command}")))
        .unwrap_or_else(|| panic!("no README row for {command}"));
    row.splitn(3, '|').nth(2).expect("shape").to_string()
}

/// The top-level keys of the first `{...}` of a shape (`path_b64?` is optional: dropped).
fn keys_of(shape: &str) -> BTreeSet<String> {
    let start = shape.find('{').expect("an object");
    let (mut depth, mut key, mut keys, mut in_key) = (0, String::new(), BTreeSet::new(), true);
    for c in shape[start..].chars() {
        match c {
            '{' | '[' => {
                depth += 1;
                if depth == 2 {
                    in_key = false;
                }
            }
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ':' if depth == 1 => in_key = false,
            ',' if depth == 1 => in_key = true,
            _ => {}
        }
        if depth == 1 && in_key && (c.is_alphanumeric() || c == '_') {
            key.push(c);
        } else if !key.is_empty() && (!in_key || c == ',' || c == '}') {
            keys.insert(std::mem::take(&mut key));
        }
    }
    if !key.is_empty() {
        keys.insert(key);
    }
    keys
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

/// The item table of `list --json` (first column, backticked names).
fn item_keys() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = readme
        .split("`list --json` prints one JSON object per line and item:")
        .nth(1)
        .expect("item table");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| {
            l.split('|')
                .nth(1)
                .unwrap_or("")
                .split(',')
                .map(|k| k.trim().trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn every_json_output_has_the_documented_shape() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("demo");
    let o = Command::new(BIN)
        .args(["demo", "--no-open", "--dir"])
        .arg(&dir)
        .output()
        .expect("demo");
    assert!(o.status.success());
    let case = dir.join("case");
    let p = |n: &str| tmp.path().join(n).to_str().expect("utf-8").to_string();
    let o = Command::new(BIN)
        .args(["demo", "--material-only", "--dir", &p("material")])
        .output()
        .expect("material");
    assert!(o.status.success());
    run(&["view", "save", "v", "douma"], &case);
    run(&["tag", "T-000001", "--status", "triaged"], &case);
    run(&["settings", "set", "graphic-per-day", "20"], &case);
    run(
        &[
            "incident",
            "add",
            "Shelling",
            "--date",
            "2013-08-21",
            "--at",
            "33.57,36.40,3000",
        ],
        &case,
    );
    run(&["link", "T-000001", "I-0001"], &case);

    // JSON lines, each object with exactly the documented keys.
    let listed = [
        ("source list", vec!["source", "list", "--json"]),
        ("user list", vec!["user", "list", "--json"]),
        ("view list", vec!["view", "list", "--json"]),
        ("settings list", vec!["settings", "list", "--json"]),
        ("terms", vec!["terms", "--json"]),
        ("log", vec!["log", "--json"]),
        ("incident list", vec!["incident", "list", "--json"]),
        (
            "incident show",
            vec!["incident", "show", "I-0001", "--json"],
        ),
    ];
    for (name, args) in &listed {
        let want = keys_of(&documented(name));
        let got = lines(&run(args, &case).1);
        assert!(!got.is_empty(), "{name}: nothing listed");
        for v in &got {
            assert_eq!(keys(v), want, "{name}");
        }
    }
    let items = lines(&run(&["list", "--json"], &case).1);
    assert!(items.len() > 10);
    for v in &items {
        assert_eq!(keys(v), item_keys(), "list");
    }
    let show: Vec<Value> =
        vec![serde_json::from_str(&run(&["show", "T-000001", "--json"], &case).1).expect("show")];
    let extra: BTreeSet<String> = [
        "status_by",
        "status_at",
        "tag_details",
        "imported_claims",
        "bag_info",
        "notes",
        "history",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&show[0]), &item_keys() | &extra, "show");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let adds = readme
        .split("`show --json` adds")
        .nth(1)
        .expect("show's keys");
    let adds = &adds[..adds.find("\n\n").unwrap_or(adds.len())];
    for k in &extra {
        assert!(adds.contains(&format!("`{k}`")), "{k} is not documented");
    }

    // One object each.
    let bag = p("bag");
    let material = p("material/source-A-civil-defence");
    let single: Vec<(&str, Vec<&str>)> = vec![
        ("stats", vec!["stats", "--json"]),
        ("dups", vec!["dups", "--json"]),
        ("verify", vec!["verify", "--json"]),
        (
            "ingest",
            vec!["ingest", "--source", "again", "--json", &material],
        ),
        (
            "export",
            vec!["export", "--filter", "douma", "--out", &bag, "--json"],
        ),
        (
            "import",
            vec!["import", &bag, "--source", "partner", "--json"],
        ),
        (
            "doctor",
            vec!["doctor", "--json", "--case", case.to_str().expect("utf-8")],
        ),
    ];
    for (name, args) in &single {
        let out = run(args, &case).1;
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
        assert_eq!(keys(&v), keys_of(&documented(name)), "{name}");
    }
    // Nested objects the table spells out.
    let v: Value = serde_json::from_str(&run(&["verify", "--json"], &case).1).expect("verify");
    assert_eq!(
        keys(&v["chain"]),
        keys_of("{entries, head_seq, head_hash, first_broken}")
    );
    let v: Value = serde_json::from_str(&run(&["stats", "--json"], &case).1).expect("stats");
    let shape = documented("stats");
    let reviewers = &shape[shape.find("reviewers").expect("reviewers")..];
    assert_eq!(
        keys(&v["reviewers"][0]),
        keys_of(reviewers),
        "stats reviewers"
    );
    let v: Value =
        serde_json::from_str(&run(&["stats", "--wellbeing", "--json"], &case).1).expect("stats");
    let shape = documented("stats --wellbeing");
    assert_eq!(keys(&v), keys_of(&shape), "stats --wellbeing");
    let own = &shape[shape.find("own: ").expect("own")..];
    assert_eq!(keys(&v["own"]), keys_of(own), "stats --wellbeing own");
    let period = &shape[shape.find("each period").expect("period")..];
    assert_eq!(keys(&v["own"]["today"]), keys_of(period), "a period");
    let team = &shape[shape.find("`team`").expect("team")..];
    assert_eq!(keys(&v["team"]), keys_of(team), "stats --wellbeing team");
    let people = &shape[shape.find("people: ").expect("people")..];
    assert_eq!(keys(&v["team"]["people"][0]), keys_of(people), "people");
    let v: Value = serde_json::from_str(&run(&["dups", "--json"], &case).1).expect("dups");
    assert_eq!(keys(&v["groups"][0]), keys_of("{kind, refs}"));
}
