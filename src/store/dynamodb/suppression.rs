//! The suppression list: salted hashes of erased addresses.

use super::*;

#[async_trait]
impl Suppression for DynamoStore {
    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError> {
        let key = || suppression_key(hash);
        if suppressed {
            let mut item = key();
            item.insert("since".into(), n(now.as_second()));
            self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(map_err)?;
        } else {
            self.client.delete_item().table_name(&self.table).set_key(Some(key())).send().await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError> {
        let item = self.get(suppression_key(hash)).await?;
        Ok(item.is_some())
    }
}
