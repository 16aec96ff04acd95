//! A stand-in Genesys Cloud for the verify tests: one loopback port serving every region through
//! the URL template `http://127.0.0.1:PORT/{service}.{domain}`, a small model of OAuth clients,
//! tokens and the admin API, scriptable per test, recording every request. Tokens and rotated
//! secrets are generated at run time and remembered so tests can prove they never leak.

pub use super::loopback::Response;
use super::loopback::{RawRequest, Server};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// `login`, `api`, or the first path segment for other paths (e.g. `hook`).
    pub service: String,
    /// Region domain, e.g. `mypurecloud.ie` (empty for non-Genesys paths).
    pub domain: String,
    /// The path after the host segment, e.g. `/oauth/token`.
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::loopback::header(&self.headers, name)
    }

    /// (id, secret) of a Basic `Authorization`.
    pub fn basic(&self) -> Option<(String, String)> {
        let v = self.header("authorization")?.strip_prefix("Basic ")?;
        let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (id, secret) = s.split_once(':')?;
        Some((id.to_string(), secret.to_string()))
    }

    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }

    pub fn is_token(&self) -> bool {
        self.service == "login" && self.path == "/oauth/token"
    }

    /// Client id of a token request.
    pub fn token_client(&self) -> Option<String> {
        self.basic().map(|(id, _)| id)
    }
}

/// An OAuth client in the model.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub domain: String,
    pub name: String,
    pub org: String,
    /// `active`, `disabled` or `inactive`.
    pub state: String,
    pub grant: String,
    /// Fields a real client carries that a careless PUT would wipe.
    pub role_divisions: Value,
    /// More fields of the record (`accessTokenValiditySeconds`, `dateCreated`, ...), as the
    /// admin API returns them.
    pub fields: serde_json::Map<String, Value>,
}

/// The model: clients, live tokens, and everything sensitive ever handed out.
#[derive(Debug, Default)]
pub struct World {
    pub clients: Vec<Client>,
    /// token -> (client id, domain)
    pub tokens: HashMap<String, (String, String)>,
    /// Every token minted and every secret generated: none may appear in leakgate's output.
    pub sensitive: Vec<String>,
    /// Client ids allowed to call the admin API.
    pub admins: Vec<String>,
    /// Calls seen so far, keyed `METHOD service path`, for scripting.
    pub counts: HashMap<String, usize>,
    /// Roles by id, as `GET /api/v2/authorization/roles/{id}` returns them.
    pub roles: HashMap<String, Value>,
    /// Usage rows (`ApiUsageRow`) by client id; a client without rows has no use.
    pub usage: HashMap<String, Vec<Value>>,
    /// Clients per page of the listing (0: 25).
    pub page_size: usize,
    /// Bodies of the clients created through `POST /api/v2/oauth/clients`.
    pub created: Vec<Value>,
    rng: Option<fastrand::Rng>,
}

impl World {
    pub fn add_client(&mut self, id: &str, secret: &str, domain: &str, name: &str) {
        self.clients.push(Client {
            id: id.to_string(),
            secret: secret.to_string(),
            domain: domain.to_string(),
            name: name.to_string(),
            org: "Example Org".to_string(),
            state: "active".to_string(),
            grant: "CLIENT-CREDENTIALS".to_string(),
            role_divisions: json!([{"roleId": "r1", "divisionId": "d1"}]),
            fields: serde_json::Map::new(),
        });
    }

    /// Set more fields of a client's record (merged into what the admin API returns).
    pub fn set_fields(&mut self, id: &str, fields: Value) {
        let c = self.client_mut(id).expect("client");
        if let Value::Object(m) = fields {
            c.fields.extend(m);
        }
    }

    /// A role with these permissions (`domain:entity:action`).
    pub fn add_role(&mut self, id: &str, name: &str, permissions: &[&str]) {
        self.roles.insert(
            id.to_string(),
            json!({"id": id, "name": name, "permissions": permissions}),
        );
    }

