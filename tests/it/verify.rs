//! `--verify`, `--revoke` and `leakgate verify`, end to end against a stand-in Genesys on
//! loopback (`tests/it/common/verify_support.rs`).

use crate::common;
use crate::common::verify_support;
use common::output_with_stdin;
use common::{env_file_in, genesys_env};

use common::{client_id, findings, genesys_secret, leakgate, write_files};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use verify_support::{admin, admin_env, scan_with, token_requests, Run, ADMIN_SEED};
use verify_support::{FakeGenesys, Request, Response};

const TOKEN: &str = "/oauth/token";

/// Write `app.env` with a paired client id, secret and region hint; return (id, secret).
fn leak(dir: &Path, seed: u64, region: &str) -> (String, String) {
    let (id, secret) = (client_id(seed), genesys_secret(seed));
    write_files(dir, &[("app.env", &env_file_in(region, seed))]);
    (id, secret)
}

/// Run `leakgate scan --format FORMAT` against the stand-in, fast timings unless overridden.
fn scan(
    server: &FakeGenesys,
    dir: &Path,
    format: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let fast = [
        ("--verify-timeout", "0.5"),
        ("--verify-time-scale", "0.001"),
    ];
    scan_with(server, dir, format, args, env, &fast)
}

fn json_scan(server: &FakeGenesys, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    scan(server, dir, "json", args, env)
}

/// None of the secrets, tokens and rotated secrets the stand-in knows appears in `texts`.
fn assert_no_leak(server: &FakeGenesys, secrets: &[&str], texts: &[&str]) {
    let mut all: Vec<String> = server.world().sensitive.clone();
    all.extend(secrets.iter().map(std::string::ToString::to_string));
    assert!(!all.is_empty());
    for text in texts {
        for s in &all {
            assert!(
                !text.contains(s.as_str()),
                "a secret or token leaked into output:\n{text}"
            );
        }
    }
}

fn admin_api(reqs: &[Request]) -> Vec<&Request> {
    reqs.iter()
        .filter(|r| r.path.starts_with("/api/v2/oauth/clients"))
        .collect()
}

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}

#[test]
fn live_pair_found_in_a_region_other_than_the_hinted_one() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 1, "eu-west-1");
    s.world()
        .add_client(&id, &secret, "mypurecloud.de", "billing-sync");
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "active");
    assert_eq!(v["region"], "mypurecloud.de");
    assert_eq!(v["org"], "Example Org");
    assert_eq!(v["client_name"], "billing-sync");
    assert!(v["checked_at"].as_str().unwrap().ends_with('Z'));

    let reqs = s.requests();
    let tried: Vec<&str> = token_requests(&reqs)
        .iter()
        .map(|r| r.domain.as_str())
        .collect();
    // Hinted region first, then the others in order, stopping at the first live answer.
    assert_eq!(
        tried,
        ["mypurecloud.ie", "mypurecloud.com", "mypurecloud.de"]
    );
    for r in &reqs {
        assert!(r.header("user-agent").unwrap().starts_with("leakgate/"));
    }
    // The token the check minted was read, then deleted.
    let api: Vec<(&str, &str, &str)> = reqs
        .iter()
        .filter(|r| r.service == "api")
        .map(|r| (r.method.as_str(), r.domain.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        api,
        [
            ("GET", "mypurecloud.de", "/api/v2/tokens/me"),
            ("DELETE", "mypurecloud.de", "/api/v2/tokens/me")
        ]
    );
    assert_eq!(s.world().live_tokens(&id), 0, "minted token not deleted");
    assert_no_leak(&s, &[&secret], &[&r.stdout, &r.stderr]);
}

#[test]
fn pair_refused_everywhere_is_invalid() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (_, secret) = leak(dir.path(), 2, "eu-west-1");
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    assert_eq!(r.code, 1, "exit 1 still means findings: {}", r.stderr);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "invalid");
    let reqs = s.requests();
    let mut tried: Vec<&str> = token_requests(&reqs)
        .iter()
        .map(|r| r.domain.as_str())
        .collect();
    assert_eq!(tried.len(), 18, "every region exactly once");
    tried.sort_unstable();
    tried.dedup();
    assert_eq!(tried.len(), 18);
    assert!(reqs.iter().all(|r| r.service == "login"));
    assert!(!r.stderr.contains("no conclusion"));
    assert_no_leak(&s, &[&secret], &[&r.stdout, &r.stderr]);
}

