//! Day counters per ledger, budgets (caps and once-only markers), and the sending state.

use super::*;

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
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(STATS_PARTITION))
            .expression_attribute_values(":from", s(stats_sk(ledger, from)))
            .expression_attribute_values(":to", s(stats_sk(ledger, to)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        let count = |item: &HashMap<String, AttributeValue>, k: &str| {
            item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        let mut total = DayStats::default();
        for item in out.items() {
            total += DayStats {
                sent: count(item, "sent"),
                bounced: count(item, "bounced"),
                complained: count(item, "complained"),
            };
        }
        Ok(total)
    }

    async fn take_budget(&self, key: &str, limit: u32, expires_at: Timestamp) -> Result<bool, StoreError> {
        if limit == 0 {
            return Ok(false);
        }
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(budget_key(key)))
            .update_expression("ADD used :one SET expires_at = if_not_exists(expires_at, :expires)")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":expires", n(expires_at.as_second()))
            .send()
            .await;
        match taken.map_err(map_err) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
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
