//! `.leakgate.toml`: extra rules, allowlists and the Genesys decoy and protected client ids.

use crate::rules::Rule;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name looked for at the repository root (or the scan root outside a repository).
pub const CONFIG_FILE_NAME: &str = ".leakgate.toml";

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub allow: AllowConfig,
    #[serde(default)]
    pub genesys: GenesysConfig,
    #[serde(default)]
    pub scan: ScanConfig,
    /// Extra rules, in the same format as the built-in ones.
    #[serde(default)]
    pub rules: Vec<Rule>,
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
    pub rules: Vec<String>,
}

/// Genesys-specific settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesysConfig {
    /// Honeypot client ids: never sent anywhere, reported as `decoy`, never fail the scan.
    #[serde(default)]
    pub decoy_client_ids: Vec<String>,
    /// Client ids that are never revoked.
    #[serde(default)]
    pub protected_client_ids: Vec<String>,
}

/// Scan settings that a repository may pin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Files larger than this many bytes are skipped (and counted).
    pub max_file_size: Option<u64>,
    /// Findings listed for one file or blob at most (default 1,000); the rest are counted and
    /// named in a warning.
    pub max_findings_per_file: Option<usize>,
}

/// Errors in reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Parse a configuration text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Read the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Read `.leakgate.toml` from `root` if it exists, else the defaults.
    pub fn discover(root: &Path) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let candidate = root.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            Ok((Self::load(&candidate)?, Some(candidate)))
        } else {
            Ok((Self::default(), None))
        }
    }
}
