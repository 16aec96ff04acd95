//! Compiled rules. A blob goes through a keyword prefilter (one Aho-Corasick automaton over
//! every rule's keywords), then the regex of each rule whose keyword occurred, then the checks
//! that separate secrets from look-alikes, then the allowlists.

mod allow;
mod boundary;
mod check;
pub(crate) mod filters;
mod keywords;
mod lead;
mod location;
pub(crate) mod window;

pub use allow::LINE_MARKERS;
pub use check::passes as check_passes;
pub use filters::entropy;
pub use keywords::{Copied, KeywordHits};
pub use lead::MAX_LEAD;

use crate::config::Config;
use crate::finding::{display_path, Finding, Fingerprint, Pair, RuleId};
use crate::providers::{self, Blob, Provider};
use crate::rules::Rule;
use aho_corasick::AhoCorasick;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::{meta, Anchored, Input};
use std::any::Any;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// leakgate's inline marker that silences a line (the other tools' markers it honours are
/// [`LINE_MARKERS`] and detect-secrets' `pragma: allowlist secret`).
pub const INLINE_ALLOW: &[u8] = b"leakgate:allow";

/// The longest regex a user rule or `allow.values` entry may have, in bytes: checked before
/// compiling, which for a long pattern costs seconds and gigabytes before any size limit is hit.
pub const MAX_USER_REGEX_BYTES: usize = 4096;
/// The compiled-program and lazy-DFA cache limits of one user regex (built-in rules, which are
/// reviewed, get [`BUILTIN_REGEX_SIZE_LIMIT`]).
pub const USER_REGEX_SIZE_LIMIT: usize = 1 << 20;
/// What all user regexes of one configuration may take together: each gets an equal share, up
/// to [`USER_REGEX_SIZE_LIMIT`] (200 rules and 200 allowed values get 160 KiB each), so a
/// configuration cannot make start-up cost seconds and hundreds of megabytes.
pub const USER_REGEX_BUDGET: usize = 64 << 20;
const BUILTIN_REGEX_SIZE_LIMIT: usize = 32 << 20;
/// `context.lines` beyond this is refused when a configuration is loaded; a rule built in code
/// is clamped to it, so a window never overflows.
pub const MAX_CONTEXT_LINES: usize = 1000;

/// Errors in compiling rules or allowlists. Messages name the rule and field, never a
/// pattern's text.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// A rule's regex, globs or context do not compile. `message` is leakgate's description:
    /// the regex and glob crates' own errors quote the pattern, so they are not kept as sources.
    #[error("rule {rule_id}: {message}")]
    Rule { rule_id: RuleId, message: String },
    /// An `allow.paths` or `allow.values` entry does not compile; described as for `Rule`.
    #[error("allow.{0}")]
    Allow(String),
    /// The keyword prefilter could not be built.
    #[error("keyword automaton")]
    Keywords(#[source] aho_corasick::BuildError),
}

/// A rule's compiled regex, the index of its `secret` group, and its lead (see [`lead`]):
/// when known, the regex is tried only at the starts a keyword hit allows.
struct Pattern {
    regex: meta::Regex,
    /// Search caches for `regex`, one taken per blob searched: the regex's own pool would be
    /// asked once per candidate start, and off its first thread that takes a lock.
    caches: CachePool,
    secret_group: usize,
    lead: Option<usize>,
    /// For whole-blob searches: the regex without its leading boundary, when it has one;
    /// compiled on the first such search (most rules only ever run at a keyword's starts).
    split: OnceLock<Option<SplitPattern>>,
    /// The pattern's text, to split, when `regex` was compiled from it byte-wise (as the
    /// split is); and the size limit both are compiled under.
    to_split: Option<Box<str>>,
    limit: usize,
}

impl Pattern {
    fn split(&self) -> Option<&SplitPattern> {
        self.split
            .get_or_init(|| {
                self.to_split
                    .as_deref()
                    .and_then(|source| split_pattern(source, self.limit))
            })
            .as_ref()
    }
}

/// A regex whose leading boundary is checked in code (see [`boundary`]).
struct SplitPattern {
    boundary: boundary::Split,
    regex: meta::Regex,
    caches: CachePool,
    secret_group: usize,
}

/// A pool of one regex's search caches.
type CachePool = regex_automata::util::pool::Pool<meta::Cache, CacheFn>;
type CacheFn =
    Box<dyn Fn() -> meta::Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

impl CompiledRule {
    fn pattern(&self) -> &Pattern {
        self.pattern.get_or_init(|| {
            // Built-in rules are compiled by the rule lint in the test suite, user rules eagerly
            // in `Matcher::new`; only a bug gets here with a broken pattern.
            compile_pattern(&self.rule, None)
                .unwrap_or_else(|e| panic!("rule {}: {e}", self.rule.id))
        })
    }
}

struct CompiledRule {
    rule: Rule,
    /// The regex, compiled on first use: a commit hook that triggers three rules should not pay
    /// for compiling a hundred.
    pattern: OnceLock<Pattern>,
    paths: Option<GlobSet>,
    context: Option<(AhoCorasick, usize)>,
    not_after: filters::WordSet,
    /// The rule's provider when it has code of its own, with its index in the registry (its
    /// per-blob cache slot).
    provider: Option<(usize, &'static dyn Provider)>,
}

/// Where a triggered rule's regex runs.
enum Search {
    /// Over the whole blob.
    Whole,
    /// Anchored at each start in these ranges (inclusive, sorted, disjoint): every match
    /// starts in one.
    Starts(Vec<(usize, usize)>),
}

/// The tag on a rule's index in the prefilter's lists when the keyword is one of the rule's
/// anchors: its hits give starts and trigger nothing.
const ANCHOR: usize = 1 << (usize::BITS - 1);

/// Start ranges one blob may hold over all its rules: this many, or one per
/// [`BYTES_PER_START_RANGE`] of the blob when that is more. A rule whose next range would pass
/// the budget is searched whole instead and gives its ranges back, so a blob dense with
/// keywords costs memory in proportion to its size (a quarter of it at most), however many
/// rules it triggers.
const MAX_START_RANGES: usize = 4096;
/// See [`MAX_START_RANGES`]: a range is 16 bytes.
const BYTES_PER_START_RANGE: usize = 64;

/// The start ranges a blob's rules hold, against their budget (see [`MAX_START_RANGES`]).
struct RangeBudget {
    held: usize,
    cap: usize,
}

/// The allowlists from configuration.
#[derive(Default)]
struct Allow {
    paths: Option<GlobSet>,
    values: Vec<meta::Regex>,
}

/// All rules, compiled and ready to scan blobs from any thread.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    prefilter: keywords::KeywordIndex,
    /// Rules restricted by `paths` (or without keywords), each with an index of its own
    /// keywords (none: run whenever the path matches). Their keywords, often a byte or two
    /// (`$` in a shadow file), are searched only in the files their paths match, not in every
    /// blob by the prefilter.
    path_rules: Vec<(usize, Option<keywords::KeywordIndex>)>,
    /// How many rules the prefilter triggers.
    prefiltered: usize,
    allow: Allow,
    /// Every rule's `allow_values`: a published example is no secret whichever rule sees it.
    known_values: HashSet<Vec<u8>>,
    /// The most findings listed for one blob.
    max_findings: usize,
    /// Whether rules with a lead are tried only where their keywords allow (always, but for
    /// the test that compares with searching every blob whole).
    use_leads: bool,
    /// What the matcher was built from (see [`Matcher::digest`]).
    digest: [u8; 32],
}

