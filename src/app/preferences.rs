//! A reader's own page ("Je voorkeuren" in every mail's footer) and the author's commands for
//! a reader who asks by mail: which mail, a pause of the series, the first name; their data
//! to take along, and erasing it all. The decisions are `subscribers::preferences`'; this
//! reads, writes (conditionally, again after a lost race) and knows the schedule.

use jiff::{SignedDuration, Timestamp};

use super::App;
use super::retry::{Decision, Lookup, decide_and_write};
use super::subscription::{LinkError, Linked};
use crate::store::{Store, StoreError};
use crate::subscribers::{Evidence, PreferenceChange, Subscriber, change_preferences};
use crate::tokens::Purpose;

/// The longest pause the page and the CLI accept.
pub const MAX_PAUSE_WEEKS: i64 = 52;

/// The reader a preference link is for: `None` when they are gone (erased). A link from
/// before their links were renewed (an erase, a revoke) is refused.
pub async fn resolve(app: &App, token: &str) -> Result<Option<Subscriber>, LinkError> {
    Ok(super::subscription::resolve(app, token, Purpose::Preferences)
        .await?
        .map(|Linked { subscriber, .. }| subscriber))
}

/// The signed address of `subscriber`'s preference page.
pub fn page_url(app: &App, subscriber: &Subscriber, now: Timestamp) -> String {
    let token = app.tokens.sign(Purpose::Preferences, &subscriber.id, subscriber.token_version, now);
    crate::render::email::preferences_url(&app.email.base_url, &token)
}

/// A pause of the series until `until`: the sender's first window from then on is when a
/// reader who wants no news is visited again.
pub fn pause_until(schedule: Option<&crate::schedule::Schedule>, until: Timestamp) -> PreferenceChange {
    let visit_from = schedule.map_or(until, |s| s.next_start(until));
    PreferenceChange::Pause { until, visit_from }
}

/// A pause of `weeks` weeks from `now` (1 to [`MAX_PAUSE_WEEKS`]).
pub fn pause_for_weeks(
    schedule: Option<&crate::schedule::Schedule>,
    weeks: i64,
    now: Timestamp,
) -> Option<PreferenceChange> {
    if !(1..=MAX_PAUSE_WEEKS).contains(&weeks) {
        return None;
    }
    let until = now.checked_add(SignedDuration::from_hours(24 * 7 * weeks)).ok()?;
    Some(pause_until(schedule, until))
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Stored: the reader as they are now.
    Now(Box<Subscriber>),
    /// It changed nothing (the same choice, or not for this reader's state).
    Nothing(Box<Subscriber>),
    /// No such reader.
    Unknown,
}

/// Applies `change` to whoever `lookup` finds, with `evidence` as its step in the proof.
pub async fn change(
    store: &dyn Store,
    lookup: Lookup<'_>,
    change: &PreferenceChange,
    evidence: &Evidence,
    now: Timestamp,
) -> Result<Changed, StoreError> {
    let decided = decide_and_write(store, lookup, now, |read| match read {
        None => Decision::Keep(None),
        Some(read) => match change_preferences(read, change, evidence, now) {
            Some(next) => Decision::Write(next, Some(read.clone())),
            None => Decision::Keep(Some(read.clone())),
        },
    })
    .await?;
    Ok(match (decided.written, decided.outcome) {
        (Some(written), _) => {
            tracing::info!(subscriber = %written.id, "preferences changed");
            Changed::Now(Box::new(written))
        }
        (None, Some(read)) => Changed::Nothing(Box::new(read)),
        (None, None) => Changed::Unknown,
    })
}

/// The step in the proof of a change the author made on the reader's request.
pub fn by_the_operator(command: &str) -> Evidence {
    Evidence {
        user_agent: Some(format!("postbode subscribers {command} (by the operator, on the reader's request)")),
        ..Evidence::default()
    }
}

/// What asking for a new address did; the page says the same for every new address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressAsked {
    /// The confirmation went to the new address (or could not be sent: logged).
    Mailed,
    /// A cap on confirmation mail is reached: nothing asked, nothing sent.
    OverCap,
    /// The new address's domain takes no mail.
    NoMailDomain,
    /// Not for this reader (not confirmed, or their own address).
    Nothing,
}

