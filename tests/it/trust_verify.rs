//! Verify and revoke act only on proof, with bounded requests, one URL parser for every host
//! decision, and no server text in any output; against the loopback stand-in Genesys
//! (`tests/it/common/verify_support.rs`) and a hostile variant of it.

use crate::common;
use crate::common::verify_support;
use common::{env_file, env_file_in};

use base64::Engine;
use common::{client_id, findings, genesys_secret, leakgate, write_files};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use verify_support::{admin, admin_env, scan_with, token_requests, Run};
use verify_support::{FakeGenesys, Response};

/// `leakgate scan --format FORMAT ARGS` in `dir` against the stand-in, with fast timings.
fn scan(s: &FakeGenesys, dir: &Path, format: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let fast = [("--verify-timeout", "2"), ("--verify-time-scale", "0.001")];
    scan_with(s, dir, format, args, env, &fast)
}

/// An env file with a pair and, when given, a region hint.
fn pair_file(seed: u64, region: Option<&str>) -> String {
    match region {
        Some(r) => env_file_in(r, seed),
        None => env_file(seed),
    }
}

fn statuses(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings(doc)
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap_or("").starts_with("genesys-"))
        .map(|f| {
            f["verification"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    v.sort();
    v
}

// --- 1. unauthorized_client is no proof ---------------------------------------------------

#[test]
fn revoke_after_unauthorized_client_sends_no_admin_request() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &pair_file(1, Some("eu-west-1")))]);
    let a = admin();
    {
        let mut w = s.world();
        w.add_client(&client_id(1), &genesys_secret(1), "mypurecloud.ie", "web");
        w.clients[0].grant = "CODE".into();
        w.add_admin(&a.0, &a.1, "mypurecloud.ie");
    }
    let audit = dir.path().join("audit.jsonl");
    let r = scan(
        &s,
        dir.path(),
        "json",
        &["--revoke", "--audit-log", audit.to_str().unwrap()],
        &admin_env(&a),
    );
    assert_eq!(r.code, 1, "a finding, never clean: {}", r.stderr);
    let doc = r.doc();
    let f = &findings(&doc)[0];
    assert_eq!(f["verification"]["status"], "unconfirmed", "{doc}");
    assert_eq!(f["revocation"]["status"], "not_attempted", "{doc}");
    assert!(f["revocation"]["reason"]
        .as_str()
        .unwrap()
        .contains("not proven live"));
    let reqs = s.requests();
    // One token request for the leaked pair; no admin token, no admin API call.
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].token_client(), Some(client_id(1)));
    assert_eq!(s.world().client(&client_id(1)).unwrap().state, "active");
    let audit = std::fs::read_to_string(&audit).unwrap();
    assert!(audit.contains("\"outcome\":\"unconfirmed\""), "{audit}");
    assert!(!audit.contains("\"outcome\":\"active\""), "{audit}");
    assert!(r.stderr.contains("unconfirmed"), "{}", r.stderr);

    // Text output names it too, never "active".
    let r = scan(&s, dir.path(), "text", &["--verify"], &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("unconfirmed"), "{}", r.stdout);
    assert!(!r.stdout.contains("active"), "{}", r.stdout);
}

