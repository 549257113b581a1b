//! The Store port: where subscribers live. Two implementations pass one contract test suite
//! (`tests/suite/store_contract.rs`), so the local mode behaves like the cloud:
//!
//! - [`dynamodb::DynamoStore`]: the single DynamoDB table of the SAM stack;
//! - [`sqlite::SqliteStore`]: an embedded SQLite file under the local data folder.

pub mod dynamodb;
pub mod sqlite;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use crate::mail::Ledger;
use crate::reactions::{Answer, Reaction, ReactionId};
pub use crate::subscribers::caps::Budget;
use crate::subscribers::{SubscribeIntent, Subscriber, SubscriberEmail, SubscriberId};

/// Where a page of the due queue ended; pass it back for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCursor {
    pub due_at: i64,
    pub id: SubscriberId,
}

/// One page of subscribers whose visit is due.
#[derive(Debug, Clone, Default)]
pub struct DuePage {
    pub subscribers: Vec<SubscriberId>,
    /// `None` when this was the last page.
    pub next: Option<DueCursor>,
}

/// The answer to "may I send this post to this subscriber?"
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Yours: send, then record the result (or give it back if the send surely did not
    /// happen).
    Claimed,
    /// Sent (or failed for good) before: never again.
    Done,
    /// A claim taken less than its hold ago, without a result: another run is sending it, or
    /// sent it and SES's `Send` event has not come yet. Not now.
    HeldElsewhere,
    /// The subscriber is not confirmed any more (unsubscribed, bounced, complained, erased)
    /// at the moment of the claim: nothing is sent.
    NotConfirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    Claimed,
    Sent,
    Failed,
}

/// One (subscriber, post) send, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    pub slug: String,
    pub state: SendState,
    pub claimed_at: Timestamp,
    pub lease_until: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub message_id: Option<String>,
    pub reason: Option<String>,
}

/// The day counters of a ledger are kept under this key (the list's as before, so existing
/// counters keep counting).
pub(crate) fn day_key(ledger: Ledger, day: jiff::civil::Date) -> String {
    match ledger {
        Ledger::List => day.to_string(),
        Ledger::NewReaders => format!("new:{day}"),
        Ledger::Confirmation => format!("confirm:{day}"),
        Ledger::ConfirmPage => format!("confirm-page:{day}"),
        Ledger::Author => format!("author:{day}"),
    }
}

/// An addition to one day's counters of a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub ledger: Ledger,
    pub day: jiff::civil::Date,
    pub delta: DayStats,
}

/// Counts of one day, for the bounce and complaint rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStats {
    pub sent: u64,
    pub bounced: u64,
    pub complained: u64,
}

impl std::ops::AddAssign for DayStats {
    fn add_assign(&mut self, other: DayStats) {
        self.sent += other.sent;
        self.bounced += other.bounced;
        self.complained += other.complained;
    }
}

/// How often one post's web page was read on one day: a bare count, with nothing of who
/// read it (see `http::page_views` for what is counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageViews {
    pub day: jiff::civil::Date,
    pub slug: String,
    pub views: u64,
}

/// Whether sending is paused by the circuit breaker, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingState {
    pub paused: Option<Pause>,
    /// Set by `sending resume`: the breaker counts only from here, with the counters the
    /// day had at that moment taken off, so the next single event does not pause again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_window: Option<FreshWindow>,
    /// An account-level error (access, configuration set, sandbox, account paused, quota)
    /// stopped the last run that met it; cleared by the next run that sends. Stored apart
    /// ([`Counters::set_sending_problem`]).
    #[serde(skip)]
    pub problem: Option<Pause>,
}

/// Where the breaker's window starts after a resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshWindow {
    pub since: Timestamp,
    /// The list's counters of `since`'s day at that moment.
    pub baseline: DayStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub since: Timestamp,
    pub reason: String,
}

