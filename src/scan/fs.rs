//! Scanning what is named on the command line: folders (a parallel walk), files, streams
//! (FIFOs, `/dev/stdin`, `<(...)`) and standard input, then the files in parallel on rayon.
//!
//! Inside a Git work tree a folder's scan covers what Git knows: every tracked file, read from
//! the index (so a force-added file that `.gitignore` lists is scanned), plus the untracked files
//! Git does not ignore (`.gitignore` files from the repository root down, `.git/info/exclude`,
//! the global excludes; never a `.gitignore` above the root, which Git never reads). A tracked
//! file deleted from the work tree has nothing to read and is no error; `--staged` and
//! `--history` read its committed content. Submodules are counted and not entered (scan one by
//! naming its folder). Outside a repository `.gitignore` and `.ignore` files apply as ripgrep
//! applies them.
//!
//! Files are read, never memory-mapped (a file truncated under a map kills the process with
//! SIGBUS), and read to EOF rather than to their stat size (procfs, FUSE and growing files
//! report a wrong one), at most `max_file_size + 1` bytes: more is "too large", never cut.

use super::{ScanOptions, Tally};
use crate::finding::{display_path, ScanKind, ScanReport};
use crate::matcher::Matcher;
use gix::bstr::ByteSlice;
use gix::index::entry::Mode;
use rayon::prelude::*;
use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How standard input is shown unless named otherwise.
pub const STDIN_NAME: &str = "<stdin>";

/// One thing to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A folder, file, FIFO or device. A symlink named here is followed.
    Path(PathBuf),
    /// Standard input, shown as `name` (see [`STDIN_NAME`]).
    Stdin { name: String },
}

/// One thing the walk found.
enum Entry {
    /// A file or stream to read to EOF; `len` is the stat size of a regular file.
    File {
        path: PathBuf,
        shown: String,
        len: Option<u64>,
    },
    Stdin {
        shown: String,
    },
    Symlink,
    Submodule,
    /// A FIFO, socket or device met while walking: never opened (a FIFO would block).
    Special,
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
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    scan_inputs(matcher, &inputs, base, opts)
}

/// Scan `inputs`. Paths in findings are relative to `base`, `/`-separated, exact
/// ([`display_path`]).
pub fn scan_inputs(
    matcher: &Matcher,
    inputs: &[Input],
    base: &Path,
    opts: &ScanOptions,
) -> ScanReport {
    let started = Instant::now();
    let mut entries = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin { name } => entries.push(Entry::Stdin {
                shown: name.clone(),
            }),
            Input::Path(root) => named(root, base, opts, &mut entries),
        }
    }
    let max = opts.max_file_size;
    let tally_for_opts = || Tally::new(opts);
    let tally = entries
        .into_par_iter()
        .fold(tally_for_opts, |mut t, e| {
            match e {
                Entry::Symlink => t.stats.skipped_symlinks += 1,
                Entry::Submodule => t.stats.skipped_submodules += 1,
                Entry::Special => t.stats.skipped_special += 1,
                Entry::Error { shown, message } => t.error(shown, message),
                Entry::File { shown, .. } | Entry::Stdin { shown }
                    if matcher.path_allowed(&shown) =>
                {
                    t.stats.skipped_allowed_paths += 1;
                }
                Entry::File { len: Some(len), .. } if len > max => t.stats.skipped_too_large += 1,
                Entry::File { path, shown, len } => match std::fs::File::open(&path) {
                    Ok(file) => scan_reader(matcher, &shown, file, len.unwrap_or(0), max, &mut t),
                    Err(e) => t.error(shown, e.to_string()),
                },
                Entry::Stdin { shown } => {
                    scan_reader(matcher, &shown, std::io::stdin().lock(), 0, max, &mut t);
                }
            }
            t
        })
        .reduce(Tally::default, Tally::merge);
    tally.finish(Vec::new(), ScanKind::Tree, max, started)
}

thread_local! {
    /// One read buffer per worker, reused from file to file.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Read `reader` to EOF, at most `max + 1` bytes (`hint`: the size expected), and scan it, or
/// count it too large when there was more than `max`.
fn scan_reader(
    matcher: &Matcher,
    shown: &str,
    reader: impl Read,
    hint: u64,
    max: u64,
    t: &mut Tally,
) {
    let limit = max.saturating_add(1);
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        buf.reserve(usize::try_from(hint.min(limit)).unwrap_or(0));
        match reader.take(limit).read_to_end(buf) {
            Ok(n) if n as u64 > max => t.stats.skipped_too_large += 1,
            Ok(_) => t.scan_blob(matcher, shown, buf),
            Err(e) => t.error(shown, e.to_string()),
        }
    });
}