#[test]
fn verify_command_treats_unauthorized_client_as_no_conclusion() {
    let s = FakeGenesys::start(|_, _| None);
    let (id, secret) = (client_id(2), genesys_secret(2));
    {
        let mut w = s.world();
        w.add_client(&id, &secret, "mypurecloud.jp", "web");
        w.clients[0].grant = "CODE".into();
    }
    let out = leakgate()
        .env("LEAKGATE_GENESYS_URL_TEMPLATE", s.template())
        .env("MY_SECRET", &secret)
        .args([
            "verify",
            "--client-id",
            &id,
            "--secret-env",
            "MY_SECRET",
            "--json",
        ])
        .args(["--region", "ap-northeast-1", "--verify-rate", "100"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "not proven live, not clean either"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verification"]["status"], "unconfirmed");
}

// --- 2. bounded requests ------------------------------------------------------------------

#[test]
fn unhinted_pairs_are_capped_and_what_is_left_is_named() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    for seed in 10..15 {
        write_files(
            dir.path(),
            &[(&format!("svc{seed}.env"), &pair_file(seed, None))],
        );
    }
    // Default cap 100: five unhinted dead pairs cost 5 x 18 = 90.
    let r = scan(&s, dir.path(), "json", &["--verify"], &[]);
    assert_eq!(token_requests(&s.requests()).len(), 90, "{}", r.stderr);
    assert_eq!(statuses(&r.doc()), ["invalid"; 5]);

    // A cap of 20: one pair fully checked, the rest skipped and counted.
    let s = FakeGenesys::start(|_, _| None);
    let r = scan(
        &s,
        dir.path(),
        "json",
        &["--verify", "--max-verify-requests", "20"],
        &[],
    );
    assert_eq!(r.code, 1, "skipped is never clean: {}", r.stderr);
    assert_eq!(token_requests(&s.requests()).len(), 20);
    let doc = r.doc();
    assert_eq!(
        statuses(&doc),
        ["invalid", "skipped", "skipped", "skipped", "skipped"]
    );
    let reasons: Vec<&str> = findings(&doc)
        .iter()
        .filter(|f| f["verification"]["status"] == "skipped")
        .map(|f| f["verification"]["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("token requests per run was reached") && !r.contains("--")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("16 of 18 regions")),
        "{reasons:?}"
    );
    assert!(
        r.stderr.contains("4 of 5 credential(s) left unchecked"),
        "{}",
        r.stderr
    );

    // 1,000 planted copies of pairs cost no more than the cap.
    let s = FakeGenesys::start(|_, _| None);
    let many: String = (0..200).map(|i| pair_file(20 + i % 50, None)).collect();
    write_files(dir.path(), &[("planted.env", &many)]);
    let r = scan(&s, dir.path(), "json", &["--verify"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(token_requests(&s.requests()).len(), 100, "{}", r.stderr);
}

#[test]
fn one_pair_is_checked_once_however_often_it_occurs() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let copy = pair_file(30, None);
    for i in 0..6 {
        write_files(dir.path(), &[(&format!("copy{i}.env"), &copy)]);
    }
    // Each copy a finding of its own, so the verifier meets the pair six times.
    let r = scan(&s, dir.path(), "json", &["--verify", "--no-group"], &[]);
    assert_eq!(statuses(&r.doc()), ["invalid"; 6]);
    assert_eq!(
        token_requests(&s.requests()).len(),
        18,
        "once, not six times"
    );
    // Grouped: one finding with six places, checked once more in this second run.
    let r = scan(&s, dir.path(), "json", &["--verify"], &[]);
    let doc = r.doc();
    assert_eq!(statuses(&doc), ["invalid"]);
    assert_eq!(findings(&doc)[0]["places"], 6);
    assert_eq!(token_requests(&s.requests()).len(), 36);
}

#[test]
fn regions_are_tried_by_evidence() {
    // One hinted pair live in usw2, two unhinted pairs: one live in usw2 too, one dead.
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("a/hinted.env", &pair_file(40, Some("us-west-2"))),
            ("b/unhinted.env", &pair_file(41, None)),
            ("c/dead.env", &pair_file(42, None)),
        ],
    );
    {
        let mut w = s.world();
        w.add_client(&client_id(40), &genesys_secret(40), "usw2.pure.cloud", "a");
        w.add_client(&client_id(41), &genesys_secret(41), "usw2.pure.cloud", "b");
    }
    let r = scan(&s, dir.path(), "json", &["--verify"], &[]);
    let doc = r.doc();
    assert_eq!(statuses(&doc), ["active", "active", "invalid"], "{doc}");
    let reqs = s.requests();
    let tried = |seed: u64| -> Vec<String> {
        token_requests(&reqs)
            .iter()
            .filter(|r| r.token_client() == Some(client_id(seed)))
            .map(|r| r.domain.clone())
            .collect()
    };
    assert_eq!(tried(40), ["usw2.pure.cloud"]);
    // The region where this run's other client answered comes first.
    assert_eq!(tried(41), ["usw2.pure.cloud"]);
    let dead = tried(42);
    assert_eq!(dead.len(), 18);
    assert_eq!(dead[0], "usw2.pure.cloud");
    assert_eq!(dead[1], "mypurecloud.com", "then the canonical order");
}

// --- 3. one URL parser: IPv6 loopback bypasses the proxy ----------------------------------

/// A one-shot HTTP listener on [`::1`]; returns its port and a handle yielding the request body.
fn ipv6_hook() -> Option<(u16, std::thread::JoinHandle<Option<String>>)> {
    let listener = std::net::TcpListener::bind("[::1]:0").ok()?;
    let port = listener.local_addr().ok()?.port();
    let h = std::thread::spawn(move || {
        listener.set_nonblocking(false).ok()?;
        let (conn, _) = listener.accept().ok()?;
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .ok()?;
        let mut r = BufReader::new(&conn);
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).ok()? == 0 {
                break;
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).ok()?;
        let mut out = &conn;
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        Some(String::from_utf8_lossy(&body).into_owned())
    });
    Some((port, h))
}

