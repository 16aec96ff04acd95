//! A stand-in GitHub REST API for tests: a real server on 127.0.0.1 (OS-picked port, the
//! plumbing of [`super::loopback`]) serving under `/api/v3`, as GitHub Enterprise Server does,
//! so [`FakeGitHub::url`] is the value for `LEAKGATE_GITHUB_API_URL`.
//!
//! It answers from a small model of what the secret-scanning response reads and writes:
//! alerts (with their secret), their locations (paged with `Link` headers, [`FakeGitHub::page_size`]),
//! blobs (base64, as the Git blobs API sends them), commits with an author, and the alert
//! update (`PATCH`, checked as GitHub checks it). A test scripts failures per route with
//! [`FakeGitHub::script`] (answers queued in order, served before the model: 5xx, 429 with
//! `Retry-After`, hostile bodies) and reads every request received with
//! [`FakeGitHub::requests`] (method, path, query, headers, body), e.g. to assert that no
//! request was made. Requests without `Authorization: Bearer <token>` get 401.

pub use super::loopback::Response;
use super::loopback::{RawRequest, Server};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// The API root's path on the server.
pub const PREFIX: &str = "/api/v3";

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path below [`PREFIX`], e.g. `/repos/o/r/secret-scanning/alerts/1`.
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::loopback::header(&self.headers, name)
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// An alert in the model.
#[derive(Debug, Clone)]
pub struct Alert {
    pub number: u64,
    pub secret_type: String,
    pub secret: String,
    /// `open` or `resolved`.
    pub state: String,
    pub resolution: Option<String>,
    pub resolution_comment: Option<String>,
    /// Raw location objects, as the locations API lists them.
    pub locations: Vec<Value>,
}

impl Alert {
    fn to_json(&self, root: &str, repo: &str) -> Value {
        json!({
            "number": self.number,
            "created_at": "2026-01-01T00:00:00Z",
            "url": format!("{root}/repos/{repo}/secret-scanning/alerts/{}", self.number),
            "html_url": format!("https://github.example/{repo}/security/secret-scanning/{}", self.number),
            "locations_url": format!("{root}/repos/{repo}/secret-scanning/alerts/{}/locations", self.number),
            "state": self.state,
            "resolution": self.resolution,
            "resolution_comment": self.resolution_comment,
            "secret_type": self.secret_type,
            "secret_type_display_name": format!("{} (custom pattern)", self.secret_type),
            "secret": self.secret,
            "validity": "unknown",
            "publicly_leaked": false,
        })
    }
}

/// The model and the test's scripts.
#[derive(Debug, Default)]
pub struct World {
    /// `owner/name` -> alerts.
    pub alerts: HashMap<String, Vec<Alert>>,
    /// (`owner/name`, blob sha) -> content.
    pub blobs: HashMap<(String, String), Vec<u8>>,
    /// (`owner/name`, commit sha) -> (author name, login).
    pub commits: HashMap<(String, String), (String, Option<String>)>,
    /// Locations per page; 0 = all on one page.
    pub page_size: usize,
    /// `METHOD path` -> answers served, in order, before the model.
    pub scripts: HashMap<String, VecDeque<Response>>,
    /// Counter for generated SHAs.
    next_sha: u64,
}

impl World {
    fn alert_mut(&mut self, repo: &str, number: u64) -> Option<&mut Alert> {
        self.alerts
            .get_mut(repo)?
            .iter_mut()
            .find(|a| a.number == number)
    }

    fn sha(&mut self) -> String {
        self.next_sha += 1;
        format!("{:040x}", 0xfeed_0000_u64 + self.next_sha)
    }

