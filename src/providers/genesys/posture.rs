//! Org posture through the admin API (`leakgate genesys audit`): every OAuth client of the org
//! (all pages), its grant, roles and divisions, state, token lifetime, dates and, where the usage
//! API answers, recent use; each checked against `[genesys.policy]`, the decoy and the protected
//! ids. Read only.
//!
//! Endpoints and fields are those of the Genesys Platform API SDK documentation:
//! `GET /api/v2/oauth/clients` (an `OAuthClientEntityListing`: `entities`, `pageNumber`,
//! `pageCount`, `total`, `nextUri`; permission `oauth:client:view`), `GET
//! /api/v2/authorization/roles/{roleId}` (`DomainOrganizationRole`: `name`, `permissions`,
//! `permissionPolicies`; `authorization:role:view`), `GET
//! /api/v2/oauth/clients/{clientId}/usage/summary?days=N` (a `UsageExecutionResult` whose
//! `executionId` is then polled at `.../usage/query/results/{executionId}`, an
//! `ApiUsageQueryResult` of `ApiUsageRow`s; `oauth:client:view` or `usage:client:view`). The
//! client record has no field for the secret's age or for IP restrictions: both are reported
//! "not exposed by the API", never guessed.

use super::verifier::GenesysVerifier;
use crate::verify::audit::{AuditAction, AuditOutcome};
use crate::verify::client::{Method, Reply};
use crate::verify::{Secret, Summary, VerifyError, VerifyOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// What the report says of a field the client record does not carry.
pub const NOT_EXPOSED: &str = "not exposed by the API";

/// Most pages of clients read before the listing is called incomplete.
const MAX_PAGES: usize = 1000;
/// Polls of a usage query before it is called unanswered.
const USAGE_POLLS: u32 = 5;
/// Longest server text (names, descriptions) kept.
const MAX_TEXT: usize = 120;

/// How serious a posture finding is; ordered, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The class of a posture finding; serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A client-credentials client holding administrator-level roles or permissions.
    AdminPrivileges,
    /// A role of the client could not be read: its privileges are unknown.
    RoleUnread,
    /// The name does not match `[genesys.policy] naming`.
    Naming,
    /// A production-named client that also names another environment.
    SharedAcrossEnvironments,
    /// Access tokens live longer than the policy allows.
    TokenLifetime,
    /// No API use within the policy's window.
    Unused,
    /// Disabled or inactive, still there.
    NotCleanedUp,
    /// A configured decoy id the org does not have.
    DecoyMissing,
    /// A decoy holding more than read-only roles.
    DecoyPrivileged,
    /// A configured protected id the org does not have.
    ProtectedMissing,
}

/// One posture finding.
#[derive(Debug, Clone, Serialize)]
pub struct PostureFinding {
    pub severity: Severity,
    pub check: Check,
    pub client_id: String,
    /// The client's name, when the org has the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub message: String,
}

/// `[genesys.policy]` of `.leakgate.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// A regex every client name must match, e.g. `^(Prod|Staging|Dev)-`.
    pub naming: Option<String>,
    /// Words naming environments (compared whole, without case, between separators).
    pub environments: Vec<String>,
    /// The words among them that name production.
    pub production: Vec<String>,
    /// The longest access-token lifetime allowed for clients that are not decoys, in seconds.
    pub max_token_lifetime_secs: u64,
    /// The longest for decoys (the guides: one hour).
    pub decoy_max_token_lifetime_secs: u64,
    /// A client with no API use in this many days is a candidate to disable.
    pub unused_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_string()).collect();
        Policy {
            naming: None,
            environments: words(&[
                "prod",
                "production",
                "staging",
                "stage",
                "dev",
                "development",
                "test",
                "qa",
                "uat",
            ]),
            production: words(&["prod", "production"]),
            max_token_lifetime_secs: 86_400,
            decoy_max_token_lifetime_secs: 3_600,
            unused_days: 30,
        }
    }
}

/// Genesys' bounds on `accessTokenValiditySeconds`: 5 minutes to 48 hours.
pub const TOKEN_LIFETIME_RANGE: std::ops::RangeInclusive<u64> = 300..=172_800;

