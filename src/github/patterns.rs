//! leakgate rules as GitHub secret-scanning custom patterns: what the custom-pattern form takes
//! (secret format, before-secret and after-secret expressions, additional "must not match"
//! requirements, test strings), so GitHub's secret scanning and push protection recognise the
//! same secrets.
//!
//! GitHub compiles custom patterns with Hyperscan and accepts only its constructs, without
//! option modifiers. A rule's regex is parsed the way leakgate's matcher compiles it (byte-wise,
//! ASCII classes) and printed again from the parsed form, so nothing is copied as written:
//! - the rule's top-level `secret` group splits it into before / secret / after;
//! - capturing and named groups become non-capturing groups `(?:...)`;
//! - case-insensitive groups and flags (`(?i:basic)`) become case classes (`[Bb][Aa]...`);
//! - `\d`, `\s`, `\w`, `.` and every class become explicit byte classes (`[0-9]`,
//!   `[\x09-\x0d\x20]`...), and a class of more than half the bytes is written negated;
//! - `^` and `$` (leakgate matches without multi-line mode) become `\A` and `\z`, `\b` and
//!   `\B` stay (ASCII word boundaries in both);
//! - lazy repetitions become plain ones (Hyperscan reports every match: greediness has no
//!   meaning there);
//! - bytes other than letters and digits are written `\xHH`.
//!
//! A rule that needs Unicode classes, or whose `secret` group is not a top-level part of its
//! regex (inside an alternation or a repetition), cannot be split into the form's three parts
//! and is reported as not exportable, with the reason. What GitHub's form has no field for
//! (keywords, context words, entropy, randomness, pairing with a client id, decoding, words
//! before the secret) is listed per pattern as not enforced: GitHub alerts on more than
//! leakgate reports, and `leakgate serve` applies those checks before it acts.

use crate::rules::Rule;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use serde::Serialize;

/// The "before secret" for a rule with nothing before its secret: anything, or the start.
const ANYTHING_BEFORE: &str = r"\A|.|\n";
/// The "after secret" for a rule with nothing after its secret: anything, or the end.
const ANYTHING_AFTER: &str = r"\z|.|\n";
/// Longest example offered as a test string (GitHub's test-string box is for a sample, not a
/// file).
const MAX_TEST_STRING: usize = 1000;

/// One rule as GitHub's custom-pattern form takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomPattern {
    /// The leakgate rule it comes from.
    pub rule_id: String,
    /// The pattern's name in GitHub (the alert's `secret_type_display_name`).
    pub name: String,
    /// "Secret format".
    pub secret_format: String,
    /// "Before secret".
    pub before_secret: String,
    /// "After secret".
    pub after_secret: String,
    /// "Additional match requirements": expressions the secret must not match (the rule's
    /// published example values, anchored).
    pub must_not_match: Vec<String>,
    /// Samples for the form's test box: the rule's own examples (from `rules/`), each holding
    /// a match.
    pub test_strings: Vec<String>,
    /// The constructs rewritten for Hyperscan (see the module documentation).
    pub rewrites: Vec<String>,
    /// leakgate checks the form cannot express; GitHub alerts without them.
    pub not_enforced: Vec<String>,
}

/// A rule that has no custom-pattern form, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotExportable {
    pub rule_id: String,
    pub reason: String,
}

/// The export of one rule.
pub type Export = Result<CustomPattern, NotExportable>;

/// Export each rule, in order.
pub fn export(rules: &[Rule]) -> Vec<Export> {
    rules.iter().map(export_rule).collect()
}