/// A regex match of one rule, before any check: what snippets hide, whether or not it becomes
/// a finding.
#[derive(Clone, Copy)]
struct Raw {
    rule: u32,
    start: usize,
    end: usize,
}

/// A match that passed the checks, before it becomes a finding. Compact: the secret is the
/// blob's bytes at `start..end` unless a rule decoded it.
struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
    /// The secret a rule decoded from the match (a Basic credential), else none.
    decoded: Option<Box<[u8]>>,
    /// What the rule's provider paired the secret with.
    pair: Option<Pair>,
    /// Silenced by an inline marker or a configured value: counted, not reported.
    allowed: bool,
    /// The rule's check failed where a failure lowers confidence instead of dropping.
    lowered: bool,
}

impl Candidate {
    fn secret<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        self.decoded
            .as_deref()
            .unwrap_or(&data[self.start..self.end])
    }
}

/// What one blob's scan produced.
#[derive(Debug, Default)]
pub struct BlobScan {
    /// Findings in order of position, at most the per-file cap.
    pub findings: Vec<Finding>,
    /// Matches that inline or configured allows silenced.
    pub allowed: u64,
    /// Findings past the per-file cap: found, not listed.
    pub over_cap: u64,
}

/// Default cap on the findings listed for one file or blob.
pub const DEFAULT_MAX_FINDINGS_PER_FILE: usize = 1000;

/// Lookups over one blob, each built on first need and shared by every match in it.
struct BlobIndex<'d> {
    data: &'d [u8],
    /// Per registered provider, its own lookups over the blob (see [`Blob::cached`]).
    providers: Vec<OnceCell<Box<dyn Any>>>,
    /// The lines whose inline allow markers were read.
    marked_lines: allow::MarkedLines,
    /// Per rule, where its context keywords occur.
    context_hits: Vec<OnceCell<Vec<usize>>>,
    /// The time expiry checks judge by, read once per blob.
    now: u64,
}

impl BlobIndex<'_> {
    /// The text before a value where its name is: at most [`filters::lead`]'s reach, and never
    /// reaching back before `floor`, the end of an earlier match (a previous secret in a bundle
    /// is not a name).
    fn lead(&self, start: usize, floor: usize) -> &[u8] {
        let lead = filters::lead(self.data, start);
        &self.data[floor.max(start - lead.len())..start]
    }

    /// True when a line of `start..end` holds an inline allow marker, or the line before holds
    /// one for the next line.
    fn inline_allowed(&self, start: usize, end: usize) -> bool {
        self.marked_lines.allows(self.data, start, end)
    }
}

impl Matcher {
    /// Compile the given rules, every regex at once under the limits of user rules, with no
    /// allowlist.
    pub fn for_rules(rules: Vec<Rule>) -> Result<Self, MatcherError> {
        Self::build(
            rules.into_iter().map(|r| (r, true)).collect(),
            &Config::default(),
        )
    }

    /// Compile `rules` (trusted, such as the built-in ones: their regexes are compiled when
    /// first needed) plus the configuration's extra rules (compiled now, so errors show at once),
    /// minus the rules it turns off, with its allowlists.
    pub fn new(rules: Vec<Rule>, config: &Config) -> Result<Self, MatcherError> {
        Self::build(rules.into_iter().map(|r| (r, false)).collect(), config)
    }

