//! `--cache FILE`: the blobs a history or range scan already read and found clean, so the next
//! scan reads only the others. The cache holds no secret and no content: blob ids, a digest of
//! the path each was scanned under, and what it was (text, binary, LFS pointer, an archive and
//! the skips among its members). A blob with a finding, an allowed match, an error, a warning
//! or a skip of its own by size or path is never kept: it is read again every time, so every
//! finding is reported again and attributed afresh.
//!
//! # Format (version 1)
//!
//! All integers little-endian.
//!
//! | bytes | what |
//! |---|---|
//! | 16 | magic `leakgate-cache\n\0` |
//! | 4 | format version (1) |
//! | 32 | SHA-256 of what the scan ran with: leakgate's version, the matcher's digest (rules and configuration), the size cap, the object hash |
//! | 32 | SHA-256 of the repository's common Git directory (absolute, canonical) |
//! | 8 | entry count `n` |
//! | `n` entries | sorted by id then path digest: blob id, path digest (`u64`, FNV-1a of the path's bytes), kind (`0` text, `1` binary, `2` LFS pointer, `3` archive followed by its members skipped as binary, too large and LFS pointers, three `u64`) |
//! | 1 | `1` when the walk of a full-history scan follows, else `0` |
//! | ... | the walk (below) |
//! | 32 | SHA-256 of everything before |
//!
//! The walk is what a full-history scan learnt of the commits and trees, so that the next one
//! reads only the trees of new commits. Counts are `u32`, byte strings a `u32` length and the
//! bytes, ids raw: the commits in attribution order (id, `1` and the root tree or `0`); the
//! heads (commits no walked commit has as a parent); the newest commit time (`i64`); the trees
//! read; the paths; every blob (id, commit index or `u32::MAX`, path index); the submodule
//! paths; and, for each blob with findings, its carriers
//! (id, commits `u64`, most paths in one commit `u64`, `1` if its paths overflowed, its paths).
//! The walk is used only when the new history extends the old one: every old head is still a
//! tip or a parent of a new commit, and every new commit is newer than every old one (so a
//! cold walk would order the old commits first, as they were). Otherwise the history is walked
//! whole and the blob entries still spare reading the blobs. A walk that met an error, or of
//! a shallow clone, or with `--all-objects`, is never kept.
//!
//! A file that is missing starts an empty cache; one that is unreadable, truncated, corrupt,
//! of another format, built with other rules or settings, or for another repository is
//! rebuilt, with a warning saying which. The file is replaced atomically (a new file in the
//! same folder, synced, then renamed over it), so a scan killed while writing leaves the old
//! cache whole.

use super::blobs::{CommitIndex, Kept, MemberSkips, Provenance, Walked};
use super::origin::Carrier;
use gix::hash::ObjectId;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"leakgate-cache\n\0";
const FORMAT: u32 = 1;
/// The largest cache file read (about 40 million entries); a larger one is rebuilt.
const MAX_FILE: u64 = 1 << 30;

/// What the entries of one cache are valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CacheKey {
    /// Leakgate's version, the rules and configuration, the size cap, the object hash.
    pub scan: [u8; 32],
    /// The repository.
    pub repo: [u8; 32],
}

impl CacheKey {
    /// The key of a scan of `repo` with a matcher of digest `matcher` and size cap `max_size`.
    pub fn new(repo: &gix::Repository, matcher: [u8; 32], max_size: u64) -> Self {
        let mut scan = Sha256::new();
        scan.update(env!("CARGO_PKG_VERSION").as_bytes());
        scan.update([0]);
        scan.update(matcher);
        scan.update(max_size.to_le_bytes());
        scan.update(format!("{:?}", repo.object_hash()).as_bytes());
        let dir = repo.common_dir();
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut at = Sha256::new();
        at.update(dir.as_os_str().as_encoded_bytes());
        CacheKey {
            scan: scan.finalize().into(),
            repo: at.finalize().into(),
        }
    }
}

