//! Replaying the audit log: the decisions it implies (items and their status, tags, notes,
//! people and roles, saved views, providers and their conditions, who sent each item, reviews,
//! assignments, the review sample, imported claims) are rebuilt from the entries in order, then
//! compared with the case's tables, one scan per table. Any write that bypassed the log — a bug,
//! a forgotten code path, someone with sqlite3 — shows up as a named difference.
//!
//! One pass over the log, state in hash maps; logins and term ids are interned (a million
//! items carry few distinct ones). Only the events that change state have their details parsed.

use std::collections::{BTreeSet, HashMap, HashSet};

use rusqlite::Connection;
use serde_json::Value;

use super::verify::{Entry, Problem};

/// At most this many differences are listed; the rest are counted.
const MAX_LISTED: usize = 10_000;

/// Interned strings (logins, term ids): small integers in place of repeated text.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
    fn name(&self, i: u32) -> &str {
        self.names
            .get(i as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }
}

const STATUSES: [&str; 3] = ["untriaged", "triaged", "escalated"];

fn status_code(s: &str) -> Option<u8> {
    STATUSES.iter().position(|x| *x == s).map(|i| i as u8)
}

#[derive(Clone, Copy)]
struct ItemState {
    status: u8,
    /// Who set the status (interned); none while it was never set.
    by: Option<u32>,
}

#[derive(Clone, Copy)]
struct TagState {
    kind: u32,
    set_by: u32,
    /// For tags imported before imports recorded the importing login as `set_by`: the sending
    /// case's login, which such tags carried.
    sent_by: Option<u32>,
}

struct NoteState {
    item: i64,
    author: String,
    body: String,
    retracted: bool,
}

struct UserState {
    role: String,
    disabled: bool,
}

struct SourceState {
    kind: String,
    contact: Option<String>,
    conditions: BTreeSet<String>,
}

/// The fields of an arrival's details the replay needs: the provider, and a member's parent
/// and place in it.
#[derive(serde::Deserialize)]
struct Arrival<'a> {
    #[serde(borrow)]
    source: Option<std::borrow::Cow<'a, str>>,
    parent: Option<i64>,
    ordinal: Option<i64>,
}

type ClaimKey = (i64, String, String, String, String, String);

