//! People and roles: who may act on the case, and what each role may do. Every store function
//! that changes the case asks `authorize` first; a refusal is recorded as a `denied` audit
//! event in its own short transaction, so that even failed attempts leave a trace.

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::audit::{Chain, Event};
use super::{Case, CaseError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reviewer,
    Lead,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    pub fn with_article(self) -> &'static str {
        match self {
            Role::Reviewer => "a reviewer",
            Role::Lead => "a lead",
            Role::Admin => "an admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "reviewer" => Some(Role::Reviewer),
            "lead" => Some(Role::Lead),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What an actor asks to do. Each right needs a minimum role; roles are ordered (an admin may
/// do what a lead may, a lead what a reviewer may).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// Open the case, read it, verify it.
    Read,
    /// Tag, set status, add notes, undo one's own changes, claim items.
    Tag,
    /// Reveal a gated image grayscale and blurred.
    RevealBlurred,
    /// Reveal a gated (sensitive) image in full.
    RevealFull,
    /// Second-level review: confirm or overturn decisions, set the sample.
    Review,
    /// Assign batches of items to reviewers.
    Assign,
    /// Export a bag.
    Export,
    /// Export items despite their providers' conditions.
    OverrideConditions,
    /// Ingest and import material.
    Intake,
    /// Rebuild derived data for the whole case (search index, fingerprints, similar groups).
    Maintain,
    /// Add, change or disable people.
    ManagePeople,
    /// Add or change providers and their conditions.
    ManageSources,
    /// Bring a changed taxonomy into use.
    ManageTaxonomy,
    /// Set the case's settings: limits on graphic material, gentler previews.
    SetLimits,
}

impl Right {
    pub fn needs(self) -> Role {
        match self {
            Right::Read | Right::Tag | Right::RevealBlurred => Role::Reviewer,
            Right::RevealFull
            | Right::Review
            | Right::Assign
            | Right::Export
            | Right::OverrideConditions
            | Right::Intake
            | Right::Maintain
            | Right::SetLimits => Role::Lead,
            Right::ManagePeople | Right::ManageSources | Right::ManageTaxonomy => Role::Admin,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Right::Read => "read",
            Right::Tag => "tag",
            Right::RevealBlurred => "reveal-blurred",
            Right::RevealFull => "reveal-full",
            Right::Review => "review",
            Right::Assign => "assign",
            Right::Export => "export",
            Right::OverrideConditions => "override-conditions",
            Right::Intake => "intake",
            Right::Maintain => "maintain",
            Right::ManagePeople => "manage-people",
            Right::ManageSources => "manage-sources",
            Right::ManageTaxonomy => "manage-taxonomy",
            Right::SetLimits => "set-limits",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub login: String,
    pub role: Role,
    pub disabled: bool,
    pub added_by: String,
    pub added_at: String,
}

/// Why an actor may not do something (before it is recorded).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    NotListed,
    Disabled,
    Role { has: Role, needs: Role },
}

impl Refusal {
    pub fn message(&self, actor: &str, right: Right) -> String {
        match self {
            Refusal::NotListed => format!(
                "{actor} is not a member of this case; ask the case's admin to run `triage user add {actor} --role reviewer`"
            ),
            Refusal::Disabled => format!("{actor}'s access to this case is disabled; ask the case's admin"),
            Refusal::Role { has, needs } => format!(
                "{actor} is {} here; {} needs {}",
                has.with_article(),
                right.as_str(),
                needs.with_article()
            ),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Refusal::NotListed => "not-listed",
            Refusal::Disabled => "disabled",
            Refusal::Role { .. } => "role",
        }
    }
}

pub fn get(db: &impl crate::store::Db, login: &str) -> rusqlite::Result<Option<User>> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached(
        "SELECT login, role, disabled, added_by, added_at FROM users WHERE login = ?1",
    )?
    .query_row([login], user_from)
    .optional()
}

pub fn list(db: &impl crate::store::Db) -> rusqlite::Result<Vec<User>> {
    let conn = crate::store::conn_of(db);
    conn.prepare_cached(
        "SELECT login, role, disabled, added_by, added_at FROM users ORDER BY login",
    )?
    .query_map([], user_from)?
    .collect()
}

fn user_from(r: &rusqlite::Row) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        login: r.get(0)?,
        // The column has a CHECK constraint; an unknown value cannot be stored.
        role: Role::parse(&role).unwrap_or(Role::Reviewer),
        disabled: r.get::<_, i64>(2)? != 0,
        added_by: r.get(3)?,
        added_at: r.get(4)?,
    })
}

/// May `actor` do `right`? Returns the actor's role.
pub fn check(
    db: &impl crate::store::Db,
    actor: &str,
    right: Right,
) -> rusqlite::Result<Result<Role, Refusal>> {
    let conn = crate::store::conn_of(db);
    Ok(match get(conn, actor)? {
        None => Err(Refusal::NotListed),
        Some(u) if u.disabled => Err(Refusal::Disabled),
        Some(u) if u.role < right.needs() => Err(Refusal::Role {
            has: u.role,
            needs: right.needs(),
        }),
        Some(u) => Ok(u.role),
    })
}

/// Check a right; a refusal is recorded (a `denied` audit event) and returned as an error.
/// `what` says what was attempted (e.g. "T-000012 +Shelling").
pub fn authorize(case: &Case, actor: &str, right: Right, what: &str) -> super::Result<Role> {
    match check(&case.conn, actor, right)? {
        Ok(role) => Ok(role),
        Err(refusal) => {
            let message = refusal.message(actor, right);
            record_denied(
                &case.conn,
                actor,
                None,
                json!({ "right": right.as_str(), "why": refusal.code(), "attempt": what }),
            )?;
            Err(CaseError::Denied(message))
        }
    }
}

