//! A client of the GitHub REST API for the secret-scanning response: fetch an alert (with its
//! secret) and its locations, the blob a location names, the author of its commit, and resolve
//! the alert. It sends through the network core in [`crate::verify::client`] (timeouts, TLS
//! roots, proxy, spacing, bounded retries with full jitter, circuit breaker) and only ever to
//! the host of its [`ApiUrl`]: `https://api.github.com`, a GitHub Enterprise Server's
//! `https://HOST/api/v3`, or (tests) loopback over plain http.
//!
//! Commenting on an alert without resolving it is not something GitHub's API offers: the
//! update endpoint takes `resolution_comment` only when closing an alert (it must be `null`
//! when the state is `open`). So [`GitHubApi::resolve`] is the one write; a note about an alert
//! left open (an invalid secret, a decoy) belongs in the notification and the audit log, where
//! the person who triages the alert sees it.
//!
//! Errors never hold the token, the secret or text the server sent; [`GitHubError::retry`]
//! tells a queue whether trying later can help. [`patterns`] turns leakgate rules into
//! GitHub custom patterns.

pub mod patterns;

use crate::verify::client::{Auth, CallError, Exchange, Http, Method, Reply, RetryPolicy};
use crate::verify::{HostUrl, NetOptions, Secret};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The variable naming another API root (GitHub Enterprise Server: `https://HOST/api/v3`).
pub const API_URL_ENV: &str = "LEAKGATE_GITHUB_API_URL";
/// The variable holding the token (a fine-grained token or a GitHub App installation token).
pub const TOKEN_ENV: &str = "LEAKGATE_GITHUB_TOKEN";
/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";

/// Default cap on pages of alert locations followed (100 locations a page).
pub const DEFAULT_MAX_PAGES: usize = 20;
/// Default cap on a fetched blob, decoded (bytes).
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 10 << 20;

/// Largest answer read for an alert or a resolve (bytes).
const MAX_ALERT_BODY: u64 = 1 << 20;
/// Largest page of locations read (bytes).
const MAX_PAGE_BODY: u64 = 4 << 20;
/// Largest commit answer read (a commit answer lists its files and patches).
const MAX_COMMIT_BODY: u64 = 8 << 20;

/// Characters left unencoded in a path segment: the unreserved set of RFC 3986.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Which call an error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Alert,
    Locations,
    Blob,
    Commit,
    Resolve,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Alert => "alert",
            Endpoint::Locations => "alert locations",
            Endpoint::Blob => "blob",
            Endpoint::Commit => "commit",
            Endpoint::Resolve => "alert update",
        })
    }
}

/// What a queue should do with a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Trying later may succeed; `after` is how long the server asked to wait, when it said.
    Transient { after: Option<Duration> },
    /// Trying again will fail the same way (bad token, missing alert, bad answer...).
    Permanent,
}

