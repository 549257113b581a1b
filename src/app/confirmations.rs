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
//! failing is kept and tried again ([`retry_waiting`], after every sender run in AWS, and
//! `postbode confirmations retry`), until its one-day expiry.

use jiff::Timestamp;

use super::App;
use super::retry::{Decision, Lookup, decide_and_write};
use super::subscription::{count_sent, take_caps};
use crate::mail::{MailKind, Outgoing};
use crate::render::email::confirm_url;
use crate::store::StoreError;
use crate::subscribers::{self, Status, SubscribeIntent, SubscribeOutcome, Subscriber, SubscriberEmail};
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
    #[error("the stored address cannot be mailed")]
    Address(#[from] lettre::address::AddressError),
    #[error("the mail could not be made")]
    Render(#[from] crate::render::RenderError),
    #[error("the mail was not sent")]
    Mail(#[from] crate::mail::MailError),
    #[error("the subscriber changed under every attempt")]
    Contended,
}

/// Handles one intent: at most one confirmation mail, whatever happened before.
#[tracing::instrument(name = "confirmation", skip_all, fields(intent = %intent.id))]
pub async fn handle(app: &App, intent: &SubscribeIntent) -> Result<Handled, ConfirmationError> {
    // Read, decide, write conditionally; a lost race means someone else wrote first: read
    // again and decide again (then the cooldown holds, so one mail goes out).
    let lookup = Lookup::Email(&intent.email);
    let decided = decide_and_write(app.store.as_ref(), lookup, app.now(), |existing| {
        let outcome = subscribers::subscribe(
            existing,
            &intent.email,
            intent.first_name.clone(),
            &intent.evidence,
            intent.at,
            app.settings.confirm_cooldown,
        );
        match outcome {
            SubscribeOutcome::SendConfirmation(subscriber) => Decision::Write(*subscriber, Handled::Sent),
            SubscribeOutcome::RemindConfirmed(subscriber) => Decision::Write(*subscriber, Handled::Reminded),
            SubscribeOutcome::Nothing => Decision::Keep(Handled::Nothing),
        }
    })
    .await
    .map_err(|e| match e {
        StoreError::Conflict => ConfirmationError::Contended,
        e => ConfirmationError::Store(e),
    })?;
    let Some(mut subscriber) = decided.written else {
        tracing::info!("no mail: bounced, complained, suppressed or within the cooldown");
        return Ok(Handled::Nothing);
    };
    let sent = if decided.outcome == Handled::Reminded {
        tracing::info!(subscriber = %subscriber.id, "confirmed already; sending the whitepaper again");
        send_already_subscribed(app, &subscriber, app.now()).await
    } else {
        tracing::info!(subscriber = %subscriber.id, "pending; sending confirmation");
        send_confirmation(app, &subscriber, app.now()).await
    };
    match sent {
        Ok(()) => Ok(decided.outcome),
        Err(e) => {
            lift_cooldown_unless_sent(app, &mut subscriber, &e).await;
            Err(e)
        }
    }
}

/// After a failed send: when the mail surely did not go (SES refused it, or it was never
/// made), the cooldown is lifted again so a retry sends. When the answer was lost, SES most
/// likely accepted it: the cooldown stays, as the sender keeps a claim, so the retries of
/// the stream do not mail the reader again.
async fn lift_cooldown_unless_sent(app: &App, subscriber: &mut Subscriber, error: &ConfirmationError) {
    if matches!(error, ConfirmationError::Mail(crate::mail::MailError::Unknown(_))) {
        tracing::warn!(subscriber = %subscriber.id, "no answer from SES: the mail may be on its way; not sent again");
        return;
    }
    subscriber.confirmation_sent_at = None;
    let _ = app.store.update_subscriber(subscriber).await;
}

/// Handles what is recorded, oldest first, up to `limit` intents; each handled one is
/// forgotten, a failing one stays for the next pass. Returns how many were handled.
pub async fn drain(app: &App, limit: usize) -> Result<usize, StoreError> {
    Ok(drain_where(app, limit, |_| true).await?.handled as usize)
}

/// What a pass over waiting intents did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drained {
    pub handled: u32,
    /// Failed again: kept for the next pass, until they expire.
    pub kept: u32,
    /// Older than their lifetime (a day): forgotten without a mail (their caps were taken a
    /// day ago; the reader can fill in the form again).
    pub expired: u32,
}

/// How long an intent belongs to the stream before a retry pass takes it: the stream handles
/// a new intent within seconds, and its own retries within minutes.
pub const STREAM_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Tries again what the stream could not do (SES throttled or refused every attempt and the
/// batch went to the dead-letter queue): intents older than [`STREAM_GRACE`], up to `limit`,
/// until they expire. Run after each sender run in AWS and by `postbode confirmations retry`;
/// handling twice is harmless (the stored cooldown keeps it to one mail).
pub async fn retry_waiting(app: &App, limit: usize) -> Result<Drained, StoreError> {
    let cutoff = app.now().saturating_sub(STREAM_GRACE).unwrap_or(app.now());
    drain_where(app, limit, |intent| intent.at <= cutoff).await
}

async fn drain_where(app: &App, limit: usize, take: impl Fn(&SubscribeIntent) -> bool) -> Result<Drained, StoreError> {
    let mut done = Drained::default();
    let oldest_alive = app.now().saturating_sub(crate::store::INTENT_TTL).unwrap_or(app.now());
    for intent in app.store.pending_intents(limit).await?.into_iter().filter(|i| take(i)) {
        if intent.at < oldest_alive {
            app.store.forget_intent(&intent).await?;
            done.expired += 1;
            continue;
        }
        match handle(app, &intent).await {
            Ok(_) => {
                app.store.forget_intent(&intent).await?;
                done.handled += 1;
            }
            Err(e) => {
                tracing::warn!(intent = %intent.id, error = %crate::error_chain(&e), "kept for a retry");
                done.kept += 1;
            }
        }
    }
    Ok(done)
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
        let until = at.saturating_add(app.settings.confirm_cooldown).unwrap_or(at);
        if now < until {
            return Ok(Resent::CoolingDown(until));
        }
    }
    if !take_caps(app, email, Some("operator")).await? {
        return Ok(Resent::OverCap);
    }
    subscriber.confirmation_sent_at = Some(now);
    subscriber.updated_at = now;
    // The new link confirms the newest request, as its old link did.
    if let Some(newest) = subscriber.requests.last_mut() {
        newest.mailed_at = now;
    }
    subscriber.version = app.store.update_subscriber(&subscriber).await?;
    match send_confirmation(app, &subscriber, now).await {
        Ok(()) => Ok(Resent::Sent),
        Err(e) => {
            lift_cooldown_unless_sent(app, &mut subscriber, &e).await;
            Err(e)
        }
    }
}

async fn send_already_subscribed(app: &App, subscriber: &Subscriber, now: Timestamp) -> Result<(), ConfirmationError> {
    let recipient = app.recipient(subscriber, now)?;
    let email = crate::render::letters::already_subscribed(
        &app.catalogue,
        &app.email,
        &recipient,
        &app.whitepaper_link(subscriber, now),
        now.into(),
    )?;
    send(app, subscriber, &email.mime, MailKind::AlreadySubscribed, now).await
}

async fn send_confirmation(app: &App, subscriber: &Subscriber, now: Timestamp) -> Result<(), ConfirmationError> {
    // The link is issued at the moment the request was kept (its `mailed_at`): that names
    // the request this link confirms.
    let issued_at = subscriber.confirmation_sent_at.unwrap_or(now);
    let token = app.tokens.sign(Purpose::Confirm, &subscriber.id, subscriber.token_version, issued_at);
    // Nothing a stranger typed goes into a mail before the address's owner confirmed: no
    // name in the greeting or in `To:` (the welcome mail is the first to use it).
    let mut recipient = app.recipient(subscriber, now)?;
    recipient.first_name = None;
    recipient.to = lettre::message::Mailbox::new(None, recipient.to.email.clone());
    let email = crate::render::letters::confirmation(
        &app.catalogue,
        &app.email,
        &recipient,
        &confirm_url(&app.email.base_url, &token),
        now.into(),
    )?;
    send(app, subscriber, &email.mime, MailKind::Confirmation, now).await
}

/// Sends one mail of this worker and counts it on its ledger.
async fn send(
    app: &App,
    subscriber: &Subscriber,
    mime: &[u8],
    kind: MailKind<'_>,
    now: Timestamp,
) -> Result<(), ConfirmationError> {
    let message = Outgoing { to: subscriber.email.as_str(), mime, kind };
    app.mailer.send(message).await?;
    count_sent(app.store.as_ref(), kind, now).await;
    Ok(())
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
