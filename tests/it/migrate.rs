//! Coming from other scanners: their inline allow markers are honoured, and `leakgate baseline
//! import` turns a gitleaks report or a detect-secrets baseline into a leakgate baseline that
//! suppresses exactly the findings it could recover, listing the rest.

use crate::common;
use common::{findings, genesys_secret, run_in, scan_json, write_files};
use serde_json::{json, Value};
use std::path::Path;

/// The line holding the Genesys secret of [`common::env_file`] (line 2).
const SECRET_LINE: usize = 2;

/// The secret of `seed` as [`common::env_file`] writes it, with its line's text.
fn secret_line(seed: u64) -> String {
    format!("GENESYS_CLOUD_CLIENT_SECRET={}", genesys_secret(seed))
}

/// Run `baseline import` in `dir`; (exit code, stderr, the baseline written to `base.json`).
fn import(dir: &Path, file: &str, extra: &[&str]) -> (Option<i32>, String, Option<Value>) {
    let mut args = vec!["baseline", "import", file, "-o", "base.json"];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    let written = std::fs::read(dir.join("base.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        written,
    )
}

/// Every text the import produced, to check that no secret is in any.
fn assert_no_secret(texts: &[&str], seeds: &[u64]) {
    for seed in seeds {
        let s = genesys_secret(*seed);
        for t in texts {
            assert!(!t.contains(&s), "a secret was shown: {t}");
        }
    }
}

/// The paths a scan with `base.json` still reports, and how many it suppressed.
fn scan_with_baseline(dir: &Path) -> (Vec<String>, u64) {
    let (_, doc) = scan_json(dir, &["--baseline", "base.json"]);
    let mut paths: Vec<String> = findings(&doc)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    (
        paths,
        doc["stats"]["suppressed_by_baseline"].as_u64().unwrap(),
    )
}

/// A gitleaks finding as `gitleaks detect --report-format json` writes it.
fn gitleaks(file: &str, line: usize, secret: &str, matched: &str, commit: &str) -> Value {
    json!({
        "RuleID": "generic-api-key",
        "Description": "Detected a Generic API Key",
        "StartLine": line, "EndLine": line, "StartColumn": 1, "EndColumn": 70,
        "Match": matched, "Secret": secret, "File": file, "SymlinkFile": "",
        "Commit": commit, "Entropy": 4.9, "Author": "", "Email": "", "Date": "",
        "Message": "", "Tags": [],
        "Fingerprint": format!("{commit}:{file}:generic-api-key:{line}"),
    })
}

#[test]
fn a_gitleaks_report_is_imported_and_suppresses_exactly_what_was_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let unfound: String = genesys_secret(9).chars().take(20).collect();
    write_files(
        dir.path(),
        &[
            ("a.env", &common::env_file(1)),
            ("config/b.env", &common::env_file(2)),
            ("c.env", &common::env_file(3)),
            ("d.env", &common::env_file(4)),
            ("notes.txt", &format!("build ref {unfound}\n")),
        ],
    );
    let s = |seed| genesys_secret(seed);
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let report = json!([
        gitleaks("a.env", SECRET_LINE, &s(1), &secret_line(1), ""),
        // An absolute path under the root is recorded relative to it.
        gitleaks(
            &dir.path().join("config/b.env").display().to_string(),
            SECRET_LINE,
            &s(2),
            &secret_line(2),
            ""
        ),
        // `--redact`, and `--redact=50`: the secret is not in the report.
        gitleaks(
            "c.env",
            SECRET_LINE,
            "REDACTED",
            "GENESYS_CLOUD_CLIENT_SECRET=REDACTED",
            ""
        ),
        gitleaks("d.env", SECRET_LINE, &format!("{}...", &s(4)[..21]), "", ""),
        // Found by gitleaks, by no leakgate rule.
        gitleaks("notes.txt", 1, &unfound, &format!("ref {unfound}"), ""),
        // Only in history: gone from the disk, recovered from the text gitleaks reported.
        gitleaks("old/e.env", 7, &s(5), &secret_line(5), commit),
    ]);
    std::fs::write(dir.path().join("gitleaks.json"), report.to_string()).unwrap();

    let (code, err, written) = import(dir.path(), "gitleaks.json", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("gitleaks report"), "{err}");
    assert!(err.contains("imported 3, not recoverable 3"), "{err}");
    for (place, why) in [
        ("c.env:2 (generic-api-key)", "redacted"),
        ("d.env:2 (generic-api-key)", "redacted"),
        (
            "notes.txt:1 (generic-api-key)",
            "not a leakgate finding; nothing to suppress",
        ),
    ] {
        assert!(
            err.lines().any(|l| l.contains(place) && l.contains(why)),
            "{place}: {err}"
        );
    }
    let written = written.expect("baseline written");
    let text = written.to_string();
    assert_no_secret(&[&err, &text], &[1, 2, 3, 4, 5]);
    assert!(!err.contains(&unfound) && !text.contains(&unfound));
    let entries = written["findings"].as_array().unwrap();
    let places: Vec<(&str, u64, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap(),
                e["line"].as_u64().unwrap(),
                e["rule_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("a.env", 2, "genesys-client-secret"),
            ("config/b.env", 2, "genesys-client-secret"),
            ("old/e.env", 7, "genesys-client-secret"),
        ]
    );
    assert_eq!(entries[2]["commit"], commit);

    // The report holds the secrets themselves: gone once imported, as the README advises.
    std::fs::remove_file(dir.path().join("gitleaks.json")).unwrap();
    // The imported baseline suppresses the two secrets still on disk, and nothing else.
    let (left, suppressed) = scan_with_baseline(dir.path());
    assert_eq!(left, ["c.env", "d.env"]);
    assert_eq!(suppressed, 2);
}

