//! `leakgate scan --history` and `--range` on repositories built at test time with the git CLI.

use crate::common;
use common::secret_findings;
use common::{commit, env_file, Repo};

use common::{findings, git, scan_json, write_files};
use serde_json::Value;
use std::path::Path;

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

fn history(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--history"];
    args.extend_from_slice(extra);
    scan_json(dir, &args)
}

/// Findings of the Genesys secret rule as (path, commit, unreachable).
fn secrets(doc: &Value) -> Vec<(String, String, bool)> {
    secret_findings(doc)
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["commit"].as_str().unwrap_or_default().to_string(),
                f["unreachable"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// A repository with one harmless commit on `main`.
fn repo() -> Repo {
    Repo::initial()
}

#[test]
fn secret_added_then_deleted_is_found_in_the_commit_that_added_it() {
    let dir = repo();
    let added = commit(dir.path(), &[("config.env", &env_file(1))], "add config");
    std::fs::remove_file(dir.path().join("config.env")).unwrap();
    commit(dir.path(), &[], "remove config");

    // The working tree is clean; history is not.
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc}");
    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        secrets(&doc),
        vec![("config.env".into(), added.clone(), false)]
    );
    let f = &findings(&doc)[0];
    assert_eq!(f["author"], "Test Author");
    assert_eq!(f["email"], "author@example.com");
    let date = f["date"].as_str().unwrap();
    assert!(
        date.len() >= 20 && date.as_bytes()[10] == b'T',
        "RFC 3339 date: {date}"
    );
    assert_eq!(doc["stats"]["commits"], 3);
}

#[test]
fn side_branches_and_tags_are_scanned() {
    let dir = repo();
    git(dir.path(), &["checkout", "-q", "-b", "side"]);
    let on_side = commit(dir.path(), &[("side.env", &env_file(2))], "side");
    git(dir.path(), &["checkout", "-q", "main"]);
    git(dir.path(), &["checkout", "-q", "-b", "tmp"]);
    let tagged = commit(dir.path(), &[("tagged.env", &env_file(3))], "tagged");
    git(dir.path(), &["tag", "-a", "-m", "release", "v1"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    git(dir.path(), &["branch", "-q", "-D", "tmp"]);

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        secrets(&doc),
        vec![
            ("side.env".into(), on_side, false),
            ("tagged.env".into(), tagged, false)
        ]
    );
}

#[test]
fn merged_secrets_belong_to_the_branch_commit_and_evil_merges_to_the_merge() {
    let dir = repo();
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    let feature = commit(dir.path(), &[("feature.env", &env_file(4))], "feature");
    git(dir.path(), &["checkout", "-q", "main"]);
    commit(dir.path(), &[("other.txt", "main moves on\n")], "main");
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "--no-commit", "feature"],
    );
    write_files(dir.path(), &[("merge.env", &env_file(5))]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "merge with a twist"]);
    let merge = head(dir.path());

    let (_, doc) = history(dir.path(), &[]);
    assert_eq!(
        secrets(&doc),
        vec![
            ("feature.env".into(), feature.clone(), false),
            ("merge.env".into(), merge.clone(), false)
        ]
    );
    // A range over the merge reports only what the merge itself added, not the branch again.
    let (_, doc) = history(dir.path(), &["--range", &format!("{feature}..main")]);
    assert_eq!(secrets(&doc), vec![("merge.env".into(), merge, false)]);
}

#[test]
fn renamed_and_repeated_secrets_are_reported_once_for_the_first_commit() {
    let dir = repo();
    let first = commit(dir.path(), &[("config.env", &env_file(6))], "add");
    for i in 0..4 {
        commit(
            dir.path(),
            &[("notes.txt", &format!("change {i}\n"))],
            "work",
        );
    }
    git(dir.path(), &["mv", "config.env", "settings.env"]);
    git(dir.path(), &["commit", "-q", "-m", "rename"]);
    commit(dir.path(), &[("copy.env", &env_file(6))], "copy");

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc), vec![("config.env".into(), first, false)]);
    let f = &findings(&doc)[0];
    // Commits 2..=8 still carry it (4 edits, rename, copy); it lives under three paths.
    assert_eq!(f["other_commits"], 6, "{f}");
    assert_eq!(f["other_paths"], 2, "{f}");
    // README, the secret file (one blob under three paths), four notes: each scanned once.
    assert_eq!(doc["stats"]["files"], 6, "each unique blob scanned once");
}

