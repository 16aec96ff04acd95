//! Provenance for blobs with findings: who committed them, when, and how many other commits
//! and paths carry the same content. Done only for the few blobs that need it.

use super::blobs::{Job, Walked};
use super::tree::{self, PathList};
use crate::finding::{display_path, Commit, Finding, GitOrigin};
use crate::matcher::Matcher;
use gix::hash::{oid, ObjectId};
use gix::hashtable::HashMap;
use gix::objs::tree::EntryKind;
use gix::objs::{Kind, TreeRefIter};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Where a blob's findings are reported: its first path, or, when the configuration allows
/// that path, the first other path holding the blob that it does not allow.
enum Place {
    First,
    Moved(Vec<u8>),
    /// Every path holding the blob is allowed.
    Allowed,
}

/// What an earlier walk counted: for some blobs, their carriers among the first `commits`
/// commits of this walk (which are that walk's, in the same order).
#[derive(Default)]
pub(super) struct Counted {
    pub commits: usize,
    pub carriers: HashMap<ObjectId, Carrier>,
}

/// Fill `git` on every finding; `owners[i]` is the job finding `i` came from. A blob first
/// seen under a path the configuration allows (scanned all the same) is reported under another
/// path that holds it and is not allowed, or dropped and counted as allowed when there is none.
/// Returns how many findings were dropped so, and the carriers of the blobs with findings.
///
/// Only the commits past `counted.commits` are read when `counted` has the carriers of every
/// such blob an earlier commit holds; else every commit is.
#[allow(clippy::too_many_arguments)]
pub(super) fn attach(
    repo: &gix::Repository,
    matcher: &Matcher,
    findings: &mut Vec<Finding>,
    owners: &[usize],
    jobs: &[Job],
    commits: &[Walked],
    paths: &PathList,
    mut counted: Counted,
) -> (u64, Counted) {
    let wanted: BTreeSet<usize> = owners.iter().copied().collect();
    if wanted.is_empty() {
        return (0, Counted::default());
    }
    let targets: HashMap<ObjectId, usize> = wanted
        .iter()
        .enumerate()
        .map(|(slot, &job)| (jobs[job].id, slot))
        .collect();
    // A blob first held by an earlier commit needs that walk's count; new blobs are in new
    // trees only.
    let known = wanted.iter().all(|&job| {
        let j = &jobs[job];
        j.from.commit.is_some_and(|c| c.get() >= counted.commits)
            || counted.carriers.contains_key(&j.id)
    });
    if !known {
        counted = Counted::default();
    }
    let mut carriers = Carriers::count(repo, &commits[counted.commits..], &targets);
    for (id, &slot) in &targets {
        if let Some(before) = counted.carriers.remove(id) {
            carriers.0[slot] = before.then(std::mem::take(&mut carriers.0[slot]));
        }
    }
    let mut origins = BTreeMap::new();
    for (slot, &job) in wanted.iter().enumerate() {
        let from = jobs[job].from;
        let carrier = &carriers.0[slot];
        let place = if matcher.path_allowed(&paths.get(from.path)) {
            let other = carrier
                .paths
                .iter()
                .find(|p| !matcher.path_allowed(&display_path(p)));
            match other {
                Some(p) => Place::Moved(p.clone()),
                // Paths not listed may hold it unallowed: report it rather than drop it.
                None if carrier.overflow => Place::First,
                None => Place::Allowed,
            }
        } else {
            Place::First
        };
        let shown = match &place {
            Place::Moved(p) => p.as_slice(),
            _ => paths.bytes(from.path),
        };
        let mut origin = GitOrigin {
            unreachable: from.unreachable,
            other_paths: carrier.other_paths(shown, from.commit.is_some()),
            other_commits: carrier.commits,
            commit: None,
            order: from.commit.map_or(u64::MAX, |c| c.get() as u64),
        };
        if let Some(index) = from.commit {
            let id = commits[index.get()].id;
            let mut introduced = Commit {
                id: id.into(),
                author: String::new(),
                email: String::new(),
                date: String::new(),
            };
            origin.other_commits = carrier.commits.saturating_sub(1);
            if let Ok(commit) = repo.find_commit(id) {
                if let Ok(author) = commit.author() {
                    let author = author.trim();
                    introduced.author = display_path(author.name);
                    introduced.email = display_path(author.email);
                    if let Ok(time) = author.time() {
                        introduced.date =
                            time.format_or_unix(gix::date::time::format::ISO8601_STRICT);
                    }
                }
            }
            origin.commit = Some(introduced);
        }
        origins.insert(job, (origin, place));
    }
    let mut keep = Vec::with_capacity(findings.len());
    let mut dropped = 0;
    for (mut finding, owner) in findings.drain(..).zip(owners) {
        let Some((origin, place)) = origins.get(owner) else {
            keep.push(finding);
            continue;
        };
        match place {
            Place::Allowed => {
                dropped += 1;
                continue;
            }
            Place::Moved(p) => {
                let moved = display_path(p);
                // Inside an archive, only the archive's own path moves; the member stays.
                match finding.archive.as_mut() {
                    Some(archive) => {
                        finding.path = format!("{moved}{}", &finding.path[archive.len()..]);
                        *archive = moved;
                    }
                    None => finding.path = moved,
                }
            }
            Place::First => {}
        }
        finding.git = Some(origin.clone());
        keep.push(finding);
    }
    *findings = keep;
    let carriers = targets
        .into_iter()
        .map(|(id, slot)| (id, std::mem::take(&mut carriers.0[slot])))
        .collect();
    let counted = Counted {
        commits: commits.len(),
        carriers,
    };
    (dropped, counted)
}

