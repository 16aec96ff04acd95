//! Turning byte ranges into findings: line and column, and a readable snippet of the line with
//! every secret on it redacted.

use crate::finding::{display_path, redact, Confidence, Finding, Fingerprint, Pair, Snippet};
use crate::providers::Provider;
use crate::rules::Rule;

/// Characters of context kept on each side of a match in a snippet.
const SNIPPET_REACH: usize = 60;
/// Bytes of context read on each side: enough for [`SNIPPET_REACH`] characters of UTF-8.
const SNIPPET_BYTES: usize = SNIPPET_REACH * 4;

pub(super) struct Located<'r> {
    pub start: usize,
    pub end: usize,
    pub rule: &'r Rule,
    pub secret: String,
    pub fingerprint: Fingerprint,
    pub pair: Option<Pair>,
    /// The rule's provider, which may adjust the confidence given the pair.
    pub provider: Option<&'static dyn Provider>,
    /// A failed check lowered the finding to low confidence.
    pub lowered: bool,
}

/// What a snippet must hide: the union of every rule's matches in the blob (reported, allowed
/// or filtered alike), as disjoint ranges sorted by position.
pub(super) struct Hidden(Vec<(usize, usize)>);

impl Hidden {
    /// The union of `spans`, which are sorted by start.
    pub fn new(spans: impl Iterator<Item = (usize, usize)>) -> Self {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (s, e) in spans {
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        Hidden(out)
    }

    /// `data[lo..hi]` as text with every hidden range in it redacted: a range wholly inside
    /// shows its redacted form, a range cut by the window's edge shows only `*****`.
    fn text(&self, data: &[u8], lo: usize, hi: usize) -> String {
        let mut out = String::new();
        let mut at = lo;
        let first = self.0.partition_point(|&(_, e)| e <= lo);
        for &(s, e) in self.0[first..].iter().take_while(|&&(s, _)| s < hi) {
            if s > at {
                out.push_str(&display_path(&data[at..s]));
            }
            if s >= lo && e <= hi {
                out.push_str(&redact(&display_path(&data[s..e])));
            } else {
                out.push_str("*****");
            }
            at = e.min(hi);
        }
        if at < hi {
            out.push_str(&display_path(&data[at..hi]));
        }
        out
    }
}

/// Build findings from located matches sorted by `start`, counting lines once for all. Every
/// cost per match is bounded (snippets read at most [`SNIPPET_BYTES`] on each side), so a
/// one-line bundle with many matches is linear.
pub(super) fn to_findings<'r>(
    path: &str,
    data: &[u8],
    hidden: &Hidden,
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
        let lo = line_start.max(m.start.saturating_sub(SNIPPET_BYTES));
        let ceil = (m.end + SNIPPET_BYTES).min(data.len());
        let hi = memchr::memchr(b'\n', &data[m.end..ceil]).map_or(ceil, |i| m.end + i);
        let before = tail_chars(
            &hidden.text(data, lo, m.start),
            SNIPPET_REACH,
            lo > line_start,
        );
        let after = head_chars(
            &hidden.text(data, m.end, hi),
            SNIPPET_REACH,
            hi == ceil && ceil < data.len() && data[ceil] != b'\n',
        );
        out.push(Finding {
            rule_id: m.rule.id.clone(),
            rule_name: m.rule.name.clone(),
            severity: m.rule.severity,
            confidence: if m.lowered {
                Confidence::Low
            } else {
                m.provider
                    .map_or(m.rule.confidence, |p| p.confidence(m.rule, m.pair.as_ref()))
            },
            path: path.to_string(),
            line,
            column: m.start - line_start + 1,
            end_line,
            end_column: m.end - end_line_start + 1,
            snippet: Snippet::new(before, display_path(first_line(inner)), after),
            secret: m.secret,
            fingerprint: m.fingerprint,
            git: None,
            pair: m.pair,
            verification: None,
            revocation: None,
            occurrences: Vec::new(),
            archive: None,
        });
    }
    out
}

fn first_line(b: &[u8]) -> &[u8] {
    memchr::memchr(b'\n', b).map_or(b, |i| &b[..i])
}

/// Control characters become spaces: a snippet is one line.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn tail_chars(s: &str, n: usize, cut: bool) -> String {
    let count = s.chars().count();
    let kept: String = s.chars().skip(count.saturating_sub(n)).collect();
    clean(&if count > n || cut {
        format!("…{kept}")
    } else {
        kept
    })
}

fn head_chars(s: &str, n: usize, cut: bool) -> String {
    let count = s.chars().count();
    let kept: String = s.chars().take(n).collect();
    clean(&if count > n || cut {
        format!("{kept}…")
    } else {
        kept
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_ranges_are_redacted_in_context() {
        let data = b"a=0123456789abcdefXYZ b=zyxwvutsrqponmlkjih end";
        let hidden = Hidden::new([(2usize, 21usize), (24, 43)].into_iter());
        assert_eq!(
            hidden.text(data, 0, data.len()),
            "a=0123***** b=zyxw***** end"
        );
        // A range cut by the window shows no prefix.
        assert_eq!(hidden.text(data, 10, 30), "***** b=*****");
    }
}
