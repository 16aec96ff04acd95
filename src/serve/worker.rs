//! Processing one alert: fetch it and its locations, decide whether it is a Genesys secret,
//! find its client id and region with leakgate's own matcher on the file at the location,
//! then verify, contain (per policy, with every guard of `scan --revoke`) and re-check through
//! the Genesys verifier; resolve or comment the alert; notify; audit. Each step's outcome is
//! recorded, so an attempt resumed after a crash or a retry skips what is done.

use super::alerts::{AlertApi, AlertInfo, AlertLocation, ApiError};
use super::store::{AlertKey, Job, Step};
use super::{now_ms, Policy, Shared};
use crate::finding::{
    Commit, Finding, GitOrigin, RevocationStatus, RevokeAction, Verification, VerificationStatus,
};
use crate::providers::genesys;
use crate::verify::audit::{self, AuditAction, AuditLog, AuditOutcome, AuditRecord};
use crate::verify::{Place, Secret, Target, Verifier};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How one attempt ended.
#[derive(Debug)]
pub(super) enum Attempt {
    /// Finished; nothing more to do.
    Done(String),
    /// Finished, but a person must look.
    NeedsPerson(String),
    /// Try again later.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// What verification and containment concluded: recorded (it holds no secret) so the later
/// steps run on it without checking again.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Verdict {
    verification: VerificationStatus,
    revocation: Option<RevocationStatus>,
    action: Option<RevokeAction>,
    client_id: Option<String>,
    region: Option<String>,
    path: String,
    commit: Option<String>,
    author: Option<String>,
    alert_url: Option<String>,
    reason: Option<String>,
    /// An earlier attempt got as far as containment, and the credential is no longer live.
    resumed: bool,
    /// The secret is no Genesys secret, or no client id goes with it.
    kind: VerdictKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum VerdictKind {
    Checked,
    NotGenesys,
    NoClientId,
}

/// Process one alert; every error becomes an [`Attempt`].
pub(super) fn process(shared: &Shared, job: &Job) -> Attempt {
    let key = &job.key;
    let mut api = (shared.api)();
    match run(shared, &mut *api, key) {
        Ok(a) => a,
        Err(Failure::Api(ApiError::Transient {
            reason,
            retry_after,
        })) => Attempt::Retry {
            reason: format!("GitHub: {reason}"),
            after: retry_after,
        },
        Err(Failure::Api(ApiError::Permanent(reason))) => {
            Attempt::NeedsPerson(format!("GitHub: {reason}"))
        }
        Err(Failure::Store(e)) => Attempt::Retry {
            reason: format!("state database: {e}"),
            after: None,
        },
    }
}

enum Failure {
    Api(ApiError),
    Store(super::store::StoreError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<super::store::StoreError> for Failure {
    fn from(e: super::store::StoreError) -> Self {
        Failure::Store(e)
    }
}

fn run(shared: &Shared, api: &mut dyn AlertApi, key: &AlertKey) -> Result<Attempt, Failure> {
    let store = &shared.store;
    let verdict = match store.step(key, Step::Verified)? {
        Some((_, Some(detail))) => serde_json::from_str::<Verdict>(&detail).ok(),
        _ => None,
    };
    let verdict = match verdict {
        Some(v) => v,
        None => match check(shared, api, key)? {
            Checked::Verdict(v) => {
                let detail = serde_json::to_string(&v).unwrap_or_default();
                store.set_step(
                    key,
                    Step::Verified,
                    &status_name(v.verification),
                    Some(&detail),
                    now_ms(),
                )?;
                if let Some(r) = v.revocation {
                    store.set_step(key, Step::Contained, &status_name(r), None, now_ms())?;
                }
                *v
            }
            Checked::Stop(a) => return Ok(a),
        },
    };
    report(shared, api, key, &verdict)
}

enum Checked {
    Verdict(Box<Verdict>),
    Stop(Attempt),
}

/// Fetch, pair, verify and contain.
fn check(shared: &Shared, api: &mut dyn AlertApi, key: &AlertKey) -> Result<Checked, Failure> {
    let alert = api.alert(key)?;
    if alert.state != "open" {
        return Ok(Checked::Stop(Attempt::Done(format!(
            "alert is {}: nothing to do",
            plain(&alert.state)
        ))));
    }
    let base = |kind, path: String| Verdict {
        verification: VerificationStatus::Skipped,
        revocation: None,
        action: None,
        client_id: None,
        region: None,
        path,
        commit: None,
        author: None,
        alert_url: alert.html_url.clone(),
        reason: None,
        resumed: false,
        kind,
    };
    if !is_genesys(&shared.policy, &alert) {
        return Ok(Checked::Verdict(Box::new(base(
            VerdictKind::NotGenesys,
            String::new(),
        ))));
    }
    let locations = api.locations(key)?;
    let mut found = None;
    let mut first_path = String::new();
    for loc in locations.iter().filter(|l| l.blob_sha.is_some()).take(5) {
        if first_path.is_empty() {
            first_path = loc.path.clone();
        }
        let data = api.file(key, loc)?;
        if let Some(f) = paired_finding(shared, loc, &data, &alert.secret) {
            found = Some((f, loc.clone()));
            break;
        }
    }
    shared.store.set_step(
        key,
        Step::Fetched,
        if found.is_some() {
            "paired"
        } else {
            "unpaired"
        },
        None,
        now_ms(),
    )?;
    let Some((mut finding, loc)) = found else {
        let mut v = base(VerdictKind::NoClientId, first_path);
        v.reason = Some(
            "no Genesys client id found with the secret in the file at the alert's location".into(),
        );
        return Ok(Checked::Verdict(Box::new(v)));
    };
    let author = match loc.commit_sha.as_deref() {
        Some(c) => Some(api.author(key, c)?),
        None => None,
    };
    if let (Some(c), Some(a)) = (
        loc.commit_sha.as_deref().and_then(|c| c.parse().ok()),
        &author,
    ) {
        finding.git = Some(GitOrigin {
            commit: Some(Commit {
                id: c,
                author: a.name.clone(),
                email: a.shown(),
                date: String::new(),
            }),
            ..GitOrigin::default()
        });
    }
    let containing = shared.verify.revoke.is_some();
    let resumed = containing && shared.store.step(key, Step::Containing)?.is_some();
    if containing && !resumed {
        shared
            .store
            .set_step(key, Step::Containing, "started", None, now_ms())?;
    }
    let mut verifier = match Verifier::new(shared.verify.clone()) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Checked::Stop(Attempt::Retry {
                reason: format!("verifier: {e}"),
                after: None,
            }))
        }
    };
    let mut findings = vec![finding];
    verifier.run(&mut findings);
    for w in verifier.finish().warnings {
        shared
            .log
            .warn("verifier warning", &[("alert", key), ("warning", &w)]);
    }
    let f = &findings[0];
    let verification = f
        .verification
        .clone()
        .unwrap_or_else(|| crate::verify::skipped("the verifier attached no result".into()));
    shared.metrics.verification(verification.status);
    if let Some(r) = &f.revocation {
        shared.metrics.revocation(r.status);
    }
    if matches!(
        verification.status,
        VerificationStatus::Indeterminate | VerificationStatus::RateLimited
    ) {
        // Nothing was contained in this attempt (no conclusion, no admin call): the marker
        // written for it goes, unless an earlier, interrupted attempt left it.
        if containing && !resumed {
            shared.store.clear_step(key, Step::Containing)?;
        }
        return Ok(Checked::Stop(Attempt::Retry {
            reason: format!(
                "Genesys: {}",
                verification.reason.as_deref().unwrap_or("no conclusion")
            ),
            after: None,
        }));
    }
    let pair = f.pair.as_ref();
    Ok(Checked::Verdict(Box::new(Verdict {
        verification: verification.status,
        revocation: f.revocation.as_ref().map(|r| r.status),
        action: f.revocation.as_ref().map(|r| r.action),
        client_id: pair.and_then(|p| p.id.clone()),
        region: verification.region.clone(),
        path: f.path.clone(),
        commit: loc.commit_sha.clone(),
        author: author.map(|a| a.shown()),
        alert_url: alert.html_url.clone(),
        reason: f
            .revocation
            .as_ref()
            .and_then(|r| r.reason.clone())
            .or(verification.reason.clone()),
        resumed,
        kind: VerdictKind::Checked,
    })))
}

