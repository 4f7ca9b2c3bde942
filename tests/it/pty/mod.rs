//! A small pseudo-terminal harness: runs the console in a pty, feeds its output into a vt100
//! parser on a reader thread, and lets a test send keys and wait for screen content.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

pub const ROWS: u16 = 40;
pub const COLS: u16 = 120;
/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Records what the program asked the terminal to do besides drawing (titles, other OSC).
#[derive(Default, Debug, Clone)]
pub struct Recorder {
    pub titles: Vec<Vec<u8>>,
    pub icon_names: Vec<Vec<u8>>,
    pub other_osc: Vec<Vec<Vec<u8>>>,
}

impl vt100::Callbacks for Recorder {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.icon_names.push(name.to_vec());
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        self.other_osc
            .push(params.iter().map(|p| p.to_vec()).collect());
    }
}

struct Shared {
    parser: vt100::Parser<Recorder>,
    raw: Vec<u8>,
}

pub struct Console {
    shared: Arc<Mutex<Shared>>,
    eof: Arc<AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
    // Kept open so the pty stays alive until the test is done with it.
    master: Box<dyn MasterPty + Send>,
    exited: bool,
}

/// The command line for the console on `case`, in an environment that reads no user keymap.
pub fn console_command(bin: &str, case: &Path, home: &Path) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(bin);
    cmd.args(["--case".as_ref(), case.as_os_str(), "open".as_ref()]);
    cmd.cwd(home);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home);
    cmd.env("TRIAGE_KEYMAP", home.join("no-such-keymap.toml"));
    for var in ["TRIAGE_CASE", "XDG_CONFIG_HOME", "NO_COLOR", "COLORTERM"] {
        cmd.env_remove(var);
    }
    cmd
}

impl Console {
    pub fn spawn(cmd: CommandBuilder) -> Console {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let child = pair.slave.spawn_command(cmd).expect("spawn the console");
        // Only the child holds the slave side now: its exit ends our reads.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new_with_callbacks(ROWS, COLS, 0, Recorder::default()),
            raw: Vec::new(),
        }));
        let eof = Arc::new(AtomicBool::new(false));
        let reader = {
            let shared = shared.clone();
            let eof = eof.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let mut s = shared.lock().unwrap();
                            s.parser.process(&buf[..n]);
                            s.raw.extend_from_slice(&buf[..n]);
                        }
                    }
                }
                eof.store(true, Ordering::SeqCst);
            })
        };
        Console {
            shared,
            eof,
            writer,
            child,
            reader: Some(reader),
            master: pair.master,
            exited: false,
        }
    }

    /// Type keys (bytes as a terminal would send them).
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        self.shared.lock().unwrap().parser.screen().contents()
    }

    /// One row of the screen (0-based), trailing blanks removed.
    pub fn row(&self, row: u16) -> String {
        let s = self.shared.lock().unwrap();
        let line = s.parser.screen().rows(0, COLS).nth(row as usize);
        line.unwrap_or_default().trim_end().to_string()
    }

    /// The text of the cells drawn in reverse video on one row (the selection's style).
    pub fn reversed_text(&self, row: u16) -> String {
        let s = self.shared.lock().unwrap();
        let screen = s.parser.screen();
        (0..COLS)
            .filter_map(|col| screen.cell(row, col))
            .filter(|cell| cell.inverse())
            .map(|cell| cell.contents())
            .collect()
    }

    /// The highlighted line of an open term picker (`[ ]`/`[x]` rows drawn reversed): its
    /// screen row and text.
    pub fn picker_cursor(&self) -> Option<(u16, String)> {
        (0..ROWS)
            .map(|r| (r, self.reversed_text(r)))
            .find(|(_, t)| t.contains("[ ]") || t.contains("[x]"))
            .map(|(r, t)| (r, t.trim().to_string()))
    }

    /// The status bar (second to last line).
    pub fn status(&self) -> String {
        self.row(ROWS - 2)
    }

    /// The message line (last line).
    pub fn message(&self) -> String {
        self.row(ROWS - 1)
    }

    /// Everything the program wrote to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        self.shared.lock().unwrap().raw.clone()
    }

    pub fn recorder(&self) -> Recorder {
        self.shared.lock().unwrap().parser.callbacks().clone()
    }

    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.shared.lock().unwrap().parser.screen())
    }

    /// Poll the screen every 20 ms until `cond` holds; panic with the screen otherwise.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, TIMEOUT, cond)
    }

    pub fn wait_for_within(
        &self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if cond(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the screen:\n{}\n{}",
                    "-".repeat(COLS as usize),
                    screen
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until the screen contains `text`.
    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Wait until the message line contains `text`.
    pub fn wait_message(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let m = self.message();
            if m.contains(text) {
                return m;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out waiting for message {text:?}; the screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until the status bar contains `text`.
    pub fn wait_status(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let m = self.status();
            if m.contains(text) {
                return m;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out waiting for status {text:?}; the screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the console's first frame (the status bar with the counts).
    pub fn wait_ready(&self) -> String {
        self.wait_for("the first frame", |_| {
            self.status().contains(" untriaged │")
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("child pid")
    }

    /// Wait for the child to exit (polling), then for the reader to see the end of output.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            if start.elapsed() > TIMEOUT {
                let screen = self.screen();
                let _ = self.child.kill();
                panic!("the console did not exit; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.exited = true;
        let start = Instant::now();
        while !self.eof.load(Ordering::SeqCst) && start.elapsed() < TIMEOUT {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(h) = self.reader.take() {
            if self.eof.load(Ordering::SeqCst) {
                let _ = h.join();
            }
        }
        status
    }

    /// Press `q` and wait for a clean exit.
    pub fn quit(&mut self) -> portable_pty::ExitStatus {
        self.send("q");
        let st = self.wait_exit();
        assert!(st.success(), "the console exited with {st:?}");
        st
    }

    /// SIGKILL the child and reap it.
    pub fn kill9(&mut self) {
        let pid = self.pid() as libc::pid_t;
        // SAFETY: kill only sends a signal to our own child.
        let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
        assert_eq!(rc, 0, "kill -9 {pid}");
        let st = self.wait_exit();
        assert!(!st.success(), "killed child reported success: {st:?}");
    }

    /// The terminal modes of the pty (the slave's termios, read through the master).
    pub fn termios(&self) -> Option<libc::termios> {
        let fd = self.master.as_raw_fd()?;
        // SAFETY: tcgetattr writes only into the struct we pass.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        (unsafe { libc::tcgetattr(fd, &mut t) } == 0).then_some(t)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
