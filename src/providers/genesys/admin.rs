//! Containment through the admin API: disable, rotate or delete the leaked client, then
//! re-check that the leaked pair is now refused.

use super::token::TokenAnswer;
use super::verifier::GenesysVerifier;
use crate::finding::{Revocation, RevocationStatus, RevokeAction, Verification};
use crate::verify::audit::{AuditAction, AuditOutcome};
use crate::verify::client::{Auth, Call, Method, Reply, Service};
use crate::verify::{revocation, scrub, RevokeOptions, Target, Token};
use std::time::Duration;

/// Why a containment step failed.
type StepResult<T> = Result<T, String>;

impl GenesysVerifier {
    /// Contain a live credential found in `domain`: protection checks, dry run, the action,
    /// then the re-check. Notifies the webhook of real attempts.
    pub(crate) fn revoke(
        &mut self,
        opts: &RevokeOptions,
        target: &Target,
        domain: &'static str,
        verification: &Verification,
    ) -> Revocation {
        let action = AuditAction::from(opts.action);
        let admin_id = opts.admin.as_ref().map(|a| a.client_id.as_str());
        let protected_reason =
            if admin_id.is_some_and(|a| a.eq_ignore_ascii_case(&target.client_id)) {
                Some("the admin client itself is never revoked")
            } else if self
                .opts
                .providers
                .genesys
                .protected_client_ids
                .iter()
                .any(|p| p.trim().eq_ignore_ascii_case(&target.client_id))
            {
                Some("listed in [genesys] protected_client_ids")
            } else {
                None
            };
        if let Some(why) = protected_reason {
            self.record(
                target,
                Some(domain),
                action,
                None,
                AuditOutcome::Protected,
                Some(why.into()),
            );
            return revocation(
                opts.action,
                RevocationStatus::Protected,
                Some(why.to_string()),
            );
        }
        if opts.dry_run {
            let what = match opts.action {
                RevokeAction::Disable => "set client state to disabled",
                RevokeAction::Rotate => "regenerate the client secret",
                RevokeAction::Delete => "set client state to inactive, then delete the client",
            };
            let why = format!(
                "dry run: would {what} for {} in {domain}, then re-check the leaked pair",
                target.client_id
            );
            self.record(
                target,
                Some(domain),
                action,
                None,
                AuditOutcome::DryRun,
                Some(why.clone()),
            );
            return revocation(opts.action, RevocationStatus::DryRun, Some(why));
        }
        let result = self
            .contain(target, domain, opts.action)
            .and_then(|()| self.recheck(target, domain));
        let r = match result {
            Ok(()) => revocation(opts.action, RevocationStatus::Revoked, None),
            Err(why) => {
                let why = scrub(&why, &target.secret);
                revocation(opts.action, RevocationStatus::RevokeFailed, Some(why))
            }
        };
        self.notify(target, domain, verification, &r);
        r
    }

    /// The admin calls for one action.
    fn contain(
        &mut self,
        target: &Target,
        domain: &'static str,
        action: RevokeAction,
    ) -> StepResult<()> {
        self.admin_token(domain)?;
        let path = format!("/api/v2/oauth/clients/{}", target.client_id);
        let client = self.admin_call(
            target,
            domain,
            AuditAction::GetClient,
            Method::Get,
            &path,
            None,
            true,
        )?;
        if client.status == 404 {
            return Err(format!(
                "client {} not found by the admin client in {domain} (another org?)",
                target.client_id
            ));
        }
        expect_ok(&client, "reading the client")?;
        let record = client.json();
        match action {
            RevokeAction::Disable => self.put_state(target, domain, &path, &record, "disabled"),
            RevokeAction::Rotate => {
                // The answer holds the new secret: drained unread.
                let reply = self.admin_call(
                    target,
                    domain,
                    AuditAction::Rotate,
                    Method::Post,
                    &format!("{path}/secret"),
                    None,
                    false,
                )?;
                expect_ok(&reply, "rotating the secret")
            }
            RevokeAction::Delete => {
                self.put_state(target, domain, &path, &record, "inactive")?;
                let reply = self.admin_call(
                    target,
                    domain,
                    AuditAction::Delete,
                    Method::Delete,
                    &path,
                    None,
                    false,
                )?;
                expect_ok(&reply, "deleting the client")
            }
        }
    }

    /// `PUT` the client as read, with a new state (name, grant type, roles kept; the secret
    /// field, if any, left out).
    fn put_state(
        &mut self,
        target: &Target,
        domain: &'static str,
        path: &str,
        record: &serde_json::Value,
        state: &str,
    ) -> StepResult<()> {
        let mut body = match record {
            serde_json::Value::Object(m) => m.clone(),
            _ => return Err("the client record is not a JSON object".to_string()),
        };
        for field in ["name", "authorizedGrantType"] {
            if body.get(field).and_then(|v| v.as_str()).is_none() {
                return Err(format!("the client record lacks {field}"));
            }
        }
        body.remove("secret");
        body.insert("state".into(), serde_json::Value::String(state.into()));
        let step = if state == "disabled" {
            AuditAction::Disable
        } else {
            AuditAction::Deactivate
        };
        let reply = self.admin_call(
            target,
            domain,
            step,
            Method::Put,
            path,
            Some(serde_json::Value::Object(body).to_string()),
            false,
        )?;
        expect_ok(&reply, &format!("setting the client {state}"))
    }

