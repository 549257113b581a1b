use jiff::civil::{Weekday, time};

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tuesday_0800(cadence_days: u16) -> Schedule {
    Schedule {
        cadence: Cadence::EveryDays(cadence_days),
        window: SendWindow { weekday: Some(Weekday::Tuesday), start: time(8, 0, 0, 0) },
        time_zone: TimeZone::get("Europe/Amsterdam").unwrap(),
        window_length: DEFAULT_WINDOW_LENGTH,
        first_post_at_once: false,
    }
}

fn programme(orders: &[u32]) -> Programme {
    Programme { series: orders.iter().map(|o| (*o, format!("deel-{o}"))).collect(), broadcasts: Vec::new() }
}

#[test]
fn windows_keep_local_time_across_the_march_change() {
    let s = tuesday_0800(7);
    // Tuesday 24 March 2026, winter time (UTC+1): 08:00 local is 07:00 UTC.
    assert_eq!(s.next_start(ts("2026-03-20T12:00:00Z")), ts("2026-03-24T07:00:00Z"));
    // Clocks go forward on Sunday 29 March; Tuesday 31 March 08:00 is 06:00 UTC.
    assert_eq!(s.next_start(ts("2026-03-24T13:00:00Z")), ts("2026-03-31T06:00:00Z"));
}

#[test]
fn windows_keep_local_time_across_the_october_change() {
    let s = tuesday_0800(7);
    assert_eq!(s.next_start(ts("2026-10-14T12:00:00Z")), ts("2026-10-20T06:00:00Z"));
    // Clocks go back on Sunday 25 October; Tuesday 27 October 08:00 is 07:00 UTC.
    assert_eq!(s.next_start(ts("2026-10-20T12:00:00Z")), ts("2026-10-27T07:00:00Z"));
}

#[test]
fn a_window_at_a_time_that_does_not_exist_on_the_change_day_still_opens() {
    let mut s = tuesday_0800(1);
    s.window = SendWindow { weekday: None, start: time(2, 30, 0, 0) };
    // 02:30 does not exist on 29 March 2026 in Amsterdam; the window opens at 03:30 local.
    assert_eq!(s.next_start(ts("2026-03-28T12:00:00Z")), ts("2026-03-29T01:30:00Z"));
}

#[test]
fn the_open_window_lasts_its_length() {
    let s = tuesday_0800(7);
    assert_eq!(s.open_window(ts("2026-12-01T07:00:00Z")), Some(ts("2026-12-01T07:00:00Z")));
    assert_eq!(s.open_window(ts("2026-12-01T12:59:59Z")), Some(ts("2026-12-01T07:00:00Z")));
    assert_eq!(s.open_window(ts("2026-12-01T13:00:00Z")), None);
    assert_eq!(s.open_window(ts("2026-12-01T06:59:59Z")), None);
    assert_eq!(s.open_window(ts("2026-12-02T07:00:00Z")), None);
}

#[test]
fn a_subscriber_walks_the_series_one_post_per_cadence() {
    let s = tuesday_0800(7);
    let p = programme(&[1, 2, 3]);
    let confirmed = ts("2026-11-26T15:00:00Z"); // a Thursday
    let mut state = DripState::default();
    let mut visit = first_visit(&s, confirmed);
    assert_eq!(visit, ts("2026-12-01T07:00:00Z"), "the first post waits for the next window");
    let mut got = Vec::new();
    for _ in 0..6 {
        let now = visit.checked_add(SignedDuration::from_mins(5)).unwrap();
        let plan = plan(&s, &p, &state, confirmed, now);
        assert!(!plan.outside_window);
        for send in &plan.sends {
            got.push((send.slug.clone(), now.to_string()));
            state.position = send.order.unwrap();
            state.last_sent_at = Some(now);
        }
        state.broadcasts_through = Some(plan.broadcasts_through);
        assert!(plan.next_visit > now);
        visit = plan.next_visit;
    }
    assert_eq!(
        got,
        [
            ("deel-1".into(), "2026-12-01T07:05:00Z".into()),
            ("deel-2".into(), "2026-12-08T07:05:00Z".into()),
            ("deel-3".into(), "2026-12-15T07:05:00Z".into()),
        ]
    );
    // A post the author adds later reaches the subscriber at the next window.
    let more = programme(&[1, 2, 3, 4]);
    let plan = plan(&s, &more, &state, confirmed, visit.checked_add(SignedDuration::from_mins(5)).unwrap());
    assert_eq!(plan.sends, [PlannedSend { slug: "deel-4".into(), order: Some(4) }]);
}

#[test]
fn a_slower_cadence_skips_windows() {
    let s = tuesday_0800(14);
    let p = programme(&[1, 2]);
    let state = DripState { position: 1, last_sent_at: Some(ts("2026-12-01T07:05:00Z")), broadcasts_through: None };
    let confirmed = ts("2026-11-26T15:00:00Z");
    assert!(plan(&s, &p, &state, confirmed, ts("2026-12-08T07:05:00Z")).sends.is_empty());
    assert_eq!(plan(&s, &p, &state, confirmed, ts("2026-12-15T07:05:00Z")).sends.len(), 1);
}

#[test]
fn outside_a_window_nothing_goes_unless_the_first_post_goes_at_once() {
    let mut s = tuesday_0800(7);
    let p = programme(&[1, 2]);
    let now = ts("2026-12-03T10:00:00Z");
    let waiting = plan(&s, &p, &DripState::default(), now, now);
    assert!(waiting.outside_window && waiting.sends.is_empty());
    assert_eq!(waiting.next_visit, ts("2026-12-08T07:00:00Z"));
    s.first_post_at_once = true;
    assert_eq!(first_visit(&s, now), now);
    let at_once = plan(&s, &p, &DripState::default(), now, now);
    assert_eq!(at_once.sends, [PlannedSend { slug: "deel-1".into(), order: Some(1) }]);
    // Only the first post ignores the window.
    let later = DripState { position: 1, last_sent_at: Some(now), broadcasts_through: Some(now) };
    assert!(plan(&s, &p, &later, now, ts("2026-12-12T10:00:00Z")).sends.is_empty());
}

#[test]
fn a_broadcast_goes_once_in_the_next_window_to_those_confirmed_before_it() {
    let s = tuesday_0800(7);
    let mut p = programme(&[1]);
    p.broadcasts.push((ts("2026-12-03T23:00:00Z"), "kerst".into())); // Friday 4 December, Amsterdam
    let early = ts("2026-11-20T10:00:00Z");
    let state = DripState {
        position: 1,
        last_sent_at: Some(ts("2026-11-24T07:05:00Z")),
        broadcasts_through: Some(ts("2026-12-01T07:05:00Z")),
    };
    let plan_next = plan(&s, &p, &state, early, ts("2026-12-08T07:10:00Z"));
    assert_eq!(plan_next.sends, [PlannedSend { slug: "kerst".into(), order: None }]);
    let after = DripState { broadcasts_through: Some(plan_next.broadcasts_through), ..state.clone() };
    assert!(plan(&s, &p, &after, early, ts("2026-12-15T07:10:00Z")).sends.is_empty(), "only once");
    // Confirmed after the broadcast's date: new readers start with the series.
    let late_reader = ts("2026-12-05T10:00:00Z");
    assert!(
        plan(&s, &p, &DripState { position: 1, ..DripState::default() }, late_reader, ts("2026-12-08T07:10:00Z"))
            .sends
            .is_empty()
    );
}
