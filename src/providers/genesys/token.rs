//! The token check (region by region, the hinted one first), reading `tokens/me` for the org and
//! client name, and deleting the token a check minted.

use super::verifier::GenesysVerifier;
use crate::finding::{Verification, VerificationStatus};
use crate::verify::audit::{self, AuditAction, AuditOutcome};
use crate::verify::client::{Auth, Call, CallError, Method, Service};
use crate::verify::{plain_name, scrub, Secret, Target, Token};

/// OAuth error codes (RFC 6749 5.2 and Genesys) that may be repeated in reasons. Any other text
/// a server sends is never shown: a hostile or broken server could echo a credential back.
const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "server_error",
    "temporarily_unavailable",
];

/// The reason for `unauthorized_client`: it proves the client id exists, nothing about the secret.
pub(crate) const UNCONFIRMED_REASON: &str = "unauthorized_client: the client id exists in this region but is not a client-credentials client; Genesys does not document whether the secret was checked first, so it is not proven live (no token was issued)";

/// What the token endpoint of one region said about a pair.
#[derive(Debug)]
pub(crate) enum TokenAnswer {
    /// 200 with a token: the only proof that a secret is live.
    Live(Token),
    /// `unauthorized_client`: the client exists here, but no token was issued and whether the
    /// secret was checked is not documented. Never grounds for a revoke.
    Unconfirmed,
    /// `invalid_client` (or 401): not this pair, not here.
    Refused,
    /// Still throttled after retries.
    Throttled(String),
    /// Timeouts, 5xx, unknown answers.
    Unknown(String),
    /// Not sent: the circuit breaker is open.
    Paused(String),
}

impl GenesysVerifier {
    /// Ask one region's token endpoint about a pair, and write the audit line for it.
    pub(crate) fn token_request(
        &mut self,
        target: &Target,
        client_id: &str,
        secret: &Secret,
        domain: &'static str,
        action: AuditAction,
    ) -> TokenAnswer {
        let call = Call {
            method: Method::Post,
            service: Service::Login,
            domain,
            path: "/oauth/token",
            auth: Auth::Basic(client_id, secret),
            body: Some((
                "application/x-www-form-urlencoded",
                "grant_type=client_credentials".to_string(),
            )),
            keep_body: true,
        };
        let result = self.http.send(&call);
        let (answer, status) = match result {
            Ok(reply) => (classify(reply.status, &reply.json()), Some(reply.status)),
            Err(e @ CallError::Throttled { .. }) => {
                (TokenAnswer::Throttled(e.reason()), e.status())
            }
            Err(e @ CallError::CircuitOpen(_)) => (TokenAnswer::Paused(e.reason()), None),
            Err(e) => (TokenAnswer::Unknown(e.reason()), None),
        };
        let (outcome, detail) = match &answer {
            TokenAnswer::Live(_) => (AuditOutcome::Active, None),
            TokenAnswer::Unconfirmed => (
                AuditOutcome::Unconfirmed,
                Some("unauthorized_client".to_string()),
            ),
            TokenAnswer::Refused => (AuditOutcome::Refused, None),
            TokenAnswer::Throttled(r) => (AuditOutcome::RateLimited, Some(r.clone())),
            TokenAnswer::Unknown(r) => (AuditOutcome::Indeterminate, Some(r.clone())),
            TokenAnswer::Paused(r) => (AuditOutcome::NotSent, Some(r.clone())),
        };
        self.record(target, Some(domain), action, status, outcome, detail);
        answer
    }