#[test]
fn amended_away_secret_needs_all_objects_and_is_marked_unreachable() {
    let dir = repo();
    let leaked = commit(
        dir.path(),
        &[("config.env", &env_file(7)), ("app.txt", "feature\n")],
        "oops",
    );
    std::fs::remove_file(dir.path().join("config.env")).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--amend", "-m", "clean"]);

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 0, "{doc}");
    let (code, doc) = history(dir.path(), &["--all-objects"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc), vec![("config.env".into(), leaked, true)]);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("unreachable"), "{warnings}");

    let out = common::run_in(dir.path(), &["scan", "--history", "--all-objects"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(unreachable)"), "{text}");
}

#[test]
fn packed_bare_shared_and_worktree_repositories_give_the_same_findings() {
    let dir = repo();
    let added = commit(dir.path(), &[("a/b/config.env", &env_file(8))], "add");
    commit(dir.path(), &[("a/b/config.env", "cleared\n")], "clear");
    let expected = vec![("a/b/config.env".to_string(), added, false)];
    assert_eq!(
        secrets(&history(dir.path(), &[]).1),
        expected,
        "loose objects"
    );

    git(dir.path(), &["gc", "-q"]);
    assert_eq!(secrets(&history(dir.path(), &[]).1), expected, "packed");

    let parent = tempfile::tempdir().unwrap();
    let src = dir.path().to_str().unwrap();
    git(parent.path(), &["clone", "-q", "--bare", src, "bare.git"]);
    let (_, doc) = history(&parent.path().join("bare.git"), &[]);
    assert_eq!(secrets(&doc), expected, "bare");

    git(parent.path(), &["clone", "-q", "--shared", src, "shared"]);
    let (_, doc) = history(&parent.path().join("shared"), &[]);
    assert_eq!(secrets(&doc), expected, "objects through alternates");

    let wt = parent.path().join("wt");
    git(
        dir.path(),
        &["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "wt"],
    );
    let (_, doc) = history(&wt, &[]);
    assert_eq!(secrets(&doc), expected, "linked worktree");
}

#[test]
fn shallow_clone_is_scanned_as_far_as_it_goes_with_a_warning() {
    let dir = repo();
    commit(dir.path(), &[("old.env", &env_file(9))], "old");
    commit(dir.path(), &[("old.env", "gone\n")], "remove");
    let recent = commit(dir.path(), &[("new.env", &env_file(10))], "new");
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );

    let (code, doc) = history(&parent.path().join("shallow"), &[]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc), vec![("new.env".into(), recent, false)]);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("shallow"), "{warnings}");
}

#[test]
fn range_reports_only_what_the_feature_branch_introduced() {
    let dir = repo();
    commit(
        dir.path(),
        &[("old.env", &env_file(11))],
        "old secret on main",
    );
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    commit(dir.path(), &[("notes.txt", "work\n")], "work");
    let added = commit(dir.path(), &[("pr.env", &env_file(12))], "leak");
    commit(dir.path(), &[("pr.env", "fixed\n")], "fix");

    let (code, doc) = history(dir.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc), vec![("pr.env".into(), added, false)]);
    assert_eq!(doc["stats"]["commits"], 3);
    // --range alone implies --history.
    let (_, doc) = scan_json(dir.path(), &["--range", "main..feature"]);
    assert_eq!(secrets(&doc).len(), 1);
    // Nothing introduced: clean.
    let (code, _) = history(dir.path(), &["--range", "feature..main"]);
    assert_eq!(code, 0);
    // A range that does not resolve is an error.
    let out = common::run_in(dir.path(), &["scan", "--range", "main..nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn submodules_are_counted_not_entered_and_lfs_pointers_are_skipped() {
    let dir = repo();
    let target = head(dir.path());
    git(
        dir.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{target},vendor/lib"),
        ],
    );
    let pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    write_files(dir.path(), &[("big.bin", pointer)]);
    git(dir.path(), &["add", "big.bin"]);
    git(dir.path(), &["commit", "-q", "-m", "submodule and lfs"]);

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["stats"]["skipped_submodules"], 1);
    assert_eq!(doc["stats"]["skipped_lfs_pointers"], 1);
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("submodule") && warnings.contains("vendor/lib"),
        "{warnings}"
    );
}

#[test]
fn a_missing_object_is_an_error_and_the_rest_is_still_scanned() {
    let dir = repo();
    commit(dir.path(), &[("keep.env", &env_file(13))], "secret");
    commit(
        dir.path(),
        &[("lost.txt", "this blob will go missing\n")],
        "more",
    );
    let blob = git(dir.path(), &["rev-parse", "HEAD:lost.txt"])
        .trim()
        .to_string();
    let loose = dir
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(loose).unwrap();

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1, "findings still fail the run: {doc}");
    assert_eq!(secrets(&doc).len(), 1);
    assert_eq!(doc["stats"]["errors"], 1);
    assert_eq!(doc["errors"][0]["path"], "lost.txt");

    // Without findings, the error decides the exit code.
    let dir = repo();
    commit(
        dir.path(),
        &[("lost.txt", "this blob will go missing\n")],
        "more",
    );
    let blob = git(dir.path(), &["rev-parse", "HEAD:lost.txt"])
        .trim()
        .to_string();
    std::fs::remove_file(
        dir.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let (code, _) = history(dir.path(), &[]);
    assert_eq!(code, 2);
}

