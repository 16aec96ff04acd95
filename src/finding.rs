//! What a scan produces: findings with their provenance, the verification and revocation records
//! attached to them, and the run's statistics.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::ids::{CommitId, Fingerprint, InvalidCommitId, InvalidRuleId, RuleId};

/// How bad a leak of this kind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// How sure the rule is that the match is a real secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// The commit that first introduced a blob, and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: CommitId,
    /// Author name and email; empty when the commit object could not be read.
    pub author: String,
    pub email: String,
    /// Commit date, RFC 3339; empty when the commit object could not be read.
    pub date: String,
}

/// Where a scanned blob came from in Git.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitOrigin {
    /// The commit that first introduced the blob; `None` for a blob no commit holds (a tag
    /// pointing straight at it, or a loose unreachable object).
    pub commit: Option<Commit>,
    /// How many other commits carry the same blob.
    pub other_commits: u64,
    /// How many other paths the blob appears under.
    pub other_paths: u64,
    /// True when the blob is reachable from no ref (found with `--all-objects`).
    pub unreachable: bool,
    /// Where the introducing commit stands in the walk (parents first): what orders the places
    /// of one secret. `u64::MAX` for a blob no commit holds.
    pub order: u64,
}

/// Another place where a finding's secret appears: what grouping ([`ScanReport::group`]) keeps
/// of the findings it folds into the first one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub path: String,
    /// The file holding an archive member's place.
    pub archive: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The commit that introduced the blob holding this place, in a Git scan.
    pub commit: Option<CommitId>,
    /// Where that commit stands in the walk (see [`GitOrigin::order`]).
    pub order: u64,
    /// How many other commits and paths carry this place's blob, in a Git scan (as
    /// [`GitOrigin::other_commits`] and [`GitOrigin::other_paths`]); 0 elsewhere.
    pub other_commits: u64,
    pub other_paths: u64,
}

/// What a provider attached to a finding (see [`crate::providers`]): the value the secret pairs
/// with, a host or region hint from its context, and the verifier its rule selects. The same
/// shape for every provider, so writers and baselines never name one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// The provider's id, as rules name it (`genesys`).
    pub provider: String,
    /// The verifier the rule selects (`verify = "genesys"`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<String>,
    /// The partner of the secret, such as an OAuth client id.
    pub id: Option<String>,
    /// True when `id` was assigned to an id-like name (`client_id = ...`), not merely near.
    /// What `require_pair` asks for; not part of the output.
    #[serde(skip)]
    pub named: bool,
    /// Where the credential is used: a host, or a region domain such as `mypurecloud.ie`.
    pub host: Option<String>,
}

/// Outcome of asking the token endpoint about a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// A token was issued for the pair: the only proof of a live secret.
    Active,
    Invalid,
    Indeterminate,
    RateLimited,
    Decoy,
    Skipped,
    /// The client id exists (`unauthorized_client`: not a client-credentials client) but no
    /// token was issued, so the secret is not proven live. Never revoked.
    Unconfirmed,
}

/// The verification record attached to a verified finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: VerificationStatus,
    /// Region domain that answered (the live one, or the last tried).
    pub region: Option<String>,
    pub org: Option<String>,
    pub client_name: Option<String>,
    /// RFC 3339 time of the check.
    pub checked_at: String,
    /// Why the status is not `active` or `invalid`, in a few words.
    pub reason: Option<String>,
}

impl Verification {
    /// One line for people: `active, region mypurecloud.ie, org Example, client crm-sync`.
    pub fn describe(&self) -> String {
        let status = serde_json::to_value(self.status).unwrap_or_default();
        let mut line = status.as_str().unwrap_or("?").to_string();
        for (k, val) in [
            ("region", &self.region),
            ("org", &self.org),
            ("client", &self.client_name),
            ("reason", &self.reason),
        ] {
            if let Some(val) = val {
                line.push_str(&format!(", {k} {val}"));
            }
        }
        line
    }
}

/// Outcome of a containment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStatus {
    Revoked,
    RevokeFailed,
    Protected,
    DryRun,
    NotAttempted,
}

/// How a live credential is contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevokeAction {
    /// Set the client `disabled`: its tokens die at once; the owner can re-enable it.
    Disable,
    /// Regenerate the client's secret; the new one is never read, printed or stored.
    Rotate,
    /// Set the client `inactive`, then delete it.
    Delete,
}

impl RevokeAction {
    /// The name used in records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeAction::Disable => "disable",
            RevokeAction::Rotate => "rotate",
            RevokeAction::Delete => "delete",
        }
    }
}

