//! A rule regex's leading boundary, split off for searches of a whole blob.
//!
//! Many rules begin with a boundary such as `(?:^|[^A-Za-z0-9_])` or `(?:^|[^A-Za-z0-9]|-D)`:
//! the secret starts at the blob's start or after a byte that cannot be part of it. A regex
//! that begins so has no literal prefix, so the regex engine walks every byte of a blob it
//! searches whole (about 0.5 GB/s here), where the rest of the regex often begins with
//! literals it finds at memory speed. So a whole search runs the rest of the regex, and
//! checks the boundary itself before each place the rest matches.
//!
//! The split search finds exactly the matches the whole regex finds. The whole regex's match
//! starts at the leftmost place `s` from which a branch of the boundary, then the rest, match.
//! The split search takes the rest's matches from left to right, and keeps the first one at
//! `p` for which a branch matches `[p - len, p)` starting at or after where the search began.
//! Both orders agree when the branches come shortest first (an assertion, then single
//! bytes, then longer literals), which the split requires: at one `s`, the whole regex tries
//! the shorter branch, whose rest starts earlier, first.

use regex_syntax::hir::{ClassBytes, Hir, HirKind, Look};

/// One branch of a leading boundary.
#[derive(Debug)]
enum Branch {
    /// `^`: the blob's start.
    Start,
    /// `(?m:^)`: the blob's start or just after a `\n`.
    LineStart,
    /// One byte of a class.
    Byte(ClassBytes),
    /// These bytes, exactly.
    Literal(Box<[u8]>),
}

impl Branch {
    fn len(&self) -> usize {
        match self {
            Branch::Start | Branch::LineStart => 0,
            Branch::Byte(_) => 1,
            Branch::Literal(bytes) => bytes.len(),
        }
    }

    /// Whether the branch matches bytes that end at `p`, starting at or after `from`.
    fn ends_at(&self, data: &[u8], from: usize, p: usize) -> bool {
        let Some(start) = p.checked_sub(self.len()).filter(|&s| s >= from) else {
            return false;
        };
        match self {
            Branch::Start => p == 0,
            Branch::LineStart => p == 0 || data[p - 1] == b'\n',
            Branch::Byte(class) => class.ranges().iter().any(|r| {
                let b = data[start];
                r.start() <= b && b <= r.end()
            }),
            Branch::Literal(bytes) => data[start..p] == bytes[..],
        }
    }
}

/// A pattern's leading boundary and the rest of it.
#[derive(Debug)]
pub(super) struct Split {
    branches: Vec<Branch>,
    /// The pattern without its boundary.
    pub rest: Hir,
}

impl Split {
    /// Split `pattern` (parsed byte-wise, as [`super::build_regex`] compiles it without
    /// Unicode) when it begins with an alternation of `^`, `(?m:^)`, byte classes and
    /// literals, shortest first, followed by more; else `None`.
    pub fn of(pattern: &str) -> Option<Split> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        let HirKind::Concat(parts) = hir.into_kind() else {
            return None;
        };
        let (first, rest) = parts.split_first()?;
        let HirKind::Alternation(alternatives) = first.kind() else {
            return None;
        };
        let branches = alternatives
            .iter()
            .map(|h| match h.kind() {
                HirKind::Look(Look::Start) => Some(Branch::Start),
                HirKind::Look(Look::StartLF) => Some(Branch::LineStart),
                HirKind::Class(regex_syntax::hir::Class::Bytes(c)) => Some(Branch::Byte(c.clone())),
                HirKind::Literal(l) => Some(Branch::Literal(l.0.clone())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        if rest.is_empty() || !branches.windows(2).all(|w| w[0].len() <= w[1].len()) {
            return None;
        }
        Some(Split {
            branches,
            rest: Hir::concat(rest.to_vec()),
        })
    }

    /// Whether a branch of the boundary ends at `p`, starting at or after `from`.
    pub fn holds(&self, data: &[u8], from: usize, p: usize) -> bool {
        self.branches.iter().any(|b| b.ends_at(data, from, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_boundaries_are_split_and_others_are_not() {
        let s = Split::of(r"(?:^|[^A-Za-z0-9]|-D)(?i:tok)=(?P<secret>[a-z]{4})").unwrap();
        assert_eq!(s.branches.len(), 3);
        assert!(s.holds(b"tok", 0, 0));
        assert!(s.holds(b" tok", 0, 1));
        assert!(!s.holds(b"xtok", 0, 1));
        assert!(s.holds(b"-Dtok", 0, 2));
        // A branch may not start before where the search began.
        assert!(!s.holds(b" tok", 1, 1));
        assert!(!s.holds(b"-Dtok", 1, 2));
        let plain = Split::of(r"(?:^|[,;])key=(?P<secret>x+)").unwrap();
        assert!(plain.holds(b"a;key", 0, 2));
        assert!(!plain.holds(b"a\nkey", 0, 2));
        let lines = Split::of(r"(?m:^|[,;])key=(?P<secret>x+)").unwrap();
        assert!(lines.holds(b"a\nkey", 0, 2));
        assert!(lines.holds(b"key", 0, 0));
        // Not a leading boundary, a boundary alone, or a longer branch before a shorter one.
        for p in [
            r"tok=(?P<secret>x+)",
            r"(?:^|[^a-z])",
            r"(?:-D|^|[^a-z])tok(?P<secret>x+)",
            r"(?:^|\bx)tok(?P<secret>x+)",
        ] {
            assert!(Split::of(p).is_none(), "{p}");
        }
    }
}
