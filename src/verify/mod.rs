//! The network core: the only code that sends anything anywhere, and only when asked.
//!
//! A [`Verifier`] runs every registered provider's [`CredentialVerifier`] (today
//! [`crate::providers::genesys::GenesysVerifier`]) over a scan's findings; each takes the
//! findings whose rule's `verify` field selects it, checks each credential once, attaches a
//! [`Verification`], and with [`RevokeOptions`] contains live ones and attaches a
//! [`Revocation`]. What they share lives here: the host policy, TLS, timeouts, spacing,
//! retries and breaker ([`client`]), the request cap, the audit log ([`audit`]), webhook
//! delivery ([`notify`]) and the scrubbing of server text. Secrets and tokens never leave a
//! verifier except inside the `Authorization` header of a request to an allowed host.

pub mod audit;
pub mod client;
pub mod notify;

pub use client::{
    check_webhook_url, HostUrl, NetOptions, ProxyEnv, UrlTemplate, DEFAULT_URL_TEMPLATE,
};

use crate::finding::{Finding, Revocation, RevocationStatus, Verification, VerificationStatus};
use std::fmt;
use std::path::PathBuf;

/// A client secret. Its `Debug` hides it and it has no `Display`: the value reaches only the
/// `Authorization` header of a token request.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(*****)")
    }
}

/// An access token minted during a run; never formatted, never stored.
pub(crate) struct Token(String);

impl Token {
    /// Wrap a token a verifier was issued.
    pub(crate) fn new(t: String) -> Self {
        Token(t)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(*****)")
    }
}

/// Errors that stop verification before it starts.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The URL template is malformed.
    #[error("bad Genesys URL template: {0}")]
    UrlTemplate(String),
    /// Plain http to a host that is not loopback.
    #[error("refusing plain http to a non-loopback host: {0}")]
    InsecureUrl(String),
    /// A host that is neither a Genesys region host nor loopback.
    #[error("refusing to send Genesys requests to {0}: not a Genesys region host or loopback")]
    HostNotAllowed(String),
    /// Revocation (not a dry run) was asked for without admin credentials. The caller says
    /// where they come from.
    #[error("revocation needs the admin client's credentials")]
    MissingAdmin,
    /// The proxy the environment names cannot be used. The URL is never shown (its user info
    /// is a credential).
    #[error("{0}")]
    Proxy(String),
    /// The audit log could not be opened.
    #[error("opening audit log {}", crate::finding::display_path(path.as_os_str().as_encoded_bytes()))]
    Audit {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub use crate::finding::RevokeAction;

/// The admin client used for containment (from the environment only).
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    pub client_id: String,
    pub secret: Secret,
}

/// What `--revoke` asks for.
#[derive(Debug, Clone)]
pub struct RevokeOptions {
    pub action: RevokeAction,
    /// Record what would be done; contact nothing but the token endpoint.
    pub dry_run: bool,
    /// Required unless `dry_run`.
    pub admin: Option<AdminCredentials>,
}

/// The default cap on token requests per run: enough for a few credentials without region
/// hints (18 regions each), far below what a repository planted with pairs could make us send.
pub const DEFAULT_MAX_TOKEN_REQUESTS: usize = 100;

/// Everything verification needs, validated by the caller.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub url_template: UrlTemplate,
    /// Proxy, timeouts, spacing (requests per second to Genesys, all hosts), attempts per
    /// request while throttled, backoff, breaker.
    pub net: NetOptions,
    /// Token checks after a revocation before calling it failed (changes take a moment).
    pub recheck_attempts: u32,
    /// The providers' sections of `.leakgate.toml` (decoy and protected ids...): each
    /// verifier reads its own.
    pub providers: crate::providers::Settings,
    pub revoke: Option<RevokeOptions>,
    /// Token requests one run may send to check credentials (each region tried is one;
    /// retries of a throttled request are bounded by `max_attempts` instead). Credentials left
    /// unchecked when it is spent are `skipped`, counted and named in a warning. Re-checks
    /// after a revocation are not counted: they confirm an action already taken.
    pub max_token_requests: usize,
    /// Append one JSON line per step here.
    pub audit_log: Option<PathBuf>,
    /// Post `{"text": ...}` here per revocation.
    pub notify_webhook: Option<String>,
}

