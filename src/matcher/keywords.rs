//! The keyword prefilter: which rules' keywords occur in a blob, found in one fast pass.
//!
//! Keywords match ASCII case-insensitively, but Aho-Corasick has its SIMD (Teddy) skip loop
//! only for case-sensitive searches of at most 64 patterns. So the blob is lowercased in small
//! chunks and searched for a few short *anchors*: substrings of the keywords, chosen so that
//! every keyword contains one and so that they are rare in ordinary text. Each anchor hit is
//! checked in place for the keywords that contain it. Anchors that start inside a reported
//! anchor and run past it are checked directly at its end. Together these cover every
//! occurrence of every keyword.

use aho_corasick::{AhoCorasick, MatchKind};
use std::cell::RefCell;

/// Bytes lowercased at a time.
const CHUNK: usize = 64 * 1024;

/// The anchor search: Teddy where the CPU has it, else an Aho-Corasick automaton.
enum AnchorSearch {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

pub(super) struct KeywordIndex {
    search: AnchorSearch,
    /// Anchor -> the keywords containing it.
    built_on: Vec<Vec<BuiltOn>>,
    /// Anchor -> (offset, other anchor): this anchor's suffix from `offset` is a proper prefix
    /// of the other.
    chains: Vec<Vec<(usize, usize)>>,
    anchors: Vec<Vec<u8>>,
    longest: usize,
}

thread_local! {
    static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect()
}

/// A keyword containing an anchor: its text, where the anchor sits in it, its rules.
type BuiltOn = (Vec<u8>, usize, Vec<usize>);

/// Most anchors Teddy takes.
const MAX_ANCHORS: usize = 64;

/// The fixed cost of one more anchor, in the units of [`byte_share`] products.
const ANCHOR_COST: f64 = 2e-4;

/// Rough share (per mille) of a byte in lowercased source code and prose: anchors made of rare
/// bytes stop the search less often.
fn byte_share(b: u8) -> f64 {
    let letters = b"etaoinsrhldcumfpgwybvkxjqz";
    let per_mille = [
        100, 75, 70, 70, 65, 60, 60, 55, 40, 38, 35, 28, 25, 22, 20, 18, 15, 12, 12, 10, 8, 5, 2,
        1, 1, 1,
    ];
    if let Some(i) = letters.iter().position(|&l| l == b) {
        return f64::from(per_mille[i]);
    }
    match b {
        b' ' => 150.0,
        b'\n' | b'\t' => 40.0,
        b'(' | b')' | b'.' | b',' | b'_' | b'=' | b'"' | b';' => 15.0,
        b'0'..=b'9' => 6.0,
        b':' | b'/' | b'-' | b'\'' | b'{' | b'}' | b'<' | b'>' => 6.0,
        _ => 2.0,
    }
}

/// Pick anchors: every keyword contains at least one; few, rare, and no more than Teddy takes.
/// Greedy set cover over the keywords' substrings of 3 to 5 bytes (whole keywords when shorter),
/// weighing how many keywords an anchor covers against how often it would match. No anchor
/// contains another.
fn choose_anchors<'k>(keywords: impl Iterator<Item = &'k [u8]>) -> Vec<Vec<u8>> {
    let mut kws: Vec<&[u8]> = keywords.collect();
    kws.sort_unstable();
    kws.dedup();
    let words = kws.len().div_ceil(64);
    let mut anchors: Vec<Vec<u8>> = Vec::new();
    // With more anchors than Teddy takes, widen towards shorter, more widely shared ones.
    for min_len in [3usize, 2, 1] {
        // Candidate substring -> the keywords containing it, as a bitset.
        let mut cands: std::collections::BTreeMap<&[u8], Vec<u64>> = Default::default();
        for (i, k) in kws.iter().enumerate() {
            let lens = if k.len() <= min_len {
                k.len()..=k.len()
            } else {
                min_len..=k.len().min(5)
            };
            for n in lens {
                for cand in k.windows(n) {
                    cands.entry(cand).or_insert_with(|| vec![0; words])[i / 64] |= 1 << (i % 64);
                }
            }
        }
        let share = |c: &[u8]| -> f64 { c.iter().map(|&b| byte_share(b) / 1000.0).product() };
        let mut left = vec![u64::MAX; words];
        if !kws.len().is_multiple_of(64) {
            left[words - 1] = (1u64 << (kws.len() % 64)) - 1;
        }
        let mut chosen: Vec<Vec<u8>> = Vec::new();
        while left.iter().any(|w| *w != 0) {
            let best = cands
                .iter()
                .map(|(c, bits)| {
                    let covers: u32 = bits
                        .iter()
                        .zip(&left)
                        .map(|(b, l)| (b & l).count_ones())
                        .sum();
                    // Each anchor also costs Teddy a little whether it matches or not.
                    (f64::from(covers) / (share(c) + ANCHOR_COST), *c, bits)
                })
                .filter(|(score, _, _)| *score > 0.0)
                .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)));
            let Some((_, pick, bits)) = best else { break };
            left.iter_mut().zip(bits).for_each(|(l, b)| *l &= !b);
            chosen.push(pick.to_vec());
        }
        // An anchor containing another is redundant: the smaller one covers its keywords.
        let all = chosen.clone();
        chosen.retain(|a| !all.iter().any(|o| o != a && contains(a, o)));
        anchors = chosen;
        if anchors.len() <= MAX_ANCHORS {
            break;
        }
    }
    anchors
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !find_all(hay, needle).is_empty()
}