/// The alert is a Genesys secret: its type is a configured custom pattern, or the secret has
/// the Genesys secret's shape.
fn is_genesys(policy: &Policy, alert: &AlertInfo) -> bool {
    let named = |n: &str| {
        policy
            .custom_patterns
            .iter()
            .any(|p| p.trim().eq_ignore_ascii_case(n.trim()))
    };
    named(&alert.secret_type)
        || alert.secret_type_display_name.as_deref().is_some_and(named)
        || genesys::is_client_secret(alert.secret.expose())
}

/// The finding for the alert's secret in `data`, when the Genesys provider paired it with a
/// client id.
fn paired_finding(
    shared: &Shared,
    loc: &AlertLocation,
    data: &[u8],
    secret: &Secret,
) -> Option<Finding> {
    shared.matcher.scan(&loc.path, data).into_iter().find(|f| {
        f.secret == secret.expose()
            && f.pair
                .as_ref()
                .is_some_and(|p| p.verify.as_deref() == Some(genesys::VERIFIER) && p.id.is_some())
    })
}

/// What the alert gets, what a person is told, and how the attempt ends.
fn report(
    shared: &Shared,
    api: &mut dyn AlertApi,
    key: &AlertKey,
    v: &Verdict,
) -> Result<Attempt, Failure> {
    let client = v.client_id.as_deref().unwrap_or("?");
    let region = v.region.as_deref().unwrap_or("an unknown region");
    let action = v.action.map_or("contain", RevokeAction::as_str);
    let (comment, resolve, notify, end): (Option<String>, bool, bool, Attempt) = match (v.kind, v.verification, v.revocation) {
        (VerdictKind::NotGenesys, ..) => (None, false, false, Attempt::Done("not a Genesys secret".into())),
        (VerdictKind::NoClientId, ..) => (
            Some("leakgate: this looks like a Genesys Cloud client secret, but no client id was found with it, so it was not checked. Left for a person.".into()),
            false,
            false,
            Attempt::NeedsPerson("no client id found".into()),
        ),
        (_, VerificationStatus::Active, Some(RevocationStatus::Revoked)) => (
            Some(format!("leakgate: the Genesys Cloud OAuth client {client} in {region} was live; action taken: {action} ({}). Re-checked: the leaked secret no longer works.", done_words(v.action))),
            true,
            true,
            Attempt::Done("contained and resolved".into()),
        ),
        (_, VerificationStatus::Active, Some(RevocationStatus::DryRun)) => (
            Some(format!("leakgate (dry run): the Genesys Cloud OAuth client {client} in {region} is live; it would have been contained ({action}). Nothing was changed; rotate the secret.")),
            false,
            true,
            Attempt::NeedsPerson("live; dry run".into()),
        ),
        (_, VerificationStatus::Active, Some(RevocationStatus::Protected)) => (
            Some(format!("leakgate: the Genesys Cloud OAuth client {client} in {region} is live but protected by configuration; it was not contained. Rotate the secret now.")),
            false,
            true,
            Attempt::NeedsPerson("live; protected client".into()),
        ),
        (_, VerificationStatus::Active, Some(RevocationStatus::RevokeFailed | RevocationStatus::NotAttempted)) => (
            Some(format!("leakgate: the Genesys Cloud OAuth client {client} in {region} is live and containment ({action}) FAILED: {}. Act now.", v.reason.as_deref().unwrap_or("unknown reason"))),
            false,
            true,
            Attempt::NeedsPerson("live; containment failed".into()),
        ),
        (_, VerificationStatus::Active, None) => (
            Some(format!("leakgate: the Genesys Cloud OAuth client {client} in {region} is live. Containment is off (verify only): rotate the secret now.")),
            false,
            true,
            Attempt::NeedsPerson("live; verify only".into()),
        ),
        (_, VerificationStatus::Invalid, _) if v.resumed => (
            Some(format!("leakgate: the Genesys Cloud OAuth client {client} no longer accepts this secret; an earlier attempt of this service was containing it (see the audit log). Left for a person to confirm.")),
            false,
            false,
            Attempt::NeedsPerson("no longer live after an interrupted containment".into()),
        ),
        (_, VerificationStatus::Invalid, _) => (
            Some(format!("leakgate: the secret was checked against the Genesys token endpoint for client {client} and is not live (invalid_client in every region tried). Not resolved: remove it from the history and close the alert if you agree.")),
            false,
            false,
            Attempt::Done("not live; commented".into()),
        ),
        (_, VerificationStatus::Decoy, _) => (
            None,
            false,
            true,
            Attempt::NeedsPerson("decoy client id: never contacted".into()),
        ),
        (_, VerificationStatus::Unconfirmed, _) => (
            Some(format!("leakgate: Genesys answered unauthorized_client for client {client}: the client exists but no token was issued, so the secret is not proven live. Nothing was revoked; left for a person.")),
            false,
            false,
            Attempt::NeedsPerson("unconfirmed".into()),
        ),
        (_, VerificationStatus::Skipped | VerificationStatus::Indeterminate | VerificationStatus::RateLimited, _) => (
            Some(format!("leakgate: client {client} was not checked ({}). Left for a person.", v.reason.as_deref().unwrap_or("skipped"))),
            false,
            false,
            Attempt::NeedsPerson("not checked".into()),
        ),
    };
    if let Some(text) = &comment {
        if resolve {
            if shared.store.step(key, Step::Resolved)?.is_none() {
                let result = api.resolve(key, text);
                audit_alert(
                    shared,
                    key,
                    v,
                    AuditAction::AlertResolve,
                    result.is_ok(),
                    None,
                );
                result?;
                shared
                    .store
                    .set_step(key, Step::Resolved, "ok", None, now_ms())?;
            }
        } else if shared.store.step(key, Step::Commented)?.is_none() {
            // GitHub takes a comment only when an alert is resolved: the note of an alert left
            // open goes to the audit log, the service log and the notice.
            audit_alert(shared, key, v, AuditAction::AlertNote, true, Some(text));
            shared
                .log
                .info("alert left open", &[("alert", key), ("note", text)]);
            shared
                .store
                .set_step(key, Step::Commented, "noted", Some(text), now_ms())?;
        }
    }
    // Every alert left open carries a note for a person: the notice brings it to them.
    let notify = notify || comment.is_some();
    if notify && shared.store.step(key, Step::Notified)?.is_none() {
        let text = notice(key, v, comment.as_deref());
        let outcome = match shared.notify(&text, &notice_json(key, v)) {
            Some(Err(e)) => {
                shared
                    .log
                    .warn("notice not delivered", &[("alert", key), ("reason", &e)]);
                "failed"
            }
            Some(Ok(())) => "ok",
            None => "off",
        };
        shared
            .store
            .set_step(key, Step::Notified, outcome, None, now_ms())?;
    }
    Ok(end)
}

