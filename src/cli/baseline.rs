//! Arguments for baselines.

use clap::Args;

/// Baseline flags on a scan (owned by the baseline work).
#[derive(Debug, Args, Default)]
pub struct BaselineArgs {}
