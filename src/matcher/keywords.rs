//! The keyword prefilter: which rules' keywords occur in a blob, found in one pass.
//!
//! One Aho-Corasick automaton holds every keyword, matching ASCII case-insensitively on the
//! blob's own bytes, and is searched with overlapping semantics: every occurrence of every
//! keyword is reported, keywords inside or overlapping others included, so exactness needs no
//! further bookkeeping. Built as a DFA, a search costs one table lookup per byte; more keywords
//! cost only through a larger table and fewer bytes that stay in the start state. Measured single-threaded on 64 MB of crate sources (CPU time, a busy
//! 2-core machine): with today's 161 keywords Teddy over at most 64 substring anchors, the
//! design before, ran at 421 MB/s and this DFA at 409; with the 888 keywords of 300+ providers
//! Teddy fell to 68 MB/s (the anchors shrink to one or two bytes to fit 64) and the DFA held
//! 291, within 10% of a non-overlapping DFA search for the same keywords (329, the floor).
//! Several Teddy searchers over 3-byte anchors, or a DFA over the anchors, were no faster.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Keyword bytes up to which the automaton is a DFA. Its table grows with states times byte
/// classes; past this, a configuration's many long keywords would cost megabytes per scan
/// start, and the contiguous NFA (slower per byte, compact) is built instead.
const MAX_DFA_KEYWORD_BYTES: usize = 32 * 1024;

pub(super) struct KeywordIndex {
    search: Option<AhoCorasick>,
    /// Keyword (pattern index) -> the rules it triggers.
    rules: Vec<Vec<usize>>,
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
            });
        }
        let bytes: usize = keywords.iter().map(|(k, _)| k.len()).sum();
        let kind = if bytes <= MAX_DFA_KEYWORD_BYTES {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let search = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(keywords.iter().map(|(k, _)| k))?;
        Ok(KeywordIndex {
            search: Some(search),
            rules: keywords.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// Call `hit` with the rules of every keyword occurring in `data` (a rule may come more than
    /// once); stop early when `hit` returns true.
    pub fn scan(&self, data: &[u8], mut hit: impl FnMut(&[usize]) -> bool) {
        let Some(search) = &self.search else { return };
        for m in search.find_overlapping_iter(data) {
            if hit(&self.rules[m.pattern().as_usize()]) {
                return;
            }
        }
    }

    /// True when the automaton is a DFA (one lookup per byte).
    #[cfg(test)]
    fn is_dfa(&self) -> bool {
        self.search
            .as_ref()
            .is_some_and(|s| s.kind() == AhoCorasickKind::DFA)
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
    fn keywords_anywhere_in_a_long_blob_are_found() {
        const LEN: usize = 200_000;
        for pos in [0, 65_533, 65_536, LEN - 6] {
            let mut data = vec![b'.'; LEN];
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
        let keywords: Vec<(String, Vec<usize>)> = (0..2000)
            .map(|i| (format!("keyword-number-{i:05}-of-many"), vec![i]))
            .collect();
        let idx = super::KeywordIndex::new(keywords).unwrap();
        assert!(!idx.is_dfa());
        let mut seen = Vec::new();
        idx.scan(b"x KEYWORD-NUMBER-01234-OF-MANY y", |r| {
            seen.extend_from_slice(r);
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
