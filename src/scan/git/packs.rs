//! A whole-history scan reads its blobs pack by pack, the way `git index-pack` resolves a pack:
//! each pack's delta trees are walked from their bases, so every object is inflated exactly
//! once and every delta is applied to a base already in memory, on every core. Looking blobs up
//! one by one instead re-inflates delta chains whenever a base has left the cache. Applying a
//! delta tells which stretches of the blob are its base's: the keywords of a blob are searched
//! only where it differs from its base, the rest of its occurrences being its base's, moved
//! (most blobs of a history are a few changed lines of another).
//!
//! The pass is only a faster way to read: every blob it does not deliver (loose objects, packs
//! behind a multi-pack index or an alternate, a pack it cannot open or gives up on) is read by
//! the per-object reader afterwards, which reports what is missing or unreadable.

use super::blobs::{Reader, Scanned};
use super::Progress;
use crate::matcher::{Copied, KeywordHits};
use gix::hash::ObjectId;
use gix::hashtable::HashMap;
use gix::objs::Kind;
use gix::odb::pack;
use gix::odb::store::structure::Record;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

/// What the pass may hold in memory.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// The largest object (or delta) the pass decodes; a larger one is left, with its deltas,
    /// to the per-object reader (which skips a blob by its header, without inflating it).
    max_object: u64,
    /// The bytes of delta bases the pass may hold at once for their deltas, across threads (a
    /// crafted pack can make many large bases wait); the deltas of a base past this are left
    /// to the per-object reader.
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

/// Use the pass when the jobs are at least this share (1/N) of the packed objects: a range
/// scan of a few commits reads its few blobs faster one by one.
const MIN_SHARE: usize = 8;

/// What the pass read, and which jobs it left to the per-object reader.
pub(super) struct Passed {
    pub scanned: Scanned,
    /// Indexes (into the jobs) of the blobs the pass did not deliver.
    pub rest: Vec<usize>,
}

