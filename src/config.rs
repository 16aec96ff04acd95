//! `.leakgate.toml`: extra rules, allowlists, scan limits, and the providers' own sections
//! (parsed by each provider, see [`crate::providers::Settings`]).
//!
//! A configuration is input the scanned repository controls, so reading it is defensive: only a
//! regular file is read, at most [`MAX_CONFIG_BYTES`] of it; the `.leakgate.toml` found at a root
//! may be a symbolic link only to a file inside that root; every number has a range; and no
//! error ever quotes the file's content (a misplaced secret, or whatever a hostile symlink
//! points at), only where the problem is and what was expected.

use crate::finding::{display_path, RuleId};
use crate::providers;
use crate::rules::Rule;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The file name looked for at the repository root (or the scan root outside a repository).
pub const CONFIG_FILE_NAME: &str = ".leakgate.toml";

/// The largest configuration file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The largest `scan.max_file_size` (1 TiB): beyond it the setting is a typo.
pub const MAX_FILE_SIZE_LIMIT: u64 = 1 << 40;

/// The most entries `allow.paths` and `allow.rules` may hold.
pub const MAX_LIST_ENTRIES: usize = 10_000;

/// The most `allow.values` regexes (each compiled under the user-regex limits, as a rule is).
pub const MAX_ALLOW_VALUES: usize = 200;

/// The longest entry of `allow.paths` or `allow.values`, in bytes.
pub const MAX_ALLOW_ENTRY_BYTES: usize = 4096;

/// The whole configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub allow: AllowConfig,
    /// The providers' sections (`[genesys]`), each parsed by its provider.
    pub providers: providers::Settings,
    pub scan: ScanConfig,
    /// Extra rules, in the same format as the built-in ones.
    pub rules: Vec<Rule>,
    /// `leakgate serve`'s policy (flags override it).
    pub serve: ServeConfig,
}

/// The engine's own top-level keys.
const ENGINE_KEYS: &[&str] = &["allow", "scan", "rules", "serve"];

/// Every top-level key, for "expected one of" in messages.
static ALL_KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut keys = vec!["allow"];
    keys.extend_from_slice(providers::Settings::SECTIONS);
    keys.extend_from_slice(&ENGINE_KEYS[1..]);
    keys
});

/// By hand rather than derived: the engine's keys are its own, the rest go to the provider
/// whose section they name, and any other key is an unknown field as serde would word it.
impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConfigVisitor;
        impl<'de> Visitor<'de> for ConfigVisitor {
            type Value = Config;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a leakgate configuration table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Config, A::Error> {
                let mut config = Config::default();
                let mut seen: Vec<String> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if seen.contains(&key) {
                        // The key is one of ours (only known keys are remembered).
                        return Err(de::Error::custom(format!("duplicate field `{key}`")));
                    }
                    match key.as_str() {
                        "allow" => config.allow = map.next_value()?,
                        "scan" => config.scan = map.next_value()?,
                        "rules" => config.rules = map.next_value()?,
                        "serve" => config.serve = map.next_value()?,
                        other => match config.providers.read_section(other, &mut map) {
                            Some(r) => r?,
                            None => return Err(de::Error::unknown_field(other, &ALL_KEYS)),
                        },
                    }
                    seen.push(key);
                }
                Ok(config)
            }
        }
        deserializer.deserialize_map(ConfigVisitor)
    }
}

/// What is never reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Globs over paths relative to the repository root, e.g. `tests/fixtures/**`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a secret matching one is not reported.
    #[serde(default)]
    pub values: Vec<String>,
    /// Rule ids that are turned off.
    #[serde(default)]
    pub rules: Vec<RuleId>,
}

/// Scan settings that a repository may pin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Files larger than this many bytes are skipped (and counted); 1 to [`MAX_FILE_SIZE_LIMIT`].
    pub max_file_size: Option<u64>,
    /// Findings listed for one file or blob at most (default 1,000); the rest are counted and
    /// named in a warning.
    pub max_findings_per_file: Option<usize>,
}

