//! Day counters per ledger, budgets (caps and once-only markers), and the sending state.

use super::*;

/// How often a transaction that lost only to racing transactions is tried.
const TRANSACTION_ATTEMPTS: u32 = 6;

/// The codes of a cancelled transaction, in the order of its items.
fn cancellation(
    err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Option<Vec<Option<String>>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
        }
        _ => None,
    }
}

async fn backoff(attempt: u32) {
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 20;
    tokio::time::sleep(std::time::Duration::from_millis(10 * u64::from(attempt + 1) + jitter)).await;
}

impl DynamoStore {
    /// The items of the `STATS` partition with sort keys `from..=to`, every page of them.
    async fn stats_items(&self, from: String, to: String) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(STATS_PARTITION))
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(to.clone()))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(map_err)?;
            start = out.last_evaluated_key.clone();
            items.extend(out.items.unwrap_or_default());
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

#[async_trait]
impl Counters for DynamoStore {
    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(stats_key(ledger, day)))
            .update_expression("ADD sent :s, bounced :b, complained :c")
            .expression_attribute_values(":s", n(delta.sent))
            .expression_attribute_values(":b", n(delta.bounced))
            .expression_attribute_values(":c", n(delta.complained))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError> {
        let items = self.stats_items(stats_sk(ledger, from), stats_sk(ledger, to)).await?;
        let count = |item: &HashMap<String, AttributeValue>, k: &str| {
            item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        let mut total = DayStats::default();
        for item in &items {
            total += DayStats {
                sent: count(item, "sent"),
                bounced: count(item, "bounced"),
                complained: count(item, "complained"),
            };
        }
        Ok(total)
    }

    async fn add_page_view(&self, slug: &str, day: jiff::civil::Date) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(views_key(day)))
            .update_expression("ADD #post :one")
            .expression_attribute_names("#post", format!("{VIEWS_ATTRIBUTE_PREFIX}{slug}"))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn page_views(&self, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Vec<PageViews>, StoreError> {
        let mut views = Vec::new();
        for item in self.stats_items(views_sk(from), views_sk(to)).await? {
            let day = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.strip_prefix("VIEWS#"))
                .and_then(|day| day.parse().ok())
                .ok_or_else(|| StoreError::Corrupt("a page-views item without its day".into()))?;
            let mut of_day: Vec<PageViews> = item
                .iter()
                .filter_map(|(name, value)| {
                    let slug = name.strip_prefix(VIEWS_ATTRIBUTE_PREFIX)?;
                    let count = value.as_n().ok()?.parse::<u64>().ok()?;
                    Some(PageViews { day, slug: slug.to_owned(), views: count })
                })
                .collect();
            of_day.sort_by(|a, b| a.slug.cmp(&b.slug));
            views.extend(of_day);
        }
        Ok(views)
    }

    async fn take_budgets(&self, budgets: &[Budget], _now: Timestamp) -> Result<bool, StoreError> {
        // Budget keys name their window (`…#<hour>`), so a key is not used again after it
        // expires; DynamoDB's TTL removes the counters.
        if budgets.iter().any(|b| b.limit == 0) {
            return Ok(false);
        }
        let items = budgets
            .iter()
            .map(|b| {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(budget_key(&b.key)))
                    .update_expression("ADD used :one SET expires_at = if_not_exists(expires_at, :expires)")
                    .condition_expression("attribute_not_exists(used) OR used < :limit")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":limit", n(b.limit))
                    .expression_attribute_values(":expires", n(b.expires_at.as_second()))
                    .build()
                    .map_err(StoreError::corrupt)?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Racing requests on a shared counter (everyone's hour) make transactions conflict:
        // those are tried again, a short random wait apart; only a full budget says no.
        for attempt in 0..TRANSACTION_ATTEMPTS {
            match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(true),
                Err(err) => match cancellation(&err) {
                    Some(reasons) if reasons.iter().any(|r| r.as_deref() == Some("ConditionalCheckFailed")) => {
                        return Ok(false);
                    }
                    Some(_) if attempt + 1 < TRANSACTION_ATTEMPTS => backoff(attempt).await,
                    _ if err.code() == Some("TransactionConflictException") && attempt + 1 < TRANSACTION_ATTEMPTS => {
                        backoff(attempt).await
                    }
                    _ => return Err(map_err(err)),
                },
            }
        }
        Err(StoreError::Conflict)
    }

    async fn apply_once(
        &self,
        marker: &Budget,
        updates: &[Subscriber],
        counts: &[Count],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut marker_item = budget_key(&marker.key);
        marker_item.insert("used".into(), n(1));
        marker_item.insert("expires_at".into(), n(marker.expires_at.as_second()));
        let mut marker_put = self.put(marker_item)?;
        marker_put.condition_expression = Some("attribute_not_exists(pk) OR expires_at <= :now".into());
        marker_put.expression_attribute_values = Some(HashMap::from([(":now".into(), n(now.as_second()))]));
        let mut items = vec![TransactWriteItem::builder().put(marker_put).build()];
        for subscriber in updates {
            items.extend(self.subscriber_update_items(subscriber)?);
        }
        for count in counts {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(stats_key(count.ledger, count.day)))
                .update_expression("ADD sent :s, bounced :b, complained :c")
                .expression_attribute_values(":s", n(count.delta.sent))
                .expression_attribute_values(":b", n(count.delta.bounced))
                .expression_attribute_values(":c", n(count.delta.complained))
                .build()
                .map_err(StoreError::corrupt)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(err) => match cancellation(&err) {
                // The reasons are in the order of the items: the marker is the first.
                Some(reasons) if reasons.first().and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed") => {
                    Ok(false)
                }
                _ => Err(map_err(err)),
            },
        }
    }

    async fn sending_state(&self) -> Result<SendingState, StoreError> {
        let item = self.get(sending_key()).await?;
        let json = |name: &str| item.as_ref().and_then(|i| i.get(name)).and_then(|v| v.as_s().ok());
        let mut state: SendingState = match json("state") {
            Some(json) => serde_json::from_str(json).map_err(StoreError::corrupt)?,
            None => SendingState::default(),
        };
        state.problem = json("problem").map(|p| serde_json::from_str(p).map_err(StoreError::corrupt)).transpose()?;
        Ok(state)
    }

    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError> {
        let json = serde_json::to_string(state).map_err(StoreError::corrupt)?;
        // An update, not a put: the problem attribute next to it stays as it is.
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(sending_key()))
            .update_expression("SET #state = :state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(json))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError> {
        let update = self.client.update_item().table_name(&self.table).set_key(Some(sending_key()));
        let update = match problem {
            Some(p) => update
                .update_expression("SET problem = :p")
                .expression_attribute_values(":p", s(serde_json::to_string(p).map_err(StoreError::corrupt)?)),
            None => update.update_expression("REMOVE problem"),
        };
        update.send().await.map_err(map_err)?;
        Ok(())
    }
}
