//! The notice a webhook gets per revocation attempt on a Genesys client: which client, where
//! the secret was found, what to do next. Holds no secret.

use super::verifier::GenesysVerifier;
use crate::finding::{Revocation, RevocationStatus, RevokeAction, Verification};
use crate::verify::Target;

/// The message for one revocation attempt. Holds no secret.
pub(crate) fn message(
    target: &Target,
    domain: &str,
    verification: &Verification,
    revocation: &Revocation,
    action: RevokeAction,
) -> String {
    let who = match (&verification.client_name, &verification.org) {
        (Some(n), Some(o)) => format!(" ({n}, org {o})"),
        (Some(n), None) => format!(" ({n})"),
        (None, Some(o)) => format!(" (org {o})"),
        (None, None) => String::new(),
    };
    let done = match action {
        RevokeAction::Disable => "was disabled (its tokens no longer work)",
        RevokeAction::Rotate => "got a new secret (the leaked one no longer works)",
        RevokeAction::Delete => "was deleted",
    };
    let head = match revocation.status {
        RevocationStatus::Revoked => format!(
            "leakgate contained a leaked Genesys Cloud OAuth client: {}{who} in {domain} {done}.",
            target.client_id
        ),
        _ => format!(
            "leakgate: FAILED to contain leaked Genesys Cloud OAuth client {}{who} in {domain} ({}): {}. The secret is still live; act now.",
            target.client_id,
            action.as_str(),
            revocation.reason.as_deref().unwrap_or("unknown reason")
        ),
    };
    let mut places: Vec<String> = target
        .places
        .iter()
        .take(5)
        .map(|p| {
            let mut s = p.path.clone();
            if let Some(c) = p.commit {
                s.push_str(&format!(" at commit {}", c.short()));
            }
            if let Some(e) = p.email.as_deref().filter(|e| !e.is_empty()) {
                s.push_str(&format!(" by {e}"));
            }
            s
        })
        .collect();
    if target.places.len() > 5 {
        places.push(format!("and {} more", target.places.len() - 5));
    }
    let found = if places.is_empty() {
        String::new()
    } else {
        format!(" Found in {}.", places.join("; "))
    };
    format!(
        "{head}{found} Next: create a new client secret, store it in a secrets manager, update the integration to read it from there, never commit it, and remove the old one from Git history."
    )
}

impl GenesysVerifier {
    /// Tell the webhook about a revocation attempt; a failure is a warning.
    pub(crate) fn notify(
        &mut self,
        target: &Target,
        domain: &str,
        verification: &Verification,
        revocation: &Revocation,
    ) {
        let Some(action) = self.opts.revoke.as_ref().map(|r| r.action) else {
            return;
        };
        let Some(n) = &self.notifier else { return };
        let text = message(target, domain, verification, revocation, action);
        if let Err(e) = n.post(&text) {
            let w = format!("notifying about client {}: {e}", target.client_id);
            self.warn(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Place, Secret};

    #[test]
    fn message_names_place_commit_author_and_next_steps() {
        let target = Target {
            client_id: "c1".into(),
            secret: Secret::new("s3cr3t-value"),
            hints: Vec::new(),
            fingerprint: None,
            rule: None,
            places: vec![Place {
                path: "config/app.env".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".parse().unwrap()),
                email: Some("dev@example.com".into()),
            }],
        };
        let v = Verification {
            status: crate::finding::VerificationStatus::Active,
            region: Some("mypurecloud.ie".into()),
            org: Some("Acme".into()),
            client_name: Some("sync".into()),
            checked_at: String::new(),
            reason: None,
        };
        let mut r = Revocation {
            status: RevocationStatus::Revoked,
            action: RevokeAction::Disable,
            at: String::new(),
            reason: None,
        };
        let m = message(&target, "mypurecloud.ie", &v, &r, RevokeAction::Disable);
        assert!(
            m.contains("c1 (sync, org Acme) in mypurecloud.ie was disabled"),
            "{m}"
        );
        assert!(
            m.contains("config/app.env at commit 0123456789ab by dev@example.com"),
            "{m}"
        );
        assert!(
            m.contains("secrets manager") && m.contains("never commit"),
            "{m}"
        );
        assert!(!m.contains("s3cr3t"));
        r.status = RevocationStatus::RevokeFailed;
        r.reason = Some("the leaked pair is still accepted".into());
        let m = message(&target, "mypurecloud.ie", &v, &r, RevokeAction::Disable);
        assert!(m.contains("FAILED") && m.contains("still accepted"), "{m}");
    }
}
