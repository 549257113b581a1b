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
//! | sending state | `SENDING` | `STATE` | `state`: the circuit breaker's pause, as JSON |
//! | suppression | `SUPPRESS#<salted hash>` | `SUPPRESS` | `since`: an erased address, never mailed again |
//! | budget | `BUDGET#<key>` | `BUDGET` | `used` (conditional `ADD`), `expires_at` (TTL): caps on confirmation mail |
//! | subscribe intent | `INTENT` | `<time>#<id>` | `intent` (JSON), `expires_at` (TTL): for the confirmations worker, which the table's stream wakes |
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
//!   whole table.

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
    Claim, DayStats, DueCursor, DuePage, Ledger, Pause, SendRecord, SendResult, SendState, SendingState, Store,
    StoreError,
};
use crate::subscribers::{SubscribeIntent, Subscriber, SubscriberEmail, SubscriberId};

/// Name of the sparse index the sender reads.
pub const DUE_INDEX: &str = "due";
/// Constant partition of the due index (one list, well under DynamoDB's per-partition limits).
const DUE_PARTITION: &str = "DUE";
/// The partition of recorded subscribe intents (the stream filter of the confirmations
/// function matches it).
pub const INTENT_PARTITION: &str = "INTENT";

/// Sorts intents by time: milliseconds, zero-padded, then the id.
fn intent_sort_key(intent: &SubscribeIntent) -> String {
    format!("{:016}#{}", intent.at.as_millisecond().max(0), intent.id)
}

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn subscriber_key(id: &SubscriberId) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(format!("SUB#{id}"))), ("sk".to_owned(), s("SUB"))])
}

fn email_key(email: &SubscriberEmail) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(format!("EMAIL#{email}"))), ("sk".to_owned(), s("EMAIL"))])
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