/// One rule as a custom pattern, or why it cannot be one.
pub fn export_rule(rule: &Rule) -> Export {
    let refuse = |reason: &str| NotExportable {
        rule_id: rule.id.to_string(),
        reason: reason.to_string(),
    };
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&rule.regex)
        .map_err(|_| {
            refuse("its regex needs Unicode matching (Unicode classes or non-ASCII text), which custom patterns do not offer")
        })?;
    let parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(parts) => parts.iter().collect(),
        _ => vec![&hir],
    };
    let at = parts
        .iter()
        .position(|h| is_secret_group(h))
        .ok_or_else(|| {
            refuse("its `secret` group is not a top-level part of the regex (inside an alternation or repetition), so it has no before / secret / after split")
        })?;
    if parts[at + 1..].iter().any(|h| contains_secret(h))
        || parts[..at].iter().any(|h| contains_secret(h))
    {
        return Err(refuse("its regex has more than one `secret` group"));
    }
    let HirKind::Capture(secret) = parts[at].kind() else {
        unreachable!("is_secret_group checked the kind")
    };
    let mut w = Writer {
        in_secret: true,
        ..Writer::default()
    };
    let secret_format = w.seq(&[&*secret.sub]);
    w.in_secret = false;
    let before = w.seq(&parts[..at]);
    let after = w.seq(&parts[at + 1..]);
    if let Some(why) = w.unsupported {
        return Err(refuse(&why));
    }
    let mut rewrites = w.rewrites(&rule.regex);
    if before.is_empty() || after.is_empty() {
        rewrites.push("nothing before or after the secret: the context allows anything".into());
    }
    let test_strings = rule
        .examples
        .iter()
        .map(crate::rules::Example::text)
        .filter(|t| t.len() <= MAX_TEST_STRING)
        .map(str::to_string)
        .collect();
    Ok(CustomPattern {
        rule_id: rule.id.to_string(),
        name: rule.name.clone(),
        secret_format,
        before_secret: if before.is_empty() {
            ANYTHING_BEFORE.to_string()
        } else {
            before
        },
        after_secret: if after.is_empty() {
            ANYTHING_AFTER.to_string()
        } else {
            after
        },
        must_not_match: rule
            .allow_values
            .iter()
            .map(|v| format!(r"\A{}\z", literal(v.as_bytes())))
            .collect(),
        test_strings,
        rewrites,
        not_enforced: not_enforced(rule),
    })
}

/// What the rule checks beyond its regex, in words.
fn not_enforced(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    if !rule.keywords.is_empty() {
        out.push(format!(
            "one of the keywords in the file: {}",
            rule.keywords.join(", ")
        ));
    }
    if let Some(c) = &rule.context {
        out.push(format!(
            "one of these words within {} lines: {}",
            c.lines,
            c.keywords.join(", ")
        ));
    }
    if let Some(e) = rule.min_entropy {
        out.push(format!("entropy of at least {e} bits per character"));
    }
    if rule.random {
        out.push("the secret looks machine-generated, not like words".to_string());
    }
    if !rule.not_after.is_empty() {
        out.push(format!(
            "none of these words just before the secret: {}",
            rule.not_after.join(", ")
        ));
    }
    if rule.require_pair {
        out.push("a client id assigned nearby".to_string());
    }
    if rule.decode.is_some() {
        out.push("the value decodes to a client id and secret".to_string());
    }
    if rule.check.is_some() {
        out.push("the value's checksum or encoding".to_string());
    }
    if !rule.paths.is_empty() {
        out.push(format!("only in files matching {}", rule.paths.join(", ")));
    }
    out
}

fn is_secret_group(h: &Hir) -> bool {
    matches!(h.kind(), HirKind::Capture(c) if c.name.as_deref() == Some("secret"))
}

fn contains_secret(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Capture(c) => c.name.as_deref() == Some("secret") || contains_secret(&c.sub),
        HirKind::Repetition(r) => contains_secret(&r.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().any(contains_secret),
        _ => false,
    }
}

/// Prints parsed regexes in the syntax Hyperscan accepts, noting what it rewrote.
#[derive(Default)]
struct Writer {
    lazy: bool,
    lines: bool,
    /// Printing the secret itself, where nothing may consume a byte it does not match.
    in_secret: bool,
    /// The first construct with no exact Hyperscan form, in words.
    unsupported: Option<String>,
}

impl Writer {
    /// The rewrites that apply to `regex` as written, in words.
    fn rewrites(&self, regex: &str) -> Vec<String> {
        let mut out = Vec::new();
        if regex.contains("(?P<") || regex.contains("(?<") {
            out.push("named groups written as non-capturing groups".to_string());
        }
        if regex.contains("(?i") {
            out.push("case-insensitive groups written as case classes".to_string());
        }
        if ["\\d", "\\s", "\\w", "\\D", "\\S", "\\W"]
            .iter()
            .any(|c| regex.contains(c))
        {
            out.push("\\d, \\s and \\w written as ASCII classes".to_string());
        }
        if self.lines {
            out.push("^ and $ written as \\A and \\z".to_string());
        }
        if self.lazy {
            out.push("lazy repetitions written as plain ones".to_string());
        }
        out
    }