/// The repository's own pack files, and once [built](Packs::build) each one's [`Chains`]:
/// the part of the pass that does not depend on which blobs are wanted, so a full history
/// scan builds it while it walks the commits.
pub(super) struct Packs {
    packs: Vec<(pack::Bundle, Option<Chains>)>,
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
        Packs { packs }
    }

    /// Build each pack's [`Chains`] (this reads every entry's header).
    pub fn build(mut self) -> Packs {
        for (bundle, chains) in &mut self.packs {
            chains.get_or_insert_with(|| Chains::of(bundle));
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

/// One pack's blobs as delta trees: the entries (in pack order), each one's deltas, and the
/// blobs stored whole that the trees grow from. An entry is in a tree only if its chain of
/// bases ends at a blob in the pack, so commits, trees and their deltas are never read, and
/// a crafted chain of bases that loops or leaves the pack is never entered.
pub(super) struct Chains {
    entries: Vec<pack::index::Entry>,
    /// Entry `i`'s deltas are `deltas[first[i]..first[i + 1]]`.
    first: Vec<u32>,
    deltas: Vec<u32>,
    roots: Vec<u32>,
}

impl Chains {
    /// Read every entry's header of `bundle`; an entry whose header does not parse, or whose
    /// base is not in the pack, is left out with its deltas.
    fn of(bundle: &pack::Bundle) -> Chains {
        use pack::data::entry::Header;
        let mut entries: Vec<pack::index::Entry> = bundle.index.iter().collect();
        entries.sort_by_key(|e| e.pack_offset);
        let at = |offset: u64| {
            entries
                .binary_search_by_key(&offset, |e| e.pack_offset)
                .ok()
                .and_then(|i| u32::try_from(i).ok())
        };
        let mut base: Vec<Option<u32>> = vec![None; entries.len()];
        let mut roots = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let Ok(entry) = bundle.pack.entry(e.pack_offset) else {
                continue;
            };
            match entry.header {
                Header::OfsDelta { base_distance } => {
                    base[i] = Header::verified_base_pack_offset(e.pack_offset, base_distance)
                        .and_then(at);
                }
                Header::RefDelta { base_id } => {
                    base[i] = bundle
                        .index
                        .lookup(base_id)
                        .and_then(|j| at(bundle.index.pack_offset_at_index(j)));
                }
                header if header.as_kind() == Some(Kind::Blob) => {
                    roots.extend(u32::try_from(i).ok());
                }
                _ => {}
            }
        }
        let mut first = vec![0u32; entries.len() + 1];
        for b in base.iter().flatten() {
            first[*b as usize + 1] += 1;
        }
        for i in 0..entries.len() {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut deltas = vec![0u32; first[entries.len()] as usize];
        for (i, b) in base.iter().enumerate() {
            if let Some(b) = *b {
                deltas[fill[b as usize] as usize] = i as u32;
                fill[b as usize] += 1;
            }
        }
        Chains {
            entries,
            first,
            deltas,
            roots,
        }
    }

    /// The entries delta'd from entry `i`.
    fn deltas_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.deltas[self.first[i] as usize..self.first[i + 1] as usize]
    }
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
    let threads = rayon::current_num_threads().max(1);
    let outs: Vec<Mutex<Scanned>> = (0..threads)
        .map(|_| Mutex::new(Scanned::new(reader.opts)))
        .collect();
    let packs = packs.unwrap_or_else(|| Packs::open(repo));
    if !jobs.is_empty() && jobs.len().saturating_mul(MIN_SHARE) >= packs.objects() {
        let index: HashMap<ObjectId, u32> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id, u32::try_from(i).expect("fewer than 4 billion blobs")))
            .collect();
        let held = AtomicU64::new(0);
        for (bundle, chains) in packs.build().packs {
            if let Some(chains) = chains {
                let pass = Pass {
                    limits: Limits::current(),
                    index: &index,
                    claimed: &claimed,
                    reader,
                    progress,
                    outs: &outs,
                    held: &held,
                    pack: &bundle.pack,
                    chains: &chains,
                };
                rayon::scope(|s| {
                    for &root in &chains.roots {
                        let pass = &pass;
                        s.spawn(move |s| pass.walk(s, root, None));
                    }
                });
            }
        }
    }
    let mut scanned = Scanned::new(reader.opts);
    for part in outs {
        scanned.append(part.into_inner().unwrap_or_else(PoisonError::into_inner));
    }
    let rest = claimed
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.load(Relaxed))
        .map(|(i, _)| i)
        .collect();
    Passed { scanned, rest }
}

/// The walk of one pack's delta trees, on every core.
struct Pass<'a> {
    limits: Limits,
    /// Each job's index, by blob id.
    index: &'a HashMap<ObjectId, u32>,
    /// Whether a job's blob was delivered (a blob may be in more than one pack).
    claimed: &'a [AtomicBool],
    reader: &'a Reader<'a>,
    progress: &'a Progress,
    /// Each thread's results.
    outs: &'a [Mutex<Scanned>],
    /// The bytes of the objects held for their deltas, across threads.
    held: &'a AtomicU64,
    pack: &'a pack::data::File,
    chains: &'a Chains,
}

/// An object held for its deltas: its bytes, and its keyword occurrences when kept.
struct Held<'a> {
    data: Vec<u8>,
    hits: Option<KeywordHits>,
    counted: &'a AtomicU64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.counted.fetch_sub(self.data.len() as u64, Relaxed);
    }
}

thread_local! {
    /// Each thread's inflater and delta buffer.
    static SCRATCH: RefCell<(gix::zlib::Inflate, Vec<u8>)> = RefCell::new(Default::default());
}