#[test]
fn unauthorized_client_is_unconfirmed_never_active() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 3, "eu-west-1");
    {
        let mut w = s.world();
        w.add_client(&id, &secret, "mypurecloud.ie", "web-app");
        w.clients[0].grant = "CODE".into();
    }
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    assert_eq!(r.code, 1, "a finding like any other: {}", r.stderr);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "unconfirmed");
    assert_eq!(v["region"], "mypurecloud.ie");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("unauthorized_client"));
    assert!(r.stderr.contains("unconfirmed"), "{}", r.stderr);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1, "no token, nothing to read or delete");
}

#[test]
fn rate_limit_then_success() {
    let s = FakeGenesys::start(|r, w| {
        (r.is_token() && w.counts[&format!("POST login {TOKEN}")] <= 2).then(|| {
            Response::oauth_error("invalid_request", "rate limit exceeded; try again shortly")
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 4, "eu-west-1");
    s.world().add_client(&id, &secret, "mypurecloud.ie", "svc");
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "active", "{}", r.stdout);
    let reqs = s.requests();
    let tried: Vec<&str> = token_requests(&reqs)
        .iter()
        .map(|r| r.domain.as_str())
        .collect();
    assert_eq!(tried, ["mypurecloud.ie"; 3], "retried in the same region");
}

#[test]
fn still_throttled_after_bounded_retries_is_rate_limited() {
    let s = FakeGenesys::start(|r, _| {
        r.is_token()
            .then(|| Response::json(429, serde_json::json!({})).header("Retry-After", "1"))
    });
    let dir = tempfile::tempdir().unwrap();
    let (_, secret) = leak(dir.path(), 5, "eu-west-1");
    let r = json_scan(&s, dir.path(), &["--verify", "--verify-attempts", "2"], &[]);
    assert_eq!(r.code, 1);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "rate_limited");
    let n = token_requests(&s.requests()).len();
    // Two attempts per region; the circuit breaker stops after five failed regions.
    assert_eq!(n, 10, "bounded attempts");
    assert!(r.stderr.contains("no conclusion"), "{}", r.stderr);
    assert_no_leak(&s, &[&secret], &[&r.stdout, &r.stderr]);
}

#[test]
fn timeouts_and_500s_are_indeterminate_and_nothing_is_revoked() {
    let s = FakeGenesys::start(|r, _| {
        if !r.is_token() {
            return None;
        }
        Some(if r.domain == "mypurecloud.ie" {
            Response::json(200, serde_json::json!({})).delayed(Duration::from_millis(1500))
        } else {
            Response::json(500, serde_json::json!({"message": "oops"}))
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 6, "eu-west-1");
    let a = admin();
    {
        let mut w = s.world();
        w.add_client(&id, &secret, "mypurecloud.ie", "svc");
        w.add_admin(&a.0, &a.1, "mypurecloud.ie");
    }
    let r = json_scan(
        &s,
        dir.path(),
        &["--revoke", "--verify-timeout", "0.3"],
        &admin_env(&a),
    );
    assert_eq!(r.code, 1);
    let f = r.finding();
    assert_eq!(f["verification"]["status"], "indeterminate");
    let reason = f["verification"]["reason"].as_str().unwrap();
    assert!(reason.contains("timed out"), "{reason}");
    assert!(reason.contains("circuit breaker"), "{reason}");
    assert_eq!(f["revocation"]["status"], "not_attempted");
    let reqs = s.requests();
    assert!(admin_api(&reqs).is_empty(), "nothing revoked");
    assert_eq!(
        token_requests(&reqs).len(),
        5,
        "breaker stops after five failures"
    );
    assert_eq!(s.world().client(&id).unwrap().state, "active");
    assert!(r.stderr.contains("no conclusion"), "{}", r.stderr);
}

#[test]
fn one_failing_region_is_never_invalid() {
    let s = FakeGenesys::start(|r, _| {
        (r.is_token() && r.domain == "mypurecloud.jp").then(|| Response::empty(503))
    });
    let dir = tempfile::tempdir().unwrap();
    leak(dir.path(), 7, "eu-west-1");
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    let v = &r.finding()["verification"];
    assert_eq!(v["status"], "indeterminate");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("mypurecloud.jp: HTTP 503"));
    assert_eq!(token_requests(&s.requests()).len(), 18);
}

/// A leaked live client and an admin client in eu-west-1; run `--revoke` with `extra` flags.
fn revoke_run(seed: u64, extra: &[&str]) -> (FakeGenesys, tempfile::TempDir, String, String, Run) {
    let s = FakeGenesys::start(|_, _| None);
    revoke_run_on(s, seed, extra)
}

fn revoke_run_on(
    s: FakeGenesys,
    seed: u64,
    extra: &[&str],
) -> (FakeGenesys, tempfile::TempDir, String, String, Run) {
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), seed, "eu-west-1");
    let a = admin();
    {
        let mut w = s.world();
        w.add_client(&id, &secret, "mypurecloud.ie", "billing-sync");
        w.add_admin(&a.0, &a.1, "mypurecloud.ie");
    }
    let audit = dir.path().join("audit.jsonl");
    let mut args = vec!["--revoke", "--audit-log", audit.to_str().unwrap()];
    args.extend_from_slice(extra);
    let r = json_scan(&s, dir.path(), &args, &admin_env(&a));
    (s, dir, id, secret, r)
}

/// The calls after the verification, as (method, service, path, who).
fn steps(s: &FakeGenesys, admin_id: &str) -> Vec<String> {
    s.requests()
        .iter()
        .map(|r| {
            let who = match r.basic() {
                Some((id, _)) if id == admin_id => "admin-basic",
                Some(_) => "leaked-basic",
                None => "bearer",
            };
            format!("{} {} {} {who}", r.method, r.service, r.path)
        })
        .collect()
}

fn check_audit(dir: &Path, id: &str, want: &[&str]) -> Vec<Value> {
    let lines = audit_lines(&dir.join("audit.jsonl"));
    for l in &lines {
        for k in [
            "time",
            "fingerprint",
            "rule",
            "client_id",
            "region",
            "action",
            "http_status",
            "outcome",
            "dry_run",
        ] {
            assert!(l.get(k).is_some(), "audit line lacks {k}: {l}");
        }
    }
    let actions: Vec<&str> = lines
        .iter()
        .filter(|l| l["client_id"] == id)
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for w in want {
        assert!(actions.contains(w), "audit lacks {w}: {actions:?}");
    }
    lines
}

#[test]
fn revoke_disable_then_recheck() {
    let (s, dir, id, secret, r) = revoke_run(10, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.finding();
    assert_eq!(f["verification"]["status"], "active");
    assert_eq!(f["revocation"]["status"], "revoked", "{}", r.stdout);
    assert_eq!(f["revocation"]["action"], "disable");
    let c = s.world().client(&id).cloned().unwrap();
    assert_eq!(c.state, "disabled");
    assert_eq!(c.name, "billing-sync", "name kept");
    assert_eq!(c.grant, "CLIENT-CREDENTIALS", "grant type kept");
    assert_eq!(c.role_divisions[0]["roleId"], "r1", "roles kept");
    let put = s
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert!(
        !put.body.contains(&secret),
        "the PUT does not echo the secret"
    );
    let a = admin();
    assert_eq!(
        steps(&s, &a.0),
        [
            "POST login /oauth/token leaked-basic",
            "GET api /api/v2/tokens/me bearer",
            "DELETE api /api/v2/tokens/me bearer",
            "POST login /oauth/token admin-basic",
            &format!("GET api /api/v2/oauth/clients/{id} bearer"),
            &format!("PUT api /api/v2/oauth/clients/{id} bearer"),
            "POST login /oauth/token leaked-basic",
            "DELETE api /api/v2/tokens/me bearer",
        ]
    );
    assert_eq!(s.world().tokens.len(), 0, "every minted token deleted");
    let lines = check_audit(
        dir.path(),
        &id,
        &["verify", "get_client", "disable", "recheck"],
    );
    let recheck = lines.iter().find(|l| l["action"] == "recheck").unwrap();
    assert_eq!(recheck["outcome"], "refused");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_no_leak(&s, &[&secret, &a.1], &[&r.stdout, &r.stderr, &audit]);
}

#[test]
fn revoke_rotate_then_recheck() {
    let (s, dir, id, secret, r) = revoke_run(11, &["--revoke-action", "rotate"]);
    let f = r.finding();
    assert_eq!(f["revocation"]["status"], "revoked", "{}", r.stdout);
    assert_eq!(f["revocation"]["action"], "rotate");
    let c = s.world().client(&id).cloned().unwrap();
    assert_ne!(c.secret, secret);
    assert_eq!(c.state, "active", "rotate leaves the client active");
    let reqs = s.requests();
    assert!(reqs
        .iter()
        .any(|r| r.method == "POST" && r.path == format!("/api/v2/oauth/clients/{id}/secret")));
    let recheck = reqs
        .iter()
        .rposition(|r| r.is_token() && r.token_client() == Some(id.clone()));
    let rotate = reqs
        .iter()
        .position(|r| r.path.ends_with("/secret"))
        .unwrap();
    assert!(recheck.unwrap() > rotate);
    check_audit(dir.path(), &id, &["rotate", "recheck"]);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    // The new secret (recorded as sensitive by the stand-in) appears nowhere.
    assert_no_leak(&s, &[&secret], &[&r.stdout, &r.stderr, &audit]);
}

#[test]
fn revoke_delete_deactivates_first_then_rechecks() {
    let (s, dir, id, _, r) = revoke_run(12, &["--revoke-action", "delete"]);
    let f = r.finding();
    assert_eq!(f["revocation"]["status"], "revoked", "{}", r.stdout);
    assert_eq!(f["revocation"]["action"], "delete");
    assert!(s.world().client(&id).is_none(), "client deleted");
    let reqs = s.requests();
    let admin_calls: Vec<(String, String)> = admin_api(&reqs)
        .iter()
        .map(|r| {
            let state = serde_json::from_str::<Value>(&r.body)
                .ok()
                .and_then(|j| j["state"].as_str().map(str::to_string))
                .unwrap_or_default();
            (r.method.clone(), state)
        })
        .collect();
    assert_eq!(
        admin_calls,
        [
            ("GET".into(), String::new()),
            ("PUT".into(), "inactive".into()),
            ("DELETE".into(), String::new())
        ]
    );
    check_audit(dir.path(), &id, &["deactivate", "delete", "recheck"]);
}

#[test]
fn revoke_failed_when_the_pair_is_still_accepted() {
    // The admin API claims success but changes nothing.
    let s = FakeGenesys::start(|r, _| {
        (r.method == "PUT").then(|| Response::json(200, serde_json::json!({})))
    });
    let (s, _dir, id, secret, r) = revoke_run_on(s, 13, &[]);
    let f = r.finding();
    assert_eq!(f["revocation"]["status"], "revoke_failed");
    assert!(f["revocation"]["reason"]
        .as_str()
        .unwrap()
        .contains("still accepted"));
    let rechecks = token_requests(&s.requests())
        .iter()
        .filter(|r| r.token_client() == Some(id.clone()))
        .count();
    assert_eq!(rechecks, 1 + 3, "the check and three re-checks");
    assert_eq!(s.world().tokens.len(), 0, "re-check tokens deleted too");
    assert_no_leak(&s, &[&secret], &[&r.stdout, &r.stderr]);
}

#[test]
fn admin_api_429_with_retry_after_is_respected() {
    let s = FakeGenesys::start(|r, w| {
        let key = format!("PUT api {}", r.path);
        (r.method == "PUT" && w.counts[&key] == 1)
            .then(|| Response::json(429, serde_json::json!({})).header("Retry-After", "5"))
    });
    // Scale 0.01: Retry-After 5 s means at least 50 ms here; backoff alone would be ~5 ms.
    let (s, _dir, id, _, r) = revoke_run_on(s, 14, &["--verify-time-scale", "0.01"]);
    assert_eq!(
        r.finding()["revocation"]["status"],
        "revoked",
        "{}",
        r.stdout
    );
    let reqs = s.requests();
    let puts: Vec<&Request> = reqs.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 2);
    let gap = puts[1].at.duration_since(puts[0].at);
    assert!(
        gap >= Duration::from_millis(50),
        "Retry-After not respected: {gap:?}"
    );
    assert_eq!(s.world().client(&id).unwrap().state, "disabled");
}

#[test]
fn decoys_are_never_contacted() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 20, "eu-west-1");
    write_files(
        dir.path(),
        &[(
            ".leakgate.toml",
            &format!("[genesys]\ndecoy_client_ids = [\"{id}\"]\n"),
        )],
    );
    s.world()
        .add_client(&id, &secret, "mypurecloud.ie", "honeypot");
    let a = admin();
    let audit = dir.path().join("audit.jsonl");
    let r = json_scan(
        &s,
        dir.path(),
        &["--revoke", "--audit-log", audit.to_str().unwrap()],
        &admin_env(&a),
    );
    assert_eq!(r.code, 0, "a decoy does not fail the scan: {}", r.stderr);
    let f = r.finding();
    assert_eq!(f["verification"]["status"], "decoy");
    assert!(f["revocation"].is_null());
    assert!(s.requests().is_empty(), "decoy sent somewhere");
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["outcome"], "decoy");
}