    /// A sequence of parts; an alternation among several is grouped.
    fn seq(&mut self, parts: &[&Hir]) -> String {
        parts
            .iter()
            .map(|h| {
                let s = self.hir(h);
                if parts.len() > 1 && matches!(h.kind(), HirKind::Alternation(_)) {
                    format!("(?:{s})")
                } else {
                    s
                }
            })
            .collect()
    }

    fn refuse(&mut self, why: &str) -> String {
        self.unsupported.get_or_insert_with(|| why.to_string());
        String::new()
    }

    fn hir(&mut self, h: &Hir) -> String {
        match h.kind() {
            HirKind::Empty => String::new(),
            HirKind::Literal(lit) => literal(&lit.0),
            HirKind::Class(Class::Bytes(c)) => {
                let ranges: Vec<(u8, u8)> =
                    c.ranges().iter().map(|r| (r.start(), r.end())).collect();
                class(&ranges)
            }
            HirKind::Class(Class::Unicode(c)) => match c.to_byte_class() {
                Some(b) => {
                    let ranges: Vec<(u8, u8)> =
                        b.ranges().iter().map(|r| (r.start(), r.end())).collect();
                    class(&ranges)
                }
                None => self.refuse("its regex has a non-ASCII class"),
            },
            HirKind::Look(look) => match look {
                Look::Start => {
                    self.lines = true;
                    r"\A".to_string()
                }
                Look::End => {
                    self.lines = true;
                    r"\z".to_string()
                }
                Look::WordAscii | Look::WordUnicode => r"\b".to_string(),
                Look::WordAsciiNegate | Look::WordUnicodeNegate => r"\B".to_string(),
                // Multi-line anchors: outside the secret, the line break itself is context.
                Look::StartLF | Look::StartCRLF if !self.in_secret => {
                    self.lines = true;
                    r"(?:\A|\n)".to_string()
                }
                Look::EndLF | Look::EndCRLF if !self.in_secret => {
                    self.lines = true;
                    r"(?:\z|\r?\n)".to_string()
                }
                _ => self.refuse("its regex has an assertion custom patterns cannot express"),
            },
            HirKind::Repetition(r) => {
                if !r.greedy {
                    self.lazy = true;
                }
                let sub = self.hir(&r.sub);
                let sub = if needs_group(&r.sub) {
                    format!("(?:{sub})")
                } else {
                    sub
                };
                let op = match (r.min, r.max) {
                    (0, None) => "*".to_string(),
                    (1, None) => "+".to_string(),
                    (0, Some(1)) => "?".to_string(),
                    (m, None) => format!("{{{m},}}"),
                    (m, Some(n)) if m == n => format!("{{{m}}}"),
                    (m, Some(n)) => format!("{{{m},{n}}}"),
                };
                sub + &op
            }
            HirKind::Capture(c) => format!("(?:{})", self.hir(&c.sub)),
            HirKind::Concat(hs) => self.seq(&hs.iter().collect::<Vec<_>>()),
            HirKind::Alternation(hs) => {
                hs.iter().map(|h| self.hir(h)).collect::<Vec<_>>().join("|")
            }
        }
    }
}

/// True when `h` printed needs a group to take a repetition operator.
fn needs_group(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Literal(l) => l.0.len() != 1,
        HirKind::Class(_) | HirKind::Capture(_) => false,
        _ => true,
    }
}

/// One byte in a pattern: letters, digits and `_` as they are, everything else `\xHH`.
fn byte(b: u8) -> String {
    if b.is_ascii_alphanumeric() || b == b'_' {
        (b as char).to_string()
    } else {
        format!("\\x{b:02x}")
    }
}

fn literal(bytes: &[u8]) -> String {
    bytes.iter().map(|b| byte(*b)).collect()
}

/// A byte class, written negated when it holds more than half of the bytes.
fn class(ranges: &[(u8, u8)]) -> String {
    let size: usize = ranges
        .iter()
        .map(|(a, b)| usize::from(*b) - usize::from(*a) + 1)
        .sum();
    if size == 1 {
        return byte(ranges[0].0);
    }
    let write = |rs: &[(u8, u8)]| -> String {
        rs.iter()
            .map(|(a, b)| match b - a {
                0 => byte(*a),
                1 => format!("{}{}", byte(*a), byte(*b)),
                _ => format!("{}-{}", byte(*a), byte(*b)),
            })
            .collect()
    };
    if size > 128 {
        format!("[^{}]", write(&complement(ranges)))
    } else {
        format!("[{}]", write(ranges))
    }
}

