//! The subscriber lifecycle: pending → confirmed → unsubscribed (or bounced/complained), with
//! the consent proof that Dutch and European law ask for. Pure decisions, no I/O: the HTTP
//! handlers load a subscriber, ask this module what changes, store it and send mail.
//!
//! ```text
//!            subscribe              confirm (POST)
//!   (none) ────────────► pending ─────────────────► confirmed
//!                           ▲  │ unsubscribe            │ unsubscribe
//!                subscribe  │  ▼                        ▼
//!                        unsubscribed ◄─────────────────┘
//! ```

pub mod caps;
mod email;
pub mod export;
pub mod figures;
pub mod import;
mod lifecycle;
pub mod preferences;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use email::{EmailError, SubscriberEmail};

use crate::schedule::DripState;
pub use lifecycle::{
    ConfirmOutcome, Evidence, REMINDER_COOLDOWN, SubscribeIntent, SubscribeOutcome, confirm, subscribe, unsubscribe,
    welcome_sent,
};
pub use preferences::{
    AddressChange, AddressError, MailChoice, PreferenceChange, Preferences, change_preferences, confirm_address_change,
    request_address_change,
};

/// How long after confirming a reader counts as new (see [`Subscriber::is_new_reader`]).
pub const NEW_READER_PERIOD: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

/// How long an unconfirmed subscriber is kept after their last confirmation mail.
pub const PENDING_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

crate::random_id!(
    /// A subscriber's random, opaque id: what links carry instead of the address.
    SubscriberId,
    "subscriber id"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Left their address; has not confirmed yet. Gets nothing but the confirmation mail.
    Pending,
    Confirmed,
    Unsubscribed,
    /// A permanent bounce: the address does not exist.
    Bounced,
    /// Marked a mail as spam.
    Complained,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Unsubscribed => "unsubscribed",
            Status::Bounced => "bounced",
            Status::Complained => "complained",
        }
    }

    /// The status [`Status::as_str`] writes as `name`.
    pub fn parse(name: &str) -> Option<Status> {
        [Status::Pending, Status::Confirmed, Status::Unsubscribed, Status::Bounced, Status::Complained]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Subscribe,
    Confirm,
    Unsubscribe,
    /// Consent given elsewhere, imported by the author (`source_url` then holds the source as
    /// given, e.g. "inschrijflijst workshop maart 2024").
    Import,
    /// A choice of the reader's own (which mail, a pause, their name): `detail` says which.
    Preference,
}

/// One step of the consent proof (AVG art. 7, Telecommunicatiewet 11.7): who did what, when,
/// from where, having seen which consent text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub action: ConsentAction,
    pub at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub source_url: Option<String>,
    /// Hash of the consent text shown with the form.
    pub consent_text_version: String,
    /// What a preference step chose ("mail: news", "series paused until …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where the one welcome mail (with the whitepaper) stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Welcome {
    NotSent,
    /// Claimed by one request at `since`; another may take over after a lease.
    Sending {
        since: Timestamp,
    },
    Sent {
        at: Timestamp,
        message_id: String,
    },
}

/// A subscriber as stored. `version` guards every update: a write succeeds only when the
/// stored version is the one that was read, so two requests never both win.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub id: SubscriberId,
    pub email: SubscriberEmail,
    pub first_name: Option<String>,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Part of every token; raising it revokes all links sent before.
    pub token_version: u32,
    /// The consent proof: the newest [`MAX_CONSENT_RECORDS`] steps, oldest first. The
    /// consent in force (the last subscribe and confirm) is always among them.
    pub consent: Vec<ConsentRecord>,
    /// How many older steps were dropped to keep the record small, whatever anyone submits
    /// (DynamoDB refuses items over 400 KB; a record that grew forever would lock its owner out).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub consent_dropped: u32,
    pub confirmation_sent_at: Option<Timestamp>,
    /// The latest confirmation; broadcasts dated before it are not sent to this subscriber.
    #[serde(default)]
    pub confirmed_at: Option<Timestamp>,
    pub welcome: Welcome,
    /// Where the subscriber is in the series and the broadcasts.
    #[serde(default)]
    pub drip: DripState,
    /// Their own choices: which mail, a pause of the series.
    #[serde(default, skip_serializing_if = "Preferences::is_default")]
    pub preferences: Preferences,
    /// A move to another address, asked and not confirmed yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_change: Option<AddressChange>,
    /// When the sender should next look at this subscriber; `None` keeps them out of the
    /// sender's index altogether.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<Timestamp>,
    /// When they unsubscribed, bounced or complained: the retention period runs from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<Timestamp>,
    /// Soft bounces seen (mailbox full and the like); counted, not acted on.
    #[serde(default)]
    pub transient_bounces: u32,
    /// Form requests for this address that mailed a confirmation link and are not confirmed
    /// yet, newest last, at most [`MAX_REQUESTS`]. Anyone can type an address: a request
    /// changes nothing of the record (name, status, retention, consent proof) until the
    /// address's owner presses the link of that very request (see [`Request`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Request>,
    pub version: u64,
}

/// An unconfirmed form request kept on a record (see [`Subscriber::requests`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The first name typed with it, applied only when its link is confirmed.
    pub first_name: Option<String>,
    /// The subscribe step it adds to the consent proof when its link is confirmed.
    pub consent: ConsentRecord,
    /// When its confirmation link was issued: the link's `issued_at` names the request.
    pub mailed_at: Timestamp,
}

/// How many unconfirmed requests a record keeps (older ones are dropped: their links still
/// confirm, with the record's own name).
pub const MAX_REQUESTS: usize = 3;

