//! Verification and revocation of Genesys findings, and the `leakgate verify` command: the
//! planned `VerifyOptions` run, the verifier's summary worded, its warnings shown.

use super::plan::{Print, SecretSource, VerifyCommandPlan, VerifyPlan};
use super::Outcome;
use anyhow::{bail, Context, Result};
use leakgate::config::Config;
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::verify::{Secret, Verifier};
use std::io::{BufRead, IsTerminal, Write};

/// Verify (and, when the plan says so, revoke) the report's Genesys findings in place.
pub fn apply(plan: VerifyPlan, config: &Config, report: &mut ScanReport) -> Result<()> {
    let opts = match plan {
        VerifyPlan::Off => {
            leakgate::providers::genesys::mark_decoys(
                &mut report.findings,
                &config.providers.genesys.decoy_client_ids,
            );
            return Ok(());
        }
        VerifyPlan::On(opts) => *opts,
    };
    let max_requests = opts.max_token_requests;
    let mut verifier = Verifier::new(opts)?;
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

/// `leakgate verify --client-id ID`: check one credential read from stdin or an env var.
pub fn command(plan: VerifyCommandPlan) -> Result<Outcome> {
    let VerifyCommandPlan {
        client_id,
        region,
        secret,
        format,
        options: opts,
    } = plan;
    let secret = read_secret(&secret)?;
    let mut verifier = Verifier::new(opts)?;
    let (verification, revocation) = verifier
        .verify_credential(
            leakgate::providers::genesys::VERIFIER,
            &client_id,
            &secret,
            region,
        )
        .context("no Genesys verifier is registered")?;
    let summary = verifier.finish();

    let mut out = super::stdout();
    if format == Print::Json {
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
fn read_secret(source: &SecretSource) -> Result<Secret> {
    let s = match source {
        // The name is not quoted: a secret passed as the name by mistake stays unseen.
        SecretSource::Env(name) => std::env::var(name)
            .context("the environment variable named by --secret-env is not set (or not UTF-8)")?,
        SecretSource::Stdin => {
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