fn done_words(action: Option<RevokeAction>) -> &'static str {
    match action {
        Some(RevokeAction::Rotate) => "its secret was regenerated",
        Some(RevokeAction::Delete) => "the client was deleted",
        _ => "the client was disabled",
    }
}

/// The notice's text: for a containment attempt, the Genesys provider's own message.
fn notice(key: &AlertKey, v: &Verdict, note: Option<&str>) -> String {
    let client = v.client_id.clone().unwrap_or_default();
    let place = Place {
        path: v.path.clone(),
        commit: v.commit.as_deref().and_then(|c| c.parse().ok()),
        email: v.author.clone(),
    };
    let head = match (v.verification, v.revocation, v.action) {
        (VerificationStatus::Active, Some(status), Some(action))
            if matches!(status, RevocationStatus::Revoked | RevocationStatus::RevokeFailed) =>
        {
            let target = Target {
                client_id: client,
                secret: Secret::new(String::new()),
                hints: Vec::new(),
                fingerprint: None,
                rule: None,
                places: vec![place],
            };
            let verification = Verification {
                status: v.verification,
                region: v.region.clone(),
                org: None,
                client_name: None,
                checked_at: String::new(),
                reason: None,
            };
            let revocation = crate::verify::revocation(action, status, v.reason.clone());
            genesys::notice::message(
                &target,
                v.region.as_deref().unwrap_or("an unknown region"),
                &verification,
                &revocation,
                action,
            )
        }
        (VerificationStatus::Decoy, ..) => format!(
            "leakgate: a decoy Genesys Cloud client id ({client}) was leaked in {}{}: someone copied a planted credential. It was never contacted.",
            v.path,
            by(v)
        ),
        _ => format!(
            "{} Found in {}{}.",
            note.unwrap_or("leakgate: a Genesys Cloud secret alert needs a person."),
            v.path,
            by(v)
        ),
    };
    format!(
        "{head} GitHub alert {key}{}",
        v.alert_url
            .as_deref()
            .map(|u| format!(": {u}"))
            .unwrap_or_default()
    )
}

