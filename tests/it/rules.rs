//! The built-in rules pass their own lint: ids unique, regexes compile with a `secret` group,
//! every example matches and carries a keyword, no negative example matches.

use crate::common;

#[test]
fn builtin_rules_pass_lint() {
    let rules = leakgate::rules::builtin();
    assert!(
        rules.len() > 40,
        "expected many built-in rules, got {}",
        rules.len()
    );
    let errors = leakgate::rules::lint_builtin(&rules);
    let listed: Vec<String> = errors
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "rule lint failed:\n{}",
        listed.join("\n")
    );
}

/// Every built-in rule names its provider; the rule files cover hundreds of them, and a
/// provider's rules all live in one file (so adding one is one file).
#[test]
fn builtin_rules_cover_hundreds_of_providers_one_file_each() {
    let mut files_of: std::collections::BTreeMap<String, std::collections::BTreeSet<&str>> =
        Default::default();
    for (file, text) in leakgate::rules::BUILTIN_RULE_FILES {
        for rule in leakgate::rules::parse(file, text).unwrap() {
            let provider = rule
                .provider
                .clone()
                .expect("every built-in rule has a provider");
            files_of.entry(provider).or_default().insert(file);
        }
    }
    assert!(files_of.len() >= 300, "{} providers", files_of.len());
    let split: Vec<_> = files_of.iter().filter(|(_, f)| f.len() > 1).collect();
    assert!(
        split.is_empty(),
        "providers spread over several files: {split:?}"
    );
}

#[test]
fn genesys_rule_ids_are_prefixed_and_present() {
    let rules = leakgate::rules::builtin();
    let genesys: Vec<_> = rules
        .iter()
        .filter(|r| r.id.starts_with("genesys-"))
        .collect();
    assert!(genesys.len() >= 3);
    assert!(rules.iter().any(|r| r.id == "genesys-client-secret"));
}

#[test]
fn lint_catches_broken_rules() {
    let text = r#"
[[rules]]
id = "dup"
name = "a"
severity = "high"
keywords = ["tok_"]
regex = '''tok_(?P<secret>[a-z0-9]{12})'''
examples = ["tok_abc"]
negative_examples = ["tok_abcdefghijkl"]

[[rules]]
id = "dup"
name = "b"
severity = "low"
keywords = ["zzz"]
regex = '''zzz[0-9]+'''
examples = ["zzz1"]
negative_examples = ["x"]
"#;
    let rules = leakgate::rules::parse("inline", text).unwrap();
    let errors: Vec<String> = leakgate::rules::lint(&rules)
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let all = errors.join("\n");
    assert!(all.contains("duplicate rule id"), "{all}");
    assert!(all.contains("example 1 does not match"), "{all}");
    assert!(all.contains("negative example 1 matches"), "{all}");
    assert!(all.contains("no named group `secret`"), "{all}");
}

#[test]
fn rules_check_command_reports_problems_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[rules]]\nid = \"x\"\nname = \"x\"\nseverity = \"low\"\nkeywords = [\"k\"]\nregex = 'k(?P<secret>[0-9]+)'\nexamples = [\"k\"]\nnegative_examples = [\"q\"]\n",
    )
    .unwrap();
    let out = common::leakgate()
        .args(["rules", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("x: example 1 does not match"));
    let ok = common::leakgate()
        .args(["rules", "check"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
}

#[test]
fn rules_list_names_every_rule() {
    let out = common::leakgate()
        .args(["rules", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), leakgate::rules::builtin().len());
    assert!(ids.contains(&"genesys-client-secret"));
}

/// A rule for `rules check` tests: `acme_` and 32 letters or digits, built at run time; its
/// example matches unless `broken`.
fn acme_rule(id: &str, broken: bool) -> String {
    let value: String = (0..32)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 11 + 7) % 36]))
        .collect();
    let example = if broken {
        "acme_x".to_string()
    } else {
        format!("acme_{value}")
    };
    format!(
        "[[rules]]\nid = \"{id}\"\nname = \"ACME\"\nseverity = \"high\"\nkeywords = [\"acme_\"]\n\
         regex = '''acme_(?P<secret>[a-z0-9]{{32}})'''\nexamples = [\"{example}\"]\n\
         negative_examples = [\"acme_short\"]\n"
    )
}

/// `rules check .leakgate.toml` lints the configuration's own rules, with the same linter as
/// rule files, and each problem names the file and the rule.
#[test]
fn rules_check_lints_the_rules_of_a_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".leakgate.toml");
    let head = "[allow]\npaths = [\"tests/**\"]\n\n[scan]\nmax_findings_per_file = 10\n\n";
    std::fs::write(&config, format!("{head}{}", acme_rule("acme-token", false))).unwrap();
    let run = |file: &std::path::Path| {
        let out = common::leakgate()
            .args(["rules", "check"])
            .arg(file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = run(&config);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 rule(s) checked, 0 problem(s)"), "{text}");

    // A broken example in a configuration under another name: found by its other keys.
    let other = dir.path().join("team.toml");
    let body = format!(
        "{head}{}\n{}",
        acme_rule("acme-token", false),
        acme_rule("acme-broken", true)
    );
    std::fs::write(&other, body).unwrap();
    let (code, text) = run(&other);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("team.toml: acme-broken: example 1 does not match"),
        "{text}"
    );
    assert!(!text.contains("acme-token:"), "{text}");
    assert!(text.contains("2 rule(s) checked, 1 problem(s)"), "{text}");

    // A rule out of the limits a configuration enforces: an error naming file, rule and field.
    let limits = dir.path().join("limits.toml");
    let short = acme_rule("acme-short", false).replace("[\"acme_\"]", "[\"ac\"]");
    std::fs::write(&limits, format!("{head}{short}")).unwrap();
    let (code, text) = run(&limits);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("limits.toml") && text.contains("rules[0] (acme-short).keywords[0]"),
        "{text}"
    );

    // The configuration's allowlists must compile as well, as a scan would need them.
    let allow = dir.path().join("allow.toml");
    let body = format!(
        "[allow]\nvalues = [\"(open\"]\n\n{}",
        acme_rule("acme-token", false)
    );
    std::fs::write(&allow, body).unwrap();
    let (code, text) = run(&allow);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("allow.toml") && text.contains("allow.values[0]"),
        "{text}"
    );
}

/// Anchors the matcher cannot prove every match holds are refused: with them the rule would
/// be tried only around literals its matches may lack. Proved anchors pass.
#[test]
fn lint_refuses_anchors_matches_may_lack() {
    let rule = |anchors: &str| {
        acme_rule("acme-token", false).replace(
            "keywords = [\"acme_\"]",
            &format!("keywords = [\"acme\"]\nanchors = [{anchors}]"),
        )
    };
    let problems = |text: &str| -> Vec<String> {
        let rules = leakgate::rules::parse("inline", text).unwrap();
        leakgate::rules::lint(&rules)
            .iter()
            .map(std::string::ToString::to_string)
            .collect()
    };
    let bad = problems(&rule("\"vault\""));
    assert!(
        bad.iter()
            .any(|e| e.contains("acme-token: anchors: not every match is proved")),
        "{bad:?}"
    );
    assert_eq!(problems(&rule("\"acme_\"")), Vec::<String>::new());
}
