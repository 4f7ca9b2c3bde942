//! Render tests: the screen drawn into ratatui's TestBackend at 80×24 and 120×40, including
//! hostile text (escape sequences, bidi overrides) and Arabic names.

use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use triage::console::keymap::Keymap;
use triage::console::state::{Mode, State};
use triage::console::theme::Theme;
use triage::console::ui;
use triage::ingest::meta::{Exif, Gps, Metadata, TextInfo};
use triage::store::items::{Detail, Provenance, Row};
use triage::taxonomy::Taxonomy;

fn row(id: i64, name: &str, kind: &str) -> Row {
    Row {
        id,
        sha256: format!("{id:02x}").repeat(32),
        size: 1000 + id as u64,
        mime: "image/jpeg".into(),
        kind: kind.into(),
        status: "untriaged".into(),
        name: name.into(),
        first_source: "civil-defence".into(),
        captured_at: Some("2013-08-21T02:47:13".into()),
        created_at: "2026-11-27T10:00:00.000000Z".into(),
        tags: vec![],
    }
}

const HOSTILE: &str = "invoice\u{202e}fdp.exe \u{1b}]0;pwned\u{7}\u{1b}[2J.jpg";

fn state() -> State {
    let tax = Arc::new(Taxonomy::default_set());
    let mut s = State::new("demo".into(), "alice".into(), tax);
    s.rows = vec![
        row(1, HOSTILE, "image"),
        row(2, "شهادة الشاهد.txt", "text"),
        row(3, "IMG_2004.jpg", "image"),
    ];
    s.rows[2].tags = vec![
        ("crime".into(), "syr-chemical-weapons".into()),
        ("flag".into(), "graphic".into()),
        ("flag".into(), "children".into()),
    ];
    s.total = 3;
    s.untriaged = 3;
    let meta = Metadata {
        exif: Some(Exif {
            make: Some("Canon\u{1b}]52;c;ZXZpbA==\u{7}".into()),
            model: Some("EOS \u{202e}evil".into()),
            captured_at: Some("2013-08-21T02:47:13".into()),
            gps: Some(Gps {
                lat: 33.5711,
                lon: 36.4019,
                alt: Some(690.0),
            }),
            ..Exif::default()
        }),
        ..Metadata::default()
    };
    s.detail = Some(Detail {
        row: s.rows[0].clone(),
        ext_mismatch: Some("named .jpg but the content is application/pdf".into()),
        metadata: meta,
        status_by: None,
        status_at: None,
        provenance: vec![Provenance {
            source: "civil-defence".into(),
            path: format!("/intake/A/{HOSTILE}").into_bytes(),
            size: 1001,
            mtime: None,
            received_at: "2026-11-27T10:00:00.000000Z".into(),
            received_by: "alice".into(),
            batch: 1,
            member: None,
        }],
        tags: vec![],
        claims: vec![],
        bags: vec![],
        notes: vec![],
        conditions: vec!["share-with-courts".into()],
        children: 0,
        incidents: vec![],
        suggested: vec![],
    });
    s
}

