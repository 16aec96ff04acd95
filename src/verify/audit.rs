//! The audit log: one JSON line per verify or revoke step, appended. Records name the
//! credential by client id and fingerprint, never by secret or token.

use super::VerifyError;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// One step: a token check in a region, a token read or delete, an admin call, a re-check.
#[derive(Debug, Serialize)]
pub struct AuditRecord<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    /// Fingerprint of the (first) finding holding the credential.
    pub fingerprint: Option<&'a str>,
    pub rule: Option<&'a str>,
    pub client_id: &'a str,
    /// Region domain the step went to.
    pub region: Option<&'a str>,
    pub action: AuditAction,
    pub http_status: Option<u16>,
    pub outcome: AuditOutcome,
    pub dry_run: bool,
    /// A short reason, scrubbed of the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The step a record is about; serialised in `snake_case` (`token_info`), as the log has always
/// written them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A token check of the leaked pair.
    Verify,
    /// `GET /api/v2/tokens/me` with the token the check minted.
    TokenInfo,
    /// `DELETE /api/v2/tokens/me` of a minted token.
    TokenDelete,
    /// The admin client's own token request.
    AdminToken,
    /// Reading the leaked client through the admin API.
    GetClient,
    Disable,
    Rotate,
    /// Setting the client `inactive` before deleting it.
    Deactivate,
    Delete,
    /// The token check after containment.
    Recheck,
    AdminTokenDelete,
    /// A page of the org's OAuth client listing (`genesys audit`).
    ListClients,
    /// Reading a role of a client.
    GetRole,
    /// The usage summary of a client, and its polls.
    Usage,
    /// Creating a client (`genesys decoy create`).
    CreateClient,
    /// A new secret handed over (to a file, standard output or a command); never the secret.
    Handover,
    /// The token check of a new secret after a rotation.
    ConfirmSecret,
    /// `leakgate serve`: the GitHub alert resolved as revoked.
    AlertResolve,
    /// `leakgate serve`: the note of a GitHub alert left open (GitHub takes comments only when
    /// resolving).
    AlertNote,
}

impl AuditAction {
    /// The name the log writes.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Verify => "verify",
            AuditAction::TokenInfo => "token_info",
            AuditAction::TokenDelete => "token_delete",
            AuditAction::AdminToken => "admin_token",
            AuditAction::GetClient => "get_client",
            AuditAction::Disable => "disable",
            AuditAction::Rotate => "rotate",
            AuditAction::Deactivate => "deactivate",
            AuditAction::Delete => "delete",
            AuditAction::Recheck => "recheck",
            AuditAction::AdminTokenDelete => "admin_token_delete",
            AuditAction::ListClients => "list_clients",
            AuditAction::GetRole => "get_role",
            AuditAction::Usage => "usage",
            AuditAction::CreateClient => "create_client",
            AuditAction::Handover => "handover",
            AuditAction::ConfirmSecret => "confirm_secret",
            AuditAction::AlertResolve => "alert_resolve",
            AuditAction::AlertNote => "alert_note",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<super::RevokeAction> for AuditAction {
    fn from(a: super::RevokeAction) -> Self {
        match a {
            super::RevokeAction::Disable => AuditAction::Disable,
            super::RevokeAction::Rotate => AuditAction::Rotate,
            super::RevokeAction::Delete => AuditAction::Delete,
        }
    }
}

/// How a step ended; serialised in `snake_case` (`rate_limited`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// A token was issued: the pair is live.
    Active,
    /// `unauthorized_client`: the client exists, the secret is not proven.
    Unconfirmed,
    /// `invalid_client`: not this pair in this region.
    Refused,
    RateLimited,
    Indeterminate,
    Decoy,
    Ok,
    Failed,
    Protected,
    DryRun,
    /// Not sent: the circuit breaker was open.
    NotSent,
}

/// An append-only JSON-lines file.
#[derive(Debug)]
pub struct AuditLog {
    file: File,
}

impl AuditLog {
    /// Open (creating, owner-only on Unix) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, VerifyError> {
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let file = o.open(path).map_err(|source| VerifyError::Audit {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(AuditLog { file })
    }

    /// Append one record as one line, in a single write.
    pub fn write(&mut self, rec: &AuditRecord<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(rec)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()
    }
}

/// The current time, RFC 3339 in UTC to the second.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// `t` as RFC 3339 in UTC to the second, e.g. `2024-05-01T02:03:04Z` (a clock before 1970 reads
/// as 1970).
pub fn rfc3339(t: SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(t.max(UNIX_EPOCH)).unwrap_or(jiff::Timestamp::MAX);
    // `%S` is whole seconds: the fraction is dropped, as the records have always shown.
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199); // leap year
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_999);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z", "to the second");
    }
}

#[cfg(test)]
mod enum_tests {
    use super::*;

    #[test]
    fn actions_and_outcomes_serialise_as_the_log_always_wrote_them() {
        use AuditAction::*;
        for a in [
            Verify,
            TokenInfo,
            TokenDelete,
            AdminToken,
            GetClient,
            Disable,
            Rotate,
            Deactivate,
            Delete,
            Recheck,
            AdminTokenDelete,
            ListClients,
            GetRole,
            Usage,
            CreateClient,
            Handover,
            ConfirmSecret,
            AlertResolve,
            AlertNote,
        ] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(
            serde_json::to_value(AuditOutcome::RateLimited).unwrap(),
            "rate_limited"
        );
        assert_eq!(
            serde_json::to_value(AuditOutcome::NotSent).unwrap(),
            "not_sent"
        );
        assert_eq!(
            serde_json::to_value(AuditOutcome::DryRun).unwrap(),
            "dry_run"
        );
        assert_eq!(serde_json::to_value(AuditOutcome::Ok).unwrap(), "ok");
    }
}
