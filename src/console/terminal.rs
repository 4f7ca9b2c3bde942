//! The terminal: raw mode and the alternate screen, restored on quit, panic and signals; and a
//! frame writer that sends each frame in one write, wrapped in synchronized-output markers.

use std::io::{self, Write};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, queue};
use ratatui::Terminal;

use super::frugal::Frugal;

/// Collects a frame; `flush` is a no-op so that ratatui's own flushes do not split a frame.
/// `commit` sends the whole frame with one write.
pub struct FrameWriter {
    buf: Vec<u8>,
    out: io::Stdout,
    pub bytes_sent: u64,
}

impl Write for FrameWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FrameWriter {
    /// Forget what was written since the buffer was `len` long.
    pub fn discard_from(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    pub fn commit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut out = self.out.lock();
        out.write_all(&self.buf)?;
        out.flush()?;
        self.bytes_sent += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

pub type Term = Terminal<Frugal<CrosstermBackend<FrameWriter>>>;

pub fn enter() -> io::Result<Term> {
    terminal::enable_raw_mode()?;
    let mut out = io::stdout();
    // No mouse capture: the terminal's own selection and scrollback keep working.
    queue!(out, EnterAlternateScreen, cursor::Hide)?;
    out.flush()?;
    install_panic_hook();
    let writer = FrameWriter {
        buf: Vec::with_capacity(64 * 1024),
        out: io::stdout(),
        bytes_sent: 0,
    };
    Terminal::new(Frugal::new(CrosstermBackend::new(writer)))
}

/// Put the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = queue!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
    let _ = terminal::disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    // Only a panic on the main thread ends the console; a worker's is caught and reported
    // as an error outcome, and its text printed over the screen would only garble it.
    let main = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == main {
            restore();
            previous(info);
        }
    }));
}

/// Draw one frame with `render`, as a single synchronized write; `plan` carries what pictures
/// need sent before and after the cells. A frame that changes no cell and sends no picture
/// sends nothing at all (not even the synchronized-output markers): the case moving, or an
/// answer that changes nothing on screen, costs no bytes.
pub fn draw(
    term: &mut Term,
    plan: &super::graphics::Plan,
    render: impl FnOnce(&mut ratatui::Frame),
) -> io::Result<()> {
    term.backend_mut().take_sent();
    let w = term.backend_mut().inner_mut().writer_mut();
    let start = w.pending();
    queue!(w, BeginSynchronizedUpdate)?;
    w.write_all(&plan.before)?;
    term.draw(render)?;
    let unchanged = term.backend_mut().take_sent() == 0;
    let w = term.backend_mut().inner_mut().writer_mut();
    if unchanged && plan.before.is_empty() && plan.after.is_empty() {
        w.discard_from(start);
        return Ok(());
    }
    w.write_all(&plan.after)?;
    queue!(w, EndSynchronizedUpdate)?;
    w.commit()
}