    /// Compile rules, each with whether its regex is compiled now (under the user limits).
    fn build(rules: Vec<(Rule, bool)>, config: &Config) -> Result<Self, MatcherError> {
        let digest = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(format!("{rules:?}\n{config:?}"));
            h.finalize().into()
        };
        let disabled: HashSet<&RuleId> = config.allow.rules.iter().collect();
        let mut compiled = Vec::new();
        // The configuration's rules are the user's: compiled now, with the user limits.
        let checked = config.rules.iter().cloned().map(|r| (r, true));
        let rules: Vec<(Rule, bool)> = rules.into_iter().chain(checked).collect();
        let users = rules.iter().filter(|(_, eager)| *eager).count() + config.allow.values.len();
        let limit = (USER_REGEX_BUDGET / users.max(1)).min(USER_REGEX_SIZE_LIMIT);
        for (rule, eager) in rules {
            if !disabled.contains(&rule.id) {
                compiled.push(compile(rule, eager.then_some(limit))?);
            }
        }
        let mut keywords: Vec<(String, Vec<usize>)> = Vec::new();
        let mut keyword_at: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        let mut path_rules = Vec::new();
        for (i, r) in compiled.iter().enumerate() {
            if r.rule.keywords.is_empty() {
                path_rules.push((i, None));
                continue;
            }
            if r.paths.is_some() {
                let own = r
                    .rule
                    .keywords
                    .iter()
                    .map(|k| (k.clone(), vec![i]))
                    .collect();
                path_rules.push((
                    i,
                    Some(keywords::KeywordIndex::new(own).map_err(MatcherError::Keywords)?),
                ));
                continue;
            }
            let own = r.rule.keywords.iter().map(|k| (k, i));
            let anchors = r.rule.anchors.iter().map(|k| (k, i | ANCHOR));
            for (k, tagged) in own.chain(anchors) {
                let k = k.to_ascii_lowercase();
                if let Some(&at) = keyword_at.get(&k) {
                    keywords[at].1.push(tagged);
                } else {
                    keyword_at.insert(k.clone(), keywords.len());
                    keywords.push((k, vec![tagged]));
                }
            }
        }
        let prefilter = keywords::KeywordIndex::new(keywords).map_err(MatcherError::Keywords)?;
        let allow = Allow {
            paths: globs(&config.allow.paths)
                .map_err(|e| MatcherError::Allow(format!("paths: {e}")))?,
            values: config
                .allow
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    user_regex(v, limit)
                        .map(|(r, _)| r)
                        .map_err(|e| MatcherError::Allow(format!("values[{i}]: {e}")))
                })
                .collect::<Result<_, _>>()?,
        };
        let mut known_values: HashSet<Vec<u8>> = compiled
            .iter()
            .flat_map(|r| &r.rule.allow_values)
            .map(|v| v.as_bytes().to_vec())
            .collect();
        // A configuration's own rule examples live in `.leakgate.toml`: they are not leaks.
        let custom: HashSet<&RuleId> = config.rules.iter().map(|r| &r.id).collect();
        for r in compiled.iter().filter(|r| custom.contains(&r.rule.id)) {
            for ex in &r.rule.examples {
                let p = r.pattern();
                let text = ex.text().as_bytes();
                for (start, end) in secret_spans(p, text, None) {
                    known_values.insert(text[start..end].to_vec());
                }
            }
        }
        let compiled_len = compiled.len();
        Ok(Matcher {
            max_findings: config
                .scan
                .max_findings_per_file
                .unwrap_or(DEFAULT_MAX_FINDINGS_PER_FILE),
            known_values,
            rules: compiled,
            prefilter,
            prefiltered: compiled_len - path_rules.len(),
            use_leads: true,
            digest,
            path_rules,
            allow,
        })
    }

    /// A digest of everything the matcher was built from (the rules, built-in and the
    /// configuration's, and the whole configuration): equal digests find the same secrets in
    /// the same bytes under the same path, within one leakgate version.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The compiled rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// The rules with anchors (see [`Rule::anchors`]) that every match is not proved to hold
    /// near its start: each is searched over whole blobs.
    pub fn unproved_anchors(&self) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(|r| !r.rule.anchors.is_empty() && r.pattern().lead.is_none())
            .map(|r| &r.rule)
    }

    /// True when the configuration's path allowlist covers `path`.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allow.paths.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Scan one blob known by `path` (relative, `/`-separated). Findings come back in order of
    /// position, with no provenance beyond the path.
    pub fn scan(&self, path: &str, data: &[u8]) -> Vec<Finding> {
        self.scan_blob(path, data).findings
    }

    /// The most findings listed for one blob; the rest are counted in [`BlobScan::over_cap`].
    pub fn with_max_findings_per_file(mut self, max: usize) -> Self {
        self.max_findings = max;
        self
    }

    /// Scan one blob: its findings (at most the per-file cap), and the counts of what was
    /// allowed and what was over the cap. Every per-match step is bounded or a lookup in an
    /// index built once per blob, so time is linear in the blob however many matches it holds.
    pub fn scan_blob(&self, path: &str, data: &[u8]) -> BlobScan {
        self.scan_blob_from(path, data, None, false).0
    }

    /// [`Matcher::scan_blob`] for a blob delta'd from a base whose keyword occurrences
    /// are known (`prior`: them, and the stretches copied from the base): the keywords are
    /// searched only where the blob differs from its base, and the findings are the same as a
    /// whole search's. With `keep`, also the blob's own occurrences, for its deltas (`None`
    /// when too many to keep, or this matcher cannot derive them).
    pub fn scan_blob_from(
        &self,
        path: &str,
        data: &[u8],
        prior: Option<(&KeywordHits, &[Copied])>,
        keep: bool,
    ) -> (BlobScan, Option<KeywordHits>) {
        let (triggered, kept) = self.triggered(path, data, prior, keep);
        (self.confirm(path, data, triggered), kept)
    }

    /// Run the triggered rules' regexes where they must run, and check what they match.
    fn confirm(&self, path: &str, data: &[u8], triggered: Vec<(usize, Search)>) -> BlobScan {
        if triggered.is_empty() {
            return BlobScan::default();
        }
        let mut raw = Vec::new();
        for (i, search) in &triggered {
            let p = self.rules[*i].pattern();
            let raw_of = |(start, end)| Raw {
                rule: *i as u32,
                start,
                end,
            };
            match search {
                Search::Whole => raw.extend(secret_spans(p, data, None).map(raw_of)),
                Search::Starts(starts) => {
                    raw.extend(secret_spans(p, data, Some(starts)).map(raw_of));
                }
            }
        }
        if raw.is_empty() {
            // Most triggered blobs: a keyword but no match; skip the per-blob index.
            return BlobScan::default();
        }
        raw.sort_unstable_by_key(|r| (r.start, r.end, r.rule));
        let hidden = location::Hidden::new(raw.iter().map(|r| (r.start, r.end)));
        let index = BlobIndex {
            data,
            providers: (0..providers::REGISTRY.len())
                .map(|_| OnceCell::new())
                .collect(),
            marked_lines: allow::MarkedLines::default(),
            context_hits: (0..self.rules.len()).map(|_| OnceCell::new()).collect(),
            now: check::now(),
        };
        // Matches are checked and resolved in groups that no match spans across, so memory
        // holds one group's candidates and the listed findings, not every candidate of a
        // blob dense with matches.
        let mut kept = Vec::new();
        let (mut allowed, mut over_cap) = (0u64, 0u64);
        let mut paired = HashSet::new();
        // Ends of the matches already passed, to find where the last one before a match ended.
        let mut pending = std::collections::BinaryHeap::new();
        let mut floor = 0;
        let mut group = Vec::new();
        let mut reach = 0;
        for (i, r) in raw.iter().enumerate() {
            while pending
                .peek()
                .is_some_and(|&std::cmp::Reverse(e)| e <= r.start)
            {
                let std::cmp::Reverse(e) = pending.pop().unwrap_or_default();
                floor = floor.max(e);
            }
            pending.push(std::cmp::Reverse(r.end));
            if let Some(c) = self.check(r, &index, floor) {
                group.push(c);
            }
            reach = reach.max(r.end);
            let last = i + 1 == raw.len();
            if last || (group.len() >= 4096 && raw[i + 1].start >= reach) {
                for c in self.resolve_overlaps(data, std::mem::take(&mut group), &mut paired) {
                    if c.allowed {
                        allowed += 1;
                    } else if kept.len() < self.max_findings {
                        kept.push(c);
                    } else {
                        over_cap += 1;
                    }
                }
            }
        }
        drop(raw);
        let findings = location::to_findings(
            path,
            data,
            &hidden,
            kept.into_iter().map(|c| {
                let rule = &self.rules[c.rule].rule;
                let secret = display_path(c.secret(data));
                location::Located {
                    start: c.start,
                    end: c.end,
                    fingerprint: Fingerprint::of(&rule.id, &secret),
                    rule,
                    secret,
                    pair: c.pair,
                    provider: self.rules[c.rule].provider.map(|(_, p)| p),
                    lowered: c.lowered,
                }
            }),
        );
        BlobScan {
            findings,
            allowed,
            over_cap,
        }
    }

    /// Rule `r`'s lead (how far past a match's start its keyword or anchor ends at most),
    /// unless it has none or leads are off.
    fn lead(&self, r: usize) -> Option<usize> {
        self.rules[r].pattern().lead.filter(|_| self.use_leads)
    }

    /// Rules whose keyword occurs in `data` (and whose paths match), in rule order, each with
    /// where its regex must run.
    ///
    /// A rule with a lead `L` (every match holds a keyword ending at most `L` bytes after the
    /// match starts) gets, per keyword hit `[s, e)`, the starts `e - L ..= s`: every match
    /// holds some hit, and so starts in that hit's range. A rule with anchors is triggered by
    /// its keywords as any other, but its lead is proved of its anchors, which the prefilter
    /// finds beside the keywords: their hits give its starts, and trigger nothing.
    ///
    /// The keywords' occurrences come from `prior` when they can be derived from it, else from
    /// a search of `data`; with `keep` they are also returned, when they can be kept.
    fn triggered(
        &self,
        path: &str,
        data: &[u8],
        prior: Option<(&KeywordHits, &[Copied])>,
        keep: bool,
    ) -> (Vec<(usize, Search)>, Option<KeywordHits>) {
        /// One triggered rule's state in a blob: where its regex must run (`None`: a rule with
        /// anchors, none of which has occurred yet).
        struct Seen {
            rule: usize,
            search: Option<Search>,
        }
        impl Seen {
            fn whole(&self) -> bool {
                matches!(self.search, Some(Search::Whole))
            }
        }
        // Per rule, its entry in `found` once triggered: most blobs trigger a few rules of
        // hundreds, so the per-blob state is small.
        let mut slots = vec![u32::MAX; self.rules.len()];
        let mut found: Vec<Seen> = Vec::new();
        fn entry(slots: &mut [u32], found: &mut Vec<Seen>, r: usize) -> usize {
            if slots[r] == u32::MAX {
                slots[r] = found.len() as u32;
                found.push(Seen {
                    rule: r,
                    search: None,
                });
            }
            slots[r] as usize
        }
        let mut whole = 0;
        // Anchor hits (rule, start, end), in order of end: most are of rules the blob does not
        // trigger, so they are kept aside until it is known which are.
        let mut anchor_hits: Vec<(usize, usize, usize)> = Vec::new();
        let mut budget = RangeBudget {
            held: 0,
            cap: MAX_START_RANGES.max(data.len() / BYTES_PER_START_RANGE),
        };
        let mut kept = None;
        if self.prefiltered > 0 {
            let mut on_hit = |k: usize, end: usize| {
                let start = self.prefilter.start_of(k, end);
                for &tagged in self.prefilter.rules_of(k) {
                    let (r, anchor) = (tagged & !ANCHOR, tagged & ANCHOR != 0);
                    if anchor {
                        anchor_hits.push((r, start, end));
                        continue;
                    }
                    let k = entry(&mut slots, &mut found, r);
                    let seen = &mut found[k];
                    if seen.whole() {
                        continue;
                    }
                    seen.search = match self.lead(r) {
                        // A keyword of a rule with anchors gives no starts.
                        Some(_) if !self.rules[r].rule.anchors.is_empty() => seen.search.take(),
                        Some(lead) => Some(widen(
                            seen.search.take(),
                            (end.saturating_sub(lead), start),
                            &mut budget,
                        )),
                        None => Some(Search::Whole),
                    };
                    if seen.whole() {
                        whole += 1;
                    }
                }
                whole == self.prefiltered
            };
            let derived =
                prior.and_then(|(base, copied)| self.prefilter.derive(data, base, copied));
            let recorder = keep.then(|| self.prefilter.recorder(data.len())).flatten();
            match (derived, recorder) {
                (Some(hits), _) => {
                    hits.replay(&mut on_hit);
                    kept = keep.then_some(hits);
                }
                (None, Some(mut recorder)) => {
                    // Stopped early, the occurrences are not all recorded: none are kept.
                    let mut stopped = false;
                    self.prefilter.scan(data, |k, end| {
                        recorder.push(k, end);
                        stopped = on_hit(k, end);
                        stopped
                    });
                    kept = recorder.finish().filter(|_| !stopped);
                }
                (None, None) => self.prefilter.scan(data, on_hit),
            }
        }
        for (r, start, end) in anchor_hits {
            if slots[r] == u32::MAX {
                continue;
            }
            let seen = &mut found[slots[r] as usize];
            if let (Some(lead), false) = (self.lead(r), seen.whole()) {
                seen.search = Some(widen(
                    seen.search.take(),
                    (end.saturating_sub(lead), start),
                    &mut budget,
                ));
            }
        }
        for (r, own) in &self.path_rules {
            if self.rules[*r]
                .paths
                .as_ref()
                .is_none_or(|g| g.is_match(path))
            {
                let hit = own.as_ref().is_none_or(|k| {
                    let mut hit = false;
                    k.scan(data, |_, _| {
                        hit = true;
                        true
                    });
                    hit
                });
                if hit {
                    let k = entry(&mut slots, &mut found, *r);
                    found[k].search = Some(Search::Whole);
                }
            }
        }
        found.sort_unstable_by_key(|s| s.rule);
        let triggered = found
            .into_iter()
            .filter(|s| {
                self.rules[s.rule]
                    .paths
                    .as_ref()
                    .is_none_or(|g| g.is_match(path))
            })
            // Triggered with no starts: a rule with anchors none of which occurred.
            .map(|s| (s.rule, s.search.unwrap_or(Search::Starts(Vec::new()))))
            .collect();
        (triggered, kept)
    }

    /// Run a raw match through its rule's checks: decoding, known values, placeholders and
    /// look-alikes, context, pairing, allows.
    fn check(&self, r: &Raw, index: &BlobIndex, floor: usize) -> Option<Candidate> {
        let data = index.data;
        let rule_index = r.rule as usize;
        let cr = &self.rules[rule_index];
        let rule = &cr.rule;
        let (start, end) = (r.start, r.end);
        let mut decoded = None;
        let mut pair = None;
        if let Some(kind) = rule.decode {
            // Compiling checked that the rule's provider decodes this kind.
            let (_, provider) = cr.provider?;
            let d = provider.decode(kind, &data[start..end])?;
            decoded = Some(d.secret.into_boxed_slice());
            pair = Some(d.pair);
        }
        let secret: &[u8] = decoded.as_deref().unwrap_or(&data[start..end]);
        if self.known_values.contains(secret)
            || (rule.random && filters::looks_like_words(secret))
            || cr.not_after.found_in_name(index.lead(start, floor))
            || filters::is_not_literal(secret)
            || filters::low_variety(secret, 6.min(secret.len()))
            || filters::follows_hash_marker(&data[..start])
            || rule
                .min_entropy
                .is_some_and(|min| filters::below_entropy(secret, min))
        {
            return None;
        }
        let lowered = match rule.check.map(|c| check::run(c, secret, index.now)) {
            Some(check::Outcome::Drop) => return None,
            Some(check::Outcome::Lower) => true,
            Some(check::Outcome::Keep) | None => false,
        };
        if let Some((ac, lines)) = &cr.context {
            let hits = index.context_hits[rule_index]
                .get_or_init(|| ac.find_iter(data).map(|m| m.start()).collect());
            let lo = window::window_start(data, start, *lines);
            let hi = window::window_end(data, end, *lines);
            let first = hits.partition_point(|&p| p < lo);
            if hits.get(first).is_none_or(|&p| p >= hi) {
                return None;
            }
        }
        if let Some((slot, provider)) = cr.provider.filter(|(_, p)| p.pairs()) {
            let blob = Blob::new(data, &index.providers[slot]);
            if let Some(found) = provider.pair(&blob, start, end, rule) {
                let entry = pair.get_or_insert_with(|| Pair {
                    provider: provider.id().to_string(),
                    ..Pair::default()
                });
                if entry.id.is_none() {
                    entry.id = found.id;
                    entry.named = found.named;
                }
                entry.host = found.host;
            }
        }
        if rule.require_pair && !pair.as_ref().is_some_and(|p| p.id.is_some() && p.named) {
            return None;
        }
        if let Some(p) = &mut pair {
            p.verify.clone_from(&rule.verify);
        }
        let allowed = self.value_allowed(secret) || index.inline_allowed(start, end);
        Some(Candidate {
            rule: rule_index,
            start,
            end,
            decoded,
            pair,
            allowed,
            lowered,
        })
    }

    fn value_allowed(&self, secret: &[u8]) -> bool {
        self.allow.values.iter().any(|r| r.is_match(secret))
    }

    /// Where matches overlap, keep the most specific: non-generic first, then the higher
    /// confidence, then the higher severity, then the earlier rule. An id a provider paired with
    /// a secret is part of that finding, not a generic secret of its own.
    /// `paired` carries the ids paired so far in the blob from group to group.
    fn resolve_overlaps(
        &self,
        data: &[u8],
        mut candidates: Vec<Candidate>,
        paired: &mut HashSet<Vec<u8>>,
    ) -> Vec<Candidate> {
        paired.extend(
            candidates
                .iter()
                .filter_map(|c| c.pair.as_ref()?.id.as_ref())
                .map(|id| id.as_bytes().to_vec()),
        );
        if !paired.is_empty() {
            candidates.retain(|c| {
                !(self.rules[c.rule].rule.generic
                    && paired.contains(&c.secret(data).to_ascii_lowercase()))
            });
        }
        let rank = |c: &Candidate| {
            let r = &self.rules[c.rule].rule;
            (
                r.generic,
                std::cmp::Reverse(r.confidence),
                std::cmp::Reverse(r.severity),
                c.rule,
                c.start,
            )
        };
        candidates.sort_by_key(|c| rank(c));
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut kept = Vec::new();
        for c in candidates {
            let overlaps_before = taken
                .range(..=c.start)
                .next_back()
                .is_some_and(|(_, &e)| e > c.start);
            let overlaps_after = taken
                .range(c.start..)
                .next()
                .is_some_and(|(&s, _)| s < c.end);
            if !overlaps_before && !overlaps_after {
                taken.insert(c.start, c.end);
                kept.push(c);
            }
        }
        kept.sort_by_key(|c| (c.start, c.rule));
        kept
    }
}

