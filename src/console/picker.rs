//! The term picker's matching: filter as you type over English and Arabic labels, aliases,
//! legal references and ids, with Arabic folding; recent terms first when the query is empty.

use super::state::{IncidentPicker, Picker};
use crate::taxonomy::Taxonomy;
use crate::text::fold::fold;

pub fn refilter(p: &mut Picker, tax: &Taxonomy, recent: &[String]) {
    p.matches.clear();
    p.recent_count = 0;
    if p.query.trim().is_empty() {
        for id in recent.iter().take(9) {
            if let Some(i) = tax
                .terms
                .iter()
                .position(|t| &t.id == id && t.kind == p.kind)
            {
                p.matches.push(i);
            }
        }
        p.recent_count = p.matches.len();
        // Then the terms the item already carries, so they can be seen and unticked.
        for (i, t) in tax.terms.iter().enumerate() {
            if t.kind == p.kind && p.original.contains(&t.id) && !p.matches.contains(&i) {
                p.matches.push(i);
            }
        }
        for (i, t) in tax.terms.iter().enumerate() {
            if t.kind == p.kind && !p.matches.contains(&i) {
                p.matches.push(i);
            }
        }
    } else {
        let q = fold(p.query.trim());
        let mut scored: Vec<(u32, usize)> = tax
            .terms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == p.kind)
            .filter_map(|(i, t)| {
                // A match in a label counts more than one in an alias, reference or id.
                let labels = [t.en.as_str(), t.ar.as_str()]
                    .into_iter()
                    .filter_map(|f| score(&fold(f), &q).map(|s| s + 50));
                let others = t
                    .aliases
                    .iter()
                    .map(String::as_str)
                    .chain(t.legal_ref.as_deref())
                    .chain(std::iter::once(t.id.as_str()))
                    .filter_map(|f| score(&fold(f), &q));
                labels.chain(others).max().map(|s| (s, i))
            })
            .collect();
        // Best score first; equal scores keep taxonomy order.
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        p.matches = scored.into_iter().map(|(_, i)| i).collect();
    }
    p.cursor = p.cursor.min(p.matches.len().saturating_sub(1));
    if !p.query.is_empty() {
        p.cursor = 0;
    }
}

/// The incidents picker's matching: with no query, recent incidents first, then the others
/// newest first; otherwise by reference, title and place, with "a new incident titled
/// <query>" last.
pub fn refilter_incidents(
    p: &mut IncidentPicker,
    incidents: &[crate::store::incidents::Incident],
    recent: &[i64],
) {
    p.matches.clear();
    p.recent_count = 0;
    let q = p.query.trim();
    if q.is_empty() {
        for id in recent.iter().take(9) {
            if incidents.iter().any(|i| i.id == *id) {
                p.matches.push(Some(*id));
            }
        }
        p.recent_count = p.matches.len();
        for i in incidents.iter().rev() {
            if !p.matches.contains(&Some(i.id)) {
                p.matches.push(Some(i.id));
            }
        }
    } else {
        let q = fold(q);
        let mut scored: Vec<(u32, i64)> = incidents
            .iter()
            .filter_map(|i| {
                let reference = crate::store::incidents::reference(i.id);
                [
                    score(&fold(&i.record.title), &q).map(|s| s + 50),
                    score(&fold(&i.record.place), &q),
                    score(&fold(&reference), &q),
                ]
                .into_iter()
                .flatten()
                .max()
                .map(|s| (s, i.id))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        p.matches = scored.into_iter().map(|(_, id)| Some(id)).collect();
        p.matches.push(None);
    }
    p.cursor = p.cursor.min(p.matches.len().saturating_sub(1));
    if !p.query.is_empty() {
        p.cursor = 0;
    }
}

/// Higher is better: whole-word prefix > substring > all words' prefixes > subsequence.
fn score(field: &str, q: &str) -> Option<u32> {
    if field.starts_with(q) {
        return Some(400);
    }
    if field
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.starts_with(q))
    {
        return Some(300);
    }
    if field.contains(q) {
        return Some(200);
    }
    let words: Vec<&str> = q.split_whitespace().collect();
    if words.len() > 1 && words.iter().all(|w| field.contains(w)) {
        return Some(150);
    }
    let mut chars = field.chars();
    if q.chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| chars.any(|f| f == c))
    {
        return Some(100);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::TermKind;
    use std::collections::BTreeSet;

    fn picker(kind: TermKind, query: &str) -> Picker {
        Picker {
            kind,
            query: query.into(),
            matches: vec![],
            recent_count: 0,
            cursor: 0,
            checked: BTreeSet::new(),
            original: BTreeSet::new(),
        }
    }

    #[test]
    fn matches_english_arabic_and_reference() {
        let tax = Taxonomy::default_set();
        for q in ["chem", "كيميا", "sarin", "8(2)(e)(i)"] {
            let mut p = picker(TermKind::Crime, q);
            refilter(&mut p, &tax, &[]);
            assert!(!p.matches.is_empty(), "no match for {q}");
        }
        let mut p = picker(TermKind::Crime, "chem");
        refilter(&mut p, &tax, &[]);
        assert_eq!(tax.terms[p.matches[0]].id, "syr-chemical-weapons");
    }

    #[test]
    fn recent_terms_come_first() {
        let tax = Taxonomy::default_set();
        let last = tax.of_kind(TermKind::Party).last().unwrap().id.clone();
        let mut p = picker(TermKind::Party, "");
        refilter(&mut p, &tax, std::slice::from_ref(&last));
        assert_eq!(p.recent_count, 1);
        assert_eq!(tax.terms[p.matches[0]].id, last);
    }
}
