//! Crafted repositories against the Git sources (`--history`, `--range`, `--staged`): a secret
//! planted in each is found, the rest of the scan completes, and memory and time stay linear in
//! what was read. Every repository is built at test time, small and fast.

use crate::common;
use common::output_with_stdin;
use common::secret_findings;
use common::{commit, env_file, Repo};

use common::{findings, git, git_identity, scan_json, scan_json_capped};
use common::{run_in, write_files};
use gix::objs::tree::{Entry, EntryKind};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

fn rev(dir: &Path, spec: &str) -> String {
    git(dir, &["rev-parse", spec]).trim().to_string()
}

/// Run git with `input` on stdin; returns trimmed stdout.
fn git_stdin(dir: &Path, args: &[&str], input: &[u8]) -> String {
    let out = output_with_stdin(
        git_identity(Command::new("git").current_dir(dir).args(args)),
        input,
    );
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Write a blob; returns its id.
fn blob(dir: &Path, content: &[u8]) -> String {
    git_stdin(dir, &["hash-object", "-w", "--stdin"], content)
}

/// Findings of the Genesys secret rule as (path, commit).
fn secrets(doc: &Value) -> Vec<(String, String)> {
    secret_findings(doc)
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn error_paths(doc: &Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A repository with one harmless commit on `main`.
fn repo() -> Repo {
    Repo::initial()
}

#[test]
fn replace_refs_do_not_hide_a_committed_secret() {
    // A commit replaced by a clean look-alike.
    let dir = repo();
    let base = rev(dir.path(), "HEAD");
    let secret = commit(dir.path(), &[("prod.env", &env_file(1))], "add config");
    let clean_tree = rev(dir.path(), "HEAD~1^{tree}");
    let decoy = git(
        dir.path(),
        &["commit-tree", &clean_tree, "-p", &base, "-m", "add config"],
    )
    .trim()
    .to_string();
    git(dir.path(), &["replace", &secret, &decoy]);
    // Even when the repository insists on replacements.
    git(dir.path(), &["config", "core.useReplaceRefs", "true"]);
    assert!(
        !git(dir.path(), &["ls-tree", "-r", "HEAD"]).contains("prod.env"),
        "git itself now sees the decoy"
    );
    for extra in [
        &["--history"][..],
        &["--history", "--range", "HEAD~1..HEAD"][..],
    ] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {doc}");
        assert_eq!(
            secrets(&doc),
            vec![("prod.env".to_string(), secret.clone())],
            "{extra:?}"
        );
    }

    // A blob replaced by a clean one; the replacement itself is scanned too.
    let dir = repo();
    commit(dir.path(), &[("prod.env", &env_file(2))], "add config");
    let real = rev(dir.path(), "HEAD:prod.env");
    let clean = blob(dir.path(), b"nothing to see\n");
    git(dir.path(), &["replace", "-f", &real, &clean]);
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc).len(), 1, "{doc}");

    let dir = repo();
    commit(dir.path(), &[("a.txt", "plain\n")], "plain");
    let plain = rev(dir.path(), "HEAD:a.txt");
    let replacement = blob(dir.path(), env_file(3).as_bytes());
    git(dir.path(), &["replace", "-f", &plain, &replacement]);
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "the replacement object is scanned: {doc}");
    assert_eq!(secrets(&doc).len(), 1, "{doc}");
}

#[test]
fn grafts_do_not_hide_a_committed_secret() {
    let dir = repo();
    let secret = commit(dir.path(), &[("prod.env", &env_file(4))], "add config");
    std::fs::remove_file(dir.path().join("prod.env")).unwrap();
    let clean = commit(dir.path(), &[], "remove config");
    // Graft the clean commit onto nothing: for git, the secret's commit is gone.
    std::fs::create_dir_all(dir.path().join(".git/info")).unwrap();
    std::fs::write(dir.path().join(".git/info/grafts"), format!("{clean}\n")).unwrap();
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc), vec![("prod.env".to_string(), secret)]);
}

