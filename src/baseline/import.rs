//! Importing the known findings of another scanner: a gitleaks JSON report, or a
//! detect-secrets baseline, becomes a leakgate [`Baseline`].
//!
//! A leakgate baseline entry is a fingerprint of leakgate's rule id and the secret, so each
//! foreign finding must be found again by leakgate's own rules: the file it names is read and
//! scanned (paths relative to a root folder), and only a leakgate finding proven to hold the
//! same secret becomes an entry — for gitleaks, the same `Secret` text; for detect-secrets, a
//! secret whose SHA-1 is the `hashed_secret`. Nothing is guessed: a finding leakgate cannot
//! recover (a redacted report, a file gone, no leakgate rule that finds it) is listed as
//! [`NotImported`] with why, by place and rule, never by secret.

use super::{Baseline, BaselineEntry};
use crate::config::{read_regular, safe_message, show, utf8_text, ReadError};
use crate::finding::{CommitId, Finding};
use crate::matcher::Matcher;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The largest report or baseline imported, in bytes.
pub const MAX_IMPORT_BYTES: u64 = 256 << 20;

/// The formats `leakgate baseline import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignFormat {
    /// `gitleaks detect --report-format json`: an array of findings.
    GitleaksReport,
    /// `detect-secrets scan > .secrets.baseline`.
    DetectSecretsBaseline,
}

impl std::fmt::Display for ForeignFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ForeignFormat::GitleaksReport => "gitleaks report",
            ForeignFormat::DetectSecretsBaseline => "detect-secrets baseline",
        })
    }
}

/// Why an import failed as a whole. No message quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read, or was refused (not a regular file, too large, not UTF-8).
    #[error("reading {}", show(path))]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// The file is neither format. `why` is written by leakgate, free of input text.
    #[error(
        "{} is neither a gitleaks JSON report (an array of findings) nor a detect-secrets baseline (an object with `results`): {why}",
        show(path)
    )]
    UnknownFormat { path: PathBuf, why: String },
}

/// Why one foreign finding was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRecoverable {
    /// gitleaks ran with `--redact`: the secret is not in the report.
    Redacted,
    /// The finding carries no secret (nor a hash of one).
    NoSecret,
    /// The file it names could not be read (gone, renamed, refused); the reason, free of
    /// content.
    Unreadable(String),
    /// No leakgate rule finds that secret there: nothing to suppress.
    NotALeakgateFinding,
}

impl std::fmt::Display for NotRecoverable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRecoverable::Redacted => {
                f.write_str("the report is redacted (run gitleaks without --redact)")
            }
            NotRecoverable::NoSecret => f.write_str("the finding holds no secret"),
            NotRecoverable::Unreadable(why) => write!(f, "the file cannot be read: {why}"),
            NotRecoverable::NotALeakgateFinding => {
                f.write_str("not a leakgate finding; nothing to suppress")
            }
        }
    }
}

/// A foreign finding left out of the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotImported {
    /// The path the foreign finding names, as it names it.
    pub path: String,
    /// Its 1-based line.
    pub line: usize,
    /// The foreign tool's rule (gitleaks `RuleID`, detect-secrets `type`).
    pub rule: String,
    pub reason: NotRecoverable,
}

/// What an import produced.
#[derive(Debug)]
pub struct Imported {
    pub format: ForeignFormat,
    /// The baseline of every recovered finding.
    pub baseline: Baseline,
    /// How many foreign findings were recovered (each gives one entry or more).
    pub recovered: usize,
    /// The foreign findings left out, in the file's order.
    pub not_imported: Vec<NotImported>,
}

/// How an import reads the files the foreign findings name.
pub struct ImportOptions<'a> {
    /// The rules in force (built-in plus configuration), as a scan would use them.
    pub matcher: &'a Matcher,
    /// The folder relative paths are read from.
    pub root: &'a Path,
    /// Files larger than this are not read.
    pub max_file_size: u64,
}

/// Import the report or baseline at `path`.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let bytes = read_regular(path, MAX_IMPORT_BYTES).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    import(path, &bytes, options)
}