fn draw(s: &mut State, w: u16, h: u16) -> Vec<String> {
    s.width = w;
    s.height = h;
    s.page = ui::page_size(w, h);
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let keymap = Keymap::defaults();
    term.draw(|f| ui::render(s, &keymap, &Theme::mono(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < w {
                let cell = &buf[(x, y)];
                line.push_str(cell.symbol());
                x += 1;
            }
            line
        })
        .collect()
}

fn assert_clean(lines: &[String]) {
    for (i, l) in lines.iter().enumerate() {
        assert!(
            !l.chars().any(|c| c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "line {i} carries a raw control or bidi character: {l:?}"
        );
    }
}

#[test]
fn hostile_text_is_neutralised_at_80x24() {
    let mut s = state();
    let lines = draw(&mut s, 80, 24);
    assert_clean(&lines);
    let screen = lines.join("\n");
    assert!(screen.contains("⟨RLO⟩"), "{screen}");
    assert!(screen.contains("␛]0;pwned"), "{screen}");
    assert!(screen.contains("T-000001"));
    assert!(screen.contains("MISMATCH"));
    // every row is exactly 80 cells: nothing broke the layout
    assert_eq!(lines.len(), 24);
}

#[test]
fn details_at_120x40_show_metadata_and_neutralised_exif() {
    let mut s = state();
    let lines = draw(&mut s, 120, 40);
    assert_clean(&lines);
    let screen = lines.join("\n");
    assert!(screen.contains("33.571100, 36.401900"), "{screen}");
    assert!(screen.contains("alt 690 m"));
    assert!(screen.contains("Canon␛]52;c;ZXZpbA==␇"), "{screen}");
    assert!(screen.contains("⟨RLO⟩evil"));
    assert!(screen.contains("2013-08-21T02:47:13"));
    assert!(screen.contains("civil-defence"));
    // status bar: case, view, position/count, untriaged, reviewer
    let status = &lines[38];
    for part in ["demo", "untriaged", "1/3", "3 untriaged", "alice"] {
        assert!(status.contains(part), "status bar lacks {part}: {status}");
    }
}

#[test]
fn arabic_names_are_in_visual_order_and_columns_hold() {
    let mut s = state();
    let lines = draw(&mut s, 120, 40);
    // The Arabic name is reordered for a left-to-right terminal: the last letter comes first.
    let row = lines
        .iter()
        .find(|l| l.contains("T-000002"))
        .expect("row 2");
    assert!(row.contains("txt."), "{row}");
    // The queue's right border stays in the same column on every row.
    let border_cols: Vec<usize> = lines[1..4]
        .iter()
        .map(|l| l.chars().position(|c| c == '│').unwrap_or(0))
        .collect();
    assert!(
        border_cols.iter().all(|&c| c == border_cols[0]),
        "{border_cols:?}"
    );
    let right: Vec<usize> = lines[1..4]
        .iter()
        .map(|l| l.chars().skip(1).position(|c| c == '│').unwrap_or(0))
        .collect();
    assert!(
        right.iter().all(|&c| c == right[0]),
        "{right:?}\n{}",
        lines[1..4].join("\n")
    );
}

#[test]
fn arabic_text_excerpt_is_right_aligned() {
    let mut s = state();
    if let Some(d) = s.detail.as_mut() {
        d.metadata = Metadata {
            text: Some(TextInfo {
                encoding: "windows-1256".into(),
                bom: false,
                lines: 2,
                excerpt: "شهادة الشاهد W-0417\nhello".into(),
            }),
            ..Metadata::default()
        };
    }
    let lines = draw(&mut s, 120, 40);
    let ar = lines
        .iter()
        .find(|l| l.contains("W-0417"))
        .expect("excerpt line");
    let en = lines
        .iter()
        .find(|l| l.contains("  hello"))
        .expect("english line");
    // Right-aligned: the Arabic text ends at the right border, the English starts at the left.
    let ar_end = ar.trim_end_matches('│').trim_end().chars().count();
    let en_end = en.trim_end_matches('│').trim_end().chars().count();
    assert!(
        ar_end > en_end,
        "arabic line not right-aligned:\n{ar}\n{en}"
    );
}

#[test]
fn tag_chips_and_picker_popup() {
    let mut s = state();
    s.selected = 2;
    let lines = draw(&mut s, 120, 40);
    let row = lines
        .iter()
        .find(|l| l.contains("T-000003"))
        .expect("row 3");
    assert!(row.contains("C1 ⚑13"), "{row}");
    let keymap = Keymap::defaults();
    let effects = triage::console::update::key(
        &mut s,
        &keymap,
        ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char('c')),
    );
    assert!(effects.is_empty());
    assert!(matches!(s.mode, Mode::Picker(_)));
    let lines = draw(&mut s, 80, 24);
    let screen = lines.join("\n");
    assert!(screen.contains("crimes for T-000003"), "{screen}");
    assert!(screen.contains("[x] Chemical weapons"), "{screen}");
}

#[test]
fn help_lists_every_binding() {
    let mut s = state();
    s.mode = Mode::Help { scroll: 0 };
    let lines = draw(&mut s, 120, 40);
    let screen = lines.join("\n");
    for needle in [
        "mark-triaged",
        "pick-crime",
        "undo",
        "toggle-flag-1",
        "filter",
    ] {
        assert!(screen.contains(needle), "help lacks {needle}");
    }
}

/// Nothing a terminal acts on or hides: controls, bidi controls, and format characters
/// other than joiners between Arabic letters.
fn assert_no_format_chars(lines: &[String]) {
    for (i, l) in lines.iter().enumerate() {
        for c in l.chars() {
            assert!(
                !matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'),
                "line {i} carries an invisible format character {:?}: {l:?}",
                c
            );
        }
    }
}

#[test]
fn saved_view_name_with_bidi_override_is_neutralised_in_title_and_status() {
    let mut s = state();
    s.view = triage::store::query::View::Saved("douma\u{202e}gpj.exe\u{1b}[2J".into());
    for (w, h) in [(80, 24), (120, 40)] {
        let lines = draw(&mut s, w, h);
        assert_clean(&lines);
        let screen = lines.join("\n");
        assert!(screen.contains("view douma⟨RLO⟩gpj"), "{screen}");
    }
}

#[test]
fn format_characters_make_look_alike_names_visible() {
    let mut s = state();
    s.rows[2].name = "IMG\u{200d}_2004.jpg".into();
    s.rows[1].name = "\u{feff}IMG_20\u{2060}04.jpg".into();
    let lines = draw(&mut s, 120, 40);
    assert_no_format_chars(&lines);
    let screen = lines.join("\n");
    assert!(screen.contains("IMG⟨ZWJ⟩_2004.jpg"), "{screen}");
    assert!(screen.contains("⟨BOM⟩IMG_20⟨WJ⟩04.jpg"), "{screen}");
}

#[test]
fn labels_from_a_case_taxonomy_are_sanitized() {
    let toml = "version = 1\n[[crimes]]\nid = \"c1\"\nen = \"Shelling\\u001b]0;pwned\\u0007 \\u202eevil\"\nar = \"ق\"\n\
                [[flags]]\nid = \"graphic\"\nen = \"Graphic\\u001b[31m\"\nar = \"ق\"\n";
    let tax = Taxonomy::parse(toml, "case taxonomy.toml").expect("taxonomy");
    let mut s = state();
    s.taxonomy = Arc::new(tax);
    s.selected = 2;
    let keymap = Keymap::defaults();
    triage::console::update::key(
        &mut s,
        &keymap,
        ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char('c')),
    );
    assert!(matches!(s.mode, Mode::Picker(_)));
    let lines = draw(&mut s, 120, 40);
    assert_clean(&lines);
    let screen = lines.join("\n");
    assert!(screen.contains("Shelling␛]0;pwned␇ ⟨RLO⟩evil"), "{screen}");
}

