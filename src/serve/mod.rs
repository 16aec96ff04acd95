//! `leakgate serve`: the GitHub secret-scanning response service.
//!
//! - Intake ([`intake`]): `POST /webhook` checks `X-Hub-Signature-256` over the raw body
//!   ([`signature`]) before reading it, records the delivery in the durable queue ([`store`])
//!   and answers 202 at once; `ping` and other events are acknowledged. `GET /healthz`,
//!   `/readyz` and `/metrics` ([`metrics`]) serve operations.
//! - Workers ([`worker`]) take due alerts from the queue and process them on blocking threads:
//!   GitHub through [`alerts::AlertApi`], Genesys through the verifier of [`crate::verify`].
//!   Transient failures are queued again with backoff, up to a bound.
//! - Shutdown (SIGTERM, SIGINT) stops intake, lets in-flight work finish within a bound; what
//!   is left is resumed by the next start.
//!
//! The library never prints: the caller gives the log its writer and prints the bound address.

pub mod alerts;
mod intake;
pub mod log;
pub mod metrics;
pub mod signature;
pub mod store;
mod worker;

pub use alerts::{AlertApi, AlertInfo, AlertLocation, ApiError, ApiFactory, Author};
pub use log::{LogFormat, Logger};
pub use signature::WebhookSecret;

use crate::matcher::Matcher;
use crate::verify::notify::Notifier;
use crate::verify::{VerifyError, VerifyOptions};
use metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{AlertState, Store, StoreError};

/// The path GitHub delivers webhooks to.
pub const WEBHOOK_PATH: &str = "/webhook";

/// What the service decides by configuration rather than per alert.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// GitHub custom pattern names (secret types) that hold Genesys client secrets.
    pub custom_patterns: Vec<String>,
}

/// The body notices are posted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFormat {
    /// `{"text": ...}`.
    Slack,
    /// `{"text": ..., "event": ..., "repository": ..., ...}`.
    Json,
}

/// Everything the service needs, validated by the caller.
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub state: PathBuf,
    pub webhook_secret: WebhookSecret,
    /// The Genesys verifier's options: URL template, revoke policy and admin client, decoy
    /// and protected ids, audit log. Its `notify_webhook` is left unset: the service notifies.
    pub verify: VerifyOptions,
    pub policy: Policy,
    pub notify: Option<(String, NotifyFormat)>,
    /// The rules that pair a secret with its client id and region.
    pub matcher: Matcher,
    pub max_attempts: u32,
    pub workers: usize,
    pub max_body: usize,
    pub request_timeout: Duration,
    pub max_connections: usize,
    /// Multiplies the queue's backoff (tests shrink it).
    pub time_scale: f64,
}

