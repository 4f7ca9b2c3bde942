//! The overview (`O`): counts from the store, bars, histogram and map drawn at 80×24 and
//! 120×40 without colour, and Enter on a bar filtering the queue.

use crate::common;
use common::{demo_case, screen};

use std::path::{Path, PathBuf};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;

use triage::console::keymap::Keymap;
use triage::console::state::{Mode, Section};
use triage::console::theme::Theme;
use triage::console::{overview, ui, Console};
use triage::store::changes::{self, Edit};
use triage::store::query::View;
use triage::store::Case;
use triage::taxonomy::Taxonomy;

/// The demo case with a few decisions: items 1 and 2 tagged (gas attack, government forces,
/// graphic), item 1 triaged, item 3 escalated.
fn tagged_case(tmp: &Path) -> PathBuf {
    let dir = demo_case(tmp);
    let mut case = Case::open(&dir).expect("open");
    let tax = Taxonomy::default_set();
    // The decisions below are made by "rev", a reviewer of the case.
    common::add_member(&mut case, "rev", triage::store::users::Role::Reviewer);
    for edit in [
        Edit::Tags {
            items: vec![1, 2],
            add: vec!["wcn-gases".into(), "gov-forces".into(), "graphic".into()],
            remove: vec![],
        },
        Edit::Tags {
            items: vec![2],
            add: vec!["wcn-attack-civilians".into()],
            remove: vec![],
        },
        Edit::Status {
            items: vec![1],
            to: "triaged".into(),
            reason: None,
        },
        Edit::Status {
            items: vec![3],
            to: "escalated".into(),
            reason: Some("check".into()),
        },
    ] {
        changes::apply(&mut case, &tax, "rev", &edit).expect("apply");
    }
    dir
}

fn console(dir: &Path, w: u16, h: u16) -> Console {
    common::console(dir, "rev", w, h)
}

fn key(c: &mut Console, code: KeyCode) {
    c.key(KeyEvent::from(code));
    c.settle();
}

fn count(case: &Case, sql: &str) -> u64 {
    common::sql(case)
        .query_row(sql, [], |r| r.get::<_, i64>(0))
        .expect("count") as u64
}

#[test]
fn the_store_counts_a_known_case() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    let case = Case::open(&dir).expect("open");
    let tax = Taxonomy::default_set();
    let ov = triage::store::overview::compute(&case, &tax).expect("overview");
    let total = count(&case, "SELECT count(*) FROM items");
    assert_eq!(ov.total, total);
    let status = |s: &str| ov.by_status.iter().find(|(k, _)| k == s).map(|(_, n)| *n);
    assert_eq!(status("triaged"), Some(1));
    assert_eq!(status("escalated"), Some(1));
    assert_eq!(status("untriaged"), Some(total - 2));
    assert_eq!(
        ov.by_crime,
        vec![
            ("wcn-gases".to_string(), 2),
            ("wcn-attack-civilians".to_string(), 1)
        ]
    );
    // Item 2 has two crimes of one category: counted once there.
    assert_eq!(
        ov.by_crime_group,
        vec![(
            "War crimes (non-international armed conflict)".to_string(),
            2
        )]
    );
    assert_eq!(ov.by_party, vec![("gov-forces".to_string(), 2)]);
    assert_eq!(ov.by_flag, vec![("graphic".to_string(), 2)]);
    // The photo sent by two providers counts once under each.
    for (source, n) in &ov.by_source {
        let want = count(
            &case,
            &format!("SELECT count(DISTINCT item_id) FROM provenance WHERE source = '{source}'"),
        );
        assert_eq!(*n, want, "{source}");
    }
    assert_eq!(ov.by_source.len(), 3);
    let dated = count(
        &case,
        "SELECT count(*) FROM items WHERE captured_at LIKE '2013-08%'",
    );
    assert!(dated >= 18);
    assert!(ov.by_month.contains(&("2013-08".to_string(), dated)));
    assert_eq!(
        ov.undated,
        total - ov.by_month.iter().map(|(_, n)| n).sum::<u64>()
    );
    let located = count(
        &case,
        "SELECT count(*) FROM items WHERE json_extract(metadata, '$.exif.gps.lat') IS NOT NULL",
    );
    assert!(located > 10);
    assert_eq!(ov.located, located);
    // Demo photos are in Syria: the map shows Syria.
    let o = overview::build(ov, &tax);
    assert_eq!(o.map_bounds, overview::SYRIA);
}

