//! Verification and revocation of Genesys findings, and the `leakgate verify` command: flags and
//! environment turned into [`VerifyOptions`], the verifier run, its warnings shown.

use super::{Outcome, ScanPlan};
use crate::cli::{RevokeActionArg, ScanArgs, VerifyArgs, VerifyCommandArgs};
use anyhow::{bail, Context, Result};
use leakgate::config::Config;
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::verify::{
    AdminCredentials, RevokeAction, RevokeOptions, Secret, UrlTemplate, Verifier, VerifyOptions,
    DEFAULT_URL_TEMPLATE,
};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

/// Environment variable redirecting Genesys requests (tests, staging).
const URL_TEMPLATE_ENV: &str = "LEAKGATE_GENESYS_URL_TEMPLATE";
const ADMIN_ID_ENV: &str = "LEAKGATE_GENESYS_ADMIN_CLIENT_ID";
const ADMIN_SECRET_ENV: &str = "LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET";

/// Verify (and, when asked, revoke) the report's Genesys findings in place.
pub fn apply(plan: &ScanPlan, args: &ScanArgs, report: &mut ScanReport) -> Result<()> {
    let v = &args.verify;
    if !v.enabled() {
        if v.audit_log.is_some() || v.notify_webhook.is_some() {
            bail!("--audit-log and --notify-webhook need --verify or --revoke");
        }
        leakgate::providers::genesys::mark_decoys(
            &mut report.findings,
            &plan.config.providers.genesys.decoy_client_ids,
        );
        return Ok(());
    }
    let opts = options(v, &plan.config)?;
    let max_requests = opts.max_token_requests;
    let mut verifier = new_verifier(opts)?;
    verifier.run(&mut report.findings);
    let summary = verifier.finish();
    report.warnings.extend(summary.warnings.iter().cloned());
    if summary.inconclusive() > 0 {
        let findings = report
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.verification.as_ref().map(|v| v.status),
                    Some(VerificationStatus::Indeterminate | VerificationStatus::RateLimited)
                )
            })
            .count();
        report.warnings.push(format!(
            "verification reached no conclusion for {} of {} credential(s) ({findings} finding(s): {} indeterminate, {} rate limited); nothing was revoked for them, see each verification reason",
            summary.inconclusive(),
            summary.credentials,
            summary.indeterminate,
            summary.rate_limited
        ));
    }
    if summary.unconfirmed > 0 {
        report.warnings.push(format!(
            "{} credential(s) unconfirmed: Genesys answered unauthorized_client (the client id exists, but no token was issued, so the secret is not proven live); nothing was revoked for them",
            summary.unconfirmed
        ));
    }
    if summary.capped > 0 {
        report.warnings.push(format!(
            "{} of {} credential(s) left unchecked (status skipped): the cap of {} token requests per run was reached; raise it with --max-verify-requests N",
            summary.capped, summary.credentials, max_requests
        ));
    }
    Ok(())
}

/// The checks of verify flags that need no configuration, made while planning so a bad flag
/// fails before any scan.
pub fn check_flags(v: &VerifyArgs) -> Result<()> {
    if let Some(url) = &v.notify_webhook {
        // Never quoted: webhook URLs carry their own credential.
        if leakgate::verify::check_webhook_url(url).is_err() {
            bail!("--notify-webhook: a webhook URL must be https (or http to a loopback host); the URL is not shown");
        }
    }
    Ok(())
}

/// Options from flags, the environment and the configuration.
fn options(v: &VerifyArgs, config: &Config) -> Result<VerifyOptions> {
    check_flags(v)?;
    let template = std::env::var(URL_TEMPLATE_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL_TEMPLATE.to_string());
    let template =
        UrlTemplate::parse(&template).with_context(|| format!("checking {URL_TEMPLATE_ENV}"))?;
    let mut o = VerifyOptions::new(template);
    if let Some(rate) = v.verify_rate {
        o.rate_per_sec = rate;
    }
    if let Some(secs) = v.verify_timeout {
        o.connect_timeout = Duration::from_secs_f64(secs);
        o.read_timeout = Duration::from_secs_f64(secs);
    }
    if let Some(n) = v.verify_attempts {
        o.max_attempts = n;
    }
    if let Some(scale) = v.verify_time_scale {
        o.time_scale = scale;
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
            bail!("--revoke needs the admin client's credentials in {ADMIN_ID_ENV} and {ADMIN_SECRET_ENV}");
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
    } else if v.notify_webhook.is_some() {
        bail!("--notify-webhook needs --revoke");
    }
    Ok(o)
}

