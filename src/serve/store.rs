//! The durable queue: one SQLite database holding every delivery (by `X-GitHub-Delivery`),
//! every alert (owner/repo#number) with its attempts and next-attempt time, and each step's
//! outcome, so a redelivery, a second event for the same alert or a restart never acts twice.
//! Writes are synchronous (`synchronous = FULL`): a delivery acknowledged is on disk.
//!
//! No secret or token is ever stored: a resumed alert fetches its secret again.

use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An alert's name: `owner/repo#number`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlertKey {
    pub owner: String,
    pub repo: String,
    pub number: u64,
}

impl AlertKey {
    /// A key from a payload's parts, when each is a plausible GitHub name (letters, digits,
    /// `.`, `-`, `_`; at most 100 bytes) and the number is positive.
    pub fn new(owner: &str, repo: &str, number: u64) -> Option<Self> {
        let ok = |s: &str| {
            (1..=100).contains(&s.len())
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        (ok(owner) && ok(repo) && number > 0 && number < (1 << 53)).then(|| AlertKey {
            owner: owner.to_string(),
            repo: repo.to_string(),
            number,
        })
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}#{}", self.owner, self.repo, self.number)
    }
}

/// What a delivery is, once its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryKind {
    Ping,
    /// An event or action the service does not act on.
    Ignored,
    /// A `secret_scanning_alert` the service acts on.
    Alert(AlertKey),
}

/// What became of a delivery; also the label of the deliveries metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Queued for processing.
    Accepted,
    Ping,
    Ignored,
    /// The same `X-GitHub-Delivery` was seen before: nothing done again.
    DuplicateDelivery,
    /// Another delivery already queued (or finished) this alert.
    DuplicateAlert,
    /// Unsigned or wrongly signed: refused before parsing (never stored).
    BadSignature,
    /// Signed, but not a payload the service understands.
    Malformed,
}

impl DeliveryOutcome {
    /// Every outcome, for metrics.
    pub const ALL: [DeliveryOutcome; 7] = [
        DeliveryOutcome::Accepted,
        DeliveryOutcome::Ping,
        DeliveryOutcome::Ignored,
        DeliveryOutcome::DuplicateDelivery,
        DeliveryOutcome::DuplicateAlert,
        DeliveryOutcome::BadSignature,
        DeliveryOutcome::Malformed,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Accepted => "accepted",
            DeliveryOutcome::Ping => "ping",
            DeliveryOutcome::Ignored => "ignored",
            DeliveryOutcome::DuplicateDelivery => "duplicate_delivery",
            DeliveryOutcome::DuplicateAlert => "duplicate_alert",
            DeliveryOutcome::BadSignature => "bad_signature",
            DeliveryOutcome::Malformed => "malformed",
        }
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// Waiting for its next attempt.
    Queued,
    /// A worker holds it (reset to queued on start: that worker died).
    Running,
    /// Finished; the outcome says how.
    Done,
    /// Left for a person (decoy, protected, failed containment, attempts spent).
    NeedsPerson,
}

impl AlertState {
    fn as_str(self) -> &'static str {
        match self {
            AlertState::Queued => "queued",
            AlertState::Running => "running",
            AlertState::Done => "done",
            AlertState::NeedsPerson => "needs_person",
        }
    }
}

/// One step of processing an alert, recorded with its outcome once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Alert, locations and file fetched from GitHub.
    Fetched,
    /// The token check: live, invalid, inconclusive, decoy...
    Verified,
    /// Written before containment is attempted: a resumed job knows it may have happened.
    Containing,
    /// What containment did (revoked, dry_run, protected, revoke_failed), re-check included.
    Contained,
    /// The alert resolved as revoked.
    Resolved,
    /// The alert commented (not resolved).
    Commented,
    /// The notice posted.
    Notified,
}

impl Step {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Fetched => "fetched",
            Step::Verified => "verified",
            Step::Containing => "containing",
            Step::Contained => "contained",
            Step::Resolved => "resolved",
            Step::Commented => "commented",
            Step::Notified => "notified",
        }
    }
}