/// Paths a tree keeps as a list for each target it holds; a tree holding a target under more
/// paths than this keeps only the count (a crafted tree can name one blob 10^7 times).
const LISTED_PER_TREE: usize = 256;
/// Distinct paths collected for one target across all commits; beyond this, paths are counted.
const DISTINCT_PATHS: usize = 4096;

/// Commits per part of the carrier count (see [`Carriers::count`]).
const COUNT_PART: usize = 2048;

/// For each target blob: how many commits hold it, the distinct paths it is held under (up to
/// [`DISTINCT_PATHS`]), and the most paths any one commit holds it under.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Carrier {
    pub commits: u64,
    pub paths: BTreeSet<Vec<u8>>,
    /// Some commit held the target under paths not listed: `paths` is incomplete.
    pub overflow: bool,
    pub most_in_one_commit: u64,
}

impl Carrier {
    /// The count of earlier commits followed by `later`'s, as one pass over both would count.
    fn then(mut self, later: Carrier) -> Carrier {
        self.commits += later.commits;
        self.most_in_one_commit = self.most_in_one_commit.max(later.most_in_one_commit);
        for path in later.paths {
            if self.overflow {
                break;
            }
            if self.paths.len() >= DISTINCT_PATHS && !self.paths.contains(&path) {
                self.overflow = true;
                break;
            }
            self.paths.insert(path);
        }
        self.overflow |= later.overflow;
        self
    }

    /// How many paths other than `first` hold the target: exact while every path was listed,
    /// else at least the most any one commit holds (minus the first path).
    fn other_paths(&self, first: &[u8], first_in_commits: bool) -> u64 {
        if !self.overflow {
            return self.paths.iter().filter(|p| p.as_slice() != first).count() as u64;
        }
        let distinct = (self.paths.len() as u64).max(self.most_in_one_commit);
        distinct.saturating_sub(u64::from(first_in_commits || self.paths.contains(first)))
    }
}

/// A path below a tree, as a chain of names shared by every tree that holds it (memory stays
/// linear in the trees read, however deep they nest).
struct PathNode {
    name: Box<[u8]>,
    rest: Option<Rc<PathNode>>,
}

impl PathNode {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.name.to_vec();
        let mut next = &self.rest;
        while let Some(node) = next {
            out.push(b'/');
            out.extend_from_slice(&node.name);
            next = &node.rest;
        }
        out
    }
}

/// What a tree holds of one target: how many paths below it (saturating), and those paths
/// while there are at most [`LISTED_PER_TREE`].
struct Held {
    slot: usize,
    count: u64,
    paths: Listed,
}

/// The paths below a tree that hold a target, when there are few enough to list.
type Listed = Option<Vec<Rc<PathNode>>>;

/// What a tree holds of the targets, by slot.
type Holdings = Rc<Vec<Held>>;

struct Carriers(Vec<Carrier>);

impl Carriers {
    /// One more pass over the commits' trees, in parts of [`COUNT_PART`] consecutive commits
    /// on every core, each part counted as one pass over it would and the parts joined in
    /// order ([`Carrier::then`]). The part size is fixed, so the count does not depend on how
    /// many threads there are.
    fn count(
        repo: &gix::Repository,
        commits: &[Walked],
        targets: &HashMap<ObjectId, usize>,
    ) -> Self {
        use rayon::prelude::*;
        let sync = repo.clone().into_sync();
        let parts: Vec<Vec<Carrier>> = commits
            .par_chunks(COUNT_PART)
            .map(|part| Self::count_part(&sync.to_thread_local(), part, targets))
            .collect();
        let joined = parts.into_iter().reduce(|earlier, later| {
            earlier
                .into_iter()
                .zip(later)
                .map(|(e, l)| e.then(l))
                .collect()
        });
        Carriers(joined.unwrap_or_else(|| vec![Carrier::default(); targets.len()]))
    }

