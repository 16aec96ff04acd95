//! The GitHub REST client (`leakgate::github`) against the loopback stand-in
//! (`common::github`): every call, paging, retries and their classification, and that neither
//! the token nor an alert's secret reaches an error.

use crate::common::github::{blob_json, FakeGitHub, Response};
use crate::common::{genesys_secret, github_token};
use leakgate::github::{
    AlertState, ApiUrl, Author, GitHubApi, GitHubError, Location, RepoRef, Resolution, Retry,
    API_VERSION,
};
use leakgate::verify::{NetOptions, Secret};
use serde_json::json;
use std::time::Duration;

const REPO: &str = "octo-org/payments";
const ALERT_PATH: &str = "/repos/octo-org/payments/secret-scanning/alerts/7";
const ATTEMPTS: u32 = 3;

fn token() -> String {
    github_token("a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5")
}

/// A stand-in with one open alert (#7) for a Genesys-shaped secret.
fn setup() -> (FakeGitHub, GitHubApi, String) {
    let gh = FakeGitHub::start(&token());
    let secret = genesys_secret(4242);
    gh.add_alert(REPO, 7, "genesys_client_secret", &secret);
    let api = client(&gh.url(), &token());
    (gh, api, secret)
}

fn client(url: &str, token: &str) -> GitHubApi {
    let net = NetOptions {
        rate_per_sec: 0.0,
        max_attempts: ATTEMPTS,
        time_scale: 0.001,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ..NetOptions::default()
    };
    GitHubApi::new(ApiUrl::parse(url).unwrap(), Secret::new(token), &net)
}

fn repo() -> RepoRef {
    RepoRef::parse(REPO).unwrap()
}

/// Neither the token nor the secret in the error's Display or Debug.
fn assert_clean(e: &GitHubError, secret: &str) {
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(!shown.contains(&token()), "token in {shown}");
        assert!(!shown.contains(secret), "secret in {shown}");
    }
}

#[test]
fn alert_is_fetched_with_the_documented_headers() {
    let (gh, mut api, secret) = setup();
    let alert = api.alert(&repo(), 7).unwrap();
    assert_eq!(alert.number, 7);
    assert_eq!(alert.state, AlertState::Open);
    assert_eq!(alert.resolution, None);
    assert_eq!(alert.secret_type, "genesys_client_secret");
    assert_eq!(
        alert.secret_type_display_name.as_deref(),
        Some("genesys_client_secret (custom pattern)")
    );
    assert_eq!(alert.secret, Secret::new(secret.as_str()));
    assert!(alert.html_url.unwrap().ends_with("/secret-scanning/7"));
    // The secret is never formatted.
    assert!(!format!("{:?}", alert.secret).contains(&secret));

    let reqs = gh.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", ALERT_PATH));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {}", token()).as_str())
    );
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some(API_VERSION));
    assert!(r.header("user-agent").unwrap().starts_with("leakgate/"));
}

#[test]
fn locations_follow_every_page_and_keep_other_types() {
    let (gh, mut api, _) = setup();
    let mut made = Vec::new();
    for i in 0..5u64 {
        let content = format!("line\nSECRET={i}\n");
        made.push(gh.add_commit_location(
            REPO,
            7,
            &format!("cfg/{i}.env"),
            2,
            content.as_bytes(),
            ("Dev", None),
        ));
    }
    gh.add_location(
        REPO,
        7,
        "issue_comment",
        json!({"issue_comment_url": format!("{}/repos/{REPO}/issues/comments/9", gh.url())}),
    );
    gh.add_location(REPO, 7, "Weird Type!", json!({}));
    gh.page_size(2);
    let locs = api.locations(&repo(), 7).unwrap();
    assert_eq!(locs.len(), 7);
    for (i, (blob, commit)) in made.iter().enumerate() {
        let Location::Commit(c) = &locs[i] else {
            panic!("{:?}", locs[i])
        };
        assert_eq!(c.path, format!("cfg/{i}.env"));
        assert_eq!((c.start_line, c.end_line), (2, 2));
        assert_eq!((&c.blob_sha, &c.commit_sha), (blob, commit));
    }
    assert_eq!(
        locs[5],
        Location::Other {
            kind: "issue_comment".into(),
            url: Some(format!("{}/repos/{REPO}/issues/comments/9", gh.url())),
        }
    );
    assert_eq!(
        locs[6],
        Location::Other {
            kind: "unknown".into(),
            url: None
        }
    );
    let pages: Vec<String> = gh.requests().iter().map(|r| r.query.clone()).collect();
    assert_eq!(pages.len(), 4, "{pages:?}");
    assert_eq!(pages[0], "per_page=100");
    assert!(pages[3].ends_with("page=4"), "{pages:?}");
}

