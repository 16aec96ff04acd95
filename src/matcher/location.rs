//! Turning byte ranges into findings: line and column, and a readable snippet of the line.

use super::effective_confidence;
use crate::finding::{Finding, GenesysPair, Snippet};
use crate::rules::Rule;

/// Characters of context kept on each side of a match in a snippet.
const SNIPPET_REACH: usize = 60;

pub(super) struct Located<'r> {
    pub start: usize,
    pub end: usize,
    pub rule: &'r Rule,
    pub secret: String,
    pub fingerprint: String,
    pub genesys: Option<GenesysPair>,
}

/// Build findings from located matches sorted by `start`, counting lines once for all.
pub(super) fn to_findings<'r>(
    path: &str,
    data: &[u8],
    matches: impl Iterator<Item = Located<'r>>,
) -> Vec<Finding> {
    let mut line = 1;
    let mut counted_to = 0;
    let mut line_start = 0;
    let mut out = Vec::new();
    for m in matches {
        // Matches arrive sorted, so lines are counted incrementally.
        let upto = m.start.max(counted_to);
        line += memchr::memchr_iter(b'\n', &data[counted_to..upto]).count();
        if let Some(i) = memchr::memrchr(b'\n', &data[counted_to..upto]) {
            line_start = counted_to + i + 1;
        }
        counted_to = upto;
        let inner = &data[m.start..m.end];
        let end_line = line + memchr::memchr_iter(b'\n', inner).count();
        let end_line_start = memchr::memrchr(b'\n', inner).map_or(line_start, |i| m.start + i + 1);
        let line_end = memchr::memchr(b'\n', &data[m.end..]).map_or(data.len(), |i| m.end + i);
        out.push(Finding {
            rule_id: m.rule.id.clone(),
            rule_name: m.rule.name.clone(),
            severity: m.rule.severity,
            confidence: effective_confidence(m.rule, m.genesys.as_ref()),
            path: path.to_string(),
            line,
            column: m.start - line_start + 1,
            end_line,
            end_column: m.end - end_line_start + 1,
            snippet: Snippet {
                before: tail_chars(&data[line_start..m.start], SNIPPET_REACH),
                matched: String::from_utf8_lossy(first_line(inner)).into_owned(),
                after: head_chars(&data[m.end..line_end], SNIPPET_REACH),
            },
            secret: m.secret,
            fingerprint: m.fingerprint,
            git: None,
            genesys: m.genesys,
            verification: None,
            revocation: None,
        });
    }
    out
}

fn first_line(b: &[u8]) -> &[u8] {
    memchr::memchr(b'\n', b).map_or(b, |i| &b[..i])
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn tail_chars(b: &[u8], n: usize) -> String {
    let s = String::from_utf8_lossy(&b[b.len().saturating_sub(n * 4)..]).into_owned();
    let count = s.chars().count();
    let kept: String = s.chars().skip(count.saturating_sub(n)).collect();
    clean(&if count > n {
        format!("…{kept}")
    } else {
        kept
    })
}

fn head_chars(b: &[u8], n: usize) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(n * 4)]).into_owned();
    let count = s.chars().count();
    let kept: String = s.chars().take(n).collect();
    clean(&if count > n {
        format!("{kept}…")
    } else {
        kept
    })
}
