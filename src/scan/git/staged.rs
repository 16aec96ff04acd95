//! `--staged`: what the next commit would add. The index is compared with HEAD's tree
//! directory by directory, skipping every directory whose cached tree id (the index's TREE
//! extension) equals HEAD's, so a small change in a large repository reads a handful of trees.

use super::blobs::{self, Job, Provenance, NO_COMMIT};
use super::tree::{self, PathList, Paths, TreeWalker, Visit};
use super::{open, GitError, Progress};
use crate::finding::ScanReport;
use crate::matcher::Matcher;
use crate::scan::{ScanOptions, Tally};
use gix::hash::{oid, ObjectId};
use gix::index::entry::{Flags, Mode};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::EntryKind;
use gix::objs::Find;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// Scan the blobs staged for added or modified paths of the repository containing
/// `repo_path`, reporting only secrets the commit would add: a secret already in HEAD's version
/// of the same file, or in a file this commit deletes (a move), is not reported again.
pub fn scan_staged(
    repo_path: &Path,
    matcher: &Matcher,
    opts: &ScanOptions,
) -> Result<ScanReport, GitError> {
    let started = Instant::now();
    let sync = open(repo_path, true)?;
    let repo = sync.to_thread_local();
    let index = repo.index_or_empty().map_err(GitError::Index)?;
    let state: &gix::index::State = &index;
    let head = repo.head().map_err(GitError::Head)?;
    let head_tree = if head.is_unborn() {
        None
    } else {
        Some(repo.head_tree_id().map_err(GitError::Head)?.detach())
    };

    let mut cmp = Compare {
        repo: &repo,
        state,
        paths: Paths::default(),
        changes: Vec::new(),
        deleted: Vec::new(),
        tally: Tally::default(),
        bufs: Vec::new(),
    };
    cmp.dir(0, state.entries(), head_tree.as_ref(), state.tree(), 0);
    let Compare {
        paths,
        changes,
        deleted,
        tally: compare_tally,
        ..
    } = cmp;
    let paths = paths.freeze();
    let jobs: Vec<Job> = changes
        .iter()
        .map(|c| Job {
            id: c.new,
            from: Provenance {
                commit: NO_COMMIT,
                path: c.path,
                unreachable: false,
            },
        })
        .collect();
    let scanned = blobs::scan(&sync, &jobs, &paths, matcher, opts, &Progress::default());
    let mut tally = compare_tally.merge(scanned.tally);
    let mut warnings = Vec::new();

    if !tally.findings.is_empty() {
        let mut old = Committed::new(&repo, matcher, &paths);
        let mut keep = Vec::with_capacity(tally.findings.len());
        let mut dropped = 0;
        for (finding, &owner) in tally.findings.drain(..).zip(&scanned.owners) {
            if old.holds(&changes[owner], &deleted, &finding.fingerprint) {
                dropped += 1;
            } else {
                keep.push(finding);
            }
        }
        tally.findings = keep;
        if dropped > 0 {
            warnings.push(format!(
                "{dropped} secret(s) in staged files were already committed (in HEAD's version of the file, or in a file this commit removes) and are not reported; `leakgate scan --history` lists committed secrets"
            ));
        }
    }
    Ok(tally.finish(warnings, "staged file(s)", opts.max_file_size, started))
}

/// A staged file whose content differs from HEAD's at its path.
struct Change {
    path: u32,
    new: ObjectId,
    /// HEAD's blob at the same path, for a modification.
    old: Option<ObjectId>,
}

/// A path in HEAD that the index no longer has.
enum Deleted {
    Blob(Vec<u8>, ObjectId),
    Tree(Vec<u8>, ObjectId),
}

/// The index-to-HEAD comparison.
struct Compare<'a> {
    repo: &'a gix::Repository,
    state: &'a gix::index::State,
    paths: Paths,
    changes: Vec<Change>,
    deleted: Vec<Deleted>,
    tally: Tally,
    bufs: Vec<Vec<u8>>,
}

