//! Scanning a working tree or any folder: a parallel walk that honours `.gitignore`, then the
//! files in parallel on rayon, large ones memory-mapped.

use super::{ScanOptions, Tally};
use crate::finding::ScanReport;
use crate::matcher::Matcher;
use rayon::prelude::*;
use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Files at least this large are memory-mapped instead of read.
const MMAP_THRESHOLD: u64 = 1024 * 1024;

/// One thing the walk found.
enum Entry {
    File {
        path: PathBuf,
        shown: String,
        len: u64,
    },
    Symlink,
    Error {
        shown: String,
        message: String,
    },
}

/// Scan `paths` (files or folders). Paths in findings are relative to `base`, `/`-separated.
pub fn scan_paths(
    matcher: &Matcher,
    paths: &[PathBuf],
    base: &Path,
    opts: &ScanOptions,
) -> ScanReport {
    let started = Instant::now();
    let entries = walk(paths, base, opts);
    let tally_for_opts = || Tally::new(opts);
    let tally = entries
        .into_par_iter()
        .fold(tally_for_opts, |mut t, e| {
            match e {
                Entry::Symlink => t.stats.skipped_symlinks += 1,
                Entry::Error { shown, message } => t.error(shown, message),
                Entry::File { shown, .. } if matcher.path_allowed(&shown) => {}
                Entry::File { len, .. } if len > opts.max_file_size => {
                    t.stats.skipped_too_large += 1
                }
                Entry::File { path, shown, len } => scan_file(matcher, &path, &shown, len, &mut t),
            }
            t
        })
        .reduce(Tally::default, Tally::merge);
    tally.finish(Vec::new(), "file(s)", opts.max_file_size, started)
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn scan_file(matcher: &Matcher, path: &Path, shown: &str, len: u64, t: &mut Tally) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return t.error(shown, e.to_string()),
    };
    if len >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and dropped before we return; a file truncated while
        // mapped is the one hazard, accepted as ripgrep accepts it.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => t.scan_blob(matcher, shown, &map),
            Err(e) => t.error(shown, format!("memory-mapping: {e}")),
        }
        return;
    }
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        match (&file).take(len + 1).read_to_end(buf) {
            Ok(_) => t.scan_blob(matcher, shown, buf),
            Err(e) => t.error(shown, e.to_string()),
        }
    });
}

/// Display form of `path` relative to `base`.
pub fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    if s.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into())
    } else {
        s
    }
}

fn walk(paths: &[PathBuf], base: &Path, opts: &ScanOptions) -> Vec<Entry> {
    let Some((first, rest)) = paths.split_first() else {
        return Vec::new();
    };
    let mut builder = ignore::WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    let respect = !opts.no_ignore;
    builder
        .hidden(false)
        .parents(respect)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .require_git(false)
        .follow_links(opts.follow_links)
        .filter_entry(|e| e.file_name() != ".git");
    let out = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let out = &out;
        Box::new(move |result| {
            let found = match result {
                Err(err) => Some(walk_error(&err, base)),
                Ok(entry) => entry.file_type().and_then(|ft| {
                    let shown = relative(entry.path(), base);
                    if ft.is_symlink() {
                        Some(Entry::Symlink)
                    } else if ft.is_file() {
                        Some(match entry.metadata() {
                            Ok(md) => Entry::File {
                                path: entry.path().to_path_buf(),
                                shown,
                                len: md.len(),
                            },
                            Err(e) => Entry::Error {
                                shown,
                                message: e.to_string(),
                            },
                        })
                    } else {
                        None
                    }
                }),
            };
            if let Some(e) = found {
                out.lock().unwrap_or_else(|p| p.into_inner()).push(e);
            }
            ignore::WalkState::Continue
        })
    });
    let mut v = out.into_inner().unwrap_or_else(|p| p.into_inner());
    v.sort_by(|a, b| shown_of(a).cmp(shown_of(b)));
    v
}

fn shown_of(e: &Entry) -> &str {
    match e {
        Entry::File { shown, .. } | Entry::Error { shown, .. } => shown,
        Entry::Symlink => "",
    }
}

fn walk_error(err: &ignore::Error, base: &Path) -> Entry {
    let path = match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => match &**err {
            ignore::Error::WithPath { path, .. } => Some(path.clone()),
            _ => None,
        },
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    };
    Entry::Error {
        shown: path.map(|p| relative(&p, base)).unwrap_or_default(),
        message: err.to_string(),
    }
}