impl<'a> Pass<'a> {
    /// Resolve entry `node` (from `base`, its base, when it is a delta), scan it, and walk its
    /// deltas: those without deltas of their own here, the others each as a task of `scope`
    /// but the last, which this walk goes on with (so a long chain takes no stack and no task
    /// per link). An entry that cannot be resolved (too large, corrupt) is left with its
    /// deltas to the per-object reader; so are the deltas of an entry when holding it would
    /// pass what the pass may hold.
    fn walk<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        mut node: u32,
        mut base: Option<Arc<Held<'a>>>,
    ) {
        loop {
            let deltas = self.chains.deltas_of(node);
            let Some((data, hits)) = self.resolve(node, base.as_deref(), !deltas.is_empty()) else {
                return;
            };
            drop(base.take());
            if deltas.is_empty() {
                return;
            }
            let size = data.len() as u64;
            if self.held.fetch_add(size, Relaxed) + size > self.limits.max_held {
                self.held.fetch_sub(size, Relaxed);
                return;
            }
            let held = Arc::new(Held {
                data,
                hits,
                counted: self.held,
            });
            let mut next = None;
            for &d in deltas {
                if self.chains.deltas_of(d).is_empty() {
                    self.resolve(d, Some(&held), false);
                } else if let Some(later) = next.replace(d) {
                    let held = Arc::clone(&held);
                    scope.spawn(move |s| self.walk(s, later, Some(held)));
                }
            }
            match next {
                Some(d) => (node, base) = (d, Some(held)),
                None => return,
            }
        }
    }

    /// Entry `node`'s object (applying its delta to `base`'s when it has one), scanned when
    /// it is a job's blob not yet delivered; with its keyword occurrences when `keep` and
    /// they could be kept. `None` when it cannot be resolved.
    fn resolve(
        &self,
        node: u32,
        base: Option<&Held<'_>>,
        keep: bool,
    ) -> Option<(Vec<u8>, Option<KeywordHits>)> {
        let e = &self.chains.entries[node as usize];
        let entry = self.pack.entry(e.pack_offset).ok()?;
        let max = self.limits.max_object;
        if entry.decompressed_size > max {
            return None;
        }
        let (data, copied) = SCRATCH.with_borrow_mut(|(inflate, delta)| {
            let size = usize::try_from(entry.decompressed_size).ok()?;
            match base {
                None => {
                    let mut data = vec![0; size];
                    self.pack
                        .decompress_entry(&entry, inflate, &mut data)
                        .ok()?;
                    Some((data, Vec::new()))
                }
                Some(base) => {
                    delta.clear();
                    delta.resize(size, 0);
                    self.pack.decompress_entry(&entry, inflate, delta).ok()?;
                    apply_delta(&base.data, delta, max)
                }
            }
        })?;
        let mut hits = None;
        if let Some(&i) = self.index.get(&e.oid) {
            let i = i as usize;
            if !self.claimed[i].swap(true, Relaxed) {
                let prior = base
                    .and_then(|b| b.hits.as_ref())
                    .map(|h| (h, copied.as_slice()));
                let slot = rayon::current_thread_index().unwrap_or(0) % self.outs.len();
                let mut out = self.outs[slot]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let (bytes, kept) = self.reader.scan_read(i, &data, prior, keep, &mut out);
                drop(out);
                hits = kept;
                let p = self.progress;
                p.blobs_done.fetch_add(1, Relaxed);
                p.blobs_from_packs.fetch_add(1, Relaxed);
                p.bytes_done.fetch_add(bytes, Relaxed);
            }
        }
        Some((data, hits))
    }
}

