//! The case: its folder, its database and its object store. The only module that speaks SQL.

pub mod assignments;
pub mod audit;
pub(crate) mod bucket;
pub mod changes;
pub mod chat_links;
pub mod claims;
pub mod dups;
pub mod export_rows;
pub mod families;
pub(crate) mod import_rows;
pub mod incidents;
pub mod ingest_rows;
pub mod items;
pub mod kept_previews;
pub(crate) mod objects;
pub mod overview;
pub mod query;
pub(crate) mod replay;
pub mod review;
pub(crate) mod schema;
pub mod search_index;
pub mod sources;
pub(crate) mod uploads;
pub mod users;
pub mod verify;
pub mod views;
pub(crate) mod watch;
pub mod wellbeing;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use objects::ObjectStore;

pub const DB_FILE: &str = "case.db";
const MARKER: &str = "TRIAGE-CASE";

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0}: no such folder; create a case with `triage init {0}`")]
    Missing(String),
    #[error("{0}: not a triage case (no {DB_FILE}); create one with `triage init DIR`")]
    NotACase(String),
    #[error("{0}: already holds files; `triage init` wants a new or empty folder")]
    NotEmpty(String),
    #[error("{0}: case was written by a newer triage (schema {1}, this build knows {2})")]
    TooNew(String, usize, usize),
    /// Refused by the case's roles (already recorded in the audit log).
    #[error("refused: {0}")]
    Denied(String),
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The object store failed (down, refused, timed out): endpoint and reason, no secret.
    #[error(
        "object store {0}; nothing more was recorded, run the same command again once it answers"
    )]
    Store(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

pub type Result<T> = std::result::Result<T, CaseError>;

/// What store functions read from: a case, or (inside store/) a connection or transaction.
/// Sealed so that no code outside store/ can reach the connection behind it.
pub trait Db: sealed::Conn {}
impl<T: sealed::Conn + ?Sized> Db for T {}

mod sealed {
    pub trait Conn {
        fn conn(&self) -> &rusqlite::Connection;
    }
    impl Conn for rusqlite::Connection {
        fn conn(&self) -> &rusqlite::Connection {
            self
        }
    }
    impl Conn for rusqlite::Transaction<'_> {
        fn conn(&self) -> &rusqlite::Connection {
            self
        }
    }
    impl Conn for super::Case {
        fn conn(&self) -> &rusqlite::Connection {
            &self.conn
        }
    }
    impl<T: Conn + ?Sized> Conn for &T {
        fn conn(&self) -> &rusqlite::Connection {
            (**self).conn()
        }
    }
    impl<T: Conn + ?Sized> Conn for &mut T {
        fn conn(&self) -> &rusqlite::Connection {
            (**self).conn()
        }
    }
}

/// A read-only connection of its own to a case's database, for work on another thread
/// (checking the chain while the objects are re-hashed).
pub struct Reader {
    conn: Connection,
}