#[test]
fn a_detect_secrets_baseline_is_imported_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("a.env", &common::env_file(11)),
            // Lines added above it since the baseline was made: found by its hash.
            (
                "nested/b.env",
                &format!("# one\n# two\n{}", common::env_file(12)),
            ),
            ("c.env", &common::env_file(13)),
        ],
    );
    let sha1 = |s: &str| sha1dc::digest(s.as_bytes()).unwrap().to_string();
    let result = |file: &str, hash: &str, line: usize| {
        json!({"type": "Secret Keyword", "filename": file, "hashed_secret": hash,
               "is_verified": false, "line_number": line})
    };
    let doc = json!({
        "version": "1.5.0",
        "plugins_used": [{"name": "KeywordDetector"}],
        "filters_used": [],
        "results": {
            "a.env": [result("a.env", &sha1(&genesys_secret(11)), SECRET_LINE)],
            "nested/b.env": [result("nested/b.env", &sha1(&genesys_secret(12)), SECRET_LINE)],
            // A hash of something else on c.env's line: leakgate's secret there differs.
            "c.env": [result("c.env", &sha1("not the secret"), SECRET_LINE)],
            "gone.env": [result("gone.env", &sha1(&genesys_secret(14)), 1)],
        },
        "generated_at": "2026-01-01T00:00:00Z"
    });
    write_files(dir.path(), &[(".secrets.baseline", &doc.to_string())]);

    let (code, err, written) = import(dir.path(), ".secrets.baseline", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("detect-secrets baseline"), "{err}");
    assert!(err.contains("imported 2, not recoverable 2"), "{err}");
    assert!(
        err.lines().any(|l| l.contains("c.env:2 (Secret Keyword)")
            && l.contains("not a leakgate finding")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("gone.env:1 (Secret Keyword)")
                && l.contains("cannot be read: not found")),
        "{err}"
    );
    let written = written.expect("baseline written");
    assert_no_secret(&[&err, &written.to_string()], &[11, 12, 13, 14]);
    let paths: Vec<&str> = written["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.env", "nested/b.env"]);

    let (left, suppressed) = scan_with_baseline(dir.path());
    assert_eq!(left, ["c.env"]);
    assert_eq!(suppressed, 2);
}

/// Paths are read relative to `--root` when the report lives elsewhere.
#[test]
fn paths_are_relative_to_the_root_given() {
    let repo = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    write_files(repo.path(), &[("a.env", &common::env_file(21))]);
    let report = json!([gitleaks("a.env", SECRET_LINE, &genesys_secret(21), "", "")]);
    let file = reports.path().join("gitleaks.json");
    std::fs::write(&file, report.to_string()).unwrap();
    let file = file.display().to_string();
    // By default the report's folder is the root: the file is not there, and the report holds
    // no text to recover from.
    let (code, err, _) = import(repo.path(), &file, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("imported 0, not recoverable 1"), "{err}");
    assert!(
        err.contains("a.env:2 (generic-api-key): the file cannot be read: not found"),
        "{err}"
    );
    let root = repo.path().display().to_string();
    let (code, err, _) = import(repo.path(), &file, &["--root", &root]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("imported 1, not recoverable 0"), "{err}");
    let (left, suppressed) = scan_with_baseline(repo.path());
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(suppressed, 1);
}

/// A file in neither format is an error (exit 2) that says what was expected and quotes
/// nothing of the file.
#[test]
fn a_file_in_neither_format_is_an_error_that_quotes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let planted = genesys_secret(31);
    for (name, text) in [
        ("object.json", format!("{{\"token\": \"{planted}\"}}")),
        ("array.json", format!("[\"{planted}\"]")),
        ("text.txt", format!("token {planted}\n")),
    ] {
        write_files(dir.path(), &[(name, &text)]);
        let (code, err, written) = import(dir.path(), name, &[]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(
            err.contains("neither a gitleaks JSON report") && err.contains(name),
            "{name}: {err}"
        );
        assert!(!err.contains(&planted), "{name}: {err}");
        assert!(written.is_none(), "{name}: a baseline was written");
    }
}

/// Each marker of the tools people migrate from silences its line in a real scan, counted as
/// allowed; the same secret on an unmarked line is reported.
#[test]
fn other_tools_inline_markers_are_honoured_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let markers = [
        "# gitleaks:allow",
        "# trufflehog:ignore",
        "# ggignore",
        "# pragma: allowlist secret",
    ];
    for (i, marker) in markers.iter().enumerate() {
        let seed = 40 + i as u64;
        write_files(
            dir.path(),
            &[(
                &format!("m{i}.env"),
                &format!("{} {marker}\n", secret_line(seed)),
            )],
        );
    }
    write_files(
        dir.path(),
        &[
            (
                "next.env",
                &format!("# pragma: allowlist nextline secret\n{}\n", secret_line(50)),
            ),
            // The nextline marker reaches one line only.
            (
                "far.env",
                &format!(
                    "# pragma: allowlist nextline secret\n\n{}\n",
                    secret_line(51)
                ),
            ),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    let paths: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["far.env"], "{doc:#}");
    assert_eq!(doc["stats"]["allowed"], 5, "{doc:#}");
}
