//! Genesys Cloud: OAuth client credentials paired with their client id and region, decoded from
//! Basic headers, checked against the token endpoint and contained through the admin API.
//!
//! - [`facts`]: region domains, the names the SDKs and Terraform give them, credential shapes.
//! - [`pairing`]: the client id near a secret, the region its context names, Basic decoding.
//! - [`Settings`]: the `[genesys]` section of `.leakgate.toml` (decoy and protected client ids).
//!
//! - [`posture`], [`decoy`], [`rotate`]: `leakgate genesys audit | decoy | rotate` through the
//!   admin API, on the same admin token, HTTP policy and audit log; [`handover`] delivers a new
//!   secret exactly once.
//! - [`GenesysVerifier`] (verifier [`VERIFIER`]): the token check, token info and cleanup
//!   (`token`), containment through the admin API (`admin`) and its webhook notice (`notice`),
//!   on the network core of [`crate::verify`].

mod admin;
pub mod decoy;
pub mod facts;
pub mod handover;
pub(crate) mod notice;
pub mod pairing;
pub mod posture;
pub mod rotate;
mod token;
mod verifier;

pub use facts::{
    aws_region_names, is_client_id, is_client_secret, region_domain, region_list, REGION_DOMAINS,
};
pub use verifier::{mark_decoys, GenesysVerifier};

use super::{Blob, Decoded, Provider};
use crate::finding::{Confidence, Pair};
use crate::rules::{Decode, Rule};
use crate::verify::{CredentialVerifier, VerifyError, VerifyOptions};
use pairing::{Regions, Uuids};
use serde::Deserialize;
use std::cell::OnceCell;

/// The provider id rules name (`provider = "genesys"`).
pub const ID: &str = "genesys";
/// The verifier rules select (`verify = "genesys"`): the token check and admin API.
pub const VERIFIER: &str = "genesys";

/// The most entries each client id list of `[genesys]` may hold.
pub const MAX_LIST_ENTRIES: usize = 10_000;
/// The longest entry of a client id list.
const MAX_ID_ENTRY_BYTES: usize = 64;

/// The Genesys Cloud provider.
pub struct Genesys;

/// A blob's region mentions and UUIDs, each found on first need.
#[derive(Default)]
struct BlobLookups {
    regions: OnceCell<Regions>,
    uuids: OnceCell<Uuids>,
}

impl Provider for Genesys {
    fn id(&self) -> &'static str {
        ID
    }

    fn pairs(&self) -> bool {
        true
    }

    /// The client id nearest to the secret (one assigned to an id-like name first) and the
    /// region named nearest to it.
    fn pair(&self, blob: &Blob<'_>, start: usize, end: usize, _rule: &Rule) -> Option<Pair> {
        let data = blob.data;
        let lookups = blob.cached(|_| BlobLookups::default())?;
        let uuids = lookups.uuids.get_or_init(|| Uuids::find(data));
        let (id, named) = pairing::client_id_near(data, start, end, uuids).unzip();
        let regions = lookups.regions.get_or_init(|| Regions::find(data));
        Some(Pair {
            provider: ID.into(),
            verify: None,
            id,
            named: named.unwrap_or(false),
            host: regions.nearest(start).map(str::to_string),
        })
    }

    fn decodes(&self, decode: Decode) -> bool {
        decode == Decode::BasicAuth
    }

    /// A Basic credential whose base64 is a Genesys client id and secret.
    fn decode(&self, decode: Decode, raw: &[u8]) -> Option<Decoded> {
        match decode {
            Decode::BasicAuth => {
                let (id, secret) = pairing::decode_basic(raw)?;
                Some(Decoded {
                    secret: secret.into_bytes(),
                    pair: Pair {
                        provider: ID.into(),
                        verify: None,
                        id: Some(id),
                        named: true,
                        host: None,
                    },
                })
            }
        }
    }

    /// A secret meant for the token check but paired with no client id cannot be checked, and
    /// is less surely a client secret: high confidence becomes medium.
    fn confidence(&self, rule: &Rule, pair: Option<&Pair>) -> Confidence {
        match pair {
            Some(p)
                if rule.verify.is_some()
                    && p.id.is_none()
                    && rule.confidence == Confidence::High =>
            {
                Confidence::Medium
            }
            _ => rule.confidence,
        }
    }

    fn verifiers(&self) -> &'static [&'static str] {
        &[VERIFIER]
    }

    fn verify_domains(&self) -> &'static [&'static str] {
        REGION_DOMAINS
    }

    fn verifier(
        &self,
        name: &str,
        opts: &VerifyOptions,
    ) -> Option<Result<Box<dyn CredentialVerifier>, VerifyError>> {
        (name == VERIFIER).then(|| {
            GenesysVerifier::new(opts.clone()).map(|v| Box::new(v) as Box<dyn CredentialVerifier>)
        })
    }
}

/// The `[genesys]` section of `.leakgate.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Honeypot client ids: never sent anywhere, reported as `decoy`, never fail the scan.
    #[serde(default)]
    pub decoy_client_ids: Vec<String>,
    /// Client ids that are never revoked.
    #[serde(default)]
    pub protected_client_ids: Vec<String>,
    /// `[genesys.policy]`: what `leakgate genesys audit` checks clients against.
    #[serde(default)]
    pub policy: posture::Policy,
}

impl Settings {
    /// Check the lists' sizes; on failure, the field's path and what was expected.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (field, list) in [
            ("genesys.decoy_client_ids", &self.decoy_client_ids),
            ("genesys.protected_client_ids", &self.protected_client_ids),
        ] {
            if list.len() > MAX_LIST_ENTRIES {
                return Err((
                    field.into(),
                    format!("more than {MAX_LIST_ENTRIES} entries"),
                ));
            }
            if let Some(i) = list
                .iter()
                .position(|v| v.is_empty() || v.len() > MAX_ID_ENTRY_BYTES)
            {
                return Err((
                    format!("{field}[{i}]"),
                    format!("must be 1 to {MAX_ID_ENTRY_BYTES} bytes long"),
                ));
            }
        }
        self.policy.validate()
    }
}