fn by(v: &Verdict) -> String {
    let mut s = String::new();
    if let Some(c) = &v.commit {
        s.push_str(&format!(" at commit {}", &c[..c.len().min(12)]));
    }
    if let Some(a) = &v.author {
        s.push_str(&format!(" by {a}"));
    }
    s
}

/// The generic JSON notice: the message and its facts.
fn notice_json(key: &AlertKey, v: &Verdict) -> serde_json::Value {
    serde_json::json!({
        "event": "leakgate.secret_scanning_alert",
        "repository": format!("{}/{}", key.owner, key.repo),
        "alert_number": key.number,
        "alert_url": v.alert_url,
        "client_id": v.client_id,
        "region": v.region,
        "verification": v.verification,
        "revocation": v.revocation,
        "action": v.action,
        "path": v.path,
        "commit": v.commit,
        "author": v.author,
    })
}

/// An audit line for an alert step (no secret: the client id and the alert's name).
fn audit_alert(
    shared: &Shared,
    key: &AlertKey,
    v: &Verdict,
    action: AuditAction,
    ok: bool,
    note: Option<&str>,
) {
    let Some(path) = &shared.verify.audit_log else {
        return;
    };
    let detail = Some(match note {
        Some(n) => format!("alert {key}: {n}"),
        None => format!("alert {key}"),
    });
    let rec = AuditRecord {
        time: audit::now_rfc3339(),
        fingerprint: None,
        rule: None,
        client_id: v.client_id.as_deref().unwrap_or(""),
        region: v.region.as_deref(),
        action,
        http_status: None,
        outcome: if ok {
            AuditOutcome::Ok
        } else {
            AuditOutcome::Failed
        },
        dry_run: shared.verify.revoke.as_ref().is_some_and(|r| r.dry_run),
        detail,
    };
    if let Err(e) = AuditLog::open(path).and_then(|mut l| {
        l.write(&rec)
            .map_err(|source| crate::verify::VerifyError::Audit {
                path: path.clone(),
                source,
            })
    }) {
        shared.log.warn("audit log not written", &[("reason", &e)]);
    }
}