#[test]
fn protected_ids_and_the_admin_itself_are_untouched() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 21, "eu-west-1");
    write_files(
        dir.path(),
        &[(
            ".leakgate.toml",
            &format!("[genesys]\nprotected_client_ids = [\"{id}\"]\n"),
        )],
    );
    let a = admin();
    {
        let mut w = s.world();
        w.add_client(&id, &secret, "mypurecloud.ie", "core-integration");
        w.add_admin(&a.0, &a.1, "mypurecloud.ie");
    }
    let r = json_scan(&s, dir.path(), &["--revoke"], &admin_env(&a));
    let f = r.finding();
    assert_eq!(f["verification"]["status"], "active");
    assert_eq!(f["revocation"]["status"], "protected");
    assert!(admin_api(&s.requests()).is_empty());
    assert_eq!(s.world().client(&id).unwrap().state, "active");

    // The admin client's own pair, leaked.
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    // admin() is the pair of ADMIN_SEED.
    write_files(dir.path(), &[("admin.env", &genesys_env(ADMIN_SEED))]);
    s.world().add_admin(&a.0, &a.1, "mypurecloud.ie");
    let r = json_scan(&s, dir.path(), &["--revoke"], &admin_env(&a));
    let f = r.finding();
    assert_eq!(f["revocation"]["status"], "protected");
    assert!(f["revocation"]["reason"]
        .as_str()
        .unwrap()
        .contains("admin"));
    assert!(admin_api(&s.requests()).is_empty());
    assert_eq!(s.world().client(&a.0).unwrap().state, "active");
}