/// The state the log implies, built entry by entry.
#[derive(Default)]
pub struct Replay {
    names: Names,
    items: HashMap<i64, ItemState>,
    tags: HashMap<(i64, u32), TagState>,
    notes: HashMap<i64, NoteState>,
    users: HashMap<String, UserState>,
    views: HashMap<String, (String, String)>,
    /// Case settings: (scope, key) → value.
    settings: HashMap<(String, String), String>,
    sources: HashMap<String, SourceState>,
    reviews: HashMap<i64, (String, String)>,
    assignments: HashMap<i64, (u32, String)>,
    sample_pct: Option<i64>,
    /// Imported claims (a sender's tags kept as the sender's): (item, term, claimed_by,
    /// claimed_at, sending_case, original_ref) → (kind, imported_by).
    claims: HashMap<ClaimKey, (String, String)>,
    /// Which providers sent each item (item, provider interned): an item carries its
    /// providers' conditions, so a provenance record added or removed unseen changes what
    /// may be disclosed.
    received: HashSet<(i64, u32)>,
    /// Members' links (parent, ordinal, item): a member moved to another parent unseen
    /// changes what a family holds.
    members: HashSet<(i64, i64, i64)>,
    /// Incidents' records, and links (item, incident) → who linked.
    incidents: HashMap<i64, super::incidents::Record>,
    links: HashMap<(i64, i64), u32>,
    /// Imported incidents: claim id → (the import's details as logged, merged into, by).
    imported_incidents: HashMap<i64, (Value, Option<(i64, String)>)>,
    problems: Vec<Problem>,
    unlisted: u64,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Replay {
    pub fn new() -> Replay {
        Replay::default()
    }

    fn problem(&mut self, what: String, problem: String) {
        if self.problems.len() < MAX_LISTED {
            self.problems.push(Problem { what, problem });
        } else {
            self.unlisted += 1;
        }
    }

    /// Take one audit entry, in `seq` order.
    pub fn event(&mut self, e: &Entry) {
        let Entry {
            seq,
            actor,
            item,
            event,
            details,
        } = *e;
        match event {
            // Arrival: only the provider is read from the details (they are many).
            "ingest.new" | "import.new" | "ingest.duplicate" | "import.duplicate" => {
                let Some(id) = item else { return };
                if event.ends_with(".new") {
                    self.items.entry(id).or_insert(ItemState {
                        status: 0,
                        by: None,
                    });
                }
                match serde_json::from_str::<Arrival>(details) {
                    Ok(Arrival {
                        source: Some(source),
                        parent,
                        ordinal,
                    }) => {
                        let source = self.names.id(&source);
                        self.received.insert((id, source));
                        if let (Some(parent), Some(ordinal)) = (parent, ordinal) {
                            self.members.insert((parent, ordinal, id));
                        }
                    }
                    _ => self.problem(
                        format!("audit #{seq}"),
                        format!("this {event} entry does not name its provider"),
                    ),
                }
                return;
            }
            "tag.add" | "tag.remove" | "status.set" | "note.add" | "note.retract" | "user.add"
            | "user.set" | "user.disable" | "user.enable" | "view.save" | "view.delete"
            | "source.add" | "source.set" | "review.confirm" | "review.overturn" | "assign"
            | "review.sample" | "import.claim" | "settings.set" | "incident.add"
            | "incident.set" | "incident.delete" | "incident.link" | "incident.unlink"
            | "import.incident" | "incident.merge" => {}
            _ => return,
        }
        let Ok(d) = serde_json::from_str::<Value>(details) else {
            self.problem(
                format!("audit #{seq}"),
                format!("the details of this {event} entry cannot be read"),
            );
            return;
        };
        let unreadable = |r: &mut Replay| {
            r.problem(
                format!("audit #{seq}"),
                format!("this {event} entry lacks what it changed"),
            )
        };
        match (event, item) {
            ("tag.add" | "tag.remove", Some(id)) => {
                let (Some(term), Some(kind)) = (s(&d, "term"), s(&d, "kind")) else {
                    return unreadable(self);
                };
                let key = (id, self.names.id(&term));
                if let (Some(claim), Some(kind)) = (d.get("imported"), s(&d, "kind")) {
                    self.claim(id, &term, claim, kind, actor);
                }
                if event == "tag.add" {
                    let state = TagState {
                        kind: self.names.id(&kind),
                        set_by: self.names.id(actor),
                        sent_by: d
                            .get("imported")
                            .and_then(|_| s(&d, "set_by").map(|by| self.names.id(&by))),
                    };
                    self.tags.insert(key, state);
                } else {
                    self.tags.remove(&key);
                }
            }
            ("status.set", Some(id)) => {
                let Some(status) = s(&d, "new").as_deref().and_then(status_code) else {
                    return unreadable(self);
                };
                let by = Some(self.names.id(actor));
                self.items.insert(id, ItemState { status, by });
            }
            ("note.add" | "note.retract", Some(id)) => {
                let Some(note) = d.get("note").and_then(Value::as_i64) else {
                    return unreadable(self);
                };
                let body = s(&d, "body").unwrap_or_default();
                let retracted = event == "note.retract";
                let n = self.notes.entry(note).or_insert_with(|| NoteState {
                    item: id,
                    author: actor.to_string(),
                    body,
                    retracted,
                });
                n.retracted = retracted;
            }
            ("user.add" | "user.set" | "user.disable" | "user.enable", _) => {
                let Some(login) = s(&d, "login") else {
                    return unreadable(self);
                };
                match event {
                    "user.add" => {
                        let Some(role) = s(&d, "role") else {
                            return unreadable(self);
                        };
                        self.users.insert(
                            login,
                            UserState {
                                role,
                                disabled: false,
                            },
                        );
                    }
                    "user.set" => {
                        let Some(role) = s(&d, "new") else {
                            return unreadable(self);
                        };
                        let u = self.users.entry(login).or_insert(UserState {
                            role: String::new(),
                            disabled: false,
                        });
                        u.role = role;
                    }
                    _ => {
                        if let Some(u) = self.users.get_mut(&login) {
                            u.disabled = event == "user.disable";
                        }
                    }
                }
            }
            ("view.save", _) => {
                let (Some(name), Some(expr)) = (s(&d, "name"), s(&d, "expr")) else {
                    return unreadable(self);
                };
                self.views.insert(name, (expr, actor.to_string()));
            }
            ("settings.set", _) => {
                let (Some(scope), Some(key), Some(new)) =
                    (s(&d, "scope"), s(&d, "key"), s(&d, "new"))
                else {
                    return unreadable(self);
                };
                self.settings.insert((scope, key), new);
            }
            ("view.delete", _) => {
                let Some(name) = s(&d, "name") else {
                    return unreadable(self);
                };
                self.views.remove(&name);
            }
            ("source.add", _) => {
                let Some(name) = s(&d, "name") else {
                    return unreadable(self);
                };
                self.sources.insert(name, source_state(&d));
            }
            ("source.set", _) => {
                let (Some(name), Some(new)) = (s(&d, "name"), d.get("new")) else {
                    return unreadable(self);
                };
                self.sources.insert(name, source_state(new));
            }
            ("review.confirm" | "review.overturn", Some(id)) => {
                let outcome = if event == "review.confirm" {
                    "confirmed"
                } else {
                    "overturned"
                };
                self.reviews
                    .insert(id, (actor.to_string(), outcome.to_string()));
            }
            ("assign", _) => {
                let (Some(to), Some(batch), Some(items)) = (
                    s(&d, "to"),
                    s(&d, "batch"),
                    d.get("items").and_then(Value::as_array),
                ) else {
                    return unreadable(self);
                };
                let to = self.names.id(&to);
                for id in items.iter().filter_map(Value::as_i64) {
                    self.assignments.insert(id, (to, batch.clone()));
                }
            }
            ("import.claim", Some(id)) => {
                let (Some(term), Some(kind), Some(claim)) =
                    (s(&d, "term"), s(&d, "kind"), d.get("imported"))
                else {
                    return unreadable(self);
                };
                self.claim(id, &term, claim, kind, actor);
            }
            ("review.sample", _) => {
                self.sample_pct = d.get("new").and_then(Value::as_i64);
            }
            ("incident.add" | "incident.set" | "incident.delete", _) => {
                let Some(id) = d.get("incident").and_then(Value::as_i64) else {
                    return unreadable(self);
                };
                if event == "incident.delete" {
                    self.incidents.remove(&id);
                } else {
                    let Some(Ok(record)) = d
                        .get("new")
                        .map(|n| serde_json::from_value::<super::incidents::Record>(n.clone()))
                    else {
                        return unreadable(self);
                    };
                    self.incidents.insert(id, record);
                }
            }
            ("import.incident", _) => {
                let Some(claim) = d.get("claim").and_then(Value::as_i64) else {
                    return unreadable(self);
                };
                let mut logged = d.clone();
                logged["imported_by"] = Value::String(actor.to_string());
                self.imported_incidents.insert(claim, (logged, None));
            }
            ("incident.merge", _) => {
                let (Some(claim), Some(into)) = (
                    d.get("claim").and_then(Value::as_i64),
                    d.get("into").and_then(Value::as_i64),
                ) else {
                    return unreadable(self);
                };
                match self.imported_incidents.get_mut(&claim) {
                    Some(c) => c.1 = Some((into, actor.to_string())),
                    None => unreadable(self),
                }
            }
            ("incident.link" | "incident.unlink", Some(id)) => {
                let Some(incident) = d.get("incident").and_then(Value::as_i64) else {
                    return unreadable(self);
                };
                if event == "incident.link" {
                    let by = self.names.id(actor);
                    self.links.insert((id, incident), by);
                } else {
                    self.links.remove(&(id, incident));
                }
            }
            _ => unreadable(self),
        }
    }

    /// A sender's claim recorded with an import (cases from before imported claims had their
    /// own table carry `set_by` in the claim's place, and no `claimed_by`: nothing to keep).
    fn claim(&mut self, item: i64, term: &str, claim: &Value, kind: String, actor: &str) {
        if claim.get("claimed_by").is_none() {
            return;
        }
        let text = |k: &str| s(claim, k).unwrap_or_default();
        let key = (
            item,
            term.to_string(),
            text("claimed_by"),
            text("claimed_at"),
            text("sending_case"),
            text("original_ref"),
        );
        self.claims.entry(key).or_insert((kind, actor.to_string()));
    }

    /// Compare the state the log implies with the case's tables (read in the same snapshot as
    /// the log). `now` is the database's clock in seconds, for claims.
    pub fn compare(mut self, conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
        self.compare_items(conn)?;
        self.compare_tags(conn)?;
        self.compare_notes(conn)?;
        self.compare_users(conn)?;
        self.compare_claims(conn)?;
        self.compare_views(conn)?;
        self.compare_settings(conn)?;
        self.compare_sources(conn)?;
        self.compare_reviews(conn)?;
        self.compare_assignments(conn)?;
        self.compare_sample(conn)?;
        self.compare_imported_claims(conn)?;
        self.compare_provenance(conn)?;
        self.compare_members(conn)?;
        self.compare_incidents(conn)?;
        if self.unlisted > 0 {
            self.problems.push(Problem {
                what: "case".into(),
                problem: format!(
                    "{} more differences from the log, not listed",
                    self.unlisted
                ),
            });
        }
        Ok(self.problems)
    }

    fn compare_items(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT id, status, status_by FROM items")?;
        let mut rows = st.query([])?;
        let mut seen = 0usize;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let status: String = r.get(1)?;
            let by: Option<String> = r.get(2)?;
            let Some(state) = self.items.get(&id).copied() else {
                self.problem(
                    super::reference(id),
                    "has no ingest event in the audit log".into(),
                );
                continue;
            };
            seen += 1;
            let want = STATUSES[state.status as usize];
            let want_by = state.by.map(|b| self.names.name(b).to_string());
            if status != want || by != want_by {
                let problem = format!(
                    "status is {status}{}, the log says {want}{}",
                    by_text(by.as_deref()),
                    by_text(want_by.as_deref())
                );
                self.problem(super::reference(id), problem);
            }
        }
        if seen < self.items.len() {
            let mut ids: Vec<i64> = self.items.keys().copied().collect();
            ids.sort_unstable();
            let mut exists = conn.prepare_cached("SELECT 1 FROM items WHERE id = ?1")?;
            for id in ids {
                if !exists.exists([id])? {
                    self.problem(
                        super::reference(id),
                        "is in the log but not in the case (deleted)".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn compare_tags(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT item_id, term_id, kind, set_by FROM tags")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let term: String = r.get(1)?;
            let kind: String = r.get(2)?;
            let set_by: String = r.get(3)?;
            let logged = self
                .names
                .get(&term)
                .and_then(|t| self.tags.remove(&(id, t)));
            let Some(t) = logged else {
                self.problem(
                    super::reference(id),
                    format!("tag {term} is in the case but not in the log"),
                );
                continue;
            };
            if self.names.name(t.kind) != kind {
                let problem = format!(
                    "tag {term} is a {kind} in the case, the log says {}",
                    self.names.name(t.kind)
                );
                self.problem(super::reference(id), problem);
            }
            let by_ok = self.names.name(t.set_by) == set_by
                || t.sent_by.is_some_and(|b| self.names.name(b) == set_by);
            if !by_ok {
                let problem = format!(
                    "tag {term} was set by {set_by} in the case, the log says {}",
                    self.names.name(t.set_by)
                );
                self.problem(super::reference(id), problem);
            }
        }
        let mut missing: Vec<(i64, u32)> = self.tags.keys().copied().collect();
        missing.sort_unstable();
        for (id, term) in missing {
            let problem = format!(
                "tag {} is in the log but not in the case",
                self.names.name(term)
            );
            self.problem(super::reference(id), problem);
        }
        Ok(())
    }

    fn compare_notes(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT id, item_id, author, body, retracted FROM notes")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let item: i64 = r.get(1)?;
            let author: String = r.get(2)?;
            let body: String = r.get(3)?;
            let retracted = r.get::<_, i64>(4)? != 0;
            let Some(n) = self.notes.remove(&id) else {
                self.problem(
                    super::reference(item),
                    format!("note {id} is in the case but not in the log"),
                );
                continue;
            };
            let mut diffs = Vec::new();
            if n.item != item {
                diffs.push(format!("belongs to {}", super::reference(n.item)));
            }
            if n.author != author {
                diffs.push(format!("is by {author}, the log says {}", n.author));
            }
            if n.body != body {
                diffs.push("has a text other than the log's".to_string());
            }
            if n.retracted != retracted {
                diffs.push(format!(
                    "is {}, the log says {}",
                    if retracted { "retracted" } else { "shown" },
                    if n.retracted { "retracted" } else { "shown" }
                ));
            }
            if !diffs.is_empty() {
                self.problem(
                    super::reference(item),
                    format!("note {id} {}", diffs.join("; ")),
                );
            }
        }
        let mut missing: Vec<(i64, i64)> = self.notes.iter().map(|(k, n)| (n.item, *k)).collect();
        missing.sort_unstable();
        for (item, id) in missing {
            self.problem(
                super::reference(item),
                format!("note {id} is in the log but not in the case"),
            );
        }
        Ok(())
    }

    fn compare_users(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT login, role, disabled FROM users ORDER BY login")?;
        let mut rows = st.query([])?;
        let mut seen = Vec::new();
        while let Some(r) = rows.next()? {
            let login: String = r.get(0)?;
            let role: String = r.get(1)?;
            let disabled = r.get::<_, i64>(2)? != 0;
            let what = format!("user {login}");
            let Some(u) = self.users.get(&login) else {
                self.problem(what, format!("is {role} in the case but not in the log"));
                continue;
            };
            let (want_role, want_disabled) = (u.role.clone(), u.disabled);
            seen.push(login);
            if role != want_role {
                self.problem(
                    what.clone(),
                    format!("role is {role}, the log says {want_role}"),
                );
            }
            if disabled != want_disabled {
                self.problem(
                    what,
                    format!(
                        "is {}, the log says {}",
                        if disabled { "disabled" } else { "active" },
                        if want_disabled { "disabled" } else { "active" }
                    ),
                );
            }
        }
        let mut missing: Vec<String> = self
            .users
            .keys()
            .filter(|l| !seen.contains(l))
            .cloned()
            .collect();
        missing.sort();
        for login in missing {
            self.problem(
                format!("user {login}"),
                "is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    /// Claims are leases, not decisions, and are not logged; but a live claim blocks everyone
    /// else's changes to the item, so one held by someone the log does not make an active
    /// member, or lasting longer than a lease, matters.
    fn compare_claims(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare(&format!(
            "SELECT item_id, login, expires_at - {now} FROM claims WHERE expires_at > {now}
             ORDER BY item_id",
            now = super::claims::NOW_SQL
        ))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let item: i64 = r.get(0)?;
            let login: String = r.get(1)?;
            let left: i64 = r.get(2)?;
            let active = self.users.get(&login).is_some_and(|u| !u.disabled);
            if !active {
                self.problem(
                    super::reference(item),
                    format!("claimed by {login}, who the log does not make an active member"),
                );
            } else if left > super::claims::LEASE_SECS + 60 {
                self.problem(
                    super::reference(item),
                    format!("claimed by {login} for another {left} s, longer than any lease"),
                );
            }
        }
        Ok(())
    }

    fn compare_views(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT name, expr, created_by FROM saved_views")?;
        let rows: Vec<(String, String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, expr, by) in rows {
            let what = format!("view {name}");
            match self.views.remove(&name) {
                None => self.problem(what, "is in the case but not in the log".into()),
                Some((e, b)) => {
                    if e != expr {
                        self.problem(
                            what.clone(),
                            format!("filter is {expr:?}, the log says {e:?}"),
                        );
                    }
                    if b != by {
                        self.problem(what, format!("saved by {by}, the log says {b}"));
                    }
                }
            }
        }
        let mut missing: Vec<String> = self.views.keys().cloned().collect();
        missing.sort();
        for name in missing {
            self.problem(
                format!("view {name}"),
                "is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    /// Limits and preview defaults (cases whose schema has no settings table have none).
    fn compare_settings(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let has_table = conn
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_settings'")?
            .exists([])?;
        let rows = if has_table {
            super::wellbeing::stored_settings(conn)?
        } else {
            vec![]
        };
        for (scope, key, value) in rows {
            let what = if scope.is_empty() {
                format!("setting {key}")
            } else {
                format!("setting {key} for {scope}")
            };
            match self.settings.remove(&(scope, key)) {
                None => self.problem(what, "is in the case but not in the log".into()),
                Some(v) if v != value => {
                    self.problem(what, format!("is {value}, the log says {v}"))
                }
                Some(_) => {}
            }
        }
        let mut missing: Vec<(String, String)> = self.settings.keys().cloned().collect();
        missing.sort();
        for (scope, key) in missing {
            self.problem(
                format!("setting {key} {scope}").trim_end().to_string(),
                "is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    fn compare_sources(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT name, kind, contact, conditions FROM sources")?;
        let rows: Vec<(String, String, Option<String>, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, kind, contact, conditions) in rows {
            let what = format!("source {name}");
            let conditions: BTreeSet<String> = super::sources::parse_conditions(&conditions)
                .into_iter()
                .collect();
            let Some(want) = self.sources.remove(&name) else {
                // Cases made before providers were recorded got their providers, with no
                // kind, contact or condition, without an entry: only those are let through.
                if kind != "other" || contact.is_some() || !conditions.is_empty() {
                    self.problem(what, "is in the case but not in the log".into());
                }
                continue;
            };
            if want.kind != kind {
                self.problem(
                    what.clone(),
                    format!("kind is {kind}, the log says {}", want.kind),
                );
            }
            if want.contact != contact {
                self.problem(what.clone(), "contact differs from the log's".into());
            }
            if want.conditions != conditions {
                self.problem(
                    what,
                    format!(
                        "conditions are [{}], the log says [{}]",
                        join(&conditions),
                        join(&want.conditions)
                    ),
                );
            }
        }
        let mut missing: Vec<String> = self.sources.keys().cloned().collect();
        missing.sort();
        for name in missing {
            self.problem(
                format!("source {name}"),
                "is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    fn compare_reviews(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT item_id, reviewer, outcome FROM reviews")?;
        let rows: Vec<(i64, String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (item, reviewer, outcome) in rows {
            match self.reviews.remove(&item) {
                None => self.problem(
                    super::reference(item),
                    "has a review decision that is not in the log".into(),
                ),
                Some((r, o)) if r != reviewer || o != outcome => self.problem(
                    super::reference(item),
                    format!("review: {outcome} by {reviewer}, the log says {o} by {r}"),
                ),
                Some(_) => {}
            }
        }
        let mut missing: Vec<i64> = self.reviews.keys().copied().collect();
        missing.sort_unstable();
        for item in missing {
            self.problem(
                super::reference(item),
                "review decision is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    fn compare_assignments(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT item_id, login, batch FROM assignments")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let item: i64 = r.get(0)?;
            let login: String = r.get(1)?;
            let batch: String = r.get(2)?;
            match self.assignments.remove(&item) {
                None => self.problem(
                    super::reference(item),
                    format!("assigned to {login} in the case, not in the log"),
                ),
                Some((to, b)) if self.names.name(to) != login || b != batch => {
                    let problem = format!(
                        "assigned to {login} ({batch}), the log says {} ({b})",
                        self.names.name(to)
                    );
                    self.problem(super::reference(item), problem);
                }
                Some(_) => {}
            }
        }
        let mut missing: Vec<i64> = self.assignments.keys().copied().collect();
        missing.sort_unstable();
        for item in missing {
            self.problem(
                super::reference(item),
                "assignment is in the log but not in the case".into(),
            );
        }
        Ok(())
    }

    fn compare_sample(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        use rusqlite::OptionalExtension;
        let stored: Option<String> = conn
            .query_row(
                "SELECT value FROM case_info WHERE key = 'review_sample_pct'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored.map(|v| v.parse::<i64>().unwrap_or(-1));
        if stored != self.sample_pct {
            let show = |v: Option<i64>| v.map_or("none".to_string(), |p| format!("{p} %"));
            self.problem(
                "review sample".into(),
                format!(
                    "is {}, the log says {}",
                    show(stored),
                    show(self.sample_pct)
                ),
            );
        }
        Ok(())
    }
}

impl Replay {
    /// Imported claims: what the case shows as a sender's decisions must be what the imports
    /// recorded. (Cases whose schema has no such table have none.)
    fn compare_imported_claims(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let has_table = conn
            .prepare(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'imported_claims'",
            )?
            .exists([])?;
        if !has_table {
            return Ok(());
        }
        let mut st = conn.prepare(
            "SELECT item_id, term_id, kind, claimed_by, claimed_at, sending_case, original_ref,
                    imported_by FROM imported_claims",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let key: ClaimKey = (
                r.get(0)?,
                r.get(1)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            );
            let kind: String = r.get(2)?;
            let imported_by: String = r.get(7)?;
            let what = super::reference(key.0);
            match self.claims.remove(&key) {
                None => self.problem(
                    what,
                    format!(
                        "imported claim {} by {} is in the case but not in the log",
                        key.1, key.2
                    ),
                ),
                Some((k, by)) if k != kind || by != imported_by => self.problem(
                    what,
                    format!(
                        "imported claim {} by {}: {kind} imported by {imported_by}, the log says {k} imported by {by}",
                        key.1, key.2
                    ),
                ),
                Some(_) => {}
            }
        }
        let mut missing: Vec<ClaimKey> = self.claims.keys().cloned().collect();
        missing.sort();
        for key in missing {
            self.problem(
                super::reference(key.0),
                format!(
                    "imported claim {} by {} is in the log but not in the case",
                    key.1, key.2
                ),
            );
        }
        Ok(())
    }
}

impl Replay {
    fn compare_provenance(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare("SELECT DISTINCT item_id, source FROM provenance")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let source = r.get_ref(1)?.as_str()?.to_string();
            let logged = self
                .names
                .get(&source)
                .is_some_and(|s| self.received.remove(&(id, s)));
            if !logged {
                self.problem(
                    super::reference(id),
                    format!("received from {source} in the case, not in the log"),
                );
            }
        }
        let mut missing: Vec<(i64, u32)> = self.received.iter().copied().collect();
        missing.sort_unstable();
        for (id, source) in missing {
            let problem = format!(
                "the log has it received from {}, the case does not",
                self.names.name(source)
            );
            self.problem(super::reference(id), problem);
        }
        Ok(())
    }
}

impl Replay {
    fn compare_members(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut st = conn.prepare(
            "SELECT DISTINCT parent_id, ordinal, item_id FROM provenance
             WHERE parent_id IS NOT NULL",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (parent, ordinal, id): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if !self.members.remove(&(parent, ordinal, id)) {
                self.problem(
                    super::reference(id),
                    format!(
                        "member {}/{ordinal} in the case, not in the log",
                        super::reference(parent)
                    ),
                );
            }
        }
        let mut missing: Vec<(i64, i64, i64)> = self.members.drain().collect();
        missing.sort_unstable();
        for (parent, ordinal, id) in missing {
            let problem = format!(
                "the log has it as member {}/{ordinal}, the case does not",
                super::reference(parent)
            );
            self.problem(super::reference(id), problem);
        }
        Ok(())
    }
}

fn source_state(v: &Value) -> SourceState {
    SourceState {
        kind: s(v, "kind").unwrap_or_else(|| "other".into()),
        contact: s(v, "contact"),
        conditions: v
            .get("conditions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn by_text(by: Option<&str>) -> String {
    by.map(|b| format!(" (by {b})")).unwrap_or_default()
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

impl Replay {
    /// Incidents and their links: each record as the log last wrote it, each link by whom
    /// the log says.
    fn compare_incidents(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let has_table = conn
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'")?
            .exists([])?;
        if !has_table {
            return Ok(());
        }
        for inc in super::incidents::list(conn)? {
            let what = super::incidents::reference(inc.id);
            match self.incidents.remove(&inc.id) {
                None => self.problem(what, "is in the case but not in the log".into()),
                Some(r) if r != inc.record => {
                    self.problem(what, "its record differs from the log's".into())
                }
                Some(_) => {}
            }
        }
        let mut missing: Vec<i64> = self.incidents.keys().copied().collect();
        missing.sort_unstable();
        for id in missing {
            self.problem(
                super::incidents::reference(id),
                "is in the log but not in the case".into(),
            );
        }
        for claim in super::incidents::imported(conn)? {
            let what = format!("imported incident {} (#{})", claim.original_ref, claim.id);
            let Some((logged, merged)) = self.imported_incidents.remove(&claim.id) else {
                self.problem(what, "is in the case but not in the log".into());
                continue;
            };
            let logged_record = logged
                .get("record")
                .and_then(|r| serde_json::from_value::<super::incidents::Record>(r.clone()).ok());
            let same = s(&logged, "sending_case").as_deref() == Some(claim.sending_case.as_str())
                && s(&logged, "original_ref").as_deref() == Some(claim.original_ref.as_str())
                && s(&logged, "imported_by").as_deref() == Some(claim.imported_by.as_str())
                && logged_record.as_ref() == Some(&claim.record)
                && logged.get("items") == Some(&serde_json::json!(claim.items));
            if !same {
                self.problem(what.clone(), "differs from what the import logged".into());
            }
            let merged_now = claim.merged_into.zip(claim.merged_by.clone());
            if merged_now != merged {
                self.problem(what, "its merge differs from the log's".into());
            }
        }
        let mut missing: Vec<i64> = self.imported_incidents.keys().copied().collect();
        missing.sort_unstable();
        for id in missing {
            self.problem(
                format!("imported incident #{id}"),
                "is in the log but not in the case".into(),
            );
        }
        let mut st = conn.prepare("SELECT item_id, incident_id, linked_by FROM incident_links")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (item, incident, by): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let what = super::reference(item);
            let inc = super::incidents::reference(incident);
            match self.links.remove(&(item, incident)) {
                None => self.problem(what, format!("linked to {inc} in the case, not in the log")),
                Some(b) if self.names.name(b) != by => {
                    let problem = format!(
                        "linked to {inc} by {by}, the log says by {}",
                        self.names.name(b)
                    );
                    self.problem(what, problem)
                }
                Some(_) => {}
            }
        }
        let mut missing: Vec<(i64, i64)> = self.links.keys().copied().collect();
        missing.sort_unstable();
        for (item, incident) in missing {
            self.problem(
                super::reference(item),
                format!(
                    "the log has it linked to {}, the case does not",
                    super::incidents::reference(incident)
                ),
            );
        }
        Ok(())
    }
}