impl KeywordIndex {
    /// Index `keywords` (text, rules it triggers); text matches ASCII case-insensitively.
    pub fn new(keywords: Vec<(String, Vec<usize>)>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<(Vec<u8>, Vec<usize>)> = keywords
            .into_iter()
            .map(|(k, r)| (k.to_ascii_lowercase().into_bytes(), r))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        let anchors = choose_anchors(keywords.iter().map(|(k, _)| k.as_slice()));
        let built_on = anchors
            .iter()
            .map(|a| {
                keywords
                    .iter()
                    .flat_map(|(k, rules)| {
                        find_all(k, a)
                            .into_iter()
                            .map(move |off| (k.clone(), off, rules.clone()))
                    })
                    .collect()
            })
            .collect();
        let chains = anchors
            .iter()
            .map(|p| {
                (1..p.len())
                    .flat_map(|offset| {
                        let suffix = &p[offset..];
                        anchors
                            .iter()
                            .enumerate()
                            .filter(move |(_, q)| q.len() > suffix.len() && q.starts_with(suffix))
                            .map(move |(qi, _)| (offset, qi))
                    })
                    .collect()
            })
            .collect();
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&anchors)
            .build();
        let search = match packed {
            Some(p) => AnchorSearch::Packed(p),
            None => AnchorSearch::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&anchors)?,
            ),
        };
        let longest = keywords.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        Ok(KeywordIndex {
            search,
            built_on,
            chains,
            anchors,
            longest,
        })
    }

    /// Call `hit` with the rules of every keyword occurring in `data` (a rule may come more than
    /// once); stop early when `hit` returns true.
    pub fn scan(&self, data: &[u8], mut hit: impl FnMut(&[usize]) -> bool) {
        if self.anchors.is_empty() {
            return;
        }
        LOWER.with_borrow_mut(|lower| {
            let mut start = 0;
            while start < data.len() {
                // Chunks overlap by the longest keyword so none is cut in two.
                let end = (start + CHUNK + self.longest).min(data.len());
                lower.clear();
                lower.extend_from_slice(&data[start..end]);
                lower.make_ascii_lowercase();
                let hits: Box<dyn Iterator<Item = aho_corasick::Match>> = match &self.search {
                    AnchorSearch::Packed(p) => Box::new(p.find_iter(lower.as_slice())),
                    AnchorSearch::Automaton(a) => Box::new(a.find_iter(lower.as_slice())),
                };
                for m in hits {
                    let at = start + m.start();
                    if self.anchor_at(data, m.pattern().as_usize(), at, &mut hit) {
                        return;
                    }
                    for &(offset, q) in &self.chains[m.pattern().as_usize()] {
                        let qa = at + offset;
                        let pat = &self.anchors[q];
                        if data
                            .get(qa..qa + pat.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(pat))
                            && self.anchor_at(data, q, qa, &mut hit)
                        {
                            return;
                        }
                    }
                }
                start += CHUNK;
            }
        });
    }

    /// Report the keywords built on anchor `a` found at `at`; true when `hit` says stop.
    fn anchor_at(
        &self,
        data: &[u8],
        a: usize,
        at: usize,
        hit: &mut impl FnMut(&[usize]) -> bool,
    ) -> bool {
        for (k, off, rules) in &self.built_on[a] {
            let Some(ks) = at.checked_sub(*off) else {
                continue;
            };
            if data
                .get(ks..ks + k.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(k))
                && hit(rules)
            {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(keywords: &[&str], data: &[u8]) -> Vec<usize> {
        let idx = KeywordIndex::new(
            keywords
                .iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), vec![i]))
                .collect(),
        )
        .unwrap();
        let mut seen = vec![false; keywords.len()];
        idx.scan(data, |rs| {
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
    fn keywords_across_chunk_boundaries_are_found() {
        for pos in [CHUNK - 3, CHUNK - 1, CHUNK, 2 * CHUNK - 5] {
            let mut data = vec![b'.'; 3 * CHUNK];
            data[pos..pos + 6].copy_from_slice(b"SeCrEt");
            assert_eq!(found(&["secret", "other"], &data), vec![0], "at {pos}");
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
}

#[cfg(test)]
mod builtin {
    /// The built-in rules' keywords must fit one Teddy search, or every scan loses its fast
    /// path: a rule file that adds too many distinct keywords fails here.
    #[test]
    fn builtin_keywords_fit_the_fast_path() {
        let rules = crate::rules::builtin();
        let keywords: Vec<Vec<u8>> = rules
            .iter()
            .flat_map(|r| {
                r.keywords
                    .iter()
                    .map(|k| k.to_ascii_lowercase().into_bytes())
            })
            .collect();
        let anchors = super::choose_anchors(keywords.iter().map(Vec::as_slice));
        assert!(
            anchors.len() <= super::MAX_ANCHORS,
            "{} anchors",
            anchors.len()
        );
        assert!(
            anchors.iter().all(|a| a.len() >= 3),
            "short anchors: {anchors:?}"
        );
    }
}
