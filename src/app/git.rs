//! Git sources: history, ranges, the index (owned by the history-scan work).

use super::ScanPlan;
use crate::cli::ScanArgs;
use anyhow::Result;
use leakgate::finding::ScanReport;

/// Scan the Git source the arguments name, or `None` when they name the working tree.
pub fn scan(_plan: &ScanPlan, _args: &ScanArgs) -> Result<Option<ScanReport>> {
    Ok(None)
}
