//! The ids the code decides on: rule ids, finding fingerprints, commit ids. Each is checked
//! when it is made, so no code further on meets an empty or sentinel string.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A rule's id: 1 to [`RuleId::MAX_BYTES`] bytes of `a-z`, `0-9` and `-`, checked when it is
/// made (parsing a rule file, a configuration or a baseline), so every message may show it: a
/// string that is not an id may be anything, a misplaced secret included.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RuleId(String);

/// A string that is not a rule id. Its text is not kept: it may be anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rule id must be {RULE_ID_SHAPE}")]
pub struct InvalidRuleId;

/// What a rule id is, in the words every message about one uses.
pub(crate) const RULE_ID_SHAPE: &str = "1 to 64 characters of a-z, 0-9 and -";

impl RuleId {
    /// The longest rule id, in bytes.
    pub const MAX_BYTES: usize = 64;

    /// `id` as a rule id, if it is one.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidRuleId> {
        let id = id.into();
        if Self::is_valid(&id) {
            Ok(RuleId(id))
        } else {
            Err(InvalidRuleId)
        }
    }

    /// True for a non-empty kebab-case id of at most [`RuleId::MAX_BYTES`].
    pub fn is_valid(id: &str) -> bool {
        (1..=Self::MAX_BYTES).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for RuleId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for RuleId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RuleId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RuleId {
    type Err = InvalidRuleId;
    fn from_str(s: &str) -> Result<Self, InvalidRuleId> {
        RuleId::new(s)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        // `Unexpected::Other`, not `Unexpected::Str`: serde would quote the text.
        RuleId::new(id).map_err(|_| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Other("a string that is not a rule id"),
                &format!("a rule id of {RULE_ID_SHAPE}").as_str(),
            )
        })
    }
}

/// A finding's identity: a hash of its rule id and its secret, hex. Stable when the secret
/// moves, changes line or is found in another commit; what baselines store and match on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `secret` found by `rule`: the first 16 bytes of
    /// SHA-256(rule id, NUL, secret), as 32 lowercase hex digits.
    pub fn of(rule: &RuleId, secret: &str) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(rule.as_bytes());
        h.update([0u8]);
        h.update(secret.as_bytes());
        Fingerprint(faster_hex::hex_string(&h.finalize()[..16]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Fingerprint {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Fingerprint {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Fingerprint {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a Git commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitId(gix::hash::ObjectId);

impl CommitId {
    /// The first 12 hex digits, as messages for people show a commit.
    pub fn short(&self) -> String {
        self.0.to_hex_with_len(12).to_string()
    }
}

impl From<gix::hash::ObjectId> for CommitId {
    fn from(id: gix::hash::ObjectId) -> Self {
        CommitId(id)
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A string that is not a commit id (its text is not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a commit id must be 40 hex digits")]
pub struct InvalidCommitId;

impl std::str::FromStr for CommitId {
    type Err = InvalidCommitId;
    fn from_str(s: &str) -> Result<Self, InvalidCommitId> {
        gix::hash::ObjectId::from_hex(s.as_bytes())
            .map(CommitId)
            .map_err(|_| InvalidCommitId)
    }
}

impl Serialize for CommitId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CommitId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(d)?;
        hex.parse().map_err(|_| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Other("a string that is not a commit id"),
                &"a commit id of 40 hex digits",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_kebab_case() {
        for ok in [
            "a",
            "genesys-client-secret",
            "x1-2",
            &"a".repeat(RuleId::MAX_BYTES),
        ] {
            assert_eq!(RuleId::new(ok).unwrap(), ok);
        }
        for bad in ["", "Upper", "snake_case", "sp ace", "é", &"a".repeat(65)] {
            assert_eq!(RuleId::new(bad), Err(InvalidRuleId), "{bad:?}");
        }
        assert!(RULE_ID_SHAPE.contains(&RuleId::MAX_BYTES.to_string()));
    }

    /// A rule file, a configuration's `allow.rules` and a baseline refuse an id that is not
    /// one when they are parsed, all with the same message, which does not quote it.
    #[test]
    fn invalid_rule_ids_are_refused_at_parse_time_without_quoting_them() {
        let planted = "Zq9Xw2Lm_NOT_AN_ID";
        let expected =
            format!("value out of range or not allowed, expected a rule id of {RULE_ID_SHAPE}");
        let rule = format!(
            "[[rules]]\nid = \"{planted}\"\nname = \"n\"\nseverity = \"low\"\nkeywords = [\"abc\"]\nregex = 'abc(?P<secret>x)'\n"
        );
        let messages = [
            crate::rules::parse("r.toml", &rule).unwrap_err().to_string(),
            crate::Config::parse(std::path::Path::new(".leakgate.toml"), &rule)
                .unwrap_err()
                .to_string(),
            crate::Config::parse(
                std::path::Path::new(".leakgate.toml"),
                &format!("[allow]\nrules = [\"ok-id\", \"{planted}\"]\n"),
            )
            .unwrap_err()
            .to_string(),
            crate::baseline::Baseline::parse(
                std::path::Path::new("b.json"),
                format!(r#"{{"version":1,"findings":[{{"fingerprint":"f","rule_id":"{planted}","path":"p","line":1}}]}}"#).as_bytes(),
            )
            .unwrap_err()
            .to_string(),
        ];
        for m in messages {
            assert!(m.contains(&expected), "{m}");
            assert!(!m.contains(planted), "{m}");
        }
    }

    #[test]
    fn commit_ids_show_in_full_and_short() {
        let hex = "0123456789abcdef".repeat(3)[..40].to_string();
        let id: CommitId = hex.parse().unwrap();
        assert_eq!(id.to_string(), hex);
        assert_eq!(id.short(), hex[..12]);
        assert_eq!(serde_json::to_value(id).unwrap(), hex.as_str());
        assert!("".parse::<CommitId>().is_err() && "xyz".parse::<CommitId>().is_err());
    }
}
