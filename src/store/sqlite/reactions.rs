//! Reactions under posts: one row each, the reaction as JSON next to the columns that are
//! queried (the post, the status, the time).

use super::*;
use crate::reactions::{Reaction, ReactionId, ReactionStatus};
use crate::store::{ReactionChange, Reactions};

fn status_of(reaction: &Reaction) -> &'static str {
    match reaction.status {
        ReactionStatus::Waiting => "waiting",
        ReactionStatus::Published => "published",
    }
}

fn read_rows(
    statement: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<Reaction>, StoreError> {
    let rows = statement.query_map(params, |r| r.get::<_, String>(0))?.collect::<Result<Vec<String>, _>>()?;
    rows.iter().map(|json| serde_json::from_str(json).map_err(StoreError::corrupt)).collect()
}

fn write_row(c: &Connection, reaction: &Reaction, insert: bool) -> Result<usize, StoreError> {
    let data = serde_json::to_string(reaction).map_err(StoreError::corrupt)?;
    let sql = if insert {
        "INSERT INTO reactions (id, slug, status, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5)"
    } else {
        "UPDATE reactions SET slug = ?2, status = ?3, created_at = ?4, data = ?5 WHERE id = ?1"
    };
    let params = params![
        reaction.id.to_string(),
        reaction.slug,
        status_of(reaction),
        reaction.created_at.as_millisecond(),
        data
    ];
    match c.execute(sql, params) {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict)
        }
        other => Ok(other?),
    }
}

fn read_one(c: &Connection, id: &str) -> Result<Option<Reaction>, StoreError> {
    let json: Option<String> =
        c.query_row("SELECT data FROM reactions WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    json.map(|json| serde_json::from_str(&json).map_err(StoreError::corrupt)).transpose()
}

#[async_trait]
impl Reactions for SqliteStore {
    async fn insert_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        let reaction = reaction.clone();
        self.with(move |c| write_row(c, &reaction, true).map(|_| ())).await
    }

    async fn reaction(&self, id: &ReactionId) -> Result<Option<Reaction>, StoreError> {
        let id = id.to_string();
        self.with(move |c| read_one(c, &id)).await
    }

    async fn change_reaction(
        &self,
        reaction: &Reaction,
        change: &ReactionChange,
    ) -> Result<Option<Reaction>, StoreError> {
        let (id, change) = (reaction.id.to_string(), change.clone());
        self.with(move |c| {
            // Read and write in one transaction: a change made meanwhile is never undone.
            let tx = c.transaction()?;
            let Some(mut stored) = read_one(&tx, &id)? else { return Ok(None) };
            match change {
                ReactionChange::Approve { at } => {
                    if let Some(approved) = stored.approved(at) {
                        stored = approved;
                    }
                }
                ReactionChange::Answer(answer) => stored.answer = Some(answer),
                ReactionChange::Notified => stored.notified = true,
            }
            write_row(&tx, &stored, false)?;
            tx.commit()?;
            Ok(Some(stored))
        })
        .await
    }

    async fn delete_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        let id = reaction.id.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM reactions WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    async fn reactions_of_post(&self, slug: &str) -> Result<Vec<Reaction>, StoreError> {
        let slug = slug.to_owned();
        self.with(move |c| {
            let mut statement = c.prepare("SELECT data FROM reactions WHERE slug = ?1 ORDER BY created_at, id")?;
            read_rows(&mut statement, [slug])
        })
        .await
    }

    async fn waiting_reactions(&self, limit: usize, newest_first: bool) -> Result<Vec<Reaction>, StoreError> {
        self.with(move |c| {
            let mut statement = c.prepare(if newest_first {
                "SELECT data FROM reactions WHERE status = 'waiting' ORDER BY created_at DESC, id DESC LIMIT ?1"
            } else {
                "SELECT data FROM reactions WHERE status = 'waiting' ORDER BY created_at, id LIMIT ?1"
            })?;
            read_rows(&mut statement, [limit as i64])
        })
        .await
    }

    async fn reactions_of_address(&self, email: &SubscriberEmail) -> Result<Vec<Reaction>, StoreError> {
        let email = email.as_str().to_owned();
        self.with(move |c| {
            let mut statement = c.prepare(
                "SELECT data FROM reactions WHERE json_extract(data, '$.email') = ?1 ORDER BY created_at, id",
            )?;
            read_rows(&mut statement, [email])
        })
        .await
    }

    async fn all_reactions(&self) -> Result<Vec<Reaction>, StoreError> {
        self.with(move |c| {
            let mut statement = c.prepare("SELECT data FROM reactions ORDER BY created_at, id")?;
            read_rows(&mut statement, [])
        })
        .await
    }
}
