//! `--cache FILE`: a second history scan reads only the blobs the first did not find clean and
//! walks only the new commits, yet reports exactly what a scan without the cache reports; a
//! cache of other rules, of another repository, or damaged is rebuilt with a warning, and a
//! scan killed while writing it never leaves a damaged one. Repositories are built at test time
//! with increasing commit dates (as pushes have); secrets are generated.

use crate::common;
use common::{env_file, findings, github_token, leakgate, Repo};
use serde_json::Value;
use std::path::Path;

/// Commit `files` in `repo` at `time` (seconds since the epoch, for author and committer).
fn commit_at(repo: &Repo, files: &[(&str, &str)], message: &str, time: u64) -> String {
    common::write_files(repo.path(), files);
    repo.git(&["add", "-A"]);
    common::git_at(repo.path(), &["commit", "-q", "-m", message], time);
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// A repository of `n` commits, each adding a clean source file, plus one with a secret.
fn history(n: u64) -> Repo {
    let repo = Repo::new();
    for i in 0..n {
        let file = format!("src/mod{i}.rs");
        let body =
            format!("pub fn f{i}() -> u64 {{ {i} }}\n// the token of turn {i} is read later\n");
        commit_at(
            &repo,
            &[(&file, &body)],
            &format!("c{i}"),
            1_700_000_000 + i * 60,
        );
    }
    commit_at(
        &repo,
        &[("conf/app.env", &env_file(7))],
        "config",
        1_700_000_000 + n * 60,
    );
    repo
}

/// A history scan of `repo` as JSON, with `extra` flags; the exit code, the document, stderr.
fn scan(repo: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = leakgate()
        .arg("scan")
        .arg("--history")
        .arg(repo)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run leakgate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn stat(doc: &Value, name: &str) -> u64 {
    doc["stats"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("stats.{name}: {doc:#}"))
}

/// The findings, as a scan without the cache must give them too.
fn same_findings(cached: &Value, cold: &Value) {
    assert_eq!(
        serde_json::to_string_pretty(findings(cached)).unwrap(),
        serde_json::to_string_pretty(findings(cold)).unwrap()
    );
}

#[test]
fn a_second_scan_reads_only_new_blobs_and_reports_what_a_cold_scan_does() {
    let repo = history(40);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("history.cache");
    let cache_arg = cache.to_str().unwrap();

    let (code, first, stderr) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(cache.exists());
    // The first scan reads every blob: 40 sources and the env file.
    assert_eq!((stat(&first, "files"), stat(&first, "from_cache")), (41, 0));
    assert_eq!(stat(&first, "commits_from_cache"), 0);

    // One new commit with one new clean file and one new secret; and an old secret re-added.
    let token = github_token("cacheTest0123456789abcdefghijk");
    let base = 1_700_000_000 + 41 * 60;
    commit_at(&repo, &[("src/new.rs", "pub fn new() {}\n")], "new", base);
    commit_at(
        &repo,
        &[("deploy.sh", &format!("export GH_TOKEN={token}\n"))],
        "deploy",
        base + 60,
    );
    let (code, second, stderr) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("rebuilt"), "{stderr}");
    // Read: the two new blobs and the one old blob with a finding (never kept as clean).
    assert_eq!(stat(&second, "files"), 3, "{second:#}");
    assert_eq!(stat(&second, "from_cache"), 40);
    assert_eq!(stat(&second, "commits"), 43);
    assert_eq!(stat(&second, "commits_from_cache"), 41);
    let (_, cold, _) = scan(repo.path(), &[]);
    same_findings(&second, &cold);
    assert_eq!(findings(&second).len(), 2);

    // Nothing new: nothing walked again, the same report.
    let (_, third, _) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(stat(&third, "commits_from_cache"), 43);
    assert_eq!(stat(&third, "files"), 2);
    same_findings(&third, &cold);

    // A merge of a branch made in the meantime: still only the new commits are walked.
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~1"]);
    let later = base + 600;
    commit_at(&repo, &[("side.txt", "side work\n")], "side", later);
    repo.git(&["checkout", "-q", "main"]);
    let merge = ["merge", "-q", "--no-ff", "-m", "merge side", "side"];
    common::git_at(repo.path(), &merge, later + 60);
    let (_, merged, _) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(stat(&merged, "commits_from_cache"), 43);
    assert_eq!(stat(&merged, "commits"), 45);
    let (_, cold, _) = scan(repo.path(), &[]);
    same_findings(&merged, &cold);
}

#[test]
fn a_rewritten_history_is_walked_whole_and_forgets_what_it_dropped() {
    let repo = history(10);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    let (_, first, _) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(findings(&first).len(), 1);
    // The secret's commit is dropped from the only branch, and a commit made over it.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    commit_at(&repo, &[("README.md", "clean\n")], "readme", 1_800_000_000);
    let (code, after, stderr) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(code, 0, "{stderr}");
    assert!(findings(&after).is_empty(), "{after:#}");
    // Walked whole, yet no blob read twice: the cache still knows them clean.
    assert_eq!(stat(&after, "commits_from_cache"), 0);
    assert_eq!((stat(&after, "files"), stat(&after, "from_cache")), (1, 10));
    let (_, cold, _) = scan(repo.path(), &[]);
    same_findings(&after, &cold);
    assert_eq!(stat(&after, "commits"), stat(&cold, "commits"));
}

#[test]
fn other_rules_another_repository_or_damage_rebuild_the_cache_with_a_warning() {
    let repo = history(5);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    let (_, cold, _) = scan(repo.path(), &[]);
    scan(repo.path(), &["--cache", cache_arg]);
    let good = std::fs::read(&cache).unwrap();

    // Damage: truncation, a flipped byte, garbage, an empty file.
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 1;
    for bad in [
        &good[..good.len() - 3],
        &flipped[..],
        b"not a cache at all",
        b"",
    ] {
        std::fs::write(&cache, bad).unwrap();
        let (code, doc, stderr) = scan(repo.path(), &["--cache", cache_arg]);
        assert_eq!(code, 1);
        assert!(
            stderr.contains("corrupt") && stderr.contains("rebuilt"),
            "{stderr}"
        );
        assert_eq!(stat(&doc, "from_cache"), 0);
        same_findings(&doc, &cold);
        // Rebuilt whole: the next scan trusts it.
        let (_, next, stderr) = scan(repo.path(), &["--cache", cache_arg]);
        assert!(!stderr.contains("rebuilt"), "{stderr}");
        assert_eq!(stat(&next, "from_cache"), 5);
    }

    // Other rules: a configuration that allows a path.
    let config = dir.path().join("leakgate.toml");
    std::fs::write(&config, "[allow]\npaths = [\"docs/**\"]\n").unwrap();
    let config_arg = config.to_str().unwrap();
    let (_, doc, stderr) = scan(repo.path(), &["--cache", cache_arg, "--config", config_arg]);
    assert!(stderr.contains("other rules"), "{stderr}");
    assert_eq!(stat(&doc, "from_cache"), 0);
    let (_, doc, _) = scan(repo.path(), &["--cache", cache_arg, "--config", config_arg]);
    assert_eq!(stat(&doc, "from_cache"), 5);

    // Another repository with the same files.
    let other = history(5);
    let (_, doc, stderr) = scan(
        other.path(),
        &["--cache", cache_arg, "--config", config_arg],
    );
    assert!(stderr.contains("another repository"), "{stderr}");
    assert_eq!(stat(&doc, "from_cache"), 0);
}

#[test]
fn a_scan_killed_while_it_writes_never_leaves_a_damaged_cache() {
    let repo = history(60);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    let (_, cold, _) = scan(repo.path(), &[]);
    // Killed at ever later moments, some of them while the cache is written.
    for delay_ms in (0..40).map(|i| i * 7) {
        let _ = std::fs::remove_file(&cache);
        let mut child = leakgate()
            .args([
                "scan",
                "--history",
                "--format",
                "json",
                "--cache",
                cache_arg,
            ])
            .arg(repo.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment, the next scan finds a whole cache or none, never a damaged one.
        let (_, doc, stderr) = scan(repo.path(), &["--cache", cache_arg]);
        assert!(
            !stderr.contains("rebuilt"),
            "killed after {delay_ms} ms: {stderr}"
        );
        same_findings(&doc, &cold);
    }
}

#[test]
fn a_range_scan_uses_and_extends_the_cache() {
    let repo = history(8);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    scan(repo.path(), &["--cache", cache_arg]);
    commit_at(
        &repo,
        &[("src/more.rs", "pub fn more() {}\n")],
        "more",
        1_800_000_000,
    );
    let range = ["--range", "HEAD~1..HEAD", "--cache", cache_arg];
    let (code, doc, stderr) = scan(repo.path(), &range);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!((stat(&doc, "files"), stat(&doc, "from_cache")), (1, 0));
    // The range's blob is known clean now, and the history's are still.
    let (_, doc, _) = scan(repo.path(), &range);
    assert_eq!((stat(&doc, "files"), stat(&doc, "from_cache")), (0, 1));
    let (_, doc, _) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(stat(&doc, "from_cache"), 9);
}

#[test]
fn the_cache_flag_needs_a_history_or_range_scan() {
    let repo = history(1);
    let out = leakgate()
        .args(["scan", "--cache", "c"])
        .arg(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--history or --range"));
}

#[test]
fn a_new_branch_older_than_the_history_is_walked_whole_and_attributed_as_cold() {
    let repo = Repo::new();
    let start = 1_700_000_000;
    commit_at(&repo, &[("README.md", "hello\n")], "c0", start);
    let first = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    commit_at(
        &repo,
        &[("conf/a.env", &env_file(9))],
        "secret in a",
        start + 200,
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    scan(repo.path(), &["--cache", cache_arg]);
    // A branch dated between the two commits brings the same file content under another path:
    // a walk from scratch orders it first, so it introduced the secret.
    repo.git(&["checkout", "-q", "-b", "older", &first]);
    let older = commit_at(&repo, &[("conf/b.env", &env_file(9))], "older", start + 100);
    let (_, doc, _) = scan(repo.path(), &["--cache", cache_arg]);
    let (_, cold, _) = scan(repo.path(), &[]);
    same_findings(&doc, &cold);
    assert_eq!(findings(&doc)[0]["commit"], older.as_str());
    assert_eq!(findings(&doc)[0]["path"], "conf/b.env");
    assert_eq!(stat(&doc, "commits_from_cache"), 0);
}

/// A zip of `members`, built at test time.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_clean_archive_comes_from_the_cache_with_its_skips_and_one_with_a_secret_is_read_again() {
    let repo = Repo::new();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let clean = zip_of(&[("notes.txt", b"nothing here\n"), ("logo.png", png)]);
    let secret = zip_of(&[("conf/app.env", env_file(11).as_bytes())]);
    std::fs::write(repo.path().join("clean.zip"), &clean).unwrap();
    std::fs::write(repo.path().join("secret.zip"), &secret).unwrap();
    commit_at(&repo, &[("README.md", "hi\n")], "archives", 1_700_000_000);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c");
    let cache_arg = cache.to_str().unwrap();
    let (_, cold, _) = scan(repo.path(), &[]);
    assert_eq!(stat(&cold, "archives"), 2);
    scan(repo.path(), &["--cache", cache_arg]);
    let (code, doc, stderr) = scan(repo.path(), &["--cache", cache_arg]);
    assert_eq!(code, 1, "{stderr}");
    same_findings(&doc, &cold);
    // The README and the clean zip from the cache; the zip with a secret expanded again.
    assert_eq!(stat(&doc, "from_cache"), 2);
    assert_eq!(stat(&doc, "archives"), 1);
    // The PNG inside the clean zip is still counted as skipped.
    assert_eq!(stat(&doc, "skipped_binary"), stat(&cold, "skipped_binary"));
    assert_eq!(stat(&cold, "skipped_binary"), 1);
}