#[test]
fn the_overview_draws_bars_histogram_and_map_at_80x24_and_120x40() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut c = console(&dir, w, h);
        key(&mut c, KeyCode::Char('O'));
        assert!(matches!(c.state.mode, Mode::Overview(_)));
        let s = screen(&c, w, h);
        let total = c.state.total.max(1);
        assert!(s.contains("overview, whole case: 38 items"), "{s}");
        assert!(s.contains("status"), "{s}");
        let line_with = |label: &str| {
            s.lines()
                .find(|l| l.contains(label))
                .unwrap_or_else(|| panic!("no {label} at {w}x{h}:\n{s}"))
                .to_string()
        };
        // Labels, bars and numbers on one line.
        let triaged = line_with(" triaged ");
        assert!(
            triaged.contains(['█', '▏', '▍']) && triaged.contains(" 1│"),
            "{triaged}"
        );
        assert!(line_with("escalated").contains('1'));
        assert!(line_with("War crimes (NIAC)").contains('2'));
        assert!(total > 0);
        // Demo dates span 2013-2017: a bar per year.
        assert!(s.contains("captured 2013..2017 by year"), "{s}");
        assert!(s.contains('▁') || s.contains('█'));
        let braille = s
            .chars()
            .filter(|ch| ('\u{2801}'..='\u{28ff}').contains(ch))
            .count();
        assert!(braille > 20, "map in Braille at {w}x{h}:\n{s}");
        assert!(s.contains("Damascus") && s.contains("Aleppo"), "{s}");
        // At the larger size the lower sections fit too.
        if h >= 40 {
            assert!(s.contains("Syrian government forces"), "{s}");
            assert!(s.contains("civil-defence"), "{s}");
            assert!(s.contains("Graphic"), "{s}");
        }
    }
}

#[test]
fn enter_on_a_status_bar_filters_the_queue() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    let mut c = console(&dir, 120, 40);
    key(&mut c, KeyCode::Char('O'));
    key(&mut c, KeyCode::Char('j')); // untriaged → triaged
    key(&mut c, KeyCode::Enter);
    assert!(matches!(c.state.mode, Mode::Normal));
    assert_eq!(c.state.filter.as_deref(), Some("status:triaged"));
    assert_eq!(c.state.view, View::All);
    assert_eq!(c.state.total, 1);
    assert!(c.state.rows.iter().all(|r| r.status == "triaged"));
    assert_eq!(c.state.rows.len(), 1);
    let s = screen(&c, 120, 40);
    assert!(s.contains("T-000001"), "{s}");
    assert!(!s.contains("T-000002"), "{s}");
}

fn triaged_count(c: &Console) -> u64 {
    let Mode::Overview(o) = &c.state.mode else {
        panic!("no overview");
    };
    o.bars
        .iter()
        .find(|b| b.filter == "status:triaged")
        .map(|b| b.count)
        .expect("triaged bar")
}

#[test]
fn the_overview_counts_again_after_a_change() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    let mut c = console(&dir, 80, 24);
    key(&mut c, KeyCode::Char('O'));
    assert_eq!(triaged_count(&c), 1);
    key(&mut c, KeyCode::Char('q'));
    assert!(matches!(c.state.mode, Mode::Normal));
    key(&mut c, KeyCode::Char('x')); // the current untriaged item: triaged
    key(&mut c, KeyCode::Char('O'));
    assert_eq!(triaged_count(&c), 2);
    key(&mut c, KeyCode::Char('O'));
    assert!(matches!(c.state.mode, Mode::Normal));
}

#[test]
fn every_bar_filter_is_accepted_and_counts_what_the_bar_says() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    let mut c = console(&dir, 80, 24);
    key(&mut c, KeyCode::Char('O'));
    let Mode::Overview(o) = &c.state.mode else {
        panic!("no overview");
    };
    let bars = o.bars.clone();
    assert!(bars.iter().any(|b| b.section == Section::Dates));
    key(&mut c, KeyCode::Esc);
    for bar in bars {
        key(&mut c, KeyCode::Char('O'));
        let Mode::Overview(o) = &mut c.state.mode else {
            panic!("no overview");
        };
        o.cursor = o.bars.iter().position(|b| *b == bar).expect("bar");
        key(&mut c, KeyCode::Enter);
        assert_eq!(c.state.filter.as_deref(), Some(bar.filter.as_str()));
        assert_eq!(c.state.total, bar.count, "{}", bar.filter);
    }
}

#[test]
fn tab_reaches_the_map_and_enter_filters_near_the_place() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tagged_case(tmp.path());
    let mut c = console(&dir, 80, 24);
    key(&mut c, KeyCode::Char('O'));
    for _ in 0..6 {
        key(&mut c, KeyCode::Tab);
    }
    let Mode::Overview(o) = &c.state.mode else {
        panic!("no overview");
    };
    assert!(o.on_map);
    let before = (o.map_lat, o.map_lon);
    key(&mut c, KeyCode::Char('l'));
    key(&mut c, KeyCode::Char('k'));
    let Mode::Overview(o) = &c.state.mode else {
        panic!("no overview");
    };
    assert!(o.map_lon > before.1 && o.map_lat > before.0);
    key(&mut c, KeyCode::Enter);
    // The place becomes a near: filter on the queue.
    assert!(matches!(c.state.mode, Mode::Normal));
    let filter = c.state.filter.clone().unwrap_or_default();
    assert!(filter.starts_with("near:"), "{filter}");
}

