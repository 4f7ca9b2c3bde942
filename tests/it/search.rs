//! Search: the full-text index with Arabic folding (each rule through the real FTS path),
//! mixed Arabic/English text, near:, dup:, the index kept in step with notes and ingest, the
//! migration of an existing case, and the filter parser's errors.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::PathBuf;

use triage::demo::{jpeg, PhotoSpec};
use triage::store::changes::{self, Edit};
use triage::store::query::{compile_filter, Selection, View};
use triage::store::Case;
use triage::taxonomy::Taxonomy;

/// The case's database on a connection of the test's own, as a checker or an intruder opens it
/// (the case's own connection is private to the store).
fn sql(case: &triage::store::Case) -> rusqlite::Connection {
    let conn =
        rusqlite::Connection::open(case.root.join(triage::store::DB_FILE)).expect("open case.db");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    conn
}

struct Fixture {
    _tmp: tempfile::TempDir,
    input: PathBuf,
    case: Case,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tmp");
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).expect("mkdir");
    let case = Case::init(&tmp.path().join("case"), "tester").expect("init");
    Fixture {
        _tmp: tmp,
        input,
        case,
    }
}

impl Fixture {
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.input.join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, bytes).expect("write");
        p
    }

    fn ingest(&mut self, source: &str, roots: Vec<PathBuf>) {
        let s = triage::ingest::run(
            &mut self.case,
            &triage::ingest::Options {
                source: source.into(),
                roots,
                actor: "tester".into(),
                progress: false,
                fingerprints: false,
                limits: Default::default(),
            },
        )
        .expect("ingest");
        assert_eq!(s.failed, 0);
    }

    fn ingest_all(&mut self) {
        let root = self.input.clone();
        self.ingest("A", vec![root]);
    }

    /// Names of the items the filter selects, sorted.
    fn find(&self, expr: &str) -> Vec<String> {
        let tax = Taxonomy::default_set();
        let w = compile_filter(expr, &tax).unwrap_or_else(|e| panic!("{}", e.pointer(expr)));
        let sel = Selection::new(&View::All, "tester", w);
        let rows = sel.after(&self.case, None, 1000).expect("query");
        assert_eq!(
            sel.count(&self.case).expect("count"),
            rows.len() as u64,
            "count and rows agree for {expr}"
        );
        let mut names: Vec<String> = rows.into_iter().map(|r| r.name).collect();
        names.sort();
        names
    }
}

/// The text holds one spelling, the query another; they differ only by one folding rule.
/// Checked both ways round, with a decoy that must never match.
fn differ_only_by(rule: &str, in_text: &str, in_query: &str) {
    assert_ne!(in_text, in_query, "{rule}: the two spellings must differ");
    let mut f = fixture();
    f.write(
        "target.txt",
        format!("شهادة: {in_text} في المدينة\n").as_bytes(),
    );
    f.write("decoy.txt", "شهادة أخرى عن قصف السوق\n".as_bytes());
    f.ingest_all();
    assert_eq!(
        f.find(in_query),
        vec!["target.txt"],
        "{rule}: query {in_query:?}"
    );
    assert_eq!(
        f.find(&format!("\"{in_query}\"")),
        vec!["target.txt"],
        "{rule}: phrase {in_query:?}"
    );
    let mut g = fixture();
    g.write(
        "target.txt",
        format!("شهادة: {in_query} في المدينة\n").as_bytes(),
    );
    g.write("decoy.txt", "شهادة أخرى عن قصف السوق\n".as_bytes());
    g.ingest_all();
    assert_eq!(g.find(in_text), vec!["target.txt"], "{rule}: reversed");
}

#[test]
fn fold_tashkeel() {
    differ_only_by("tashkeel", "مُحَمَّد", "محمد");
}

#[test]
fn fold_tatweel() {
    differ_only_by("tatweel", "ســوريا", "سوريا");
}

#[test]
fn fold_alef_hamza_above() {
    differ_only_by("أ → ا", "أحمد", "احمد");
}

#[test]
fn fold_alef_hamza_below() {
    differ_only_by("إ → ا", "إبراهيم", "ابراهيم");
}

#[test]
fn fold_alef_madda() {
    differ_only_by("آ → ا", "آمن", "امن");
}

#[test]
fn fold_alef_wasla() {
    differ_only_by("ٱ → ا", "ٱلقصير", "القصير");
}

#[test]
fn fold_taa_marbuta() {
    differ_only_by("ة → ه", "مدرسة", "مدرسه");
}

#[test]
fn fold_alef_maqsura() {
    differ_only_by("ى → ي", "مصطفى", "مصطفي");
}

#[test]
fn fold_waw_hamza() {
    differ_only_by("ؤ → و", "سؤال", "سوال");
}

#[test]
fn fold_yaa_hamza() {
    differ_only_by("ئ → ي", "رئيس", "رييس");
}

#[test]
fn fold_arabic_indic_digits() {
    differ_only_by("Arabic-Indic digits", "٢٠١٣", "2013");
}

#[test]
fn fold_persian_digits() {
    differ_only_by("Persian digits", "۲۰۱۳", "2013");
}

