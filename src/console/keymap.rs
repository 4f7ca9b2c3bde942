//! Key bindings: the defaults of the action table (`action::ACTIONS`), overlaid by action name
//! from a TOML file; every context's keys are bindable, and unknown names, unreadable keys and
//! keys bound twice in one context are reported.
//!
//! ```toml
//! [keys]
//! mark-triaged = ["x", "Enter"]
//! quit = ["q", "C-c"]
//! picker-apply = ["Enter", "C-j"]
//! ```

use std::collections::{BTreeMap, HashMap};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context, ACTIONS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyId,
    ctrl: bool,
    alt: bool,
}

/// A comparable stand-in for crossterm's KeyCode (which is not Ord).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyId {
    Char(char),
    Named(u8),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("BTab", KeyCode::BackTab),
    ("Backspace", KeyCode::Backspace),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PgUp", KeyCode::PageUp),
    ("PgDn", KeyCode::PageDown),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("F1", KeyCode::F(1)),
    ("F2", KeyCode::F(2)),
    ("F3", KeyCode::F(3)),
    ("F4", KeyCode::F(4)),
    ("F5", KeyCode::F(5)),
];

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) => KeyId::Char(c),
            other => KeyId::Named(NAMED.iter().position(|(_, k)| *k == other)? as u8),
        };
        Some(Key { code, ctrl, alt })
    }

    pub fn parse(s: &str) -> Option<Key> {
        let (mut ctrl, mut alt) = (false, false);
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("C-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("M-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = if rest == "Space" {
            KeyId::Char(' ')
        } else if let Some(i) = NAMED.iter().position(|(n, _)| n.eq_ignore_ascii_case(rest)) {
            KeyId::Named(i as u8)
        } else {
            let mut chars = rest.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            KeyId::Char(c)
        };
        Some(Key { code, ctrl, alt })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyId::Char(' ') => "Space".to_string(),
            KeyId::Char(c) => c.to_string(),
            KeyId::Named(i) => NAMED[i as usize].0.to_string(),
        };
        format!(
            "{}{}{base}",
            if self.ctrl { "C-" } else { "" },
            if self.alt { "M-" } else { "" }
        )
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<(Context, Key), Action>,
    /// Each action's keys, for the help screen.
    pub bindings: BTreeMap<&'static str, Vec<Key>>,
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
}

impl Keymap {
    pub fn defaults() -> Keymap {
        Self::build(&BTreeMap::new()).0
    }

    /// Overlay a user's TOML; returns the keymap and the problems found (unknown actions,
    /// unreadable keys, keys bound to two actions).
    pub fn with_overlay(toml_text: &str) -> (Keymap, Vec<String>) {
        match toml::from_str::<File>(toml_text) {
            Ok(f) => Self::build(&f.keys),
            Err(e) => {
                let (k, mut p) = Self::build(&BTreeMap::new());
                p.insert(0, format!("keymap not read: {e}"));
                (k, p)
            }
        }
    }

    fn build(overlay: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut problems = Vec::new();
        let mut bindings: BTreeMap<&'static str, Vec<Key>> = BTreeMap::new();
        for spec in ACTIONS {
            let mut keys = Vec::new();
            for k in spec.keys {
                match Key::parse(k) {
                    Some(key) => keys.push(key),
                    None => problems.push(format!(
                        "keymap: the default key `{k}` of `{}` cannot be read",
                        spec.name
                    )),
                }
            }
            bindings.insert(spec.name, keys);
        }
        for (name, keys) in overlay {
            let Some(action) = Action::from_name(name) else {
                problems.push(format!("keymap: unknown action `{name}`"));
                continue;
            };
            let mut parsed = Vec::new();
            for k in keys {
                match Key::parse(k) {
                    Some(key) => parsed.push(key),
                    None => problems.push(format!("keymap: cannot read key `{k}` for `{name}`")),
                }
            }
            bindings.insert(action.name(), parsed);
        }
        let mut map: HashMap<(Context, Key), Action> = HashMap::new();
        // User-bound actions first, so that on a conflict the user's binding wins.
        let order: Vec<&&'static str> = bindings
            .keys()
            .filter(|n| overlay.contains_key(**n))
            .chain(bindings.keys().filter(|n| !overlay.contains_key(**n)))
            .collect();
        for name in order {
            let Some(action) = Action::from_name(name) else {
                continue;
            };
            for key in &bindings[*name] {
                match map.get(&(action.context(), *key)) {
                    Some(other) if *other != action => problems.push(format!(
                        "keymap: `{}` is bound to both `{}` and `{name}`; `{}` keeps it",
                        key.label(),
                        other.name(),
                        other.name()
                    )),
                    _ => {
                        map.insert((action.context(), *key), action);
                    }
                }
            }
        }
        (Keymap { map, bindings }, problems)
    }

    /// The queue's action for a key.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.action_in(Context::Queue, ev)
    }

    /// The action a key stands for in a context.
    pub fn action_in(&self, context: Context, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev)?;
        // SHIFT is ignored: terminals report `G` with or without it, and the char decides.
        self.map.get(&(context, key)).copied()
    }

    pub fn keys_for(&self, action: Action) -> String {
        self.bindings
            .get(action.name())
            .map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_have_no_conflicts() {
        let (_, problems) = Keymap::with_overlay("");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn overlay_rebinds_and_reports_conflicts() {
        let (k, problems) =
            Keymap::with_overlay("[keys]\nmark-triaged = [\"j\"]\nnope = [\"z\"]\n");
        assert_eq!(k.action(&ev('j')), Some(Action::MarkTriaged));
        assert_eq!(k.action(&ev('x')), None);
        assert!(problems.iter().any(|p| p.contains("unknown action `nope`")));
        assert!(problems.iter().any(|p| p.contains("`j` is bound to both")));
    }

    #[test]
    fn every_action_is_in_the_table_once_and_every_context_is_bindable() {
        let mut names = std::collections::BTreeSet::new();
        for spec in ACTIONS {
            assert!(names.insert(spec.name), "{} twice", spec.name);
            assert_eq!(Action::from_name(spec.name), Some(spec.action));
        }
        for c in Context::ALL {
            assert!(ACTIONS.iter().any(|s| s.context == c), "{c:?} has no keys");
        }
    }

    #[test]
    fn popup_keys_are_rebindable_per_context() {
        let (k, problems) = Keymap::with_overlay("[keys]\npicker-apply = [\"C-j\"]\n");
        assert!(problems.is_empty(), "{problems:?}");
        let cj = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL);
        assert_eq!(k.action_in(Context::Picker, &cj), Some(Action::PickerApply));
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(k.action_in(Context::Picker, &enter), None);
        // The same key keeps its meaning elsewhere.
        assert_eq!(
            k.action_in(Context::Views, &enter),
            Some(Action::ViewsChoose)
        );
        assert_eq!(k.action(&ev('j')), Some(Action::Down));
    }

    #[test]
    fn key_labels_round_trip() {
        for s in ["j", "C-l", "PgDn", "Space", "?", "M-x", "Enter"] {
            assert_eq!(Key::parse(s).unwrap().label(), s);
        }
    }
}
