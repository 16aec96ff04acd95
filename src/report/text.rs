//! Text for people: `path:line:col`, rule, redacted secret, the line with the match marked, the
//! secret's other places, and a summary of what was read. Every string from outside (paths,
//! snippets, authors, messages) goes through [`escape_control`], so a crafted name cannot forge
//! lines or drive the terminal.

use super::ReportOptions;
use crate::finding::{Finding, ScanKind, ScanReport};
use anstyle::{AnsiColor, Style};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The rule and the matched text.
const RED: Style = AnsiColor::Red.on_default().bold();
/// The place.
const BOLD: Style = Style::new().bold();
/// The lines under a finding.
const DIM: Style = Style::new().dimmed();

/// True for characters that move the cursor, end a line, drive a terminal or reorder text:
/// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides,
/// embeddings, isolates and marks (`U+202E` shows `gpj.exe` as `exe.jpg`).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// One line of text safe to print to a terminal: each control or bidi character is written
/// as an escape (`\n`, `\r`, `\t`, `\x1b`, `\u{202e}`); everything else is kept exactly.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Write one block per finding and a summary line.
pub fn write_text(
    report: &ScanReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    // A plain style renders as nothing, start and reset alike.
    let paint = |style: Style| if opts.color { style } else { Style::new() };
    let (red, bold, dim) = (paint(RED), paint(BOLD), paint(DIM));
    let e = escape_control;
    for f in &report.findings {
        writeln!(
            out,
            "{bold}{}:{}:{}{bold:#}: {red}{}{red:#} [{}, {} confidence] {}",
            e(&f.path),
            f.line,
            f.column,
            e(&f.rule_id),
            f.severity,
            f.confidence,
            e(&f.shown_secret(opts.reveal)),
        )?;
        writeln!(
            out,
            "    {}{red}{}{red:#}{}",
            e(&f.snippet.before),
            e(f.snippet.matched(opts.reveal)),
            e(&f.snippet.after)
        )?;
        for detail in details(f, opts.all_locations) {
            writeln!(out, "    {dim}{}{dim:#}", e(&detail))?;
        }
    }
    for err in &report.errors {
        writeln!(out, "error: {}: {}", e(&err.path), e(&err.message))?;
    }
    writeln!(out, "{}", summary(report))
}

/// A count for people: `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The summary line: the secrets found (and at how many places, when more), what was read (files
/// of a tree; blobs of commits in Git), and every skip, allowance, suppression and error.
pub fn summary(report: &ScanReport) -> String {
    let s = &report.stats;
    let (secrets, places) = (report.secrets(), report.places());
    let at = if places > secrets {
        format!(" at {} place(s)", count(places as u64))
    } else {
        String::new()
    };
    let unit = report.kind.unit();
    let read = match report.kind {
        ScanKind::Tree | ScanKind::Staged => format!("{} {unit}", count(s.files)),
        ScanKind::History => format!(
            "{} {unit} of {} commit(s)",
            count(s.files),
            count(s.commits)
        ),
        ScanKind::Range => format!(
            "{} {unit} introduced by {} commit(s)",
            count(s.files),
            count(s.commits)
        ),
    };
    // The rarer skips are named only when they happened, so the common line stays short.
    let mut rare = String::new();
    for (n, what) in [
        (s.skipped_lfs_pointers, "LFS pointer(s)"),
        (s.skipped_submodules, "submodule(s)"),
        (s.skipped_special, "FIFO(s), socket(s) or device(s)"),
        (s.skipped_allowed_paths, "under allowed paths"),
    ] {
        if n > 0 {
            rare.push_str(&format!(", {} {what}", count(n)));
        }
    }
    let capped = if s.findings_over_cap > 0 {
        format!(", {} over the per-file cap", count(s.findings_over_cap))
    } else {
        String::new()
    };
    let archives = if s.archives > 0 {
        format!(
            "; {} archive(s) expanded, {} member(s)",
            count(s.archives),
            count(s.archive_members)
        )
    } else {
        String::new()
    };
    let cached = if s.from_cache > 0 || s.commits_from_cache > 0 {
        format!(
            "; from the cache: {} blob(s) known clean, {} commit(s) walked before",
            count(s.from_cache),
            count(s.commits_from_cache)
        )
    } else {
        String::new()
    };
    format!(
        "{} secret(s){at} in {read}, {} bytes scanned{archives}{cached}; skipped {} binary, {} too large, {} symlink(s){rare}; {} allowed{capped}; {} suppressed by baseline; {} error(s); {} ms",
        count(secrets as u64),
        count(s.bytes),
        count(s.skipped_binary),
        count(s.skipped_too_large),
        count(s.skipped_symlinks),
        count(s.allowed),
        count(s.suppressed_by_baseline),
        count(s.errors),
        count(s.elapsed_ms)
    )
}

