//! `--history` and `--range`: find each blob's first commit and path with a walk of commits
//! and trees, then scan the unique blobs in pack order.

use super::blobs::{self, CommitIndex, Job, Kept, Provenance, Walked};
use super::tree::{self, PathList, Paths, TreeWalker, Visit};
use super::{cache, open, origin, packs, range_error, GitError, Progress, RevisionProblem};
use crate::finding::{display_path, ScanReport};
use crate::matcher::Matcher;
use crate::scan::{ScanOptions, Tally};
use gix::hash::{oid, ObjectId};
use gix::hashtable::{HashMap, HashSet};
use gix::objs::tree::EntryKind;
use gix::objs::Kind;
use gix::odb::store::iter::Ordering as ObjectOrder;
use gix::prelude::Header;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// What a history scan covers.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Only the blobs that the commits of this range introduce: `A..B`, `A...B`, or one
    /// revision for all of its ancestry.
    pub range: Option<String>,
    /// Also scan objects that no ref reaches (amended commits, deleted branches, dropped
    /// stashes); their findings are marked unreachable.
    pub all_objects: bool,
    /// Read only the blobs this cache file does not know clean, and keep the clean ones in it
    /// (see `cache.rs` for what it holds and how it is checked).
    pub cache: Option<PathBuf>,
}

/// Scan the history of the repository at `repo_path`: every blob reachable from any ref (or
/// introduced by the commits of `history.range`) once, attributed to the commit that first
/// introduced it.
pub fn scan_history(
    repo_path: &Path,
    matcher: &Matcher,
    opts: &ScanOptions,
    history: &HistoryOptions,
    progress: &Progress,
) -> Result<ScanReport, GitError> {
    let started = Instant::now();
    let sync = open(repo_path, false)?;
    let repo = sync.to_thread_local();
    // A whole history reads nearly every packed blob: build the packs' delta trees on another
    // core while the commits are walked.
    let mut cached = history
        .cache
        .as_deref()
        .map(|file| Cached::load(&repo, file, matcher, opts));
    // ... unless a cache knows most blobs already.
    let cold = cached.as_ref().is_none_or(|c| c.known.entries.is_empty());
    // (A thread that cannot be started leaves the building to the pass itself.)
    let packs = (history.range.is_none() && cold)
        .then(|| {
            let sync = sync.clone();
            std::thread::Builder::new()
                .name("leakgate-packs".into())
                .spawn(move || packs::Packs::open(&sync.to_thread_local()).build())
        })
        .and_then(Result::ok);
    let mut inv = Inventory::new(&repo, progress);
    inv.sync = Some(&sync);
    let mut warnings = Vec::new();
    let shallow = repo.shallow_commits().ok().flatten();
    // The walk of the last full scan, when this one can go on from it.
    let mut counted = origin::Counted::default();
    let mut resumable = false;

    match &history.range {
        None => {
            let tips = ref_tips(&repo, &mut inv.tally)?;
            resumable = tips.trees.is_empty()
                && tips.blobs.is_empty()
                && !history.all_objects
                && shallow.is_none();
            let before = cached.as_mut().and_then(|c| c.known.walk.take());
            let tips = match before.filter(|_| resumable) {
                Some(before) => {
                    if let Some(c) = inv.resume(before, &tips.commits)? {
                        counted = c;
                        None
                    } else {
                        // What the attempt recorded is thrown away with it.
                        inv = Inventory::new(&repo, progress);
                        inv.sync = Some(&sync);
                        Some(ref_tips(&repo, &mut inv.tally)?)
                    }
                }
                None => Some(tips),
            };
            if let Some(tips) = tips {
                let walked = walk_commits(
                    &repo,
                    Start::Decoded(tips.commits),
                    Vec::new(),
                    None,
                    &mut inv,
                )?;
                inv.add_commits(walked);
                for tree in tips.trees {
                    inv.add_tree(&tree, None, false, "tagged tree");
                }
                for blob in tips.blobs {
                    let path = format!("(tagged blob {blob})");
                    inv.add_blob(blob, path.as_bytes(), None, false);
                }
            }
        }
        Some(spec) => {
            let (tips, hidden) = resolve_range(&repo, spec)?;
            for (id, parents, _) in
                walk_commits(&repo, Start::Unread(tips), hidden, None, &mut inv)?
            {
                inv.add_changes(id, &parents);
            }
        }
    }
    // Only a whole walk that met no error is kept for the next scan to go on from.
    resumable &= inv.tally.errors.is_empty() && cached.is_some();
    if history.all_objects {
        let unreachable = inv.add_unreachable()?;
        if unreachable > 0 {
            warnings.push(format!(
                "{unreachable} unreachable blob(s) scanned; their findings are marked unreachable"
            ));
        }
    }

    if let Some(shallow) = &shallow {
        warnings.push(format!(
            "shallow clone: the history stops at {} commit(s) whose parents were not fetched, so older commits were not scanned; for a complete scan run `git fetch --unshallow` (in GitHub Actions: actions/checkout with `fetch-depth: 0`)",
            shallow.len()
        ));
    }
    if !inv.submodules.is_empty() {
        let names: Vec<String> = inv
            .submodules
            .iter()
            .take(5)
            .map(|p| display_path(p))
            .collect();
        warnings.push(format!(
            "{} submodule path(s) not entered ({}{}); scan each submodule's repository on its own",
            inv.submodules.len(),
            names.join(", "),
            if inv.submodules.len() > 5 {
                ", ..."
            } else {
                ""
            }
        ));
    }

    let mut walk = resumable.then(|| inv.walk_state());
    let Inventory {
        mut blobs,
        paths,
        commits,
        submodules,
        tally: walk_tally,
        ..
    } = inv;
    let paths = paths.freeze();
    if let Some(c) = &mut cached {
        c.take_known(&mut blobs, &paths);
    }
    let jobs = pack_order(&repo, blobs);
    progress.blobs_total.store(jobs.len() as u64, Relaxed);
    // A blob is attributed to its first path only; if the configuration allows that path, the
    // blob is scanned all the same and its findings move to a path that is not allowed.
    let packs = packs.and_then(|p| p.join().ok());
    let mut reader = blobs::Reader::new(&jobs, &paths, matcher, opts, false);
    reader.keep_clean = cached.is_some();
    let mut scanned = blobs::scan(&sync, &reader, progress, packs);
    let clean = std::mem::take(&mut scanned.clean);
    let mut tally = walk_tally.merge(scanned.tally);
    let counted_from = counted.commits;
    let (allowed, counted) = origin::attach(
        &repo,
        matcher,
        &mut tally.findings,
        &scanned.owners,
        &jobs,
        &commits,
        &paths,
        counted,
    );
    tally.stats.allowed += allowed;
    tally.stats.commits = commits.len() as u64;
    tally.stats.commits_from_cache = counted_from as u64;
    tally.stats.skipped_submodules = submodules.len() as u64;
    tally.stats.shallow_commits = shallow.as_ref().map_or(0, |s| s.len() as u64);
    if let Some(c) = cached {
        if let Some(w) = walk.as_mut() {
            w.carriers = counted.carriers.into_iter().collect();
            w.carriers.sort_by_key(|c| c.0);
        }
        let kept = Kept::from_scan(&jobs, &paths, clean);
        let range = history.range.is_some();
        c.finish(kept, range, walk.as_ref(), &mut tally, &mut warnings);
    }
    let kind = match history.range {
        None => crate::finding::ScanKind::History,
        Some(_) => crate::finding::ScanKind::Range,
    };
    Ok(tally.finish(warnings, kind, opts.max_file_size, started))
}