/// Import a report or baseline from bytes; `path` names it in errors.
pub fn import(path: &Path, bytes: &[u8], options: &ImportOptions) -> Result<Imported, ImportError> {
    let text = utf8_text(bytes, MAX_IMPORT_BYTES).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let unknown = |why: String| ImportError::UnknownFormat {
        path: path.to_path_buf(),
        why,
    };
    let describe = |e: &serde_json::Error| {
        let full = e.to_string();
        let message = full.rfind(" at line ").map_or(&*full, |i| &full[..i]);
        format!(
            "line {}, column {}: {}",
            e.line(),
            e.column(),
            safe_message(message)
        )
    };
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| unknown(describe(&e)))?;
    let mut files = Files::new(options);
    match doc {
        serde_json::Value::Array(_) => {
            let findings: Vec<GitleaksFinding> =
                serde_json::from_value(doc).map_err(|e| unknown(describe(&e)))?;
            Ok(files.gitleaks(&findings))
        }
        serde_json::Value::Object(ref o) if o.contains_key("results") => {
            let baseline: DetectSecrets =
                serde_json::from_value(doc).map_err(|e| unknown(describe(&e)))?;
            Ok(files.detect_secrets(&baseline))
        }
        _ => Err(unknown("the document is neither".into())),
    }
}

/// One finding of a gitleaks JSON report (the fields used; the rest are ignored).
#[derive(Debug, Deserialize)]
struct GitleaksFinding {
    #[serde(rename = "RuleID", default)]
    rule_id: String,
    #[serde(rename = "File", default)]
    file: String,
    #[serde(rename = "StartLine", default)]
    start_line: usize,
    #[serde(rename = "Secret", default)]
    secret: String,
    #[serde(rename = "Match", default)]
    matched: String,
    /// Newer gitleaks versions write the whole line.
    #[serde(rename = "Line", default)]
    line: String,
    #[serde(rename = "Commit", default)]
    commit: String,
}

/// A detect-secrets baseline (the fields used).
#[derive(Debug, Deserialize)]
struct DetectSecrets {
    results: BTreeMap<String, Vec<DetectSecretsResult>>,
}

#[derive(Debug, Deserialize)]
struct DetectSecretsResult {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    hashed_secret: String,
    #[serde(default)]
    line_number: usize,
}

/// The files foreign findings name, each read and scanned once.
struct Files<'a> {
    options: &'a ImportOptions<'a>,
    scanned: HashMap<String, Result<Vec<Finding>, String>>,
}

impl<'a> Files<'a> {
    fn new(options: &'a ImportOptions<'a>) -> Self {
        Files {
            options,
            scanned: HashMap::new(),
        }
    }

    /// The path a baseline entry records: relative to the root, `/`-separated.
    fn entry_path(&self, path: &str) -> String {
        let p = Path::new(path);
        let rel = if p.is_absolute() {
            let root = std::path::absolute(self.options.root)
                .unwrap_or_else(|_| self.options.root.to_path_buf());
            p.strip_prefix(&root).unwrap_or(p)
        } else {
            p
        };
        let shown = show(rel).replace('\\', "/");
        shown.strip_prefix("./").unwrap_or(&shown).to_string()
    }

    /// The findings of leakgate in the file at `path`, or why it could not be read.
    fn findings(&mut self, path: &str) -> Result<&[Finding], String> {
        let options = self.options;
        let entry = self.entry_path(path);
        let found = self.scanned.entry(path.to_string()).or_insert_with(|| {
            let file = options.root.join(path);
            read_regular(&file, options.max_file_size)
                .map(|bytes| options.matcher.scan(&entry, &bytes))
                .map_err(|e| describe_read(&e))
        });
        found.as_ref().map(Vec::as_slice).map_err(Clone::clone)
    }