/// Why a GitHub call failed. No variant holds the token, the secret or server text.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The API URL is malformed or not allowed (only https, or http to loopback).
    #[error("bad GitHub API URL: {0}")]
    ApiUrl(String),
    /// The token variable is unset or empty.
    #[error("{TOKEN_ENV} is not set: the GitHub API needs a token")]
    MissingToken,
    /// An argument that would not make a valid request (repository, SHA, resolution).
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
    /// Timeout, connection, TLS or proxy failure, after the bounded retries.
    #[error("GitHub {endpoint}: {reason}")]
    Transport { endpoint: Endpoint, reason: String },
    /// 5xx after the bounded retries.
    #[error("GitHub {endpoint}: HTTP {status} (server error)")]
    Server { endpoint: Endpoint, status: u16 },
    /// Still rate limited after the bounded retries (429, or 403 with rate-limit headers).
    #[error("GitHub {endpoint}: rate limited ({reason})")]
    RateLimited {
        endpoint: Endpoint,
        status: u16,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Not sent: the circuit breaker is open after repeated failures.
    #[error("GitHub {endpoint}: {reason}")]
    Paused { endpoint: Endpoint, reason: String },
    /// An answer that says the request cannot succeed (401, 403, 404, 422...).
    #[error("GitHub {endpoint}: HTTP {status}{}", status_hint(*status))]
    Status { endpoint: Endpoint, status: u16 },
    /// A 2xx answer that is not what the API documents (not JSON, a field missing or of the
    /// wrong type).
    #[error("GitHub {endpoint}: unexpected answer ({why})")]
    BadAnswer { endpoint: Endpoint, why: String },
    /// An answer or blob over its size cap.
    #[error("GitHub {endpoint}: larger than {limit} bytes")]
    TooLarge { endpoint: Endpoint, limit: u64 },
    /// More pages than the cap: not read to the end, so not returned at all.
    #[error("GitHub {endpoint}: more than {pages} pages")]
    TooManyPages { endpoint: Endpoint, pages: usize },
    /// The URL to follow (a `Link` header's next page) leaves the API root.
    #[error("GitHub {endpoint}: refusing to follow a link outside {api}")]
    OffHost { endpoint: Endpoint, api: String },
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 => " (the token was refused)",
        403 => " (the token lacks a permission: secret scanning alerts, contents)",
        404 => " (not found, or the token cannot see it)",
        409 => " (conflict)",
        422 => " (the request was refused as invalid)",
        _ => "",
    }
}

impl GitHubError {
    /// Whether trying later may help: transport failures, 5xx, rate limits, an open breaker
    /// and 408 are transient; everything else is permanent.
    pub fn retry(&self) -> Retry {
        match self {
            GitHubError::Transport { .. }
            | GitHubError::Server { .. }
            | GitHubError::Paused { .. }
            | GitHubError::Status { status: 408, .. } => Retry::Transient { after: None },
            GitHubError::RateLimited { retry_after, .. } => Retry::Transient {
                after: *retry_after,
            },
            _ => Retry::Permanent,
        }
    }

    /// The HTTP status the failure came with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Server { status, .. }
            | GitHubError::RateLimited { status, .. }
            | GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn bad(endpoint: Endpoint, why: impl Into<String>) -> Self {
        GitHubError::BadAnswer {
            endpoint,
            why: why.into(),
        }
    }
}

/// The API root every request goes under; its host is the only one contacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUrl {
    /// Without a trailing `/`.
    base: String,
}

impl ApiUrl {
    /// Check an API root: https, or http to a loopback host (the rule of the Genesys URL
    /// template); no user info, query or fragment.
    pub fn parse(url: &str) -> Result<Self, GitHubError> {
        let base = url.trim().trim_end_matches('/');
        let host = HostUrl::parse(base).map_err(|e| GitHubError::ApiUrl(e.to_string()))?;
        if base.contains(['?', '#']) {
            return Err(GitHubError::ApiUrl(
                "a query or fragment is not allowed".to_string(),
            ));
        }
        match host.scheme() {
            "https" => {}
            "http" if host.is_loopback() => {}
            "http" => {
                return Err(GitHubError::ApiUrl(format!(
                    "refusing plain http to {} (https, or http only to loopback)",
                    host.host()
                )))
            }
            _ => {
                return Err(GitHubError::ApiUrl(
                    "only https (or http to loopback) is allowed".to_string(),
                ))
            }
        }
        Ok(ApiUrl {
            base: base.to_string(),
        })
    }

