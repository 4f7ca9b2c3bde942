//! Schema and forward migrations, versioned with `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry migrates from version `index` to `index + 1`; never edit a shipped one.
const MIGRATIONS: &[Migration] = &[
    Migration::sql(V1),
    Migration::sql(V2),
    Migration::sql(V3),
    Migration::sql(V4),
    Migration::sql(V5),
    Migration::sql(V6),
    Migration {
        sql: V_TEAM,
        then: Some(super::users::adopt_creator),
    },
    Migration::sql(V_IMPORTED_CLAIMS),
    Migration::sql(V_BAG_INFO),
    Migration::sql(V_EXTRACT_FAILED),
    Migration::sql(V_KEPT_PREVIEWS),
    Migration::sql(V_FAMILIES),
    Migration::sql(V_WELLBEING),
    Migration::sql(V_INCIDENTS),
];

/// One step: its SQL, then (in the same transaction) any work SQL alone cannot do.
struct Migration {
    sql: &'static str,
    then: Option<fn(&rusqlite::Transaction) -> rusqlite::Result<()>>,
}

impl Migration {
    const fn sql(sql: &'static str) -> Migration {
        Migration { sql, then: None }
    }
}

const V1: &str = r#"
CREATE TABLE case_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- AUTOINCREMENT so that a reference (T-000123) is never reused, even after a rollback.
CREATE TABLE items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    mime         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    ext_mismatch TEXT,
    metadata     TEXT NOT NULL,
    captured_at  TEXT,
    name         TEXT NOT NULL,
    first_source TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'untriaged',
    status_by    TEXT,
    status_at    TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX items_status ON items(status, id);
CREATE INDEX items_kind ON items(kind, id);

CREATE TABLE batches (
    id         INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    roots      TEXT NOT NULL
);

-- One row per received file. The path is kept as raw bytes: names need not be UTF-8.
CREATE TABLE provenance (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES items(id),
    source      TEXT NOT NULL,
    path        BLOB NOT NULL,
    size        INTEGER NOT NULL,
    mtime       TEXT,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    batch_id    INTEGER NOT NULL REFERENCES batches(id),
    UNIQUE(item_id, source, path)
);
CREATE INDEX provenance_source ON provenance(source, item_id);

CREATE TABLE ingest_problems (
    id       INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    path     BLOB NOT NULL,
    outcome  TEXT NOT NULL CHECK (outcome IN ('skipped', 'failed')),
    reason   TEXT NOT NULL,
    at       TEXT NOT NULL
);

CREATE TABLE tags (
    item_id INTEGER NOT NULL REFERENCES items(id),
    term_id TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('crime', 'party', 'flag')),
    set_by  TEXT NOT NULL,
    set_at  TEXT NOT NULL,
    PRIMARY KEY (item_id, term_id)
) WITHOUT ROWID;
CREATE INDEX tags_term ON tags(term_id, item_id);
CREATE INDEX tags_by ON tags(set_by, item_id);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id),
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    retracted  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notes_item ON notes(item_id);

-- A reviewer's change: the unit that undo reverses. `ops` holds what was done, as JSON.
CREATE TABLE changes (
    id        INTEGER PRIMARY KEY,
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    summary   TEXT NOT NULL,
    ops       TEXT NOT NULL,
    undoes    INTEGER REFERENCES changes(id),
    undone_by INTEGER REFERENCES changes(id)
);
CREATE INDEX changes_actor ON changes(actor, id);

-- Append-only, hash-chained event log.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    item_id   INTEGER,
    event     TEXT NOT NULL,
    details   TEXT NOT NULL,
    change_id INTEGER,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_item ON audit(item_id, seq);
