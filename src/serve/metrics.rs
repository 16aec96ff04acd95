//! `/metrics`: counters kept in memory since start, in the Prometheus text format.

use super::store::DeliveryOutcome;
use crate::finding::{RevocationStatus, VerificationStatus};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the delivery-to-finished latency histogram.
const BUCKETS: [f64; 11] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
];

const VERIFICATIONS: [VerificationStatus; 7] = [
    VerificationStatus::Active,
    VerificationStatus::Invalid,
    VerificationStatus::Indeterminate,
    VerificationStatus::RateLimited,
    VerificationStatus::Decoy,
    VerificationStatus::Skipped,
    VerificationStatus::Unconfirmed,
];

const REVOCATIONS: [RevocationStatus; 5] = [
    RevocationStatus::Revoked,
    RevocationStatus::RevokeFailed,
    RevocationStatus::Protected,
    RevocationStatus::DryRun,
    RevocationStatus::NotAttempted,
];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    deliveries: [AtomicU64; DeliveryOutcome::ALL.len()],
    verifications: [AtomicU64; VERIFICATIONS.len()],
    revocations: [AtomicU64; REVOCATIONS.len()],
    /// Attempts that ended in a retry.
    retries: AtomicU64,
    /// Alerts finished, by whether a person is needed.
    finished: [AtomicU64; 2],
    latency: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

fn status_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Metrics {
    pub fn delivery(&self, o: DeliveryOutcome) {
        let i = DeliveryOutcome::ALL
            .iter()
            .position(|x| *x == o)
            .unwrap_or(0);
        self.deliveries[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn verification(&self, s: VerificationStatus) {
        let i = VERIFICATIONS.iter().position(|x| *x == s).unwrap_or(0);
        self.verifications[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn revocation(&self, s: RevocationStatus) {
        let i = REVOCATIONS.iter().position(|x| *x == s).unwrap_or(0);
        self.revocations[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// An alert finished `latency` after its first delivery.
    pub fn finished(&self, needs_person: bool, latency: Duration) {
        self.finished[usize::from(needs_person)].fetch_add(1, Ordering::Relaxed);
        let secs = latency.as_secs_f64();
        let mut h = self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The text exposition, with the queue depth read now.
    pub fn render(&self, queue_depth: Option<u64>) -> String {
        let mut s = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let deliveries = DeliveryOutcome::ALL.iter().map(|o| o.as_str());
        let verifications = VERIFICATIONS.iter().map(status_name);
        let revocations = REVOCATIONS.iter().map(status_name);
        counters(
            &mut s,
            "deliveries_total",
            "Webhook deliveries received, by outcome.",
            "outcome",
            deliveries.zip(self.deliveries.iter().map(get)),
        );
        counters(
            &mut s,
            "verifications_total",
            "Credentials checked, by result.",
            "status",
            verifications.zip(self.verifications.iter().map(get)),
        );
        counters(
            &mut s,
            "revocations_total",
            "Containment attempts, by result.",
            "status",
            revocations.zip(self.revocations.iter().map(get)),
        );
        s.push_str("# HELP leakgate_retries_total Alert processing attempts that were queued again.\n# TYPE leakgate_retries_total counter\n");
        let _ = writeln!(s, "leakgate_retries_total {}", get(&self.retries));
        let finished = ["done", "needs_person"]
            .into_iter()
            .zip(self.finished.iter().map(get));
        counters(
            &mut s,
            "alerts_finished_total",
            "Alerts finished, done or left for a person.",
            "state",
            finished,
        );
        if let Some(d) = queue_depth {
            s.push_str("# HELP leakgate_queue_depth Alerts queued or being processed.\n# TYPE leakgate_queue_depth gauge\n");
            let _ = writeln!(s, "leakgate_queue_depth {d}");
        }
        let h = self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.push_str("# HELP leakgate_alert_latency_seconds Time from an alert's first delivery to its end.\n# TYPE leakgate_alert_latency_seconds histogram\n");
        for (b, n) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(s, "leakgate_alert_latency_seconds_bucket{{le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            s,
            "leakgate_alert_latency_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(s, "leakgate_alert_latency_seconds_sum {}", h.sum);
        let _ = writeln!(s, "leakgate_alert_latency_seconds_count {}", h.count);
        s
    }
}

/// One counter family `leakgate_<name>` with its help line and one sample per label value.
fn counters<V: std::fmt::Display>(
    s: &mut String,
    name: &str,
    help: &str,
    label: &str,
    samples: impl Iterator<Item = (V, u64)>,
) {
    let _ = writeln!(
        s,
        "# HELP leakgate_{name} {help}\n# TYPE leakgate_{name} counter"
    );
    for (value, n) in samples {
        let _ = writeln!(s, "leakgate_{name}{{{label}=\"{value}\"}} {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_what_happened() {
        let m = Metrics::default();
        m.delivery(DeliveryOutcome::Accepted);
        m.delivery(DeliveryOutcome::BadSignature);
        m.delivery(DeliveryOutcome::BadSignature);
        m.verification(VerificationStatus::Active);
        m.revocation(RevocationStatus::Revoked);
        m.finished(false, Duration::from_millis(300));
        let t = m.render(Some(3));
        assert!(
            t.contains("leakgate_deliveries_total{outcome=\"accepted\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("leakgate_deliveries_total{outcome=\"bad_signature\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("leakgate_verifications_total{status=\"active\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("leakgate_revocations_total{status=\"revoked\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("leakgate_queue_depth 3\n"), "{t}");
        assert!(
            t.contains("leakgate_alert_latency_seconds_bucket{le=\"0.25\"} 0\n"),
            "{t}"
        );
        assert!(
            t.contains("leakgate_alert_latency_seconds_bucket{le=\"0.5\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("leakgate_alert_latency_seconds_count 1\n"),
            "{t}"
        );
    }
}
