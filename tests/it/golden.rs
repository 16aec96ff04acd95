//! Findings unchanged by speed work: cold scans (history and tree) of a fixed corpus are
//! compared line by line with the findings recorded in `tests/data/golden/`. The corpus is built
//! at test time, deterministically: every built-in rule's own examples (positive and negative,
//! from `rules/`), seeded text dense with the rules' keywords, a history that adds, changes,
//! deletes, branches and moves files over a hundred commits (enough for the walk to be shared
//! among threads), packed by `git gc` and then grown by loose commits, at fixed dates. A
//! change to the matcher, the prefilter, the pack pass or attribution that alters what is found
//! or where fails here. When a change is meant to alter findings (a new rule, a rule fixed),
//! `LEAKGATE_BLESS=1 cargo test --test it golden` rewrites the record, and the diff shows in
//! review exactly what moved. The record holds rule ids, places, fingerprints and commits,
//! never a secret.

use crate::common::{self, leakgate, Repo};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const START: u64 = 1_600_000_000;

fn commit_at(repo: &Repo, message: &str, time: u64) {
    repo.git(&["add", "-A"]);
    common::git_at(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", message],
        time,
    );
}

/// Files of rule examples: (path, text), for rules whose index is `part` mod 3.
fn examples(part: usize) -> Vec<(String, String)> {
    let mut rules = leakgate::rules::builtin();
    rules.sort_by_key(|a| a.id.to_string());
    let mut files = Vec::new();
    for (_, r) in rules.iter().enumerate().filter(|(i, _)| i % 3 == part) {
        let kinds = [("pos", &r.examples), ("neg", &r.negative_examples)];
        for (kind, list) in kinds {
            for (n, ex) in list.iter().enumerate() {
                let path = format!("{}/{kind}{n}/{}", r.id, ex.path());
                files.push((path, format!("{}\n", ex.text())));
            }
        }
    }
    files
}

/// Seeded lines of ordinary-looking code dense with the rules' keywords, and no secret.
fn noise(seed: u64, lines: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut keywords: Vec<String> = leakgate::rules::builtin()
        .into_iter()
        .flat_map(|r| r.keywords)
        .collect();
    keywords.sort();
    keywords.dedup();
    let words = [
        "let", "value", "config", "read", "from", "env", "return", "name",
    ];
    let mut out = String::new();
    for _ in 0..lines {
        let k = &keywords[rng.usize(..keywords.len())];
        let w = words[rng.usize(..words.len())];
        let _ = writeln!(
            out,
            "    let {w}_{} = {k}(\"{w}\"); // {k} {w}",
            rng.u16(..)
        );
    }
    out
}

fn write(repo: &Repo, files: &[(String, String)]) {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    common::write_files(repo.path(), &refs);
}