/// A scan's `--cache`: the file, its key, and what it knew and learnt.
struct Cached<'a> {
    file: &'a Path,
    key: cache::CacheKey,
    known: cache::BlobCache,
    /// The jobs the cache knew clean, taken out of the scan.
    hits: Vec<(cache::Entry, Kept)>,
}

impl Kept {
    /// The cache entries of the jobs a scan found clean.
    fn from_scan(
        jobs: &[Job],
        paths: &PathList,
        clean: Vec<(usize, Kept)>,
    ) -> Vec<(cache::Entry, Kept)> {
        clean
            .into_iter()
            .map(|(i, kept)| {
                let j = &jobs[i];
                ((j.id, cache::path_digest(paths.bytes(j.from.path))), kept)
            })
            .collect()
    }
}

impl<'a> Cached<'a> {
    fn load(repo: &gix::Repository, file: &'a Path, matcher: &Matcher, opts: &ScanOptions) -> Self {
        let key = cache::CacheKey::new(repo, matcher.digest(), opts.max_file_size);
        let known = cache::BlobCache::load(file, &key, repo.object_hash().len_in_bytes());
        Cached {
            file,
            key,
            known,
            hits: Vec::new(),
        }
    }

    /// Take out of `blobs` those the cache knows clean under their path.
    fn take_known(&mut self, blobs: &mut HashMap<ObjectId, Provenance>, paths: &PathList) {
        blobs.retain(|&id, from| {
            let entry = (id, cache::path_digest(paths.bytes(from.path)));
            match self.known.get(entry.0, entry.1) {
                Some(kept) => {
                    self.hits.push((entry, kept));
                    false
                }
                None => true,
            }
        });
    }