    /// One part of [`count`](Self::count): per tree, which targets it holds and under how
    /// many paths, so that every tree of the part is read once and paths are counted by
    /// arithmetic rather than listed; the commits' root trees are those the walk read.
    fn count_part(
        repo: &gix::Repository,
        commits: &[Walked],
        targets: &HashMap<ObjectId, usize>,
    ) -> Vec<Carrier> {
        let mut counter = Counter {
            repo,
            targets,
            memo: HashMap::default(),
            empty: Rc::new(Vec::new()),
            buf: Vec::new(),
        };
        let mut out = vec![Carrier::default(); targets.len()];
        let mut seen = gix::hashtable::HashSet::default();
        for root in commits.iter().filter_map(|c| c.root.as_ref()) {
            let held = counter.holdings(root);
            // A root tree seen before holds the same paths.
            let new_root = seen.insert(*root);
            for h in held.iter() {
                let carrier = &mut out[h.slot];
                carrier.commits += 1;
                carrier.most_in_one_commit = carrier.most_in_one_commit.max(h.count);
                if !new_root || carrier.overflow {
                    continue;
                }
                let Some(paths) = &h.paths else {
                    carrier.overflow = true;
                    continue;
                };
                for path in paths {
                    let path = path.to_bytes();
                    if carrier.paths.len() >= DISTINCT_PATHS && !carrier.paths.contains(&path) {
                        carrier.overflow = true;
                        break;
                    }
                    carrier.paths.insert(path);
                }
            }
        }
        out
    }
}

struct Counter<'a> {
    repo: &'a gix::Repository,
    targets: &'a HashMap<ObjectId, usize>,
    memo: HashMap<ObjectId, Holdings>,
    empty: Holdings,
    buf: Vec<u8>,
}

/// A step of the walk in [`Counter::holdings`].
enum Step {
    /// Read a tree and queue its subtrees.
    Enter(ObjectId),
    /// All subtrees of the tree are known: add up what its entries hold.
    Combine(ObjectId, Vec<(Box<[u8]>, bool, ObjectId)>),
}

impl Counter<'_> {
    /// What `root` holds of the targets. Post-order with an explicit stack (any depth), each
    /// tree once (memoised across commits).
    fn holdings(&mut self, root: &oid) -> Holdings {
        let mut steps = vec![Step::Enter(root.to_owned())];
        let mut open = gix::hashtable::HashSet::default();
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(id) => {
                    if self.memo.contains_key(&id) || open.contains(&id) {
                        continue;
                    }
                    let Ok(data) = tree::read(self.repo, &id, Kind::Tree, &mut self.buf) else {
                        self.memo.insert(id, self.empty.clone());
                        continue;
                    };
                    let mut entries = Vec::new();
                    for entry in TreeRefIter::from_bytes(data, self.repo.object_hash()).flatten() {
                        let kind = entry.mode.kind();
                        let is_tree = kind == EntryKind::Tree;
                        if is_tree
                            || (tree::is_content(kind) && self.targets.contains_key(entry.oid))
                        {
                            let name: &[u8] = entry.filename;
                            entries.push((Box::from(name), is_tree, entry.oid.to_owned()));
                        }
                    }
                    open.insert(id);
                    let subtrees: Vec<ObjectId> = entries
                        .iter()
                        .filter(|e| e.1 && !self.memo.contains_key(&e.2))
                        .map(|e| e.2)
                        .collect();
                    steps.push(Step::Combine(id, entries));
                    steps.extend(subtrees.into_iter().map(Step::Enter));
                }
                Step::Combine(id, entries) => {
                    open.remove(&id);
                    let held = self.combine(entries);
                    self.memo.insert(id, held);
                }
            }
        }
        self.memo
            .get(root)
            .cloned()
            .unwrap_or_else(|| self.empty.clone())
    }

    /// What a tree holds, from its entries (subtrees already memoised).
    fn combine(&self, entries: Vec<(Box<[u8]>, bool, ObjectId)>) -> Holdings {
        let mut by_slot: BTreeMap<usize, (u64, Listed)> = BTreeMap::new();
        for (name, is_tree, id) in entries {
            if is_tree {
                // A subtree still open is a cycle, which only a corrupt store can make.
                let Some(below) = self.memo.get(&id) else {
                    continue;
                };
                if below.is_empty() {
                    continue;
                }
                let name: Box<[u8]> = name;
                for h in below.iter() {
                    let (count, paths) = by_slot.entry(h.slot).or_insert((0, Some(Vec::new())));
                    *count = count.saturating_add(h.count);
                    match (paths.as_mut(), &h.paths) {
                        (Some(list), Some(more)) if list.len() + more.len() <= LISTED_PER_TREE => {
                            list.extend(more.iter().map(|p| {
                                Rc::new(PathNode {
                                    name: name.clone(),
                                    rest: Some(p.clone()),
                                })
                            }));
                        }
                        _ => *paths = None,
                    }
                }
            } else if let Some(&slot) = self.targets.get(&id) {
                let (count, paths) = by_slot.entry(slot).or_insert((0, Some(Vec::new())));
                *count = count.saturating_add(1);
                match paths.as_mut() {
                    Some(list) if list.len() < LISTED_PER_TREE => {
                        list.push(Rc::new(PathNode { name, rest: None }));
                    }
                    _ => *paths = None,
                }
            }
        }
        if by_slot.is_empty() {
            return self.empty.clone();
        }
        Rc::new(
            by_slot
                .into_iter()
                .map(|(slot, (count, paths))| Held { slot, count, paths })
                .collect(),
        )
    }
}