impl Policy {
    /// Check ranges and compile the naming regex; on failure, the field and what was expected.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(re) = &self.naming {
            if naming_regex(re).is_none() {
                return Err((
                    "genesys.policy.naming".into(),
                    "must be a valid regex of at most 1024 bytes".into(),
                ));
            }
        }
        for (field, v) in [
            ("max_token_lifetime_secs", self.max_token_lifetime_secs),
            (
                "decoy_max_token_lifetime_secs",
                self.decoy_max_token_lifetime_secs,
            ),
        ] {
            if !TOKEN_LIFETIME_RANGE.contains(&v) {
                return Err((
                    format!("genesys.policy.{field}"),
                    "must be from 300 to 172800 seconds (Genesys' range)".into(),
                ));
            }
        }
        if !(1..=366).contains(&self.unused_days) {
            return Err((
                "genesys.policy.unused_days".into(),
                "must be from 1 to 366".into(),
            ));
        }
        for (field, list) in [
            ("environments", &self.environments),
            ("production", &self.production),
        ] {
            if list.len() > 100 || list.iter().any(|w| w.is_empty() || w.len() > 64) {
                return Err((
                    format!("genesys.policy.{field}"),
                    "at most 100 words of 1 to 64 bytes".into(),
                ));
            }
        }
        Ok(())
    }
}

fn naming_regex(re: &str) -> Option<regex::Regex> {
    if re.len() > 1024 {
        return None;
    }
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// Why an admin API call gave nothing usable. Messages name the step and, for a refusal, the
/// permission the SDK documentation lists for it; never a body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// HTTP 403.
    #[error("{what}: HTTP 403 forbidden; the admin client needs the permission {permission}")]
    Forbidden {
        what: String,
        permission: &'static str,
    },
    /// HTTP 404.
    #[error("{what}: not found (HTTP 404)")]
    NotFound { what: String },
    /// Any other status.
    #[error("{what}: HTTP {status}")]
    Status { what: String, status: u16 },
    /// No answer: transport, throttling past the retries, breaker, admin token.
    #[error("{what}: {reason}")]
    Call { what: String, reason: String },
    /// An answer that is not what the documentation describes.
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
}

/// An admin session in one region: the admin client's token, the HTTP policy of
/// [`crate::verify::client`] (Genesys hosts only, TLS, timeouts, retries with jitter,
/// `Retry-After`, breaker) and the audit log, as `scan --revoke` uses them.
pub struct Session {
    pub(super) v: GenesysVerifier,
    pub(super) domain: &'static str,
}

impl Session {
    /// Open a session for `domain` (a region domain). `opts.revoke` must hold the admin client.
    pub fn open(opts: VerifyOptions, domain: &'static str) -> Result<Self, VerifyError> {
        if opts
            .revoke
            .as_ref()
            .and_then(|r| r.admin.as_ref())
            .is_none()
        {
            return Err(VerifyError::MissingAdmin);
        }
        Ok(Session {
            v: GenesysVerifier::new(opts)?,
            domain,
        })
    }