    /// Add an admin client (allowed to call the admin API) in `domain`.
    pub fn add_admin(&mut self, id: &str, secret: &str, domain: &str) {
        self.add_client(id, secret, domain, "leakgate admin");
        self.admins.push(id.to_string());
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn client_mut(&mut self, id: &str) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.id == id)
    }

    fn random(&mut self, n: usize) -> String {
        let rng = self.rng.get_or_insert_with(fastrand::Rng::new);
        (0..n)
            .map(|_| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rng.usize(..62)]
                    as char
            })
            .collect()
    }

    /// Tokens still live for a client.
    pub fn live_tokens(&self, client_id: &str) -> usize {
        self.tokens.values().filter(|(c, _)| c == client_id).count()
    }

    /// The Genesys behaviour: token endpoint, tokens/me, admin API.
    pub fn answer(&mut self, r: &Request) -> Response {
        match (r.method.as_str(), r.service.as_str(), r.path.as_str()) {
            ("POST", "login", "/oauth/token") => self.token(r),
            ("GET", "api", "/api/v2/tokens/me") => match self.token_owner(r) {
                Some((id, _)) => {
                    let c = self.client(&id).cloned().expect("client of token");
                    Response::json(
                        200,
                        json!({
                            "organization": {"id": "org-1", "name": c.org},
                            "homeOrganization": {"id": "org-1", "name": c.org},
                            "OAuthClient": {"id": c.id, "name": c.name,
                                "organization": {"id": "org-1"}},
                        }),
                    )
                }
                None => Response::json(401, json!({"message": "bad token"})),
            },
            ("DELETE", "api", "/api/v2/tokens/me") => match r.bearer() {
                Some(t) if self.tokens.remove(t).is_some() => Response::empty(204),
                _ => Response::json(401, json!({"message": "bad token"})),
            },
            (_, "api", p) if p.starts_with("/api/v2/oauth/clients/") => self.admin(r),
            (_, "api", "/api/v2/oauth/clients") => self.clients_collection(r),
            ("GET", "api", p) if p.starts_with("/api/v2/authorization/roles/") => {
                if let Err(resp) = self.admin_caller(r) {
                    return resp;
                }
                let id = p.trim_start_matches("/api/v2/authorization/roles/");
                match self.roles.get(id) {
                    Some(role) => Response::json(200, role.clone()),
                    None => Response::json(404, json!({"message": "not found"})),
                }
            }
            _ => Response::json(404, json!({"message": "no such route"})),
        }
    }

    fn token_owner(&self, r: &Request) -> Option<(String, String)> {
        let t = r.bearer()?;
        let (id, domain) = self.tokens.get(t)?.clone();
        (domain == r.domain).then_some((id, domain))
    }

    fn token(&mut self, r: &Request) -> Response {
        if r.body.trim() != "grant_type=client_credentials" {
            return Response::oauth_error("invalid_request", "bad grant");
        }
        let Some((id, secret)) = r.basic() else {
            return Response::oauth_error("invalid_client", "no credentials");
        };
        let Some(c) = self
            .clients
            .iter()
            .find(|c| c.id == id && c.domain == r.domain)
            .cloned()
        else {
            return Response::oauth_error("invalid_client", "client not found");
        };
        if c.secret != secret || c.state != "active" {
            return Response::oauth_error("invalid_client", "authentication failed");
        }
        if c.grant != "CLIENT-CREDENTIALS" {
            return Response::oauth_error("unauthorized_client", "grant type not allowed");
        }
        let token = self.random(40);
        self.sensitive.push(token.clone());
        self.tokens
            .insert(token.clone(), (c.id.clone(), c.domain.clone()));
        Response::json(
            200,
            json!({"access_token": token, "token_type": "bearer", "expires_in": 86400}),
        )
    }

    /// The admin client calling, or the refusal.
    fn admin_caller(&self, r: &Request) -> Result<String, Response> {
        let Some((caller, _)) = self.token_owner(r) else {
            return Err(Response::json(401, json!({"message": "bad token"})));
        };
        if !self.admins.contains(&caller) {
            return Err(Response::json(
                403,
                json!({"message": "missing permission"}),
            ));
        }
        Ok(caller)
    }

    /// A client's record as the admin API returns it (the secret included, as Genesys does).
    fn record(c: &Client) -> Value {
        let mut v = json!({
            "id": c.id, "name": c.name, "authorizedGrantType": c.grant,
            "state": c.state, "secret": c.secret, "roleDivisions": c.role_divisions,
        });
        if let Value::Object(m) = &mut v {
            m.extend(c.fields.clone());
        }
        v
    }

    /// `GET /api/v2/oauth/clients` (paged: `pageNumber`, `pageCount`, `total`, `nextUri`) and
    /// `POST /api/v2/oauth/clients` (create).
    fn clients_collection(&mut self, r: &Request) -> Response {
        if let Err(resp) = self.admin_caller(r) {
            return resp;
        }
        if r.method == "POST" {
            let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                return Response::json(400, json!({"message": "bad json"}));
            };
            let (Some(name), Some(grant)) =
                (body["name"].as_str(), body["authorizedGrantType"].as_str())
            else {
                return Response::json(400, json!({"message": "name and grant required"}));
            };
            let (name, grant) = (name.to_string(), grant.to_string());
            let id = self.uuid();
            let secret = self.random(43);
            self.sensitive.push(secret.clone());
            let domain = r.domain.clone();
            self.add_client(&id, &secret, &domain, &name);
            let mut fields = body.clone();
            for k in ["name", "authorizedGrantType", "state", "roleDivisions"] {
                fields.as_object_mut().unwrap().remove(k);
            }
            let c = self.client_mut(&id).unwrap();
            c.grant = grant;
            c.role_divisions = body["roleDivisions"].clone();
            if let Value::Object(m) = fields {
                c.fields = m;
            }
            self.created.push(body);
            let c = self.client(&id).cloned().unwrap();
            return Response::json(200, Self::record(&c));
        }
        if r.method != "GET" {
            return Response::json(405, json!({"message": "method"}));
        }
        let size = if self.page_size == 0 {
            25
        } else {
            self.page_size
        };
        let page: usize = r
            .query
            .split('&')
            .find_map(|kv| kv.strip_prefix("pageNumber="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let all: Vec<Value> = self
            .clients
            .iter()
            .filter(|c| c.domain == r.domain)
            .map(Self::record)
            .collect();
        let count = all.len().div_ceil(size).max(1);
        let entities: Vec<Value> = all
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .cloned()
            .collect();
        let mut v = json!({
            "entities": entities, "pageSize": size, "pageNumber": page,
            "total": all.len(), "pageCount": count,
        });
        if page < count {
            v["nextUri"] = json!(format!("/api/v2/oauth/clients?pageNumber={}", page + 1));
        }
        Response::json(200, v)
    }

    fn uuid(&mut self) -> String {
        let h = self.random_hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    fn random_hex(&mut self, n: usize) -> String {
        let rng = self.rng.get_or_insert_with(fastrand::Rng::new);
        (0..n)
            .map(|_| b"0123456789abcdef"[rng.usize(..16)] as char)
            .collect()
    }

    fn admin(&mut self, r: &Request) -> Response {
        if let Err(resp) = self.admin_caller(r) {
            return resp;
        }
        let rest = r.path.trim_start_matches("/api/v2/oauth/clients/");
        let (id, sub) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(c) = self.client(id).cloned() else {
            return Response::json(404, json!({"message": "not found"}));
        };
        if c.domain != r.domain {
            return Response::json(404, json!({"message": "not found"}));
        }
        let record = Self::record;
        match (r.method.as_str(), sub) {
            ("GET", "") => Response::json(200, record(&c)),
            ("GET", "usage/summary") => Response::json(
                200,
                json!({"executionId": format!("exec-{id}"), "resultsUri": "x"}),
            ),
            ("GET", s) if s.starts_with("usage/query/results/") => {
                let rows = self.usage.get(id).cloned().unwrap_or_default();
                Response::json(200, json!({"results": rows, "queryStatus": "Complete"}))
            }
            ("PUT", "") => {
                let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                    return Response::json(400, json!({"message": "bad json"}));
                };
                let (Some(name), Some(grant), Some(state)) = (
                    body["name"].as_str(),
                    body["authorizedGrantType"].as_str(),
                    body["state"].as_str(),
                ) else {
                    return Response::json(400, json!({"message": "name, grant, state required"}));
                };
                let (name, grant, state) = (name.to_string(), grant.to_string(), state.to_string());
                let roles = body["roleDivisions"].clone();
                let cm = self.client_mut(id).unwrap();
                cm.name = name;
                cm.grant = grant;
                cm.state = state.clone();
                cm.role_divisions = roles;
                if state != "active" {
                    let id = id.to_string();
                    self.tokens.retain(|_, (c, _)| *c != id);
                }
                let c = self.client(id).cloned().unwrap();
                Response::json(200, record(&c))
            }
            ("POST", "secret") => {
                let secret = self.random(43);
                self.sensitive.push(secret.clone());
                self.client_mut(id).unwrap().secret = secret;
                let c = self.client(id).cloned().unwrap();
                Response::json(200, record(&c))
            }
            ("DELETE", "") => {
                if c.state != "inactive" {
                    return Response::json(400, json!({"message": "client must be inactive"}));
                }
                self.clients.retain(|c| c.id != id);
                let id = id.to_string();
                self.tokens.retain(|_, (c, _)| *c != id);
                Response::empty(204)
            }
            _ => Response::json(404, json!({"message": "no such route"})),
        }
    }
}

