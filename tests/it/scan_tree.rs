//! Working-tree scans end to end: output shapes (JSON, SARIF, text), exit codes, ignore files,
//! binary and oversized files, inline and configured allows, and inputs that are broken.

use crate::common;
use common::{genesys_env, Repo};

use common::{
    client_id, findings, genesys_secret, paths, run_in, scan_json, validate_sarif, write_files,
};
use serde_json::Value;
use std::path::Path;

#[test]
fn clean_tree_exits_zero_and_counts_files() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("src/lib.rs", "pub fn f() -> u8 { 1 }\n"),
            ("README", "hello\n"),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["version"], 3);
    assert!(findings(&doc).is_empty());
    assert_eq!(doc["stats"]["files"], 2);
    assert_eq!(doc["stats"]["bytes"], 29);
}

#[test]
fn json_finding_shape_and_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let secret = genesys_secret(1);
    write_files(dir.path(), &[("conf/app.env", &genesys_env(1))]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = &findings(&doc)[0];
    for key in [
        "rule_id",
        "rule_name",
        "severity",
        "confidence",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "secret",
        "fingerprint",
        "commit",
        "author",
        "email",
        "date",
        "pair",
    ] {
        assert!(f.get(key).is_some(), "missing {key} in {f:#}");
    }
    assert_eq!(f["path"], "conf/app.env");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(29))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(3), Some(72))
    );
    assert_eq!(f["commit"], Value::Null);
    assert_eq!(f["pair"]["provider"], "genesys");
    assert_eq!(f["pair"]["verify"], "genesys");
    assert_eq!(f["pair"]["host"], "mypurecloud.ie");
    assert_eq!(f["pair"]["id"], client_id(1));
    assert!(f["pair"].get("named").is_none(), "{f:#}");
    let shown = f["secret"].as_str().unwrap();
    assert!(
        !shown.contains(&secret[4..]),
        "secret must be redacted: {shown}"
    );
    assert_eq!(
        f["fingerprint"],
        leakgate::finding::Fingerprint::of(&"genesys-client-secret".parse().unwrap(), &secret)
            .as_str()
    );
    for key in ["files", "bytes", "skipped_binary", "errors", "elapsed_ms"] {
        assert!(doc["stats"].get(key).is_some(), "stats lacks {key}");
    }
    // Nowhere in the whole document is the secret.
    assert!(!doc.to_string().contains(&secret));

    let (_, shown) = scan_json(dir.path(), &["--no-redact"]);
    assert_eq!(findings(&shown)[0]["secret"], secret.as_str());
}

#[test]
fn fingerprint_survives_moving_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.env", &genesys_env(2))]);
    let (_, before) = scan_json(dir.path(), &[]);
    std::fs::remove_file(dir.path().join("a.env")).unwrap();
    write_files(
        dir.path(),
        &[("moved/b.env", &format!("# moved\n\n{}", genesys_env(2)))],
    );
    let (_, after) = scan_json(dir.path(), &[]);
    let (b, a) = (&findings(&before)[0], &findings(&after)[0]);
    assert_ne!(b["line"], a["line"]);
    assert_eq!(b["fingerprint"], a["fingerprint"]);
}

#[test]
fn output_is_sorted_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = (0..30)
        .map(|i| (format!("d{}/f{}.env", i % 7, i), genesys_env(i)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(dir.path(), &refs);
    let (_, one) = scan_json(dir.path(), &[]);
    let (_, two) = scan_json(dir.path(), &[]);
    assert_eq!(findings(&one), findings(&two));
    let paths: Vec<&str> = findings(&one)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 30);
}

#[test]
fn sarif_is_valid_and_fit_for_code_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let aws = format!("aws_access_key_id = AKIA{}\n", "QZ7R2T4XW6Y3V5NB");
    write_files(
        dir.path(),
        &[
            ("deploy/app.env", &genesys_env(3)),
            ("dir with space/x.env", &genesys_env(4)),
            ("aws.cfg", &aws),
        ],
    );
    let out = run_in(dir.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let mut rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    rule_ids.dedup();
    assert_eq!(rule_ids.len(), rules.len(), "one entry per rule");
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains("file:"),
            "relative uri: {uri}"
        );
        assert!(!uri.contains(' '), "encoded uri: {uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(r["partialFingerprints"]["leakgate/v1"].is_string());
    }
    assert!(results.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "dir%20with%20space/x.env"
    ));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&genesys_secret(3)));
}