CREATE INDEX audit_actor ON audit(actor, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The terms a reviewer used, most recent first, for the pickers' accelerators.
CREATE TABLE recent_terms (
    actor   TEXT NOT NULL,
    term_id TEXT NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (actor, term_id)
) WITHOUT ROWID;
"#;

/// Providers become first-class: kind, contact and use conditions.
const V2: &str = r#"
CREATE TABLE sources (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL DEFAULT 'other',
    contact    TEXT,
    conditions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
INSERT INTO sources(name, created_at)
    SELECT source, min(received_at) FROM provenance GROUP BY source;
"#;

/// Images: a perceptual fingerprint, to find re-encoded, resized or cropped copies.
const V3: &str = r#"
CREATE TABLE fingerprints (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    dhash   INTEGER NOT NULL,
    phash   INTEGER NOT NULL
);
"#;

/// Cached 32×32 thumbnails beside the fingerprints (so similar-image checks need not decode
/// originals again), and the similar-image groups last computed, for the console and filters.
/// Both are derived data, recomputable from the originals.
const V4: &str = r#"
ALTER TABLE fingerprints ADD COLUMN thumb BLOB;
CREATE TABLE similar (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    grp     INTEGER NOT NULL
);
CREATE INDEX similar_grp ON similar(grp);
"#;

/// The overview's counts from indexes rather than a scan of every item's metadata: items
/// per capture month, and items with GPS per cell of a tenth of a degree (a partial index:
/// only rows with a position). The expressions must stay the text `store::overview` queries.
const V5: &str = r#"
CREATE INDEX items_month ON items(substr(captured_at, 1, 7));
CREATE INDEX items_gps_cell ON items(
    round(json_extract(metadata, '$.exif.gps.lat') * 10),
    round(json_extract(metadata, '$.exif.gps.lon') * 10))
    WHERE instr(metadata, '"gps"') > 0 AND json_valid(metadata);
"#;

/// Search: the full-text index, GPS positions, similar-image groups and saved views.
const V6: &str = super::search_index::MIGRATION;

/// Team review: people and roles, claims (short leases on items being looked at), assigned
/// batches, second-level review decisions. The case's creator becomes its admin
/// (`users::adopt_creator`, run in the same transaction).
const V_TEAM: &str = r#"
CREATE TABLE users (
    login    TEXT PRIMARY KEY,
    role     TEXT NOT NULL CHECK (role IN ('reviewer', 'lead', 'admin')),
    disabled INTEGER NOT NULL DEFAULT 0,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);

-- An item someone is looking at: others' untriaged views skip it until the lease expires.
CREATE TABLE claims (
    item_id    INTEGER PRIMARY KEY REFERENCES items(id),
    login      TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX claims_login ON claims(login);

CREATE TABLE assignments (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id),
    login       TEXT NOT NULL,
    batch       TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE INDEX assignments_login ON assignments(login, batch);

-- Second-level review: one decision per item. `decided_by` was the first-level decision's
-- author, `outcome` what the lead did with it.
CREATE TABLE reviews (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id),
    reason      TEXT NOT NULL CHECK (reason IN ('escalated', 'sample')),
    decided_by  TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reviewer    TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('confirmed', 'overturned')),
    reviewed_at TEXT NOT NULL
);
CREATE INDEX reviews_decided_by ON reviews(decided_by);
"#;

/// Decisions another case sent in a bag: the sender's claim (who, when, in which case), kept
/// apart from `tags`, whose rows are local acts (the importing login applied them). Unknown
/// values are '' so that the same claim is recorded once.
const V_IMPORTED_CLAIMS: &str = r#"
CREATE TABLE imported_claims (
    id           INTEGER PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES items(id),
    term_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    claimed_by   TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    sending_case TEXT NOT NULL,
    original_ref TEXT NOT NULL,
    batch_id     INTEGER NOT NULL REFERENCES batches(id),
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    UNIQUE(item_id, term_id, sending_case, original_ref, claimed_by, claimed_at)
);
"#;

/// The `bag-info.txt` of each imported bag, kept as provenance of every item the bag brought
/// (the batch's `provenance` rows). Written with the `import.batch` event, which carries the
/// same version and fields.
const V_BAG_INFO: &str = r#"
CREATE TABLE bag_info (
    batch_id      INTEGER PRIMARY KEY REFERENCES batches(id),
    bag           TEXT NOT NULL,
    bagit_version TEXT NOT NULL,
    fields        TEXT NOT NULL
);
"#;

/// A file taken in whose metadata could not be read (its parser crashed, ran out of memory
/// or time) is an item and a recorded problem: a third outcome. SQLite cannot change a CHECK
/// constraint in place, so the table is rebuilt (nothing refers to it).
const V_EXTRACT_FAILED: &str = r#"
CREATE TABLE ingest_problems_next (
    id       INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    path     BLOB NOT NULL,
    outcome  TEXT NOT NULL CHECK (outcome IN ('skipped', 'failed', 'extract-failed')),
    reason   TEXT NOT NULL,
    at       TEXT NOT NULL
);
INSERT INTO ingest_problems_next(id, batch_id, path, outcome, reason, at)
    SELECT id, batch_id, path, outcome, reason, at FROM ingest_problems;
DROP TABLE ingest_problems;
ALTER TABLE ingest_problems_next RENAME TO ingest_problems;
"#;

/// Each image's preview, made at ingest from the decoding that gives its fingerprint, so the
/// console never decodes an original to show it. Derived data: a case without a row falls
/// back to decoding the original.
const V_KEPT_PREVIEWS: &str = r#"
CREATE TABLE kept_previews (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    width   INTEGER NOT NULL,
    height  INTEGER NOT NULL,
    jpeg    BLOB NOT NULL
);
"#;

/// Families: a member of a container (an archive entry, an e-mail attachment) is received
/// like a file, under the path `container!/inner/path`, and linked to its parent item with its
/// place in it (from 1: `T-000120/3`) and its name inside it as stored (bytes). `parent_id`
/// is an item id; no REFERENCES clause, so that the columns can be dropped again (tests
/// rebuild older schemas that way).
const V_FAMILIES: &str = r#"
ALTER TABLE provenance ADD COLUMN parent_id INTEGER;
ALTER TABLE provenance ADD COLUMN ordinal INTEGER;
ALTER TABLE provenance ADD COLUMN inner_path BLOB;
CREATE INDEX provenance_parent ON provenance(parent_id, ordinal) WHERE parent_id IS NOT NULL;
"#;

/// Reviewers' exposure to graphic material, their answers at a limit, and the case's settings
/// (see `store::wellbeing`).
const V_WELLBEING: &str = super::wellbeing::MIGRATION;
/// Incidents: the events items document (`I-0001`; AUTOINCREMENT so that a reference is never
/// reused, even after an undone creation deleted its row), items' links to them, and each
/// reviewer's recently used incidents for the picker. Crimes and parties are JSON arrays of
/// term ids. No REFERENCES to incidents from the links, so that tests can drop the tables.
const V_INCIDENTS: &str = r#"
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    date_from   TEXT,
    date_to     TEXT,
    place       TEXT NOT NULL DEFAULT '',
    lat         REAL,
    lon         REAL,
    radius_m    REAL,
    description TEXT NOT NULL DEFAULT '',
    crimes      TEXT NOT NULL DEFAULT '[]',
    parties     TEXT NOT NULL DEFAULT '[]',
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'corroborated', 'closed')),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE incident_links (
    item_id     INTEGER NOT NULL REFERENCES items(id),
    incident_id INTEGER NOT NULL,
    linked_by   TEXT NOT NULL,
    linked_at   TEXT NOT NULL,
    PRIMARY KEY (item_id, incident_id)
) WITHOUT ROWID;
CREATE INDEX incident_links_incident ON incident_links(incident_id, item_id);
CREATE TABLE recent_incidents (
    actor       TEXT NOT NULL,
    incident_id INTEGER NOT NULL,
    used_at     INTEGER NOT NULL,
    PRIMARY KEY (actor, incident_id)
) WITHOUT ROWID;
-- Incidents another case sent in a bag: the sender's record (JSON) and the local items the bag
-- linked to it, kept as the sender's claim until a reviewer merges it into a local incident.
CREATE TABLE imported_incidents (
    id           INTEGER PRIMARY KEY,
    sending_case TEXT NOT NULL,
    original_ref TEXT NOT NULL,
    record       TEXT NOT NULL,
    items        TEXT NOT NULL,
    batch_id     INTEGER NOT NULL REFERENCES batches(id),
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    merged_into  INTEGER,
    merged_by    TEXT
);
"#;

pub const CURRENT_VERSION: usize = MIGRATIONS.len();

/// Bring the database up to the current version, one migration per transaction.
/// The version is read inside the write transaction, so two processes opening an old case at
/// the same moment cannot both run a migration.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let v = version(&tx)?;
        let Some(step) = MIGRATIONS.get(v) else {
            return Ok(());
        };
        tx.execute_batch(step.sql)?;
        if let Some(then) = step.then {
            then(&tx)?;
        }
        tx.pragma_update(None, "user_version", (v + 1) as i64)?;
        tx.commit()?;
    }
}

pub fn version(conn: &Connection) -> rusqlite::Result<usize> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
}
