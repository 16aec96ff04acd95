//! The rule linter: every rule must compile, name its secret, and prove itself on its examples.

use super::Rule;
use crate::finding::RuleId;
use crate::ids::RULE_ID_SHAPE;
use crate::matcher::{Matcher, MatcherError, MAX_CONTEXT_LINES, MAX_LEAD};
use std::collections::HashSet;

/// The most rules a configuration may add. Each user rule's regex is compiled at start-up and
/// runs on every blob holding one of its keywords; beyond a few hundred, a configuration is
/// more likely an attack on the scan's time than a rule set.
pub const MAX_USER_RULES: usize = 200;
/// Keywords shorter than this occur in nearly every blob and defeat the prefilter, unless the
/// rule is restricted by `paths`.
pub const MIN_KEYWORD_BYTES: usize = 3;
const MAX_KEYWORD_BYTES: usize = 64;
const MAX_WORDS: usize = 32;
const MAX_TEXT_BYTES: usize = 4096;
const MAX_LIST: usize = 256;
/// Check the ranges and limits of one rule a user wrote (not its examples); on failure, the
/// field and what was expected. Text of the rule is never quoted.
fn check_limits(rule: &Rule) -> Result<(), (String, String)> {
    let bad = |field: &str, message: String| Err((field.to_string(), message));
    for (field, text, max) in [
        ("name", &rule.name, 200),
        ("description", &rule.description, MAX_TEXT_BYTES),
        ("regex", &rule.regex, crate::matcher::MAX_USER_REGEX_BYTES),
    ] {
        if text.len() > max {
            return bad(field, format!("longer than {max} bytes"));
        }
    }
    let min_keyword = if rule.paths.is_empty() {
        MIN_KEYWORD_BYTES
    } else {
        1
    };
    let mut words: Vec<(&str, &[String], usize)> = vec![
        ("keywords", &rule.keywords, min_keyword),
        ("anchors", &rule.anchors, MIN_KEYWORD_BYTES),
        ("not_after", &rule.not_after, 1),
    ];
    if let Some(c) = &rule.context {
        words.push(("context.keywords", &c.keywords, MIN_KEYWORD_BYTES));
        if c.lines > MAX_CONTEXT_LINES {
            return bad(
                "context.lines",
                format!("must be from 0 to {MAX_CONTEXT_LINES}"),
            );
        }
    }
    for (field, list, min) in words {
        if list.len() > MAX_WORDS {
            return bad(field, format!("more than {MAX_WORDS} entries"));
        }
        if let Some(i) = list
            .iter()
            .position(|k| k.len() < min || k.len() > MAX_KEYWORD_BYTES)
        {
            let why = if min > 1 {
                format!("must be {min} to {MAX_KEYWORD_BYTES} bytes long (a shorter keyword occurs in nearly every file; restrict the rule with `paths` to use one)")
            } else {
                format!("must be 1 to {MAX_KEYWORD_BYTES} bytes long")
            };
            return bad(&format!("{field}[{i}]"), why);
        }
    }
    if let Some(p) = &rule.provider {
        // A provider id has the shape of a rule id.
        if !RuleId::is_valid(p) {
            return bad("provider", format!("must be {RULE_ID_SHAPE}"));
        }
    }
    if rule.references.len() > MAX_WORDS {
        return bad("references", format!("more than {MAX_WORDS} entries"));
    }
    if let Some(i) = rule.references.iter().position(|r| {
        !r.starts_with("https://") || r.len() > MAX_TEXT_BYTES || r.contains(char::is_whitespace)
    }) {
        return bad(
            &format!("references[{i}]"),
            "must be an https:// URL".into(),
        );
    }
    for (field, list, max) in [
        ("paths", &rule.paths, MAX_TEXT_BYTES),
        ("allow_values", &rule.allow_values, MAX_TEXT_BYTES),
    ] {
        if list.len() > MAX_LIST {
            return bad(field, format!("more than {MAX_LIST} entries"));
        }
        if let Some(i) = list.iter().position(|p| p.is_empty() || p.len() > max) {
            return bad(
                &format!("{field}[{i}]"),
                format!("must be 1 to {max} bytes long"),
            );
        }
    }
    for (field, list) in [
        ("examples", &rule.examples),
        ("negative_examples", &rule.negative_examples),
    ] {
        if list.len() > MAX_LIST {
            return bad(field, format!("more than {MAX_LIST} entries"));
        }
    }
    if let Some(e) = rule.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return bad("min_entropy", "must be from 0 to 8 (bits per byte)".into());
        }
    }
    Ok(())
}