#[test]
fn dry_run_contacts_only_the_token_endpoint_and_changes_nothing() {
    let (s, dir, id, secret, r) = revoke_run(22, &["--dry-run"]);
    let f = r.finding();
    assert_eq!(f["verification"]["status"], "active");
    assert_eq!(f["revocation"]["status"], "dry_run");
    assert!(f["revocation"]["reason"]
        .as_str()
        .unwrap()
        .contains("would set client state to disabled"));
    let reqs = s.requests();
    assert!(
        reqs.iter()
            .all(super::common::verify_support::Request::is_token),
        "only the token endpoint"
    );
    let a = admin();
    assert!(reqs.iter().all(|r| r.token_client() != Some(a.0.clone())));
    let c = s.world().client(&id).cloned().unwrap();
    assert_eq!(
        (c.state.as_str(), c.secret.as_str()),
        ("active", secret.as_str())
    );
    let lines = audit_lines(&dir.path().join("audit.jsonl"));
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["dry_run"] == true));
}

#[test]
fn revoke_needs_admin_credentials_from_the_environment() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    leak(dir.path(), 23, "eu-west-1");
    let r = json_scan(&s, dir.path(), &["--revoke"], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("LEAKGATE_GENESYS_ADMIN_CLIENT_ID"),
        "{}",
        r.stderr
    );
    assert!(s.requests().is_empty());
}

