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
//! - **Only mail to established readers counts** (series and broadcasts to readers confirmed
//!   30 days ago or more, test sends, summaries). Each mail carries its ledger as the SES
//!   message tag `postbode-ledger`, and each event is booked on the ledger of the mail it is
//!   about. Confirmation mails ([`Ledger::Confirmation`]) are mail a stranger can cause by
//!   typing addresses; the welcome mail and mail to readers of less than 30 days
//!   ([`Ledger::NewReaders`]) are mail a stranger can cause with a domain of their own. Both
//!   are counted apart and, when they go bad, throttle confirmation mail (the intake breaker,
//!   [`Breaker::intake`]) instead of pausing the list.
//! - **A few events per recipient domain**: on the list's and the new readers' ledgers at
//!   most [`EVENTS_PER_DOMAIN`] bounces or complaints per recipient domain count in a
//!   7-day window, so one catch-all domain cannot move the rates on its own. (The intake
//!   breaker counts every event: there, many bounces at one big domain are the attack.)
//! - **Only postbode's mail**: an event of a mail without postbode's tags (other mail of the
//!   same domain) changes nothing and counts nowhere.
//! - **Enough volume to mean something**: at least [`Breaker::min_sent`] mails (100), and at
//!   least [`Breaker::min_bounces`] bounces (10) or [`Breaker::min_complaints`] complaints (5)
//!   in the window: below that a rate says more about chance than about the list.
//! - **Each event once**: SES and SNS may deliver an event more than once, and Lambda retries
//!   a batch that failed. The event's marker (its feedback id, or without one its message id
//!   and recipients) is written in one transaction with its effect, the recipients' records
//!   and the counters ([`crate::store::Counters::apply_once`]): a retry after a failed write
//!   applies it, a repeat after a successful one changes nothing. Markers are kept 30 days.
//! - **A fresh start**: `sending resume` starts a new window (the counters so far are set
//!   aside), so the event that comes next does not pause again on old numbers.
//! - While paused, confirmation mails are capped tightly too ([`PAUSED_CONFIRMATIONS_PER_HOUR`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::retry::ATTEMPTS;
use crate::mail::{LEDGER_TAG, Ledger, MAIL_TAG, POST_TAG, SUBSCRIBER_TAG};
use crate::store::{Budget, Count, DayStats, FreshWindow, Pause, SendingState, Store, StoreError};
use crate::subscribers::{Status, Subscriber, SubscriberEmail};

/// Confirmation mails per hour, in all, while sending is paused or the intake breaker is
/// tripped (instead of the global cap).
pub const PAUSED_CONFIRMATIONS_PER_HOUR: u32 = 10;

/// How long an event's marker is remembered, to ignore repeats.
const EVENT_MEMORY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

