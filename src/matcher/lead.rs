//! Which rules can be confirmed near their keywords instead of over a whole blob.
//!
//! A rule qualifies when it is proved from its regex, not assumed, that every match contains
//! one of the rule's keywords (ASCII case-insensitively, as the prefilter finds them) ending at
//! most a bounded number of bytes, the rule's *lead*, after the match starts. Then every match
//! starts between `e - lead` and `s` of a keyword occurrence `[s, e)` the prefilter reported,
//! and trying the regex anchored at just those positions, in order, finds exactly the matches
//! a search of the whole blob finds. A rule the proof cannot reach (a keyword only in its
//! context, an unbounded run before the keyword) is searched over the whole blob.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The most distinct strings a sub-pattern may expand to before the proof gives it up.
const MAX_STRINGS: usize = 256;
/// The most members a class may have to be expanded: `[_.-]` and `[a-f0-9]` are, `[^\n]` is not.
const MAX_CLASS: usize = 64;
/// Rules whose lead exceeds this are searched whole: each keyword hit would cost as many tries.
pub const MAX_LEAD: usize = 256;

/// The rule's lead, when every match of `pattern` provably contains one of `keywords`
/// (compared ASCII case-insensitively) ending at most that many bytes after the match starts,
/// and that is at most [`MAX_LEAD`]; else `None`. `unicode` is the mode the regex was compiled
/// in.
pub(super) fn lead(pattern: &str, unicode: bool, keywords: &[String]) -> Option<usize> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let keywords: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .filter(|k| !k.is_empty())
        .collect();
    if keywords.is_empty() {
        return None;
    }
    let mut budget = MAX_STEPS;
    lead_of(&hir, &keywords, &mut budget).filter(|&l| l <= MAX_LEAD)
}

/// The most alternatives the proof distributes over before it gives a pattern up.
const MAX_STEPS: usize = 4096;

/// Every string in `set` holds one of `keywords`.
fn all_hold(set: &[Vec<u8>], keywords: &[Vec<u8>]) -> bool {
    !set.is_empty()
        && set.iter().all(|s| {
            keywords
                .iter()
                .any(|k| memchr::memmem::find(s, k).is_some())
        })
}

/// How far into any match of `hir` a keyword is sure to have ended, if one always occurs.
fn lead_of(hir: &Hir, keywords: &[Vec<u8>], budget: &mut usize) -> Option<usize> {
    if strings(hir).is_some_and(|set| all_hold(&set, keywords)) {
        return hir.properties().maximum_len();
    }
    match hir.kind() {
        HirKind::Capture(c) => lead_of(&c.sub, keywords, budget),
        // The first repetition holds the keyword.
        HirKind::Repetition(r) if r.min >= 1 => lead_of(&r.sub, keywords, budget),
        HirKind::Alternation(alts) => alts
            .iter()
            .map(|h| lead_of(h, keywords, budget))
            .try_fold(0, |acc, l| Some(acc.max(l?))),
        HirKind::Concat(parts) => concat_lead(parts, keywords, budget),
        HirKind::Repetition(_)
        | HirKind::Empty
        | HirKind::Literal(_)
        | HirKind::Class(_)
        | HirKind::Look(_) => None,
    }
}

/// The shortest lead a concatenation has: a part that always holds a keyword, or a run of
/// consecutive parts, each a small finite set of strings (the last may give just its first
/// character), that always spells one (`api`, `[_.-]?`, `key` always spell one of `api_key`,
/// `api.key`, ...), after parts whose length is bounded. Failing that, an alternation among
/// the parts is distributed (`a(?:uth|pi_key)x` is `authx` or `api_keyx`, as the parser
/// factors common prefixes out) and every branch must have a lead.
fn concat_lead(parts: &[Hir], keywords: &[Vec<u8>], budget: &mut usize) -> Option<usize> {
    *budget = budget.checked_sub(1)?;
    let sets: Vec<Option<Vec<Vec<u8>>>> = parts.iter().map(strings).collect();
    let mut best: Option<usize> = None;
    let mut before = Some(0usize);
    for (start, part) in parts.iter().enumerate() {
        let Some(offset) = before else { break };
        let mut found = lead_of(part, keywords, budget).map(|l| offset + l);
        let mut acc = vec![Vec::new()];
        let mut len = 0;
        for (set, h) in sets[start..].iter().zip(&parts[start..]) {
            let (next, width, last) = match set {
                Some(set) => (
                    product(&acc, set),
                    h.properties().maximum_len().unwrap_or(0),
                    false,
                ),
                None => (first(h).and_then(|f| product(&acc, &f)), 1, true),
            };
            let Some(next) = next else { break };
            acc = next;
            len += width;
            if all_hold(&acc, keywords) {
                found = Some(found.map_or(offset + len, |f| f.min(offset + len)));
                break;
            }
            if last {
                break;
            }
        }
        if let Some(f) = found {
            best = Some(best.map_or(f, |b| b.min(f)));
        }
        before = part
            .properties()
            .maximum_len()
            .and_then(|l| offset.checked_add(l));
    }
    best.or_else(|| distribute(parts, &sets, keywords, budget))
}

