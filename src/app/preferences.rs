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