#[test]
fn paging_is_capped_and_never_leaves_the_api_root() {
    let (gh, api, secret) = setup();
    for i in 0..6u64 {
        gh.add_commit_location(REPO, 7, &format!("f{i}"), 1, b"x", ("Dev", None));
    }
    gh.page_size(1);
    let mut api = api.max_pages(3);
    let e = api.locations(&repo(), 7).unwrap_err();
    assert!(
        matches!(e, GitHubError::TooManyPages { pages: 3, .. }),
        "{e}"
    );
    assert_eq!(e.retry(), Retry::Permanent);
    assert_eq!(gh.requests().len(), 3);
    assert_clean(&e, &secret);

    // A next link to another host is refused, not followed.
    let path = format!("{ALERT_PATH}/locations");
    gh.script(
        "GET",
        &path,
        [Response::json(200, json!([])).header(
            "Link",
            "<https://evil.example/api/v3/x?page=2>; rel=\"next\"",
        )],
    );
    let before = gh.requests().len();
    let e = api.locations(&repo(), 7).unwrap_err();
    assert!(matches!(e, GitHubError::OffHost { .. }), "{e}");
    assert_eq!(gh.requests().len(), before + 1);
}

#[test]
fn blobs_are_decoded_and_capped() {
    let (gh, api, _) = setup();
    let content: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let (blob, _) = gh.add_commit_location(REPO, 7, "bin", 1, &content, ("Dev", None));
    let mut api = api.max_blob_bytes(4096);
    let (small, _) = gh.add_commit_location(REPO, 7, "s", 1, b"hello\n", ("Dev", None));
    assert_eq!(api.blob(&repo(), &small).unwrap(), b"hello\n");
    let e = api.blob(&repo(), &blob).unwrap_err();
    assert!(
        matches!(e, GitHubError::TooLarge { limit: 4096, .. }),
        "{e}"
    );
    assert_eq!(e.retry(), Retry::Permanent);
    let mut api = api.max_blob_bytes(1 << 20);
    assert_eq!(api.blob(&repo(), &blob).unwrap(), content);

    // A size that does not match the content, or content that is not base64: errors.
    let sha = "ab".repeat(20);
    let path = format!("/repos/{REPO}/git/blobs/{sha}");
    let mut lying = blob_json(&sha, b"12345");
    lying["size"] = json!(4);
    let mut garbled = blob_json(&sha, b"12345");
    garbled["content"] = json!("!!!");
    gh.script(
        "GET",
        &path,
        [Response::json(200, lying), Response::json(200, garbled)],
    );
    for _ in 0..2 {
        let e = api.blob(&repo(), &sha).unwrap_err();
        assert!(matches!(e, GitHubError::BadAnswer { .. }), "{e}");
    }

    // A SHA that is not one is refused before anything is sent.
    let before = gh.requests().len();
    for bad in ["../../../../etc", "abc", &"g".repeat(40)] {
        let e = api.blob(&repo(), bad).unwrap_err();
        assert!(matches!(e, GitHubError::Invalid { .. }), "{e}");
    }
    assert_eq!(gh.requests().len(), before);
}

#[test]
fn commit_author_names_the_login_when_github_has_one() {
    let (gh, mut api, _) = setup();
    let (_, linked) = gh.add_commit_location(REPO, 7, "a", 1, b"x", ("Ada L.", Some("ada")));
    let (_, unlinked) = gh.add_commit_location(REPO, 7, "b", 1, b"x", ("Bob", None));
    assert_eq!(
        api.commit_author(&repo(), &linked).unwrap(),
        Author {
            name: "Ada L.".into(),
            login: Some("ada".into())
        }
    );
    assert_eq!(
        api.commit_author(&repo(), &unlinked).unwrap(),
        Author {
            name: "Bob".into(),
            login: None
        }
    );
    // A commit answer over its cap (a huge diff): the Git commit object gives the name.
    let huge = format!("[\"{}\"]", "x".repeat(9 << 20));
    gh.script(
        "GET",
        &format!("/repos/{REPO}/commits/{linked}"),
        [Response::text(200, &huge)],
    );
    assert_eq!(
        api.commit_author(&repo(), &linked).unwrap(),
        Author {
            name: "Ada L.".into(),
            login: None
        }
    );
    let last = gh.requests().pop().unwrap();
    assert_eq!(last.path, format!("/repos/{REPO}/git/commits/{linked}"));
}

