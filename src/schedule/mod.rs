//! Who is due, and when next: pure functions of the series' schedule, a subscriber's place in
//! it, the broadcasts, and the clock. No I/O; the sender (`app::sender`) acts on the [`Plan`].
//!
//! The model: every confirmed subscriber is *visited* once per send window (for the
//! leiderschap series: Tuesdays from 08:00 Europe/Amsterdam, for a few hours). A visit sends
//!
//! - the next post of the series, if the cadence has passed since the last one (the first
//!   post goes at the first window after confirming, or at once if the series says so);
//! - a broadcast whose date has come and that the subscriber has not had (if it is dated
//!   after they confirmed: new readers start with the series, not with old news); one with
//!   `send_at` goes at the first visit from that moment, window or not;
//! - never more than one mail of the list a day: a broadcast goes first, the series post waits;
//!
//! and books the next visit for the next window (or earlier, for a pending `send_at`). Progress
//! is the set of posts a reader has had ([`DripState::received`]), so posts the author adds,
//! inserts or moves later, and broadcasts deployed after their day, reach everyone who has not
//! had them, once; because subscribers stay in the visit queue after the last post, with no
//! scan of the table.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};

use crate::content::{Cadence, Catalogue, Placement, SendWindow, Series};

/// A series' sending rhythm.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub cadence: Cadence,
    pub window: SendWindow,
    pub time_zone: TimeZone,
    /// How long after its start a window stays open. A subscriber not reached by then waits
    /// for the next window instead of getting mail at odd hours.
    pub window_length: SignedDuration,
    /// Send post 1 at once after confirming instead of at the next window.
    pub first_post_at_once: bool,
}

pub const DEFAULT_WINDOW_LENGTH: SignedDuration = SignedDuration::from_hours(6);

impl Schedule {
    pub fn for_series(series: &Series, window_length: SignedDuration) -> Schedule {
        Schedule {
            cadence: series.cadence,
            window: series.send_window,
            time_zone: series.time_zone.clone(),
            window_length,
            first_post_at_once: series.first_post_at_once,
        }
    }

    fn local(&self, t: Timestamp) -> Zoned {
        t.to_zoned(self.time_zone.clone())
    }

    /// The window start on local date `date`, if the window opens that day. Daylight saving is
    /// the time zone's business: 08:00 stays 08:00 local, in winter and in summer.
    fn start_on(&self, date: Date) -> Option<Timestamp> {
        if self.window.weekday.is_some_and(|w| w != date.weekday()) {
            return None;
        }
        date.to_datetime(self.window.start).to_zoned(self.time_zone.clone()).ok().map(|z| z.timestamp())
    }

    /// The first window start at or after `t`.
    pub fn next_start(&self, t: Timestamp) -> Timestamp {
        let today = self.local(t).date();
        (0..=8)
            .filter_map(|days| today.checked_add(days.days()).ok())
            .filter_map(|date| self.start_on(date))
            .find(|start| *start >= t)
            .unwrap_or(t)
    }

    /// The start of the window open at `t`, if one is.
    pub fn open_window(&self, t: Timestamp) -> Option<Timestamp> {
        let today = self.local(t).date();
        [today.yesterday().ok(), Some(today)]
            .into_iter()
            .flatten()
            .filter_map(|date| self.start_on(date))
            .find(|start| *start <= t && t < start.saturating_add(self.window_length).unwrap_or(*start))
    }

    /// The local date of `t`.
    pub fn date(&self, t: Timestamp) -> Date {
        self.local(t).date()
    }
}

