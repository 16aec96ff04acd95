//! Scanning unique blobs in parallel: one thread-local repository per worker, workers taking
//! runs of consecutive blobs (pack order, so delta bases stay in the worker's cache), one blob
//! in memory per worker at a time.

use super::tree::PathList;
use super::{packs, Progress};
use crate::matcher::{Copied, KeywordHits, Matcher};
use crate::scan::{ScanOptions, Tally};
use gix::hash::ObjectId;
use gix::objs::{Find, Kind};
use gix::prelude::Header;
use rayon::prelude::*;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Blobs a worker takes at a time: long enough runs for locality, short enough to balance.
const RUN: usize = 256;

/// Memory for delta bases, shared out among the workers. Reading in pack order, a delta's base
/// was usually read just before; a cache capped by bytes rather than by entry count keeps
/// enough of them that each object is inflated about once (gix's default 64-entry cache made
/// the scan twice as slow on a crates.io-sized history). Git's own default is 96 MiB.
const DELTA_CACHE_BUDGET: usize = 96 << 20;
/// Bounds on one worker's share of [`DELTA_CACHE_BUDGET`].
const DELTA_CACHE_PER_WORKER: (usize, usize) = (8 << 20, 48 << 20);

/// An index into the walk's commit list, kept plus one so that `Option<CommitIndex>` takes
/// four bytes (one per blob of the history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CommitIndex(NonZeroU32);

impl CommitIndex {
    /// The index of the commit pushed when the list held `len` commits.
    pub fn new(len: usize) -> Self {
        let n = u32::try_from(len + 1).expect("more than 4 billion commits");
        CommitIndex(NonZeroU32::new(n).expect("len + 1 is not zero"))
    }

    pub fn get(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// A commit of the walk, and its root tree when the commit could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Walked {
    pub id: ObjectId,
    pub root: Option<ObjectId>,
}

/// Where a blob was first seen: the commit (an index into the walk's commit list) and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Provenance {
    /// `None` for a blob no commit introduced (tagged directly, staged, or loose).
    pub commit: Option<CommitIndex>,
    pub path: u32,
    /// No ref reaches the blob.
    pub unreachable: bool,
}

/// One blob to scan, and where it was first seen.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job {
    pub id: ObjectId,
    pub from: Provenance,
}

/// What scanning the jobs produced.
pub(super) struct Scanned {
    pub tally: Tally,
    /// For each finding in `tally.findings`, the index of the job it came from.
    pub owners: Vec<usize>,
    /// Jobs whose blob was read whole and gave nothing but its count, with what it was:
    /// what a cache may remember (only when the reader keeps them).
    pub clean: Vec<(usize, Kept)>,
}

/// Scan every job's blob once: those the pack files hold in one pass over each pack's delta
/// tree ([`packs`]; `packs` when the caller opened or built them already), the rest one by
/// one.
pub(super) fn scan(
    sync: &gix::ThreadSafeRepository,
    reader: &Reader<'_>,
    progress: &Progress,
    packs: Option<packs::Packs>,
) -> Scanned {
    let passed = packs::scan(&sync.to_thread_local(), reader, progress, packs);
    let mut all = passed.scanned;
    all.append(read_each(sync, &passed.rest, reader, progress));
    all
}

/// Read and scan the jobs numbered `todo`, one lookup each, in parallel.
fn read_each(
    sync: &gix::ThreadSafeRepository,
    todo: &[usize],
    reader: &Reader<'_>,
    progress: &Progress,
) -> Scanned {
    let opts = reader.opts;
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, todo.len().div_ceil(RUN).max(1));
    let cache =
        (DELTA_CACHE_BUDGET / workers).clamp(DELTA_CACHE_PER_WORKER.0, DELTA_CACHE_PER_WORKER.1);
    let parts: Vec<Scanned> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut repo = sync.to_thread_local();
            repo.objects.set_pack_cache(move || {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(cache))
            });
            let mut out = Scanned::new(opts);
            let mut buf = Vec::new();
            loop {
                let start = next.fetch_add(RUN, Relaxed);
                if start >= todo.len() {
                    break;
                }
                for &i in todo.iter().skip(start).take(RUN) {
                    let bytes = reader.read_one(&repo, i, &mut buf, &mut out);
                    progress.blobs_done.fetch_add(1, Relaxed);
                    progress.bytes_done.fetch_add(bytes, Relaxed);
                }
            }
            out
        })
        .collect();
    let mut all = Scanned::new(opts);
    for part in parts {
        all.append(part);
    }
    all
}

