//! Rotating a client's secret (`leakgate genesys rotate`, `leakgate genesys decoy rotate`).
//!
//! The Genesys Platform API keeps one secret per OAuth client: the SDK documents only `POST
//! /api/v2/oauth/clients/{clientId}/secret` ("Regenerate Client Secret ... All clients must be
//! updated with the new secret"; permission `oauth:client:edit`), which replaces the secret at
//! once. Seed 002's `/secrets` collection with two overlapping secrets is not in the SDK
//! documentation, so there is no create-new / delete-old window: the old secret dies when the
//! new one is made, and the rotation hands the new one over immediately (to a file or a
//! `--to-command` hook), then proves it with a token request.

use super::handover::{Handover, HandoverError};
use super::posture::{is_path_segment, ApiError, Session};
use super::token::TokenAnswer;
use crate::verify::audit::{AuditAction, AuditOutcome};
use crate::verify::client::Method;
use crate::verify::{Secret, Target};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// Why a rotation stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("client {0} not found in this region")]
    NotFound(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the new secret cannot be handed over, nothing was rotated")]
    Preflight(#[source] HandoverError),
    /// The secret was regenerated but not delivered: the old one is dead, the new one lost.
    #[error("the secret of {client_id} WAS regenerated but could not be handed over; the old secret no longer works: fix the hand-over and rotate again")]
    Undelivered {
        client_id: String,
        #[source]
        source: HandoverError,
    },
    #[error(
        "the regenerate answer held no secret; the old secret may no longer work: rotate again"
    )]
    NoSecret,
}

/// Whether the new secret was proven with a token request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum Confirmation {
    /// A token was issued for the new secret (and deleted).
    Live,
    /// No token after the re-checks; why.
    NotConfirmed(String),
    /// Not attempted; why (a decoy's token request would raise its own alarm).
    Skipped(String),
}

/// What a rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    pub client_id: String,
    pub client_name: Option<String>,
    /// Where the new secret went (never the secret).
    pub delivered: String,
    pub confirmation: Confirmation,
}

impl Session {
    /// Regenerate the secret of `id`, hand it over once, then (when `confirm`) prove it live
    /// with a token request. Every step is in the audit log.
    pub fn rotate_client(
        &mut self,
        id: &str,
        handover: &Handover,
        out: &mut dyn Write,
        confirm: bool,
    ) -> Result<Rotation, RotateError> {
        if !is_path_segment(id) {
            return Err(RotateError::NotFound(id.to_string()));
        }
        handover.preflight().map_err(RotateError::Preflight)?;
        let client = self
            .get_client(id)?
            .ok_or_else(|| RotateError::NotFound(id.to_string()))?;
        let reply = self.call(
            AuditAction::Rotate,
            id,
            Method::Post,
            &format!("/api/v2/oauth/clients/{id}/secret"),
            None,
            &format!("regenerating the secret of {id}"),
            "oauth:client:edit",
        )?;
        let secret = reply
            .json()
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        drop(reply);
        let Some(secret) = secret else {
            return Err(RotateError::NoSecret);
        };
        let delivered = self.deliver(id, &secret, handover, out).map_err(|source| {
            RotateError::Undelivered {
                client_id: id.to_string(),
                source,
            }
        })?;
        let confirmation = if !confirm {
            Confirmation::Skipped(
                "a decoy is never used: its token request would raise its own alarm".into(),
            )
        } else if !client.is_client_credentials() {
            Confirmation::Skipped(
                "not a client-credentials client: the token endpoint cannot check it".into(),
            )
        } else {
            match self.confirm_secret(id, &secret) {
                Ok(()) => Confirmation::Live,
                Err(why) => Confirmation::NotConfirmed(why),
            }
        };
        Ok(Rotation {
            client_id: id.to_string(),
            client_name: client.name,
            delivered,
            confirmation,
        })
    }

    /// Record that rotating `id` was refused, and why (nothing is sent).
    pub fn refuse_rotation(&mut self, id: &str, why: &str) {
        self.note(
            id,
            AuditAction::Rotate,
            AuditOutcome::Protected,
            why.to_string(),
        );
    }

    /// Hand `secret` (of client `id`) over and record where it went (or why it did not) in the
    /// audit log.
    pub fn deliver(
        &mut self,
        id: &str,
        secret: &Secret,
        handover: &Handover,
        out: &mut dyn Write,
    ) -> Result<String, HandoverError> {
        let result = handover.deliver(secret, out);
        let (outcome, detail) = match &result {
            Ok(d) => (AuditOutcome::Ok, d.clone()),
            Err(e) => (AuditOutcome::Failed, e.to_string()),
        };
        self.note(id, AuditAction::Handover, outcome, detail);
        result
    }

    /// Ask the token endpoint for a token with the new secret until one is issued (changes
    /// take a moment to reach every login node); the token is deleted at once.
    fn confirm_secret(&mut self, id: &str, secret: &Secret) -> Result<(), String> {
        let target = Target {
            client_id: id.to_string(),
            secret: secret.clone(),
            hints: Vec::new(),
            fingerprint: None,
            rule: None,
            places: Vec::new(),
        };
        let attempts = self.v.opts.recheck_attempts.max(1);
        let mut last = String::new();
        for n in 0..attempts {
            if n > 0 {
                self.v.http.pause(Duration::from_secs(1 << (n - 1).min(4)));
            }
            match self
                .v
                .token_request(&target, id, secret, self.domain, AuditAction::ConfirmSecret)
            {
                TokenAnswer::Live(token) => {
                    self.v
                        .delete_token(&target, self.domain, &token, AuditAction::TokenDelete);
                    return Ok(());
                }
                TokenAnswer::Refused => last = "the new secret was refused".into(),
                TokenAnswer::Unconfirmed => {
                    return Err("unauthorized_client: not a client-credentials client".into())
                }
                TokenAnswer::Throttled(r) | TokenAnswer::Unknown(r) => last = r,
                TokenAnswer::Paused(r) => return Err(r),
            }
        }
        Err(format!("after {attempts} token request(s): {last}"))
    }
}
