//! `leakgate rules export --format github-custom-patterns`: every Genesys rule is exported or
//! named as not exportable; an exported pattern, read back through the `regex` crate, finds
//! exactly the secrets the rule's own regex finds in the rule's examples and negative examples
//! (so the rewrite for Hyperscan lost nothing), every positive example among them; and it uses
//! only constructs custom patterns accept.

use crate::common::run_in;
use regex::bytes::Regex;
use serde_json::Value;
use std::ops::Range;

const EXPORT: [&str; 4] = ["rules", "export", "--format", "github-custom-patterns"];

fn export_json(dir: &std::path::Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let args: Vec<&str> = EXPORT
        .iter()
        .chain(["--json"].iter())
        .chain(extra)
        .copied()
        .collect();
    let out = run_in(dir, &args);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code().unwrap(),
        doc.as_array().expect("a list").clone(),
    )
}

fn genesys_rules() -> Vec<leakgate::rules::Rule> {
    leakgate::rules::builtin()
        .into_iter()
        .filter(|r| r.provider.as_deref() == Some("genesys"))
        .collect()
}

/// The secret spans `re` (with a `secret` group) finds in `text`, leaving out secrets `allowed`
/// says are not.
fn secrets(re: &Regex, text: &str, allowed: impl Fn(&[u8]) -> bool) -> Vec<Range<usize>> {
    re.captures_iter(text.as_bytes())
        .filter_map(|c| c.name("secret"))
        .filter(|m| !allowed(m.as_bytes()))
        .map(|m| m.range())
        .collect()
}

/// The exported pattern as one regex, and its must-not-match requirements. Custom patterns
/// match bytes; `(?-u)` makes the `regex` crate do the same.
fn read_back(p: &Value) -> (Regex, Vec<Regex>) {
    let field = |k: &str| p[k].as_str().unwrap_or_else(|| panic!("{k} in {p}"));
    let whole = format!(
        "(?-u)(?:{})(?P<secret>{})(?:{})",
        field("before_secret"),
        field("secret_format"),
        field("after_secret")
    );
    let not = p["must_not_match"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Regex::new(&format!("(?-u){}", m.as_str().unwrap())).unwrap())
        .collect();
    (Regex::new(&whole).unwrap(), not)
}

/// Constructs custom patterns refuse (option modifiers, named groups, Unicode and Perl
/// classes, multi-line anchors), looked for outside character classes.
fn hyperscan_problems(re: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let b = re.as_bytes();
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if b"dDsSwWpPQEK".contains(&next) {
                    problems.push(format!("\\{}", next as char));
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') && b.get(i + 2) != Some(&b':') => {
                problems.push("(? other than (?:".into());
            }
            b'^' if !in_class || b[i - 1] != b'[' => problems.push("^".into()),
            b'$' if !in_class => problems.push("$".into()),
            _ => {}
        }
        i += 1;
    }
    problems
}

#[test]
fn every_genesys_rule_is_exported_and_finds_what_the_rule_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc) = export_json(dir.path(), &[]);
    let rules = genesys_rules();
    assert!(rules.len() >= 4, "{}", rules.len());
    let ids: Vec<&str> = doc.iter().map(|p| p["rule_id"].as_str().unwrap()).collect();
    let want: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, want, "each Genesys rule once, in order");
    assert_eq!(code, 0, "all exportable today");

    for (rule, p) in rules.iter().zip(&doc) {
        assert_eq!(p["exportable"], true, "{p}");
        assert_eq!(p["name"].as_str(), Some(rule.name.as_str()));
        for k in ["before_secret", "secret_format", "after_secret"] {
            let re = p[k].as_str().unwrap();
            assert!(!re.is_empty(), "{}: {k} empty", rule.id);
            let problems = hyperscan_problems(re);
            assert!(problems.is_empty(), "{}: {k} {re}: {problems:?}", rule.id);
        }
        let (exported, not) = read_back(p);
        let excluded = |s: &[u8]| not.iter().any(|n| n.is_match(s));
        let original = Regex::new(&format!("(?-u){}", rule.regex)).unwrap();
        let allowed = |s: &[u8]| rule.allow_values.iter().any(|v| v.as_bytes() == s);
        for ex in &rule.examples {
            let t = ex.text();
            let got = secrets(&exported, t, excluded);
            assert!(!got.is_empty(), "{}: example not matched:\n{t}", rule.id);
            assert_eq!(got, secrets(&original, t, allowed), "{}:\n{t}", rule.id);
        }
        let mut negatives_matched = 0;
        for ex in &rule.negative_examples {
            let t = ex.text();
            let got = secrets(&exported, t, excluded);
            assert_eq!(got, secrets(&original, t, allowed), "{}:\n{t}", rule.id);
            negatives_matched += usize::from(!got.is_empty());
        }
        // A negative the pattern still matches is one leakgate rejects with a check the form
        // has no field for: those checks are listed.
        if negatives_matched > 0 {
            assert!(
                !p["not_enforced"].as_array().unwrap().is_empty(),
                "{}",
                rule.id
            );
        }
        // The published documentation examples are excluded by a requirement.
        for v in &rule.allow_values {
            assert!(excluded(v.as_bytes()), "{}: {v} not excluded", rule.id);
        }
        let tests = p["test_strings"].as_array().unwrap();
        assert!(!tests.is_empty(), "{}", rule.id);
        for t in tests {
            let t = t.as_str().unwrap();
            assert!(
                rule.examples.iter().any(|e| e.text() == t),
                "{}: a test string that is not one of the rule's examples",
                rule.id
            );
            assert!(!secrets(&exported, t, excluded).is_empty());
        }
    }
}

#[test]
fn text_form_names_every_field_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &EXPORT);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for rule in genesys_rules() {
        assert!(
            text.contains(&format!("{} ({})", rule.name, rule.id)),
            "{}",
            rule.id
        );
    }
    for field in [
        "Secret format:",
        "Before secret:",
        "After secret:",
        "Test string:",
    ] {
        assert_eq!(
            text.matches(field).count(),
            genesys_rules().len(),
            "{field}"
        );
    }
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("exported as GitHub custom patterns, 0 not exportable"),
        "{err}"
    );
}

#[test]
fn a_rule_without_a_split_is_named_not_exportable() {
    let dir = tempfile::tempdir().unwrap();
    // A configured Genesys rule whose secret sits inside an alternation.
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        r#"[[rules]]
id = "team-genesys-alt"
name = "Team Genesys token"
provider = "genesys"
severity = "high"
keywords = ["teamtok"]
regex = '''teamtok(?:=(?P<secret>[0-9a-f]{32})|:x)'''
examples = ["teamtok=0123456789abcdef0123456789abcdef"]
"#,
    )
    .unwrap();
    let (code, doc) = export_json(dir.path(), &[]);
    assert_eq!(code, 1, "a rule left out is a problem: exit 1");
    let alt = doc
        .iter()
        .find(|p| p["rule_id"] == "team-genesys-alt")
        .expect("listed");
    assert_eq!(alt["exportable"], false);
    assert!(
        alt["reason"].as_str().unwrap().contains("alternation"),
        "{alt}"
    );
    // The built-in rules are still all exported.
    assert_eq!(
        doc.iter().filter(|p| p["exportable"] == true).count(),
        genesys_rules().len()
    );
    let out = run_in(dir.path(), &EXPORT);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("team-genesys-alt: not exportable:"), "{text}");

    // A provider without rules is an error, not an empty export.
    let out = run_in(
        dir.path(),
        &[&EXPORT[..], &["--provider", "no-such"]].concat(),
    );
    assert_eq!(out.status.code(), Some(2));
}