    /// The region domain.
    pub fn domain(&self) -> &'static str {
        self.domain
    }

    /// Delete the admin token and return the warnings.
    pub fn finish(self) -> Summary {
        self.v.finish()
    }

    /// One audited admin call about `subject` (a client id, or a role id); `what` and
    /// `permission` word its failures.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call(
        &mut self,
        step: AuditAction,
        subject: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        what: &str,
        permission: &'static str,
    ) -> Result<Reply, ApiError> {
        let call_err = |reason: String| ApiError::Call {
            what: what.to_string(),
            reason,
        };
        self.v.admin_token(self.domain).map_err(call_err)?;
        let target = super::admin::admin_target(subject);
        let reply = self
            .v
            .admin_call(
                &target,
                self.domain,
                step,
                method,
                path,
                body.map(|b| b.to_string()),
                true,
            )
            .map_err(call_err)?;
        match reply.status {
            200..=299 => Ok(reply),
            403 => Err(ApiError::Forbidden {
                what: what.to_string(),
                permission,
            }),
            404 => Err(ApiError::NotFound {
                what: what.to_string(),
            }),
            status => Err(ApiError::Status {
                what: what.to_string(),
                status,
            }),
        }
    }

    /// A GET answered with a JSON object.
    pub(super) fn get_json(
        &mut self,
        step: AuditAction,
        subject: &str,
        path: &str,
        what: &str,
        permission: &'static str,
    ) -> Result<Value, ApiError> {
        let reply = self.call(step, subject, Method::Get, path, None, what, permission)?;
        match reply.json() {
            v @ Value::Object(_) => Ok(v),
            _ => Err(ApiError::Invalid {
                what: what.to_string(),
                why: "the answer is not a JSON object".into(),
            }),
        }
    }

    /// Every OAuth client of the org, following the listing's pages.
    pub fn list_clients(&mut self) -> Result<Vec<ClientRecord>, ApiError> {
        const WHAT: &str = "listing OAuth clients (GET /api/v2/oauth/clients)";
        let invalid = |why: String| ApiError::Invalid {
            what: WHAT.into(),
            why,
        };
        let mut out = Vec::new();
        let mut path = "/api/v2/oauth/clients".to_string();
        let mut seen = vec![path.clone()];
        let mut total = None;
        for _ in 0..MAX_PAGES {
            let page = self.get_json(
                AuditAction::ListClients,
                "",
                &path,
                WHAT,
                "oauth:client:view",
            )?;
            let entities = page
                .get("entities")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("a page without entities".into()))?;
            for e in entities {
                out.push(self.record_of(e));
            }
            total = page.get("total").and_then(Value::as_u64).or(total);
            let number = page.get("pageNumber").and_then(Value::as_u64);
            let count = page.get("pageCount").and_then(Value::as_u64);
            let next = match page.get("nextUri").and_then(Value::as_str) {
                Some(uri) => Some(
                    next_page_path(uri, self.domain)
                        .ok_or_else(|| invalid("nextUri is not a page of the listing".into()))?,
                ),
                None => match (number, count) {
                    (Some(n), Some(c)) if n < c => {
                        Some(format!("/api/v2/oauth/clients?pageNumber={}", n + 1))
                    }
                    _ => None,
                },
            };
            let Some(next) = next else {
                if let Some(t) = total {
                    if t != out.len() as u64 {
                        return Err(invalid(format!(
                            "the listing says {t} client(s) but its pages held {}",
                            out.len()
                        )));
                    }
                }
                return Ok(out);
            };
            if seen.contains(&next) {
                return Err(invalid("the pages loop back on themselves".into()));
            }
            seen.push(next.clone());
            path = next;
        }
        Err(invalid(format!("more than {MAX_PAGES} pages")))
    }

    /// One client, or `None` when the org does not have it.
    pub fn get_client(&mut self, id: &str) -> Result<Option<ClientRecord>, ApiError> {
        let what = format!("reading OAuth client {id}");
        match self.get_json(
            AuditAction::GetClient,
            id,
            &format!("/api/v2/oauth/clients/{id}"),
            &what,
            "oauth:client:view",
        ) {
            Ok(v) => Ok(Some(self.record_of(&v))),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One role.
    pub fn get_role(&mut self, id: &str) -> Result<RoleInfo, ApiError> {
        let what = format!("reading role {id}");
        if !is_path_segment(id) {
            return Err(ApiError::Invalid {
                what,
                why: "the role id is not a plain id".into(),
            });
        }
        let v = self.get_json(
            AuditAction::GetRole,
            id,
            &format!("/api/v2/authorization/roles/{id}"),
            &what,
            "authorization:role:view",
        )?;
        let mut role = RoleInfo::from_json(id, &v);
        role.name = role.name.map(|n| self.scrub_admin(&n));
        Ok(role)
    }

    /// A client record read from the API, its texts scrubbed of the admin secret too.
    fn record_of(&self, v: &Value) -> ClientRecord {
        let mut c = ClientRecord::from_json(v);
        c.name = c.name.map(|n| self.scrub_admin(&n));
        c.description = c.description.map(|d| self.scrub_admin(&d));
        c
    }

    /// Server text without the admin client's secret (a hostile or broken server could echo it).
    fn scrub_admin(&self, text: &str) -> String {
        match self.v.opts.revoke.as_ref().and_then(|r| r.admin.as_ref()) {
            Some(a) => crate::verify::scrub(text, &a.secret),
            None => text.to_string(),
        }
    }

    /// API use of a client over the last `days` days, from the usage summary.
    pub fn usage(&mut self, id: &str, days: u32) -> Result<UsageSummary, ApiError> {
        let what = format!("usage of client {id}");
        const PERMISSION: &str = "oauth:client:view or usage:client:view";
        let started = self.get_json(
            AuditAction::Usage,
            id,
            &format!("/api/v2/oauth/clients/{id}/usage/summary?days={days}"),
            &what,
            PERMISSION,
        )?;
        let exec = started
            .get("executionId")
            .and_then(Value::as_str)
            .filter(|e| is_path_segment(e))
            .ok_or_else(|| ApiError::Invalid {
                what: what.clone(),
                why: "no usable executionId".into(),
            })?
            .to_string();
        for n in 0..USAGE_POLLS {
            if n > 0 {
                self.v.http.pause(Duration::from_secs(1));
            }
            let r = self.get_json(
                AuditAction::Usage,
                id,
                &format!("/api/v2/oauth/clients/{id}/usage/query/results/{exec}"),
                &what,
                PERMISSION,
            )?;
            match r.get("queryStatus").and_then(Value::as_str) {
                Some("Complete") => return Ok(UsageSummary::from_rows(days, &r)),
                Some("Running") => {}
                _ => {
                    return Err(ApiError::Invalid {
                        what,
                        why: "the usage query failed".into(),
                    })
                }
            }
        }
        Err(ApiError::Invalid {
            what,
            why: format!("the usage query was still running after {USAGE_POLLS} polls"),
        })
    }

    /// Append an audit line of the session's own (a hand-over, a hook).
    pub(super) fn note(
        &mut self,
        subject: &str,
        action: AuditAction,
        outcome: AuditOutcome,
        detail: String,
    ) {
        let target = super::admin::admin_target(subject);
        self.v.record(
            &target,
            Some(self.domain),
            action,
            None,
            outcome,
            Some(detail),
        );
    }
}

/// The path of a `nextUri` when it is a page of the client listing on this region's API host
/// (or relative); anything else is refused.
fn next_page_path(uri: &str, domain: &str) -> Option<String> {
    let host = format!("https://api.{domain}");
    let path = uri.strip_prefix(&host).unwrap_or(uri);
    let ok = path.starts_with("/api/v2/oauth/clients?")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/?&=_-.%".contains(&b));
    ok.then(|| path.to_string())
}

/// True for an id fit to be a path segment: letters, digits, `-` and `_`, 1 to 64 bytes.
pub(super) fn is_path_segment(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The elements of the array `v[key]` (none when absent or not an array).
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Server text as the report shows it: control characters dropped, trimmed, bounded.
fn text(v: Option<&Value>) -> Option<String> {
    let s: String = v?
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// A role of a client and the division it applies in.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_id: Option<String>,
    /// Filled in from the role, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
}

/// An OAuth client as the audit reads it. The record's `secret` is never kept.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRecord {
    pub id: String,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `authorizedGrantType`, e.g. `CLIENT-CREDENTIALS`.
    pub grant: Option<String>,
    /// `active`, `disabled` or `inactive`.
    pub state: Option<String>,
    /// `accessTokenValiditySeconds`.
    pub token_lifetime_secs: Option<u64>,
    pub roles: Vec<RoleGrant>,
    pub date_created: Option<String>,
    pub date_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_to_delete: Option<String>,
}

impl ClientRecord {
    /// Read the documented fields of an `OAuthClient` / `OAuthClientListing`.
    pub fn from_json(v: &Value) -> Self {
        let mut roles: Vec<RoleGrant> = items(v, "roleDivisions")
            .filter_map(|rd| {
                Some(RoleGrant {
                    role_id: text(rd.get("roleId"))?,
                    division_id: text(rd.get("divisionId")),
                    role_name: None,
                })
            })
            .collect();
        // `roleIds` is deprecated but older records carry only it.
        for id in items(v, "roleIds").filter_map(|r| text(Some(r))) {
            if !roles.iter().any(|r| r.role_id == id) {
                roles.push(RoleGrant {
                    role_id: id,
                    division_id: None,
                    role_name: None,
                });
            }
        }
        // The record carries the client's own secret: dropped, and scrubbed from its texts.
        let own = text(v.get("secret")).map(Secret::new);
        let clean = |t: Option<String>| match (&own, t) {
            (Some(secret), Some(t)) => Some(crate::verify::scrub(&t, secret)),
            (_, t) => t,
        };
        ClientRecord {
            id: text(v.get("id")).unwrap_or_default(),
            name: clean(text(v.get("name"))),
            description: clean(text(v.get("description"))),
            grant: text(v.get("authorizedGrantType")),
            state: text(v.get("state")),
            token_lifetime_secs: v.get("accessTokenValiditySeconds").and_then(Value::as_u64),
            roles,
            date_created: text(v.get("dateCreated")),
            date_modified: text(v.get("dateModified")),
            date_to_delete: text(v.get("dateToDelete")),
        }
    }

    /// True for the client-credentials grant.
    pub fn is_client_credentials(&self) -> bool {
        self.grant
            .as_deref()
            .is_some_and(|g| g.eq_ignore_ascii_case("CLIENT-CREDENTIALS"))
    }
}

/// What a role allows, as the audit classes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privilege {
    /// Administrator-level, and why.
    Admin(String),
    /// Only `view` (or `read`) actions.
    ReadOnly,
    /// Anything else.
    Other,
}

