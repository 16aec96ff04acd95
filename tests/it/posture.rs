//! `leakgate genesys audit | decoy | rotate`, end to end against the stand-in Genesys admin API
//! on loopback (`tests/it/common/verify_support.rs`): paging, every finding class, fields the
//! API does not expose, 403 naming the permission, 429 with Retry-After, exit codes, decoys
//! written to the configuration, secrets handed over once and nowhere else.

use crate::common::verify_support::{admin, admin_env, FakeGenesys, Request, Response, Run};
use crate::common::{client_id, genesys_secret, leakgate};
use serde_json::{json, Value};
use std::path::Path;

const REGION: &str = "mypurecloud.ie";
const LIST: &str = "/api/v2/oauth/clients";

/// A stand-in with the admin client (holding a read-only role) and the roles the tests use.
fn server(
    script: impl Fn(&Request, &mut crate::common::verify_support::World) -> Option<Response>
        + Send
        + Sync
        + 'static,
) -> (FakeGenesys, (String, String)) {
    let s = FakeGenesys::start(script);
    let a = admin();
    {
        let mut w = s.world();
        w.add_admin(&a.0, &a.1, REGION);
        w.client_mut(&a.0).unwrap().name = "Prod-Leakgate-Admin".into();
        w.client_mut(&a.0).unwrap().role_divisions =
            json!([{"roleId": "r-view", "divisionId": "d1"}]);
        w.add_role(
            "r-view",
            "Queue Reader",
            &["routing:queue:view", "analytics:queueObservation:view"],
        );
        w.add_role("r-admin", "Master Admin", &[]);
        w.add_role(
            "r-oauth",
            "Integration Manager",
            &["oauth:client:add", "oauth:client:view"],
        );
        w.add_role("r-edit", "Queue Editor", &["routing:queue:edit"]);
        w.usage
            .insert(a.0.clone(), vec![used("2026-11-30T00:00:00Z")]);
    }
    (s, a)
}

fn used(date: &str) -> Value {
    json!({"requests": 12, "status200": 12, "date": date})
}

/// Add a client with `role`, recent use and these extra record fields; return its id.
fn client(s: &FakeGenesys, seed: u64, name: &str, role: &str, fields: Value) -> String {
    let id = client_id(seed);
    let mut w = s.world();
    w.add_client(&id, &genesys_secret(seed), REGION, name);
    w.client_mut(&id).unwrap().role_divisions = json!([{"roleId": role, "divisionId": "d1"}]);
    w.set_fields(&id, fields);
    w.usage
        .insert(id.clone(), vec![used("2026-11-01T00:00:00Z")]);
    id
}

/// Run `leakgate genesys ARGS --region ... ` in `dir` against `s`, with the admin client.
fn genesys(s: &FakeGenesys, a: &(String, String), dir: &Path, args: &[&str]) -> Run {
    let mut cmd = leakgate();
    cmd.current_dir(dir)
        .env("LEAKGATE_GENESYS_URL_TEMPLATE", s.template())
        .envs(admin_env(a))
        .arg("genesys");
    // The common flags go before `--to-command`, which takes the rest.
    let at = args
        .iter()
        .position(|a| *a == "--to-command")
        .unwrap_or(args.len());
    cmd.args(&args[..at])
        .args(["--region", REGION, "--rate", "100", "--time-scale", "0.05"])
        .args(&args[at..]);
    let out = cmd.output().expect("run leakgate");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every secret the stand-in ever held or minted (clients' secrets, tokens, regenerated and
/// created secrets) and the admin secret: none may appear in `texts`.
fn assert_no_secret(s: &FakeGenesys, a: &(String, String), texts: &[&str]) {
    let w = s.world();
    let mut secrets: Vec<String> = w.sensitive.clone();
    secrets.extend(w.clients.iter().map(|c| c.secret.clone()));
    secrets.push(a.1.clone());
    for t in texts {
        for secret in &secrets {
            assert!(!t.contains(secret.as_str()), "a secret leaked into: {t}");
        }
    }
}

fn list_requests(s: &FakeGenesys) -> Vec<Request> {
    s.requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == LIST)
        .collect()
}

fn checks(doc: &Value, id: &str) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["client_id"] == id)
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(doc: &Value, id: &str, check: &str, severity: &str) -> bool {
    checks(doc, id).contains(&(check.to_string(), severity.to_string()))
}

