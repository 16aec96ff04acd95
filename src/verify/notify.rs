//! Notices to a chat webhook: one `{"text": ...}` post (the shape Slack and Teams accept) per
//! revocation attempt. A provider writes the message (where the secret was found, what to do
//! next); this is the delivery.

use super::client::{check_webhook_url, transport_reason, Agents};
use super::{VerifyError, VerifyOptions};

/// A webhook that accepts `{"text": ...}`.
pub struct Notifier {
    url: String,
    agents: Agents,
}

impl Notifier {
    /// Check the URL (https, or http to loopback) and build the client.
    pub fn new(url: &str, opts: &VerifyOptions) -> Result<Self, VerifyError> {
        // One parse decides the policy and (in `Agents`) the proxy bypass alike.
        check_webhook_url(url)?;
        Ok(Notifier {
            url: url.to_string(),
            agents: Agents::new(&opts.net),
        })
    }

    /// Post one message; the error is a short reason.
    pub fn post(&self, text: &str) -> Result<(), String> {
        self.post_json(&serde_json::json!({ "text": text }))
    }

    /// Post one JSON body (a `{"text": ...}` with more fields, for generic receivers); the
    /// error is a short reason.
    pub fn post_json(&self, body: &serde_json::Value) -> Result<(), String> {
        let body = body.to_string();
        let (agent, via) = self.agents.for_url(&self.url);
        let resp = agent
            .post(&self.url)
            .content_type("application/json")
            .send(body.as_str())
            .map_err(|e| format!("webhook not reached: {}", transport_reason(e, via)))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("webhook answered HTTP {status}"))
        }
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Webhook URLs carry their own credential in the path.
        f.write_str("Notifier(*****)")
    }
}
