//! Decoy clients (`leakgate genesys decoy create | list | rotate`): a client-credentials client
//! that looks like a real integration, holds read-only roles only and the shortest token
//! lifetime Genesys allows, whose id goes into `.leakgate.toml`'s `decoy_client_ids` so scans
//! never contact it and any use of it is an alarm.
//!
//! Seed 004's payload (`scopes`, `clientType`, `tokenExpirySeconds`,
//! `refreshTokenExpirySeconds`) is not the SDK's `OAuthClientRequest`: a client-credentials client
//! carries `roleDivisions` (scopes apply to other grants only) and `accessTokenValiditySeconds`
//! (300 to 172800); `POST /api/v2/oauth/clients` needs `oauth:client:add`. The SDK wins.

use super::posture::{
    check_client, is_path_segment, ApiError, Check, ClientRecord, Policy, Privilege, RoleCache,
    Session,
};
use crate::verify::audit::AuditAction;
use crate::verify::client::Method;
use crate::verify::Secret;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The shortest access-token lifetime Genesys accepts (5 minutes): a decoy's tokens.
pub const DECOY_TOKEN_LIFETIME_SECS: u64 = 300;
/// The name a decoy gets unless told otherwise: a plausible integration.
pub const DEFAULT_NAME: &str = "Legacy CRM Sync";
/// Its description.
pub const DEFAULT_DESCRIPTION: &str = "Nightly export of contact and queue data to the CRM";

/// What to create.
#[derive(Debug, Clone)]
pub struct DecoySpec {
    pub name: String,
    pub description: String,
    /// Read-only roles; each is read and checked before anything is created.
    pub role_ids: Vec<String>,
    /// The division the roles apply in (Genesys' home division when absent).
    pub division_id: Option<String>,
}

/// Why a decoy was not created or rotated.
#[derive(Debug, thiserror::Error)]
pub enum DecoyError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("role {role} is not read-only ({why}): a decoy holds read-only roles only")]
    NotReadOnly { role: String, why: String },
    #[error("the created client's answer held no usable {0}")]
    Answer(&'static str),
}

impl Session {
    /// Check the roles, then create the decoy. Returns its id and secret (the secret is to be
    /// handed over once, then dropped).
    pub fn create_decoy(&mut self, spec: &DecoySpec) -> Result<(String, Secret), DecoyError> {
        let mut cache = RoleCache::new();
        for id in &spec.role_ids {
            let role = self.role_cached(&mut cache, id)?;
            match role.privilege() {
                Privilege::ReadOnly => {}
                Privilege::Admin(why) => {
                    return Err(DecoyError::NotReadOnly {
                        role: id.clone(),
                        why,
                    })
                }
                Privilege::Other => {
                    return Err(DecoyError::NotReadOnly {
                        role: id.clone(),
                        why: "it allows more than view".into(),
                    })
                }
            }
        }
        let role_divisions: Vec<Value> = spec
            .role_ids
            .iter()
            .map(|r| match &spec.division_id {
                Some(d) => json!({"roleId": r, "divisionId": d}),
                None => json!({"roleId": r}),
            })
            .collect();
        let body = json!({
            "name": spec.name,
            "description": spec.description,
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": DECOY_TOKEN_LIFETIME_SECS,
            "roleDivisions": role_divisions,
            "state": "active",
        });
        let reply = self.call(
            AuditAction::CreateClient,
            "",
            Method::Post,
            "/api/v2/oauth/clients",
            Some(body),
            "creating the decoy client (POST /api/v2/oauth/clients)",
            "oauth:client:add",
        )?;
        let j = reply.json();
        drop(reply);
        let id = j
            .get("id")
            .and_then(Value::as_str)
            .filter(|i| super::is_client_id(i))
            .ok_or(DecoyError::Answer("client id"))?
            .to_string();
        let secret = j
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .ok_or(DecoyError::Answer("secret (rotate the decoy to get one)"))?;
        Ok((id, secret))
    }

    /// Each configured decoy: whether the org still has it and whether it is harmless
    /// (read-only roles, token lifetime within the decoy maximum, no role left unread).
    pub fn decoy_status(&mut self, ids: &[String], policy: &Policy) -> Vec<DecoyStatus> {
        let mut cache = RoleCache::new();
        let mut out = Vec::new();
        for raw in ids {
            let id = raw.trim().to_ascii_lowercase();
            let mut status = DecoyStatus {
                client_id: id.clone(),
                exists: None,
                name: None,
                state: None,
                token_lifetime_secs: None,
                harmless: false,
                problems: Vec::new(),
            };
            if !is_path_segment(&id) {
                status.problems.push("not a client id".into());
                out.push(status);
                continue;
            }
            match self.get_client(&id) {
                Ok(None) => {
                    status.exists = Some(false);
                    status
                        .problems
                        .push("the org has no such client: its leak raises no alarm".into());
                }
                Ok(Some(mut c)) => {
                    status.exists = Some(true);
                    let mut errors = Vec::new();
                    let mut found = self.check_roles(&mut cache, &mut c, true, &mut errors);
                    found.extend(check_client(&c, true, policy, None));
                    status.problems.extend(
                        found
                            .into_iter()
                            .filter(|f| {
                                matches!(
                                    f.check,
                                    Check::DecoyPrivileged
                                        | Check::TokenLifetime
                                        | Check::RoleUnread
                                )
                            })
                            .map(|f| f.message),
                    );
                    status.harmless = status.problems.is_empty();
                    fill(&mut status, c);
                }
                Err(e) => status.problems.push(e.to_string()),
            }
            out.push(status);
        }
        out
    }
}

