//! HTTP for verifiers: the URL template and host policy (a registered provider's hosts over
//! https, or loopback), request spacing, retries on throttling (exponential backoff with full
//! jitter, `Retry-After` respected, bounded attempts) and a circuit breaker. Every request a
//! verifier makes goes through [`Http`].

use super::{Secret, Token, VerifyError, VerifyOptions};
use base64::Engine;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// The default URL template: the real Genesys hosts over TLS.
pub const DEFAULT_URL_TEMPLATE: &str = "https://{service}.{domain}";

/// Largest response body read, in bytes; Genesys answers are small.
const MAX_BODY: u64 = 1 << 20;

/// The two Genesys hosts of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `login.<domain>`: the token endpoint.
    Login,
    /// `api.<domain>`: the platform API.
    Api,
}

impl Service {
    fn as_str(self) -> &'static str {
        match self {
            Service::Login => "login",
            Service::Api => "api",
        }
    }
}

/// Where requests go: `LEAKGATE_GENESYS_URL_TEMPLATE` or [`DEFAULT_URL_TEMPLATE`], checked against
/// the host policy (Genesys region hosts over https, or loopback).
#[derive(Debug, Clone)]
pub struct UrlTemplate {
    template: String,
}

impl UrlTemplate {
    /// Parse and check a template holding `{service}` and `{domain}`. Every region's URLs are
    /// checked here, so a template that would send anything to a disallowed host fails at once.
    pub fn parse(template: &str) -> Result<Self, VerifyError> {
        let template = template.trim();
        if !template.contains("{domain}") {
            return Err(VerifyError::UrlTemplate(format!(
                "{template:?} lacks {{domain}}"
            )));
        }
        let t = UrlTemplate {
            template: template.trim_end_matches('/').to_string(),
        };
        for domain in crate::providers::verify_domains() {
            for service in [Service::Login, Service::Api] {
                t.url(service, domain, "/")?;
            }
        }
        Ok(t)
    }

    /// The URL of `path` on `service` in the region `domain`, checked against the host policy.
    pub fn url(&self, service: Service, domain: &str, path: &str) -> Result<String, VerifyError> {
        let base = self
            .template
            .replace("{service}", service.as_str())
            .replace("{domain}", domain);
        let url = format!("{base}{path}");
        check_provider_url(&url)?;
        Ok(url)
    }

    /// True when the template points at a loopback host (tests, local stand-ins).
    pub fn is_loopback(&self) -> bool {
        self.url(
            Service::Login,
            crate::providers::verify_domains()
                .next()
                .unwrap_or("invalid"),
            "/",
        )
        .ok()
        .and_then(|u| HostUrl::parse(&u).ok())
        .is_some_and(|u| u.is_loopback())
    }
}

/// A URL as every host decision sees it: the host policy, the webhook policy and the proxy
/// bypass all read this one value, parsed by the HTTP client's own URI parser, so the host a
/// decision is made about is the host the request goes to.
#[derive(Clone, PartialEq, Eq)]
pub struct HostUrl {
    scheme: String,
    /// Lowercase, without IPv6 brackets or a trailing dot.
    host: String,
}

impl HostUrl {
    /// Parse an absolute URL; user info is refused. Errors never quote the URL (a webhook URL
    /// carries its own credential).
    pub fn parse(url: &str) -> Result<Self, VerifyError> {
        let bad = |why: &str| VerifyError::UrlTemplate(why.to_string());
        let uri: ureq::http::Uri = url.parse().map_err(|_| bad("not a valid URL"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| bad("not an absolute URL"))?
            .to_ascii_lowercase();
        let authority = uri.authority().ok_or_else(|| bad("the URL has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("user info in URLs is not allowed"));
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("the URL has no host"));
        }
        Ok(HostUrl { scheme, host })
    }

    /// `http`, `https`, ... in lowercase.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lowercase, IPv6 without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// True for `localhost`, 127.0.0.0/8 and `::1` (also IPv4-mapped `::ffff:127.x.y.z`).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

impl std::fmt::Debug for HostUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Scheme and host only: paths and queries may hold a credential.
        write!(f, "HostUrl({}://{})", self.scheme, self.host)
    }
}

/// True for `localhost`, 127.0.0.0/8 and `::1` (also IPv4-mapped `::ffff:127.x.y.z`).
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
        || host
            .parse::<Ipv6Addr>()
            .is_ok_and(|a| a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

/// True for `login.<domain>` or `api.<domain>` of a domain a registered provider verifies
/// against (today the Genesys region domains).
fn is_provider_host(host: &str) -> bool {
    [Service::Login, Service::Api].iter().any(|svc| {
        host.strip_prefix(svc.as_str())
            .and_then(|h| h.strip_prefix('.'))
            .is_some_and(|d| crate::providers::verify_domains().any(|x| x == d))
    })
}

/// The host policy for verification requests: https to a provider's host, or http(s) to
/// loopback.
fn check_provider_url(url: &str) -> Result<(), VerifyError> {
    let parsed = HostUrl::parse(url).map_err(|e| match e {
        VerifyError::UrlTemplate(why) => VerifyError::UrlTemplate(format!("{url:?}: {why}")),
        other => other,
    })?;
    let loopback = parsed.is_loopback();
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(VerifyError::InsecureUrl(url.to_string())),
        _ => {
            return Err(VerifyError::UrlTemplate(format!(
                "{url:?}: only https (or http to loopback) is allowed"
            )))
        }
    }
    if loopback || is_provider_host(parsed.host()) {
        Ok(())
    } else {
        Err(VerifyError::HostNotAllowed(parsed.host().to_string()))
    }
}