/// The admin client from the environment only; both variables or neither.
fn admin_from_env() -> Result<Option<AdminCredentials>> {
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

/// `leakgate verify --client-id ID`: check one credential read from stdin or an env var.
pub fn command(args: &VerifyCommandArgs) -> Result<Outcome> {
    let client_id = args.client_id.trim().to_ascii_lowercase();
    if !leakgate::providers::genesys::is_client_id(&client_id) {
        bail!("--client-id must be a Genesys client id (a lowercase UUID v4)");
    }
    let region = match &args.region {
        Some(r) => Some(
            // Not quoted: a value pasted into the wrong flag may be a secret.
            leakgate::providers::genesys::region_domain(r).context(
                "--region: not a Genesys region (use a domain such as mypurecloud.ie or an AWS-style name such as eu-west-1)",
            )?,
        ),
        None => None,
    };
    let secret = read_secret(args.secret_env.as_deref())?;
    let config = match &args.config {
        Some(file) => Config::load(file)?,
        None => Config::discover(&super::base_for(Path::new(".")))?.0,
    };
    let mut v = VerifyArgs {
        verify: true,
        ..VerifyArgs::default()
    };
    let a = &args.verify;
    v.revoke = a.revoke;
    v.revoke_action = a.revoke_action;
    v.dry_run = a.dry_run;
    v.audit_log = a.audit_log.clone();
    v.notify_webhook = a.notify_webhook.clone();
    v.verify_rate = a.verify_rate;
    v.verify_timeout = a.verify_timeout;
    v.verify_attempts = a.verify_attempts;
    v.verify_time_scale = a.verify_time_scale;
    v.max_verify_requests = a.max_verify_requests;
    let opts = options(&v, &config)?;
    let mut verifier = new_verifier(opts)?;
    let (verification, revocation) = verifier
        .verify_credential(
            leakgate::providers::genesys::VERIFIER,
            &client_id,
            &secret,
            region,
        )
        .context("no Genesys verifier is registered")?;
    let summary = verifier.finish();

    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "client_id": client_id,
            "verification": verification,
            "revocation": revocation,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(out, "client {client_id}: {}", verification.describe())?;
        if let Some(r) = &revocation {
            writeln!(out, "revocation: {}", r.describe())?;
        }
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for w in &summary.warnings {
        writeln!(err, "leakgate: warning: {w}")?;
    }
    Ok(match verification.status {
        VerificationStatus::Active => Outcome::Findings,
        VerificationStatus::Invalid | VerificationStatus::Decoy => Outcome::Clean,
        VerificationStatus::Indeterminate
        | VerificationStatus::RateLimited
        | VerificationStatus::Skipped
        | VerificationStatus::Unconfirmed => {
            writeln!(
                err,
                "leakgate: verification reached no conclusion: {}",
                verification.reason.as_deref().unwrap_or("unknown")
            )?;
            Outcome::Error
        }
    })
}

/// The secret from the named environment variable, or the first line of stdin.
fn read_secret(env: Option<&str>) -> Result<Secret> {
    let s = match env {
        // The name is not quoted: a secret passed as the name by mistake stays unseen.
        Some(name) => std::env::var(name)
            .context("the environment variable named by --secret-env is not set (or not UTF-8)")?,
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("leakgate: reading the secret from stdin (it will be visible as you type; prefer a pipe or --secret-env)");
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the secret from stdin")?;
            line
        }
    };
    let s = s.trim();
    if s.is_empty() {
        bail!(
            "no secret given (pipe it on stdin or name an environment variable with --secret-env)"
        );
    }
    Ok(Secret::new(s))
}

/// The verifier, with the library's typed errors worded for the command line.
fn new_verifier(opts: VerifyOptions) -> anyhow::Result<Verifier> {
    Verifier::new(opts).map_err(|e| match e {
        leakgate::verify::VerifyError::MissingAdmin => anyhow::anyhow!(
            "--revoke needs the admin client's credentials in {ADMIN_ID_ENV} and {ADMIN_SECRET_ENV}"
        ),
        e => e.into(),
    })
}