#[test]
fn an_undecodable_commit_at_a_ref_tip_is_reported_and_every_other_ref_is_scanned() {
    let dir = repo();
    let main = commit(dir.path(), &[("prod.env", &env_file(5))], "add config");
    let garbage = git_stdin(
        dir.path(),
        &[
            "hash-object",
            "-t",
            "commit",
            "--literally",
            "-w",
            "--stdin",
        ],
        b"this is not a commit\n",
    );
    // git refuses to point a ref at it, so write the ref file as an attacker would.
    std::fs::write(
        dir.path().join(".git/refs/heads/bad"),
        format!("{garbage}\n"),
    )
    .unwrap();
    // A good commit whose parent is the garbage: the walk goes on past it.
    git(dir.path(), &["checkout", "-q", "--orphan", "side"]);
    git(dir.path(), &["rm", "-rfq", "."]);
    write_files(dir.path(), &[("side.env", &env_file(6))]);
    git(dir.path(), &["add", "side.env"]);
    let tree = git(dir.path(), &["write-tree"]).trim().to_string();
    let child = git_stdin(
        dir.path(),
        &["hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
        format!(
            "tree {tree}\nparent {garbage}\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nchild of garbage\n"
        )
        .as_bytes(),
    );
    std::fs::write(
        dir.path().join(".git/refs/heads/side"),
        format!("{child}\n"),
    )
    .unwrap();
    git(dir.path(), &["checkout", "-qf", "main"]);

    for extra in [&["--history"][..], &["--history", "--all-objects"][..]] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {doc}");
        let mut found = secrets(&doc);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("prod.env".to_string(), main.clone()),
                ("side.env".to_string(), child.clone())
            ],
            "{extra:?}: {doc}"
        );
        let errors = error_paths(&doc);
        assert!(errors.contains(&"refs/heads/bad".to_string()), "{doc}");
        assert!(doc["stats"]["errors"].as_u64().unwrap() >= 2, "{doc}");
    }

    // Without findings, the unread commit alone fails the run.
    let dir = repo();
    std::fs::write(dir.path().join(".git/refs/heads/bad"), {
        let garbage = git_stdin(
            dir.path(),
            &[
                "hash-object",
                "-t",
                "commit",
                "--literally",
                "-w",
                "--stdin",
            ],
            b"garbage\n",
        );
        format!("{garbage}\n")
    })
    .unwrap();
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(doc["stats"]["files"], 1, "the good ref was still scanned");
}

/// Stage a symlink whose target text is `target` at `path`.
fn stage_link(dir: &Path, path: &str, target: &[u8]) {
    let id = blob(dir, target);
    git(
        dir,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("120000,{id},{path}"),
        ],
    );
}

#[test]
fn symlink_targets_are_scanned_in_history_range_and_staged() {
    let dir = repo();
    stage_link(dir.path(), "link.env", env_file(7).as_bytes());
    let (code, doc) = scan_json(dir.path(), &["--staged"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc).len(), 1, "{doc}");
    assert_eq!(secrets(&doc)[0].0, "link.env");

    git(dir.path(), &["commit", "-q", "-m", "link"]);
    let linked = rev(dir.path(), "HEAD");
    for extra in [
        &["--history"][..],
        &["--history", "--range", "HEAD~1..HEAD"][..],
    ] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {doc}");
        assert_eq!(
            secrets(&doc),
            vec![("link.env".to_string(), linked.clone())],
            "{extra:?}"
        );
        assert_eq!(doc["stats"]["skipped_symlinks"], 0, "{doc}");
    }
}

#[test]
fn staged_in_a_bare_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--bare", "-b", "main"]);
    let out = run_in(dir.path(), &["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bare repository"), "{stderr}");
    assert!(stderr.contains("or use --history"), "{stderr}");
}

