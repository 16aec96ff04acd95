//! Text for people: `path:line:col`, rule, redacted secret, the line with the match marked, and
//! a summary.

use super::ReportOptions;
use crate::finding::{redact, Finding, ScanReport};
use std::io::{self, Write};

const RED: &str = "\x1b[1;31m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Write one block per finding and a summary line.
pub fn write_text(
    report: &ScanReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = |code: &'static str| if opts.color { code } else { "" };
    for f in &report.findings {
        writeln!(
            out,
            "{}{}:{}:{}{}: {}{}{} [{}, {} confidence] {}",
            paint(BOLD),
            f.path,
            f.line,
            f.column,
            paint(RESET),
            paint(RED),
            f.rule_id,
            paint(RESET),
            f.severity,
            f.confidence,
            f.shown_secret(opts.reveal),
        )?;
        let matched = if opts.reveal {
            f.snippet.matched.clone()
        } else {
            redact(&f.snippet.matched)
        };
        writeln!(
            out,
            "    {}{}{}{}{}",
            f.snippet.before,
            paint(RED),
            matched,
            paint(RESET),
            f.snippet.after
        )?;
        for detail in details(f) {
            writeln!(out, "    {}{}{}", paint(DIM), detail, paint(RESET))?;
        }
    }
    for e in &report.errors {
        writeln!(out, "error: {}: {}", e.path, e.message)?;
    }
    let s = &report.stats;
    // The rarer skips are named only when they happened, so the common line stays short.
    let mut rare = String::new();
    for (n, what) in [
        (s.skipped_lfs_pointers, "LFS pointer(s)"),
        (s.skipped_submodules, "submodule(s)"),
        (s.skipped_special, "FIFO(s), socket(s) or device(s)"),
    ] {
        if n > 0 {
            rare.push_str(&format!(", {n} {what}"));
        }
    }
    let archives = if s.archives > 0 {
        format!(
            "; {} archive(s) expanded, {} member(s)",
            s.archives, s.archive_members
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} finding(s) in {} file(s), {} bytes scanned{}; skipped {} binary, {} too large, {} symlink(s){}; {} allowed; {} suppressed by baseline; {} error(s); {} ms",
        report.findings.len(),
        s.files,
        s.bytes,
        archives,
        s.skipped_binary,
        s.skipped_too_large,
        s.skipped_symlinks,
        rare,
        s.allowed,
        s.suppressed_by_baseline,
        s.errors,
        s.elapsed_ms
    )
}

fn details(f: &Finding) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(g) = &f.git {
        let reach = if g.unreachable { " (unreachable)" } else { "" };
        if g.commit.is_empty() {
            // A blob no commit holds (tagged directly, or loose and unreachable).
            d.push(format!("in no commit{reach}"));
        } else {
            d.push(format!(
                "commit {} by {} <{}> on {}{reach}",
                g.commit, g.author, g.email, g.date
            ));
        }
        if g.other_commits > 0 || g.other_paths > 0 {
            d.push(format!(
                "also in {} other commit(s), {} other path(s)",
                g.other_commits, g.other_paths
            ));
        }
    }
    if let Some(g) = &f.genesys {
        d.push(format!(
            "genesys client id {}, region {}",
            g.client_id.as_deref().unwrap_or("unknown"),
            g.region.as_deref().unwrap_or("unknown")
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