#[test]
fn source_names_become_filters_the_language_reads() {
    let tax = Taxonomy::default_set();
    for (name, want) in [
        ("civil-defence", "source:civil-defence"),
        (
            "Field office (Gaziantep)",
            "source:\"Field office (Gaziantep)\"",
        ),
        ("say \"hi\" there", "source:\"say \""),
    ] {
        let f = overview::source_filter(name);
        assert_eq!(f, want);
        let expr = triage::filter::parse(&f).expect("parses").expect("some");
        triage::store::query::filter_where(&expr, &tax).expect("compiles");
    }
}

#[test]
fn dates_are_months_over_short_spans_and_years_over_long_ones() {
    let tax = Taxonomy::default_set();
    let months = overview::date_bars(&[("2013-08".into(), 3), ("2013-11".into(), 1)]);
    let labels: Vec<&str> = months.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["2013-08", "2013-09", "2013-10", "2013-11"]);
    assert_eq!(months[0].filter, "captured:2013-08-01..2013-08-31");
    assert_eq!(months[1].count, 0);
    let years = overview::date_bars(&[
        ("2012-02".into(), 1),
        ("2012-03".into(), 2),
        ("2016-02".into(), 4),
    ]);
    let labels: Vec<(&str, u64)> = years.iter().map(|b| (b.label.as_str(), b.count)).collect();
    assert_eq!(
        labels,
        [
            ("2012", 3),
            ("2013", 0),
            ("2014", 0),
            ("2015", 0),
            ("2016", 4)
        ]
    );
    assert_eq!(years[4].filter, "captured:2016-01-01..2016-12-31");
    let leap = overview::date_bars(&[("2016-02".into(), 1)]);
    assert_eq!(leap[0].filter, "captured:2016-02-01..2016-02-29");
    for b in months.iter().chain(&years) {
        let e = triage::filter::parse(&b.filter)
            .expect("parse")
            .expect("some");
        triage::store::query::filter_where(&e, &tax).expect("compile");
    }
}

/// Timing on a large case (not run by default):
/// `TRIAGE_OVERVIEW_CASE=/path/to/case cargo test --test overview -- --ignored --nocapture`
#[test]
#[ignore]
fn overview_timing_on_a_large_case() {
    let Some(dir) = std::env::var_os("TRIAGE_OVERVIEW_CASE") else {
        return;
    };
    let case = Case::open(Path::new(&dir)).expect("open");
    let tax = Taxonomy::default_set();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let ov = triage::store::overview::compute(&case, &tax).expect("overview");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(ov.total > 0);
    }
    times.sort_by(f64::total_cmp);
    eprintln!("overview compute ms: {times:.0?} (median {:.0})", times[2]);
    let mut c = console(Path::new(&dir), 80, 24);
    let t = std::time::Instant::now();
    key(&mut c, KeyCode::Char('O'));
    eprintln!(
        "O in the console: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    for tabs in [3, 2, 1] {
        for _ in 0..tabs {
            key(&mut c, KeyCode::Tab);
        }
        eprintln!("{}", screen(&c, 80, 24));
    }
}

#[test]
fn positions_outside_syria_fit_the_map_to_them() {
    use triage::store::overview::{Overview, Place};
    let tax = Taxonomy::default_set();
    // Kyiv and Kharkiv: far from Syria, the map shows them rather than the outline.
    let data = Overview {
        total: 5,
        by_status: vec![("untriaged".into(), 5)],
        places: vec![
            Place {
                lat: 50.4,
                lon: 30.5,
                items: 3,
            },
            Place {
                lat: 50.0,
                lon: 36.2,
                items: 2,
            },
        ],
        located: 5,
        ..Overview::default()
    };
    let o = overview::build(data, &tax);
    let (s, w, n, e) = o.map_bounds;
    assert!(
        s < 50.0 && n > 50.4 && w < 30.5 && e > 36.2,
        "{:?}",
        o.map_bounds
    );
    assert!(n - s < 5.0, "fitted, not the world: {:?}", o.map_bounds);
    assert_eq!(
        (o.map_lat, o.map_lon),
        (50.4, 30.5),
        "cursor on the busiest place"
    );
    let mut state = triage::console::state::State::new(
        "c".into(),
        "r".into(),
        std::sync::Arc::new(Taxonomy::default_set()),
    );
    state.mode = Mode::Overview(Box::new(o));
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("term");
    term.draw(|f| ui::render(&state, &Keymap::defaults(), &Theme::mono(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    let braille = (0..24)
        .flat_map(|y| (0..80).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            buf[(x, y)]
                .symbol()
                .chars()
                .any(|ch| ('\u{2801}'..='\u{28ff}').contains(&ch))
        })
        .count();
    assert!(braille >= 2, "both places drawn");
}

#[test]
fn help_lists_the_overview_key() {
    let mut state = triage::console::state::State::new(
        "c".into(),
        "r".into(),
        std::sync::Arc::new(Taxonomy::default_set()),
    );
    state.mode = Mode::Help { scroll: 0 };
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("term");
    term.draw(|f| ui::render(&state, &Keymap::defaults(), &Theme::mono(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    let line = (0..40)
        .map(|y| {
            (0..120)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .find(|l| l.contains("overview"))
        .expect("overview in help");
    assert!(line.contains("│O "), "{line}");
}
