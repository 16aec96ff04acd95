//! Reading commits and trees: the small helpers every Git source shares.

use crate::finding::display_path;
use gix::hash::{oid, ObjectId};
use gix::objs::tree::EntryKind;
use gix::objs::{CommitRefIter, Find, Kind, TreeRefIter};
use std::collections::HashMap;

/// Read object `id`, which must be of `kind`, into `buf`. The message names the object.
pub(super) fn read<'a>(
    repo: &gix::Repository,
    id: &oid,
    kind: Kind,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    fetch(repo, id, kind, buf).map_err(|why| format!("{kind} {id} {why}"))
}

/// [`read`], with a message that does not name the object (its caller does).
fn fetch<'a>(
    repo: &gix::Repository,
    id: &oid,
    kind: Kind,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    match repo.objects.try_find(id, buf) {
        Ok(Some(data)) if data.kind == kind => Ok(data.data),
        Ok(Some(data)) => Err(format!("is a {}, not a {kind}", data.kind)),
        Ok(None) => Err("is missing from the object database".to_string()),
        Err(e) => Err(format!("cannot be read: {e}")),
    }
}

/// The root tree of commit `id`. The message does not name the commit: callers report it
/// under `commit <id>`.
pub(super) fn tree_of(
    repo: &gix::Repository,
    id: &oid,
    buf: &mut Vec<u8>,
) -> Result<ObjectId, String> {
    let data = fetch(repo, id, Kind::Commit, buf)?;
    CommitRefIter::from_bytes(data, repo.object_hash())
        .tree_id()
        .map_err(|e| format!("cannot be decoded: {e}"))
}

/// Check that commit `id` decodes as far as a commit walk reads it: tree, parents, committer.
/// The message does not name the commit.
pub(super) fn decode_commit(
    repo: &gix::Repository,
    id: &oid,
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    use gix::objs::commit::ref_iter::Token;
    let data = fetch(repo, id, Kind::Commit, buf)?;
    let hash = repo.object_hash();
    let bad = |e: &dyn std::fmt::Display| format!("cannot be decoded: {e}");
    for token in CommitRefIter::from_bytes(data, hash) {
        match token {
            Ok(Token::Tree { .. } | Token::Parent { .. }) => {}
            Ok(_) => break,
            Err(e) => return Err(bad(&e)),
        }
    }
    CommitRefIter::from_bytes(data, hash)
        .tree_id()
        .map_err(|e| bad(&e))?;
    CommitRefIter::from_bytes(data, hash)
        .committer()
        .map_err(|e| bad(&e))?;
    Ok(())
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

    /// Every path, by number.
    pub fn list(&self) -> &[Box<[u8]>] {
        &self.list
    }

    /// Drop the lookup table once no more paths are added.
    pub fn freeze(self) -> PathList {
        PathList(self.list)
    }
}

/// Paths by number, shared read-only by the scanning workers.
pub(super) struct PathList(Vec<Box<[u8]>>);

impl PathList {
    /// Path `n` as findings show it: exact, non-UTF-8 bytes escaped.
    pub fn get(&self, n: u32) -> String {
        display_path(&self.0[n as usize])
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

/// One tree being walked: its raw bytes, where the next entry starts, and how long the path
/// to it is.
struct Frame {
    tree: ObjectId,
    data: Vec<u8>,
    pos: usize,
    base: usize,
}

/// Depth-first walks over trees with an explicit stack, so a crafted repository of any depth
/// cannot exhaust the thread's stack; memory is the trees on the current path. Buffers are
/// reused from walk to walk.
#[derive(Default)]
pub(super) struct TreeWalker {
    stack: Vec<Frame>,
    spare: Vec<Vec<u8>>,
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
        let root = path.len();
        let hash = repo.object_hash();
        self.enter(repo, tree, path, visit);
        while let Some(frame) = self.stack.last_mut() {
            path.truncate(frame.base);
            let rest = &frame.data[frame.pos..];
            let entry = match TreeRefIter::from_bytes(rest, hash).next() {
                None => {
                    self.leave();
                    continue;
                }
                Some(Err(e)) => {
                    let message = format!("tree {}: {e}", frame.tree);
                    visit(Visit::Error { path, message });
                    self.leave();
                    continue;
                }
                Some(Ok(entry)) => entry,
            };
            // An entry is `<mode> <name>\0<id>`: the name ends at the first NUL.
            let name_end = memchr::memchr(0, rest).unwrap_or(rest.len());
            path.extend_from_slice(entry.filename);
            let (kind, id) = (entry.mode.kind(), entry.oid.to_owned());
            frame.pos += name_end + 1 + hash.len_in_bytes();
            let descend = visit(Visit::Entry {
                path,
                kind,
                id: &id,
            });
            if descend && kind == EntryKind::Tree {
                path.push(b'/');
                self.enter(repo, &id, path, visit);
            }
        }
        path.truncate(root);
    }

    /// Read `tree` and put it on the stack, or report why it cannot be read.
    fn enter(
        &mut self,
        repo: &gix::Repository,
        tree: &oid,
        path: &[u8],
        visit: &mut dyn FnMut(Visit<'_>) -> bool,
    ) {
        let mut data = self.spare.pop().unwrap_or_default();
        let found = read(repo, tree, Kind::Tree, &mut data).map(|d| (d.as_ptr() as usize, d.len()));
        match found {
            Ok((at, len)) => {
                // Keep exactly the tree's bytes: the object store returns them inside `data`.
                let start = at.saturating_sub(data.as_ptr() as usize).min(data.len());
                let end = (start + len).min(data.len());
                data.copy_within(start..end, 0);
                data.truncate(end - start);
                self.stack.push(Frame {
                    tree: tree.to_owned(),
                    data,
                    pos: 0,
                    base: path.len(),
                });
            }
            Err(message) => {
                self.spare.push(data);
                visit(Visit::Error { path, message });
            }
        }
    }

    fn leave(&mut self) {
        if let Some(frame) = self.stack.pop() {
            self.spare.push(frame.data);
        }
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

/// Whether an entry of this kind is a blob to scan: a file, or a symlink (whose blob is the
/// link's target text, which can hold a secret as well as any file).
pub(super) fn is_content(kind: EntryKind) -> bool {
    matches!(
        kind,
        EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link
    )
}
