//! Files read from a trusted commit rather than from disk: the configuration and baseline a
//! range scan obeys are those of the range's base, so the change under review cannot turn its
//! own gate off.

use super::history::resolve_range;
use super::{open, range_error, GitError, RevisionProblem};
use gix::hash::ObjectId;
use gix::objs::Kind;
use std::path::{Path, PathBuf};

/// Why a file could not be read at a trusted commit.
#[derive(Debug, thiserror::Error)]
pub enum TrustedError {
    /// The repository or a revision could not be resolved.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The path is a symbolic link in that commit: never followed.
    #[error(
        "{path} at {rev} is a symbolic link; a trusted file is never followed out of the commit"
    )]
    Symlink { path: String, rev: String },
    /// The path names a folder or a submodule.
    #[error("{path} at {rev} is not a file")]
    NotAFile { path: String, rev: String },
    /// The blob is larger than the caller allows.
    #[error("{path} at {rev} is {size} bytes, more than the {max} allowed")]
    TooLarge {
        path: String,
        rev: String,
        size: u64,
        max: u64,
    },
    /// An object could not be read.
    #[error("reading {path} at {rev}")]
    Read {
        path: String,
        rev: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A commit whose files are trusted, and the head of the change under review (when there is
/// one), to tell which trusted files the change modifies.
pub struct TrustedTree {
    repo: gix::Repository,
    base: ObjectId,
    head: Option<ObjectId>,
}

impl std::fmt::Debug for TrustedTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedTree")
            .field("base", &self.base)
            .field("head", &self.head)
            .finish()
    }
}

impl TrustedTree {
    /// The base of a range as `scan_history` reads it: `A` for `A..B`, the merge base for
    /// `A...B`; the head is `B`. `None` for a single revision, which has no base.
    pub fn for_range(repo_path: &Path, spec: &str) -> Result<Option<Self>, GitError> {
        let repo = open(repo_path, false)?.to_thread_local();
        let (tips, hidden) = resolve_range(&repo, spec)?;
        let Some(&base) = hidden.first() else {
            return Ok(None);
        };
        let head = tips.last().copied();
        Ok(Some(TrustedTree { repo, base, head }))
    }

    /// An explicit trusted revision; `head` (a range, or a revision) names the change under
    /// review, when there is one.
    pub fn at(repo_path: &Path, rev: &str, head: Option<&str>) -> Result<Self, GitError> {
        let repo = open(repo_path, false)?.to_thread_local();
        let base = commit_of(&repo, rev)?;
        let head = match head {
            Some(spec) => resolve_range(&repo, spec)?.0.last().copied(),
            None => None,
        };
        Ok(TrustedTree { repo, base, head })
    }

    /// The trusted commit.
    pub fn base(&self) -> ObjectId {
        self.base
    }

    /// The head of the change under review, when known.
    pub fn head(&self) -> Option<ObjectId> {
        self.head
    }

    /// The work tree of the repository, when it has one: trusted paths are relative to it.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The content of `rel` (relative to the repository root) in the trusted commit, `None`
    /// when the commit has no such path. At most `max` bytes: a larger blob is an error, never
    /// read. A symbolic link is an error, never followed.
    pub fn read(&self, rel: &Path, max: u64) -> Result<Option<Vec<u8>>, TrustedError> {
        let shown = display_rel(rel);
        let rev = self.base.to_hex_with_len(12).to_string();
        let Some(id) = self.blob_id(self.base, rel, &shown)? else {
            return Ok(None);
        };
        let read_err = |e: Box<dyn std::error::Error + Send + Sync>| TrustedError::Read {
            path: shown.clone(),
            rev: rev.clone(),
            source: e,
        };
        let header = self
            .repo
            .find_header(id)
            .map_err(|e| read_err(Box::new(e)))?;
        if header.size() > max {
            return Err(TrustedError::TooLarge {
                path: shown,
                rev,
                size: header.size(),
                max,
            });
        }
        let blob = self.repo.find_blob(id).map_err(|e| read_err(Box::new(e)))?;
        Ok(Some(blob.data.clone()))
    }