#[async_trait]
impl Store for DynamoStore {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        let item = self.get(subscriber_key(id)).await?;
        item.map(|item| serde_dynamo::from_item(item).map_err(StoreError::corrupt)).transpose()
    }

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError> {
        let item = self.get(email_key(email)).await?;
        let Some(id) = item.as_ref().and_then(|i| i.get("subscriber_id")).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let id: SubscriberId = id.parse().map_err(|e: String| StoreError::Corrupt(e.into()))?;
        // The address item may outlive an expired subscriber by a little (TTL is not atomic).
        self.subscriber(&id).await
    }

    async fn insert_subscriber(&self, subscriber: &Subscriber, now: Timestamp) -> Result<(), StoreError> {
        let now = now.as_second();
        let mut email_item = email_key(&subscriber.email);
        email_item.insert("subscriber_id".into(), s(subscriber.id.to_string()));
        if let Some(expires) = expires_at(subscriber) {
            email_item.insert("expires_at".into(), n(expires));
        }
        let email_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(email_item))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(StoreError::corrupt)?;
        let mut subscriber_put = self.put(self.subscriber_item(subscriber, 0)?)?;
        subscriber_put.condition_expression = Some("attribute_not_exists(pk)".into());
        self.write(vec![
            TransactWriteItem::builder().put(email_put).build(),
            TransactWriteItem::builder().put(subscriber_put).build(),
        ])
        .await
    }

    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError> {
        let next = subscriber.version + 1;
        let mut put = self.put(self.subscriber_item(subscriber, next)?)?;
        put.condition_expression = Some("version = :expected".into());
        put.expression_attribute_values = Some(HashMap::from([(":expected".into(), n(subscriber.version))]));
        // The address item follows the subscriber's pending TTL.
        let email_update = match expires_at(subscriber) {
            Some(expires) => {
                Update::builder().update_expression("SET expires_at = :e").expression_attribute_values(":e", n(expires))
            }
            None => Update::builder().update_expression("REMOVE expires_at"),
        }
        .table_name(&self.table)
        .set_key(Some(email_key(&subscriber.email)))
        .condition_expression("subscriber_id = :id")
        .expression_attribute_values(":id", s(subscriber.id.to_string()))
        .build()
        .map_err(StoreError::corrupt)?;
        self.write(vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(email_update).build(),
        ])
        .await?;
        Ok(next)
    }

    async fn due_subscribers(
        &self,
        now: Timestamp,
        after: Option<&DueCursor>,
        limit: usize,
    ) -> Result<DuePage, StoreError> {
        let start_key = after.map(|c| {
            let mut key = subscriber_key(&c.id);
            key.insert("due_pk".into(), s(DUE_PARTITION));
            key.insert("due_at".into(), n(c.due_at));
            key
        });
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("due_pk = :p AND due_at <= :now")
            .expression_attribute_values(":p", s(DUE_PARTITION))
            .expression_attribute_values(":now", n(now.as_second()))
            .set_exclusive_start_key(start_key)
            .limit(limit.min(1000) as i32)
            .send()
            .await
            .map_err(map_err)?;
        let mut page = DuePage::default();
        for item in out.items() {
            let id = item.get("pk").and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("SUB#"));
            let id: SubscriberId = id.unwrap_or_default().parse().map_err(|e: String| StoreError::Corrupt(e.into()))?;
            page.subscribers.push(id);
        }
        page.next = out.last_evaluated_key().and_then(|key| {
            let due_at = key.get("due_at")?.as_n().ok()?.parse().ok()?;
            let id = key.get("pk")?.as_s().ok()?.strip_prefix("SUB#")?.parse().ok()?;
            Some(DueCursor { due_at, id })
        });
        Ok(page)
    }

    async fn claim_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        now: Timestamp,
        hold: SignedDuration,
    ) -> Result<Claim, StoreError> {
        let record = SendRecord::claimed(slug, now, hold);
        let lease_until = record.lease_until;
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&record).map_err(StoreError::corrupt)?;
        item.extend(send_key(subscriber, slug));
        item.insert("lease_until_s".into(), n(lease_until.as_second()));
        // One transaction: the subscriber is still confirmed, and the send is free to claim.
        let still_confirmed = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(subscriber_key(subscriber)))
            .condition_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":confirmed", s("confirmed"))
            .build()
            .map_err(StoreError::corrupt)?;
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR (#state = :claimed AND lease_until_s < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":now", n(now.as_second()))
            .build()
            .map_err(StoreError::corrupt)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(still_confirmed).build())
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(err) => err,
        };
        // Which condition failed: the cancellation reasons are in the order of the items.
        let reasons: Vec<Option<String>> = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                e.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
            }
            _ => return Err(map_err(err)),
        };
        let failed = |i: usize| reasons.get(i).and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed");
        if failed(1) {
            let done = self.send_record(subscriber, slug).await?.is_some_and(|r| r.state != SendState::Claimed);
            if done {
                return Ok(Claim::Done);
            }
        }
        Ok(if failed(0) {
            Claim::NotConfirmed
        } else {
            // The send's own condition, or a transaction racing on the same items.
            Claim::HeldElsewhere
        })
    }

    async fn release_claim(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        held_until: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(send_key(subscriber, slug)))
            .condition_expression("#state = :claimed AND lease_until_s = :mine")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":mine", n(held_until.as_second()))
            .send()
            .await;
        match result.map_err(map_err) {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn record_send_event(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        message_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(subscriber, slug)))
            .update_expression("SET #state = :sent, message_id = :id, finished_at = :at")
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":id", s(message_id))
            .expression_attribute_values(":at", s(at.to_string()))
            .send()
            .await;
        match result.map_err(map_err) {
            // No record, or one with a result already: nothing to settle.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn finish_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        result: &SendResult,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (state, field, value) = match result {
            SendResult::Sent { message_id } => ("sent", "message_id", message_id),
            SendResult::Failed { reason } => ("failed", "reason", reason),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(send_key(subscriber, slug)))
            .update_expression("SET #state = :state, #field = :value, finished_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#field", field)
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":value", s(value.clone()))
            .expression_attribute_values(":at", s(now.to_string()))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn sends(&self, subscriber: &SubscriberId) -> Result<Vec<SendRecord>, StoreError> {
        let pk = format!("SUB#{subscriber}");
        all_pages(|start| async {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :send)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":send", s("SEND#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(map_err)?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("STATS"))
            .key("sk", s(format!("DAY#{}", super::day_key(ledger, day))))
            .update_expression("ADD sent :s, bounced :b, complained :c")
            .expression_attribute_values(":s", n(delta.sent))
            .expression_attribute_values(":b", n(delta.bounced))
            .expression_attribute_values(":c", n(delta.complained))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s("STATS"))
            .expression_attribute_values(":from", s(format!("DAY#{}", super::day_key(ledger, from))))
            .expression_attribute_values(":to", s(format!("DAY#{}", super::day_key(ledger, to))))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        let count = |item: &HashMap<String, AttributeValue>, k: &str| {
            item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        let mut total = DayStats::default();
        for item in out.items() {
            total += DayStats {
                sent: count(item, "sent"),
                bounced: count(item, "bounced"),
                complained: count(item, "complained"),
            };
        }
        Ok(total)
    }

    async fn sending_state(&self) -> Result<SendingState, StoreError> {
        let item = self.get(sending_key()).await?;
        let json = |name: &str| item.as_ref().and_then(|i| i.get(name)).and_then(|v| v.as_s().ok());
        let mut state: SendingState = match json("state") {
            Some(json) => serde_json::from_str(json).map_err(StoreError::corrupt)?,
            None => SendingState::default(),
        };
        state.problem = json("problem").map(|p| serde_json::from_str(p).map_err(StoreError::corrupt)).transpose()?;
        Ok(state)
    }

    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError> {
        let json = serde_json::to_string(state).map_err(StoreError::corrupt)?;
        // An update, not a put: the problem attribute next to it stays as it is.
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(sending_key()))
            .update_expression("SET #state = :state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(json))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError> {
        let update = self.client.update_item().table_name(&self.table).set_key(Some(sending_key()));
        let update = match problem {
            Some(p) => update
                .update_expression("SET problem = :p")
                .expression_attribute_values(":p", s(serde_json::to_string(p).map_err(StoreError::corrupt)?)),
            None => update.update_expression("REMOVE problem"),
        };
        update.send().await.map_err(map_err)?;
        Ok(())
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        all_pages(|start| async {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :sub")
                .expression_attribute_values(":sub", s("SUB"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(map_err)?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await
    }

    async fn erase_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError> {
        let mut keys = vec![subscriber_key(&subscriber.id), email_key(&subscriber.email)];
        keys.extend(self.sends(&subscriber.id).await?.iter().map(|r| send_key(&subscriber.id, &r.slug)));
        // At most 100 items per transaction: the profile and lookup go in the first.
        for chunk in keys.chunks(100) {
            let items = chunk
                .iter()
                .map(|key| {
                    let delete = aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key.clone()))
                        .build()
                        .map_err(StoreError::corrupt)?;
                    Ok(TransactWriteItem::builder().delete(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write(items).await?;
        }
        Ok(())
    }

    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError> {
        let key =
            || HashMap::from([("pk".to_owned(), s(format!("SUPPRESS#{hash}"))), ("sk".to_owned(), s("SUPPRESS"))]);
        if suppressed {
            let mut item = key();
            item.insert("since".into(), n(now.as_second()));
            self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(map_err)?;
        } else {
            self.client.delete_item().table_name(&self.table).set_key(Some(key())).send().await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn take_budget(&self, key: &str, limit: u32, expires_at: Timestamp) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("BUDGET#{key}")))
            .key("sk", s("BUDGET"))
            .update_expression("ADD used :one SET expires_at = if_not_exists(expires_at, :expires)")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":expires", n(expires_at.as_second()))
            .send()
            .await;
        match taken.map_err(map_err) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let json = serde_json::to_string(intent).map_err(StoreError::corrupt)?;
        let expires = intent.at.saturating_add(super::INTENT_TTL).unwrap_or(intent.at);
        let item = HashMap::from([
            ("pk".to_owned(), s(INTENT_PARTITION)),
            ("sk".to_owned(), s(intent_sort_key(intent))),
            ("intent".to_owned(), s(json)),
            ("expires_at".to_owned(), n(expires.as_second())),
        ]);
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(map_err)?;
        Ok(())
    }

    async fn pending_intents(&self, limit: usize) -> Result<Vec<SubscribeIntent>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(INTENT_PARTITION))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        out.items()
            .iter()
            .filter_map(|item| item.get("intent").and_then(|v| v.as_s().ok()))
            .map(|json| serde_json::from_str(json).map_err(StoreError::corrupt))
            .collect()
    }

    async fn forget_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let key =
            HashMap::from([("pk".to_owned(), s(INTENT_PARTITION)), ("sk".to_owned(), s(intent_sort_key(intent)))]);
        self.client.delete_item().table_name(&self.table).set_key(Some(key)).send().await.map_err(map_err)?;
        Ok(())
    }

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError> {
        let item = self
            .get(HashMap::from([("pk".to_owned(), s(format!("SUPPRESS#{hash}"))), ("sk".to_owned(), s("SUPPRESS"))]))
            .await?;
        Ok(item.is_some())
    }
}

type Item = HashMap<String, AttributeValue>;

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

fn sending_key() -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s("SENDING")), ("sk".to_owned(), s("STATE"))])
}

fn send_key(subscriber: &SubscriberId, slug: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(format!("SUB#{subscriber}"))), ("sk".to_owned(), s(format!("SEND#{slug}")))])
}

impl DynamoStore {
    async fn send_record(&self, subscriber: &SubscriberId, slug: &str) -> Result<Option<SendRecord>, StoreError> {
        let item = self.get(send_key(subscriber, slug)).await?;
        item.map(|item| serde_dynamo::from_item(item).map_err(StoreError::corrupt)).transpose()
    }
}
