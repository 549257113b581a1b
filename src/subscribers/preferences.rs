//! A reader's own choices, made on their preference page (or by the author on their request):
//! which mail (the series and news, only the series, only news), a pause of the series, their
//! first name. Pure: what a choice changes, with its step in the consent proof.
//!
//! A pause stops the series only: broadcasts keep following the mail choice. When it ends,
//! the next post the reader has not had goes at the next window (the sender's plan, through
//! [`crate::schedule::Wants`]); a reader who wants no news is not visited meanwhile (their
//! place in the due index moves to the pause's end, no scan).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::lifecycle::Evidence;
use super::{ConsentAction, Status, Subscriber, SubscriberEmail, clean_first_name};

/// Which mail a reader wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailChoice {
    /// The series and the author's news (broadcasts): everyone's start.
    #[default]
    Both,
    SeriesOnly,
    /// Only broadcasts.
    NewsOnly,
}

impl MailChoice {
    pub const ALL: [MailChoice; 3] = [MailChoice::Both, MailChoice::SeriesOnly, MailChoice::NewsOnly];

    /// The word on the command line and in forms: `both`, `series`, `news`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailChoice::Both => "both",
            MailChoice::SeriesOnly => "series",
            MailChoice::NewsOnly => "news",
        }
    }

    pub fn parse(word: &str) -> Option<MailChoice> {
        MailChoice::ALL.into_iter().find(|c| c.as_str() == word.trim())
    }

    pub fn series(self) -> bool {
        self != MailChoice::NewsOnly
    }

    pub fn news(self) -> bool {
        self != MailChoice::SeriesOnly
    }
}

/// A reader's choices, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default)]
    pub mail: MailChoice,
    /// No series mail before this moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<Timestamp>,
}

impl Preferences {
    pub fn is_default(&self) -> bool {
        *self == Preferences::default()
    }

    /// The end of a pause still running at `now`.
    pub fn paused_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.paused_until.filter(|until| *until > now)
    }

    /// What the sender's plan is to send this reader.
    pub fn wants(&self) -> crate::schedule::Wants {
        crate::schedule::Wants { series: self.mail.series(), news: self.mail.news(), paused_until: self.paused_until }
    }
}

/// One choice on the page (or the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceChange {
    Mail(MailChoice),
    /// No series until then; `visit_from` is the sender's first window from that moment.
    Pause {
        until: Timestamp,
        visit_from: Timestamp,
    },
    Resume,
    Rename(Option<String>),
}

impl PreferenceChange {
    /// What the proof says of it.
    fn detail(&self) -> String {
        match self {
            PreferenceChange::Mail(choice) => format!("mail: {}", choice.as_str()),
            PreferenceChange::Pause { until, .. } => format!("series paused until {until}"),
            PreferenceChange::Resume => "pause ended".into(),
            PreferenceChange::Rename(_) => "first name changed".into(),
        }
    }
}

/// What `change` makes of `subscriber` at `now`, with its step in the proof; `None` when it
/// changes nothing or does not apply. Applies to confirmed readers; a reader who unsubscribed
/// and now chooses which mail to get (their signed link shows the address is theirs) is
/// subscribed again with that choice. Bounced and complained addresses, and pending ones,
/// get nothing from it.
pub fn change_preferences(
    subscriber: &Subscriber,
    change: &PreferenceChange,
    evidence: &Evidence,
    now: Timestamp,
) -> Option<Subscriber> {
    let mut next = subscriber.clone();
    let mut action = ConsentAction::Preference;
    match (subscriber.status, change) {
        (Status::Confirmed, PreferenceChange::Mail(choice)) => {
            if next.preferences.mail == *choice {
                return None;
            }
            next.preferences.mail = *choice;
            // The sender's plan decides afresh at its next run.
            next.next_due_at = Some(now);
        }
        (Status::Unsubscribed, PreferenceChange::Mail(choice)) => {
            next.status = Status::Confirmed;
            next.left_at = None;
            next.confirmed_at = Some(now);
            next.preferences = super::Preferences { mail: *choice, paused_until: None };
            next.next_due_at = Some(now);
            action = ConsentAction::Confirm;
        }
        (Status::Confirmed, PreferenceChange::Pause { until, visit_from }) => {
            if *until <= now {
                return None;
            }
            next.preferences.paused_until = Some(*until);
            if !next.preferences.mail.news() {
                next.next_due_at = Some(next.next_due_at.unwrap_or(now).max(*visit_from));
            }
        }
        (Status::Confirmed, PreferenceChange::Resume) => {
            next.preferences.paused_until?;
            next.preferences.paused_until = None;
            next.next_due_at = Some(now);
        }
        (Status::Confirmed, PreferenceChange::Rename(name)) => {
            let name = clean_first_name(name.as_deref());
            if name == next.first_name {
                return None;
            }
            next.first_name = name;
        }
        _ => return None,
    }
    next.updated_at = now;
    let mut record = evidence.record(action, now);
    record.detail = Some(match action {
        ConsentAction::Confirm => format!("subscribed again on the preference page; {}", change.detail()),
        _ => change.detail(),
    });
    next.add_consent(record);
    Some(next)
}