/// Where else one blob is, when anywhere: `in 3 other commit(s) and under 1 other path(s)`.
fn same_blob(other_commits: u64, other_paths: u64) -> Option<String> {
    let mut parts = Vec::new();
    if other_commits > 0 {
        parts.push(format!("in {} other commit(s)", count(other_commits)));
    }
    if other_paths > 0 {
        parts.push(format!("under {} other path(s)", count(other_paths)));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// The lines under a finding: where Git says it came from, its other places (each one listed
/// when `all_locations`), the provider's pair, verification, revocation and the fingerprint.
fn details(f: &Finding, all_locations: bool) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(g) = &f.git {
        let reach = if g.unreachable { " (unreachable)" } else { "" };
        match &g.commit {
            Some(c) => d.push(format!(
                "commit {} by {} <{}> on {}{reach}",
                c.id, c.author, c.email, c.date
            )),
            // A blob no commit holds (tagged directly, or loose and unreachable).
            None => d.push(format!("in no commit{reach}")),
        }
        // The same blob elsewhere, scanned once: not the other places of the secret below.
        if let Some(also) = same_blob(g.other_commits, g.other_paths) {
            d.push(format!("this version of the file is also {also}"));
        }
    }
    if !f.occurrences.is_empty() {
        let commits = match &f.git {
            Some(_) => format!(
                " (introduced by {} commit(s) in all)",
                count(f.commits() as u64)
            ),
            None => String::new(),
        };
        d.push(format!(
            "also in {} other place(s){commits}",
            count(f.occurrences.len() as u64)
        ));
        if all_locations {
            for o in &f.occurrences {
                let commit = match (&f.git, o.commit) {
                    (None, _) => String::new(),
                    (Some(_), Some(id)) => format!(" in commit {id}"),
                    (Some(_), None) => " in no commit".to_string(),
                };
                let also = same_blob(o.other_commits, o.other_paths)
                    .map(|also| format!("; this version also {also}"))
                    .unwrap_or_default();
                d.push(format!(
                    "  {}:{}:{}{commit}{also}",
                    o.path, o.line, o.column
                ));
            }
        }
    }
    if let Some(p) = &f.pair {
        d.push(format!(
            "{} pair: id {}, host {}",
            p.provider,
            p.id.as_deref().unwrap_or("unknown"),
            p.host.as_deref().unwrap_or("unknown")
        ));
    }
    if let Some(v) = &f.verification {
        d.push(format!("verification: {}", v.describe()));
    }
    if let Some(r) = &f.revocation {
        d.push(format!("revocation: {}", r.describe()));
    }
    d.push(format!("fingerprint {}", f.fingerprint));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        let shown: Vec<_> = [0, 999, 1_000, 56_789, 1_234_567].map(count).into();
        assert_eq!(shown, ["0", "999", "1,000", "56,789", "1,234,567"]);
    }

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(escape_control("src/a.rs"), "src/a.rs");
        assert_eq!(escape_control("a\nb\rc\x1b[2Jd"), "a\\nb\\rc\\x1b[2Jd");
        assert_eq!(escape_control("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(escape_control("caf\u{e9} \u{85}"), "caf\u{e9} \\x85");
    }
}
