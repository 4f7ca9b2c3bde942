//! The disclosure rule: which items a providers' use conditions let an export carry, and what of
//! a provider is withheld from the bag.
//!
//! An item carrying `no-onward-sharing` or `consent-required`, or `share-with-courts` when the
//! recipient is not a court, is refused unless the exporter overrides with a recorded reason.
//! Conditions fail closed: one this build does not know, or a provider's record that cannot be
//! read, refuses the item like `no-onward-sharing` and withholds the provider's identity.
//! Providers marked `identity-confidential` are withheld from everything in the bag: their
//! provenance records keep only when and by whom the file was received.

use std::collections::BTreeSet;

use serde_json::Value;

/// What an identity-confidential provider's name becomes in a bag.
pub const WITHHELD: &str = "withheld (identity-confidential)";

/// A provider's use condition, as stored by `triage source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    NoOnwardSharing,
    ConsentRequired,
    ShareWithCourts,
    IdentityConfidential,
    /// Not a condition this build knows, or a provider's record that cannot be read.
    Unknown(String),
}

/// Who receives an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// A court or prosecutor (`export --court`).
    Court,
    Other,
}

impl Condition {
    pub fn parse(name: &str) -> Condition {
        match name {
            "no-onward-sharing" => Condition::NoOnwardSharing,
            "consent-required" => Condition::ConsentRequired,
            "share-with-courts" => Condition::ShareWithCourts,
            "identity-confidential" => Condition::IdentityConfidential,
            other => Condition::Unknown(other.to_string()),
        }
    }

    /// The stored name (an unknown one as it was stored).
    pub fn name(&self) -> &str {
        match self {
            Condition::NoOnwardSharing => "no-onward-sharing",
            Condition::ConsentRequired => "consent-required",
            Condition::ShareWithCourts => "share-with-courts",
            Condition::IdentityConfidential => "identity-confidential",
            Condition::Unknown(name) => name,
        }
    }

    /// Does this condition forbid exporting the item to `to`?
    pub fn refuses(&self, to: Recipient) -> bool {
        match self {
            Condition::ShareWithCourts => to != Recipient::Court,
            Condition::IdentityConfidential => false,
            Condition::NoOnwardSharing | Condition::ConsentRequired | Condition::Unknown(_) => true,
        }
    }

    /// Is the provider's identity withheld from every export?
    pub fn withholds_identity(&self) -> bool {
        matches!(
            self,
            Condition::IdentityConfidential | Condition::Unknown(_)
        )
    }

    /// Why it refuses, and what would lift the refusal.
    fn refusal(&self) -> String {
        match self {
            Condition::NoOnwardSharing => {
                "no-onward-sharing (the provider forbids sharing outside the mechanism)".into()
            }
            Condition::ConsentRequired => {
                "consent-required (record the provider's consent with --override-reason)".into()
            }
            Condition::ShareWithCourts => {
                "share-with-courts (only for courts and prosecutors: add --court)".into()
            }
            // A name that only reaches here by failing closed.
            Condition::IdentityConfidential | Condition::Unknown(_) => format!(
                "{} (not a condition this triage knows, or the provider's record cannot be read: \
                 refused until `triage source set` corrects it, or --override-reason)",
                crate::text::sanitize(self.name())
            ),
        }
    }
}

/// Conditions from their stored names.
pub fn parse_all(names: &[String]) -> Vec<Condition> {
    names.iter().map(|n| Condition::parse(n)).collect()
}

/// The names of conditions (as stored, for the bag and the audit log).
pub fn names(conditions: &[Condition]) -> Vec<String> {
    conditions.iter().map(|c| c.name().to_string()).collect()
}

/// The conditions among an item's that forbid exporting it to `to` (none: it may go).
pub fn refusing(conditions: &[Condition], to: Recipient) -> Vec<Condition> {
    conditions
        .iter()
        .filter(|c| c.refuses(to))
        .cloned()
        .collect()
}