/// The policy for webhook URLs: https anywhere, or http to loopback. Returns the parsed URL the
/// client is then built from. Errors name the host at most, never the path or query.
pub fn check_webhook_url(url: &str) -> Result<HostUrl, VerifyError> {
    let parsed = HostUrl::parse(url)?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if parsed.is_loopback() => Ok(parsed),
        "http" => Err(VerifyError::InsecureUrl(format!(
            "webhook host {}",
            parsed.host()
        ))),
        _ => Err(VerifyError::UrlTemplate(
            "a webhook must be https (or http to loopback)".to_string(),
        )),
    }
}

/// HTTP methods leakgate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// How a request authenticates. No variant's value is ever formatted.
pub(crate) enum Auth<'a> {
    Basic(&'a str, &'a Secret),
    Bearer(&'a Token),
    /// A bearer token the operator configured (the GitHub token).
    BearerSecret(&'a Secret),
}

/// One request to a URL the caller has already checked against its host policy: what
/// [`Http::send`] sends for a [`Call`], and what clients of other APIs (GitHub) send directly.
pub(crate) struct Exchange<'a> {
    pub method: Method,
    pub url: &'a str,
    pub auth: &'a Auth<'a>,
    /// Extra request headers (names and values of leakgate's own making).
    pub headers: &'a [(&'static str, &'static str)],
    /// Content type and body.
    pub body: Option<(&'static str, &'a str)>,
    /// Read the answer's body; `false` drains it unread.
    pub keep_body: bool,
    /// Largest body read, in bytes; a larger one is a transport error.
    pub body_limit: u64,
    /// Which answers are retried.
    pub retry: RetryPolicy,
}

/// Which answers a request is retried on, within [`NetOptions::max_attempts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Genesys: throttling only (HTTP 429, or 400 `rate limit exceeded;`); 5xx and transport
    /// failures are returned at once, the caller decides.
    Genesys,
    /// GitHub: throttling (429; 403 with `x-ratelimit-remaining: 0` or `Retry-After`), 5xx and
    /// transport failures. Every GitHub call leakgate makes is idempotent.
    GitHub,
}

/// Why one HTTP exchange produced no answer.
enum Failed {
    Transport(String),
    TooLarge(u64),
}

/// GitHub's secondary rate limit can come as a bare 403 whose message says so (its
/// documentation: wait, then retry). Read for classification only, never shown.
fn says_rate_limit(reply: &Reply) -> bool {
    reply
        .json()
        .get("message")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.to_ascii_lowercase().contains("rate limit"))
}

/// Why an answer is tried again.
enum Again {
    Throttled(String),
    ServerError,
}

impl RetryPolicy {
    fn again(self, reply: &Reply) -> Option<Again> {
        match self {
            RetryPolicy::Genesys => throttled(reply).map(Again::Throttled),
            RetryPolicy::GitHub => {
                let header = |n: &str| reply.headers.get(n).and_then(|v| v.to_str().ok());
                match reply.status {
                    429 => Some(Again::Throttled("HTTP 429 too many requests".to_string())),
                    403 if header("x-ratelimit-remaining").map(str::trim) == Some("0") => Some(
                        Again::Throttled("HTTP 403 rate limit exhausted".to_string()),
                    ),
                    403 if header("retry-after").is_some() || says_rate_limit(reply) => Some(
                        Again::Throttled("HTTP 403 secondary rate limit".to_string()),
                    ),
                    500..=599 => Some(Again::ServerError),
                    _ => None,
                }
            }
        }
    }

    fn retries_transport(self) -> bool {
        self == RetryPolicy::GitHub
    }

    /// How long the server asked to wait: `Retry-After`, or for GitHub with its rate limit
    /// spent, until `x-ratelimit-reset` (epoch seconds).
    fn server_wait(self, reply: &Reply) -> Option<Duration> {
        let header = |n: &str| reply.headers.get(n).and_then(|v| v.to_str().ok());
        if let Some(d) = header("retry-after").and_then(parse_retry_after) {
            return Some(d);
        }
        if self == RetryPolicy::GitHub
            && header("x-ratelimit-remaining").map(str::trim) == Some("0")
        {
            let reset = header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
            return Some(
                at.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            );
        }
        None
    }
}

/// One request to a Genesys host.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub service: Service,
    pub domain: &'a str,
    pub path: &'a str,
    pub auth: Auth<'a>,
    /// Content type and body.
    pub body: Option<(&'static str, String)>,
    /// Read the answer's body; `false` drains it unread (a rotated secret is never kept).
    pub keep_body: bool,
}