/// A change of address asked on the preference page, waiting for the new address's owner to
/// confirm it. Until then nothing changes: the old address keeps its mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressChange {
    pub email: SubscriberEmail,
    /// When its confirmation link was issued: the link names the request by it.
    pub requested_at: Timestamp,
}

/// How long the new address's confirmation link works.
pub const ADDRESS_LINK_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);

/// A confirmed reader asks to move to `email` (another address than theirs): the request is
/// kept (a newer one replaces it) and nothing else changes.
pub fn request_address_change(subscriber: &Subscriber, email: SubscriberEmail, now: Timestamp) -> Option<Subscriber> {
    if subscriber.status != Status::Confirmed || email == subscriber.email {
        return None;
    }
    let mut next = subscriber.clone();
    next.address_change = Some(AddressChange { email, requested_at: now });
    next.updated_at = now;
    Some(next)
}

/// Why a new address's confirmation does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not the pending request (a newer one replaced it, it was confirmed, or it is older
    /// than [`ADDRESS_LINK_TTL`]).
    #[error("the link is not the pending request's")]
    NotPending,
}

/// The new address's owner confirms (the link issued at `issued_at`): the record moves to it,
/// every link sent before stops working but unsubscribe (the token version moves on), and
/// the proof says from which address it came.
pub fn confirm_address_change(
    subscriber: &Subscriber,
    issued_at: Timestamp,
    evidence: &Evidence,
    now: Timestamp,
) -> Result<Subscriber, AddressError> {
    let change = subscriber.address_change.as_ref().ok_or(AddressError::NotPending)?;
    let fresh = issued_at.saturating_add(ADDRESS_LINK_TTL).is_ok_and(|until| until >= now);
    // Links carry whole seconds.
    if change.requested_at.as_second() != issued_at.as_second() || !fresh || subscriber.status != Status::Confirmed {
        return Err(AddressError::NotPending);
    }
    let mut next = subscriber.clone();
    next.email = change.email.clone();
    next.address_change = None;
    next.token_version += 1;
    next.updated_at = now;
    let mut record = evidence.record(ConsentAction::Preference, now);
    record.detail = Some(format!("address changed from {}", subscriber.email));
    next.add_consent(record);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribers::{SubscriberEmail, SubscriberId, Welcome};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn reader(status: Status) -> Subscriber {
        Subscriber {
            id: SubscriberId::random(),
            email: SubscriberEmail::parse("anna@example.nl").unwrap(),
            first_name: Some("Anna".into()),
            status,
            created_at: at("2026-11-01T10:00:00Z"),
            updated_at: at("2026-11-01T10:00:00Z"),
            token_version: 1,
            consent: Vec::new(),
            consent_dropped: 0,
            confirmation_sent_at: None,
            confirmed_at: Some(at("2026-11-01T10:05:00Z")),
            welcome: Welcome::NotSent,
            drip: Default::default(),
            preferences: Default::default(),
            address_change: None,
            next_due_at: Some(at("2026-12-08T07:00:00Z")),
            left_at: (status != Status::Confirmed).then(|| at("2026-11-20T10:00:00Z")),
            transient_bounces: 0,
            requests: Vec::new(),
            version: 3,
        }
    }

    #[test]
    fn a_pause_moves_a_series_only_reader_to_its_end_and_keeps_a_news_reader_visited() {
        let now = at("2026-12-05T10:00:00Z");
        let pause =
            PreferenceChange::Pause { until: at("2027-01-02T10:00:00Z"), visit_from: at("2027-01-05T07:00:00Z") };
        let both = change_preferences(&reader(Status::Confirmed), &pause, &Evidence::default(), now).unwrap();
        assert_eq!(both.preferences.paused_until, Some(at("2027-01-02T10:00:00Z")));
        assert_eq!(both.next_due_at, Some(at("2026-12-08T07:00:00Z")), "news still comes: visits go on");
        let mut series_only = reader(Status::Confirmed);
        series_only.preferences.mail = MailChoice::SeriesOnly;
        let paused = change_preferences(&series_only, &pause, &Evidence::default(), now).unwrap();
        assert_eq!(paused.next_due_at, Some(at("2027-01-05T07:00:00Z")), "not visited before the pause ends");
        let step = paused.consent.last().unwrap();
        assert_eq!(step.action, ConsentAction::Preference);
        assert_eq!(step.detail.as_deref(), Some("series paused until 2027-01-02T10:00:00Z"));
        let resumed = change_preferences(&paused, &PreferenceChange::Resume, &Evidence::default(), now).unwrap();
        assert_eq!((resumed.preferences.paused_until, resumed.next_due_at), (None, Some(now)));
        assert!(change_preferences(&resumed, &PreferenceChange::Resume, &Evidence::default(), now).is_none());
    }

    #[test]
    fn only_confirmed_readers_change_and_an_unsubscribed_one_chooses_to_come_back() {
        let now = at("2026-12-05T10:00:00Z");
        let news = PreferenceChange::Mail(MailChoice::NewsOnly);
        for status in [Status::Pending, Status::Bounced, Status::Complained] {
            assert!(change_preferences(&reader(status), &news, &Evidence::default(), now).is_none(), "{status:?}");
        }
        let back = change_preferences(&reader(Status::Unsubscribed), &news, &Evidence::default(), now).unwrap();
        assert_eq!((back.status, back.left_at, back.preferences.mail), (Status::Confirmed, None, MailChoice::NewsOnly));
        assert_eq!(back.consent.last().unwrap().action, ConsentAction::Confirm);
        let renamed = PreferenceChange::Rename(Some(" Anna\u{202e} Maria ".into()));
        let renamed = change_preferences(&back, &renamed, &Evidence::default(), now).unwrap();
        assert_eq!(renamed.first_name.as_deref(), Some("Anna Maria"));
        assert!(change_preferences(&renamed, &news, &Evidence::default(), now).is_none(), "nothing changes");
        let unsubscribed = reader(Status::Unsubscribed);
        let rename = PreferenceChange::Rename(Some("Bob".into()));
        assert!(change_preferences(&unsubscribed, &rename, &Evidence::default(), now).is_none());
    }

    #[test]
    fn an_address_moves_only_when_the_new_one_confirms_its_own_request() {
        let now = at("2026-12-05T10:00:00Z");
        let new = SubscriberEmail::parse("anna@nieuw.example").unwrap();
        let anna = reader(Status::Confirmed);
        assert!(request_address_change(&anna, anna.email.clone(), now).is_none(), "the same address");
        assert!(request_address_change(&reader(Status::Unsubscribed), new.clone(), now).is_none());
        let asked = request_address_change(&anna, new.clone(), now).unwrap();
        assert_eq!(asked.email, anna.email, "nothing changes before it is confirmed");
        let later = at("2026-12-05T11:00:00Z");
        assert_eq!(confirm_address_change(&asked, later, &Evidence::default(), later), Err(AddressError::NotPending));
        let week = at("2026-12-12T10:00:01Z");
        assert_eq!(confirm_address_change(&asked, now, &Evidence::default(), week), Err(AddressError::NotPending));
        let moved = confirm_address_change(&asked, now, &Evidence::default(), later).unwrap();
        assert_eq!((moved.email.clone(), moved.token_version, moved.address_change.clone()), (new, 2, None));
        assert_eq!(moved.consent.last().unwrap().detail.as_deref(), Some("address changed from anna@example.nl"));
        assert_eq!(confirm_address_change(&moved, now, &Evidence::default(), later), Err(AddressError::NotPending));
    }

    #[test]
    fn choices_read_back_from_their_words() {
        for choice in MailChoice::ALL {
            assert_eq!(MailChoice::parse(choice.as_str()), Some(choice));
        }
        assert_eq!(MailChoice::parse("alles"), None);
        assert!(Preferences::default().is_default());
    }
}
