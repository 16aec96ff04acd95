//! Arguments for verifying and revoking Genesys credentials.

use clap::Args;

/// Verification and containment flags (owned by the verify work).
#[derive(Debug, Args, Default)]
pub struct VerifyArgs {}
