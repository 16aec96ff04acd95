//! JSON: `{"version":3,"tool":{...},"findings":[...],"errors":[...],"warnings":[...],"stats":{...}}`.

use super::ReportOptions;
use crate::finding::{
    CommitId, Finding, Fingerprint, InputError, Pair, Revocation, RuleId, ScanReport, Stats,
    Verification,
};
use serde::Serialize;
use std::io::{self, Write};

/// The JSON document's schema version.
/// 2: a provider's pair is `pair` (`provider`, `id`, `host`, and `verify` when the rule has a
/// verifier), no longer `genesys`.
/// 3: each finding is one secret of one rule: `places` counts where it appears, `commits` the
/// distinct commits that introduced those places, and `occurrences` lists the places other
/// than the finding's own (all of them; `[]` with `--no-group`), each with the `commit` that
/// introduced it and, in Git scans, its blob's `other_commits` and `other_paths`.
pub const JSON_VERSION: u32 = 3;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [InputError],
    warnings: &'a [String],
    stats: &'a Stats,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// A finding as JSON shows it.
#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a RuleId,
    rule_name: &'a str,
    severity: crate::finding::Severity,
    confidence: crate::finding::Confidence,
    #[serde(flatten)]
    place: Place<'a>,
    secret: String,
    fingerprint: &'a Fingerprint,
    /// `null` outside Git, and for a blob no commit holds (then `author`, `email` and `date`
    /// are `null` too).
    commit: Option<CommitId>,
    author: Option<&'a str>,
    email: Option<&'a str>,
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_commits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_paths: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unreachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pair: Option<&'a Pair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation: Option<&'a Revocation>,
    places: usize,
    /// Distinct commits; `null` outside Git.
    commits: Option<usize>,
    occurrences: Vec<JsonOccurrence<'a>>,
}

/// Another place of a finding's secret.
#[derive(Serialize)]
struct JsonOccurrence<'a> {
    #[serde(flatten)]
    place: Place<'a>,
    /// `null` outside Git, and for a blob no commit holds.
    commit: Option<CommitId>,
    /// Git scans: how many other commits and paths carry this place's blob.
    #[serde(skip_serializing_if = "Option::is_none")]
    other_commits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_paths: Option<u64>,
}

/// Where a finding or occurrence is, as both show it.
#[derive(Serialize)]
struct Place<'a> {
    path: &'a str,
    /// The file in the repository that holds an archive member's place.
    #[serde(skip_serializing_if = "Option::is_none")]
    archive: Option<&'a str>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl<'a> Place<'a> {
    fn new(
        path: &'a str,
        archive: Option<&'a str>,
        (line, column): (usize, usize),
        (end_line, end_column): (usize, usize),
    ) -> Self {
        Place {
            path,
            archive,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

fn view<'a>(f: &'a Finding, opts: &ReportOptions) -> JsonFinding<'a> {
    let git = f.git.as_ref();
    let commit = f.commit();
    JsonFinding {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        severity: f.severity,
        confidence: f.confidence,
        place: Place::new(
            &f.path,
            f.archive.as_deref(),
            (f.line, f.column),
            (f.end_line, f.end_column),
        ),
        secret: f.shown_secret(opts.reveal),
        fingerprint: &f.fingerprint,
        commit: commit.map(|c| c.id),
        author: commit.map(|c| c.author.as_str()),
        email: commit.map(|c| c.email.as_str()),
        date: commit.map(|c| c.date.as_str()),
        other_commits: git.map(|g| g.other_commits),
        other_paths: git.map(|g| g.other_paths),
        unreachable: git.is_some_and(|g| g.unreachable),
        pair: f.pair.as_ref(),
        verification: f.verification.as_ref(),
        revocation: f.revocation.as_ref(),
        places: f.places(),
        commits: git.map(|_| f.commits()),
        occurrences: f
            .occurrences
            .iter()
            .map(|o| JsonOccurrence {
                place: Place::new(
                    &o.path,
                    o.archive.as_deref(),
                    (o.line, o.column),
                    (o.end_line, o.end_column),
                ),
                commit: o.commit,
                other_commits: git.map(|_| o.other_commits),
                other_paths: git.map(|_| o.other_paths),
            })
            .collect(),
    }
}

/// Write the report as one pretty-printed JSON document.
pub fn write_json(
    report: &ScanReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let doc = Document {
        version: JSON_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: report.findings.iter().map(|f| view(f, opts)).collect(),
        errors: &report.errors,
        warnings: &report.warnings,
        stats: &report.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