/// A subscriber's place in the series and in the broadcasts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DripState {
    /// Every post this reader got or was tried for good (series posts and broadcasts), by
    /// slug. Progress is this set, not a position: the next series post is the first by
    /// `order` not in it, so a post inserted or moved later is neither skipped nor repeated,
    /// and a broadcast deployed after its day's window still reaches everyone without it.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub received: BTreeSet<String>,
    /// When the last series post went (the cadence counts from here).
    pub last_sent_at: Option<Timestamp>,
    /// When the last mail of the list went, series post or broadcast: at most one a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_mail_at: Option<Timestamp>,
    /// Records from before `received`: the `order` of the last series post sent. Folded into
    /// `received` at the next visit ([`DripState::fold_legacy`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub position: u32,
    /// Records from before `received`: broadcasts dated up to here were dealt with. Folded
    /// like `position`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcasts_through: Option<Timestamp>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DripState {
    /// Turns a record of the older shape (a position and a broadcast horizon) into the set
    /// of posts received, as they stand in `programme` now.
    pub fn fold_legacy(&mut self, programme: &Programme) {
        if self.position > 0 {
            let position = self.position;
            self.received.extend(programme.series.iter().filter(|(o, _)| *o <= position).map(|(_, s)| s.clone()));
            self.position = 0;
        }
        if let Some(through) = self.broadcasts_through.take() {
            self.received.extend(programme.broadcasts.iter().filter(|b| b.moment <= through).map(|b| b.slug.clone()));
        }
    }

    /// Notes a settled send of the visit at `now`.
    pub fn record(&mut self, send: &PlannedSend, now: Timestamp) {
        self.received.insert(send.slug.clone());
        if send.order.is_some() {
            self.last_sent_at = Some(now);
        }
        self.last_mail_at = Some(now);
    }

    /// How many series posts of `programme` this reader has had.
    pub fn series_received(&self, programme: &Programme) -> usize {
        programme.series.iter().filter(|(_, slug)| self.received.contains(slug)).count()
    }
}

/// What a visit sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSend {
    pub slug: String,
    /// `Some(order)` for a series post, `None` for a broadcast.
    pub order: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub sends: Vec<PlannedSend>,
    /// No window is open now and nothing is due outside one: nothing is sent, the visit is
    /// booked for later.
    pub outside_window: bool,
    /// When to visit next if every send of this plan succeeds.
    pub next_visit: Timestamp,
}

/// A post outside the series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Broadcast {
    /// From when it may go: the start of its date, or its `send_at`.
    pub moment: Timestamp,
    pub slug: String,
    /// It has a `send_at`: it goes at the first visit from `moment`, window or not.
    pub at_moment: bool,
}

/// The posts a schedule works with, in order, prepared once per run.
#[derive(Debug, Clone, Default)]
pub struct Programme {
    /// Series posts: (order, slug), ascending.
    pub series: Vec<(u32, String)>,
    /// Series posts dated in the future, by order: not sent before that moment.
    pub series_public_from: std::collections::BTreeMap<u32, Timestamp>,
    /// Broadcasts, by moment.
    pub broadcasts: Vec<Broadcast>,
}

impl Programme {
    pub fn new(catalogue: &Catalogue, series: &Series) -> Programme {
        let mut programme = Programme::default();
        for post in catalogue.series_posts(series) {
            if let Placement::InSeries { order, .. } = post.placement {
                programme.series.push((order, post.slug.to_string()));
                if let Some(from) = post.public_from() {
                    programme.series_public_from.insert(order, from);
                }
            }
        }
        for post in &catalogue.posts {
            if let (Placement::Broadcast { send_at, .. }, Some(moment)) = (&post.placement, post.public_from()) {
                programme.broadcasts.push(Broadcast {
                    moment,
                    slug: post.slug.to_string(),
                    at_moment: send_at.is_some(),
                });
            }
        }
        programme.broadcasts.sort();
        programme
    }

    /// The send_at broadcasts that become due in `(after, until]`: a run that crosses one
    /// visits everyone confirmed, not only who was due anyway.
    pub fn moments_in(&self, after: Timestamp, until: Timestamp) -> impl Iterator<Item = &Broadcast> {
        self.broadcasts.iter().filter(move |b| b.at_moment && b.moment > after && b.moment <= until)
    }
}

/// What a reader wants of the list (their preferences, as the plan needs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants {
    /// The series (after a pause, if one runs).
    pub series: bool,
    /// Broadcasts, paused or not.
    pub news: bool,
    /// No series post before this moment.
    pub paused_until: Option<Timestamp>,
}

impl Wants {
    /// Everything: the series and the news, no pause.
    pub const EVERYTHING: Wants = Wants { series: true, news: true, paused_until: None };
}

/// [`plan_for`] a reader who wants everything.
pub fn plan(
    schedule: &Schedule,
    programme: &Programme,
    state: &DripState,
    confirmed_at: Timestamp,
    now: Timestamp,
) -> Plan {
    plan_for(schedule, programme, state, confirmed_at, Wants::EVERYTHING, now)
}