fn status_name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A value from GitHub shown only when it is a short plain word.
fn plain(s: &str) -> &str {
    if s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        s
    } else {
        "(not shown)"
    }
}

/// When an alert that failed `attempts` times is tried again: exponential from 2 s, capped
/// at 5 minutes, with full jitter, never sooner than the server asked; all scaled.
pub(super) fn backoff(attempts: u32, server: Option<Duration>, scale: f64) -> Duration {
    let exp = Duration::from_secs(2).saturating_mul(1u32 << attempts.min(8));
    let cap = exp.min(Duration::from_secs(300));
    let jittered = cap.mul_f64(0.5 + fastrand::f64() * 0.5);
    jittered
        .max(server.unwrap_or(Duration::ZERO))
        .mul_f64(scale)
}

#[cfg(test)]
mod tests {
    use super::super::alerts::Author;
    use super::super::store::Store;
    use super::super::{LogFormat, Logger, Policy, Shared, WebhookSecret};
    use super::*;
    use crate::verify::{UrlTemplate, VerifyOptions};
    use std::sync::{Arc, Mutex};

    /// Calls made, by name.
    type Calls = Arc<Mutex<Vec<&'static str>>>;

    struct Fake {
        calls: Calls,
        secret: String,
        file: String,
    }

    impl AlertApi for Fake {
        fn alert(&mut self, _: &AlertKey) -> Result<AlertInfo, ApiError> {
            self.calls.lock().unwrap().push("alert");
            Ok(AlertInfo {
                state: "open".into(),
                secret_type: "other".into(),
                secret_type_display_name: None,
                secret: Secret::new(self.secret.clone()),
                html_url: None,
            })
        }
        fn locations(&mut self, _: &AlertKey) -> Result<Vec<AlertLocation>, ApiError> {
            self.calls.lock().unwrap().push("locations");
            Ok(vec![AlertLocation {
                path: "app.env".into(),
                blob_sha: Some("b".into()),
                commit_sha: None,
            }])
        }
        fn file(&mut self, _: &AlertKey, _: &AlertLocation) -> Result<Vec<u8>, ApiError> {
            self.calls.lock().unwrap().push("file");
            Ok(self.file.clone().into_bytes())
        }
        fn author(&mut self, _: &AlertKey, _: &str) -> Result<Author, ApiError> {
            Ok(Author::default())
        }
        fn resolve(&mut self, _: &AlertKey, _: &str) -> Result<(), ApiError> {
            self.calls.lock().unwrap().push("resolve");
            Ok(())
        }
    }