/// `search` with the start range `(from, to)` of one more keyword hit added. Hits come in
/// order of end, so ranges start in order; adjacent ones merge, and a range past the blob's
/// `budget` has the rule searched whole.
fn widen(search: Option<Search>, (from, to): (usize, usize), budget: &mut RangeBudget) -> Search {
    let mut ranges = match search {
        None if budget.held < budget.cap => {
            budget.held += 1;
            return Search::Starts(vec![(from, to)]);
        }
        None | Some(Search::Whole) => return Search::Whole,
        Some(Search::Starts(ranges)) => ranges,
    };
    let full = budget.held >= budget.cap;
    match ranges.last_mut() {
        Some(&mut (lo, _)) if from < lo => {}
        Some((_, hi)) if from <= *hi + 1 => {
            *hi = (*hi).max(to);
            return Search::Starts(ranges);
        }
        _ if !full => {
            budget.held += 1;
            ranges.push((from, to));
            return Search::Starts(ranges);
        }
        _ => {}
    }
    budget.held -= ranges.len();
    Search::Whole
}

/// Every match of the `secret` group. Each search resumes where the last secret ended, not
/// where the whole match did, so the boundary character a pattern consumes after one secret can
/// start the next (two tokens on consecutive lines).
/// The spans of the `secret` group of each match, in order, as a search of the whole blob
/// finds them: from each match's secret on, the next leftmost match. With `starts`, matches are
/// sought only at those positions (every match starts at one): the smallest start at or after
/// the search position where an anchored match exists is the leftmost match an unanchored
/// search would find, and the same one.
fn secret_spans<'a>(
    p: &'a Pattern,
    data: &'a [u8],
    starts: Option<&'a [(usize, usize)]>,
) -> Box<dyn Iterator<Item = (usize, usize)> + 'a> {
    match starts {
        None => match p.split() {
            Some(split) => Box::new(split_spans(split, data)),
            None => Box::new(pattern_spans(p, data, None)),
        },
        Some(_) => Box::new(pattern_spans(p, data, starts)),
    }
}