/// A role: its name and permissions.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    pub id: String,
    pub name: Option<String>,
    /// `domain:entity:action` strings, from `permissions` and `permissionPolicies`.
    pub permissions: Vec<String>,
}

impl RoleInfo {
    fn from_json(id: &str, v: &Value) -> Self {
        let mut permissions: Vec<String> = items(v, "permissions")
            .filter_map(|p| text(Some(p)))
            .collect();
        for p in items(v, "permissionPolicies") {
            let domain = text(p.get("domain")).unwrap_or_else(|| "*".into());
            let entity = text(p.get("entityName")).unwrap_or_else(|| "*".into());
            let actions: Vec<String> = items(p, "actionSet")
                .filter_map(|a| text(Some(a)))
                .collect();
            if actions.is_empty() {
                permissions.push(format!("{domain}:{entity}:*"));
            }
            for a in actions {
                permissions.push(format!("{domain}:{entity}:{a}"));
            }
        }
        RoleInfo {
            id: id.to_string(),
            name: text(v.get("name")),
            permissions,
        }
    }

    /// Administrator-level: the Master Admin role, any wildcard domain, the `admin` domain, or
    /// anything beyond viewing in `oauth` (client management) or `authorization` (roles and
    /// grants). Read-only: every action is `view` or `read`.
    pub fn privilege(&self) -> Privilege {
        if self
            .name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("master admin"))
        {
            return Privilege::Admin("the Master Admin role".into());
        }
        let view = |a: &str| a.eq_ignore_ascii_case("view") || a.eq_ignore_ascii_case("read");
        let mut read_only = true;
        for p in &self.permissions {
            let mut parts = p.splitn(3, ':');
            let (domain, _entity, action) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or("*"),
                parts.next().unwrap_or("*"),
            );
            let domain_l = domain.to_ascii_lowercase();
            let admin = domain == "*"
                || domain_l == "admin"
                || (matches!(domain_l.as_str(), "oauth" | "authorization") && !view(action));
            if admin {
                return Privilege::Admin(format!("the permission {p}"));
            }
            if !view(action) {
                read_only = false;
            }
        }
        if read_only {
            Privilege::ReadOnly
        } else {
            Privilege::Other
        }
    }
}