    /// The modelled GitHub behaviour for `path` (below the prefix).
    fn answer(&mut self, r: &Request, root: &str) -> Response {
        let segs: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        let not_found = || Response::json(404, json!({"message": "Not Found"}));
        match (r.method.as_str(), segs.as_slice()) {
            ("GET", ["repos", o, n, "secret-scanning", "alerts", num]) => {
                let repo = format!("{o}/{n}");
                match num.parse().ok().and_then(|num| self.alert_mut(&repo, num)) {
                    Some(a) => Response::json(200, a.to_json(root, &repo)),
                    None => not_found(),
                }
            }
            ("PATCH", ["repos", o, n, "secret-scanning", "alerts", num]) => {
                let repo = format!("{o}/{n}");
                let body = r.json();
                let Some(a) = num.parse().ok().and_then(|num| self.alert_mut(&repo, num)) else {
                    return not_found();
                };
                let resolution = body.get("resolution").and_then(Value::as_str);
                let comment = body.get("resolution_comment").and_then(Value::as_str);
                let invalid = |m: &str| Response::json(422, json!({"message": m}));
                match body.get("state").and_then(Value::as_str) {
                    Some("resolved") => {
                        if !matches!(
                            resolution,
                            Some("false_positive" | "wont_fix" | "revoked" | "used_in_tests")
                        ) {
                            return invalid("resolution is required when state is resolved");
                        }
                        a.state = "resolved".into();
                        a.resolution = resolution.map(str::to_string);
                        a.resolution_comment = comment.map(str::to_string);
                    }
                    Some("open") => {
                        if comment.is_some() {
                            return invalid("resolution_comment must be null when reopening");
                        }
                        a.state = "open".into();
                        a.resolution = None;
                        a.resolution_comment = None;
                    }
                    _ => return invalid("state must be open or resolved"),
                }
                Response::json(200, a.to_json(root, &repo))
            }
            ("GET", ["repos", o, n, "secret-scanning", "alerts", num, "locations"]) => {
                let repo = format!("{o}/{n}");
                let size = self.page_size;
                let Some(a) = num.parse().ok().and_then(|num| self.alert_mut(&repo, num)) else {
                    return not_found();
                };
                let page: usize = query_param(&r.query, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1)
                    .max(1);
                let all = &a.locations;
                if size == 0 {
                    return Response::json(200, Value::Array(all.clone()));
                }
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * size)
                    .take(size)
                    .cloned()
                    .collect();
                let pages = all.len().div_ceil(size).max(1);
                let here = format!("{root}/repos/{repo}/secret-scanning/alerts/{num}/locations");
                let mut links = Vec::new();
                if page < pages {
                    links.push(format!(
                        "<{here}?per_page={size}&page={}>; rel=\"next\"",
                        page + 1
                    ));
                    links.push(format!(
                        "<{here}?per_page={size}&page={pages}>; rel=\"last\""
                    ));
                }
                if page > 1 {
                    links.push(format!("<{here}?per_page={size}&page=1>; rel=\"first\""));
                }
                let resp = Response::json(200, Value::Array(items));
                if links.is_empty() {
                    resp
                } else {
                    resp.header("Link", &links.join(", "))
                }
            }
            ("GET", ["repos", o, n, "git", "blobs", sha]) => {
                match self.blobs.get(&(format!("{o}/{n}"), (*sha).to_string())) {
                    Some(bytes) => Response::json(200, blob_json(sha, bytes)),
                    None => not_found(),
                }
            }
            ("GET", ["repos", o, n, "commits", sha]) => {
                match self.commits.get(&(format!("{o}/{n}"), (*sha).to_string())) {
                    Some((name, login)) => Response::json(
                        200,
                        json!({
                            "sha": sha,
                            "commit": {"author": {"name": name, "email": "dev@example.com",
                                "date": "2026-01-01T00:00:00Z"}, "message": "change"},
                            "author": login.as_ref().map(|l| json!({"login": l, "id": 1})),
                            "files": [],
                        }),
                    ),
                    None => not_found(),
                }
            }
            ("GET", ["repos", o, n, "git", "commits", sha]) => {
                match self.commits.get(&(format!("{o}/{n}"), (*sha).to_string())) {
                    Some((name, _)) => Response::json(
                        200,
                        json!({"sha": sha, "author": {"name": name, "email": "dev@example.com",
                            "date": "2026-01-01T00:00:00Z"}, "message": "change"}),
                    ),
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

/// The Git blobs API's answer for `bytes`: base64 in lines of 60, as GitHub sends it.
pub fn blob_json(sha: &str, bytes: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    json!({"sha": sha, "size": bytes.len(), "encoding": "base64",
        "content": lines.join("\n") + "\n", "node_id": "B_x"})
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The running stand-in.
pub struct FakeGitHub {
    server: Server,
    world: Arc<Mutex<World>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeGitHub {
    /// Start a stand-in that accepts only `Authorization: Bearer {token}`.
    pub fn start(token: &str) -> Self {
        let world = Arc::new(Mutex::new(World::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let port = Arc::new(Mutex::new(0u16));
        let server = {
            let (world, requests, port) = (world.clone(), requests.clone(), port.clone());
            let want = format!("Bearer {token}");
            Server::start(move |raw| {
                let root = format!("http://127.0.0.1:{}{PREFIX}", port.lock().unwrap());
                let req = github_request(raw);
                requests.lock().unwrap().push(req.clone());
                let mut w = world.lock().unwrap();
                let key = format!("{} {}", req.method, req.path);
                if let Some(resp) = w.scripts.get_mut(&key).and_then(VecDeque::pop_front) {
                    return resp;
                }
                if req.header("authorization") != Some(want.as_str()) {
                    return Response::json(401, json!({"message": "Bad credentials"}));
                }
                w.answer(&req, &root)
            })
        };
        *port.lock().unwrap() = server.port();
        FakeGitHub {
            server,
            world,
            requests,
        }
    }

    /// The API root: the value for `LEAKGATE_GITHUB_API_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{PREFIX}", self.server.port())
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The model, to read or change.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Queue `answers` for `METHOD path` (path below the prefix, no query), served in order
    /// before the model answers (and before the token is checked).
    pub fn script(&self, method: &str, path: &str, answers: impl IntoIterator<Item = Response>) {
        self.world()
            .scripts
            .entry(format!("{method} {path}"))
            .or_default()
            .extend(answers);
    }

    /// Serve locations `n` per page (with `Link` headers).
    pub fn page_size(&self, n: usize) {
        self.world().page_size = n;
    }

    /// Add an open alert for `secret` of `secret_type` in `repo` (`owner/name`).
    pub fn add_alert(&self, repo: &str, number: u64, secret_type: &str, secret: &str) {
        self.world()
            .alerts
            .entry(repo.to_string())
            .or_default()
            .push(Alert {
                number,
                secret_type: secret_type.to_string(),
                secret: secret.to_string(),
                state: "open".to_string(),
                resolution: None,
                resolution_comment: None,
                locations: Vec::new(),
            });
    }

    /// Add a `commit` location to an alert: a new commit by `author` (and `login`) whose file
    /// `path` holds `content`, the secret on `line`. Returns (blob sha, commit sha).
    pub fn add_commit_location(
        &self,
        repo: &str,
        number: u64,
        path: &str,
        line: u64,
        content: &[u8],
        author: (&str, Option<&str>),
    ) -> (String, String) {
        let root = self.url();
        let mut w = self.world();
        let (blob, commit) = (w.sha(), w.sha());
        w.blobs
            .insert((repo.to_string(), blob.clone()), content.to_vec());
        w.commits.insert(
            (repo.to_string(), commit.clone()),
            (author.0.to_string(), author.1.map(str::to_string)),
        );
        let loc = json!({"type": "commit", "details": {
            "path": path, "start_line": line, "end_line": line, "start_column": 1,
            "end_column": 44, "blob_sha": blob, "blob_url": format!("{root}/repos/{repo}/git/blobs/{blob}"),
            "commit_sha": commit, "commit_url": format!("{root}/repos/{repo}/git/commits/{commit}"),
        }});
        w.alert_mut(repo, number)
            .expect("add the alert first")
            .locations
            .push(loc);
        (blob, commit)
    }

    /// Add a location of another type (`issue_comment`, `wiki_commit`...) with `details`.
    pub fn add_location(&self, repo: &str, number: u64, kind: &str, details: Value) {
        self.world()
            .alert_mut(repo, number)
            .expect("add the alert first")
            .locations
            .push(json!({"type": kind, "details": details}));
    }

    /// An alert as the model has it now.
    pub fn alert(&self, repo: &str, number: u64) -> Option<Alert> {
        self.world().alert_mut(repo, number).cloned()
    }
}

fn github_request(raw: RawRequest) -> Request {
    let (path, query) = raw
        .target
        .split_once('?')
        .unwrap_or((raw.target.as_str(), ""));
    Request {
        method: raw.method,
        path: path.strip_prefix(PREFIX).unwrap_or(path).to_string(),
        query: query.to_string(),
        headers: raw.headers,
        body: raw.body,
    }
}
