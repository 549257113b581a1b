//! The Store port: where subscribers live. Two implementations pass one contract test suite
//! (`tests/suite/store_contract.rs`), so the local mode behaves like the cloud:
//!
//! - [`dynamodb::DynamoStore`]: the single DynamoDB table of the SAM stack;
//! - [`sqlite::SqliteStore`]: an embedded SQLite file under the local data folder.

pub mod dynamodb;
pub mod sqlite;

use async_trait::async_trait;

use crate::subscribers::{Subscriber, SubscriberEmail, SubscriberId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the address exists already, or the subscriber changed since
    /// it was read. Read again and decide again.
    #[error("the record changed or exists already")]
    Conflict,
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored record could not be read")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Unavailable(Box::new(e))
    }

    pub fn corrupt(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Corrupt(Box::new(e))
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError>;

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError>;

    /// Stores a new subscriber (with `version` 0). [`StoreError::Conflict`] when the address
    /// or the id is taken: of two racing requests for one address, exactly one succeeds.
    async fn insert_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;

    /// Replaces a subscriber if the stored `version` equals `subscriber.version`, storing it
    /// with the version raised by one (returned). [`StoreError::Conflict`] otherwise.
    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError>;
}
