//! `--staged`: what the next commit would add. The index is compared with HEAD's tree
//! directory by directory, skipping every directory whose cached tree id (the index's TREE
//! extension) equals HEAD's, so a small change in a large repository reads a handful of trees.

use super::blobs::{self, Job, Provenance};
use super::tree::{self, PathList, Paths, TreeWalker, Visit};
use super::{open, GitError, Progress};
use crate::finding::{display_path, Fingerprint, ScanReport};
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
    if repo.is_bare() {
        return Err(GitError::Bare {
            path: repo_path.to_path_buf(),
        });
    }
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
        buf: Vec::new(),
    };
    cmp.run(head_tree.as_ref(), state.tree());
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
                commit: None,
                path: c.path,
                unreachable: false,
            },
        })
        .collect();
    // Each staged path is a job of its own, so an allowed path is skipped exactly.
    let reader = blobs::Reader::new(&jobs, &paths, matcher, opts, true);
    let scanned = blobs::scan(&sync, &reader, &Progress::default(), None);
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
                "{dropped} secret(s) in staged files were already committed (in HEAD's version of the file, or in a file this commit removes) and are not reported; a scan of the history lists committed secrets"
            ));
        }
    }
    let kind = crate::finding::ScanKind::Staged;
    Ok(tally.finish(warnings, kind, opts.max_file_size, started))
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
    buf: Vec<u8>,
}

/// One directory of the index being compared: its entries are `lo..hi` (`next` is the first
/// not yet compared), its path is `prefix` bytes long including its `/`, and `in_head` holds
/// what HEAD has there that no index entry has claimed yet.
struct Dir<'a> {
    prefix: usize,
    lo: usize,
    hi: usize,
    next: usize,
    in_head: HashMap<Vec<u8>, (EntryKind, ObjectId)>,
    head: Option<ObjectId>,
    cache: Option<&'a CacheTree>,
}

impl<'a> Compare<'a> {
    /// Compare the whole index with `head`, HEAD's root tree, directory by directory with an
    /// explicit stack (no index depth exhausts the thread's stack).
    fn run(&mut self, head: Option<&ObjectId>, cache: Option<&'a CacheTree>) {
        let state = self.state;
        let entries = state.entries();
        let mut stack = Vec::new();
        self.open(0, 0, entries.len(), head.copied(), cache, &mut stack);
        while let Some(dir) = stack.last_mut() {
            if dir.next >= dir.hi {
                let dir = stack.pop().expect("a directory on the stack");
                self.close(dir);
                continue;
            }
            let (prefix, i) = (dir.prefix, dir.next);
            let path: &[u8] = entries[i].path(state);
            let rest = &path[prefix..];
            if let Some(slash) = rest.iter().position(|&b| b == b'/') {
                let name = &rest[..slash];
                let end = i + entries[i..dir.hi]
                    .iter()
                    .take_while(|e| {
                        let p: &[u8] = e.path(state);
                        p.len() > prefix + slash
                            && &p[prefix..prefix + slash] == name
                            && p[prefix + slash] == b'/'
                    })
                    .count();
                let sub = match dir.in_head.remove(name) {
                    Some((EntryKind::Tree, id)) => Some(id),
                    _ => None,
                };
                let sub_cache = dir
                    .cache
                    .and_then(|c| c.children.iter().find(|t| &t.name[..] == name));
                dir.next = end;
                self.open(prefix + slash + 1, i, end, sub, sub_cache, &mut stack);
            } else {
                dir.next += 1;
                let entry = &entries[i];
                let before = dir.in_head.remove(rest);
                let is_content = entry.mode == Mode::FILE
                    || entry.mode == Mode::FILE_EXECUTABLE
                    || entry.mode == Mode::SYMLINK;
                // `git add -N` entries are placeholders, not part of the commit.
                let placeholder = entry.flags.contains(Flags::INTENT_TO_ADD);
                if entry.mode == Mode::COMMIT && entry.stage_raw() == 0 {
                    // A submodule's commit is another repository's: counted, not entered.
                    let unchanged =
                        matches!(before, Some((EntryKind::Commit, id)) if id == entry.id);
                    if !unchanged {
                        self.tally.stats.skipped_submodules += 1;
                    }
                }
                if is_content && entry.stage_raw() == 0 && !placeholder {
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
            }
        }
    }

    /// Put the directory of index entries `lo..hi` (path `prefix` bytes long) on `stack`,
    /// with `head`, its tree in HEAD, unless the index's cached tree says it is unchanged.
    fn open(
        &mut self,
        prefix: usize,
        lo: usize,
        hi: usize,
        head: Option<ObjectId>,
        cache: Option<&'a CacheTree>,
        stack: &mut Vec<Dir<'a>>,
    ) {
        if let (Some(cache), Some(head)) = (cache, head) {
            if cache.num_entries.is_some() && cache.id == head {
                return;
            }
        }
        let state = self.state;
        let in_head = match head.map(|h| tree::entries(self.repo, &h, &mut self.buf)) {
            Some(Ok(e)) => e,
            Some(Err(message)) => {
                let at = state.entries()[lo].path(state);
                self.tally.error(display_path(&at[..prefix]), message);
                HashMap::new()
            }
            None => HashMap::new(),
        };
        stack.push(Dir {
            prefix,
            lo,
            hi,
            next: lo,
            in_head,
            head,
            cache,
        });
    }

    /// What HEAD has in `dir` and the index does not: deleted, kept in case a secret moved.
    fn close(&mut self, dir: Dir<'a>) {
        let state = self.state;
        if dir.lo < dir.hi {
            let at = &state.entries()[dir.lo].path(state)[..dir.prefix];
            for (name, (kind, id)) in dir.in_head {
                let mut path = at.to_vec();
                path.extend_from_slice(&name);
                match kind {
                    EntryKind::Tree => self.deleted.push(Deleted::Tree(path, id)),
                    k if tree::is_content(k) => self.deleted.push(Deleted::Blob(path, id)),
                    _ => {}
                }
            }
        } else if let Some(head) = dir.head {
            // The root with an empty index is the one directory without entries.
            self.deleted.push(Deleted::Tree(Vec::new(), head));
        }
    }
}

/// Fingerprints of secrets already committed, computed only when a finding asks.
struct Committed<'a> {
    repo: &'a gix::Repository,
    matcher: &'a Matcher,
    paths: &'a PathList,
    at_path: HashMap<ObjectId, HashSet<Fingerprint>>,
    moved: Option<HashSet<Fingerprint>>,
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
    fn holds(&mut self, change: &Change, deleted: &[Deleted], fingerprint: &Fingerprint) -> bool {
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
                all.extend(self.fingerprints(&id, &display_path(&path)));
            }
            self.moved = Some(all);
        }
        self.moved.as_ref().is_some_and(|m| m.contains(fingerprint))
    }

    fn fingerprints(&mut self, id: &oid, path: &str) -> HashSet<Fingerprint> {
        match self.repo.objects.try_find(id, &mut self.buf) {
            Ok(Some(data)) => {
                // As the staged blob was scanned: secrets inside a committed archive count too.
                let mut old = Tally::default();
                old.scan_blob(self.matcher, path, data.data);
                old.findings.into_iter().map(|f| f.fingerprint).collect()
            }
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
