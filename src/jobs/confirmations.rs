//! The confirmations worker: acts on the subscribe requests that `POST /subscribe` recorded
//! (see [`SubscribeIntent`]), after the reader already has their answer.
//!
//! Why a worker: the request must not tell who is subscribed, in what it says *or* in how
//! long it takes. Deciding (new, pending, confirmed, suppressed…), writing and mailing take
//! different time for different addresses, and SES may be slow; so the request only checks
//! the caps and records the intent (the same work for every address), and this worker does
//! the rest: read, decide with [`subscribers::subscribe`], write conditionally, send the one
//! confirmation mail, count it.
//!
//! Where it runs: in AWS the `confirmations` Lambda, woken by the table's stream when an
//! intent is written (retried by Lambda, failures to a dead-letter queue); locally a
//! background task of `postbode dev`. An intent is forgotten once handled; one that keeps
//! failing is kept and tried again, until its one-day expiry.

use jiff::Timestamp;

use crate::http::App;
use crate::mail::Outgoing;
use crate::render::email::confirm_url;
use crate::store::{DayStats, Ledger, StoreError};
use crate::subscribers::{self, Status, SubscribeIntent, SubscribeOutcome, Subscriber, SubscriberEmail, caps};
use crate::tokens::Purpose;

/// What handling one intent did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A confirmation mail went out.
    Sent,
    /// The address was confirmed already: the short mail with the whitepaper link went out.
    Reminded,
    /// Nothing to send: confirmed already, bounced or complained, or within the cooldown.
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmationError {
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("the confirmation mail could not be sent: {0}")]
    Mail(String),
    #[error("the subscriber changed under every attempt")]
    Contended,
}

/// Handles one intent: at most one confirmation mail, whatever happened before.
#[tracing::instrument(name = "confirmation", skip_all, fields(intent = %intent.id))]
pub async fn handle(app: &App, intent: &SubscribeIntent) -> Result<Handled, ConfirmationError> {
    let email = &intent.email;
    // Read, decide, write conditionally; a lost race means someone else wrote first: read
    // again and decide again (then the cooldown holds, so one mail goes out).
    for _ in 0..3 {
        let existing = app.store.subscriber_by_email(email).await?;
        let outcome = subscribers::subscribe(
            existing.as_ref(),
            email,
            intent.first_name.clone(),
            &intent.evidence,
            intent.at,
            app.confirm_cooldown,
        );
        let (subscriber, remind) = match outcome {
            SubscribeOutcome::SendConfirmation(subscriber) => (subscriber, false),
            SubscribeOutcome::RemindConfirmed(subscriber) => (subscriber, true),
            SubscribeOutcome::Nothing => {
                tracing::info!("no mail: bounced, complained, suppressed or within the cooldown");
                return Ok(Handled::Nothing);
            }
        };
        let mut subscriber = *subscriber;
        let written = match existing {
            // An erased address stays suppressed: only its owner confirming lifts that.
            None => app.store.insert_subscriber(&subscriber, app.now()).await.map(|()| 0),
            Some(_) => app.store.update_subscriber(&subscriber).await,
        };
        match written {
            Ok(version) => subscriber.version = version,
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
        let sent = if remind {
            tracing::info!(subscriber = %subscriber.id, "confirmed already; sending the whitepaper again");
            send_already_subscribed(app, &subscriber, app.now()).await.map(|()| Handled::Reminded)
        } else {
            tracing::info!(subscriber = %subscriber.id, "pending; sending confirmation");
            send_confirmation(app, &subscriber, app.now()).await.map(|()| Handled::Sent)
        };
        return match sent {
            Ok(handled) => Ok(handled),
            Err(e) => {
                // Lift the cooldown again, so the retry of this intent sends.
                subscriber.confirmation_sent_at = None;
                let _ = app.store.update_subscriber(&subscriber).await;
                Err(e)
            }
        };
    }
    Err(ConfirmationError::Contended)
}

/// Handles what is recorded, oldest first, up to `limit` intents; each handled one is
/// forgotten, a failing one stays for the next pass. Returns how many were handled.
pub async fn drain(app: &App, limit: usize) -> Result<usize, StoreError> {
    let mut handled = 0;
    for intent in app.store.pending_intents(limit).await? {
        match handle(app, &intent).await {
            Ok(_) => {
                app.store.forget_intent(&intent).await?;
                handled += 1;
            }
            Err(e) => tracing::warn!(intent = %intent.id, error = %crate::error_chain(&e), "kept for a retry"),
        }
    }
    Ok(handled)
}

/// Takes one from every budget a confirmation mail to `email` counts against (the mailbox,
/// the client network of `ip`, all of them together), before anything about the address is
/// read. False: a cap is reached, nothing may be sent. Shared by `POST /subscribe` and
/// `postbode subscribers resend-confirmation`.
pub async fn take_caps(app: &App, email: &SubscriberEmail, ip: Option<&str>) -> Result<bool, StoreError> {
    let mailbox = app.tokens.fingerprint("postbode cap mailbox", &email.mailbox());
    let client = app.tokens.fingerprint("postbode cap client", &caps::client_network(ip));
    let mut limits = app.caps;
    // While the list's sending is paused, confirmation mails (the abuse path) are capped
    // tightly too. Read for every request alike: no address's state is involved.
    if app.store.sending_state().await?.paused.is_some() {
        limits.global_per_hour = limits.global_per_hour.min(crate::jobs::ses_events::PAUSED_CONFIRMATIONS_PER_HOUR);
    }
    for budget in caps::budgets(&limits, &mailbox, &client, app.now()) {
        if !app.store.take_budget(&budget.key, budget.limit, budget.expires_at).await? {
            tracing::info!(budget = budget.key.split('#').next().unwrap_or(""), "cap reached; nothing sent");
            return Ok(false);
        }
    }
    Ok(true)
}

/// What `postbode subscribers resend-confirmation` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resent {
    Sent,
    NotFound,
    /// Only a pending reader gets a confirmation mail.
    NotPending(Status),
    /// The last confirmation mail went out less than the cooldown ago; try again after this.
    CoolingDown(Timestamp),
    /// A cap on confirmation mail is reached (the mailbox's, or all of them together).
    OverCap,
}