    /// [`API_URL_ENV`] from the process environment, or [`DEFAULT_API_URL`].
    pub fn from_env() -> Result<Self, GitHubError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`API_URL_ENV`] read through `get`, or [`DEFAULT_API_URL`] when unset or empty.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, GitHubError> {
        match get(API_URL_ENV).filter(|v| !v.trim().is_empty()) {
            Some(v) => Self::parse(&v),
            None => Self::parse(DEFAULT_API_URL),
        }
    }

    /// The root, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// True when the root is on a loopback host (tests, local stand-ins).
    pub fn is_loopback(&self) -> bool {
        HostUrl::parse(&self.base).is_ok_and(|h| h.is_loopback())
    }

    fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// True for a URL under this root (same scheme, host and port, below its path).
    fn owns(&self, url: &str) -> bool {
        url.strip_prefix(&self.base)
            .is_some_and(|rest| rest.starts_with('/') && !rest.contains('@'))
    }
}

impl fmt::Debug for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiUrl({})", self.base)
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// The token from [`TOKEN_ENV`] in the process environment.
pub fn token_from_env() -> Result<Secret, GitHubError> {
    token_from_lookup(|k| std::env::var(k).ok())
}

/// The token from [`TOKEN_ENV`] read through `get`; unset or empty is an error.
pub fn token_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Secret, GitHubError> {
    get(TOKEN_ENV)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or(GitHubError::MissingToken)
}

/// A repository, `owner/name`, validated so it can only ever be two path segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoRef {
    owner: String,
    name: String,
}

