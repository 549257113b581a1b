//! A reader's way in and out: subscribe (caps taken, intent recorded), the signed links
//! (confirm, unsubscribe, whitepaper), the welcome mail. The HTTP handlers call these and
//! only turn their outcomes into pages; the confirmations worker and the operator's commands
//! share the caps, the counting and the unsubscribe.

use jiff::Timestamp;

use super::App;
use super::retry::{Decision, Lookup, decide_and_write};
use crate::mail::{Ledger, MailKind, Outgoing};
use crate::store::{DayStats, Store, StoreError};
use crate::subscribers::{self, ConfirmOutcome, Evidence, Status, SubscribeIntent, Subscriber, SubscriberEmail, caps};
use crate::tokens::{Purpose, TokenError};

/// Takes one from every budget a confirmation mail to `email` counts against (the mailbox,
/// the client network of `ip`, all of them together), before anything about the address is
/// read. False: a cap is reached, nothing may be sent. Shared by `POST /subscribe` and
/// `postbode subscribers resend-confirmation`.
pub async fn take_caps(app: &App, email: &SubscriberEmail, ip: Option<&str>) -> Result<bool, StoreError> {
    let mut limits = app.settings.caps;
    // While the list's sending is paused, or confirmation and welcome mail bounce too much
    // (the intake breaker), confirmation mails (the abuse path) are capped tightly. Read for
    // every request alike: no address's state is involved.
    let paused = app.store.sending_state().await?.paused.is_some();
    if paused || super::ses_events::intake_verdict(app.store.as_ref(), app.now()).await?.is_some() {
        limits.global_per_hour = limits.global_per_hour.min(super::ses_events::PAUSED_CONFIRMATIONS_PER_HOUR);
    }
    take_scoped_caps(app, "", &limits, email, ip).await
}

/// Takes one from every budget of a form's `scope` (see [`caps::scoped_budgets`]) for a
/// request about `email` from `ip`, all or nothing. Counters hold keyed fingerprints, never
/// an address.
pub async fn take_scoped_caps(
    app: &App,
    scope: &str,
    limits: &caps::Caps,
    email: &SubscriberEmail,
    ip: Option<&str>,
) -> Result<bool, StoreError> {
    let mailbox = app.tokens.fingerprint("postbode cap mailbox", &email.mailbox());
    let client = app.tokens.fingerprint("postbode cap client", &caps::client_network(ip));
    let block = app.tokens.fingerprint("postbode cap network", &caps::client_block(ip));
    let budgets = caps::scoped_budgets(scope, limits, &mailbox, (&client, &block), app.now());
    let taken = app.store.take_budgets(&budgets, app.now()).await?;
    if !taken {
        tracing::info!(scope, "a cap is reached; nothing taken");
    }
    Ok(taken)
}

/// What `POST /subscribe` did; the reader's answer is the same for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribed {
    /// Recorded for the confirmations worker.
    Recorded,
    /// A cap is reached: nothing recorded, nothing sent.
    OverCap,
    /// The address's domain has neither MX nor address records: mail there can only bounce.
    /// Nothing recorded, no cap taken; the answer depends on the domain alone.
    NoMailDomain,
}

/// `POST /subscribe` after its input is parsed: take the caps, record the intent. The rest
/// happens after the answer, in the confirmations worker: this does the same work for every
/// address, so neither the answer nor its timing tells who is known.
pub async fn subscribe(
    app: &App,
    email: SubscriberEmail,
    first_name: Option<String>,
    evidence: Evidence,
) -> Result<Subscribed, StoreError> {
    if let Some(domains) = &app.settings.mail_domains
        && domains.reachable(email.domain()).await == crate::mail::domains::Reachable::No
    {
        tracing::info!("the address's domain takes no mail; nothing recorded");
        return Ok(Subscribed::NoMailDomain);
    }
    if !take_caps(app, &email, evidence.ip.as_deref()).await? {
        return Ok(Subscribed::OverCap);
    }
    let intent = SubscribeIntent {
        id: uuid::Uuid::new_v4().simple().to_string(),
        email,
        first_name: subscribers::clean_first_name(first_name.as_deref()),
        evidence,
        at: app.now(),
    };
    app.store.record_intent(&intent).await?;
    tracing::info!(intent = %intent.id, "recorded for the confirmations worker");
    Ok(Subscribed::Recorded)
}