/// The corpus: see the module comment.
fn corpus() -> Repo {
    let repo = Repo::new();
    let mut t = START;
    let mut tick = || {
        t += 3600;
        t
    };
    for part in 0..3 {
        write(&repo, &examples(part));
        write(
            &repo,
            &[(format!("src/noise{part}.rs"), noise(part as u64, 400))],
        );
        commit_at(&repo, &format!("examples, part {part}"), tick());
    }
    // Every example of part 0 moves down a line; part 1 is deleted.
    let moved: Vec<(String, String)> = examples(0)
        .into_iter()
        .map(|(p, text)| (p, format!("// moved\n{text}")))
        .collect();
    write(&repo, &moved);
    commit_at(&repo, "move part 0", tick());
    for (p, _) in examples(1) {
        let _ = std::fs::remove_file(repo.path().join(p));
    }
    commit_at(&repo, "delete part 1", tick());
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~2"]);
    write(&repo, &[("side/noise.rs".to_string(), noise(9, 300))]);
    commit_at(&repo, "side branch", tick());
    repo.git(&["checkout", "-q", "main"]);
    common::git_at(
        repo.path(),
        &["merge", "-q", "--no-ff", "-m", "merge side", "side"],
        tick(),
    );
    // A long run of small commits (more than one thread's share of a walk): noise grows,
    // examples move to new paths (the same blobs, first seen earlier), and deleted ones come
    // back under other names.
    let deleted = examples(1);
    for i in 0..90usize {
        let mut files = vec![(format!("src/step{}.rs", i % 7), noise(100 + i as u64, 20))];
        if i % 10 == 3 {
            let (path, text) = &moved[i % moved.len()];
            let _ = std::fs::remove_file(repo.path().join(path));
            files.push((format!("moved/{i}/{path}"), text.clone()));
        }
        if i % 15 == 7 {
            let (path, text) = &deleted[i % deleted.len()];
            files.push((format!("again/{i}/{path}"), text.clone()));
        }
        write(&repo, &files);
        commit_at(&repo, &format!("step {i}"), tick());
    }
    repo.git(&["gc", "-q", "--prune=now"]);
    // Loose objects after the pack: part 1 comes back, and noise grows.
    write(&repo, &examples(1));
    write(&repo, &[("src/noise0.rs".to_string(), noise(10, 500))]);
    commit_at(&repo, "part 1 again", tick());
    repo
}

/// The findings of a JSON report as lines: what users rely on, in report order.
fn digest(doc: &Value) -> String {
    let mut out = String::new();
    let s = &doc["stats"];
    for key in [
        "files",
        "bytes",
        "skipped_binary",
        "skipped_too_large",
        "skipped_symlinks",
        "skipped_submodules",
        "allowed",
        "findings_over_cap",
        "errors",
        "commits",
    ] {
        let _ = writeln!(out, "stats {key} {}", s[key]);
    }
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    for f in common::findings(doc) {
        let _ = writeln!(
            out,
            "{} {} {}:{}:{}-{}:{} {} {} {} places={}",
            text(&f["rule_id"]),
            text(&f["confidence"]),
            text(&f["path"]),
            f["line"],
            f["column"],
            f["end_line"],
            f["end_column"],
            text(&f["fingerprint"]),
            text(&f["commit"]),
            text(&f["secret"]),
            f["places"],
        );
        for o in f["occurrences"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  at {}:{}:{} {}",
                text(&o["path"]),
                o["line"],
                o["column"],
                text(&o["commit"]),
            );
        }
    }
    for e in doc["errors"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "error {e}");
    }
    out
}

fn scan(args: &[&str], target: &Path) -> Value {
    let out = leakgate()
        .args(["scan", "-q", "--format", "json"])
        .args(args)
        .arg(target)
        .output()
        .expect("run leakgate");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "leakgate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn record(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// Compare `got` with the record `name`, or rewrite the record under `LEAKGATE_BLESS=1`.
fn same_as_record(name: &str, got: &str) {
    let path = record(name);
    if std::env::var_os("LEAKGATE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; record it with LEAKGATE_BLESS=1 cargo test --test it golden",
            path.display()
        )
    });
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .take(10)
            .map(|(i, (w, g))| format!("line {}:\n  recorded {w}\n  now      {g}", i + 1))
            .collect();
        panic!(
            "findings differ from {} ({} lines recorded, {} now); first differences:\n{}\n\
             if the change is meant, record it with LEAKGATE_BLESS=1 cargo test --test it golden",
            path.display(),
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn history_and_tree_findings_match_the_record() {
    let repo = corpus();
    let history = digest(&scan(&["--history"], repo.path()));
    // The corpus is made so every part of the scan has work: findings, and moved ones.
    assert!(history.lines().filter(|l| !l.starts_with(' ')).count() > 300);
    same_as_record("history.txt", &history);
    // One thread or two: the same report.
    assert_eq!(
        digest(&scan(&["--history", "-j", "1"], repo.path())),
        history
    );
    let tree = digest(&scan(&[], repo.path()));
    same_as_record("tree.txt", &tree);
}
