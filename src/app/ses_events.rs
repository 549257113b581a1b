//! SES events: bounces and complaints from the configuration set, via SNS, into the
//! `ses-events` Lambda.
//!
//! - A permanent bounce marks the subscriber `bounced`; a complaint marks them `complained`.
//!   Either takes them out of the sender's queue for good (the sender skips anyone not
//!   confirmed, and they cannot re-subscribe through the form).
//! - A transient bounce (mailbox full, say) is counted on the subscriber.
//! - The circuit breaker: when the list's bounce rate over the last 7 days passes 4 % or its
//!   complaint rate 0.08 % (both configurable, below SES's own review thresholds of 5 % and
//!   0.1 %), sending is paused until an operator runs `postbode sending resume`.
//!
//! The breaker's rule, and why, so that outsiders cannot trip it and one event never decides:
//! - **Only the list's mail counts** (welcome, series, broadcasts, test sends: every one of
//!   them in the denominator). Confirmation mails are the only mail a stranger can cause, by
//!   typing addresses that bounce or belong to someone who then marks the mail as spam; they
//!   are counted in a ledger of their own ([`Ledger::Confirmation`]) and bounded by the caps on
//!   confirmation mail instead. Each mail carries the SES message tag `postbode-mail` (its
//!   kind), and each event is booked on the ledger of the mail it is about.
//! - **Enough volume to mean something**: at least [`Breaker::min_sent`] mails (100), and at
//!   least [`Breaker::min_bounces`] bounces (10) or [`Breaker::min_complaints`] complaints (5)
//!   in the window: below that a rate says more about chance than about the list.
//! - **Each event once**: SES and SNS may deliver an event more than once; the feedback id
//!   (per bounce or complaint) is recorded for 30 days and a repeat changes nothing.
//! - **A fresh start**: `sending resume` starts a new window (the counters so far are set
//!   aside), so the event that comes next does not pause again on old numbers.
//! - While paused, confirmation mails are capped tightly too ([`PAUSED_CONFIRMATIONS_PER_HOUR`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::retry::{Decision, Lookup, decide_and_write};
use crate::mail::{Ledger, MAIL_TAG, POST_TAG, SUBSCRIBER_TAG};
use crate::store::{DayStats, FreshWindow, Pause, SendingState, Store, StoreError};

/// Confirmation mails per hour, in all, while sending is paused (instead of the global cap).
pub const PAUSED_CONFIRMATIONS_PER_HOUR: u32 = 10;

/// How long an event's feedback id is remembered, to ignore repeats.
const EVENT_MEMORY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);
use crate::subscribers::{Status, SubscriberEmail};

/// The SNS envelope Lambda receives.
#[derive(Debug, Deserialize)]
pub struct SnsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SnsRecord {
    #[serde(rename = "Sns")]
    pub sns: SnsMessage,
}

#[derive(Debug, Deserialize)]
pub struct SnsMessage {
    /// The SES notification, as a JSON string.
    #[serde(rename = "Message")]
    pub message: String,
}

/// The parts of an SES event (configuration-set event publishing uses `eventType`, identity
/// notifications `notificationType`) that postbode acts on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesNotification {
    event_type: Option<String>,
    notification_type: Option<String>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    #[serde(default)]
    mail: Mail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    #[serde(default)]
    tags: std::collections::HashMap<String, Vec<String>>,
    #[serde(default)]
    message_id: String,
}