#[test]
fn a_credential_is_checked_once_per_run() {
    let s = FakeGenesys::start(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = leak(dir.path(), 24, "eu-west-1");
    let copy = std::fs::read_to_string(dir.path().join("app.env")).unwrap();
    write_files(dir.path(), &[("deploy/prod.env", &copy)]);
    s.world().add_client(&id, &secret, "mypurecloud.ie", "svc");
    // Each place a finding of its own, so the verifier meets the credential twice.
    let r = json_scan(&s, dir.path(), &["--verify", "--no-group"], &[]);
    let doc = r.doc();
    let fs = findings(&doc);
    assert_eq!(fs.len(), 2);
    assert!(fs.iter().all(|f| f["verification"]["status"] == "active"));
    assert_eq!(token_requests(&s.requests()).len(), 1);
    // Grouped: one finding for both places, verified as live.
    let r = json_scan(&s, dir.path(), &["--verify"], &[]);
    let doc = r.doc();
    let [f] = findings(&doc).as_slice() else {
        panic!("one finding: {doc:#}")
    };
    assert_eq!(
        (f["places"].as_u64(), f["path"].as_str()),
        (Some(2), Some("app.env"))
    );
    assert_eq!(f["verification"]["status"], "active");
    assert_eq!(token_requests(&s.requests()).len(), 2);
}

#[test]
fn no_secret_or_token_in_any_output_audit_or_notice() {
    for format in ["json", "sarif", "text"] {
        let s = FakeGenesys::start(|_, _| None);
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = leak(dir.path(), 30, "eu-west-1");
        let a = admin();
        {
            let mut w = s.world();
            w.add_client(&id, &secret, "mypurecloud.ie", "billing-sync");
            w.add_admin(&a.0, &a.1, "mypurecloud.ie");
        }
        let audit = dir.path().join("audit.jsonl");
        let hook = s.url("/hook/T000/B000");
        let r = scan(
            &s,
            dir.path(),
            format,
            &[
                "--revoke",
                "--revoke-action",
                "rotate",
                "--audit-log",
                audit.to_str().unwrap(),
                "--notify-webhook",
                &hook,
            ],
            &admin_env(&a),
        );
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains("revoked"), "{format}: {}", r.stdout);
        let audit_text = std::fs::read_to_string(&audit).unwrap();
        let notices: Vec<String> = s
            .requests()
            .iter()
            .filter(|r| r.service == "hook")
            .map(|r| r.body.clone())
            .collect();
        assert_eq!(notices.len(), 1, "one notice per revocation");
        let text: Value = serde_json::from_str(&notices[0]).unwrap();
        let text = text["text"].as_str().unwrap();
        assert!(text.contains(&id) && text.contains("app.env"), "{text}");
        assert!(text.contains("secrets manager"), "{text}");
        let mut all = vec![r.stdout.as_str(), r.stderr.as_str(), audit_text.as_str()];
        all.extend(notices.iter().map(String::as_str));
        assert_no_leak(&s, &[&secret, &a.1], &all);
        assert!(!s.world().sensitive.is_empty());
    }
}

