//! Update logic: key → action → state change and effects, without a terminal or a case.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use triage::console::effect::{AfterChange, Anchor, Effect, Outcome, Select};
use triage::console::keymap::Keymap;
use triage::console::state::{Mode, Pane, State};
use triage::console::update::{apply, awaiting, key, next_held, tasks};
use triage::ingest::meta::{Metadata, TextInfo};
use triage::store::changes::Edit;
use triage::store::items::{Detail, Row};
use triage::taxonomy::Taxonomy;

fn row(id: i64) -> Row {
    Row {
        id,
        sha256: "ab".repeat(32),
        size: 1,
        mime: "text/plain".into(),
        kind: "text".into(),
        status: "untriaged".into(),
        name: format!("file-{id}.txt"),
        first_source: "A".into(),
        captured_at: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        tags: vec![],
    }
}

fn state(n: i64, page: usize) -> State {
    let mut s = State::new(
        "c".into(),
        "alice".into(),
        Arc::new(Taxonomy::default_set()),
    );
    s.page = page;
    s.rows = (1..=n.min(page as i64)).map(row).collect();
    s.total = n as u64;
    s
}

fn k(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn press(s: &mut State, keys: &str) -> Vec<Effect> {
    let km = Keymap::defaults();
    let mut all = vec![];
    for c in keys.chars() {
        all.extend(key(s, &km, k(c)));
    }
    all
}

#[test]
fn j_moves_within_the_window_and_asks_for_details() {
    let mut s = state(10, 5);
    assert_eq!(press(&mut s, "j"), vec![Effect::Detail(2)]);
    assert_eq!(s.selected, 1);
    press(&mut s, "jjj");
    assert_eq!(s.selected, 4);
    // At the bottom of the window, j asks for half a page more and moves one row.
    assert_eq!(
        press(&mut s, "j"),
        vec![Effect::Load(Anchor::After(5, 2, 1))]
    );
    let fx = apply(
        &mut s,
        Outcome::Slide {
            rows: vec![row(6), row(7)],
            forward: true,
            advance: 1,
        },
    );
    assert_eq!(fx, vec![Effect::Detail(6)]);
    assert_eq!(s.rows.first().map(|r| r.id), Some(3));
    assert_eq!(s.offset, 2);
    assert_eq!(s.position(), 5);
    assert_eq!(s.current_id(), Some(6));
    // The next j moves within the window again: no load.
    assert_eq!(press(&mut s, "j"), vec![Effect::Detail(7)]);
}

#[test]
fn k_at_top_slides_back() {
    let mut s = state(10, 5);
    s.rows = (3..=7).map(row).collect();
    s.offset = 2;
    assert_eq!(
        press(&mut s, "k"),
        vec![Effect::Load(Anchor::Before(3, 2, 1))]
    );
    apply(
        &mut s,
        Outcome::Slide {
            rows: vec![row(1), row(2)],
            forward: false,
            advance: 1,
        },
    );
    assert_eq!(s.current_id(), Some(2));
    assert_eq!(s.offset, 0);
    assert_eq!(s.position(), 1);
    assert_eq!(s.rows.len(), 5);
}

#[test]
fn g_and_shift_g_load_the_ends() {
    let mut s = state(10, 5);
    assert_eq!(press(&mut s, "G"), vec![Effect::Load(Anchor::End)]);
    assert_eq!(press(&mut s, "g"), vec![Effect::Load(Anchor::Start)]);
    apply(
        &mut s,
        Outcome::Window {
            rows: (6..=10).map(row).collect(),
            offset: 5,
            select: Select::Last,
        },
    );
    assert_eq!(s.current_id(), Some(10));
    assert_eq!(s.position(), 9);
}

#[test]
fn x_marks_triaged_and_moves_on() {
    let mut s = state(3, 5);
    assert_eq!(
        press(&mut s, "x"),
        vec![Effect::Apply {
            edit: Edit::Status {
                items: vec![1],
                to: "triaged".into(),
                reason: None
            },
            then: AfterChange::NextUntriaged
        }]
    );
}

#[test]
fn digit_toggles_the_flag_in_taxonomy_order() {
    let mut s = state(3, 5);
    let fx = press(&mut s, "3");
    assert_eq!(
        fx,
        vec![Effect::Apply {
            edit: Edit::Tags {
                items: vec![1],
                add: vec!["children".into()],
                remove: vec![]
            },
            then: AfterChange::Stay
        }]
    );
    s.rows[0].tags.push(("flag".into(), "children".into()));
    let fx = press(&mut s, "3");
    assert!(
        matches!(&fx[0], Effect::Apply { edit: Edit::Tags { remove, .. }, .. } if remove == &vec!["children".to_string()])
    );
}

#[test]
fn marks_make_tagging_apply_to_all() {
    let mut s = state(5, 5);
    press(&mut s, "vvv");
    assert_eq!(s.marks.len(), 3);
    assert_eq!(s.current_id(), Some(4));
    let fx = press(&mut s, "1");
    assert_eq!(
        fx,
        vec![Effect::Apply {
            edit: Edit::Tags {
                items: vec![1, 2, 3],
                add: vec!["graphic".into()],
                remove: vec![]
            },
            then: AfterChange::Stay
        }]
    );
}

#[test]
fn picker_filters_as_you_type_and_enter_applies() {
    let mut s = state(3, 5);
    press(&mut s, "c");
    assert!(matches!(s.mode, Mode::Picker(_)));
    press(&mut s, "barrel");
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Enter));
    assert_eq!(s.mode, Mode::Normal);
    match &fx[..] {
        [Effect::Apply {
            edit: Edit::Tags { items, add, remove },
            ..
        }] => {
            assert_eq!(items, &vec![1]);
            assert!(add[0].starts_with("syr-barrel"), "{add:?}");
            assert!(remove.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn picker_space_toggles_several_and_digits_use_recent_terms() {
    let mut s = state(3, 5);
    s.recent.insert(
        triage::taxonomy::TermKind::Party,
        vec!["hts".into(), "gov-forces".into()],
    );
    press(&mut s, "p");
    // Digit 2 with an empty query applies the second recent term at once.
    let fx = press(&mut s, "2");
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        matches!(&fx[0], Effect::Apply { edit: Edit::Tags { add, .. }, .. } if add == &vec!["gov-forces".to_string()])
    );
    press(&mut s, "p");
    press(&mut s, "  "); // toggles the first two listed (the recent ones)
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Enter));
    assert!(matches!(&fx[0], Effect::Apply { edit: Edit::Tags { add, .. }, .. } if add.len() == 2));
}