/// [`secret_spans`] of a whole blob by the regex without its leading boundary: the rest's
/// matches from left to right, each kept when the boundary holds before it.
fn split_spans<'a>(
    p: &'a SplitPattern,
    data: &'a [u8],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut at = 0;
    let mut caps = p.regex.create_captures();
    let mut cache = p.caches.get();
    std::iter::from_fn(move || {
        while at <= data.len() {
            let input = Input::new(data).range(at..);
            p.regex.search_captures_with(&mut cache, &input, &mut caps);
            let start = caps.get_match()?.start();
            if !p.boundary.holds(data, at, start) {
                at = start + 1;
                continue;
            }
            if let Some(span) = secret_past(&caps, p.secret_group, &mut at) {
                return Some(span);
            }
        }
        None
    })
}

/// The secret's span of the match in `caps`, found searching from `*at`, or `None` when the
/// group took no part; `*at` moves on past the secret (or the match) either way.
fn secret_past(
    caps: &regex_automata::util::captures::Captures,
    group: usize,
    at: &mut usize,
) -> Option<(usize, usize)> {
    let secret = caps.get_group(group);
    let past = secret.map_or_else(|| caps.get_match().map_or(0, |m| m.end()), |g| g.end);
    *at = past.max(*at + 1);
    secret.map(|g| (g.start, g.end))
}