impl VerifyOptions {
    /// Defaults around a URL template: the network defaults of [`NetOptions::default`],
    /// 3 re-checks, at most [`DEFAULT_MAX_TOKEN_REQUESTS`] token requests per run.
    pub fn new(url_template: UrlTemplate) -> Self {
        VerifyOptions {
            url_template,
            net: NetOptions::default(),
            recheck_attempts: 3,
            max_token_requests: DEFAULT_MAX_TOKEN_REQUESTS,
            providers: crate::providers::Settings::default(),
            revoke: None,
            audit_log: None,
            notify_webhook: None,
        }
    }

    /// A copy of the network settings, for another client built on them (GitHub's).
    pub fn net(&self) -> NetOptions {
        self.net.clone()
    }
}

/// Counts for one run, and the warnings the caller should show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Distinct credentials looked at (decoys included, skipped findings not).
    pub credentials: usize,
    pub active: usize,
    pub invalid: usize,
    pub indeterminate: usize,
    pub rate_limited: usize,
    pub decoys: usize,
    pub skipped: usize,
    /// `unauthorized_client`: the client exists, the secret is not proven live.
    pub unconfirmed: usize,
    /// Credentials left unchecked (counted in `skipped` too) because the cap on token
    /// requests was reached.
    pub capped: usize,
    /// Token requests sent to check credentials (re-checks and admin tokens not included).
    pub token_requests: usize,
    pub revoked: usize,
    pub revoke_failed: usize,
    pub protected: usize,
    pub dry_run: usize,
    /// Problems that did not stop the run (a token not deleted, a webhook not reached...).
    pub warnings: Vec<String>,
}

impl Summary {
    /// Add another verifier's counts and warnings to these.
    pub fn absorb(&mut self, o: Summary) {
        self.credentials += o.credentials;
        self.active += o.active;
        self.invalid += o.invalid;
        self.indeterminate += o.indeterminate;
        self.rate_limited += o.rate_limited;
        self.decoys += o.decoys;
        self.skipped += o.skipped;
        self.unconfirmed += o.unconfirmed;
        self.capped += o.capped;
        self.token_requests += o.token_requests;
        self.revoked += o.revoked;
        self.revoke_failed += o.revoke_failed;
        self.protected += o.protected;
        self.dry_run += o.dry_run;
        self.warnings.extend(o.warnings);
    }

    /// Credentials for which verification reached no conclusion.
    pub fn inconclusive(&self) -> usize {
        self.indeterminate + self.rate_limited
    }
}

/// Where a credential was found, for notices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Place {
    pub path: String,
    pub commit: Option<crate::finding::CommitId>,
    pub email: Option<String>,
}

/// One credential to check, with the context its records need.
#[derive(Debug)]
pub(crate) struct Target {
    pub client_id: String,
    pub secret: Secret,
    /// Region domains hinted by the contexts of this credential's findings, most often named
    /// first.
    pub hints: Vec<&'static str>,
    pub fingerprint: Option<String>,
    pub rule: Option<String>,
    pub places: Vec<Place>,
}

/// A provider's verifier: what a rule's `verify` field selects. It takes the findings whose
/// pair names it (leaving every other finding alone), checks each credential once, and may
/// contain live ones; it sends requests only through the network core here (host policy, TLS,
/// timeouts, retries, request caps, audit log, notices).
pub trait CredentialVerifier {
    /// The name rules select it by (`verify = "genesys"`).
    fn name(&self) -> &'static str;
    /// Verify (and, if asked, revoke) the findings whose pair selects this verifier, in place.
    fn run(&mut self, findings: &mut [Finding]);
    /// Verify (and, if asked, revoke) one credential given directly: its partner id, secret and
    /// an optional host or region hint.
    fn verify_one(
        &mut self,
        id: &str,
        secret: &Secret,
        host: Option<&str>,
    ) -> (Verification, Option<Revocation>);
    /// Release what the run holds and return its counts and warnings.
    fn finish(self: Box<Self>) -> Summary;
}

/// Every registered provider's verifiers, run over a scan's findings. Build with
/// [`Verifier::new`], feed it findings with [`Verifier::run`] or one credential with
/// [`Verifier::verify_credential`], then call [`Verifier::finish`].
pub struct Verifier {
    verifiers: Vec<Box<dyn CredentialVerifier>>,
}

