//! The keyword prefilter: which rules' keywords occur in a blob, and where, found in one pass.
//!
//! One automaton holds every keyword, matches ASCII case-insensitively on the blob's own bytes,
//! and reports every occurrence of every keyword, keywords inside or overlapping others
//! included, so exactness needs no further bookkeeping. It is an Aho-Corasick DFA of leakgate's
//! own: one table lookup per byte, over byte classes that fold case (`A` and `a` are one
//! class), so the built-in keywords' table is 1.3 MB where `aho-corasick`'s DFA, whose classes
//! are byte ranges, needs 3.3 MB; the hot part of the table stays in cache. Measured
//! single-threaded on the 139 MB of crate sources in the cargo registry with the 1,197
//! built-in keywords (a busy 2-core machine): `aho-corasick`'s overlapping DFA 280-310 MB/s,
//! this one 320-350 MB/s, with the same 114,677 occurrences. A configuration with so many
//! long keywords that the table would pass [`MAX_TABLE_ENTRIES`] gets `aho-corasick`'s
//! contiguous NFA instead (slower per byte, compact).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Table entries (states times classes) up to which the automaton is a DFA: 16 MiB. Past
/// this, a configuration's many long keywords would cost that much per scan start, and the
/// contiguous NFA is built instead.
const MAX_TABLE_ENTRIES: usize = 4 << 20;

/// How many stretches of a blob the DFA walks at once (the walk is written out for four).
const STREAMS: usize = 4;
/// Blobs from this size on are walked in [`STREAMS`] stretches.
const SPLIT_FROM: usize = 1024;

pub(super) struct KeywordIndex {
    search: Option<Automaton>,
    /// Keyword (pattern index) -> the rules it triggers.
    rules: Vec<Vec<usize>>,
    /// Keyword (pattern index) -> its length, to give each occurrence's start.
    lens: Vec<usize>,
}

/// Where the keywords occur in one blob: each occurrence's keyword and end, in the order a
/// scan reports them (by end; at one end, longest first). Kept for a blob that other blobs
/// are delta'd from, so that each of those is searched only where it differs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordHits(Vec<(u32, u32)>);

impl KeywordHits {
    /// Call `hit` with each occurrence as [`KeywordIndex::scan`] would.
    pub fn replay(&self, mut hit: impl FnMut(usize, usize) -> bool) {
        for &(k, end) in &self.0 {
            if hit(k as usize, end as usize) {
                return;
            }
        }
    }
}

/// `len` bytes at `to` in a blob that are its delta base's bytes at `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Where the bytes are in the blob.
    pub to: usize,
    /// Where they are in the base.
    pub from: usize,
    /// How many.
    pub len: usize,
}

/// The most occurrences kept for a blob of `len` bytes: past this a blob dense with keywords
/// keeps none (its deltas are searched whole), so what is held stays below half the blob.
fn max_kept(len: usize) -> usize {
    1024 + len / 16
}

/// Records the occurrences a scan reports, up to a bound.
pub(super) struct Recorder {
    hits: Vec<(u32, u32)>,
    max: usize,
}

impl Recorder {
    /// Record one occurrence (dropping all once past the bound).
    pub fn push(&mut self, k: usize, end: usize) {
        if self.hits.len() < self.max {
            self.hits.push((k as u32, end as u32));
        } else {
            self.max = 0;
            self.hits = Vec::new();
        }
    }

    /// What was recorded, unless it passed the bound.
    pub fn finish(self) -> Option<KeywordHits> {
        (self.max > 0).then_some(KeywordHits(self.hits))
    }
}

enum Automaton {
    Dfa(Box<Dfa>),
    Nfa(AhoCorasick),
}

/// A dense Aho-Corasick DFA over case-folded byte classes. State ids are premultiplied by the
/// stride (a state's row offset), and states with matches are numbered last, so the search
/// loop is one lookup and one comparison per byte.
struct Dfa {
    classes: [u8; 256],
    stride: usize,
    table: Vec<u32>,
    /// The first (premultiplied) id of a state with matches: a power of two, above every
    /// state without.
    first_match: u32,
    /// Per state with matches (in id order), the keywords ending there, its own and via
    /// failure links.
    outputs: Vec<Vec<u32>>,
    /// The longest keyword's length.
    max_len: usize,
}

