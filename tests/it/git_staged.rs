//! `leakgate scan --staged`: what the next commit would add, and nothing already committed.

use crate::common;
use common::secret_findings;
use common::{env_file, Repo};

use common::{genesys_secret, git, run_in, scan_json, write_files};
use serde_json::Value;
use std::path::Path;

fn staged(dir: &Path) -> (i32, Value) {
    scan_json(dir, &["--staged"])
}

/// Secret findings as (path, line).
fn secrets(doc: &Value) -> Vec<(String, u64)> {
    secret_findings(doc)
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn committed(files: &[(&str, &str)]) -> Repo {
    Repo::new().files(files).committed("base")
}

#[test]
fn initial_commit_is_scanned_and_the_block_message_says_what_to_do() {
    let dir = Repo::new();
    write_files(
        dir.path(),
        &[("deploy/config.env", &env_file(1)), ("README.md", "hi\n")],
    );
    git(dir.path(), &["add", "-A"]);

    let (code, doc) = staged(dir.path());
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc), vec![("deploy/config.env".into(), 2)]);
    assert!(doc["stats"]["commits"] == 0);

    let out = run_in(dir.path(), &["scan", "--staged"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("deploy/config.env:2:"), "{text}");
    assert!(text.contains("genesys-client-secret"), "{text}");
    assert!(!text.contains(&genesys_secret(1)), "redacted: {text}");
    assert!(
        err.contains("leakgate:allow") && err.contains(".leakgate.toml"),
        "{err}"
    );
    // --quiet keeps stderr for errors only.
    let out = run_in(dir.path(), &["scan", "--staged", "--quiet"]);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn only_staged_content_counts_not_the_working_tree() {
    let dir = committed(&[("README.md", "hi\n")]);
    write_files(dir.path(), &[("config.env", &env_file(2))]);
    assert_eq!(staged(dir.path()).0, 0, "untracked file is not staged");
    git(dir.path(), &["add", "config.env"]);
    assert_eq!(staged(dir.path()).0, 1);
    // Fixing the file without staging the fix does not unblock the commit.
    write_files(dir.path(), &[("config.env", "clean\n")]);
    assert_eq!(staged(dir.path()).0, 1);
    git(dir.path(), &["add", "config.env"]);
    assert_eq!(staged(dir.path()).0, 0);
}

#[test]
fn modification_reports_the_new_secret_not_the_committed_one() {
    let dir = committed(&[("app/config.env", &env_file(3)), ("app/other.txt", "x\n")]);
    assert_eq!(staged(dir.path()).0, 0, "nothing staged");

    // Touch the file without adding a secret: the committed secret is not reported again.
    let touched = format!("# comment\n{}", env_file(3));
    write_files(dir.path(), &[("app/config.env", &touched)]);
    git(dir.path(), &["add", "-A"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 0, "{doc}");
    assert!(doc["warnings"].to_string().contains("already committed"));

    // Add a second credential: only it is reported.
    let grown = format!("{touched}{}", env_file(4));
    write_files(dir.path(), &[("app/config.env", &grown)]);
    git(dir.path(), &["add", "-A"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc), vec![("app/config.env".into(), 5)]);
}

#[test]
fn deletion_and_rename_add_nothing() {
    let dir = committed(&[("a/b/config.env", &env_file(5)), ("keep.txt", "k\n")]);
    std::fs::create_dir(dir.path().join("c")).unwrap();
    git(dir.path(), &["mv", "a/b/config.env", "c/settings.env"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 0, "a rename adds no secret: {doc}");

    // A rename with an edit still adds nothing new.
    let edited = format!("{}# moved\n", env_file(5));
    write_files(dir.path(), &[("c/settings.env", &edited)]);
    git(dir.path(), &["add", "-A"]);
    assert_eq!(staged(dir.path()).0, 0);

    git(dir.path(), &["rm", "-q", "-f", "c/settings.env"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 0, "{doc}");
}

#[test]
fn copying_a_committed_secret_into_a_new_file_is_reported() {
    let dir = committed(&[("config.env", &env_file(6))]);
    write_files(dir.path(), &[("copy/config.env", &env_file(6))]);
    git(dir.path(), &["add", "-A"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc), vec![("copy/config.env".into(), 2)]);
}

#[test]
fn deep_trees_with_many_unchanged_directories() {
    let mut files = Vec::new();
    for d in 0..20 {
        for f in 0..5 {
            files.push((
                format!("src/m{d}/sub/f{f}.txt"),
                format!("content {d} {f}\n"),
            ));
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = committed(&refs);
    write_files(
        dir.path(),
        &[
            ("src/m7/sub/new.env", &env_file(7)),
            ("src/m3/sub/f1.txt", "edit\n"),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc), vec![("src/m7/sub/new.env".into(), 2)]);
    assert_eq!(
        doc["stats"]["files"], 2,
        "only the two changed files are read"
    );
}

#[test]
fn staged_scan_from_a_subdirectory_and_outside_a_repository() {
    let dir = committed(&[("sub/readme.txt", "hi\n")]);
    write_files(dir.path(), &[("config.env", &env_file(8))]);
    git(dir.path(), &["add", "-A"]);
    assert_eq!(staged(&dir.path().join("sub")).0, 1);

    let plain = tempfile::tempdir().unwrap();
    let out = run_in(plain.path(), &["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Git repository"));
}

#[test]
fn intent_to_add_placeholders_are_not_scanned() {
    let dir = committed(&[("README.md", "hi\n")]);
    write_files(dir.path(), &[("later.env", &env_file(9))]);
    git(dir.path(), &["add", "-N", "later.env"]);
    let (code, doc) = staged(dir.path());
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["stats"]["errors"], 0);
}
