//! Arguments for verifying and revoking Genesys credentials.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// How a live credential is contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RevokeActionArg {
    /// Set the client `disabled`: its tokens die at once; the owner can re-enable it.
    #[default]
    Disable,
    /// Regenerate the client's secret (the new one is never printed or stored).
    Rotate,
    /// Set the client `inactive`, then delete it.
    Delete,
}

/// Verification and containment flags, shared by `scan` and `verify`.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Verify and revoke (Genesys Cloud)")]
pub struct VerifyArgs {
    /// Ask the Genesys token endpoint whether each Genesys credential found is live.
    #[arg(long)]
    pub verify: bool,
    /// Contain live credentials through the admin API (implies --verify). The admin client comes
    /// from `LEAKGATE_GENESYS_ADMIN_CLIENT_ID` and `LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET`.
    #[arg(long)]
    pub revoke: bool,
    /// What --revoke does to a live client.
    #[arg(long, value_enum, default_value = "disable", value_name = "ACTION")]
    pub revoke_action: RevokeActionArg,
    /// With --revoke: record what would be done, contact nothing but the token endpoint.
    #[arg(long, requires = "revoke")]
    pub dry_run: bool,
    /// Append one JSON line per verify and revoke step to FILE (no secrets, no tokens).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Post a {"text": ...} message to URL (https) for each revocation.
    /// Checked after parsing, not by clap, whose errors would echo the URL (and its credential).
    #[arg(long, value_name = "URL")]
    pub notify_webhook: Option<String>,
    /// Requests per second sent to Genesys (`5` or `5/s`; default 2).
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub verify_rate: Option<f64>,
    /// Connect and read timeout for Genesys requests, in seconds (default 10).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub verify_timeout: Option<f64>,
    /// Attempts per request while Genesys throttles (default 4).
    #[arg(long, value_name = "N", value_parser = parse_attempts)]
    pub verify_attempts: Option<u32>,
    /// Most token requests one run sends to check credentials (default 100). Each region
    /// tried is one; credentials left unchecked are reported `skipped` and named in a warning.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_verify_requests: Option<u64>,
    /// Scale every wait (backoff, Retry-After, breaker, re-check pauses); for tests.
    #[arg(long, value_name = "F", hide = true, value_parser = parse_scale)]
    pub verify_time_scale: Option<f64>,
}

// Validators never quote the value: it may be a secret pasted after the wrong flag.
fn parse_positive(s: &str, what: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{what} must be a positive number")),
    }
}

pub(super) fn parse_attempts(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=10).contains(&n) => Ok(n),
        _ => Err("must be a whole number from 1 to 10".into()),
    }
}

fn parse_env_name(s: &str) -> Result<String, String> {
    let ok = (1..=128).contains(&s.len())
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(s.to_string())
    } else {
        Err("must name an environment variable (letters, digits and _), not hold the secret".into())
    }
}

pub(super) fn parse_rate(s: &str) -> Result<f64, String> {
    let n = s.trim().trim_end_matches("/s");
    parse_positive(n, "the rate").map(|v| v.min(100.0))
}

pub(super) fn parse_secs(s: &str) -> Result<f64, String> {
    parse_positive(s, "the timeout").map(|v| v.min(300.0))
}

pub(super) fn parse_scale(s: &str) -> Result<f64, String> {
    parse_positive(s, "the time scale").map(|v| v.min(1.0))
}

/// Arguments of `leakgate verify`: one credential, the secret never on the command line.
#[derive(Debug, Args)]
pub struct VerifyCommandArgs {
    /// The OAuth client id.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Read the secret from this environment variable (default: the first line of stdin).
    #[arg(long, value_name = "NAME", value_parser = parse_env_name)]
    pub secret_env: Option<String>,
    /// Region to try first: a domain (mypurecloud.ie) or an AWS-style name (eu-west-1).
    /// Checked when the command is planned, where the error can list every region (a
    /// validator's message may not, as it would echo a prefix of what was typed).
    #[arg(long)]
    pub region: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Configuration file for decoy and protected client ids (default: .leakgate.toml here).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}