/// Display form of `path` relative to `base`: its components joined by `/`, each exact
/// ([`display_path`]: a `\` in a Unix name stays a `\`, bytes that are not UTF-8 are escaped).
pub fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut out: Vec<u8> = Vec::new();
    for c in rel.components() {
        let part = match c {
            Component::CurDir => continue,
            Component::RootDir => {
                out.push(b'/');
                continue;
            }
            Component::Prefix(p) => p.as_os_str().as_encoded_bytes(),
            Component::ParentDir => b"..",
            Component::Normal(n) => n.as_encoded_bytes(),
        };
        if !out.is_empty() && !out.ends_with(b"/") {
            out.push(b'/');
        }
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        return path
            .file_name()
            .map_or_else(|| ".".into(), |n| display_path(n.as_encoded_bytes()));
    }
    display_path(&out)
}

/// What a path named on the command line holds: a folder is walked; anything else (a file, a
/// FIFO, a device, through a symlink or not) is read as a stream.
fn named(root: &Path, base: &Path, opts: &ScanOptions, out: &mut Vec<Entry>) {
    let shown = relative(root, base);
    match std::fs::metadata(root) {
        Err(e) => out.push(Entry::Error {
            shown,
            message: e.to_string(),
        }),
        Ok(md) if md.is_dir() => walk(root, base, opts, out),
        Ok(md) => out.push(Entry::File {
            path: root.to_path_buf(),
            shown,
            len: md.is_file().then_some(md.len()),
        }),
    }
}

/// What Git tracks below a folder in a work tree.
#[derive(Default)]
struct Tracked {
    /// Tracked files and symlinks below the folder, as paths under it.
    paths: Vec<PathBuf>,
    /// Submodules below the folder: counted, not entered.
    submodules: HashSet<PathBuf>,
    /// Tracked paths this system cannot name (shown relative to the folder).
    unnamed: Vec<String>,
}

/// What the index of the repository whose work tree holds `dir` tracks below `dir`, or `None`
/// when `dir` is in no work tree.
fn tracked(dir: &Path) -> Result<Option<Tracked>, String> {
    let repo = match gix::discover(dir) {
        Ok(repo) => repo,
        // A `.git` that cannot be opened is a repository whose tracked files we cannot list.
        Err(e) if dir.ancestors().any(|d| d.join(".git").exists()) => {
            return Err(format!("not a readable Git repository: {e}"))
        }
        Err(_) => return Ok(None),
    };
    let Some(workdir) = repo.workdir() else {
        return Ok(None);
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (real_dir, real_work) = (canonical(dir), canonical(workdir));
    let Ok(rel) = real_dir.strip_prefix(&real_work) else {
        return Ok(None);
    };
    let mut prefix = Vec::new();
    for c in rel.components() {
        prefix.extend_from_slice(c.as_os_str().as_encoded_bytes());
        prefix.push(b'/');
    }
    let index = repo
        .index_or_empty()
        .map_err(|e| format!("reading the Git index: {e}"))?;
    let state: &gix::index::State = &index;
    let entries = if prefix.is_empty() {
        state.entries()
    } else {
        state.prefixed_entries(prefix.as_bstr()).unwrap_or(&[])
    };
    let mut out = Tracked::default();
    for e in entries {
        let under = &e.path(state)[prefix.len()..];
        let Ok(rel) = gix::path::from_byte_slice(under) else {
            // Only where paths must be Unicode (Windows) and this one is not.
            out.unnamed.push(display_path(under));
            continue;
        };
        let path = dir.join(rel);
        match e.mode {
            Mode::COMMIT => {
                out.submodules.insert(path);
            }
            Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK => out.paths.push(path),
            // A sparse index's directory entry: not checked out, nothing on disk to read.
            _ => {}
        }
    }
    // Conflicted paths are listed once per stage.
    out.paths.dedup();
    Ok(Some(out))
}

/// Walk the folder `root`: in a work tree, its tracked files plus what Git does not ignore;
/// elsewhere, what ignore files do not exclude (everything with `--no-ignore`).
fn walk(root: &Path, base: &Path, opts: &ScanOptions, out: &mut Vec<Entry>) {
    // The walker does not enter a symlink given as its root: walk the target, show the link.
    let real = match std::fs::symlink_metadata(root) {
        Ok(md) if md.file_type().is_symlink() => {
            std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
        }
        _ => root.to_path_buf(),
    };
    let shown = |p: &Path| relative(&root.join(p.strip_prefix(&real).unwrap_or(p)), base);
    // A repository whose index cannot be read is still a repository: Git's rules apply.
    let (in_repo, tracked) = match tracked(&real) {
        Ok(t) => (t.is_some(), t.unwrap_or_default()),
        Err(message) => {
            out.push(Entry::Error {
                shown: relative(root, base),
                message,
            });
            (true, Tracked::default())
        }
    };
    let Tracked {
        paths,
        submodules,
        unnamed,
    } = tracked;
    out.extend(submodules.iter().map(|_| Entry::Submodule));
    out.extend(unnamed.into_iter().map(|shown| Entry::Error {
        shown,
        message: "a tracked path this system cannot name".into(),
    }));
    let submodules = Arc::new(submodules);

    let respect = !opts.no_ignore;
    let mut builder = ignore::WalkBuilder::new(&real);
    builder
        .hidden(false)
        .parents(respect)
        // `.ignore` files are not Git's: inside a repository only Git's rules apply.
        .ignore(respect && !in_repo)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        // In a repository, stop at its root: a `.gitignore` above it is never read.
        .require_git(in_repo)
        .follow_links(opts.follow_links)
        .filter_entry(move |e| e.file_name() != ".git" && !submodules.contains(e.path()));
    // As many walkers as rayon's pool has workers (`--threads`), at most the 12 `ignore` picks.
    builder.threads(rayon::current_num_threads().min(12));
    let found = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let found = &found;
        let shown = &shown;
        Box::new(move |result| {
            let item = match result {
                Err(err) => Some((None, walk_error(&err, shown))),
                Ok(entry) => entry.file_type().and_then(|ft| {
                    let path = entry.path();
                    let e = if ft.is_dir() {
                        return None;
                    } else if ft.is_symlink() {
                        Entry::Symlink
                    } else if ft.is_file() {
                        match entry.metadata() {
                            Ok(md) => Entry::File {
                                path: path.to_path_buf(),
                                shown: shown(path),
                                len: Some(md.len()),
                            },
                            Err(e) => Entry::Error {
                                shown: shown(path),
                                message: e.to_string(),
                            },
                        }
                    } else {
                        Entry::Special
                    };
                    Some((Some(path.to_path_buf()), e))
                }),
            };
            if let Some(item) = item {
                found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(item);
            }
            ignore::WalkState::Continue
        })
    });
    let found = found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen: HashSet<&PathBuf> = found.iter().filter_map(|(p, _)| p.as_ref()).collect();
    let rest: Vec<Entry> = paths
        .iter()
        .filter(|p| !seen.contains(p))
        .filter_map(|p| tracked_entry(p, shown(p), opts.follow_links))
        .collect();
    drop(seen);
    out.extend(found.into_iter().map(|(_, e)| e));
    out.extend(rest);
}