impl Verifier {
    /// Check the options and build each provider's verifier (opening the audit log). Nothing
    /// is sent yet.
    pub fn new(opts: VerifyOptions) -> Result<Self, VerifyError> {
        if let Some(r) = &opts.revoke {
            if r.admin.is_none() && !r.dry_run {
                return Err(VerifyError::MissingAdmin);
            }
        }
        let mut verifiers = Vec::new();
        for p in crate::providers::REGISTRY {
            for name in p.verifiers() {
                if let Some(v) = p.verifier(name, &opts) {
                    verifiers.push(v?);
                }
            }
        }
        Ok(Verifier { verifiers })
    }

    /// Verify (and, if asked, revoke) every finding whose rule selects a verifier, in place.
    /// Findings of other rules are left alone; each credential is checked once however many
    /// findings share it.
    pub fn run(&mut self, findings: &mut [Finding]) {
        for v in &mut self.verifiers {
            v.run(findings);
        }
    }

    /// Verify (and, if asked, revoke) one credential with the verifier `name`; `None` when no
    /// provider offers it.
    pub fn verify_credential(
        &mut self,
        name: &str,
        id: &str,
        secret: &Secret,
        host: Option<&str>,
    ) -> Option<(Verification, Option<Revocation>)> {
        let v = self.verifiers.iter_mut().find(|v| v.name() == name)?;
        Some(v.verify_one(id, secret, host))
    }

    /// Release what the run holds (admin tokens are deleted) and return the counts and
    /// warnings of every verifier.
    pub fn finish(self) -> Summary {
        let mut total = Summary::default();
        for v in self.verifiers {
            total.absorb(v.finish());
        }
        total
    }
}

/// Remove the secret from a text of leakgate's own making (server text never reaches one but
/// through [`plain_name`]), withhold it whole if it still resembles the secret, keep it short.
pub(crate) fn scrub(text: &str, secret: &Secret) -> String {
    let mut t = if secret.expose().is_empty() {
        text.to_string()
    } else {
        text.replace(secret.expose(), "*****")
    };
    if resembles(&t, secret, None) {
        t = "(withheld: the text resembled the credential)".to_string();
    }
    if t.chars().count() > 300 {
        t = t.chars().take(300).collect::<String>() + "...";
    }
    t
}

/// Longest org or client name shown.
const MAX_NAME_CHARS: usize = 64;
/// Longest run without a space in a shown name: a secret, its encodings and most of its
/// fragments are longer.
const MAX_NAME_WORD: usize = 24;

/// A name a server sent (org, client), when it is plainly a name: short, printable, no long
/// unbroken run, nothing resembling the credential checked (in any case, base64'd, in a Basic
/// header, with a character changed). Anything else is dropped rather than scrubbed.
pub(crate) fn plain_name(name: &str, target: &Target) -> Option<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.chars().all(|c| !c.is_control())
        && name
            .split_whitespace()
            .all(|w| w.chars().count() <= MAX_NAME_WORD)
        && !resembles(name, &target.secret, Some(&target.client_id));
    ok.then(|| name.to_string())
}

/// Width of the fragments of a secret looked for in a text.
const WINDOW: usize = 8;

/// True when `text` holds an 8-character fragment of the secret, of its base64 forms or of the
/// Basic credential `id:secret` in base64, comparing letters and digits only, in any case.
fn resembles(text: &str, secret: &Secret, client_id: Option<&str>) -> bool {
    use base64::Engine;
    let raw = secret.expose();
    if raw.len() < WINDOW {
        return false;
    }
    let norm = |s: &str| -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
            .collect()
    };
    let hay = norm(text);
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut forms = vec![
        raw.to_string(),
        raw.chars().rev().collect(),
        b64.encode(raw),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
    ];
    if let Some(id) = client_id {
        forms.push(b64.encode(format!("{id}:{raw}")));
    }
    forms.iter().any(|f| {
        let f = norm(f);
        f.windows(WINDOW)
            .any(|w| hay.windows(WINDOW).any(|h| h == w))
    })
}

/// A revocation record for `action`, now.
pub(crate) fn revocation(
    action: RevokeAction,
    status: RevocationStatus,
    reason: Option<String>,
) -> Revocation {
    Revocation {
        status,
        action,
        at: audit::now_rfc3339(),
        reason,
    }
}

/// A `skipped` verification, now.
pub(crate) fn skipped(reason: String) -> Verification {
    Verification {
        status: VerificationStatus::Skipped,
        region: None,
        org: None,
        client_name: None,
        checked_at: audit::now_rfc3339(),
        reason: Some(reason),
    }
}