/// The revocation record attached to a verified finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub status: RevocationStatus,
    pub action: RevokeAction,
    pub at: String,
    pub reason: Option<String>,
}

impl Revocation {
    /// One line for people: `revoked (disable)`, `revoke_failed (rotate): reason`.
    pub fn describe(&self) -> String {
        let status = serde_json::to_value(self.status).unwrap_or_default();
        let reason = self.reason.as_ref().map(|x| format!(": {x}"));
        format!(
            "{} ({}){}",
            status.as_str().unwrap_or("?"),
            self.action.as_str(),
            reason.unwrap_or_default()
        )
    }
}

/// One secret found in one place. `Debug` redacts the secret, so a `{:?}` in a panic or a log
/// cannot leak it.
#[derive(Clone, PartialEq)]
pub struct Finding {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Path relative to the scan root (or repository), `/`-separated.
    pub path: String,
    /// 1-based line and column (columns count bytes) of the secret's first and last character.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The secret itself. Writers show it through [`Finding::shown_secret`].
    pub secret: String,
    /// The line holding the secret, cut to a readable window, built with every secret on it
    /// redacted.
    pub snippet: Snippet,
    pub fingerprint: Fingerprint,
    pub git: Option<GitOrigin>,
    /// What the rule's provider paired the secret with, if it pairs.
    pub pair: Option<Pair>,
    pub verification: Option<Verification>,
    pub revocation: Option<Revocation>,
    /// For a finding inside an archive, the file that holds it (`app.zip` of
    /// `app.zip!conf/app.env`): what code scanning can point at.
    pub archive: Option<String>,
    /// The other places the same secret of the same rule appears, first introduced first;
    /// empty until the report is grouped, and with `--no-group`.
    pub occurrences: Vec<Occurrence>,
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("rule_id", &self.rule_id)
            .field("severity", &self.severity)
            .field("confidence", &self.confidence)
            .field("path", &self.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("end_line", &self.end_line)
            .field("end_column", &self.end_column)
            .field("secret", &redact(&self.secret))
            .field("snippet", &self.snippet)
            .field("fingerprint", &self.fingerprint)
            .field("git", &self.git)
            .field("pair", &self.pair)
            .field("verification", &self.verification)
            .field("revocation", &self.revocation)
            .field("occurrences", &self.occurrences)
            .finish()
    }
}

/// The context line of a finding, cut to a readable window: text before the match, the match,
/// text after. Built redacted: every other secret on the line (of any rule, reported or not) is
/// already hidden in `before` and `after`, and the match itself is shown only through
/// [`Snippet::matched`]. `Debug` never shows the raw match.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    pub before: String,
    pub after: String,
    /// The match, redacted.
    redacted: String,
    /// The match as it is in the blob (first line only), for `--no-redact`.
    raw: String,
}

impl Snippet {
    /// A snippet from already-redacted context and the raw matched text.
    pub fn new(before: String, raw: String, after: String) -> Self {
        Snippet {
            before,
            redacted: redact(&raw),
            raw,
            after,
        }
    }

    /// The matched text as output shows it: redacted unless `reveal`.
    pub fn matched(&self, reveal: bool) -> &str {
        if reveal {
            &self.raw
        } else {
            &self.redacted
        }
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snippet")
            .field("before", &self.before)
            .field("matched", &self.redacted)
            .field("after", &self.after)
            .finish()
    }
}

impl Finding {
    /// The secret as output shows it: redacted unless `reveal`.
    pub fn shown_secret(&self, reveal: bool) -> String {
        if reveal {
            self.secret.clone()
        } else {
            redact(&self.secret)
        }
    }

    /// The commit that introduced the finding's blob, for a history scan.
    pub fn commit(&self) -> Option<&Commit> {
        self.git.as_ref().and_then(|g| g.commit.as_ref())
    }

    /// Sort key: path, position, rule, then commit (none first).
    pub fn sort_key(&self) -> (&str, usize, usize, &str, Option<CommitId>) {
        (
            &self.path,
            self.line,
            self.column,
            &self.rule_id,
            self.commit().map(|c| c.id),
        )
    }
}

/// Redact a secret: keep a short prefix so a person can tell secrets apart, hide the rest.
/// Short secrets are hidden whole.
pub fn redact(secret: &str) -> String {
    let keep = if secret.chars().count() >= 16 { 4 } else { 0 };
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}*****")
}

