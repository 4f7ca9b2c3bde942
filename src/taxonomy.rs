//! The taxonomy: crimes, parties and sensitivity flags. The default ships in
//! `assets/taxonomy.toml`; a case may override it with its own `taxonomy.toml`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

pub const DEFAULT: &str = include_str!("../assets/taxonomy.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermKind {
    Crime,
    Party,
    Flag,
}

impl TermKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Crime => "crime",
            TermKind::Party => "party",
            TermKind::Flag => "flag",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            TermKind::Crime => "crimes",
            TermKind::Party => "parties",
            TermKind::Flag => "flags",
        }
    }
    pub fn parse(s: &str) -> Option<TermKind> {
        match s {
            "crime" => Some(TermKind::Crime),
            "party" => Some(TermKind::Party),
            "flag" => Some(TermKind::Flag),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    pub id: String,
    pub en: String,
    pub ar: String,
    #[serde(default, rename = "ref")]
    pub legal_ref: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_to: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(skip, default = "default_kind")]
    pub kind: TermKind,
}

fn default_kind() -> TermKind {
    TermKind::Crime
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    crimes: Vec<Term>,
    #[serde(default)]
    parties: Vec<Term>,
    #[serde(default)]
    flags: Vec<Term>,
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub terms: Vec<Term>,
    by_id: HashMap<String, usize>,
}

impl Taxonomy {
    pub fn parse(text: &str, origin: &str) -> Result<Taxonomy, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        let mut terms = Vec::new();
        for (kind, list) in [
            (TermKind::Crime, file.crimes),
            (TermKind::Party, file.parties),
            (TermKind::Flag, file.flags),
        ] {
            for mut t in list {
                t.kind = kind;
                terms.push(t);
            }
        }
        let mut by_id = HashMap::new();
        for (i, t) in terms.iter().enumerate() {
            if t.id.is_empty() || !t.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(format!(
                    "{origin}: term id {:?} must be ascii letters, digits and '-'",
                    t.id
                ));
            }
            if by_id.insert(t.id.clone(), i).is_some() {
                return Err(format!("{origin}: term id {:?} appears twice", t.id));
            }
        }
        for t in &terms {
            if let Some(p) = &t.parent {
                if !by_id.contains_key(p) {
                    return Err(format!("{origin}: {} names unknown parent {p:?}", t.id));
                }
            }
        }
        Ok(Taxonomy { terms, by_id })
    }

    /// The case's own taxonomy when it has one, else the shipped default; with its text and
    /// where it came from.
    pub fn for_case_with_text(case_root: &Path) -> Result<(Taxonomy, String, String), String> {
        let own = case_root.join("taxonomy.toml");
        match std::fs::read_to_string(&own) {
            Ok(text) => {
                let origin = own.display().to_string();
                Ok((Taxonomy::parse(&text, &origin)?, text, origin))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((
                Self::default_set(),
                DEFAULT.to_string(),
                "assets/taxonomy.toml (shipped)".to_string(),
            )),
            Err(e) => Err(format!("{}: {e}", own.display())),
        }
    }

    pub fn default_set() -> Taxonomy {
        // The shipped file is checked by a unit test; an error here is a build defect.
        Taxonomy::parse(DEFAULT, "assets/taxonomy.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn get(&self, id: &str) -> Option<&Term> {
        self.by_id.get(id).map(|&i| &self.terms[i])
    }

    pub fn of_kind(&self, kind: TermKind) -> impl Iterator<Item = &Term> {
        self.terms.iter().filter(move |t| t.kind == kind)
    }

    /// The flags in their fixed order: the keys 1-9 toggle them.
    pub fn flags(&self) -> Vec<&Term> {
        self.of_kind(TermKind::Flag).collect()
    }

    /// Find terms by id, or by a prefix of the English or Arabic label (for `crime:` etc.).
    pub fn resolve(&self, kind: Option<TermKind>, query: &str) -> Vec<&Term> {
        if let Some(t) = self.get(query) {
            if kind.is_none_or(|k| k == t.kind) {
                return vec![t];
            }
        }
        let q = crate::text::fold::fold(query);
        self.terms
            .iter()
            .filter(|t| kind.is_none_or(|k| k == t.kind))
            .filter(|t| {
                crate::text::fold::fold(&t.en).starts_with(&q)
                    || crate::text::fold::fold(&t.ar).starts_with(&q)
                    || t.aliases
                        .iter()
                        .any(|a| crate::text::fold::fold(a).starts_with(&q))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_taxonomy_is_valid() {
        let t = Taxonomy::parse(DEFAULT, "assets/taxonomy.toml").unwrap();
        let flags: Vec<_> = t.flags().iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            flags,
            [
                "graphic",
                "identifying",
                "children",
                "sgbv",
                "detainees",
                "remains",
                "witness-risk",
                "manipulated",
                "deleted-by-source"
            ]
        );
        assert!(t.of_kind(TermKind::Crime).count() > 40);
        assert!(t.of_kind(TermKind::Party).count() > 12);
        for c in t.of_kind(TermKind::Crime) {
            assert!(c.legal_ref.is_some(), "{} has no legal reference", c.id);
        }
    }
}