/// An alert a worker took.
#[derive(Debug, Clone)]
pub struct Job {
    pub key: AlertKey,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When its first delivery arrived (ms since the epoch).
    pub received_ms: i64,
}

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening the state database {}", crate::config::show(path))]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database")]
    Sql(#[from] rusqlite::Error),
}

/// The SQLite state store.
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    action TEXT,
    alert TEXT,
    outcome TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT,
    outcome TEXT,
    received_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    delivery TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_due ON alerts (state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS steps (
    alert TEXT NOT NULL,
    step TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (alert, step)
);
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);
";

impl Store {
    /// Open (creating) the database at `path`, and put back in the queue every alert a worker
    /// held when the last process stopped. Returns the store and how many were put back.
    pub fn open(path: &Path) -> Result<(Self, usize), StoreError> {
        let open = || -> Result<(Connection, usize), rusqlite::Error> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.execute_batch(SCHEMA)?;
            let resumed = conn.execute(
                "UPDATE alerts SET state = 'queued' WHERE state = 'running'",
                [],
            )?;
            Ok((conn, resumed))
        };
        let (conn, resumed) = open().map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok((
            Store {
                conn: Mutex::new(conn),
            },
            resumed,
        ))
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A worker that panicked holding the lock left no half-done SQL behind (each write is
        // one statement or one transaction).
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record a delivery, and queue its alert unless one is already known: one transaction.
    pub fn accept(
        &self,
        delivery: &str,
        event: &str,
        action: Option<&str>,
        kind: &DeliveryKind,
        now_ms: i64,
    ) -> Result<DeliveryOutcome, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let seen: Option<i64> = tx
            .query_row("SELECT 1 FROM deliveries WHERE id = ?1", [delivery], |r| {
                r.get(0)
            })
            .optional()?;
        if seen.is_some() {
            return Ok(DeliveryOutcome::DuplicateDelivery);
        }
        let (outcome, alert) = match kind {
            DeliveryKind::Ping => (DeliveryOutcome::Ping, None),
            DeliveryKind::Ignored => (DeliveryOutcome::Ignored, None),
            DeliveryKind::Alert(key) => {
                let name = key.to_string();
                let inserted = tx.execute(
                    "INSERT OR IGNORE INTO alerts (key, owner, repo, number, state, next_attempt_ms, received_ms, delivery)
                     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5, ?6)",
                    params![name, key.owner, key.repo, key.number as i64, now_ms, delivery],
                )?;
                let outcome = if inserted == 1 {
                    DeliveryOutcome::Accepted
                } else {
                    DeliveryOutcome::DuplicateAlert
                };
                (outcome, Some(name))
            }
        };
        tx.execute(
            "INSERT INTO deliveries (id, event, action, alert, outcome, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![delivery, event, action, alert, outcome.as_str(), now_ms],
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Take the queued alert due first (at or before `now_ms`), marking it running.
    pub fn claim_due(&self, now_ms: i64) -> Result<Option<Job>, StoreError> {
        let conn = self.conn();
        let job = conn
            .query_row(
                "UPDATE alerts SET state = 'running'
                 WHERE key = (SELECT key FROM alerts WHERE state = 'queued' AND next_attempt_ms <= ?1
                              ORDER BY next_attempt_ms LIMIT 1)
                 RETURNING owner, repo, number, attempts, received_ms",
                [now_ms],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        Ok(job.map(|(owner, repo, number, attempts, received_ms)| Job {
            key: AlertKey {
                owner,
                repo,
                number: number as u64,
            },
            attempts: attempts as u32,
            received_ms,
        }))
    }

    /// When the next queued alert is due (ms since the epoch).
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn().query_row(
            "SELECT MIN(next_attempt_ms) FROM alerts WHERE state = 'queued'",
            [],
            |r| r.get(0),
        )?)
    }