/// The `[serve]` section: what `leakgate serve` does with a live Genesys credential from a
/// GitHub secret-scanning alert.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `disable` (default), `rotate` or `delete`.
    pub revoke_action: Option<crate::finding::RevokeAction>,
    /// Record what would be done; contact nothing but the token endpoint.
    pub dry_run: Option<bool>,
    /// Check only: never contain, never resolve.
    pub verify_only: Option<bool>,
    /// Names of GitHub custom patterns (an alert's `secret_type`, or its display name) that
    /// hold Genesys client secrets.
    #[serde(default)]
    pub custom_patterns: Vec<String>,
}

/// Why a file leakgate reads as input of its own (configuration, rules, baseline) was refused.
/// None of these carries the file's content.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A FIFO, device, folder or socket: reading it could hang or never end.
    #[error("not a regular file ({0}); refused")]
    NotRegular(&'static str),
    /// More bytes than the limit.
    #[error("larger than the limit of {0} bytes; refused")]
    TooLarge(u64),
    /// A symbolic link leading out of the folder it was found in.
    #[error("a symbolic link to a file outside the repository; not followed")]
    SymlinkOutside,
    /// Not UTF-8 text.
    #[error("not UTF-8 text (line {line}, column {column})")]
    NotUtf8 { line: usize, column: usize },
}

/// Errors in reading the configuration. Their messages name the file, the place and what was
/// expected, never the content.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read, or was refused before parsing.
    #[error("reading {}", show(path))]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// The file is not valid TOML for a configuration.
    #[error("{}: line {line}, column {column}: {message}", show(path))]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        /// A description written by leakgate, free of input text.
        message: String,
    },
    /// A field holds a value out of range (`field` is its path, e.g. `rules[2].keywords[0]`).
    #[error("{}: {field}: {message}", show(path))]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// A path as every message shows it.
pub(crate) fn show(path: &Path) -> String {
    display_path(path.as_os_str().as_encoded_bytes())
}

