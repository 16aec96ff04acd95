//! Verification and revocation of Genesys findings (owned by the verify work).

use super::ScanPlan;
use crate::cli::ScanArgs;
use anyhow::Result;
use leakgate::finding::ScanReport;

/// Verify (and, when asked, revoke) the report's Genesys findings in place.
pub fn apply(_plan: &ScanPlan, _args: &ScanArgs, _report: &mut ScanReport) -> Result<()> {
    Ok(())
}