    fn gitleaks(&mut self, findings: &[GitleaksFinding]) -> Imported {
        let mut entries = Vec::new();
        let mut not_imported = Vec::new();
        let mut recovered = 0;
        for g in findings {
            let skip = |reason| NotImported {
                path: g.file.clone(),
                line: g.start_line,
                rule: g.rule_id.clone(),
                reason,
            };
            if g.secret.is_empty() {
                not_imported.push(skip(NotRecoverable::NoSecret));
                continue;
            }
            // `--redact` writes REDACTED; `--redact=N` keeps a prefix and appends "...".
            if g.secret == "REDACTED" || g.secret.ends_with("...") {
                not_imported.push(skip(NotRecoverable::Redacted));
                continue;
            }
            let path = self.entry_path(&g.file);
            let same = |f: &&Finding| f.secret == g.secret;
            // The file as the disk has it (prefer the finding on gitleaks' line), then the text
            // gitleaks reported, which holds the secret even when the file changed since.
            let mut unreadable = None;
            let mut hits: Vec<Finding> = match self.findings(&g.file) {
                Ok(found) => {
                    let mut hits: Vec<&Finding> = found.iter().filter(same).collect();
                    hits.sort_by_key(|f| f.line != g.start_line);
                    hits.into_iter().take(1).cloned().collect()
                }
                Err(why) => {
                    unreadable = Some(why);
                    Vec::new()
                }
            };
            for text in [&g.line, &g.matched] {
                if hits.is_empty() && !text.is_empty() {
                    hits = self
                        .options
                        .matcher
                        .scan(&path, text.as_bytes())
                        .into_iter()
                        .filter(|f| same(&f))
                        .take(1)
                        .collect();
                }
            }
            let Some(hit) = hits.first() else {
                // Said as the file unread when it was: the secret may be there all the same.
                let reason = unreadable.map_or(
                    NotRecoverable::NotALeakgateFinding,
                    NotRecoverable::Unreadable,
                );
                not_imported.push(skip(reason));
                continue;
            };
            recovered += 1;
            entries.push(entry(hit, path, g.start_line, g.commit.parse().ok()));
        }
        Imported {
            format: ForeignFormat::GitleaksReport,
            baseline: Baseline::from_entries(entries),
            recovered,
            not_imported,
        }
    }

    fn detect_secrets(&mut self, doc: &DetectSecrets) -> Imported {
        let mut entries = Vec::new();
        let mut not_imported = Vec::new();
        let mut recovered = 0;
        for (key, results) in &doc.results {
            for r in results {
                let file = r.filename.as_deref().unwrap_or(key);
                let skip = |reason| NotImported {
                    path: file.to_string(),
                    line: r.line_number,
                    rule: r.kind.clone(),
                    reason,
                };
                let hashed = r.hashed_secret.trim().to_ascii_lowercase();
                let path = self.entry_path(file);
                if hashed.is_empty() {
                    not_imported.push(skip(NotRecoverable::NoSecret));
                    continue;
                }
                let found = match self.findings(file) {
                    Ok(found) => found,
                    Err(why) => {
                        not_imported.push(skip(NotRecoverable::Unreadable(why)));
                        continue;
                    }
                };
                let same = |f: &&Finding| {
                    sha1dc::digest(f.secret.as_bytes()).is_ok_and(|d| d.to_string() == hashed)
                };
                // The secret on its line, else (lines moved since the baseline was made) the
                // same secret elsewhere in the file: the hash is the proof, not the place.
                let on_line = |f: &&Finding| (f.line..=f.end_line).contains(&r.line_number);
                let hit = found
                    .iter()
                    .filter(same)
                    .find(on_line)
                    .or_else(|| found.iter().find(same));
                let Some(hit) = hit else {
                    not_imported.push(skip(NotRecoverable::NotALeakgateFinding));
                    continue;
                };
                recovered += 1;
                entries.push(entry(hit, path, r.line_number, None));
            }
        }
        Imported {
            format: ForeignFormat::DetectSecretsBaseline,
            baseline: Baseline::from_entries(entries),
            recovered,
            not_imported,
        }
    }
}

/// A read error in words, with its cause (an I/O error's message names no content).
/// The entry of a recovered finding, at the place the foreign tool reported.
fn entry(hit: &Finding, path: String, line: usize, commit: Option<CommitId>) -> BaselineEntry {
    BaselineEntry {
        fingerprint: hit.fingerprint.clone(),
        rule_id: hit.rule_id.clone(),
        path,
        line: line.max(1),
        commit,
    }
}

fn describe_read(e: &ReadError) -> String {
    match e {
        ReadError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => "not found".into(),
        ReadError::Io(io) => io.kind().to_string(),
        other => other.to_string(),
    }
}