/// Check the rules of a configuration: at most [`MAX_USER_RULES`], each within its limits.
/// On failure, the field's path (`rules[3] (my-rule).keywords[0]`) and what was expected.
pub fn check_user_rules(rules: &[Rule]) -> Result<(), (String, String)> {
    if rules.len() > MAX_USER_RULES {
        return Err(("rules".into(), format!("more than {MAX_USER_RULES} rules")));
    }
    for (i, rule) in rules.iter().enumerate() {
        check_limits(rule)
            .map_err(|(field, message)| (format!("rules[{i}] ({}).{field}", rule.id), message))?;
    }
    Ok(())
}

/// One problem with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    pub rule_id: RuleId,
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
    let mut err = |id: &RuleId, message: String| {
        errors.push(LintError {
            rule_id: id.clone(),
            message,
        });
    };
    let mut seen = HashSet::new();
    for rule in rules {
        let name = &rule.id;
        if !seen.insert(name) {
            err(name, "duplicate rule id".into());
        }
        if let Err((field, message)) = check_limits(rule) {
            err(name, format!("{field}: {message}"));
        }
        if rule.keywords.is_empty() && rule.paths.is_empty() {
            err(name, "a rule needs keywords or paths".into());
        }
        if rule.examples.is_empty() {
            err(name, "no examples".into());
        }
        if rule.negative_examples.is_empty() {
            err(name, "no negative_examples".into());
        }
        // Compile the rule alone so its examples are judged without the others' help.
        let matcher = match Matcher::for_rules(vec![rule.clone()]) {
            Ok(m) => m,
            Err(MatcherError::Rule { message, .. }) => {
                err(name, message);
                continue;
            }
            Err(e) => {
                let cause = std::error::Error::source(&e).map(|s| format!(": {s}"));
                err(name, format!("{e}{}", cause.unwrap_or_default()));
                continue;
            }
        };
        if matcher.unproved_anchors().next().is_some() {
            err(
                name,
                format!("anchors: not every match is proved to hold one within {MAX_LEAD} bytes of its start"),
            );
        }
        for (i, ex) in rule.examples.iter().enumerate() {
            let text = ex.text();
            let lower = text.to_ascii_lowercase();
            if !rule.keywords.is_empty()
                && !rule
                    .keywords
                    .iter()
                    .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                err(name, format!("example {} contains no keyword", i + 1));
            }
            let found = matcher.scan(ex.path(), text.as_bytes());
            if found.is_empty() {
                err(name, format!("example {} does not match", i + 1));
            }
            // A check that only lowers confidence lets a failing example match: it must pass.
            if let Some(check) = rule.check {
                if found
                    .iter()
                    .any(|f| !crate::matcher::check_passes(check, f.secret.as_bytes()))
                {
                    err(name, format!("example {} fails its check", i + 1));
                }
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            if !matcher.scan(ex.path(), ex.text().as_bytes()).is_empty() {
                err(name, format!("negative example {} matches", i + 1));
            }
        }
    }
    errors
}

/// [`lint`], plus what every built-in rule must carry: the provider it belongs to and at least
/// one reference to that provider's documentation.
pub fn lint_builtin(rules: &[Rule]) -> Vec<LintError> {
    let mut errors = lint(rules);
    for rule in rules {
        let mut err = |message: &str| {
            errors.push(LintError {
                rule_id: rule.id.clone(),
                message: message.into(),
            });
        };
        if rule.provider.is_none() {
            err("no provider");
        }
        if rule.references.is_empty() {
            err("no references");
        }
    }
    errors
}
