//! `--cache FILE`: the blobs a history or range scan already read and found clean, so the next
//! scan reads only the others. The cache holds no secret and no content: blob ids, a digest of
//! the path each was scanned under, and what it was (text, binary, LFS pointer). A blob with a
//! finding, an allowed match, an error or any skip but binary is never kept: it is read again
//! every time, so every finding is reported again and attributed afresh.
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
//! | `n` × (hash length + 9) | entries sorted by id then path digest: blob id, path digest (`u64`, FNV-1a of the path's bytes), kind (`0` text, `1` binary, `2` LFS pointer) |
//! | 32 | SHA-256 of everything before |
//!
//! A file that is missing starts an empty cache; one that is unreadable, truncated, corrupt,
//! of another format, built with other rules or settings, or for another repository is
//! rebuilt, with a warning saying which. The file is replaced atomically (a new file in the
//! same folder, synced, then renamed over it), so a scan killed while writing leaves the old
//! cache whole.

use super::blobs::Kept;
use gix::hash::ObjectId;
use std::collections::HashMap;
use sha2::{Digest, Sha256};
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

/// A cache as read: its entries, and why it was rebuilt if it was.
#[derive(Debug, Default)]
pub(super) struct BlobCache {
    pub entries: HashMap<Entry, Kept>,
    /// Set when the file existed but could not be used.
    pub rebuilt: Option<String>,
}

impl Kept {
    fn code(self) -> u8 {
        match self {
            Kept::Text => 0,
            Kept::Binary => 1,
            Kept::LfsPointer => 2,
        }
    }

    fn from_code(b: u8) -> Option<Self> {
        Some(match b {
            0 => Kept::Text,
            1 => Kept::Binary,
            2 => Kept::LfsPointer,
            _ => return None,
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
            Ok(entries) => BlobCache {
                entries,
                rebuilt: None,
            },
            Err(Unusable::Read(e)) if e.kind() == io::ErrorKind::NotFound => BlobCache::default(),
            Err(why) => BlobCache {
                entries: HashMap::default(),
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

fn read(path: &Path, key: &CacheKey, hash_len: usize) -> Result<HashMap<Entry, Kept>, Unusable> {
    let len = std::fs::metadata(path).map_err(Unusable::Read)?.len();
    if len > MAX_FILE {
        return Err(Unusable::TooLarge);
    }
    let data = std::fs::read(path).map_err(Unusable::Read)?;
    let header = MAGIC.len() + 4 + 32 + 32 + 8;
    if data.len() < header + 32 || &data[..MAGIC.len()] != MAGIC {
        return Err(Unusable::Corrupt);
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(Unusable::Corrupt);
    }
    let mut at = MAGIC.len();
    let mut take = |n: usize| {
        let part = &body[at..at + n];
        at += n;
        part
    };
    let format = u32::from_le_bytes(take(4).try_into().expect("4 bytes"));
    if format != FORMAT {
        return Err(Unusable::Format(format));
    }
    if take(32) != key.scan {
        return Err(Unusable::OtherScan);
    }
    if take(32) != key.repo {
        return Err(Unusable::OtherRepository);
    }
    let count = u64::from_le_bytes(take(8).try_into().expect("8 bytes"));
    let width = hash_len + 9;
    let rest = &body[header..];
    if count.checked_mul(width as u64) != Some(rest.len() as u64) {
        return Err(Unusable::Corrupt);
    }
    let mut entries = HashMap::with_capacity(count as usize);
    for e in rest.chunks_exact(width) {
        let id = ObjectId::try_from(&e[..hash_len]).map_err(|_| Unusable::Corrupt)?;
        let path = u64::from_le_bytes(e[hash_len..hash_len + 8].try_into().expect("8 bytes"));
        let kept = Kept::from_code(e[hash_len + 8]).ok_or(Unusable::Corrupt)?;
        entries.insert((id, path), kept);
    }
    Ok(entries)
}

/// Write `entries` as the cache at `path` for `key`, replacing the file atomically.
pub(super) fn save(
    path: &Path,
    key: &CacheKey,
    entries: impl IntoIterator<Item = (Entry, Kept)>,
) -> io::Result<()> {
    let mut entries: Vec<(Entry, Kept)> = entries.into_iter().collect();
    entries.sort_unstable_by_key(|e| e.0);
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::with_capacity(128 + entries.len() * 29);
    encode(key, &entries, &mut out);
    let tmp = temp_path(path);
    let written = write_synced(&tmp, &out).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The cache's bytes, checksum last.
fn encode(key: &CacheKey, entries: &[(Entry, Kept)], out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&key.scan);
    out.extend_from_slice(&key.repo);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for ((id, path), kept) in entries {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&path.to_le_bytes());
        out.push(kept.code());
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
                let kept = [Kept::Text, Kept::Binary, Kept::LfsPointer][usize::from(i % 3)];
                ((ObjectId::from([i; 20]), path_digest(&[i, b'x'])), kept)
            })
            .collect()
    }

    #[test]
    fn a_saved_cache_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        save(&file, &key(1), some_entries()).unwrap();
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
        save(&file, &key(1), some_entries()).unwrap();
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
        save(&file, &key(1), some_entries()).unwrap();
        let before = std::fs::read(&file).unwrap();
        // A writer killed half way leaves a partial temporary file; the cache is untouched.
        std::fs::write(temp_path(&file), &before[..before.len() / 2]).unwrap();
        assert_eq!(BlobCache::load(&file, &key(1), 20).entries.len(), 50);
        // A rename that cannot happen (the target is a non-empty folder) leaves nothing behind.
        let blocked = dir.path().join("d");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), b"").unwrap();
        assert!(save(&blocked, &key(1), some_entries()).is_err());
        assert!(!temp_path(&blocked).exists());
        assert_eq!(std::fs::read(&file).unwrap(), before);
    }
}
