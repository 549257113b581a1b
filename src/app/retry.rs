//! The one "read, decide, write conditionally; on a lost race read again and decide again"
//! loop that every change to a subscriber goes through.
//!
//! Why a loop: two writers can read the same version of a subscriber (a reader pressing
//! confirm while SES reports a bounce, say). The store's conditional write lets one win; the
//! other must not overwrite, and must not give up either: it reads the winner's record and
//! decides again, so its decision is always made on what is stored.

use jiff::Timestamp;

use crate::store::{Store, StoreError};
use crate::subscribers::{Subscriber, SubscriberEmail};

/// How often a decision is retried after losing a race before the caller hears
/// [`StoreError::Conflict`].
pub const ATTEMPTS: usize = 3;

/// Which subscriber to read.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Email(&'a SubscriberEmail),
    /// The caller has just read (or written) this record: the first decision is made on it,
    /// without reading it again; after a lost race it is read again by its id.
    Known(&'a Subscriber),
}

/// What a decision on the subscriber as read says to do.
// Made and taken apart once per attempt, never stored: boxing the subscriber would only add
// an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decision<T> {
    /// Store this subscriber (inserted when nothing was read, else updated over what was
    /// read) and answer `T`.
    Write(Subscriber, T),
    /// Write nothing; answer `T`.
    Keep(T),
}

/// The answer of a decision, with the subscriber as written (its new version set), if one was.
#[derive(Debug)]
pub struct Decided<T> {
    pub outcome: T,
    pub written: Option<Subscriber>,
}

/// Reads the subscriber, asks `decide`, writes what it says conditionally on the version read
/// (or as a new record, inserted at `now`); after a lost race reads again and decides again,
/// up to [`ATTEMPTS`] times.
pub async fn decide_and_write<T>(
    store: &dyn Store,
    lookup: Lookup<'_>,
    now: Timestamp,
    mut decide: impl FnMut(Option<&Subscriber>) -> Decision<T>,
) -> Result<Decided<T>, StoreError> {
    for attempt in 0..ATTEMPTS {
        let read = match lookup {
            Lookup::Known(subscriber) if attempt == 0 => Some(subscriber.clone()),
            Lookup::Known(subscriber) => store.subscriber(&subscriber.id).await?,
            Lookup::Email(email) => store.subscriber_by_email(email).await?,
        };
        let (mut subscriber, outcome) = match decide(read.as_ref()) {
            Decision::Keep(outcome) => return Ok(Decided { outcome, written: None }),
            Decision::Write(subscriber, outcome) => (subscriber, outcome),
        };
        let written = match read {
            None => store.insert_subscriber(&subscriber, now).await.map(|()| 0),
            Some(_) => store.update_subscriber(&subscriber).await,
        };
        match written {
            Ok(version) => {
                subscriber.version = version;
                return Ok(Decided { outcome, written: Some(subscriber) });
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
