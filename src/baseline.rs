//! Baselines: a record of known findings, so a team can adopt the gate with old (rotated) leaks
//! still in its history and fail only on new ones.
//!
//! The file is JSON, sorted, and holds no secret:
//!
//! ```json
//! {"version": 1, "findings": [{"fingerprint": "…", "rule_id": "…", "path": "…", "line": 3, "commit": null}]}
//! ```
//!
//! Only the fingerprint (a hash of rule id and secret) decides whether a finding is suppressed,
//! so moved lines, renamed files and rewritten history keep matching, and the same secret found
//! in a new place is still suppressed. `rule_id`, `path`, `line` and `commit` are there for the
//! people who read and review the file.

pub mod import;

use crate::config::{read_regular, safe_message, show, utf8_text, ReadError};
use crate::finding::{CommitId, Finding, Fingerprint, RuleId, ScanReport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The largest baseline read, in bytes (a million entries fit).
pub const MAX_BASELINE_BYTES: u64 = 64 << 20;

/// The baseline file format version this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// Why a baseline could not be read or written. No message quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be opened or read, or was refused (not a regular file, too large,
    /// not UTF-8).
    #[error("reading baseline {}", show(path))]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// The file is not a baseline document. `serde_json`'s error is not kept as the source: its
    /// message quotes the input.
    #[error(
        "baseline {} is not valid: line {line}, column {column}: {message}",
        show(path)
    )]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// A description written by leakgate, free of input text.
        message: String,
    },
    /// The file was written by a newer (or unknown) format version.
    #[error(
        "baseline {} has version {found}; this leakgate reads version {BASELINE_VERSION}",
        show(path)
    )]
    Version { path: PathBuf, found: u32 },
    /// An entry's fingerprint is empty.
    #[error("baseline {}: entry {index} has an empty fingerprint", show(path))]
    EmptyFingerprint { path: PathBuf, index: usize },
    /// Writing the document failed.
    #[error("writing baseline")]
    Write(#[from] io::Error),
}

/// One known finding, as the baseline records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Hash of rule id and secret: the only field matching uses.
    pub fingerprint: Fingerprint,
    /// The rule that found it.
    pub rule_id: RuleId,
    /// Where it was found when the baseline was made, `/`-separated.
    pub path: String,
    /// 1-based line where it was found.
    pub line: usize,
    /// The commit that introduced it, for history scans; `null` for other scans and for a
    /// blob no commit holds.
    #[serde(default, deserialize_with = "commit_or_none")]
    pub commit: Option<CommitId>,
}

/// A baseline entry's commit: a commit id, or `null`. Baselines of earlier versions wrote `""`
/// for a blob no commit holds: read as `null`.
fn commit_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<CommitId>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(hex) if !hex.is_empty() => {
            CommitId::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(hex))
                .map(Some)
        }
        _ => Ok(None),
    }
}

impl BaselineEntry {
    /// The entry recording `finding` (its secret is not kept).
    pub fn from_finding(finding: &Finding) -> Self {
        BaselineEntry {
            fingerprint: finding.fingerprint.clone(),
            rule_id: finding.rule_id.clone(),
            path: finding.path.clone(),
            line: finding.line,
            commit: finding.commit().map(|c| c.id),
        }
    }

    fn sort_key(&self) -> (&str, usize, &str, Option<CommitId>, &str) {
        (
            &self.path,
            self.line,
            &self.rule_id,
            self.commit,
            self.fingerprint.as_str(),
        )
    }
}

/// A set of known findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version, [`BASELINE_VERSION`].
    pub version: u32,
    /// Known findings, sorted by path, line, rule, commit and fingerprint; no duplicates.
    pub findings: Vec<BaselineEntry>,
    /// Fingerprints, for lookups.
    #[serde(skip)]
    fingerprints: BTreeSet<Fingerprint>,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            version: BASELINE_VERSION,
            findings: Vec::new(),
            fingerprints: BTreeSet::new(),
        }
    }
}

impl Baseline {
    /// A baseline holding `findings`, sorted and deduplicated.
    pub fn from_entries(mut findings: Vec<BaselineEntry>) -> Self {
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        findings.dedup();
        let fingerprints = findings.iter().map(|e| e.fingerprint.clone()).collect();
        Baseline {
            version: BASELINE_VERSION,
            findings,
            fingerprints,
        }
    }

