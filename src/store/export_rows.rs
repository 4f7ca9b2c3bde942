//! What an export reads and writes in the case: the head of the audit chain it starts from, and
//! the one audit event that records the disclosure once the bag is complete.

use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;

use super::audit::{Chain, Event, GENESIS};

/// The last audit entry's sequence number and hash (0 and the genesis hash for an empty log).
pub fn chain_head(db: &impl crate::store::Db) -> rusqlite::Result<(i64, String)> {
    let conn = crate::store::conn_of(db);
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS.to_string())))
}

/// Exporting needs a lead; exporting despite providers' conditions needs the override right.
/// Checked before anything is written; a refusal is recorded.
pub fn authorize(
    case: &mut super::Case,
    actor: &str,
    filter: &str,
    overriding: bool,
) -> super::Result<()> {
    use super::users::{self, Right};
    let what = format!("export --filter {filter:?}");
    users::authorize(case, actor, Right::Export, &what)?;
    if overriding {
        users::authorize(
            case,
            actor,
            Right::OverrideConditions,
            &format!("{what} --override-reason"),
        )?;
    }
    Ok(())
}

/// Append the case-level `export` event; returns its sequence number.
pub fn record(tx: &Transaction, actor: &str, details: &Value) -> rusqlite::Result<i64> {
    let mut chain = Chain::load(tx)?;
    chain.append(tx, &Event::case(actor, "export", details.clone()))
}
