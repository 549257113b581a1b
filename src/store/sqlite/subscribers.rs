//! Subscriber records: read, insert, update conditionally, the due index, list, erase.

use super::*;

/// The conditional update of one subscriber (also inside a larger transaction): the new
/// version, or [`StoreError::Conflict`] when the stored one is not `expected`.
pub(super) fn update_subscriber_in(
    c: &Connection,
    id: &str,
    due: Option<i64>,
    data: &str,
    expected: u64,
) -> Result<u64, StoreError> {
    let changed = c.execute(
        "UPDATE subscribers SET version = version + 1, next_due_at = ?2, data = ?3 WHERE id = ?1 AND version = ?4",
        params![id, due, data, expected as i64],
    )?;
    if changed == 1 { Ok(expected + 1) } else { Err(StoreError::Conflict) }
}

/// Lets go of `email` if a pending record past its expiry holds it (the twin of DynamoDB's
/// TTL on pending records). True when a live record holds it.
fn address_taken(tx: &Connection, email: &str, now: Timestamp) -> Result<bool, StoreError> {
    let holder: Option<(String, i64)> = tx
        .query_row("SELECT data, version FROM subscribers WHERE email = ?1", [email], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((data, version)) = holder else { return Ok(false) };
    let holder = from_json(data, version)?;
    if holder.pending_until().is_some_and(|until| until < now) {
        tx.execute("DELETE FROM subscribers WHERE id = ?1", [holder.id.to_string()])?;
        return Ok(false);
    }
    Ok(true)
}

#[async_trait]
impl Subscribers for SqliteStore {
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            c.query_row("SELECT data, version FROM subscribers WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .map(|(d, v)| from_json(d, v))
                .transpose()
        })
        .await
    }

    async fn subscriber_by_email(&self, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError> {
        let email = email.to_string();
        self.with(move |c| {
            c.query_row("SELECT data, version FROM subscribers WHERE email = ?1", [email], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .map(|(d, v)| from_json(d, v))
            .transpose()
        })
        .await
    }

    async fn insert_subscriber(&self, subscriber: &Subscriber, now: Timestamp) -> Result<(), StoreError> {
        let (id, email, due, data) =
            (subscriber.id.to_string(), subscriber.email.to_string(), due(subscriber), to_json(subscriber)?);
        self.with(move |c| {
            let tx = c.transaction()?;
            // A live holder makes the insert below fail on the address's uniqueness.
            address_taken(&tx, &email, now)?;
            match tx.execute(
                "INSERT INTO subscribers (id, email, version, next_due_at, data) VALUES (?1, ?2, 0, ?3, ?4)",
                params![id, email, due, data],
            ) {
                Ok(_) => Ok(tx.commit()?),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(StoreError::Conflict)
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn move_subscriber(
        &self,
        subscriber: &Subscriber,
        _old: &SubscriberEmail,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (id, email, due, data) =
            (subscriber.id.to_string(), subscriber.email.to_string(), due(subscriber), to_json(subscriber)?);
        let expected = subscriber.version;
        self.with(move |c| {
            let tx = c.transaction()?;
            if address_taken(&tx, &email, now)? {
                return Err(StoreError::Conflict);
            }
            let changed = tx.execute(
                "UPDATE subscribers SET email = ?2, version = version + 1, next_due_at = ?3, data = ?4 \
                 WHERE id = ?1 AND version = ?5",
                params![id, email, due, data, expected as i64],
            )?;
            if changed != 1 {
                return Err(StoreError::Conflict);
            }
            tx.commit()?;
            Ok(expected + 1)
        })
        .await
    }

    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<u64, StoreError> {
        let (id, due, data) = (subscriber.id.to_string(), due(subscriber), to_json(subscriber)?);
        let expected = subscriber.version;
        self.with(move |c| update_subscriber_in(c, &id, due, &data, expected)).await
    }

    async fn due_subscribers(
        &self,
        now: Timestamp,
        after: Option<&DueCursor>,
        limit: usize,
    ) -> Result<DuePage, StoreError> {
        let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |c| (c.due_at, c.id.to_string()));
        let now = now.as_second();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, next_due_at FROM subscribers
                     WHERE next_due_at IS NOT NULL AND next_due_at <= ?1 AND (next_due_at, id) > (?2, ?3)
                     ORDER BY next_due_at, id LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![now, after_at, after_id, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            let mut page = DuePage::default();
            let mut last = None;
            for row in rows {
                let (id, due_at) = row?;
                let id: SubscriberId = id.parse().map_err(|e: String| StoreError::Corrupt(e.into()))?;
                last = Some(DueCursor { due_at, id: id.clone() });
                page.subscribers.push(id);
            }
            if page.subscribers.len() == limit {
                page.next = last;
            }
            Ok(page)
        })
        .await
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT data, version FROM subscribers ORDER BY rowid")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.map(|r| r.map_err(StoreError::from).and_then(|(d, v)| from_json(d, v))).collect()
        })
        .await
    }

    async fn erase_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError> {
        let id = subscriber.id.to_string();
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM sends WHERE subscriber_id = ?1", [&id])?;
            tx.execute("DELETE FROM subscribers WHERE id = ?1", [&id])?;
            tx.commit().map_err(StoreError::from)
        })
        .await
    }
}
