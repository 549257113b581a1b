//! The queue of subscribe intents for the confirmations worker.

use super::*;

#[async_trait]
impl Intents for SqliteStore {
    async fn record_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let data = serde_json::to_string(intent).map_err(StoreError::corrupt)?;
        let (id, at) = (intent.id.clone(), intent.at.as_millisecond());
        self.with(move |c| {
            c.execute("INSERT OR IGNORE INTO intents (id, at, data) VALUES (?1, ?2, ?3)", params![id, at, data])?;
            Ok(())
        })
        .await
    }

    async fn pending_intents(&self, limit: usize) -> Result<Vec<SubscribeIntent>, StoreError> {
        self.with(move |c| {
            let mut statement = c.prepare("SELECT data FROM intents ORDER BY at, id LIMIT ?1")?;
            let rows =
                statement.query_map([limit as i64], |r| r.get::<_, String>(0))?.collect::<Result<Vec<String>, _>>()?;
            rows.iter().map(|json| serde_json::from_str(json).map_err(StoreError::corrupt)).collect()
        })
        .await
    }

    async fn forget_intent(&self, intent: &SubscribeIntent) -> Result<(), StoreError> {
        let id = intent.id.clone();
        self.with(move |c| {
            c.execute("DELETE FROM intents WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }
}
