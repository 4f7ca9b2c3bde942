//! The ingest threads' shared work: files found by the walk, and tasks (describing one member
//! of a container) that a thread expanding a container hands out so that every thread helps
//! with its members. Tasks go first: they hold up their family, and with it the walk order.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::walk::FileJob;
use crate::worker::Extractor;

/// A piece of work done with the calling thread's parser worker.
pub(super) type Task = Box<dyn FnOnce(&mut Extractor) + Send>;

pub(super) enum Work {
    File(FileJob),
    Task(Task),
}

pub(super) struct Pool {
    state: Mutex<State>,
    /// Anything changed: work added, a task done, room for files, the end.
    changed: Condvar,
    /// Files waiting at most (the walk waits for room: memory stays bounded).
    room: usize,
}

struct State {
    files: VecDeque<FileJob>,
    tasks: VecDeque<Task>,
    walking: bool,
    /// Threads handling a file: its family may still bring tasks.
    busy: usize,
    /// The results' receiver went away: everyone stops.
    closed: bool,
    /// Counts changes, so a waiter notices one that happened before it waited.
    generation: u64,
}

impl Pool {
    pub fn new(room: usize) -> Pool {
        Pool {
            state: Mutex::new(State {
                files: VecDeque::new(),
                tasks: VecDeque::new(),
                walking: true,
                busy: 0,
                closed: false,
                generation: 0,
            }),
            changed: Condvar::new(),
            room,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked holding the lock left consistent queues (no update spans
        // a panic): go on with them.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self, mut st: MutexGuard<'_, State>) {
        st.generation += 1;
        drop(st);
        self.changed.notify_all();
    }

    /// The walk's next file, once there is room. `false` when everyone stopped.
    pub fn push_file(&self, job: FileJob) -> bool {
        let mut st = self.lock();
        while st.files.len() >= self.room && !st.closed {
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.closed {
            return false;
        }
        st.files.push_back(job);
        self.changed(st);
        true
    }

    pub fn walk_done(&self) {
        let mut st = self.lock();
        st.walking = false;
        self.changed(st);
    }

    /// Stop everyone (the results are no longer wanted).
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        self.changed(st);
    }

    /// A thread's next work: a task, else a file (then [`Pool::file_done`] when it is
    /// handled); waits for either. `None` when all is done.
    pub fn next(&self) -> Option<Work> {
        let mut st = self.lock();
        loop {
            if st.closed {
                return None;
            }
            if let Some(t) = st.tasks.pop_front() {
                return Some(Work::Task(t));
            }
            if let Some(f) = st.files.pop_front() {
                st.busy += 1;
                self.changed(st);
                return Some(Work::File(f));
            }
            if !st.walking && st.busy == 0 {
                return None;
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub fn file_done(&self) {
        let mut st = self.lock();
        st.busy -= 1;
        self.changed(st);
    }

    pub fn push_task(&self, task: Task) {
        let mut st = self.lock();
        st.tasks.push_back(task);
        self.changed(st);
    }

    pub fn try_task(&self) -> Option<Task> {
        self.lock().tasks.pop_front()
    }

    /// Run a task and tell the waiters (its result is in).
    pub fn run(&self, task: Task, extractor: &mut Extractor) {
        task(extractor);
        let st = self.lock();
        self.changed(st);
    }

    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Wait until something changed after `seen` (a [`Pool::generation`]), at most `timeout`.
    pub fn wait_change(&self, seen: u64, timeout: Duration) {
        let st = self.lock();
        if st.generation != seen || st.closed {
            return;
        }
        let _ = self.changed.wait_timeout(st, timeout);
    }
}