/// Counts a mail that went out on its ledger, for the breaker's rates. The mail is sent either
/// way; a counter that could not be written is logged.
pub async fn count_sent(store: &dyn Store, kind: MailKind<'_>, now: Timestamp) {
    count(store, kind.ledger(), now).await
}

/// Counts a confirm page shown to a pending reader (for the confirmation rate in `postbode
/// stats`: a count per day, nothing about who).
pub async fn count_confirm_page(app: &App) {
    count(app.store.as_ref(), Ledger::ConfirmPage, app.now()).await
}

async fn count(store: &dyn Store, ledger: Ledger, now: Timestamp) {
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    if let Err(e) = store.add_stats(ledger, day, DayStats { sent: 1, ..DayStats::default() }).await {
        tracing::warn!(error = %crate::error_chain(&e), ?ledger, "not counted");
    }
}

/// Why a signed link is refused.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Tampered with, cut short, or made for another purpose.
    #[error("the link is not valid")]
    Invalid,
    /// Valid once: a confirmation link past its time, or a link from before the subscriber's
    /// links were renewed.
    #[error("the link has expired")]
    Expired,
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// The subscriber a signed link is for, `None` when they are gone (erased). Refuses tampered,
/// misdirected, revoked and (for confirmation) expired links. An unsubscribe link keeps
/// working whatever was sent since: leaving must never fail on an old mail.
pub async fn resolve(app: &App, token: &str, purpose: Purpose) -> Result<Option<Linked>, LinkError> {
    let claims = app.tokens.verify(token, purpose).map_err(|e| {
        tracing::info!(error = %e, ?purpose, "link refused");
        match e {
            TokenError::Malformed | TokenError::BadSignature | TokenError::WrongPurpose => LinkError::Invalid,
        }
    })?;
    if purpose == Purpose::Confirm
        && claims.issued_at.saturating_add(app.settings.confirm_ttl).unwrap_or(claims.issued_at) < app.now()
    {
        return Err(LinkError::Expired);
    }
    let Some(subscriber) = app.store.subscriber(&claims.subscriber).await? else {
        return Ok(None);
    };
    if subscriber.token_version != claims.version && purpose != Purpose::Unsubscribe {
        return Err(LinkError::Expired);
    }
    Ok(Some(Linked { subscriber, issued_at: claims.issued_at }))
}

/// A valid link's subscriber, and when the link was issued (a confirmation link names the
/// request it was mailed for by it).
#[derive(Debug)]
pub struct Linked {
    pub subscriber: Subscriber,
    pub issued_at: Timestamp,
}

/// What pressing the confirm button did.
#[derive(Debug)]
pub enum Confirmed {
    /// Confirmed now, or before: the subscriber as stored.
    Confirmed(Box<Subscriber>),
    /// Unsubscribed, bounced or complained since the link was sent: the link is spent.
    NotPending,
    /// Erased meanwhile.
    Gone,
}

enum ConfirmStep {
    Written { send_welcome: bool },
    Already(Box<Subscriber>),
    NotPending,
    Gone,
}

