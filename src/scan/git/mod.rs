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
    /// The path is not inside any Git repository (no `.git` in it or in a parent folder).
    #[error("{}: not in a Git repository (no .git in it or in any parent folder)", display_path(path.as_os_str().as_encoded_bytes()))]
    NotARepository { path: PathBuf },
    /// The repository cannot be opened.
    #[error("{}: not a readable Git repository", display_path(path.as_os_str().as_encoded_bytes()))]
    Open {
        path: PathBuf,
        #[source]
        source: gix::Error,
    },
    /// The references could not be listed.
    #[error("listing references")]
    References(#[source] gix::Error),
    /// A revision or range that does not resolve. The text given is not shown (it may be a
    /// secret pasted in the wrong place), nor is Git's message, which quotes it: the caller
    /// may show [`Revision::text`] once it has judged it safe.
    #[error("{}", range_message(*problem, *shallow))]
    Range {
        problem: RevisionProblem,
        /// The revision (one side of a range, when one side alone fails) that does not
        /// resolve; the whole spec when no single side can be blamed.
        revision: Revision,
        /// In a shallow clone: how many commits its history stops at.
        shallow: Option<usize>,
    },
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

fn range_message(problem: RevisionProblem, shallow: Option<usize>) -> String {
    let mut m = format!("the revision given does not resolve: {problem}");
    if let Some(n) = shallow {
        m.push_str(&format!(
            ", which is a shallow clone: its history stops at {n} commit(s) whose parents were not fetched"
        ));
    }
    m
}

/// The revision text that did not resolve, as the user gave it. Its `Debug` hides it: only a
/// caller that has judged it safe to show calls [`Revision::text`].
#[derive(Clone, PartialEq, Eq)]
pub struct Revision {
    text: String,
    /// When the text is `<remote>/<branch>` and `<remote>` is a remote of the repository: the
    /// length of `<remote>`.
    remote: Option<usize>,
}

impl Revision {
    /// The revision as given (it may be anything the user typed, a secret included).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `(remote, branch)` when the revision names a branch of one of the repository's remotes
    /// (`origin/main`): the branch a `git fetch` would bring.
    pub fn remote_branch(&self) -> Option<(&str, &str)> {
        let n = self.remote?;
        Some((&self.text[..n], &self.text[n + 1..]))
    }
}

impl std::fmt::Debug for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revision(..)")
    }
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
    found.map_err(|source| {
        use gix::discover::upwards::Error as Upwards;
        let path = path.to_path_buf();
        match source.downcast_any_ref::<Upwards>() {
            Some(
                Upwards::NoGitRepository { .. }
                | Upwards::NoGitRepositoryWithinCeiling { .. }
                | Upwards::NoGitRepositoryWithinFs { .. },
            ) => GitError::NotARepository { path },
            _ => GitError::Open { path, source },
        }
    })
}

/// An error and its sources in words, each cause once, joined by `: `: a cause whose text
/// ends with its source's text (a `Display` that already shows its source) is cut short.
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let texts = std::iter::successors(Some(err), |e| e.source()).map(ToString::to_string);
    join_causes(texts)
}

/// Join the texts of a chain of causes, outermost first, with `: `, so that each cause shows
/// once: a text that ends with the next one's is cut short, an empty or repeated one dropped.
pub fn join_causes(texts: impl IntoIterator<Item = String>) -> String {
    let texts: Vec<String> = texts.into_iter().collect();
    let mut shown: Vec<&str> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let mut own = text.as_str();
        if let Some(next) = texts.get(i + 1).filter(|n| !n.is_empty()) {
            if let Some(head) = own.strip_suffix(next.as_str()) {
                own = head.trim_end_matches([':', ' ', ',', ';', '(']);
            }
        }
        let own = own.trim();
        if !own.is_empty() && !shown.contains(&own) {
            shown.push(own);
        }
    }
    shown.join(": ")
}