fn fill(s: &mut DecoyStatus, c: ClientRecord) {
    s.name = c.name;
    s.state = c.state;
    s.token_lifetime_secs = c.token_lifetime_secs;
}

/// One configured decoy, as `decoy list` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct DecoyStatus {
    pub client_id: String,
    /// `None` when the org could not be asked.
    pub exists: Option<bool>,
    pub name: Option<String>,
    pub state: Option<String>,
    pub token_lifetime_secs: Option<u64>,
    /// Exists, read-only, short-lived.
    pub harmless: bool,
    pub problems: Vec<String>,
}

/// Why `.leakgate.toml` was not edited.
#[derive(Debug, thiserror::Error)]
pub enum ConfigEditError {
    #[error("reading {}", crate::finding::display_path(path.as_os_str().as_encoded_bytes()))]
    Read {
        path: PathBuf,
        #[source]
        source: crate::config::ReadError,
    },
    #[error("{} is not TOML leakgate can edit ({why})", crate::finding::display_path(path.as_os_str().as_encoded_bytes()))]
    Shape { path: PathBuf, why: &'static str },
    #[error("the edited configuration would not load")]
    Invalid(#[source] crate::config::ConfigError),
    #[error("writing {}", crate::finding::display_path(path.as_os_str().as_encoded_bytes()))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Add `id` to `[genesys] decoy_client_ids` of the configuration at `path` (created when
/// missing), keeping everything else as written. Returns false when it was already listed.
pub fn add_decoy_id(path: &Path, id: &str) -> Result<bool, ConfigEditError> {
    let text = match crate::config::read_regular(path, crate::config::MAX_CONFIG_BYTES) {
        Ok(b) => String::from_utf8(b).map_err(|_| ConfigEditError::Shape {
            path: path.to_path_buf(),
            why: "not UTF-8",
        })?,
        Err(crate::config::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            String::new()
        }
        Err(source) => {
            return Err(ConfigEditError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let shape = |why| ConfigEditError::Shape {
        path: path.to_path_buf(),
        why,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|_| shape("not valid TOML"))?;
    if !doc.contains_key("genesys") {
        doc["genesys"] = toml_edit::table();
    }
    let genesys = doc["genesys"]
        .as_table_like_mut()
        .ok_or(shape("genesys is not a table"))?;
    match genesys.get_mut("decoy_client_ids") {
        None => {
            let mut a = toml_edit::Array::new();
            a.push(id);
            genesys.insert("decoy_client_ids", toml_edit::value(a));
        }
        Some(item) => {
            let a = item
                .as_array_mut()
                .ok_or(shape("decoy_client_ids is not an array"))?;
            if a.iter().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case(id))
            }) {
                return Ok(false);
            }
            a.push(id);
        }
    }
    let new = doc.to_string();
    crate::config::Config::parse_bytes(path, new.as_bytes()).map_err(ConfigEditError::Invalid)?;
    // Written beside it, then renamed over it: a crash leaves the old file or the new one.
    let tmp = path.with_extension("toml.leakgate-tmp");
    let write_err = |source| ConfigEditError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, new).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(e)
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_added_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".leakgate.toml");
        let id = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
        std::fs::write(
            &p,
            "# our settings\n[allow]\npaths = [\"x/**\"] # keep\n\n[genesys.policy]\nnaming = \"^(Prod|Dev)-\"\n",
        )
        .unwrap();
        assert!(add_decoy_id(&p, id).unwrap());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# our settings\n[allow]\npaths = [\"x/**\"] # keep\n"),
            "{text}"
        );
        let c = crate::config::Config::load(&p).unwrap();
        assert_eq!(c.providers.genesys.decoy_client_ids, [id]);
        assert_eq!(
            c.providers.genesys.policy.naming.as_deref(),
            Some("^(Prod|Dev)-")
        );
        assert!(!add_decoy_id(&p, id).unwrap(), "listed once");
        let other = "7f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
        assert!(add_decoy_id(&p, other).unwrap());
        let c = crate::config::Config::load(&p).unwrap();
        assert_eq!(c.providers.genesys.decoy_client_ids, [id, other]);
        // A file that does not exist is created.
        let fresh = dir.path().join("new.toml");
        assert!(add_decoy_id(&fresh, id).unwrap());
        assert!(crate::config::Config::load(&fresh).is_ok());
    }
}
