//! Chat exports: a chat log (see `ingest::meta::chat`) names the files sent in its messages,
//! relative to its folder. Each such file received beside it (in the same folder, or the same
//! container) gets the message that carried it as its metadata (`metadata.chat`), with an
//! audit entry (`chat.link`) in the same transaction. Logs are walked before the rest of
//! their folder (`ingest::walk`), so a file arriving later in the run is matched by its path;
//! members recorded before their log in the same container are found in the case.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction};
use serde_json::json;

use super::audit::{Chain, Event};
use crate::model::metadata::{ChatLog, ChatMessage};

/// The member of the container `parent_sha256` named `inner` (the first such place).
pub fn member_named(
    tx: &Transaction,
    parent_sha256: &str,
    inner: &[u8],
) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(
        "SELECT p.item_id FROM provenance p JOIN items i ON i.id = p.parent_id
         WHERE i.sha256 = ?1 AND p.inner_path = ?2 ORDER BY p.ordinal LIMIT 1",
    )?
    .query_row(rusqlite::params![parent_sha256, inner], |r| r.get(0))
    .optional()
}

/// Record `message` on `item` unless it has one already (the first log to name a file
/// links it). `true` when recorded.
pub fn link(
    tx: &Transaction,
    chain: &mut Chain,
    actor: &str,
    item: i64,
    message: &ChatMessage,
) -> rusqlite::Result<bool> {
    let value = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
    let changed = tx
        .prepare_cached(
            "UPDATE items SET metadata = json_set(metadata, '$.chat', json(?2))
             WHERE id = ?1 AND json_extract(metadata, '$.chat') IS NULL",
        )?
        .execute(rusqlite::params![item, value])?;
    if changed == 0 {
        return Ok(false);
    }
    chain.append(
        tx,
        &Event {
            actor,
            item_id: Some(item),
            event: "chat.link",
            details: json!({ "log": message.log, "sender": message.sender,
                             "sent_at": message.sent_at }),
            change_id: None,
        },
    )?;
    super::search_index::refresh(tx, item)?;
    Ok(true)
}

/// Paths awaited at most (a log names at most `meta::chat::MAX_ATTACHMENTS`).
const MAX_WAITING: usize = 200_000;

#[derive(Default)]
pub struct Waiting {
    by_path: HashMap<Vec<u8>, ChatMessage>,
}

/// The folder part of a path as recorded, up to its last `/` (`upload.zip!/` for a member
/// at the top of a container).
fn folder(path: &[u8]) -> &[u8] {
    path.iter()
        .rposition(|c| *c == b'/')
        .map_or(&path[..0], |i| &path[..=i])
}

/// A file just recorded, as chat links need it.
pub struct Arrived<'a> {
    /// Its path as received (`container!/inner` for a member).
    pub path: &'a [u8],
    /// Its log, if it is a chat export's.
    pub chat_log: Option<&'a ChatLog>,
    /// Its container's SHA-256 and its name inside it, if it is a member.
    pub member_of: Option<(&'a str, &'a [u8])>,
}

impl Waiting {
    /// `f` was recorded as item `id`: link it if a log named it, and if it is a log, link
    /// or await the files it names.
    pub fn recorded(
        &mut self,
        tx: &Transaction,
        chain: &mut Chain,
        actor: &str,
        arrived: Arrived,
        id: i64,
    ) -> rusqlite::Result<()> {
        if let Some(message) = self.by_path.remove(arrived.path) {
            link(tx, chain, actor, id, &message)?;
        }
        let Some(log) = arrived.chat_log else {
            return Ok(());
        };
        for a in &log.attachments {
            let rel = a.file.trim_start_matches("./");
            // A name that climbs or is absolute names nothing beside the log.
            if rel.is_empty() || rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
                continue;
            }
            let message = ChatMessage {
                app: log.app.clone(),
                log: super::reference(id),
                sender: a.sender.clone(),
                sent_at: a.sent_at.clone(),
                text: a.text.clone(),
            };
            if let Some((parent_sha256, inner_path)) = arrived.member_of {
                let mut inner = folder(inner_path).to_vec();
                inner.extend_from_slice(rel.as_bytes());
                if let Some(item) = member_named(tx, parent_sha256, &inner)? {
                    link(tx, chain, actor, item, &message)?;
                    continue;
                }
            }
            if self.by_path.len() < MAX_WAITING {
                let mut path = folder(arrived.path).to_vec();
                path.extend_from_slice(rel.as_bytes());
                self.by_path.insert(path, message);
            }
        }
        Ok(())
    }
}
