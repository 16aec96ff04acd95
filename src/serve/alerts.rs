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
    /// Resolve the alert as `revoked` with `comment`. (GitHub takes no comment on an alert
    /// left open: its note goes to the audit log and the notice instead.)
    fn resolve(&mut self, key: &AlertKey, comment: &str) -> Result<(), ApiError>;
}

/// Makes one GitHub client per alert processed.
pub type ApiFactory = std::sync::Arc<dyn Fn() -> Box<dyn AlertApi> + Send + Sync>;

/// The GitHub REST client as the worker's [`AlertApi`].
impl AlertApi for crate::github::GitHubApi {
    fn alert(&mut self, key: &AlertKey) -> Result<AlertInfo, ApiError> {
        let repo = repo(key)?;
        let a = crate::github::GitHubApi::alert(self, &repo, key.number).map_err(api_error)?;
        Ok(AlertInfo {
            state: match a.state {
                crate::github::AlertState::Open => "open",
                crate::github::AlertState::Resolved => "resolved",
                crate::github::AlertState::Unknown => "unknown",
            }
            .to_string(),
            secret_type: a.secret_type,
            secret_type_display_name: a.secret_type_display_name,
            secret: a.secret,
            html_url: a.html_url,
        })
    }

    fn locations(&mut self, key: &AlertKey) -> Result<Vec<AlertLocation>, ApiError> {
        let repo = repo(key)?;
        let all =
            crate::github::GitHubApi::locations(self, &repo, key.number).map_err(api_error)?;
        Ok(all
            .into_iter()
            .filter_map(|l| match l {
                crate::github::Location::Commit(c) => Some(AlertLocation {
                    path: c.path,
                    blob_sha: Some(c.blob_sha),
                    commit_sha: Some(c.commit_sha),
                }),
                crate::github::Location::Other { .. } => None,
            })
            .collect())
    }

    fn file(&mut self, key: &AlertKey, location: &AlertLocation) -> Result<Vec<u8>, ApiError> {
        let repo = repo(key)?;
        let sha = location
            .blob_sha
            .as_deref()
            .ok_or_else(|| ApiError::Permanent("the location names no blob".into()))?;
        self.blob(&repo, sha).map_err(api_error)
    }

    fn author(&mut self, key: &AlertKey, commit: &str) -> Result<Author, ApiError> {
        let repo = repo(key)?;
        let a = self.commit_author(&repo, commit).map_err(api_error)?;
        Ok(Author {
            name: a.name,
            login: a.login,
        })
    }

    fn resolve(&mut self, key: &AlertKey, comment: &str) -> Result<(), ApiError> {
        let repo = repo(key)?;
        crate::github::GitHubApi::resolve(
            self,
            &repo,
            key.number,
            crate::github::Resolution::Revoked,
            Some(comment),
        )
        .map(|_| ())
        .map_err(api_error)
    }
}

fn repo(key: &AlertKey) -> Result<crate::github::RepoRef, ApiError> {
    crate::github::RepoRef::new(&key.owner, &key.repo).map_err(api_error)
}

fn api_error(e: crate::github::GitHubError) -> ApiError {
    match e.retry() {
        crate::github::Retry::Transient { after } => ApiError::Transient {
            reason: e.to_string(),
            retry_after: after,
        },
        crate::github::Retry::Permanent => ApiError::Permanent(e.to_string()),
    }
}