/// The lead of a concatenation with its first open alternation replaced by each branch in
/// turn: the largest, when every branch has one.
fn distribute(
    parts: &[Hir],
    sets: &[Option<Vec<Vec<u8>>>],
    keywords: &[Vec<u8>],
    budget: &mut usize,
) -> Option<usize> {
    let i = parts
        .iter()
        .zip(sets)
        .position(|(h, set)| set.is_none() && matches!(h.kind(), HirKind::Alternation(_)))?;
    let HirKind::Alternation(alts) = parts[i].kind() else {
        return None;
    };
    let mut lead = 0;
    for branch in alts {
        let mut spliced: Vec<Hir> = parts[..i].to_vec();
        match branch.kind() {
            HirKind::Concat(inner) => spliced.extend(inner.iter().cloned()),
            _ => spliced.push(branch.clone()),
        }
        spliced.extend(parts[i + 1..].iter().cloned());
        lead = lead.max(concat_lead(&spliced, keywords, budget)?);
    }
    Some(lead)
}

/// A class's `count` members, ASCII-lowercased, when there are at most [`MAX_CLASS`].
fn members(count: usize, each: impl Iterator<Item = Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    (count <= MAX_CLASS).then(|| {
        let mut v: Vec<Vec<u8>> = each.map(|m| m.to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    })
}

/// The first characters of every match of `hir`, when it never matches the empty string and
/// they are few.
fn first(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    if hir.properties().minimum_len()? == 0 {
        return None;
    }
    match hir.kind() {
        HirKind::Literal(l) => Some(vec![vec![l.0[0].to_ascii_lowercase()]]),
        HirKind::Class(_) => strings(hir),
        HirKind::Capture(c) => first(&c.sub),
        HirKind::Repetition(r) => first(&r.sub),
        HirKind::Concat(parts) => first(parts.first()?),
        HirKind::Alternation(alts) => {
            let mut out = Vec::new();
            for h in alts {
                out.extend(first(h)?);
            }
            out.sort();
            out.dedup();
            Some(out)
        }
        HirKind::Empty | HirKind::Look(_) => None,
    }
}

/// Every concatenation of a string of `a` with one of `b`, if there are few enough.
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_STRINGS {
        return None;
    }
    let mut out: Vec<Vec<u8>> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y].concat()))
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// Every string `hir` can match, ASCII-lowercased, when there are few; look-arounds match the
/// empty string (they constrain where, not what).
fn strings(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(Class::Bytes(c)) => members(
            c.ranges()
                .iter()
                .map(regex_syntax::hir::ClassBytesRange::len)
                .sum(),
            c.iter().flat_map(|r| r.start()..=r.end()).map(|b| vec![b]),
        ),
        HirKind::Class(Class::Unicode(c)) => members(
            c.ranges()
                .iter()
                .map(regex_syntax::hir::ClassUnicodeRange::len)
                .sum(),
            c.iter()
                .flat_map(|r| r.start()..=r.end())
                .map(|ch| ch.to_string().into_bytes()),
        ),
        HirKind::Capture(c) => strings(&c.sub),
        HirKind::Repetition(r) => {
            let max = r.max?;
            if max > 4 {
                return None;
            }
            let sub = strings(&r.sub)?;
            let mut acc = vec![Vec::new()];
            let mut out = Vec::new();
            for n in 0..=max {
                if n >= r.min {
                    out.extend(acc.iter().cloned());
                }
                if n < max {
                    acc = product(&acc, &sub)?;
                }
            }
            out.sort();
            out.dedup();
            (out.len() <= MAX_STRINGS).then_some(out)
        }
        HirKind::Concat(parts) => parts
            .iter()
            .try_fold(vec![Vec::new()], |acc, h| product(&acc, &strings(h)?)),
        HirKind::Alternation(alts) => {
            let mut out = Vec::new();
            for h in alts {
                out.extend(strings(h)?);
                if out.len() > MAX_STRINGS {
                    return None;
                }
            }
            out.sort();
            out.dedup();
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pattern: &str, keywords: &[&str]) -> Option<usize> {
        let kws: Vec<String> = keywords.iter().map(|k| (*k).to_string()).collect();
        lead(pattern, false, &kws)
    }

    #[test]
    fn a_keyword_in_every_match_after_a_bounded_start_qualifies() {
        assert_eq!(r(r"ghp_[A-Za-z0-9]{36}", &["ghp_"]), Some(4));
        assert_eq!(r(r"(?:^|[^a-z])(?i:ghp_)[a-z]+", &["ghp_"]), Some(5));
        assert_eq!(
            r(
                r"(?i:api[_.-]?key)\s*=\s*(?P<secret>[a-z]{8})",
                &["apikey", "api_key", "api.key", "api-key"]
            ),
            Some(7)
        );
        assert_eq!(
            r(r"(?:token|secret)[a-z]{0,4}=x", &["token", "secret"]),
            Some(6)
        );
        assert_eq!(r(r"[a-z]{0,3}(token)+\s*", &["token"]), Some(8));
        assert_eq!(
            r(
                r"(?:^|[^a-z])fc-[a-f0-9]{32}",
                &[
                    "fc-0", "fc-1", "fc-2", "fc-3", "fc-4", "fc-5", "fc-6", "fc-7", "fc-8", "fc-9",
                    "fc-a", "fc-b", "fc-c", "fc-d", "fc-e", "fc-f"
                ]
            ),
            Some(5)
        );
        assert_eq!(
            r(
                r"(?i:auth[a-z]{0,10}|api[_.-]?key|pwd)\s*=",
                &["auth", "apikey", "api_key", "api.key", "api-key", "pwd"]
            ),
            Some(7)
        );
        // The keyword may come after an unbounded part's end only if that part is bounded.
        assert_eq!(r(r"x(?:ab|abc)token", &["token"]), Some(9));
    }

    #[test]
    fn unproved_or_unbounded_leads_do_not() {
        // The keyword is context, not part of the match.
        assert_eq!(r(r"[a-f0-9]{32}", &["genesys"]), None);
        // An alternative without the keyword.
        assert_eq!(r(r"(?:token|[a-z]{3})=x", &["token"]), None);
        // An optional keyword.
        assert_eq!(r(r"(?:token)?=[a-z]{8}", &["token"]), None);
        // `api[_.-]?key` does not always spell `api_key`.
        assert_eq!(r(r"api[_.-]?key=[a-z]{8}", &["api_key"]), None);
        // A first character the keywords do not all cover.
        assert_eq!(
            r(
                r"fc-[a-g0-9]{32}",
                &["fc-a", "fc-b", "fc-c", "fc-d", "fc-e", "fc-f"]
            ),
            None
        );
        // A branch that holds no keyword, after the parser factors the prefix out.
        assert_eq!(
            r(
                r"(?i:auth[a-z]{0,10}|api[_.-]?key)\s*=",
                &["auth", "api_key"]
            ),
            None
        );
        // Unbounded before the keyword.
        assert_eq!(r(r"[a-z]+token", &["token"]), None);
        // Further in than a lead is worth.
        assert_eq!(r(r"[a-z]{0,2000}token", &["token"]), None);
    }

    #[test]
    fn case_follows_the_prefilter() {
        // The prefilter is ASCII case-insensitive, so a case-sensitive literal qualifies too.
        assert_eq!(r(r"AKIA[A-Z0-9]{16}", &["akia"]), Some(4));
        assert_eq!(r(r"(?i)akia[A-Z0-9]{16}", &["AKIA"]), Some(4));
        // Unicode case folding lets `k` match the Kelvin sign, which the prefilter would not see.
        let kws = vec!["token".to_string()];
        assert_eq!(lead(r"(?i)token", true, &kws), None);
    }
}