impl Scanned {
    /// Nothing scanned yet.
    pub fn new(opts: &ScanOptions) -> Self {
        Scanned {
            tally: Tally::new(opts),
            owners: Vec::new(),
            clean: Vec::new(),
        }
    }

    /// Add what `other` scanned (`Tally::merge` appends findings in order, so owners stay
    /// aligned).
    pub fn append(&mut self, other: Scanned) {
        let tally = std::mem::take(&mut self.tally);
        self.tally = tally.merge(other.tally);
        self.owners.extend(other.owners);
        self.clean.extend(other.clean);
    }
}

/// What every worker shares to read and scan blobs.
pub(super) struct Reader<'a> {
    pub jobs: &'a [Job],
    paths: &'a PathList,
    pub opts: &'a ScanOptions,
    matcher: &'a Matcher,
    skip_allowed: bool,
    /// Keep the clean jobs in [`Scanned::clean`].
    pub keep_clean: bool,
}

impl<'a> Reader<'a> {
    /// A reader of `jobs`, whose paths `paths` holds. With `skip_allowed`, a job whose path
    /// the configuration allows is not scanned (right when the job's path is the only one its
    /// blob is known by).
    pub fn new(
        jobs: &'a [Job],
        paths: &'a PathList,
        matcher: &'a Matcher,
        opts: &'a ScanOptions,
        skip_allowed: bool,
    ) -> Self {
        Reader {
            jobs,
            paths,
            opts,
            matcher,
            skip_allowed,
            keep_clean: false,
        }
    }

    /// Look up job `i`'s blob and scan it; returns the bytes read.
    fn read_one(
        &self,
        repo: &gix::Repository,
        i: usize,
        buf: &mut Vec<u8>,
        out: &mut Scanned,
    ) -> u64 {
        self.record(i, out, |tally| {
            let path = self.path_to_scan(i, tally)?;
            let id = &self.jobs[i].id;
            // The header is cheap next to inflating the blob, and keeps a huge blob out of
            // memory.
            match repo.objects.try_header(id) {
                Ok(Some(h)) if h.size() > self.opts.max_file_size => {
                    tally.stats.skipped_too_large += 1;
                    return None;
                }
                _ => {}
            }
            match repo.objects.try_find(id, buf) {
                Ok(Some(data)) if data.kind == Kind::Blob => {
                    self.scan_content(data.data, tally, |tally| {
                        tally.scan_blob(self.matcher, &path, data.data);
                    })
                }
                Ok(Some(data)) => {
                    tally.error(path, format!("{id} is a {}, expected a blob", data.kind));
                    None
                }
                Ok(None) => {
                    tally.error(path, format!("blob {id} is missing"));
                    None
                }
                Err(e) => {
                    tally.error(path, format!("blob {id}: {e}"));
                    None
                }
            }
        })
    }

    /// Scan job `i`'s blob, already read, with what its delta base's scan left (`prior`, as
    /// for [`Tally::scan_blob_from`]); returns the bytes scanned and, with `keep`, the blob's
    /// keyword occurrences when they could be kept.
    pub fn scan_read(
        &self,
        i: usize,
        data: &[u8],
        prior: Option<(&KeywordHits, &[Copied])>,
        keep: bool,
        out: &mut Scanned,
    ) -> (u64, Option<KeywordHits>) {
        let mut kept = None;
        let bytes = self.record(i, out, |tally| {
            let path = self.path_to_scan(i, tally)?;
            self.scan_content(data, tally, |tally| {
                kept = tally.scan_blob_from(self.matcher, &path, data, prior, keep);
            })
        });
        (bytes, kept)
    }

    /// Run `scan` (which returns the bytes scanned, if it scanned) for job `i` into `out`:
    /// its findings owned by `i`, and `i` kept as clean when all it added was its count.
    fn record(
        &self,
        i: usize,
        out: &mut Scanned,
        scan: impl FnOnce(&mut Tally) -> Option<u64>,
    ) -> u64 {
        let before = self.keep_clean.then(|| Footprint::of(&out.tally));
        let bytes = scan(&mut out.tally);
        out.owners.resize(out.tally.findings.len(), i);
        if let Some(before) = before {
            if let Some(kept) = before.clean_step(&Footprint::of(&out.tally), bytes) {
                out.clean.push((i, kept));
            }
        }
        bytes.unwrap_or(0)
    }