/// The record of a decoy: planted on purpose, never contacted.
pub fn decoy_verification() -> Verification {
    Verification {
        status: VerificationStatus::Decoy,
        region: None,
        org: None,
        client_name: None,
        checked_at: audit::now_rfc3339(),
        reason: Some("decoy client id: never contacted".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::genesys;
    use base64::Engine;

    fn target(secret: &str) -> Target {
        Target {
            client_id: "0f8e4c1a-2b3d-4e5f-9a6b-7c8d9e0f1a2b".into(),
            secret: Secret::new(secret),
            hints: Vec::new(),
            fingerprint: None,
            rule: None,
            places: Vec::new(),
        }
    }

    #[test]
    fn names_that_echo_the_secret_are_dropped() {
        // Built from parts: no secret-shaped literal in the sources.
        let secret: String = [
            "Qx7", "mK2p", "Lw9v", "Tn4r", "Zs8y", "Hb3c", "Fd6g", "Jk1e", "Pa5u", "Rq0i", "Vo2",
        ]
        .concat()
            + "w";
        let t = target(&secret);
        assert_eq!(
            plain_name("billing-sync", &t).as_deref(),
            Some("billing-sync")
        );
        assert_eq!(
            plain_name(" Example Org ", &t).as_deref(),
            Some("Example Org")
        );
        let swapped: String = secret
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let mut changed = secret.clone().into_bytes();
        changed[20] = b'_';
        let changed = String::from_utf8(changed).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let basic = format!("Basic {}", b64.encode(format!("{}:{secret}", t.client_id)));
        let halves = format!("{} {}", &secret[..21], &secret[21..]);
        let url = secret.replace('-', "%2D");
        for echo in [
            secret.clone(),
            swapped,
            changed,
            b64.encode(&secret),
            basic,
            halves,
            url,
            secret.chars().rev().collect(),
            format!("org of {}", &secret[5..17]),
        ] {
            assert_eq!(plain_name(&echo, &t), None, "{echo}");
            assert!(!scrub(&echo, &t.secret).contains(&secret[5..17]));
        }
        assert_eq!(plain_name("a\x1b[31mred", &t), None, "control characters");
        assert_eq!(plain_name("line\nbreak", &t), None);
    }

    /// What a rule does beyond matching follows its `provider` and `verify` fields, never its id.
    #[test]
    fn dispatch_follows_the_rule_fields_not_the_id() {
        let rule = |id: &str, fields: &str| {
            let text = format!(
                "[[rules]]\nid = \"{id}\"\nname = \"n\"\nseverity = \"high\"\nkeywords = [\"acme\"]\n{fields}regex = 'acme_secret = (?P<secret>[A-Za-z0-9_-]{{42}}[AEIMQUYcgkosw048])'\n"
            );
            crate::rules::parse("test.toml", &text).unwrap()
        };
        let client_id = ["5c90a958", "7403", "4430", "ac66", "a78795e761d1"].join("-");
        let secret = ["Qx7mK2pLw9v", "Tn4rZs8yHb3", "cFd6gJk1ePa", "5uRq0iVo2"].concat() + "w";
        let text = format!("acme_client_id = {client_id}\nacme_secret = {secret}\n");
        let scan = |rules| {
            crate::Matcher::for_rules(rules)
                .unwrap()
                .scan("a.env", text.as_bytes())
        };
        let mut found = scan(rule(
            "acme-oauth-secret",
            "provider = \"genesys\"\nverify = \"genesys\"\n",
        ));
        found.extend(scan(rule("genesys-lookalike", "")));
        assert_eq!(found.len(), 2, "{found:?}");
        let pair = found[0].pair.as_ref().expect("paired by its provider");
        assert_eq!(pair.id.as_deref(), Some(client_id.as_str()));
        assert_eq!(pair.verify.as_deref(), Some(genesys::VERIFIER));
        assert!(found[1].pair.is_none(), "a genesys- id alone pairs nothing");
        // A decoy client id is recognised without any request: proof that the verifier took
        // the finding, and left the other alone.
        let mut opts = VerifyOptions::new(UrlTemplate::parse(DEFAULT_URL_TEMPLATE).unwrap());
        opts.providers.genesys.decoy_client_ids = vec![client_id.clone()];
        let mut verifier = Verifier::new(opts).unwrap();
        verifier.run(&mut found);
        assert_eq!(verifier.finish().decoys, 1);
        assert_eq!(
            found[0].verification.as_ref().map(|v| v.status),
            Some(VerificationStatus::Decoy)
        );
        assert!(found[1].verification.is_none());
    }
}
