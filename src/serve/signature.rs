//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook secret, checked in
//! constant time before anything reads the body.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The webhook secret shared with GitHub. Its `Debug` hides it and it has no `Display`.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Wrap a secret; `None` when it is empty (a service that accepted unsigned deliveries
    /// would act on anyone's word).
    pub fn new(secret: &str) -> Option<Self> {
        (!secret.is_empty()).then(|| WebhookSecret(secret.as_bytes().to_vec()))
    }

    /// True when `header` (`sha256=<64 hex digits>`) is the HMAC of `body` under this secret.
    /// The comparison takes the same time whatever the digits.
    pub fn verifies(&self, body: &[u8], header: Option<&[u8]>) -> bool {
        let Some(hex) = header.and_then(|h| h.strip_prefix(b"sha256=")) else {
            return false;
        };
        let hex = hex.trim_ascii();
        let mut expected = [0u8; 32];
        if hex.len() != 64 || faster_hex::hex_decode(hex, &mut expected).is_err() {
            return false;
        }
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }

    /// The header value GitHub would send for `body` (for tests and the load generator).
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(body);
        format!(
            "sha256={}",
            faster_hex::hex_string(&mac.finalize().into_bytes())
        )
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(*****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_and_tampering() {
        // RFC 4231 test case 2: key "Jefe".
        let s = WebhookSecret::new("Jefe").unwrap();
        let body = b"what do ya want for nothing?";
        let good = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(s.sign(body), good);
        assert!(s.verifies(body, Some(good.as_bytes())));
        assert!(s.verifies(
            body,
            Some(good.to_uppercase().replace("SHA256", "sha256").as_bytes())
        ));
        assert!(!s.verifies(b"what do ya want for nothing!", Some(good.as_bytes())));
        let mut flipped = good.as_bytes().to_vec();
        *flipped.last_mut().unwrap() = b'2';
        assert!(!s.verifies(body, Some(&flipped)));
        assert!(!s.verifies(body, None));
        assert!(!s.verifies(body, Some(b"sha1=abc")));
        assert!(!s.verifies(body, Some(&good.as_bytes()[..70])));
        assert!(!WebhookSecret::new("other")
            .unwrap()
            .verifies(body, Some(good.as_bytes())));
        assert!(WebhookSecret::new("").is_none());
        assert_eq!(format!("{s:?}"), "WebhookSecret(*****)");
    }
}
