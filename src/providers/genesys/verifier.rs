//! The Genesys verifier: each credential (client id and secret) checked once per run against
//! the token endpoint, region by region (hinted ones first), then contained through the admin
//! API when asked and only when live. Runs on the network core of [`crate::verify`].

use super::{region_domain, ID, REGION_DOMAINS, VERIFIER};
use crate::finding::{Finding, Revocation, RevocationStatus, Verification, VerificationStatus};
use crate::verify::audit::{self, AuditAction, AuditLog, AuditOutcome, AuditRecord};
use crate::verify::client::Http;
use crate::verify::notify::Notifier;
use crate::verify::{
    decoy_verification, revocation, scrub, skipped, CredentialVerifier, Place, Secret, Summary,
    Target, Token, VerifyError, VerifyOptions,
};
use std::collections::HashMap;

/// Checks and contains Genesys credentials: the verifier [`super::VERIFIER`]. Built by
/// [`crate::verify::Verifier::new`] through the provider registry; fed the findings whose rule
/// selects it, or one credential; then finished.
pub struct GenesysVerifier {
    pub(super) opts: VerifyOptions,
    pub(super) http: Http,
    pub(super) audit: Option<AuditLog>,
    pub(super) notifier: Option<Notifier>,
    /// Admin tokens by region domain (or why none could be had).
    pub(super) admin_tokens: HashMap<&'static str, Result<Token, String>>,
    /// Regions named by the run's other findings, most often named first: tried after a
    /// credential's own hints.
    pub(super) evidence: Vec<&'static str>,
    /// Regions where a client of this run answered (live or unconfirmed), with counts.
    pub(super) answered: RegionCounts,
    pub(super) summary: Summary,
}

impl GenesysVerifier {
    /// Check the options and open the audit log. Nothing is sent yet.
    pub fn new(opts: VerifyOptions) -> Result<Self, VerifyError> {
        if let Some(r) = &opts.revoke {
            if r.admin.is_none() && !r.dry_run {
                return Err(VerifyError::MissingAdmin);
            }
        }
        let notifier = match &opts.notify_webhook {
            Some(url) => Some(Notifier::new(url, &opts)?),
            None => None,
        };
        let audit = match &opts.audit_log {
            Some(path) => Some(AuditLog::open(path)?),
            None => None,
        };
        Ok(GenesysVerifier {
            http: Http::new(&opts),
            opts,
            audit,
            notifier,
            admin_tokens: HashMap::new(),
            evidence: Vec::new(),
            answered: Vec::new(),
            summary: Summary::default(),
        })
    }

    /// Verify (and, if asked, revoke) every Genesys finding in place. Findings of other rules
    /// are left alone; each credential is checked once however many findings share it.
    pub fn run(&mut self, findings: &mut [Finding]) {
        // (target, finding indexes, hint counts)
        let mut targets: Vec<(Target, Vec<usize>, RegionCounts)> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut repo_hints = RegionCounts::new();
        for (i, f) in findings.iter_mut().enumerate() {
            // Only findings whose rule selects this verifier: chosen by the rule's `verify`
            // field, carried in the pair, never by the rule's id.
            let Some(pair) = f
                .pair
                .clone()
                .filter(|p| p.verify.as_deref() == Some(VERIFIER))
            else {
                continue;
            };
            let hint = pair.host.as_deref().and_then(region_domain);
            if let Some(h) = hint {
                bump(&mut repo_hints, h);
            }
            let Some(client_id) = pair.id.filter(|c| !c.is_empty()) else {
                self.summary.skipped += 1;
                f.verification = Some(skipped("no client id paired with the secret".into()));
                continue;
            };
            let place = Place {
                path: f.path.clone(),
                commit: f.commit().map(|c| c.id),
                email: f.commit().map(|c| c.email.clone()),
            };
            // One check per (client id, secret), however many times the pair occurs.
            let key = (client_id.clone(), f.secret.clone());
            let t = *index.entry(key).or_insert_with(|| {
                targets.push((
                    Target {
                        client_id,
                        secret: Secret::new(f.secret.clone()),
                        hints: Vec::new(),
                        fingerprint: Some(f.fingerprint.to_string()),
                        rule: Some(f.rule_id.to_string()),
                        places: Vec::new(),
                    },
                    Vec::new(),
                    Vec::new(),
                ));
                targets.len() - 1
            });
            let (target, members, hints) = &mut targets[t];
            target.places.push(place);
            members.push(i);
            if let Some(h) = hint {
                bump(hints, h);
            }
        }
        self.evidence = ranked(repo_hints);
        for (target, _, hints) in &mut targets {
            target.hints = ranked(std::mem::take(hints));
        }
        // Hinted credentials first: they cost one request each and teach the run its regions.
        targets.sort_by_key(|(t, _, _)| t.hints.is_empty());
        for (target, members, _) in targets {
            let (verification, revocation) = self.process(&target);
            for i in members {
                findings[i].verification = Some(verification.clone());
                findings[i].revocation = revocation.clone();
            }
        }
    }