    /// The regions to try for a target, by evidence: its own hints, then the regions where
    /// this run's other clients answered, then the regions the run's other findings name, then
    /// the rest in the canonical order. Each region once.
    fn region_order(&self, target: &Target) -> Vec<&'static str> {
        let answered = self.answered.clone();
        let mut order: Vec<&'static str> = Vec::with_capacity(super::REGION_DOMAINS.len());
        let candidates = target
            .hints
            .iter()
            .copied()
            .chain(super::verifier::ranked(answered))
            .chain(self.evidence.iter().copied())
            .chain(super::REGION_DOMAINS.iter().copied());
        for d in candidates {
            if !order.contains(&d) {
                order.push(d);
            }
        }
        order
    }

    /// Check a target region by region in the order of evidence ([`Self::region_order`]),
    /// stopping at the first region that knows the client, or when the run's cap on token
    /// requests is spent. A minted token is read for org and client name, then deleted (not in
    /// a dry run, which contacts nothing but the token endpoint).
    pub(crate) fn verify_target(&mut self, target: &Target) -> Verification {
        let order = self.region_order(target);
        let checked_at = audit::now_rfc3339();
        let mut last_region = None;
        let mut throttled: Option<String> = None;
        let mut unknown: Option<String> = None;
        let mut tried = 0usize;
        let mut capped = false;
        for domain in order {
            if self.summary.token_requests >= self.opts.max_token_requests {
                capped = true;
                break;
            }
            self.summary.token_requests += 1;
            tried += 1;
            last_region = Some(domain);
            let answer = self.token_request(
                target,
                &target.client_id,
                &target.secret,
                domain,
                AuditAction::Verify,
            );
            match answer {
                TokenAnswer::Live(token) => {
                    let mut v = Verification {
                        status: VerificationStatus::Active,
                        region: Some(domain.to_string()),
                        org: None,
                        client_name: None,
                        checked_at,
                        reason: None,
                    };
                    if self.dry_run() {
                        v.reason = Some(
                            "dry run: org and client name not read (token endpoint only)"
                                .to_string(),
                        );
                    } else {
                        let (org, name) = self.token_info(target, domain, &token);
                        v.org = org;
                        v.client_name = name;
                        self.delete_token(target, domain, &token, AuditAction::TokenDelete);
                    }
                    return v;
                }
                TokenAnswer::Unconfirmed => {
                    // Client ids are unique across regions: no other region will know it.
                    return Verification {
                        status: VerificationStatus::Unconfirmed,
                        region: Some(domain.to_string()),
                        org: None,
                        client_name: None,
                        checked_at,
                        reason: Some(UNCONFIRMED_REASON.to_string()),
                    };
                }
                TokenAnswer::Refused => {}
                TokenAnswer::Throttled(r) => {
                    throttled.get_or_insert(format!("{domain}: {r}"));
                }
                TokenAnswer::Unknown(r) => {
                    unknown.get_or_insert(format!("{domain}: {r}"));
                }
                TokenAnswer::Paused(r) => {
                    unknown = Some(match unknown {
                        Some(first) => format!("{first}; then {r}"),
                        None => r,
                    });
                    break;
                }
            }
        }
        let regions = super::REGION_DOMAINS.len();
        let cap_note = capped.then(|| {
            format!(
                "left unchecked in {} of {regions} regions: the cap of {} token requests per run was reached",
                regions - tried,
                self.opts.max_token_requests
            )
        });
        if capped {
            self.summary.capped += 1;
        }
        let (status, reason) = match (throttled, unknown, cap_note) {
            (Some(t), _, note) => (VerificationStatus::RateLimited, Some(join(t, note))),
            (None, Some(u), note) => (VerificationStatus::Indeterminate, Some(join(u, note))),
            (None, None, Some(note)) => (VerificationStatus::Skipped, Some(note)),
            (None, None, None) => (VerificationStatus::Invalid, None),
        };
        Verification {
            status,
            region: last_region.map(str::to_string),
            org: None,
            client_name: None,
            checked_at,
            reason: reason.map(|r| scrub(&r, &target.secret)),
        }
    }

    /// `GET /api/v2/tokens/me`: the org name and the client name, when Genesys says.
    pub(crate) fn token_info(
        &mut self,
        target: &Target,
        domain: &'static str,
        token: &Token,
    ) -> (Option<String>, Option<String>) {
        let call = Call {
            method: Method::Get,
            service: Service::Api,
            domain,
            path: "/api/v2/tokens/me",
            auth: Auth::Bearer(token),
            body: None,
            keep_body: true,
        };
        match self.http.send(&call) {
            Ok(reply) if reply.status == 200 => {
                self.record(
                    target,
                    Some(domain),
                    AuditAction::TokenInfo,
                    Some(200),
                    AuditOutcome::Ok,
                    None,
                );
                let j = reply.json();
                let named = |v: &serde_json::Value| {
                    v.get("name")
                        .or_else(|| v.get("id"))
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                };
                // Names are server text: kept only when plainly a name (see `plain_name`).
                let keep = |n: Option<String>| n.and_then(|n| plain_name(&n, target));
                let org = keep(j.get("organization").and_then(named));
                let client = keep(
                    ["OAuthClient", "oAuthClient", "oauthClient"]
                        .iter()
                        .find_map(|k| j.get(*k))
                        .and_then(named),
                );
                (org, client)
            }
            Ok(reply) => {
                self.record(
                    target,
                    Some(domain),
                    AuditAction::TokenInfo,
                    Some(reply.status),
                    AuditOutcome::Failed,
                    None,
                );
                (None, None)
            }
            Err(e) => {
                self.record(
                    target,
                    Some(domain),
                    AuditAction::TokenInfo,
                    e.status(),
                    AuditOutcome::Failed,
                    Some(e.reason()),
                );
                (None, None)
            }
        }
    }

    /// `DELETE /api/v2/tokens/me`: destroy a token this run minted. A failure is a warning.
    pub(crate) fn delete_token(
        &mut self,
        target: &Target,
        domain: &'static str,
        token: &Token,
        action: AuditAction,
    ) -> bool {
        let call = Call {
            method: Method::Delete,
            service: Service::Api,
            domain,
            path: "/api/v2/tokens/me",
            auth: Auth::Bearer(token),
            body: None,
            keep_body: false,
        };
        let (ok, status, detail) = match self.http.send(&call) {
            Ok(reply) => ((200..300).contains(&reply.status), Some(reply.status), None),
            Err(e) => (false, e.status(), Some(e.reason())),
        };
        self.record(
            target,
            Some(domain),
            action,
            status,
            if ok {
                AuditOutcome::Ok
            } else {
                AuditOutcome::Failed
            },
            detail.clone(),
        );
        if !ok {
            self.warn(format!(
                "could not delete the token minted while checking client {} in {domain} ({}); it stays valid until it expires",
                target.client_id,
                detail.unwrap_or_else(|| format!("HTTP {}", status.unwrap_or(0)))
            ));
        }
        ok
    }
}