/// A test's script: answer first if it returns `Some`, else the model answers.
pub type Script = dyn Fn(&Request, &mut World) -> Option<Response> + Send + Sync;

/// The running server.
pub struct FakeGenesys {
    server: Server,
    pub world: Arc<Mutex<World>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeGenesys {
    /// Start with a script (use `|_, _| None` for the plain model).
    pub fn start(
        script: impl Fn(&Request, &mut World) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        let world = Arc::new(Mutex::new(World::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let server = {
            let (world, requests) = (world.clone(), requests.clone());
            Server::start(move |raw| answer(raw, &world, &requests, &script))
        };
        FakeGenesys {
            server,
            world,
            requests,
        }
    }

    /// The value for `LEAKGATE_GENESYS_URL_TEMPLATE`.
    pub fn template(&self) -> String {
        format!(
            "http://127.0.0.1:{}/{{service}}.{{domain}}",
            self.server.port()
        )
    }

    /// A URL on this server outside the Genesys routes (for webhooks).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.server.port())
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }
}

fn answer(
    raw: RawRequest,
    world: &Mutex<World>,
    requests: &Mutex<Vec<Request>>,
    script: &Script,
) -> Response {
    let req = genesys_request(raw);
    requests.lock().unwrap().push(req.clone());
    let mut w = world.lock().unwrap();
    let key = format!("{} {} {}", req.method, req.service, req.path);
    *w.counts.entry(key).or_default() += 1;
    match script(&req, &mut w) {
        Some(r) => r,
        None if req.service == "login" || req.service == "api" => w.answer(&req),
        None => Response::empty(200),
    }
}

/// A request seen through the URL template: `/{service}.{domain}/path?query`.
fn genesys_request(raw: RawRequest) -> Request {
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    let (path, query) = (path.to_string(), query.to_string());
    let rest = path.trim_start_matches('/');
    let (host, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let (service, domain) = match host.split_once('.') {
        Some((s, d)) if s == "login" || s == "api" => (s.to_string(), d.to_string()),
        _ => (host.to_string(), String::new()),
    };
    Request {
        method: raw.method,
        service,
        domain,
        path: format!("/{tail}"),
        query,
        headers: raw.headers,
        body: raw.body,
        at: Instant::now(),
    }
}

/// The seed of the admin client's pair in the verify tests.
pub const ADMIN_SEED: u64 = 900;

/// The admin client's (id, secret).
pub fn admin() -> (String, String) {
    (
        super::client_id(ADMIN_SEED),
        super::genesys_secret(ADMIN_SEED),
    )
}

/// Environment with the admin client's credentials.
pub fn admin_env(a: &(String, String)) -> [(&'static str, &str); 2] {
    [
        ("LEAKGATE_GENESYS_ADMIN_CLIENT_ID", a.0.as_str()),
        ("LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET", a.1.as_str()),
    ]
}

/// The token requests among `reqs`.
pub fn token_requests(reqs: &[Request]) -> Vec<&Request> {
    reqs.iter().filter(|r| r.is_token()).collect()
}

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON document on stdout.
    pub fn doc(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// The one finding of the JSON document.
    pub fn finding(&self) -> Value {
        let doc = self.doc();
        let f = super::findings(&doc);
        assert_eq!(f.len(), 1, "one finding expected: {}", self.stdout);
        f[0].clone()
    }
}

/// Run `leakgate scan --format FORMAT --verify-rate 100/s ARGS` in `dir` against `server`, with
/// `env` set and each of `defaults` (flag, value) that `args` does not give.
pub fn scan_with(
    server: &FakeGenesys,
    dir: &std::path::Path,
    format: &str,
    args: &[&str],
    env: &[(&str, &str)],
    defaults: &[(&str, &str)],
) -> Run {
    let mut cmd = super::leakgate();
    cmd.current_dir(dir)
        .env("LEAKGATE_GENESYS_URL_TEMPLATE", server.template())
        .args(["scan", "--format", format, "--verify-rate", "100/s"]);
    for (flag, value) in defaults {
        if !args.contains(flag) {
            cmd.args([flag, value]);
        }
    }
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run leakgate");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
