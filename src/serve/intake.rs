//! The HTTP side: `POST /webhook` and the operations endpoints, with a body-size limit (413),
//! a request timeout (408) and a limit on requests handled at once.

use super::store::{AlertKey, DeliveryKind, DeliveryOutcome};
use super::{now_ms, Shared, WEBHOOK_PATH};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// The actions of `secret_scanning_alert` that are acted on.
const ACTED_ON: [&str; 4] = ["created", "reopened", "validated", "publicly_leaked"];

pub(super) fn router(
    shared: Arc<Shared>,
    max_body: usize,
    timeout: Duration,
    max_connections: usize,
) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            max_connections,
        ))
        .with_state(shared)
}

fn answer(status: StatusCode, outcome: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        format!("{{\"outcome\":\"{outcome}\"}}\n"),
    )
        .into_response()
}

/// A header value shown in logs and stored only when it is plainly an id or a name.
fn plain_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    let ok = (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(v)
}

async fn webhook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    // The signature first: nothing of an unsigned body is read.
    let sig = headers
        .get("x-hub-signature-256")
        .map(axum::http::HeaderValue::as_bytes);
    if !shared.webhook_secret.verifies(&body, sig) {
        shared.metrics.delivery(DeliveryOutcome::BadSignature);
        shared.log.warn(
            "delivery refused: missing or wrong signature",
            &[(
                "delivery",
                &plain_header(&headers, "x-github-delivery").unwrap_or("?"),
            )],
        );
        return answer(StatusCode::UNAUTHORIZED, "bad_signature");
    }
    let (Some(delivery), Some(event)) = (
        plain_header(&headers, "x-github-delivery"),
        plain_header(&headers, "x-github-event"),
    ) else {
        shared.metrics.delivery(DeliveryOutcome::Malformed);
        return answer(StatusCode::BAD_REQUEST, "malformed");
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) else {
        shared.metrics.delivery(DeliveryOutcome::Malformed);
        shared
            .log
            .warn("delivery refused: not JSON", &[("delivery", &delivery)]);
        return answer(StatusCode::BAD_REQUEST, "malformed");
    };
    let action = payload["action"]
        .as_str()
        .filter(|a| a.len() <= 64 && a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let kind = match event {
        "ping" => DeliveryKind::Ping,
        "secret_scanning_alert" if action.is_some_and(|a| ACTED_ON.contains(&a)) => {
            let key = AlertKey::new(
                payload["repository"]["owner"]["login"]
                    .as_str()
                    .unwrap_or(""),
                payload["repository"]["name"].as_str().unwrap_or(""),
                payload["alert"]["number"].as_u64().unwrap_or(0),
            );
            let Some(k) = key else {
                shared.metrics.delivery(DeliveryOutcome::Malformed);
                shared.log.warn(
                    "delivery refused: no repository or alert number",
                    &[("delivery", &delivery)],
                );
                return answer(StatusCode::BAD_REQUEST, "malformed");
            };
            DeliveryKind::Alert(k)
        }
        _ => DeliveryKind::Ignored,
    };
    let (delivery, event, action) = (
        delivery.to_string(),
        event.to_string(),
        action.map(str::to_string),
    );
    let s = shared.clone();
    let k = kind.clone();
    let (d, e, a) = (delivery.clone(), event.clone(), action.clone());
    let recorded =
        tokio::task::spawn_blocking(move || s.store.accept(&d, &e, a.as_deref(), &k, now_ms()))
            .await;
    let outcome = match recorded {
        Ok(Ok(o)) => o,
        Ok(Err(err)) => {
            shared.log.error(
                "delivery not recorded",
                &[
                    ("delivery", &delivery),
                    ("reason", &super::error_chain(&err)),
                ],
            );
            return answer(StatusCode::SERVICE_UNAVAILABLE, "not_recorded");
        }
        Err(_) => return answer(StatusCode::SERVICE_UNAVAILABLE, "not_recorded"),
    };
    shared.metrics.delivery(outcome);
    let alert = match &kind {
        DeliveryKind::Alert(k) => k.to_string(),
        _ => String::new(),
    };
    shared.log.info(
        "delivery",
        &[
            ("delivery", &delivery),
            ("event", &event),
            ("action", &action.as_deref().unwrap_or("")),
            ("alert", &alert),
            ("outcome", &outcome.as_str()),
        ],
    );
    if outcome == DeliveryOutcome::Accepted {
        shared.wake.notify_one();
        answer(StatusCode::ACCEPTED, outcome.as_str())
    } else {
        answer(StatusCode::OK, outcome.as_str())
    }
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let s = shared.clone();
    let ok = tokio::task::spawn_blocking(move || s.store.writable(now_ms()))
        .await
        .unwrap_or(false);
    if ok {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "state store not writable\n",
        )
            .into_response()
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let s = shared.clone();
    let depth = tokio::task::spawn_blocking(move || s.store.queue_depth().ok())
        .await
        .ok()
        .flatten();
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        shared.metrics.render(depth),
    )
        .into_response()
}
