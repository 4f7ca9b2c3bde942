//! The review console: terminal event → action → state change (and database write) → render.

pub mod action;
pub mod effect;
pub mod event;
pub mod frugal;
pub mod keymap;
pub mod picker;
pub mod preview;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod update;

use std::sync::Arc;

use ratatui::crossterm::event::{Event as TermEvent, KeyEventKind};

use effect::{Effect, Here, Runtime};
use event::Event;
use keymap::Keymap;
use state::{Level, State};
use theme::Theme;

use crate::store::Case;
use crate::taxonomy::Taxonomy;

pub struct Options {
    pub theme: Theme,
    pub keymap: Keymap,
    pub keymap_problems: Vec<String>,
    pub preview: preview::Preview,
}

/// Load the keymap overlay from `$TRIAGE_KEYMAP` or `~/.config/triage/keymap.toml`.
pub fn load_keymap() -> (Keymap, Vec<String>) {
    let path = std::env::var_os("TRIAGE_KEYMAP")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("triage").join("keymap.toml")));
    match path.map(|p| (std::fs::read_to_string(&p), p)) {
        Some((Ok(text), _)) => Keymap::with_overlay(&text),
        Some((Err(e), p)) if e.kind() != std::io::ErrorKind::NotFound => {
            let (k, mut problems) = Keymap::with_overlay("");
            problems.push(format!("keymap {}: {e}", p.display()));
            (k, problems)
        }
        _ => Keymap::with_overlay(""),
    }
}

/// The runtime plus the state: everything between a key and a frame, without a terminal.
pub struct Console {
    pub state: State,
    pub runtime: Runtime,
    pub keymap: Keymap,
    /// A detail load wanted after the current burst of input (only the last one is done).
    pending_detail: Option<i64>,
    /// The preview worker; without one (tests), previews are made on this thread.
    pub preview_tx: Option<std::sync::mpsc::Sender<crate::preview::Request>>,
}

impl Console {
    pub fn new(
        case: Case,
        tax: Taxonomy,
        reviewer: String,
        keymap: Keymap,
        width: u16,
        height: u16,
    ) -> Console {
        let tax = Arc::new(tax);
        let mut state = State::new(case.name(), reviewer.clone(), tax.clone());
        state.width = width;
        state.height = height;
        state.page = ui::page_size(width, height);
        let mut runtime = Runtime::new(case, tax, reviewer);
        let outcomes = runtime.start(state.page);
        let mut c = Console {
            state,
            runtime,
            keymap,
            pending_detail: None,
            preview_tx: None,
        };
        for o in outcomes {
            let effects = update::apply(&mut c.state, o);
            c.run_effects(effects);
        }
        c.settle();
        c
    }

    pub fn key(&mut self, ev: ratatui::crossterm::event::KeyEvent) {
        if ev.kind == KeyEventKind::Release {
            return;
        }
        // A new key replaces the last message (it has been seen).
        if matches!(self.state.mode, state::Mode::Normal) {
            self.state.message = None;
        }
        let effects = update::key(&mut self.state, &self.keymap, ev);
        self.run_effects(effects);
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.state.width = width;
        self.state.height = height;
        let page = ui::page_size(width, height);
        if page != self.state.page {
            self.state.page = page;
            if let Some(first) = self.state.rows.first().map(|r| r.id) {
                let select = self.state.current_id().unwrap_or(first);
                self.run_effects(vec![Effect::Load(effect::Anchor::Reload {
                    first,
                    offset: self.state.offset,
                    select,
                })]);
            }
        }
    }

    fn here(&self) -> Here {
        Here {
            page: self.state.page,
            first: self.state.rows.first().map(|r| r.id),
            last: self.state.rows.last().map(|r| r.id),
            current: self.state.current_id(),
            offset: self.state.offset,
        }
    }

