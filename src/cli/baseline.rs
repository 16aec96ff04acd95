//! Arguments for baselines: `--baseline FILE` on a scan, `leakgate baseline create` and
//! `leakgate baseline import`.

use super::ScanArgs;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Baseline flags on a scan.
#[derive(Debug, Args, Default)]
pub struct BaselineArgs {
    /// Suppress the findings listed in FILE (made by `leakgate baseline create`) and count them
    /// in the summary. With `baseline create`, keep FILE's entries in the new baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// `leakgate baseline ...`
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan as `leakgate scan` would, and write the findings' fingerprints (never the secrets)
    /// to the baseline file named by --output (default: standard output).
    Create(Box<ScanArgs>),
    /// Turn a gitleaks JSON report or a detect-secrets baseline into a leakgate baseline. Each
    /// finding is found again by leakgate in the file it names; what leakgate cannot recover
    /// is listed on stderr, never guessed.
    Import(ImportArgs),
}

/// Arguments of `leakgate baseline import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The gitleaks report (`gitleaks detect --report-format json --report-path FILE`) or the
    /// detect-secrets baseline (`.secrets.baseline`).
    pub file: PathBuf,
    /// Write the leakgate baseline to OUT (default, or `-`: standard output).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The folder the file's paths are relative to (default: the folder holding FILE).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Configuration file (default: .leakgate.toml at the root's repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}