    /// True when `rel` differs between the trusted commit and the head (added, removed or
    /// changed), false when they agree or there is no head.
    pub fn changed_in_head(&self, rel: &Path) -> Result<bool, TrustedError> {
        let Some(head) = self.head else {
            return Ok(false);
        };
        let shown = display_rel(rel);
        let at = |commit| match self.entry(commit, rel, &shown) {
            Ok(e) => Ok(e.map(|(id, _)| id)),
            Err(e) => Err(e),
        };
        Ok(at(self.base)? != at(head)?)
    }

    /// The blob id of `rel` in `commit`: `None` when absent, an error for links and folders.
    fn blob_id(
        &self,
        commit: ObjectId,
        rel: &Path,
        shown: &str,
    ) -> Result<Option<ObjectId>, TrustedError> {
        let rev = commit.to_hex_with_len(12).to_string();
        match self.entry(commit, rel, shown)? {
            None => Ok(None),
            Some((_, mode)) if mode.is_link() => Err(TrustedError::Symlink {
                path: shown.to_string(),
                rev,
            }),
            Some((id, mode)) if mode.is_blob() => Ok(Some(id)),
            Some(_) => Err(TrustedError::NotAFile {
                path: shown.to_string(),
                rev,
            }),
        }
    }

    /// The tree entry at `rel` in `commit`.
    fn entry(
        &self,
        commit: ObjectId,
        rel: &Path,
        shown: &str,
    ) -> Result<Option<(ObjectId, gix::objs::tree::EntryMode)>, TrustedError> {
        let read_err = |e: Box<dyn std::error::Error + Send + Sync>| TrustedError::Read {
            path: shown.to_string(),
            rev: commit.to_hex_with_len(12).to_string(),
            source: e,
        };
        let tree = self
            .repo
            .find_commit(commit)
            .map_err(|e| read_err(Box::new(e)))?
            .tree()
            .map_err(|e| read_err(Box::new(e)))?;
        let entry = tree
            .lookup_entry_by_path(rel)
            .map_err(|e| read_err(Box::new(e)))?;
        Ok(entry.map(|e| (e.object_id(), e.mode())))
    }
}

/// A repository-relative path as shown in messages (exact, `/`-separated, escaped as
/// [`crate::finding::display_path`] does).
pub fn display_rel(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| crate::finding::display_path(c.as_os_str().as_encoded_bytes()))
        .collect();
    parts.join("/")
}

/// The commit a revision names.
fn commit_of(repo: &gix::Repository, rev: &str) -> Result<ObjectId, GitError> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|_| range_error(repo, rev, RevisionProblem::Unknown))?
        .detach();
    repo.find_object(id)
        .and_then(|o| o.peel_to_kind(Kind::Commit))
        .map(|o| o.id)
        .map_err(|_| range_error(repo, rev, RevisionProblem::NotACommit))
}

/// `path` relative to `root`, when it lies inside it (both made absolute, symbolic links in
/// existing folders resolved so `/tmp` and `/private/tmp` agree).
pub fn relative_to(root: &Path, path: &Path) -> Option<PathBuf> {
    let canon = |p: &Path| -> PathBuf {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if let Ok(c) = abs.canonicalize() {
            return c;
        }
        // The file may exist only in Git: resolve its folder.
        match (abs.parent(), abs.file_name()) {
            (Some(dir), Some(name)) => dir
                .canonicalize()
                .map(|d| d.join(name))
                .unwrap_or(abs.clone()),
            _ => abs,
        }
    };
    let rel = canon(path).strip_prefix(canon(root)).ok()?.to_path_buf();
    (!rel.as_os_str().is_empty()).then_some(rel)
}
