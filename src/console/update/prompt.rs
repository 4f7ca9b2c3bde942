//! The prompts: filter, note, escalation reason, and `:` commands.

use super::*;

pub(super) fn open_prompt(state: &mut State, kind: PromptKind) -> Vec<Effect> {
    if state.current().is_none() {
        return vec![];
    }
    state.mode = Mode::Prompt(Prompt {
        kind,
        input: String::new(),
        error: None,
    });
    vec![]
}

pub(super) fn prompt_key(state: &mut State, keymap: &Keymap, ev: KeyEvent) -> Vec<Effect> {
    let Mode::Prompt(p) = &mut state.mode else {
        return vec![];
    };
    let live = p.kind == PromptKind::Filter;
    match keymap.action_in(Context::Prompt, &ev) {
        Some(Action::PromptCancel) => {
            state.mode = Mode::Normal;
            state.draft = None;
            // Live results were shown while typing: back to the filter as it was.
            match state.filter_before.take() {
                Some(before) => {
                    begin_query(state);
                    vec![Effect::SetFilter(before)]
                }
                None => vec![],
            }
        }
        Some(Action::PromptClear) => {
            p.input.clear();
            try_filter(state, live)
        }
        Some(Action::PromptSubmit) => {
            let input = p.input.trim().to_string();
            let kind = p.kind;
            match kind {
                // The prompt stays open until the filter is known to be valid.
                PromptKind::Filter => {
                    state.filter_before = None;
                    begin_query(state);
                    vec![Effect::SetFilter(Some(input).filter(|s| !s.is_empty()))]
                }
                PromptKind::Command => command(state, &input),
                PromptKind::IncidentTitle
                | PromptKind::IncidentDate
                | PromptKind::IncidentPlace => draft_step(state, kind, input),
                PromptKind::Note | PromptKind::Escalate if input.is_empty() => {
                    p.error = Some("type some text, or Esc to cancel".into());
                    vec![]
                }
                PromptKind::Note => {
                    state.mode = Mode::Normal;
                    let Some(item) = state.current_id() else {
                        return vec![];
                    };
                    vec![Effect::Apply {
                        edit: Edit::Note { item, body: input },
                        then: AfterChange::Stay,
                    }]
                }
                PromptKind::Escalate => {
                    state.mode = Mode::Normal;
                    let items = state.targets();
                    state.marks.clear();
                    vec![Effect::Apply {
                        edit: Edit::Status {
                            items,
                            to: "escalated".into(),
                            reason: Some(input),
                        },
                        then: AfterChange::NextUntriaged,
                    }]
                }
            }
        }
        _ => match ev.code {
            KeyCode::Backspace => {
                p.input.pop();
                p.error = None;
                try_filter(state, live)
            }
            KeyCode::Char(c) if plain(&ev) => {
                p.input.push(c);
                p.error = None;
                try_filter(state, live)
            }
            _ => vec![],
        },
    }
}

/// Filter as the reviewer types: each keystroke is a new query that supersedes the last
/// (an expression that does not compile yet leaves the results as they are).
pub(super) fn try_filter(state: &mut State, live: bool) -> Vec<Effect> {
    let Mode::Prompt(p) = &state.mode else {
        return vec![];
    };
    if !live {
        return vec![];
    }
    let input = p.input.trim().to_string();
    if state.filter_before.is_none() {
        state.filter_before = Some(state.filter.clone());
    }
    begin_query(state);
    vec![Effect::TryFilter(input)]
}

/// A new query supersedes any still running: answers of older generations are dropped.
pub(super) fn begin_query(state: &mut State) {
    state.search_generation += 1;
    state.searching = true;
}

/// A `:` command.
pub(super) fn command(state: &mut State, input: &str) -> Vec<Effect> {
    let (verb, rest) = input.split_once(' ').unwrap_or((input, ""));
    let rest = rest.trim();
    let error = match verb {
        "save" | "w" if rest.is_empty() => "expected a name: save NAME".to_string(),
        "save" | "w" => match &state.filter {
            Some(expr) => {
                let effect = Effect::SaveView {
                    name: rest.to_string(),
                    expr: expr.clone(),
                };
                state.mode = Mode::Normal;
                return vec![effect];
            }
            None => "no filter to save: set one with / first".to_string(),
        },
        "delete" if rest.is_empty() => "expected a name: delete NAME".to_string(),
        "delete" => {
            state.mode = Mode::Normal;
            return vec![Effect::DeleteView(rest.to_string())];
        }
        "views" => return open_views(state),
        _ => format!("unknown command `{verb}`; expected save NAME, delete NAME or views"),
    };
    if let Mode::Prompt(p) = &mut state.mode {
        p.error = Some(error);
    }
    vec![]
}