/// A tracked file the walk did not reach (it is ignored, or below an ignored folder), taken
/// by the walk's rules for what it is now; `None` when it is gone from the work tree.
fn tracked_entry(path: &Path, shown: String, follow_links: bool) -> Option<Entry> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        // Deleted in the work tree (or a parent replaced by a file): nothing to read.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return None
        }
        Err(e) => {
            return Some(Entry::Error {
                shown,
                message: e.to_string(),
            })
        }
    };
    let md = if md.file_type().is_symlink() {
        if !follow_links {
            return Some(Entry::Symlink);
        }
        match std::fs::metadata(path) {
            Ok(md) => md,
            Err(e) => {
                return Some(Entry::Error {
                    shown,
                    message: e.to_string(),
                })
            }
        }
    } else {
        md
    };
    if md.is_dir() {
        // Replaced by a folder: what it holds is the walk's to find.
        None
    } else if md.is_file() {
        Some(Entry::File {
            path: path.to_path_buf(),
            shown,
            len: Some(md.len()),
        })
    } else {
        Some(Entry::Special)
    }
}

fn walk_error(err: &ignore::Error, shown: impl Fn(&Path) -> String) -> Entry {
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
        shown: path.map(|p| shown(&p)).unwrap_or_default(),
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn relative_paths_are_exact() {
        use std::os::unix::ffi::OsStrExt;
        let base = Path::new("/repo");
        let name = std::ffi::OsStr::from_bytes(b"a\\b\xff.env");
        assert_eq!(
            relative(&base.join("src").join(name), base),
            "src/a\\\\b\\xff.env"
        );
        assert_eq!(relative(Path::new("/repo/src/a\\b"), base), "src/a\\b");
        assert_eq!(relative(Path::new("/dev/fd/63"), base), "/dev/fd/63");
        assert_eq!(relative(Path::new("/repo/./x"), base), "x");
        assert_eq!(relative(Path::new("/repo"), base), "repo");
    }
}