impl Dfa {
    /// Build for lowercase `keywords`, or `None` when the table would pass
    /// [`MAX_TABLE_ENTRIES`].
    fn new(keywords: &[Vec<u8>]) -> Option<Dfa> {
        const NONE: u32 = u32::MAX;
        let mut used = [false; 256];
        for &b in keywords.iter().flatten() {
            used[usize::from(b.to_ascii_lowercase())] = true;
        }
        // Class 0 holds every byte no keyword uses; each used byte, with its other case, one.
        let mut classes = [0u8; 256];
        let mut stride = 1usize;
        for b in 0..=255u8 {
            if used[usize::from(b)] && !b.is_ascii_uppercase() {
                classes[usize::from(b)] = u8::try_from(stride).ok()?;
                stride += 1;
            }
        }
        for b in b'A'..=b'Z' {
            classes[usize::from(b)] = classes[usize::from(b.to_ascii_lowercase())];
        }
        let states: usize = 1 + keywords.iter().map(Vec::len).sum::<usize>();
        if states.saturating_mul(stride) > MAX_TABLE_ENTRIES {
            return None;
        }
        let class = |b: u8| usize::from(classes[usize::from(b)]);
        // The trie.
        let mut goto: Vec<u32> = vec![NONE; stride];
        let mut out: Vec<Vec<u32>> = vec![Vec::new()];
        let mut depth: Vec<usize> = vec![0];
        for (i, k) in keywords.iter().enumerate() {
            let mut s = 0usize;
            for &b in k {
                let at = s * stride + class(b);
                if goto[at] == NONE {
                    goto[at] = u32::try_from(out.len()).ok()?;
                    goto.extend(std::iter::repeat_n(NONE, stride));
                    out.push(Vec::new());
                    depth.push(depth[s] + 1);
                }
                s = goto[at] as usize;
            }
            out[s].push(u32::try_from(i).ok()?);
        }
        // Failure links, breadth first, folded into full transitions and outputs.
        let n = out.len();
        let mut fail = vec![0usize; n];
        let mut queue = std::collections::VecDeque::new();
        for t in &mut goto[..stride] {
            match *t {
                NONE => *t = 0,
                child => queue.push_back(child as usize),
            }
        }
        while let Some(s) = queue.pop_front() {
            let f = fail[s];
            if f != s {
                let inherited = out[f].clone();
                out[s].extend(inherited);
            }
            for c in 0..stride {
                let t = goto[s * stride + c];
                let via = goto[f * stride + c];
                if t == NONE {
                    goto[s * stride + c] = via;
                } else {
                    fail[t as usize] = via as usize;
                    queue.push_back(t as usize);
                }
            }
        }
        // Renumber: states with matches last (one comparison tells a match), the rest
        // shallowest first. A walk spends most steps in the few shallow states: numbered
        // together, their rows share cache lines and pages instead of being strewn over the
        // table in the order keywords were added. The first state with matches starts at a
        // power of two (the rows before it are padding no transition reaches, never touched),
        // so four states' OR tells whether any of them has matches.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&s| (!out[s].is_empty(), depth[s]));
        let plain = order.iter().position(|&s| !out[s].is_empty()).unwrap_or(n);
        let first_match = (plain * stride).next_power_of_two();
        let id_of = |new: usize| {
            if new < plain {
                new * stride
            } else {
                first_match + (new - plain) * stride
            }
        };
        let mut id = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            id[old] = u32::try_from(id_of(new)).ok()?;
        }
        let mut table = vec![0u32; id_of(n)];
        let mut outputs = Vec::with_capacity(n - plain);
        for (new, &old) in order.iter().enumerate() {
            let row = id_of(new);
            for c in 0..stride {
                table[row + c] = id[goto[old * stride + c] as usize];
            }
            if new >= plain {
                outputs.push(std::mem::take(&mut out[old]));
            }
        }
        Some(Dfa {
            classes,
            stride,
            table,
            first_match: u32::try_from(first_match).ok()?,
            outputs,
            max_len: keywords.iter().map(Vec::len).max().unwrap_or(1),
        })
    }

    /// The state after `s` reads `b`.
    fn step(&self, s: u32, b: u8) -> u32 {
        self.table[s as usize + usize::from(self.classes[usize::from(b)])]
    }

    /// The keywords ending in match state `s`.
    fn outputs_of(&self, s: u32) -> &[u32] {
        &self.outputs[(s - self.first_match) as usize / self.stride]
    }

    /// Call `hit` with each keyword and the end of its occurrence, in order of end; stop when
    /// it returns true.
    ///
    /// One DFA walk is a chain of dependent table lookups, bound by the latency of each load.
    /// A blob of [`SPLIT_FROM`] bytes or more is cut into [`STREAMS`] stretches `l` bytes
    /// apart, walked in one loop, each by its own state, so the loads overlap. Stretch `j`
    /// walks from `j * l` and reports the occurrences ending in `(j * l + o, (j + 1) * l + o]`
    /// (the first from 1, the last to the blob's end), `o` being the longest keyword's length
    /// less one: each of those starts in the stretch, so it is seen whole, and none is
    /// reported twice.
    fn scan(&self, data: &[u8], mut hit: impl FnMut(usize, usize) -> bool) {
        let overlap = self.max_len - 1;
        if data.len() < SPLIT_FROM.max(STREAMS * 2 * overlap) {
            self.walk(data, &mut hit);
            return;
        }
        let l = (data.len() - overlap) / STREAMS;
        let walked = l + overlap;
        let mut found: [Vec<(u32, usize)>; STREAMS] = Default::default();
        let stretch = |j: usize| &data[j * l..j * l + walked];
        let (d0, d1, d2, d3) = (stretch(0), stretch(1), stretch(2), stretch(3));
        let (mut s0, mut s1, mut s2, mut s3) = (0u32, 0u32, 0u32, 0u32);
        let step = |s: u32, b: u8| self.step(s, b);
        for i in 0..walked {
            s0 = step(s0, d0[i]);
            s1 = step(s1, d1[i]);
            s2 = step(s2, d2[i]);
            s3 = step(s3, d3[i]);
            // `first_match` is a power of two above every state without matches.
            if s0 | s1 | s2 | s3 < self.first_match {
                continue;
            }
            for (j, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                if s >= self.first_match {
                    found[j].push((s, j * l + i + 1));
                }
            }
        }
        // The last stretch runs on to the blob's end.
        let mut s = s3;
        for (at, &b) in data.iter().enumerate().skip((STREAMS - 1) * l + walked) {
            s = step(s, b);
            if s >= self.first_match {
                found[STREAMS - 1].push((s, at + 1));
            }
        }
        for (j, hits) in found.iter().enumerate() {
            let after = if j == 0 { 0 } else { j * l + overlap };
            for &(s, end) in hits.iter().filter(|&&(_, end)| end > after) {
                for &k in self.outputs_of(s) {
                    if hit(k as usize, end) {
                        return;
                    }
                }
            }
        }
    }

    /// Walk `data` in one stretch (a short blob).
    fn walk(&self, data: &[u8], hit: &mut impl FnMut(usize, usize) -> bool) {
        let mut s = 0;
        for (i, &b) in data.iter().enumerate() {
            s = self.step(s, b);
            if s >= self.first_match {
                for &k in self.outputs_of(s) {
                    if hit(k as usize, i + 1) {
                        return;
                    }
                }
            }
        }
    }
}