    /// Check the leaked pair again until it is refused. A token minted meanwhile is deleted.
    fn recheck(&mut self, target: &Target, domain: &'static str) -> StepResult<()> {
        let attempts = self.opts.recheck_attempts.max(1);
        let mut last = String::new();
        for n in 0..attempts {
            if n > 0 {
                // Changes take a moment to reach every login node.
                self.http.pause(Duration::from_secs(1 << (n - 1).min(4)));
            }
            match self.token_request(
                target,
                &target.client_id,
                &target.secret,
                domain,
                AuditAction::Recheck,
            ) {
                TokenAnswer::Refused => return Ok(()),
                TokenAnswer::Live(token) => {
                    self.delete_token(target, domain, &token, AuditAction::TokenDelete);
                    last = "the leaked pair is still accepted".to_string();
                }
                TokenAnswer::Unconfirmed => {
                    last = "re-check inconclusive: unauthorized_client".to_string();
                }
                TokenAnswer::Throttled(r) | TokenAnswer::Unknown(r) => {
                    last = format!("re-check inconclusive: {r}");
                }
                TokenAnswer::Paused(r) => return Err(format!("re-check not sent: {r}")),
            }
        }
        Err(format!("after {attempts} re-check(s): {last}"))
    }

    /// A cached admin token for `domain`, fetched on first use.
    pub(super) fn admin_token(&mut self, domain: &'static str) -> StepResult<()> {
        if let Some(t) = self.admin_tokens.get(domain) {
            return t.as_ref().map(|_| ()).map_err(Clone::clone);
        }
        let Some(admin) = self.opts.revoke.as_ref().and_then(|r| r.admin.clone()) else {
            return Err("no admin credentials".to_string());
        };
        let call = Call {
            method: Method::Post,
            service: Service::Login,
            domain,
            path: "/oauth/token",
            auth: Auth::Basic(&admin.client_id, &admin.secret),
            body: Some((
                "application/x-www-form-urlencoded",
                "grant_type=client_credentials".to_string(),
            )),
            keep_body: true,
        };
        let admin_target = admin_target(&admin.client_id);
        let result = match self.http.send(&call) {
            Ok(reply) => {
                let token = (reply.status == 200)
                    .then(|| reply.json())
                    .and_then(|j| j.get("access_token")?.as_str().map(str::to_string))
                    .filter(|t| !t.is_empty());
                let outcome = if token.is_some() {
                    AuditOutcome::Ok
                } else {
                    AuditOutcome::Failed
                };
                self.record(
                    &admin_target,
                    Some(domain),
                    AuditAction::AdminToken,
                    Some(reply.status),
                    outcome,
                    None,
                );
                token.map(Token::new).ok_or_else(|| {
                    format!(
                        "the admin client got no token in {domain} (HTTP {}); check LEAKGATE_GENESYS_ADMIN_CLIENT_ID/SECRET and that it lives in this region",
                        reply.status
                    )
                })
            }
            Err(e) => {
                self.record(
                    &admin_target,
                    Some(domain),
                    AuditAction::AdminToken,
                    e.status(),
                    AuditOutcome::Failed,
                    Some(e.reason()),
                );
                Err(format!("admin token in {domain}: {}", e.reason()))
            }
        };
        let result = result.map_err(|e| scrub(&e, &admin.secret));
        let out = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.admin_tokens.insert(domain, result);
        out
    }

    /// One admin API call with the region's admin token, audited.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn admin_call(
        &mut self,
        target: &Target,
        domain: &'static str,
        step: AuditAction,
        method: Method,
        path: &str,
        json: Option<String>,
        keep_body: bool,
    ) -> StepResult<Reply> {
        let token = match self.admin_tokens.get(domain) {
            Some(Ok(t)) => Token::new(t.expose().to_string()),
            _ => return Err("no admin token".to_string()),
        };
        let call = Call {
            method,
            service: Service::Api,
            domain,
            path,
            auth: Auth::Bearer(&token),
            body: json.map(|j| ("application/json", j)),
            keep_body,
        };
        match self.http.send(&call) {
            Ok(reply) => {
                let ok = (200..300).contains(&reply.status);
                self.record(
                    target,
                    Some(domain),
                    step,
                    Some(reply.status),
                    if ok {
                        AuditOutcome::Ok
                    } else {
                        AuditOutcome::Failed
                    },
                    None,
                );
                Ok(reply)
            }
            Err(e) => {
                self.record(
                    target,
                    Some(domain),
                    step,
                    e.status(),
                    AuditOutcome::Failed,
                    Some(e.reason()),
                );
                Err(format!("{step}: {}", e.reason()))
            }
        }
    }

    /// Delete every admin token this run minted.
    pub(crate) fn release_admin_tokens(&mut self) {
        let Some(admin_id) = self
            .opts
            .revoke
            .as_ref()
            .and_then(|r| r.admin.as_ref())
            .map(|a| a.client_id.clone())
        else {
            return;
        };
        let target = admin_target(&admin_id);
        let mut tokens: Vec<_> = self.admin_tokens.drain().collect();
        tokens.sort_by_key(|(d, _)| *d);
        for (domain, token) in tokens {
            if let Ok(token) = token {
                self.delete_token(&target, domain, &token, AuditAction::AdminTokenDelete);
            }
        }
    }
}

/// The admin client (or any client id the admin API is asked about) as an audit subject.
pub(super) fn admin_target(client_id: &str) -> Target {
    Target {
        client_id: client_id.to_string(),
        secret: crate::verify::Secret::new(String::new()),
        hints: Vec::new(),
        fingerprint: None,
        rule: None,
        places: Vec::new(),
    }
}

fn expect_ok(reply: &Reply, what: &str) -> StepResult<()> {
    if (200..300).contains(&reply.status) {
        Ok(())
    } else {
        Err(format!("{what}: HTTP {}", reply.status))
    }
}
