//! One finding per secret: [`ScanReport::group`] folds every finding of the same rule and
//! secret (the same fingerprint) into the place that introduced it, keeping the others as
//! [`Occurrence`]s.

use crate::finding::{Finding, Occurrence, ScanReport};
use std::collections::HashMap;

/// Where a finding stands among the places of its secret: the first commit of the walk first
/// (parents before children), then path and position.
fn place_key(f: &Finding) -> (u64, &str, usize, usize) {
    let order = f.git.as_ref().map_or(u64::MAX, |g| g.order);
    (order, &f.path, f.line, f.column)
}

impl Occurrence {
    /// The place of `f`, as an occurrence of its secret.
    fn of(f: Finding) -> Occurrence {
        let git = f.git.as_ref();
        Occurrence {
            commit: f.commit().map(|c| c.id),
            order: git.map_or(u64::MAX, |g| g.order),
            other_commits: git.map_or(0, |g| g.other_commits),
            other_paths: git.map_or(0, |g| g.other_paths),
            path: f.path,
            archive: f.archive,
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
        }
    }
}

impl Finding {
    /// How many places hold this secret, this one included.
    pub fn places(&self) -> usize {
        1 + self.occurrences.len()
    }

    /// How many distinct commits introduced the blobs holding this secret, in a Git scan.
    pub fn commits(&self) -> usize {
        let mut ids: Vec<_> = self.commit().map(|c| c.id).into_iter().collect();
        ids.extend(self.occurrences.iter().filter_map(|o| o.commit));
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

impl ScanReport {
    /// How many distinct secrets (of a rule) the report lists: its findings when grouped.
    pub fn secrets(&self) -> usize {
        let mut seen: Vec<_> = self.findings.iter().map(|f| &f.fingerprint).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// How many places hold the report's secrets, grouped or not.
    pub fn places(&self) -> usize {
        self.findings.iter().map(Finding::places).sum()
    }

    /// Fold the findings of each (rule, secret) into one: the place introduced first (see
    /// [`place_key`]) leads and the others become its occurrences, in the same order. The
    /// group keeps the highest confidence any place had, and a provider's pair from the first
    /// place that has a partner id (an id assigned to an id-like name before one merely near).
    /// Already grouped findings keep their occurrences. The report is sorted afterwards.
    pub fn group(&mut self) {
        let mut findings = std::mem::take(&mut self.findings);
        findings.sort_by(|a, b| place_key(a).cmp(&place_key(b)));
        let mut heads: Vec<Finding> = Vec::new();
        let mut index = HashMap::new();
        for mut f in findings {
            let Some(&at) = index.get(&f.fingerprint) else {
                index.insert(f.fingerprint.clone(), heads.len());
                heads.push(f);
                continue;
            };
            let head: &mut Finding = &mut heads[at];
            head.confidence = head.confidence.max(f.confidence);
            let better =
                |p: &Option<crate::finding::Pair>| p.as_ref().map(|p| (p.id.is_some(), p.named));
            if better(&f.pair) > better(&head.pair) {
                head.pair = f.pair.take();
            }
            let more = std::mem::take(&mut f.occurrences);
            head.occurrences.push(Occurrence::of(f));
            head.occurrences.extend(more);
        }
        for head in &mut heads {
            head.occurrences.sort_by(|a, b| {
                (a.order, &a.path, a.line, a.column).cmp(&(b.order, &b.path, b.line, b.column))
            });
        }
        self.findings = heads;
        self.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Snippet;
    use crate::finding::{Commit, CommitId, Confidence, Fingerprint, GitOrigin, RuleId, Severity};

    fn finding(rule: &str, secret: &str, path: &str, line: usize, order: Option<u64>) -> Finding {
        let rule_id = RuleId::new(rule).unwrap();
        Finding {
            fingerprint: Fingerprint::of(&rule_id, secret),
            rule_id,
            rule_name: rule.into(),
            severity: Severity::High,
            confidence: Confidence::Medium,
            path: path.into(),
            line,
            column: 1,
            end_line: line,
            end_column: 10,
            secret: secret.into(),
            snippet: Snippet::default(),
            git: order.map(|order| GitOrigin {
                commit: Some(Commit {
                    id: CommitId::from(gix::hash::ObjectId::from([order as u8; 20])),
                    author: String::new(),
                    email: String::new(),
                    date: String::new(),
                }),
                order,
                ..GitOrigin::default()
            }),
            pair: None,
            verification: None,
            revocation: None,
            archive: None,
            occurrences: Vec::new(),
        }
    }

    #[test]
    fn each_secret_of_each_rule_is_one_finding_led_by_its_first_commit() {
        let mut report = ScanReport {
            findings: vec![
                finding("r", "s1", "b.txt", 3, Some(5)),
                finding("r", "s1", "a.txt", 1, Some(7)),
                finding("r", "s1", "z.txt", 9, Some(2)),
                finding("r", "s2", "a.txt", 2, Some(7)),
                finding("q", "s1", "a.txt", 1, Some(7)),
            ],
            ..ScanReport::default()
        };
        assert_eq!((report.secrets(), report.places()), (3, 5));
        report.group();
        assert_eq!(report.findings.len(), 3);
        assert_eq!((report.secrets(), report.places()), (3, 5));
        let s1 = report
            .findings
            .iter()
            .find(|f| f.rule_id.as_str() == "r" && f.secret == "s1")
            .unwrap();
        assert_eq!(
            (s1.path.as_str(), s1.git.as_ref().unwrap().order),
            ("z.txt", 2)
        );
        let rest: Vec<_> = s1
            .occurrences
            .iter()
            .map(|o| (o.path.as_str(), o.order))
            .collect();
        assert_eq!(rest, [("b.txt", 5), ("a.txt", 7)]);
        assert_eq!((s1.places(), s1.commits()), (3, 3));
        // Grouping again changes nothing.
        let once = report.findings.clone();
        report.group();
        assert_eq!(report.findings, once);
    }

    #[test]
    fn tree_findings_group_by_path_and_keep_the_best_confidence() {
        let mut low = finding("r", "s", "a.env", 4, None);
        low.confidence = Confidence::Low;
        let mut high = finding("r", "s", "b.env", 1, None);
        high.confidence = Confidence::High;
        let mut report = ScanReport {
            findings: vec![high, low],
            ..ScanReport::default()
        };
        report.group();
        let [f] = report.findings.as_slice() else {
            panic!("{:?}", report.findings)
        };
        assert_eq!((f.path.as_str(), f.confidence), ("a.env", Confidence::High));
        assert_eq!((f.places(), f.commits()), (2, 0));
    }
}