/// Bounces and complaints per recipient domain that count on the list's or the new readers'
/// ledger in one 7-day window.
pub const EVENTS_PER_DOMAIN: u32 = 3;

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

    /// The ledger of the mail an event is about; `None` for mail that is not postbode's.
    fn ledger(&self) -> Option<Ledger> {
        Ledger::of_tags(self.tag(MAIL_TAG), self.tag(LEDGER_TAG))
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
    /// The intake breaker: over the confirmation mails and the new readers' mail of the last
    /// 2 days. Tripped, it throttles confirmation mail to [`PAUSED_CONFIRMATIONS_PER_HOUR`]
    /// (new sign-ups slow down; the list keeps going) until the window moves past the bad
    /// mails. Stricter than the list's: nothing here is worth the account's reputation.
    pub fn intake() -> Breaker {
        Breaker {
            max_bounce_rate: 0.10,
            max_complaint_rate: 0.005,
            days: 2,
            min_sent: 20,
            min_bounces: 10,
            min_complaints: 3,
        }
    }

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
    /// Bounces and complaints of the welcome mail and of mail to readers of less than 30 days.
    pub of_new_readers: u32,
    /// Bounces and complaints applied but not counted: their recipient domain had used its
    /// share of the window ([`EVENTS_PER_DOMAIN`]).
    pub over_domain_share: u32,
    /// Events of mail that is not postbode's (no postbode tags): nothing changed.
    pub not_ours: u32,
    /// Records that could not be read or written (reported, skipped).
    pub failed: u32,
    pub paused: Option<String>,
    /// Set when the intake breaker is tripped: confirmation mail is throttled.
    pub intake_throttled: Option<String>,
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
    let (mut list_events, mut intake_events) = (false, false);
    for record in &event.records {
        let notification: SesNotification = serde_json::from_str(&record.sns.message)?;
        match notification.into_event() {
            Event::Send { subscriber, slug, message_id } => {
                settle_send(store, &subscriber, &slug, &message_id, now, &mut report).await?
            }
            Event::Feedback(feedback) => match apply_feedback(store, feedback, now, &mut report).await? {
                Some(Ledger::List) => list_events = true,
                Some(Ledger::NewReaders | Ledger::Confirmation) => intake_events = true,
                Some(Ledger::ConfirmPage | Ledger::Author) | None => {}
            },
            Event::Other => report.ignored += 1,
        }
    }
    if list_events {
        report.paused = check_breaker(store, breaker, now).await?;
    }
    if intake_events {
        report.intake_throttled = intake_verdict(store, now).await?;
        if let Some(reason) = &report.intake_throttled {
            tracing::error!(%reason, "intake breaker: confirmation mail throttled");
        }
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
    /// What makes the event itself: its feedback id (per bounce or complaint), or without one
    /// its kind, message id and recipients. Repeats of one are applied once.
    identity: String,
    /// The ledger of the mail it is about; `None` when the mail is not postbode's.
    ledger: Option<Ledger>,
}

impl Feedback {
    fn new(
        kind: &str,
        addresses: Vec<String>,
        status: Option<Status>,
        feedback_id: Option<String>,
        mail: &Mail,
    ) -> Self {
        let identity = feedback_id.unwrap_or_else(|| {
            use sha2::Digest;
            let mut sorted = addresses.clone();
            sorted.sort();
            let digest = sha2::Sha256::digest(format!("{kind}\n{}\n{}", mail.message_id, sorted.join("\n")));
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
        });
        Feedback { addresses, status, identity, ledger: mail.ledger() }
    }
}

impl SesNotification {
    fn into_event(self) -> Event {
        let kind = self.event_type.or(self.notification_type).unwrap_or_default();
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
            ("Bounce", Some(b), _) => Event::Feedback(Feedback::new(
                &kind,
                b.bounced_recipients.into_iter().map(|r| r.email_address).collect(),
                (b.bounce_type == "Permanent").then_some(Status::Bounced),
                b.feedback_id,
                &self.mail,
            )),
            ("Complaint", _, Some(c)) => Event::Feedback(Feedback::new(
                &kind,
                c.complained_recipients.into_iter().map(|r| r.email_address).collect(),
                Some(Status::Complained),
                c.feedback_id,
                &self.mail,
            )),
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
/// event: marker, records and counters in one transaction. Returns the ledger when it was
/// applied now.
async fn apply_feedback(
    store: &dyn Store,
    feedback: Feedback,
    now: Timestamp,
    report: &mut EventsReport,
) -> Result<Option<Ledger>, EventsError> {
    let Some(ledger) = feedback.ledger else {
        tracing::info!("an event of mail that is not postbode's; nothing changes");
        report.not_ours += 1;
        return Ok(None);
    };
    let marker = Budget::once(format!("ses-event#{}", feedback.identity), now.checked_add(EVENT_MEMORY).unwrap_or(now));
    let counted = counted_addresses(store, &feedback, ledger, now).await?;
    let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let delta = match feedback.status {
        Some(Status::Bounced) => DayStats { bounced: counted, ..DayStats::default() },
        Some(_) => DayStats { complained: counted, ..DayStats::default() },
        None => DayStats::default(),
    };
    let counts: Vec<Count> =
        (delta != DayStats::default()).then_some(Count { ledger, day, delta }).into_iter().collect();
    for _ in 0..ATTEMPTS {
        // Read every recipient and decide; written only together with the marker.
        let mut updates = Vec::new();
        let (mut unknown, mut failed) = (0, 0);
        for address in &feedback.addresses {
            let Ok(email) = SubscriberEmail::parse(address) else {
                unknown += 1;
                continue;
            };
            match store.subscriber_by_email(&email).await {
                Ok(Some(read)) => updates.extend(feedback_effect(&read, feedback.status, ledger, now)),
                Ok(None) => unknown += 1,
                // An unreadable record does not hold up the others in this event.
                Err(e) if e.is_per_record() => {
                    tracing::error!(error = %crate::error_chain(&e), "record skipped");
                    failed += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        match store.apply_once(&marker, &updates, &counts, now).await {
            Ok(false) => {
                tracing::info!(event = %feedback.identity, "repeated SES event; nothing changes");
                report.repeated += 1;
                return Ok(None);
            }
            Ok(true) => {
                for subscriber in &updates {
                    tracing::info!(subscriber = %subscriber.id, status = subscriber.status.as_str(), "SES event applied");
                }
                let n = feedback.addresses.len() as u32;
                report.unknown += unknown;
                report.failed += failed;
                match feedback.status {
                    Some(Status::Bounced) => report.bounced += n,
                    Some(_) => report.complained += n,
                    None => report.transient_bounces += n,
                }
                match ledger {
                    Ledger::Confirmation => report.of_confirmation_mails += 1,
                    Ledger::NewReaders => report.of_new_readers += 1,
                    Ledger::List | Ledger::ConfirmPage | Ledger::Author => {}
                }
                if feedback.status.is_some() {
                    report.over_domain_share += (feedback.addresses.len() as u64).saturating_sub(counted) as u32;
                }
                return Ok(counts.first().map(|c| c.ledger));
            }
            // A recipient changed since it was read: read again.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EventsError::Store(StoreError::Conflict))
}

/// How many of the event's recipients count on `ledger`: all on the confirmation ledger;
/// on the list's and the new readers', those whose domain has not used its share of the
/// 7-day window ([`EVENTS_PER_DOMAIN`]).
async fn counted_addresses(
    store: &dyn Store,
    feedback: &Feedback,
    ledger: Ledger,
    now: Timestamp,
) -> Result<u64, StoreError> {
    if feedback.status.is_none() || !matches!(ledger, Ledger::List | Ledger::NewReaders) {
        return Ok(feedback.addresses.len() as u64);
    }
    const WEEK: i64 = 7 * 24 * 3600;
    let window = now.as_second().div_euclid(WEEK);
    let expires_at = Timestamp::from_second((window + 2) * WEEK).unwrap_or(Timestamp::MAX);
    let mut counted = 0;
    for address in &feedback.addresses {
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
        let key = format!("event-domain#{}#{domain}#{window}", ledger.tag());
        if store.take_budget(Budget { key, limit: EVENTS_PER_DOMAIN, expires_at }, now).await? {
            counted += 1;
        }
    }
    Ok(counted)
}

/// What a bounce or complaint changes of one recipient's record; `None` when nothing does.
/// A complaint about a mail a stranger caused (a confirmation or "already subscribed" mail)
/// does not make a confirmed or departed reader leave: only a pending record, whose owner
/// never asked for anything, is marked (no form mail reaches it again).
/// Mail to the author (reaction notices) changes no reader's record, even when the author
/// reads the list too.
fn feedback_effect(read: &Subscriber, status: Option<Status>, ledger: Ledger, now: Timestamp) -> Option<Subscriber> {
    if ledger == Ledger::Author {
        return None;
    }
    let mut next = read.clone();
    match status {
        None => {
            next.transient_bounces += 1;
            next.updated_at = now;
        }
        Some(status) if read.status == status => return None,
        Some(Status::Complained) if ledger == Ledger::Confirmation && read.status != Status::Pending => return None,
        Some(status) => {
            let left_at = read.left_at;
            crate::subscribers::leave(&mut next, status, now);
            // Someone who left before keeps their retention date.
            next.left_at = left_at.or(next.left_at);
        }
    }
    Some(next)
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

/// Why confirmation mail is throttled now, if it is: the intake breaker
/// ([`Breaker::intake`]) over the confirmation and new readers' ledgers together.
pub async fn intake_verdict(store: &dyn Store, now: Timestamp) -> Result<Option<String>, StoreError> {
    let breaker = Breaker::intake();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = today.checked_sub(jiff::Span::new().days(breaker.days - 1)).unwrap_or(today);
    let mut stats = store.stats(Ledger::Confirmation, from, today).await?;
    stats += store.stats(Ledger::NewReaders, from, today).await?;
    Ok(breaker.verdict(stats).map(|reason| format!("confirmation and welcome mail: {reason}")))
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
