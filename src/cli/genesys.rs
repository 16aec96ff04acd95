//! Arguments of `leakgate genesys`: org posture through the admin API.

use super::verify::{parse_attempts, parse_rate, parse_scale, parse_secs};
use clap::{Args, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// `leakgate genesys ...`.
#[derive(Debug, Subcommand)]
pub enum GenesysCommand {
    /// Audit every OAuth client of the org (read only): grant, roles, state, token lifetime,
    /// dates, recent use, and findings against `[genesys.policy]`. Exit 1 when a finding reaches
    /// --fail-on, 2 on errors, else 0.
    Audit(AuditArgs),
    /// Create, list or rotate decoy clients (honeypots whose use is an alarm).
    Decoy {
        #[command(subcommand)]
        command: DecoyCommand,
    },
    /// Regenerate a client's secret and hand the new one over (Genesys keeps one secret per
    /// client: the old one stops working at once).
    Rotate(RotateArgs),
}

/// `leakgate genesys decoy ...`.
#[derive(Debug, Subcommand)]
pub enum DecoyCommand {
    /// Create a decoy (read-only roles, 5-minute tokens), add its id to .leakgate.toml and hand
    /// its secret over once.
    Create(DecoyCreateArgs),
    /// Show each configured decoy and whether it still exists and is harmless. Exit 1 when one
    /// is missing or not harmless.
    List(DecoyListArgs),
    /// Regenerate a decoy's secret and hand it over once (the decoy is never used to check it).
    Rotate(DecoyRotateArgs),
}

/// The admin session every `genesys` command opens. The admin client comes from
/// `LEAKGATE_GENESYS_ADMIN_CLIENT_ID` and `LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Admin session")]
pub struct AdminArgs {
    /// The org's region: a domain (mypurecloud.ie) or an AWS-style name (eu-west-1).
    /// Checked when the command is planned, where the error can list every region.
    #[arg(long)]
    pub region: String,
    /// Configuration file (default: .leakgate.toml at the repository root here).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Append one JSON line per admin step to FILE (no secrets, no tokens).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Requests per second sent to Genesys (`5` or `5/s`; default 2).
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Connect and read timeout, in seconds (default 10).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<f64>,
    /// Attempts per request while Genesys throttles (default 4).
    #[arg(long, value_name = "N", value_parser = parse_attempts)]
    pub attempts: Option<u32>,
    /// Scale every wait (backoff, Retry-After, polls); for tests.
    #[arg(long, value_name = "F", hide = true, value_parser = parse_scale)]
    pub time_scale: Option<f64>,
}

/// Output of the posture commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PostureFormat {
    Text,
    Json,
}

/// Severities for --fail-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// Arguments of `leakgate genesys audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PostureFormat,
    /// Exit 1 when a finding of this severity or above exists (default: findings never fail).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Do not ask the usage API (faster; recent use and the unused check are left out).
    #[arg(long)]
    pub no_usage: bool,
}

/// Where a new secret goes: exactly one of these.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Secret hand-over")]
pub struct HandoverArgs {
    /// Write the new secret to FILE, created with mode 0600; an existing file is never
    /// overwritten.
    #[arg(long, value_name = "FILE")]
    pub secret_out: Option<PathBuf>,
    /// Print the new secret on standard output (and nothing else there).
    #[arg(long)]
    pub secret_stdout: bool,
}

/// Arguments of `leakgate genesys decoy create`.
#[derive(Debug, Args)]
pub struct DecoyCreateArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The decoy's name: make it look like a real integration.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Its description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// A read-only role to give it (repeatable); each is checked before anything is created.
    #[arg(long = "role-id", value_name = "ID", required = true)]
    pub role_ids: Vec<String>,
    /// The division the roles apply in (default: Genesys' home division).
    #[arg(long, value_name = "ID")]
    pub division_id: Option<String>,
    #[command(flatten)]
    pub handover: HandoverArgs,
}

/// Arguments of `leakgate genesys decoy list`.
#[derive(Debug, Args)]
pub struct DecoyListArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PostureFormat,
}

/// Arguments of `leakgate genesys decoy rotate`.
#[derive(Debug, Args)]
pub struct DecoyRotateArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The decoy's client id (one of decoy_client_ids).
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    #[command(flatten)]
    pub handover: HandoverArgs,
}

/// Arguments of `leakgate genesys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The client whose secret is regenerated.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Rotate a client listed in protected_client_ids anyway.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub handover: HandoverArgs,
    /// Run CMD [ARG...] (no shell) with the new secret on its standard input, e.g. to store it
    /// in Vault; the secret is never in its arguments or environment. Put it last: everything
    /// after it is its arguments.
    #[arg(long, value_name = "CMD", num_args = 1.., allow_hyphen_values = true)]
    pub to_command: Vec<OsString>,
}