/// Record a refusal in its own short transaction (the refused work was never started or has
/// been rolled back).
pub fn record_denied(
    db: &impl crate::store::Db,
    actor: &str,
    item: Option<i64>,
    details: serde_json::Value,
) -> super::Result<()> {
    let conn = crate::store::conn_of(db);
    // IMMEDIATE: the write lock is taken (waiting on the busy timeout) before the chain head
    // is read.
    let tx = Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let mut chain = Chain::load(&tx)?;
    chain.append(
        &tx,
        &Event {
            actor,
            item_id: item,
            event: "denied",
            details,
            change_id: None,
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Add a person, change a role, or disable a person (admins only; each change audited).
pub enum PeopleChange {
    Add(Role),
    SetRole(Role),
    Disable,
    Enable,
}

pub fn change(
    case: &mut Case,
    actor: &str,
    login: &str,
    what: PeopleChange,
) -> super::Result<String> {
    let attempt = match &what {
        PeopleChange::Add(r) => format!("user add {login} --role {}", r.as_str()),
        PeopleChange::SetRole(r) => format!("user set {login} --role {}", r.as_str()),
        PeopleChange::Disable => format!("user disable {login}"),
        PeopleChange::Enable => format!("user enable {login}"),
    };
    authorize(case, actor, Right::ManagePeople, &attempt)?;
    if !valid_login(login) {
        return Err(CaseError::Invalid(format!(
            "{login:?} is not a login name (letters, digits, . _ - only)"
        )));
    }
    let existing = get(&case.conn, login)?;
    match (&what, &existing) {
        (PeopleChange::Add(_), Some(_)) => {
            return Err(CaseError::Invalid(format!(
                "{login} is a member already; change the role with `triage user set`"
            )))
        }
        (PeopleChange::SetRole(_) | PeopleChange::Disable | PeopleChange::Enable, None) => {
            return Err(CaseError::Invalid(format!(
                "{login} is not a member; add them with `triage user add`"
            )))
        }
        _ => {}
    }
    // The last active admin cannot lock everyone out of managing the case.
    let demotes_admin = existing
        .as_ref()
        .is_some_and(|u| u.role == Role::Admin && !u.disabled)
        && matches!(
            what,
            PeopleChange::Disable | PeopleChange::SetRole(Role::Reviewer | Role::Lead)
        );
    case.write(|tx| {
        if demotes_admin && active_admins(tx)? <= 1 {
            return Ok(Err(format!(
                "{login} is the case's only active admin; make another admin first"
            )));
        }
        let now = crate::clock::now();
        let (event, details) = match &what {
            PeopleChange::Add(role) => {
                tx.execute(
                    "INSERT INTO users(login, role, disabled, added_by, added_at) VALUES (?1, ?2, 0, ?3, ?4)",
                    (login, role.as_str(), actor, &now),
                )?;
                ("user.add", json!({ "login": login, "role": role.as_str() }))
            }
            PeopleChange::SetRole(role) => {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE login = ?1",
                    (login, role.as_str()),
                )?;
                (
                    "user.set",
                    json!({ "login": login, "old": existing.as_ref().map(|u| u.role.as_str()), "new": role.as_str() }),
                )
            }
            PeopleChange::Disable | PeopleChange::Enable => {
                let off = matches!(what, PeopleChange::Disable);
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE login = ?1",
                    (login, off as i64),
                )?;
                if off {
                    tx.execute("DELETE FROM claims WHERE login = ?1", [login])?;
                }
                (
                    if off { "user.disable" } else { "user.enable" },
                    json!({ "login": login }),
                )
            }
        };
        let mut chain = Chain::load(tx)?;
        chain.append(tx, &Event::case(actor, event, details))?;
        Ok(Ok(()))
    })?
    .map_err(CaseError::Invalid)?;
    Ok(attempt)
}

fn active_admins(tx: &Transaction) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |r| r.get(0),
    )
}

/// Login names as Unix knows them: no spaces, no control characters, no shell metacharacters.
pub fn valid_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The first admin of a new case (inside `Case::init`'s transaction).
pub fn add_creator(
    tx: &Transaction,
    chain: &mut Chain,
    login: &str,
    how: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO users(login, role, disabled, added_by, added_at) VALUES (?1, 'admin', 0, ?1, ?2)",
        (login, crate::clock::now()),
    )?;
    chain.append(
        tx,
        &Event::case(
            login,
            "user.add",
            json!({ "login": login, "role": "admin", "how": how }),
        ),
    )?;
    Ok(())
}

/// Migrating a case made before people were recorded: its creator (from `case_info`, else
/// the first audit event's actor) becomes its admin, so existing cases keep working.
pub fn adopt_creator(tx: &Transaction) -> rusqlite::Result<()> {
    let listed: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    if listed > 0 {
        return Ok(());
    }
    let creator: Option<String> = tx
        .query_row(
            "SELECT value FROM case_info WHERE key = 'created_by'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let creator = match creator {
        Some(c) => Some(c),
        None => tx
            .query_row("SELECT actor FROM audit ORDER BY seq LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?,
    };
    // A database without either is being created now: `Case::init` adds its creator.
    let Some(creator) = creator else {
        return Ok(());
    };
    let mut chain = Chain::load(tx)?;
    add_creator(tx, &mut chain, &creator, "migration: the case's creator")
}
