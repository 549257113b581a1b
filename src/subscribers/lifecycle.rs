//! What subscribing, confirming and unsubscribing change, decided without I/O.

use jiff::{SignedDuration, Timestamp};

use super::{ConsentAction, ConsentRecord, Request, Status, Subscriber, SubscriberEmail, SubscriberId, Welcome};

/// What a request tells about the person acting: the evidence kept in the consent proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub source_url: Option<String>,
    pub consent_text_version: String,
}

impl Evidence {
    pub(super) fn record(&self, action: ConsentAction, at: Timestamp) -> ConsentRecord {
        ConsentRecord {
            action,
            at,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            source_url: self.source_url.clone(),
            consent_text_version: self.consent_text_version.clone(),
            detail: None,
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

/// How often a confirmed reader gets the "you are already subscribed" mail at most, however
/// often their address is typed into the form: the mail a stranger can cause them.
pub const REMINDER_COOLDOWN: SignedDuration = SignedDuration::from_hours(24 * 30);

/// A subscribe request for `email`, given what the store holds for it.
///
/// Anyone can type anyone's address, so for an address with a record the request changes
/// nothing its owner set: not the name, not the status (someone who left stays out, their
/// erase stays scheduled, no expiry is put on their record), not the consent proof. It is
/// kept as a [`Request`] that its confirmation link, and only that link, applies.
pub fn subscribe(
    existing: Option<&Subscriber>,
    email: &SubscriberEmail,
    first_name: Option<String>,
    evidence: &Evidence,
    now: Timestamp,
    cooldown: SignedDuration,
) -> SubscribeOutcome {
    let request = Request { first_name, consent: evidence.record(ConsentAction::Subscribe, now), mailed_at: now };
    let Some(existing) = existing else {
        return SubscribeOutcome::SendConfirmation(Box::new(Subscriber {
            id: SubscriberId::random(),
            email: email.clone(),
            first_name: request.first_name.clone(),
            status: Status::Pending,
            created_at: now,
            updated_at: now,
            token_version: 1,
            consent: vec![request.consent.clone()],
            consent_dropped: 0,
            confirmation_sent_at: Some(now),
            confirmed_at: None,
            welcome: Welcome::NotSent,
            drip: Default::default(),
            preferences: Default::default(),
            address_change: None,
            next_due_at: None,
            left_at: None,
            transient_bounces: 0,
            requests: vec![request],
            version: 0,
        }));
    };
    let cooling = |cooldown: SignedDuration| {
        existing.confirmation_sent_at.is_some_and(|at| now < at.saturating_add(cooldown).unwrap_or(at))
    };
    match existing.status {
        // Bounced and complained addresses are never mailed again from a form.
        Status::Bounced | Status::Complained => SubscribeOutcome::Nothing,
        Status::Confirmed if cooling(REMINDER_COOLDOWN) => SubscribeOutcome::Nothing,
        Status::Confirmed => {
            let mut next = existing.clone();
            next.confirmation_sent_at = Some(now);
            next.updated_at = now;
            SubscribeOutcome::RemindConfirmed(Box::new(next))
        }
        Status::Pending | Status::Unsubscribed if cooling(cooldown) => SubscribeOutcome::Nothing,
        Status::Pending | Status::Unsubscribed => {
            let mut next = existing.clone();
            next.updated_at = now;
            next.confirmation_sent_at = Some(now);
            next.add_request(request);
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

/// The POST on a confirmation link issued at `link_issued_at`. `first_visit` is when the
/// sender first looks at the new subscriber (see `schedule::first_visit`).
///
/// The request that link was mailed for (if the record still keeps it) is applied now, by
/// the address's owner: its name, its subscribe step in the consent proof. Someone who left
/// comes back only this way.
pub fn confirm(
    subscriber: &Subscriber,
    link_issued_at: Timestamp,
    evidence: &Evidence,
    now: Timestamp,
    first_visit: Timestamp,
) -> ConfirmOutcome {
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
    if !subscriber.confirmable_by(link_issued_at) {
        return ConfirmOutcome::NotPending;
    }
    match subscriber.status {
        Status::Pending | Status::Unsubscribed => {
            let mut next = subscriber.clone();
            if let Some(request) = subscriber.request_of_link(link_issued_at) {
                // A name the owner confirmed before stays when this request has none; a
                // pending record's name came from some request, perhaps not the owner's.
                next.first_name =
                    request.first_name.clone().or_else(|| subscriber.confirmed_at.and(subscriber.first_name.clone()));
                if !next.consent.contains(&request.consent) {
                    next.add_consent(request.consent.clone());
                }
            }
            next.requests.clear();
            next.status = Status::Confirmed;
            next.updated_at = now;
            next.confirmed_at = Some(now);
            next.left_at = None;
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
        Status::Bounced | Status::Complained => ConfirmOutcome::NotPending,
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
        let ConfirmOutcome::ConfirmedSendWelcome(confirmed) = confirm(&s, t(0), &evidence(), t(10), t(10)) else {
            panic!()
        };
        assert_eq!(confirmed.status, Status::Confirmed);
        assert_eq!(confirmed.consent.last().unwrap().action, ConsentAction::Confirm);
        // Pressed again while the first request is sending: nothing.
        assert_eq!(confirm(&confirmed, t(0), &evidence(), t(11), t(11)), ConfirmOutcome::AlreadyConfirmed);
        // After the welcome went out: nothing, ever.
        let sent = welcome_sent(&confirmed, "m1".into(), t(12));
        assert_eq!(confirm(&sent, t(0), &evidence(), t(100_000), t(100_000)), ConfirmOutcome::AlreadyConfirmed);
        // A claim abandoned by a crash is taken over after the lease.
        assert!(matches!(
            confirm(&confirmed, t(0), &evidence(), t(10 + 300), t(10 + 300)),
            ConfirmOutcome::ConfirmedSendWelcome(_)
        ));
    }

    #[test]
    fn unsubscribe_is_idempotent_and_resubscribe_is_possible() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, t(0), &evidence(), t(1), t(1)) else { panic!() };
        let out = unsubscribe(&c, &evidence(), t(2)).unwrap();
        assert_eq!(out.status, Status::Unsubscribed);
        assert_eq!(unsubscribe(&out, &evidence(), t(3)), None);
        assert_eq!(confirm(&out, t(0), &evidence(), t(4), t(4)), ConfirmOutcome::NotPending, "an old link is spent");
        let SubscribeOutcome::SendConfirmation(again) =
            subscribe(Some(&out), &email(), None, &evidence(), t(7200), HOUR)
        else {
            panic!()
        };
        assert_eq!((again.status, &again.id, again.left_at), (Status::Unsubscribed, &c.id, out.left_at), "still out");
        let (ConfirmOutcome::Confirmed(back) | ConfirmOutcome::ConfirmedSendWelcome(back)) =
            confirm(&again, t(7200), &evidence(), t(7300), t(7300))
        else {
            panic!()
        };
        assert_eq!((back.status, back.first_name.as_deref(), back.left_at), (Status::Confirmed, Some("Anna"), None));
    }

    #[test]
    fn a_request_changes_nothing_of_the_record_until_its_own_link_is_confirmed() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, t(0), &evidence(), t(1), t(1)) else { panic!() };
        let out = unsubscribe(&c, &evidence(), t(2)).unwrap();
        // A stranger types Anna's address with their own text, several times.
        let mut stored = out.clone();
        for i in 1..=4 {
            let SubscribeOutcome::SendConfirmation(next) = subscribe(
                Some(&stored),
                &email(),
                Some("Klik hier: evil.example".into()),
                &evidence(),
                t(i * 7200),
                HOUR,
            ) else {
                panic!()
            };
            stored = *next;
        }
        let unchanged = |s: &Subscriber| (s.status, s.first_name.clone(), s.left_at, s.next_due_at, s.pending_until());
        assert_eq!(unchanged(&stored), unchanged(&out), "name, status, retention and expiry as the owner left them");
        assert_eq!(stored.consent, out.consent, "the proof holds the owner's steps only");
        assert_eq!(stored.requests.len(), crate::subscribers::MAX_REQUESTS, "bounded");
        // The owner, later, confirms a request of their own: only that one's name applies.
        let SubscribeOutcome::SendConfirmation(own) =
            subscribe(Some(&stored), &email(), Some("Anna".into()), &evidence(), t(50_000), HOUR)
        else {
            panic!()
        };
        let (ConfirmOutcome::Confirmed(back) | ConfirmOutcome::ConfirmedSendWelcome(back)) =
            confirm(&own, t(50_000), &evidence(), t(50_100), t(50_100))
        else {
            panic!()
        };
        assert_eq!((back.status, back.first_name.as_deref()), (Status::Confirmed, Some("Anna")));
        assert!(back.requests.is_empty());
        let actions: Vec<_> = back.consent.iter().map(|r| r.action).collect();
        assert_eq!(actions[actions.len() - 2..], [ConsentAction::Subscribe, ConsentAction::Confirm]);
        assert!(back.consent.iter().any(|r| r.action == ConsentAction::Unsubscribe), "the withdrawal is kept");
    }

    #[test]
    fn the_proof_always_keeps_the_newest_step_of_each_kind() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(mut c) = confirm(&s, t(0), &evidence(), t(1), t(1)) else { panic!() };
        c = unsubscribe(&c, &evidence(), t(2)).unwrap();
        for i in 0..10 {
            c.add_consent(evidence().record(ConsentAction::Import, t(10 + i)));
        }
        let actions: Vec<_> = c.consent.iter().map(|r| r.action).collect();
        assert_eq!(c.consent.len(), crate::subscribers::MAX_CONSENT_RECORDS);
        for kind in [ConsentAction::Subscribe, ConsentAction::Confirm, ConsentAction::Unsubscribe] {
            assert!(actions.contains(&kind), "{kind:?} kept in {actions:?}");
        }
        assert_eq!(c.consent.last().unwrap().at, t(19));
    }

    #[test]
    fn an_already_subscribed_mail_goes_out_once_in_30_days_at_most() {
        let s = pending();
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, t(0), &evidence(), t(1), t(1)) else { panic!() };
        let day = 86_400;
        let SubscribeOutcome::RemindConfirmed(reminded) =
            subscribe(Some(&c), &email(), None, &evidence(), t(31 * day), HOUR)
        else {
            panic!()
        };
        assert_eq!(
            subscribe(Some(&reminded), &email(), None, &evidence(), t(60 * day), HOUR),
            SubscribeOutcome::Nothing
        );
        assert!(matches!(
            subscribe(Some(&reminded), &email(), None, &evidence(), t(62 * day), HOUR),
            SubscribeOutcome::RemindConfirmed(_)
        ));
    }

    #[test]
    fn a_confirmed_reader_is_reminded_once_per_cooldown() {
        let mut s = pending();
        s.status = Status::Confirmed;
        let SubscribeOutcome::RemindConfirmed(next) =
            subscribe(Some(&s), &email(), Some("Vreemde".into()), &evidence(), t(31 * 86_400), HOUR)
        else {
            panic!("a confirmed reader is reminded");
        };
        assert_eq!((next.status, next.first_name.as_deref()), (Status::Confirmed, Some("Anna")), "no stranger's name");
        assert_eq!(next.consent, s.consent, "no consent record: nothing was consented to");
        assert_eq!(
            subscribe(Some(&next), &email(), None, &evidence(), t(31 * 86_400 + 7200), HOUR),
            SubscribeOutcome::Nothing
        );
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
        assert_eq!(
            super::super::clean_first_name(Some("Anna\u{2028}Klik hier\u{2029}")),
            Some("Anna Klik hier".into())
        );
        assert_eq!(super::super::clean_first_name(Some(&"x".repeat(100))).unwrap().len(), 60);
    }

    #[test]
    fn retention_counts_calendar_months_from_leaving() {
        use super::super::{Retention, retention};
        let s = pending();
        assert_eq!(retention(&s, 12, t(10_000_000_000)), Retention::Keep, "pending: the store's expiry handles it");
        let ConfirmOutcome::ConfirmedSendWelcome(c) = confirm(&s, t(0), &evidence(), t(1), t(1)) else { panic!() };
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