/// API use over a window, from the usage summary.
#[derive(Debug, Clone, Serialize)]
pub struct UsageSummary {
    pub days: u32,
    pub requests: u64,
    /// The latest `date` with requests, when the rows carry one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

impl UsageSummary {
    fn from_rows(days: u32, v: &Value) -> Self {
        let mut requests = 0u64;
        let mut last_used: Option<String> = None;
        for row in items(v, "results") {
            let n = row.get("requests").and_then(Value::as_u64).unwrap_or(0);
            requests = requests.saturating_add(n);
            if n > 0 {
                if let Some(d) = text(row.get("date")) {
                    // ISO-8601 strings of one format order as text.
                    if last_used.as_ref().is_none_or(|l| d > *l) {
                        last_used = Some(d);
                    }
                }
            }
        }
        UsageSummary {
            days,
            requests,
            last_used,
        }
    }
}

/// Recent use as the report shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Usage {
    /// The usage API answered.
    Known(UsageSummary),
    /// Not asked (`--no-usage`).
    NotQueried,
    /// The usage API did not answer; why.
    Unavailable { reason: String },
}

/// One client in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ClientReport {
    #[serde(flatten)]
    pub client: ClientRecord,
    pub usage: Usage,
    /// Always [`NOT_EXPOSED`]: the client record has no such field.
    pub secret_age: &'static str,
    /// Always [`NOT_EXPOSED`].
    pub ip_restrictions: &'static str,
    pub decoy: bool,
    pub protected: bool,
}