    /// Verify (and, if asked, revoke) one credential given directly.
    pub fn verify_credential(
        &mut self,
        client_id: &str,
        secret: &Secret,
        region: Option<&str>,
    ) -> (Verification, Option<Revocation>) {
        let target = Target {
            client_id: client_id.to_string(),
            secret: secret.clone(),
            hints: region.and_then(region_domain).into_iter().collect(),
            fingerprint: None,
            rule: None,
            places: Vec::new(),
        };
        self.process(&target)
    }

    /// Release what the run holds (admin tokens are deleted) and return the counts and
    /// warnings.
    pub fn finish(mut self) -> Summary {
        self.release_admin_tokens();
        self.summary
    }

    /// Decoy check, token check, token info and cleanup, then containment.
    pub(super) fn process(&mut self, target: &Target) -> (Verification, Option<Revocation>) {
        self.summary.credentials += 1;
        if self.is_decoy(&target.client_id) {
            self.summary.decoys += 1;
            self.record(
                target,
                None,
                AuditAction::Verify,
                None,
                AuditOutcome::Decoy,
                Some("decoy: not contacted".into()),
            );
            return (decoy_verification(), None);
        }
        let verification = self.verify_target(target);
        match verification.status {
            VerificationStatus::Active => self.summary.active += 1,
            VerificationStatus::Invalid => self.summary.invalid += 1,
            VerificationStatus::Indeterminate => self.summary.indeterminate += 1,
            VerificationStatus::RateLimited => self.summary.rate_limited += 1,
            VerificationStatus::Decoy => self.summary.decoys += 1,
            VerificationStatus::Skipped => self.summary.skipped += 1,
            VerificationStatus::Unconfirmed => self.summary.unconfirmed += 1,
        }
        if matches!(
            verification.status,
            VerificationStatus::Active | VerificationStatus::Unconfirmed
        ) {
            if let Some(d) = verification.region.as_deref().and_then(region_domain) {
                bump(&mut self.answered, d);
            }
        }
        let revocation = match (self.opts.revoke.clone(), verification.status) {
            (None, _) => None,
            (Some(opts), VerificationStatus::Active) => {
                let domain = verification.region.as_deref().and_then(region_domain);
                let r = match domain {
                    Some(d) => self.revoke(&opts, target, d, &verification),
                    None => revocation(
                        opts.action,
                        RevocationStatus::RevokeFailed,
                        Some("no region known for the live credential".into()),
                    ),
                };
                match r.status {
                    RevocationStatus::Revoked => self.summary.revoked += 1,
                    RevocationStatus::RevokeFailed => self.summary.revoke_failed += 1,
                    RevocationStatus::Protected => self.summary.protected += 1,
                    RevocationStatus::DryRun => self.summary.dry_run += 1,
                    RevocationStatus::NotAttempted => {}
                }
                Some(r)
            }
            (Some(opts), VerificationStatus::Indeterminate | VerificationStatus::RateLimited) => {
                Some(revocation(
                    opts.action,
                    RevocationStatus::NotAttempted,
                    Some("verification reached no conclusion; nothing was revoked".into()),
                ))
            }
            (Some(opts), VerificationStatus::Unconfirmed) => Some(revocation(
                opts.action,
                RevocationStatus::NotAttempted,
                Some("not proven live (no token was issued); nothing was revoked".into()),
            )),
            (Some(opts), VerificationStatus::Skipped) => Some(revocation(
                opts.action,
                RevocationStatus::NotAttempted,
                Some("not checked; nothing was revoked".into()),
            )),
            (Some(_), _) => None,
        };
        (verification, revocation)
    }