    /// Count the blobs taken from the cache as a cold scan would, and write the cache anew:
    /// what this scan knew or found clean (`found`; a range keeps the other entries too), and
    /// the walk when there is one to go on from. Problems with the file are warnings: the scan
    /// itself is whole.
    fn finish(
        self,
        found: Vec<(cache::Entry, Kept)>,
        keep_others: bool,
        walk: Option<&cache::WalkState>,
        tally: &mut Tally,
        warnings: &mut Vec<String>,
    ) {
        warnings.extend(self.known.rebuilt);
        let stats = &mut tally.stats;
        stats.from_cache += self.hits.len() as u64;
        for (_, kept) in &self.hits {
            kept.count_skips(stats);
        }
        let others = keep_others
            .then_some(self.known.entries)
            .into_iter()
            .flatten();
        let all = self.hits.into_iter().chain(found).chain(others);
        if let Err(e) = cache::save(self.file, &self.key, all, walk) {
            warnings.push(format!(
                "cache {} could not be written: {e}; the next scan reads every blob again",
                self.file.display()
            ));
        }
    }
}

/// What the refs point at, peeled through tags.
#[derive(Default)]
struct Tips {
    commits: Vec<ObjectId>,
    trees: Vec<ObjectId>,
    blobs: Vec<ObjectId>,
}

/// Every ref (branches, tags, remote-tracking branches, the stash, notes) and a detached HEAD.
fn ref_tips(repo: &gix::Repository, tally: &mut Tally) -> Result<Tips, GitError> {
    let mut tips = Tips::default();
    let platform = repo.references().map_err(GitError::References)?;
    let mut targets = Vec::new();
    for r in platform.all().map_err(GitError::References)? {
        match r {
            Ok(mut r) => {
                let name = display_path(r.name().as_bstr());
                match r.peel_to_id() {
                    Ok(id) => targets.push((name, id.detach())),
                    Err(e) => tally.error(name, format!("cannot resolve reference: {e}")),
                }
            }
            Err(e) => tally.error("(references)", e.to_string()),
        }
    }
    if let Ok(id) = repo.head_id() {
        targets.push(("HEAD".into(), id.detach()));
    }
    targets.sort_by_key(|t| t.1);
    targets.dedup_by(|a, b| a.1 == b.1);
    let mut buf = Vec::new();
    for (name, id) in targets {
        match repo.objects.try_header(&id) {
            Ok(Some(h)) => match h.kind() {
                Kind::Commit => match tree::decode_commit(repo, &id, &mut buf) {
                    Ok(()) => tips.commits.push(id),
                    Err(message) => tally.error(name, format!("commit {id} {message}")),
                },
                Kind::Tree => tips.trees.push(id),
                Kind::Blob => tips.blobs.push(id),
                // Peeling follows tags to their end; a tag left over means a broken chain.
                Kind::Tag => tally.error(name, format!("tag {id} could not be peeled")),
            },
            Ok(None) => tally.error(name, format!("points to missing object {id}")),
            Err(e) => tally.error(name, format!("object {id}: {e}")),
        }
    }
    Ok(tips)
}

/// The tips and hidden commits of a range.
pub(super) fn resolve_range(
    repo: &gix::Repository,
    spec: &str,
) -> Result<(Vec<ObjectId>, Vec<ObjectId>), GitError> {
    use gix::revision::plumbing::Spec;
    let parsed = repo
        .rev_parse(spec)
        .map_err(|_| range_error(repo, spec, RevisionProblem::Unknown))?
        .detach();
    let commit = |id: ObjectId| -> Result<ObjectId, GitError> {
        repo.find_object(id)
            .and_then(|o| o.peel_to_kind(Kind::Commit))
            .map(|o| o.id)
            .map_err(|_| range_error(repo, spec, RevisionProblem::NotACommit))
    };
    Ok(match parsed {
        Spec::Include(id) => (vec![commit(id)?], vec![]),
        Spec::Range { from, to } => (vec![commit(to)?], vec![commit(from)?]),
        Spec::Merge { theirs, ours } => {
            let (a, b) = (commit(theirs)?, commit(ours)?);
            let base = repo
                .merge_base(a, b)
                .map_err(|_| range_error(repo, spec, RevisionProblem::MergeBase))?;
            (vec![a, b], base.map(gix::Id::detach).into_iter().collect())
        }
        _ => return Err(range_error(repo, spec, RevisionProblem::Shape)),
    })
}

/// A commit of a walk: its id, its parents and its commit time.
type WalkedCommit = (ObjectId, Vec<ObjectId>, i64);

/// Where a walk starts.
enum Start {
    /// Commits [`ref_tips`] has decoded already.
    Decoded(Vec<ObjectId>),
    /// Ids of commits not yet read.
    Unread(Vec<ObjectId>),
}

