//! Rules are data: the TOML format, loading of the built-in and user rules, and the linter.

mod lint;

pub use lint::{check_user_rules, lint, lint_builtin, LintError, MAX_USER_RULES};

use crate::config::{self, ReadError};
use crate::finding::{Confidence, RuleId, Severity};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The largest rule file read, in bytes.
pub const MAX_RULE_FILE_BYTES: u64 = 1 << 20;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// One rule file: a list of rules.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A detection rule, as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, e.g. `genesys-client-secret`; checked when the rule is parsed. Nothing is
    /// decided on its text: what a rule does beyond matching is chosen by `provider`, `verify`
    /// and `decode`.
    pub id: RuleId,
    pub name: String,
    /// The provider whose secret this is, in kebab-case (`github`, `genesys`); rules of one
    /// provider share it. A provider module of the same name may pair and verify its findings.
    pub provider: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The provider's documentation of the format or of revoking it (https URLs).
    #[serde(default)]
    pub references: Vec<String>,
    pub severity: Severity,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    /// Literals (matched case-insensitively) of which one must occur in a blob before the
    /// regex runs. Empty only for rules restricted by `paths`.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Literals (matched case-insensitively) of which every match holds one near its start,
    /// for a rule whose keywords may lie anywhere in the blob: in a blob the keywords let
    /// through, the regex is tried only around their occurrences. The matcher proves from
    /// the regex that every match holds one; the rule linter refuses anchors it cannot prove.
    /// Unused for a rule restricted by `paths`, which is searched whole.
    #[serde(default)]
    pub anchors: Vec<String>,
    /// The pattern; its named group `secret` is the secret.
    pub regex: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub min_entropy: Option<f64>,
    /// Glob patterns; when set, the rule applies only to files whose path matches one.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Words of which one must occur near the secret.
    pub context: Option<Context>,
    /// The verifier that checks this rule's findings (`genesys`): one a registered provider
    /// offers (see [`crate::providers`]). Findings of a rule without one are never sent anywhere.
    pub verify: Option<String>,
    /// Report only when the rule's provider paired the secret with an id assigned to an
    /// id-like name nearby.
    #[serde(default)]
    pub require_pair: bool,
    /// How the `secret` group is decoded before it is checked, by the rule's provider.
    pub decode: Option<Decode>,
    /// A structure check run on the `secret` group after the regex: a checksum or encoding
    /// the provider documents.
    pub check: Option<Check>,
    /// Generic rules give way to specific ones that match the same text.
    #[serde(default)]
    pub generic: bool,
    /// Words that, on the same line just before the secret, name it as something else
    /// (`code_challenge`, `hash`, `nonce`).
    #[serde(default)]
    pub not_after: Vec<String>,
    /// The secret must look machine-generated: a run of words with at most one digit is not.
    #[serde(default)]
    pub random: bool,
    /// Exact values that are never secrets (published documentation examples); they hold for
    /// every rule, not only this one.
    #[serde(default)]
    pub allow_values: Vec<String>,
    /// Texts the rule must match.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Texts the rule must not match.
    #[serde(default)]
    pub negative_examples: Vec<Example>,
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// The neighbourhood in which one of `keywords` must appear.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub keywords: Vec<String>,
    /// Lines searched on each side of the secret (further capped at 64 bytes per line).
    #[serde(default = "default_context_lines")]
    pub lines: usize,
}

fn default_context_lines() -> usize {
    40
}

/// Decoding applied to the `secret` group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decode {
    /// Base64 of `id:secret`, as in an `Authorization: Basic` header; the provider decides
    /// whether the decoded pair is shaped like its credentials.
    BasicAuth,
}

/// Structure checks a rule can ask for (`check = "github-crc32"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// GitHub's classic tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`): a 4-byte prefix, 30
    /// random base62 characters and 6 base62 digits of their CRC-32. A failure drops the match;
    /// tokens of another length are not checked.
    GithubCrc32,
    /// npm's `npm_` tokens, which follow GitHub's format. A failure lowers the finding to low
    /// confidence (npm does not name its base62 alphabet).
    NpmCrc32,
    /// A PyPI token: `pypi-` and a whole base64url macaroon (v2) located at pypi.org or
    /// test.pypi.org.
    PypiMacaroon,
    /// A JSON Web Token that still grants access: signed (`alg` not `none`), JSON header and
    /// claims, and no `exp` or one in the future.
    Jwt,
}

/// A rule example: a text, or a text with the path it lives at (for path-restricted rules).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Example {
    Text(String),
    File { path: String, text: String },
}

impl Example {
    /// The path the example is scanned under.
    pub fn path(&self) -> &str {
        match self {
            Example::Text(_) => "example.txt",
            Example::File { path, .. } => path,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Example::Text(t) | Example::File { text: t, .. } => t,
        }
    }
}

/// Errors in loading rules. Their messages name the file, the place and what was expected,
/// never the file's content.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: ReadError,
    },
    #[error("{path}: line {line}, column {column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        /// A description written by leakgate, free of input text.
        message: String,
    },
}

/// Parse one rule file's text; `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    if text.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(RuleError::Read {
            path: origin.to_string(),
            source: ReadError::TooLarge(MAX_RULE_FILE_BYTES),
        });
    }
    toml::from_str::<RuleFile>(text)
        .map(|f| f.rules)
        .map_err(|e| {
            let (line, column) = config::toml_position(text, &e);
            RuleError::Parse {
                path: origin.to_string(),
                line,
                column,
                message: config::safe_message(e.message()),
            }
        })
}

/// Read and parse a rule file from disk: a regular file of at most [`MAX_RULE_FILE_BYTES`].
pub fn load_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let origin = config::show(path);
    let read_err = |source| RuleError::Read {
        path: origin.clone(),
        source,
    };
    let bytes = config::read_regular(path, MAX_RULE_FILE_BYTES).map_err(read_err)?;
    let text = config::utf8_text(&bytes, MAX_RULE_FILE_BYTES).map_err(read_err)?;
    parse(&origin, text)
}

/// The rules compiled into the binary, in file then declaration order.
pub fn builtin() -> Vec<Rule> {
    use rayon::prelude::*;
    // Hundreds of files: parsed in parallel, in order.
    BUILTIN_RULE_FILES
        .par_iter()
        .flat_map_iter(|(name, text)| {
            // The built-in files are checked by `cargo test`; a broken one is a build bug.
            parse(name, text).unwrap_or_else(|e| panic!("built-in rules: {e}"))
        })
        .collect()
}