/// Every refusing condition explained, for the exporter.
pub fn reasons(refusing: &[Condition]) -> String {
    refusing
        .iter()
        .map(Condition::refusal)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The providers whose identity no bag may carry.
pub fn confidential<'a>(
    providers: impl IntoIterator<Item = (String, &'a [String])>,
) -> BTreeSet<String> {
    providers
        .into_iter()
        .filter(|(_, conditions)| {
            conditions
                .iter()
                .any(|c| Condition::parse(c).withholds_identity())
        })
        .map(|(name, _)| name)
        .collect()
}

/// An item's metadata as a bag may carry it: when its first provider is confidential its name
/// goes too (the first received file's name is part of that provider's path), then `withhold`.
pub fn withhold_item(v: &mut Value, first_source: &str, confidential: &BTreeSet<String>) {
    if confidential.contains(first_source) {
        v["name"] = Value::Null;
    }
    withhold(v, confidential);
}

/// Remove confidential providers from a JSON value: an object whose `source` names one gets the
/// stand-in and loses its `path`/`path_b64`; any other string that is exactly such a name
/// becomes the stand-in too.
pub fn withhold(v: &mut Value, confidential: &BTreeSet<String>) {
    if confidential.is_empty() {
        return;
    }
    match v {
        Value::Object(map) => {
            let named = map
                .get("source")
                .and_then(Value::as_str)
                .is_some_and(|s| confidential.contains(s));
            if named {
                map.remove("path");
                map.remove("path_b64");
            }
            for (_, child) in map.iter_mut() {
                withhold(child, confidential);
            }
        }
        Value::Array(items) => {
            for child in items {
                withhold(child, confidential);
            }
        }
        Value::String(s) if confidential.contains(s.as_str()) => {
            *s = WITHHELD.to_string();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Recipient::{Court, Other};

    #[test]
    fn every_known_condition_parses_to_itself() {
        for (name, _) in crate::store::sources::CONDITIONS {
            let c = Condition::parse(name);
            assert!(!matches!(c, Condition::Unknown(_)), "{name}");
            assert_eq!(c.name(), *name);
        }
    }

    #[test]
    fn no_onward_sharing_refuses_everyone() {
        let c = Condition::NoOnwardSharing;
        assert!(c.refuses(Court) && c.refuses(Other));
        assert!(!c.withholds_identity());
    }

    #[test]
    fn consent_required_refuses_everyone_until_overridden() {
        let c = Condition::ConsentRequired;
        assert!(c.refuses(Court) && c.refuses(Other));
        assert!(reasons(&[c]).contains("--override-reason"));
    }

    #[test]
    fn share_with_courts_refuses_only_others() {
        let c = Condition::ShareWithCourts;
        assert!(!c.refuses(Court));
        assert!(c.refuses(Other));
        assert!(reasons(&[c]).contains("--court"));
    }

    #[test]
    fn identity_confidential_exports_but_withholds_the_provider() {
        let c = Condition::IdentityConfidential;
        assert!(!c.refuses(Court) && !c.refuses(Other));
        assert!(c.withholds_identity());
    }

    #[test]
    fn unknown_and_unreadable_fail_closed() {
        for name in ["share-with-press", crate::store::sources::UNREADABLE] {
            let c = Condition::parse(name);
            assert_eq!(c, Condition::Unknown(name.into()));
            assert!(c.refuses(Court) && c.refuses(Other));
            assert!(c.withholds_identity());
            assert_eq!(c.name(), name);
        }
        // An unknown name from the case is evidence-adjacent text: sanitized when explained.
        assert!(!reasons(&[Condition::parse("x\u{1b}[2J")]).contains('\u{1b}'));
    }

    #[test]
    fn an_item_is_refused_by_each_refusing_condition() {
        let all = parse_all(&[
            "no-onward-sharing".into(),
            "share-with-courts".into(),
            "identity-confidential".into(),
        ]);
        assert_eq!(names(&refusing(&all, Court)), ["no-onward-sharing"]);
        assert_eq!(
            names(&refusing(&all, Other)),
            ["no-onward-sharing", "share-with-courts"]
        );
        assert!(refusing(&parse_all(&["identity-confidential".into()]), Other).is_empty());
    }

    #[test]
    fn confidential_providers_are_those_withheld() {
        let open = ["share-with-courts".to_string()];
        let hidden = ["identity-confidential".to_string()];
        let odd = ["someday".to_string()];
        let set = confidential([
            ("a".to_string(), &open[..]),
            ("b".to_string(), &hidden[..]),
            ("c".to_string(), &odd[..]),
        ]);
        assert_eq!(set, ["b".to_string(), "c".to_string()].into());
    }

    #[test]
    fn withhold_removes_names_and_paths() {
        let set: BTreeSet<String> = ["medical-network".to_string()].into();
        let mut v = json!({
            "event": "ingest.new",
            "details": { "source": "medical-network", "path": "/x/y.jpg", "batch": 2 },
            "entry": { "details": { "source": "other", "path": "/keep" } },
            "list": ["medical-network", "medical-network-2"],
        });
        withhold(&mut v, &set);
        assert_eq!(v["details"], json!({ "source": WITHHELD, "batch": 2 }));
        assert_eq!(v["entry"]["details"]["path"], "/keep");
        assert_eq!(v["list"], json!([WITHHELD, "medical-network-2"]));
    }

    #[test]
    fn withhold_item_drops_the_name_given_by_a_confidential_provider() {
        let set: BTreeSet<String> = ["medical-network".to_string()].into();
        let mut v = json!({ "name": "ward-3.jpg", "sources": [
            { "source": "medical-network", "path": "ward-3.jpg", "received_by": "ana" },
        ] });
        withhold_item(&mut v, "medical-network", &set);
        assert_eq!(
            v,
            json!({ "name": null, "sources": [{ "source": WITHHELD, "received_by": "ana" }] })
        );
        let mut kept = json!({ "name": "a.jpg" });
        withhold_item(&mut kept, "other", &set);
        assert_eq!(kept["name"], "a.jpg");
    }
}