/// A confirmed reader asks to move to `new`: the front door's caps for `new` (mailbox, client,
/// in all) and its domain check, the request kept, one confirmation mail to `new`. Nothing
/// else changes until its owner confirms: the old address keeps its mail.
pub async fn ask_address_change(
    app: &App,
    subscriber: &Subscriber,
    new: crate::subscribers::SubscriberEmail,
    ip: Option<&str>,
) -> Result<AddressAsked, StoreError> {
    if let Some(domains) = &app.settings.mail_domains
        && domains.reachable(new.domain()).await == crate::mail::domains::Reachable::No
    {
        return Ok(AddressAsked::NoMailDomain);
    }
    if subscriber.status != crate::subscribers::Status::Confirmed || new == subscriber.email {
        return Ok(AddressAsked::Nothing);
    }
    if !super::subscription::take_caps(app, &new, ip).await? {
        return Ok(AddressAsked::OverCap);
    }
    let now = app.now();
    let decided = decide_and_write(app.store.as_ref(), Lookup::Known(subscriber), now, |read| {
        match read.and_then(|read| crate::subscribers::request_address_change(read, new.clone(), now)) {
            Some(next) => Decision::Write(next, ()),
            None => Decision::Keep(()),
        }
    })
    .await?;
    let Some(asked) = decided.written else { return Ok(AddressAsked::Nothing) };
    send_address_confirmation(app, &asked, &new, now).await;
    Ok(AddressAsked::Mailed)
}

/// The mail to the new address. Its unsubscribe link is for no one: whoever owns the new
/// address never asked for the list, and must not be able to unsubscribe the reader.
async fn send_address_confirmation(
    app: &App,
    subscriber: &Subscriber,
    new: &crate::subscribers::SubscriberEmail,
    now: Timestamp,
) {
    let Ok(address) = new.as_str().parse::<lettre::Address>() else { return };
    let recipient = crate::render::Recipient {
        to: lettre::message::Mailbox::new(None, address),
        first_name: subscriber.first_name.clone(),
        unsubscribe_token: app.tokens.sign(Purpose::Unsubscribe, &crate::subscribers::SubscriberId::random(), 0, now),
        preferences_token: None,
    };
    let token = app.tokens.sign(Purpose::ConfirmAddress, &subscriber.id, subscriber.token_version, now);
    let url = app.email.base_url.join(&format!("{ADDRESS_PATH}{token}"));
    let rendered =
        crate::render::letters::address_confirmation(&app.catalogue, &app.email, &recipient, &url, now.into());
    let email = match rendered {
        Ok(email) => email,
        Err(e) => return tracing::error!(error = %crate::error_chain(&e), "address confirmation not rendered"),
    };
    let kind = crate::mail::MailKind::AddressConfirmation;
    match app.mailer.send(crate::mail::Outgoing { to: new.as_str(), mime: &email.mime, kind }).await {
        Ok(_) => super::subscription::count_sent(app.store.as_ref(), kind, now).await,
        Err(e) => tracing::error!(error = %e, "address confirmation not sent; the reader can ask again"),
    }
}

/// Where the new address's button leads (GET shows a button; the POST moves the address).
pub const ADDRESS_PATH: &str = "/adres/";

/// What pressing the new address's button did.
#[derive(Debug)]
pub enum AddressConfirmed {
    /// Moved: the reader as stored now.
    Moved(Box<Subscriber>),
    /// Someone is on the list with the new address already.
    Taken,
    /// Not the pending request (replaced, older than 7 days, or done).
    NotPending,
    /// The reader is gone.
    Gone,
}

/// The reader a new address's link is for (`None`: gone), and when the link was issued.
pub async fn resolve_address_link(app: &App, token: &str) -> Result<Option<Linked>, LinkError> {
    super::subscription::resolve(app, token, Purpose::ConfirmAddress).await
}

/// The new address's owner presses the button: the record moves to it in one write (never
/// onto an address someone else has), every link sent before stops working but unsubscribe,
/// and the proof says from which address.
pub async fn confirm_address(app: &App, link: &Linked, evidence: &Evidence) -> Result<AddressConfirmed, StoreError> {
    let now = app.now();
    let mut read = Some(link.subscriber.clone());
    for _ in 0..super::retry::ATTEMPTS {
        let Some(current) = read else { return Ok(AddressConfirmed::Gone) };
        let Ok(moved) = crate::subscribers::confirm_address_change(&current, link.issued_at, evidence, now) else {
            return Ok(AddressConfirmed::NotPending);
        };
        match app.store.move_subscriber(&moved, &current.email, now).await {
            Ok(version) => {
                tracing::info!(subscriber = %moved.id, "address changed");
                return Ok(AddressConfirmed::Moved(Box::new(Subscriber { version, ..moved })));
            }
            Err(StoreError::Conflict) => {
                read = app.store.subscriber(&current.id).await?;
                // Unchanged since: the new address is the one taken.
                if read.as_ref().is_some_and(|r| r.version == current.version) {
                    return Ok(AddressConfirmed::Taken);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