impl std::fmt::Display for Resent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resent::Sent => f.write_str("a new confirmation mail is sent"),
            Resent::NotFound => f.write_str("no subscriber with this address"),
            Resent::NotPending(status) => write!(f, "not sent: the reader is {}, not pending", status.as_str()),
            Resent::CoolingDown(until) => {
                write!(f, "not sent: the last confirmation mail is recent; try after {until}")
            }
            Resent::OverCap => f.write_str("not sent: a cap on confirmation mail is reached; try again in an hour"),
        }
    }
}

/// Sends a pending reader who lost their confirmation mail a new one, within the cooldown and
/// the caps that hold for the subscribe form.
pub async fn resend(app: &App, email: &SubscriberEmail) -> Result<Resent, ConfirmationError> {
    let now = app.now();
    let Some(mut subscriber) = app.store.subscriber_by_email(email).await? else {
        return Ok(Resent::NotFound);
    };
    if subscriber.status != Status::Pending {
        return Ok(Resent::NotPending(subscriber.status));
    }
    if let Some(at) = subscriber.confirmation_sent_at {
        let until = at.saturating_add(app.confirm_cooldown).unwrap_or(at);
        if now < until {
            return Ok(Resent::CoolingDown(until));
        }
    }
    if !take_caps(app, email, Some("operator")).await? {
        return Ok(Resent::OverCap);
    }
    subscriber.confirmation_sent_at = Some(now);
    subscriber.updated_at = now;
    subscriber.version = app.store.update_subscriber(&subscriber).await?;
    match send_confirmation(app, &subscriber, now).await {
        Ok(()) => Ok(Resent::Sent),
        Err(e) => {
            // Lift the cooldown again, so trying again sends.
            subscriber.confirmation_sent_at = None;
            let _ = app.store.update_subscriber(&subscriber).await;
            Err(e)
        }
    }
}