#[test]
fn sarif_carries_the_commit_in_result_properties() {
    let dir = repo();
    let added = commit(dir.path(), &[("config.env", &env_file(14))], "add");
    let out = common::run_in(dir.path(), &["scan", "--history", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["properties"]["commit"], added.as_str(), "{result}");
}

#[test]
fn progress_stays_off_a_redirected_stderr_and_stdout() {
    let dir = repo();
    commit(dir.path(), &[("config.env", &env_file(15))], "add");
    let out = common::run_in(dir.path(), &["scan", "--history", "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("scanning blobs"), "{err}");
    serde_json::from_slice::<Value>(&out.stdout).expect("stdout is only the report");
}

#[test]
fn stashed_secrets_are_scanned() {
    let dir = repo();
    commit(dir.path(), &[("config.env", "TODO\n")], "placeholder");
    write_files(dir.path(), &[("config.env", &env_file(16))]);
    git(dir.path(), &["stash", "-q"]);
    let stash = git(dir.path(), &["rev-parse", "refs/stash"])
        .trim()
        .to_string();

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1, "{doc}");
    let found = secrets(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "config.env");
    // The stash commit or its index commit introduced it.
    let stash_family = git(dir.path(), &["rev-list", "--parents", "-n1", &stash]);
    assert!(
        stash_family.contains(&found[0].1),
        "{found:?} not in {stash_family}"
    );
}

#[test]
fn a_blob_in_no_commit_has_null_commit_fields_in_every_format() {
    let dir = repo();
    // A tag pointing straight at a blob: reachable, but no commit introduced it.
    let loose = dir.path().join("loose.env");
    std::fs::write(&loose, env_file(15)).unwrap();
    let blob = git(dir.path(), &["hash-object", "-w", "loose.env"]);
    std::fs::remove_file(&loose).unwrap();
    git(dir.path(), &["tag", "blob-tag", blob.trim()]);

    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1, "{doc}");
    let f = findings(&doc)
        .iter()
        .find(|f| f["rule_id"] == "genesys-client-secret")
        .expect("the tagged blob is scanned");
    for key in ["commit", "author", "email", "date"] {
        assert_eq!(f[key], Value::Null, "{key}: {f}");
    }

    let out = common::run_in(dir.path(), &["scan", "--history", "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["commit"], Value::Null, "{result}");
    let message = result["message"]["text"].as_str().unwrap();
    assert!(!message.contains("introduced in commit"), "{message}");

    let out = common::run_in(dir.path(), &["scan", "--history"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("in no commit"), "{text}");
}

/// The same repository's objects, loose in `dir`, copied to `to` and arranged by `arrange`.
fn copy_repo(dir: &Path, to: &Path, arrange: &[&[&str]]) {
    let ok = std::process::Command::new("cp")
        .args(["-a"])
        .arg(dir)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok, "copy the repository");
    for args in arrange {
        git(to, args);
    }
}

/// A report without its timing, to compare two scans of the same content.
fn untimed(mut doc: Value) -> Value {
    doc["stats"]["elapsed_ms"] = Value::Null;
    doc
}

/// A history scan reads packed blobs pack by pack (each pack's delta tree resolved once) and
/// every other blob by lookup. Both ways must find exactly the same: one repository scanned
/// with its objects loose, packed with deltas, and half packed gives one report. The history
/// holds delta chains (a file grown over many commits, secrets in middle versions), a blob over
/// `--max-file-size`, a blob in two paths, and a binary blob.
#[test]
fn packed_loose_and_half_packed_history_give_one_report() {
    let dir = repo();
    let mut grown = String::new();
    for i in 0..30u64 {
        for line in 0..3 {
            grown.push_str(&format!("setting_{i}_{line} = value {line} of step {i}\n"));
        }
        let mut text = grown.clone();
        if i % 7 == 3 {
            text.push_str(&env_file(i));
        }
        let big = format!("{}{}", "x".repeat(5000), env_file(100 + i));
        let mut files = vec![
            ("app/settings.txt", text.as_str()),
            ("big.txt", big.as_str()),
        ];
        let copy = env_file(200 + i / 10);
        if i % 10 == 5 {
            files.push(("a/copy.env", copy.as_str()));
            files.push(("b/copy.env", copy.as_str()));
        }
        commit(dir.path(), &files, &format!("step {i}"));
    }
    std::fs::write(
        dir.path().join("image.bin"),
        [0u8, 1, 2, 0, 255, 0, 7].repeat(100),
    )
    .unwrap();
    commit(dir.path(), &[], "binary");

    let (code, loose) = history(dir.path(), &["--max-file-size", "4000"]);
    assert_eq!(code, 1, "{loose}");
    assert!(
        loose["stats"]["skipped_too_large"].as_u64() >= Some(30),
        "{loose}"
    );
    assert!(
        loose["stats"]["skipped_binary"].as_u64() >= Some(1),
        "{loose}"
    );
    assert!(secret_findings(&loose).count() >= 5, "{loose}");

    let parent = tempfile::tempdir().unwrap();
    let packed = parent.path().join("packed");
    copy_repo(
        dir.path(),
        &packed,
        &[&["gc", "-q", "--aggressive", "--prune=now"]],
    );
    let half = parent.path().join("half");
    copy_repo(dir.path(), &half, &[]);
    // The objects of the first 15 steps in a pack, the rest loose.
    let old = git(&half, &["rev-list", "--objects", "HEAD~16"]);
    let ok = std::process::Command::new("git")
        .current_dir(&half)
        .args(["pack-objects", "-q", ".git/objects/pack/pack"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(old.as_bytes())?;
            c.wait()
        })
        .unwrap()
        .success();
    assert!(ok, "pack the old objects");
    git(&half, &["prune-packed"]);
    for (what, repo) in [("packed", &packed), ("half packed", &half)] {
        let loose_left = git(repo, &["count-objects"]);
        let (code, doc) = history(repo, &["--max-file-size", "4000"]);
        assert_eq!(code, 1, "{what}: {doc}");
        assert_eq!(
            untimed(doc),
            untimed(loose.clone()),
            "{what} ({loose_left})"
        );
    }
}

/// A history of `commits` commits built with `git fast-import` (the CLI would take minutes):
/// commit `i` (from 1) sets `notes.txt` to its number and applies `change(i)`, a list of
/// (path, contents; `None` deletes). Returns the commit ids, oldest first.
fn fast_history(
    dir: &Path,
    commits: usize,
    change: impl Fn(usize) -> Vec<(&'static str, Option<String>)>,
) -> Vec<String> {
    use std::io::Write;
    let mut stream = String::new();
    for i in 1..=commits {
        let message = format!("commit {i}\n");
        stream += &format!(
            "commit refs/heads/main\nmark :{i}\ncommitter T <t@example.com> {} +0000\ndata {}\n{message}",
            1_600_000_000 + i,
            message.len()
        );
        if i > 1 {
            stream += &format!("from :{}\n", i - 1);
        }
        let notes = format!("{i}\n");
        stream += &format!("M 100644 inline notes.txt\ndata {}\n{notes}\n", notes.len());
        for (path, contents) in change(i) {
            match contents {
                Some(c) => stream += &format!("M 100644 inline {path}\ndata {}\n{c}\n", c.len()),
                None => stream += &format!("D {path}\n"),
            }
        }
    }
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run git fast-import");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "git fast-import failed");
    let ids = git(dir, &["rev-list", "--reverse", "main"]);
    ids.lines().map(str::to_string).collect()
}

/// The commits and paths that carry a secret are counted over the whole history, however long:
/// a secret whose life spans thousands of commits, renamed and copied late in it, is counted
/// once per commit that holds it and under each path.
#[test]
fn carriers_are_counted_over_a_long_history() {
    let dir = tempfile::tempdir().unwrap();
    common::git_init(dir.path());
    let secret = env_file(11);
    let ids = fast_history(dir.path(), 5000, |i| match i {
        1 => vec![("config.env", Some(secret.clone()))],
        3000 => vec![("config.env", None), ("settings.env", Some(secret.clone()))],
        4500 => vec![("copy.env", Some(secret.clone()))],
        4900 => vec![("settings.env", None), ("copy.env", None)],
        _ => Vec::new(),
    });
    assert_eq!(ids.len(), 5000);
    let (code, doc) = history(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        secrets(&doc),
        vec![("config.env".into(), ids[0].clone(), false)]
    );
    let f = &findings(&doc)[0];
    // Commits 1 to 4899 hold it: 4898 besides the first, under two other paths.
    assert_eq!(f["other_commits"], 4898, "{f}");
    assert_eq!(f["other_paths"], 2, "{f}");
    assert_eq!(doc["stats"]["commits"], 5000);
}
