//! Claims and results of (subscriber, post) sends: the sender's exactly-once bookkeeping.

use super::*;

#[async_trait]
impl Sends for SqliteStore {
    async fn claim_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        now: Timestamp,
        hold: SignedDuration,
    ) -> Result<Claim, StoreError> {
        let (id, slug) = (subscriber.to_string(), slug.to_owned());
        let record = SendRecord::claimed(&slug, now, hold);
        let lease_until = record.lease_until;
        let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
        self.with(move |c| {
            // One statement: the subscriber's status is checked in the same write as the claim.
            let changed = c
                .execute(
                    "INSERT INTO sends (subscriber_id, slug, state, lease_until, data)
                     SELECT ?1, ?2, 'claimed', ?3, ?4
                     WHERE EXISTS (SELECT 1 FROM subscribers WHERE id = ?1 AND json_extract(data, '$.status') = 'confirmed')
                     ON CONFLICT (subscriber_id, slug) DO UPDATE SET lease_until = excluded.lease_until, data = excluded.data
                     WHERE sends.state = 'claimed' AND sends.lease_until < ?5",
                    params![id, slug, lease_until.as_second(), data, now.as_second()],
                )
                ?;
            if changed == 1 {
                return Ok(Claim::Claimed);
            }
            let confirmed = c
                .query_row(
                    "SELECT 1 FROM subscribers WHERE id = ?1 AND json_extract(data, '$.status') = 'confirmed'",
                    [&id],
                    |_| Ok(()),
                )
                .optional()
                ?
                .is_some();
            Ok(match Self::read_send(c, &id, &slug)?.map(|r| r.state) {
                Some(SendState::Sent | SendState::Failed) => Claim::Done,
                _ if !confirmed => Claim::NotConfirmed,
                Some(SendState::Claimed) | None => Claim::HeldElsewhere,
            })
        })
        .await
    }

    async fn release_claim(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        held_until: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug) = (subscriber.to_string(), slug.to_owned());
        self.with(move |c| {
            c.execute(
                "DELETE FROM sends WHERE subscriber_id = ?1 AND slug = ?2 AND state = 'claimed' AND lease_until = ?3",
                params![id, slug, held_until.as_second()],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_send_event(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        message_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug, message_id) = (subscriber.to_string(), slug.to_owned(), message_id.to_owned());
        self.with(move |c| {
            let Some(mut record) = Self::read_send(c, &id, &slug)? else { return Ok(()) };
            if record.state != SendState::Claimed {
                return Ok(());
            }
            record.state = SendState::Sent;
            record.message_id = Some(message_id);
            record.finished_at = Some(at);
            let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
            c.execute(
                "UPDATE sends SET state = 'sent', data = ?3 WHERE subscriber_id = ?1 AND slug = ?2 AND state = 'claimed'",
                params![id, slug, data],
            )
            ?;
            Ok(())
        })
        .await
    }

    async fn finish_send(
        &self,
        subscriber: &SubscriberId,
        slug: &str,
        result: &SendResult,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, slug, result) = (subscriber.to_string(), slug.to_owned(), result.clone());
        self.with(move |c| {
            let mut record = Self::read_send(c, &id, &slug)?.ok_or(StoreError::Conflict)?;
            record.finished_at = Some(now);
            match result {
                SendResult::Sent { message_id } => {
                    record.state = SendState::Sent;
                    record.message_id = Some(message_id);
                }
                SendResult::Failed { reason } => {
                    record.state = SendState::Failed;
                    record.reason = Some(reason);
                }
            }
            let data = serde_json::to_string(&record).map_err(StoreError::corrupt)?;
            c.execute(
                "UPDATE sends SET state = ?3, data = ?4 WHERE subscriber_id = ?1 AND slug = ?2",
                params![id, slug, state_name(record.state), data],
            )?;
            Ok(())
        })
        .await
    }

    async fn sends(&self, subscriber: &SubscriberId) -> Result<Vec<SendRecord>, StoreError> {
        let id = subscriber.to_string();
        self.with(move |c| {
            let mut stmt = c.prepare("SELECT data FROM sends WHERE subscriber_id = ?1 ORDER BY rowid")?;
            let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
            rows.map(|r| serde_json::from_str(&r?).map_err(StoreError::corrupt)).collect()
        })
        .await
    }
}