async fn send_already_subscribed(app: &App, subscriber: &Subscriber, now: Timestamp) -> Result<(), ConfirmationError> {
    let recipient = subscriber.recipient(&app.tokens, now).map_err(ConfirmationError::Mail)?;
    let email = crate::render::letters::already_subscribed(
        &app.catalogue,
        &app.email,
        &recipient,
        &app.whitepaper_link(subscriber, now),
        now.into(),
    )
    .map_err(|e| ConfirmationError::Mail(crate::error_chain(&e)))?;
    let tag = crate::render::letters::ALREADY_SUBSCRIBED_TAG;
    app.mailer
        .send(Outgoing { to: subscriber.email.as_str(), mime: &email.mime, tag, subscriber: None })
        .await
        .map_err(|e| ConfirmationError::Mail(e.to_string()))?;
    count_sent(app, Ledger::Confirmation, now).await;
    Ok(())
}

async fn send_confirmation(app: &App, subscriber: &Subscriber, now: Timestamp) -> Result<(), ConfirmationError> {
    let token = app.tokens.sign(Purpose::Confirm, &subscriber.id, subscriber.token_version, now);
    // Nothing a stranger typed goes into a mail before the address's owner confirmed: no
    // name in the greeting or in `To:` (the welcome mail is the first to use it).
    let mut recipient = subscriber.recipient(&app.tokens, now).map_err(ConfirmationError::Mail)?;
    recipient.first_name = None;
    recipient.to = lettre::message::Mailbox::new(None, recipient.to.email.clone());
    let email = crate::render::letters::confirmation(
        &app.catalogue,
        &app.email,
        &recipient,
        &confirm_url(&app.email.base_url, &token),
        now.into(),
    )
    .map_err(|e| ConfirmationError::Mail(crate::error_chain(&e)))?;
    app.mailer
        .send(Outgoing { to: subscriber.email.as_str(), mime: &email.mime, tag: "confirm", subscriber: None })
        .await
        .map_err(|e| ConfirmationError::Mail(e.to_string()))?;
    count_sent(app, Ledger::Confirmation, now).await;
    Ok(())
}

/// Counts a mail that went out, for the breaker's rates. The mail is sent either way; a
/// counter that could not be written is logged.
pub async fn count_sent(app: &App, ledger: Ledger, now: Timestamp) {
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    if let Err(e) = app.store.add_stats(ledger, day, DayStats { sent: 1, ..DayStats::default() }).await {
        tracing::warn!(error = %crate::error_chain(&e), ?ledger, "a sent mail was not counted");
    }
}

/// The DynamoDB stream event the `confirmations` Lambda receives (only what is read of it):
/// the stream's filter passes inserts of intents only.
#[derive(Debug, serde::Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, serde::Deserialize)]
pub struct StreamRecord {
    pub dynamodb: StreamChange,
}

#[derive(Debug, serde::Deserialize)]
pub struct StreamChange {
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<std::collections::HashMap<String, serde_json::Value>>,
}

/// What a stream batch did.
#[derive(Debug, Default, Clone, serde::Serialize, PartialEq, Eq)]
pub struct StreamReport {
    pub sent: u32,
    pub nothing_to_send: u32,
    /// Records that were not intents (the filter should keep them out).
    pub skipped: u32,
}

/// Handles the intents of one stream batch. An error fails the batch, which Lambda retries
/// (handling again is harmless: the stored cooldown keeps it to one mail) and, in the end,
/// sends to the dead-letter queue.
pub async fn handle_stream(app: &App, event: &StreamEvent) -> Result<StreamReport, ConfirmationError> {
    let mut report = StreamReport::default();
    for record in &event.records {
        let json = record
            .dynamodb
            .new_image
            .as_ref()
            .and_then(|image| image.get("intent"))
            .and_then(|value| value.get("S"))
            .and_then(|s| s.as_str());
        let Some(intent) = json.and_then(|j| serde_json::from_str::<SubscribeIntent>(j).ok()) else {
            report.skipped += 1;
            continue;
        };
        match handle(app, &intent).await? {
            Handled::Sent | Handled::Reminded => report.sent += 1,
            Handled::Nothing => report.nothing_to_send += 1,
        }
        app.store.forget_intent(&intent).await?;
    }
    Ok(report)
}
