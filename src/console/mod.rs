//! The review console: terminal event → action → state change (and database write) → render.

pub mod action;
pub mod counting;
pub mod effect;
pub mod event;
pub mod follow;
pub mod frugal;
pub mod graphics;
pub mod keymap;
pub mod overview;
pub mod paging;
pub mod picker;
pub mod preview;
pub mod search;
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
use preview::Shown;

/// How long a frame waits for a preview already being decoded, or a window being loaded.
const PREVIEW_WAIT: std::time::Duration = std::time::Duration::from_millis(60);

pub struct Options {
    pub theme: Theme,
    pub keymap: Keymap,
    pub keymap_problems: Vec<String>,
    pub preview: preview::Preview,
}

/// Load the keymap overlay from `$TRIAGE_KEYMAP` or `~/.config/triage/keymap.toml`.
/// The keymap of TRIAGE_KEYMAP, else the configuration's `keymap`, else the default place.
pub fn load_keymap(configured: Option<std::path::PathBuf>) -> (Keymap, Vec<String>) {
    let path = std::env::var_os("TRIAGE_KEYMAP")
        .map(std::path::PathBuf::from)
        .or(configured)
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
    /// The item shown, to be claimed once its frame is out.
    pending_claim: Option<i64>,
    /// The preview worker; without one (tests), previews are made on this thread.
    pub preview_tx: Option<std::sync::mpsc::Sender<crate::preview::Request>>,
    /// The search worker; without one (tests), queries run on this thread.
    search: Option<search::Worker>,
    /// The overview's counting worker; without one (tests), counts run on this thread.
    pub counting_tx: Option<std::sync::mpsc::Sender<()>>,
    /// The window loads' worker; without one (tests), windows load on this thread.
    pub paging: Option<paging::Worker>,
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
        Self::with_search(case, tax, reviewer, keymap, (width, height), None)
    }

    /// A console whose queries run on the given search worker.
    pub fn with_search(
        case: Case,
        tax: Taxonomy,
        reviewer: String,
        keymap: Keymap,
        size: (u16, u16),
        search: Option<search::Worker>,
    ) -> Console {
        let mut c = Self::first_screen(case, tax, reviewer, keymap, size, search);
        c.rest_of_start();
        c
    }

    /// A console that has read only what its first frame shows (the first window and the
    /// item under the cursor, counted on the search worker); `rest_of_start` reads the rest.
    fn first_screen(
        case: Case,
        tax: Taxonomy,
        reviewer: String,
        keymap: Keymap,
        (width, height): (u16, u16),
        search: Option<search::Worker>,
    ) -> Console {
        let tax = Arc::new(tax);
        let mut state = State::new(case.name(), reviewer.clone(), tax.clone());
        state.width = width;
        state.height = height;
        state.page = ui::page_size(width, height);
        let mut runtime = Runtime::new(case, tax, reviewer);
        let outcomes = runtime.start_screen(state.page);
        let mut c = Console {
            state,
            runtime,
            keymap,
            pending_detail: None,
            pending_claim: None,
            preview_tx: None,
            search,
            counting_tx: None,
            paging: None,
        };
        for o in outcomes {
            let effects = update::apply(&mut c.state, o);
            c.run_effects(effects);
        }
        c.state.searching = true;
        c.search(false);
        // The item's detail now; claiming it (a write) can wait for `rest_of_start`.
        if let Some(id) = c.pending_detail.take() {
            let effects = c.outcomes(&Effect::Reread(id));
            c.run_effects(effects);
        }
        c
    }

    /// After the first frame: what only later keys need, and the claim on the item shown.
    pub fn rest_of_start(&mut self) {
        let mut effects = Vec::new();
        for o in self.runtime.start_rest() {
            effects.extend(update::apply(&mut self.state, o));
        }
        if let Some(id) = self.state.current_id() {
            effects.push(Effect::Claim(id));
        }
        self.run_effects(effects);
        self.settle();
    }

    /// Run one effect here and apply its outcomes; the effects they ask for come back.
    fn outcomes(&mut self, effect: &Effect) -> Vec<Effect> {
        let mut effects = Vec::new();
        for o in self.runtime.run(effect, self.here()) {
            effects.extend(update::apply(&mut self.state, o));
        }
        effects
    }

    /// Ask for the current query's counts (and its first window when `window`): from the
    /// worker, or here when there is none.
    fn search(&mut self, window: bool) {
        self.state.counted = false;
        let req = search::Request {
            generation: self.state.search_generation,
            selection: self.runtime.selection().clone(),
            page: self.state.page,
            window,
        };
        match &self.search {
            Some(worker) => worker.send(req),
            None => {
                let mut outcomes = Vec::new();
                if let Err(e) = search::answer(&self.runtime.case, &req, &mut |o| outcomes.push(o))
                {
                    outcomes.push(effect::Outcome::SearchFailed {
                        generation: req.generation,
                        error: e.to_string(),
                    });
                }
                for o in outcomes {
                    self.search_done(o);
                }
            }
        }
    }

    /// Rows or counts arrived from a worker.
    pub fn search_done(&mut self, outcome: effect::Outcome) {
        let effects = update::apply(&mut self.state, outcome);
        self.run_effects(effects);
        self.replay_held();
    }

    /// Keys held while a window was loading, now that it is there (one of them may start
    /// another load: the rest are held again).
    fn replay_held(&mut self) {
        if self.state.loading.is_none() && !self.state.held.is_empty() {
            for k in std::mem::take(&mut self.state.held) {
                self.key(k);
            }
        }
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
            total: self.state.counted.then_some(self.state.total),
        }
    }

    fn run_effects(&mut self, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        // One query per burst of effects: Some(true) for a new selection, Some(false) when
        // only the counts may have changed.
        let mut query: Option<bool> = None;
        while let Some(effect) = queue.pop_front() {
            if let Effect::Detail(id) = effect {
                self.pending_detail = Some(id);
                continue;
            }
            if let (Effect::Overview, Some(tx)) = (&effect, &self.counting_tx) {
                let _ = tx.send(());
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
            if let (Effect::Load(anchor), Some(worker)) = (&effect, &self.paging) {
                self.state.tickets += 1;
                if matches!(anchor, effect::Anchor::Refresh { .. }) {
                    self.state.refreshing = Some(self.state.tickets);
                } else {
                    self.state.loading = Some(self.state.tickets);
                }
                worker.send(paging::Request {
                    ticket: self.state.tickets,
                    selection: self.runtime.selection().clone(),
                    anchor: anchor.clone(),
                    at: self.here(),
                });
                continue;
            }
            let outcomes = self.runtime.run(&effect, self.here());
            match effect {
                Effect::SetView(_) | Effect::SetFilter(_) | Effect::TryFilter(_)
                    if !outcomes.iter().any(|o| {
                        matches!(
                            o,
                            effect::Outcome::FilterError(_) | effect::Outcome::Incomplete
                        )
                    }) =>
                {
                    query = Some(true);
                }
                Effect::Apply { .. }
                | Effect::Undo
                | Effect::RepeatLast { .. }
                | Effect::Recount => {
                    query = query.or(Some(false));
                }
                _ => {}
            }
            for o in outcomes {
                queue.extend(update::apply(&mut self.state, o));
            }
        }
        if let Some(window) = query {
            self.search(window);
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

    /// Before drawing, in the terminal loop: the detail of the item the burst of input ended
    /// on. Claiming it, a write that waits for the disk, is left for after the frame.
    fn settle_for_frame(&mut self) {
        if let Some(id) = self.pending_detail.take() {
            if self.state.current_id() == Some(id) {
                let effects = self.outcomes(&Effect::Reread(id));
                self.run_effects(effects);
                self.pending_claim = Some(id);
            }
        }
    }

    /// After the frame: claim the item it shows (if still shown); true when that was tried.
    fn claim_shown(&mut self) -> bool {
        match self.pending_claim.take() {
            Some(id) if self.state.current_id() == Some(id) => {
                let effects = self.outcomes(&Effect::Claim(id));
                self.run_effects(effects);
                true
            }
            _ => false,
        }
    }

    /// One event; true when the whole screen must be redrawn.
    fn handle(&mut self, ev: Event) -> bool {
        match ev {
            Event::Term(TermEvent::Key(k)) => {
                let redraw = self.keymap.action(&k) == Some(action::Action::Redraw)
                    && matches!(self.state.mode, state::Mode::Normal);
                self.key(k);
                redraw
            }
            Event::Term(TermEvent::Resize(w, h)) => {
                self.resize(w, h);
                true
            }
            Event::Term(_) => false,
            Event::Preview(answer) => {
                self.preview_done(answer);
                false
            }
            Event::Search(outcome) => {
                self.search_done(outcome);
                false
            }
            Event::Renew => {
                self.renew();
                false
            }
            Event::CaseMoved => {
                self.case_moved();
                false
            }
            Event::Signal(_) | Event::InputClosed => {
                self.state.quit = true;
                false
            }
        }
    }

    /// The case moved: when another reviewer or process wrote, refresh what is shown.
    pub fn case_moved(&mut self) {
        if !self.runtime.others_wrote() {
            return;
        }
        let effects = update::case_moved(&mut self.state);
        self.run_effects(effects);
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
        let visual =
            crate::preview::visual_of(&d.row.kind, d.metadata.video.as_ref()).unwrap_or_default();
        Some(crate::preview::Request {
            visual,
            generation,
            item_id,
            path: self.runtime.case.objects.path_of(&d.row.sha256),
            thumbnail: Some(crate::preview::cached_picture(
                &self.runtime.case.root,
                &d.row.sha256,
            )),
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
            protocol: self.state.preview.protocol,
            cell_px: self.state.preview.cell_px,
            ahead: self.images_ahead(),
        })
    }

    /// The items with a picture after the selected one (then the one before): those a
    /// reviewer pressing `j` (or `k`) sees next.
    fn images_ahead(&self) -> Vec<i64> {
        const AHEAD: usize = 3;
        let rows = &self.state.rows;
        let at = self.state.selected;
        let pictured =
            |r: &&crate::store::items::Row| crate::preview::visual_of(&r.kind, None).is_some();
        let after = rows.iter().skip(at + 1).filter(pictured);
        let before = rows[..at.min(rows.len())].iter().rev().filter(pictured);
        after
            .take(AHEAD)
            .chain(before.take(1))
            .map(|r| r.id)
            .collect()
    }
}

pub fn run(case: Case, tax: Taxonomy, reviewer: String, opts: Options) -> anyhow::Result<()> {
    let (tx, rx) = event::channel();
    event::spawn_signals(tx.clone())?;
    let mut term = terminal::enter()?;
    let result = (|| -> anyhow::Result<()> {
        let size = term.size()?;
        let worker = search::Worker::spawn(&case.root, tx.clone())?;
        let mut console = Console::first_screen(
            case,
            tax,
            reviewer,
            opts.keymap,
            (size.width, size.height),
            Some(worker),
        );
        console.state.preview = opts.preview;
        if !opts.keymap_problems.is_empty() {
            console.state.message = Some((Level::Error, opts.keymap_problems.join("; ")));
        }
        // The first frame before anything it does not show is read or started.
        let mut pictures = graphics::Graphics::default();
        terminal::draw(&mut term, &graphics::Plan::default(), |f| {
            ui::render(&console.state, &console.keymap, &opts.theme, f)
        })?;
        let root = console.runtime.case.root.clone();
        console.paging = Some(paging::Worker::spawn(&root, tx.clone())?);
        let (preview_tx, preview_rx) = std::sync::mpsc::channel();
        crate::preview::ahead::spawn_worker(
            preview_rx,
            tx.clone(),
            Event::Preview,
            Some(&console.runtime.case.root),
        );
        console.preview_tx = Some(preview_tx);
        console.counting_tx = Some(counting::spawn(
            &root,
            console.state.taxonomy.clone(),
            tx.clone(),
        )?);
        // Renewed well inside the lease, so a claim lapses only when the console is gone.
        event::spawn_renewals(
            tx.clone(),
            std::time::Duration::from_secs(crate::store::claims::LEASE_SECS as u64 / 4),
        );
        follow::spawn(&root, tx.clone(), follow::EVERY)?;
        event::spawn_input(tx);
        console.rest_of_start();
        // Sends nothing unless the rest changed the screen (someone else's claim on the item).
        terminal::draw(&mut term, &graphics::Plan::default(), |f| {
            ui::render(&console.state, &console.keymap, &opts.theme, f)
        })?;
        // Block for one event, then take everything already queued: a burst of keys draws once.
        while let Ok(first) = rx.recv() {
            let mut redraw_all = false;
            let mut only_renewals = true;
            for ev in std::iter::once(first).chain(rx.try_iter()) {
                // A claim renewal alone draws nothing.
                if matches!(ev, Event::Renew) {
                    console.renew();
                    continue;
                }
                only_renewals = false;
                redraw_all |= console.handle(ev);
                if console.state.quit {
                    break;
                }
            }
            console.settle_for_frame();
            // A preview on its way usually arrives within milliseconds: wait for it briefly
            // rather than send a "loading…" frame and then the picture over it (on a slow link
            // the second frame costs as much as the first).
            // The same for a window on its way from the paging worker: one frame, not the
            // old rows and then the new ones.
            let deadline = std::time::Instant::now() + PREVIEW_WAIT;
            while !console.state.quit
                && (matches!(console.state.preview.shown, Shown::Loading(_))
                    || console.state.loading.is_some())
            {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let Ok(ev) = rx.recv_timeout(left) else { break };
                redraw_all |= console.handle(ev);
                console.settle_for_frame();
            }
            if console.state.quit {
                let bye = pictures.clear(console.state.preview.protocol);
                let w = term.backend_mut().inner_mut().writer_mut();
                std::io::Write::write_all(w, &bye)?;
                w.commit()?;
                break;
            }
            if only_renewals && console.state.message.is_none() {
                continue;
            }
            if redraw_all {
                term.clear()?;
            }
            let plan = pictures.plan(&console.state, redraw_all);
            terminal::draw(&mut term, &plan, |f| {
                ui::render(&console.state, &console.keymap, &opts.theme, f)
            })?;
            if let Some(area) = pictures.covered() {
                term.backend_mut().protect(area);
            }
            // Someone else's claim shows as a message: a second frame, and only then.
            if console.claim_shown() {
                let plan = pictures.plan(&console.state, false);
                terminal::draw(&mut term, &plan, |f| {
                    ui::render(&console.state, &console.keymap, &opts.theme, f)
                })?;
            }
        }
        console.runtime.release();
        Ok(())
    })();
    terminal::restore();
    result
}
