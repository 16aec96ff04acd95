//! Sources of blobs: the working tree (or any folder), and Git (history, ranges, the index).
//! Every source hands blobs to the matcher in parallel and gathers findings, counts and errors.

pub mod archive;
pub mod decode;
pub mod fs;
pub mod git;

use crate::finding::{Finding, InputError, ScanKind, ScanReport, Stats};
use crate::matcher::{Copied, KeywordHits, Matcher};
use decode::Encoding;
use std::borrow::Cow;

/// Default size cap for one file or blob: 50 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 50 * 1024 * 1024;

/// Options shared by every source.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Larger files and blobs are skipped and counted.
    pub max_file_size: u64,
    /// Scan files that `.gitignore` and friends exclude.
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_links: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            no_ignore: false,
            follow_links: false,
        }
    }
}

/// Why content was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Binary,
    LfsPointer,
}

/// Decide how content is scanned, or why it is not: an exact Git LFS pointer
/// ([`decode::is_lfs_pointer`]) and binary content ([`decode::is_binary`]) are skipped; UTF-16
/// text ([`decode::utf16`]) is decoded first; anything else is scanned as bytes.
pub fn classify(data: &[u8]) -> Result<Encoding, Skip> {
    if decode::is_lfs_pointer(data) {
        return Err(Skip::LfsPointer);
    }
    if let Some(utf16) = decode::utf16(data) {
        return Ok(utf16);
    }
    if decode::is_binary(data) {
        return Err(Skip::Binary);
    }
    Ok(Encoding::Bytes)
}

/// What scanning one blob produced, folded into a report by [`Tally::merge`].
#[derive(Debug, Default)]
pub struct Tally {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub stats: Stats,
    /// Archive nesting and limits while members are scanned.
    archive: archive::Nesting,
    /// Warnings about single blobs (findings over the per-file cap).
    pub warnings: Vec<String>,
}

impl Tally {
    /// An empty tally for a scan with `opts` (the member cap of archives is `max_file_size`).
    pub fn new(opts: &ScanOptions) -> Tally {
        let mut t = Tally::default();
        t.archive.max_member_size = opts.max_file_size;
        t
    }

    /// Scan `data` known as `path`, counting it and what was skipped or allowed.
    pub fn scan_blob(&mut self, matcher: &Matcher, path: &str, data: &[u8]) {
        self.scan_blob_from(matcher, path, data, None, false);
    }

    /// [`Tally::scan_blob`] for a blob of a delta chain: `prior` and `keep` as for
    /// [`Matcher::scan_blob_from`], used when the blob is text scanned as it is (not an
    /// archive, not decoded from UTF-16). Returns the blob's keyword occurrences when kept.
    pub fn scan_blob_from(
        &mut self,
        matcher: &Matcher,
        path: &str,
        data: &[u8],
        prior: Option<(&KeywordHits, &[Copied])>,
        keep: bool,
    ) -> Option<KeywordHits> {
        // Hook: an archive is expanded here, its members coming back through this function.
        if archive::expand(self, matcher, path, data) {
            return None;
        }
        let mut kept = None;
        match classify(data) {
            Err(Skip::Binary) => self.stats.skipped_binary += 1,
            Err(Skip::LfsPointer) => self.stats.skipped_lfs_pointers += 1,
            Ok(encoding) => {
                self.stats.files += 1;
                self.stats.bytes += data.len() as u64;
                let scanned = match encoding.decode(data) {
                    Cow::Borrowed(data) => {
                        let (scanned, hits) = matcher.scan_blob_from(path, data, prior, keep);
                        kept = hits;
                        scanned
                    }
                    Cow::Owned(decoded) => matcher.scan_blob(path, &decoded),
                };
                self.stats.allowed += scanned.allowed;
                if scanned.over_cap > 0 {
                    self.stats.findings_over_cap += scanned.over_cap;
                    self.warnings.push(format!(
                        "{path}: {} more finding(s) not listed: the first {} are (raise [scan] max_findings_per_file)",
                        scanned.over_cap,
                        scanned.findings.len()
                    ));
                }
                self.findings.extend(scanned.findings);
            }
        }
        kept
    }

    /// Record an input that could not be read.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.stats.errors += 1;
        self.errors.push(InputError {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Fold another tally into this one.
    pub fn merge(mut self, other: Tally) -> Tally {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        let (a, b) = (&mut self.stats, other.stats);
        a.files += b.files;
        a.bytes += b.bytes;
        a.skipped_binary += b.skipped_binary;
        a.skipped_too_large += b.skipped_too_large;
        a.skipped_symlinks += b.skipped_symlinks;
        a.skipped_lfs_pointers += b.skipped_lfs_pointers;
        a.skipped_submodules += b.skipped_submodules;
        a.skipped_special += b.skipped_special;
        a.skipped_allowed_paths += b.skipped_allowed_paths;
        a.allowed += b.allowed;
        a.findings_over_cap += b.findings_over_cap;
        a.errors += b.errors;
        a.commits += b.commits;
        a.from_cache += b.from_cache;
        a.commits_from_cache += b.commits_from_cache;
        a.archives += b.archives;
        a.archive_members += b.archive_members;
        self
    }

    /// The finished report of a scan of `kind` begun at `started`: sorted, timed, and warning
    /// about anything over the size cap.
    pub fn finish(
        self,
        mut warnings: Vec<String>,
        kind: ScanKind,
        max_file_size: u64,
        started: std::time::Instant,
    ) -> ScanReport {
        if self.stats.skipped_too_large > 0 {
            warnings.push(format!(
                "{} {} larger than {max_file_size} bytes were not scanned",
                self.stats.skipped_too_large,
                kind.unit()
            ));
        }
        let mut report = self.into_report(warnings);
        report.kind = kind;
        report.stats.elapsed_ms = started.elapsed().as_millis() as u64;
        report
    }

    /// The finished report, sorted.
    pub fn into_report(self, mut warnings: Vec<String>) -> ScanReport {
        let mut blob_warnings = self.warnings;
        blob_warnings.sort();
        warnings.extend(blob_warnings);
        let mut r = ScanReport {
            kind: ScanKind::default(),
            findings: self.findings,
            errors: self.errors,
            warnings,
            stats: self.stats,
        };
        r.sort();
        r
    }
}