impl RepoRef {
    /// Check an owner and a repository name: 1 to 100 characters of `A-Z a-z 0-9 - _ .`,
    /// neither `.` nor `..`.
    pub fn new(owner: &str, name: &str) -> Result<Self, GitHubError> {
        check_segment("repository owner", owner)?;
        check_segment("repository name", name)?;
        Ok(RepoRef {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// Parse `owner/name`.
    pub fn parse(full: &str) -> Result<Self, GitHubError> {
        let (owner, name) = full.split_once('/').ok_or_else(|| GitHubError::Invalid {
            what: "repository",
            why: "expected owner/name".to_string(),
        })?;
        Self::new(owner, name)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/repos/{owner}/{name}`, each segment percent-encoded.
    fn path(&self) -> String {
        format!(
            "/repos/{}/{}",
            utf8_percent_encode(&self.owner, SEGMENT),
            utf8_percent_encode(&self.name, SEGMENT)
        )
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

fn check_segment(what: &'static str, s: &str) -> Result<(), GitHubError> {
    let invalid = |why: &str| GitHubError::Invalid {
        what,
        why: why.to_string(),
    };
    if s.is_empty() || s.len() > 100 {
        return Err(invalid("must be 1 to 100 characters"));
    }
    if s == "." || s == ".." {
        return Err(invalid("may not be . or .."));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(invalid(
            "only letters, digits, '-', '_' and '.' are allowed",
        ));
    }
    Ok(())
}

/// A Git object id: 40 (SHA-1) or 64 (SHA-256) hex digits, lowercased.
fn check_sha(what: &'static str, sha: &str) -> Result<String, GitHubError> {
    if matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(GitHubError::Invalid {
            what,
            why: "expected 40 or 64 hex digits".to_string(),
        })
    }
}

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Open,
    Resolved,
    /// A state this client does not know.
    Unknown,
}

/// Why an alert was resolved. Only the first four can be set through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    FalsePositive,
    WontFix,
    Revoked,
    UsedInTests,
    PatternEdited,
    PatternDeleted,
    /// A resolution this client does not know.
    Unknown,
}

impl Resolution {
    /// The API's name, for the four that can be set.
    fn settable(self) -> Option<&'static str> {
        match self {
            Resolution::FalsePositive => Some("false_positive"),
            Resolution::WontFix => Some("wont_fix"),
            Resolution::Revoked => Some("revoked"),
            Resolution::UsedInTests => Some("used_in_tests"),
            _ => None,
        }
    }

    fn from_api(s: &str) -> Self {
        match s {
            "false_positive" => Resolution::FalsePositive,
            "wont_fix" => Resolution::WontFix,
            "revoked" => Resolution::Revoked,
            "used_in_tests" => Resolution::UsedInTests,
            "pattern_edited" => Resolution::PatternEdited,
            "pattern_deleted" => Resolution::PatternDeleted,
            _ => Resolution::Unknown,
        }
    }
}

/// What GitHub's own validity check says of the secret (partner patterns only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Active,
    Inactive,
    Unknown,
}

/// A secret-scanning alert.
#[derive(Debug, Clone)]
pub struct Alert {
    pub number: u64,
    pub state: AlertState,
    pub resolution: Option<Resolution>,
    /// The pattern's type: a provider pattern's slug, or a custom pattern's name.
    pub secret_type: String,
    pub secret_type_display_name: Option<String>,
    /// The leaked value; never formatted.
    pub secret: Secret,
    pub validity: Option<Validity>,
    pub publicly_leaked: Option<bool>,
    pub html_url: Option<String>,
}

/// Where in a commit a secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLocation {
    pub path: String,
    pub start_line: u64,
    pub end_line: u64,
    pub start_column: Option<u64>,
    pub end_column: Option<u64>,
    pub blob_sha: String,
    pub commit_sha: String,
}

/// One place an alert's secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file in a commit of the repository.
    Commit(CommitLocation),
    /// Anywhere else (`wiki_commit`, `issue_comment`, `pull_request_body`...): kept, not
    /// dropped, so a caller can say it did not look there.
    Other {
        /// The location type, when it is a plain name (`[a-z_]`, up to 64 characters).
        kind: String,
        /// The API URL of the place, when the answer gave one under this API root.
        url: Option<String>,
    },
}

/// A commit's author: the name in the commit and, when GitHub links it to an account, the
/// account's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub login: Option<String>,
}

/// The GitHub REST client. Calls take `&mut self` (one spacing clock and one breaker per
/// client): give each worker its own, or share one behind a lock.
pub struct GitHubApi {
    api: ApiUrl,
    token: Secret,
    http: Http,
    max_pages: usize,
    max_blob_bytes: u64,
}

impl fmt::Debug for GitHubApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApi")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl GitHubApi {
    /// A client of `api` authenticating with `token` (sent as `Authorization: Bearer`), with
    /// the network settings `net` (its `max_attempts` bounds the retries of every call).
    pub fn new(api: ApiUrl, token: Secret, net: &NetOptions) -> Self {
        GitHubApi {
            api,
            token,
            http: Http::with(net, "GitHub"),
            max_pages: DEFAULT_MAX_PAGES,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        }
    }

    /// Follow at most `pages` pages of a list (default [`DEFAULT_MAX_PAGES`]).
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Fetch blobs of at most `bytes` (default [`DEFAULT_MAX_BLOB_BYTES`]).
    pub fn max_blob_bytes(mut self, bytes: u64) -> Self {
        self.max_blob_bytes = bytes;
        self
    }

    /// The API root.
    pub fn api_url(&self) -> &ApiUrl {
        &self.api
    }

    /// `GET /repos/{owner}/{repo}/secret-scanning/alerts/{number}`.
    pub fn alert(&mut self, repo: &RepoRef, number: u64) -> Result<Alert, GitHubError> {
        let url = self.api.join(&alert_path(repo, number));
        let reply = self.call(Endpoint::Alert, Method::Get, &url, None, MAX_ALERT_BODY)?;
        parse_alert(Endpoint::Alert, &json(Endpoint::Alert, &reply)?)
    }

    /// Every location of an alert, following `Link: <...>; rel="next"` up to the page cap.
    /// More pages than the cap is an error: a partial list is never returned.
    pub fn locations(&mut self, repo: &RepoRef, number: u64) -> Result<Vec<Location>, GitHubError> {
        let e = Endpoint::Locations;
        let mut url = self.api.join(&format!(
            "{}/locations?per_page=100",
            alert_path(repo, number)
        ));
        let mut out = Vec::new();
        for _ in 0..self.max_pages {
            let reply = self.call(e, Method::Get, &url, None, MAX_PAGE_BODY)?;
            let page = json(e, &reply)?;
            let items = page
                .as_array()
                .ok_or_else(|| GitHubError::bad(e, "expected a list"))?;
            for item in items {
                out.push(self.parse_location(item)?);
            }
            match next_link(&reply) {
                None => return Ok(out),
                Some(next) if self.api.owns(&next) => url = next,
                Some(_) => {
                    return Err(GitHubError::OffHost {
                        endpoint: e,
                        api: self.api.to_string(),
                    })
                }
            }
        }
        Err(GitHubError::TooManyPages {
            endpoint: e,
            pages: self.max_pages,
        })
    }

    /// A blob's bytes (`GET /repos/{owner}/{repo}/git/blobs/{sha}`, base64-decoded), at most
    /// the blob cap.
    pub fn blob(&mut self, repo: &RepoRef, blob_sha: &str) -> Result<Vec<u8>, GitHubError> {
        let e = Endpoint::Blob;
        let sha = check_sha("blob SHA", blob_sha)?;
        let url = self.api.join(&format!("{}/git/blobs/{sha}", repo.path()));
        // Base64 is 4/3 of the bytes, plus GitHub's line breaks and the JSON around it.
        let limit = self.max_blob_bytes / 3 * 4 + self.max_blob_bytes / 32 + (64 << 10);
        let reply = match self.call(e, Method::Get, &url, None, limit) {
            Err(GitHubError::TooLarge { .. }) => {
                return Err(GitHubError::TooLarge {
                    endpoint: e,
                    limit: self.max_blob_bytes,
                })
            }
            other => other?,
        };
        let v = json(e, &reply)?;
        let size = v.get("size").and_then(Value::as_u64);
        if size.is_some_and(|s| s > self.max_blob_bytes) {
            return Err(GitHubError::TooLarge {
                endpoint: e,
                limit: self.max_blob_bytes,
            });
        }
        if str_field(&v, "encoding") != Some("base64") {
            return Err(GitHubError::bad(e, "field `encoding` is not base64"));
        }
        let content = str_field(&v, "content")
            .ok_or_else(|| GitHubError::bad(e, "field `content` missing or not a string"))?;
        let compact: Vec<u8> = content
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| GitHubError::bad(e, "field `content` is not valid base64"))?;
        if size.is_some_and(|s| s != bytes.len() as u64) {
            return Err(GitHubError::bad(e, "decoded content does not match `size`"));
        }
        if bytes.len() as u64 > self.max_blob_bytes {
            return Err(GitHubError::TooLarge {
                endpoint: e,
                limit: self.max_blob_bytes,
            });
        }
        Ok(bytes)
    }

    /// The author of a commit: `GET /repos/{owner}/{repo}/commits/{sha}` (name and login);
    /// when that answer is over its cap (a commit touching many files), the Git commit object
    /// (`/git/commits/{sha}`: the name only).
    pub fn commit_author(&mut self, repo: &RepoRef, sha: &str) -> Result<Author, GitHubError> {
        let e = Endpoint::Commit;
        let sha = check_sha("commit SHA", sha)?;
        let url = self.api.join(&format!("{}/commits/{sha}", repo.path()));
        let (v, full) = match self.call(e, Method::Get, &url, None, MAX_COMMIT_BODY) {
            Err(GitHubError::TooLarge { .. }) => {
                let url = self.api.join(&format!("{}/git/commits/{sha}", repo.path()));
                let reply = self.call(e, Method::Get, &url, None, MAX_ALERT_BODY)?;
                (json(e, &reply)?, false)
            }
            other => (json(e, &other?)?, true),
        };
        // The full answer nests the Git commit under `commit`; the Git object is the commit.
        let git = if full { v.get("commit") } else { Some(&v) };
        let name = git
            .and_then(|c| c.get("author"))
            .and_then(|a| str_field(a, "name"))
            .ok_or_else(|| GitHubError::bad(e, "field `author.name` missing or not a string"))?
            .to_string();
        let login = full
            .then(|| v.get("author").and_then(|a| str_field(a, "login")))
            .flatten()
            .map(str::to_string);
        Ok(Author { name, login })
    }

    /// Resolve an alert (`PATCH` state `resolved` with `resolution` and, if given,
    /// `resolution_comment`); returns the alert as GitHub now has it. Only the four
    /// resolutions GitHub lets a client set are accepted.
    pub fn resolve(
        &mut self,
        repo: &RepoRef,
        number: u64,
        resolution: Resolution,
        comment: Option<&str>,
    ) -> Result<Alert, GitHubError> {
        let e = Endpoint::Resolve;
        let name = resolution.settable().ok_or_else(|| GitHubError::Invalid {
            what: "resolution",
            why: "only false_positive, wont_fix, revoked and used_in_tests can be set".to_string(),
        })?;
        let mut body = serde_json::json!({ "state": "resolved", "resolution": name });
        if let Some(c) = comment {
            body["resolution_comment"] = Value::String(c.to_string());
        }
        let body = body.to_string();
        let url = self.api.join(&alert_path(repo, number));
        let reply = self.call(e, Method::Patch, &url, Some(&body), MAX_ALERT_BODY)?;
        parse_alert(e, &json(e, &reply)?)
    }

    /// Send one request (retried inside, as [`RetryPolicy::GitHub`] says) and map failures;
    /// a 2xx answer is returned, anything else is an error.
    fn call(
        &mut self,
        endpoint: Endpoint,
        method: Method,
        url: &str,
        body: Option<&str>,
        limit: u64,
    ) -> Result<Reply, GitHubError> {
        if !self.api.owns(url) {
            return Err(GitHubError::OffHost {
                endpoint,
                api: self.api.to_string(),
            });
        }
        let auth = Auth::BearerSecret(&self.token);
        let result = self.http.exchange(&Exchange {
            method,
            url,
            auth: &auth,
            headers: &[
                ("Accept", "application/vnd.github+json"),
                ("X-GitHub-Api-Version", API_VERSION),
            ],
            body: body.map(|b| ("application/json", b)),
            keep_body: true,
            body_limit: limit,
            retry: RetryPolicy::GitHub,
        });
        let reply = match result {
            Ok(r) => r,
            Err(CallError::Throttled {
                status,
                reason,
                retry_after,
            }) => {
                return Err(GitHubError::RateLimited {
                    endpoint,
                    status,
                    reason,
                    retry_after,
                })
            }
            Err(CallError::TooLarge(limit)) => {
                return Err(GitHubError::TooLarge { endpoint, limit })
            }
            Err(e @ CallError::CircuitOpen(_)) => {
                return Err(GitHubError::Paused {
                    endpoint,
                    reason: e.reason(),
                })
            }
            Err(e) => {
                return Err(GitHubError::Transport {
                    endpoint,
                    reason: e.reason(),
                })
            }
        };
        match reply.status {
            200..=299 => Ok(reply),
            500..=599 => Err(GitHubError::Server {
                endpoint,
                status: reply.status,
            }),
            status => Err(GitHubError::Status { endpoint, status }),
        }
    }

    fn parse_location(&self, item: &Value) -> Result<Location, GitHubError> {
        let e = Endpoint::Locations;
        let kind = str_field(item, "type")
            .ok_or_else(|| GitHubError::bad(e, "location `type` missing or not a string"))?;
        let details = item
            .get("details")
            .filter(|d| d.is_object())
            .ok_or_else(|| GitHubError::bad(e, "location `details` missing or not an object"))?;
        if kind != "commit" {
            let plain = kind.len() <= 64
                && !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            let url = details.as_object().and_then(|o| {
                o.iter()
                    .filter(|(k, _)| k.ends_with("_url"))
                    .find_map(|(_, v)| v.as_str())
                    .filter(|u| self.api.owns(u))
                    .map(str::to_string)
            });
            return Ok(Location::Other {
                kind: if plain { kind } else { "unknown" }.to_string(),
                url,
            });
        }
        let text = |k: &'static str| {
            str_field(details, k).map(str::to_string).ok_or_else(|| {
                GitHubError::bad(e, format!("`details.{k}` missing or not a string"))
            })
        };
        let line = |k: &'static str| {
            count(details.get(k))
                .ok_or_else(|| GitHubError::bad(e, format!("`details.{k}` missing or not a count")))
        };
        let sha = |k: &'static str| {
            text(k).and_then(|s| {
                check_sha("SHA", &s)
                    .map_err(|_| GitHubError::bad(e, format!("`details.{k}` is not a SHA")))
            })
        };
        Ok(Location::Commit(CommitLocation {
            path: text("path")?,
            start_line: line("start_line")?,
            end_line: line("end_line")?,
            start_column: count(details.get("start_column")),
            end_column: count(details.get("end_column")),
            blob_sha: sha("blob_sha")?,
            commit_sha: sha("commit_sha")?,
        }))
    }
}

fn alert_path(repo: &RepoRef, number: u64) -> String {
    format!("{}/secret-scanning/alerts/{number}", repo.path())
}

/// The body of a 2xx answer as JSON. Parse errors name their kind and position only: serde's
/// messages can quote the value they choked on.
fn json(endpoint: Endpoint, reply: &Reply) -> Result<Value, GitHubError> {
    serde_json::from_str(&reply.body).map_err(|err| {
        GitHubError::bad(
            endpoint,
            format!(
                "not JSON: {:?} error at line {}, column {}",
                err.classify(),
                err.line(),
                err.column()
            ),
        )
    })
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// A non-negative whole number, written as an integer or (as GitHub's schema types these
/// fields `number`) an integral float.
fn count(v: Option<&Value>) -> Option<u64> {
    let v = v?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
            .map(|f| f as u64)
    })
}

fn parse_alert(e: Endpoint, v: &Value) -> Result<Alert, GitHubError> {
    let number = v
        .get("number")
        .and_then(Value::as_u64)
        .ok_or_else(|| GitHubError::bad(e, "field `number` missing or not a number"))?;
    let state = match str_field(v, "state") {
        Some("open") => AlertState::Open,
        Some("resolved") => AlertState::Resolved,
        Some(_) => AlertState::Unknown,
        None => return Err(GitHubError::bad(e, "field `state` missing or not a string")),
    };
    let resolution = match v.get("resolution") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Resolution::from_api(s)),
        Some(_) => return Err(GitHubError::bad(e, "field `resolution` is not a string")),
    };
    let secret_type = str_field(v, "secret_type")
        .ok_or_else(|| GitHubError::bad(e, "field `secret_type` missing or not a string"))?
        .to_string();
    let secret = str_field(v, "secret")
        .ok_or_else(|| GitHubError::bad(e, "field `secret` missing or not a string"))?;
    let validity = str_field(v, "validity").map(|s| match s {
        "active" => Validity::Active,
        "inactive" => Validity::Inactive,
        _ => Validity::Unknown,
    });
    Ok(Alert {
        number,
        state,
        resolution,
        secret_type,
        secret_type_display_name: str_field(v, "secret_type_display_name").map(str::to_string),
        secret: Secret::new(secret),
        validity,
        publicly_leaked: v.get("publicly_leaked").and_then(Value::as_bool),
        html_url: str_field(v, "html_url").map(str::to_string),
    })
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params.split(';').any(|p| {
            p.trim()
                .strip_prefix("rel=")
                .map(|r| r.trim_matches('"'))
                .is_some_and(|r| r.split_whitespace().any(|r| r == "next"))
        });
        next.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_policy() {
        assert!(ApiUrl::parse(DEFAULT_API_URL).is_ok());
        assert!(ApiUrl::parse("https://ghe.example.com/api/v3/").is_ok());
        assert!(ApiUrl::parse("http://127.0.0.1:8080/api/v3")
            .unwrap()
            .is_loopback());
        assert!(ApiUrl::parse("http://[::1]:9").is_ok());
        for bad in [
            "http://ghe.example.com/api/v3",
            "ftp://127.0.0.1/",
            "https://user@api.github.com",
            "https://api.github.com/?x=1",
            "api.github.com",
            "http://127.0.0.1.example.com/",
        ] {
            assert!(ApiUrl::parse(bad).is_err(), "{bad}");
        }
        let api = ApiUrl::parse("https://ghe.example.com/api/v3").unwrap();
        assert!(api.owns("https://ghe.example.com/api/v3/repos/a/b"));
        assert!(!api.owns("https://ghe.example.com/api/v30/repos"));
        assert!(!api.owns("https://ghe.example.com.evil.example/api/v3/x"));
        assert!(!api.owns("https://ghe.example.com/api/v3@evil.example/x"));
        let lookup = |v: Option<&str>| {
            ApiUrl::from_lookup(|k| (k == API_URL_ENV).then(|| v.map(str::to_string)).flatten())
        };
        assert_eq!(lookup(None).unwrap().as_str(), DEFAULT_API_URL);
        assert_eq!(lookup(Some("  ")).unwrap().as_str(), DEFAULT_API_URL);
        assert!(lookup(Some("http://ghe.example.com")).is_err());
    }

    #[test]
    fn repo_refs_are_two_plain_segments() {
        let r = RepoRef::parse("octo-org/my_repo.rs").unwrap();
        assert_eq!((r.owner(), r.name()), ("octo-org", "my_repo.rs"));
        assert_eq!(r.path(), "/repos/octo-org/my_repo.rs");
        assert_eq!(r.to_string(), "octo-org/my_repo.rs");
        for bad in [
            "a/b/c", "a", "/b", "a/", "../b", "a/..", "a/.", "a b/c", "a/b%2f", "a/b?x", "a/b#x",
            "ä/b",
        ] {
            assert!(RepoRef::parse(bad).is_err(), "{bad}");
        }
        assert!(RepoRef::new(&"a".repeat(101), "b").is_err());
    }

    #[test]
    fn shas_and_links() {
        assert!(check_sha("x", &"a".repeat(40)).is_ok());
        assert!(check_sha("x", &"A".repeat(64)).is_ok());
        assert!(check_sha("x", &"a".repeat(39)).is_err());
        assert!(check_sha("x", &format!("{}/..", "a".repeat(37))).is_err());
        let reply = |link: &str| {
            let mut headers = ureq::http::HeaderMap::new();
            headers.insert("link", link.parse().unwrap());
            Reply {
                status: 200,
                headers,
                body: String::new(),
            }
        };
        let r = reply(
            r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next", <https://x/a?page=9>; rel="last""#,
        );
        assert_eq!(next_link(&r).as_deref(), Some("https://x/a?page=3"));
        assert_eq!(next_link(&reply(r#"<https://x/a>; rel="last""#)), None);
    }

    #[test]
    fn classification() {
        let status = |s| GitHubError::Status {
            endpoint: Endpoint::Alert,
            status: s,
        };
        for s in [401, 403, 404, 422] {
            assert_eq!(status(s).retry(), Retry::Permanent, "{s}");
        }
        assert_eq!(status(408).retry(), Retry::Transient { after: None });
        let limited = GitHubError::RateLimited {
            endpoint: Endpoint::Alert,
            status: 429,
            reason: "x".into(),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            limited.retry(),
            Retry::Transient {
                after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            GitHubError::bad(Endpoint::Alert, "x").retry(),
            Retry::Permanent
        );
    }
}