/// What the audit needs besides the org.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub policy: Policy,
    pub decoy_client_ids: Vec<String>,
    pub protected_client_ids: Vec<String>,
    /// Ask the usage API about each client.
    pub usage: bool,
}

/// The audit of one org.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub region: String,
    pub clients: Vec<ClientReport>,
    /// Most severe first, then by client id.
    pub findings: Vec<PostureFinding>,
    /// What could not be read; the report is incomplete where these say.
    pub errors: Vec<String>,
}

impl AuditReport {
    /// The most severe finding.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Roles read once per run.
pub(super) type RoleCache = HashMap<String, Result<RoleInfo, ApiError>>;

impl Session {
    /// A role through the run's cache.
    pub(super) fn role_cached(
        &mut self,
        cache: &mut RoleCache,
        id: &str,
    ) -> Result<RoleInfo, ApiError> {
        if let Some(r) = cache.get(id) {
            return r.clone();
        }
        let r = self.get_role(id);
        cache.insert(id.to_string(), r.clone());
        r
    }

    /// Read the whole org and check it. The listing failing is an error; a role or a usage
    /// query failing is named in the report's errors and the rest goes on.
    pub fn audit(&mut self, opts: &AuditOptions) -> Result<AuditReport, ApiError> {
        let mut clients = self.list_clients()?;
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        let mut roles = RoleCache::new();
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        let mut usage_refused: Option<String> = None;
        let naming = opts.policy.naming.as_deref().and_then(naming_regex);
        let mut reports = Vec::new();
        for mut c in clients {
            let listed = |ids: &[String]| ids.iter().any(|d| d.trim().eq_ignore_ascii_case(&c.id));
            let decoy = listed(&opts.decoy_client_ids);
            let protected = listed(&opts.protected_client_ids);
            let role_checks = self.check_roles(&mut roles, &mut c, decoy, &mut errors);
            findings.extend(role_checks);
            findings.extend(check_client(&c, decoy, &opts.policy, naming.as_ref()));
            let usage = if !opts.usage {
                Usage::NotQueried
            } else if let Some(why) = &usage_refused {
                Usage::Unavailable {
                    reason: why.clone(),
                }
            } else if !is_path_segment(&c.id) {
                Usage::Unavailable {
                    reason: "the client id is not a plain id".into(),
                }
            } else {
                match self.usage(&c.id, opts.policy.unused_days) {
                    Ok(u) => Usage::Known(u),
                    Err(e) => {
                        // A refusal holds for every client: asked once, said once.
                        if matches!(e, ApiError::Forbidden { .. }) {
                            let why = e.to_string();
                            errors.push(format!("recent use not read for any client: {why}"));
                            usage_refused = Some(why);
                        } else {
                            errors.push(e.to_string());
                        }
                        Usage::Unavailable {
                            reason: e.to_string(),
                        }
                    }
                }
            };
            if let Usage::Known(u) = &usage {
                if u.requests == 0 && c.state.as_deref() == Some("active") && !decoy {
                    findings.push(finding(
                        Severity::Low,
                        Check::Unused,
                        &c,
                        format!(
                            "no API requests in the last {} day(s): a candidate to disable",
                            u.days
                        ),
                    ));
                }
            }
            reports.push(ClientReport {
                client: c,
                usage,
                secret_age: NOT_EXPOSED,
                ip_restrictions: NOT_EXPOSED,
                decoy,
                protected,
            });
        }
        let has = |id: &str| {
            reports
                .iter()
                .any(|r| r.client.id.eq_ignore_ascii_case(id.trim()))
        };
        for d in &opts.decoy_client_ids {
            if !has(d) {
                findings.push(missing(Severity::High, Check::DecoyMissing, d, "configured in [genesys] decoy_client_ids but the org has no such client: a leak of it raises no alarm"));
            }
        }
        for p in &opts.protected_client_ids {
            if !has(p) {
                findings.push(missing(Severity::Medium, Check::ProtectedMissing, p, "configured in [genesys] protected_client_ids but the org has no such client: remove it or fix the id"));
            }
        }
        sort_findings(&mut findings);
        Ok(AuditReport {
            region: self.domain.to_string(),
            clients: reports,
            findings,
            errors,
        })
    }

