//! The DynamoDB store: one table, partition key `pk`, sort key `sk` (both strings).
//!
//! Item types:
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | subscriber | `SUB#<id>` | `SUB` | the [`Subscriber`] fields; `version`; `due_pk` + `due_at` while something is due; `expires_at` while pending |
//! | address lookup | `EMAIL#<address>` | `EMAIL` | `subscriber_id`; `expires_at` while pending |
//! | send claim | `SUB#<id>` | `SEND#<slug>` | `state` (claimed/sent/failed), `lease_until`, the [`SendRecord`] fields |
//! | day counters | `STATS` | `DAY#<yyyy-mm-dd>` (the list), `DAY#confirm:<yyyy-mm-dd>` (confirmation mail) | `sent`, `bounced`, `complained` (atomic `ADD`) |
//! | page views | `STATS` | `VIEWS#<yyyy-mm-dd>` | `post:<slug>`: views of the post's page that day (atomic `ADD`); no reader data |
//! | sending state | `SENDING` | `STATE` | `state`: the circuit breaker's pause, as JSON |
//! | suppression | `SUPPRESS#<salted hash>` | `SUPPRESS` | `since`: an erased address, never mailed again |
//! | budget | `BUDGET#<key>` | `BUDGET` | `used` (conditional `ADD`), `expires_at` (TTL): caps on confirmation mail |
//! | subscribe intent | `INTENT` | `<time>#<id>` | `intent` (JSON), `expires_at` (TTL): for the confirmations worker, which the table's stream wakes |
//! | reaction | `POST#<slug>` | `REACTION#<id>` | the [`crate::reactions::Reaction`] fields; `due_pk` = `REACTIONS-WAITING` + `due_at` while waiting |
//! | reaction lookup | `REACTION#<id>` | `REACTION` | `slug`: the post of a reaction known by its id |
//! | reaction of an address | `EMAIL#<address>` | `REACTION#<id>` | `slug`: a person's reactions, for their export and erase |
//!
//! - **Unique addresses.** A new subscriber is written in one transaction with its address
//!   item, on the condition that the address item does not exist (or has expired): of two
//!   racing subscribe calls for one address, one wins and the other gets
//!   [`StoreError::Conflict`].
//! - **Optimistic updates.** Every update is conditional on the `version` that was read.
//! - **TTL.** Pending subscribers (and their address item) carry `expires_at` (epoch seconds,
//!   30 days on), the table's TTL attribute: unconfirmed addresses are deleted by DynamoDB
//!   itself (data minimisation). Confirming removes it.
//! - **Sparse index `due`** (`due_pk`, `due_at`): only subscribers with a `next_due_at` carry
//!   these attributes, so the sender queries exactly the subscribers that are due, never the
//!   whole table. Waiting reactions are in the same index under their own partition
//!   (`REACTIONS-WAITING`), so the author's waiting list is one query too.

mod counters;
mod intents;
mod keys;
mod reactions;
mod sends;
mod subscribers;
mod suppression;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use jiff::{SignedDuration, Timestamp};

use super::{
    Budget, Claim, Count, DayStats, DueCursor, DuePage, Ledger, PageViews, Pause, SendRecord, SendResult, SendState,
    SendingState, StoreError,
};
#[allow(unused_imports)] // for the capability files, through `use super::*`
use crate::store::{Counters, Intents, Sends, Subscribers, Suppression};
use crate::subscribers::{SubscribeIntent, Subscriber, SubscriberEmail, SubscriberId};
use keys::*;
pub use keys::{DUE_INDEX, INTENT_PARTITION};

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn expires_at(subscriber: &Subscriber) -> Option<i64> {
    subscriber.pending_until().map(|t| t.as_second())
}

/// Maps an SDK error: a lost condition (or a transaction that lost one) is a conflict.
fn map_err<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError {
    match err.code() {
        Some("ConditionalCheckFailedException" | "TransactionCanceledException" | "TransactionConflictException") => {
            StoreError::Conflict
        }
        // One item refused (too large, say): a fault of that record, not of the store.
        Some("ValidationException") => StoreError::corrupt(err),
        _ => StoreError::unavailable(err),
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore { client, table: table.into() }
    }

    /// Creates the table as the SAM template declares it (for tests and DynamoDB Local).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(StoreError::corrupt)
        };
        let attr = |name: &str, kind| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
                .map_err(StoreError::corrupt)
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk", ScalarAttributeType::S)?)
            .attribute_definitions(attr("sk", ScalarAttributeType::S)?)
            .attribute_definitions(attr("due_pk", ScalarAttributeType::S)?)
            .attribute_definitions(attr("due_at", ScalarAttributeType::N)?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(DUE_INDEX)
                    .key_schema(key("due_pk", KeyType::Hash)?)
                    .key_schema(key("due_at", KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                    .build()
                    .map_err(StoreError::corrupt)?,
            )
            .send()
            .await
            .map_err(map_err)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .map_err(StoreError::corrupt)?,
            )
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn subscriber_item(
        &self,
        subscriber: &Subscriber,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(subscriber).map_err(StoreError::corrupt)?;
        item.extend(subscriber_key(&subscriber.id));
        item.insert("version".into(), n(version));
        if let Some(due) = subscriber.next_due_at {
            item.insert("due_pk".into(), s(DUE_PARTITION));
            item.insert("due_at".into(), n(due.as_second()));
        }
        if let Some(expires) = expires_at(subscriber) {
            item.insert("expires_at".into(), n(expires));
        }
        Ok(item)
    }

    /// A strongly consistent read of one item.
    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out.item)
    }

    fn put(&self, item: HashMap<String, AttributeValue>) -> Result<Put, StoreError> {
        Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(StoreError::corrupt)
    }

    async fn write(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map_err(map_err)?;
        Ok(())
    }
}

/// Every item of a paged query or scan: `page` fetches one page from a start key and returns
/// its items and the next start key.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    T: serde::de::DeserializeOwned,
    F: FnMut(Option<Item>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<Item>, Option<Item>), StoreError>>,
{
    let mut all = Vec::new();
    let mut start = None;
    loop {
        let (items, next) = page(start).await?;
        for item in items {
            all.push(serde_dynamo::from_item(item).map_err(StoreError::corrupt)?);
        }
        match next {
            Some(next) => start = Some(next),
            None => return Ok(all),
        }
    }
}

impl DynamoStore {
    /// Every item of the partition `pk` whose sort key begins with `prefix` (strongly
    /// consistent, page by page): a subscriber's sends, a post's reactions.
    async fn query_prefix<T: serde::de::DeserializeOwned>(&self, pk: &str, prefix: &str) -> Result<Vec<T>, StoreError> {
        all_pages(|start| async {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(map_err)?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    /// Every item the scan's `filter` keeps (with its `values`): for the operator's commands
    /// now and then, never the sender's work.
    async fn scan_filtered<T: serde::de::DeserializeOwned>(
        &self,
        filter: &str,
        values: &[(&str, &str)],
    ) -> Result<Vec<T>, StoreError> {
        all_pages(|start| async {
            let mut scan = self.client.scan().table_name(&self.table).filter_expression(filter);
            for (name, value) in values {
                scan = scan.expression_attribute_values(*name, s(*value));
            }
            let out = scan.consistent_read(true).set_exclusive_start_key(start).send().await.map_err(map_err)?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    async fn send_record(&self, subscriber: &SubscriberId, slug: &str) -> Result<Option<SendRecord>, StoreError> {
        let item = self.get(send_key(subscriber, slug)).await?;
        item.map(|item| serde_dynamo::from_item(item).map_err(StoreError::corrupt)).transpose()
    }
}
