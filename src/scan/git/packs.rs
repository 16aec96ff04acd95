//! A whole-history scan reads its blobs pack by pack, the way `git index-pack` resolves a pack:
//! each pack's delta tree is walked from its bases, so every object is inflated exactly once
//! and every delta is applied to a base already in memory, on every core. Looking blobs up one
//! by one instead re-inflates delta chains whenever a base has left the cache.
//!
//! The pass is only a faster way to read: every blob it does not deliver (loose objects, packs
//! behind a multi-pack index or an alternate, a pack it cannot open or gives up on) is read by
//! the per-object reader afterwards, which reports what is missing or unreadable.

use super::blobs::{Reader, Scanned};
use super::Progress;
use gix::hash::ObjectId;
use gix::hashtable::HashMap;
use gix::objs::Kind;
use gix::odb::pack;
use gix::odb::store::structure::Record;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

/// What the pass may hold in memory.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// The largest object the pass decodes; a pack holding a larger one is left, from that
    /// object on, to the per-object reader (which skips a blob by its header, without
    /// inflating it).
    max_object: u64,
    /// The bytes of delta bases one worker may hold along its path through a delta tree (a
    /// crafted pack can make every level of a deep chain large); past this the pass gives up
    /// on the pack.
    max_held: u64,
}

impl Limits {
    const DEFAULT: Limits = Limits {
        max_object: 64 << 20,
        max_held: 512 << 20,
    };

    /// The limits in force: the default, or in tests what the test set on its thread.
    fn current() -> Limits {
        #[cfg(test)]
        if let Some(limits) = tests::LIMITS.get() {
            return limits;
        }
        Limits::DEFAULT
    }
}

/// Rounds of telling deltas' kinds from their bases'.
const MAX_ROUNDS: usize = 16;

/// Use the pass when the jobs are at least this share (1/N) of the packed objects: a range
/// scan of a few commits reads its few blobs faster one by one.
const MIN_SHARE: usize = 8;

/// What the pass read, and which jobs it left to the per-object reader.
pub(super) struct Passed {
    pub scanned: Scanned,
    /// Indexes (into the jobs) of the blobs the pass did not deliver.
    pub rest: Vec<usize>,
}

/// A delta tree of one pack's blob chains, each node the index entry of its object.
type DeltaTree = pack::cache::delta::Tree<pack::index::Entry>;

/// The repository's own pack files, and once [built](Packs::build) the delta tree of each
/// one's blob chains: the part of the pass that does not depend on which blobs are wanted, so
/// a full history scan builds it while it walks the commits.
pub(super) struct Packs {
    packs: Vec<(pack::Bundle, Option<DeltaTree>)>,
    built: bool,
}

impl Packs {
    /// Open the packs (cheap: their indexes are mapped, nothing is inflated). A pack that
    /// cannot be opened is left to the per-object reader.
    pub fn open(repo: &gix::Repository) -> Packs {
        let hash = repo.object_hash();
        let packs = match repo.objects.store_ref().structure() {
            Ok(records) => records
                .into_iter()
                .filter_map(|r| match r {
                    Record::Index { path, .. } => pack::Bundle::at(path, hash).ok(),
                    _ => None,
                })
                .map(|bundle| (bundle, None))
                .collect(),
            Err(_) => Vec::new(),
        };
        Packs {
            packs,
            built: false,
        }
    }

    /// Build each pack's delta tree of blob chains (this reads every entry's header). A pack
    /// whose tree cannot be built is left to the per-object reader.
    pub fn build(mut self) -> Packs {
        if !self.built {
            for (bundle, tree) in &mut self.packs {
                *tree = delta_tree(bundle);
            }
            self.built = true;
        }
        self
    }

    /// How many objects the packs hold.
    fn objects(&self) -> usize {
        self.packs
            .iter()
            .map(|(b, _)| b.index.num_objects() as usize)
            .sum()
    }
}

/// The delta tree of `bundle`'s blob chains, or `None` when it cannot be built.
fn delta_tree(bundle: &pack::Bundle) -> Option<DeltaTree> {
    let mut entries: Vec<pack::index::Entry> = bundle.index.iter().collect();
    entries.sort_by_key(|e| e.pack_offset);
    let entries = blob_chains(bundle, entries);
    let index = &bundle.index;
    pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        entries.into_iter(),
        &|e| e.pack_offset,
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut gix::progress::Discard,
        &AtomicBool::new(false),
        index.object_hash(),
    )
    .ok()
}

