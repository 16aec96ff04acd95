//! The working-tree source reads what it is given, whole: every tracked file in a repository,
//! explicit symlinks, stdin, FIFOs and files whose stat size is wrong, big files without memory
//! maps, UTF-16 and text with stray NULs, files that only start like LFS pointers, and names that
//! are not UTF-8. A planted Genesys pair in each is found (exit 1).

use crate::common;
use common::output_with_stdin;
use common::{genesys_env, Repo};

use common::{client_id, findings, genesys_secret, git, git_init, run_in, scan_json, write_files};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// The paths of the findings of `doc`, sorted and deduplicated.
fn found_paths(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings(doc)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    v.dedup();
    v
}

/// Run `leakgate scan --format json ARGS` in `dir` with `input` on stdin.
fn scan_stdin(dir: &Path, args: &[&str], input: &[u8]) -> (i32, Value) {
    let out = output_with_stdin(
        common::leakgate()
            .current_dir(dir)
            .arg("scan")
            .args(["--format", "json"])
            .args(args),
        input,
    );
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

#[test]
fn every_tracked_file_is_scanned_even_when_gitignore_lists_it() {
    let dir = Repo::new();
    write_files(
        dir.path(),
        &[
            (".gitignore", ".env\nsecrets/\n*.local\n"),
            (".env", &genesys_env(1)),
            ("secrets/app.env", &genesys_env(2)),
            ("x.local", &genesys_env(3)),
            ("new.env", &genesys_env(4)),
            ("gone.env", "deleted later\n"),
        ],
    );
    git(
        dir.path(),
        &[
            "add",
            "-f",
            ".gitignore",
            ".env",
            "secrets/app.env",
            "gone.env",
        ],
    );
    git(dir.path(), &["commit", "-q", "-m", "force-added"]);
    std::fs::remove_file(dir.path().join("gone.env")).unwrap();

    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    // Tracked (though ignored) and untracked-not-ignored files; not the untracked ignored one.
    assert_eq!(found_paths(&doc), [".env", "new.env", "secrets/app.env"]);
    // A tracked file deleted from the work tree is no error.
    assert_eq!(doc["stats"]["errors"], 0, "{doc:#}");
    assert!(doc["errors"].as_array().unwrap().is_empty());

    // A folder inside the work tree: its tracked files, paths from the repository root.
    let (code, doc) = scan_json(dir.path(), &["secrets"]);
    assert_eq!(code, 1);
    assert_eq!(found_paths(&doc), ["secrets/app.env"]);
    let (code, doc) = scan_json(&dir.path().join("secrets"), &[]);
    assert_eq!(code, 1);
    assert_eq!(found_paths(&doc), ["secrets/app.env"]);

    // --no-ignore still scans everything, each file once.
    let (code, doc) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    assert_eq!(
        found_paths(&doc),
        [".env", "new.env", "secrets/app.env", "x.local"]
    );
    assert_eq!(findings(&doc).len(), 4, "{doc:#}");
}

#[test]
fn an_unreadable_index_is_an_error_and_the_rest_is_scanned() {
    let dir = Repo::new();
    write_files(dir.path(), &[("a.env", &genesys_env(23))]);
    git(dir.path(), &["add", "a.env"]);
    std::fs::write(dir.path().join(".git/index"), b"DIRC garbage").unwrap();
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["a.env"]);
    assert_eq!(doc["stats"]["errors"], 1);
    let message = doc["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("index"), "{message}");
}

#[test]
fn a_gitignore_above_the_repository_root_is_never_applied() {
    let outer = tempfile::tempdir().unwrap();
    write_files(outer.path(), &[(".gitignore", "*.env\nrepo/conf/\n")]);
    let repo = outer.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git_init(&repo);
    write_files(
        &repo,
        &[("a.env", &genesys_env(5)), ("conf/b.txt", &genesys_env(6))],
    );
    let (code, doc) = scan_json(&repo, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["a.env", "conf/b.txt"]);
    // Outside a repository the same .gitignore applies, as before.
    let plain = outer.path().join("plain");
    write_files(&plain, &[("c.env", &genesys_env(7))]);
    assert_eq!(scan_json(outer.path(), &["plain"]).0, 0);
}

#[test]
fn submodules_are_counted_and_not_entered() {
    let dir = Repo::new();
    write_files(
        dir.path(),
        &[("top.txt", "fine\n"), ("sub/inner.env", &genesys_env(8))],
    );
    let head = git(dir.path(), &["hash-object", "-w", "top.txt"]);
    // A gitlink at `sub`, as `git submodule add` records one.
    let gitlink = format!("160000,{},sub", head.trim());
    git(
        dir.path(),
        &["update-index", "--add", "--cacheinfo", &gitlink],
    );
    git(dir.path(), &["add", "top.txt"]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["stats"]["skipped_submodules"], 1);
    let text = String::from_utf8(run_in(dir.path(), &["scan"]).stdout).unwrap();
    assert!(text.contains(", 1 submodule(s);"), "{text}");
    // Named, the submodule's folder is scanned.
    let (code, doc) = scan_json(dir.path(), &["sub"]);
    assert_eq!(code, 1, "{doc:#}");
}

#[cfg(unix)]
#[test]
fn an_explicit_symlink_is_followed_and_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // A target far longer than the link itself, the secret at its end.
    let text = format!("{}{}", "# padding\n".repeat(500), genesys_env(9));
    write_files(dir.path(), &[("real/app.env", &text)]);
    std::os::unix::fs::symlink("real/app.env", dir.path().join("l")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("d")).unwrap();
    let (code, doc) = scan_json(dir.path(), &["l"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["l"]);
    assert_eq!(findings(&doc)[0]["line"], 503);
    // A symlink to a folder, named: the folder is walked (paths relative to it, as for any
    // folder scanned outside a repository).
    let (code, doc) = scan_json(dir.path(), &["d"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["app.env"]);
    // Met while walking, symlinks are still counted and skipped.
    let (_, doc) = scan_json(dir.path(), &[]);
    assert_eq!(doc["stats"]["skipped_symlinks"], 2);
    assert_eq!(found_paths(&doc), ["real/app.env"]);
}

#[test]
fn stdin_is_scanned_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("other/b.env", &genesys_env(11))]);
    let env = genesys_env(10);
    let (code, doc) = scan_stdin(dir.path(), &["-"], env.as_bytes());
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["<stdin>"]);
    assert_eq!(findings(&doc)[0]["line"], 3);
    let (code, doc) = scan_stdin(
        dir.path(),
        &["--stdin-name", "deploy/app.env", "-", "other"],
        env.as_bytes(),
    );
    assert_eq!(code, 1);
    // Paths are relative to the first folder named, as ever.
    assert_eq!(found_paths(&doc), ["b.env", "deploy/app.env"]);
    // Over the size cap, stdin is skipped as too large, never cut.
    let big = format!("{}{}", "#".repeat(3000), env);
    let (code, doc) = scan_stdin(dir.path(), &["--max-file-size", "1K", "-"], big.as_bytes());
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["skipped_too_large"], 1);
    assert_eq!(doc["stats"]["files"], 0);
    // Git sources take no stdin; --stdin-name needs it.
    assert_eq!(
        run_in(dir.path(), &["scan", "--staged", "-"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run_in(dir.path(), &["scan", "--stdin-name", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[cfg(unix)]
#[test]
fn dev_stdin_and_fifos_are_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    let env = genesys_env(12);
    let (code, doc) = scan_stdin(dir.path(), &["/dev/stdin"], env.as_bytes());
    assert_eq!(code, 1, "{doc:#}");

    let fifo = dir.path().join("pipe");
    common::mkfifo(&fifo);
    let feed = |data: Vec<u8>| {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            // Opening for writing waits for the scan to open it for reading.
            let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let _ = w.write_all(&data);
        })
    };
    // Should a scan never open the FIFO, opening it here (read and write: never blocks on
    // Linux) releases the writer, so a failure fails rather than hangs.
    let release = || {
        drop(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo),
        );
    };
    let writer = feed(env.clone().into_bytes());
    let (code, doc) = scan_json(dir.path(), &["pipe"]);
    release();
    writer.join().unwrap();
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["pipe"]);

    // A stream over the cap: read up to the cap, then counted too large and warned.
    let writer = feed(format!("{}{}", "#".repeat(5000), env).into_bytes());
    let out = run_in(
        dir.path(),
        &["scan", "--format", "json", "--max-file-size", "1K", "pipe"],
    );
    release();
    writer.join().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(doc["stats"]["skipped_too_large"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 1024 bytes"));

    // Met while walking, a FIFO is counted, never opened (that would wait for a writer).
    write_files(dir.path(), &[("a.env", &env)]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(doc["stats"]["skipped_special"], 1);
    let text = String::from_utf8(run_in(dir.path(), &["scan"]).stdout).unwrap();
    assert!(
        text.contains("1 FIFO(s), socket(s) or device(s);"),
        "{text}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn files_whose_stat_size_is_zero_are_read_to_eof() {
    // procfs reports size 0; leakgate's own environment holds the planted pair, NUL-separated.
    let dir = tempfile::tempdir().unwrap();
    let id = client_id(13);
    let secret = genesys_secret(13);
    let out = common::leakgate()
        .current_dir(dir.path())
        .env("GENESYS_CLOUD_CLIENT_ID", &id)
        .env("GENESYS_CLOUD_CLIENT_SECRET", &secret)
        .args(["scan", "--format", "json", "/proc/self/environ"])
        .output()
        .unwrap();
    assert_eq!(std::fs::metadata("/proc/self/environ").unwrap().len(), 0);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&doc)[0]["pair"]["id"], id.as_str());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret));
}