/// `git mktree --batch`, one tree at a time: fast enough for thousands of nested trees.
struct Mktree {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Mktree {
    fn new(dir: &Path) -> Self {
        let mut child = git_identity(
            Command::new("git")
                .current_dir(dir)
                .args(["mktree", "--batch"]),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run git mktree");
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Mktree { child, out }
    }

    /// Write a tree of `entries` (`ls-tree` lines: `mode kind id<TAB>name`); returns its id.
    fn tree(&mut self, entries: &[String]) -> String {
        use std::io::{BufRead, Write};
        let stdin = self.child.stdin.as_mut().unwrap();
        let mut text = entries.join("\n");
        text.push_str("\n\n");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        line.trim().to_string()
    }
}

/// Commit `tree` on `main` (with the current `main` as parent when there is one).
fn commit_tree(dir: &Path, tree: &str) -> String {
    let mut args = vec!["commit-tree", tree, "-m", "crafted"];
    let parent = git(dir, &["rev-parse", "--verify", "-q", "main"]);
    let parent = parent.trim().to_string();
    if !parent.is_empty() {
        args.extend(["-p", parent.as_str()]);
    }
    let id = git(dir, &args).trim().to_string();
    git(dir, &["update-ref", "refs/heads/main", &id]);
    id
}

/// Address space a scan of a small crafted repository may use (threads' stacks and allocator
/// arenas included): far below what materialising a bomb's paths would take.
const MEMORY_CAP_MIB: u64 = 1024;

#[test]
fn a_tree_bomb_reports_its_blob_once_and_counts_the_other_paths() {
    let dir = repo();
    let secret = blob(dir.path(), env_file(8).as_bytes());
    // 10 names for the blob, then 6 levels of 10 names for the tree below: 10^7 paths. Every path
    // materialised would need gigabytes; the scan must stay within a small address space.
    let mut mktree = Mktree::new(dir.path());
    let fan = |prefix: &str, kind: &str, id: &str| -> Vec<String> {
        let mode = if kind == "tree" { "040000" } else { "100644" };
        (0..10)
            .map(|i| format!("{mode} {kind} {id}\t{prefix}{i}"))
            .collect()
    };
    let mut tree = mktree.tree(&fan("f", "blob", &secret));
    for _ in 0..6 {
        tree = mktree.tree(&fan("d", "tree", &tree));
    }
    let bomb = commit_tree(dir.path(), &tree);

    for extra in [
        &["--history"][..],
        &["--history", "--range", "main~1..main"][..],
    ] {
        let (code, doc) = scan_json_capped(dir.path(), extra, Some(MEMORY_CAP_MIB));
        assert_eq!(code, 1, "{extra:?}: {doc}");
        let found = findings(&doc);
        assert_eq!(found.len(), 1, "{extra:?}: one blob, one finding: {doc}");
        assert_eq!(found[0]["path"], "d0/d0/d0/d0/d0/d0/f0");
        assert_eq!(found[0]["commit"], bomb.as_str());
        assert_eq!(found[0]["other_paths"], 9_999_999, "{doc}");
    }

    // A second bomb that changes its leaf: the range compares the two bombs, each pair of
    // trees once, and reports only the new blob.
    let second = blob(dir.path(), env_file(14).as_bytes());
    let mut leaf = fan("f", "blob", &secret);
    leaf.push(format!("100644 blob {second}\tg0"));
    let mut tree = mktree.tree(&leaf);
    for _ in 0..6 {
        tree = mktree.tree(&fan("d", "tree", &tree));
    }
    let changed = commit_tree(dir.path(), &tree);
    let (code, doc) = scan_json_capped(
        dir.path(),
        &["--history", "--range", "main~1..main"],
        Some(MEMORY_CAP_MIB),
    );
    assert_eq!(code, 1, "{doc}");
    let found = findings(&doc);
    assert_eq!(found.len(), 1, "only the new blob: {doc}");
    assert_eq!(found[0]["path"], "d0/d0/d0/d0/d0/d0/g0");
    assert_eq!(found[0]["commit"], changed.as_str());
    assert_eq!(found[0]["other_paths"], 999_999, "{doc}");
}

#[test]
fn a_14000_deep_tree_is_scanned_without_overflowing_the_stack() {
    const DEPTH: usize = 14_000;
    let dir = repo();
    let secret = blob(dir.path(), env_file(9).as_bytes());
    // Written straight into the object store: a round trip to git per tree is slow.
    let store = gix::open(dir.path()).unwrap();
    let write = |kind: EntryKind, name: &str, id: &str| -> String {
        let entry = Entry {
            mode: kind.into(),
            filename: name.into(),
            oid: gix::ObjectId::from_hex(id.as_bytes()).unwrap(),
        };
        let tree = gix::objs::Tree {
            entries: vec![entry],
        };
        store.write_object(&tree).unwrap().to_string()
    };
    let chain = |leaf: &str| {
        let mut tree = write(EntryKind::Blob, "deep.env", leaf);
        for _ in 0..DEPTH {
            tree = write(EntryKind::Tree, "d", &tree);
        }
        tree
    };
    // First the chain with a harmless leaf, then the same chain with the secret: the range
    // compares the two trees level by level, all the way down.
    commit_tree(dir.path(), &chain(&blob(dir.path(), b"harmless\n")));
    let tree = chain(&secret);
    let deep = commit_tree(dir.path(), &tree);
    let path = format!("{}deep.env", "d/".repeat(DEPTH));

    for extra in [
        &["--history"][..],
        &["--history", "--range", "main~1..main"][..],
    ] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {}", doc["errors"]);
        assert_eq!(
            secrets(&doc),
            vec![(path.clone(), deep.clone())],
            "{extra:?}"
        );
    }