/// `first`, then `; note` when there is one.
fn join(first: String, note: Option<String>) -> String {
    match note {
        Some(n) => format!("{first}; {n}"),
        None => first,
    }
}

/// What a token endpoint answer means. Reasons hold the status and, at most, an allowlisted
/// OAuth error code; descriptions and bodies are never repeated.
fn classify(status: u16, j: &serde_json::Value) -> TokenAnswer {
    let error = j.get("error").and_then(|v| v.as_str());
    match (status, error) {
        (200, _) => match j.get("access_token").and_then(|v| v.as_str()) {
            Some(t) if !t.is_empty() => TokenAnswer::Live(Token::new(t.to_string())),
            _ => TokenAnswer::Unknown("HTTP 200 without an access token".to_string()),
        },
        (400 | 401, Some("invalid_client")) => TokenAnswer::Refused,
        (400 | 401, Some("unauthorized_client")) => TokenAnswer::Unconfirmed,
        (401, None) => TokenAnswer::Refused,
        (s, Some(e)) => match OAUTH_ERRORS.iter().find(|k| **k == e) {
            Some(code) => TokenAnswer::Unknown(format!("HTTP {s} {code}")),
            None => TokenAnswer::Unknown(format!("HTTP {s} with an unrecognised error code")),
        },
        (s, None) => TokenAnswer::Unknown(format!("HTTP {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers() {
        assert!(matches!(
            classify(200, &json!({"access_token": "t"})),
            TokenAnswer::Live(_)
        ));
        assert!(matches!(classify(200, &json!({})), TokenAnswer::Unknown(_)));
        assert!(matches!(
            classify(400, &json!({"error": "invalid_client"})),
            TokenAnswer::Refused
        ));
        assert!(matches!(
            classify(400, &json!({"error": "unauthorized_client"})),
            TokenAnswer::Unconfirmed
        ));
        match classify(
            400,
            &json!({"error": "x-echo-of-a-value", "description": "d"}),
        ) {
            TokenAnswer::Unknown(r) => {
                assert_eq!(r, "HTTP 400 with an unrecognised error code");
            }
            other => panic!("{other:?}"),
        }
        match classify(
            403,
            &json!({"error": "access_denied", "description": "echo"}),
        ) {
            TokenAnswer::Unknown(r) => assert_eq!(r, "HTTP 403 access_denied"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(400, &json!({"error": "invalid_grant"})),
            TokenAnswer::Unknown(_)
        ));
        assert!(matches!(
            classify(500, &json!(null)),
            TokenAnswer::Unknown(_)
        ));
        assert!(matches!(
            classify(302, &json!(null)),
            TokenAnswer::Unknown(_)
        ));
    }
}
