//! Inline allow markers: leakgate's own and those of the scanners people migrate from, so a
//! repository already annotated for gitleaks, trufflehog, ggshield or detect-secrets needs no
//! second set of comments.
//!
//! Markers are looked for only on the lines of a match, each line at most once per blob: a
//! blob without matches is never searched for them.

use memchr::memmem::Finder;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Markers that silence the line they are on, wherever on it they are: `leakgate:allow`,
/// `gitleaks:allow`, `trufflehog:ignore` (trufflehog) and `ggignore` (ggshield).
pub const LINE_MARKERS: &[&[u8]] = &[
    super::INLINE_ALLOW,
    b"gitleaks:allow",
    b"trufflehog:ignore",
    b"ggignore",
];

/// detect-secrets' markers start with this; [`pragma`] reads the rest.
const PRAGMA: &[u8] = b"pragma:";

static FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| LINE_MARKERS.iter().map(Finder::new).collect());
static PRAGMA_FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(PRAGMA));

/// What one line's markers allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Marks {
    /// The line itself.
    this: bool,
    /// The line after it (detect-secrets' `pragma: allowlist nextline secret`).
    next: bool,
}

/// The lines of one blob whose markers were read: by where each starts, where it ends (its
/// newline, or the blob's end) and its marks. Each line is found and read once, however many
/// matches it holds (a minified file is one long line of them), so the cost stays linear in the
/// blob.
#[derive(Default)]
pub(super) struct MarkedLines {
    lines: RefCell<BTreeMap<usize, (usize, Marks)>>,
}

impl MarkedLines {
    /// True when a line that `start..end` touches holds a marker, or the line before the first
    /// of them holds detect-secrets' `nextline` marker.
    pub(super) fn allows(&self, data: &[u8], start: usize, end: usize) -> bool {
        let (first, _, _) = self.line_at(data, start.min(data.len()));
        let mut lo = first;
        while lo <= end {
            let (_, hi, marks) = self.line_at(data, lo);
            if marks.this {
                return true;
            }
            if hi >= data.len() {
                break;
            }
            lo = hi + 1;
        }
        first > 0 && self.line_at(data, first - 1).2.next
    }

    /// The line holding byte `at`: its start, its end and its marks.
    fn line_at(&self, data: &[u8], at: usize) -> (usize, usize, Marks) {
        let known = self
            .lines
            .borrow()
            .range(..=at)
            .next_back()
            .filter(|&(_, &(hi, _))| at <= hi)
            .map(|(&lo, &(hi, marks))| (lo, hi, marks));
        known.unwrap_or_else(|| {
            let lo = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
            let hi = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
            let marks = read_line(&data[lo..hi]);
            self.lines.borrow_mut().insert(lo, (hi, marks));
            (lo, hi, marks)
        })
    }
}

/// The marks one line holds.
fn read_line(line: &[u8]) -> Marks {
    let mut marks = Marks {
        this: FINDERS.iter().any(|f| f.find(line).is_some()),
        next: false,
    };
    for at in PRAGMA_FINDER.find_iter(line) {
        match pragma(&line[at + PRAGMA.len()..]) {
            Some(Pragma::ThisLine) => marks.this = true,
            // As in detect-secrets, the `nextline` marker counts only on a line that is
            // nothing but the comment holding it: after code, it would be easy to misread.
            Some(Pragma::NextLine) if only_comment_before(&line[..at]) => marks.next = true,
            _ => {}
        }
    }
    marks
}

enum Pragma {
    ThisLine,
    NextLine,
}

/// The detect-secrets marker after `pragma:`: ` allowlist secret` (one optional space; a space
/// or hyphen between the words; the older `whitelist` too), or ` allowlist nextline secret`.
fn pragma(rest: &[u8]) -> Option<Pragma> {
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let (rest, old_word) = if let Some(r) = rest.strip_prefix(b"allowlist") {
        (r, false)
    } else {
        (rest.strip_prefix(b"whitelist")?, true)
    };
    let rest = separator(rest)?;
    if rest.starts_with(b"secret") {
        return Some(Pragma::ThisLine);
    }
    let rest = separator(rest.strip_prefix(b"nextline")?)?;
    (!old_word && rest.starts_with(b"secret")).then_some(Pragma::NextLine)
}

fn separator(rest: &[u8]) -> Option<&[u8]> {
    rest.strip_prefix(b" ").or_else(|| rest.strip_prefix(b"-"))
}