    // Staged: git itself will not read so deep a tree into the index, and an index path is
    // at most 4 KiB for gix; stage the deepest path that fits, and refuse a longer one loudly.
    let fresh = Repo::new();
    copy_objects(dir.path(), fresh.path());
    let staged = format!("{}deep.env", "d/".repeat(2_000));
    git(
        fresh.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{secret},{staged}"),
        ],
    );
    let (code, doc) = scan_json(fresh.path(), &["--staged"]);
    assert_eq!(code, 1, "{}", doc["errors"]);
    assert_eq!(secrets(&doc), vec![(staged, String::new())]);
    git(fresh.path(), &["rm", "-q", "--cached", "-r", "d"]);
    git(
        fresh.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{secret},{path}"),
        ],
    );
    let out = run_in(fresh.path(), &["scan", "--staged"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreadable index is an error"
    );
}

/// Make the objects of `from` available to `to` (an alternates file).
fn copy_objects(from: &Path, to: &Path) {
    let objects = from.join(".git/objects");
    std::fs::write(
        to.join(".git/objects/info/alternates"),
        format!("{}\n", objects.display()),
    )
    .unwrap();
}

/// Run git with raw (possibly non-UTF-8) arguments.
fn git_raw(dir: &Path, args: &[&OsStr]) {
    let mut cmd = Command::new("git");
    git_identity(cmd.current_dir(dir).args(args));
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn non_utf8_paths_and_authors_are_shown_exactly() {
    let dir = repo();
    let id = blob(dir.path(), env_file(10).as_bytes());
    let mut info = format!("100644,{id},").into_bytes();
    info.extend_from_slice(b"conf\xff\\x.env");
    git_raw(
        dir.path(),
        &[
            OsStr::new("update-index"),
            OsStr::new("--add"),
            OsStr::new("--cacheinfo"),
            OsStr::from_bytes(&info),
        ],
    );
    let shown = "conf\\xff\\\\x.env";
    let (code, doc) = scan_json(dir.path(), &["--staged"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc)[0].0, shown);

    // git re-encodes a non-UTF-8 name from the environment, so write the commit directly.
    let tree = git(dir.path(), &["write-tree"]).trim().to_string();
    let parent = rev(dir.path(), "HEAD");
    let mut raw = format!("tree {tree}\nparent {parent}\n").into_bytes();
    for role in ["author", "committer"] {
        raw.extend_from_slice(role.as_bytes());
        raw.extend_from_slice(b" Ren\xe9 \x1b[31m <r\xe9@example.com> 1700000000 +0000\n");
    }
    raw.extend_from_slice(b"\nraw names\n");
    let id = git_stdin(
        dir.path(),
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        &raw,
    );
    git(dir.path(), &["update-ref", "refs/heads/main", &id]);
    for extra in [
        &["--history"][..],
        &["--history", "--range", "HEAD~1..HEAD"][..],
    ] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{doc}");
        let f = &findings(&doc)[0];
        assert_eq!(f["path"], shown, "{extra:?}");
        assert_eq!(f["author"], "Ren\\xe9 \u{1b}[31m", "{extra:?}");
        assert_eq!(f["email"], "r\\xe9@example.com", "{extra:?}");
    }
}

