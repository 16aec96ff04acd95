//! Arguments of `leakgate serve`: the GitHub secret-scanning response service.

use super::verify::RevokeActionArg;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// How the service writes its log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormatArg {
    /// `time level message key=value...`, for people.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The body `--notify-webhook` receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum NotifyFormatArg {
    /// `{"text": ...}` (Slack, Mattermost and Teams incoming webhooks).
    #[default]
    Slack,
    /// `{"text": ..., "event": ..., "repository": ..., ...}`: the message and its facts.
    Json,
}

/// Arguments of `leakgate serve`. Secrets come from the environment only:
/// LEAKGATE_WEBHOOK_SECRET (required), LEAKGATE_GITHUB_TOKEN, LEAKGATE_GITHUB_API_URL,
/// LEAKGATE_GENESYS_ADMIN_CLIENT_ID and LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (plain HTTP; terminate TLS in front). Port 0 picks a free port;
    /// the bound address is printed as `listening on http://HOST:PORT` on stderr.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The SQLite database holding deliveries, alerts and each step's outcome (created if
    /// missing).
    #[arg(long, value_name = "PATH")]
    pub state: PathBuf,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub log_format: LogFormatArg,
    /// Configuration file (default: .leakgate.toml here): `[serve]` policy, decoy and
    /// protected client ids, extra rules.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What is done to a live client (default: `[serve] revoke_action`, else disable).
    #[arg(long, value_enum, value_name = "ACTION")]
    pub revoke_action: Option<RevokeActionArg>,
    /// Record what would be done; contact nothing but the token endpoint; never resolve.
    #[arg(long)]
    pub dry_run: bool,
    /// Check credentials only: never contain, never resolve alerts.
    #[arg(long, conflicts_with = "dry_run")]
    pub verify_only: bool,
    /// A GitHub custom pattern name (the alert's secret type) that holds Genesys client
    /// secrets; repeatable, added to `[serve] custom_patterns`.
    #[arg(long = "custom-pattern", value_name = "NAME")]
    pub custom_patterns: Vec<String>,
    /// Append one JSON line per verify, revoke and alert step to FILE (no secrets, no tokens).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Post a notice to URL (https, or http to loopback) for each contained, failed,
    /// protected, dry-run or decoy credential.
    #[arg(long, value_name = "URL")]
    pub notify_webhook: Option<String>,
    /// The notice's body.
    #[arg(long, value_enum, default_value = "slack", value_name = "FORMAT")]
    pub notify_format: NotifyFormatArg,
    /// Processing attempts per alert before it is left for a person.
    #[arg(long, value_name = "N", default_value = "8",
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Alerts processed at once.
    #[arg(long, value_name = "N", default_value = "2",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Largest webhook body accepted, in bytes (K, M suffixes); larger ones get 413.
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size, default_value = "1M")]
    pub max_body: u64,
    /// Seconds a request may take before 408; also the bound on in-flight work at shutdown.
    #[arg(long, value_name = "SECS", default_value = "10",
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub request_timeout: u64,
    /// Requests handled at once (the rest wait).
    #[arg(long, value_name = "N", default_value = "64",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_connections: u32,
    /// Requests per second to Genesys, per alert being processed (`5` or `5/s`; default 2).
    #[arg(long, value_name = "N", value_parser = super::verify::parse_rate)]
    pub verify_rate: Option<f64>,
    /// Scale every wait (queue backoff and the verifier's); for tests.
    #[arg(long, value_name = "F", hide = true, value_parser = super::verify::parse_scale)]
    pub time_scale: Option<f64>,
}