/// Commits reachable from `tips` but not from `hidden` (nor, with `skip`, from those), parents
/// before children, older first among commits that do not depend on each other: the order in
/// which the first commit to hold a blob is the one that introduced it.
fn walk_commits(
    repo: &gix::Repository,
    tips: Start,
    hidden: Vec<ObjectId>,
    skip: Option<HashSet<ObjectId>>,
    inv: &mut Inventory<'_>,
) -> Result<Vec<WalkedCommit>, GitError> {
    // One undecodable commit among the tips (or the hidden commits) would stop the walk before
    // it starts: report it and walk the rest. A hidden commit dropped so only widens the walk.
    let mut buf = Vec::new();
    let mut decodable = |ids: Vec<ObjectId>| -> Vec<ObjectId> {
        ids.into_iter()
            .filter(|id| match tree::decode_commit(repo, id, &mut buf) {
                Ok(()) => true,
                Err(message) => {
                    inv.tally.error(format!("commit {id}"), message);
                    false
                }
            })
            .collect()
    };
    let tips = match tips {
        Start::Decoded(tips) => tips,
        Start::Unread(tips) => decodable(tips),
    };
    let hidden = decodable(hidden);
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let platform = repo.rev_walk(tips).with_hidden(hidden).sorting(
        gix::revision::walk::Sorting::ByCommitTime(
            gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
        ),
    );
    let walk = match skip {
        Some(skip) => platform.selected(move |id| !skip.contains(id)),
        None => platform.all(),
    }
    .map_err(GitError::Walk)?;
    let mut ids = Vec::new();
    let mut parents = Vec::new();
    let mut times = Vec::new();
    for info in walk {
        match info {
            Ok(info) => {
                ids.push(info.id);
                parents.push(info.parent_ids().map(gix::Id::detach).collect::<Vec<_>>());
                times.push(
                    info.commit_time
                        .unwrap_or_else(|| commit_time(repo, &info.id)),
                );
                inv.progress.commits.fetch_add(1, Relaxed);
            }
            Err(e) => {
                // A commit that cannot be decoded is dropped from the walk (its parents are
                // not reached through it); the walk goes on with every other commit queued.
                inv.tally.error(
                    "(commit walk)",
                    format!(
                        "a commit the walk reached cannot be read, so the history behind it was not scanned: {}",
                        crate::scan::git::causes(&e)
                    ),
                );
            }
        }
    }
    let order = topological(&ids, &parents, &times);
    let mut parents: Vec<Option<Vec<ObjectId>>> = parents.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|i| (ids[i], parents[i].take().unwrap_or_default(), times[i]))
        .collect())
}

/// Commit time of `id`, for walks that did not sort by it.
fn commit_time(repo: &gix::Repository, id: &oid) -> i64 {
    repo.find_commit(id.to_owned())
        .ok()
        .and_then(|c| c.time().ok())
        .map_or(0, |t| t.seconds)
}

/// Kahn's algorithm: parents first; among ready commits the oldest first.
fn topological(ids: &[ObjectId], parents: &[Vec<ObjectId>], times: &[i64]) -> Vec<usize> {
    let index: HashMap<ObjectId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut children = vec![Vec::new(); ids.len()];
    let mut waiting = vec![0u32; ids.len()];
    for (i, ps) in parents.iter().enumerate() {
        for p in ps {
            if let Some(&j) = index.get(p) {
                children[j].push(i);
                waiting[i] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, usize)>> = (0..ids.len())
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse((times[i], i)))
        .collect();
    let mut order = Vec::with_capacity(ids.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push(Reverse((times[c], c)));
            }
        }
    }
    order
}

/// Walks of commits shorter than this stay on one thread.
const PARALLEL_FROM: usize = 64;

/// What the walk of one part of the commits recorded (see `add_commits_in_parts`).
struct Part {
    commits: Vec<Walked>,
    blobs: HashMap<ObjectId, Provenance>,
    paths: PathList,
    seen_trees: HashSet<ObjectId>,
    submodules: BTreeSet<Vec<u8>>,
    tally: Tally,
}

impl From<Inventory<'_>> for Part {
    fn from(inv: Inventory<'_>) -> Self {
        Part {
            commits: inv.commits,
            blobs: inv.blobs,
            paths: inv.paths.freeze(),
            seen_trees: inv.seen_trees,
            submodules: inv.submodules,
            tally: inv.tally,
        }
    }
}

/// Every blob seen so far and where it was first seen; kept small (no contents).
struct Inventory<'r> {
    repo: &'r gix::Repository,
    /// The repository for other threads: set, a long walk of commits is shared among them.
    sync: Option<&'r gix::ThreadSafeRepository>,
    progress: &'r Progress,
    blobs: HashMap<ObjectId, Provenance>,
    paths: Paths,
    seen_trees: HashSet<ObjectId>,
    /// Commits in attribution order; `Provenance::commit` indexes this.
    commits: Vec<Walked>,
    submodules: BTreeSet<Vec<u8>>,
    /// Tree pairs a range has already compared: comparing them again would only find the same
    /// blobs under more paths (a crafted tree can name one subtree millions of times).
    diffed: std::collections::HashSet<(Option<ObjectId>, ObjectId, Vec<ObjectId>)>,
    tally: Tally,
    walker: TreeWalker,
    buf: Vec<u8>,
    /// Commits no walked commit has as a parent, and the newest commit time: what the next
    /// scan's walk goes on from.
    heads: Vec<ObjectId>,
    newest: i64,
}