/// An HTTP answer that was not throttling.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON, or `Null`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Why a request produced no usable answer.
#[derive(Debug, Clone)]
pub(crate) enum CallError {
    /// Still throttled after the bounded retries; `retry_after` is how long the server last
    /// asked to wait.
    Throttled {
        status: u16,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Timeout, connection failure, TLS, protocol.
    Transport(String),
    /// The circuit breaker is open: not sent.
    CircuitOpen(String),
    /// The URL broke the host policy: not sent.
    Policy(String),
    /// The answer's body was larger than the request's limit (bytes): not retried.
    TooLarge(u64),
}

impl CallError {
    /// A short reason for records.
    pub fn reason(&self) -> String {
        match self {
            CallError::Throttled { reason, .. } => reason.clone(),
            CallError::Transport(r) => r.clone(),
            CallError::CircuitOpen(r) => r.clone(),
            CallError::Policy(r) => r.clone(),
            CallError::TooLarge(n) => format!("answer larger than {n} bytes"),
        }
    }

    /// The HTTP status, when one was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Throttled { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Stops calling after repeated failures in a short window.
#[derive(Debug)]
struct Breaker {
    /// Whom the calls go to, for messages (`Genesys`, `GitHub`).
    peer: &'static str,
    threshold: usize,
    window: Duration,
    cooldown: Duration,
    failures: Vec<Instant>,
    open_until: Option<Instant>,
}

impl Breaker {
    fn check(&mut self, now: Instant) -> Result<(), String> {
        match self.open_until {
            Some(until) if now < until => Err(format!(
                "not checked: {} failures within {:?}, pausing calls to {} (circuit breaker open)",
                self.threshold, self.window, self.peer
            )),
            Some(_) => {
                // Half-open: let calls through again, starting from a clean window.
                self.open_until = None;
                self.failures.clear();
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn failure(&mut self, now: Instant) {
        let window = self.window;
        self.failures.retain(|t| now.duration_since(*t) <= window);
        self.failures.push(now);
        if self.failures.len() >= self.threshold {
            self.open_until = Some(now + self.cooldown);
        }
    }
}

/// The HTTP client of one verifier (or of one other API client): one agent, one spacing
/// clock, one breaker.
pub(crate) struct Http {
    agents: Agents,
    /// Where [`Http::send`] sends [`Call`]s; `None` for a client that only sends
    /// [`Exchange`]s.
    template: Option<UrlTemplate>,
    interval: Duration,
    next_at: Instant,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    max_retry_after: Duration,
    time_scale: f64,
    breaker: Breaker,
    rng: fastrand::Rng,
}

/// The network settings of one HTTP client: proxy, timeouts, spacing, retries, breaker.
/// [`VerifyOptions::net`] holds these for the verifiers; other API clients (GitHub) take them
/// directly.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// The proxy to reach non-loopback https hosts through, and the hosts that bypass it.
    pub proxy: ProxyEnv,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Requests per second (all hosts of the client); 0 = unspaced.
    pub rate_per_sec: f64,
    /// Attempts per request while it is retried.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this ends the retries.
    pub max_retry_after: Duration,
    /// Multiplies every wait (backoff, `Retry-After`, breaker cooldown). 1 in real use;
    /// tests shrink it.
    pub time_scale: f64,
    /// Failures within `breaker_window` that open the circuit breaker.
    pub breaker_threshold: usize,
    pub breaker_window: Duration,
    pub breaker_cooldown: Duration,
}

impl Default for NetOptions {
    /// No proxy, 5 s connect and 10 s read timeouts, 2 requests per second, 4 attempts with
    /// backoff from 0.5 s up to 8 s, `Retry-After` up to 60 s, breaker after 5 failures within
    /// 60 s for 120 s.
    fn default() -> Self {
        NetOptions {
            proxy: ProxyEnv::default(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            rate_per_sec: 2.0,
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            time_scale: 1.0,
            breaker_threshold: 5,
            breaker_window: Duration::from_secs(60),
            breaker_cooldown: Duration::from_secs(120),
        }
    }
}

/// The User-Agent header: `leakgate/<version>`.
pub fn user_agent() -> String {
    format!("leakgate/{}", env!("CARGO_PKG_VERSION"))
}

/// The roots every request trusts: the bundled Mozilla roots and the operating system's store
/// (where a corporate TLS-inspecting proxy's root is installed), or instead of the store the
/// files `SSL_CERT_FILE` and `SSL_CERT_DIR` name. Loaded once per process; a store that
/// cannot be read leaves the bundled roots.
fn root_certs() -> RootCerts {
    static ROOTS: OnceLock<RootCerts> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned());
            let system = rustls_native_certs::load_native_certs().certs;
            let system = system
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned());
            RootCerts::new_with_certs(&bundled.chain(system).collect::<Vec<_>>())
        })
        .clone()
}

/// A blocking agent with timeouts, no redirects (a redirect could leave the allowed hosts),
/// statuses returned as answers, [`root_certs`], and `proxy` or none (never one ureq would
/// read from the environment on its own).
fn agent(opts: &NetOptions, proxy: Option<ureq::Proxy>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(user_agent())
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_recv_body(Some(opts.read_timeout))
        .timeout_send_body(Some(opts.read_timeout))
        .tls_config(TlsConfig::builder().root_certs(root_certs()).build())
        .proxy(proxy)
        .build()
        .new_agent()
}

/// The proxy the environment names for https, read as curl reads it: `HTTPS_PROXY` (or
/// `https_proxy`), else `ALL_PROXY` (or `all_proxy`); and `NO_PROXY` (or `no_proxy`), the hosts
/// reached directly. `HTTP_PROXY` is not read: leakgate sends nothing over plain http except
/// to loopback, which is always reached directly.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    proxy: Option<EnvProxy>,
    /// Lowercase names from `NO_PROXY`, without a leading `.` or `*.`; `*` bypasses all.
    no_proxy: Vec<String>,
}

