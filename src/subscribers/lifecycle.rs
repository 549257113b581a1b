//! What subscribing, confirming and unsubscribing change, decided without I/O.

use jiff::{SignedDuration, Timestamp};

use super::{ConsentAction, ConsentRecord, Status, Subscriber, SubscriberEmail, SubscriberId, Welcome};

/// What a request tells about the person acting: the evidence kept in the consent proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub source_url: Option<String>,
    pub consent_text_version: String,
}

impl Evidence {
    fn record(&self, action: ConsentAction, at: Timestamp) -> ConsentRecord {
        ConsentRecord {
            action,
            at,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            source_url: self.source_url.clone(),
            consent_text_version: self.consent_text_version.clone(),
        }
    }
}

/// A subscribe request as recorded on the request path, to be acted on by the worker (see
/// `app::confirmations`): the request does the same work for every address and answers at
/// once; reading, deciding, writing and mailing happen after the answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubscribeIntent {
    /// Random; orders intents of the same moment and names them in logs.
    pub id: String,
    pub email: SubscriberEmail,
    pub first_name: Option<String>,
    pub evidence: Evidence,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// Store this subscriber (new or changed) and send it one confirmation mail.
    SendConfirmation(Box<Subscriber>),
    /// Confirmed already: store this (the cooldown moves on) and send the short "you are
    /// already subscribed" mail with the whitepaper link again. The form's answer is the same
    /// as for everyone; only the address's owner sees the difference, in their inbox.
    RemindConfirmed(Box<Subscriber>),
    /// Nothing to store or send: already confirmed, within the cooldown, or suppressed.
    Nothing,
}