impl<'r> Inventory<'r> {
    fn new(repo: &'r gix::Repository, progress: &'r Progress) -> Self {
        Inventory {
            repo,
            sync: None,
            progress,
            blobs: HashMap::default(),
            paths: Paths::default(),
            seen_trees: HashSet::default(),
            commits: Vec::new(),
            submodules: BTreeSet::new(),
            diffed: Default::default(),
            tally: Tally::default(),
            walker: TreeWalker::default(),
            buf: Vec::new(),
            heads: Vec::new(),
            newest: i64::MIN,
        }
    }

    /// Record every blob of the walked commits' trees, in order, and the heads they leave.
    fn add_commits(&mut self, walked: Vec<WalkedCommit>) {
        let parents: HashSet<ObjectId> = walked.iter().flat_map(|c| c.1.iter().copied()).collect();
        let mut heads = std::mem::take(&mut self.heads);
        heads.extend(walked.iter().map(|c| c.0));
        heads.retain(|h| !parents.contains(h));
        self.heads = heads;
        self.newest = walked.iter().map(|c| c.2).fold(self.newest, i64::max);
        let ids: Vec<ObjectId> = walked.into_iter().map(|c| c.0).collect();
        let threads = rayon::current_num_threads();
        match self.sync {
            Some(sync) if threads > 1 && ids.len() >= PARALLEL_FROM => {
                self.add_commits_in_parts(sync, &ids, threads);
            }
            _ => {
                for id in ids {
                    self.add_commit(id, false);
                }
            }
        }
    }

    /// [`add_commit`](Self::add_commit) for each of `ids`, in order, with the work shared by
    /// `threads` threads: the commits are cut into consecutive parts, each part is walked on
    /// its own (skipping only the subtrees seen in that part), and the parts are merged in
    /// order, each blob keeping its first part's provenance. That is what one walk records: a
    /// subtree a part walks again was seen in an earlier part, so every blob below it is
    /// already there; and a blob first reached in a part is reached there by the same path,
    /// since the part only walks more subtrees, and none of them holds it.
    fn add_commits_in_parts(
        &mut self,
        sync: &gix::ThreadSafeRepository,
        ids: &[ObjectId],
        threads: usize,
    ) {
        use rayon::prelude::*;
        // More parts than threads, so that an uneven part does not leave a thread idle.
        let size = ids.len().div_ceil(threads * 4).max(1);
        let progress = self.progress;
        let parts: Vec<Part> = ids
            .par_chunks(size)
            .map(|chunk| {
                let repo = sync.to_thread_local();
                let mut part = Inventory::new(&repo, progress);
                for &id in chunk {
                    part.add_commit(id, false);
                }
                Part::from(part)
            })
            .collect();
        // A tree that cannot be read is reported once, as one walk reports it, though several
        // parts met it. Such a message names the tree (`tree <id> ...`, from the tree walker);
        // every other error belongs to one commit, and so to one part.
        let mut trees_reported: std::collections::HashSet<String> = self
            .tally
            .errors
            .iter()
            .filter(|e| e.message.starts_with("tree "))
            .map(|e| e.message.clone())
            .collect();
        for part in parts {
            let base = self.commits.len();
            self.commits.extend(part.commits);
            let mut blobs: Vec<(ObjectId, Provenance)> = part.blobs.into_iter().collect();
            blobs.sort_unstable_by_key(|(id, p)| (p.commit.map(CommitIndex::get), p.path, *id));
            for (id, p) in blobs {
                let paths = &mut self.paths;
                self.blobs.entry(id).or_insert_with(|| Provenance {
                    commit: p.commit.map(|c| CommitIndex::new(base + c.get())),
                    path: paths.intern(part.paths.bytes(p.path)),
                    unreachable: p.unreachable,
                });
            }
            self.seen_trees.extend(part.seen_trees);
            self.submodules.extend(part.submodules);
            for e in part.tally.errors {
                if !e.message.starts_with("tree ") || trees_reported.insert(e.message.clone()) {
                    self.tally.error(e.path, e.message);
                }
            }
        }
    }

