//! The embedded store of the local mode: one SQLite file (`DATA/postbode.sqlite`).
//!
//! Why SQLite (through rusqlite, with SQLite compiled in): it is a real transactional
//! database in one file, so conditional writes are plain `UPDATE … WHERE version = ?`; a
//! partial index on `next_due_at` is the local twin of DynamoDB's sparse index; a process
//! that stops loses nothing (WAL journal); and the operator can open the file with any SQLite
//! tool. redb would do the first two as well, but with hand-built indexes and no SQL to look
//! inside.
//!
//! The subscriber is kept as JSON next to the columns that are queried or constrained.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use jiff::{SignedDuration, Timestamp};

use super::{
    Claim, DayStats, DueCursor, DuePage, Ledger, Pause, SendRecord, SendResult, SendState, SendingState, Store,
    StoreError,
};
use crate::subscribers::{SubscribeIntent, Subscriber, SubscriberEmail, SubscriberId};

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Waited (on tokio's clock) before every call: see [`SqliteStore::with_latency`].
    latency: std::time::Duration,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS subscribers (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    version     INTEGER NOT NULL,
    next_due_at INTEGER,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS subscribers_due ON subscribers (next_due_at, id) WHERE next_due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS sends (
    subscriber_id TEXT NOT NULL,
    slug          TEXT NOT NULL,
    state         TEXT NOT NULL,
    lease_until   INTEGER NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, slug)
);
CREATE TABLE IF NOT EXISTS day_stats (
    day        TEXT PRIMARY KEY,
    sent       INTEGER NOT NULL DEFAULT 0,
    bounced    INTEGER NOT NULL DEFAULT 0,
    complained INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS suppressed (
    hash  TEXT PRIMARY KEY,
    since INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS budgets (
    key        TEXT PRIMARY KEY,
    used       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budgets_expiry ON budgets (expires_at);
CREATE TABLE IF NOT EXISTS intents (
    id   TEXT PRIMARY KEY,
    at   INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

impl SqliteStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(StoreError::unavailable)?;
        }
        Self::init(Connection::open(path).map_err(StoreError::unavailable)?)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(StoreError::unavailable)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(StoreError::unavailable)?;
        conn.execute_batch(SCHEMA).map_err(StoreError::unavailable)?;
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), latency: std::time::Duration::ZERO })
    }

    /// The same store, with `latency` added to every call: a stand-in for a remote store's
    /// round trip (DynamoDB's few milliseconds) in the throughput benchmark.
    pub fn with_latency(mut self, latency: std::time::Duration) -> SqliteStore {
        self.latency = latency;
        self
    }

    /// Runs `f` on the connection off the async threads (SQLite calls block).
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic in another call poisons the lock; the connection itself is still sound.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(StoreError::unavailable)?
    }
}

/// Every SQLite failure not mapped to a more precise kind at its call (a lost condition is a
/// [`StoreError::Conflict`] there) is the store being unavailable.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::unavailable(e)
    }
}

fn to_json(s: &Subscriber) -> Result<String, StoreError> {
    serde_json::to_string(s).map_err(StoreError::corrupt)
}

fn from_json(data: String, version: i64) -> Result<Subscriber, StoreError> {
    let mut s: Subscriber = serde_json::from_str(&data).map_err(StoreError::corrupt)?;
    s.version = version as u64;
    Ok(s)
}

fn due(s: &Subscriber) -> Option<i64> {
    s.next_due_at.map(|t| t.as_second())
}