    fn shared(
        dir: &std::path::Path,
        secret: &str,
        file: &str,
        decoys: Vec<String>,
    ) -> (Shared, Calls) {
        let calls: Calls = Arc::default();
        let (store, _) = Store::open(&dir.join("s.db")).unwrap();
        // Nothing listens here: a request would fail, not reach anything.
        let mut verify = VerifyOptions::new(
            UrlTemplate::parse("http://127.0.0.1:9/{service}.{domain}").unwrap(),
        );
        verify.providers.genesys.decoy_client_ids = decoys;
        let (c, s, f) = (calls.clone(), secret.to_string(), file.to_string());
        let shared = Shared {
            store: Arc::new(store),
            metrics: Default::default(),
            log: Logger::new(LogFormat::Text, Box::new(std::io::sink())),
            api: Arc::new(move || {
                Box::new(Fake {
                    calls: c.clone(),
                    secret: s.clone(),
                    file: f.clone(),
                }) as Box<dyn AlertApi>
            }),
            verify,
            policy: Policy::default(),
            matcher: crate::Matcher::new(crate::rules::builtin(), &crate::Config::default())
                .unwrap(),
            notifier: None,
            webhook_secret: WebhookSecret::new("x").unwrap(),
            max_attempts: 3,
            time_scale: 1.0,
            wake: tokio::sync::Notify::new(),
        };
        (shared, calls)
    }