    /// Go on from an earlier full walk: take what it learnt, then walk only the commits not
    /// reachable from its heads. `None` (and an inventory to throw away) unless the history
    /// only grew: every old head is still a tip or a parent of a new commit, and every new
    /// commit is newer than every old one, so a whole walk would order the old commits first,
    /// as they were. Returns the commits the earlier walk counted carriers for.
    fn resume(
        &mut self,
        before: cache::WalkState,
        tips: &[ObjectId],
    ) -> Result<Option<origin::Counted>, GitError> {
        let repo = self.repo;
        let is_commit = |id: &ObjectId| matches!(repo.objects.try_header(id), Ok(Some(h)) if h.kind() == Kind::Commit);
        if !before.heads.iter().all(is_commit) {
            return Ok(None);
        }
        let cache::WalkState {
            commits,
            heads,
            newest,
            trees,
            paths,
            blobs,
            submodules,
            carriers,
        } = before;
        let old = commits.len();
        self.commits = commits;
        self.progress.commits.store(old as u64, Relaxed);
        for p in &paths {
            self.paths.intern(p);
        }
        self.blobs = blobs.into_iter().collect();
        self.seen_trees = trees.into_iter().collect();
        self.submodules = submodules.into_iter().collect();
        self.newest = newest;
        // Stop at every old commit (hiding the heads would walk all of their ancestry).
        let known: HashSet<ObjectId> = self.commits.iter().map(|c| c.id).collect();
        let walked = walk_commits(
            repo,
            Start::Decoded(tips.to_vec()),
            Vec::new(),
            Some(known),
            self,
        )?;
        let tips: HashSet<ObjectId> = tips.iter().copied().collect();
        let parents: HashSet<ObjectId> = walked.iter().flat_map(|c| c.1.iter().copied()).collect();
        let grew = heads
            .iter()
            .all(|h| tips.contains(h) || parents.contains(h))
            && walked.iter().all(|c| c.2 > newest);
        if !grew || !self.tally.errors.is_empty() {
            return Ok(None);
        }
        self.heads = heads;
        self.add_commits(walked);
        Ok(Some(origin::Counted {
            commits: old,
            carriers: carriers.into_iter().collect(),
        }))
    }

    /// What the next scan needs to go on from this walk (carriers are added after the scan).
    fn walk_state(&self) -> cache::WalkState {
        let mut blobs: Vec<(ObjectId, Provenance)> =
            self.blobs.iter().map(|(id, p)| (*id, *p)).collect();
        blobs.sort_by_key(|b| b.0);
        let mut trees: Vec<ObjectId> = self.seen_trees.iter().copied().collect();
        trees.sort();
        cache::WalkState {
            commits: self.commits.clone(),
            heads: self.heads.clone(),
            newest: self.newest,
            trees,
            paths: self.paths.list().to_vec(),
            blobs,
            submodules: self.submodules.iter().cloned().collect(),
            carriers: Vec::new(),
        }
    }

    fn push_commit(&mut self, id: ObjectId, root: Option<ObjectId>) -> CommitIndex {
        let n = CommitIndex::new(self.commits.len());
        self.commits.push(Walked { id, root });
        n
    }

    /// Record every blob of commit `id`'s tree not seen before.
    fn add_commit(&mut self, id: ObjectId, unreachable: bool) {
        match tree::tree_of(self.repo, &id, &mut self.buf) {
            Ok(tree) => {
                let n = Some(self.push_commit(id, Some(tree)));
                self.add_tree(&tree, n, unreachable, &format!("commit {id}"));
            }
            Err(message) => {
                self.push_commit(id, None);
                self.tally.error(format!("commit {id}"), message);
            }
        }
    }

    /// Record `blob` at `path` unless seen before.
    fn add_blob(
        &mut self,
        blob: ObjectId,
        path: &[u8],
        commit: Option<CommitIndex>,
        unreachable: bool,
    ) {
        let paths = &mut self.paths;
        self.blobs.entry(blob).or_insert_with(|| Provenance {
            commit,
            path: paths.intern(path),
            unreachable,
        });
    }