/// True when `before` is blanks and a comment opener (`#`, `//`, `/*`, `--`, `'`, `<!--`, `;`).
fn only_comment_before(before: &[u8]) -> bool {
    let opener = before.trim_ascii();
    !opener.is_empty() && opener.len() <= 4 && opener.iter().all(u8::is_ascii_punctuation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(text: &str, secret: &str) -> bool {
        let start = text.find(secret).unwrap();
        MarkedLines::default().allows(text.as_bytes(), start, start + secret.len())
    }

    #[test]
    fn every_line_marker_allows_its_own_line_only() {
        for marker in LINE_MARKERS {
            let m = std::str::from_utf8(marker).unwrap();
            assert!(allows(&format!("a\nk = VALUE # {m}\nb\n"), "VALUE"), "{m}");
            assert!(!allows(&format!("# {m}\nk = VALUE\n"), "VALUE"), "{m}");
            assert!(!allows(&format!("k = VALUE\n# {m}\n"), "VALUE"), "{m}");
        }
    }

    #[test]
    fn detect_secrets_spellings() {
        for marker in [
            "pragma: allowlist secret",
            "pragma:allowlist secret",
            "pragma: allowlist-secret",
            "pragma: whitelist secret",
        ] {
            assert!(
                allows(&format!("k = VALUE  # {marker}\n"), "VALUE"),
                "{marker}"
            );
        }
        for not in [
            "pragma: allowlist",
            "pragma:  allowlist secret",
            "pragma allowlist secret",
        ] {
            assert!(!allows(&format!("k = VALUE  # {not}\n"), "VALUE"), "{not}");
        }
    }

    #[test]
    fn nextline_allows_only_the_next_line_and_only_alone_in_a_comment() {
        let marker = "pragma: allowlist nextline secret";
        for opener in ["#", "//", "  --", "/*", "<!--"] {
            let text = format!("{opener} {marker}\nk = VALUE\nj = OTHER\n");
            assert!(allows(&text, "VALUE"), "{opener}");
            assert!(!allows(&text, "OTHER"), "{opener}");
        }
        // Not its own line, not the line two below, not after code.
        assert!(!allows(&format!("k = VALUE # {marker}\n"), "VALUE"));
        assert!(!allows(&format!("# {marker}\n\nk = VALUE\n"), "VALUE"));
        assert!(!allows(&format!("x = 1 # {marker}\nk = VALUE\n"), "VALUE"));
        assert!(!allows(
            "# pragma: whitelist nextline secret\nk = VALUE\n",
            "VALUE"
        ));
    }

    #[test]
    fn a_match_over_several_lines_is_allowed_by_a_marker_on_any_of_them() {
        let text = "a\nBEGIN\nmiddle # ggignore\nEND\nz\n";
        let start = text.find("BEGIN").unwrap();
        let end = text.find("END\n").unwrap() + 3;
        assert!(MarkedLines::default().allows(text.as_bytes(), start, end));
        let clean = "a\nBEGIN\nmiddle\nEND\nz # ggignore\n";
        let end = clean.find("END\n").unwrap() + 3;
        assert!(!MarkedLines::default().allows(clean.as_bytes(), start, end));
    }

    /// A rule whose secret may hold any marker's characters, to put markers inside a token.
    fn matcher() -> crate::matcher::Matcher {
        let rules = crate::rules::parse(
            "inline",
            "[[rules]]\nid = \"demo-token\"\nname = \"Demo\"\nseverity = \"high\"\n\
             keywords = [\"tok=\"]\nregex = 'tok=(?P<secret>[^\\s\"]{20,90})'\n",
        )
        .unwrap();
        crate::matcher::Matcher::for_rules(rules).unwrap()
    }

    /// A token-shaped value built at run time.
    fn token(seed: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..24)
            .map(|i| ALPHABET[(i * 17 + seed * 31 + 5) % ALPHABET.len()] as char)
            .collect()
    }

    /// Each marker silences a real match on its line: counted as allowed, not dropped and not
    /// reported; the same match on the line below is reported.
    #[test]
    fn the_scan_counts_what_each_marker_allows() {
        let m = matcher();
        let markers: Vec<String> = LINE_MARKERS
            .iter()
            .map(|m| String::from_utf8(m.to_vec()).unwrap())
            .chain(["pragma: allowlist secret".to_string()])
            .collect();
        for marker in &markers {
            let text = format!("tok={} # {marker}\ntok={}\n", token(1), token(2));
            let s = m.scan_blob("a.env", text.as_bytes());
            assert_eq!(s.allowed, 1, "{marker}");
            assert_eq!(s.findings.len(), 1, "{marker}");
            assert_eq!(s.findings[0].line, 2, "{marker}");
        }
        let text = format!(
            "# pragma: allowlist nextline secret\ntok={}\ntok={}\n",
            token(1),
            token(2)
        );
        let s = m.scan_blob("a.env", text.as_bytes());
        assert_eq!((s.allowed, s.findings.len()), (1, 1));
        assert_eq!(s.findings[0].line, 3);
    }

    /// A marker inside the token itself is treated as `leakgate:allow` is there: the line holds
    /// it, so the line is allowed.
    #[test]
    fn a_marker_inside_the_token_acts_as_leakgate_allow_does() {
        let m = matcher();
        let outcome = |marker: &str| {
            let text = format!("tok={}{marker}{}\n", token(3), token(4));
            let s = m.scan_blob("a.env", text.as_bytes());
            (s.allowed, s.findings.len())
        };
        assert_eq!(outcome(""), (0, 1), "without a marker the token is found");
        let ours = outcome("leakgate:allow");
        for marker in LINE_MARKERS {
            assert_eq!(outcome(std::str::from_utf8(marker).unwrap()), ours);
        }
        assert_eq!(outcome("pragma:allowlist-secret"), ours);
    }

    /// A minified file: one long line of many matches ending in a marker. Every match is
    /// allowed, and the line is read once, not once per match (which would take minutes here).
    #[test]
    fn one_long_line_of_matches_is_read_once() {
        let m = matcher();
        let n = 20_000;
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("tok={} ", token(i % 7)));
        }
        text.push_str("// ggignore\n");
        let started = std::time::Instant::now();
        let s = m.scan_blob("app.min.js", text.as_bytes());
        assert_eq!((s.allowed, s.findings.len()), (n as u64, 0));
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }
}
