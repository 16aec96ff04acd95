//! Baselines: suppressing known findings (owned by the baseline work).

use super::ScanPlan;
use crate::cli::ScanArgs;
use anyhow::Result;
use leakgate::finding::ScanReport;

/// Drop the findings the baseline file lists, counting them.
pub fn apply(_plan: &ScanPlan, _args: &ScanArgs, _report: &mut ScanReport) -> Result<()> {
    Ok(())
}