    fn job() -> Job {
        Job {
            key: AlertKey::new("acme", "app", 1).unwrap(),
            attempts: 0,
            received_ms: 0,
        }
    }

    // Built from parts: no secret-shaped literal in the sources.
    fn pair() -> (String, String) {
        let id = ["5c90a958", "7403", "4430", "ac66", "a78795e761d1"].join("-");
        let secret = ["Qx7mK2pLw9v", "Tn4rZs8yHb3", "cFd6gJk1ePa", "5uRq0iVo2"].concat() + "w";
        (id, secret)
    }

    #[test]
    fn not_genesys_is_done_without_reading_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (s, calls) = shared(dir.path(), "ghp_notgenesys", "", Vec::new());
        let a = process(&s, &job());
        assert!(
            matches!(a, Attempt::Done(ref o) if o.contains("not a Genesys")),
            "{a:?}"
        );
        assert_eq!(*calls.lock().unwrap(), ["alert"]);
    }

    #[test]
    fn decoy_is_left_for_a_person_and_a_resumed_job_skips_what_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = pair();
        let file = format!("GENESYS_CLOUD_CLIENT_ID={id}\nGENESYS_CLOUD_CLIENT_SECRET={secret}\n");
        let (s, calls) = shared(dir.path(), &secret, &file, vec![id.clone()]);
        let a = process(&s, &job());
        assert!(
            matches!(a, Attempt::NeedsPerson(ref o) if o.contains("decoy")),
            "{a:?}"
        );
        assert_eq!(*calls.lock().unwrap(), ["alert", "locations", "file"]);
        let (outcome, detail) = s.store.step(&job().key, Step::Verified).unwrap().unwrap();
        assert_eq!(outcome, "decoy");
        assert!(!detail.unwrap().contains(&secret), "no secret stored");
        // Again (a redelivery slipped through, or a restart): the verdict is reused.
        calls.lock().unwrap().clear();
        let a = process(&s, &job());
        assert!(matches!(a, Attempt::NeedsPerson(_)), "{a:?}");
        assert!(
            calls.lock().unwrap().is_empty(),
            "{:?}",
            calls.lock().unwrap()
        );
    }

    #[test]
    fn unreachable_genesys_is_retried() {
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = pair();
        let file = format!("GENESYS_CLOUD_REGION=eu-west-1\nGENESYS_CLOUD_CLIENT_ID={id}\nGENESYS_CLOUD_CLIENT_SECRET={secret}\n");
        let (mut s, _) = shared(dir.path(), &secret, &file, Vec::new());
        s.verify.revoke = Some(crate::verify::RevokeOptions {
            action: RevokeAction::Disable,
            dry_run: true,
            admin: None,
        });
        let a = process(&s, &job());
        assert!(
            matches!(a, Attempt::Retry { ref reason, .. } if reason.starts_with("Genesys")),
            "{a:?}"
        );
        assert!(s.store.step(&job().key, Step::Verified).unwrap().is_none());
        // No containment was tried: the next attempt is not taken for a resumed one.
        assert!(s
            .store
            .step(&job().key, Step::Containing)
            .unwrap()
            .is_none());
    }

    #[test]
    fn backoff_grows_is_capped_and_respects_the_server() {
        let d0 = backoff(0, None, 1.0);
        assert!(
            d0 >= Duration::from_secs(1) && d0 <= Duration::from_secs(2),
            "{d0:?}"
        );
        assert!(backoff(20, None, 1.0) <= Duration::from_secs(300));
        assert!(backoff(0, Some(Duration::from_secs(60)), 1.0) >= Duration::from_secs(60));
        assert!(backoff(3, None, 0.001) < Duration::from_millis(20));
    }
}