#[async_trait]
impl Store for SqliteStore {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            c.query_row("SELECT data, version FROM subscribers WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(StoreError::unavailable)?
                .map(|(d, v)| from_json(d, v))
                .transpose()
        })
        .await
    }

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError> {
        let email = email.to_string();
        self.with(move |c| {
            c.query_row("SELECT data, version FROM subscribers WHERE email = ?1", [email], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(StoreError::unavailable)?
            .map(|(d, v)| from_json(d, v))
            .transpose()
        })
        .await
    }

    async fn insert_subscriber(&self, subscriber: &Subscriber, now: Timestamp) -> Result<(), StoreError> {
        let (id, email, due, data) =
            (subscriber.id.to_string(), subscriber.email.to_string(), due(subscriber), to_json(subscriber)?);
        self.with(move |c| {
            let tx = c.transaction()?;
            // The twin of DynamoDB's TTL on pending records: an unconfirmed record past its
            // expiry leaves the address free.
            let existing: Option<(String, i64)> = tx
                .query_row("SELECT data, version FROM subscribers WHERE email = ?1", [&email], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((data, version)) = existing {
                let old = from_json(data, version)?;
                if old.pending_until().is_some_and(|until| until < now) {
                    tx.execute("DELETE FROM subscribers WHERE id = ?1", [old.id.to_string()])?;
                }
            }
            match tx.execute(
                "INSERT INTO subscribers (id, email, version, next_due_at, data) VALUES (?1, ?2, 0, ?3, ?4)",
                params![id, email, due, data],
            ) {
                Ok(_) => Ok(tx.commit()?),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(StoreError::Conflict)
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError> {
        let (id, due, data) = (subscriber.id.to_string(), due(subscriber), to_json(subscriber)?);
        let expected = subscriber.version as i64;
        self.with(move |c| {
            let changed = c
                .execute(
                    "UPDATE subscribers SET version = version + 1, next_due_at = ?2, data = ?3 WHERE id = ?1 AND version = ?4",
                    params![id, due, data, expected],
                )
                .map_err(StoreError::unavailable)?;
            if changed == 1 { Ok(expected as u64 + 1) } else { Err(StoreError::Conflict) }
        })
        .await
    }

    async fn due_subscribers(
        &self,
        now: Timestamp,
        after: Option<&DueCursor>,
        limit: usize,
    ) -> Result<DuePage, StoreError> {
        let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |c| (c.due_at, c.id.to_string()));
        let now = now.as_second();
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT id, next_due_at FROM subscribers
                     WHERE next_due_at IS NOT NULL AND next_due_at <= ?1 AND (next_due_at, id) > (?2, ?3)
                     ORDER BY next_due_at, id LIMIT ?4",
                )
                .map_err(StoreError::unavailable)?;
            let rows = stmt
                .query_map(params![now, after_at, after_id, limit as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(StoreError::unavailable)?;
            let mut page = DuePage::default();
            let mut last = None;
            for row in rows {
                let (id, due_at) = row.map_err(StoreError::unavailable)?;
                let id: SubscriberId = id.parse().map_err(|e: String| StoreError::Corrupt(e.into()))?;
                last = Some(DueCursor { due_at, id: id.clone() });
                page.subscribers.push(id);
            }
            if page.subscribers.len() == limit {
                page.next = last;
            }
            Ok(page)
        })
        .await
    }

    async fn claim_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        now: Timestamp,
        hold: SignedDuration,
    ) -> Result<Claim, StoreError> {
        let (id, slug) = (subscriber.to_string(), slug.to_owned());
        let record = SendRecord::claimed(&slug, now, hold);
        let lease_until = record.lease_until;
        let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
        self.with(move |c| {
            // One statement: the subscriber's status is checked in the same write as the claim.
            let changed = c
                .execute(
                    "INSERT INTO sends (subscriber_id, slug, state, lease_until, data)
                     SELECT ?1, ?2, 'claimed', ?3, ?4
                     WHERE EXISTS (SELECT 1 FROM subscribers WHERE id = ?1 AND json_extract(data, '$.status') = 'confirmed')
                     ON CONFLICT (subscriber_id, slug) DO UPDATE SET lease_until = excluded.lease_until, data = excluded.data
                     WHERE sends.state = 'claimed' AND sends.lease_until < ?5",
                    params![id, slug, lease_until.as_second(), data, now.as_second()],
                )
                .map_err(StoreError::unavailable)?;
            if changed == 1 {
                return Ok(Claim::Claimed);
            }
            let confirmed = c
                .query_row(
                    "SELECT 1 FROM subscribers WHERE id = ?1 AND json_extract(data, '$.status') = 'confirmed'",
                    [&id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(StoreError::unavailable)?
                .is_some();
            Ok(match Self::read_send(c, &id, &slug)?.map(|r| r.state) {
                Some(SendState::Sent | SendState::Failed) => Claim::Done,
                _ if !confirmed => Claim::NotConfirmed,
                Some(SendState::Claimed) | None => Claim::HeldElsewhere,
            })
        })
        .await
    }

    async fn release_claim(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        held_until: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug) = (subscriber.to_string(), slug.to_owned());
        self.with(move |c| {
            c.execute(
                "DELETE FROM sends WHERE subscriber_id = ?1 AND slug = ?2 AND state = 'claimed' AND lease_until = ?3",
                params![id, slug, held_until.as_second()],
            )
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn record_send_event(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        message_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug, message_id) = (subscriber.to_string(), slug.to_owned(), message_id.to_owned());
        self.with(move |c| {
            let Some(mut record) = Self::read_send(c, &id, &slug)? else { return Ok(()) };
            if record.state != SendState::Claimed {
                return Ok(());
            }
            record.state = SendState::Sent;
            record.message_id = Some(message_id);
            record.finished_at = Some(at);
            let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
            c.execute(
                "UPDATE sends SET state = 'sent', data = ?3 WHERE subscriber_id = ?1 AND slug = ?2 AND state = 'claimed'",
                params![id, slug, data],
            )
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn finish_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        result: &SendResult,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug, result) = (subscriber.to_string(), slug.to_owned(), result.clone());
        self.with(move |c| {
            let mut record = Self::read_send(c, &id, &slug)?.ok_or(StoreError::Conflict)?;
            record.finished_at = Some(now);
            match result {
                SendResult::Sent { message_id } => {
                    record.state = SendState::Sent;
                    record.message_id = Some(message_id);
                }
                SendResult::Failed { reason } => {
                    record.state = SendState::Failed;
                    record.reason = Some(reason);
                }
            }
            let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
            c.execute(
                "UPDATE sends SET state = ?3, data = ?4 WHERE subscriber_id = ?1 AND slug = ?2",
                params![id, slug, state_name(record.state), data],
            )
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn sends(&self, subscriber: &SubscriberId) -> Result<Vec<SendRecord>, StoreError> {
        let id = subscriber.to_string();
        self.with(move |c| {
            let mut stmt = c
                .prepare("SELECT data FROM sends WHERE subscriber_id = ?1 ORDER BY rowid")
                .map_err(StoreError::unavailable)?;
            let rows = stmt.query_map([id], |r| r.get::<_, String>(0)).map_err(StoreError::unavailable)?;
            rows.map(|r| serde_json::from_str(&r.map_err(StoreError::unavailable)?).map_err(StoreError::corrupt))
                .collect()
        })
        .await
    }

    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
        let day = super::day_key(ledger, day);
        self.with(move |c| {
            c.execute(
                "INSERT INTO day_stats (day, sent, bounced, complained) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (day) DO UPDATE SET sent = sent + excluded.sent, bounced = bounced + excluded.bounced,
                 complained = complained + excluded.complained",
                params![day, delta.sent as i64, delta.bounced as i64, delta.complained as i64],
            )
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError> {
        let (from, to) = (super::day_key(ledger, from), super::day_key(ledger, to));
        self.with(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(sent), 0), COALESCE(SUM(bounced), 0), COALESCE(SUM(complained), 0)
                 FROM day_stats WHERE day >= ?1 AND day <= ?2",
                params![from, to],
                |r| {
                    Ok(DayStats {
                        sent: r.get::<_, i64>(0)? as u64,
                        bounced: r.get::<_, i64>(1)? as u64,
                        complained: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .map_err(StoreError::unavailable)
        })
        .await
    }

    async fn sending_state(&self) -> Result<SendingState, StoreError> {
        self.with(|c| {
            let setting = |key: &str| {
                c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(StoreError::unavailable)
            };
            let mut state: SendingState = setting("sending")?
                .map_or(Ok(SendingState::default()), |v| serde_json::from_str(&v).map_err(StoreError::corrupt))?;
            state.problem = setting("sending_problem")?
                .map(|v| serde_json::from_str(&v).map_err(StoreError::corrupt))
                .transpose()?;
            Ok(state)
        })
        .await
    }

    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError> {
        let value = problem.map(serde_json::to_string).transpose().map_err(StoreError::corrupt)?;
        self.with(move |c| {
            match value {
                Some(value) => c.execute(
                    "INSERT INTO settings (key, value) VALUES ('sending_problem', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [value],
                ),
                None => c.execute("DELETE FROM settings WHERE key = 'sending_problem'", []),
            }
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError> {
        let value = serde_json::to_string(state).map_err(StoreError::corrupt)?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES ('sending', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [value],
            )
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT data, version FROM subscribers ORDER BY rowid").map_err(StoreError::unavailable)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(StoreError::unavailable)?;
            rows.map(|r| r.map_err(StoreError::unavailable).and_then(|(d, v)| from_json(d, v))).collect()
        })
        .await
    }

    async fn erase_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError> {
        let id = subscriber.id.to_string();
        self.with(move |c| {
            let tx = c.transaction().map_err(StoreError::unavailable)?;
            tx.execute("DELETE FROM sends WHERE subscriber_id = ?1", [&id]).map_err(StoreError::unavailable)?;
            tx.execute("DELETE FROM subscribers WHERE id = ?1", [&id]).map_err(StoreError::unavailable)?;
            tx.commit().map_err(StoreError::unavailable)
        })
        .await
    }

    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.with(move |c| {
            if suppressed {
                c.execute(
                    "INSERT OR IGNORE INTO suppressed (hash, since) VALUES (?1, ?2)",
                    params![hash, now.as_second()],
                )
            } else {
                c.execute("DELETE FROM suppressed WHERE hash = ?1", [hash])
            }
            .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn take_budget(&self, key: &str, limit: u32, expires_at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.with(move |c| {
            // Counters whose window is long over go first (the local twin of DynamoDB's TTL);
            // windows end on the caller's clock, so only counters older than this one's go.
            c.execute("DELETE FROM budgets WHERE expires_at < ?1 - 172800", [expires_at.as_second()])
                .map_err(StoreError::unavailable)?;
            let changed = c
                .execute(
                    "INSERT INTO budgets (key, used, expires_at) VALUES (?1, 1, ?3)
                     ON CONFLICT (key) DO UPDATE SET used = used + 1 WHERE used < ?2",
                    params![key, i64::from(limit), expires_at.as_second()],
                )
                .map_err(StoreError::unavailable)?;
            Ok(changed == 1 && limit > 0)
        })
        .await
    }

    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let data = serde_json::to_string(intent).map_err(StoreError::corrupt)?;
        let (id, at) = (intent.id.clone(), intent.at.as_millisecond());
        self.with(move |c| {
            c.execute("INSERT OR IGNORE INTO intents (id, at, data) VALUES (?1, ?2, ?3)", params![id, at, data])
                .map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn pending_intents(&self, limit: usize) -> Result<Vec<SubscribeIntent>, StoreError> {
        self.with(move |c| {
            let mut statement =
                c.prepare("SELECT data FROM intents ORDER BY at, id LIMIT ?1").map_err(StoreError::unavailable)?;
            let rows = statement
                .query_map([limit as i64], |r| r.get::<_, String>(0))
                .map_err(StoreError::unavailable)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(StoreError::unavailable)?;
            rows.iter().map(|json| serde_json::from_str(json).map_err(StoreError::corrupt)).collect()
        })
        .await
    }

    async fn forget_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let id = intent.id.clone();
        self.with(move |c| {
            c.execute("DELETE FROM intents WHERE id = ?1", [id]).map_err(StoreError::unavailable)?;
            Ok(())
        })
        .await
    }

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row("SELECT 1 FROM suppressed WHERE hash = ?1", [hash], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
                .map_err(StoreError::unavailable)
        })
        .await
    }
}

fn state_name(state: SendState) -> &'static str {
    match state {
        SendState::Claimed => "claimed",
        SendState::Sent => "sent",
        SendState::Failed => "failed",
    }
}

impl SqliteStore {
    fn read_send(c: &Connection, id: &str, slug: &str) -> Result<Option<SendRecord>, StoreError> {
        c.query_row("SELECT data FROM sends WHERE subscriber_id = ?1 AND slug = ?2", params![id, slug], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map_err(StoreError::unavailable)?
        .map(|d| serde_json::from_str(&d).map_err(StoreError::corrupt))
        .transpose()
    }
}