/// Scan the jobs' blobs that the repository's pack files hold, each once; `packs` when the
/// caller opened (or built) them already.
pub(super) fn scan(
    repo: &gix::Repository,
    reader: &Reader<'_>,
    progress: &Progress,
    packs: Option<Packs>,
) -> Passed {
    let jobs = reader.jobs;
    let claimed: Vec<AtomicBool> = jobs.iter().map(|_| AtomicBool::new(false)).collect();
    let sink = Mutex::new(Vec::new());
    let packs = packs.unwrap_or_else(|| Packs::open(repo));
    if !jobs.is_empty() && jobs.len().saturating_mul(MIN_SHARE) >= packs.objects() {
        let index: HashMap<ObjectId, u32> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id, u32::try_from(i).expect("fewer than 4 billion blobs")))
            .collect();
        let shared = Shared {
            limits: Limits::current(),
            index: &index,
            claimed: &claimed,
            reader,
            progress,
            sink: &sink,
        };
        for (bundle, tree) in packs.build().packs {
            if let Some(tree) = tree {
                shared.traverse(&bundle, tree);
            }
        }
    }
    let mut scanned = Scanned::new(reader.opts);
    for part in sink.into_inner().unwrap_or_else(PoisonError::into_inner) {
        scanned.append(part);
    }
    let rest = claimed
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.load(Relaxed))
        .map(|(i, _)| i)
        .collect();
    Passed { scanned, rest }
}

/// What every worker of the pass shares.
#[derive(Clone, Copy)]
struct Shared<'a> {
    limits: Limits,
    /// Each job's index, by blob id.
    index: &'a HashMap<ObjectId, u32>,
    /// Whether a job's blob was delivered (a blob may be in more than one pack).
    claimed: &'a [AtomicBool],
    reader: &'a Reader<'a>,
    progress: &'a Progress,
    /// Each worker's results, handed over when it is done.
    sink: &'a Mutex<Vec<Scanned>>,
}

impl Shared<'_> {
    /// Walk one pack's delta tree, scanning the jobs' blobs as they are resolved. Any failure
    /// (an object too large, a base outside the pack, too much held) ends the walk of this
    /// pack; what it did not deliver is left to the per-object reader.
    fn traverse(&self, bundle: &pack::Bundle, tree: DeltaTree) {
        let hash = bundle.index.object_hash();
        let stop = AtomicBool::new(false);
        let mut worker = Worker::new(*self);
        let give_up = &stop;
        let _ = tree.traverse(
            |range, data: &pack::data::File| data.entry_slice(range),
            &bundle.pack,
            bundle.pack.pack_end() as u64,
            move |entry: &mut pack::index::Entry,
                  _,
                  ctx: pack::cache::delta::traverse::Context<'_>| {
                worker.visit(entry, &ctx, give_up);
                Ok(())
            },
            pack::cache::delta::traverse::Options {
                object_progress: Box::new(gix::progress::Discard),
                size_progress: &mut gix::progress::Discard,
                thread_limit: Some(rayon::current_num_threads()),
                should_interrupt: &stop,
                object_hash: hash,
                alloc_limit_bytes: usize::try_from(self.limits.max_object).ok(),
            },
        );
    }
}