impl Mail {
    fn tag(&self, name: &str) -> Option<&str> {
        self.tags.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// The ledger of the mail an event is about (a mail without the tag is the list's).
    fn ledger(&self) -> Ledger {
        Ledger::of_tag(self.tag(MAIL_TAG))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    bounced_recipients: Vec<Addressee>,
    feedback_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    complained_recipients: Vec<Addressee>,
    feedback_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Addressee {
    email_address: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Breaker {
    pub max_bounce_rate: f64,
    pub max_complaint_rate: f64,
    /// Days of counters the rates are computed over (today included).
    pub days: i64,
    /// Rates over fewer sends than this say too little to pause on.
    pub min_sent: u64,
    /// Fewer bounces than this never pause, whatever the rate.
    pub min_bounces: u64,
    /// Fewer complaints than this never pause, whatever the rate.
    pub min_complaints: u64,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            max_bounce_rate: 0.04,
            max_complaint_rate: 0.0008,
            days: 7,
            min_sent: 100,
            min_bounces: 10,
            min_complaints: 5,
        }
    }
}

impl Breaker {
    /// Why sending should pause, if it should.
    pub fn verdict(&self, stats: DayStats) -> Option<String> {
        if stats.sent < self.min_sent {
            return None;
        }
        let bounce = stats.bounced as f64 / stats.sent as f64;
        let complaint = stats.complained as f64 / stats.sent as f64;
        if bounce > self.max_bounce_rate && stats.bounced >= self.min_bounces {
            Some(format!(
                "bounce rate {:.2}% over the last {} days ({} of {} sent) passed {:.2}%",
                bounce * 100.0,
                self.days,
                stats.bounced,
                stats.sent,
                self.max_bounce_rate * 100.0
            ))
        } else if complaint > self.max_complaint_rate && stats.complained >= self.min_complaints {
            Some(format!(
                "complaint rate {:.3}% over the last {} days ({} of {} sent) passed {:.3}%",
                complaint * 100.0,
                self.days,
                stats.complained,
                stats.sent,
                self.max_complaint_rate * 100.0
            ))
        } else {
            None
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct EventsReport {
    pub bounced: u32,
    pub transient_bounces: u32,
    pub complained: u32,
    /// Events for addresses postbode does not know (a test send, an erased subscriber).
    pub unknown: u32,
    /// `Send` events of posts, recorded on their (subscriber, post) claim.
    pub sends_settled: u32,
    /// Other events (deliveries, opens, …) that need nothing.
    pub ignored: u32,
    /// Events seen before (same feedback id): nothing changed.
    pub repeated: u32,
    /// Bounces and complaints of confirmation mails (booked apart from the list's).
    pub of_confirmation_mails: u32,
    /// Records that could not be read or written (reported, skipped).
    pub failed: u32,
    pub paused: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("an SES notification is not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// Acts on every notification of an SNS event.
pub async fn handle(
    store: &dyn Store,
    event: &SnsEvent,
    breaker: &Breaker,
    now: Timestamp,
) -> Result<EventsReport, EventsError> {
    let mut report = EventsReport::default();
    let mut list_events = false;
    for record in &event.records {
        let notification: SesNotification = serde_json::from_str(&record.sns.message)?;
        match notification.into_event() {
            Event::Send { subscriber, slug, message_id } => {
                settle_send(store, &subscriber, &slug, &message_id, now, &mut report).await?
            }
            Event::Feedback(feedback) => {
                list_events |= apply_feedback(store, feedback, now, &mut report).await? == Some(Ledger::List)
            }
            Event::Other => report.ignored += 1,
        }
    }
    if list_events {
        report.paused = check_breaker(store, breaker, now).await?;
    }
    Ok(report)
}

/// What one SES notification is, as far as postbode acts on it.
enum Event {
    /// SES accepted a post to a subscriber (a `Send` event with our tags).
    Send { subscriber: crate::subscribers::SubscriberId, slug: String, message_id: String },
    /// A bounce or complaint.
    Feedback(Feedback),
    /// Anything else (deliveries, events without our tags): nothing to do.
    Other,
}

/// A bounce or complaint about one mail.
struct Feedback {
    addresses: Vec<String>,
    /// What the recipients become: bounced or complained; `None` for a transient bounce,
    /// which is only counted.
    status: Option<Status>,
    /// Per bounce or complaint; repeats of one id are applied once.
    feedback_id: Option<String>,
    /// The ledger of the mail it is about.
    ledger: Ledger,
}

impl SesNotification {
    fn into_event(self) -> Event {
        let kind = self.event_type.or(self.notification_type).unwrap_or_default();
        let ledger = self.mail.ledger();
        match (kind.as_str(), self.bounce, self.complaint) {
            ("Send", _, _) => {
                let subscriber = self.mail.tag(SUBSCRIBER_TAG).and_then(|id| id.parse().ok());
                match (subscriber, self.mail.tag(POST_TAG)) {
                    (Some(subscriber), Some(slug)) => {
                        Event::Send { subscriber, slug: slug.to_owned(), message_id: self.mail.message_id.clone() }
                    }
                    _ => Event::Other,
                }
            }
            ("Bounce", Some(b), _) => Event::Feedback(Feedback {
                addresses: b.bounced_recipients.into_iter().map(|r| r.email_address).collect(),
                status: (b.bounce_type == "Permanent").then_some(Status::Bounced),
                feedback_id: b.feedback_id,
                ledger,
            }),
            ("Complaint", _, Some(c)) => Event::Feedback(Feedback {
                addresses: c.complained_recipients.into_iter().map(|r| r.email_address).collect(),
                status: Some(Status::Complained),
                feedback_id: c.feedback_id,
                ledger,
            }),
            _ => Event::Other,
        }
    }
}

/// SES accepted a post: settle its claim, whatever the sender heard (an answer lost to a
/// timeout or a crash). Recording it twice changes nothing.
async fn settle_send(
    store: &dyn Store,
    subscriber: &crate::subscribers::SubscriberId,
    slug: &str,
    message_id: &str,
    now: Timestamp,
    report: &mut EventsReport,
) -> Result<(), EventsError> {
    match store.record_send_event(subscriber, slug, message_id, now).await {
        Ok(()) => report.sends_settled += 1,
        Err(e) if e.is_per_record() => {
            tracing::error!(error = %crate::error_chain(&e), "send event not recorded");
            report.failed += 1;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Marks the recipients of a bounce or complaint and counts it on its mail's ledger, once per
/// feedback id. Returns the ledger when something was counted.
async fn apply_feedback(
    store: &dyn Store,
    feedback: Feedback,
    now: Timestamp,
    report: &mut EventsReport,
) -> Result<Option<Ledger>, EventsError> {
    if let Some(id) = &feedback.feedback_id {
        let expires = now.checked_add(EVENT_MEMORY).unwrap_or(now);
        if !store.take_budget(&format!("ses-event#{id}"), 1, expires).await? {
            tracing::info!(feedback_id = %id, "repeated SES event; nothing changes");
            report.repeated += 1;
            return Ok(None);
        }
    }
    if feedback.ledger == Ledger::Confirmation {
        report.of_confirmation_mails += 1;
    }
    let count = feedback.addresses.len() as u64;
    for address in &feedback.addresses {
        let found = match SubscriberEmail::parse(address) {
            Ok(email) => match mark(store, &email, feedback.status, now).await {
                Ok(found) => found,
                // An unreadable record does not hold up the others in this event.
                Err(e) if e.is_per_record() => {
                    tracing::error!(error = %crate::error_chain(&e), "record skipped");
                    report.failed += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
            Err(_) => false,
        };
        if !found {
            report.unknown += 1;
        }
        match feedback.status {
            Some(Status::Bounced) => report.bounced += 1,
            Some(_) => report.complained += 1,
            None => report.transient_bounces += 1,
        }
    }
    let delta = match feedback.status {
        Some(Status::Bounced) => DayStats { bounced: count, ..DayStats::default() },
        Some(_) => DayStats { complained: count, ..DayStats::default() },
        None => return Ok(None),
    };
    store.add_stats(feedback.ledger, now.to_zoned(jiff::tz::TimeZone::UTC).date(), delta).await?;
    Ok(Some(feedback.ledger))
}

/// After events on the list's ledger: pauses sending when the breaker says so. Returns the
/// reason when the list is over a threshold (paused now or before).
async fn check_breaker(store: &dyn Store, breaker: &Breaker, now: Timestamp) -> Result<Option<String>, EventsError> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut state = store.sending_state().await?;
    let stats = window_stats(store, breaker, state.fresh_window.as_ref(), today).await?;
    let Some(reason) = breaker.verdict(stats) else { return Ok(None) };
    if state.paused.is_none() {
        tracing::error!(%reason, "circuit breaker: sending paused");
        state.paused = Some(Pause { since: now, reason: reason.clone() });
        store.set_sending_state(&state).await?;
    }
    Ok(Some(reason))
}

/// The list's counters over the breaker's window: the last `days` days, from the last
/// resume on (with what that day had counted before the resume set aside).
async fn window_stats(
    store: &dyn Store,
    breaker: &Breaker,
    fresh: Option<&FreshWindow>,
    today: jiff::civil::Date,
) -> Result<DayStats, StoreError> {
    let mut from = today.checked_sub(jiff::Span::new().days(breaker.days - 1)).unwrap_or(today);
    let mut baseline = DayStats::default();
    if let Some(fresh) = fresh {
        let resumed = fresh.since.to_zoned(jiff::tz::TimeZone::UTC).date();
        if resumed >= from {
            from = resumed;
            baseline = fresh.baseline;
        }
    }
    let stats = store.stats(Ledger::List, from, today).await?;
    Ok(DayStats {
        sent: stats.sent.saturating_sub(baseline.sent),
        bounced: stats.bounced.saturating_sub(baseline.bounced),
        complained: stats.complained.saturating_sub(baseline.complained),
    })
}

/// Marks one subscriber; a transient bounce (`status` None) is only counted.
async fn mark(
    store: &dyn Store,
    email: &SubscriberEmail,
    status: Option<Status>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let decided = decide_and_write(store, Lookup::Email(email), now, |read| {
        let Some(read) = read else { return Decision::Keep(false) };
        let mut subscriber = read.clone();
        match status {
            Some(status) => crate::subscribers::leave(&mut subscriber, status, now),
            None => {
                subscriber.transient_bounces += 1;
                subscriber.updated_at = now;
            }
        }
        Decision::Write(subscriber, true)
    })
    .await?;
    if let Some(subscriber) = &decided.written {
        tracing::info!(subscriber = %subscriber.id, status = subscriber.status.as_str(), "SES event applied");
    }
    Ok(decided.outcome)
}

/// `postbode sending resume`: lifts a pause and starts the breaker's window afresh.
pub async fn resume(store: &dyn Store, now: Timestamp) -> Result<Option<Pause>, StoreError> {
    let state = store.sending_state().await?;
    if state.paused.is_none() {
        return Ok(None);
    }
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let baseline = store.stats(Ledger::List, today, today).await?;
    store
        .set_sending_state(&SendingState {
            paused: None,
            fresh_window: Some(FreshWindow { since: now, baseline }),
            ..SendingState::default()
        })
        .await?;
    Ok(state.paused)
}
