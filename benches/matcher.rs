//! Matcher and tree-scan throughput: ordinary source with no secrets, dense secrets, a minified
//! one-line bundle, and a whole-tree scan; and the floor under the first, a literal
//! (Aho-Corasick) search for the rules' keywords over the same bytes. Inputs are distinct content: crate sources from the
//! local Cargo registry (or this repository when the registry is empty) and generated secrets.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakgate::{rules, scan, Config, Matcher};
use std::path::{Path, PathBuf};

/// Up to `limit` bytes of source files under `root`, in a stable order.
fn collect_sources(root: &Path, limit: usize) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut total = 0;
    let mut walker: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = walker.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries.into_iter().rev() {
            if p.is_dir() {
                walker.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("rs" | "js" | "py" | "toml" | "md")
            ) {
                if let Ok(data) = std::fs::read(&p) {
                    total += data.len();
                    files.push((p.display().to_string(), data));
                    if total >= limit {
                        return files;
                    }
                }
            }
        }
    }
    files
}

fn source_root() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    let reg = home.join("registry").join("src");
    if reg.is_dir() {
        reg
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
    }
}

fn secret(rng: &mut fastrand::Rng) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s: String = (0..42).map(|_| A[rng.usize(..64)] as char).collect();
    s.push(b"AEIMQUYcgkosw048"[rng.usize(..16)] as char);
    s
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    let h = |rng: &mut fastrand::Rng, n| {
        (0..n)
            .map(|_| b"0123456789abcdef"[rng.usize(..16)] as char)
            .collect::<String>()
    };
    format!(
        "{}-{}-4{}-a{}-{}",
        h(rng, 8),
        h(rng, 4),
        h(rng, 3),
        h(rng, 3),
        h(rng, 12)
    )
}

/// A file with a Genesys credential pair every ten lines among ordinary configuration.
fn dense_secrets(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(1);
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            "# service {i}\nGENESYS_CLOUD_REGION=eu-west-1\nGENESYS_CLOUD_CLIENT_ID={}\nGENESYS_CLOUD_CLIENT_SECRET={}\nLOG_LEVEL=info\nTIMEOUT=30\nRETRIES=3\nNAME=svc{i}\nPORT=80{}\nDEBUG=false\n",
            uuid(&mut rng),
            secret(&mut rng),
            i % 10
        ));
    }
    out.into_bytes()
}

/// Source joined into one long line, as a bundler leaves it.
fn minified(sources: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (_, d) in sources {
        for line in d.split(|&b| b == b'\n') {
            out.extend_from_slice(line.trim_ascii());
            out.push(b';');
        }
    }
    out
}

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A GitHub-format token: 30 random characters and their CRC-32 in 6 base62 digits, so the
/// rule's checksum passes and each token becomes a finding.
fn checksummed_token(rng: &mut fastrand::Rng) -> String {
    const GMP: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let body: String = (0..30)
        .map(|_| BASE62[rng.usize(..BASE62.len())] as char)
        .collect();
    let mut sum = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = GMP[(sum % 62) as usize];
        sum /= 62;
    }
    format!("{}{body}{}", "ghp_", String::from_utf8_lossy(&digits))
}

fn benches(c: &mut Criterion) {
    let matcher = Matcher::new(rules::builtin(), &Config::default()).unwrap();
    let sources = collect_sources(&source_root(), 8 << 20);
    let source_bytes: usize = sources.iter().map(|(_, d)| d.len()).sum();

    let mut g = c.benchmark_group("matcher");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(source_bytes as u64));
    // The floor: finding the prefilter's keywords (those of rules not restricted by path) alone, a non-overlapping DFA search (the fastest
    // automaton Aho-Corasick builds for hundreds of case-insensitive literals).
    let keywords: Vec<String> = matcher
        .rules()
        .filter(|r| r.paths.is_empty())
        .flat_map(|r| r.keywords.clone())
        .collect();
    let floor = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&keywords)
        .unwrap();
    g.bench_function("keywords_floor", |b| {
        b.iter(|| {
            sources
                .iter()
                .map(|(_, d)| floor.find_iter(d.as_slice()).count())
                .sum::<usize>()
        });
    });
    g.bench_function("source_no_secrets", |b| {
        b.iter(|| {
            sources
                .iter()
                .map(|(p, d)| matcher.scan(p, d).len())
                .sum::<usize>()
        });
    });
    let dense = dense_secrets(20_000);
    g.throughput(Throughput::Bytes(dense.len() as u64));
    g.bench_function("dense_secrets", |b| {
        b.iter(|| matcher.scan("dense.env", &dense).len());
    });
    let mini = minified(&sources[..sources.len().min(200)]);
    g.throughput(Throughput::Bytes(mini.len() as u64));
    g.bench_function("minified_one_line", |b| {
        b.iter(|| matcher.scan("bundle.min.js", &mini).len());
    });
    // One line dense with findings, and the same with one inline allow on another line: both
    // must be linear in the line's length (quadratic before issue 8).
    let mut rng = fastrand::Rng::with_seed(2);
    let tokens: Vec<String> = (0..25_000).map(|_| checksummed_token(&mut rng)).collect();
    let bundle = tokens.join(",").into_bytes();
    g.throughput(Throughput::Bytes(bundle.len() as u64));
    g.bench_function("one_line_dense_findings", |b| {
        b.iter(|| matcher.scan("bundle.min.js", &bundle).len());
    });
    let mut allowed = bundle.clone();
    allowed.extend_from_slice(b"\n// leakgate:allow\n");
    g.bench_function("one_line_dense_findings_inline_allow", |b| {
        b.iter(|| matcher.scan("bundle.min.js", &allowed).len());
    });
    g.finish();

    let root = source_root();
    let opts = scan::ScanOptions::default();
    let first = scan::fs::scan_paths(&matcher, std::slice::from_ref(&root), &root, &opts);
    let mut g = c.benchmark_group("tree");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(first.stats.bytes));
    g.bench_function("scan_tree", |b| {
        b.iter(|| {
            scan::fs::scan_paths(&matcher, std::slice::from_ref(&root), &root, &opts)
                .findings
                .len()
        });
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
