//! The rule linter: every rule must compile, name its secret, and prove itself on its examples.

use super::Rule;
use crate::matcher::{Matcher, MatcherError};
use std::collections::HashSet;

/// One problem with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    pub rule_id: String,
    pub message: String,
}

impl std::fmt::Display for LintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule_id, self.message)
    }
}

/// Check `rules`: unique ids, compiling regexes with a `secret` group, keywords present in every
/// example, every example matched by its rule, no negative example matched by it.
pub fn lint(rules: &[Rule]) -> Vec<LintError> {
    let mut errors = Vec::new();
    let mut err = |id: &str, message: String| {
        errors.push(LintError {
            rule_id: id.to_string(),
            message,
        })
    };
    let mut seen = HashSet::new();
    for rule in rules {
        if !seen.insert(rule.id.as_str()) {
            err(&rule.id, "duplicate rule id".into());
        }
        if rule.id.is_empty()
            || !rule
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            err(&rule.id, "id must be non-empty kebab-case".into());
        }
        if rule.keywords.is_empty() && rule.paths.is_empty() {
            err(&rule.id, "a rule needs keywords or paths".into());
        }
        if rule.examples.is_empty() {
            err(&rule.id, "no examples".into());
        }
        if rule.negative_examples.is_empty() {
            err(&rule.id, "no negative_examples".into());
        }
        // Compile the rule alone so its examples are judged without the others' help.
        let matcher = match Matcher::for_rules(vec![rule.clone()]) {
            Ok(m) => m,
            Err(MatcherError::Rule { message, .. }) => {
                err(&rule.id, message);
                continue;
            }
            Err(e) => {
                err(&rule.id, e.to_string());
                continue;
            }
        };
        for (i, ex) in rule.examples.iter().enumerate() {
            let text = ex.text();
            let lower = text.to_ascii_lowercase();
            if !rule.keywords.is_empty()
                && !rule
                    .keywords
                    .iter()
                    .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                err(&rule.id, format!("example {} contains no keyword", i + 1));
            }
            if matcher.scan(ex.path(), text.as_bytes()).is_empty() {
                err(&rule.id, format!("example {} does not match", i + 1));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            if !matcher.scan(ex.path(), ex.text().as_bytes()).is_empty() {
                err(&rule.id, format!("negative example {} matches", i + 1));
            }
        }
    }
    errors
}