/// What to send to a subscriber visited at `now`.
///
/// - Series posts go in an open window (post 1 at once if the series says so), one per
///   cadence, once public.
/// - A broadcast with only a `date` goes in the first window from that date (or the first
///   window after it is deployed, if that is later); one with `send_at` at the first visit
///   from that moment. Only to readers confirmed before it, and only to those without it.
/// - At most one mail of the list a day (in the series' time zone): a broadcast goes before
///   the series post, which then waits for the next window; a second broadcast waits for the
///   next day (broadcasts of the very same moment go together, so none is ever skipped).
/// - Only what the reader `wants`: no broadcasts for "only the series", no series post for
///   "only news" or while the series is paused; then the next post not had, at the first
///   window after the pause. A reader who wants no news is not visited during a pause.
pub fn plan_for(
    schedule: &Schedule,
    programme: &Programme,
    state: &DripState,
    confirmed_at: Timestamp,
    wants: Wants,
    now: Timestamp,
) -> Plan {
    let folded;
    let state = if state.position > 0 || state.broadcasts_through.is_some() {
        folded = {
            let mut s = state.clone();
            s.fold_legacy(programme);
            s
        };
        &folded
    } else {
        state
    };
    let window = schedule.open_window(now);
    let today = schedule.date(now);
    let mailed_today = state.last_mail_at.or(state.last_sent_at).is_some_and(|t| schedule.date(t) == today);
    let pending = || {
        programme
            .broadcasts
            .iter()
            .filter(move |b| wants.news && b.moment > confirmed_at && !state.received.contains(&b.slug))
    };
    let paused = wants.paused_until.filter(|until| *until > now);
    let after_window = window.and_then(|w| w.saturating_add(schedule.window_length).ok()).unwrap_or(now);
    let mut next_visit = schedule.next_start(after_window);

    let mut sends = Vec::new();
    let due = |b: &&Broadcast| b.moment <= now && (b.at_moment || window.is_some());
    if !mailed_today && let Some(first) = pending().find(due) {
        for b in pending().filter(due).filter(|b| b.moment == first.moment) {
            sends.push(PlannedSend { slug: b.slug.clone(), order: None });
        }
    }

    let next_post = programme
        .series
        .iter()
        .find(|(_, slug)| !state.received.contains(slug))
        .filter(|_| wants.series && paused.is_none());
    let at_once = state.series_received(programme) == 0 && schedule.first_post_at_once;
    if sends.is_empty()
        && !mailed_today
        && let Some((order, slug)) = next_post
    {
        let public = programme.series_public_from.get(order).is_none_or(|from| *from <= now);
        let cadence_passed = match (state.last_sent_at, window) {
            (None, _) => true,
            (Some(last), Some(w)) => schedule
                .date(last)
                .checked_add(i64::from(schedule.cadence.days()).days())
                .is_ok_and(|due| due <= schedule.date(w)),
            (Some(_), None) => false,
        };
        if public && ((window.is_some() && cadence_passed) || at_once) {
            sends.push(PlannedSend { slug: slug.clone(), order: Some(*order) });
        }
    }

    // A send_at broadcast still ahead, or held back by today's mail, brings the next visit
    // forward: to its moment, or to the same time tomorrow.
    if let Some(b) = pending().find(|b| b.at_moment && !sends.iter().any(|s| s.slug == b.slug)) {
        let when = if b.moment > now {
            b.moment
        } else {
            let local = b.moment.to_zoned(schedule.time_zone.clone());
            today
                .tomorrow()
                .ok()
                .and_then(|d| d.to_datetime(local.time()).to_zoned(schedule.time_zone.clone()).ok())
                .map_or(next_visit, |z| z.timestamp())
        };
        next_visit = next_visit.min(when);
    }
    // Paused and no news wanted: nothing to look at before the pause ends.
    if let Some(until) = paused
        && !wants.news
    {
        next_visit = next_visit.max(schedule.next_start(until));
    }
    Plan { outside_window: sends.is_empty() && window.is_none(), sends, next_visit }
}

/// When a subscriber who confirms at `now` is first visited.
pub fn first_visit(schedule: &Schedule, now: Timestamp) -> Timestamp {
    if schedule.first_post_at_once || schedule.open_window(now).is_some() { now } else { schedule.next_start(now) }
}

#[cfg(test)]
mod tests;

/// The schedule of the catalogue's first series (the site's drip), if it has one.
pub fn site_schedule(catalogue: &Catalogue, window_length: SignedDuration) -> Option<Schedule> {
    catalogue.series.first().map(|s| Schedule::for_series(s, window_length))
}