/// The bytes not in `ranges` (sorted, non-overlapping), as ranges.
fn complement(ranges: &[(u8, u8)]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut next: u16 = 0;
    for (a, b) in ranges {
        if u16::from(*a) > next {
            out.push((next as u8, a - 1));
        }
        next = u16::from(*b) + 1;
    }
    if next <= 0xff {
        out.push((next as u8, 0xff));
    }
    out
}

/// The text form: one block per rule.
pub fn text(exports: &[Export]) -> String {
    let mut out = String::new();
    for e in exports {
        match e {
            Ok(p) => {
                out.push_str(&format!("{} ({})\n", p.name, p.rule_id));
                out.push_str(&format!("  Secret format:   {}\n", p.secret_format));
                out.push_str(&format!("  Before secret:   {}\n", p.before_secret));
                out.push_str(&format!("  After secret:    {}\n", p.after_secret));
                for m in &p.must_not_match {
                    out.push_str(&format!("  Must not match:  {m}\n"));
                }
                if let Some(t) = p.test_strings.first() {
                    out.push_str("  Test string:\n");
                    for line in t.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
                for r in &p.rewrites {
                    out.push_str(&format!("  Rewritten:       {r}\n"));
                }
                for n in &p.not_enforced {
                    out.push_str(&format!("  Not enforced:    {n}\n"));
                }
            }
            Err(n) => out.push_str(&format!("{}: not exportable: {}\n", n.rule_id, n.reason)),
        }
        out.push('\n');
    }
    out
}

/// The JSON form: one object per rule, `exportable` saying which of the two shapes it is.
pub fn json(exports: &[Export]) -> serde_json::Value {
    serde_json::Value::Array(
        exports
            .iter()
            .map(|e| {
                let (v, ok) = match e {
                    Ok(p) => (serde_json::to_value(p), true),
                    Err(n) => (serde_json::to_value(n), false),
                };
                let mut v = v.unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("exportable".into(), ok.into());
                }
                v
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(regex: &str) -> Rule {
        let toml = format!(
            "[[rules]]\nid = \"t-rule\"\nname = \"T\"\nseverity = \"high\"\nkeywords = [\"k\"]\nregex = '''{regex}'''\n"
        );
        crate::rules::parse("test", &toml).unwrap().remove(0)
    }

    #[test]
    fn splits_and_rewrites() {
        let p = export_rule(&rule(
            r"(?i:key)\s*[=:]\s*(?P<secret>[a-z]{3}\d+?)(?:$|[^A-Za-z])",
        ))
        .unwrap();
        assert_eq!(
            p.before_secret,
            r"[Kk][Ee][Yy][\x09-\x0d\x20]*[\x3a\x3d][\x09-\x0d\x20]*"
        );
        assert_eq!(p.secret_format, "[a-z]{3}[0-9]+");
        assert_eq!(p.after_secret, r"\z|[^A-Za-z]");
        assert_eq!(p.not_enforced, vec!["one of the keywords in the file: k"]);
        assert!(p.rewrites.iter().any(|r| r.contains("lazy")));
        assert!(p.rewrites.iter().any(|r| r.contains("\\A and \\z")));
    }

    #[test]
    fn refuses_what_has_no_split() {
        for re in [
            r"(?:a(?P<secret>b)|c)",
            r"(?P<secret>x)+",
            r"\p{Greek}(?P<secret>x)",
            r"nothing",
        ] {
            let e = export_rule(&rule(re)).unwrap_err();
            assert_eq!(e.rule_id, "t-rule", "{re}");
            assert!(!e.reason.is_empty());
        }
        // Nothing around the secret: anything may be.
        let p = export_rule(&rule("(?P<secret>tok_[0-9]{8})")).unwrap();
        assert_eq!(
            (p.before_secret.as_str(), p.after_secret.as_str()),
            (ANYTHING_BEFORE, ANYTHING_AFTER)
        );
    }

    #[test]
    fn classes_are_written_compactly() {
        assert_eq!(class(&[(b'a', b'a')]), "a");
        assert_eq!(class(&[(b'0', b'9'), (b'_', b'_')]), "[0-9_]");
        assert_eq!(class(&[(0, b'/'), (b':', 0xff)]), "[^0-9]");
        assert_eq!(complement(&[(0, 0xff)]), vec![]);
    }
}