    /// Read a baseline from `path`: a regular file of at most [`MAX_BASELINE_BYTES`].
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let bytes =
            read_regular(path, MAX_BASELINE_BYTES).map_err(|source| BaselineError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Self::parse(path, &bytes)
    }

    /// Read a baseline from `reader`, at most [`MAX_BASELINE_BYTES`]; `path` names it in errors.
    pub fn read(reader: impl Read, path: &Path) -> Result<Self, BaselineError> {
        let read_err = |source: ReadError| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = Vec::new();
        reader
            .take(MAX_BASELINE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| read_err(e.into()))?;
        Self::parse(path, &bytes)
    }

    /// Parse a baseline document from bytes (a file, or a blob read from Git); `path` names it
    /// in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, BaselineError> {
        let text = utf8_text(bytes, MAX_BASELINE_BYTES).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let parsed: Baseline = serde_json::from_str(text).map_err(|e| {
            // serde_json appends " at line L column C" to its message; the place is kept from
            // its accessors, the message only as a content-free description.
            let full = e.to_string();
            let message = full.rfind(" at line ").map_or(&*full, |i| &full[..i]);
            BaselineError::Parse {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: safe_message(message),
            }
        })?;
        if parsed.version != BASELINE_VERSION {
            return Err(BaselineError::Version {
                path: path.to_path_buf(),
                found: parsed.version,
            });
        }
        if let Some(index) = parsed
            .findings
            .iter()
            .position(|e| e.fingerprint.as_str().trim().is_empty())
        {
            return Err(BaselineError::EmptyFingerprint {
                path: path.to_path_buf(),
                index,
            });
        }
        Ok(Self::from_entries(parsed.findings))
    }

    /// Write the baseline as pretty JSON with a final newline.
    pub fn write(&self, out: &mut dyn Write) -> Result<(), BaselineError> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(io::Error::from)?;
        writeln!(out)?;
        Ok(())
    }

    /// True when the baseline lists a finding with this fingerprint.
    pub fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// How many entries the baseline holds.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// True when the baseline holds no entry.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Drop the report's findings that the baseline lists, count them in
    /// `stats.suppressed_by_baseline`, and return how many were dropped.
    pub fn suppress(&self, report: &mut ScanReport) -> u64 {
        let before = report.findings.len();
        report.findings.retain(|f| !self.contains(&f.fingerprint));
        let dropped = (before - report.findings.len()) as u64;
        report.stats.suppressed_by_baseline += dropped;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Matcher;

    /// A fingerprint standing for secret `n` of rule `r`.
    fn fp(n: u32) -> Fingerprint {
        Fingerprint::of(&"r".parse().unwrap(), &format!("secret {n}"))
    }

    fn entry(fp: Fingerprint, path: &str, line: usize) -> BaselineEntry {
        BaselineEntry {
            fingerprint: fp,
            rule_id: "r".parse().unwrap(),
            path: path.into(),
            line,
            commit: None,
        }
    }

    #[test]
    fn entries_are_sorted_and_deduplicated() {
        let b = Baseline::from_entries(vec![
            entry(fp(2), "z.txt", 1),
            entry(fp(1), "a.txt", 9),
            entry(fp(1), "a.txt", 2),
            entry(fp(2), "z.txt", 1),
        ]);
        let paths: Vec<_> = b.findings.iter().map(|e| (&*e.path, e.line)).collect();
        assert_eq!(paths, [("a.txt", 2), ("a.txt", 9), ("z.txt", 1)]);
        assert!(b.contains(&fp(1)) && b.contains(&fp(2)) && !b.contains(&fp(3)));
    }

    #[test]
    fn round_trips_and_checks_version() {
        let b = Baseline::from_entries(vec![entry(fp(1), "x", 1)]);
        let mut buf = Vec::new();
        b.write(&mut buf).unwrap();
        let back = Baseline::read(&buf[..], Path::new("b.json")).unwrap();
        assert_eq!(back, b);
        let newer = String::from_utf8(buf)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 2");
        assert!(matches!(
            Baseline::read(newer.as_bytes(), Path::new("b.json")),
            Err(BaselineError::Version { found: 2, .. })
        ));
    }

    #[test]
    fn empty_fingerprints_are_rejected() {
        let doc =
            r#"{"version":1,"findings":[{"fingerprint":" ","rule_id":"r","path":"p","line":1}]}"#;
        assert!(matches!(
            Baseline::read(doc.as_bytes(), Path::new("b.json")),
            Err(BaselineError::EmptyFingerprint { index: 0, .. })
        ));
    }

    /// A baseline as leakgate wrote it before fingerprints, rule ids and commits were types
    /// (fingerprint: 32 hex digits of SHA-256 over rule id, NUL, secret; `""` for a blob in no
    /// commit) still loads and suppresses the same finding found today.
    #[test]
    fn baselines_written_before_still_suppress() {
        let rules = crate::rules::parse(
            "inline",
            "[[rules]]\nid = \"demo-token\"\nname = \"Demo\"\nseverity = \"high\"\n\
             keywords = [\"demo_\"]\nregex = 'demo_(?P<secret>[a-z0-9]{24})'\n",
        )
        .unwrap();
        let matcher = Matcher::for_rules(rules).unwrap();
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let secret: String = (0..24)
            .map(|i| ALPHABET[(i * 7 + 3) % 36] as char)
            .collect();
        let findings = matcher.scan("app.env", format!("T=demo_{secret}\n").as_bytes());
        assert_eq!(findings.len(), 1);

        // The fingerprint as the earlier code computed it, written out here from its
        // definition rather than by the code under test.
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("demo-token\0{secret}"));
        let old: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(findings[0].fingerprint.as_str(), old);

        let commit = &"0123456789abcdef".repeat(3)[..40];
        let doc = format!(
            r#"{{"version": 1, "findings": [
  {{"fingerprint": "{old}", "rule_id": "demo-token", "path": "app.env", "line": 1, "commit": ""}},
  {{"fingerprint": "{old}", "rule_id": "demo-token", "path": "b.env", "line": 3, "commit": "{commit}"}},
  {{"fingerprint": "{old}", "rule_id": "demo-token", "path": "c.env", "line": 2, "commit": null}},
  {{"fingerprint": "{old}", "rule_id": "demo-token", "path": "d.env", "line": 2}}
]}}"#
        );
        let baseline = Baseline::parse(Path::new("b.json"), doc.as_bytes()).unwrap();
        assert!(baseline.contains(&findings[0].fingerprint));
        let mut report = ScanReport {
            findings,
            ..ScanReport::default()
        };
        assert_eq!(baseline.suppress(&mut report), 1);
        assert!(report.findings.is_empty());

        // Written back: the same fingerprints and ids; the commit of a blob in no commit is null.
        let mut out = Vec::new();
        baseline.write(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let entries = v["findings"].as_array().unwrap();
        assert!(entries
            .iter()
            .all(|e| e["fingerprint"] == old.as_str() && e["rule_id"] == "demo-token"));
        let commits: Vec<_> = entries.iter().map(|e| e["commit"].clone()).collect();
        assert_eq!(
            commits,
            [
                serde_json::Value::Null,
                commit.into(),
                serde_json::Value::Null,
                serde_json::Value::Null
            ]
        );
    }

    /// Rule ids and commits that are not ones are refused with messages that quote nothing.
    #[test]
    fn invalid_ids_are_refused_without_quoting_them() {
        let planted = "Zq9Xw2Lm_SECRET";
        for (rule, commit) in [(planted, "null"), ("r", &format!("\"{planted}\"")[..])] {
            let doc = format!(
                r#"{{"version":1,"findings":[{{"fingerprint":"f","rule_id":"{rule}","path":"p","line":1,"commit":{commit}}}]}}"#
            );
            let e = Baseline::parse(Path::new("b.json"), doc.as_bytes()).unwrap_err();
            let shown = e.to_string();
            assert!(matches!(e, BaselineError::Parse { .. }), "{shown}");
            assert!(!shown.contains(planted), "{shown}");
            assert!(
                shown.contains("value out of range or not allowed, expected a"),
                "{shown}"
            );
        }
    }
}