/// Apply a Git delta to `base`: the object, and the stretches of it copied from `base` (in
/// order, stretches that continue each other in both joined; none when there are more than
/// one per 64 bytes, too many to search only around, so a crafted delta of tiny copies holds
/// no list larger than its object). `None` when the delta is malformed, does not fit `base`,
/// or makes an object larger than `max`.
fn apply_delta(base: &[u8], delta: &[u8], max: u64) -> Option<(Vec<u8>, Vec<Copied>)> {
    fn varint(d: &[u8], at: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *d.get(*at)?;
            *at += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut at = 0;
    if varint(delta, &mut at)? != base.len() as u64 {
        return None;
    }
    let size = varint(delta, &mut at)?;
    if size > max {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    let mut out = Vec::with_capacity(size);
    let mut copied: Vec<Copied> = Vec::new();
    let most = size / 64 + 64;
    let mut too_many = false;
    while let Some(&op) = delta.get(at) {
        at += 1;
        if op & 0x80 != 0 {
            let mut arg = |bits: u8, count: usize| -> Option<usize> {
                let mut v = 0usize;
                for i in 0..count {
                    if bits & (1 << i) != 0 {
                        v |= usize::from(*delta.get(at)?) << (8 * i);
                        at += 1;
                    }
                }
                Some(v)
            };
            let from = arg(op, 4)?;
            let len = match arg(op >> 4, 3)? {
                0 => 0x10000,
                n => n,
            };
            let bytes = base.get(from..from.checked_add(len)?)?;
            if out.len() + len > size {
                return None;
            }
            let listed = copied.len();
            match copied.last_mut() {
                Some(c) if c.to + c.len == out.len() && c.from + c.len == from => c.len += len,
                _ if too_many => {}
                _ if listed == most => {
                    too_many = true;
                    copied = Vec::new();
                }
                _ => copied.push(Copied {
                    to: out.len(),
                    from,
                    len,
                }),
            }
            out.extend_from_slice(bytes);
        } else if op != 0 {
            let bytes = delta.get(at..at + usize::from(op))?;
            if out.len() + bytes.len() > size {
                return None;
            }
            out.extend_from_slice(bytes);
            at += bytes.len();
        } else {
            return None;
        }
    }
    (out.len() == size).then_some((out, copied))
}

#[cfg(test)]
mod tests {
    use super::{apply_delta, Copied, Limits};
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

    /// A pack damaged at random (bytes overwritten in its last third, where `git gc` puts
    /// most blobs) never crashes the scan, and leaves nothing unread in silence: a scan that
    /// reads fewer blobs than the whole pack holds reports errors.
    #[test]
    fn a_damaged_pack_gives_errors_not_silence() {
        let dir = packed_repo(12);
        let pack = std::fs::read_dir(dir.path().join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        let whole = std::fs::read(&pack).unwrap();
        let mut rng = fastrand::Rng::with_seed(3);
        let mut damaged_runs = 0;
        for _ in 0..40 {
            let mut bytes = whole.clone();
            // The trailing 20 bytes are the checksum, which nothing reads.
            let from = bytes.len() * 2 / 3;
            for _ in 0..rng.usize(1..8) {
                let at = rng.usize(from..bytes.len() - 20);
                bytes[at] = rng.u8(..);
            }
            std::fs::write(&pack, &bytes).unwrap();
            let (report, _) = scan(dir.path());
            let s = &report.stats;
            assert!(s.files + s.skipped_binary == 24 || s.errors > 0, "{s:?}");
            damaged_runs += usize::from(s.errors > 0);
        }
        std::fs::write(&pack, &whole).unwrap();
        assert!(damaged_runs > 10, "{damaged_runs} runs saw damage");
    }

    /// A password-shaped value, generated.
    fn password(rng: &mut fastrand::Rng) -> String {
        (0..28).map(|_| rng.alphanumeric()).collect()
    }

    /// A file edited in its middle and grown at its end over many commits, with a password
    /// added early (so the deltas of the chain copy it) and one in a later commit's edit (so
    /// a delta inserts it): a scan whose blobs come from the pass, keywords derived from their
    /// bases, reports what one reading every blob whole reports.
    #[test]
    fn derived_keywords_find_what_whole_blobs_give() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut lines: Vec<String> = (0..200)
            .map(|i| format!("setting_{i} = value {i} of the ordinary kind\n"))
            .collect();
        for i in 0..30 {
            lines[100] = format!("revision = {i}\n");
            if i == 3 {
                lines.insert(50, format!("password = \"{}\"\n", password(&mut rng)));
            }
            if i == 20 {
                lines[150] = format!("db_password = \"{}\"\n", password(&mut rng));
            }
            lines.push(format!("line {i}: some ordinary configuration text\n"));
            std::fs::write(dir.path().join("app.conf"), lines.concat()).unwrap();
            git(dir.path(), &["add", "-A"]);
            git(dir.path(), &["commit", "-q", "-m", &format!("step {i}")]);
        }
        git(dir.path(), &["gc", "-q", "--aggressive", "--prune=now"]);
        let (derived, from_packs) = scan(dir.path());
        assert_eq!((derived.stats.files, from_packs), (30, 30));
        LIMITS.set(Some(Limits {
            max_object: 0,
            ..Limits::DEFAULT
        }));
        let (whole, from_packs) = scan(dir.path());
        LIMITS.set(None);
        assert_eq!(from_packs, 0);
        assert!(whole.findings.len() >= 27, "{}", whole.findings.len());
        assert_eq!(format!("{derived:?}"), format!("{whole:?}"));
    }

    /// A delta's copies and inserts make the object and say which stretches are the base's;
    /// a delta that does not fit its base or its own header is refused.
    #[test]
    fn deltas_apply_and_tell_what_they_copied() {
        let base = b"0123456789abcdefghij";
        // Base size 20, result size 13: copy 5 at 2, insert "XYZ", copy 3 at 10, copy 2 at 0.
        let delta = [
            20, 13, 0x91, 2, 5, b'\x03', b'X', b'Y', b'Z', 0x91, 10, 3, 0x90, 2,
        ];
        let (out, copied) = apply_delta(base, &delta, 100).unwrap();
        assert_eq!(out, b"23456XYZabc01");
        let at = |to, from, len| Copied { to, from, len };
        assert_eq!(copied, [at(0, 2, 5), at(8, 10, 3), at(11, 0, 2)]);
        // Copy 5 at 2, then 3 at 7: one stretch.
        let joined = [20, 8, 0x91, 2, 5, 0x91, 7, 3];
        let (out, copied) = apply_delta(base, &joined, 100).unwrap();
        assert_eq!(
            (out.as_slice(), copied),
            (&b"23456789"[..], vec![at(0, 2, 8)])
        );
        // A delta of many tiny copies makes its object but lists none of them.
        // Base size 20, result size 20,000 (a varint), then 20,000 copies of the byte at 3.
        let mut tiny = vec![20, 0xa0, 0x9c, 0x01];
        tiny.extend(std::iter::repeat_n([0x91, 3, 1], 20_000).flatten());
        let (out, copied) = apply_delta(base, &tiny, 1 << 20).unwrap();
        assert_eq!((out.len(), copied.len()), (20_000, 0));
        assert!(out.iter().all(|&b| b == b'3'));
        for bad in [
            &[21, 13][..],              // another base size
            &[20, 3, 0x91, 18, 5],      // a copy past the base
            &[20, 4, 0x03, b'a', b'b'], // an insert past the delta
            &[20, 2, 0x00],             // the reserved opcode
            &[20, 9, 0x91, 2, 5],       // short of its size
            &[20, 2, 0x91, 2, 5],       // past its size
            &[20, 200, 1],              // larger than allowed
        ] {
            assert_eq!(apply_delta(base, bad, 100), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Random deltas never panic, and what they make is as long as they say.
        #[test]
        fn random_deltas_never_panic(
            base in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            delta in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            if let Some((out, copied)) = apply_delta(&base, &delta, 1 << 20) {
                for c in copied {
                    proptest::prop_assert_eq!(&out[c.to..c.to + c.len], &base[c.from..c.from + c.len]);
                }
            }
        }
    }
}
