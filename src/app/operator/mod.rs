//! What the operator's commands do (AVG requests, statistics, import, unsubscribe on
//! request), on either store; printing is `cli::operator`'s.

pub mod send_test;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::retry::{Decision, Lookup, decide_and_write};
pub use super::subscription::Unsubscribed;
use crate::mail::{MailError, Mailer};
use crate::reactions::Reaction;
use crate::store::{DayStats, Ledger, SendRecord, SendState, Store, StoreError};
use crate::subscribers::import::{ImportOutcome, ImportRow, import_row};
use crate::subscribers::{Evidence, Status, Subscriber, SubscriberEmail};
use crate::tokens::TokenKey;

/// Everything held about one person (AVG art. 15): the subscriber record with its consent
/// proof, every send, and every reaction left with the address (someone who only reacted
/// has no subscriber record).
#[derive(Debug, Serialize)]
pub struct Export {
    pub exported_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<Subscriber>,
    pub sends: Vec<SendRecord>,
    pub reactions: Vec<Reaction>,
}

/// Everyone (with this status, as `Status::as_str` writes it), oldest first: `postbode
/// subscribers list`. A scan on DynamoDB: for the operator now and then, never the sender.
pub async fn list(store: &dyn Store, status: Option<&str>) -> Result<Vec<Subscriber>, StoreError> {
    let mut all = store.all_subscribers().await?;
    all.retain(|s| status.is_none_or(|status| s.status.as_str() == status));
    all.sort_by_key(|s| s.created_at);
    Ok(all)
}

pub async fn find(store: &dyn Store, email: &SubscriberEmail) -> Result<Option<Subscriber>, StoreError> {
    store.subscriber_by_email(email).await
}

/// What is held about `email`; `None` when nothing is.
pub async fn export(store: &dyn Store, email: &SubscriberEmail, now: Timestamp) -> Result<Option<Export>, StoreError> {
    let reactions = super::reactions::of_address(store, email).await?;
    export_with(store, store.subscriber_by_email(email).await?, reactions, now).await
}

async fn export_with(
    store: &dyn Store,
    subscriber: Option<Subscriber>,
    reactions: Vec<Reaction>,
    now: Timestamp,
) -> Result<Option<Export>, StoreError> {
    if subscriber.is_none() && reactions.is_empty() {
        return Ok(None);
    }
    let sends = match &subscriber {
        Some(subscriber) => store.sends(&subscriber.id).await?,
        None => Vec::new(),
    };
    Ok(Some(Export { exported_at: now, subscriber, sends, reactions }))
}

/// Everyone's export (`subscribers export --all --format json`): every subscriber, oldest
/// first, then the people who only left reactions. The reactions are read once.
pub async fn export_all(store: &dyn Store, now: Timestamp) -> Result<Vec<Export>, StoreError> {
    let mut reactions: BTreeMap<String, Vec<Reaction>> = BTreeMap::new();
    for reaction in store.all_reactions().await? {
        reactions.entry(reaction.email.as_str().to_owned()).or_default().push(reaction);
    }
    let mut all = Vec::new();
    for subscriber in list(store, None).await? {
        let theirs = reactions.remove(subscriber.email.as_str()).unwrap_or_default();
        all.extend(export_with(store, Some(subscriber), theirs, now).await?);
    }
    for (_, theirs) in reactions {
        all.extend(export_with(store, None, theirs, now).await?);
    }
    Ok(all)
}

/// Why an erase did not finish. Nothing of the person is removed before SES has forgotten
/// the address, so an erase that failed can simply be asked for again.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("SES's suppression list could not be cleared of the address; nothing was erased")]
    SuppressionList(#[source] MailError),
}

/// Erases a person (AVG art. 17): their record, consent proof, send history and reactions
/// (published ones too) go, and so does their address on SES's account-level suppression
/// list; a salted hash of the address stays on postbode's own suppression list, so it is not
/// mailed again unless the person subscribes anew. Returns false when nothing is held about
/// the address (SES is asked to forget it all the same: an older erase may have left it).
pub async fn erase(
    store: &dyn Store,
    mailer: &dyn Mailer,
    tokens: &TokenKey,
    email: &SubscriberEmail,
    now: Timestamp,
) -> Result<bool, EraseError> {
    mailer.forget_suppressed(email.as_str()).await.map_err(EraseError::SuppressionList)?;
    let reactions = super::reactions::of_address(store, email).await?;
    let subscriber = store.subscriber_by_email(email).await?;
    if subscriber.is_none() && reactions.is_empty() {
        return Ok(false);
    }
    for reaction in &reactions {
        super::reactions::delete(store, reaction).await?;
    }
    store.set_suppressed(&tokens.suppression_hash(email.as_str()), true, now).await?;
    if let Some(subscriber) = subscriber {
        store.erase_subscriber(&subscriber).await?;
    }
    Ok(true)
}