/// A subscribe request for `email`, given what the store holds for it.
pub fn subscribe(
    existing: Option<&Subscriber>,
    email: &SubscriberEmail,
    first_name: Option<String>,
    evidence: &Evidence,
    now: Timestamp,
    cooldown: SignedDuration,
) -> SubscribeOutcome {
    let Some(existing) = existing else {
        return SubscribeOutcome::SendConfirmation(Box::new(Subscriber {
            id: SubscriberId::random(),
            email: email.clone(),
            first_name,
            status: Status::Pending,
            created_at: now,
            updated_at: now,
            token_version: 1,
            consent: vec![evidence.record(ConsentAction::Subscribe, now)],
            consent_dropped: 0,
            confirmation_sent_at: Some(now),
            confirmed_at: None,
            welcome: Welcome::NotSent,
            drip: Default::default(),
            next_due_at: None,
            left_at: None,
            transient_bounces: 0,
            version: 0,
        }));
    };
    let cooling = existing.confirmation_sent_at.is_some_and(|at| now < at.saturating_add(cooldown).unwrap_or(at));
    match existing.status {
        // Bounced and complained addresses are never mailed again from a form.
        Status::Bounced | Status::Complained => SubscribeOutcome::Nothing,
        Status::Confirmed if cooling => SubscribeOutcome::Nothing,
        Status::Confirmed => {
            let mut next = existing.clone();
            next.confirmation_sent_at = Some(now);
            next.updated_at = now;
            SubscribeOutcome::RemindConfirmed(Box::new(next))
        }
        Status::Pending | Status::Unsubscribed => {
            if cooling {
                return SubscribeOutcome::Nothing;
            }
            let mut next = existing.clone();
            next.status = Status::Pending;
            // Back from having left: no erase is pending any more (an unconfirmed record
            // expires like any other pending one).
            next.left_at = None;
            next.next_due_at = None;
            next.first_name = first_name.or(next.first_name);
            next.updated_at = now;
            next.confirmation_sent_at = Some(now);
            next.add_consent(evidence.record(ConsentAction::Subscribe, now));
            SubscribeOutcome::SendConfirmation(Box::new(next))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// Store this; then send the welcome mail (the subscriber holds the claim on it).
    ConfirmedSendWelcome(Subscriber),
    /// Store this; nothing to send (the welcome went out before).
    Confirmed(Subscriber),
    /// Already confirmed and nothing to do: show success again.
    AlreadyConfirmed,
    /// The subscriber unsubscribed, bounced or complained since the link was sent.
    NotPending,
}

/// How long one request holds the claim on sending the welcome mail before another may
/// take over (a crash between claim and send must not lose the welcome for good).
pub const WELCOME_LEASE: SignedDuration = SignedDuration::from_mins(5);

/// The POST on a confirmation link. `first_visit` is when the sender first looks at the new
/// subscriber (see `schedule::first_visit`).
pub fn confirm(subscriber: &Subscriber, evidence: &Evidence, now: Timestamp, first_visit: Timestamp) -> ConfirmOutcome {
    let claim = |s: &mut Subscriber| match s.welcome {
        Welcome::NotSent => {
            s.welcome = Welcome::Sending { since: now };
            true
        }
        Welcome::Sending { since } if since.saturating_add(WELCOME_LEASE).unwrap_or(since) <= now => {
            s.welcome = Welcome::Sending { since: now };
            true
        }
        _ => false,
    };
    match subscriber.status {
        Status::Pending => {
            let mut next = subscriber.clone();
            next.status = Status::Confirmed;
            next.updated_at = now;
            next.confirmed_at = Some(now);
            next.next_due_at = Some(first_visit);
            next.add_consent(evidence.record(ConsentAction::Confirm, now));
            if claim(&mut next) { ConfirmOutcome::ConfirmedSendWelcome(next) } else { ConfirmOutcome::Confirmed(next) }
        }
        Status::Confirmed => {
            let mut next = subscriber.clone();
            if claim(&mut next) {
                next.updated_at = now;
                ConfirmOutcome::ConfirmedSendWelcome(next)
            } else {
                ConfirmOutcome::AlreadyConfirmed
            }
        }
        Status::Unsubscribed | Status::Bounced | Status::Complained => ConfirmOutcome::NotPending,
    }
}

/// Records that the welcome mail went out.
pub fn welcome_sent(subscriber: &Subscriber, message_id: String, now: Timestamp) -> Subscriber {
    let mut next = subscriber.clone();
    next.welcome = Welcome::Sent { at: now, message_id };
    next.updated_at = now;
    next
}

/// The POST on an unsubscribe link; `None` when there is nothing to change (already out).
pub fn unsubscribe(subscriber: &Subscriber, evidence: &Evidence, now: Timestamp) -> Option<Subscriber> {
    match subscriber.status {
        Status::Pending | Status::Confirmed => {
            let mut next = subscriber.clone();
            super::leave(&mut next, Status::Unsubscribed, now);
            next.add_consent(evidence.record(ConsentAction::Unsubscribe, now));
            Some(next)
        }
        Status::Unsubscribed | Status::Bounced | Status::Complained => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: SignedDuration = SignedDuration::from_hours(1);

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn email() -> SubscriberEmail {
        SubscriberEmail::parse("anna@example.nl").unwrap()
    }

    fn evidence() -> Evidence {
        Evidence { ip: Some("192.0.2.1".into()), consent_text_version: "v1".into(), ..Evidence::default() }
    }

    fn pending() -> Subscriber {
        match subscribe(None, &email(), Some("Anna".into()), &evidence(), t(0), HOUR) {
            SubscribeOutcome::SendConfirmation(s) => *s,
            SubscribeOutcome::RemindConfirmed(_) | SubscribeOutcome::Nothing => unreachable!(),
        }
    }

    #[test]
    fn a_new_address_becomes_pending_with_its_consent_record() {
        let s = pending();
        assert_eq!(s.status, Status::Pending);
        assert_eq!(s.consent.len(), 1);
        assert_eq!(s.consent[0].action, ConsentAction::Subscribe);
        assert_eq!(s.consent[0].ip.as_deref(), Some("192.0.2.1"));
    }

    #[test]
    fn the_cooldown_limits_confirmation_mails() {
        let s = pending();
        assert_eq!(subscribe(Some(&s), &email(), None, &evidence(), t(60), HOUR), SubscribeOutcome::Nothing);
        assert!(matches!(
            subscribe(Some(&s), &email(), None, &evidence(), t(3600), HOUR),
            SubscribeOutcome::SendConfirmation(_)
        ));
    }

    #[test]
    fn confirm_claims_the_welcome_once() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(confirmed) = confirm(&s, &evidence(), t(10), t(10)) else { panic!() };
        assert_eq!(confirmed.status, Status::Confirmed);
        assert_eq!(confirmed.consent.last().unwrap().action, ConsentAction::Confirm);
        // Pressed again while the first request is sending: nothing.
        assert_eq!(confirm(&confirmed, &evidence(), t(11), t(11)), ConfirmOutcome::AlreadyConfirmed);
        // After the welcome went out: nothing, ever.
        let sent = welcome_sent(&confirmed, "m1".into(), t(12));
        assert_eq!(confirm(&sent, &evidence(), t(100_000), t(100_000)), ConfirmOutcome::AlreadyConfirmed);
        // A claim abandoned by a crash is taken over after the lease.
        assert!(matches!(
            confirm(&confirmed, &evidence(), t(10 + 300), t(10 + 300)),
            ConfirmOutcome::ConfirmedSendWelcome(_)
        ));
    }

    #[test]
    fn unsubscribe_is_idempotent_and_resubscribe_is_possible() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, &evidence(), t(1), t(1)) else { panic!() };
        let out = unsubscribe(&c, &evidence(), t(2)).unwrap();
        assert_eq!(out.status, Status::Unsubscribed);
        assert_eq!(unsubscribe(&out, &evidence(), t(3)), None);
        assert_eq!(confirm(&out, &evidence(), t(4), t(4)), ConfirmOutcome::NotPending);
        let SubscribeOutcome::SendConfirmation(again) =
            subscribe(Some(&out), &email(), None, &evidence(), t(7200), HOUR)
        else {
            panic!()
        };
        assert_eq!((again.status, &again.id, again.first_name.as_deref()), (Status::Pending, &c.id, Some("Anna")));
    }

    #[test]
    fn a_confirmed_reader_is_reminded_once_per_cooldown() {
        let mut s = pending();
        s.status = Status::Confirmed;
        let SubscribeOutcome::RemindConfirmed(next) =
            subscribe(Some(&s), &email(), Some("Vreemde".into()), &evidence(), t(7200), HOUR)
        else {
            panic!("a confirmed reader is reminded");
        };
        assert_eq!((next.status, next.first_name.as_deref()), (Status::Confirmed, Some("Anna")), "no stranger's name");
        assert_eq!(next.consent, s.consent, "no consent record: nothing was consented to");
        assert_eq!(subscribe(Some(&next), &email(), None, &evidence(), t(7300), HOUR), SubscribeOutcome::Nothing);
    }

    #[test]
    fn suppressed_addresses_get_nothing() {
        let mut s = pending();
        s.status = Status::Complained;
        assert_eq!(subscribe(Some(&s), &email(), None, &evidence(), t(100_000), HOUR), SubscribeOutcome::Nothing);
    }

    #[test]
    fn first_names_are_cleaned() {
        assert_eq!(super::super::clean_first_name(Some("  Anna \u{7}  Maria ")), Some("Anna Maria".into()));
        assert_eq!(super::super::clean_first_name(Some("   ")), None);
        assert_eq!(super::super::clean_first_name(Some(&"x".repeat(100))).unwrap().len(), 60);
    }

    #[test]
    fn retention_counts_calendar_months_from_leaving() {
        use super::super::{Retention, retention};
        let s = pending();
        assert_eq!(retention(&s, 12, t(10_000_000_000)), Retention::Keep, "pending: the store's expiry handles it");
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, &evidence(), t(1), t(1)) else { panic!() };
        assert_eq!(retention(&c, 12, t(10_000_000_000)), Retention::Keep);
        let left_at: Timestamp = "2027-01-31T10:00:00Z".parse().unwrap();
        let out = unsubscribe(&c, &evidence(), left_at).unwrap();
        assert_eq!((out.left_at, out.next_due_at), (Some(left_at), Some(left_at)), "the sender looks soon");
        // One month after 31 January is the end of February (jiff clamps the day).
        let end: Timestamp = "2027-02-28T10:00:00Z".parse().unwrap();
        assert_eq!(retention(&out, 1, left_at), Retention::EraseAt(end));
        assert_eq!(retention(&out, 1, end), Retention::EraseNow);
        let twelve: Timestamp = "2028-01-31T10:00:00Z".parse().unwrap();
        assert_eq!(retention(&out, 12, end), Retention::EraseAt(twelve));
    }
}
