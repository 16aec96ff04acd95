//! Providers: everything one provider needs beyond its rules file, behind small traits the
//! engine calls. The engine never names a provider; it looks one up by a rule's `provider`
//! field in [`REGISTRY`] and asks it to pair, decode, adjust confidence or verify.
//!
//! A provider that only needs rules is one TOML file in `rules/`. One that pairs or verifies is
//! that file plus a folder here implementing [`Provider`] (and [`crate::verify::CredentialVerifier`]),
//! and one line in [`REGISTRY`] (two more if it has a section in `.leakgate.toml`: see
//! [`Settings`]).

pub mod genesys;

use crate::finding::{Confidence, Pair};
use crate::rules::{Decode, Rule};
use crate::verify::{CredentialVerifier, VerifyError, VerifyOptions};
use serde::de::MapAccess;
use std::any::Any;
use std::cell::OnceCell;

pub(crate) use crate::matcher::filters::{lead, WordSet};
pub(crate) use crate::matcher::window::{window_end, window_start};

/// Every provider with code of its own. Rules of providers not listed here are plain rules.
pub static REGISTRY: &[&dyn Provider] = &[&genesys::Genesys];

/// The registered provider named `id`.
pub fn get(id: &str) -> Option<&'static dyn Provider> {
    REGISTRY.iter().copied().find(|p| p.id() == id)
}

/// Every domain a registered provider's verifier may send requests to (as `login.<domain>` or
/// `api.<domain>`): the host policy of [`crate::verify::client`].
pub fn verify_domains() -> impl Iterator<Item = &'static str> {
    REGISTRY
        .iter()
        .flat_map(|p| p.verify_domains().iter().copied())
}

/// The provider that offers the verifier `name`.
pub fn verifier_owner(name: &str) -> Option<&'static dyn Provider> {
    REGISTRY
        .iter()
        .copied()
        .find(|p| p.verifiers().contains(&name))
}

/// One blob as a provider sees it while pairing: its bytes and the provider's own per-blob
/// lookups, built on first need and shared by every match in the blob.
pub struct Blob<'d> {
    pub data: &'d [u8],
    cache: &'d OnceCell<Box<dyn Any>>,
}

impl<'d> Blob<'d> {
    /// A blob with the provider's cache slot (one per provider per blob).
    pub(crate) fn new(data: &'d [u8], cache: &'d OnceCell<Box<dyn Any>>) -> Self {
        Blob { data, cache }
    }

    /// The provider's per-blob lookups, built by `init` on the first call for this blob. A
    /// provider uses one type `T` for its slot.
    pub fn cached<T: Any>(&self, init: impl FnOnce(&[u8]) -> T) -> Option<&'d T> {
        self.cache
            .get_or_init(|| Box::new(init(self.data)))
            .downcast_ref::<T>()
    }
}

/// A secret a provider decoded from a match (`decode = "basic-auth"`), with what it pairs with.
pub struct Decoded {
    pub secret: Vec<u8>,
    pub pair: Pair,
}

/// What a provider can do for the engine. Every method has a default that does nothing, so a
/// provider implements only what it offers.
pub trait Provider: Sync {
    /// The id rules name in `provider` (kebab-case).
    fn id(&self) -> &'static str;

    /// True when [`Provider::pair`] may find a partner for the secrets of its rules.
    fn pairs(&self) -> bool {
        false
    }

    /// What the secret at `start..end` of the blob pairs with (a client id, a region), for a
    /// rule of this provider. Each call must be bounded (a lookup in [`Blob::cached`] state or a
    /// search of a window of lines), so a blob dense with matches stays linear.
    fn pair(&self, _blob: &Blob<'_>, _start: usize, _end: usize, _rule: &Rule) -> Option<Pair> {
        None
    }

    /// True when [`Provider::decode`] handles `decode`.
    fn decodes(&self, _decode: Decode) -> bool {
        false
    }

    /// Decode a match as `decode` says; `None` when it is not shaped like this provider's
    /// credential (then it is no finding).
    fn decode(&self, _decode: Decode, _raw: &[u8]) -> Option<Decoded> {
        None
    }

    /// The confidence a finding of `rule` is reported with, given its pair.
    fn confidence(&self, rule: &Rule, _pair: Option<&Pair>) -> Confidence {
        rule.confidence
    }

    /// The verifiers it offers: names a rule's `verify` field may hold.
    fn verifiers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The domains its verifiers send requests to; nothing else is ever contacted.
    fn verify_domains(&self) -> &'static [&'static str] {
        &[]
    }

    /// Build the verifier `name` (one of [`Provider::verifiers`]) for a run; `None` when this
    /// provider does not offer it.
    fn verifier(
        &self,
        _name: &str,
        _opts: &VerifyOptions,
    ) -> Option<Result<Box<dyn CredentialVerifier>, VerifyError>> {
        None
    }
}

/// The providers' sections of `.leakgate.toml`, each parsed and checked by its provider. A new
/// section is a field here and an arm in [`Settings::read_section`].
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `[genesys]`.
    pub genesys: genesys::Settings,
}

impl Settings {
    /// The section names, as `.leakgate.toml` writes them.
    pub const SECTIONS: &'static [&'static str] = &["genesys"];

    /// Parse the section `name` from `map` into its provider's settings; `None` when no
    /// provider has a section of that name (the caller reports an unknown field).
    pub fn read_section<'de, A: MapAccess<'de>>(
        &mut self,
        name: &str,
        map: &mut A,
    ) -> Option<Result<(), A::Error>> {
        match name {
            "genesys" => Some(map.next_value().map(|s| self.genesys = s)),
            _ => None,
        }
    }

    /// Check every section's ranges; on failure, the field's path (`genesys.decoy_client_ids`)
    /// and what was expected.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.genesys.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_ids_and_verifiers_are_unique() {
        let mut ids: Vec<_> = REGISTRY.iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), REGISTRY.len());
        assert!(get("genesys").is_some());
        assert!(get("github").is_none());
        assert_eq!(
            verifier_owner("genesys").map(super::Provider::id),
            Some("genesys")
        );
        assert!(verifier_owner("nope").is_none());
    }

    /// `verify`, `decode` and `require_pair` are checked against the registry: each needs the
    /// rule's own provider to offer it, and the message quotes no value.
    #[test]
    fn rule_fields_are_checked_against_the_registry() {
        let rule = |fields: &str| {
            let text = format!(
                "[[rules]]\nid = \"r\"\nname = \"n\"\nseverity = \"high\"\nkeywords = [\"acme\"]\n{fields}regex = 'acme=(?P<secret>[a-z]{{12}})'\nexamples = [\"acme=qwhvbzxkrtyu\"]\nnegative_examples = [\"acme=1\"]\n"
            );
            crate::rules::lint(&crate::rules::parse("t.toml", &text).unwrap())
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(rule("provider = \"genesys\"\nverify = \"genesys\"\n"), "");
        assert_eq!(
            rule("provider = \"github\"\n"),
            "",
            "a provider with rules only"
        );
        let no_verifier = rule("provider = \"genesys\"\nverify = \"zq9unknown\"\n");
        assert!(
            no_verifier.contains("verify names no verifier"),
            "{no_verifier}"
        );
        assert!(!no_verifier.contains("zq9unknown"));
        assert!(rule("verify = \"genesys\"\n").contains("verify names no verifier"));
        assert!(rule("decode = \"basic-auth\"\n").contains("decode needs a provider"));
        assert!(rule("require_pair = true\n").contains("require_pair needs a provider"));
        assert!(rule("provider = \"github\"\nrequire_pair = true\n").contains("require_pair"));
    }
}
