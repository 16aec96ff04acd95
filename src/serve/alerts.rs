//! What the service asks of GitHub, as a trait: the worker is written against it, and the
//! GitHub REST client ([`crate::github`]) implements it. Tests of the worker use a stand-in.

use super::store::AlertKey;
use crate::verify::Secret;
use std::time::Duration;

/// A secret-scanning alert as the service needs it.
#[derive(Debug, Clone)]
pub struct AlertInfo {
    /// `open`, `resolved`...
    pub state: String,
    /// The pattern's slug (`secret_type`) and display name.
    pub secret_type: String,
    pub secret_type_display_name: Option<String>,
    pub secret: Secret,
    /// The alert's page, for notices.
    pub html_url: Option<String>,
}

/// One place the secret was found in a commit.
#[derive(Debug, Clone)]
pub struct AlertLocation {
    pub path: String,
    pub blob_sha: Option<String>,
    pub commit_sha: Option<String>,
}

/// A commit's author.
#[derive(Debug, Clone, Default)]
pub struct Author {
    pub name: String,
    /// The GitHub login, when the commit is linked to an account.
    pub login: Option<String>,
}

impl Author {
    /// `Name (@login)`, or the name alone.
    pub fn shown(&self) -> String {
        match &self.login {
            Some(l) => format!("{} (@{l})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Why a GitHub call gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Worth trying again later (5xx, 429, rate limit, network); the server's wait if it
    /// named one.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help (404, 401, 403 without a rate limit, a malformed answer).
    #[error("{0}")]
    Permanent(String),
}

/// The GitHub calls processing an alert makes. Errors never carry a token or a secret.
pub trait AlertApi: Send {
    /// `GET /repos/{owner}/{repo}/secret-scanning/alerts/{number}`.
    fn alert(&mut self, key: &AlertKey) -> Result<AlertInfo, ApiError>;
    /// The alert's commit locations.
    fn locations(&mut self, key: &AlertKey) -> Result<Vec<AlertLocation>, ApiError>;
    /// The file at a location (its blob).
    fn file(&mut self, key: &AlertKey, location: &AlertLocation) -> Result<Vec<u8>, ApiError>;
    /// The author of a commit.
    fn author(&mut self, key: &AlertKey, commit: &str) -> Result<Author, ApiError>;
    /// Resolve the alert as `revoked` with `comment`.
    fn resolve(&mut self, key: &AlertKey, comment: &str) -> Result<(), ApiError>;
    /// Leave `comment` on the alert without resolving it.
    fn comment(&mut self, key: &AlertKey, comment: &str) -> Result<(), ApiError>;
}

/// Makes one GitHub client per alert processed.
pub type ApiFactory = std::sync::Arc<dyn Fn() -> Box<dyn AlertApi> + Send + Sync>;
