//! SES events: bounces and complaints from the configuration set, via SNS, into the
//! `ses-events` Lambda.
//!
//! - A permanent bounce marks the subscriber `bounced`; a complaint marks them `complained`.
//!   Either takes them out of the sender's queue for good (the sender skips anyone not
//!   confirmed, and they cannot re-subscribe through the form).
//! - A transient bounce (mailbox full, say) is counted on the subscriber.
//! - The circuit breaker: when the bounce rate of the last days passes 4 % or the complaint
//!   rate 0.08 % (both configurable, below SES's own review thresholds of 5 % and 0.1 %),
//!   sending is paused until an operator runs `postbode sending resume`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::store::{DayStats, Pause, SendingState, Store, StoreError};
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
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    bounced_recipients: Vec<Addressee>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    complained_recipients: Vec<Addressee>,
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
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { max_bounce_rate: 0.04, max_complaint_rate: 0.0008, days: 7, min_sent: 100 }
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
        if bounce > self.max_bounce_rate {
            Some(format!(
                "bounce rate {:.2}% over the last {} days ({} of {} sent) passed {:.2}%",
                bounce * 100.0,
                self.days,
                stats.bounced,
                stats.sent,
                self.max_bounce_rate * 100.0
            ))
        } else if complaint > self.max_complaint_rate {
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
    /// Other events (deliveries, opens, …) that need nothing.
    pub ignored: u32,
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
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    for record in &event.records {
        let notification: SesNotification = serde_json::from_str(&record.sns.message)?;
        let kind = notification.event_type.or(notification.notification_type).unwrap_or_default();
        let (addresses, status): (Vec<String>, Option<Status>) =
            match (kind.as_str(), notification.bounce, notification.complaint) {
                ("Bounce", Some(b), _) => {
                    let permanent = b.bounce_type == "Permanent";
                    (
                        b.bounced_recipients.into_iter().map(|r| r.email_address).collect(),
                        permanent.then_some(Status::Bounced),
                    )
                }
                ("Complaint", _, Some(c)) => {
                    (c.complained_recipients.into_iter().map(|r| r.email_address).collect(), Some(Status::Complained))
                }
                _ => {
                    report.ignored += 1;
                    continue;
                }
            };
        let count = addresses.len() as u64;
        for address in addresses {
            let found = match SubscriberEmail::parse(&address) {
                Ok(email) => mark(store, &email, status, now).await?,
                Err(_) => false,
            };
            if !found {
                report.unknown += 1;
            }
            match status {
                Some(Status::Bounced) => report.bounced += 1,
                Some(_) => report.complained += 1,
                None => report.transient_bounces += 1,
            }
        }
        let delta = match status {
            Some(Status::Bounced) => DayStats { bounced: count, ..DayStats::default() },
            Some(_) => DayStats { complained: count, ..DayStats::default() },
            None => DayStats::default(),
        };
        if delta != DayStats::default() {
            store.add_stats(today, delta).await?;
        }
    }
    if report.bounced + report.complained > 0 {
        let from = today.checked_sub(jiff::Span::new().days(breaker.days - 1)).unwrap_or(today);
        let stats = store.stats(from, today).await?;
        if let Some(reason) = breaker.verdict(stats) {
            let state = store.sending_state().await?;
            if state.paused.is_none() {
                tracing::error!(%reason, "circuit breaker: sending paused");
                store
                    .set_sending_state(&SendingState { paused: Some(Pause { since: now, reason: reason.clone() }) })
                    .await?;
            }
            report.paused = Some(reason);
        }
    }
    Ok(report)
}

/// Marks one subscriber; a transient bounce (`status` None) is only counted.
async fn mark(
    store: &dyn Store,
    email: &SubscriberEmail,
    status: Option<Status>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    for _ in 0..3 {
        let Some(mut subscriber) = store.subscriber_by_email(email).await? else {
            return Ok(false);
        };
        match status {
            Some(status) => crate::subscribers::leave(&mut subscriber, status, now),
            None => {
                subscriber.transient_bounces += 1;
                subscriber.updated_at = now;
            }
        }
        match store.update_subscriber(&subscriber).await {
            Ok(_) => {
                tracing::info!(subscriber = %subscriber.id, status = subscriber.status.as_str(), "SES event applied");
                return Ok(true);
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// `postbode sending resume`: lifts a pause.
pub async fn resume(store: &dyn Store) -> Result<Option<Pause>, StoreError> {
    let state = store.sending_state().await?;
    store.set_sending_state(&SendingState::default()).await?;
    Ok(state.paused)
}