    pub(super) fn is_decoy(&self, client_id: &str) -> bool {
        is_decoy(&self.opts.providers.genesys.decoy_client_ids, client_id)
    }

    pub(super) fn dry_run(&self) -> bool {
        self.opts.revoke.as_ref().is_some_and(|r| r.dry_run)
    }

    /// Append an audit line for `target` (no-op without an audit log).
    pub(super) fn record(
        &mut self,
        target: &Target,
        region: Option<&str>,
        action: AuditAction,
        http_status: Option<u16>,
        outcome: AuditOutcome,
        detail: Option<String>,
    ) {
        let dry_run = self.dry_run();
        let Some(log) = &mut self.audit else { return };
        let rec = AuditRecord {
            time: audit::now_rfc3339(),
            fingerprint: target.fingerprint.as_deref(),
            rule: target.rule.as_deref(),
            client_id: &target.client_id,
            region,
            action,
            http_status,
            outcome,
            dry_run,
            detail: detail.map(|d| scrub(&d, &target.secret)),
        };
        if let Err(e) = log.write(&rec) {
            let w = format!("writing the audit log failed: {e}");
            if !self.summary.warnings.contains(&w) {
                self.summary.warnings.push(w);
            }
        }
    }

    pub(super) fn warn(&mut self, w: String) {
        self.summary.warnings.push(w);
    }
}
impl CredentialVerifier for GenesysVerifier {
    fn name(&self) -> &'static str {
        VERIFIER
    }

    fn run(&mut self, findings: &mut [Finding]) {
        GenesysVerifier::run(self, findings);
    }

    fn verify_one(
        &mut self,
        id: &str,
        secret: &Secret,
        host: Option<&str>,
    ) -> (Verification, Option<Revocation>) {
        self.verify_credential(id, secret, host)
    }

    fn finish(self: Box<Self>) -> Summary {
        GenesysVerifier::finish(*self)
    }
}

/// Mentions of regions, in first-seen order.
pub(super) type RegionCounts = Vec<(&'static str, usize)>;

/// Count one more mention of `region`.
pub(super) fn bump(counts: &mut RegionCounts, region: &'static str) {
    match counts.iter_mut().find(|(r, _)| *r == region) {
        Some((_, n)) => *n += 1,
        None => counts.push((region, 1)),
    }
}

/// Regions by mentions, most first; ties in the canonical region order.
pub(super) fn ranked(mut counts: RegionCounts) -> Vec<&'static str> {
    let pos = |r: &str| REGION_DOMAINS.iter().position(|d| *d == r);
    counts.sort_by_key(|(r, n)| (std::cmp::Reverse(*n), pos(r)));
    counts.into_iter().map(|(r, _)| r).collect()
}

fn is_decoy(decoy_client_ids: &[String], client_id: &str) -> bool {
    decoy_client_ids
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(client_id))
}

/// Mark the findings whose paired client id is a decoy, without any network: a planted
/// honeypot must not fail every scan of the repository that holds it. Returns how many.
pub fn mark_decoys(findings: &mut [Finding], decoy_client_ids: &[String]) -> usize {
    let mut marked = 0;
    for f in findings.iter_mut() {
        let id = f
            .pair
            .as_ref()
            .filter(|p| p.provider == ID)
            .and_then(|p| p.id.as_deref());
        if id.is_some_and(|id| is_decoy(decoy_client_ids, id)) && f.verification.is_none() {
            f.verification = Some(decoy_verification());
            marked += 1;
        }
    }
    marked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_rank_by_mentions_then_canonical_order() {
        let mut c = Vec::new();
        bump(&mut c, "usw2.pure.cloud");
        bump(&mut c, "mypurecloud.de");
        bump(&mut c, "mypurecloud.de");
        bump(&mut c, "mypurecloud.ie");
        assert_eq!(
            ranked(c),
            ["mypurecloud.de", "mypurecloud.ie", "usw2.pure.cloud"]
        );
    }
}