#[test]
#[ignore = "needs an IPv6 loopback: ./scripts/test.sh runs this where [::1] can be bound"]
fn an_ipv6_loopback_webhook_never_goes_through_the_proxy() {
    let (port, hook) = ipv6_hook().expect("an IPv6 loopback ([::1]) to listen on");
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("app.env", &pair_file(50, Some("eu-west-1")))],
    );
    let a = admin();
    {
        let mut w = s.world();
        w.add_client(&client_id(50), &genesys_secret(50), "mypurecloud.ie", "svc");
        w.add_admin(&a.0, &a.1, "mypurecloud.ie");
    }
    // A dead proxy: anything sent through it fails.
    let dead = "http://127.0.0.1:9";
    let mut env: Vec<(&str, &str)> = admin_env(&a).to_vec();
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        env.push((k, dead));
    }
    let url = format!("http://[::1]:{port}/hook/T000");
    let r = scan(
        &s,
        dir.path(),
        "json",
        &["--revoke", "--notify-webhook", &url],
        &env,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("webhook not reached"), "{}", r.stderr);
    let body = hook
        .join()
        .unwrap()
        .expect("the webhook got the notice directly");
    let text: Value = serde_json::from_str(&body).unwrap();
    assert!(text["text"].as_str().unwrap().contains(&client_id(50)));
}

// --- 4. a hostile server cannot get a secret into any output -----------------------------

/// Every form a hostile server might echo the secret in.
fn echoes(id: &str, secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let swapped: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    let mut changed = secret.as_bytes().to_vec();
    changed[10] = if changed[10] == b'x' { b'y' } else { b'x' };
    let url: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    vec![
        secret.to_string(),
        b64.encode(secret),
        url,
        swapped,
        String::from_utf8(changed).unwrap(),
        format!("Basic {}", b64.encode(format!("{id}:{secret}"))),
    ]
}

/// No form of the secret, nor any 12-character piece of it in any case, in `texts`.
fn assert_clean(secret: &str, forms: &[String], texts: &[&str]) {
    let lower = secret.to_ascii_lowercase();
    for t in texts {
        for f in forms {
            assert!(!t.contains(f.as_str()), "an echo leaked: {f}\n{t}");
        }
        let tl = t.to_ascii_lowercase();
        for i in 0..=lower.len() - 12 {
            assert!(!tl.contains(&lower[i..i + 12]), "a piece leaked\n{t}");
        }
    }
}