/// Delete the loose object `spec` names (`HEAD:sub`) from the repository at `dir`.
fn lose_loose_object(dir: &Path, spec: &str) {
    let id = rev(dir, spec);
    std::fs::remove_file(dir.join(".git/objects").join(&id[..2]).join(&id[2..])).unwrap();
}

#[test]
fn unreadable_trees_and_blobs_in_a_range_are_errors_not_silence() {
    let dir = repo();
    commit(
        dir.path(),
        &[("keep.env", &env_file(11)), ("sub/lost.txt", "gone soon\n")],
        "two files",
    );
    // Lose the tree of `sub`: the range reports it and still scans the rest.
    lose_loose_object(dir.path(), "HEAD:sub");
    for extra in [
        &["--history"][..],
        &["--history", "--range", "HEAD~1..HEAD"][..],
    ] {
        let (code, doc) = scan_json(dir.path(), extra);
        assert_eq!(code, 1, "{extra:?}: {doc}");
        assert_eq!(secrets(&doc).len(), 1, "{extra:?}");
        assert!(
            error_paths(&doc).iter().any(|p| p.starts_with("sub")),
            "{extra:?}: {doc}"
        );
    }
}

/// A long history (its walk shared among threads) whose commits all hold one lost tree: the
/// loss is one error, as one walk reports it, however many parts of the walk met it, and the
/// scan is the same on one thread.
#[test]
fn a_lost_tree_in_a_long_history_is_one_error_on_any_number_of_threads() {
    let dir = repo();
    commit(
        dir.path(),
        &[("sub/lost.txt", "gone soon\n")],
        "shared tree",
    );
    for i in 0..100 {
        let file = format!("f{}.txt", i % 9);
        commit(
            dir.path(),
            &[(&file, &format!("step {i}\n"))],
            &format!("step {i}"),
        );
    }
    commit(dir.path(), &[("keep.env", &env_file(12))], "secret");
    lose_loose_object(dir.path(), "HEAD:sub");
    let (code, doc) = scan_json(dir.path(), &["--history", "-j", "2"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc).len(), 1);
    let lost: Vec<String> = error_paths(&doc)
        .into_iter()
        .filter(|p| p.starts_with("sub"))
        .collect();
    assert_eq!(lost.len(), 1, "{doc}");
    let (_, one) = scan_json(dir.path(), &["--history", "-j", "1"]);
    assert_eq!(one["errors"], doc["errors"]);
    assert_eq!(one["findings"], doc["findings"]);
}