#[test]
fn fold_latin_case() {
    differ_only_by("Latin case", "DOUMA", "douma");
}

#[test]
fn fold_latin_accents() {
    differ_only_by("Latin accents", "Dūmā", "Duma");
}

#[test]
fn mixed_arabic_and_english_text() {
    let mut f = fixture();
    f.write(
        "mixed.txt",
        "Witness statement: shelling in دوما on 21 August 2013, الغوطة الشرقية\n".as_bytes(),
    );
    f.write("english.txt", b"Witness statement: shelling in Aleppo\n");
    f.write("arabic.txt", "إفادة شاهد عن القصف في دوما\n".as_bytes());
    f.ingest_all();
    assert_eq!(f.find("دوما shelling"), vec!["mixed.txt"]);
    assert_eq!(f.find("\"in دوما on\""), vec!["mixed.txt"]);
    assert_eq!(f.find("دوما"), vec!["arabic.txt", "mixed.txt"]);
    assert_eq!(f.find("shelling"), vec!["english.txt", "mixed.txt"]);
    // Words match as prefixes; phrases in order only.
    assert_eq!(f.find("shell"), vec!["english.txt", "mixed.txt"]);
    assert!(f.find("\"shelling witness\"").is_empty());
    assert_eq!(
        f.find("الغوطه"),
        vec!["mixed.txt"],
        "ة folded in text and query"
    );
    assert_eq!(f.find("shelling -دوما"), vec!["english.txt"]);
    assert_eq!(f.find("aleppo OR إفادة"), vec!["arabic.txt", "english.txt"]);
    // Names (file names and paths) are indexed too.
    assert_eq!(f.find("english"), vec!["english.txt"]);
}

#[test]
fn the_index_follows_notes_and_undo() {
    let mut f = fixture();
    f.write("a.txt", b"nothing special\n");
    f.ingest_all();
    assert!(f.find("checkpoint").is_empty());
    let tax = Taxonomy::default_set();
    changes::apply(
        &mut f.case,
        &tax,
        "tester",
        &Edit::Note {
            item: 1,
            body: "Seen at the Qaboun checkpoint".into(),
        },
    )
    .expect("note");
    assert_eq!(f.find("checkpoint qaboun"), vec!["a.txt"]);
    changes::undo(&mut f.case, "tester").expect("undo");
    assert!(
        f.find("checkpoint").is_empty(),
        "a retracted note is not found"
    );
}

#[test]
fn the_index_follows_ingest_and_duplicates_received_again() {
    let mut f = fixture();
    let first = f.write("batch1/report.txt", b"first report\n");
    f.ingest("A", vec![first.parent().expect("dir").to_path_buf()]);
    assert!(f.find("zabadani").is_empty());
    assert!(f.find("dup:exact").is_empty());
    // The same content again, under a telling name from another provider.
    let again = f.write("batch2/zabadani_copy.txt", b"first report\n");
    let other = f.write("batch2/other.txt", b"a second, different report\n");
    let _ = other;
    f.ingest("B", vec![again.parent().expect("dir").to_path_buf()]);
    assert_eq!(
        f.find("zabadani"),
        vec!["report.txt"],
        "found by its new path"
    );
    assert_eq!(f.find("dup:exact"), vec!["report.txt"]);
    assert_eq!(f.find("dup:yes"), vec!["report.txt"]);
    // source: is a provider-name prefix, folded; any provider that sent the item counts.
    assert_eq!(f.find("source:b first"), vec!["report.txt"]);
    assert_eq!(f.find("source:a"), vec!["report.txt"]);
    assert_eq!(f.find("second"), vec!["other.txt"], "a new item is indexed");
    assert_eq!(f.find("-dup:yes"), vec!["other.txt"]);
}

#[test]
fn dup_similar_follows_the_recorded_groups() {
    let mut f = fixture();
    f.write("a.txt", b"one\n");
    f.write("b.txt", b"two\n");
    f.write("c.txt", b"three\n");
    f.ingest_all();
    assert!(f.find("dup:similar").is_empty());
    f.case
        .write(|tx| triage::store::dups::record_similar_groups(tx, &[vec![1, 3]]))
        .expect("groups");
    assert_eq!(f.find("dup:similar"), vec!["a.txt", "c.txt"]);
    assert_eq!(f.find("dup:yes"), vec!["a.txt", "c.txt"]);
}

fn photo(seed: u8, gps: Option<(f64, f64, f64)>) -> Vec<u8> {
    jpeg(&PhotoSpec {
        width: 64,
        height: 48,
        seed,
        make: "Canon",
        model: "EOS",
        software: None,
        taken: "2013:08:21 06:10:00",
        gps,
        orientation: 1,
    })
}