#[test]
fn a_hostile_server_echoing_the_secret_gets_it_into_no_output() {
    let (id, secret) = (client_id(60), genesys_secret(60));
    let forms = echoes(&id, &secret);
    // Every way the token endpoint can answer with server text, each form in each.
    type Reply = fn(&str, &str) -> Response;
    let replies: Vec<Reply> = vec![
        |_, e| Response::json(400, json!({"error": e, "description": e})),
        |_, e| Response::json(400, json!({"error": "invalid_request", "description": e})),
        |_, e| {
            Response::json(
                500,
                json!({"message": e, "error": "server_error", "error_description": e}),
            )
        },
        |_, e| Response::json(403, json!({"error": "access_denied", "description": e})),
        |_, e| Response::json(418, json!({"error": e})).header("X-Echo", e),
    ];
    // Every (reply, form) pair once: the n-th token request of a run gets pair n + offset, so
    // two runs of 15 regions each cover all 30.
    let combos: Vec<(Reply, String)> = replies
        .iter()
        .flat_map(|r| forms.iter().map(move |f| (*r, f.clone())))
        .collect();
    assert_eq!(combos.len(), 30);
    for offset in [0, 15] {
        let combos = combos.clone();
        let s = FakeGenesys::start(move |r, w| {
            if !r.is_token() {
                return None;
            }
            let n = w.counts["POST login /oauth/token"] - 1;
            combos
                .get(offset + n)
                .filter(|_| n < 15)
                .map(|(reply, form)| reply("", form))
        });
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[("app.env", &pair_file(60, Some("eu-west-1")))],
        );
        let audit = dir.path().join("audit.jsonl");
        let r = scan(
            &s,
            dir.path(),
            "json",
            &[
                "--verify",
                "--max-verify-requests",
                "15",
                "--audit-log",
                audit.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(
            token_requests(&s.requests()).len(),
            15,
            "every reply was seen"
        );
        let audit = std::fs::read_to_string(&audit).unwrap_or_default();
        assert_clean(&secret, &forms, &[&r.stdout, &r.stderr, &audit]);
    }

    // A token is issued, and tokens/me names the org and the client after the secret: each
    // format once, two forms per run.
    for (k, format) in ["json", "text", "sarif"].into_iter().enumerate() {
        let (org, client) = (forms[2 * k].clone(), forms[2 * k + 1].clone());
        let s = FakeGenesys::start(move |r, _| {
            (r.path == "/api/v2/tokens/me" && r.method == "GET").then(|| {
                Response::json(
                    200,
                    json!({"organization": {"name": org}, "OAuthClient": {"name": client}}),
                )
            })
        });
        s.world().add_client(&id, &secret, "mypurecloud.ie", "svc");
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[("app.env", &pair_file(60, Some("eu-west-1")))],
        );
        let audit = dir.path().join("audit.jsonl");
        let r = scan(
            &s,
            dir.path(),
            format,
            &["--verify", "--audit-log", audit.to_str().unwrap()],
            &[],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        if format == "json" {
            let doc = r.doc();
            let v = &findings(&doc)[0]["verification"];
            assert_eq!(v["status"], "active");
            assert!(v["org"].is_null() && v["client_name"].is_null(), "{v}");
        }
        let audit = std::fs::read_to_string(&audit).unwrap_or_default();
        assert_clean(&secret, &forms, &[&r.stdout, &r.stderr, &audit]);
    }
}

#[test]
fn rejected_flag_values_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let token = genesys_secret(70);
    let id = client_id(70);
    let hook = format!("http://hooks.example.com/services/{token}");
    let runs: Vec<Vec<&str>> = vec![
        vec!["scan", "--revoke", "--notify-webhook", &hook],
        vec!["verify", "--client-id", &id, "--secret-env", &token],
        vec!["verify", "--client-id", &id, "--region", &token],
    ];
    for args in runs {
        let out = common::run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains(&token[..12]), "{args:?}: {err}");
    }
}