impl Compare<'_> {
    /// Compare `entries` (all index entries below one directory, whose path is `prefix` bytes
    /// long including its `/`) with `head`, that directory's tree in HEAD.
    fn dir(
        &mut self,
        prefix: usize,
        entries: &[gix::index::Entry],
        head: Option<&ObjectId>,
        cache: Option<&CacheTree>,
        depth: usize,
    ) {
        if let (Some(cache), Some(head)) = (cache, head) {
            if cache.num_entries.is_some() && cache.id == *head {
                return;
            }
        }
        if self.bufs.len() <= depth {
            self.bufs.resize_with(depth + 1, Vec::new);
        }
        let mut buf = std::mem::take(&mut self.bufs[depth]);
        let state = self.state;
        let mut in_head = match head.map(|h| tree::entries(self.repo, h, &mut buf)) {
            Some(Ok(e)) => e,
            Some(Err(message)) => {
                let at = String::from_utf8_lossy(entries[0].path(state)[..prefix].as_ref());
                self.tally.error(at.into_owned(), message);
                HashMap::new()
            }
            None => HashMap::new(),
        };
        let mut i = 0;
        while i < entries.len() {
            let path: &[u8] = entries[i].path(state);
            let rest = &path[prefix..];
            if let Some(slash) = rest.iter().position(|&b| b == b'/') {
                let name = &rest[..slash];
                let end = i + entries[i..]
                    .iter()
                    .take_while(|e| {
                        let p: &[u8] = e.path(state);
                        p.len() > prefix + slash
                            && &p[prefix..prefix + slash] == name
                            && p[prefix + slash] == b'/'
                    })
                    .count();
                let sub = match in_head.remove(name) {
                    Some((EntryKind::Tree, id)) => Some(id),
                    _ => None,
                };
                let sub_cache = cache.and_then(|c| c.children.iter().find(|t| &t.name[..] == name));
                self.dir(
                    prefix + slash + 1,
                    &entries[i..end],
                    sub.as_ref(),
                    sub_cache,
                    depth + 1,
                );
                i = end;
            } else {
                let entry = &entries[i];
                let before = in_head.remove(rest);
                let is_file = entry.mode == Mode::FILE || entry.mode == Mode::FILE_EXECUTABLE;
                // `git add -N` entries are placeholders, not part of the commit.
                let placeholder = entry.flags.contains(Flags::INTENT_TO_ADD);
                if is_file && entry.stage_raw() == 0 && !placeholder {
                    let old = match before {
                        Some((kind, id)) if tree::is_content(kind) => Some(id),
                        _ => None,
                    };
                    if old != Some(entry.id) {
                        let path = self.paths.intern(path);
                        self.changes.push(Change {
                            path,
                            new: entry.id,
                            old,
                        });
                    }
                }
                i += 1;
            }
        }
        // What HEAD has here and the index does not: deleted, kept in case a secret moved.
        if let Some(first) = entries.first() {
            let dir = &first.path(state)[..prefix];
            for (name, (kind, id)) in in_head {
                let mut path = dir.to_vec();
                path.extend_from_slice(&name);
                match kind {
                    EntryKind::Tree => self.deleted.push(Deleted::Tree(path, id)),
                    k if tree::is_content(k) => self.deleted.push(Deleted::Blob(path, id)),
                    _ => {}
                }
            }
        } else if let Some(head) = head {
            // The whole directory is gone from the index. The root with an empty index is
            // the one case that reaches here with entries empty and prefix zero.
            if prefix == 0 {
                self.deleted.push(Deleted::Tree(Vec::new(), *head));
            }
        }
        self.bufs[depth] = buf;
    }
}

/// Fingerprints of secrets already committed, computed only when a finding asks.
struct Committed<'a> {
    repo: &'a gix::Repository,
    matcher: &'a Matcher,
    paths: &'a PathList,
    at_path: HashMap<ObjectId, HashSet<String>>,
    moved: Option<HashSet<String>>,
    buf: Vec<u8>,
}

impl<'a> Committed<'a> {
    fn new(repo: &'a gix::Repository, matcher: &'a Matcher, paths: &'a PathList) -> Self {
        Committed {
            repo,
            matcher,
            paths,
            at_path: HashMap::new(),
            moved: None,
            buf: Vec::new(),
        }
    }

    /// Whether the secret `fingerprint` found in `change` was already committed: in HEAD's
    /// version of the same file, or in a file the commit deletes.
    fn holds(&mut self, change: &Change, deleted: &[Deleted], fingerprint: &str) -> bool {
        if let Some(old) = change.old {
            if !self.at_path.contains_key(&old) {
                let path = self.paths.get(change.path);
                let found = self.fingerprints(&old, &path);
                self.at_path.insert(old, found);
            }
            if self.at_path[&old].contains(fingerprint) {
                return true;
            }
        }
        if self.moved.is_none() {
            let mut all = HashSet::new();
            for (path, id) in self.deleted_blobs(deleted) {
                all.extend(self.fingerprints(&id, &String::from_utf8_lossy(&path)));
            }
            self.moved = Some(all);
        }
        self.moved.as_ref().is_some_and(|m| m.contains(fingerprint))
    }

    fn fingerprints(&mut self, id: &oid, path: &str) -> HashSet<String> {
        match self.repo.objects.try_find(id, &mut self.buf) {
            Ok(Some(data)) => self
                .matcher
                .scan(path, data.data)
                .into_iter()
                .map(|f| f.fingerprint)
                .collect(),
            _ => HashSet::new(),
        }
    }

    fn deleted_blobs(&self, deleted: &[Deleted]) -> Vec<(Vec<u8>, ObjectId)> {
        let mut out = Vec::new();
        let mut walker = TreeWalker::default();
        for d in deleted {
            match d {
                Deleted::Blob(path, id) => out.push((path.clone(), *id)),
                Deleted::Tree(path, id) => {
                    let mut path = path.clone();
                    if !path.is_empty() {
                        path.push(b'/');
                    }
                    walker.walk(self.repo, id, &mut path, &mut |visit| match visit {
                        Visit::Entry { path, kind, id } => {
                            if tree::is_content(kind) {
                                out.push((path.to_vec(), id.to_owned()));
                            }
                            kind == EntryKind::Tree
                        }
                        Visit::Error { .. } => false,
                    });
                }
            }
        }
        out
    }
}
