//! The sending case's history in a bag (`data/audit.jsonl`), checked before anything of it is
//! recorded: each entry's hash is recomputed from its previous hash and its fields (the same
//! formula as the case's own chain), entries next to each other must link, and the entries and
//! the chain head the bag records (`chain_head` line, `data/chain-head.txt`, `bag-info.txt`)
//! must agree. A bag carries only the entries of the items it discloses, so the links between
//! them and the head are proved only where the entries are adjacent or the head itself is
//! among them; the head is what a seal of the sending case can be compared with.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::bag::Problem;
use crate::store::audit::{entry_hash, GENESIS};

const AUDIT: &str = "data/audit.jsonl";

/// The chain head a bag records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn problem(reason: String) -> Problem {
    Problem {
        path: AUDIT.into(),
        reason,
    }
}

/// Read the `chain_head` line's value (`{"seq", "hash", ...}`).
pub fn parse_head(v: &Value) -> Option<Head> {
    let seq = v.get("seq")?.as_i64().filter(|s| *s >= 0)?;
    let hash = v.get("hash")?.as_str().filter(|h| is_hash(h))?.to_string();
    Some(Head { seq, hash })
}

/// The `Chain-Head-Seq`/`Chain-Head-Hash` of `data/chain-head.txt`.
pub fn parse_head_text(text: &str) -> Option<Head> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some(Head {
        seq: field("Chain-Head-Seq:")?.parse().ok()?,
        hash: field("Chain-Head-Hash:")?,
    })
}

/// `Triage-Chain-Head: <seq> <hash>` of `bag-info.txt`.
pub fn parse_head_info(value: &str) -> Option<Head> {
    let (seq, hash) = value.trim().split_once(' ')?;
    Some(Head {
        seq: seq.parse().ok()?,
        hash: hash.trim().to_string(),
    })
}

/// One entry as checked: what linking needs.
struct Checked {
    line: usize,
    hash: String,
    prev: String,
}

/// Check `entries` (line number in `data/audit.jsonl`, entry) against `head` and the other
/// places that record it. Every problem is returned; an empty list means the history holds.
pub fn check(
    entries: &[(usize, Value)],
    head: Option<&Head>,
    others: &[(&str, Head)],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(head) = head else {
        if !entries.is_empty() {
            problems.push(problem(
                "entries but no chain_head line: the history cannot be checked".into(),
            ));
        }
        return problems;
    };
    for (place, h) in others {
        if h != head {
            problems.push(problem(format!(
                "the chain head ({} {}) differs from the one in {place} ({} {})",
                head.seq, head.hash, h.seq, h.hash
            )));
        }
    }
    let mut by_seq: BTreeMap<i64, Checked> = BTreeMap::new();
    for (line, e) in entries {
        match check_entry(e, head) {
            Ok((seq, c)) => {
                if by_seq.insert(seq, Checked { line: *line, ..c }).is_some() {
                    problems.push(problem(format!("line {line}: entry #{seq} appears twice")));
                }
            }
            Err(reason) => problems.push(problem(format!("line {line}: {reason}"))),
        }
    }
    let mut prev: Option<(i64, &Checked)> = None;
    for (seq, c) in &by_seq {
        if *seq == 1 && c.prev != GENESIS {
            problems.push(problem(format!(
                "line {}: entry #1 does not start the chain",
                c.line
            )));
        }
        if let Some((p, pc)) = prev {
            if p + 1 == *seq && pc.hash != c.prev {
                problems.push(problem(format!(
                    "line {}: entry #{seq} does not link to entry #{p} (line {})",
                    c.line, pc.line
                )));
            }
        }
        if *seq == head.seq && c.hash != head.hash {
            problems.push(problem(format!(
                "line {}: entry #{seq} is the chain head but its hash differs from the head's",
                c.line
            )));
        }
        prev = Some((*seq, c));
    }
    problems
}

fn check_entry(e: &Value, head: &Head) -> Result<(i64, Checked), String> {
    let seq = e
        .get("seq")
        .and_then(Value::as_i64)
        .filter(|s| *s >= 1)
        .ok_or("no valid \"seq\"")?;
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("entry #{seq}: no \"{k}\""))
    };
    let opt_int = |k: &str| match e.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("entry #{seq}: \"{k}\" is not a number")),
    };
    let hash = text("hash")?;
    let prev = text("prev_hash").map_err(|_| {
        format!(
            "entry #{seq}: no \"prev_hash\" (a bag from an older triage): its hash cannot be \
             recomputed; export the bag again"
        )
    })?;
    if !is_hash(hash) || !is_hash(prev) {
        return Err(format!(
            "entry #{seq}: \"hash\" or \"prev_hash\" is not a SHA-256 value"
        ));
    }
    if hash == GENESIS {
        return Err(format!(
            "entry #{seq}: an all-zero hash (not an entry of a hash chain)"
        ));
    }
    if seq > head.seq {
        return Err(format!(
            "entry #{seq} comes after the chain head #{}",
            head.seq
        ));
    }
    // Entries the sender had to redact (identity-confidential providers) no longer hash to
    // their recorded value; they still link by their hashes.
    let withheld = e.get("withheld").and_then(Value::as_bool) == Some(true);
    if !withheld {
        let details = e.get("details").cloned().unwrap_or(Value::Null).to_string();
        let got = entry_hash(
            prev,
            seq,
            text("at")?,
            text("actor")?,
            opt_int("item_id")?,
            text("event")?,
            &details,
            opt_int("change_id")?,
        );
        if got != hash {
            return Err(format!(
                "entry #{seq}: its hash does not recompute from its contents (altered)"
            ));
        }
    }
    Ok((
        seq,
        Checked {
            line: 0,
            hash: hash.to_string(),
            prev: prev.to_string(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: i64, prev: &str, event: &str) -> Value {
        let details = json!({ "x": seq });
        let hash = entry_hash(
            prev,
            seq,
            "t",
            "amal",
            Some(1),
            event,
            &details.to_string(),
            None,
        );
        json!({ "seq": seq, "at": "t", "actor": "amal", "item_id": 1, "event": event,
                "details": details, "change_id": null, "hash": hash, "prev_hash": prev })
    }

    #[test]
    fn a_chain_holds_and_altered_or_zeroed_entries_do_not() {
        let e1 = entry(1, GENESIS, "ingest.new");
        let h1 = e1["hash"].as_str().unwrap_or_default().to_string();
        let e2 = entry(2, &h1, "tag.add");
        let head = Head {
            seq: 2,
            hash: e2["hash"].as_str().unwrap_or_default().to_string(),
        };
        let ok = [(1, e1.clone()), (2, e2.clone())];
        assert!(check(&ok, Some(&head), &[]).is_empty());

        let mut altered = e2.clone();
        altered["actor"] = json!("someone-else");
        assert!(!check(&[(1, e1.clone()), (2, altered)], Some(&head), &[]).is_empty());

        let mut zero = e2.clone();
        zero["hash"] = json!(GENESIS);
        zero["prev_hash"] = json!(GENESIS);
        assert!(!check(&[(1, zero)], Some(&head), &[]).is_empty());

        let other = Head {
            seq: 2,
            hash: GENESIS.into(),
        };
        assert_eq!(check(&ok, Some(&head), &[("bag-info.txt", other)]).len(), 1);
        assert_eq!(check(&ok, None, &[]).len(), 1);
    }
}