#[derive(Clone)]
struct EnvProxy {
    proxy: ureq::Proxy,
    /// `host:port` only: the URL's user info is a credential.
    shown: String,
}

impl ProxyEnv {
    /// Read the process environment.
    pub fn from_env() -> Result<Self, VerifyError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read variables through `get` (the environment, or a test's map). An unusable proxy
    /// URL is an error that names the variable, never its value (it may hold a password).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, VerifyError> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*n, v))
            })
        };
        let proxy = match first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) {
            None => None,
            Some((var, url)) => {
                let proxy = ureq::Proxy::new(&url).map_err(|_| {
                    VerifyError::Proxy(format!("{var} is not a proxy URL (its value is not shown)"))
                })?;
                if !matches!(
                    proxy.protocol(),
                    ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
                ) {
                    return Err(VerifyError::Proxy(format!(
                        "{var}: only http:// and https:// proxies (HTTPS tunnels through CONNECT) are supported"
                    )));
                }
                let shown = format!("{}:{}", proxy.host(), proxy.port());
                Some(EnvProxy { proxy, shown })
            }
        };
        let no_proxy = first(&["NO_PROXY", "no_proxy"])
            .map(|(_, v)| {
                v.split([',', ' ', '\t'])
                    .map(no_proxy_entry)
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(ProxyEnv { proxy, no_proxy })
    }

    /// The proxy a request to `url` goes through (`host:port`, for messages), or `None` to
    /// connect directly: plain http (only ever to loopback, so credentials never reach a proxy
    /// in clear), loopback hosts and hosts `NO_PROXY` names are reached directly; everything
    /// else goes through the proxy in a CONNECT tunnel, TLS end to end with the target.
    pub fn route(&self, url: &HostUrl) -> Option<&str> {
        let proxy = self.proxy.as_ref()?;
        let direct = url.scheme() != "https" || url.is_loopback() || self.bypassed(url.host());
        (!direct).then_some(proxy.shown.as_str())
    }

    /// True when `NO_PROXY` names `host`: an entry matches the host itself and every name
    /// below it (`example.com` and `.example.com` both match `api.example.com`); `*` matches all.
    fn bypassed(&self, host: &str) -> bool {
        self.no_proxy.iter().any(|e| {
            e == "*"
                || host == e
                || host
                    .strip_suffix(e.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }
}

/// One `NO_PROXY` entry as [`ProxyEnv::bypassed`] compares it: lowercase, without a leading
/// `*.` or `.`, brackets or a `:port`.
fn no_proxy_entry(raw: &str) -> String {
    let e = raw.trim().to_ascii_lowercase();
    let e = e
        .strip_prefix("*.")
        .or_else(|| e.strip_prefix('.'))
        .unwrap_or(&e);
    let e = match e.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        // One colon is a port; more is an IPv6 address.
        None if e.matches(':').count() == 1 => e.split(':').next().unwrap_or(e),
        None => e,
    };
    e.trim_end_matches('.').to_string()
}

impl std::fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyEnv")
            .field("proxy", &self.proxy.as_ref().map(|p| &p.shown))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The agents of one client: direct, and through the environment's proxy when one is set;
/// each request takes the one [`ProxyEnv::route`] picks for its URL.
pub(crate) struct Agents {
    direct: ureq::Agent,
    proxied: Option<ureq::Agent>,
    proxy: ProxyEnv,
}

impl Agents {
    pub fn new(opts: &NetOptions) -> Self {
        Agents {
            direct: agent(opts, None),
            proxied: opts
                .proxy
                .proxy
                .as_ref()
                .map(|p| agent(opts, Some(p.proxy.clone()))),
            proxy: opts.proxy.clone(),
        }
    }

    /// The agent for `url` and the proxy (`host:port`) it goes through, if any. A URL that
    /// does not parse goes direct: the host policy has refused it before anything is sent.
    pub fn for_url(&self, url: &str) -> (&ureq::Agent, Option<&str>) {
        let via = HostUrl::parse(url).ok().and_then(|u| self.proxy.route(&u));
        match (&self.proxied, via) {
            (Some(agent), Some(via)) => (agent, Some(via)),
            _ => (&self.direct, None),
        }
    }
}

impl Http {
    /// The client of a Genesys verifier: [`Call`]s go through its URL template.
    pub fn new(opts: &VerifyOptions) -> Self {
        let mut http = Http::with(&opts.net, "Genesys");
        http.template = Some(opts.url_template.clone());
        http
    }

    /// A client without a URL template, for [`Exchange`]s to `peer` (named in messages).
    pub fn with(opts: &NetOptions, peer: &'static str) -> Self {
        let interval = if opts.rate_per_sec > 0.0 {
            Duration::from_secs_f64(1.0 / opts.rate_per_sec)
        } else {
            Duration::ZERO
        };
        Http {
            agents: Agents::new(opts),
            template: None,
            interval,
            next_at: Instant::now(),
            max_attempts: opts.max_attempts.max(1),
            backoff_base: opts.backoff_base,
            backoff_cap: opts.backoff_cap,
            max_retry_after: opts.max_retry_after,
            time_scale: opts.time_scale,
            breaker: Breaker {
                peer,
                threshold: opts.breaker_threshold.max(1),
                window: opts.breaker_window,
                cooldown: opts.breaker_cooldown.mul_f64(opts.time_scale),
                failures: Vec::new(),
                open_until: None,
            },
            rng: fastrand::Rng::new(),
        }
    }

    /// Sleep for `d` scaled by the time scale (1 outside tests).
    pub fn pause(&self, d: Duration) {
        let d = d.mul_f64(self.time_scale);
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }

    /// Send a call, spaced, retried while throttled, counted by the breaker. 5xx and other
    /// answers are returned as they are; the caller decides what they mean.
    pub fn send(&mut self, call: &Call<'_>) -> Result<Reply, CallError> {
        let url = self
            .template
            .as_ref()
            .ok_or_else(|| CallError::Policy("no URL template".to_string()))?
            .url(call.service, call.domain, call.path)
            .map_err(|e| CallError::Policy(e.to_string()))?;
        let headers: &[(&str, &str)] = match call.method {
            Method::Post | Method::Put => &[("Accept", "application/json")],
            _ => &[],
        };
        self.exchange(&Exchange {
            method: call.method,
            url: &url,
            auth: &call.auth,
            headers,
            body: call.body.as_ref().map(|(ct, b)| (*ct, b.as_str())),
            keep_body: call.keep_body,
            body_limit: MAX_BODY,
            retry: RetryPolicy::Genesys,
        })
    }

    /// Send one request, spaced, retried as its [`RetryPolicy`] says (exponential backoff with
    /// full jitter, the server's wait respected up to `max_retry_after`, at most
    /// `max_attempts` tries), counted by the breaker. The answer of the last try is returned,
    /// whatever its status, unless it was throttling.
    pub fn exchange(&mut self, ex: &Exchange<'_>) -> Result<Reply, CallError> {
        let mut attempt = 0u32;
        loop {
            self.breaker
                .check(Instant::now())
                .map_err(CallError::CircuitOpen)?;
            self.space();
            let result = self.once(ex);
            attempt += 1;
            let reply = match result {
                Err(Failed::TooLarge(n)) => return Err(CallError::TooLarge(n)),
                Err(Failed::Transport(reason)) => {
                    self.breaker.failure(Instant::now());
                    if ex.retry.retries_transport() && attempt < self.max_attempts {
                        let delay = self.backoff(attempt - 1);
                        self.pause(delay);
                        continue;
                    }
                    return Err(CallError::Transport(reason));
                }
                Ok(reply) => reply,
            };
            if reply.status >= 500 {
                self.breaker.failure(Instant::now());
            }
            let retry_after = ex.retry.server_wait(&reply);
            match ex.retry.again(&reply) {
                None => return Ok(reply),
                Some(Again::ServerError) if attempt >= self.max_attempts => return Ok(reply),
                Some(Again::ServerError) => {
                    let delay = self.backoff(attempt - 1);
                    self.pause(delay);
                }
                Some(Again::Throttled(why)) => {
                    let give_up = |why: String| CallError::Throttled {
                        status: reply.status,
                        reason: why,
                        retry_after,
                    };
                    if attempt >= self.max_attempts {
                        self.breaker.failure(Instant::now());
                        return Err(give_up(format!(
                            "{why}; still throttled after {attempt} attempt(s)"
                        )));
                    }
                    if retry_after.is_some_and(|r| r > self.max_retry_after) {
                        self.breaker.failure(Instant::now());
                        return Err(give_up(format!(
                            "{why}; Retry-After {}s exceeds the {}s limit",
                            retry_after.unwrap_or_default().as_secs(),
                            self.max_retry_after.as_secs()
                        )));
                    }
                    let delay = self
                        .backoff(attempt - 1)
                        .max(retry_after.unwrap_or_default());
                    self.pause(delay);
                }
            }
        }
    }

    /// Full jitter: a uniform delay in `[0, min(cap, base * 2^retry)]`.
    fn backoff(&mut self, retry: u32) -> Duration {
        let ceiling = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX))
            .min(self.backoff_cap);
        let ms = ceiling.as_millis().min(u128::from(u64::MAX)) as u64;
        Duration::from_millis(self.rng.u64(0..=ms))
    }

    /// Wait until the next request may go, keeping `interval` between requests.
    fn space(&mut self) {
        let now = Instant::now();
        if self.next_at > now {
            std::thread::sleep(self.next_at - now);
        }
        self.next_at = Instant::now() + self.interval;
    }

    /// One HTTP exchange: the reply, or a transport failure.
    fn once(&self, ex: &Exchange<'_>) -> Result<Reply, Failed> {
        let auth = match ex.auth {
            Auth::Basic(id, secret) => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{id}:{}", secret.expose()))
            ),
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
            Auth::BearerSecret(secret) => format!("Bearer {}", secret.expose()),
        };
        let (agent, via) = self.agents.for_url(ex.url);
        let result = match ex.method {
            Method::Get | Method::Delete => {
                let mut req = if ex.method == Method::Get {
                    agent.get(ex.url)
                } else {
                    agent.delete(ex.url)
                };
                req = req.header("Authorization", &auth);
                for (k, v) in ex.headers {
                    req = req.header(*k, *v);
                }
                req.call()
            }
            Method::Post | Method::Put | Method::Patch => {
                let mut req = match ex.method {
                    Method::Post => agent.post(ex.url),
                    Method::Put => agent.put(ex.url),
                    _ => agent.patch(ex.url),
                };
                req = req.header("Authorization", &auth);
                for (k, v) in ex.headers {
                    req = req.header(*k, *v);
                }
                match ex.body {
                    Some((ct, text)) => req.content_type(ct).send(text),
                    None => req.send_empty(),
                }
            }
        };
        let mut resp = result.map_err(|e| Failed::Transport(transport_reason(e, via)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = if ex.keep_body {
            resp.body_mut()
                .with_config()
                .limit(ex.body_limit)
                .read_to_string()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(n) => Failed::TooLarge(n),
                    e => Failed::Transport(transport_reason(e, via)),
                })?
        } else {
            let mut reader = resp.body_mut().with_config().limit(ex.body_limit).reader();
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
            String::new()
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// A short description of a transport failure, in leakgate's own words, saying which part
/// failed: DNS, the proxy (`via`, the `host:port` the request went through), TLS, or the
/// connection. Nothing the server or proxy sent (which could echo a credential) is quoted.
pub(crate) fn transport_reason(e: ureq::Error, via: Option<&str>) -> String {
    use std::io::ErrorKind;
    use ureq::Error;
    let proxy = |what: &str| match via {
        Some(p) => format!("proxy: {what} the proxy {p} failed"),
        None => String::new(),
    };
    let connect = |why: String| match via {
        Some(_) => format!("{} ({why})", proxy("connecting to")),
        None => why,
    };
    let dns = || match via {
        Some(p) => format!("proxy: the proxy's host name did not resolve ({p}; DNS)"),
        None => "DNS: the host name did not resolve (offline, or no DNS?)".to_string(),
    };
    match e {
        Error::HostNotFound => dns(),
        Error::Io(io) if is_dns_failure(&io) => dns(),
        Error::ConnectProxyFailed(why) => {
            // ureq's own words ("proxy server responded 403/403"), never the proxy's.
            let why = if why.starts_with("proxy server") {
                why
            } else {
                "no usable answer".to_string()
            };
            format!(
                "proxy: the proxy {} refused the tunnel ({why})",
                via.unwrap_or("configured")
            )
        }
        Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            connect("connection timed out".to_string())
        }
        Error::Timeout(t) => format!("timed out ({t})"),
        Error::ConnectionFailed => connect("connection failed".to_string()),
        // rustls reports a failed handshake through the stream, as an I/O error around it.
        Error::Io(io) => match (rustls_inside(&io), io.kind()) {
            (Some(tls), _) => tls_reason(tls),
            (None, ErrorKind::ConnectionRefused) => connect("connection refused".to_string()),
            (None, ErrorKind::TimedOut) => connect("connection timed out".to_string()),
            (None, kind) => format!("network error: {kind}"),
        },
        Error::BodyExceedsLimit(n) => format!("answer larger than {n} bytes"),
        Error::Tls(why) => format!("TLS: {why}"),
        Error::Rustls(e) => tls_reason(&e),
        Error::LargeResponseHeader(..) => "answer headers too large".to_string(),
        // Protocol and other errors can quote what the server sent: named, never quoted.
        _ => "request failed: HTTP protocol error".to_string(),
    }
}

/// True for the error the system resolver gives when a name does not resolve (std words it
/// "failed to lookup address information: ...").
fn is_dns_failure(io: &std::io::Error) -> bool {
    io.to_string()
        .starts_with("failed to lookup address information")
}

/// The rustls error an I/O error carries, when it carries one.
fn rustls_inside(io: &std::io::Error) -> Option<&rustls::Error> {
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A TLS failure in words: an untrusted certificate says where trust comes from.
fn tls_reason(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "TLS: the server's certificate is not trusted (unknown issuer; behind a TLS-inspecting proxy, install its root certificate in the system store or name it in SSL_CERT_FILE)".to_string()
        }
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "TLS: the server's certificate is not valid for this host name".to_string()
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "TLS: the server's certificate has expired".to_string()
        }
        rustls::Error::InvalidCertificate(other) => {
            format!("TLS: the server's certificate is not trusted ({other:?})")
        }
        other => format!("TLS: handshake failed ({other})"),
    }
}

