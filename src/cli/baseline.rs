//! Arguments for baselines: `--baseline FILE` on a scan, and `leakgate baseline create`.

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
    Create(ScanArgs),
}