impl Config {
    /// Parse a configuration text and check its ranges; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source: ReadError::TooLarge(MAX_CONFIG_BYTES),
            });
        }
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = toml_position(text, &e);
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: safe_message(e.message()),
            }
        })?;
        config
            .validate()
            .map_err(|(field, message)| ConfigError::Invalid {
                path: path.to_path_buf(),
                field,
                message,
            })?;
        Ok(config)
    }

    /// Parse a configuration from raw bytes (a file, or a blob read from Git).
    pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Self, ConfigError> {
        let text = utf8_text(bytes, MAX_CONFIG_BYTES).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, text)
    }

    /// Read the configuration file at `path`, named by the user: symbolic links are followed,
    /// but only a regular file of at most [`MAX_CONFIG_BYTES`] is read.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = read_regular(path, MAX_CONFIG_BYTES).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_bytes(path, &bytes)
    }

    /// Read `.leakgate.toml` from `root` if it exists, else the defaults. The file belongs to
    /// the scanned tree: it may be a symbolic link only to a file inside `root`, and must be a
    /// regular file; anything else is an error rather than a silent default.
    pub fn discover(root: &Path) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let candidate = root.join(CONFIG_FILE_NAME);
        let read_err = |source: ReadError| ConfigError::Read {
            path: candidate.clone(),
            source,
        };
        let meta = match std::fs::symlink_metadata(&candidate) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Self::default(), None)),
            Err(e) => return Err(read_err(e.into())),
        };
        let target = if meta.file_type().is_symlink() {
            let real = std::fs::canonicalize(&candidate).map_err(|e| read_err(e.into()))?;
            let real_root = std::fs::canonicalize(root).map_err(|e| read_err(e.into()))?;
            if !real.starts_with(&real_root) {
                return Err(read_err(ReadError::SymlinkOutside));
            }
            real
        } else {
            candidate.clone()
        };
        let bytes = read_regular(&target, MAX_CONFIG_BYTES).map_err(read_err)?;
        Ok((Self::parse_bytes(&candidate, &bytes)?, Some(candidate)))
    }

    /// Check every range; on failure, the field's path and what was expected.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(n) = self.scan.max_file_size {
            if !(1..=MAX_FILE_SIZE_LIMIT).contains(&n) {
                return Err((
                    "scan.max_file_size".into(),
                    format!("must be from 1 to {MAX_FILE_SIZE_LIMIT} bytes"),
                ));
            }
        }
        if self.allow.rules.len() > MAX_LIST_ENTRIES {
            return Err((
                "allow.rules".into(),
                format!("more than {MAX_LIST_ENTRIES} entries"),
            ));
        }
        let regex_bytes = crate::matcher::MAX_USER_REGEX_BYTES;
        let lists: [(&str, &[String], usize, usize); 2] = [
            (
                "allow.paths",
                &self.allow.paths,
                MAX_LIST_ENTRIES,
                MAX_ALLOW_ENTRY_BYTES,
            ),
            (
                "allow.values",
                &self.allow.values,
                MAX_ALLOW_VALUES,
                regex_bytes,
            ),
        ];
        for (field, list, max_entries, max_len) in lists {
            if list.len() > max_entries {
                return Err((field.into(), format!("more than {max_entries} entries")));
            }
            if let Some(i) = list.iter().position(|v| v.is_empty() || v.len() > max_len) {
                return Err((
                    format!("{field}[{i}]"),
                    format!("must be 1 to {max_len} bytes long"),
                ));
            }
        }
        if self.serve.custom_patterns.len() > MAX_LIST_ENTRIES {
            return Err((
                "serve.custom_patterns".into(),
                format!("more than {MAX_LIST_ENTRIES} entries"),
            ));
        }
        if let Some(i) = self
            .serve
            .custom_patterns
            .iter()
            .position(|v| v.trim().is_empty() || v.len() > MAX_ALLOW_ENTRY_BYTES)
        {
            return Err((
                format!("serve.custom_patterns[{i}]"),
                format!("must be 1 to {MAX_ALLOW_ENTRY_BYTES} bytes long"),
            ));
        }
        self.providers.validate()?;
        crate::rules::check_user_rules(&self.rules)
    }
}

/// Read the regular file at `path` (following symbolic links), at most `limit` bytes. FIFOs,
/// devices and folders are refused without blocking; the limit is enforced on what is read,
/// not on what `stat` claims (procfs and FUSE files report sizes that are not true).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading would wait for a writer; non-blocking, it returns at once
        // and the type check below refuses it. Regular files ignore the flag.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta)));
    }
    let mut buf = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(buf)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// `bytes` as UTF-8 text of at most `limit` bytes, or where it stops being UTF-8.
pub(crate) fn utf8_text(bytes: &[u8], limit: u64) -> Result<&str, ReadError> {
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = position(bytes, e.valid_up_to());
        ReadError::NotUtf8 { line, column }
    })
}

/// 1-based line and column (in characters) of byte `offset` in `bytes`.
pub(crate) fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

/// Where a TOML error is, 1-based (line 1, column 1 when toml gives no span).
pub(crate) fn toml_position(text: &str, e: &toml::de::Error) -> (usize, usize) {
    e.span()
        .map_or((1, 1), |s| position(text.as_bytes(), s.start))
}