#[cfg(unix)]
#[test]
fn an_unreadable_input_is_an_error_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.env", &genesys_env(14))]);
    let socket = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (code, doc) = scan_json(dir.path(), &["sock", "a.env"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["a.env"]);
    assert_eq!(doc["stats"]["errors"], 1);
    assert_eq!(doc["errors"][0]["path"], "sock");
}

#[test]
fn a_big_file_is_read_not_mapped_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}{}", "x = 1\n".repeat(600_000), genesys_env(15));
    assert!(text.len() > 3 << 20);
    write_files(dir.path(), &[("big.env", &text)]);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc)[0]["line"], 600_003);
    // Files are read, never memory-mapped: a file truncated under a map is a SIGBUS.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("memmap2"));
}

fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom.then_some(0xfeff).into_iter().chain(text.encode_utf16());
    for u in units {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    // What PowerShell's `>` writes: UTF-16LE with a BOM and CRLF.
    let text = format!("# caf\u{e9}\r\n{}", genesys_env(16).replace('\n', "\r\n"));
    std::fs::write(dir.path().join("ps.env"), utf16(&text, true, true)).unwrap();
    std::fs::write(dir.path().join("nobom.env"), utf16(&text, true, false)).unwrap();
    std::fs::write(dir.path().join("be.env"), utf16(&text, false, true)).unwrap();
    // Each file on its own: the three hold one secret, which grouping would list once.
    let (code, doc) = scan_json(dir.path(), &["--no-group"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["be.env", "nobom.env", "ps.env"]);
    for f in findings(&doc) {
        // The line of the decoded text; the column counts its UTF-8 bytes.
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(4), Some(29))
        );
    }
    assert_eq!(doc["stats"]["skipped_binary"], 0);
}