impl Reader {
    pub fn open(dir: &Path) -> Result<Reader> {
        let conn = Connection::open_with_flags(
            dir.join(DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(Reader { conn })
    }
}

impl sealed::Conn for Reader {
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Stops the query running on a connection from another thread (`sqlite3_interrupt`): the
/// query ends with an error for which `is_interrupted` is true.
pub struct Interrupt(rusqlite::InterruptHandle);

impl Interrupt {
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

/// The error of a query stopped by `Interrupt`.
pub fn is_interrupted(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

/// The errors of the SQL behind store functions, for code that handles them without SQL.
pub type DbError = rusqlite::Error;
pub type DbResult<T> = rusqlite::Result<T>;

/// The connection behind a `Db`, for store/ only.
pub(in crate::store) fn conn_of(db: &impl Db) -> &Connection {
    sealed::Conn::conn(db)
}

pub fn io_err(path: &Path, source: std::io::Error) -> CaseError {
    CaseError::Io {
        path: path.display().to_string(),
        error: source,
    }
}

pub struct Case {
    pub root: PathBuf,
    /// Private: SQL is spoken only in store/ (clippy.toml keeps rusqlite out of the rest).
    conn: Connection,
    pub objects: ObjectStore,
    /// Writers queue on this file before taking SQLite's write lock (see `write`).
    turn: Option<std::fs::File>,
}

impl Case {
    /// Make a new case folder: database, object store, the creator recorded as admin.
    pub fn init(dir: &Path, actor: &str) -> Result<Case> {
        Self::init_with(dir, actor, None)
    }

    /// A new case whose originals live in `bucket` (the local `objects/` without one).
    pub fn init_with(dir: &Path, actor: &str, bucket: Option<&bucket::Location>) -> Result<Case> {
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
            if entries.next().is_some() {
                return Err(CaseError::NotEmpty(dir.display().to_string()));
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        ObjectStore::create(dir, bucket)?;
        std::fs::write(
            dir.join(MARKER),
            "This folder is a triage case. Do not edit by hand.\n",
        )
        .map_err(|e| io_err(dir, e))?;
        let mut case = Self::connect(dir)?;
        schema::migrate(&mut case.conn)?;
        let now = crate::clock::now();
        let case_id = new_case_id();
        // Where originals live is recorded with the case's creation (never a credential).
        let mut details = serde_json::json!({ "case_id": case_id });
        if let Some(b) = bucket {
            details["originals"] = b.describe().into();
        }
        case.write(|tx| {
            tx.execute(
                "INSERT INTO case_info(key, value) VALUES ('case_id', ?1), ('created_at', ?2), ('created_by', ?3)",
                (&case_id, &now, actor),
            )?;
            let mut chain = audit::Chain::load(tx)?;
            chain.append(
                tx,
                &audit::Event::case(
                    actor,
                    "case.init",
                    details.clone(),
                ),
            )?;
            users::add_creator(tx, &mut chain, actor, "the case's creator")?;
            Ok(())
        })?;
        Ok(case)
    }

    pub fn open(dir: &Path) -> Result<Case> {
        if !dir.is_dir() {
            return Err(CaseError::Missing(dir.display().to_string()));
        }
        if !dir.join(DB_FILE).is_file() {
            return Err(CaseError::NotACase(dir.display().to_string()));
        }
        let mut case = Self::connect(dir)?;
        let v = schema::version(&case.conn)?;
        if v > schema::CURRENT_VERSION {
            return Err(CaseError::TooNew(
                dir.display().to_string(),
                v,
                schema::CURRENT_VERSION,
            ));
        }
        schema::migrate(&mut case.conn)?;
        Ok(case)
    }

    fn connect(dir: &Path) -> Result<Case> {
        let conn = Connection::open_with_flags(
            dir.join(DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A long busy timeout: another reviewer's write lasts milliseconds, and "database is
        // locked" must never reach a user.
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit the screen reports as saved survives a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        query::register_functions(&conn)?;
        Ok(Case {
            root: dir.to_path_buf(),
            conn,
            objects: ObjectStore::open(dir)?,
            turn: open_turn(dir),
        })
    }

    /// Run `f` in one short write transaction (taken IMMEDIATE so the busy handler applies),
    /// retrying the whole transaction if the lock could not be had.
    pub fn write<T>(
        &mut self,
        mut f: impl FnMut(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        // SQLite's busy handler polls in growing sleeps (up to 100 ms), so a waiting writer can
        // lose the race many times in a row: with eight reviewers, some commits waited seconds.
        // Waiting for our turn on a lock file first, polled every millisecond, keeps the wait
        // near the length of the queue. The lock is only for fairness: SQLite's own locks keep
        // the data safe, and without the file (or after 30 s) we go on without it.
        let _turn = self.turn.as_ref().map(Turn::take);
        let mut attempts = 0;
        loop {
            let result = (|| {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let v = f(&tx)?;
                tx.commit()?;
                Ok(v)
            })();
            match result {
                Err(rusqlite::Error::SqliteFailure(e, _)) if is_busy(e.code) && attempts < 20 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50 * attempts));
                }
                other => return other.map_err(CaseError::from),
            }
        }
    }

    /// A handle that interrupts this case's running query from another thread.
    pub fn interrupt_handle(&self) -> Interrupt {
        Interrupt(self.conn.get_interrupt_handle())
    }

    pub fn info(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM case_info WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.root.display().to_string())
    }
}

const TURN_FILE: &str = "case.db-turn";

fn open_turn(dir: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(TURN_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o660)
        .open(&path)
        .ok()?;
    Some(file)
}

/// Holding the turn file's exclusive lock; released when dropped.
struct Turn<'a>(Option<&'a std::fs::File>);

impl<'a> Turn<'a> {
    fn take(file: &'a std::fs::File) -> Turn<'a> {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        let start = std::time::Instant::now();
        loop {
            // SAFETY: flock only acts on a descriptor we own for as long as `file` lives.
            if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Turn(Some(file));
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Turn(None);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        if let Some(f) = self.0 {
            // SAFETY: as above.
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}

fn is_busy(code: rusqlite::ErrorCode) -> bool {
    matches!(
        code,
        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
    )
}

fn new_case_id() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::clock::now().as_bytes());
    h.update(std::process::id().to_le_bytes());
    let mut rnd = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut rnd);
    }
    h.update(rnd);
    let d = hex::encode(h.finalize());
    format!("case-{}", &d[..16])
}

/// Record the taxonomy in use when it is not the one last recorded: an audit event with its
/// SHA-256 and origin. One read when unchanged.
pub fn record_taxonomy(case: &Case, actor: &str, text: &str, origin: &str) -> Result<()> {
    use sha2::{Digest, Sha256};
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    if case.info("taxonomy_sha256")?.as_deref() == Some(sha.as_str()) {
        return Ok(());
    }
    // Bringing a new or changed taxonomy into use is an admin's decision.
    if let Err(refusal) = users::check(&case.conn, actor, users::Right::ManageTaxonomy)? {
        let details = serde_json::json!({
            "right": users::Right::ManageTaxonomy.as_str(), "why": "taxonomy-changed",
            "sha256": sha, "origin": origin,
        });
        users::record_denied(&case.conn, actor, None, details)?;
        return Err(CaseError::Denied(format!(
            "the taxonomy ({origin}) is not the one last brought into use; an admin of the case must open it first ({})",
            refusal.message(actor, users::Right::ManageTaxonomy)
        )));
    }
    let tx = rusqlite::Transaction::new_unchecked(&case.conn, TransactionBehavior::Immediate)?;
    let previous: Option<String> = {
        use rusqlite::OptionalExtension;
        tx.query_row(
            "SELECT value FROM case_info WHERE key = 'taxonomy_sha256'",
            [],
            |r| r.get(0),
        )
        .optional()?
    };
    if previous.as_deref() != Some(sha.as_str()) {
        tx.execute(
            "INSERT INTO case_info(key, value) VALUES ('taxonomy_sha256', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [&sha],
        )?;
        let mut chain = audit::Chain::load(&tx)?;
        chain.append(
            &tx,
            &audit::Event::case(
                actor,
                if previous.is_some() {
                    "taxonomy.change"
                } else {
                    "taxonomy.use"
                },
                serde_json::json!({ "sha256": sha, "previous": previous, "origin": origin }),
            ),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The display reference of an item id: `T-000123`.
pub fn reference(id: i64) -> String {
    format!("T-{id:06}")
}

/// Parse `T-000123`, `t-123` or `123` into an item id.
pub fn parse_reference(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t
        .strip_prefix("T-")
        .or_else(|| t.strip_prefix("t-"))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