/// [`secret_spans`] by the rule's own regex.
fn pattern_spans<'a>(
    p: &'a Pattern,
    data: &'a [u8],
    starts: Option<&'a [(usize, usize)]>,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut at = 0;
    let mut caps = p.regex.create_captures();
    let mut cache = p.caches.get();
    let mut ranges = starts.map(<[_]>::iter);
    let mut range: Option<(usize, usize)> = None;
    std::iter::from_fn(move || {
        while at <= data.len() {
            let input = match &mut ranges {
                None => Input::new(data).range(at..),
                Some(ranges) => {
                    // The next start at or after `at` with an anchored match.
                    let hit = loop {
                        let (lo, hi) = match range {
                            Some((lo, hi)) if hi >= at.max(lo) => (lo, hi),
                            _ => {
                                range = Some(*ranges.next()?);
                                continue;
                            }
                        };
                        let from = at.max(lo);
                        let found = (from..=hi.min(data.len())).find_map(|s| {
                            let input = Input::new(data).range(s..).anchored(Anchored::Yes);
                            p.regex
                                .search_half_with(&mut cache, &input)
                                .map(|m| (s, m.offset()))
                        });
                        match found {
                            Some(hit) => break hit,
                            None => at = hi + 1,
                        }
                    };
                    Input::new(data).range(hit.0..hit.1).anchored(Anchored::Yes)
                }
            };
            p.regex.search_captures_with(&mut cache, &input, &mut caps);
            caps.get_match()?;
            if let Some(span) = secret_past(&caps, p.secret_group, &mut at) {
                return Some(span);
            }
        }
        None
    })
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    // Errors name the entry by position: a glob's text is configuration content.
    let bad = |i: usize, e: globset::Error| format!("entry {i}: invalid glob ({})", glob_kind(&e));
    let mut b = GlobSetBuilder::new();
    for (i, p) in patterns.iter().enumerate() {
        b.add(Glob::new(p).map_err(|e| bad(i, e))?);
        // `dir/**` should also cover `dir` written without the trailing part.
        if let Some(stripped) = p.strip_prefix("**/") {
            b.add(Glob::new(stripped).map_err(|e| bad(i, e))?);
        }
    }
    b.build()
        .map(Some)
        .map_err(|e| format!("invalid glob set ({})", glob_kind(&e)))
}

/// A glob error's kind; the regex a glob became is configuration content, so not shown.
fn glob_kind(e: &globset::Error) -> String {
    match e.kind() {
        globset::ErrorKind::Regex(_) => "it could not be compiled".into(),
        k => k.to_string(),
    }
}

/// Compile a regex a user wrote: length-capped first, then size-limited.
fn user_regex(pattern: &str, limit: usize) -> Result<(meta::Regex, bool), String> {
    if pattern.len() > MAX_USER_REGEX_BYTES {
        return Err(format!(
            "regex: longer than {MAX_USER_REGEX_BYTES} bytes; refused"
        ));
    }
    build_regex(pattern, limit)
}

/// Compile a pattern to match bytes, not Unicode: classes, `\b` and `.` work byte-wise, so an
/// invalid UTF-8 byte beside a secret is just another non-word byte. A pattern that needs
/// Unicode (`\p{L}`) is compiled with it; the flag says which mode was used.
fn build_regex(pattern: &str, limit: usize) -> Result<(meta::Regex, bool), String> {
    let build = |unicode: bool| {
        meta_builder(limit)
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(unicode)
                    .utf8(false),
            )
            .build(pattern)
            .map(|r| (r, unicode))
            .map_err(|e| describe_regex_error(pattern, &e))
    };
    build(false).or_else(|_| build(true))
}

/// The regex builder every rule pattern is compiled with, `limit` bounding its size.
fn meta_builder(limit: usize) -> meta::Builder {
    let mut b = meta::Builder::new();
    b.configure(
        meta::Config::new()
            .match_kind(regex_automata::MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .nfa_size_limit(Some(limit))
            .hybrid_cache_capacity(limit),
    );
    b
}

/// A pattern compiled byte-wise with its leading boundary split off, when it has one.
fn split_pattern(pattern: &str, limit: usize) -> Option<SplitPattern> {
    let boundary = boundary::Split::of(pattern)?;
    let regex = meta_builder(limit).build_from_hir(&boundary.rest).ok()?;
    let secret_group = regex
        .group_info()
        .to_index(regex_automata::PatternID::ZERO, "secret")?;
    let for_caches = regex.clone();
    Some(SplitPattern {
        boundary,
        caches: CachePool::new(Box::new(move || for_caches.create_cache())),
        regex,
        secret_group,
    })
}

/// What is wrong with a pattern, without its text (the regex crates' messages quote it).
fn describe_regex_error(pattern: &str, e: &meta::BuildError) -> String {
    if let Some(limit) = e.size_limit() {
        return format!(
            "regex: compiles to more than the limit of {limit} bytes; simplify it (Unicode classes, turned on with (?u), are large: ASCII ones are not)"
        );
    }
    let mut parser = regex_syntax::ParserBuilder::new().utf8(false).build();
    match parser.parse(pattern) {
        Err(regex_syntax::Error::Parse(e)) => {
            format!("regex: {} (at byte {})", e.kind(), e.span().start.offset)
        }
        Err(regex_syntax::Error::Translate(e)) => {
            format!("regex: {} (at byte {})", e.kind(), e.span().start.offset)
        }
        _ => "regex: invalid".to_string(),
    }
}

/// Compile a rule's pattern: with `user_limit`, as a user's regex; else as a built-in one.
fn compile_pattern(rule: &Rule, user_limit: Option<usize>) -> Result<Pattern, String> {
    let limit = user_limit.unwrap_or(BUILTIN_REGEX_SIZE_LIMIT);
    let (regex, unicode) = match user_limit {
        Some(limit) => user_regex(&rule.regex, limit)?,
        None => build_regex(&rule.regex, limit)?,
    };
    let secret_group = regex
        .group_info()
        .to_index(regex_automata::PatternID::ZERO, "secret")
        .ok_or_else(|| "regex has no named group `secret`".to_string())?;
    let for_caches = regex.clone();
    // A rule's anchors, where it has them, are what its matches are proved to hold.
    let near = if rule.anchors.is_empty() {
        &rule.keywords
    } else {
        &rule.anchors
    };
    Ok(Pattern {
        lead: lead::lead(&rule.regex, unicode, near),
        caches: CachePool::new(Box::new(move || for_caches.create_cache())),
        regex,
        secret_group,
        split: OnceLock::new(),
        to_split: (!unicode).then(|| rule.regex.as_str().into()),
        limit,
    })
}

/// Compile a rule; with `user_limit`, its regex now under that limit, else on first use.
fn compile(rule: Rule, user_limit: Option<usize>) -> Result<CompiledRule, MatcherError> {
    let bad = |message: String| MatcherError::Rule {
        rule_id: rule.id.clone(),
        message,
    };
    let pattern = OnceLock::new();
    if user_limit.is_some() {
        let _ = pattern.set(compile_pattern(&rule, user_limit).map_err(bad)?);
    }
    let paths = globs(&rule.paths).map_err(|e| bad(format!("paths: {e}")))?;
    let context = match &rule.context {
        Some(c) if c.keywords.is_empty() => return Err(bad("context has no keywords".into())),
        Some(c) => Some((
            // Searched only in blobs where the rule matched: compact beats fast to build.
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&c.keywords)
                .map_err(|e| bad(format!("context: {e}")))?,
            c.lines.min(MAX_CONTEXT_LINES),
        )),
        None => None,
    };
    let provider = provider_of(&rule).map_err(|m| bad(m.into()))?;
    let not_after = filters::WordSet::new(&rule.not_after);
    Ok(CompiledRule {
        provider,
        not_after,
        rule,
        pattern,
        paths,
        context,
    })
}