    /// Record every blob below `tree`, skipping subtrees already seen (their blobs are known).
    fn add_tree(&mut self, tree: &oid, commit: Option<CommitIndex>, unreachable: bool, what: &str) {
        if !self.seen_trees.insert(tree.to_owned()) {
            return;
        }
        let Inventory {
            repo,
            blobs,
            paths,
            seen_trees,
            submodules,
            tally,
            walker,
            ..
        } = self;
        let mut path = Vec::new();
        walker.walk(repo, tree, &mut path, &mut |visit| match visit {
            Visit::Entry { path, kind, id } => match kind {
                EntryKind::Tree => seen_trees.insert(id.to_owned()),
                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                    blobs.entry(id.to_owned()).or_insert_with(|| Provenance {
                        commit,
                        path: paths.intern(path),
                        unreachable,
                    });
                    false
                }
                EntryKind::Commit => submodules.insert(path.to_vec()),
            },
            Visit::Error { path, message } => {
                let at = if path.is_empty() {
                    what.to_string()
                } else {
                    display_path(path)
                };
                tally.error(at, message);
                false
            }
        });
    }

    /// Record the blobs commit `id` introduces: new or changed paths against its first parent
    /// (all paths for a root commit). For a merge, only content that none of its parents had
    /// at that path, so merging a branch in does not re-report the branch's own changes.
    fn add_changes(&mut self, id: ObjectId, parents: &[ObjectId]) {
        let repo = self.repo;
        let new = match tree::tree_of(repo, &id, &mut self.buf) {
            Ok(t) => t,
            Err(message) => {
                self.push_commit(id, None);
                return self.tally.error(format!("commit {id}"), message);
            }
        };
        let n = Some(self.push_commit(id, Some(new)));
        // A parent missing from a shallow clone counts as empty: its child introduces all.
        let parent_trees: Vec<Option<ObjectId>> = parents
            .iter()
            .map(|p| tree::tree_of(repo, p, &mut self.buf).ok())
            .collect();
        let first = parent_trees.first().copied().flatten();
        let others: Vec<ObjectId> = parent_trees.iter().skip(1).flatten().copied().collect();
        let mut found = Vec::new();
        self.diff(first, new, others, &mut found);
        found.sort();
        for (path, blob) in found {
            self.add_blob(blob, &path, n, false);
        }
    }

    /// Blobs at paths of `new` that differ from `old` (the first parent's tree) and that none
    /// of `others` (the other parents' trees) holds at the same path, into `found`.
    ///
    /// The trees are compared directory by directory in lockstep, with an explicit stack of
    /// the directories on the current path, so no depth exhausts the thread's stack; and a
    /// combination of trees compared before is not compared again (it can only yield the same
    /// blobs under other paths, and a crafted tree can name one subtree millions of times).
    fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        others: Vec<ObjectId>,
        found: &mut Vec<(Vec<u8>, ObjectId)>,
    ) {
        let mut path = Vec::new();
        let mut stack = Vec::new();
        self.enter_diff(old, new, others, &path, &mut stack, found);
        while let Some(frame) = stack.last_mut() {
            path.truncate(frame.base);
            let Some((name, kind, id)) = frame.new.pop() else {
                stack.pop();
                continue;
            };
            path.extend_from_slice(&name);
            let before = frame.old.get(&name).copied();
            match kind {
                EntryKind::Tree => {
                    let old = match before {
                        Some((EntryKind::Tree, old_id)) => Some(old_id),
                        _ => None,
                    };
                    let others: Vec<ObjectId> = frame
                        .others
                        .iter()
                        .filter_map(|o| match o.get(&name) {
                            Some((EntryKind::Tree, id)) => Some(*id),
                            _ => None,
                        })
                        .collect();
                    path.push(b'/');
                    self.enter_diff(old, id, others, &path, &mut stack, found);
                }
                kind if tree::is_content(kind) => {
                    let held = |e: Option<&(EntryKind, ObjectId)>| matches!(e, Some((k, held)) if tree::is_content(*k) && *held == id);
                    let new_here =
                        !held(before.as_ref()) && !frame.others.iter().any(|o| held(o.get(&name)));
                    if new_here {
                        found.push((path.clone(), id));
                    }
                }
                _ => {
                    if before.map(|b| b.1) != Some(id) {
                        self.submodules.insert(path.clone());
                    }
                }
            }
        }
    }

    /// Put the directory whose trees are `old`, `new` and `others` (at `path`) on `stack`,
    /// unless there is nothing new in it or it was compared before. A directory no parent has
    /// is all new: its blobs go straight into `found`.
    fn enter_diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        others: Vec<ObjectId>,
        path: &[u8],
        stack: &mut Vec<DiffFrame>,
        found: &mut Vec<(Vec<u8>, ObjectId)>,
    ) {
        if old == Some(new) {
            return;
        }
        if old.is_none() && others.is_empty() {
            let mut path = path.to_vec();
            return self.collect_tree(&new, &mut path, found);
        }
        if !self.diffed.insert((old, new, others.clone())) {
            return;
        }
        let repo = self.repo;
        let mut read =
            |tree: &ObjectId, tally: &mut Tally| match tree::entries(repo, tree, &mut self.buf) {
                Ok(e) => Some(e),
                Err(message) => {
                    tally.error(display_path(path), message);
                    None
                }
            };
        let Some(new_entries) = read(&new, &mut self.tally) else {
            return;
        };
        let old_entries = old
            .and_then(|o| read(&o, &mut self.tally))
            .unwrap_or_default();
        let others = others
            .iter()
            .map(|o| read(o, &mut self.tally).unwrap_or_default())
            .collect();
        let mut new_entries: Vec<_> = new_entries
            .into_iter()
            .map(|(name, (kind, id))| (name, kind, id))
            .collect();
        // Taken from the end: by name, so the first path of a blob named twice is stable.
        new_entries.sort_by(|a, b| b.0.cmp(&a.0));
        stack.push(DiffFrame {
            new: new_entries,
            old: old_entries,
            others,
            base: path.len(),
        });
    }

    /// Every blob below a tree that is new to the range, into `found`.
    fn collect_tree(
        &mut self,
        tree: &ObjectId,
        path: &mut Vec<u8>,
        found: &mut Vec<(Vec<u8>, ObjectId)>,
    ) {
        if !self.seen_trees.insert(*tree) {
            return;
        }
        let Inventory {
            repo,
            seen_trees,
            submodules,
            tally,
            walker,
            ..
        } = self;
        walker.walk(repo, tree, path, &mut |visit| match visit {
            Visit::Entry { path, kind, id } => match kind {
                EntryKind::Tree => seen_trees.insert(id.to_owned()),
                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                    found.push((path.to_vec(), id.to_owned()));
                    false
                }
                EntryKind::Commit => submodules.insert(path.to_vec()),
            },
            Visit::Error { path, message } => {
                tally.error(display_path(path), message);
                false
            }
        });
    }

    /// `--all-objects`: find objects no ref reaches; walk unreachable commits (newly attributed
    /// blobs get their commit and path), then unreachable trees, then loose blobs. Returns how
    /// many unreachable blobs were added.
    fn add_unreachable(&mut self) -> Result<usize, GitError> {
        let repo = self.repo;
        let before = self.blobs.len();
        let known: HashSet<ObjectId> = self.commits.iter().map(|c| c.id).collect();
        let mut seen = HashSet::default();
        let (mut commits, mut trees, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
        let all = match repo.objects.iter() {
            Ok(all) => all.with_ordering(ObjectOrder::PackAscendingOffsetThenLooseLexicographical),
            Err(e) => {
                self.tally.error("(object database)", e.to_string());
                return Ok(0);
            }
        };
        for id in all {
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    self.tally.error("(object database)", e.to_string());
                    continue;
                }
            };
            if self.blobs.contains_key(&id)
                || self.seen_trees.contains(&id)
                || known.contains(&id)
                || !seen.insert(id)
            {
                continue;
            }
            match repo.objects.try_header(&id) {
                Ok(Some(h)) => match h.kind() {
                    Kind::Commit => commits.push(id),
                    Kind::Tree => trees.push(id),
                    Kind::Blob => blobs.push(id),
                    Kind::Tag => {}
                },
                Ok(None) => {}
                Err(e) => self.tally.error(format!("object {id}"), e.to_string()),
            }
        }
        for (id, _, _) in walk_commits(repo, Start::Unread(commits), Vec::new(), Some(known), self)?
        {
            self.add_commit(id, true);
        }
        for tree in trees {
            self.add_tree(&tree, None, true, &format!("unreachable tree {tree}"));
        }
        for blob in blobs {
            let path = format!("(unreachable blob {blob})");
            self.add_blob(blob, path.as_bytes(), None, true);
        }
        Ok(self.blobs.len() - before)
    }
}