/// The digest of a path a blob is scanned under (rules and allow lists depend on it).
pub(super) fn path_digest(path: &[u8]) -> u64 {
    path.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One blob known clean under one path.
pub(super) type Entry = (ObjectId, u64);

/// A cache as read: its entries, the walk, and why it was rebuilt if it was.
#[derive(Default)]
pub(super) struct BlobCache {
    pub entries: HashMap<Entry, Kept>,
    pub walk: Option<WalkState>,
    /// Set when the file existed but could not be used.
    pub rebuilt: Option<String>,
}

/// What a full-history walk learnt (see the format above).
#[derive(Debug, Default, PartialEq)]
pub(super) struct WalkState {
    pub commits: Vec<Walked>,
    pub heads: Vec<ObjectId>,
    pub newest: i64,
    pub trees: Vec<ObjectId>,
    pub paths: Vec<Box<[u8]>>,
    pub blobs: Vec<(ObjectId, Provenance)>,
    pub submodules: Vec<Vec<u8>>,
    pub carriers: Vec<(ObjectId, Carrier)>,
}

impl WalkState {
    fn encode(&self, out: &mut Vec<u8>) {
        let count = |out: &mut Vec<u8>, n: usize| {
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        };
        let bytes = |out: &mut Vec<u8>, b: &[u8]| {
            count(out, b.len());
            out.extend_from_slice(b);
        };
        count(out, self.commits.len());
        for c in &self.commits {
            out.extend_from_slice(c.id.as_bytes());
            match c.root {
                Some(root) => {
                    out.push(1);
                    out.extend_from_slice(root.as_bytes());
                }
                None => out.push(0),
            }
        }
        count(out, self.heads.len());
        for h in &self.heads {
            out.extend_from_slice(h.as_bytes());
        }
        out.extend_from_slice(&self.newest.to_le_bytes());
        count(out, self.trees.len());
        for t in &self.trees {
            out.extend_from_slice(t.as_bytes());
        }
        count(out, self.paths.len());
        for p in &self.paths {
            bytes(out, p);
        }
        count(out, self.blobs.len());
        for (id, from) in &self.blobs {
            out.extend_from_slice(id.as_bytes());
            let commit = from.commit.map_or(u32::MAX, |c| c.get() as u32);
            out.extend_from_slice(&commit.to_le_bytes());
            out.extend_from_slice(&from.path.to_le_bytes());
        }
        count(out, self.submodules.len());
        for s in &self.submodules {
            bytes(out, s);
        }
        count(out, self.carriers.len());
        for (id, c) in &self.carriers {
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&c.commits.to_le_bytes());
            out.extend_from_slice(&c.most_in_one_commit.to_le_bytes());
            out.push(u8::from(c.overflow));
            count(out, c.paths.len());
            for p in &c.paths {
                bytes(out, p);
            }
        }
    }

    /// Decode a walk, checking every count against the bytes left and every index against
    /// what it indexes.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Unusable> {
        let mut w = WalkState::default();
        for _ in 0..r.count(21)? {
            let id = r.id()?;
            let root = match r.u8()? {
                0 => None,
                1 => Some(r.id()?),
                _ => return Err(Unusable::Corrupt),
            };
            w.commits.push(Walked { id, root });
        }
        for _ in 0..r.count(20)? {
            w.heads.push(r.id()?);
        }
        w.newest = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
        for _ in 0..r.count(20)? {
            w.trees.push(r.id()?);
        }
        for _ in 0..r.count(4)? {
            w.paths.push(r.bytes()?.into());
        }
        for _ in 0..r.count(28)? {
            let id = r.id()?;
            let commit = match r.u32()? {
                u32::MAX => None,
                c if (c as usize) < w.commits.len() => Some(CommitIndex::new(c as usize)),
                _ => return Err(Unusable::Corrupt),
            };
            let path = r.u32()?;
            if path as usize >= w.paths.len() {
                return Err(Unusable::Corrupt);
            }
            let unreachable = false;
            w.blobs.push((
                id,
                Provenance {
                    commit,
                    path,
                    unreachable,
                },
            ));
        }
        for _ in 0..r.count(4)? {
            w.submodules.push(r.bytes()?.to_vec());
        }
        for _ in 0..r.count(41)? {
            let id = r.id()?;
            let commits = r.u64()?;
            let most_in_one_commit = r.u64()?;
            let overflow = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(Unusable::Corrupt),
            };
            let mut paths = std::collections::BTreeSet::new();
            for _ in 0..r.count(4)? {
                paths.insert(r.bytes()?.to_vec());
            }
            let carrier = Carrier {
                commits,
                paths,
                overflow,
                most_in_one_commit,
            };
            w.carriers.push((id, carrier));
        }
        Ok(w)
    }
}