#[test]
fn audit_reads_every_page_and_flags_each_class() {
    let (s, a) = server(|_, _| None);
    let god = client(
        &s,
        1,
        "Prod-Everything",
        "r-admin",
        json!({"accessTokenValiditySeconds": 3600}),
    );
    let manager = client(&s, 2, "Prod-Provisioning", "r-oauth", json!({}));
    let shared = client(&s, 3, "Prod-Dev OrderLookup", "r-view", json!({}));
    let misnamed = client(&s, 4, "orderlookup", "r-view", json!({}));
    let long = client(
        &s,
        5,
        "Dev-Reports",
        "r-view",
        json!({"accessTokenValiditySeconds": 172_800}),
    );
    let unused = client(&s, 6, "Staging-Sync", "r-view", json!({}));
    let disabled = client(
        &s,
        7,
        "Dev-Old",
        "r-view",
        json!({"dateModified": "2025-01-02T00:00:00Z"}),
    );
    let decoy = client(
        &s,
        8,
        "Legacy CRM Sync",
        "r-edit",
        json!({"accessTokenValiditySeconds": 7200}),
    );
    let gone_decoy = client_id(9);
    let gone_protected = client_id(10);
    {
        let mut w = s.world();
        w.page_size = 2;
        w.usage.remove(&unused);
        w.client_mut(&disabled).unwrap().state = "disabled".into();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        format!(
            "[genesys]\ndecoy_client_ids = [\"{decoy}\", \"{gone_decoy}\"]\nprotected_client_ids = [\"{gone_protected}\"]\n\n[genesys.policy]\nnaming = \"^(Prod|Staging|Dev)-\"\nmax_token_lifetime_secs = 86400\nunused_days = 30\n"
        ),
    )
    .unwrap();
    let audit_log = dir.path().join("audit.jsonl");
    let r = genesys(
        &s,
        &a,
        dir.path(),
        &[
            "audit",
            "--format",
            "json",
            "--audit-log",
            audit_log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        r.code, 0,
        "no --fail-on: findings do not fail; {}",
        r.stderr
    );
    let doc = r.doc();
    // 9 clients (the admin too) on 5 pages of 2, every one read.
    assert_eq!(list_requests(&s).len(), 5);
    let ids: Vec<&str> = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9, "{ids:?}");
    for id in [
        &god, &manager, &shared, &misnamed, &long, &unused, &disabled, &decoy, &a.0,
    ] {
        assert!(ids.contains(&id.as_str()), "{id} missing");
    }
    assert!(
        has(&doc, &god, "admin_privileges", "critical"),
        "{:?}",
        checks(&doc, &god)
    );
    assert!(
        has(&doc, &manager, "admin_privileges", "critical"),
        "{:?}",
        checks(&doc, &manager)
    );
    assert!(has(&doc, &shared, "shared_across_environments", "high"));
    assert!(has(&doc, &misnamed, "naming", "medium"));
    assert!(has(&doc, &long, "token_lifetime", "medium"));
    assert!(has(&doc, &unused, "unused", "low"));
    assert!(has(&doc, &disabled, "not_cleaned_up", "low"));
    assert!(has(&doc, &decoy, "decoy_privileged", "high"));
    assert!(
        has(&doc, &decoy, "token_lifetime", "high"),
        "decoys: one hour at most"
    );
    assert!(has(&doc, &gone_decoy, "decoy_missing", "high"));
    assert!(has(&doc, &gone_protected, "protected_missing", "medium"));
    // Clean clients carry no finding; a decoy is not held to the naming convention.
    assert!(checks(&doc, &a.0).is_empty(), "{:?}", checks(&doc, &a.0));
    assert!(!has(&doc, &decoy, "naming", "medium"));
    assert_eq!(
        doc["findings"][0]["severity"], "critical",
        "most severe first"
    );
    // Fields, roles named, recent use; secret age and IP restrictions are not in the record.
    let god_row = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == god.as_str())
        .unwrap();
    assert_eq!(god_row["token_lifetime_secs"], 3600);
    assert_eq!(god_row["roles"][0]["role_name"], "Master Admin");
    assert_eq!(god_row["usage"]["status"], "known");
    assert_eq!(god_row["usage"]["requests"], 12);
    for c in doc["clients"].as_array().unwrap() {
        assert_eq!(c["secret_age"], "not exposed by the API");
        assert_eq!(c["ip_restrictions"], "not exposed by the API");
        assert!(c.get("secret").is_none());
    }
    let log = std::fs::read_to_string(&audit_log).unwrap();
    assert!(
        log.contains("\"list_clients\"")
            && log.contains("\"get_role\"")
            && log.contains("\"usage\""),
        "{log}"
    );
    // The listing carries every client's secret: none reaches any output.
    assert_no_secret(&s, &a, &[&r.stdout, &r.stderr, &log]);
    // The admin token was deleted.
    assert_eq!(s.world().live_tokens(&a.0), 0);

    // The text report says the same.
    let t = genesys(&s, &a, dir.path(), &["audit"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout.contains("OAuth clients in mypurecloud.ie: 9"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains("critical") && t.stdout.contains("Master Admin"),
        "{}",
        t.stdout
    );
    assert!(t
        .stdout
        .contains("Secret age and IP restrictions: not exposed by the API"));
    assert_no_secret(&s, &a, &[&t.stdout, &t.stderr]);
}

#[test]
fn fail_on_sets_the_exit_code() {
    let (s, a) = server(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    client(
        &s,
        21,
        "Prod-Reports",
        "r-view",
        json!({"accessTokenValiditySeconds": 172_800}),
    );
    // Worst finding: medium (the token lifetime).
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--fail-on", "high"]).code,
        0
    );
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--fail-on", "medium"]).code,
        1
    );
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--fail-on", "info"]).code,
        1
    );
    client(&s, 22, "Prod-God", "r-admin", json!({}));
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--fail-on", "critical"]).code,
        1
    );
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--format", "json"]).code,
        0
    );
}

