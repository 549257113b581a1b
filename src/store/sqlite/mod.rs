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

mod counters;
mod intents;
mod reactions;
mod sends;
mod subscribers;
mod suppression;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use jiff::{SignedDuration, Timestamp};

use super::{
    Budget, Claim, Count, DayStats, DueCursor, DuePage, Ledger, PageViews, Pause, SendRecord, SendResult, SendState,
    SendingState, StoreError,
};
#[allow(unused_imports)] // for the capability files, through `use super::*`
use crate::store::{Counters, Intents, Sends, Subscribers, Suppression};
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
CREATE TABLE IF NOT EXISTS page_views (
    day   TEXT NOT NULL,
    slug  TEXT NOT NULL,
    views INTEGER NOT NULL,
    PRIMARY KEY (day, slug)
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
CREATE TABLE IF NOT EXISTS reactions (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reactions_of_post ON reactions (slug, created_at);
CREATE INDEX IF NOT EXISTS reactions_waiting ON reactions (created_at) WHERE status = 'waiting';
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
        Self::init(Connection::open(path)?)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
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
        .optional()?
        .map(|d| serde_json::from_str(&d).map_err(StoreError::corrupt))
        .transpose()
    }
}