#[test]
fn a_blob_first_seen_under_an_allowed_path_is_still_reported_where_it_is_not_allowed() {
    let dir = repo();
    write_files(
        dir.path(),
        &[(".leakgate.toml", "[allow]\npaths = [\"fixtures/**\"]\n")],
    );
    let secret = env_file(12);
    // `fixtures` sorts before `src`: the blob is first met under the allowed path.
    let added = commit(
        dir.path(),
        &[("fixtures/a.env", &secret), ("src/a.env", &secret)],
        "same content twice",
    );
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(secrets(&doc), vec![("src/a.env".to_string(), added)]);

    // Only under the allowed path: allowed, and counted as such.
    let dir = repo();
    write_files(
        dir.path(),
        &[(".leakgate.toml", "[allow]\npaths = [\"fixtures/**\"]\n")],
    );
    commit(dir.path(), &[("fixtures/a.env", &env_file(13))], "fixture");
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 0, "{doc}");
    assert!(findings(&doc).is_empty(), "{doc}");
}

#[test]
fn a_staged_submodule_is_counted_not_silently_passed() {
    let dir = repo();
    let target = rev(dir.path(), "HEAD");
    git(
        dir.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{target},vendor/lib"),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &["--staged"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["stats"]["skipped_submodules"], 1, "{doc}");
}

#[test]
fn a_range_over_a_merge_reports_only_what_no_parent_had_in_new_directories_too() {
    let dir = repo();
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    let feature = commit(
        dir.path(),
        &[("conf/feature.env", &env_file(15))],
        "feature",
    );
    git(dir.path(), &["checkout", "-q", "main"]);
    commit(dir.path(), &[("other.txt", "main moves on\n")], "main");
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "--no-commit", "feature"],
    );
    write_files(
        dir.path(),
        &[
            ("conf/merge.env", &env_file(16)),
            ("new/evil.env", &env_file(17)),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "merge with a twist"]);
    let merge = rev(dir.path(), "HEAD");
    let (code, doc) = scan_json(
        dir.path(),
        &["--history", "--range", &format!("{feature}..main")],
    );
    assert_eq!(code, 1, "{doc}");
    let mut found = secrets(&doc);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("conf/merge.env".to_string(), merge.clone()),
            ("new/evil.env".to_string(), merge)
        ]
    );
}

/// A packed repository whose secret sits in a delta of a grown file, built once; the bytes of
/// its one pack file and where that file is.
fn packed_with_secret() -> (Repo, std::path::PathBuf) {
    let dir = repo();
    let mut text = String::new();
    for i in 0..12u64 {
        for line in 0..30 {
            text.push_str(&format!("line {i}.{line} of an ordinary settings file\n"));
        }
        let mut content = text.clone();
        if i == 6 {
            content.push_str(&env_file(6));
        }
        commit(
            dir.path(),
            &[("settings.txt", &content)],
            &format!("step {i}"),
        );
    }
    git(dir.path(), &["gc", "-q", "--aggressive", "--prune=now"]);
    let pack = std::fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    (dir, pack)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

    /// Random bytes of a pack overwritten (past its header, before its checksum): the scan
    /// ends with a report, and it either finds the secret or names an error; never a clean
    /// report over objects it could not read.
    #[test]
    fn a_damaged_pack_is_found_or_reported_never_silently_clean(
        spots in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 1..6),
    ) {
        let (dir, pack) = packed_with_secret();
        let mut bytes = std::fs::read(&pack).unwrap();
        let body = 12..bytes.len() - 20;
        for (at, value) in &spots {
            let i = body.start + at.index(body.len());
            bytes[i] = if bytes[i] == *value { !value } else { *value };
        }
        std::fs::write(&pack, &bytes).unwrap();
        let (code, doc) = scan_json(dir.path(), &["--history"]);
        proptest::prop_assert!(code == 1 || code == 2, "exit {code}: {doc}");
        let found = secret_findings(&doc).count() > 0;
        let errors = doc["errors"].as_array().map_or(0, Vec::len);
        proptest::prop_assert!(found || errors > 0, "{doc}");
    }
}
