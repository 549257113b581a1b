//! SES's mailbox simulator, in the local mode: mail to `success@`, `bounce@`, `complaint@` or
//! `suppressionlist@simulator.amazonses.com` (with `+labels`, as SES allows) gets the event
//! SES would publish for it, handled at once by the same `ses-events` code as in AWS. So the
//! breakers, the ledgers and the suppression of bounced and complaining readers can be seen
//! and tested with `postbode dev` and `postbode send`, without an AWS account.
//!
//! In AWS, SES itself answers these addresses (and does not count them against the
//! account's reputation); this decorator is composed only into the local mode.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::json;

use super::ses_events::{Breaker, SnsEvent, handle};
use crate::mail::{LEDGER_TAG, MAIL_TAG, MailError, MailKind, Mailer, Outgoing, POST_TAG, SUBSCRIBER_TAG};
use crate::store::Store;

/// The simulator's domain.
pub const SIMULATOR_DOMAIN: &str = "simulator.amazonses.com";

/// What SES does with mail to a simulator address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simulated {
    /// `success@`: delivered (SES publishes a `Delivery` event; postbode acts on none).
    Delivered,
    /// `bounce@`: a permanent bounce, "550 5.1.1 user unknown".
    Bounce,
    /// `complaint@`: delivered, then marked as spam by the recipient.
    Complaint,
    /// `suppressionlist@`: a permanent bounce as if the address were on SES's suppression list.
    Suppressed,
}

impl Simulated {
    /// The simulator's answer for `address`, if it is one of its addresses.
    pub fn of(address: &str) -> Option<Simulated> {
        let (local, domain) = address.trim().rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(SIMULATOR_DOMAIN) {
            return None;
        }
        let mailbox = local.split('+').next().unwrap_or("").to_ascii_lowercase();
        match mailbox.as_str() {
            "success" => Some(Simulated::Delivered),
            "bounce" => Some(Simulated::Bounce),
            "complaint" => Some(Simulated::Complaint),
            "suppressionlist" => Some(Simulated::Suppressed),
            _ => None,
        }
    }

    /// The SES event (configuration-set event publishing) for a mail to `to`, carrying the
    /// mail's tags as SES publishes them, wrapped in SNS's envelope.
    pub fn event(self, to: &str, kind: MailKind<'_>, message_id: &str, now: Timestamp) -> SnsEvent {
        let mut tags = serde_json::Map::new();
        tags.insert(MAIL_TAG.into(), json!([kind.tag()]));
        tags.insert(LEDGER_TAG.into(), json!([kind.ledger().tag()]));
        if let Some((subscriber, slug)) = kind.post_of_subscriber() {
            tags.insert(SUBSCRIBER_TAG.into(), json!([subscriber]));
            tags.insert(POST_TAG.into(), json!([slug]));
        }
        tags.insert("ses:configuration-set".into(), json!(["postbode"]));
        let at = now.to_string();
        let feedback_id = format!("{message_id}-{}", uuid::Uuid::new_v4().simple());
        let mail = json!({ "timestamp": at, "messageId": message_id, "destination": [to], "tags": tags });
        let message = match self {
            Simulated::Delivered => json!({
                "eventType": "Delivery", "mail": mail,
                "delivery": { "timestamp": at, "recipients": [to], "smtpResponse": "250 2.6.0 Message received" },
            }),
            Simulated::Bounce | Simulated::Suppressed => json!({
                "eventType": "Bounce", "mail": mail,
                "bounce": {
                    "feedbackId": feedback_id,
                    "bounceType": "Permanent",
                    "bounceSubType": if self == Simulated::Bounce { "General" } else { "OnAccountSuppressionList" },
                    "bouncedRecipients": [{ "emailAddress": to, "action": "failed", "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown" }],
                    "timestamp": at,
                },
            }),
            Simulated::Complaint => json!({
                "eventType": "Complaint", "mail": mail,
                "complaint": {
                    "feedbackId": feedback_id,
                    "complainedRecipients": [{ "emailAddress": to }],
                    "complaintFeedbackType": "abuse",
                    "timestamp": at,
                },
            }),
        };
        let envelope = json!({ "Records": [{ "Sns": { "Message": message.to_string() } }] });
        serde_json::from_value(envelope).unwrap_or(SnsEvent { records: Vec::new() })
    }
}

/// The local mailer with the simulator in front: sends through `inner` (the outbox), then
/// hands the event of a simulator address to the `ses-events` handler.
pub struct MailboxSimulator {
    pub inner: Arc<dyn Mailer>,
    pub store: Arc<dyn Store>,
    pub breaker: Breaker,
    pub clock: super::Clock,
}

#[async_trait]
impl Mailer for MailboxSimulator {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        let message_id = self.inner.send(message).await?;
        if let Some(simulated) = Simulated::of(message.to) {
            let event = simulated.event(message.to, message.kind, &message_id, (self.clock)());
            match handle(self.store.as_ref(), &event, &self.breaker, (self.clock)()).await {
                Ok(report) => tracing::info!(to = message.to, ?simulated, ?report, "mailbox simulator: event handled"),
                Err(e) => tracing::error!(error = %crate::error_chain(&e), "mailbox simulator: event not handled"),
            }
        }
        Ok(message_id)
    }

    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        self.inner.max_send_rate().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulator_addresses_are_known_with_and_without_labels() {
        assert_eq!(Simulated::of("bounce@simulator.amazonses.com"), Some(Simulated::Bounce));
        assert_eq!(Simulated::of("bounce+lezer-7@simulator.amazonses.com"), Some(Simulated::Bounce));
        assert_eq!(Simulated::of("Complaint@Simulator.AmazonSES.com"), Some(Simulated::Complaint));
        assert_eq!(Simulated::of("success@simulator.amazonses.com"), Some(Simulated::Delivered));
        assert_eq!(Simulated::of("suppressionlist@simulator.amazonses.com"), Some(Simulated::Suppressed));
        assert_eq!(Simulated::of("ooto@simulator.amazonses.com"), None);
        assert_eq!(Simulated::of("bounce@example.nl"), None);
    }

    #[test]
    fn the_event_has_the_shape_ses_publishes() {
        let now: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let event = Simulated::Bounce.event("bounce@simulator.amazonses.com", MailKind::Welcome, "m-1", now);
        let message: serde_json::Value = serde_json::from_str(&event.records[0].sns.message).unwrap();
        assert_eq!(message["eventType"], "Bounce");
        assert_eq!(message["bounce"]["bounceType"], "Permanent");
        assert_eq!(message["bounce"]["bouncedRecipients"][0]["emailAddress"], "bounce@simulator.amazonses.com");
        assert_eq!(message["mail"]["tags"][LEDGER_TAG][0], "new-readers");
        assert_eq!(message["mail"]["messageId"], "m-1");
    }
}