/// Erases one subscriber whose retention period ran out (the sender): SES forgets the
/// address first, then the salted hash goes on postbode's suppression list (before the
/// record goes, so a failure in between never leaves an erased address unsuppressed), then
/// the record.
pub async fn erase_subscriber(
    store: &dyn Store,
    mailer: &dyn Mailer,
    tokens: &TokenKey,
    subscriber: &Subscriber,
    now: Timestamp,
) -> Result<(), EraseError> {
    mailer.forget_suppressed(subscriber.email.as_str()).await.map_err(EraseError::SuppressionList)?;
    store.set_suppressed(&tokens.suppression_hash(subscriber.email.as_str()), true, now).await?;
    Ok(store.erase_subscriber(subscriber).await?)
}

pub async fn is_suppressed(store: &dyn Store, tokens: &TokenKey, email: &SubscriberEmail) -> Result<bool, StoreError> {
    store.is_suppressed(&tokens.suppression_hash(email.as_str())).await
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    pub subscribers: BTreeMap<String, u64>,
    /// Sent emails per post slug.
    pub sends_per_post: BTreeMap<String, u64>,
    pub failed_sends: u64,
    /// The list's last 7 days (what the circuit breaker counts, before any resume).
    pub last_7_days: DayStats,
    /// Confirmation mails of the last 7 days, counted apart (see `app::ses_events`).
    pub confirmation_mails_last_7_days: DayStats,
    /// Welcome mails and mail to readers of less than 30 days, the last 7 days.
    pub new_readers_last_7_days: DayStats,
    pub bounce_rate_percent: f64,
    pub complaint_rate_percent: f64,
    pub paused: Option<String>,
    /// Why confirmation mail is throttled now (the intake breaker), if it is.
    pub intake_throttled: Option<String>,
    /// Reactions waiting for the author (at most [`WAITING_COUNTED`] are counted).
    pub reactions_waiting: usize,
    /// What confirmed readers chose on their page.
    pub preferences: crate::subscribers::figures::Choices,
}

/// How many waiting reactions `stats` counts at most ("1000 or more").
pub const WAITING_COUNTED: usize = 1000;

pub async fn stats(store: &dyn Store, now: Timestamp) -> Result<Stats, StoreError> {
    let mut stats = Stats::default();
    for subscriber in store.all_subscribers().await? {
        *stats.subscribers.entry(subscriber.status.as_str().to_owned()).or_default() += 1;
        stats.preferences.count(&subscriber, now);
        if matches!(subscriber.status, Status::Pending) {
            continue;
        }
        for send in store.sends(&subscriber.id).await? {
            match send.state {
                SendState::Sent => *stats.sends_per_post.entry(send.slug).or_default() += 1,
                SendState::Failed => stats.failed_sends += 1,
                SendState::Claimed => {}
            }
        }
    }
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = today.checked_sub(jiff::Span::new().days(6)).unwrap_or(today);
    stats.last_7_days = store.stats(Ledger::List, from, today).await?;
    stats.confirmation_mails_last_7_days = store.stats(Ledger::Confirmation, from, today).await?;
    stats.new_readers_last_7_days = store.stats(Ledger::NewReaders, from, today).await?;
    stats.intake_throttled = crate::app::ses_events::intake_verdict(store, now).await?;
    let sent = stats.last_7_days.sent.max(1) as f64;
    stats.bounce_rate_percent = stats.last_7_days.bounced as f64 * 100.0 / sent;
    stats.complaint_rate_percent = stats.last_7_days.complained as f64 * 100.0 / sent;
    stats.paused = store.sending_state().await?.paused.map(|p| format!("since {}: {}", p.since, p.reason));
    stats.reactions_waiting = store.waiting_reactions(WAITING_COUNTED, false).await?.len();
    Ok(stats)
}

/// What importing one row of a file did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    pub line: u64,
    pub email: SubscriberEmail,
    pub outcome: ImportOutcome,
}