/// Genesys throttling: HTTP 429, or 400 `invalid_request` whose description starts
/// `rate limit exceeded;`. Returns a reason when throttled.
fn throttled(reply: &Reply) -> Option<String> {
    if reply.status == 429 {
        return Some("HTTP 429 too many requests".to_string());
    }
    if reply.status == 400 {
        let j = reply.json();
        let error = j.get("error").and_then(|v| v.as_str());
        let desc = description(&j).unwrap_or_default();
        if error == Some("invalid_request")
            && desc
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("rate limit exceeded;")
        {
            return Some("rate limit exceeded".to_string());
        }
    }
    None
}

/// The description of an OAuth error answer (`description` or `error_description`).
fn description(j: &serde_json::Value) -> Option<String> {
    ["description", "error_description"]
        .iter()
        .find_map(|k| j.get(k).and_then(|v| v.as_str()))
        .map(str::to_string)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_policy() {
        assert!(UrlTemplate::parse(DEFAULT_URL_TEMPLATE).is_ok());
        assert!(UrlTemplate::parse("http://127.0.0.1:8080/{service}.{domain}").is_ok());
        assert!(UrlTemplate::parse("http://localhost:1/{service}.{domain}").is_ok());
        // The proxy bypass reads the same parse: IPv6 loopback is loopback.
        assert!(UrlTemplate::parse("http://[::1]:1/{service}.{domain}")
            .unwrap()
            .is_loopback());
        assert!(!UrlTemplate::parse(DEFAULT_URL_TEMPLATE)
            .unwrap()
            .is_loopback());
        assert!(UrlTemplate::parse("http://127.8.9.10/{service}.{domain}").is_ok());
        assert!(matches!(
            UrlTemplate::parse("http://{service}.{domain}"),
            Err(VerifyError::InsecureUrl(_))
        ));
        assert!(matches!(
            UrlTemplate::parse("http://example.com/{service}.{domain}"),
            Err(VerifyError::InsecureUrl(_))
        ));
        assert!(matches!(
            UrlTemplate::parse("https://example.com/{service}.{domain}"),
            Err(VerifyError::HostNotAllowed(_))
        ));
        assert!(UrlTemplate::parse("https://user@127.0.0.1/{domain}").is_err());
        assert!(UrlTemplate::parse("https://login.mypurecloud.ie").is_err());
        assert!(UrlTemplate::parse("ftp://127.0.0.1/{service}.{domain}").is_err());
        // 127.0.0.1.example.com is not loopback.
        assert!(UrlTemplate::parse("http://127.0.0.1.example.com/{service}.{domain}").is_err());
    }

    #[test]
    fn webhook_policy() {
        assert!(check_webhook_url("https://hooks.slack.com/services/x").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_webhook_url("http://hooks.example.com/x").is_err());
        assert!(check_webhook_url("file:///etc/passwd").is_err());
        // IPv6 loopback: allowed over http, and the same parse says "loopback" for the proxy.
        for url in [
            "http://[::1]:9/hook",
            "http://[::ffff:127.0.0.1]:9/h",
            "http://LOCALHOST./h",
        ] {
            assert!(check_webhook_url(url).unwrap().is_loopback(), "{url}");
        }
        assert!(check_webhook_url("http://[::2]:9/hook").is_err());
        assert!(check_webhook_url("http://127.0.0.1@evil.example/hook").is_err());
        // Errors never quote the URL's path or query (its credential).
        let e = check_webhook_url("http://hooks.example.com/T0/B0/tok3n").unwrap_err();
        assert!(!e.to_string().contains("tok3n"), "{e}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        let later = SystemTime::now() + Duration::from_secs(120);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn throttle_detection() {
        let r = |status, body: &str| Reply {
            status,
            headers: ureq::http::HeaderMap::new(),
            body: body.to_string(),
        };
        assert!(throttled(&r(429, "")).is_some());
        assert!(throttled(&r(
            400,
            r#"{"error":"invalid_request","description":"rate limit exceeded; try later"}"#
        ))
        .is_some());
        assert!(throttled(&r(400, r#"{"error":"invalid_client"}"#)).is_none());
        assert!(throttled(&r(
            400,
            r#"{"error":"invalid_request","description":"bad"}"#
        ))
        .is_none());
    }

    #[test]
    fn breaker_opens_and_recovers() {
        let mut b = Breaker {
            peer: "Genesys",
            threshold: 3,
            window: Duration::from_secs(10),
            cooldown: Duration::from_millis(20),
            failures: Vec::new(),
            open_until: None,
        };
        let t = Instant::now();
        b.failure(t);
        b.failure(t);
        assert!(b.check(t).is_ok());
        b.failure(t);
        assert!(b.check(t).is_err());
        assert!(b.check(t + Duration::from_millis(30)).is_ok());
    }
}

#[cfg(test)]
mod network_words {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<ProxyEnv, VerifyError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        ProxyEnv::from_lookup(|k| map.get(k).cloned())
    }

    fn route<'a>(p: &'a ProxyEnv, url: &str) -> Option<&'a str> {
        p.route(&HostUrl::parse(url).unwrap())
    }

    const LOGIN: &str = "https://login.mypurecloud.ie/oauth/token";

    #[test]
    fn https_proxy_before_all_proxy_and_http_proxy_never() {
        let p = env(&[
            ("HTTPS_PROXY", "http://first.example:3128"),
            ("ALL_PROXY", "http://second.example:3128"),
        ])
        .unwrap();
        assert_eq!(route(&p, LOGIN), Some("first.example:3128"));
        let p = env(&[("all_proxy", "http://second.example:8080")]).unwrap();
        assert_eq!(route(&p, LOGIN), Some("second.example:8080"));
        let p = env(&[("HTTP_PROXY", "http://plain.example:80")]).unwrap();
        assert_eq!(route(&p, LOGIN), None, "HTTP_PROXY is for http, never used");
        assert_eq!(route(&env(&[]).unwrap(), LOGIN), None);
    }

    #[test]
    fn loopback_plain_http_and_no_proxy_hosts_go_direct() {
        let proxy = ("HTTPS_PROXY", "http://proxy.example:3128");
        let p = env(&[proxy]).unwrap();
        assert_eq!(route(&p, "https://127.0.0.1:9/x"), None, "loopback");
        assert_eq!(route(&p, "https://[::1]:9/x"), None, "loopback");
        // Plain http never goes through a proxy: the credential would reach it in clear.
        assert_eq!(route(&p, "http://api.mypurecloud.ie/x"), None);
        for no in [
            "mypurecloud.ie",
            ".mypurecloud.ie",
            "*.mypurecloud.ie",
            "MYPURECLOUD.IE:443",
            "other.example, login.mypurecloud.ie",
            "*",
        ] {
            let p = env(&[proxy, ("NO_PROXY", no)]).unwrap();
            assert_eq!(route(&p, LOGIN), None, "NO_PROXY={no}");
        }
        for no in [
            "purecloud.ie",
            "mypurecloud.ie.example",
            "api.mypurecloud.ie",
            "",
        ] {
            let p = env(&[proxy, ("no_proxy", no)]).unwrap();
            assert_eq!(
                route(&p, LOGIN),
                Some("proxy.example:3128"),
                "NO_PROXY={no}"
            );
        }
    }

    #[test]
    fn the_agent_taken_follows_the_route() {
        let mut opts = VerifyOptions::new(UrlTemplate::parse(DEFAULT_URL_TEMPLATE).unwrap());
        opts.net.proxy = env(&[
            ("HTTPS_PROXY", "http://127.0.0.1:3128"),
            ("NO_PROXY", "api.mypurecloud.ie"),
        ])
        .unwrap();
        let agents = Agents::new(&opts.net);
        assert_eq!(agents.for_url(LOGIN).1, Some("127.0.0.1:3128"));
        assert_eq!(agents.for_url("https://api.mypurecloud.ie/x").1, None);
        // The direct agent never picks up a proxy from the environment by itself.
        assert!(agents.direct.config().proxy().is_none());
        assert!(agents.proxied.as_ref().unwrap().config().proxy().is_some());
    }

    #[test]
    fn a_bad_proxy_names_the_variable_never_the_value() {
        let pass = concat!("hunter", "2-", "proxy-pass");
        for (var, url) in [
            (
                "HTTPS_PROXY",
                format!("socks5://user:{pass}@proxy.example:1080"),
            ),
            ("ALL_PROXY", format!("ftp://user:{pass}@proxy.example")),
        ] {
            let e = env(&[(var, &url)]).unwrap_err().to_string();
            assert!(e.contains(var), "{e}");
            assert!(!e.contains(pass) && !e.contains("proxy.example"), "{e}");
        }
        // A proxy with user info: messages show host and port only.
        let p = env(&[(
            "HTTPS_PROXY",
            &format!("http://user:{pass}@proxy.example:3128"),
        )])
        .unwrap();
        assert_eq!(route(&p, LOGIN), Some("proxy.example:3128"));
        assert!(!format!("{p:?}").contains(pass));
    }

    #[test]
    fn transport_failures_say_which_part_failed() {
        use std::io::{Error as Io, ErrorKind};
        let dns = || Io::other("failed to lookup address information: Name or service not known");
        let cases: Vec<(ureq::Error, Option<&str>, &str)> = vec![
            (ureq::Error::HostNotFound, None, "DNS: "),
            (ureq::Error::Io(dns()), None, "DNS: "),
            (
                ureq::Error::Io(dns()),
                Some("p.example:3128"),
                "proxy: the proxy's host name did not resolve (p.example:3128",
            ),
            (
                ureq::Error::Io(Io::from(ErrorKind::ConnectionRefused)),
                None,
                "connection refused",
            ),
            (
                ureq::Error::Io(Io::from(ErrorKind::ConnectionRefused)),
                Some("127.0.0.1:9"),
                "proxy: connecting to the proxy 127.0.0.1:9 failed (connection refused)",
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::Connect),
                Some("127.0.0.1:9"),
                "proxy: connecting to the proxy 127.0.0.1:9 failed (connection timed out)",
            ),
            (
                ureq::Error::ConnectProxyFailed("proxy server responded 403/403".into()),
                Some("127.0.0.1:9"),
                "proxy: the proxy 127.0.0.1:9 refused the tunnel (proxy server responded 403/403)",
            ),
            (
                ureq::Error::Rustls(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer,
                )),
                None,
                "TLS: the server's certificate is not trusted",
            ),
            (
                ureq::Error::Rustls(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName,
                )),
                None,
                "TLS: the server's certificate is not valid for this host name",
            ),
            (
                ureq::Error::Io(Io::new(
                    ErrorKind::InvalidData,
                    rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
                )),
                Some("127.0.0.1:9"),
                "TLS: the server's certificate is not trusted",
            ),
        ];
        for (e, via, want) in cases {
            let shown = format!("{e}");
            let got = transport_reason(e, via);
            assert!(got.starts_with(want), "{shown}: {got}");
        }
    }
}