    /// A step's recorded outcome and detail.
    pub fn step(
        &self,
        key: &AlertKey,
        step: Step,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT outcome, detail FROM steps WHERE alert = ?1 AND step = ?2",
                params![key.to_string(), step.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Record a step's outcome (replacing an earlier one).
    pub fn set_step(
        &self,
        key: &AlertKey,
        step: Step,
        outcome: &str,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO steps (alert, step, outcome, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key.to_string(), step.as_str(), outcome, detail, now_ms],
        )?;
        Ok(())
    }

    /// Forget a step's outcome.
    pub fn clear_step(&self, key: &AlertKey, step: Step) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM steps WHERE alert = ?1 AND step = ?2",
            params![key.to_string(), step.as_str()],
        )?;
        Ok(())
    }

    /// Close an alert: done or left for a person, with the outcome to show.
    pub fn finish(
        &self,
        key: &AlertKey,
        state: AlertState,
        outcome: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE alerts SET state = ?2, outcome = ?3, finished_ms = ?4, attempts = attempts + 1 WHERE key = ?1",
            params![key.to_string(), state.as_str(), outcome, now_ms],
        )?;
        Ok(())
    }

    /// Put an alert back in the queue after a failed attempt.
    pub fn retry(&self, key: &AlertKey, next_ms: i64, error: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE alerts SET state = 'queued', attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 WHERE key = ?1",
            params![key.to_string(), next_ms, error],
        )?;
        Ok(())
    }

    /// Alerts queued or running.
    pub fn queue_depth(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM alerts WHERE state IN ('queued', 'running')",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// True when a write can be committed (what `/readyz` asks).
    pub fn writable(&self, now_ms: i64) -> bool {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO probe (id, at_ms) VALUES (1, ?1)",
                [now_ms],
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> AlertKey {
        AlertKey::new("acme", "app.js", n).unwrap()
    }

    #[test]
    fn deliveries_and_alerts_are_deduplicated_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let (s, resumed) = Store::open(&path).unwrap();
        assert_eq!(resumed, 0);
        let a = DeliveryKind::Alert(key(7));
        assert_eq!(
            s.accept("d1", "secret_scanning_alert", Some("created"), &a, 10)
                .unwrap(),
            DeliveryOutcome::Accepted
        );
        assert_eq!(
            s.accept("d1", "secret_scanning_alert", Some("created"), &a, 11)
                .unwrap(),
            DeliveryOutcome::DuplicateDelivery
        );
        assert_eq!(
            s.accept("d2", "secret_scanning_alert", Some("validated"), &a, 12)
                .unwrap(),
            DeliveryOutcome::DuplicateAlert
        );
        assert_eq!(
            s.accept("d3", "push", None, &DeliveryKind::Ignored, 12)
                .unwrap(),
            DeliveryOutcome::Ignored
        );
        assert_eq!(s.queue_depth().unwrap(), 1);
        assert!(s.claim_due(9).unwrap().is_none(), "not due yet");
        let job = s.claim_due(10).unwrap().unwrap();
        assert_eq!(job.key, key(7));
        assert!(s.claim_due(100).unwrap().is_none(), "held by a worker");
        s.set_step(&job.key, Step::Fetched, "ok", None, 13).unwrap();
        drop(s);
        // A restart puts the held alert back; its recorded steps stay.
        let (s, resumed) = Store::open(&path).unwrap();
        assert_eq!(resumed, 1);
        let job = s.claim_due(100).unwrap().unwrap();
        assert_eq!(s.step(&job.key, Step::Fetched).unwrap().unwrap().0, "ok");
        assert!(s.step(&job.key, Step::Verified).unwrap().is_none());
        s.retry(&job.key, 500, "GitHub HTTP 502").unwrap();
        assert!(s.claim_due(499).unwrap().is_none());
        assert_eq!(s.next_due_ms().unwrap(), Some(500));
        let job = s.claim_due(500).unwrap().unwrap();
        assert_eq!(job.attempts, 1);
        s.finish(&job.key, AlertState::Done, "resolved", 501)
            .unwrap();
        assert_eq!(s.queue_depth().unwrap(), 0);
        assert!(s.writable(502));
    }

    #[test]
    fn names_from_payloads_are_checked() {
        assert!(AlertKey::new("acme", "app", 1).is_some());
        for (o, r, n) in [
            ("", "app", 1),
            ("a/b", "app", 1),
            ("acme", "..", 1),
            ("acme", "app", 0),
        ] {
            assert!(AlertKey::new(o, r, n).is_none(), "{o} {r} {n}");
        }
        assert!(AlertKey::new("acme", "a\nb", 1).is_none());
        assert_eq!(key(3).to_string(), "acme/app.js#3");
    }
}