/// Reads a cache's body front to back; every read past the end is [`Unusable::Corrupt`].
struct Reader<'a> {
    data: &'a [u8],
    hash_len: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Unusable> {
        if n > self.data.len() {
            return Err(Unusable::Corrupt);
        }
        let (part, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(part)
    }

    fn u8(&mut self) -> Result<u8, Unusable> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Unusable> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, Unusable> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A count of items at least `min` bytes each (ids count as 20), no more than the bytes
    /// left could hold.
    fn count(&mut self, min: usize) -> Result<usize, Unusable> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.data.len() {
            return Err(Unusable::Corrupt);
        }
        Ok(n)
    }

    fn id(&mut self) -> Result<ObjectId, Unusable> {
        let raw = self.take(self.hash_len)?;
        ObjectId::try_from(raw).map_err(|_| Unusable::Corrupt)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Unusable> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

impl Kept {
    fn encode(self, out: &mut Vec<u8>) {
        match self {
            Kept::Text => out.push(0),
            Kept::Binary => out.push(1),
            Kept::LfsPointer => out.push(2),
            Kept::Archive(skips) => {
                out.push(3);
                for n in [skips.binary, skips.too_large, skips.lfs_pointers] {
                    out.extend_from_slice(&n.to_le_bytes());
                }
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, Unusable> {
        Ok(match r.u8()? {
            0 => Kept::Text,
            1 => Kept::Binary,
            2 => Kept::LfsPointer,
            3 => Kept::Archive(MemberSkips {
                binary: r.u64()?,
                too_large: r.u64()?,
                lfs_pointers: r.u64()?,
            }),
            _ => return Err(Unusable::Corrupt),
        })
    }
}

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
enum Unusable {
    #[error("cannot be read: {0}")]
    Read(#[source] io::Error),
    #[error("is larger than {MAX_FILE} bytes")]
    TooLarge,
    #[error("is not a leakgate cache, or is truncated or corrupt")]
    Corrupt,
    #[error("has format version {0}, this leakgate writes {FORMAT}")]
    Format(u32),
    #[error("was built with other rules, configuration or leakgate version")]
    OtherScan,
    #[error("belongs to another repository")]
    OtherRepository,
}

impl BlobCache {
    /// Read the cache at `path` for `key`; an unusable file gives an empty cache that says why.
    pub fn load(path: &Path, key: &CacheKey, hash_len: usize) -> Self {
        match read(path, key, hash_len) {
            Ok((entries, walk)) => BlobCache {
                entries,
                walk,
                rebuilt: None,
            },
            Err(Unusable::Read(e)) if e.kind() == io::ErrorKind::NotFound => BlobCache::default(),
            Err(why) => BlobCache {
                entries: HashMap::default(),
                walk: None,
                rebuilt: Some(format!(
                    "cache {} {why}: it is rebuilt, and every blob is read",
                    path.display()
                )),
            },
        }
    }

    /// What the cache knows of `id` scanned under a path of digest `path`.
    pub fn get(&self, id: ObjectId, path: u64) -> Option<Kept> {
        self.entries.get(&(id, path)).copied()
    }
}

/// What a cache file holds: its entries and its walk.
type Contents = (HashMap<Entry, Kept>, Option<WalkState>);

fn read(path: &Path, key: &CacheKey, hash_len: usize) -> Result<Contents, Unusable> {
    let len = std::fs::metadata(path).map_err(Unusable::Read)?.len();
    if len > MAX_FILE {
        return Err(Unusable::TooLarge);
    }
    let data = std::fs::read(path).map_err(Unusable::Read)?;
    if data.len() < MAGIC.len() + 32 || &data[..MAGIC.len()] != MAGIC {
        return Err(Unusable::Corrupt);
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(Unusable::Corrupt);
    }
    let mut r = Reader {
        data: &body[MAGIC.len()..],
        hash_len,
    };
    let format = r.u32()?;
    if format != FORMAT {
        return Err(Unusable::Format(format));
    }
    if r.take(32)? != key.scan {
        return Err(Unusable::OtherScan);
    }
    if r.take(32)? != key.repo {
        return Err(Unusable::OtherRepository);
    }
    let count = r.u64()?;
    let width = hash_len + 9;
    // Each entry takes at least `width` bytes.
    if count.saturating_mul(width as u64) > r.data.len() as u64 {
        return Err(Unusable::Corrupt);
    }
    let mut entries = HashMap::with_capacity(count as usize);
    for _ in 0..count {
        let id = r.id()?;
        let path = r.u64()?;
        let kept = Kept::decode(&mut r)?;
        entries.insert((id, path), kept);
    }
    let walk = match r.u8()? {
        0 => None,
        1 => Some(WalkState::decode(&mut r)?),
        _ => return Err(Unusable::Corrupt),
    };
    if !r.data.is_empty() {
        return Err(Unusable::Corrupt);
    }
    Ok((entries, walk))
}

/// Write `entries` as the cache at `path` for `key`, replacing the file atomically.
pub(super) fn save(
    path: &Path,
    key: &CacheKey,
    entries: impl IntoIterator<Item = (Entry, Kept)>,
    walk: Option<&WalkState>,
) -> io::Result<()> {
    let mut entries: Vec<(Entry, Kept)> = entries.into_iter().collect();
    entries.sort_unstable_by_key(|e| e.0);
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::with_capacity(128 + entries.len() * 29);
    encode(key, &entries, walk, &mut out);
    let tmp = temp_path(path);
    let written = write_synced(&tmp, &out).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The cache's bytes, checksum last.
fn encode(key: &CacheKey, entries: &[(Entry, Kept)], walk: Option<&WalkState>, out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&key.scan);
    out.extend_from_slice(&key.repo);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for ((id, path), kept) in entries {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&path.to_le_bytes());
        kept.encode(out);
    }
    match walk {
        Some(w) => {
            out.push(1);
            w.encode(out);
        }
        None => out.push(0),
    }
    let sum = Sha256::digest(&out[..]);
    out.extend_from_slice(&sum);
}

/// A new file beside `path`, unique to this process.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn write_synced(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey {
            scan: [n; 32],
            repo: [7; 32],
        }
    }

    fn some_entries() -> Vec<(Entry, Kept)> {
        (0..50u8)
            .map(|i| {
                let archive = Kept::Archive(MemberSkips {
                    binary: u64::from(i),
                    too_large: 1,
                    lfs_pointers: 2,
                });
                let kept =
                    [Kept::Text, Kept::Binary, Kept::LfsPointer, archive][usize::from(i % 4)];
                ((ObjectId::from([i; 20]), path_digest(&[i, b'x'])), kept)
            })
            .collect()
    }

    #[test]
    fn a_saved_cache_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        save(&file, &key(1), some_entries(), None).unwrap();
        let back = BlobCache::load(&file, &key(1), 20);
        assert!(back.rebuilt.is_none());
        assert_eq!(back.entries.len(), 50);
        for (e, kept) in some_entries() {
            assert_eq!(back.get(e.0, e.1), Some(kept));
        }
        assert_eq!(back.get(ObjectId::from([0; 20]), 1), None);
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_unusable_cache_is_rebuilt_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        assert!(BlobCache::load(&file, &key(1), 20).rebuilt.is_none());
        save(&file, &key(1), some_entries(), None).unwrap();
        let why = |k: &CacheKey| BlobCache::load(&file, k, 20).rebuilt.unwrap_or_default();
        assert!(why(&key(2)).contains("other rules"), "{}", why(&key(2)));
        let elsewhere = CacheKey {
            repo: [8; 32],
            ..key(1)
        };
        assert!(why(&elsewhere).contains("another repository"));
        let good = std::fs::read(&file).unwrap();
        // Every truncation and every flipped byte is caught.
        for cut in [0, 1, 15, 40, good.len() / 2, good.len() - 1] {
            std::fs::write(&file, &good[..cut]).unwrap();
            assert!(why(&key(1)).contains("corrupt"), "cut at {cut}");
        }
        for at in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            std::fs::write(&file, &bad).unwrap();
            let cache = BlobCache::load(&file, &key(1), 20);
            assert!(
                cache.rebuilt.is_some() && cache.entries.is_empty(),
                "byte {at}"
            );
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_cache() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        save(&file, &key(1), some_entries(), None).unwrap();
        let before = std::fs::read(&file).unwrap();
        // A writer killed half way leaves a partial temporary file; the cache is untouched.
        std::fs::write(temp_path(&file), &before[..before.len() / 2]).unwrap();
        assert_eq!(BlobCache::load(&file, &key(1), 20).entries.len(), 50);
        // A rename that cannot happen (the target is a non-empty folder) leaves nothing behind.
        let blocked = dir.path().join("d");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), b"").unwrap();
        assert!(save(&blocked, &key(1), some_entries(), None).is_err());
        assert!(!temp_path(&blocked).exists());
        assert_eq!(std::fs::read(&file).unwrap(), before);
    }

    fn some_walk() -> WalkState {
        let id = |n: u8| ObjectId::from([n; 20]);
        let mut carrier = Carrier {
            commits: 3,
            overflow: true,
            most_in_one_commit: 2,
            ..Carrier::default()
        };
        carrier.paths.insert(b"a/b.env".to_vec());
        WalkState {
            commits: vec![
                Walked {
                    id: id(1),
                    root: Some(id(2)),
                },
                Walked {
                    id: id(3),
                    root: None,
                },
            ],
            heads: vec![id(3)],
            newest: -5,
            trees: vec![id(2), id(4)],
            paths: vec![b"x".to_vec().into(), b"caf\xff/y".to_vec().into()],
            blobs: vec![
                (
                    id(5),
                    Provenance {
                        commit: Some(CommitIndex::new(1)),
                        path: 1,
                        unreachable: false,
                    },
                ),
                (
                    id(6),
                    Provenance {
                        commit: None,
                        path: 0,
                        unreachable: false,
                    },
                ),
            ],
            submodules: vec![b"libs/sub".to_vec()],
            carriers: vec![(id(5), carrier)],
        }
    }

    #[test]
    fn a_walk_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        let walk = some_walk();
        save(&file, &key(1), some_entries(), Some(&walk)).unwrap();
        let back = BlobCache::load(&file, &key(1), 20);
        assert!(back.rebuilt.is_none());
        assert_eq!(back.walk, Some(walk));
        assert_eq!(back.entries.len(), 50);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes with a right checksum (as a crafted file has) load or are rebuilt whole,
        /// never panic, whatever the counts and indices in them say.
        #[test]
        fn crafted_contents_never_panic(body in proptest::collection::vec(0u8..=255, 0..400), cut in 0usize..400) {
            let mut good = Vec::new();
            encode(&key(1), &some_entries()[..3], Some(&some_walk()), &mut good);
            good.truncate(good.len() - 32);
            // A valid start, then random bytes from `cut` on.
            let cut = cut.min(good.len());
            let mut data = good[..cut].to_vec();
            data.extend_from_slice(&body);
            let sum = Sha256::digest(&data);
            data.extend_from_slice(&sum);
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("c");
            std::fs::write(&file, &data).unwrap();
            let loaded = BlobCache::load(&file, &key(1), 20);
            // An unusable file gives nothing at all, never part of itself.
            if loaded.rebuilt.is_some() {
                proptest::prop_assert!(loaded.entries.is_empty() && loaded.walk.is_none());
            }
        }
    }
}