/// Errors that keep the service from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("binding {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the runtime")]
    Runtime(#[source] std::io::Error),
    #[error("serving HTTP")]
    Http(#[source] std::io::Error),
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// What the intake and the workers share.
pub(crate) struct Shared {
    store: Arc<Store>,
    metrics: Metrics,
    log: Logger,
    api: ApiFactory,
    verify: VerifyOptions,
    policy: Policy,
    matcher: Matcher,
    notifier: Option<(Notifier, NotifyFormat)>,
    webhook_secret: WebhookSecret,
    max_attempts: u32,
    time_scale: f64,
    /// Wakes a worker when an alert is queued.
    wake: tokio::sync::Notify,
}

impl Shared {
    /// Post a notice; `None` when no webhook is configured.
    fn notify(&self, text: &str, facts: &serde_json::Value) -> Option<Result<(), String>> {
        let (n, format) = self.notifier.as_ref()?;
        Some(match format {
            NotifyFormat::Slack => n.post(text),
            NotifyFormat::Json => {
                let mut body = facts.clone();
                body["text"] = text.into();
                n.post_json(&body)
            }
        })
    }
}

/// A bound service, not yet serving.
pub struct Service {
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    workers: usize,
    max_body: usize,
    request_timeout: Duration,
    max_connections: usize,
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Service {
    /// Open the state store (putting back in the queue what a stopped process held) and bind
    /// the address. `api` makes the GitHub client of each alert processed; `log` gets every
    /// log line. Nothing is served yet.
    pub fn bind(opts: ServeOptions, api: ApiFactory, log: Logger) -> Result<Self, ServeError> {
        let (store, resumed) = Store::open(&opts.state)?;
        let notifier = match &opts.notify {
            Some((url, format)) => Some((Notifier::new(url, &opts.verify)?, *format)),
            None => None,
        };
        let listener =
            std::net::TcpListener::bind(opts.listen).map_err(|source| ServeError::Bind {
                addr: opts.listen,
                source,
            })?;
        listener.set_nonblocking(true).map_err(ServeError::Http)?;
        if resumed > 0 {
            log.info(
                "resuming alerts a stopped process held",
                &[("alerts", &resumed)],
            );
        }
        let mut verify = opts.verify;
        verify.notify_webhook = None;
        Ok(Service {
            listener,
            shared: Arc::new(Shared {
                store: Arc::new(store),
                metrics: Metrics::default(),
                log,
                api,
                verify,
                policy: opts.policy,
                matcher: opts.matcher,
                notifier,
                webhook_secret: opts.webhook_secret,
                max_attempts: opts.max_attempts.max(1),
                time_scale: opts.time_scale,
                wake: tokio::sync::Notify::new(),
            }),
            workers: opts.workers.max(1),
            max_body: opts.max_body,
            request_timeout: opts.request_timeout,
            max_connections: opts.max_connections.max(1),
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until SIGTERM or SIGINT, then stop intake and give in-flight work up to the
    /// request timeout to finish.
    pub fn run(self) -> Result<(), ServeError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_io()
            .enable_time()
            .build()
            .map_err(ServeError::Runtime)?;
        let grace = self.request_timeout;
        let shared = self.shared.clone();
        let result = rt.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(self.listener).map_err(ServeError::Http)?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let mut workers = Vec::new();
            for _ in 0..self.workers {
                workers.push(tokio::spawn(work(shared.clone(), stop_rx.clone())));
            }
            let app = intake::router(
                shared.clone(),
                self.max_body,
                self.request_timeout,
                self.max_connections,
            );
            shared.log.info("serving", &[("workers", &self.workers)]);
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await;
            shared
                .log
                .info("stopping: intake closed, finishing in-flight work", &[]);
            let _ = stop_tx.send(true);
            let all = futures_join(workers);
            if tokio::time::timeout(grace, all).await.is_err() {
                shared.log.warn(
                    "in-flight work did not finish in time; it resumes at the next start",
                    &[],
                );
            }
            served.map_err(ServeError::Http)
        });
        rt.shutdown_timeout(Duration::from_millis(100));
        self.shared.log.info("stopped", &[]);
        result
    }
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// One worker: take the alert due first, process it on a blocking thread, record how it
/// ended; sleep until the next is due or one is queued; stop when told.
async fn work(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let s = shared.clone();
        let job = tokio::task::spawn_blocking(move || s.store.claim_due(now_ms())).await;
        let job = match job {
            Ok(Ok(j)) => j,
            Ok(Err(e)) => {
                shared
                    .log
                    .error("state database", &[("reason", &error_chain(&e))]);
                None
            }
            Err(_) => None,
        };
        if let Some(job) = job {
            let s = shared.clone();
            let _ = tokio::task::spawn_blocking(move || finish_job(&s, &job)).await;
            continue;
        }
        let s = shared.clone();
        let next = tokio::task::spawn_blocking(move || s.store.next_due_ms())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let wait = next.map_or(Duration::from_secs(5), |t| {
            Duration::from_millis(t.saturating_sub(now_ms()).clamp(0, 5000) as u64)
        });
        tokio::select! {
            () = shared.wake.notified() => {},
            () = tokio::time::sleep(wait) => {},
            _ = stop.changed() => {},
        }
    }
}

/// Process one claimed alert and record the end of the attempt.
fn finish_job(shared: &Shared, job: &store::Job) {
    let key = &job.key;
    shared.log.info(
        "processing alert",
        &[("alert", key), ("attempt", &(job.attempts + 1))],
    );
    let attempt = worker::process(shared, job);
    let now = now_ms();
    let latency = Duration::from_millis(now.saturating_sub(job.received_ms).max(0) as u64);
    let recorded = match &attempt {
        worker::Attempt::Done(outcome) => {
            shared.metrics.finished(false, latency);
            shared
                .log
                .info("alert done", &[("alert", key), ("outcome", outcome)]);
            shared.store.finish(key, AlertState::Done, outcome, now)
        }
        worker::Attempt::NeedsPerson(outcome) => {
            shared.metrics.finished(true, latency);
            shared.log.warn(
                "alert left for a person",
                &[("alert", key), ("outcome", outcome)],
            );
            shared
                .store
                .finish(key, AlertState::NeedsPerson, outcome, now)
        }
        worker::Attempt::Retry { reason, after } => {
            if job.attempts + 1 >= shared.max_attempts {
                let outcome = format!("gave up after {} attempts: {reason}", job.attempts + 1);
                shared.metrics.finished(true, latency);
                shared.log.warn(
                    "alert left for a person",
                    &[("alert", key), ("outcome", &outcome)],
                );
                shared
                    .store
                    .finish(key, AlertState::NeedsPerson, &outcome, now)
            } else {
                shared.metrics.retry();
                let wait = worker::backoff(job.attempts, *after, shared.time_scale);
                shared.log.warn(
                    "alert queued again",
                    &[
                        ("alert", key),
                        ("reason", reason),
                        ("retry_in_ms", &wait.as_millis()),
                    ],
                );
                shared
                    .store
                    .retry(key, now + wait.as_millis() as i64, reason)
            }
        }
    };
    if let Err(e) = recorded {
        shared.log.error(
            "state database",
            &[("alert", key), ("reason", &error_chain(&e))],
        );
    }
}

/// An error and its sources, `: `-joined.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