#[test]
fn text_output_marks_the_line_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &genesys_env(5))]);
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("app.env:3:29: genesys-client-secret [critical, high confidence]"),
        "{text}"
    );
    assert!(text.contains("GENESYS_CLOUD_CLIENT_SECRET="), "{text}");
    assert!(text.contains("1 secret(s) in 1 file(s)"), "{text}");
    assert!(!text.contains(&genesys_secret(5)));
    assert!(!text.contains('\x1b'), "no colour off a terminal");
    let out = run_in(dir.path(), &["scan", "--color", "always"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn output_file_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &genesys_env(6))]);
    let report = dir.path().join("out.json");
    let out = run_in(
        dir.path(),
        &[
            "scan",
            "app.env",
            "--format",
            "json",
            "--output",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(findings(&doc).len(), 1);
    // A missing path is an error: exit 2 with a message.
    let out = run_in(dir.path(), &["scan", "no/such/path"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/path"));
    // Bad flags are errors too.
    let out = run_in(dir.path(), &["scan", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gitignore_is_honoured_unless_told_otherwise() {
    let dir = Repo::new();
    write_files(
        dir.path(),
        &[
            (".gitignore", "secrets/\n*.local\n"),
            ("secrets/app.env", &genesys_env(7)),
            ("x.local", &genesys_env(8)),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    let (code, doc) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 2);
    // Outside a repository, .gitignore still counts.
    let plain = tempfile::tempdir().unwrap();
    write_files(
        plain.path(),
        &[(".gitignore", "*.env\n"), ("a.env", &genesys_env(9))],
    );
    assert_eq!(scan_json(plain.path(), &[]).0, 0);
}

#[test]
fn binary_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    // Mostly control bytes: binary (a stray NUL in text is not; see tests/trust_fs.rs).
    let mut bin = [0u8, 1, 2, 3].repeat(16);
    bin.extend_from_slice(genesys_env(10).as_bytes());
    std::fs::write(dir.path().join("blob.bin"), bin).unwrap();
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["skipped_binary"], 1);
}

#[test]
fn oversized_files_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "big.env",
            &format!("{}{}", "#".repeat(5000), genesys_env(11)),
        )],
    );
    let out = run_in(
        dir.path(),
        &["scan", "--format", "json", "--max-file-size", "1K"],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["skipped_too_large"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("larger than 1024 bytes"), "{stderr}");
    // The remedy is worded by the binary, which knows the flag.
    assert!(stderr.contains("raise it with --max-file-size"), "{stderr}");
}

#[test]
fn invalid_utf8_and_huge_single_lines_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"\xff\xfe garbage \xc3\x28\n".to_vec();
    data.extend_from_slice(genesys_env(12).as_bytes());
    std::fs::write(dir.path().join("latin1.env"), data).unwrap();
    let huge = format!(
        "{}var g='purecloud';var c={{clientId:\"{}\",clientSecret:\"{}\"}};{}",
        "x=1;".repeat(1_000_000),
        client_id(13),
        genesys_secret(13),
        "y=2;".repeat(1_000_000)
    );
    std::fs::write(dir.path().join("bundle.min.js"), huge).unwrap();
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("latin1.env:4:"), "{text}");
    assert!(text.contains("bundle.min.js:1:4000"), "{text}");
    // The snippet of a 8 MB line is cut to a readable window.
    assert!(text.lines().all(|l| l.len() < 400), "long line in output");
}

#[cfg(unix)]
#[test]
fn symlinks_are_counted_and_broken_ones_reported_when_followed() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("real.env", &genesys_env(14))]);
    std::os::unix::fs::symlink(dir.path().join("real.env"), dir.path().join("link.env")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("broken")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    // One entry per place: a link scanned as well would be a second one.
    let (code, doc) = scan_json(dir.path(), &["--no-group"]);
    assert_eq!(code, 1);
    assert_eq!(
        paths(&doc),
        ["real.env"],
        "the target is scanned once, not via the link"
    );
    assert_eq!(doc["stats"]["skipped_symlinks"], 3);
    let (code, doc) = scan_json(dir.path(), &["--follow-links", "--no-group"]);
    assert_eq!(code, 1, "findings still win over errors");
    assert_eq!(paths(&doc), ["link.env", "real.env"]);
    let errors = doc["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["path"] == "broken"), "{errors:#?}");
    assert!(doc["stats"]["errors"].as_u64().unwrap() >= 1);
}

#[cfg(unix)]
#[test]
fn errors_without_findings_exit_two_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("ok.txt", "fine\n")]);
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("broken")).unwrap();
    let (code, doc) = scan_json(dir.path(), &["--follow-links"]);
    assert_eq!(code, 2);
    assert_eq!(doc["stats"]["files"], 1);
}