impl KeywordIndex {
    /// Index `keywords` (text, rules it triggers); text matches ASCII case-insensitively.
    pub fn new(keywords: Vec<(String, Vec<usize>)>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<(Vec<u8>, Vec<usize>)> = keywords
            .into_iter()
            .map(|(k, r)| (k.to_ascii_lowercase().into_bytes(), r))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        if keywords.is_empty() {
            return Ok(KeywordIndex {
                search: None,
                rules: Vec::new(),
                lens: Vec::new(),
            });
        }
        let texts: Vec<Vec<u8>> = keywords.iter().map(|(k, _)| k.clone()).collect();
        let search = match Dfa::new(&texts) {
            Some(dfa) => Automaton::Dfa(Box::new(dfa)),
            None => Automaton::Nfa(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&texts)?,
            ),
        };
        Ok(KeywordIndex {
            search: Some(search),
            lens: texts.iter().map(Vec::len).collect(),
            rules: keywords.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// Call `hit` with every keyword occurrence in `data` (its keyword and end, in order of
    /// end; at one end, longest first); stop early when `hit` returns true.
    pub fn scan(&self, data: &[u8], mut hit: impl FnMut(usize, usize) -> bool) {
        match &self.search {
            None => {}
            Some(Automaton::Dfa(dfa)) => dfa.scan(data, hit),
            Some(Automaton::Nfa(nfa)) => {
                for m in nfa.find_overlapping_iter(data) {
                    if hit(m.pattern().as_usize(), m.end()) {
                        return;
                    }
                }
            }
        }
    }

    /// The rules keyword `k` triggers.
    pub fn rules_of(&self, k: usize) -> &[usize] {
        &self.rules[k]
    }

    /// Where an occurrence of keyword `k` ending at `end` starts.
    pub fn start_of(&self, k: usize, end: usize) -> usize {
        end - self.lens[k]
    }

    /// A recorder of the occurrences in a blob of `len` bytes, for [`KeywordIndex::derive`],
    /// or `None` when this index cannot derive (no DFA, or a blob too long).
    pub fn recorder(&self, len: usize) -> Option<Recorder> {
        let fits = u32::try_from(len).is_ok();
        (fits && matches!(self.search, Some(Automaton::Dfa(_)))).then(|| Recorder {
            hits: Vec::new(),
            max: max_kept(len),
        })
    }

    /// The occurrences in `data` (in scan order) from those of its delta base, `base`, and
    /// the stretches `copied` from it (in order of `to`, not overlapping): an occurrence
    /// inside one copied stretch is the base's, moved; every other one touches bytes the
    /// delta inserted or spans where two stretches meet, and is found by walking `data` only
    /// there. `None` when this index cannot derive, the copies do not fit `data`, or the
    /// walks would cover more than a quarter of `data` (a whole search, which walks four
    /// stretches at once, is then faster: measured on cargo's history).
    pub fn derive(
        &self,
        data: &[u8],
        base: &KeywordHits,
        copied: &[Copied],
    ) -> Option<KeywordHits> {
        let Some(Automaton::Dfa(dfa)) = &self.search else {
            return None;
        };
        u32::try_from(data.len()).ok()?;
        let overlap = dfa.max_len - 1;
        let mut walks: Vec<(usize, usize)> = Vec::new();
        let mut mark = |from: usize, to: usize| {
            let (from, to) = (from.saturating_sub(overlap), (to + overlap).min(data.len()));
            match walks.last_mut() {
                Some(last) if last.1 >= from => last.1 = last.1.max(to),
                _ => walks.push((from, to)),
            }
        };
        let mut at = 0;
        for c in copied {
            let end = c.to.checked_add(c.len)?;
            if c.to < at || end > data.len() {
                return None;
            }
            // Inserted bytes before this stretch, or where it meets the one before.
            if c.to > at || at > 0 {
                mark(at, c.to);
            }
            at = end;
        }
        if at < data.len() {
            mark(at, data.len());
        }
        let walked: usize = walks.iter().map(|(a, b)| b - a).sum();
        if walked > data.len() / 4 {
            return None;
        }
        let inside = |start: usize, end: usize| {
            let i = copied.partition_point(|c| c.to + c.len <= start);
            copied
                .get(i)
                .is_some_and(|c| c.to <= start && end <= c.to + c.len)
        };
        let mut hits: Vec<(u32, u32)> = Vec::new();
        for c in copied {
            let first = base.0.partition_point(|&(_, end)| (end as usize) <= c.from);
            for &(k, end) in &base.0[first..] {
                let end = end as usize;
                if end > c.from + c.len {
                    break;
                }
                if end - self.lens[k as usize] >= c.from {
                    hits.push((k, (end - c.from + c.to) as u32));
                }
            }
            if hits.len() > max_kept(data.len()) {
                return None;
            }
        }
        for &(from, to) in &walks {
            dfa.walk(&data[from..to], &mut |k, end| {
                let end = from + end;
                if !inside(end - self.lens[k], end) {
                    hits.push((k as u32, end as u32));
                }
                false
            });
        }
        if hits.len() > max_kept(data.len()) {
            return None;
        }
        hits.sort_unstable_by_key(|&(k, end)| (end, std::cmp::Reverse(self.lens[k as usize]), k));
        Some(KeywordHits(hits))
    }

    /// True when the automaton is a DFA (one lookup per byte).
    #[cfg(test)]
    fn is_dfa(&self) -> bool {
        matches!(self.search, Some(Automaton::Dfa(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
        if needle.len() > hay.len() {
            return Vec::new();
        }
        (0..=hay.len() - needle.len())
            .filter(|&i| &hay[i..i + needle.len()] == needle)
            .collect()
    }

    /// Every occurrence as the rules, start and end, as the matcher sees them.
    fn each(idx: &KeywordIndex, data: &[u8], mut f: impl FnMut(&[usize], usize, usize) -> bool) {
        idx.scan(data, |k, end| f(idx.rules_of(k), idx.start_of(k, end), end));
    }

    /// An index where keyword `i` triggers rule `i`.
    fn index(keywords: &[&str]) -> KeywordIndex {
        KeywordIndex::new(
            keywords
                .iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), vec![i]))
                .collect(),
        )
        .unwrap()
    }

    fn found(keywords: &[&str], data: &[u8]) -> Vec<usize> {
        let idx = index(keywords);
        let mut seen = vec![false; keywords.len()];
        each(&idx, data, |rs, _, _| {
            rs.iter().for_each(|&r| seen[r] = true);
            false
        });
        (0..keywords.len()).filter(|&i| seen[i]).collect()
    }

    #[test]
    fn contained_and_overlapping_keywords_are_all_found() {
        let kws = ["client_secret", "secret", "cret_key", "zzz"];
        assert_eq!(found(&kws, b"x CLIENT_SECRET_KEY"), vec![0, 1, 2]);
        assert_eq!(found(&["abc", "bcd", "cde"], b"abcde"), vec![0, 1, 2]);
        assert_eq!(
            found(&["ghp_", "AKIA"], b"nothing here"),
            Vec::<usize>::new()
        );
        assert_eq!(found(&["ghp_", "AKIA"], b"xx akia"), vec![1]);
    }

    #[test]
    fn keywords_anywhere_in_a_long_blob_are_found() {
        const LEN: usize = 200_000;
        for pos in [0, 65_533, 65_536, LEN - 6] {
            let mut data = vec![b'.'; LEN];
            data[pos..pos + 6].copy_from_slice(b"SeCrEt");
            assert_eq!(found(&["secret", "other"], &data), vec![0], "at {pos}");
        }
    }

    /// Every occurrence of `kws` in lowercase `lower`, as (keyword, start, end), sorted.
    fn naive_occurrences(kws: &[&str], lower: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut all: Vec<(usize, usize, usize)> = (0..kws.len())
            .flat_map(|i| {
                find_all(lower, kws[i].as_bytes())
                    .into_iter()
                    .map(move |p| (i, p, p + kws[i].len()))
            })
            .collect();
        all.sort_unstable();
        all
    }

    /// Every occurrence, as (keyword, start, end), sorted.
    fn occurrences(keywords: &[&str], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let idx = index(keywords);
        let mut got = Vec::new();
        each(&idx, data, |rs, start, end| {
            got.push((rs[0], start, end));
            false
        });
        got.sort_unstable();
        got
    }

    /// A blob made of stretches of its base and inserted bytes: the occurrences derived from
    /// the base's are exactly a whole search's, in the same order, whatever the stretches
    /// (overlapping, repeated, touching, at the edges, long enough to be walked in stretches);
    /// most blobs that are mostly their base's are derived.
    #[test]
    fn derived_occurrences_are_a_whole_searchs() {
        let kws = [
            "ab",
            "abcab",
            "bca",
            "ca",
            "aab",
            "c_",
            "_a",
            "abc_abc_abc",
            "token",
            "ke",
        ];
        let idx = index(&kws);
        let mut rng = fastrand::Rng::with_seed(23);
        let text = |n: usize, rng: &mut fastrand::Rng| -> Vec<u8> {
            (0..n)
                .map(|_| b"abcAB_C tokenKE"[rng.usize(..15)])
                .collect()
        };
        let whole = |data: &[u8]| {
            let mut rec = idx.recorder(data.len()).unwrap();
            idx.scan(data, |k, end| {
                rec.push(k, end);
                false
            });
            rec.finish().unwrap()
        };
        let (mut derived, mut mostly_copied) = (0, 0);
        for _ in 0..3000 {
            let base = text(rng.usize(1..4000), &mut rng);
            let base_hits = whole(&base);
            let mut data = Vec::new();
            let mut copied: Vec<Copied> = Vec::new();
            for _ in 0..rng.usize(0..30) {
                if rng.u8(..4) > 0 {
                    let from = rng.usize(..base.len());
                    let len = rng.usize(1..=600).min(base.len() - from);
                    copied.push(Copied {
                        to: data.len(),
                        from,
                        len,
                    });
                    data.extend_from_slice(&base[from..from + len]);
                } else {
                    data.extend(text(rng.usize(0..40), &mut rng));
                }
            }
            let copies: usize = copied.iter().map(|c| c.len).sum();
            // Walked at most a twentieth inserted and 20 bytes a seam: derived.
            if copies > data.len() * 19 / 20 && data.len() > 400 * copied.len() {
                mostly_copied += 1;
            }
            if let Some(got) = idx.derive(&data, &base_hits, &copied) {
                derived += 1;
                assert_eq!(got, whole(&data), "{copied:?}");
            }
        }
        assert!(
            derived >= mostly_copied && mostly_copied > 50 && derived > 1000,
            "{derived} {mostly_copied}"
        );
    }

    #[test]
    fn every_occurrence_is_reported_where_it_is() {
        let kws = ["ab", "abc", "bca", "ca", "aab", "c_", "_a"];
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..500 {
            let data: Vec<u8> = (0..40).map(|_| b"abcAB_C"[rng.usize(..7)]).collect();
            let lower = data.to_ascii_lowercase();
            let naive = naive_occurrences(&kws, &lower);
            assert_eq!(occurrences(&kws, &data), naive);
        }
    }

    /// A blob long enough to be walked in stretches gives every occurrence once, exactly where
    /// it is, in order of end, whatever the cut points fall on; and stopping early stops at the
    /// first occurrence by end.
    #[test]
    fn stretches_give_every_occurrence_once_in_order_of_end() {
        let kws = ["ab", "abcab", "bca", "ca", "aab", "c_", "_a", "abc_abc_abc"];
        let idx = index(&kws);
        let mut rng = fastrand::Rng::with_seed(11);
        for len in (SPLIT_FROM - 4..SPLIT_FROM + 40).chain([4096, 4099, 10_007]) {
            let mut data: Vec<u8> = (0..len).map(|_| b"abcAB_C"[rng.usize(..7)]).collect();
            // The longest keyword across every cut, starting 1 to 10 bytes before it.
            let longest = b"ABC_abc_abc";
            for j in 1..STREAMS {
                let at = j * (len / STREAMS) - 1 - len % longest.len();
                data[at..at + longest.len()].copy_from_slice(longest);
            }
            let lower = data.to_ascii_lowercase();
            let mut got = Vec::new();
            each(&idx, &data, |rs, start, end| {
                got.push((rs[0], start, end));
                false
            });
            assert!(
                got.windows(2).all(|w| w[0].2 <= w[1].2),
                "order of end, len {len}"
            );
            let naive = naive_occurrences(&kws, &lower);
            let first_end = naive.iter().map(|o| o.2).min();
            got.sort_unstable();
            assert_eq!(got, naive, "len {len}");
            let mut first = None;
            each(&idx, &data, |_, _, end| {
                first = Some(end);
                true
            });
            assert_eq!(first, first_end, "len {len}");
        }
    }

    #[test]
    fn agrees_with_a_naive_search() {
        let kws = ["ab", "abc", "bca", "ca", "aab", "c_", "_a"];
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..500 {
            let data: Vec<u8> = (0..40).map(|_| b"abcAB_C"[rng.usize(..7)]).collect();
            let lower = data.to_ascii_lowercase();
            let naive: Vec<usize> = (0..kws.len())
                .filter(|&i| !find_all(&lower, kws[i].as_bytes()).is_empty())
                .collect();
            assert_eq!(
                found(&kws, &data),
                naive,
                "{}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    /// Keywords of 3 to 12 bytes over a small alphabet, so they share prefixes, suffixes and
    /// substrings.
    fn keyword() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(b"abcxyz_-.0".to_vec()), 3..12)
            .prop_map(|b| String::from_utf8(b).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Hundreds of random keywords, some planted in random text in random case: every
        /// planted keyword is reported, and every reported one occurs.
        #[test]
        fn every_planted_keyword_is_found(
            keywords in proptest::collection::vec(keyword(), 1..400),
            plants in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u64>()), 0..40),
            filler in proptest::collection::vec(proptest::sample::select(b"abcdefxyz_-. \n0".to_vec()), 0..2000),
            seed in any::<u64>(),
        ) {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut data = filler;
            let mut planted = Vec::new();
            for (which, case) in &plants {
                let i = which.index(keywords.len());
                let at = rng.usize(..=data.len());
                let cased: Vec<u8> = keywords[i]
                    .bytes()
                    .enumerate()
                    .map(|(j, b)| if case >> (j % 64) & 1 == 1 { b.to_ascii_uppercase() } else { b })
                    .collect();
                data.splice(at..at, cased);
                planted.push(i);
            }
            let refs: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let got = found(&refs, &data);
            let lower = data.to_ascii_lowercase();
            // A later plant may split an earlier one; what occurs in the end must be found.
            let naive: Vec<usize> = (0..keywords.len())
                .filter(|&i| !find_all(&lower, keywords[i].as_bytes()).is_empty())
                .collect();
            prop_assert_eq!(&got, &naive);
            if let Some(&last) = planted.last() {
                prop_assert!(got.contains(&last));
            }
        }

    }
}

#[cfg(test)]
mod builtin {
    /// The built-in rules' keywords must keep the prefilter a DFA, or every scan pays for the
    /// slower automaton: a rule set that outgrows it fails here.
    #[test]
    fn builtin_keywords_build_a_dfa() {
        let keywords: Vec<(String, Vec<usize>)> = crate::rules::builtin()
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.keywords.iter().map(move |k| (k.clone(), vec![i])))
            .collect();
        let idx = super::KeywordIndex::new(keywords).unwrap();
        assert!(idx.is_dfa());
    }

    #[test]
    fn very_many_keywords_fall_back_to_a_compact_automaton() {
        let keywords: Vec<(String, Vec<usize>)> = (0..6000)
            .map(|i| {
                (
                    format!("keyword-number-{i:05}-of-many-{}", i * 7919 % 6007),
                    vec![i],
                )
            })
            .collect();
        let idx = super::KeywordIndex::new(keywords).unwrap();
        assert!(!idx.is_dfa());
        let mut seen = Vec::new();
        let text = format!(
            "x {} y",
            format!("keyword-number-01234-of-many-{}", 1234 * 7919 % 6007).to_uppercase()
        );
        idx.scan(text.as_bytes(), |k, _| {
            seen.extend_from_slice(idx.rules_of(k));
            false
        });
        assert_eq!(seen, vec![1234]);
    }

    /// A rule restricted by path keeps its (short) keyword out of the prefilter, yet is found
    /// in a file its paths match, and only there.
    #[test]
    fn path_restricted_keywords_are_searched_only_where_the_path_matches() {
        let text = r#"
[[rules]]
id = "shadow-like"
name = "shadow-like"
severity = "high"
keywords = ["$"]
paths = ["**/shadow"]
regex = '[a-z]+:(?P<secret>\$6\$[a-z0-9]{8}\$[A-Za-z0-9./]{20,})'
examples = ["x"]
negative_examples = ["x"]

[[rules]]
id = "plain"
name = "plain"
severity = "high"
keywords = ["tok_"]
regex = 'tok_(?P<secret>[a-z0-9]{12})'
examples = ["x"]
negative_examples = ["x"]
"#;
        let m = crate::Matcher::for_rules(crate::rules::parse("inline", text).unwrap()).unwrap();
        let line = "root:$6$abcdefgh$ABCDEFGHIJKLMNOPQRSTUVwxyz0123./\n";
        let ids = |path: &str, data: &str| -> Vec<String> {
            m.scan(path, data.as_bytes())
                .into_iter()
                .map(|f| f.rule_id.to_string())
                .collect()
        };
        assert_eq!(ids("etc/shadow", line), vec!["shadow-like"]);
        assert!(ids("etc/passwd", line).is_empty());
        let both = format!("{line}tok_q7x2m9k4w1z8\n");
        assert_eq!(ids("notes.txt", &both), vec!["plain"]);
        assert_eq!(ids("etc/shadow", &both), vec!["shadow-like", "plain"]);
    }
}
