//! Planning verification and containment: verify flags, the environment and the configuration
//! turned into [`VerifyOptions`], for a scan's findings or for `leakgate verify`.

use super::{load_config, Print};
use crate::cli::{RevokeActionArg, VerifyArgs, VerifyCommandArgs};
use anyhow::{bail, Context, Result};
use leakgate::config::Config;
use leakgate::providers::genesys;
use leakgate::verify::{
    AdminCredentials, ProxyEnv, RevokeAction, RevokeOptions, Secret, UrlTemplate, VerifyError,
    VerifyOptions, DEFAULT_URL_TEMPLATE,
};
use std::time::Duration;

/// Environment variable redirecting Genesys requests (tests, staging).
const URL_TEMPLATE_ENV: &str = "LEAKGATE_GENESYS_URL_TEMPLATE";
/// The admin client `--revoke` contains credentials with: from the environment only.
pub const ADMIN_ID_ENV: &str = "LEAKGATE_GENESYS_ADMIN_CLIENT_ID";
pub const ADMIN_SECRET_ENV: &str = "LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET";

/// The network step of a scan.
#[derive(Debug, Clone)]
pub enum VerifyPlan {
    /// None: only planted decoys are marked.
    Off,
    /// Check each credential found; `revoke` in the options says whether, and how, live ones
    /// are contained.
    On(Box<VerifyOptions>),
}

/// `leakgate verify`: one credential.
#[derive(Debug)]
pub struct VerifyCommandPlan {
    /// Lowercase UUID v4.
    pub client_id: String,
    /// The region domain to try first.
    pub region: Option<&'static str>,
    pub secret: SecretSource,
    pub format: Print,
    pub options: VerifyOptions,
}

/// Where `leakgate verify` reads the secret: never the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// This environment variable.
    Env(String),
    /// The first line of standard input.
    Stdin,
}

/// The checks of verify flags against each other, made before anything is read so a bad flag
/// fails before any scan.
pub(super) fn check_flags(v: &VerifyArgs) -> Result<()> {
    if let Some(url) = &v.notify_webhook {
        // Never quoted: webhook URLs carry their own credential.
        if leakgate::verify::check_webhook_url(url).is_err() {
            bail!("--notify-webhook: a webhook URL must be https (or http to a loopback host); the URL is not shown");
        }
    }
    if !(v.verify || v.revoke) && (v.audit_log.is_some() || v.notify_webhook.is_some()) {
        bail!("--audit-log and --notify-webhook need --verify or --revoke");
    }
    if !v.revoke && v.notify_webhook.is_some() {
        bail!("--notify-webhook needs --revoke");
    }
    Ok(())
}

/// The verify step of a scan under `config`.
pub(super) fn scan_plan(v: &VerifyArgs, config: &Config) -> Result<VerifyPlan> {
    if !(v.verify || v.revoke) {
        return Ok(VerifyPlan::Off);
    }
    Ok(VerifyPlan::On(Box::new(options(v, config)?)))
}

/// Options from flags (already checked by [`check_flags`]), the environment and the
/// configuration.
pub(super) fn options(v: &VerifyArgs, config: &Config) -> Result<VerifyOptions> {
    let template = std::env::var(URL_TEMPLATE_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL_TEMPLATE.to_string());
    let template =
        UrlTemplate::parse(&template).with_context(|| format!("checking {URL_TEMPLATE_ENV}"))?;
    // A loopback template (tests, local stand-ins) is always reached directly: a proxy setting
    // meant for other tools (a SOCKS `ALL_PROXY`) must not fail it.
    let proxy = if template.is_loopback() {
        ProxyEnv::default()
    } else {
        ProxyEnv::from_env()?
    };
    let mut o = VerifyOptions::new(template);
    o.net.proxy = proxy;
    if let Some(rate) = v.verify_rate {
        o.net.rate_per_sec = rate;
    }
    if let Some(secs) = v.verify_timeout {
        o.net.connect_timeout = Duration::from_secs_f64(secs);
        o.net.read_timeout = Duration::from_secs_f64(secs);
    }
    if let Some(n) = v.verify_attempts {
        o.net.max_attempts = n;
    }
    if let Some(scale) = v.verify_time_scale {
        o.net.time_scale = scale;
    }
    if let Some(n) = v.max_verify_requests {
        o.max_token_requests = usize::try_from(n).unwrap_or(usize::MAX);
    }
    o.providers = config.providers.clone();
    o.audit_log = v.audit_log.clone();
    o.notify_webhook = v.notify_webhook.clone();
    if v.revoke {
        let admin = admin_from_env()?;
        if admin.is_none() && !v.dry_run {
            bail!(VerifyError::MissingAdmin);
        }
        o.revoke = Some(RevokeOptions {
            action: match v.revoke_action {
                RevokeActionArg::Disable => RevokeAction::Disable,
                RevokeActionArg::Rotate => RevokeAction::Rotate,
                RevokeActionArg::Delete => RevokeAction::Delete,
            },
            dry_run: v.dry_run,
            admin,
        });
    }
    Ok(o)
}

/// The admin client from the environment only; both variables or neither.
pub(super) fn admin_from_env() -> Result<Option<AdminCredentials>> {
    let get = |k| {
        std::env::var(k)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    match (get(ADMIN_ID_ENV), get(ADMIN_SECRET_ENV)) {
        (Some(client_id), Some(secret)) => Ok(Some(AdminCredentials {
            client_id,
            secret: Secret::new(secret),
        })),
        (None, None) => Ok(None),
        _ => bail!("set both {ADMIN_ID_ENV} and {ADMIN_SECRET_ENV}, or neither"),
    }
}

impl VerifyCommandPlan {
    /// Plan `leakgate verify`. Verification is implied; the secret is read when it runs.
    pub fn from_args(args: &VerifyCommandArgs) -> Result<Self> {
        let client_id = args.client_id.trim().to_ascii_lowercase();
        if !genesys::is_client_id(&client_id) {
            bail!("--client-id must be a Genesys client id (a lowercase UUID v4)");
        }
        let region = match &args.region {
            // Not quoted: a value pasted into the wrong flag may be a secret.
            Some(r) => Some(genesys::region_domain(r).with_context(|| {
                format!(
                    "--region: not a Genesys region; use one of {} (the name or its domain)",
                    genesys::region_list()
                )
            })?),
            None => None,
        };
        let config = load_config(args.config.as_deref())?;
        let v = VerifyArgs {
            verify: true,
            ..args.verify.clone()
        };
        check_flags(&v)?;
        Ok(VerifyCommandPlan {
            client_id,
            region,
            secret: match &args.secret_env {
                Some(name) => SecretSource::Env(name.clone()),
                None => SecretSource::Stdin,
            },
            format: if args.json { Print::Json } else { Print::Text },
            options: options(&v, &config)?,
        })
    }
}
