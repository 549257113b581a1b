//! The suppression list: salted hashes of erased addresses.

use super::*;

#[async_trait]
impl Suppression for SqliteStore {
    async fn set_suppressed(&self, hash: &str, suppressed: bool, now: Timestamp) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.with(move |c| {
            if suppressed {
                c.execute(
                    "INSERT OR IGNORE INTO suppressed (hash, since) VALUES (?1, ?2)",
                    params![hash, now.as_second()],
                )
            } else {
                c.execute("DELETE FROM suppressed WHERE hash = ?1", [hash])
            }?;
            Ok(())
        })
        .await
    }

    async fn is_suppressed(&self, hash: &str) -> Result<bool, StoreError> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row("SELECT 1 FROM suppressed WHERE hash = ?1", [hash], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
                .map_err(StoreError::from)
        })
        .await
    }
}
