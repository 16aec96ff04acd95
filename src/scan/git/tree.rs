//! Reading commits and trees: the small helpers every Git source shares.

use gix::hash::{oid, ObjectId};
use gix::objs::tree::EntryKind;
use gix::objs::{CommitRefIter, Find, Kind, TreeRefIter};
use std::collections::HashMap;

/// Trees nested deeper than this are reported instead of followed (a crafted repository could
/// otherwise exhaust the stack).
const MAX_DEPTH: usize = 512;

/// Read object `id`, which must be of `kind`, into `buf`.
pub(super) fn read<'a>(
    repo: &gix::Repository,
    id: &oid,
    kind: Kind,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    match repo.objects.try_find(id, buf) {
        Ok(Some(data)) if data.kind == kind => Ok(data.data),
        Ok(Some(data)) => Err(format!("{id} is a {}, expected a {kind}", data.kind)),
        Ok(None) => Err(format!("{kind} {id} is missing")),
        Err(e) => Err(format!("{kind} {id}: {e}")),
    }
}

/// The root tree of commit `id`.
pub(super) fn tree_of(
    repo: &gix::Repository,
    id: &oid,
    buf: &mut Vec<u8>,
) -> Result<ObjectId, String> {
    let data = read(repo, id, Kind::Commit, buf)?;
    CommitRefIter::from_bytes(data, repo.object_hash())
        .tree_id()
        .map_err(|e| format!("commit {id}: {e}"))
}

/// Paths, stored once each and named by a small number.
#[derive(Default)]
pub(super) struct Paths {
    index: HashMap<Box<[u8]>, u32>,
    list: Vec<Box<[u8]>>,
}

impl Paths {
    /// The number of `path`, adding it if new.
    pub fn intern(&mut self, path: &[u8]) -> u32 {
        if let Some(&n) = self.index.get(path) {
            return n;
        }
        let n = self.list.len() as u32;
        let owned: Box<[u8]> = path.into();
        self.list.push(owned.clone());
        self.index.insert(owned, n);
        n
    }

    /// Drop the lookup table once no more paths are added.
    pub fn freeze(self) -> PathList {
        PathList(self.list)
    }
}

/// Paths by number, shared read-only by the scanning workers.
pub(super) struct PathList(Vec<Box<[u8]>>);

impl PathList {
    /// Path `n` as findings show it.
    pub fn get(&self, n: u32) -> String {
        String::from_utf8_lossy(&self.0[n as usize]).into_owned()
    }

    /// Path `n` as bytes.
    pub fn bytes(&self, n: u32) -> &[u8] {
        &self.0[n as usize]
    }
}

/// What a tree walk meets.
pub(super) enum Visit<'a> {
    /// An entry at `path` (full path from the walk's root).
    Entry {
        path: &'a [u8],
        kind: EntryKind,
        id: &'a oid,
    },
    /// A tree that could not be read.
    Error { path: &'a [u8], message: String },
}

/// Depth-first walks over trees, reusing one buffer per level.
#[derive(Default)]
pub(super) struct TreeWalker {
    bufs: Vec<Vec<u8>>,
}

impl TreeWalker {
    /// Visit every entry below `tree`, whose path is `path` (empty or ending in `/`).
    /// `visit` returns whether to descend into a subtree it is shown.
    pub fn walk(
        &mut self,
        repo: &gix::Repository,
        tree: &oid,
        path: &mut Vec<u8>,
        visit: &mut dyn FnMut(Visit<'_>) -> bool,
    ) {
        self.walk_at(repo, tree, path, 0, visit)
    }

    fn walk_at(
        &mut self,
        repo: &gix::Repository,
        tree: &oid,
        path: &mut Vec<u8>,
        depth: usize,
        visit: &mut dyn FnMut(Visit<'_>) -> bool,
    ) {
        if depth >= MAX_DEPTH {
            visit(Visit::Error {
                path,
                message: format!("tree {tree} nested deeper than {MAX_DEPTH} levels"),
            });
            return;
        }
        if self.bufs.len() <= depth {
            self.bufs.resize_with(depth + 1, Vec::new);
        }
        let mut buf = std::mem::take(&mut self.bufs[depth]);
        match read(repo, tree, Kind::Tree, &mut buf) {
            Err(message) => {
                visit(Visit::Error { path, message });
            }
            Ok(data) => {
                let base = path.len();
                for entry in TreeRefIter::from_bytes(data, repo.object_hash()) {
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            visit(Visit::Error {
                                path,
                                message: format!("tree {tree}: {e}"),
                            });
                            break;
                        }
                    };
                    path.truncate(base);
                    path.extend_from_slice(entry.filename);
                    let kind = entry.mode.kind();
                    let descend = visit(Visit::Entry {
                        path,
                        kind,
                        id: entry.oid,
                    });
                    if descend && kind == EntryKind::Tree {
                        path.push(b'/');
                        self.walk_at(repo, entry.oid, path, depth + 1, visit);
                    }
                }
                path.truncate(base);
            }
        }
        self.bufs[depth] = buf;
    }
}

/// The entries of one tree by name: kind and id.
pub(super) fn entries(
    repo: &gix::Repository,
    tree: &oid,
    buf: &mut Vec<u8>,
) -> Result<HashMap<Vec<u8>, (EntryKind, ObjectId)>, String> {
    let data = read(repo, tree, Kind::Tree, buf)?;
    let mut out = HashMap::new();
    for entry in TreeRefIter::from_bytes(data, repo.object_hash()) {
        let entry = entry.map_err(|e| format!("tree {tree}: {e}"))?;
        out.insert(
            entry.filename.to_vec(),
            (entry.mode.kind(), entry.oid.to_owned()),
        );
    }
    Ok(out)
}

/// The blob at `path` (`/`-separated) below `tree`, if there is one.
pub(super) fn blob_at(
    repo: &gix::Repository,
    tree: &oid,
    path: &[u8],
    buf: &mut Vec<u8>,
) -> Option<ObjectId> {
    let mut current = tree.to_owned();
    let mut parts = path.split(|&b| b == b'/').peekable();
    while let Some(name) = parts.next() {
        let data = read(repo, &current, Kind::Tree, buf).ok()?;
        let entry = TreeRefIter::from_bytes(data, repo.object_hash())
            .filter_map(Result::ok)
            .find(|e| e.filename == name)?;
        let (kind, id) = (entry.mode.kind(), entry.oid.to_owned());
        match (parts.peek().is_some(), kind) {
            (true, EntryKind::Tree) => current = id,
            (false, EntryKind::Blob | EntryKind::BlobExecutable) => return Some(id),
            _ => return None,
        }
    }
    None
}

/// Whether an entry of this kind holds file content worth scanning.
pub(super) fn is_file(kind: EntryKind) -> bool {
    matches!(kind, EntryKind::Blob | EntryKind::BlobExecutable)
}
