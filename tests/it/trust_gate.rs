//! The gate cannot be turned off by the change it gates: in a range scan the configuration and
//! baseline in force are the base commit's, read from Git, and a change to them is a warning.

use crate::common;
use common::env_file;
use common::Repo;

use common::{client_id, findings, git, run_in, write_files};
use serde_json::Value;
use std::path::Path;

/// What one run produced.
struct Run {
    code: i32,
    doc: Value,
    stderr: String,
}

fn scan(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Run {
        code: out.status.code().unwrap_or(-1),
        doc,
        stderr,
    }
}

/// A repository whose `main` holds `base_files`, and a branch `feature` (checked out) that adds
/// a leaked pair in `leak_path` together with `pr_files`.
fn pr_repo(
    seed: u64,
    base_files: &[(&str, &str)],
    leak_path: &str,
    pr_files: &[(&str, &str)],
) -> Repo {
    let leak = env_file(seed);
    let mut files = vec![(leak_path, leak.as_str())];
    files.extend_from_slice(pr_files);
    let dir = Repo::new()
        .files(&[("README.md", "hello\n")])
        .files(base_files)
        .committed("base")
        .branch("feature");
    dir.commit(&files, "pull request");
    dir
}

fn secret_findings(doc: &Value) -> usize {
    common::secret_findings(doc).count()
}

#[test]
fn a_pull_request_that_weakens_the_config_still_fails() {
    let decoy = format!("[genesys]\ndecoy_client_ids = [\"{}\"]\n", client_id(1));
    let weakenings = [
        "[allow]\npaths = [\"**\"]\n".to_string(),
        "[scan]\nmax_file_size = 1\n".to_string(),
        decoy,
        "[allow]\nrules = [\"genesys-client-secret\", \"genesys-basic-credentials\", \"genesys-client-credentials-pair\", \"generic-secret-assignment\"]\n"
            .to_string(),
        "[allow]\nvalues = [\".*\"]\n".to_string(),
    ];
    for weak in &weakenings {
        let dir = pr_repo(1, &[], "app.env", &[(".leakgate.toml", weak)]);
        // The head's config would silence the finding: proof that it is not the one in force.
        let own = scan(
            dir.path(),
            &["--range", "main..feature", "--config-from", "worktree"],
        );
        assert_eq!(
            own.code, 0,
            "{weak}: the weakening works on its own: {}",
            own.stderr
        );

        for range in ["main..feature", "main...feature"] {
            let r = scan(dir.path(), &["--history", "--range", range]);
            assert_eq!(r.code, 1, "{weak} {range}: {}", r.stderr);
            assert!(secret_findings(&r.doc) >= 1, "{weak}: {}", r.doc);
            assert!(
                r.stderr.contains(".leakgate.toml differs")
                    && r.stderr
                        .contains("config changes inside the range are not in force"),
                "{weak}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn the_base_config_is_read_from_git_and_honoured() {
    // The base allows docs/**; a change inside docs/ passes, with no warning: the base's own
    // file (not the disk, not the defaults) is in force.
    let allow = "[allow]\npaths = [\"docs/**\"]\n";
    let dir = pr_repo(2, &[(".leakgate.toml", allow)], "docs/example.env", &[]);
    // The work tree's copy is made hostile to prove it is not read.
    write_files(
        dir.path(),
        &[(".leakgate.toml", "this is not toml = = =\n")],
    );
    let r = scan(dir.path(), &["--range", "main..feature"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("differs"), "{}", r.stderr);

    // The same leak outside docs/ fails.
    let dir = pr_repo(3, &[(".leakgate.toml", allow)], "app.env", &[]);
    let r = scan(dir.path(), &["--range", "main..feature"]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    // A pull request that deletes the base's decoy list cannot make its own pair a decoy, nor
    // can it remove the base's: the base's list is what counts.
    let decoy = format!("[genesys]\ndecoy_client_ids = [\"{}\"]\n", client_id(4));
    let dir = pr_repo(4, &[(".leakgate.toml", &decoy)], "app.env", &[]);
    git(dir.path(), &["rm", "-q", ".leakgate.toml"]);
    git(dir.path(), &["commit", "-q", "-m", "drop config"]);
    let r = scan(dir.path(), &["--range", "main..feature"]);
    assert_eq!(r.code, 0, "the base's decoy is a decoy: {}", r.stderr);
    let f = &findings(&r.doc)[0];
    assert_eq!(f["verification"]["status"], "decoy", "{}", r.doc);
    assert!(r.stderr.contains(".leakgate.toml differs"), "{}", r.stderr);
}

#[test]
fn an_explicit_config_and_baseline_inside_the_repo_are_read_at_the_base() {
    let dir = pr_repo(5, &[], "app.env", &[]);
    // The pull request adds a baseline of its own finding and a config allowing everything.
    let out = run_in(
        dir.path(),
        &["baseline", "create", "--output", ".leakgate-baseline.json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write_files(
        dir.path(),
        &[("ci/leakgate.toml", "[allow]\npaths = [\"**\"]\n")],
    );
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "-m", "baseline my own secret"],
    );

    // On disk they would silence it...
    let r = scan(
        dir.path(),
        &[
            "--range",
            "main..feature",
            "--config-from",
            "worktree",
            "--baseline",
            ".leakgate-baseline.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ...at the base they do not exist: nothing is suppressed, and both changes are named.
    let r = scan(
        dir.path(),
        &[
            "--range",
            "main..feature",
            "--config",
            "ci/leakgate.toml",
            "--baseline",
            ".leakgate-baseline.json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(secret_findings(&r.doc), 1, "{}", r.doc);
    assert!(
        r.stderr.contains(".leakgate-baseline.json differs")
            && r.stderr
                .contains("baseline changes inside the range are not in force"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("ci/leakgate.toml differs"),
        "{}",
        r.stderr
    );

    // An explicit trusted revision works the same way; one naming the head opts out.
    let r = scan(
        dir.path(),
        &[
            "--range",
            "main..feature",
            "--config-from",
            "main",
            "--baseline",
            ".leakgate-baseline.json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = scan(
        dir.path(),
        &[
            "--range",
            "main..feature",
            "--config-from",
            "feature",
            "--baseline",
            ".leakgate-baseline.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_symlinked_config_at_the_base_is_never_followed() {
    let dir = Repo::new();
    write_files(dir.path(), &[("README.md", "hello\n")]);
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join(".leakgate.toml")).unwrap();
    let dir = dir.committed("base").branch("feature");
    dir.commit(&[("app.env", &env_file(6))], "leak");
    let out = common::leakgate()
        .current_dir(dir.path())
        .env("LEAKGATE_CANARY", "canary-value-in-the-environment")
        .args(["scan", "--range", "main..feature"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!err.contains("canary-value"), "{err}");
}

#[test]
fn a_bad_config_from_revision_is_an_error() {
    let dir = pr_repo(7, &[], "app.env", &[]);
    let out = run_in(
        dir.path(),
        &["scan", "--range", "main..feature", "--config-from", "nope"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--config-from nope"), "{err}");
}