#[test]
fn near_finds_photos_within_the_distance() {
    let mut f = fixture();
    f.write("douma.jpg", &photo(1, Some((33.5711, 36.4019, 700.0))));
    f.write("damascus.jpg", &photo(2, Some((33.5138, 36.2765, 700.0))));
    f.write("aleppo.jpg", &photo(3, Some((36.2021, 37.1343, 400.0))));
    f.write("nogps.jpg", &photo(4, None));
    f.ingest_all();
    assert_eq!(f.find("near:33.57,36.40,5"), vec!["douma.jpg"]);
    // Damascus is about 13 km from Douma.
    assert_eq!(
        f.find("near:33.57,36.40,20"),
        vec!["damascus.jpg", "douma.jpg"]
    );
    assert_eq!(f.find("near:36.2,37.13,1"), vec!["aleppo.jpg"]);
    assert_eq!(
        f.find("type:image -near:33.57,36.40,20"),
        vec!["aleppo.jpg", "nogps.jpg"]
    );
}

#[test]
fn an_existing_case_is_migrated_with_its_items_indexed() {
    let mut f = fixture();
    f.write("douma.jpg", &photo(1, Some((33.5711, 36.4019, 700.0))));
    f.write("statement.txt", "إفادة عن مدرسة في حمص\n".as_bytes());
    f.write(
        "twice/statement copy.txt",
        "إفادة عن مدرسة في حمص\n".as_bytes(),
    );
    f.ingest_all();
    let root = f.case.root.clone();
    // Back to the schema before search, as a case written by the previous version.
    sql(&f.case)
        .execute_batch(
            "DROP TABLE search; DROP TABLE item_geo;
             DROP TABLE saved_views; DROP TABLE received_again; DROP INDEX items_captured;
             DROP INDEX items_created; DROP TABLE users; DROP TABLE claims;
             DROP TABLE assignments; DROP TABLE reviews; DROP TABLE imported_claims;
             DROP TABLE bag_info; DROP TABLE kept_previews;
             DROP TABLE exposures; DROP TABLE limit_answers; DROP TABLE case_settings;
             DROP INDEX provenance_parent; ALTER TABLE provenance DROP COLUMN parent_id;
             ALTER TABLE provenance DROP COLUMN ordinal;
             ALTER TABLE provenance DROP COLUMN inner_path;
             DROP TABLE incidents; DROP TABLE incident_links; DROP TABLE recent_incidents;
             DROP TABLE imported_incidents;
             PRAGMA user_version = 5;",
        )
        .expect("downgrade");
    let Fixture { _tmp, input, case } = f;
    drop(case);
    let f = Fixture {
        _tmp,
        input,
        case: Case::open(&root).expect("reopen migrates"),
    };
    assert_eq!(f.find("مدرسه حمص"), vec!["statement.txt"]);
    assert_eq!(f.find("near:33.57,36.40,1"), vec!["douma.jpg"]);
    assert_eq!(f.find("dup:exact"), vec!["statement.txt"]);
    assert_eq!(
        f.find("copy"),
        vec!["statement.txt"],
        "every received path is a name"
    );
}

fn parse_error(expr: &str) -> (usize, String) {
    let tax = Taxonomy::default_set();
    match compile_filter(expr, &tax) {
        Err(e) => (e.pos, e.message),
        Ok(_) => panic!("{expr} should not compile"),
    }
}

#[test]
fn filter_errors_say_where_and_what_was_expected() {
    let (pos, msg) = parse_error("douma near:33.5,36");
    assert_eq!(pos, 11);
    assert!(msg.contains("near:LAT,LON,KM"), "{msg}");
    let (pos, msg) = parse_error("near:33.5,x,10");
    assert_eq!(pos, 5);
    assert!(msg.contains("longitude"), "{msg}");
    let (pos, msg) = parse_error("near:95,36,10");
    assert_eq!(pos, 5);
    assert!(msg.contains("90"), "{msg}");
    let (pos, msg) = parse_error("type:image dup:maybe");
    assert_eq!(pos, 15);
    assert!(msg.contains("exact") && msg.contains("similar"), "{msg}");
    let (pos, msg) = parse_error("(douma OR حمص");
    assert_eq!(pos, 13);
    assert!(msg.contains("`)`"), "{msg}");
    let (pos, msg) = parse_error("دوما colour:red");
    assert_eq!(pos, 5);
    assert!(msg.contains("near:") && msg.contains("dup:"), "{msg}");
    let (pos, msg) = parse_error("crime:zzz");
    assert_eq!(pos, 6);
    assert!(msg.contains("English or Arabic"), "{msg}");
    let (pos, _) = parse_error("captured:2013-08..x");
    assert_eq!(pos, 9);
    let (pos, _) = parse_error("douma OR");
    assert_eq!(pos, 8);
}

#[test]
fn valid_filters_compile() {
    let tax = Taxonomy::default_set();
    for expr in [
        "دوما",
        "\"barrel bomb\" status:untriaged",
        "crime:torture party:gov",
        "flag:graphic OR flag:مشاهد crime:التعذيب",
        "captured:2013-08-01..2013-08-31 type:image",
        "received:..2024-12-31",
        "near:33.57,36.40,10 dup:yes",
        "-(source:A OR by:alice) dup:similar",
        "!!!",
    ] {
        assert!(
            compile_filter(expr, &tax).is_ok(),
            "{expr}: {:?}",
            compile_filter(expr, &tax).err()
        );
    }
}