/// A path (or any name from the file system or Git) as every output shows it: exact when it is
/// UTF-8 (a `\` stays a `\`, never a `/`); otherwise each byte that is not UTF-8 is written
/// `\xNN` and each backslash `\\`, never replaced lossily.
pub fn display_path(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A problem with one input that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub path: String,
    pub message: String,
}

/// Counters for one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    pub skipped_symlinks: u64,
    pub skipped_lfs_pointers: u64,
    pub skipped_submodules: u64,
    /// FIFOs, sockets and devices met while walking a folder: never opened (a FIFO would
    /// block). Named on the command line, they are read.
    #[serde(default)]
    pub skipped_special: u64,
    /// Files, blobs and archive members not read because `allow.paths` covers their path.
    #[serde(default)]
    pub skipped_allowed_paths: u64,
    pub allowed: u64,
    /// Findings past the per-file cap (`[scan] max_findings_per_file`): found, not listed.
    #[serde(default)]
    pub findings_over_cap: u64,
    pub suppressed_by_baseline: u64,
    pub errors: u64,
    /// Git history scans: commits walked.
    pub commits: u64,
    /// Git history and range scans with `--cache`: blobs not read because the cache knows
    /// them clean (scanned with the same rules and settings before). Binary blobs and LFS
    /// pointers among them are counted as skipped too, as a scan without the cache counts them.
    #[serde(default)]
    pub from_cache: u64,
    /// Of `commits`, those whose trees were not read again: the cache's walk went on from them.
    #[serde(default)]
    pub commits_from_cache: u64,
    /// History and range scans of a shallow clone: the commits the history stops at (their
    /// parents were not fetched), so older history was not read. Zero for a complete history.
    #[serde(default)]
    pub shallow_commits: u64,
    /// Archives (zip, tar, gzip) expanded and scanned member by member; not counted in `files`.
    pub archives: u64,
    /// Files inside archives, nested ones included; each is also counted as scanned, binary,
    /// too large or an error like any file.
    pub archive_members: u64,
    pub elapsed_ms: u64,
}

/// What kind of scan produced a report: it decides what the summary says was read (files of a
/// tree, or blobs of commits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScanKind {
    /// A working tree, folders, files or standard input.
    #[default]
    Tree,
    /// `--history`: every blob reachable from any ref (and, with `--all-objects`, the others).
    History,
    /// `--range`: the blobs the commits of a range introduced.
    Range,
    /// `--staged`: the blobs staged for the next commit.
    Staged,
}

impl ScanKind {
    /// What one unit read is called: `file(s)` in a tree, `blob(s)` in history.
    pub fn unit(self) -> &'static str {
        match self {
            ScanKind::Tree => "file(s)",
            ScanKind::History | ScanKind::Range => "blob(s)",
            ScanKind::Staged => "staged blob(s)",
        }
    }
}

/// Everything a scan produced.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// What was scanned, set by the source.
    pub kind: ScanKind,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub warnings: Vec<String>,
    pub stats: Stats,
}

impl ScanReport {
    /// Sort findings and errors so output is deterministic.
    pub fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.errors
            .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_all_but_prefix() {
        let s = "abcdefghijklmnopqrstuvwxyz";
        assert_eq!(redact(s), "abcd*****");
        assert_eq!(redact("short"), "*****");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = format!("{}{}", "q8Xz3vLpRt7Wm2Kc9Nf4", "Hs6Jd1Gb5Ya0Te8Uo3IiA");
        let f = Finding {
            rule_id: RuleId::new("r").unwrap(),
            rule_name: "r".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            path: "p".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            secret: secret.clone(),
            snippet: Snippet::new("k = ".into(), secret.clone(), String::new()),
            fingerprint: Fingerprint::of(&RuleId::new("r").unwrap(), &secret),
            git: None,
            pair: None,
            verification: None,
            revocation: None,
            archive: None,
            occurrences: Vec::new(),
        };
        let shown = format!("{f:?} {f:#?} {:?}", f.snippet);
        assert!(!shown.contains(&secret[4..]), "{shown}");
        assert_eq!(f.snippet.matched(true), secret);
    }

    #[test]
    fn paths_are_exact_and_escaped() {
        assert_eq!(display_path(b"src/a.rs"), "src/a.rs");
        assert_eq!(display_path(b"a\\b"), "a\\b");
        assert_eq!(
            display_path(b"caf\xc3\xa9\\\xff.env"),
            "caf\u{e9}\\\\\\xff.env"
        );
    }
}