#[test]
fn esc_cancels_a_picker_without_effects() {
    let mut s = state(3, 5);
    press(&mut s, "fgra");
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Esc));
    assert!(fx.is_empty());
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn filter_prompt_stays_open_on_error() {
    let mut s = state(3, 5);
    press(&mut s, "/");
    press(&mut s, "colour:red");
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::SetFilter(Some("colour:red".into()))]);
    apply(
        &mut s,
        Outcome::FilterError("at 1: unknown field `colour:`".into()),
    );
    assert!(matches!(&s.mode, Mode::Prompt(p) if p.error.is_some()));
}

#[test]
fn escalate_needs_a_reason() {
    let mut s = state(3, 5);
    press(&mut s, "e");
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Enter));
    assert!(fx.is_empty());
    press(&mut s, "faces visible");
    let fx = key(&mut s, &Keymap::defaults(), KeyEvent::from(KeyCode::Enter));
    assert!(
        matches!(&fx[0], Effect::Apply { edit: Edit::Status { to, reason: Some(r), .. }, then: AfterChange::NextUntriaged } if to == "escalated" && r == "faces visible")
    );
}

/// The first item's details, holding a text of `lines` lines, at 80×24.
fn with_text(s: &mut State, lines: usize) {
    let excerpt: String = (1..=lines).map(|i| format!("line {i}\n")).collect();
    s.width = 80;
    s.height = 24;
    s.detail = Some(Detail {
        row: row(1),
        ext_mismatch: None,
        metadata: Metadata {
            text: Some(TextInfo {
                encoding: "UTF-8".into(),
                bom: false,
                lines: lines as u64,
                excerpt,
            }),
            ..Metadata::default()
        },
        status_by: None,
        status_at: None,
        provenance: vec![],
        tags: vec![],
        claims: vec![],
        bags: vec![],
        notes: vec![],
        conditions: vec![],
        children: 0,
        incidents: vec![],
        suggested: vec![],
    });
}

