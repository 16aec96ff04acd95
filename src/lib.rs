//! leakgate: a secret scanner for Git, built first for Genesys Cloud OAuth client credentials.
//!
//! Three parts. The **engine** is provider-agnostic: [`rules`] are compiled into a
//! [`matcher::Matcher`]; a source in [`scan`] (a folder, Git history, the index) turns inputs
//! into blobs and blobs into [`finding::Finding`]s; [`report`] writes the result; [`verify`] is
//! the network core. **Providers** ([`providers`], one folder each, today
//! [`providers::genesys`]) hold what one provider needs beyond its rules file: pairing a secret
//! with its client id and region, decoding, verification, containment, its configuration
//! section; the engine reaches them only through a rule's `provider` and `verify` fields. The
//! **binary** sequences these; the library never prints.
//!
//! ```
//! use leakgate::{rules, Config, Matcher};
//!
//! let matcher = Matcher::new(rules::builtin(), &Config::default()).unwrap();
//! // A Genesys-shaped secret, made up here rather than written down.
//! const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
//! let mut secret: String = (0..42).map(|i| B64URL[(i * 7 + 3) % 64] as char).collect();
//! secret.push('w');
//! let file = format!(
//!     "GENESYS_CLOUD_REGION=eu-west-1\nGENESYS_CLOUD_CLIENT_ID=5c90a958-7403-4430-ac66-a78795e761d1\nGENESYS_CLOUD_CLIENT_SECRET={secret}\n"
//! );
//! let findings = matcher.scan("app.env", file.as_bytes());
//! assert_eq!(findings.len(), 1);
//! let f = &findings[0];
//! assert_eq!((f.rule_id.as_str(), f.line, f.column), ("genesys-client-secret", 3, 29));
//! let pair = f.pair.as_ref().unwrap();
//! assert_eq!(pair.provider, "genesys");
//! assert_eq!(pair.host.as_deref(), Some("mypurecloud.ie"));
//! assert_eq!(pair.id.as_deref(), Some("5c90a958-7403-4430-ac66-a78795e761d1"));
//! assert!(!f.shown_secret(false).contains(&secret[4..]));
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod baseline;
pub mod config;
pub mod finding;
pub mod github;
mod group;
mod ids;
pub mod matcher;
pub mod providers;
pub mod report;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod verify;

pub use config::Config;
pub use finding::{Finding, ScanReport};
pub use matcher::Matcher;