#[test]
fn an_imported_decision_is_shown_as_the_senders() {
    use triage::store::items::{ImportedClaim, Tag};
    let mut s = state();
    if let Some(d) = s.detail.as_mut() {
        d.tags = vec![Tag {
            term: "gov-forces".into(),
            kind: "party".into(),
            set_by: "importer".into(),
            set_at: "2026-11-28T09:00:00.000000Z".into(),
        }];
        d.claims = vec![ImportedClaim {
            term: "gov-forces".into(),
            kind: "party".into(),
            claimed_by: "amal".into(),
            claimed_at: "2013-09-01T10:00:00.000000Z".into(),
            sending_case: "case-x".into(),
            original_ref: "T-000007".into(),
            imported_by: "importer".into(),
            imported_at: "2026-11-28T09:00:00.000000Z".into(),
        }];
    }
    let lines = draw(&mut s, 220, 70);
    let screen = lines.join("\n");
    assert!(
        screen.contains("by amal in case case-x on 2013-09-01 10:00, imported"),
        "{screen}"
    );
    assert!(!screen.contains("importer 2026-11-28"), "{screen}");
}

#[test]
fn bag_info_is_shown_in_the_details_neutralised() {
    let mut s = state();
    if let Some(d) = s.detail.as_mut() {
        d.provenance.clear();
        d.metadata = Metadata::default();
        d.bags = vec![triage::store::items::BagInfo {
            batch: 3,
            source: "partner".into(),
            bag: serde_json::json!("/intake/bag"),
            bagit_version: "0.97".into(),
            fields: vec![
                (
                    "Source-Organization".into(),
                    "Syrian Archive Partners".into(),
                ),
                ("Contact-\u{1b}[2JName".into(), "José \u{202e}Núñez".into()),
            ],
        }];
    }
    let lines = draw(&mut s, 120, 40);
    assert_clean(&lines);
    let screen = lines.join("\n");
    assert!(screen.contains("Bag-info (batch 3)"), "{screen}");
    assert!(
        screen.contains("Source-Organization: Syrian Archive"),
        "{screen}"
    );
    assert!(
        screen.contains("Contact-␛[2JName: José ⟨RLO⟩Núñez"),
        "{screen}"
    );
}

#[test]
fn details_scrolled_to_the_end_show_the_last_line_at_the_bottom() {
    let mut s = state();
    if let Some(d) = s.detail.as_mut() {
        d.metadata = Metadata {
            text: Some(TextInfo {
                encoding: "UTF-8".into(),
                bom: false,
                lines: 100,
                excerpt: (1..=100).map(|i| format!("line {i}\n")).collect(),
            }),
            ..Metadata::default()
        };
    }
    // Scrolled far past the end (as a taller pane left it): drawn with the end at the bottom.
    s.detail_scroll = u16::MAX;
    let screen = draw(&mut s, 80, 24);
    // The pane's last line (the tags, after the text) sits right above its bottom border.
    let border = screen.iter().position(|l| l.contains('└')).expect("border");
    assert!(screen[border - 1].contains("none yet"), "{screen:#?}");
    assert!(screen.iter().any(|l| l.contains("line 100")), "{screen:#?}");
}
