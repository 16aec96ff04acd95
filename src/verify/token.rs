//! The token check (region by region, the hinted one first), reading `tokens/me` for the org and
//! client name, and deleting the token a check minted.

use super::client::{description, Auth, Call, CallError, Method, Service};
use super::{audit, scrub, Secret, Target, Token, Verification, VerificationStatus, Verifier};

/// What the token endpoint of one region said about a pair.
#[derive(Debug)]
pub(crate) enum TokenAnswer {
    /// 200 with a token, or `unauthorized_client` (authenticated, but no token).
    Live(Option<Token>),
    /// `invalid_client` (or 401): not this pair, not here.
    Refused,
    /// Still throttled after retries.
    Throttled(String),
    /// Timeouts, 5xx, unknown answers.
    Unknown(String),
    /// Not sent: the circuit breaker is open.
    Paused(String),
}

impl Verifier {
    /// Ask one region's token endpoint about a pair, and write the audit line for it.
    pub(crate) fn token_request(
        &mut self,
        target: &Target,
        client_id: &str,
        secret: &Secret,
        domain: &'static str,
        action: &str,
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
            TokenAnswer::Live(Some(_)) => ("active", None),
            TokenAnswer::Live(None) => ("active", Some("unauthorized_client".to_string())),
            TokenAnswer::Refused => ("refused", None),
            TokenAnswer::Throttled(r) => ("rate_limited", Some(r.clone())),
            TokenAnswer::Unknown(r) => ("indeterminate", Some(r.clone())),
            TokenAnswer::Paused(r) => ("not_sent", Some(r.clone())),
        };
        self.record(target, Some(domain), action, status, outcome, detail);
        answer
    }

    /// Check a target: the hinted region first, then the others one at a time, stopping at the
    /// first live answer. A minted token is read for org and client name, then deleted (not in
    /// a dry run, which contacts nothing but the token endpoint).
    pub(crate) fn verify_target(&mut self, target: &Target) -> Verification {
        let order: Vec<&'static str> = target
            .hint
            .into_iter()
            .chain(
                crate::genesys::REGION_DOMAINS
                    .iter()
                    .copied()
                    .filter(|d| Some(*d) != target.hint),
            )
            .collect();
        let checked_at = audit::now_rfc3339();
        let mut last_region = None;
        let mut throttled: Option<String> = None;
        let mut unknown: Option<String> = None;
        for domain in order {
            last_region = Some(domain);
            let answer =
                self.token_request(target, &target.client_id, &target.secret, domain, "verify");
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
                    match token {
                        Some(token) if !self.dry_run() => {
                            let (org, name) = self.token_info(target, domain, &token);
                            v.org = org;
                            v.client_name = name;
                            self.delete_token(target, domain, &token, "token_delete");
                        }
                        Some(_) => {
                            v.reason = Some(
                                "dry run: org and client name not read (token endpoint only)"
                                    .to_string(),
                            );
                        }
                        None => {
                            v.reason = Some(
                                "unauthorized_client: the secret authenticated, but the client is not a client-credentials client"
                                    .to_string(),
                            );
                        }
                    }
                    return v;
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
        let (status, reason) = match (throttled, unknown) {
            (Some(t), _) => (VerificationStatus::RateLimited, Some(t)),
            (None, Some(u)) => (VerificationStatus::Indeterminate, Some(u)),
            (None, None) => (VerificationStatus::Invalid, None),
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
                self.record(target, Some(domain), "token_info", Some(200), "ok", None);
                let j = reply.json();
                let named = |v: &serde_json::Value| {
                    v.get("name")
                        .or_else(|| v.get("id"))
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                };
                let org = j.get("organization").and_then(named);
                let client = ["OAuthClient", "oAuthClient", "oauthClient"]
                    .iter()
                    .find_map(|k| j.get(*k))
                    .and_then(named);
                (org, client)
            }
            Ok(reply) => {
                self.record(
                    target,
                    Some(domain),
                    "token_info",
                    Some(reply.status),
                    "failed",
                    None,
                );
                (None, None)
            }
            Err(e) => {
                self.record(
                    target,
                    Some(domain),
                    "token_info",
                    e.status(),
                    "failed",
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
        action: &str,
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
            if ok { "ok" } else { "failed" },
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

/// What a token endpoint answer means.
fn classify(status: u16, j: &serde_json::Value) -> TokenAnswer {
    let error = j.get("error").and_then(|v| v.as_str());
    match (status, error) {
        (200, _) => match j.get("access_token").and_then(|v| v.as_str()) {
            Some(t) if !t.is_empty() => TokenAnswer::Live(Some(Token(t.to_string()))),
            _ => TokenAnswer::Unknown("HTTP 200 without an access token".to_string()),
        },
        (400 | 401, Some("invalid_client")) => TokenAnswer::Refused,
        (400 | 401, Some("unauthorized_client")) => TokenAnswer::Live(None),
        (401, None) => TokenAnswer::Refused,
        (s, Some(e)) => {
            let d = description(j)
                .map(|d| format!(": {}", d.chars().take(120).collect::<String>()))
                .unwrap_or_default();
            TokenAnswer::Unknown(format!("HTTP {s} {e}{d}"))
        }
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
            TokenAnswer::Live(Some(_))
        ));
        assert!(matches!(classify(200, &json!({})), TokenAnswer::Unknown(_)));
        assert!(matches!(
            classify(400, &json!({"error": "invalid_client"})),
            TokenAnswer::Refused
        ));
        assert!(matches!(
            classify(400, &json!({"error": "unauthorized_client"})),
            TokenAnswer::Live(None)
        ));
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
