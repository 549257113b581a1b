//! Reactions under posts: each under its post's key (one query per post), a lookup item per
//! id, and the waiting ones in the sparse index `due` under their own partition.

use aws_sdk_dynamodb::types::{Delete, ReturnValue};

use super::*;
use crate::reactions::{Reaction, ReactionId, ReactionStatus};
use crate::store::{ReactionChange, Reactions};

impl DynamoStore {
    fn reaction_item(&self, reaction: &Reaction) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(reaction).map_err(StoreError::corrupt)?;
        item.extend(reaction_key(&reaction.slug, &reaction.id));
        if reaction.status == ReactionStatus::Waiting {
            item.insert("due_pk".into(), s(WAITING_REACTIONS_PARTITION));
            item.insert("due_at".into(), n(reaction.created_at.as_second()));
        }
        Ok(item)
    }

    fn delete(&self, key: Item) -> Result<TransactWriteItem, StoreError> {
        let delete =
            Delete::builder().table_name(&self.table).set_key(Some(key)).build().map_err(StoreError::corrupt)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

fn reaction_of(item: Item) -> Result<Reaction, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::corrupt)
}

fn oldest_first(mut reactions: Vec<Reaction>) -> Vec<Reaction> {
    reactions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    reactions
}

#[async_trait]
impl Reactions for DynamoStore {
    async fn insert_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        let pointer = |mut key: Item| {
            key.insert("slug".into(), s(reaction.slug.clone()));
            let mut put = self.put(key)?;
            put.condition_expression = Some("attribute_not_exists(pk)".into());
            Ok::<_, StoreError>(TransactWriteItem::builder().put(put).build())
        };
        let mut record = self.put(self.reaction_item(reaction)?)?;
        record.condition_expression = Some("attribute_not_exists(pk)".into());
        self.write(vec![
            pointer(reaction_lookup_key(&reaction.id))?,
            pointer(address_reaction_key(&reaction.email, &reaction.id))?,
            TransactWriteItem::builder().put(record).build(),
        ])
        .await
    }

    async fn reaction(&self, id: &ReactionId) -> Result<Option<Reaction>, StoreError> {
        let Some(lookup) = self.get(reaction_lookup_key(id)).await? else { return Ok(None) };
        let slug = lookup
            .get("slug")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt("a reaction lookup without its post".into()))?;
        self.get(reaction_key(slug, id)).await?.map(reaction_of).transpose()
    }

    async fn change_reaction(
        &self,
        reaction: &Reaction,
        change: &ReactionChange,
    ) -> Result<Option<Reaction>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(reaction_key(&reaction.slug, &reaction.id)))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllNew);
        let update = match change {
            // Published once: a second approval keeps the first date.
            ReactionChange::Approve { at } => update
                .update_expression(
                    "SET #status = :published, published_at = if_not_exists(published_at, :at) REMOVE due_pk, due_at",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":published",
                    serde_dynamo::to_attribute_value(ReactionStatus::Published).map_err(StoreError::corrupt)?,
                )
                .expression_attribute_values(":at", serde_dynamo::to_attribute_value(at).map_err(StoreError::corrupt)?),
            ReactionChange::Answer(answer) => {
                update.update_expression("SET answer = :answer").expression_attribute_values(
                    ":answer",
                    serde_dynamo::to_attribute_value(answer).map_err(StoreError::corrupt)?,
                )
            }
            ReactionChange::Notified => update
                .update_expression("SET notified = :yes")
                .expression_attribute_values(":yes", AttributeValue::Bool(true)),
        };
        match update.send().await.map_err(map_err) {
            Ok(out) => out.attributes.map(reaction_of).transpose(),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_reaction(&self, reaction: &Reaction) -> Result<(), StoreError> {
        self.write(vec![
            self.delete(reaction_key(&reaction.slug, &reaction.id))?,
            self.delete(reaction_lookup_key(&reaction.id))?,
            self.delete(address_reaction_key(&reaction.email, &reaction.id))?,
        ])
        .await
    }

    async fn reactions_of_post(&self, slug: &str) -> Result<Vec<Reaction>, StoreError> {
        let (pk, prefix) = post_reactions(slug);
        Ok(oldest_first(self.query_prefix(&pk, prefix).await?))
    }

    async fn waiting_reactions(&self, limit: usize, newest_first: bool) -> Result<Vec<Reaction>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("due_pk = :p")
            .expression_attribute_values(":p", s(WAITING_REACTIONS_PARTITION))
            .scan_index_forward(!newest_first)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(map_err)?;
        // The index holds keys only: each reaction is read from the table (consistently, so
        // one approved since the index was updated is seen as it is, and left out).
        let mut waiting = Vec::new();
        for keys in out.items() {
            let key: Item =
                ["pk", "sk"].iter().filter_map(|k| Some(((*k).to_owned(), keys.get(*k)?.clone()))).collect();
            if let Some(item) = self.get(key).await? {
                let reaction = reaction_of(item)?;
                if reaction.status == ReactionStatus::Waiting {
                    waiting.push(reaction);
                }
            }
        }
        let mut waiting = oldest_first(waiting);
        if newest_first {
            waiting.reverse();
        }
        Ok(waiting)
    }

    async fn reactions_of_address(&self, email: &SubscriberEmail) -> Result<Vec<Reaction>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Pointer {
            sk: String,
            slug: String,
        }
        let (pk, prefix) = address_reactions(email);
        let mut found = Vec::new();
        for pointer in self.query_prefix::<Pointer>(&pk, prefix).await? {
            let Some(id) = pointer.sk.strip_prefix(prefix).and_then(|id| id.parse().ok()) else { continue };
            if let Some(item) = self.get(reaction_key(&pointer.slug, &id)).await? {
                found.push(reaction_of(item)?);
            }
        }
        Ok(oldest_first(found))
    }

    async fn all_reactions(&self) -> Result<Vec<Reaction>, StoreError> {
        let filter = "begins_with(pk, :post) AND begins_with(sk, :reaction)";
        Ok(oldest_first(self.scan_filtered(filter, &[(":post", POST_PREFIX), (":reaction", REACTION_PREFIX)]).await?))
    }
}