/// Imports readers who consented elsewhere (see [`crate::subscribers::import`]); with
/// `dry_run`, decides the same without writing. Rows already confirmed are left as they are,
/// so importing the same file again changes nothing.
pub async fn import(
    store: &dyn Store,
    tokens: &TokenKey,
    rows: &[ImportRow],
    catalogue: &crate::content::Catalogue,
    now: Timestamp,
    dry_run: bool,
) -> Result<Vec<ImportLine>, StoreError> {
    // Imported readers get post 1 when confirming now would give it them.
    let schedule = crate::schedule::site_schedule(catalogue, crate::schedule::DEFAULT_WINDOW_LENGTH);
    let first_visit = schedule.as_ref().map_or(now, |s| crate::schedule::first_visit(s, now));
    let mut report = Vec::with_capacity(rows.len());
    for row in rows {
        let existing = store.subscriber_by_email(&row.email).await?;
        let suppressed = existing.is_none() && is_suppressed(store, tokens, &row.email).await?;
        let (outcome, write) = import_row(existing.as_ref(), suppressed, row, now, first_visit);
        if outcome.keeps_out() && !dry_run {
            store.set_suppressed(&tokens.suppression_hash(row.email.as_str()), true, now).await?;
        }
        if let (Some(subscriber), false) = (write, dry_run) {
            match existing {
                None => store.insert_subscriber(&subscriber, now).await?,
                Some(_) => {
                    store.update_subscriber(&subscriber).await?;
                }
            }
        }
        report.push(ImportLine { line: row.line, email: row.email.clone(), outcome });
    }
    Ok(report)
}

/// Unsubscribes a reader who asked the author directly; the consent proof is kept, with this
/// step in it.
pub async fn unsubscribe(
    store: &dyn Store,
    email: &SubscriberEmail,
    now: Timestamp,
) -> Result<Unsubscribed, StoreError> {
    let evidence = Evidence {
        user_agent: Some("postbode subscribers unsubscribe (by the operator, on the reader's request)".into()),
        ..Evidence::default()
    };
    super::subscription::unsubscribe(store, Lookup::Email(email), &evidence, now).await
}

/// `postbode subscribers revoke-links EMAIL`: raises the subscriber's token version, so every
/// link sent before (confirm, whitepaper) stops working; their unsubscribe links keep
/// working, as leaving must never fail on an old mail. For a link that leaked (a forwarded
/// mail). Returns the new version, `None` for an unknown address.
pub async fn revoke_links(
    store: &dyn Store,
    email: &SubscriberEmail,
    now: Timestamp,
) -> Result<Option<u32>, StoreError> {
    let decided = decide_and_write(store, Lookup::Email(email), now, |read| {
        let Some(read) = read else { return Decision::Keep(None) };
        let mut next = read.clone();
        next.token_version = next.token_version.saturating_add(1);
        next.requests.clear();
        next.updated_at = now;
        let version = next.token_version;
        Decision::Write(next, Some(version))
    })
    .await?;
    Ok(decided.outcome)
}

/// The figures of `[since, now)` (see [`crate::subscribers::figures`]): every subscriber with their sends,
/// and the confirm pages shown. Reads the whole list: for `postbode stats` and the weekly
/// summary, not for the request path.
pub async fn figures(
    store: &dyn Store,
    since: Timestamp,
    now: Timestamp,
) -> Result<crate::subscribers::figures::ListFigures, StoreError> {
    let subscribers = store.all_subscribers().await?;
    let mut sent = Vec::with_capacity(subscribers.len());
    for subscriber in &subscribers {
        let records = store.sends(&subscriber.id).await?;
        sent.push(
            records
                .into_iter()
                .filter(|r| r.state == SendState::Sent)
                .map(|r| (r.slug, r.finished_at.unwrap_or(r.claimed_at)))
                .collect::<Vec<_>>(),
        );
    }
    let histories: Vec<crate::subscribers::figures::History<'_>> = subscribers
        .iter()
        .zip(sent)
        .map(|(subscriber, sent)| crate::subscribers::figures::History { subscriber, sent })
        .collect();
    let utc = jiff::tz::TimeZone::UTC;
    let (from, to) = (since.to_zoned(utc.clone()).date(), now.to_zoned(utc).date());
    let pages = store.stats(Ledger::ConfirmPage, from, to).await?;
    let mut figures = crate::subscribers::figures::compute(&histories, pages.sent, since, now);
    let counts = |d: DayStats| crate::subscribers::figures::MailCounts {
        sent: d.sent,
        bounced: d.bounced,
        complained: d.complained,
    };
    figures.list_mail = counts(store.stats(Ledger::List, from, to).await?);
    figures.new_readers_mail = counts(store.stats(Ledger::NewReaders, from, to).await?);
    figures.confirmation_mail = counts(store.stats(Ledger::Confirmation, from, to).await?);
    for views in store.page_views(from, to).await? {
        *figures.page_views.entry(views.slug).or_default().entry(views.day).or_default() += views.views;
    }
    Ok(figures)
}
