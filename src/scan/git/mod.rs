//! Git as a source: every blob reachable from any ref (`--history`), the blobs the commits of a
//! range introduce (`--range`), and what is staged for the next commit (`--staged`).
//!
//! History is read the way an object database wants to be read: a cheap walk of commits and
//! trees (each tree decoded once) maps every blob to the commit and path that first introduced
//! it; the unique blobs are then read in pack order and scanned in parallel, one thread-local
//! repository per worker, holding one blob at a time; only blobs with findings have their
//! provenance (author, date, other commits and paths) resolved in full.

mod blobs;
mod cache;
mod history;
mod origin;
mod packs;
mod staged;
mod tree;
pub mod trusted;

pub use history::{scan_history, HistoryOptions};
pub use staged::scan_staged;
pub use trusted::{TrustedError, TrustedTree};

use crate::finding::display_path;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// Errors that stop a Git scan before it can start. A problem with one object (missing,
/// corrupt) does not stop the run: it is recorded in the report and counted.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not in a Git repository, or the repository cannot be opened.
    #[error("{}: not a readable Git repository", display_path(path.as_os_str().as_encoded_bytes()))]
    Open {
        path: PathBuf,
        #[source]
        source: gix::Error,
    },
    /// The references could not be listed.
    #[error("listing references")]
    References(#[source] gix::Error),
    /// A revision or range that does not resolve. The text given is not repeated (it may be a
    /// secret pasted in the wrong place), nor is Git's message, which quotes it.
    #[error("the revision given does not resolve: {0}")]
    Range(RevisionProblem),
    /// The commit walk could not start.
    #[error("walking commits")]
    Walk(#[source] gix::Error),
    /// The index could not be read.
    #[error("reading the index")]
    Index(#[source] gix::Error),
    /// A staged scan of a bare repository, which has no index of its own to commit from.
    #[error("{}: a bare repository has no staged changes to scan", display_path(path.as_os_str().as_encoded_bytes()))]
    Bare { path: PathBuf },
    /// HEAD could not be resolved.
    #[error("reading HEAD")]
    Head(#[source] gix::Error),
}

/// Why a revision did not resolve, in words that quote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevisionProblem {
    #[error("no such revision in this repository")]
    Unknown,
    #[error("it does not name a commit")]
    NotACommit,
    #[error("its two sides have no merge base that can be read")]
    MergeBase,
    #[error("use A..B, A...B or a single revision")]
    Shape,
}

/// Counters a history scan advances as it goes, for a caller that wants to show progress
/// (the library itself never prints). Read them from another thread while the scan runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commits walked so far.
    pub commits: AtomicU64,
    /// Unique blobs to scan; zero until the walk is done.
    pub blobs_total: AtomicU64,
    /// Blobs read (scanned or skipped) so far.
    pub blobs_done: AtomicU64,
    /// Bytes of blob content read so far.
    pub bytes_done: AtomicU64,
    /// Of the blobs read, those read pack by pack (each pack's delta tree resolved once)
    /// rather than looked up one by one.
    pub blobs_from_packs: AtomicU64,
}

/// Open the repository containing `path` (a work tree, a folder in it, a bare repository or a
/// linked worktree). With `env`, `GIT_DIR` and friends are honoured, as a hook expects.
///
/// Replacement objects (`refs/replace/*`) are switched off whatever the repository's config or
/// environment says: a replacement would let a crafted repository show the scan a clean
/// object in place of the one that holds a secret. The replacements are still refs, so the
/// objects they point at are scanned as tips like any other. Grafts (`.git/info/grafts`) are
/// never applied: gix does not read them.
fn open(path: &Path, env: bool) -> Result<gix::ThreadSafeRepository, GitError> {
    const REAL_OBJECTS: &str = "core.useReplaceRefs=false";
    let mut trust: gix::sec::trust::Mapping<gix::open::Options> = Default::default();
    for level in [&mut trust.full, &mut trust.reduced] {
        *level = std::mem::take(level).config_overrides([REAL_OBJECTS]);
    }
    let found = if env {
        gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
            path,
            Default::default(),
            trust,
        )
    } else {
        gix::ThreadSafeRepository::discover_opts(path, Default::default(), trust)
    };
    found.map_err(|source| GitError::Open {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cause is kept as the source, not pasted into the message, so `{:#}` shows it once.
    #[test]
    fn open_errors_keep_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(dir.path(), false).unwrap_err();
        let source = std::error::Error::source(&e).expect("a source").to_string();
        let shown = e.to_string();
        assert!(shown.ends_with("not a readable Git repository"), "{shown}");
        assert!(
            !source.is_empty() && !shown.contains(&source),
            "{shown} / {source}"
        );
    }
}