#[test]
fn missing_fields_are_reported_not_guessed() {
    let (s, a) = server(|_, _| None);
    // A record with neither lifetime nor dates (the model sends only the core fields).
    let bare = client(&s, 31, "Prod-Bare", "r-view", json!({}));
    let dir = tempfile::tempdir().unwrap();
    let r = genesys(&s, &a, dir.path(), &["audit", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.doc();
    let row = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == bare.as_str())
        .unwrap();
    assert!(row["token_lifetime_secs"].is_null(), "{row}");
    assert!(row["date_created"].is_null());
    assert!(
        checks(&doc, &bare).is_empty(),
        "nothing guessed: {:?}",
        checks(&doc, &bare)
    );
    let t = genesys(&s, &a, dir.path(), &["audit", "--no-usage"]);
    assert!(t.stdout.contains("not asked"), "{}", t.stdout);
    assert!(t.stdout.contains("not exposed by the API"));
}

#[test]
fn forbidden_calls_name_the_permission() {
    // The listing refused: nothing to audit, exit 2, the permission named.
    let (s, a) =
        server(|r, _| (r.path == LIST).then(|| Response::json(403, json!({"message": "no"}))));
    let dir = tempfile::tempdir().unwrap();
    let r = genesys(&s, &a, dir.path(), &["audit"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("oauth:client:view"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    // Roles and usage refused: the rest is audited; each gap named with its permission, the
    // usage refusal once; the run exits 2 (incomplete) unless a finding reaches --fail-on.
    let (s, a) = server(|r, _| {
        (r.path.starts_with("/api/v2/authorization/roles/") || r.path.contains("/usage/"))
            .then(|| Response::json(403, json!({"message": "no"})))
    });
    let id = client(&s, 41, "Prod-Sync", "r-view", json!({}));
    let r = genesys(&s, &a, dir.path(), &["audit", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let doc = r.doc();
    assert!(
        has(&doc, &id, "role_unread", "medium"),
        "{:?}",
        checks(&doc, &id)
    );
    let errors = doc["errors"].to_string();
    assert!(errors.contains("authorization:role:view"), "{errors}");
    assert!(errors.contains("usage:client:view"), "{errors}");
    let usage_calls = s
        .requests()
        .iter()
        .filter(|r| r.path.contains("/usage/"))
        .count();
    assert_eq!(usage_calls, 1, "a refused usage API is asked once");
    assert_eq!(
        genesys(&s, &a, dir.path(), &["audit", "--fail-on", "medium"]).code,
        1
    );
}

#[test]
fn throttled_listing_waits_for_retry_after() {
    let (s, a) = server(|r, w| {
        let first = w.counts.get(&format!("GET api {LIST}")).copied() == Some(1);
        (r.path == LIST && first).then(|| Response::json(429, json!({})).header("Retry-After", "4"))
    });
    let dir = tempfile::tempdir().unwrap();
    let r = genesys(&s, &a, dir.path(), &["audit", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lists = list_requests(&s);
    assert_eq!(lists.len(), 2, "retried once");
    // Retry-After 4 s at time scale 0.05: at least 200 ms.
    let waited = lists[1].at.duration_since(lists[0].at);
    assert!(
        waited >= std::time::Duration::from_millis(190),
        "{waited:?}"
    );
    assert_eq!(r.doc()["clients"].as_array().unwrap().len(), 1);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn decoy_create_records_the_id_and_hands_the_secret_over_once() {
    let (s, a) = server(|_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".leakgate.toml");
    std::fs::write(
        &config,
        "# team settings\n[allow]\npaths = [\"fixtures/**\"]\n",
    )
    .unwrap();
    let out = dir.path().join("decoy.secret");
    let audit_log = dir.path().join("audit.jsonl");
    let args = [
        "decoy",
        "create",
        "--role-id",
        "r-view",
        "--division-id",
        "d1",
        "--secret-out",
        out.to_str().unwrap(),
        "--audit-log",
        audit_log.to_str().unwrap(),
    ];
    let r = genesys(&s, &a, dir.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (id, secret, body) = {
        let w = s.world();
        assert_eq!(w.created.len(), 1);
        let c = w.clients.last().unwrap();
        (c.id.clone(), c.secret.clone(), w.created[0].clone())
    };
    // Read-only roles, the shortest lifetime, a client-credentials client, a plausible name.
    assert_eq!(body["authorizedGrantType"], "CLIENT-CREDENTIALS");
    assert_eq!(body["accessTokenValiditySeconds"], 300);
    assert_eq!(
        body["roleDivisions"],
        json!([{"roleId": "r-view", "divisionId": "d1"}])
    );
    assert_eq!(body["name"], "Legacy CRM Sync");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    // The secret: in the file, 0600, and nowhere else.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("{secret}\n")
    );
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# team settings\n[allow]\npaths = [\"fixtures/**\"]\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("decoy_client_ids = [\"{id}\"]")),
        "{text}"
    );
    let log = std::fs::read_to_string(&audit_log).unwrap();
    assert!(
        log.contains("\"create_client\"") && log.contains("\"handover\""),
        "{log}"
    );
    assert_no_secret(&s, &a, &[&r.stdout, &r.stderr, &log, &text]);
    // The decoy was never used.
    assert!(s
        .requests()
        .iter()
        .all(|q| q.token_client().as_deref() != Some(id.as_str())));

    // An existing file is never overwritten, and nothing is created.
    let again = genesys(&s, &a, dir.path(), &args);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(s.world().created.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("{secret}\n")
    );

    // A role beyond read-only is refused before anything is created.
    let other = dir.path().join("other.secret");
    let r = genesys(
        &s,
        &a,
        dir.path(),
        &[
            "decoy",
            "create",
            "--role-id",
            "r-edit",
            "--secret-out",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not read-only"), "{}", r.stderr);
    assert_eq!(s.world().created.len(), 1);
    assert!(!other.exists());

    // Listed: exists and harmless.
    let l = genesys(&s, &a, dir.path(), &["decoy", "list", "--format", "json"]);
    assert_eq!(l.code, 0, "{}{}", l.stdout, l.stderr);
    assert_eq!(l.doc()[0]["harmless"], true);

    // Rotated to stdout: exactly the new secret, and the decoy is not used to check it.
    let rot = genesys(
        &s,
        &a,
        dir.path(),
        &["decoy", "rotate", "--client-id", &id, "--secret-stdout"],
    );
    assert_eq!(rot.code, 0, "{}", rot.stderr);
    let new = s.world().client(&id).unwrap().secret.clone();
    assert_ne!(new, secret);
    assert_eq!(rot.stdout, format!("{new}\n"));
    assert!(!rot.stderr.contains(&new));
    assert!(s
        .requests()
        .iter()
        .all(|q| q.token_client().as_deref() != Some(id.as_str())));
}

#[test]
fn decoy_list_flags_missing_and_privileged_decoys() {
    let (s, a) = server(|_, _| None);
    let ok = client(
        &s,
        51,
        "Reporting Export",
        "r-view",
        json!({"accessTokenValiditySeconds": 300}),
    );
    let bad = client(
        &s,
        52,
        "Legacy Sync",
        "r-edit",
        json!({"accessTokenValiditySeconds": 300}),
    );
    let gone = client_id(53);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        format!("[genesys]\ndecoy_client_ids = [\"{ok}\", \"{bad}\", \"{gone}\"]\n"),
    )
    .unwrap();
    let r = genesys(&s, &a, dir.path(), &["decoy", "list", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.doc();
    let by = |id: &str| {
        doc.as_array()
            .unwrap()
            .iter()
            .find(|d| d["client_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&ok)["harmless"], true);
    assert_eq!(by(&bad)["harmless"], false);
    assert!(by(&bad)["problems"]
        .to_string()
        .contains("more than read-only"));
    assert_eq!(by(&gone)["exists"], false);
    let t = genesys(&s, &a, dir.path(), &["decoy", "list"]);
    assert!(
        t.stdout.contains("missing") && t.stdout.contains("NOT harmless"),
        "{}",
        t.stdout
    );
}

#[cfg(unix)]
#[test]
fn rotate_gives_the_new_secret_to_the_command_on_stdin_only() {
    use std::os::unix::fs::PermissionsExt;
    let (s, a) = server(|_, _| None);
    let id = client(&s, 61, "Prod-Billing", "r-view", json!({}));
    let old = genesys_secret(61);
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("store.sh");
    std::fs::write(
        &hook,
        "#!/bin/sh\ncat > \"$1\"\nenv > \"$2\"\necho \"$0 $*\" > \"$3\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (got, env, argv) = (
        dir.path().join("got"),
        dir.path().join("env"),
        dir.path().join("argv"),
    );
    let audit_log = dir.path().join("audit.jsonl");
    let r = genesys(
        &s,
        &a,
        dir.path(),
        &[
            "rotate",
            "--client-id",
            &id,
            "--audit-log",
            audit_log.to_str().unwrap(),
            "--to-command",
            hook.to_str().unwrap(),
            got.to_str().unwrap(),
            env.to_str().unwrap(),
            argv.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.world().client(&id).unwrap().secret.clone();
    assert_ne!(new, old);
    assert_eq!(
        std::fs::read_to_string(&got).unwrap(),
        format!("{new}\n"),
        "on stdin"
    );
    let env_text = std::fs::read_to_string(&env).unwrap();
    let argv_text = std::fs::read_to_string(&argv).unwrap();
    assert!(
        !env_text.contains("LEAKGATE_GENESYS_ADMIN_"),
        "the hook gets no admin credentials"
    );
    assert!(
        r.stderr.contains("one secret per OAuth client"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("confirmed"), "{}", r.stderr);
    // Proven with a token request, the token deleted.
    let confirms: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|q| q.basic() == Some((id.clone(), new.clone())))
        .collect();
    assert_eq!(confirms.len(), 1);
    assert_eq!(s.world().live_tokens(&id), 0);
    let log = std::fs::read_to_string(&audit_log).unwrap();
    for step in [
        "\"get_client\"",
        "\"rotate\"",
        "\"handover\"",
        "\"confirm_secret\"",
    ] {
        assert!(log.contains(step), "{step}: {log}");
    }
    assert_no_secret(&s, &a, &[&r.stdout, &r.stderr, &log, &env_text, &argv_text]);
}

#[test]
fn rotate_refuses_decoys_protected_clients_and_the_admin_client() {
    let (s, a) = server(|_, _| None);
    let decoy = client(&s, 71, "Legacy CRM", "r-view", json!({}));
    let protected = client(&s, 72, "Prod-Core", "r-view", json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        format!("[genesys]\ndecoy_client_ids = [\"{decoy}\"]\nprotected_client_ids = [\"{protected}\"]\n"),
    )
    .unwrap();
    let audit_log = dir.path().join("audit.jsonl");
    for (id, why) in [
        (&decoy, "decoy rotate"),
        (&protected, "--force"),
        (&a.0, "admin client"),
    ] {
        let log = audit_log.to_str().unwrap();
        let args = [
            "rotate",
            "--client-id",
            id,
            "--secret-stdout",
            "--audit-log",
            log,
        ];
        let r = genesys(&s, &a, dir.path(), &args);
        assert_eq!(r.code, 2, "{id}");
        assert!(r.stderr.contains(why), "{}", r.stderr);
    }
    let refusals = std::fs::read_to_string(&audit_log).unwrap();
    let protected_lines = refusals.matches("\"outcome\":\"protected\"").count();
    assert_eq!(protected_lines, 3, "every refusal is recorded: {refusals}");
    assert!(
        s.requests().iter().all(|q| !q.path.ends_with("/secret")),
        "nothing rotated"
    );
    let forced = |extra: &[&str]| {
        let args = [&["rotate", "--client-id", &protected, "--force"], extra].concat();
        genesys(&s, &a, dir.path(), &args)
    };
    // Without a hand-over it does not start.
    let r = forced(&[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--to-command"), "{}", r.stderr);
    // A hand-over that cannot happen stops it before anything changes.
    let taken = dir.path().join("taken.secret");
    std::fs::write(&taken, "keep\n").unwrap();
    let r = forced(&["--secret-out", taken.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing was rotated"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep\n");
    let missing = dir.path().join("no-such-hook");
    let r = forced(&["--to-command", missing.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
    assert!(
        s.requests().iter().all(|q| !q.path.ends_with("/secret")),
        "nothing rotated"
    );
    assert_eq!(
        s.world().client(&protected).unwrap().secret,
        genesys_secret(72)
    );
    // Forced, to a file.
    let out = dir.path().join("core.secret");
    let r = forced(&["--secret-out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = s.world().client(&protected).unwrap().secret.clone();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("{new}\n"));
    assert_no_secret(&s, &a, &[&r.stdout, &r.stderr]);
}

#[test]
fn server_text_echoing_a_secret_is_never_shown() {
    let (s, a) = server(|_, _| None);
    // A hostile or broken org: names and descriptions carrying the admin secret or the
    // client's own secret, a role named with the admin secret.
    let own = genesys_secret(81);
    let id = client(
        &s,
        81,
        &a.1,
        "r-echo",
        json!({"description": format!("sync job, secret {own} inside")}),
    );
    {
        let mut w = s.world();
        w.add_role("r-echo", &format!("role {}", a.1), &["routing:queue:view"]);
        let c = w.client_mut(&id).unwrap();
        c.name = format!("Prod-{own}");
    }
    let other = client(&s, 82, &format!("Dev {}", a.1), "r-view", json!({}));
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "text"] {
        let r = genesys(&s, &a, dir.path(), &["audit", "--format", format]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(&id) && r.stdout.contains(&other));
        assert_no_secret(&s, &a, &[&r.stdout, &r.stderr]);
    }
}
