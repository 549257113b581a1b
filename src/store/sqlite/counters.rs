//! Day counters per ledger, budgets (caps and once-only markers), and the sending state.

use super::subscribers::update_subscriber_in;
use super::*;

/// Counters past their expiry by the caller's clock go (the local twin of DynamoDB's TTL):
/// judged by `now`, never by another counter's expiry, so a long-lived marker never takes
/// the hour's caps with it.
fn forget_expired_budgets(c: &Connection, now: Timestamp) -> Result<(), StoreError> {
    c.execute("DELETE FROM budgets WHERE expires_at <= ?1", [now.as_second()])?;
    Ok(())
}

fn add_stats_in(c: &Connection, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO day_stats (day, sent, bounced, complained) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET sent = sent + excluded.sent, bounced = bounced + excluded.bounced,
         complained = complained + excluded.complained",
        params![crate::store::day_key(ledger, day), delta.sent as i64, delta.bounced as i64, delta.complained as i64],
    )?;
    Ok(())
}

#[async_trait]
impl Counters for SqliteStore {
    async fn add_stats(&self, ledger: Ledger, day: jiff::civil::Date, delta: DayStats) -> Result<(), StoreError> {
        self.with(move |c| add_stats_in(c, ledger, day, delta)).await
    }

    async fn stats(
        &self,
        ledger: Ledger,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<DayStats, StoreError> {
        let (from, to) = (crate::store::day_key(ledger, from), crate::store::day_key(ledger, to));
        self.with(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(sent), 0), COALESCE(SUM(bounced), 0), COALESCE(SUM(complained), 0)
                 FROM day_stats WHERE day >= ?1 AND day <= ?2",
                params![from, to],
                |r| {
                    Ok(DayStats {
                        sent: r.get::<_, i64>(0)? as u64,
                        bounced: r.get::<_, i64>(1)? as u64,
                        complained: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .map_err(StoreError::from)
        })
        .await
    }

    async fn add_page_view(&self, slug: &str, day: jiff::civil::Date) -> Result<(), StoreError> {
        let slug = slug.to_owned();
        self.with(move |c| {
            c.execute(
                "INSERT INTO page_views (day, slug, views) VALUES (?1, ?2, 1)
                 ON CONFLICT (day, slug) DO UPDATE SET views = views + 1",
                params![day.to_string(), slug],
            )?;
            Ok(())
        })
        .await
    }

    async fn page_views(&self, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Vec<PageViews>, StoreError> {
        self.with(move |c| {
            let mut statement =
                c.prepare("SELECT day, slug, views FROM page_views WHERE day >= ?1 AND day <= ?2 ORDER BY day, slug")?;
            let rows = statement.query_map(params![from.to_string(), to.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut views = Vec::new();
            for row in rows {
                let (day, slug, count) = row?;
                let day = day.parse().map_err(StoreError::corrupt)?;
                views.push(PageViews { day, slug, views: count.max(0) as u64 });
            }
            Ok(views)
        })
        .await
    }

    async fn take_budgets(&self, budgets: &[Budget], now: Timestamp) -> Result<bool, StoreError> {
        let budgets = budgets.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            forget_expired_budgets(&tx, now)?;
            for budget in &budgets {
                let changed = tx.execute(
                    "INSERT INTO budgets (key, used, expires_at) VALUES (?1, 1, ?3)
                         ON CONFLICT (key) DO UPDATE SET used = used + 1 WHERE used < ?2",
                    params![budget.key, i64::from(budget.limit), budget.expires_at.as_second()],
                )?;
                if changed != 1 || budget.limit == 0 {
                    // Dropping the transaction rolls back the budgets taken before this one.
                    return Ok(false);
                }
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn apply_once(
        &self,
        marker: &Budget,
        updates: &[Subscriber],
        counts: &[Count],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let marker = marker.clone();
        let updates = updates
            .iter()
            .map(|s| Ok((s.id.to_string(), due(s), to_json(s)?, s.version)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let counts = counts.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            forget_expired_budgets(&tx, now)?;
            let placed = tx.execute(
                "INSERT INTO budgets (key, used, expires_at) VALUES (?1, 1, ?2) ON CONFLICT (key) DO NOTHING",
                params![marker.key, marker.expires_at.as_second()],
            )?;
            if placed == 0 {
                return Ok(false);
            }
            for (id, due, data, version) in &updates {
                update_subscriber_in(&tx, id, *due, data, *version)?;
            }
            for count in &counts {
                add_stats_in(&tx, count.ledger, count.day, count.delta)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn sending_state(&self) -> Result<SendingState, StoreError> {
        self.with(|c| {
            let setting = |key: &str| {
                c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(StoreError::from)
            };
            let mut state: SendingState = setting("sending")?
                .map_or(Ok(SendingState::default()), |v| serde_json::from_str(&v).map_err(StoreError::corrupt))?;
            state.problem = setting("sending_problem")?
                .map(|v| serde_json::from_str(&v).map_err(StoreError::corrupt))
                .transpose()?;
            Ok(state)
        })
        .await
    }

    async fn set_sending_state(&self, state: &SendingState) -> Result<(), StoreError> {
        let value = serde_json::to_string(state).map_err(StoreError::corrupt)?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES ('sending', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [value],
            )
            ?;
            Ok(())
        })
        .await
    }

    async fn set_sending_problem(&self, problem: Option<&Pause>) -> Result<(), StoreError> {
        let value = problem.map(serde_json::to_string).transpose().map_err(StoreError::corrupt)?;
        self.with(move |c| {
            match value {
                Some(value) => c.execute(
                    "INSERT INTO settings (key, value) VALUES ('sending_problem', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [value],
                ),
                None => c.execute("DELETE FROM settings WHERE key = 'sending_problem'", []),
            }
            ?;
            Ok(())
        })
        .await
    }
}