/// A tree's entries by name.
type Entries = std::collections::HashMap<Vec<u8>, (EntryKind, ObjectId)>;

/// One directory of a range's tree comparison: the new tree's entries still to compare, the
/// first parent's and the other parents' entries by name, and the length of the path.
struct DiffFrame {
    new: Vec<(Vec<u8>, EntryKind, ObjectId)>,
    old: Entries,
    others: Vec<Entries>,
    base: usize,
}

/// Below this many blobs, listing every object to order them costs more than it saves.
const FEW_BLOBS: usize = 4096;

/// The blobs in the order their packs store them (then loose objects), so each worker reads
/// runs of neighbours and delta bases are found in its cache; a few blobs by id. Blobs the
/// listing does not show (missing objects) come last and are reported when read.
fn pack_order(repo: &gix::Repository, mut blobs: HashMap<ObjectId, Provenance>) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(blobs.len());
    let listing = (blobs.len() >= FEW_BLOBS)
        .then(|| repo.objects.iter().ok())
        .flatten();
    if let Some(all) = listing {
        let all = all.with_ordering(ObjectOrder::PackAscendingOffsetThenLooseLexicographical);
        for id in all.flatten() {
            if let Some(from) = blobs.remove(&id) {
                jobs.push(Job { id, from });
            }
        }
    }
    let mut rest: Vec<Job> = blobs
        .into_iter()
        .map(|(id, from)| Job { id, from })
        .collect();
    rest.sort_by_key(|j| j.id);
    jobs.extend(rest);
    jobs
}
