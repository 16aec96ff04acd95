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

use crate::config::{read_regular, safe_message, show, utf8_text, ReadError};
use crate::finding::{Finding, ScanReport};
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
    /// The file is not a baseline document. serde_json's error is not kept as the source: its
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
    #[error("writing baseline: {0}")]
    Write(#[from] io::Error),
}

/// One known finding, as the baseline records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Hash of rule id and secret: the only field matching uses.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Where it was found when the baseline was made, `/`-separated.
    pub path: String,
    /// 1-based line where it was found.
    pub line: usize,
    /// The commit that introduced it, for history scans.
    #[serde(default)]
    pub commit: Option<String>,
}

impl BaselineEntry {
    /// The entry recording `finding` (its secret is not kept).
    pub fn from_finding(finding: &Finding) -> Self {
        BaselineEntry {
            fingerprint: finding.fingerprint.clone(),
            rule_id: finding.rule_id.clone(),
            path: finding.path.clone(),
            line: finding.line,
            commit: finding.git.as_ref().map(|g| g.commit.clone()),
        }
    }

    fn sort_key(&self) -> (&str, usize, &str, Option<&str>, &str) {
        (
            &self.path,
            self.line,
            &self.rule_id,
            self.commit.as_deref(),
            &self.fingerprint,
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
    fingerprints: BTreeSet<String>,
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
            .position(|e| e.fingerprint.trim().is_empty())
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
    pub fn contains(&self, fingerprint: &str) -> bool {
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

    fn entry(fp: &str, path: &str, line: usize) -> BaselineEntry {
        BaselineEntry {
            fingerprint: fp.into(),
            rule_id: "r".into(),
            path: path.into(),
            line,
            commit: None,
        }
    }

    #[test]
    fn entries_are_sorted_and_deduplicated() {
        let b = Baseline::from_entries(vec![
            entry("b", "z.txt", 1),
            entry("a", "a.txt", 9),
            entry("a", "a.txt", 2),
            entry("b", "z.txt", 1),
        ]);
        let paths: Vec<_> = b.findings.iter().map(|e| (&*e.path, e.line)).collect();
        assert_eq!(paths, [("a.txt", 2), ("a.txt", 9), ("z.txt", 1)]);
        assert!(b.contains("a") && b.contains("b") && !b.contains("c"));
    }

    #[test]
    fn round_trips_and_checks_version() {
        let b = Baseline::from_entries(vec![entry("f", "x", 1)]);
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
}
