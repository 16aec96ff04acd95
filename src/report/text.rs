//! Text for people: `path:line:col`, rule, redacted secret, the line with the match marked, and
//! a summary. Every string from outside (paths, snippets, authors, messages) goes through
//! [`escape_control`], so a crafted name cannot forge lines or drive the terminal.

use super::ReportOptions;
use crate::finding::{Finding, ScanReport};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

const RED: &str = "\x1b[1;31m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

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
    let paint = |code: &'static str| if opts.color { code } else { "" };
    let e = escape_control;
    for f in &report.findings {
        writeln!(
            out,
            "{}{}:{}:{}{}: {}{}{} [{}, {} confidence] {}",
            paint(BOLD),
            e(&f.path),
            f.line,
            f.column,
            paint(RESET),
            paint(RED),
            e(&f.rule_id),
            paint(RESET),
            f.severity,
            f.confidence,
            e(&f.shown_secret(opts.reveal)),
        )?;
        writeln!(
            out,
            "    {}{}{}{}{}",
            e(&f.snippet.before),
            paint(RED),
            e(f.snippet.matched(opts.reveal)),
            paint(RESET),
            e(&f.snippet.after)
        )?;
        for detail in details(f) {
            writeln!(out, "    {}{}{}", paint(DIM), e(&detail), paint(RESET))?;
        }
    }
    for err in &report.errors {
        writeln!(out, "error: {}: {}", e(&err.path), e(&err.message))?;
    }
    let s = &report.stats;
    // The rarer skips are named only when they happened, so the common line stays short.
    let mut rare = String::new();
    for (n, what) in [
        (s.skipped_lfs_pointers, "LFS pointer(s)"),
        (s.skipped_submodules, "submodule(s)"),
        (s.skipped_special, "FIFO(s), socket(s) or device(s)"),
        (s.skipped_allowed_paths, "under allowed paths"),
    ] {
        if n > 0 {
            rare.push_str(&format!(", {n} {what}"));
        }
    }
    let capped = if s.findings_over_cap > 0 {
        format!(", {} over the per-file cap", s.findings_over_cap)
    } else {
        String::new()
    };
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
        "{} finding(s) in {} file(s), {} bytes scanned{}; skipped {} binary, {} too large, {} symlink(s){}; {} allowed{}; {} suppressed by baseline; {} error(s); {} ms",
        report.findings.len(),
        s.files,
        s.bytes,
        archives,
        s.skipped_binary,
        s.skipped_too_large,
        s.skipped_symlinks,
        rare,
        s.allowed,
        capped,
        s.suppressed_by_baseline,
        s.errors,
        s.elapsed_ms
    )
}

fn details(f: &Finding) -> Vec<String> {
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
        if g.other_commits > 0 || g.other_paths > 0 {
            d.push(format!(
                "also in {} other commit(s), {} other path(s)",
                g.other_commits, g.other_paths
            ));
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
    fn controls_and_bidi_are_escaped() {
        assert_eq!(escape_control("src/a.rs"), "src/a.rs");
        assert_eq!(escape_control("a\nb\rc\x1b[2Jd"), "a\\nb\\rc\\x1b[2Jd");
        assert_eq!(escape_control("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(escape_control("caf\u{e9} \u{85}"), "caf\u{e9} \\x85");
    }
}