/// The entries (sorted by offset) that are blobs, so that commits and trees (read already by
/// the walk) are not inflated again. A delta's kind is its base's; git deltas an object only
/// against one of its kind, so every base of a blob is kept. An entry whose kind cannot be
/// told (a header that does not parse, a base outside the pack) is kept with its chain, and
/// the walk of the delta tree then fails or not as it would have.
fn blob_chains(bundle: &pack::Bundle, entries: Vec<pack::index::Entry>) -> Vec<pack::index::Entry> {
    use pack::data::entry::Header;
    let offsets: Vec<u64> = entries.iter().map(|e| e.pack_offset).collect();
    let at = |offset: u64| offsets.binary_search(&offset).ok();
    let mut kinds: Vec<Option<Kind>> = vec![None; entries.len()];
    let mut bases: Vec<Option<usize>> = vec![None; entries.len()];
    for (i, &offset) in offsets.iter().enumerate() {
        let Ok(entry) = bundle.pack.entry(offset) else {
            continue;
        };
        match entry.header {
            Header::OfsDelta { base_distance } => {
                bases[i] = Header::verified_base_pack_offset(offset, base_distance).and_then(at);
            }
            Header::RefDelta { base_id } => {
                bases[i] = bundle
                    .index
                    .lookup(base_id)
                    .and_then(|j| at(bundle.index.pack_offset_at_index(j)));
            }
            header => kinds[i] = header.as_kind(),
        }
    }
    // Bases usually come first; a reference to a later base takes another round (a bounded
    // number: what is still untold after them is kept).
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for i in 0..kinds.len() {
            if kinds[i].is_none() {
                if let Some(kind) = bases[i].and_then(|j| kinds[j]) {
                    kinds[i] = Some(kind);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // The delta tree's reader starts at the first entry whatever it is given: keep it.
    entries
        .into_iter()
        .zip(kinds)
        .enumerate()
        .filter(|(i, (_, kind))| *i == 0 || kind.is_none_or(|k| k == Kind::Blob))
        .map(|(_, (e, _))| e)
        .collect()
}

/// One worker of the pass: its results, and the sizes of the objects along its current path
/// through the delta tree (by level), which bound what it holds in memory.
struct Worker<'a> {
    shared: Shared<'a>,
    out: Scanned,
    held: Vec<u64>,
}

impl<'a> Worker<'a> {
    fn new(shared: Shared<'a>) -> Self {
        Worker {
            out: Scanned::new(shared.reader.opts),
            shared,
            held: Vec::new(),
        }
    }

    /// One resolved object: scan it if it is a job's blob not yet delivered.
    fn visit(
        &mut self,
        entry: &pack::index::Entry,
        ctx: &pack::cache::delta::traverse::Context<'_>,
        stop: &AtomicBool,
    ) {
        let level = usize::from(ctx.level);
        self.held.truncate(level);
        self.held.push(ctx.decompressed.len() as u64);
        if self.held.iter().sum::<u64>() > self.shared.limits.max_held {
            stop.store(true, Relaxed);
            return;
        }
        if ctx.entry.header.as_kind() != Some(Kind::Blob) {
            return;
        }
        let s = &self.shared;
        let Some(&i) = s.index.get(&entry.oid) else {
            return;
        };
        let i = i as usize;
        if s.claimed[i].swap(true, Relaxed) {
            return;
        }
        let bytes = s.reader.scan_read(i, ctx.decompressed, &mut self.out);
        s.progress.blobs_done.fetch_add(1, Relaxed);
        s.progress.blobs_from_packs.fetch_add(1, Relaxed);
        s.progress.bytes_done.fetch_add(bytes, Relaxed);
    }
}

impl Clone for Worker<'_> {
    /// A new worker starts empty: results are handed over, never copied.
    fn clone(&self) -> Self {
        Worker::new(self.shared)
    }
}

impl Drop for Worker<'_> {
    /// Hand the results over.
    fn drop(&mut self) {
        let out = std::mem::replace(&mut self.out, Scanned::new(self.shared.reader.opts));
        self.shared
            .sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(out);
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;
    use crate::scan::git::{scan_history, HistoryOptions, Progress};
    use crate::scan::ScanOptions;
    use crate::{rules, Config, Matcher};
    use std::cell::Cell;
    use std::path::Path;
    use std::process::Command;
    use std::sync::atomic::Ordering::Relaxed;

    thread_local! {
        /// Limits a test sets for the scans it runs on its thread.
        pub(super) static LIMITS: Cell<Option<Limits>> = const { Cell::new(None) };
    }

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("run git")
            .success();
        assert!(ok, "git {args:?}");
    }

    /// A repository of `commits` commits growing one file (so `git gc` makes a delta chain of
    /// it) and adding one small file each, packed.
    fn packed_repo(commits: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let mut text = String::new();
        for i in 0..commits {
            for line in 0..40 {
                text.push_str(&format!(
                    "line {i}.{line}: some ordinary configuration text\n"
                ));
            }
            std::fs::write(dir.path().join("notes.txt"), &text).unwrap();
            std::fs::write(dir.path().join(format!("f{i}.txt")), format!("file {i}\n")).unwrap();
            git(dir.path(), &["add", "-A"]);
            git(dir.path(), &["commit", "-q", "-m", &format!("step {i}")]);
        }
        git(dir.path(), &["gc", "-q", "--aggressive", "--prune=now"]);
        dir
    }

    /// The report of a history scan and how many blobs the pass delivered.
    fn scan(dir: &Path) -> (crate::finding::ScanReport, u64) {
        let matcher = Matcher::new(rules::builtin(), &Config::default()).unwrap();
        let progress = Progress::default();
        let mut report = scan_history(
            dir,
            &matcher,
            &ScanOptions::default(),
            &HistoryOptions::default(),
            &progress,
        )
        .unwrap();
        report.stats.elapsed_ms = 0;
        (report, progress.blobs_from_packs.load(Relaxed))
    }

    /// After `git gc` (one pack: commits first, then trees, then blobs with deltas), every
    /// blob of the history comes from the pass, none from lookups; the report says nothing
    /// of how, so this is where the pass is seen to work.
    #[test]
    fn a_packed_history_is_read_by_the_pass() {
        let dir = packed_repo(12);
        let (report, from_packs) = scan(dir.path());
        assert_eq!(report.stats.files, 24, "{:?}", report.stats);
        assert_eq!(from_packs, 24);
    }

    /// A pack whose delta chain holds more than the pass may keep, or an object larger than
    /// it decodes, is given up on, and the per-object reader reads what the pass did not:
    /// the report is the same.
    #[test]
    fn a_pass_that_gives_up_leaves_nothing_unread() {
        let dir = packed_repo(20);
        let (whole, from_packs) = scan(dir.path());
        assert_eq!((whole.stats.files, from_packs), (40, 40));
        for limits in [
            Limits {
                max_held: 30_000,
                ..Limits::DEFAULT
            },
            Limits {
                max_object: 10_000,
                ..Limits::DEFAULT
            },
        ] {
            LIMITS.set(Some(limits));
            let (report, from_packs) = scan(dir.path());
            LIMITS.set(None);
            assert!(from_packs < 40, "{limits:?}: the pass gave up");
            assert_eq!(format!("{report:?}"), format!("{whole:?}"), "{limits:?}");
        }
    }
}
