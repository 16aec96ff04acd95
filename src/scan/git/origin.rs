//! Provenance for blobs with findings: who committed them, when, and how many other commits
//! and paths carry the same content. Done only for the few blobs that need it.

use super::blobs::{Job, NO_COMMIT};
use super::tree::{self, PathList};
use crate::finding::{Finding, GitOrigin};
use gix::hash::{oid, ObjectId};
use gix::hashtable::HashMap;
use gix::objs::tree::EntryKind;
use gix::objs::{Kind, TreeRefIter};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Fill `git` on every finding; `owners[i]` is the job finding `i` came from.
pub(super) fn attach(
    repo: &gix::Repository,
    findings: &mut [Finding],
    owners: &[usize],
    jobs: &[Job],
    commits: &[ObjectId],
    paths: &PathList,
) {
    let wanted: BTreeSet<usize> = owners.iter().copied().collect();
    if wanted.is_empty() {
        return;
    }
    let targets: HashMap<ObjectId, usize> = wanted
        .iter()
        .enumerate()
        .map(|(slot, &job)| (jobs[job].id, slot))
        .collect();
    let carriers = Carriers::count(repo, commits, &targets);
    let mut origins = BTreeMap::new();
    for (slot, &job) in wanted.iter().enumerate() {
        let from = jobs[job].from;
        let carrier = &carriers.0[slot];
        let mut origin = GitOrigin {
            unreachable: from.unreachable,
            other_paths: carrier
                .paths
                .iter()
                .filter(|p| p.as_slice() != paths.bytes(from.path))
                .count() as u64,
            other_commits: carrier.commits,
            ..GitOrigin::default()
        };
        if from.commit != NO_COMMIT {
            let id = commits[from.commit as usize];
            origin.commit = id.to_string();
            origin.other_commits = carrier.commits.saturating_sub(1);
            if let Ok(commit) = repo.find_commit(id) {
                if let Ok(author) = commit.author() {
                    let author = author.trim();
                    origin.author = author.name.to_string();
                    origin.email = author.email.to_string();
                    if let Ok(time) = author.time() {
                        origin.date = time.format_or_unix(gix::date::time::format::ISO8601_STRICT);
                    }
                }
            }
        }
        origins.insert(job, origin);
    }
    for (finding, owner) in findings.iter_mut().zip(owners) {
        finding.git = origins.get(owner).cloned();
    }
}

/// For each target blob: how many commits hold it, and under which paths.
#[derive(Default, Clone)]
struct Carrier {
    commits: u64,
    paths: BTreeSet<Vec<u8>>,
}

/// What a tree holds of the targets: (target slot, path below the tree).
type Holdings = Rc<Vec<(usize, Vec<u8>)>>;

struct Carriers(Vec<Carrier>);

impl Carriers {
    /// One more pass over the commits' trees, remembering per tree which targets it holds so
    /// that every tree is read once.
    fn count(
        repo: &gix::Repository,
        commits: &[ObjectId],
        targets: &HashMap<ObjectId, usize>,
    ) -> Self {
        let mut counter = Counter {
            repo,
            targets,
            memo: HashMap::default(),
            empty: Rc::new(Vec::new()),
            bufs: Vec::new(),
        };
        let mut out = vec![Carrier::default(); targets.len()];
        let mut buf = Vec::new();
        for id in commits {
            let Ok(root) = tree::tree_of(repo, id, &mut buf) else {
                continue;
            };
            let held = counter.holdings(&root, 0);
            let mut counted = BTreeSet::new();
            for (slot, path) in held.iter() {
                if counted.insert(*slot) {
                    out[*slot].commits += 1;
                }
                out[*slot].paths.insert(path.clone());
            }
        }
        Carriers(out)
    }
}

struct Counter<'a> {
    repo: &'a gix::Repository,
    targets: &'a HashMap<ObjectId, usize>,
    memo: HashMap<ObjectId, Holdings>,
    empty: Holdings,
    bufs: Vec<Vec<u8>>,
}

impl Counter<'_> {
    fn holdings(&mut self, tree: &oid, depth: usize) -> Holdings {
        if let Some(h) = self.memo.get(tree) {
            return h.clone();
        }
        if self.bufs.len() <= depth {
            self.bufs.resize_with(depth + 1, Vec::new);
        }
        let mut buf = std::mem::take(&mut self.bufs[depth]);
        let mut held = Vec::new();
        if let Ok(data) = tree::read(self.repo, tree, Kind::Tree, &mut buf) {
            for entry in TreeRefIter::from_bytes(data, self.repo.object_hash()).flatten() {
                match entry.mode.kind() {
                    EntryKind::Tree if depth < 512 => {
                        for (slot, path) in self.holdings(entry.oid, depth + 1).iter() {
                            let mut full = entry.filename.to_vec();
                            full.push(b'/');
                            full.extend_from_slice(path);
                            held.push((*slot, full));
                        }
                    }
                    EntryKind::Blob | EntryKind::BlobExecutable => {
                        if let Some(&slot) = self.targets.get(entry.oid) {
                            held.push((slot, entry.filename.to_vec()));
                        }
                    }
                    _ => {}
                }
            }
        }
        self.bufs[depth] = buf;
        let held = if held.is_empty() {
            self.empty.clone()
        } else {
            Rc::new(held)
        };
        self.memo.insert(tree.to_owned(), held.clone());
        held
    }
}