#[test]
fn inline_allow_silences_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "# genesys test fixture\nGENESYS_CLOUD_CLIENT_SECRET={} # leakgate:allow\n",
        genesys_secret(15)
    );
    write_files(dir.path(), &[("fixture.env", &text)]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["allowed"], 1);
}

#[test]
fn config_allows_paths_values_and_rules_and_adds_rules() {
    let dir = Repo::new();
    let allowed_value = genesys_secret(17);
    let config = format!(
        r#"
[allow]
paths = ["fixtures/**"]
values = ["^{allowed_value}$"]
rules = ["aws-access-key-id"]

[[rules]]
id = "acme-token"
name = "ACME token"
severity = "high"
keywords = ["acme_"]
regex = '''acme_(?P<secret>[a-z0-9]{{24}})'''
examples = ["acme_q8xz3vlprt7wm2kc9nf4hs6j"]
negative_examples = ["acme_short"]
"#
    );
    let acme = format!("token = acme_{}\n", "k3j9x7q2m5w8r4t6y1u0p2s4");
    write_files(
        dir.path(),
        &[
            (".leakgate.toml", &config),
            ("fixtures/app.env", &genesys_env(16)),
            (
                "sub/app.env",
                &format!("# genesys\nGENESYS_CLOUD_CLIENT_SECRET={allowed_value}\n"),
            ),
            (
                "aws.cfg",
                &format!("aws_access_key_id = AKIA{}\n", "QZ7R2T4XW6Y3V5NB"),
            ),
            ("acme.txt", &acme),
        ],
    );
    // Run from a subfolder: the configuration is found at the repository root.
    let (code, doc) = scan_json(&dir.path().join("sub"), &["."]);
    assert_eq!(code, 0, "{doc:#}");
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let ids: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["acme-token"], "{doc:#}");

    // A broken configuration is an error, not a silent default.
    write_files(dir.path(), &[(".leakgate.toml", "[allow]\npaths = 3\n")]);
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".leakgate.toml"));
}

#[test]
fn other_providers_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let gh = format!(
        "GITHUB_TOKEN={}\n",
        common::github_token("Zq8Xv3LpRt7Wm2Kc9Nf4Hs6Jd1Gb5Y")
    );
    let mut rng = fastrand::Rng::with_seed(19);
    let body: Vec<u8> = (0..300).map(|_| rng.u8(..)).collect();
    let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        lines.join("\n")
    );
    write_files(dir.path(), &[("gh.env", &gh), ("deploy_key", &key)]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let ids: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().any(|i| i.starts_with("github-")), "{ids:?}");
    assert!(ids.iter().any(|i| i.contains("private-key")), "{ids:?}");
}

#[test]
fn scanning_a_single_file_reports_its_path() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("one/app.env", &genesys_env(18))]);
    let (_, doc) = scan_json(dir.path(), &["one/app.env"]);
    assert_eq!(findings(&doc)[0]["path"], "app.env");
    let _ = Path::new(".");
}

#[test]
fn a_broken_user_rule_is_an_error_before_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[[rules]]\nid = \"broken\"\nname = \"b\"\nseverity = \"low\"\nkeywords = [\"tok\"]\nregex = '''tok(?P<secret>[a-z'''\n";
    write_files(
        dir.path(),
        &[(".leakgate.toml", config), ("a.txt", "tok abc\n")],
    );
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule broken") && err.contains("regex"),
        "{err}"
    );
}

#[test]
fn a_planted_decoy_never_fails_a_scan_even_without_verify() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = client_id(30);
    write_files(
        dir.path(),
        &[
            (
                ".leakgate.toml",
                &format!("[genesys]\ndecoy_client_ids = [\"{decoy}\"]\n"),
            ),
            ("honeypot.env", &genesys_env(30)),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    let f = &findings(&doc)[0];
    assert_eq!(f["verification"]["status"], "decoy");
    // A real credential beside it still fails the scan.
    write_files(dir.path(), &[("real.env", &genesys_env(31))]);
    assert_eq!(scan_json(dir.path(), &[]).0, 1);
}
