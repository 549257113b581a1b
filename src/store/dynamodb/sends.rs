//! Claims and results of (subscriber, post) sends: the sender's exactly-once bookkeeping.

use super::*;

#[async_trait]
impl Sends for DynamoStore {
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
        self.query_prefix(&subscriber_pk(subscriber), &send_sk("")).await
    }
}
