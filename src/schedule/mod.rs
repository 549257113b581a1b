//! Who is due, and when next: pure functions of the series' schedule, a subscriber's place in
//! it, the broadcasts, and the clock. No I/O; the sender (`jobs`) acts on the [`Plan`].
//!
//! The model: every confirmed subscriber is *visited* once per send window (for the
//! leiderschap series: Tuesdays from 08:00 Europe/Amsterdam, for a few hours). A visit sends
//!
//! - the next post of the series, if the cadence has passed since the last one (the first
//!   post goes at the first window after confirming, or at once if the series says so);
//! - every broadcast whose date has come since the last visit (and after the subscriber
//!   confirmed: new readers start with the series, not with old news);
//!
//! and books the next visit for the next window. Because subscribers stay in the visit
//! queue after the last post, posts the author adds later reach everyone who has not had
//! them, in order, with no scan of the table.

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
    /// The `order` of the last series post sent (0: none yet).
    pub position: u32,
    pub last_sent_at: Option<Timestamp>,
    /// Broadcasts dated up to here have been dealt with.
    pub broadcasts_through: Option<Timestamp>,
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
    /// No window is open now: nothing is sent, the visit is booked for the next window.
    pub outside_window: bool,
    /// When to visit next if every send of this plan succeeds.
    pub next_visit: Timestamp,
    /// The broadcasts horizon to store once the sends succeeded.
    pub broadcasts_through: Timestamp,
}

/// The posts a schedule works with, in order, prepared once per run.
#[derive(Debug, Clone)]
pub struct Programme {
    /// Series posts: (order, slug), ascending.
    pub series: Vec<(u32, String)>,
    /// Broadcasts: (moment, slug), ascending; the moment is the start of the post's date.
    pub broadcasts: Vec<(Timestamp, String)>,
}

impl Programme {
    pub fn new(catalogue: &Catalogue, series: &Series) -> Programme {
        let series_posts = catalogue.series_posts(series).filter_map(|p| match p.placement {
            Placement::InSeries { order, .. } => Some((order, p.slug.to_string())),
            Placement::Broadcast { .. } => None,
        });
        let mut broadcasts: Vec<(Timestamp, String)> = catalogue
            .posts
            .iter()
            .filter_map(|p| match p.placement {
                Placement::Broadcast { date } => {
                    let moment = date.to_zoned(series.time_zone.clone()).ok()?.timestamp();
                    Some((moment, p.slug.to_string()))
                }
                Placement::InSeries { .. } => None,
            })
            .collect();
        broadcasts.sort();
        Programme { series: series_posts.collect(), broadcasts }
    }
}

/// What to send to a subscriber visited at `now`.
pub fn plan(
    schedule: &Schedule,
    programme: &Programme,
    state: &DripState,
    confirmed_at: Timestamp,
    now: Timestamp,
) -> Plan {
    let next_post = programme.series.iter().find(|(order, _)| *order > state.position);
    let at_once = state.position == 0 && schedule.first_post_at_once;
    let Some(window) = schedule.open_window(now) else {
        let sends: Vec<PlannedSend> = next_post
            .filter(|_| at_once)
            .map(|(order, slug)| PlannedSend { slug: slug.clone(), order: Some(*order) })
            .into_iter()
            .collect();
        return Plan {
            outside_window: sends.is_empty(),
            sends,
            next_visit: schedule.next_start(now),
            broadcasts_through: state.broadcasts_through.unwrap_or(confirmed_at),
        };
    };
    let mut sends = Vec::new();
    let from = state.broadcasts_through.unwrap_or(confirmed_at).max(confirmed_at);
    for (moment, slug) in &programme.broadcasts {
        if *moment > from && *moment <= now {
            sends.push(PlannedSend { slug: slug.clone(), order: None });
        }
    }
    if let Some((order, slug)) = next_post {
        let cadence_passed = match state.last_sent_at {
            None => true,
            Some(last) => schedule
                .date(last)
                .checked_add(i64::from(schedule.cadence.days()).days())
                .is_ok_and(|due| due <= schedule.date(window)),
        };
        if cadence_passed || at_once {
            sends.push(PlannedSend { slug: slug.clone(), order: Some(*order) });
        }
    }
    let after_window = window.saturating_add(schedule.window_length).unwrap_or(now);
    Plan { sends, outside_window: false, next_visit: schedule.next_start(after_window), broadcasts_through: now }
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
