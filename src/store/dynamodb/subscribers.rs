//! Subscriber records: read, insert, update conditionally, the due index, list, erase.

use super::*;

impl DynamoStore {
    /// The writes of a conditional update of `subscriber` (its record and its address item),
    /// for one transaction alone or with others.
    pub(super) fn subscriber_update_items(
        &self,
        subscriber: &Subscriber,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
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
        Ok(vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(email_update).build(),
        ])
    }
}

#[async_trait]
impl Subscribers for DynamoStore {
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

    async fn move_subscriber(
        &self,
        subscriber: &Subscriber,
        old: &SubscriberEmail,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let next = subscriber.version + 1;
        let mut record = self.put(self.subscriber_item(subscriber, next)?)?;
        record.condition_expression = Some("version = :expected".into());
        record.expression_attribute_values = Some(HashMap::from([(":expected".into(), n(subscriber.version))]));
        let mut new_address = email_key(&subscriber.email);
        new_address.insert("subscriber_id".into(), s(subscriber.id.to_string()));
        let new_address = Put::builder()
            .table_name(&self.table)
            .set_item(Some(new_address))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(now.as_second()))
            .build()
            .map_err(StoreError::corrupt)?;
        let old_address = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(email_key(old)))
            .condition_expression("subscriber_id = :id")
            .expression_attribute_values(":id", s(subscriber.id.to_string()))
            .build()
            .map_err(StoreError::corrupt)?;
        self.write(vec![
            TransactWriteItem::builder().put(record).build(),
            TransactWriteItem::builder().put(new_address).build(),
            TransactWriteItem::builder().delete(old_address).build(),
        ])
        .await?;
        Ok(next)
    }

    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError> {
        self.write(self.subscriber_update_items(subscriber)?).await?;
        Ok(subscriber.version + 1)
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
            let id =
                subscriber_of(item).ok_or_else(|| StoreError::Corrupt("a due item without a subscriber id".into()))?;
            page.subscribers.push(id);
        }
        page.next = out.last_evaluated_key().and_then(|key| {
            let due_at = key.get("due_at")?.as_n().ok()?.parse().ok()?;
            let id = subscriber_of(key)?;
            Some(DueCursor { due_at, id })
        });
        Ok(page)
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.scan_filtered("sk = :sub", &[(":sub", "SUB")]).await
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
}