/// A [`GitError::Range`] for `problem` with `spec` in `repo`: the side of a range that does
/// not resolve when one alone fails, and whether the repository is a shallow clone.
fn range_error(repo: &gix::Repository, spec: &str, problem: RevisionProblem) -> GitError {
    let sides: Vec<&str> = match spec.split_once("...").or_else(|| spec.split_once("..")) {
        Some((a, b)) => vec![a, b],
        None => vec![spec],
    };
    let failing: Vec<&str> = sides
        .into_iter()
        .filter(|s| !s.is_empty() && repo.rev_parse_single(*s).is_err())
        .collect();
    let text = match failing.as_slice() {
        [one] if problem == RevisionProblem::Unknown => (*one).to_string(),
        _ => spec.to_string(),
    };
    let remote = text.split_once('/').and_then(|(r, b)| {
        let known = !b.is_empty()
            && repo
                .remote_names()
                .iter()
                .any(|n| AsRef::<[u8]>::as_ref(n) == r.as_bytes());
        known.then_some(r.len())
    });
    GitError::Range {
        problem,
        revision: Revision { text, remote },
        shallow: repo
            .shallow_commits()
            .ok()
            .flatten()
            .map(|c| c.len())
            .filter(|n| *n > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cause is kept as the source, not pasted into the message, so `{:#}` shows it once.
    #[test]
    fn open_errors_keep_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        std::fs::write(dir.path().join(".git/config"), "[core\n\0garbage").unwrap();
        let e = open(dir.path(), false).unwrap_err();
        assert!(matches!(e, GitError::Open { .. }), "{e:?}");
        let source = std::error::Error::source(&e).expect("a source").to_string();
        let shown = e.to_string();
        assert!(shown.ends_with("not a readable Git repository"), "{shown}");
        assert!(
            !source.is_empty() && !shown.contains(&source),
            "{shown} / {source}"
        );
    }

    /// A folder outside any repository is said so in leakgate's words, its path named once.
    #[test]
    fn a_folder_outside_any_repository_is_named_once() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(dir.path(), false).unwrap_err();
        assert!(matches!(e, GitError::NotARepository { .. }), "{e:?}");
        let text = causes(&e);
        assert!(text.contains("not in a Git repository"), "{text}");
        let name = dir.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(text.matches(name).count(), 1, "{text}");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Echoing(#[source] std::io::Error);

    /// A `Display` that already shows its source is cut short; repeats and empties go.
    #[test]
    fn each_cause_shows_once() {
        let e = Echoing(std::io::Error::other("disk on fire"));
        assert_eq!(causes(&e), "outer: disk on fire");
        let texts = ["a", "b", "b", "", "c"].map(String::from);
        assert_eq!(join_causes(texts), "a: b: c");
        let texts = ["reading x: boom", "boom"].map(String::from);
        assert_eq!(join_causes(texts), "reading x: boom");
    }

    /// The side of a range that does not resolve is the one named; the text stays out of
    /// `Debug` and `Display` (it may be a secret).
    #[test]
    fn range_errors_name_the_failing_side_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["commit", "-q", "--allow-empty", "-m", "one"]);
        git(&["remote", "add", "origin", "file:///nonexistent"]);
        let repo = open(dir.path(), false).unwrap().to_thread_local();
        let e = history::resolve_range(&repo, "origin/feature..HEAD").unwrap_err();
        let GitError::Range {
            problem,
            revision,
            shallow,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(*problem, RevisionProblem::Unknown);
        assert_eq!(revision.text(), "origin/feature");
        assert_eq!(revision.remote_branch(), Some(("origin", "feature")));
        assert_eq!(*shallow, None);
        assert!(!format!("{e} {e:?}").contains("feature"), "{e} {e:?}");
        let e = history::resolve_range(&repo, "HEAD..nosuch/branch").unwrap_err();
        let GitError::Range { revision, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(revision.text(), "nosuch/branch");
        assert_eq!(revision.remote_branch(), None, "nosuch is not a remote");
    }
}
