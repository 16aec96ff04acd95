//! `scan --history` throughput on a generated repository: 300 commits over 60 source-like
//! files (a few MB of unique blob content), built once with the git CLI at bench setup; and a
//! scan with `--cache` after one new commit, against a cache of the history before it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakgate::scan::git::{scan_history, HistoryOptions, Progress};
use leakgate::scan::ScanOptions;
use leakgate::{rules, Config, Matcher};
use std::path::Path;
use std::process::Command;

const FILES: usize = 60;
const COMMITS: usize = 300;

/// Seconds since the epoch for the next git command: commits a minute apart, as pushes are.
static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_700_000_000);

fn git(dir: &Path, args: &[&str]) {
    let date = format!(
        "{} +0000",
        CLOCK.fetch_add(60, std::sync::atomic::Ordering::Relaxed)
    );
    let ok = Command::new("git")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("run git")
        .success();
    assert!(ok, "git {args:?}");
}

/// Source-like text: identifiers, numbers, strings; deterministic for `seed`.
fn source(rng: &mut fastrand::Rng, lines: usize) -> String {
    const WORDS: &[&str] = &[
        "let", "config", "client", "token", "region", "fn", "return", "match", "value", "error",
        "request", "response", "String", "Vec", "impl", "self", "map", "unwrap", "parse", "id",
    ];
    let mut s = String::new();
    for _ in 0..lines {
        for _ in 0..rng.usize(4..12) {
            s.push_str(WORDS[rng.usize(..WORDS.len())]);
            s.push(if rng.bool() { ' ' } else { '_' });
        }
        s.push_str(&format!("= \"{:x}\";\n", rng.u64(..)));
    }
    s
}

fn build_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut rng = fastrand::Rng::with_seed(7);
    for f in 0..FILES {
        std::fs::write(dir.join(format!("f{f}.rs")), source(&mut rng, 200)).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    for c in 0..COMMITS {
        for _ in 0..3 {
            let f = rng.usize(..FILES);
            let path = dir.join(format!("f{f}.rs"));
            let mut text = std::fs::read_to_string(&path).unwrap();
            let at = rng.usize(..text.len() / 2);
            let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
            text.insert_str(at, &source(&mut rng, 3));
            std::fs::write(&path, text).unwrap();
        }
        git(dir, &["commit", "-q", "-a", "-m", &format!("change {c}")]);
    }
    git(dir, &["gc", "-q"]);
}

fn history(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    build_repo(dir.path());
    let matcher = Matcher::new(rules::builtin(), &Config::default()).unwrap();
    let opts = ScanOptions::default();
    let hist = HistoryOptions::default();
    let scan = || scan_history(dir.path(), &matcher, &opts, &hist, &Progress::default()).unwrap();
    let bytes = scan().stats.bytes;

    let mut group = c.benchmark_group("history");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("scan_history", |b| b.iter(scan));
    group.finish();

    // A cache of the history as it is, then one more commit: each run starts from a copy of
    // that cache, as a CI run after one push does.
    let caches = tempfile::tempdir().unwrap();
    let before = caches.path().join("before");
    let cached = |cache: &Path| HistoryOptions {
        cache: Some(cache.to_path_buf()),
        ..HistoryOptions::default()
    };
    scan_history(
        dir.path(),
        &matcher,
        &opts,
        &cached(&before),
        &Progress::default(),
    )
    .unwrap();
    std::fs::write(dir.path().join("new.rs"), "pub fn new() {}\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "one more"]);
    let run = caches.path().join("run");
    let mut group = c.benchmark_group("history");
    group.sample_size(20);
    group.bench_function("cached_after_one_commit", |b| {
        b.iter_batched(
            || std::fs::copy(&before, &run).unwrap(),
            |_| {
                let report = scan_history(
                    dir.path(),
                    &matcher,
                    &opts,
                    &cached(&run),
                    &Progress::default(),
                )
                .unwrap();
                assert_eq!(report.stats.commits_from_cache, COMMITS as u64 + 1);
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
