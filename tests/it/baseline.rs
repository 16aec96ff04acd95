//! Baselines: `leakgate baseline create` records known findings without their secrets, and
//! `--baseline FILE` suppresses them wherever they move, but never a new secret.

use crate::common;
use common::Repo;

use common::{findings, genesys_secret, git, run_in, scan_json, write_files};
use serde_json::Value;
use std::path::Path;

const BASELINE: &str = ".leakgate-baseline.json";

/// An `.env` file holding a Genesys credential pair.
fn env_file(seed: u64) -> String {
    format!("# service account\n{}", common::env_file(seed))
}

fn create_baseline(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["baseline", "create"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--output", BASELINE]);
    let out = run_in(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "baseline create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(dir.join(BASELINE)).unwrap()).unwrap()
}

fn suppressed(doc: &Value) -> u64 {
    doc["stats"]["suppressed_by_baseline"].as_u64().unwrap()
}

#[test]
fn baseline_lists_fingerprints_and_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = [genesys_secret(1), genesys_secret(5)];
    // Secret 1 in two files (one finding, two places), secret 5 in a third.
    write_files(
        dir.path(),
        &[
            ("app.env", &env_file(1)),
            ("config/b.env", &env_file(5)),
            ("config/copy.env", &env_file(1)),
        ],
    );
    let (code, scan) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let places: Vec<_> = findings(&scan).iter().map(|f| &f["places"]).collect();
    assert_eq!(places, [2, 1], "{scan:#}");
    let baseline = create_baseline(dir.path(), &[]);

    let text = std::fs::read_to_string(dir.path().join(BASELINE)).unwrap();
    for secret in &secrets {
        assert!(!text.contains(secret), "the baseline holds a secret");
    }
    assert_eq!(baseline["version"], 1);
    let entries = baseline["findings"].as_array().unwrap();
    assert_eq!(entries.len(), findings(&scan).len());
    for (entry, finding) in entries.iter().zip(findings(&scan)) {
        let mut keys: Vec<_> = entry.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["commit", "fingerprint", "line", "path", "rule_id"]);
        for key in ["fingerprint", "rule_id", "path", "line"] {
            assert_eq!(entry[key], finding[key], "{key}");
        }
        assert_eq!(entry["commit"], Value::Null);
    }
    let paths: Vec<_> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["app.env", "config/b.env"], "sorted by path");

    // Deterministic: a second run writes the same bytes.
    create_baseline(dir.path(), &[]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(BASELINE)).unwrap(),
        text
    );
}

#[test]
fn suppressed_after_lines_move_and_files_are_renamed() {
    let dir = Repo::new();
    write_files(dir.path(), &[("app.env", &env_file(2))]);
    create_baseline(dir.path(), &[]);

    let (code, doc) = scan_json(dir.path(), &["--baseline", BASELINE]);
    assert_eq!((code, findings(&doc).len(), suppressed(&doc)), (0, 0, 1));

    // Move the lines down and the file elsewhere, and copy the secret to a third place.
    std::fs::remove_file(dir.path().join("app.env")).unwrap();
    let moved = format!("\n\n# moved\nOTHER=1\n{}", env_file(2));
    write_files(
        dir.path(),
        &[
            ("deploy/prod/settings.env", &moved),
            ("scripts/copy.env", &env_file(2)),
        ],
    );
    // One secret at two places: one finding suppressed; each place on its own, both are.
    let (code, doc) = scan_json(dir.path(), &["--baseline", BASELINE]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
    assert_eq!(suppressed(&doc), 1);
    let (code, doc) = scan_json(dir.path(), &["--baseline", BASELINE, "--no-group"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
    assert_eq!(suppressed(&doc), 2);

    // Without the baseline both places are reported again.
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!((code, findings(&doc).len()), (1, 1));
    let f = &findings(&doc)[0];
    assert_eq!(f["path"], "deploy/prod/settings.env");
    assert_eq!(f["places"], 2);
    assert_eq!(f["occurrences"][0]["path"], "scripts/copy.env");

    // The text summary counts what the baseline suppressed.
    let out = run_in(dir.path(), &["scan", "--baseline", BASELINE, "--no-group"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 suppressed by baseline"), "{text}");
}

#[test]
fn a_new_secret_in_the_same_file_still_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &env_file(3))]);
    create_baseline(dir.path(), &[]);
    let before = std::fs::read_to_string(dir.path().join(BASELINE)).unwrap();

    let new_secret = genesys_secret(4);
    let both = format!(
        "{}GENESYS_CLOUD_CLIENT_SECRET_NEXT={new_secret}\n",
        env_file(3)
    );
    write_files(dir.path(), &[("app.env", &both)]);
    let (code, doc) = scan_json(dir.path(), &["--baseline", BASELINE]);
    assert_eq!(code, 1, "{doc:#}");
    let found = findings(&doc);
    assert_eq!(found.len(), 1, "{doc:#}");
    assert_eq!(found[0]["path"], "app.env");
    assert_eq!(found[0]["line"], 4);
    assert!(!before.contains(found[0]["fingerprint"].as_str().unwrap()));
    assert_eq!(suppressed(&doc), 1);

    // `--baseline OLD` on create keeps the old entries and adds the new finding.
    create_baseline(dir.path(), &["--baseline", BASELINE]);
    let (code, doc) = scan_json(dir.path(), &["--baseline", BASELINE]);
    assert_eq!((code, suppressed(&doc)), (0, 2));
    assert!(!std::fs::read_to_string(dir.path().join(BASELINE))
        .unwrap()
        .contains(&new_secret));
}

#[test]
fn a_broken_or_missing_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("clean.txt", "nothing here\n"),
            ("bad.json", "{\"version\": 1, \"findings\": 3}"),
            ("future.json", "{\"version\": 9, \"findings\": []}"),
        ],
    );
    for (file, expect) in [
        ("bad.json", "not valid"),
        ("future.json", "version 9"),
        ("absent.json", "absent.json"),
    ] {
        let out = run_in(dir.path(), &["scan", "--baseline", file]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{file}: {err}");
    }
}

/// History: the baseline records the introducing commit, and keeps matching after the history
/// is rewritten (new commit ids) and the file renamed in a later commit.
#[test]
fn history_baseline_survives_rewritten_history() {
    let dir = Repo::new();
    let first = dir.commit(&[("app.env", &env_file(5))], "add config");

    // The baseline file stays untracked: history scans read commits only.
    let baseline = create_baseline(dir.path(), &["--history"]);
    let entries = baseline["findings"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["commit"] == first.as_str()));

    git(
        dir.path(),
        &["commit", "-q", "--amend", "-m", "add config (reworded)"],
    );
    git(dir.path(), &["mv", "app.env", "renamed.env"]);
    git(dir.path(), &["commit", "-q", "-m", "rename"]);
    assert_ne!(git(dir.path(), &["rev-parse", "HEAD~1"]).trim(), first);

    let (code, doc) = scan_json(dir.path(), &["--history", "--baseline", BASELINE]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
    assert!(suppressed(&doc) >= 1);
}

#[test]
fn baseline_create_refuses_to_verify_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &env_file(5))]);
    for flag in [&["--verify"][..], &["--revoke", "--dry-run"]] {
        let mut args = vec!["baseline", "create", "--output", BASELINE];
        args.extend_from_slice(flag);
        let out = run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("without verifying them"), "{stderr}");
        assert!(!dir.path().join(BASELINE).exists(), "nothing is written");
    }
}