/// A description of a TOML or JSON deserialization error that holds no input text.
///
/// Parser and serde messages quote input: `invalid type: string "…"`, `unknown field `…``,
/// `duplicate key `…``, `unexpected keys in table: …`. Only their shape is kept; the part after
/// the last `, expected ` is serde's description of the type leakgate wanted (written after the
/// quoted input, so the last occurrence is ours), and is kept only when it looks like one.
pub fn safe_message(message: &str) -> String {
    let m = message.trim();
    let expected = || {
        m.rfind(", expected ")
            .map(|i| &m[i + ", expected ".len()..])
            .filter(|e| looks_like_expectation(e))
    };
    let with_expected = |what: &str| match expected() {
        Some(e) => format!("{what}, expected {e}"),
        None => what.to_string(),
    };
    let named =
        |what: &str, rest: &str| match rest.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            Some(name) if is_field_name(name) => format!("{what} `{name}`"),
            _ => what.to_string(),
        };
    if m.ends_with("there are no fields") {
        return "unknown field".into();
    }
    if m.ends_with("there are no variants") {
        return "unknown value".into();
    }
    if m.starts_with("invalid type:") {
        return with_expected("wrong type of value");
    }
    if m.starts_with("invalid value:") {
        return with_expected("value out of range or not allowed");
    }
    if m.starts_with("invalid length") {
        return with_expected("wrong number of items");
    }
    if m.starts_with("unknown field") {
        return with_expected("unknown field");
    }
    if m.starts_with("unknown variant") {
        return with_expected("unknown value");
    }
    if let Some(rest) = m.strip_prefix("missing field ") {
        return named("missing field", rest);
    }
    if let Some(rest) = m.strip_prefix("duplicate field ") {
        return named("duplicate field", rest);
    }
    if m.starts_with("duplicate key") {
        return "duplicate key".into();
    }
    if m.starts_with("unexpected keys in table") {
        return "unknown keys".into();
    }
    if m.starts_with("data did not match any variant of untagged enum") {
        return "a value of the wrong shape (see the rule format)".into();
    }
    // A TOML syntax error: the parser's own description, then what it expected, both static
    // words and punctuation.
    let head = m.split(", expected ").next().unwrap_or("");
    if !head.is_empty()
        && head.len() <= 80
        && head
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b" -".contains(&b))
    {
        return with_expected(head);
    }
    "invalid syntax".into()
}

/// Serde's expectations: `u64`, `a sequence`, `struct Rule`, "one of `text`, `json`", the TOML
/// parser's `=` or `newline`. A long word, or a mixed-case or digit-heavy quoted token, is not.
fn looks_like_expectation(e: &str) -> bool {
    e.len() <= 400
        && e.split([' ', ',']).filter(|w| !w.is_empty()).all(|w| {
            let inner = w.trim_matches(|c| c == '`' || c == '\'');
            inner.len() <= 24
                && (inner
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
                    && (inner.bytes().filter(u8::is_ascii_digit).count() <= 3)
                    || inner.bytes().all(|b| b.is_ascii_punctuation()))
        })
}

/// A field name leakgate declares: short `snake_case`.
fn is_field_name(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_shape_not_input() {
        let cases = [
            (
                "invalid type: string \"Zq9Xw2, expected evil\", expected u64",
                "wrong type of value, expected u64",
            ),
            (
                "unknown field `Zq9Xw2Lm`, expected one of `allow`, `genesys`",
                "unknown field, expected one of `allow`, `genesys`",
            ),
            (
                "unknown field `x, expected Zq9Xw2LmZq9Xw2LmZq9Xw2LmZq9Xw2Lm`, there are no fields",
                "unknown field",
            ),
            ("duplicate key `Zq9Xw2Lm`", "duplicate key"),
            ("missing field `id`", "missing field `id`"),
            ("missing field `Zq9`", "missing field"),
            (
                "invalid value: integer `-1`, expected usize",
                "value out of range or not allowed, expected usize",
            ),
            (
                "unexpected keys in table: Zq9Xw2Lm, available keys: a",
                "unknown keys",
            ),
            (
                "key with no value, expected `=`",
                "key with no value, expected `=`",
            ),
            ("Zq9Xw2Lm broke", "invalid syntax"),
        ];
        for (input, want) in cases {
            assert_eq!(safe_message(input), want, "{input}");
        }
    }

    #[test]
    fn positions_are_one_based_in_characters() {
        assert_eq!(position(b"ab\ncd", 4), (2, 2));
        assert_eq!(position("é=x".as_bytes(), 3), (1, 3));
        assert_eq!(position(b"", 9), (1, 1));
    }
}
