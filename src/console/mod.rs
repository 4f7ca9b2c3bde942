//! The review console: terminal event → action → state change (and database write) → render.

pub mod action;
pub mod counting;
pub mod effect;
pub mod event;
pub mod follow;
pub mod frugal;
pub mod graphics;
pub mod keymap;
pub mod lanes;
pub mod overview;
pub mod paging;
pub mod picker;
pub mod preview;
pub mod runtime;
pub mod search;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod update;
pub mod wellbeing;

use std::sync::Arc;

use ratatui::crossterm::event::Event as TermEvent;

use effect::{Effect, Task};
use event::Event;
use keymap::Keymap;
use lanes::Lanes;
use runtime::Runtime;
use state::{Level, State};
use theme::Theme;

use crate::store::Case;
use crate::taxonomy::Taxonomy;

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

/// The state and the executor: everything between a key and a frame, without a terminal.
/// It decides nothing: keys and outcomes go to `update`, the effects it returns go where
/// `lanes::lane` says, and what comes back goes to `update` again.
pub struct Console {
    pub state: State,
    /// The console's own connection: the first frame's reads, and every task when there are
    /// no workers (tests).
    pub runtime: Runtime,
    pub keymap: Keymap,
    /// The search worker, until the other workers start (it counts for the first frame).
    search: Option<search::Worker>,
    /// The workers, once the first frame is out; without them tasks run on this thread.
    lanes: Option<Lanes>,
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
        let start = runtime.start_screen();
        let mut c = Console {
            state,
            runtime,
            keymap,
            search,
            lanes: None,
        };
        c.outcomes(start);
        let effects = update::start(&mut c.state);
        c.run_effects(effects);
        let detail = update::first_detail(&mut c.state);
        c.run_effects(detail);
        c
    }

    /// After the first frame: what only later keys need, and the claim on the item shown.
    pub fn rest_of_start(&mut self) {
        let effects = update::rest_of_start(&mut self.state);
        self.run_effects(effects);
        self.settle();
    }

    /// Start the workers (after the first frame): from now on no task runs on this thread.
    pub fn start_lanes(&mut self, events: std::sync::mpsc::Sender<Event>) -> anyhow::Result<()> {
        let search = match self.search.take() {
            Some(s) => s,
            None => search::Worker::spawn(&self.runtime.case.root, events.clone())?,
        };
        self.lanes = Some(Lanes::spawn(&self.runtime, search, events, follow::EVERY)?);
        Ok(())
    }

    /// Outcomes to the state; the effects they ask for are carried out.
    fn outcomes(&mut self, outcomes: Vec<effect::Outcome>) {
        for o in outcomes {
            let effects = update::apply(&mut self.state, o);
            self.run_effects(effects);
        }
    }

    /// Rows, counts, a window, a saved decision... arrived from a worker.
    pub fn search_done(&mut self, outcome: effect::Outcome) {
        self.outcomes(vec![outcome]);
        self.replay_held();
    }

    /// Keys held while a window was loading or a decision saving, now that none is (one of
    /// them may start another load: the rest are held again).
    fn replay_held(&mut self) {
        while let Some(k) = update::next_held(&mut self.state) {
            self.key(k);
        }
    }

    pub fn key(&mut self, ev: ratatui::crossterm::event::KeyEvent) {
        let effects = update::key(&mut self.state, &self.keymap, ev);
        self.run_effects(effects);
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        let effects = update::resize(&mut self.state, width, height);
        self.run_effects(effects);
    }

    /// Each effect to its worker, or, without workers, carried out here in order.
    fn run_effects(&mut self, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Task> =
            update::tasks(&mut self.state, effects).into();
        while let Some(task) = queue.pop_front() {
            let task = match (&self.lanes, &self.search) {
                (Some(lanes), _) => match lanes.send(task) {
                    Some(here) => here,
                    None => continue,
                },
                (None, Some(search)) if lanes::lane(&task.effect) == lanes::Lane::Search => {
                    search.send(search::Request::for_task(task));
                    continue;
                }
                _ => task,
            };
            for o in self.runtime.run(&task) {
                let effects = update::apply(&mut self.state, o);
                queue.extend(update::tasks(&mut self.state, effects));
            }
        }
    }

    /// Before drawing: read the detail of the item the burst of input ended on, and claim it.
    pub fn settle(&mut self) {
        let effects = update::settle(&mut self.state);
        self.run_effects(effects);
    }

    /// One event; false when it cannot have changed the screen (a claim renewal).
    pub fn handle(&mut self, ev: Event) -> bool {
        match ev {
            Event::Term(TermEvent::Key(k)) => self.key(k),
            Event::Term(TermEvent::Resize(w, h)) => self.resize(w, h),
            Event::Term(_) => {}
            Event::Preview(answer) => self.preview_done(answer),
            Event::Search(outcome) => self.search_done(outcome),
            Event::Renew => {
                self.renew();
                return false;
            }
            Event::CaseMoved => self.case_moved(),
            Event::Signal(_) | Event::InputClosed => self.state.quit = true,
        }
        true
    }

    /// Someone else committed to the case: refresh what is shown.
    pub fn case_moved(&mut self) {
        let effects = update::case_moved(&mut self.state);
        self.run_effects(effects);
    }

    /// Renew the claim on the item being looked at (a failure shows as a message).
    pub fn renew(&mut self) {
        let effects = update::renew(&self.state);
        self.run_effects(effects);
    }

    /// A preview arrived from the worker.
    pub fn preview_done(&mut self, answer: crate::preview::Answer) {
        self.outcomes(vec![effect::Outcome::Preview(answer)]);
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
        console.start_lanes(tx.clone())?;
        // Renewed well inside the lease, so a claim lapses only when the console is gone.
        event::spawn_renewals(
            tx.clone(),
            std::time::Duration::from_secs(crate::store::claims::LEASE_SECS as u64 / 4),
        );
        event::spawn_input(tx);
        console.rest_of_start();
        // Block for one event, then take everything already queued: a burst of keys draws once.
        while let Ok(first) = rx.recv() {
            let mut changed = false;
            for ev in std::iter::once(first).chain(rx.try_iter()) {
                changed |= console.handle(ev);
                if console.state.quit {
                    break;
                }
            }
            console.settle();
            // What the frame shows may be on its way (a preview, a window, a decision being
            // saved, a detail): wait for it briefly rather than send a frame without it and
            // then another (on a slow link the second frame costs as much as the first).
            let deadline = std::time::Instant::now() + PREVIEW_WAIT;
            while !console.state.quit && update::awaiting(&console.state) {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let Ok(ev) = rx.recv_timeout(left) else { break };
                changed |= console.handle(ev);
                console.settle();
            }
            if console.state.quit {
                let bye = pictures.clear(console.state.preview.protocol);
                let w = term.backend_mut().inner_mut().writer_mut();
                std::io::Write::write_all(w, &bye)?;
                w.commit()?;
                break;
            }
            if !changed {
                continue;
            }
            let redraw_all = std::mem::take(&mut console.state.redraw_all);
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
        }
        console.runtime.release();
        Ok(())
    })();
    terminal::restore();
    result
}