#[test]
fn text_with_a_stray_nul_is_scanned_and_binary_still_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut stray = b"header\0\x01\n".to_vec();
    stray.extend_from_slice(genesys_env(17).as_bytes());
    std::fs::write(dir.path().join("stray.env"), stray).unwrap();
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend_from_slice(genesys_env(18).as_bytes());
    std::fs::write(dir.path().join("tool"), elf).unwrap();
    let mut dense = vec![0u8; 4096];
    dense.extend_from_slice(genesys_env(19).as_bytes());
    std::fs::write(dir.path().join("data.bin"), dense).unwrap();
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found_paths(&doc), ["stray.env"]);
    assert_eq!(doc["stats"]["skipped_binary"], 2);
}

#[test]
fn only_an_exact_lfs_pointer_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let oid = "0123456789abcdef".repeat(4);
    let pointer =
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 42\n");
    write_files(
        dir.path(),
        &[
            ("model.bin", &pointer),
            (
                "looks-like.env",
                &format!(
                    "version https://git-lfs.github.com/spec/v1\n{}",
                    genesys_env(20)
                ),
            ),
            ("tail.env", &format!("{pointer}{}", genesys_env(21))),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found_paths(&doc), ["looks-like.env", "tail.env"]);
    assert_eq!(doc["stats"]["skipped_lfs_pointers"], 1);
}

#[cfg(unix)]
#[test]
fn paths_are_exact_never_lossy() {
    use std::os::unix::ffi::OsStrExt;
    for in_repo in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        if in_repo {
            git_init(dir.path());
        }
        let env = genesys_env(22);
        let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.env"));
        std::fs::write(bad, &env).unwrap();
        write_files(dir.path(), &[("back\\slash.env", &env)]);
        if in_repo {
            git(dir.path(), &["add", "-A"]);
        }
        // Each path on its own: the two hold one secret, which grouping would list once.
        let (code, doc) = scan_json(dir.path(), &["--no-group"]);
        assert_eq!(code, 1, "{doc:#}");
        assert_eq!(found_paths(&doc), ["back\\slash.env", "bad\\xff.env"]);
        let text = run_in(dir.path(), &["scan", "--no-group"]);
        let text = String::from_utf8(text.stdout).expect("text output is UTF-8");
        assert!(text.contains("back\\slash.env:3:"), "{text}");
        assert!(text.contains("bad\\xff.env:3:"), "{text}");
        // Grouped, the second path is the secret's other place, named just as exactly.
        let (_, doc) = scan_json(dir.path(), &[]);
        assert_eq!(findings(&doc).len(), 1, "{doc:#}");
        assert_eq!(findings(&doc)[0]["occurrences"][0]["path"], "bad\\xff.env");
        let text = run_in(dir.path(), &["scan", "--all-locations"]);
        let text = String::from_utf8(text.stdout).expect("text output is UTF-8");
        assert!(text.contains("      bad\\xff.env:3:"), "{text}");
    }
}

#[test]
fn files_under_allowed_paths_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (".leakgate.toml", "[allow]\npaths = [\"fixtures/**\"]\n"),
            ("fixtures/app.env", &genesys_env(61)),
            ("src/app.env", &genesys_env(62)),
        ],
    );
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(findings(&doc).len(), 1, "{doc}");
    assert_eq!(doc["stats"]["skipped_allowed_paths"], 1, "{doc}");
    let out = run_in(dir.path(), &["scan"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 under allowed paths"), "{text}");
}