#[test]
fn resolve_patches_state_resolution_and_comment() {
    let (gh, mut api, _) = setup();
    let alert = api
        .resolve(
            &repo(),
            7,
            Resolution::Revoked,
            Some("leakgate disabled the OAuth client"),
        )
        .unwrap();
    assert_eq!(alert.state, AlertState::Resolved);
    assert_eq!(alert.resolution, Some(Resolution::Revoked));
    let r = gh.requests().pop().unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("PATCH", ALERT_PATH));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"state": "resolved", "resolution": "revoked",
            "resolution_comment": "leakgate disabled the OAuth client"})
    );
    let model = gh.alert(REPO, 7).unwrap();
    assert_eq!(model.state, "resolved");
    assert_eq!(
        model.resolution_comment.as_deref(),
        Some("leakgate disabled the OAuth client")
    );

    // Resolutions GitHub does not let a client set are refused before sending.
    let before = gh.requests().len();
    let e = api
        .resolve(&repo(), 7, Resolution::PatternEdited, None)
        .unwrap_err();
    assert!(matches!(e, GitHubError::Invalid { .. }), "{e}");
    assert_eq!(gh.requests().len(), before);
}

#[test]
fn server_errors_are_retried_then_succeed_or_stay_transient() {
    let (gh, mut api, secret) = setup();
    gh.script(
        "GET",
        ALERT_PATH,
        [Response::empty(502), Response::empty(503)],
    );
    assert_eq!(api.alert(&repo(), 7).unwrap().number, 7);
    assert_eq!(gh.requests().len(), 3);

    gh.script(
        "GET",
        ALERT_PATH,
        (0..ATTEMPTS).map(|_| Response::empty(500)),
    );
    let e = api.alert(&repo(), 7).unwrap_err();
    assert!(matches!(e, GitHubError::Server { status: 500, .. }), "{e}");
    assert_eq!(e.retry(), Retry::Transient { after: None });
    assert_eq!(gh.requests().len(), 3 + ATTEMPTS as usize, "bounded");
    assert_clean(&e, &secret);
}