    /// Read each role of `c` (naming them in the record) and check them: admin-level roles on a
    /// client-credentials client; anything beyond read-only on a decoy; a role not read.
    pub(super) fn check_roles(
        &mut self,
        cache: &mut RoleCache,
        c: &mut ClientRecord,
        decoy: bool,
        errors: &mut Vec<String>,
    ) -> Vec<PostureFinding> {
        let mut out = Vec::new();
        let credentials = c.is_client_credentials();
        let mut grants = std::mem::take(&mut c.roles);
        for g in &mut grants {
            match self.role_cached(cache, &g.role_id) {
                Ok(role) => {
                    g.role_name = role.name.clone();
                    let shown = role.name.clone().unwrap_or_else(|| role.id.clone());
                    let privilege = role.privilege();
                    if let (Privilege::Admin(why), true) = (&privilege, credentials) {
                        out.push(finding(
                            Severity::Critical,
                            Check::AdminPrivileges,
                            c,
                            format!("client-credentials client with the administrator-level role {shown} ({why}): one leak is the whole org"),
                        ));
                    }
                    if decoy && privilege != Privilege::ReadOnly {
                        out.push(finding(
                            Severity::High,
                            Check::DecoyPrivileged,
                            c,
                            format!("decoy holds the role {shown}, which is more than read-only"),
                        ));
                    }
                }
                Err(e) => {
                    errors.push(e.to_string());
                    out.push(finding(
                        Severity::Medium,
                        Check::RoleUnread,
                        c,
                        format!(
                            "role {} not read, so its privileges are unknown: {e}",
                            g.role_id
                        ),
                    ));
                }
            }
        }
        c.roles = grants;
        out
    }
}

fn finding(severity: Severity, check: Check, c: &ClientRecord, message: String) -> PostureFinding {
    PostureFinding {
        severity,
        check,
        client_id: c.id.clone(),
        client_name: c.name.clone(),
        message,
    }
}

fn missing(severity: Severity, check: Check, id: &str, message: &str) -> PostureFinding {
    PostureFinding {
        severity,
        check,
        client_id: id.trim().to_string(),
        client_name: None,
        message: message.to_string(),
    }
}

/// Most severe first, then by client id and check.
pub(super) fn sort_findings(f: &mut [PostureFinding]) {
    f.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.client_id.cmp(&b.client_id))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// The checks of one client that need no further call: naming, environments, token lifetime,
/// state.
pub(super) fn check_client(
    c: &ClientRecord,
    decoy: bool,
    policy: &Policy,
    naming: Option<&regex::Regex>,
) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    let name = c.name.as_deref().unwrap_or("");
    if let Some(re) = naming {
        // Decoys are named to look real, not to follow the convention.
        if !decoy && !re.is_match(name) {
            out.push(finding(
                Severity::Medium,
                Check::Naming,
                c,
                format!(
                    "name does not match the naming policy {}",
                    policy.naming.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    let words: Vec<String> = name
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let is = |list: &[String], w: &str| list.iter().any(|e| e.eq_ignore_ascii_case(w));
    let prod = words.iter().any(|w| is(&policy.production, w));
    let others: Vec<&String> = words
        .iter()
        .filter(|w| is(&policy.environments, w) && !is(&policy.production, w))
        .collect();
    if prod && !others.is_empty() {
        out.push(finding(
            Severity::High,
            Check::SharedAcrossEnvironments,
            c,
            format!(
                "a production client named for other environments too ({}): use one client per environment",
                others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let max = if decoy {
        policy.decoy_max_token_lifetime_secs
    } else {
        policy.max_token_lifetime_secs
    };
    if let Some(t) = c.token_lifetime_secs {
        if t > max {
            out.push(finding(
                if decoy {
                    Severity::High
                } else {
                    Severity::Medium
                },
                Check::TokenLifetime,
                c,
                format!(
                    "access tokens live {t} s, above the {}maximum of {max} s",
                    if decoy { "decoy " } else { "" }
                ),
            ));
        }
    }
    if let Some(s @ ("disabled" | "inactive")) = c.state.as_deref() {
        out.push(finding(
            Severity::Low,
            Check::NotCleanedUp,
            c,
            format!(
                "{s} since {}, never cleaned up: delete it if nothing needs it",
                c.date_modified.as_deref().unwrap_or("an unreported date")
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(v: Value) -> Privilege {
        RoleInfo::from_json("r", &v).privilege()
    }

    #[test]
    fn roles_are_classed_by_permissions() {
        assert!(matches!(
            role(json!({"name": "Master Admin"})),
            Privilege::Admin(_)
        ));
        assert!(matches!(
            role(json!({"name": "x", "permissions": ["oauth:client:edit"]})),
            Privilege::Admin(_)
        ));
        assert!(matches!(
            role(
                json!({"name": "x", "permissionPolicies": [{"domain": "authorization", "entityName": "role", "actionSet": ["*"]}]})
            ),
            Privilege::Admin(_)
        ));
        assert_eq!(
            role(json!({"name": "x", "permissions": ["routing:queue:view", "oauth:client:view"]})),
            Privilege::ReadOnly
        );
        assert_eq!(
            role(json!({"name": "x", "permissions": ["routing:queue:edit"]})),
            Privilege::Other
        );
        // A policy without actions is every action.
        assert_eq!(
            role(json!({"permissionPolicies": [{"domain": "routing", "entityName": "queue"}]})),
            Privilege::Other
        );
    }

    #[test]
    fn the_policy_is_checked_when_the_configuration_loads() {
        let load = |t: &str| crate::config::Config::parse(std::path::Path::new("c.toml"), t);
        let c = load("[genesys.policy]\nnaming = \"^(Prod|Dev)-\"\nunused_days = 60\n").unwrap();
        assert_eq!(c.providers.genesys.policy.unused_days, 60);
        assert_eq!(c.providers.genesys.policy.max_token_lifetime_secs, 86_400);
        for (bad, field) in [
            ("naming = \"(\"", "genesys.policy.naming"),
            (
                "max_token_lifetime_secs = 10",
                "genesys.policy.max_token_lifetime_secs",
            ),
            ("unused_days = 0", "genesys.policy.unused_days"),
            ("nmaing = \"x\"", "unknown field"),
        ] {
            let e = load(&format!("[genesys.policy]\n{bad}\n")).unwrap_err();
            assert!(format!("{e:#}").contains(field), "{bad}: {e:#}");
        }
    }

    #[test]
    fn next_pages_stay_on_the_listing() {
        let d = "mypurecloud.ie";
        assert_eq!(
            next_page_path("/api/v2/oauth/clients?pageNumber=2", d).as_deref(),
            Some("/api/v2/oauth/clients?pageNumber=2")
        );
        assert!(next_page_path(
            "https://api.mypurecloud.ie/api/v2/oauth/clients?pageNumber=3",
            d
        )
        .is_some());
        assert!(next_page_path("https://evil.example/api/v2/oauth/clients?x=1", d).is_none());
        assert!(next_page_path("/api/v2/users?pageNumber=2", d).is_none());
        assert!(next_page_path("/api/v2/oauth/clients?a=b c", d).is_none());
    }

    #[test]
    fn environments_are_whole_words() {
        let p = Policy::default();
        let c = |name: &str| ClientRecord::from_json(&json!({"id": "x", "name": name}));
        let shared = |name: &str| {
            check_client(&c(name), false, &p, None)
                .iter()
                .any(|f| f.check == Check::SharedAcrossEnvironments)
        };
        assert!(shared("Prod-Dev OrderLookup"));
        assert!(shared("prod/staging sync"));
        assert!(!shared("Prod-OrderLookup"));
        assert!(!shared("Product devices"));
    }
}
