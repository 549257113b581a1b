//! The queue of subscribe intents for the confirmations worker.

use super::*;

#[async_trait]
impl Intents for DynamoStore {
    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let json = serde_json::to_string(intent).map_err(StoreError::corrupt)?;
        let expires = intent.at.saturating_add(crate::store::INTENT_TTL).unwrap_or(intent.at);
        let mut item = intent_key(intent);
        item.extend([("intent".to_owned(), s(json)), ("expires_at".to_owned(), n(expires.as_second()))]);
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
        let key = intent_key(intent);
        self.client.delete_item().table_name(&self.table).set_key(Some(key)).send().await.map_err(map_err)?;
        Ok(())
    }
}