/// What happens to a record, given the retention period: someone who left (unsubscribed,
/// bounced, complained) is erased `retention_months` after leaving; everyone else is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Keep,
    /// Left; erase at this moment.
    EraseAt(Timestamp),
    /// Left long enough ago: erase now.
    EraseNow,
}

/// The retention decision for `subscriber` at `now` (months counted in UTC calendar months).
pub fn retention(subscriber: &Subscriber, retention_months: u32, now: Timestamp) -> Retention {
    if matches!(subscriber.status, Status::Pending | Status::Confirmed) {
        return Retention::Keep;
    }
    let left = subscriber.left_at.unwrap_or(subscriber.updated_at);
    let months = jiff::Span::new().months(i64::from(retention_months));
    let erase_at = left.to_zoned(jiff::tz::TimeZone::UTC).checked_add(months).map_or(Timestamp::MAX, |z| z.timestamp());
    if erase_at <= now { Retention::EraseNow } else { Retention::EraseAt(erase_at) }
}

/// Marks someone as gone (`status` is unsubscribed, bounced or complained) at `now`, and books
/// a visit by the sender, which schedules the erase at the end of the retention period.
pub fn leave(subscriber: &mut Subscriber, status: Status, now: Timestamp) {
    subscriber.status = status;
    subscriber.left_at = Some(now);
    subscriber.updated_at = now;
    subscriber.next_due_at = Some(now);
}

/// How many consent steps a record keeps (see [`Subscriber::consent`]).
pub const MAX_CONSENT_RECORDS: usize = 5;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The longest first name kept; anything longer is cut.
pub const MAX_FIRST_NAME: usize = 60;

/// Characters that must not reach a mail, a page or a terminal from what someone typed:
/// controls, format characters (bidi overrides and isolates such as U+202E, zero-width
/// joiners, U+FEFF), surrogates, private-use and unassigned code points (Unicode's "Other"),
/// and the line and paragraph separators U+2028 and U+2029 (they break lines in a mail's
/// text, in JavaScript and in a terminal, where a name should have none).
pub fn is_hidden_or_control(c: char) -> bool {
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    c.general_category_group() == GeneralCategoryGroup::Other
        || matches!(c.general_category(), GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator)
}

/// `text` without [`is_hidden_or_control`] characters.
/// Line and paragraph separators become a space (they part words), the rest goes.
pub fn clean_text(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\u{2028}' | '\u{2029}' => Some(' '),
            c if is_hidden_or_control(c) => None,
            c => Some(c),
        })
        .collect()
}

/// `text` safe to print in a terminal: hidden and control characters shown as `\u{…}`
/// escapes instead of acting on the terminal (operator output of stored records).
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden_or_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Cleans a first name from a form: trimmed, without control, format or bidi characters, at
/// most [`MAX_FIRST_NAME`] characters; `None` when nothing is left.
pub fn clean_first_name(raw: Option<&str>) -> Option<String> {
    let cleaned: String = clean_text(raw?).split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = cleaned.chars().take(MAX_FIRST_NAME).collect();
    (!cut.is_empty()).then_some(cut)
}

impl Subscriber {
    /// Adds a step to the consent proof, dropping (and counting) the oldest beyond
    /// [`MAX_CONSENT_RECORDS`]. The newest step of each action is never dropped: the proof
    /// always shows the consent in force and the latest withdrawal, however many steps came
    /// after them.
    pub fn add_consent(&mut self, record: ConsentRecord) {
        self.consent.push(record);
        while self.consent.len() > MAX_CONSENT_RECORDS {
            let newest_of_its_kind =
                |i: usize| !self.consent[i + 1..].iter().any(|later| later.action == self.consent[i].action);
            let Some(oldest) = (0..self.consent.len()).find(|&i| !newest_of_its_kind(i)) else { break };
            self.consent.remove(oldest);
            self.consent_dropped = self.consent_dropped.saturating_add(1);
        }
    }

    /// Keeps a form request that mailed a confirmation link (the oldest beyond
    /// [`MAX_REQUESTS`] dropped).
    pub fn add_request(&mut self, request: Request) {
        self.requests.push(request);
        let excess = self.requests.len().saturating_sub(MAX_REQUESTS);
        self.requests.drain(..excess);
    }

    /// The request whose confirmation link was issued at `issued_at`, if still kept.
    pub fn request_of_link(&self, issued_at: Timestamp) -> Option<&Request> {
        self.requests.iter().find(|r| r.mailed_at.as_second() == issued_at.as_second())
    }

    /// Whether a confirmation link issued at `issued_at` can still confirm: a pending or
    /// confirmed record's can, and someone who left can come back only through the link of a
    /// request made after leaving (an old link from before is spent).
    pub fn confirmable_by(&self, issued_at: Timestamp) -> bool {
        match self.status {
            Status::Pending | Status::Confirmed => true,
            Status::Unsubscribed => self.request_of_link(issued_at).is_some(),
            Status::Bounced | Status::Complained => false,
        }
    }

    /// Whether they confirmed less than [`NEW_READER_PERIOD`] before `now`: mail to them is
    /// booked on the new readers' ledger, which cannot pause the list.
    pub fn is_new_reader(&self, now: Timestamp) -> bool {
        self.confirmed_at.is_some_and(|at| now < at.saturating_add(NEW_READER_PERIOD).unwrap_or(at))
    }

    /// Until when an unconfirmed record is kept ([`PENDING_TTL`] after its last confirmation
    /// mail); `None` for anyone who is not pending. Past it, the address is free for a new
    /// record (both stores honour it: DynamoDB's TTL, SQLite on insert).
    pub fn pending_until(&self) -> Option<Timestamp> {
        (self.status == Status::Pending).then(|| {
            let from = self.confirmation_sent_at.unwrap_or(self.updated_at);
            from.saturating_add(PENDING_TTL).unwrap_or(from)
        })
    }
}