/// The POST on a confirmation link: confirms `subscriber`, books their first visit by the
/// sender, and sends the welcome mail once (whoever presses first claims it).
#[tracing::instrument(name = "confirm", skip_all, fields(subscriber = %link.subscriber.id))]
pub async fn confirm(app: &App, link: &Linked, evidence: &Evidence) -> Result<Confirmed, StoreError> {
    let subscriber = &link.subscriber;
    // Confirming is new consent from the address's owner: it lifts an earlier erase's
    // suppression (a POST to /subscribe alone never does; anyone can type an address).
    if subscriber.status != Status::Confirmed && subscriber.confirmable_by(link.issued_at) {
        let hash = app.tokens.suppression_hash(subscriber.email.as_str());
        if app.store.is_suppressed(&hash).await? {
            app.store.set_suppressed(&hash, false, app.now()).await?;
            tracing::info!("confirmed anew: suppression lifted");
        }
    }
    let now = app.now();
    let first_visit = app.schedule.as_ref().map_or(now, |s| crate::schedule::first_visit(s, now));
    let decided = decide_and_write(app.store.as_ref(), Lookup::Known(subscriber), now, |read| {
        let Some(read) = read else { return Decision::Keep(ConfirmStep::Gone) };
        match subscribers::confirm(read, link.issued_at, evidence, now, first_visit) {
            ConfirmOutcome::ConfirmedSendWelcome(next) => {
                Decision::Write(next, ConfirmStep::Written { send_welcome: true })
            }
            ConfirmOutcome::Confirmed(next) => Decision::Write(next, ConfirmStep::Written { send_welcome: false }),
            ConfirmOutcome::AlreadyConfirmed => Decision::Keep(ConfirmStep::Already(Box::new(read.clone()))),
            ConfirmOutcome::NotPending => Decision::Keep(ConfirmStep::NotPending),
        }
    })
    .await?;
    match (decided.outcome, decided.written) {
        (ConfirmStep::Written { send_welcome }, Some(confirmed)) => {
            tracing::info!("confirmed");
            if send_welcome {
                send_welcome_mail(app, &confirmed, now).await;
            }
            Ok(Confirmed::Confirmed(Box::new(confirmed)))
        }
        (ConfirmStep::Already(subscriber), _) => Ok(Confirmed::Confirmed(subscriber)),
        (ConfirmStep::NotPending, _) => Ok(Confirmed::NotPending),
        (ConfirmStep::Gone | ConfirmStep::Written { .. }, _) => Ok(Confirmed::Gone),
    }
}

/// Sends the welcome mail the confirm has claimed, then records it. A failure leaves the claim
/// to expire, so a later press of the button tries again; the reader already has the download
/// link on the page.
async fn send_welcome_mail(app: &App, subscriber: &Subscriber, now: Timestamp) {
    let recipient = match app.recipient(subscriber, now) {
        Ok(recipient) => recipient,
        Err(e) => return tracing::error!(error = %e, "stored address is not mailable"),
    };
    let rendered = crate::render::letters::welcome(
        &app.catalogue,
        &app.email,
        &recipient,
        &app.whitepaper_link(subscriber, now),
        now.into(),
    );
    let email = match rendered {
        Ok(email) => email,
        Err(e) => return tracing::error!(error = %crate::error_chain(&e), "welcome mail could not be rendered"),
    };
    let kind = MailKind::Welcome;
    let message_id = match app.mailer.send(Outgoing { to: subscriber.email.as_str(), mime: &email.mime, kind }).await {
        Ok(id) => id,
        Err(e) => return tracing::error!(error = %e, "welcome mail not sent"),
    };
    count_sent(app.store.as_ref(), kind, now).await;
    let recorded = decide_and_write(app.store.as_ref(), Lookup::Known(subscriber), now, |read| match read {
        Some(read) => Decision::Write(subscribers::welcome_sent(read, message_id.clone(), app.now()), ()),
        None => Decision::Keep(()),
    })
    .await;
    match recorded {
        Ok(_) => tracing::info!("welcome mail sent"),
        Err(e) => tracing::warn!(error = %crate::error_chain(&e), "welcome mail sent but not recorded"),
    }
}

/// What an unsubscribe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribed {
    /// Out now; they were this before.
    From(Status),
    /// Out already (unsubscribed, bounced or complained): nothing changed.
    Already,
    /// No such subscriber (erased, or never here).
    Unknown,
}

/// Unsubscribes whoever `lookup` finds, with `evidence` as the step in their consent proof
/// (the link's POST, RFC 8058's one-click POST, or the operator on the reader's request).
pub async fn unsubscribe(
    store: &dyn Store,
    lookup: Lookup<'_>,
    evidence: &Evidence,
    now: Timestamp,
) -> Result<Unsubscribed, StoreError> {
    let decided = decide_and_write(store, lookup, now, |read| {
        let Some(read) = read else { return Decision::Keep(Unsubscribed::Unknown) };
        match subscribers::unsubscribe(read, evidence, now) {
            Some(next) => Decision::Write(next, Unsubscribed::From(read.status)),
            None => Decision::Keep(Unsubscribed::Already),
        }
    })
    .await?;
    if let Some(left) = &decided.written {
        tracing::info!(subscriber = %left.id, "unsubscribed");
    }
    Ok(decided.outcome)
}