    /// The path job `i`'s blob is scanned under, or `None` (counted) when it is skipped as
    /// allowed.
    fn path_to_scan(&self, i: usize, tally: &mut Tally) -> Option<String> {
        let path = self.paths.get(self.jobs[i].from.path);
        if self.skip_allowed && self.matcher.path_allowed(&path) {
            tally.stats.skipped_allowed_paths += 1;
            return None;
        }
        Some(path)
    }

    /// Scan a blob's content (with `scan`), unless it is too large; returns the bytes scanned.
    fn scan_content(
        &self,
        data: &[u8],
        tally: &mut Tally,
        scan: impl FnOnce(&mut Tally),
    ) -> Option<u64> {
        if data.len() as u64 > self.opts.max_file_size {
            tally.stats.skipped_too_large += 1;
            return None;
        }
        scan(tally);
        Some(data.len() as u64)
    }
}

/// What a blob known clean was, so that a scan taking it from a cache counts it as a cold
/// scan would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kept {
    /// Scanned whole: no finding, nothing allowed, no error, no warning.
    Text,
    /// Skipped as binary.
    Binary,
    /// Skipped as a Git LFS pointer.
    LfsPointer,
    /// An archive expanded whole with nothing found, whose members include these skips.
    Archive(MemberSkips),
}

/// The members of an archive skipped, by why: counted again when the archive comes from a
/// cache, so the skips add up as without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct MemberSkips {
    pub binary: u64,
    pub too_large: u64,
    pub lfs_pointers: u64,
}

impl Kept {
    /// Count a blob taken from a cache: its skips, as a scan that read it counts them.
    pub fn count_skips(self, stats: &mut crate::finding::Stats) {
        let skips = match self {
            Kept::Text => MemberSkips::default(),
            Kept::Binary => MemberSkips {
                binary: 1,
                ..MemberSkips::default()
            },
            Kept::LfsPointer => MemberSkips {
                lfs_pointers: 1,
                ..MemberSkips::default()
            },
            Kept::Archive(skips) => skips,
        };
        stats.skipped_binary += skips.binary;
        stats.skipped_too_large += skips.too_large;
        stats.skipped_lfs_pointers += skips.lfs_pointers;
    }
}

/// What a tally holds, to tell what one blob added to it.
#[derive(Clone, PartialEq)]
struct Footprint {
    stats: crate::finding::Stats,
    findings: usize,
    errors: usize,
    warnings: usize,
}

impl Footprint {
    fn of(t: &Tally) -> Self {
        Footprint {
            stats: t.stats.clone(),
            findings: t.findings.len(),
            errors: t.errors.len(),
            warnings: t.warnings.len(),
        }
    }

    /// What the blob was, when the only change from `self` to `after` is one blob counted as
    /// scanned (`bytes` of it), binary, an LFS pointer, or an archive expanded (its members
    /// scanned or skipped as binary, too large or LFS pointers); anything else (a finding, an
    /// allowed match, a skip of the blob by size or path, an error, a warning) is not clean.
    fn clean_step(&self, after: &Footprint, bytes: Option<u64>) -> Option<Kept> {
        let bytes = bytes?;
        let (was, now) = (&self.stats, &after.stats);
        let grew = |f: fn(&crate::finding::Stats) -> u64| f(now).saturating_sub(f(was));
        let archive = Kept::Archive(MemberSkips {
            binary: grew(|s| s.skipped_binary),
            too_large: grew(|s| s.skipped_too_large),
            lfs_pointers: grew(|s| s.skipped_lfs_pointers),
        });
        [Kept::Text, Kept::Binary, Kept::LfsPointer, archive]
            .into_iter()
            .find(|&kept| {
                let mut expect = self.clone();
                let s = &mut expect.stats;
                match kept {
                    Kept::Text => {
                        s.files += 1;
                        s.bytes += bytes;
                    }
                    Kept::Archive(_) if now.archives > was.archives => {
                        // What members add: counts only, each checked below to be all.
                        s.files = now.files;
                        s.bytes = now.bytes;
                        s.archives = now.archives;
                        s.archive_members = now.archive_members;
                    }
                    Kept::Archive(_) => return false,
                    _ => {}
                }
                kept.count_skips(s);
                expect == *after
            })
    }
}
