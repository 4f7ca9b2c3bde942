//! Chat exports: a chat log (see `meta::chat`) names the files sent in its messages, relative
//! to its folder. Each such file received beside it (in the same folder, or the same
//! container) gets its message as metadata. Logs are walked before the rest of their folder
//! (`walk`), so a file arriving later in the run is matched by its path; members recorded
//! before their log in the same container are found in the case.

use std::collections::HashMap;

use rusqlite::Transaction;

use super::Prepared;
use crate::model::metadata::ChatMessage;
use crate::store::audit::Chain;
use crate::store::chat_links;

/// Paths awaited at most (a log names at most `meta::chat::MAX_ATTACHMENTS`).
const MAX_WAITING: usize = 200_000;

#[derive(Default)]
pub(super) struct Waiting {
    by_path: HashMap<Vec<u8>, ChatMessage>,
}

/// The folder part of a path as recorded, up to its last `/` (`upload.zip!/` for a member
/// at the top of a container).
fn folder(path: &[u8]) -> &[u8] {
    path.iter()
        .rposition(|c| *c == b'/')
        .map_or(&path[..0], |i| &path[..=i])
}

impl Waiting {
    /// `f` was recorded as item `id`: link it if a log named it, and if it is a log, link
    /// or await the files it names.
    pub fn recorded(
        &mut self,
        tx: &Transaction,
        chain: &mut Chain,
        actor: &str,
        f: &Prepared,
        id: i64,
    ) -> rusqlite::Result<()> {
        if let Some(message) = self.by_path.remove(&f.path) {
            chat_links::link(tx, chain, actor, id, &message)?;
        }
        let Some(log) = &f.chat_log else {
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
                log: crate::store::reference(id),
                sender: a.sender.clone(),
                sent_at: a.sent_at.clone(),
                text: a.text.clone(),
            };
            if let Some(m) = &f.family {
                let mut inner = folder(&m.inner_path).to_vec();
                inner.extend_from_slice(rel.as_bytes());
                if let Some(item) = chat_links::member_named(tx, &m.parent_sha256, &inner)? {
                    chat_links::link(tx, chain, actor, item, &message)?;
                    continue;
                }
            }
            if self.by_path.len() < MAX_WAITING {
                let mut path = folder(&f.path).to_vec();
                path.extend_from_slice(rel.as_bytes());
                self.by_path.insert(path, message);
            }
        }
        Ok(())
    }
}
