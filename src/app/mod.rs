//! The application layer: every use case of postbode, on the ports ([`Store`], [`Mailer`]) and
//! the pure core (`content`, `render`, `schedule`, `subscribers`, `tokens`).
//!
//! The entry points (`http`, `cli`, `lambda`, `local`) only parse input, call a use case here
//! and format its result; none of them is imported by this layer, and none imports another's
//! use case (the HTTP handlers and the workers share what they share through this module).
//!
//! | module | use cases |
//! |---|---|
//! | [`subscription`] | subscribe (caps taken, intent recorded), resolve a signed link, confirm, welcome mail, unsubscribe |
//! | [`confirmations`] | the confirmations worker: decides and sends the one confirmation mail per intent; resend |
//! | [`sender`] | the scheduled sender: series and broadcasts, claims, pacing, retention, weekly summary |
//! | [`ses_events`] | SES bounces, complaints and `Send` events; the circuit breaker; resume |
//! | [`operator`] | export, erase, unsubscribe, import, stats and figures, send-test, smoke |
//! | [`preferences`] | a reader's own page and the author's commands for them: which mail, a pause, the name |
//! | [`preview`] | the author's previews of posts and letters |
//! | [`reactions`] | reactions under posts: the form, the author's notice, approve, delete, answer |
//! | [`retry`] | the one "read, decide, write; on a lost race read again" loop |
//!
//! [`App`] is the context every use case gets: stores, mailer, catalogue, settings, the clock.
//! It is built in one place, `crate::startup`, for Lambda, the local mode, the CLI and tests.

pub mod confirmations;
pub mod operator;
pub mod preferences;
pub mod preflight;
pub mod preview;
pub mod reactions;
pub mod retry;
pub mod sender;
pub mod ses_events;
pub mod simulator;
pub mod subscription;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::content::Catalogue;
use crate::mail::Mailer;
use crate::render::{EmailSettings, Recipient};
use crate::schedule::Schedule;
use crate::store::Store;
use crate::subscribers::Subscriber;
use crate::subscribers::caps::Caps;
use crate::tokens::{Purpose, TokenKey};

/// The clock, injectable so tests can move time. No use case reads the wall clock itself.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock, for deployments and the CLI.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// What every deployment is made of: the two ports, the content and the mail settings, and the
/// link secret. [`Parts::app`] and [`Parts::sender`] build the rest the same way everywhere
/// (`crate::startup` makes the parts for Lambda, the local mode and the CLI; tests make their
/// own and go through these same two).
#[derive(Clone)]
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub catalogue: Arc<Catalogue>,
    pub email: EmailSettings,
    pub tokens: TokenKey,
}

/// The settings of the subscription use cases, each with its default.
#[derive(Clone)]
pub struct Settings {
    /// Where every use case takes the time from.
    pub clock: Clock,
    /// At most one confirmation mail per address per this long.
    pub confirm_cooldown: SignedDuration,
    /// How long a confirmation link works.
    pub confirm_ttl: SignedDuration,
    /// Caps on subscribe requests per mailbox, client and in all.
    pub caps: Caps,
    /// Caps on reactions, the same way ([`Caps::REACTIONS`] by default).
    pub reaction_caps: Caps,
    /// Whether an address's domain can receive mail, asked before anything is recorded;
    /// `None` asks nobody (the local mode, which may run offline).
    pub mail_domains: Option<Arc<dyn crate::mail::domains::MailDomains>>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            clock: system_clock(),
            confirm_cooldown: DEFAULT_CONFIRM_COOLDOWN,
            confirm_ttl: DEFAULT_CONFIRM_TTL,
            caps: Caps::default(),
            reaction_caps: Caps::REACTIONS,
            mail_domains: None,
        }
    }
}

impl Parts {
    /// The application context on these parts.
    pub fn app(self, settings: Settings) -> App {
        let schedule = crate::schedule::site_schedule(&self.catalogue, crate::schedule::DEFAULT_WINDOW_LENGTH);
        App {
            store: self.store,
            mailer: self.mailer,
            catalogue: self.catalogue,
            email: self.email,
            tokens: self.tokens,
            settings,
            schedule,
        }
    }

    /// The scheduled sender on these parts (every post rendered once, here).
    pub fn sender(&self, config: sender::SenderConfig) -> Result<sender::Sender, sender::SenderError> {
        sender::Sender::new(self, crate::schedule::DEFAULT_WINDOW_LENGTH, config)
    }
}

/// Everything the use cases share; built once per process (per Lambda cold start) from
/// [`Parts`].
pub struct App {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub catalogue: Arc<Catalogue>,
    pub email: EmailSettings,
    pub tokens: TokenKey,
    pub settings: Settings,
    /// The series' schedule, for booking a new subscriber's first visit by the sender.
    pub schedule: Option<Schedule>,
}

pub const DEFAULT_CONFIRM_COOLDOWN: SignedDuration = SignedDuration::from_hours(1);
pub const DEFAULT_CONFIRM_TTL: SignedDuration = SignedDuration::from_hours(24 * 7);

impl App {
    /// The parts this app is made of (for a sender on the same store and mailer).
    pub fn parts(&self) -> Parts {
        Parts {
            store: self.store.clone(),
            mailer: self.mailer.clone(),
            catalogue: self.catalogue.clone(),
            email: self.email.clone(),
            tokens: self.tokens.clone(),
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.settings.clock)()
    }

    /// The signed download link of the whitepaper for `subscriber` (page and mails alike).
    pub fn whitepaper_link(&self, subscriber: &Subscriber, now: Timestamp) -> String {
        let token = self.tokens.sign(Purpose::Whitepaper, &subscriber.id, subscriber.token_version, now);
        crate::render::email::whitepaper_url(&self.email.base_url, &token)
    }

    /// The recipient parts of any mail to `subscriber`.
    pub fn recipient(
        &self,
        subscriber: &Subscriber,
        now: Timestamp,
    ) -> Result<Recipient, lettre::address::AddressError> {
        recipient(&self.tokens, subscriber, now)
    }
}

/// The recipient parts of a mail to `subscriber`, with a fresh unsubscribe token. Here, not in
/// `subscribers`: the domain knows neither tokens nor what a mail shows.
pub fn recipient(
    tokens: &TokenKey,
    subscriber: &Subscriber,
    now: Timestamp,
) -> Result<Recipient, lettre::address::AddressError> {
    // A parsed SubscriberEmail is a subset of what lettre accepts, so this does not fail.
    let address: lettre::Address = subscriber.email.as_str().parse()?;
    Ok(Recipient {
        to: lettre::message::Mailbox::new(subscriber.first_name.clone(), address),
        first_name: subscriber.first_name.clone(),
        unsubscribe_token: tokens.sign(Purpose::Unsubscribe, &subscriber.id, subscriber.token_version, now),
        preferences_token: (subscriber.status == crate::subscribers::Status::Confirmed)
            .then(|| tokens.sign(Purpose::Preferences, &subscriber.id, subscriber.token_version, now)),
    })
}