/// The registered provider a rule's `provider` names, checked against what the rule asks of it:
/// `decode`, `require_pair` and `verify` each need a provider that offers them. Messages quote
/// no value (a configuration's text may be anything).
fn provider_of(rule: &Rule) -> Result<Option<(usize, &'static dyn Provider)>, &'static str> {
    let found = rule.provider.as_deref().and_then(|id| {
        providers::REGISTRY
            .iter()
            .position(|p| p.id() == id)
            .map(|i| (i, providers::REGISTRY[i]))
    });
    let p = found.map(|(_, p)| p);
    if let Some(kind) = rule.decode {
        if !p.is_some_and(|p| p.decodes(kind)) {
            return Err("decode needs a provider that decodes it (set provider)");
        }
    }
    if rule.require_pair && !p.is_some_and(super::providers::Provider::pairs) {
        return Err("require_pair needs a provider that pairs (set provider)");
    }
    if let Some(v) = &rule.verify {
        if !p.is_some_and(|p| p.verifiers().contains(&v.as_str())) {
            return Err("verify names no verifier of the rule's provider");
        }
    }
    Ok(found)
}

#[cfg(test)]
mod lead_tests {
    use super::*;
    use proptest::prelude::*;

    fn builtin(use_leads: bool) -> Matcher {
        let mut m = Matcher::new(crate::rules::builtin(), &Config::default()).unwrap();
        m.use_leads = use_leads;
        m
    }

    /// Each finding's rule, line, column and fingerprint.
    type Found = Vec<(String, usize, usize, String)>;

    /// Everything a scan reports about a blob, to compare two scans by.
    fn outcome(m: &Matcher, data: &[u8]) -> (Found, u64, u64) {
        let s = m.scan_blob("x/.env", data);
        let f = s
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule_id.to_string(),
                    f.line,
                    f.column,
                    format!("{:?}", f.fingerprint),
                )
            })
            .collect();
        (f, s.allowed, s.over_cap)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Trying rules only at the starts their keywords allow finds exactly what searching
        /// every blob whole finds: on blobs made of the rules' own examples and look-alikes,
        /// cut, joined and mixed with noise and keywords.
        #[test]
        fn leads_find_what_whole_blob_search_finds(
            picks in proptest::collection::vec((any::<proptest::sample::Index>(), 0..3usize, any::<u16>(), any::<u16>()), 1..24),
            noise in proptest::collection::vec(proptest::sample::select(b" \n\t=:'\"_-./aZ09#".to_vec()), 0..64),
        ) {
            thread_local! {
                static BOTH: (Matcher, Matcher) = (builtin(true), builtin(false));
            }
            let rules = crate::rules::builtin();
            let texts: Vec<String> = rules
                .iter()
                .flat_map(|r| {
                    r.examples
                        .iter()
                        .chain(&r.negative_examples)
                        .map(|e| e.text().to_string())
                        .chain(r.keywords.iter().cloned())
                })
                .collect();
            let mut data = Vec::new();
            for (which, how, a, b) in &picks {
                let t = texts[which.index(texts.len())].as_bytes();
                let (a, b) = (usize::from(*a) % (t.len() + 1), usize::from(*b) % (t.len() + 1));
                match how {
                    0 => data.extend_from_slice(t),
                    // A piece of one, so matches are cut short or run into the next.
                    1 => data.extend_from_slice(&t[a.min(b)..a.max(b)]),
                    _ => data.extend_from_slice(&t.to_ascii_uppercase()),
                }
                let n = noise.len();
                if n > 0 {
                    data.extend_from_slice(&noise[a % n..]);
                }
            }
            BOTH.with(|(leads, whole)| {
                prop_assert_eq!(outcome(leads, &data), outcome(whole, &data));
                Ok(())
            })?;
        }
    }

    /// After a match, the next one's boundary may not lie in bytes the search has passed:
    /// `!` ends the first secret, so it cannot also be the boundary before the second, as it
    /// cannot for the rule's own regex.
    #[test]
    fn a_split_boundary_does_not_reach_back_into_a_match() {
        let text = r#"
[[rules]]
id = "adjacent"
name = "adjacent"
severity = "high"
keywords = ["tok"]
regex = '(?:^|[^a-z])(?P<secret>tok[a-z]{3}!)'
examples = ["x"]
negative_examples = ["x"]
"#;
        let rule = &crate::rules::parse("inline", text).unwrap()[0];
        let p = compile_pattern(rule, None).unwrap();
        assert!(p.split().is_some());
        for data in [
            &b"tokabc!tokdef! tokghi!"[..],
            b"xtokabc! tokabc!",
            b"-tokabc!",
        ] {
            let split: Vec<_> = secret_spans(&p, data, None).collect();
            let own: Vec<_> = pattern_spans(&p, data, None).collect();
            assert_eq!(split, own);
            assert!(!split.is_empty());
        }
        assert_eq!(
            secret_spans(&p, b"tokabc!tokdef! tokghi!", None).collect::<Vec<_>>(),
            vec![(0, 7), (15, 22)]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A whole-blob search with the leading boundary split off finds exactly the spans the
        /// rule's own regex finds, for every built-in rule that splits: on blobs made of the
        /// rules' examples, cut and joined with bytes a boundary may or may not accept.
        #[test]
        fn split_boundaries_find_what_the_whole_regex_finds(
            picks in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u16>(), any::<u16>()), 1..16),
            noise in proptest::collection::vec(proptest::sample::select(b" \n\r\t=:'\"_-./aZ09#D@".to_vec()), 0..32),
        ) {
            thread_local! {
                static SPLIT: Vec<Pattern> = crate::rules::builtin()
                    .iter()
                    .map(|r| compile_pattern(r, None).unwrap())
                    .filter(|p| p.split().is_some())
                    .collect();
            }
            let texts: Vec<String> = crate::rules::builtin()
                .iter()
                .flat_map(|r| r.examples.iter().chain(&r.negative_examples).map(|e| e.text().to_string()))
                .collect();
            let mut data = Vec::new();
            for (which, a, b) in &picks {
                let t = texts[which.index(texts.len())].as_bytes();
                let (a, b) = (usize::from(*a) % (t.len() + 1), usize::from(*b) % (t.len() + 1));
                data.extend_from_slice(&t[a.min(b)..]);
                let n = noise.len();
                if n > 0 {
                    data.extend_from_slice(&noise[b % n..]);
                }
            }
            SPLIT.with(|patterns| {
                prop_assert!(patterns.len() > 150, "{} rules split", patterns.len());
                for p in patterns {
                    let split: Vec<_> = secret_spans(p, &data, None).collect();
                    let own: Vec<_> = pattern_spans(p, &data, None).collect();
                    prop_assert_eq!(split, own);
                }
                Ok(())
            })?;
        }
    }

    /// One rule, `tok-` and 24 letters or digits, with `words` (its keywords and anchors):
    /// compiled with leads, and without (searched whole).
    fn tok_rule(words: &str) -> (Matcher, Matcher) {
        let text = format!(
            "[[rules]]\nid = \"acme\"\nname = \"ACME\"\nseverity = \"high\"\n{words}\n\
             regex = '''\\btok-(?P<secret>[a-z0-9]{{24}})\\b'''\n"
        );
        let rules = crate::rules::parse("inline", &text).unwrap();
        let mut whole = Matcher::new(rules.clone(), &Config::default()).unwrap();
        whole.use_leads = false;
        (Matcher::new(rules, &Config::default()).unwrap(), whole)
    }

    /// A value for [`tok_rule`], built at run time.
    fn tok_value() -> String {
        (0..24)
            .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7 + 3) % 36]))
            .collect()
    }

    /// A blob with more keyword hits than [`MAX_START_RANGES`] keeps its ranges when it is
    /// large enough to pay for them, and is searched whole when it is not; both find what a
    /// whole search finds.
    #[test]
    fn start_ranges_are_budgeted_by_the_blob_size() {
        let (m, whole) = tok_rule("keywords = [\"tok-\"]");
        let hits = MAX_START_RANGES + 1000;
        for (gap, ranged) in [(100, true), (20, false)] {
            let filler = format!("tok-{}\n", "x".repeat(gap));
            let data = format!("{}key = tok-{}\n", filler.repeat(hits), tok_value());
            match m
                .triggered("a.txt", data.as_bytes(), None, false)
                .0
                .as_slice()
            {
                [(0, Search::Starts(r))] => assert!(ranged && r.len() > MAX_START_RANGES),
                [(0, Search::Whole)] => assert!(!ranged, "searched whole"),
                _ => panic!("not triggered"),
            }
            let found = outcome(&m, data.as_bytes());
            assert_eq!(found.0.len(), 1, "{found:?}");
            assert_eq!(found, outcome(&whole, data.as_bytes()));
        }
    }

    /// A rule whose keyword lies far from its match: its anchor, near the match, gives the
    /// only starts; the keyword alone still decides whether the rule runs.
    #[test]
    fn anchors_give_starts_far_from_the_keyword() {
        let (m, whole) = tok_rule("keywords = [\"acmevault\"]\nanchors = [\"tok-\"]");
        assert!(m.rules[0].pattern().lead.is_some(), "the anchor is proved");
        let value = tok_value();
        let far = format!(
            "# acmevault\n{}\nkey = tok-{value}\n",
            "x = 1\n".repeat(2000)
        );
        let at = far.find("tok-").unwrap();
        let search = m.triggered("a.txt", far.as_bytes(), None, false).0;
        let [(0, Search::Starts(ranges))] = search.as_slice() else {
            panic!("not searched by starts");
        };
        assert!(
            ranges.iter().all(|&(lo, hi)| lo <= at && at <= hi),
            "{ranges:?}"
        );
        for data in [far.clone(), far.replace("acmevault", "ACMEVAULT")] {
            let found = outcome(&m, data.as_bytes());
            assert_eq!(found.0.len(), 1, "{found:?}");
            assert_eq!(found, outcome(&whole, data.as_bytes()));
        }
        // The anchor without a keyword triggers nothing; the keyword without an anchor
        // triggers the rule with no starts.
        let no_keyword = far.replace("acmevault", "vault");
        assert!(m
            .triggered("a.txt", no_keyword.as_bytes(), None, false)
            .0
            .is_empty());
        let no_anchor = far.replace("tok-", "tak-");
        assert!(matches!(
            m.triggered("a.txt", no_anchor.as_bytes(), None, false).0.as_slice(),
            [(0, Search::Starts(r))] if r.is_empty()
        ));
    }

    #[test]
    fn the_built_in_rules_mostly_have_leads() {
        // The generic assignment rule, keyed on words dense in real code, must be one: it is
        // what made searching whole blobs cost.
        let m = builtin(true);
        let with: Vec<&str> = m
            .rules
            .iter()
            .filter(|r| r.pattern().lead.is_some())
            .map(|r| r.rule.id.as_str())
            .collect();
        assert!(with.contains(&"generic-secret-assignment"));
        assert!(
            with.len() * 10 >= m.rules.len() * 7,
            "{} of {}",
            with.len(),
            m.rules.len()
        );
    }
}
