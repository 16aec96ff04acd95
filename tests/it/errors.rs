//! Errors as users read them: each cause once, Git problems in words with the remedy, the
//! valid regions listed, and a verify that cannot reach Genesys saying whether DNS, the proxy,
//! TLS or the connection failed. The network tests use loopback only: a closed port, a TLS
//! server with a certificate from a CA made here, and a CONNECT proxy thread that records what
//! it is asked for and tunnels to that server (so the real Genesys host names are used without
//! any lookup or connection leaving 127.0.0.1).

use crate::common::{client_id, genesys_secret, git, leakgate, validate_sarif, Repo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn both(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

/// The `: `-separated segments of every `leakgate: ...` line, which must all differ.
fn assert_no_segment_twice(case: &str, out: &Output) {
    let text = stderr(out);
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("leakgate: "))
        .collect();
    assert!(!lines.is_empty(), "{case}: nothing said in {text}");
    for line in lines {
        let segments: Vec<&str> = line.split([':', ';']).map(str::trim).collect();
        for (i, s) in segments.iter().enumerate() {
            assert!(
                s.is_empty() || !segments[i + 1..].contains(s),
                "{case}: {s:?} shown twice in {line:?}"
            );
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn no_error_message_shows_a_cause_twice() {
    let repo = Repo::initial();
    let dir = repo.path();
    std::fs::write(dir.join("bad.toml"), "[scan\nmax_file_size = 1\n").unwrap();
    std::fs::write(dir.join("bad-baseline.json"), "{ not json").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().to_str().unwrap().to_string();
    let id = client_id(700);
    let refused = format!("http://127.0.0.1:{}/{{service}}.{{domain}}", closed_port());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "missing config",
            vec!["scan", "--config", "nosuch.toml", "."],
        ),
        ("bad TOML", vec!["scan", "--config", "bad.toml", "."]),
        (
            "unreadable baseline",
            vec!["scan", "--baseline", "bad-baseline.json", "."],
        ),
        (
            "missing baseline",
            vec!["scan", "--baseline", "nosuch.json", "."],
        ),
        ("missing repository", vec!["scan", "--history", &outside]),
        (
            "staged outside a repository",
            vec!["scan", "--staged", &outside],
        ),
        ("bad ref", vec!["scan", "--range", "origin/main..HEAD", "."]),
        (
            "bad --config-from",
            vec!["scan", "--history", "--config-from", "nosuch", "."],
        ),
        (
            "unreachable verify host",
            vec![
                "verify",
                "--client-id",
                &id,
                "--secret-env",
                "LG_TEST_SECRET",
                "--verify-rate",
                "1000",
            ],
        ),
    ];
    let secret = genesys_secret(700);
    for (case, args) in cases {
        let out = leakgate()
            .current_dir(dir)
            .args(&args)
            .env("LG_TEST_SECRET", &secret)
            .env("LEAKGATE_GENESYS_URL_TEMPLATE", &refused)
            .output()
            .unwrap();
        if args[0] == "verify" {
            // Not an error of the run: a verification with no conclusion, and its reasons.
            assert!(
                both(&out).contains("connection refused"),
                "{case}: {}",
                both(&out)
            );
        } else {
            assert_eq!(out.status.code(), Some(2), "{case}: {}", both(&out));
        }
        assert!(!both(&out).contains(&secret), "{case}");
        assert_no_segment_twice(case, &out);
    }
}

#[test]
fn a_folder_outside_any_repository_is_said_so_once() {
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().to_str().unwrap();
    let out = leakgate()
        .args(["scan", "--history", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("not in a Git repository"), "{err}");
    assert_eq!(err.matches(path).count(), 1, "{err}");
}

#[test]
fn a_missing_ref_is_named_with_how_to_fetch_it() {
    let upstream = Repo::initial();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    git(clone.path(), &["clone", "-q", &url, "work"]);
    let work = clone.path().join("work");

    let out = leakgate()
        .current_dir(&work)
        .args(["scan", "--range", "origin/no-such-branch..HEAD", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("origin/no-such-branch does not resolve: no such revision"),
        "{err}"
    );
    assert!(err.contains("`git fetch origin no-such-branch`"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");

    let out = leakgate()
        .current_dir(&work)
        .args(["scan", "--history", "--config-from", "nosuch", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--config-from nosuch: nosuch does not resolve"),
        "{err}"
    );

    // A revision that could be a secret is never shown, not even to say it does not resolve.
    let pasted = genesys_secret(701);
    let range = format!("HEAD..{pasted}");
    let out = leakgate()
        .current_dir(&work)
        .args(["scan", "--range", &range, "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains(&pasted), "{err}");
    assert!(err.contains("the revision given does not resolve"), "{err}");
}

/// A clone of three commits at depth 1: its history stops at one shallow commit.
fn shallow_clone() -> (Repo, tempfile::TempDir) {
    let upstream = Repo::initial();
    upstream.commit(&[("b.txt", "two\n")], "two");
    upstream.commit(&[("c.txt", "three\n")], "three");
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    (upstream, parent)
}

#[test]
fn a_shallow_clone_says_so_and_how_to_deepen_it() {
    let (_upstream, parent) = shallow_clone();
    let shallow = parent.path().join("shallow");
    for range in ["HEAD~2..HEAD", "HEAD~1"] {
        let out = leakgate()
            .current_dir(&shallow)
            .args(["scan", "--range", range, "."])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{range}");
        let err = stderr(&out);
        assert!(!err.contains("NthAncestor"), "{err}");
        assert!(
            err.contains("does not resolve in this shallow clone")
                && err.contains("stops at 1 commit(s)"),
            "{err}"
        );
        assert!(err.contains("git fetch --unshallow"), "{err}");
        assert!(err.contains("fetch-depth: 0"), "{err}");
    }
}

/// A history scan of a shallow clone scans what is there and names the gap in every format:
/// never a plain "clean" for history it did not read.
#[test]
fn a_shallow_history_scan_counts_the_gap_in_the_report() {
    let (_upstream, parent) = shallow_clone();
    let shallow = parent.path().join("shallow");
    let out = leakgate()
        .current_dir(&shallow)
        .args(["scan", "--history", "--format", "json", "."])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["shallow_commits"], 1, "{doc}");
    assert_eq!(doc["stats"]["commits"], 1, "{doc}");
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("shallow clone") && warnings.contains("--unshallow"),
        "{warnings}"
    );
    let out = leakgate()
        .current_dir(&shallow)
        .args(["scan", "--history", "."])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("warning: shallow clone"),
        "{}",
        both(&out)
    );
    // SARIF carries it too, as a warning notification of the run's invocation.
    let out = leakgate()
        .current_dir(&shallow)
        .args(["scan", "--history", "--format", "sarif", "."])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate_sarif(&sarif);
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true, "{invocation}");
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "warning"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .contains("shallow clone")),
        "{invocation}"
    );

    // A complete clone reports no gap.
    let (upstream, _p) = shallow_clone();
    let out = leakgate()
        .current_dir(upstream.path())
        .args(["scan", "--history", "--format", "json", "."])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["shallow_commits"], 0, "{doc}");
}

#[test]
fn an_unknown_region_lists_the_valid_ones_and_never_the_value() {
    let typed = "eu-west";
    let out = leakgate()
        .args(["verify", "--client-id", &client_id(702), "--region", typed])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--region: not a Genesys region"), "{err}");
    for region in [
        "eu-west-1 (mypurecloud.ie)",
        "ap-northeast-1 (mypurecloud.jp)",
        "eusc-de-east-1",
    ] {
        assert!(err.contains(region), "{err}");
    }
    assert!(
        !err.contains(&format!("{typed} ")),
        "the value typed is not echoed: {err}"
    );
    let pasted = genesys_secret(703);
    let out = leakgate()
        .args([
            "verify",
            "--client-id",
            &client_id(702),
            "--region",
            &pasted,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!both(&out).contains(&pasted));
}

// ---- verify offline: TLS, proxies, refused connections ----

/// A CA made for one test, and a server certificate it issued for `names`.
struct Pki {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl Pki {
    fn new(names: Vec<String>) -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "leakgate test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        Pki {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }

    /// The CA as a PEM file, for `SSL_CERT_FILE`.
    fn ca_file(&self, dir: &Path) -> String {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path.to_str().unwrap().to_string()
    }
}

/// One request the TLS stand-in read: its Host header and whether it carried Basic auth.
#[derive(Debug, Clone)]
struct Seen {
    host: String,
    basic_auth: bool,
}

/// A TLS server on 127.0.0.1 that answers every request `400 invalid_client` (a wrong pair:
/// a conclusive "invalid" verification), recording what it read. Stops when dropped.
struct TlsServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), pki.key.clone_key())
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let (config, seen) = (config.clone(), seen2.clone());
                        std::thread::spawn(move || serve_tls(tcp, config, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TlsServer { port, seen, stop }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_tls(tcp: TcpStream, config: Arc<rustls::ServerConfig>, seen: &Mutex<Vec<Seen>>) {
    tcp.set_nonblocking(false).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(&mut tls);
    loop {
        let mut head = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            // A client that rejects the certificate ends the handshake here.
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let header = |name: &str| {
            head.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        seen.lock().unwrap().push(Seen {
            host: header("host"),
            basic_auth: header("authorization").starts_with("Basic "),
        });
        let answer = r#"{"error":"invalid_client","description":"bad client"}"#;
        let reply = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        let stream = reader.get_mut();
        if stream.write_all(reply.as_bytes()).is_err() || stream.flush().is_err() {
            return;
        }
    }
}

/// A CONNECT proxy on 127.0.0.1: records each CONNECT target and every byte the client sent
/// it, then tunnels to `127.0.0.1:upstream` (whatever host was asked for), or answers 403 when
/// `upstream` is `None`. Stops when dropped.
struct ConnectProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl ConnectProxy {
    fn start(upstream: Option<u16>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (t2, b2, s2) = (targets.clone(), bytes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (t, b) = (t2.clone(), b2.clone());
                        std::thread::spawn(move || tunnel(client, upstream, &t, &b));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        ConnectProxy {
            port,
            targets,
            bytes,
            stop,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    /// True when `needle` appears in anything the client sent the proxy, tunnel included.
    fn saw(&self, needle: &[u8]) -> bool {
        self.bytes
            .lock()
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn tunnel(
    client: TcpStream,
    upstream: Option<u16>,
    targets: &Mutex<Vec<String>>,
    bytes: &Arc<Mutex<Vec<u8>>>,
) {
    client.set_nonblocking(false).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    bytes.lock().unwrap().extend_from_slice(first.as_bytes());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        bytes.lock().unwrap().extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut words = first.split_whitespace();
    if words.next() != Some("CONNECT") {
        return;
    }
    targets
        .lock()
        .unwrap()
        .push(words.next().unwrap_or_default().to_string());
    let mut client = client;
    let Some(port) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    // Bytes the reader buffered past the header belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let mut to_server = server.try_clone().unwrap();
    to_server.write_all(&buffered).unwrap();
    bytes.lock().unwrap().extend_from_slice(&buffered);
    let mut from_server = server;
    let mut to_client = client.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.get_mut().read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                bytes.lock().unwrap().extend_from_slice(&buf[..n]);
                if to_server.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to_server.shutdown(std::net::Shutdown::Write);
}

/// Every login and api host of the Genesys regions: the names the stand-in certificate
/// covers (the default URL template is used, reached through the proxy).
fn genesys_hosts() -> Vec<String> {
    leakgate::providers::genesys::REGION_DOMAINS
        .iter()
        .flat_map(|d| [format!("login.{d}"), format!("api.{d}")])
        .collect()
}

/// `leakgate verify` of a fresh pair in `ap-northeast-1`, with a clean proxy and TLS
/// environment plus `env`. One attempt, no pauses.
fn verify_offline(dir: &Path, seed: u64, env: &[(&str, String)]) -> (Output, String) {
    let secret = genesys_secret(seed);
    let mut cmd: Command = leakgate();
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .current_dir(dir)
        .args([
            "verify",
            "--client-id",
            &client_id(seed),
            "--secret-env",
            "LG_TEST_SECRET",
        ])
        .args([
            "--region",
            "ap-northeast-1",
            "--json",
            "--verify-rate",
            "1000",
        ])
        .args([
            "--verify-attempts",
            "1",
            "--verify-time-scale",
            "0.001",
            "--verify-timeout",
            "5",
        ])
        .env("LG_TEST_SECRET", &secret)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(!both(&out).contains(&secret), "the secret was printed");
    (out, secret)
}

/// The verification's reason in `leakgate verify --json` output (or the whole output).
fn reason(out: &Output) -> String {
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|d| d["verification"]["reason"].as_str().map(str::to_string))
        .unwrap_or_else(|| both(out))
}

#[test]
fn a_refused_connection_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let template = format!("http://127.0.0.1:{}/{{service}}.{{domain}}", closed_port());
    let (out, _) = verify_offline(
        dir.path(),
        710,
        &[("LEAKGATE_GENESYS_URL_TEMPLATE", template)],
    );
    let why = reason(&out);
    assert!(why.contains("connection refused"), "{why}");
    assert!(!why.contains("proxy") && !why.contains("TLS"), "{why}");
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(vec!["127.0.0.1".into(), "localhost".into()]);
    let server = TlsServer::start(&pki);
    let template = format!("https://127.0.0.1:{}/{{service}}.{{domain}}", server.port);
    // A CA of its own in SSL_CERT_FILE, not the one that issued the server's certificate.
    let other = Pki::new(vec!["other.example".into()]);
    let (out, _) = verify_offline(
        dir.path(),
        711,
        &[
            ("LEAKGATE_GENESYS_URL_TEMPLATE", template),
            ("SSL_CERT_FILE", other.ca_file(dir.path())),
        ],
    );
    let why = reason(&out);
    assert!(
        why.contains("TLS: the server's certificate is not trusted"),
        "{why}"
    );
    assert!(why.contains("SSL_CERT_FILE"), "the remedy is named: {why}");
    assert!(
        server.seen().is_empty(),
        "no request after a failed handshake"
    );
}

/// The whole corporate path: `HTTPS_PROXY` to a CONNECT proxy, the real Genesys host names,
/// and a root trusted only through `SSL_CERT_FILE` (the operating system's store path).
#[test]
fn verify_goes_through_the_https_proxy_and_trusts_ssl_cert_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(genesys_hosts());
    let server = TlsServer::start(&pki);
    let proxy = ConnectProxy::start(Some(server.port));
    let (out, secret) = verify_offline(
        dir.path(),
        712,
        &[
            ("HTTPS_PROXY", proxy.url()),
            ("NO_PROXY", "localhost,example.com".into()),
            ("SSL_CERT_FILE", pki.ca_file(dir.path())),
        ],
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", both(&out)));
    assert_eq!(doc["verification"]["status"], "invalid", "{doc}");
    let targets = proxy.targets();
    assert_eq!(
        targets.first().map(String::as_str),
        Some("login.mypurecloud.jp:443"),
        "{targets:?}"
    );
    let seen = server.seen();
    assert!(
        seen.iter()
            .any(|s| s.host == "login.mypurecloud.jp" && s.basic_auth),
        "{seen:?}"
    );
    // The proxy carried the credential only inside TLS: it never saw it, nor its Basic form.
    let id = client_id(712);
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{id}:{secret}"),
    );
    assert!(!proxy.saw(secret.as_bytes()) && !proxy.saw(basic.as_bytes()));
    assert!(!proxy.saw(b"Authorization"), "no header in clear");

    // The same without the CA: the tunnel works, the certificate is not trusted.
    let proxy = ConnectProxy::start(Some(server.port));
    let (out, _) = verify_offline(dir.path(), 713, &[("HTTPS_PROXY", proxy.url())]);
    let why = reason(&out);
    assert!(
        why.contains("TLS: the server's certificate is not trusted"),
        "{why}"
    );
    assert!(!proxy.targets().is_empty(), "{why}");
}

#[test]
fn a_proxy_that_cannot_be_reached_or_refuses_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let (out, _) = verify_offline(
        dir.path(),
        714,
        &[("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))],
    );
    let why = reason(&out);
    assert!(
        why.contains(&format!(
            "proxy: connecting to the proxy 127.0.0.1:{port} failed (connection refused)"
        )),
        "{why}"
    );

    let proxy = ConnectProxy::start(None);
    let (out, _) = verify_offline(dir.path(), 715, &[("ALL_PROXY", proxy.url())]);
    let why = reason(&out);
    assert!(
        why.contains(&format!(
            "proxy: the proxy 127.0.0.1:{} refused the tunnel",
            proxy.port
        )),
        "{why}"
    );
    assert!(why.contains("403"), "{why}");
    let targets = proxy.targets();
    assert_eq!(
        targets.first().map(String::as_str),
        Some("login.mypurecloud.jp:443"),
        "the hinted region first: {targets:?}"
    );
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("login.") && t.ends_with(":443")),
        "{targets:?}"
    );

    // A proxy URL leakgate cannot use is an error naming the variable, not its value.
    let pass = concat!("pr0xy", "-pass", "word");
    let (out, _) = verify_offline(
        dir.path(),
        716,
        &[("HTTPS_PROXY", format!("socks5://u:{pass}@127.0.0.1:1"))],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(stderr(&out).contains("HTTPS_PROXY"), "{}", both(&out));
    assert!(!both(&out).contains(pass));
}