#[test]
fn tab_switches_pane_and_j_scrolls_details() {
    let mut s = state(3, 5);
    with_text(&mut s, 100);
    let km = Keymap::defaults();
    key(&mut s, &km, KeyEvent::from(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Details);
    assert!(press(&mut s, "jj").is_empty());
    assert_eq!(s.detail_scroll, 2);
    assert_eq!(s.selected, 0);
}

#[test]
fn details_scroll_stops_at_the_last_line() {
    let mut s = state(3, 5);
    with_text(&mut s, 100);
    let km = Keymap::defaults();
    key(&mut s, &km, KeyEvent::from(KeyCode::Tab));
    let last = triage::console::ui::details::last_scroll(&s);
    assert!(last > 50, "{last}");
    for _ in 0..300 {
        key(&mut s, &km, KeyEvent::from(KeyCode::PageDown));
    }
    assert_eq!(s.detail_scroll, last);
    press(&mut s, "jjj");
    assert_eq!(s.detail_scroll, last, "j at the end stays there");
    // k answers at once: one line up, not three presses back from past the end.
    press(&mut s, "k");
    assert_eq!(s.detail_scroll, last - 1);
    // A pane that grew (a taller terminal) holds the scroll to its new end on the next key.
    s.height = 40;
    press(&mut s, "k");
    assert_eq!(
        s.detail_scroll,
        triage::console::ui::details::last_scroll(&s) - 1
    );
    // A text that fits scrolls not at all.
    with_text(&mut s, 3);
    s.detail_scroll = 0;
    press(&mut s, "jjj");
    assert_eq!(s.detail_scroll, 0);
}

#[test]
fn q_quits() {
    let mut s = state(3, 5);
    press(&mut s, "q");
    assert!(s.quit);
}

#[test]
fn the_case_moving_reloads_the_window_around_the_same_item() {
    let mut s = state(10, 5);
    press(&mut s, "jj");
    s.detail_scroll = 4;
    assert_eq!(
        triage::console::update::case_moved(&mut s),
        vec![
            Effect::Load(Anchor::Refresh {
                first: 1,
                select: 3
            }),
            Effect::Recount
        ]
    );
    // Item 2 was triaged by someone else: item 3 is now second; its details pane is read
    // again as it was scrolled, without claiming it anew.
    let fx = apply(
        &mut s,
        Outcome::Window {
            rows: vec![row(1), row(3), row(4), row(5), row(6)],
            offset: 0,
            select: Select::Keep(3),
        },
    );
    assert_eq!(fx, vec![Effect::Reread(3)]);
    assert_eq!(
        (s.current_id(), s.selected, s.detail_scroll),
        (Some(3), 1, 4)
    );
    // When the item itself has left the view, the cursor goes to the next one, as a move.
    let fx = apply(
        &mut s,
        Outcome::Window {
            rows: vec![row(1), row(4), row(5), row(6), row(7)],
            offset: 0,
            select: Select::Keep(3),
        },
    );
    assert_eq!(fx, vec![Effect::Detail(4)]);
    assert_eq!(s.detail_scroll, 0);
}

#[test]
fn keys_typed_while_a_window_loads_wait_for_it() {
    let mut s = state(10, 5);
    s.selected = 4;
    s.loading = Some(7);
    assert_eq!(press(&mut s, "jx"), vec![]);
    assert_eq!(s.held.len(), 2);
    // The case moving meanwhile only counts again: the load on its way reads the case now.
    assert_eq!(
        triage::console::update::case_moved(&mut s),
        vec![Effect::Recount]
    );
    let slide = Outcome::Slide {
        rows: vec![row(6), row(7)],
        forward: true,
        advance: 1,
    };
    // An answer to an older load is dropped.
    let stale = Outcome::Paged {
        ticket: 6,
        outcomes: vec![slide.clone()],
    };
    assert_eq!(apply(&mut s, stale), vec![]);
    assert_eq!((s.loading, s.current_id()), (Some(7), Some(5)));
    let fx = apply(
        &mut s,
        Outcome::Paged {
            ticket: 7,
            outcomes: vec![slide],
        },
    );
    assert_eq!(fx, vec![Effect::Detail(6)]);
    assert_eq!((s.loading, s.current_id()), (None, Some(6)));
}

#[test]
fn after_a_change_update_asks_for_the_window() {
    let mut s = state(10, 5);
    press(&mut s, "j");
    assert_eq!(
        apply(&mut s, Outcome::Then(AfterChange::NextUntriaged)),
        vec![Effect::Load(Anchor::NextUntriaged)]
    );
    assert_eq!(
        apply(&mut s, Outcome::Then(AfterChange::Stay)),
        vec![Effect::Load(Anchor::Reload {
            first: 1,
            offset: 0,
            select: 2
        })]
    );
}

#[test]
fn a_refresh_holds_no_keys_and_is_asked_again_if_the_cursor_moved() {
    let mut s = state(10, 5);
    s.refreshing = Some(3);
    // Keys act at once while a refresh is on its way.
    assert_eq!(press(&mut s, "j"), vec![Effect::Detail(2)]);
    let window = |select| Outcome::Paged {
        ticket: 3,
        outcomes: vec![Outcome::Window {
            rows: (1..=5).map(row).collect(),
            offset: 0,
            select: Select::Keep(select),
        }],
    };
    // It was read around item 1; the cursor is on 2 now: read again around 2.
    assert_eq!(
        apply(&mut s, window(1)),
        vec![
            Effect::Load(Anchor::Refresh {
                first: 1,
                select: 2
            }),
            Effect::Recount
        ]
    );
    assert_eq!(s.current_id(), Some(2));
    s.refreshing = Some(3);
    assert_eq!(apply(&mut s, window(2)), vec![Effect::Reread(2)]);
    assert_eq!(s.refreshing, None);
}

#[test]
fn a_decision_is_saving_until_the_writer_answers_and_moves_the_counts_by_its_effect() {
    let mut s = state(10, 5);
    s.untriaged = 10;
    s.counted = true;
    let fx = press(&mut s, "x");
    assert!(matches!(&fx[..], [Effect::Apply { .. }]), "{fx:?}");
    let tasks = tasks(&mut s, fx);
    assert_eq!(s.saving, 1, "shown as being saved");
    assert!(awaiting(&s), "the frame waits for it briefly");
    assert!(render(&s).contains("saving…"), "{}", render(&s));
    // Keys typed meanwhile act on the window the decision leads to.
    assert!(press(&mut s, "j").is_empty());
    assert_eq!(next_held(&mut s), None);
    // The writer committed: the counts move by what the change did, no count of everything;
    // a count once the reviewer pauses catches what the change could not know.
    let fx = apply(
        &mut s,
        Outcome::Written(vec![
            Outcome::Saved {
                summary: "T-000001 triaged".into(),
                at: "12:00:00".into(),
            },
            Outcome::CountsMoved {
                generation: tasks[0].generation,
                total: -1,
                untriaged: -1,
            },
        ]),
    );
    assert_eq!(fx, vec![Effect::RecountLater]);
    assert_eq!((s.saving, s.untriaged, s.total), (0, 9, 9));
    assert!(!render(&s).contains("saving…"));
    assert!(next_held(&mut s).is_some(), "the held key is replayed now");
    // A refusal ends the saving too, and says why.
    tasks_of(&mut s, "x");
    apply(
        &mut s,
        Outcome::Written(vec![Outcome::Error("not saved: claimed".into())]),
    );
    assert_eq!(s.saving, 0);
    assert!(render(&s).contains("not saved: claimed"), "{}", render(&s));
    // Counts of an older query are not moved.
    let before = (s.untriaged, s.total);
    let newer = s.search_generation + 1;
    apply(
        &mut s,
        Outcome::CountsMoved {
            generation: newer,
            total: -1,
            untriaged: -1,
        },
    );
    assert_eq!((s.untriaged, s.total), before);
}

fn tasks_of(s: &mut State, keys: &str) {
    let fx = press(s, keys);
    tasks(s, fx);
}

fn render(s: &State) -> String {
    crate::common::state_screen(s, &Keymap::defaults(), 100, 24)
}
