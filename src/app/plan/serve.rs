//! Planning `leakgate serve`: flags, `[serve]` in the configuration and the environment turned
//! into [`ServeOptions`] (all but the logger and the GitHub client, made when it runs).

use super::load_config;
use crate::cli::{LogFormatArg, NotifyFormatArg, RevokeActionArg, ServeArgs, VerifyArgs};
use anyhow::{bail, Context, Result};
use leakgate::finding::RevokeAction;
use leakgate::github::{self, ApiUrl};
use leakgate::matcher::Matcher;
use leakgate::rules;
use leakgate::serve::{LogFormat, NotifyFormat, Policy, ServeOptions, WebhookSecret};
use leakgate::verify::Secret;
use std::time::Duration;

/// The webhook secret GitHub signs deliveries with.
pub const WEBHOOK_SECRET_ENV: &str = "LEAKGATE_WEBHOOK_SECRET";

/// `leakgate serve`, planned.
pub struct ServePlan {
    pub log_format: LogFormat,
    /// From the environment; never shown.
    pub github_token: Secret,
    /// `LEAKGATE_GITHUB_API_URL`, else the public API.
    pub github_api: ApiUrl,
    pub options: ServeOptions,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

impl ServePlan {
    /// Plan `leakgate serve`: refuses to start without the webhook secret or the GitHub token,
    /// or without the admin client when containment (not a dry run) is the policy.
    pub fn from_args(args: &ServeArgs) -> Result<Self> {
        let config = load_config(args.config.as_deref())?;
        let webhook_secret = env(WEBHOOK_SECRET_ENV)
            .and_then(|s| WebhookSecret::new(&s))
            .with_context(|| {
                format!("{WEBHOOK_SECRET_ENV} must be set: deliveries are accepted only when signed with it")
            })?;
        let github_token = github::token_from_env()
            .context("the token needs secret scanning alerts read and write, and contents read")?;
        let github_api = ApiUrl::from_env()?;
        let s = &config.serve;
        let verify_only = args.verify_only || s.verify_only.unwrap_or(false);
        let dry_run = !verify_only && (args.dry_run || s.dry_run.unwrap_or(false));
        let action = match args.revoke_action {
            Some(RevokeActionArg::Disable) => RevokeAction::Disable,
            Some(RevokeActionArg::Rotate) => RevokeAction::Rotate,
            Some(RevokeActionArg::Delete) => RevokeAction::Delete,
            None => s.revoke_action.unwrap_or(RevokeAction::Disable),
        };
        let v = VerifyArgs {
            verify: true,
            revoke: !verify_only,
            revoke_action: match action {
                RevokeAction::Disable => RevokeActionArg::Disable,
                RevokeAction::Rotate => RevokeActionArg::Rotate,
                RevokeAction::Delete => RevokeActionArg::Delete,
            },
            dry_run,
            audit_log: args.audit_log.clone(),
            verify_time_scale: args.time_scale,
            verify_rate: args.verify_rate,
            ..VerifyArgs::default()
        };
        let verify = super::verify::options(&v, &config)
            .context("the Genesys admin client (containment is the policy; use --dry-run or --verify-only to start without it)")?;
        let notify = match &args.notify_webhook {
            Some(url) => {
                // Never quoted: webhook URLs carry their own credential.
                if leakgate::verify::check_webhook_url(url).is_err() {
                    bail!("--notify-webhook: a webhook URL must be https (or http to a loopback host); the URL is not shown");
                }
                Some((
                    url.clone(),
                    match args.notify_format {
                        NotifyFormatArg::Slack => NotifyFormat::Slack,
                        NotifyFormatArg::Json => NotifyFormat::Json,
                    },
                ))
            }
            None => None,
        };
        let mut custom_patterns = s.custom_patterns.clone();
        custom_patterns.extend(args.custom_patterns.iter().cloned());
        Ok(ServePlan {
            log_format: match args.log_format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            },
            github_token,
            github_api,
            options: ServeOptions {
                listen: args.listen,
                state: args.state.clone(),
                webhook_secret,
                verify,
                policy: Policy { custom_patterns },
                notify,
                matcher: Matcher::new(rules::builtin(), &config)?,
                max_attempts: args.max_attempts,
                workers: usize::from(args.workers),
                max_body: usize::try_from(args.max_body).unwrap_or(usize::MAX),
                request_timeout: Duration::from_secs(args.request_timeout),
                max_connections: args.max_connections as usize,
                time_scale: args.time_scale.unwrap_or(1.0),
            },
        })
    }
}
