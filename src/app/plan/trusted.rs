//! The gate's configuration comes from trusted history: in a range scan, `.leakgate.toml` and
//! the baseline are read from the range's base commit (or `--config-from REV`), never from the
//! change under review, and a change to them inside the range is a warning.

use super::ConfigSource;
use anyhow::{bail, Context, Result};
use leakgate::baseline::Baseline;
use leakgate::config::{Config, CONFIG_FILE_NAME};
use leakgate::scan::git::trusted::{display_rel as shown, relative_to};
use leakgate::scan::git::TrustedTree;
use std::path::{Path, PathBuf};

/// Largest configuration file read from Git.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest baseline file read from Git.
const MAX_BASELINE_BYTES: u64 = 64 << 20;

/// The trusted commit of a scan.
#[derive(Debug)]
pub struct Trusted {
    tree: TrustedTree,
    /// The repository's work tree, to place `--config` and `--baseline` paths in it.
    root: Option<PathBuf>,
}

impl Trusted {
    /// The trusted commit `source` names in the repository at `repo`; `range` is the range
    /// being scanned, if any. `None` for the disk and for a range of one revision (it has no
    /// base).
    pub fn resolve(
        source: &ConfigSource,
        range: Option<&str>,
        repo: &Path,
    ) -> Result<Option<Self>> {
        let tree = match source {
            ConfigSource::Disk => None,
            ConfigSource::Commit(rev) => Some(
                TrustedTree::at(repo, rev, range)
                    .with_context(|| format!("resolving --config-from {}", quoted(rev)))?,
            ),
            ConfigSource::RangeBase => match range {
                Some(spec) => TrustedTree::for_range(repo, spec)
                    .with_context(|| format!("resolving the base of --range {}", quoted(spec)))?,
                None => None,
            },
        };
        Ok(tree.map(|tree| Trusted {
            root: tree.workdir().map(Path::to_path_buf),
            tree,
        }))
    }

    /// The configuration in force: `file` (or `.leakgate.toml`) as the trusted commit has it;
    /// defaults when the commit has none. A `file` outside the repository is read from disk.
    pub fn config(&self, file: Option<&Path>, notes: &mut Vec<String>) -> Result<Config> {
        let rel = match file {
            Some(f) => match self.inside(f) {
                Some(rel) => rel,
                None => return Ok(Config::load(f)?),
            },
            None => PathBuf::from(CONFIG_FILE_NAME),
        };
        self.note_change(&rel, "config", notes)?;
        let Some(bytes) = self.tree.read(&rel, MAX_CONFIG_BYTES)? else {
            if file.is_some() {
                notes.push(format!(
                    "{} is not in the trusted commit {}: the default configuration is in force",
                    shown(&rel),
                    self.rev()
                ));
            }
            return Ok(Config::default());
        };
        let Ok(text) = String::from_utf8(bytes) else {
            bail!("{} at {} is not UTF-8 text", shown(&rel), self.rev());
        };
        let name = PathBuf::from(format!("{} at {}", shown(&rel), self.rev()));
        Ok(Config::parse(&name, &text)?)
    }

    /// The baseline `file` as the trusted commit has it, or `None` when `file` lies outside the
    /// repository (then it is read from disk). A baseline the commit lacks suppresses nothing.
    pub fn baseline(&self, file: &Path, notes: &mut Vec<String>) -> Result<Option<Baseline>> {
        let Some(rel) = self.inside(file) else {
            return Ok(None);
        };
        self.note_change(&rel, "baseline", notes)?;
        let name = PathBuf::from(format!("{} at {}", shown(&rel), self.rev()));
        if let Some(bytes) = self.tree.read(&rel, MAX_BASELINE_BYTES)? {
            Ok(Some(Baseline::read(bytes.as_slice(), &name)?))
        } else {
            notes.push(format!(
                "{} is not in the trusted commit {}: no finding is suppressed by it",
                shown(&rel),
                self.rev()
            ));
            Ok(Some(Baseline::from_entries(Vec::new())))
        }
    }

    /// `file` relative to the repository root, when it lies inside.
    fn inside(&self, file: &Path) -> Option<PathBuf> {
        let root = self.root.as_deref()?;
        let base = if file.is_relative() {
            // Relative paths are relative to where leakgate runs, as on disk.
            std::env::current_dir().ok()?.join(file)
        } else {
            file.to_path_buf()
        };
        relative_to(root, &base)
    }

    /// Warn when the change under review modifies `rel`.
    fn note_change(&self, rel: &Path, what: &str, notes: &mut Vec<String>) -> Result<()> {
        if self.tree.changed_in_head(rel)? {
            let head = self
                .tree
                .head()
                .map(|h| h.to_hex_with_len(12).to_string())
                .unwrap_or_default();
            notes.push(format!(
                "{} differs between the trusted base {} and the head {head}: {what} changes inside the range are not in force (the base's file is used)",
                shown(rel),
                self.rev()
            ));
        }
        Ok(())
    }

    fn rev(&self) -> String {
        self.tree.base().to_hex_with_len(12).to_string()
    }
}

/// A revision as errors show it: as typed when it plainly is no secret, else a stand-in.
fn quoted(rev: &str) -> &str {
    if super::plainly_not_a_secret(rev) {
        rev
    } else {
        "(not quoted: it could be a secret)"
    }
}