impl SendRecord {
    /// A fresh claim on `slug`, held until `now + lease`.
    pub fn claimed(slug: &str, now: Timestamp, lease: SignedDuration) -> SendRecord {
        SendRecord {
            slug: slug.to_owned(),
            state: SendState::Claimed,
            claimed_at: now,
            lease_until: now.saturating_add(lease).unwrap_or(now),
            finished_at: None,
            message_id: None,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    Sent { message_id: String },
    Failed { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the address exists already, or the subscriber changed since
    /// it was read. Read again and decide again.
    #[error("the record changed or exists already")]
    Conflict,
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored record could not be read or written")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// True when the fault lies with one record (unreadable, or refused as too large), not
    /// with the store: the caller goes on with the other records.
    pub fn is_per_record(&self) -> bool {
        matches!(self, StoreError::Corrupt(_))
    }
}

impl StoreError {
    pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Unavailable(Box::new(e))
    }

    pub fn corrupt(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Corrupt(Box::new(e))
    }
}

/// Subscriber records: read, insert, update conditionally, the due index, list, erase.
#[async_trait]
pub trait Subscribers: Send + Sync {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError>;

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError>;

    /// Stores a new subscriber (with `version` 0). [`StoreError::Conflict`] when the address
    /// or the id is taken: of two racing requests for one address, exactly one succeeds. An
    /// address whose record was pending and expired before `now`
    /// ([`Subscriber::pending_until`]) is free again. `now` comes from the caller, never from
    /// the wall clock, so tests on fixed dates hold on any day.
    async fn insert_subscriber(&self, subscriber: &Subscriber, now: Timestamp) -> Result<(), StoreError>;

    /// Replaces a subscriber if the stored `version` equals `subscriber.version`, storing it
    /// with the version raised by one (returned). [`StoreError::Conflict`] otherwise.
    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError>;

    /// Moves `subscriber` (its new address in `email`, as read at `subscriber.version`) off
    /// the address `old`, in one write: the record, the new address taken, the old one let
    /// go. The new version, or [`StoreError::Conflict`] when the record changed since it was
    /// read or the new address is taken (a pending record past its expiry does not count).
    async fn move_subscriber(
        &self,
        subscriber: &Subscriber,
        old: &SubscriberEmail,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Subscribers whose `next_due_at` is at or before `now`, oldest first, a page at a time
    /// (from the sparse index: never a scan).
    async fn due_subscribers(
        &self,
        now: Timestamp,
        after: Option<&DueCursor>,
        limit: usize,
    ) -> Result<DuePage, StoreError>;

    /// Every subscriber, for the operator's `subscribers list` and `stats`. In DynamoDB this
    /// is a scan: fine for an operator now and then, never used by the sender.
    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError>;

    /// Removes the subscriber, their address lookup and their send history (AVG art. 17).
    async fn erase_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;
}

/// Claims and results of (subscriber, post) sends: the sender's exactly-once bookkeeping.
#[async_trait]
pub trait Sends: Send + Sync {
    /// Claims (subscriber, post) right before sending, held until `now + hold`. Granted only
    /// while the subscriber is confirmed, checked in the same write (one transaction in
    /// DynamoDB, one statement locally), so someone who left after the run read them gets
    /// nothing. Granted when there is no record yet, or when an earlier claim's hold ran out
    /// with neither a result nor an SES `Send` event (its send may never have happened).
    async fn claim_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        now: Timestamp,
        hold: SignedDuration,
    ) -> Result<Claim, StoreError>;

    /// Gives back a claim (the one held until `held_until`) whose send surely did not
    /// happen (SES refused it before accepting), so the next run may send at once.
    async fn release_claim(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        held_until: Timestamp,
    ) -> Result<(), StoreError>;

    /// SES's `Send` event for (subscriber, post), from the message tags: settles a claim whose
    /// answer was lost (timeout, dropped connection, crash after the send) as sent. Does
    /// nothing to a record with a result, or without a record.
    async fn record_send_event(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        message_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records the result of a claimed send.
    async fn finish_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        result: &SendResult,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Every send to a subscriber, for their history and export.
    async fn sends(&self, subscriber: &SubscriberId) -> Result<Vec<SendRecord>, StoreError>;
}

/// Day counters per ledger, budgets (caps and once-only markers), and the sending state.
#[async_trait]
pub trait Counters: Send + Sync {
    /// Adds to the counters of `day` in `ledger` (atomically: concurrent writers all count).
    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError>;

    /// The counters of `ledger` for the days `from..=to`, summed.
    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError>;

    /// Counts one view of the post page `slug` on `day` (atomically: concurrent views all
    /// count). Nothing but the count is stored.
    async fn add_page_view(&self, slug: &str, day: jiff::civil::Date) -> Result<(), StoreError>;

    /// Views per post and day for the days `from..=to`, by day, then slug.
    async fn page_views(&self, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Vec<PageViews>, StoreError>;

    /// Takes one from every budget in `budgets`, all or nothing, atomically (of racing
    /// requests no more than a budget's `limit` succeed): true when each had room; false
    /// leaves every counter as it was, so a request refused by one budget spends none of the
    /// others. A counter can be dropped at its `expires_at` (DynamoDB's TTL; locally, judged
    /// by the caller's `now`), so counters never pile up.
    async fn take_budgets(&self, budgets: &[Budget], now: Timestamp) -> Result<bool, StoreError>;

    /// One budget: [`Counters::take_budgets`] of one.
    async fn take_budget(&self, budget: Budget, now: Timestamp) -> Result<bool, StoreError> {
        self.take_budgets(std::slice::from_ref(&budget), now).await
    }

    /// Applies an effect at most once, in one transaction: writes `marker` (a budget of one,
    /// absent or expired by `now`) together with `updates` (each conditional on its version,
    /// as [`Subscribers::update_subscriber`] does) and adds `counts`. `Ok(false)`: the marker
    /// is there, the effect was applied before; nothing is written. [`StoreError::Conflict`]:
    /// a subscriber changed since it was read; nothing is written, read again and retry.
    async fn apply_once(
        &self,
        marker: &Budget,
        updates: &[Subscriber],
        counts: &[Count],
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn sending_state(&self) -> Result<SendingState, StoreError>;

    /// Writes the pause and the breaker's window (not the problem: see below).
    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError>;

    /// Notes (or clears) an account-level problem that stopped the last run; kept apart from
    /// the pause so neither write undoes the other.
    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError>;
}

/// The suppression list: salted hashes of erased addresses.
#[async_trait]
pub trait Suppression: Send + Sync {
    /// The suppression list: salted hashes of erased addresses.
    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError>;

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError>;
}

/// The queue of subscribe intents for the confirmations worker.
#[async_trait]
pub trait Intents: Send + Sync {
    /// Records a subscribe request for the confirmations worker (one write, whatever the
    /// address). Kept until [`Intents::forget_intent`], or a day at most.
    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError>;

    /// Recorded intents, oldest first, at most `limit` (a query on one key, never a scan).
    async fn pending_intents(&self, limit: usize) -> Result<Vec<SubscribeIntent>, StoreError>;

    /// Drops a handled intent.
    async fn forget_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError>;
}

/// What changes in a stored reaction; each applied in one write, so two changes at once (the
/// author approving while a notice marks it listed) never undo each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionChange {
    /// Published (kept as it was when it is published already).
    Approve { at: jiff::Timestamp },
    /// The author's answer, set or replaced.
    Answer(Answer),
    /// Listed in a notice to the author.
    Notified,
}

/// Reactions under posts: those of one post read together, the waiting ones found without a
/// scan.
#[async_trait]
pub trait Reactions: Send + Sync {
    /// Stores a new reaction. [`StoreError::Conflict`] when its id is taken.
    async fn insert_reaction(&self, reaction: &Reaction) -> Result<(), StoreError>;

    async fn reaction(&self, id: &ReactionId) -> Result<Option<Reaction>, StoreError>;

    /// Applies `change` to `reaction` as stored; the reaction after it, `None` when it is gone.
    async fn change_reaction(
        &self,
        reaction: &Reaction,
        change: &ReactionChange,
    ) -> Result<Option<Reaction>, StoreError>;

    /// Deletes a reaction for good (nothing when it is gone already).
    async fn delete_reaction(&self, reaction: &Reaction) -> Result<(), StoreError>;

    /// Every reaction under the post `slug`, waiting ones included, oldest first (in DynamoDB
    /// one query on the post's key).
    async fn reactions_of_post(&self, slug: &str) -> Result<Vec<Reaction>, StoreError>;

    /// Waiting reactions, at most `limit`, the newest first (the author's notice looks for
    /// new ones) or the oldest first (retention looks for old ones); read from an index of
    /// the waiting ones only, never a scan.
    async fn waiting_reactions(&self, limit: usize, newest_first: bool) -> Result<Vec<Reaction>, StoreError>;

    /// Every reaction, oldest first, for the operator's commands (in DynamoDB a scan, as
    /// [`Subscribers::all_subscribers`]).
    async fn all_reactions(&self) -> Result<Vec<Reaction>, StoreError>;

    /// Every reaction left with `email`, oldest first (for that person's export and erase;
    /// in DynamoDB a query on the address's key, never a scan).
    async fn reactions_of_address(&self, email: &SubscriberEmail) -> Result<Vec<Reaction>, StoreError>;
}

/// The whole port: what a store of postbode offers, as one trait object (`Arc<dyn Store>`).
/// Each part is its own trait, so an adapter is written (and read) one capability at a time,
/// and a use case that needs one part can say so.
pub trait Store: Subscribers + Sends + Counters + Suppression + Intents + Reactions + 'static {}

impl<T: Subscribers + Sends + Counters + Suppression + Intents + Reactions + 'static> Store for T {}

/// How long a recorded intent is kept when no worker handles it.
pub const INTENT_TTL: SignedDuration = SignedDuration::from_hours(24);