#[test]
fn rate_limits_are_transient_and_carry_the_wait() {
    let (gh, mut api, secret) = setup();
    // 429 with Retry-After: retried (the wait respected, scaled in tests), then given up.
    gh.script(
        "GET",
        ALERT_PATH,
        (0..ATTEMPTS).map(|_| Response::json(429, json!({})).header("Retry-After", "2")),
    );
    let e = api.alert(&repo(), 7).unwrap_err();
    assert!(
        matches!(e, GitHubError::RateLimited { status: 429, .. }),
        "{e}"
    );
    assert_eq!(
        e.retry(),
        Retry::Transient {
            after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(gh.requests().len(), ATTEMPTS as usize);
    assert_clean(&e, &secret);

    // A wait longer than the client will sleep ends the retries at once.
    gh.script(
        "GET",
        ALERT_PATH,
        [Response::json(429, json!({})).header("Retry-After", "3600")],
    );
    let before = gh.requests().len();
    let e = api.alert(&repo(), 7).unwrap_err();
    assert_eq!(
        e.retry(),
        Retry::Transient {
            after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(gh.requests().len(), before + 1);

    // 403 with the primary rate limit spent: the wait is until x-ratelimit-reset.
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    gh.script(
        "GET",
        ALERT_PATH,
        [
            Response::json(403, json!({"message": "API rate limit exceeded"}))
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", &reset.to_string()),
        ],
    );
    let e = api.alert(&repo(), 7).unwrap_err();
    assert!(
        matches!(e, GitHubError::RateLimited { status: 403, .. }),
        "{e}"
    );
    let Retry::Transient { after: Some(after) } = e.retry() else {
        panic!("{e:?}")
    };
    // A secondary rate limit may be a bare 403 that only says so: transient too.
    gh.script(
        "GET",
        ALERT_PATH,
        (0..ATTEMPTS).map(|_| {
            Response::json(
                403,
                json!({"message": "You have exceeded a secondary rate limit. Please wait."}),
            )
        }),
    );
    let e2 = api.alert(&repo(), 7).unwrap_err();
    assert!(
        matches!(e2, GitHubError::RateLimited { status: 403, .. }),
        "{e2}"
    );
    assert_eq!(e2.retry(), Retry::Transient { after: None });
    assert!(
        after > Duration::from_secs(590) && after <= Duration::from_secs(600),
        "{after:?}"
    );
}

#[test]
fn client_errors_are_permanent_and_never_show_the_token() {
    let (gh, _, secret) = setup();
    // A wrong token: the stand-in answers 401.
    let mut wrong = client(&gh.url(), &github_token("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
    let e = wrong.alert(&repo(), 7).unwrap_err();
    assert!(matches!(e, GitHubError::Status { status: 401, .. }), "{e}");
    assert_eq!(e.retry(), Retry::Permanent);
    assert_eq!(gh.requests().len(), 1, "401 is not retried");

    let mut api = client(&gh.url(), &token());
    let e = api.alert(&repo(), 8).unwrap_err();
    assert!(matches!(e, GitHubError::Status { status: 404, .. }), "{e}");
    assert_eq!(e.retry(), Retry::Permanent);
    gh.script(
        "PATCH",
        ALERT_PATH,
        [Response::json(422, json!({"message": token()}))],
    );
    let e = api
        .resolve(&repo(), 7, Resolution::Revoked, None)
        .unwrap_err();
    assert!(matches!(e, GitHubError::Status { status: 422, .. }), "{e}");
    assert_eq!(e.retry(), Retry::Permanent);
    assert_clean(&e, &secret);
    // 403 without rate-limit headers: a missing permission, permanent.
    gh.script(
        "GET",
        ALERT_PATH,
        [Response::json(
            403,
            json!({"message": "Resource not accessible"}),
        )],
    );
    assert_eq!(api.alert(&repo(), 7).unwrap_err().retry(), Retry::Permanent);
    // An unreachable API: transient.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut gone = client(&format!("http://127.0.0.1:{port}/api/v3"), &token());
    let e = gone.alert(&repo(), 7).unwrap_err();
    assert!(matches!(e, GitHubError::Transport { .. }), "{e}");
    assert_eq!(e.retry(), Retry::Transient { after: None });
    assert_clean(&e, &secret);
}

#[test]
fn hostile_answers_are_errors_not_panics() {
    let (gh, mut api, secret) = setup();
    let t = token();
    let deep = "[".repeat(100_000);
    let bodies: Vec<String> = vec![
        // Huge: over the alert answer's cap.
        format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20)),
        "not json at all".to_string(),
        deep,
        // Wrong types, some holding the secret or the token where a number belongs.
        json!({"number": secret, "state": "open", "secret_type": "t", "secret": secret})
            .to_string(),
        json!({"number": 7, "state": "open", "secret_type": "t", "secret": 5}).to_string(),
        json!({"number": 7, "state": ["open"], "secret_type": t, "secret": secret}).to_string(),
        json!({"number": 7, "state": "open", "secret_type": "t", "secret": secret,
            "resolution": {"x": t}})
        .to_string(),
        json!([1, 2, 3]).to_string(),
        String::new(),
    ];
    let n = bodies.len();
    gh.script(
        "GET",
        ALERT_PATH,
        bodies.iter().map(|b| Response::text(200, b)),
    );
    for i in 0..n {
        let e = api.alert(&repo(), 7).unwrap_err();
        assert!(
            matches!(
                e,
                GitHubError::BadAnswer { .. } | GitHubError::TooLarge { .. }
            ),
            "{i}: {e}"
        );
        assert_eq!(e.retry(), Retry::Permanent, "{i}: {e}");
        assert_clean(&e, &secret);
    }
    // Locations that are not what the API documents.
    let path = format!("{ALERT_PATH}/locations");
    let bad_locations = [
        json!({"not": "a list"}),
        json!([{"type": "commit"}]),
        json!([{"type": "commit", "details": {"path": "a", "start_line": "one", "end_line": 1,
            "blob_sha": "x", "commit_sha": "y"}}]),
        json!([{"type": "commit", "details": {"path": "a", "start_line": 1, "end_line": 1,
            "blob_sha": secret, "commit_sha": t}}]),
        json!([{"type": 5, "details": {}}]),
    ];
    gh.script(
        "GET",
        &path,
        bad_locations.iter().map(|v| Response::json(200, v.clone())),
    );
    for v in &bad_locations {
        let e = api.locations(&repo(), 7).unwrap_err();
        assert!(matches!(e, GitHubError::BadAnswer { .. }), "{v}: {e}");
        assert_clean(&e, &secret);
    }
}

#[test]
fn the_api_url_and_repository_are_checked_before_anything_is_sent() {
    for bad in [
        "http://github.example.com/api/v3",
        "http://10.0.0.1/api/v3",
        "https://user@github.example.com/api/v3",
        "file:///etc/passwd",
    ] {
        let e = ApiUrl::parse(bad).unwrap_err();
        assert!(matches!(e, GitHubError::ApiUrl(_)), "{bad}: {e}");
    }
    assert!(ApiUrl::parse("https://github.example.com/api/v3").is_ok());
    for bad in [
        "owner/../x",
        "owner/repo/extra",
        "owner%2f/x",
        "own er/x",
        "/x",
    ] {
        assert!(RepoRef::parse(bad).is_err(), "{bad}");
    }
    // The alert path is exactly the two validated segments.
    let (gh, mut api, _) = setup();
    let dotted = RepoRef::new("octo-org", "web.site_v2").unwrap();
    let _ = api.alert(&dotted, 1);
    assert_eq!(
        gh.requests()[0].path,
        "/repos/octo-org/web.site_v2/secret-scanning/alerts/1"
    );
}