    fn run_effects(&mut self, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            if let Effect::Detail(id) = effect {
                self.pending_detail = Some(id);
                continue;
            }
            if let Effect::Preview {
                generation,
                item_id,
                grayscale,
                blur,
            } = effect
            {
                if let Some(req) = self.preview_request(generation, item_id, grayscale, blur) {
                    match &self.preview_tx {
                        Some(tx) => {
                            let _ = tx.send(req);
                        }
                        None => {
                            let answer = crate::preview::answer(&req);
                            queue.extend(update::apply(
                                &mut self.state,
                                effect::Outcome::Preview(answer),
                            ));
                        }
                    }
                }
                continue;
            }
            let outcomes = self.runtime.run(&effect, self.here());
            for o in outcomes {
                queue.extend(update::apply(&mut self.state, o));
            }
        }
    }

    /// Before drawing: load the detail of the item the burst of input ended on.
    pub fn settle(&mut self) {
        if let Some(id) = self.pending_detail.take() {
            if self.state.current_id() == Some(id) {
                let mut effects = Vec::new();
                for o in self.runtime.run(&Effect::Detail(id), self.here()) {
                    effects.extend(update::apply(&mut self.state, o));
                }
                self.run_effects(effects);
            }
        }
    }

    /// Renew the claim on the item being looked at (a failure shows as a message).
    pub fn renew(&mut self) {
        if let Some(id) = self.state.current_id() {
            self.run_effects(vec![Effect::Claim(id)]);
        }
    }

    /// A preview arrived from the worker.
    pub fn preview_done(&mut self, answer: crate::preview::Answer) {
        let effects = update::apply(&mut self.state, effect::Outcome::Preview(answer));
        self.run_effects(effects);
    }

    fn preview_request(
        &self,
        generation: u64,
        item_id: i64,
        grayscale: bool,
        blur: bool,
    ) -> Option<crate::preview::Request> {
        let d = self.state.detail.as_ref().filter(|d| d.row.id == item_id)?;
        let (max_cols, max_rows) = ui::preview_cells(self.state.width, self.state.height);
        Some(crate::preview::Request {
            generation,
            item_id,
            path: self.runtime.case.objects.path_of(&d.row.sha256),
            thumbnail: Some(
                self.runtime
                    .case
                    .root
                    .join("cache")
                    .join("thumbs")
                    .join(format!("{}.png", d.row.sha256)),
            ),
            orientation: d
                .metadata
                .exif
                .as_ref()
                .and_then(|e| e.orientation)
                .unwrap_or(1),
            max_cols,
            max_rows,
            budget: self.state.preview.budget,
            depth: self.state.preview.depth,
            grayscale,
            blur,
        })
    }
}

pub fn run(case: Case, tax: Taxonomy, reviewer: String, opts: Options) -> anyhow::Result<()> {
    let (tx, rx) = event::channel();
    event::spawn_signals(tx.clone())?;
    let mut term = terminal::enter()?;
    let result = (|| -> anyhow::Result<()> {
        let size = term.size()?;
        let mut console = Console::new(case, tax, reviewer, opts.keymap, size.width, size.height);
        console.state.preview = opts.preview;
        let (preview_tx, preview_rx) = std::sync::mpsc::channel();
        crate::preview::spawn_worker(preview_rx, tx.clone(), Event::Preview);
        console.preview_tx = Some(preview_tx);
        if !opts.keymap_problems.is_empty() {
            console.state.message = Some((Level::Error, opts.keymap_problems.join("; ")));
        }
        // Renewed well inside the lease, so a claim lapses only when the console is gone.
        event::spawn_renewals(
            tx.clone(),
            std::time::Duration::from_secs(crate::store::claims::LEASE_SECS as u64 / 4),
        );
        event::spawn_input(tx);
        terminal::draw(&mut term, |f| {
            ui::render(&console.state, &console.keymap, &opts.theme, f)
        })?;
        // Block for one event, then take everything already queued: a burst of keys draws once.
        while let Ok(first) = rx.recv() {
            let mut redraw_all = false;
            let mut only_renewals = true;
            for ev in std::iter::once(first).chain(rx.try_iter()) {
                if matches!(ev, Event::Renew) {
                    console.renew();
                    continue;
                }
                only_renewals = false;
                match ev {
                    Event::Term(TermEvent::Key(k)) => {
                        if console.keymap.action(&k) == Some(action::Action::Redraw)
                            && matches!(console.state.mode, state::Mode::Normal)
                        {
                            redraw_all = true;
                        }
                        console.key(k);
                    }
                    Event::Term(TermEvent::Resize(w, h)) => {
                        console.resize(w, h);
                        redraw_all = true;
                    }
                    Event::Term(_) => {}
                    Event::Preview(answer) => console.preview_done(answer),
                    Event::Signal(_) | Event::InputClosed => console.state.quit = true,
                    Event::Renew => {}
                }
                if console.state.quit {
                    break;
                }
            }
            if console.state.quit {
                break;
            }
            if only_renewals && console.state.message.is_none() {
                continue;
            }
            console.settle();
            if redraw_all {
                term.clear()?;
            }
            terminal::draw(&mut term, |f| {
                ui::render(&console.state, &console.keymap, &opts.theme, f)
            })?;
        }
        console.runtime.release();
        Ok(())
    })();
    terminal::restore();
    result
}