#[test]
fn plain_http_to_a_non_loopback_host_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    leak(dir.path(), 40, "eu-west-1");
    for (template, says) in [
        ("http://example.com/{service}.{domain}", "plain http"),
        ("http://{service}.{domain}", "plain http"),
        (
            "https://genesys.example.com/{service}.{domain}",
            "not a Genesys region host",
        ),
    ] {
        let out = leakgate()
            .current_dir(dir.path())
            .env("LEAKGATE_GENESYS_URL_TEMPLATE", template)
            .args(["scan", "--verify", "--verify-timeout", "0.2"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{template}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{template}: {err}");
    }
    let out = leakgate()
        .current_dir(dir.path())
        .args([
            "scan",
            "--revoke",
            "--notify-webhook",
            "http://hooks.example.com/x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be https"), "{err}");
}

#[test]
fn verify_command_reads_the_secret_from_stdin_or_env() {
    let s = FakeGenesys::start(|_, _| None);
    let (id, secret) = (client_id(50), genesys_secret(50));
    s.world().add_client(&id, &secret, "mypurecloud.jp", "svc");
    let dir = tempfile::tempdir().unwrap();
    let base = |cmd: &mut std::process::Command| {
        cmd.current_dir(dir.path())
            .env("LEAKGATE_GENESYS_URL_TEMPLATE", s.template())
            .args(["verify", "--client-id", &id, "--verify-rate", "100"]);
    };
    let mut cmd = leakgate();
    base(&mut cmd);
    let out = output_with_stdin(
        cmd.args(["--region", "ap-northeast-1", "--json"]),
        format!("{secret}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "live: exit 1");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verification"]["status"], "active");
    assert_eq!(doc["verification"]["region"], "mypurecloud.jp");
    assert_eq!(
        token_requests(&s.requests()).len(),
        1,
        "hinted region first"
    );

    let mut cmd = leakgate();
    base(&mut cmd);
    let out = cmd
        .args(["--secret-env", "MY_SECRET"])
        .env("MY_SECRET", genesys_secret(51))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "not live: exit 0");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("invalid"), "{text}");
    let all = [
        String::from_utf8_lossy(&out.stderr).into_owned(),
        text.into_owned(),
    ];
    assert_no_leak(&s, &[&secret, &genesys_secret(51)], &[&all[0], &all[1]]);
}
